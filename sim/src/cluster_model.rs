//! The model of a Redis Cluster, sans-IO: which of the model nodes serves
//! each of the 16,384 slots (hashed with redwire's own public
//! [`key_slot`], CRC16/XMODEM with hash tags as Redis does), the slots being
//! migrated, and the verdict on one command arriving at one node: answered
//! by the cluster layer (`CLUSTER SHARDS`/`SLOTS`, `COMMAND`, `ASKING`, a
//! `MOVED` or `ASK` redirection) or run by the store.
//!
//! **One keyspace.** The nodes share the world's one [`Store`]; the slot map
//! says which node may touch which key, so moving a slot moves its keys with
//! it atomically, and the world's log (each execution stamped with its node)
//! is the one the oracle reads: a command run on two nodes shows up there
//! twice.
//!
//! **Migrations**, as Redis does them: while slot `s` moves from `A` to `B`,
//! `A` runs a command on a key of `s` it still holds, and answers `-ASK s B`
//! for a key already moved or missing; `B` runs it only right after
//! `ASKING` on the same connection (a key it creates counts as moved), and
//! answers `-MOVED s A` without. Keys move one at a time
//! ([`Cluster::migrate_key`]), then the slot ([`Cluster::finish`]). A node
//! that neither owns nor imports a slot answers `-MOVED` to its owner.
//!
//! **Failover.** Spare nodes are replicas: listed in their primary's shard
//! (so a client knows them and may read the map from them), serving no
//! slot. When a primary is lost for good ([`Cluster::fail_over`]) one of its
//! replicas takes its place, its slots and any migration it was part of,
//! with its data (the model's replication is synchronous: a real failover
//! may lose the last acknowledged writes, which no client can prevent), and
//! its other replicas follow the new primary.
//!
//! **Versions.** A node answers `CLUSTER SHARDS` (Redis 7) or only `CLUSTER
//! SLOTS` (older), drawn from the seed, so both of the client's readers run.

use crate::model::{is_write, Store};
use bytes::Bytes;
use redwire::cluster::{key_slot, SLOTS};
use redwire_resp::Frame;
use std::collections::{BTreeMap, BTreeSet};

/// The nodes' host; node `i` listens on port `FIRST_PORT + i`.
pub const HOST: &str = "127.0.0.1";
/// The first node's port.
pub const FIRST_PORT: u16 = 7000;

/// A slot on its way from its owner to another node.
#[derive(Debug, Clone)]
pub struct Migration {
    /// The importing node.
    pub to: usize,
    /// The keys the target holds already.
    pub moved: BTreeSet<Bytes>,
}

/// What the cluster layer makes of one command.
#[derive(Debug)]
pub enum Verdict {
    /// The cluster answers it; the store does not see it.
    Answer(Frame),
    /// The node runs it.
    Run,
}

/// The cluster's slot map and migrations.
#[derive(Debug)]
pub struct Cluster {
    nodes: usize,
    /// The primaries now (a replica becomes one on a failover; lost nodes
    /// leave).
    member: Vec<bool>,
    /// The primary each replica follows.
    replica_of: Vec<Option<usize>>,
    /// The nodes lost for good.
    lost: Vec<bool>,
    owner: Vec<usize>,
    migrating: BTreeMap<u16, Migration>,
    /// Connections whose next command follows `ASKING`.
    asking: BTreeSet<u64>,
    /// Whether the nodes know `CLUSTER SHARDS`.
    shards: bool,
}

fn simple(s: &'static str) -> Frame {
    Frame::Simple(Bytes::from_static(s.as_bytes()))
}

fn bulk(s: impl Into<Vec<u8>>) -> Frame {
    Frame::Bulk(Bytes::from(s.into()))
}

fn err(s: String) -> Frame {
    Frame::Error(Bytes::from(s))
}

/// The commands of the workloads whose first argument is a key.
fn keyed(name: &[u8]) -> bool {
    matches!(
        name,
        b"GET"
            | b"SET"
            | b"INCR"
            | b"INCRBY"
            | b"DEL"
            | b"EXISTS"
            | b"LPUSH"
            | b"RPUSH"
            | b"LPOP"
            | b"LLEN"
    )
}

impl Cluster {
    /// `primaries` with the slots split evenly, in order, and `spares`
    /// replicas, one after another to each primary in turn.
    pub fn new(primaries: usize, spares: usize, shards: bool) -> Cluster {
        let per = (SLOTS as usize).div_ceil(primaries);
        let nodes = primaries + spares;
        Cluster {
            nodes,
            member: (0..nodes).map(|i| i < primaries).collect(),
            replica_of: (0..nodes)
                .map(|i| (i >= primaries).then(|| (i - primaries) % primaries))
                .collect(),
            lost: vec![false; nodes],
            owner: (0..SLOTS as usize).map(|s| s / per).collect(),
            migrating: BTreeMap::new(),
            asking: BTreeSet::new(),
            shards,
        }
    }

