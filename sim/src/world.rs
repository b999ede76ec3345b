//! The simulated world: one model server (its store survives connections,
//! not restarts), the connections dialed to it, each served by a task that
//! decodes commands with `redwire-resp` and answers through the model, and
//! the seeded faults: refused or hanging connects, resets, black holes,
//! half-closed streams, a restart that loses the data, unsolicited and
//! malformed frames. It records the trace and the log of executed writes
//! (a transaction's commands each with its `EXEC`, every `BLPOP` that
//! ended on the server).
//!
//! **Blocking.** A `BLPOP` that finds its lists empty blocks its connection:
//! the commands behind it wait, unread by the model, until a push serves it
//! (the longest-blocked first, as Redis does), its timeout answers nil, or
//! the client closes the connection (then it pops nothing). A push served to
//! a connection the client has already given up on is popped all the same,
//! its reply lost: the window a real server has too.
//!
//! **A cluster.** With a [`Cluster`] set ([`World::set_cluster`]) the world
//! is that many nodes over the one store: a connection belongs to the node
//! whose port it dialed, the cluster model decides before the store whether
//! the node runs a command or redirects it, and [`World::cluster_fault`]
//! moves slots, runs migrations and restarts one node (its connections
//! reset, the keys it held lost, its connects refused for a while).

use crate::cluster_model::{Cluster, Verdict};
use crate::model::{self, Dialect, Session, Store};
use crate::pipe::{End, Pipe, Shape};
use crate::trace::Trace;
use bytes::{Bytes, BytesMut};
use redwire::connection::memory::{Dialer, MemoryStream};
use redwire_resp::{Decoder, Frame};
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::io;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::Notify;
use tokio::time::Instant;

/// One executed write, as the model ran it.
#[derive(Debug, Clone)]
pub struct Exec {
    /// The connection it came on.
    pub conn: u64,
    /// The cluster node that ran it (0 without a cluster).
    pub node: usize,
    /// How many restarts (of the server, or of any cluster node) came
    /// before it.
    pub epoch: u64,
    /// The command.
    pub args: Vec<Bytes>,
    /// The reply the model gave.
    pub reply: Frame,
    /// The transaction it ran in (one number per `EXEC`), if any.
    pub tx: Option<u64>,
    /// When it ran.
    pub at: Instant,
}

/// A connection blocked in `BLPOP`.
struct Blocked {
    conn: u64,
    /// The command (its keys and timeout).
    args: Vec<Bytes>,
}

/// A message the server routed to a subscribed connection.
#[derive(Debug, Clone)]
pub struct Routed {
    /// The connection.
    pub conn: u64,
    /// The label of the client that dialed it.
    pub owner: &'static str,
    /// The channel.
    pub channel: Bytes,
    /// What was published.
    pub payload: Bytes,
}

/// A fault the chaos task applies at a time drawn from the seed.
#[derive(Debug, Clone, Copy)]
pub enum Fault {
    /// A live connection (drawn from the seed) is reset.
    Reset,
    /// A live connection's replies stop arriving.
    BlackHole,
    /// The server shuts its side of a live connection: the client reads
    /// the end of the stream.
    HalfClose,
    /// The server restarts: every connection is reset, the data is lost and
    /// connects are refused for a while.
    Restart(Duration),
    /// Connects are refused for a while.
    Refuse(Duration),
    /// A RESP3 push nobody asked for, between two replies.
    Unsolicited,
    /// A frame the client cannot parse, between two replies.
    Malformed,
}

/// A fault of a cluster, applied by [`World::cluster_fault`]; a node is
/// named by its distance `shift` (1 and up) from the slot's owner then.
#[derive(Debug, Clone, Copy)]
pub enum ClusterFault {
    /// The slot moves to another node at once, its keys with it.
    Move {
        /// The slot.
        slot: u16,
        /// The new owner, counted from the old.
        shift: usize,
    },
    /// A migration of the slot to another node begins (the `ASK` phase).
    Migrate {
        /// The slot.
        slot: u16,
        /// The target, counted from the owner.
        shift: usize,
    },
    /// One more key of the slot's migration moves to the target.
    MigrateKey(u16),
    /// The slot's migration completes: the target owns it.
    Finish(u16),
    /// The node restarts: its connections reset, the keys it held lost,
    /// its connects refused for a while.
    NodeRestart(usize, Duration),
    /// A primary with a replica (by its place among those) is lost for
    /// good: its connections reset, its connects refused from now on; its
    /// replica takes its place at the next [`ClusterFault::Failover`] (or
    /// when the world heals).
    NodeLoss(usize),
    /// Replicas take the places of the primaries lost so far.
    Failover,
}