    /// How many nodes, spares included.
    pub fn nodes(&self) -> usize {
        self.nodes
    }

    /// The primaries now, in order.
    pub fn members(&self) -> Vec<usize> {
        (0..self.nodes).filter(|&n| self.member[n]).collect()
    }

    /// The replicas of `primary`.
    fn replicas(&self, primary: usize) -> Vec<usize> {
        (0..self.nodes)
            .filter(|&n| self.replica_of[n] == Some(primary))
            .collect()
    }

    /// The primaries with a replica to take their place.
    pub fn replicated(&self) -> Vec<usize> {
        self.members()
            .into_iter()
            .filter(|&n| !self.replicas(n).is_empty())
            .collect()
    }

    /// Primary `dead` is lost: its first replica takes its slots and its
    /// part in any migration (its keys are the replica's now), and its other
    /// replicas follow the new primary. The new primary, or `None` when
    /// `dead` is no primary or has no replica.
    pub fn fail_over(&mut self, dead: usize) -> Option<usize> {
        if !self.member.get(dead).copied().unwrap_or(false) {
            return None;
        }
        let spare = *self.replicas(dead).first()?;
        self.member[dead] = false;
        self.lost[dead] = true;
        self.member[spare] = true;
        self.replica_of[spare] = None;
        for follower in &mut self.replica_of {
            if *follower == Some(dead) {
                *follower = Some(spare);
            }
        }
        for owner in &mut self.owner {
            if *owner == dead {
                *owner = spare;
            }
        }
        for m in self.migrating.values_mut() {
            if m.to == dead {
                m.to = spare;
            }
        }
        Some(spare)
    }

    /// The member `shift` places after `slot`'s owner among the members.
    pub fn member_after(&self, slot: u16, shift: usize) -> usize {
        let members = self.members();
        let at = members
            .iter()
            .position(|&n| n == self.owner(slot))
            .unwrap_or(0);
        members[(at + shift) % members.len()]
    }

    /// Node `node`'s address, as redirections name it.
    pub fn addr(node: usize) -> String {
        format!("{HOST}:{}", FIRST_PORT as usize + node)
    }

    /// The node listening at `port`.
    pub fn node_at(&self, port: u16) -> Option<usize> {
        let i = port.checked_sub(FIRST_PORT)? as usize;
        (i < self.nodes).then_some(i)
    }

    /// The node that owns `slot`.
    pub fn owner(&self, slot: u16) -> usize {
        self.owner[slot as usize]
    }

    /// The migration of `slot`, if one is under way.
    pub fn migration(&self, slot: u16) -> Option<&Migration> {
        self.migrating.get(&slot)
    }

    /// The node holding `key` now (the target, for a key a migration moved).
    pub fn holder(&self, key: &[u8]) -> usize {
        let slot = key_slot(key);
        match self.migrating.get(&slot) {
            Some(m) if m.moved.contains(key) => m.to,
            _ => self.owner(slot),
        }
    }

    /// A restart of every node: no connection is asking any more.
    pub fn forget_connections(&mut self) {
        self.asking.clear();
    }

    /// The verdict on `args` arriving on connection `conn` of `node`.
    pub fn intercept(&mut self, node: usize, conn: u64, args: &[Bytes], store: &Store) -> Verdict {
        let name = args[0].to_ascii_uppercase();
        match &name[..] {
            b"ASKING" => {
                self.asking.insert(conn);
                return Verdict::Answer(simple("OK"));
            }
            b"READONLY" | b"READWRITE" => return Verdict::Answer(simple("OK")),
            b"CLUSTER" => return Verdict::Answer(self.cluster_command(args)),
            b"COMMAND" => return Verdict::Answer(command_table()),
            _ => {}
        }
        let asking = self.asking.remove(&conn);
        if !keyed(&name) || args.len() < 2 {
            return Verdict::Run;
        }
        let key = &args[1];
        let slot = key_slot(key);
        let owner = self.owner(slot);
        let moved = |to: usize| Verdict::Answer(err(format!("MOVED {slot} {}", Cluster::addr(to))));
        match self.migrating.get_mut(&slot) {
            None if node == owner => Verdict::Run,
            None => moved(owner),
            Some(m) if node == owner => {
                if m.moved.contains(key) || !store.contains(key) {
                    Verdict::Answer(err(format!("ASK {slot} {}", Cluster::addr(m.to))))
                } else {
                    Verdict::Run
                }
            }
            Some(m) if node == m.to && asking => {
                if store.contains(key) && !m.moved.contains(key) {
                    // Only a client that sent ASKING unasked gets here: the
                    // key still lives on the source.
                    return Verdict::Answer(err(format!(
                        "ERR sim: {} still lives on node{owner}, the migration's source",
                        String::from_utf8_lossy(key)
                    )));
                }
                if is_write(&name) {
                    m.moved.insert(key.clone());
                }
                Verdict::Run
            }
            Some(_) => moved(owner),
        }
    }

    fn cluster_command(&self, args: &[Bytes]) -> Frame {
        let sub = args.get(1).map(|a| a.to_ascii_uppercase());
        match sub.as_deref() {
            Some(b"SHARDS") if self.shards => self.shards_reply(),
            Some(b"SLOTS") => self.slots_reply(),
            Some(b"KEYSLOT") if args.len() == 3 => Frame::Integer(key_slot(&args[2]) as i64),
            _ => err("ERR unknown subcommand of CLUSTER".into()),
        }
    }

    /// Every node's inclusive slot ranges, in order.
    fn ranges(&self) -> Vec<(usize, u16, u16)> {
        let mut out: Vec<(usize, u16, u16)> = Vec::new();
        for (slot, &node) in self.owner.iter().enumerate() {
            match out.last_mut() {
                Some((n, _, end)) if *n == node && *end as usize + 1 == slot => *end = slot as u16,
                _ => out.push((node, slot as u16, slot as u16)),
            }
        }
        out
    }

    fn node_entry(node: usize) -> Vec<Frame> {
        vec![
            bulk(HOST),
            Frame::Integer((FIRST_PORT as usize + node) as i64),
            bulk(format!("node{node:0>37}")),
        ]
    }

    /// `CLUSTER SLOTS`: one entry per range.
    fn slots_reply(&self) -> Frame {
        Frame::Array(
            self.ranges()
                .into_iter()
                .map(|(node, start, end)| {
                    let mut entry = vec![
                        Frame::Integer(start as i64),
                        Frame::Integer(end as i64),
                        Frame::Array(Cluster::node_entry(node)),
                    ];
                    for replica in self.replicas(node) {
                        entry.push(Frame::Array(Cluster::node_entry(replica)));
                    }
                    Frame::Array(entry)
                })
                .collect(),
        )
    }

    /// `CLUSTER SHARDS`: one shard per node, its ranges and itself.
    fn shards_reply(&self) -> Frame {
        let ranges = self.ranges();
        Frame::Array(
            self.members()
                .into_iter()
                .map(|node| {
                    let slots = ranges
                        .iter()
                        .filter(|r| r.0 == node)
                        .flat_map(|&(_, s, e)| [Frame::Integer(s as i64), Frame::Integer(e as i64)])
                        .collect();
                    let entry = |n: usize, role: &str| {
                        Frame::Map(vec![
                            (bulk("id"), bulk(format!("node{n:0>37}"))),
                            (
                                bulk("port"),
                                Frame::Integer((FIRST_PORT as usize + n) as i64),
                            ),
                            (bulk("ip"), bulk(HOST)),
                            (bulk("endpoint"), bulk(HOST)),
                            (bulk("role"), bulk(role)),
                            (bulk("replication-offset"), Frame::Integer(0)),
                            (bulk("health"), bulk("online")),
                        ])
                    };
                    let mut nodes = vec![entry(node, "master")];
                    nodes.extend(self.replicas(node).into_iter().map(|r| entry(r, "replica")));
                    Frame::Map(vec![
                        (bulk("slots"), Frame::Array(slots)),
                        (bulk("nodes"), Frame::Array(nodes)),
                    ])
                })
                .collect(),
        )
    }

    /// `slot` belongs to `to` from now on, its keys with it (one step: no
    /// `ASK` phase). Ends a migration of the slot under way.
    pub fn move_slot(&mut self, slot: u16, to: usize) {
        self.migrating.remove(&slot);
        self.owner[slot as usize] = to;
    }

    /// A migration of `slot` to `to` begins (false: one is under way, or
    /// `to` owns it already).
    pub fn start(&mut self, slot: u16, to: usize) -> bool {
        if self.migrating.contains_key(&slot) || self.owner(slot) == to {
            return false;
        }
        self.migrating.insert(
            slot,
            Migration {
                to,
                moved: BTreeSet::new(),
            },
        );
        true
    }

    /// One more key of migrating `slot` moves to the target: the first the
    /// source still holds, if any.
    pub fn migrate_key(&mut self, slot: u16, store: &Store) -> Option<Bytes> {
        let m = self.migrating.get_mut(&slot)?;
        let key = store
            .keys()
            .find(|k| key_slot(k) == slot && !m.moved.contains(*k))?
            .clone();
        m.moved.insert(key.clone());
        Some(key)
    }