struct Conn {
    id: u64,
    up: Arc<Pipe>,
    down: Arc<Pipe>,
    poke: Arc<Notify>,
    /// Which client dialed it (the dialer's label).
    owner: &'static str,
    /// The cluster node it was dialed to (0 without a cluster).
    node: usize,
    /// Frames for the server to send between two replies: pub/sub messages
    /// (marked `true`) and injected faults.
    outbox: VecDeque<(Bytes, bool)>,
    /// Where each pub/sub message sent on it ends in the stream, until the
    /// client has read it whole.
    message_ends: VecDeque<u64>,
    /// Pub/sub messages the client has read whole off this connection.
    messages_read: u64,
    resp: u8,
    live: bool,
    /// What a push popped for it while it was blocked, to send.
    popped: Option<Frame>,
}

struct Inner {
    store: Store,
    /// Restarts that lost data: the server's and the cluster nodes'.
    epoch: u64,
    /// Restarts of the whole server, which end every connection.
    restarts: u64,
    /// The cluster the nodes form, if the world is one.
    cluster: Option<Cluster>,
    /// Per cluster node: connects refused until then (a restart).
    node_down: BTreeMap<usize, Instant>,
    /// Cluster nodes lost for good, and those a spare has not replaced yet.
    node_lost: BTreeSet<usize>,
    failover_due: Vec<usize>,
    dialect: Dialect,
    conns: Vec<Conn>,
    log: Vec<Exec>,
    /// Transactions run so far.
    transactions: u64,
    /// The connections blocked in `BLPOP`, longest-blocked first.
    blocked: Vec<Blocked>,
    /// Channel -> the connections subscribed to it.
    subs: BTreeMap<Bytes, BTreeSet<u64>>,
    /// Every message the server routed, in order.
    routed: Vec<Routed>,
    trace: Trace,
    rng: fastrand::Rng,
    refuse_until: Option<Instant>,
    /// Chance that a connect is refused, or hangs, outside a fault.
    flaky_connects: f64,
    shape: Shape,
    healed: bool,
    /// Most bytes ever queued toward the server on one connection.
    /// Per client label: most replies the server had sent (or was about to
    /// send) on one connection that the client had not read yet.
    max_outstanding: BTreeMap<&'static str, usize>,
}

/// The world; cheap to clone.
#[derive(Clone)]
pub struct World(Arc<Mutex<Inner>>);

/// The knobs of a world, drawn from the seed by the workload.
pub struct Setup {
    /// How the server answers `HELLO`.
    pub dialect: Dialect,
    /// How connections cut and delay bytes.
    pub shape: Shape,
    /// Chance that a connect fails on its own.
    pub flaky_connects: f64,
}

impl World {
    /// A world with an empty server.
    pub fn new(seed: u64, setup: Setup) -> World {
        World(Arc::new(Mutex::new(Inner {
            store: Store::default(),
            epoch: 0,
            restarts: 0,
            cluster: None,
            node_down: BTreeMap::new(),
            node_lost: BTreeSet::new(),
            failover_due: Vec::new(),
            dialect: setup.dialect,
            conns: Vec::new(),
            log: Vec::new(),
            transactions: 0,
            blocked: Vec::new(),
            subs: BTreeMap::new(),
            routed: Vec::new(),
            trace: Trace::new(),
            rng: fastrand::Rng::with_seed(seed ^ 0x5eed_0f30_17ab),
            refuse_until: None,
            flaky_connects: setup.flaky_connects,
            shape: setup.shape,
            healed: false,
            max_outstanding: BTreeMap::new(),
        })))
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Appends a line to the trace.
    pub fn note(&self, line: impl AsRef<str>) {
        self.lock().trace.note(line.as_ref());
    }

    /// The trace so far.
    pub fn trace(&self) -> Trace {
        self.lock().trace.clone()
    }

    /// Every write the model executed.
    pub fn log(&self) -> Vec<Exec> {
        self.lock().log.clone()
    }

    /// Restarts so far.
    pub fn epoch(&self) -> u64 {
        self.lock().epoch
    }

    /// The string at `key` now.
    pub fn get(&self, key: &[u8]) -> Option<Bytes> {
        self.lock().store.get(key)
    }

    /// The list at `key` now.
    pub fn list(&self, key: &[u8]) -> Vec<Bytes> {
        self.lock().store.list(key)
    }

    /// The label of the client that dialed connection `conn`.
    pub fn owner(&self, conn: u64) -> &'static str {
        let w = self.lock();
        w.conns.get(conn as usize - 1).map_or("", |c| c.owner)
    }

    /// Connections dialed so far.
    pub fn dials(&self) -> usize {
        self.lock().conns.len()
    }

    /// The most replies a client labelled `owner` ever had outstanding on
    /// one connection, as the server saw them: a lower bound of the client's
    /// own count (commands still on their way are not in it), so above the
    /// client's limit means the client broke it.
    pub fn max_outstanding(&self, owner: &str) -> usize {
        self.lock().max_outstanding.get(owner).copied().unwrap_or(0)
    }

    /// The pub/sub messages the client labelled `owner` has read whole off
    /// its connections so far (read, not yet taken by its consumer: held
    /// in the client's memory, or lost with a connection).
    pub fn messages_read(&self, owner: &str) -> u64 {
        let mut w = self.lock();
        let mut read = 0;
        for conn in w.conns.iter_mut().filter(|c| c.owner == owner) {
            let consumed = conn.down.consumed();
            while conn
                .message_ends
                .front()
                .is_some_and(|&end| end <= consumed)
            {
                conn.message_ends.pop_front();
                conn.messages_read += 1;
            }
            read += conn.messages_read;
        }
        read
    }

    /// No more faults: connects succeed, new connections are clean.
    pub fn heal(&self) {
        let mut w = self.lock();
        w.healed = true;
        w.refuse_until = None;
        w.node_down.clear();
        w.flaky_connects = 0.0;
        fail_over(&mut w);
        w.trace.note("world: healed, no more faults");
    }

    /// Every message routed to a subscriber so far.
    pub fn routed(&self) -> Vec<Routed> {
        self.lock().routed.clone()
    }

    /// The dialer a client connects through; its connections carry `owner`.
    pub fn dialer(&self, owner: &'static str) -> Dialer {
        let world = self.clone();
        Dialer::new(move |addr| {
            let world = world.clone();
            let port = match addr {
                redwire::Addr::Tcp { port, .. } => *port,
                _ => 0,
            };
            Box::pin(async move { world.dial(owner, port).await })
        })
    }

    async fn dial(&self, owner: &'static str, port: u16) -> io::Result<Box<dyn MemoryStream>> {
        enum Outcome {
            Refused,
            Hang,
            Open(End, End, u64, u64, Arc<Notify>),
        }
        let outcome = {
            let mut w = self.lock();
            let now = Instant::now();
            let node = match &w.cluster {
                Some(c) => c.node_at(port),
                None => Some(0),
            };
            let roll = w.rng.f64();
            let node_down = node.is_some_and(|n| {
                w.node_down.get(&n).is_some_and(|&t| t > now) || w.node_lost.contains(&n)
            });
            if node.is_none() || node_down {
                w.trace.note(&format!("dial: port {port} refused"));
                Outcome::Refused
            } else if w.refuse_until.is_some_and(|t| t > now) || roll < w.flaky_connects / 2.0 {
                w.trace.note("dial: refused");
                Outcome::Refused
            } else if roll < w.flaky_connects {
                w.trace.note("dial: hangs (no answer)");
                Outcome::Hang
            } else {
                let id = w.conns.len() as u64 + 1;
                let (s1, s2) = (w.rng.u64(..), w.rng.u64(..));
                let up = Pipe::new(w.shape, s1);
                let down = Pipe::new(w.shape, s2);
                let (client, server) = End::pair(up.clone(), down.clone());
                let poke = Arc::new(Notify::new());
                w.conns.push(Conn {
                    id,
                    up,
                    down,
                    poke: poke.clone(),
                    owner,
                    node: node.unwrap_or(0),
                    outbox: VecDeque::new(),
                    message_ends: VecDeque::new(),
                    messages_read: 0,
                    resp: 2,
                    live: true,
                    popped: None,
                });
                let on = match w.cluster {
                    Some(_) => format!(" on node{}", node.unwrap_or(0)),
                    None => String::new(),
                };
                w.trace
                    .note(&format!("dial: conn{id} open for {owner}{on}"));
                Outcome::Open(client, server, id, w.restarts, poke)
            }
        };
        match outcome {
            Outcome::Refused => Err(io::ErrorKind::ConnectionRefused.into()),
            Outcome::Hang => {
                tokio::time::sleep(Duration::from_secs(3600)).await;
                Err(io::ErrorKind::TimedOut.into())
            }
            Outcome::Open(client, server, id, epoch, poke) => {
                tokio::spawn(serve(self.clone(), id, epoch, server, poke));
                Ok(Box::new(client))
            }
        }
    }