    /// The migration of `slot` ends: the target owns it (false: there was
    /// none).
    pub fn finish(&mut self, slot: u16) -> bool {
        match self.migrating.remove(&slot) {
            Some(m) => {
                self.owner[slot as usize] = m.to;
                true
            }
            None => false,
        }
    }
}

/// `COMMAND`: the key positions of what the workloads send (the old
/// first/last/step triple, which the client reads when a server gives no key
/// specifications).
fn command_table() -> Frame {
    let entry = |name: &str, arity: i64, flag: &str| {
        Frame::Array(vec![
            bulk(name),
            Frame::Integer(arity),
            Frame::Array(vec![Frame::Simple(Bytes::from(flag.to_string()))]),
            Frame::Integer(1),
            Frame::Integer(1),
            Frame::Integer(1),
        ])
    };
    Frame::Array(vec![
        entry("get", 2, "readonly"),
        entry("set", -3, "write"),
        entry("incr", 2, "write"),
        entry("incrby", 3, "write"),
        entry("del", -2, "write"),
        entry("exists", -2, "readonly"),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Dialect, Session};

    fn args(a: &[&str]) -> Vec<Bytes> {
        a.iter()
            .map(|s| Bytes::copy_from_slice(s.as_bytes()))
            .collect()
    }

    fn answer(v: Verdict) -> String {
        match v {
            Verdict::Answer(Frame::Error(e)) => String::from_utf8_lossy(&e).into_owned(),
            other => format!("{other:?}"),
        }
    }

    #[test]
    fn a_key_of_another_nodes_slot_is_moved_and_a_migrating_one_asked() {
        let mut c = Cluster::new(3, 0, true);
        let store = Store::default();
        let slot = key_slot(b"foo"); // 12182: node 2
        assert_eq!(c.owner(slot), 2);
        assert!(matches!(
            c.intercept(2, 1, &args(&["GET", "foo"]), &store),
            Verdict::Run
        ));
        assert_eq!(
            answer(c.intercept(0, 2, &args(&["GET", "foo"]), &store)),
            format!("MOVED {slot} 127.0.0.1:7002")
        );
        assert!(c.start(slot, 0));
        // Missing on the source: ask the target, which runs it after ASKING.
        assert_eq!(
            answer(c.intercept(2, 1, &args(&["SET", "foo", "x"]), &store)),
            format!("ASK {slot} 127.0.0.1:7000")
        );
        assert_eq!(
            answer(c.intercept(0, 2, &args(&["SET", "foo", "x"]), &store)),
            format!("MOVED {slot} 127.0.0.1:7002")
        );
        c.intercept(0, 2, &args(&["ASKING"]), &store);
        assert!(matches!(
            c.intercept(0, 2, &args(&["SET", "foo", "x"]), &store),
            Verdict::Run
        ));
        assert_eq!(c.holder(b"foo"), 0);
        // ASKING is good for one command.
        assert!(matches!(
            c.intercept(0, 2, &args(&["GET", "foo"]), &store),
            Verdict::Answer(_)
        ));
        assert!(c.finish(slot));
        assert!(matches!(
            c.intercept(0, 2, &args(&["GET", "foo"]), &store),
            Verdict::Run
        ));
    }

    #[test]
    fn a_key_the_source_still_holds_runs_there_until_it_moves() {
        let mut c = Cluster::new(3, 2, false);
        let (mut store, mut s) = (Store::default(), Session::new(1));
        store.execute(&mut s, Dialect::Hello, &args(&["SET", "foo", "x"]));
        let slot = key_slot(b"foo");
        c.start(slot, 1);
        assert!(matches!(
            c.intercept(2, 1, &args(&["GET", "foo"]), &store),
            Verdict::Run
        ));
        assert_eq!(c.migrate_key(slot, &store).as_deref(), Some(&b"foo"[..]));
        assert!(c.migrate_key(slot, &store).is_none());
        assert!(answer(c.intercept(2, 1, &args(&["GET", "foo"]), &store)).starts_with("ASK"));
        assert_eq!(c.holder(b"foo"), 1);
        // Node 1 lost: its replica (4) imports the slot in its place.
        assert_eq!(c.replicated(), vec![0, 1]);
        assert_eq!(c.fail_over(1), Some(4));
        assert_eq!(c.holder(b"foo"), 4);
        assert_eq!(c.owner(0), 0);
        assert_eq!(c.owner(8000), 4);
        assert_eq!(c.members(), vec![0, 2, 4]);
        assert_eq!(c.fail_over(1), None);
        assert_eq!(c.fail_over(2), None);
        // Without CLUSTER SHARDS, an old server's error: the client reads SLOTS.
        assert!(matches!(
            c.intercept(0, 1, &args(&["CLUSTER", "SHARDS"]), &store),
            Verdict::Answer(Frame::Error(_))
        ));
    }
}