    /// Applies one fault now.
    pub fn fault(&self, fault: Fault) {
        let mut w = self.lock();
        if w.healed {
            return;
        }
        let w = &mut *w;
        let live: Vec<usize> = (0..w.conns.len()).filter(|&i| w.conns[i].live).collect();
        let pick = (!live.is_empty()).then(|| live[w.rng.usize(..live.len())]);
        let target = pick.map(|i| &mut w.conns[i]);
        match fault {
            Fault::Reset => {
                if let Some(c) = target {
                    c.live = false;
                    c.up.reset();
                    c.down.reset();
                    w.trace.note(&format!("fault: reset conn{}", c.id));
                }
            }
            Fault::BlackHole => {
                if let Some(c) = target {
                    c.live = false;
                    c.down.blackhole();
                    w.trace.note(&format!("fault: black hole on conn{}", c.id));
                }
            }
            Fault::HalfClose => {
                if let Some(c) = target {
                    c.live = false;
                    c.down.shut();
                    w.trace
                        .note(&format!("fault: server half-closes conn{}", c.id));
                }
            }
            Fault::Restart(down) => {
                for c in w.conns.iter_mut().filter(|c| c.live) {
                    c.live = false;
                    c.up.reset();
                    c.down.reset();
                }
                w.store = Store::default();
                w.blocked.clear();
                w.epoch += 1;
                w.restarts += 1;
                if let Some(c) = &mut w.cluster {
                    c.forget_connections();
                }
                w.refuse_until = Some(Instant::now() + down);
                w.trace.note(&format!(
                    "fault: server restart (epoch {}), down for {down:?}",
                    w.epoch
                ));
            }
            Fault::Refuse(d) => {
                w.refuse_until = Some(Instant::now() + d);
                w.trace.note(&format!("fault: connects refused for {d:?}"));
            }
            Fault::Unsolicited | Fault::Malformed => {
                let Some(c) = target else { return };
                let bytes: &'static [u8] = match fault {
                    Fault::Malformed => b"@oops\r\n",
                    _ if c.resp == 3 => b">2\r\n$3\r\nsim\r\n$5\r\nnoise\r\n",
                    // RESP2 has no push: an extra reply there would be a
                    // server bug no client can tell from a reply.
                    _ => return,
                };
                if matches!(fault, Fault::Malformed) {
                    c.live = false;
                }
                c.outbox.push_back((Bytes::from_static(bytes), false));
                c.poke.notify_one();
                w.trace
                    .note(&format!("fault: {fault:?} frame queued on conn{}", c.id));
            }
        }
    }

    /// Makes the world a cluster of `cluster`'s nodes (before any dial).
    pub fn set_cluster(&self, cluster: Cluster) {
        self.lock().cluster = Some(cluster);
    }

    /// The cluster node holding `key` now (0 without a cluster).
    pub fn holder(&self, key: &[u8]) -> usize {
        self.lock().cluster.as_ref().map_or(0, |c| c.holder(key))
    }

    /// Applies one cluster fault now (nothing once healed, or without a
    /// cluster).
    pub fn cluster_fault(&self, fault: ClusterFault) {
        let mut w = self.lock();
        if w.healed {
            return;
        }
        let w = &mut *w;
        let Some(c) = w.cluster.as_mut() else { return };
        let to = |c: &Cluster, slot: u16, shift: usize| c.member_after(slot, shift);
        match fault {
            ClusterFault::Move { slot, shift } => {
                let (from, to) = (c.owner(slot), to(c, slot, shift));
                if from == to {
                    return;
                }
                c.move_slot(slot, to);
                w.trace.note(&format!(
                    "fault: slot {slot} moves from node{from} to node{to}, its keys with it"
                ));
            }
            ClusterFault::Migrate { slot, shift } => {
                let (from, to) = (c.owner(slot), to(c, slot, shift));
                if c.start(slot, to) {
                    w.trace.note(&format!(
                        "fault: slot {slot} starts migrating from node{from} to node{to}"
                    ));
                }
            }
            ClusterFault::MigrateKey(slot) => {
                if let Some(key) = c.migrate_key(slot, &w.store) {
                    w.trace.note(&format!(
                        "fault: key {} of migrating slot {slot} moves",
                        String::from_utf8_lossy(&key)
                    ));
                }
            }
            ClusterFault::Finish(slot) => {
                let to = c.migration(slot).map(|m| m.to);
                if c.finish(slot) {
                    w.trace.note(&format!(
                        "fault: slot {slot}'s migration completes: node{} owns it",
                        to.unwrap_or(0)
                    ));
                }
            }
            ClusterFault::NodeLoss(i) => {
                let candidates: Vec<usize> = c
                    .replicated()
                    .into_iter()
                    .filter(|n| !w.node_lost.contains(n))
                    .collect();
                if candidates.is_empty() {
                    return;
                }
                let node = candidates[i % candidates.len()];
                reset_node(&mut w.conns, node);
                w.node_lost.insert(node);
                w.failover_due.push(node);
                w.trace.note(&format!("fault: node{node} is lost"));
            }
            ClusterFault::Failover => fail_over(w),
            ClusterFault::NodeRestart(node, down) => {
                let node = node % c.nodes();
                if w.node_lost.contains(&node) {
                    return;
                }
                reset_node(&mut w.conns, node);
                let lost = w.store.lose(|k| c.holder(k) == node);
                w.epoch += 1;
                w.node_down.insert(node, Instant::now() + down);
                w.trace.note(&format!(
                    "fault: node{node} restarts (epoch {}), {lost} keys lost, down for {down:?}",
                    w.epoch
                ));
            }
        }
    }

    /// Runs `faults` at their times (from now), unless healed first.
    pub async fn chaos(self, faults: Vec<(Duration, Fault)>) {
        let start = Instant::now();
        for (at, fault) in faults {
            tokio::time::sleep_until(start + at).await;
            self.fault(fault);
        }
    }
}

/// Resets every live connection of cluster node `node`.
fn reset_node(conns: &mut [Conn], node: usize) {
    for conn in conns.iter_mut().filter(|k| k.live && k.node == node) {
        conn.live = false;
        conn.up.reset();
        conn.down.reset();
    }
}

/// Replicas take the places of the primaries lost so far.
fn fail_over(w: &mut Inner) {
    let Some(c) = w.cluster.as_mut() else { return };
    for dead in std::mem::take(&mut w.failover_due) {
        match c.fail_over(dead) {
            Some(spare) => w.trace.note(&format!(
                "cluster: node{spare} takes the place of lost node{dead}"
            )),
            None => w
                .trace
                .note(&format!("cluster: no spare for lost node{dead}")),
        }
    }
}

/// Serves one connection until it ends, then forgets its subscriptions.
async fn serve(world: World, id: u64, restarts: u64, end: End, poke: Arc<Notify>) {
    serve_until_closed(world.clone(), id, restarts, end, poke).await;
    let mut w = world.lock();
    w.blocked.retain(|b| b.conn != id);
    for subscribers in w.subs.values_mut() {
        subscribers.remove(&id);
    }
    w.subs.retain(|_, s| !s.is_empty());
}

/// Why a connection's server task woke.
enum Wake {
    /// The outbox, or a push served its `BLPOP`.
    Poke,
    /// Its `BLPOP` timed out.
    Timeout,
    /// Bytes from the client (or its end).
    Read(io::Result<usize>),
}

/// Decode, execute, answer; what waits in the outbox goes out between two
/// replies. While a `BLPOP` blocks, what the client sends is read but not
/// run.
async fn serve_until_closed(world: World, id: u64, restarts: u64, mut end: End, poke: Arc<Notify>) {
    let mut session = Session::new(id as i64);
    let mut input = BytesMut::with_capacity(4096);
    let mut decoder = Decoder::new();
    // Bytes sent so far, and where each reply not yet read by the client ends.
    let mut sent = 0u64;
    let mut ends = VecDeque::new();
    // Blocked in `BLPOP` until then (`Some(None)`: for ever).
    let mut blocked: Option<Option<Instant>> = None;
    loop {
        let wake = match blocked {
            Some(until) => tokio::select! {
                biased;
                () = poke.notified() => Wake::Poke,
                () = sleep_until(until) => Wake::Timeout,
                r = end.read_buf(&mut input) => Wake::Read(r),
            },
            None => tokio::select! {
                biased;
                () = poke.notified() => Wake::Poke,
                r = end.read_buf(&mut input) => Wake::Read(r),
            },
        };
        let mut out = BytesMut::new();
        let mut decode = false;
        match wake {
            Wake::Poke | Wake::Timeout => {
                let mut w = world.lock();
                let w = &mut *w;
                let conn = &mut w.conns[id as usize - 1];
                for (bytes, message) in conn.outbox.drain(..) {
                    out.extend_from_slice(&bytes);
                    if message {
                        conn.message_ends.push_back(sent + out.len() as u64);
                    }
                }
                if blocked.is_some() {
                    let popped = w.conns[id as usize - 1].popped.take();
                    let reply = match (popped, &wake) {
                        (Some(reply), _) => Some(reply),
                        (None, Wake::Timeout) => {
                            // Not listed any more: a restart ended it.
                            let at = w.blocked.iter().position(|b| b.conn == id);
                            if let Some(args) = at.map(|i| w.blocked.remove(i).args) {
                                w.trace.note(&format!(
                                    "conn{id}: {} -> nil (timed out)",
                                    show_args(&args)
                                ));
                                w.log.push(Exec {
                                    conn: id,
                                    node: w.conns[id as usize - 1].node,
                                    epoch: w.epoch,
                                    args,
                                    reply: Frame::Null,
                                    tx: None,
                                    at: Instant::now(),
                                });
                            }
                            Some(Frame::Null)
                        }
                        (None, _) => None,
                    };
                    if let Some(reply) = reply {
                        model::encode(&reply, session.resp, &mut out);
                        ends.push_back(sent + out.len() as u64);
                        blocked = None;
                        decode = true;
                    }
                }
            }
            Wake::Read(Ok(0)) | Wake::Read(Err(_)) => return,
            Wake::Read(Ok(_)) => decode = blocked.is_none(),
        }
        if decode {
            loop {
                let frame = match decoder.decode(&mut input) {
                    Ok(Some(frame)) => frame,
                    Ok(None) => break,
                    Err(_) => return,
                };
                let Some(args) = command(frame) else { return };
                let mut w = world.lock();
                if w.restarts != restarts {
                    return;
                }
                let w = &mut *w;
                let dialect = w.dialect;
                let node = w.conns[id as usize - 1].node;
                if let Some(cluster) = &mut w.cluster {
                    if let Verdict::Answer(reply) = cluster.intercept(node, id, &args, &w.store) {
                        w.trace.note(&format!(
                            "conn{id}: {} -> {}",
                            show_args(&args),
                            show(&reply)
                        ));
                        model::encode(&reply, session.resp, &mut out);
                        ends.push_back(sent + out.len() as u64);
                        continue;
                    }
                }
                if pubsub(w, id, &session, &args, &mut out) {
                    ends.push_back(sent + out.len() as u64);
                    continue;
                }
                let name = args[0].to_ascii_uppercase();
                if &name[..] == b"BLPOP" && args.len() >= 3 && !session.in_multi() {
                    match block(w, id, &args) {
                        Ok(reply) => {
                            model::encode(&reply, session.resp, &mut out);
                            ends.push_back(sent + out.len() as u64);
                        }
                        Err(until) => {
                            blocked = Some(until);
                            break;
                        }
                    }
                    continue;
                }
                let queueing = session.in_multi();
                let reply = w.store.execute(&mut session, dialect, &args);
                w.conns[id as usize - 1].resp = session.resp;
                w.trace.note(&format!(
                    "conn{id}: {} -> {}",
                    show_args(&args),
                    show(&reply)
                ));
                // A command queued in `MULTI` has not run: its `EXEC` runs it.
                if model::is_write(&name) && !(queueing && session.in_multi()) {
                    w.log.push(Exec {
                        conn: id,
                        node,
                        epoch: w.epoch,
                        args,
                        reply: reply.clone(),
                        tx: None,
                        at: Instant::now(),
                    });
                }
                if !session.ran.is_empty() {
                    w.transactions += 1;
                    for (args, reply) in session.ran.drain(..) {
                        if model::is_write(&args[0].to_ascii_uppercase()) {
                            w.log.push(Exec {
                                conn: id,
                                node,
                                epoch: w.epoch,
                                args,
                                reply,
                                tx: Some(w.transactions),
                                at: Instant::now(),
                            });
                        }
                    }
                }
                if model::is_write(&name) {
                    serve_blocked(w);
                }
                model::encode(&reply, session.resp, &mut out);
                ends.push_back(sent + out.len() as u64);
            }
        }
        {
            let mut w = world.lock();
            let conn = &w.conns[id as usize - 1];
            let (consumed, owner) = (conn.down.consumed(), conn.owner);
            while ends.front().is_some_and(|&end| end <= consumed) {
                ends.pop_front();
            }
            let max = w.max_outstanding.entry(owner).or_default();
            *max = (*max).max(ends.len());
        }
        sent += out.len() as u64;
        if !out.is_empty() && end.write_all(&out).await.is_err() {
            return;
        }
        if session.quit {
            return;
        }
    }
}

/// Sleeps until `until`, or for ever.
async fn sleep_until(until: Option<Instant>) {
    match until {
        Some(t) => tokio::time::sleep_until(t).await,
        None => std::future::pending().await,
    }
}

/// A `BLPOP` on connection `id`: its reply now (an element, or an error),
/// or the connection blocks until the returned time (`None`: for ever).
fn block(w: &mut Inner, id: u64, args: &[Bytes]) -> Result<Frame, Option<Instant>> {
    let timeout = std::str::from_utf8(&args[args.len() - 1])
        .ok()
        .and_then(|t| t.parse::<f64>().ok())
        .filter(|t| t.is_finite() && *t >= 0.0);
    let Some(timeout) = timeout else {
        return Ok(Frame::Error(Bytes::from_static(
            b"ERR timeout is not a float or out of range",
        )));
    };
    match w.store.pop_first(&args[1..args.len() - 1]) {
        Some(reply) => {
            w.trace.note(&format!(
                "conn{id}: {} -> {}",
                show_args(args),
                show(&reply)
            ));
            w.log.push(Exec {
                conn: id,
                node: w.conns[id as usize - 1].node,
                epoch: w.epoch,
                args: args.to_vec(),
                reply: reply.clone(),
                tx: None,
                at: Instant::now(),
            });
            Ok(reply)
        }
        None => {
            w.trace
                .note(&format!("conn{id}: {} blocks", show_args(args)));
            w.blocked.push(Blocked {
                conn: id,
                args: args.to_vec(),
            });
            Err((timeout > 0.0).then(|| Instant::now() + Duration::from_secs_f64(timeout)))
        }
    }
}

/// After a write: the blocked connections whose lists it filled get their
/// elements, longest-blocked first; each is sent its reply by its own task.
fn serve_blocked(w: &mut Inner) {
    let mut i = 0;
    while i < w.blocked.len() {
        let keys = &w.blocked[i].args[1..w.blocked[i].args.len() - 1];
        let Some(reply) = w.store.pop_first(keys) else {
            i += 1;
            continue;
        };
        let b = w.blocked.remove(i);
        w.trace.note(&format!(
            "conn{}: {} -> {} (served by a push)",
            b.conn,
            show_args(&b.args),
            show(&reply)
        ));
        w.log.push(Exec {
            conn: b.conn,
            node: w.conns[b.conn as usize - 1].node,
            epoch: w.epoch,
            args: b.args,
            reply: reply.clone(),
            tx: None,
            at: Instant::now(),
        });
        let conn = &mut w.conns[b.conn as usize - 1];
        conn.popped = Some(reply);
        conn.poke.notify_one();
    }
}

/// Runs a pub/sub command (`SUBSCRIBE`, `UNSUBSCRIBE`, `PUBLISH`, and `PING`
/// on a subscribed RESP2 connection); false for any other command.
fn pubsub(w: &mut Inner, id: u64, session: &Session, args: &[Bytes], out: &mut BytesMut) -> bool {
    let name = args[0].to_ascii_uppercase();
    let bulk = |b: &[u8]| Frame::Bulk(Bytes::copy_from_slice(b));
    let mine = |w: &Inner| w.subs.values().filter(|s| s.contains(&id)).count() as i64;
    let mut replies = Vec::new();
    match &name[..] {
        b"SUBSCRIBE" => {
            for ch in &args[1..] {
                w.subs.entry(ch.clone()).or_default().insert(id);
                replies.push(Frame::Push(vec![
                    bulk(b"subscribe"),
                    Frame::Bulk(ch.clone()),
                    Frame::Integer(mine(w)),
                ]));
            }
        }
        b"UNSUBSCRIBE" => {
            let channels: Vec<Bytes> = if args.len() > 1 {
                args[1..].to_vec()
            } else {
                w.subs
                    .iter()
                    .filter(|(_, s)| s.contains(&id))
                    .map(|(c, _)| c.clone())
                    .collect()
            };
            for ch in channels {
                if let Some(s) = w.subs.get_mut(&ch) {
                    s.remove(&id);
                }
                w.subs.retain(|_, s| !s.is_empty());
                replies.push(Frame::Push(vec![
                    bulk(b"unsubscribe"),
                    Frame::Bulk(ch),
                    Frame::Integer(mine(w)),
                ]));
            }
        }
        b"PUBLISH" if args.len() == 3 => {
            let receivers: Vec<u64> = w
                .subs
                .get(&args[1])
                .map(|s| s.iter().copied().collect())
                .unwrap_or_default();
            for &r in &receivers {
                let conn = &mut w.conns[r as usize - 1];
                let message = Frame::Push(vec![
                    bulk(b"message"),
                    Frame::Bulk(args[1].clone()),
                    Frame::Bulk(args[2].clone()),
                ]);
                let mut bytes = BytesMut::new();
                model::encode(&message, conn.resp, &mut bytes);
                conn.outbox.push_back((bytes.freeze(), true));
                conn.poke.notify_one();
                let owner = conn.owner;
                w.routed.push(Routed {
                    conn: r,
                    owner,
                    channel: args[1].clone(),
                    payload: args[2].clone(),
                });
            }
            replies.push(Frame::Integer(receivers.len() as i64));
        }
        b"PING" if session.resp == 2 && mine(w) > 0 => {
            replies.push(Frame::Array(vec![bulk(b"pong"), bulk(b"")]));
        }
        _ => return false,
    }
    for reply in replies {
        w.trace.note(&format!(
            "conn{id}: {} -> {}",
            show_args(args),
            show(&reply)
        ));
        model::encode(&reply, session.resp, out);
    }
    true
}

/// A command's arguments, if the frame is an array of strings.
fn command(frame: Frame) -> Option<Vec<Bytes>> {
    let Frame::Array(items) = frame else {
        return None;
    };
    items
        .into_iter()
        .map(|f| match f {
            Frame::Bulk(b) | Frame::Simple(b) => Some(b),
            _ => None,
        })
        .collect::<Option<Vec<_>>>()
        .filter(|a| !a.is_empty())
}

/// A command for the trace (an argument over 64 bytes by its size).
pub fn show_args(args: &[Bytes]) -> String {
    args.iter()
        .map(|a| match a.len() {
            0..=64 => String::from_utf8_lossy(a).into_owned(),
            n => format!("<{n} bytes>"),
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// A reply for the trace.
pub fn show(frame: &Frame) -> String {
    match frame {
        Frame::Simple(b) => format!("+{}", String::from_utf8_lossy(b)),
        Frame::Error(b) => format!("-{}", String::from_utf8_lossy(b)),
        Frame::Integer(n) => format!(":{n}"),
        Frame::Bulk(b) => format!("\"{}\"", String::from_utf8_lossy(b)),
        Frame::Null => "nil".into(),
        Frame::Array(items) => format!(
            "[{}]",
            items.iter().map(show).collect::<Vec<_>>().join(", ")
        ),
        Frame::Map(_) => "{map}".into(),
        Frame::Push(items) => format!(
            ">[{}]",
            items.iter().map(show).collect::<Vec<_>>().join(", ")
        ),
        other => format!("{other:?}"),
    }
}
