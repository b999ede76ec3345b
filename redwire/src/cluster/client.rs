//! [`ClusterClient`]: one shared [`Client`] (one connection actor) per node,
//! and the routing between them.
//!
//! **Routing.** A command's keys (found with the server's own key
//! specifications) give its slot; the slot map gives the primary. A command
//! whose keys hash to different slots is refused before anything is sent,
//! naming the slots; one without keys goes to any primary.
//!
//! **Redirections.** `MOVED`: the map learns that slot's new owner at once,
//! the command is sent there, and the whole map is read again in the
//! background (one refresh at a time, however many `MOVED`s arrive). `ASK`:
//! `ASKING` and the command are written together to the target, and the map
//! is left alone. `TRYAGAIN` and `CLUSTERDOWN`: sent again after a backoff,
//! within the command's deadline. At most 16 redirections: a loop of them
//! ends in an error, not a spin.
//!
//! **Fan-out.** Commands about the whole cluster go to every primary at once
//! and their answers are combined: `DBSIZE` (summed), `KEYS` (the lists one
//! after the other), `FLUSHALL`, `FLUSHDB`, `SCRIPT LOAD`/`FLUSH`,
//! `FUNCTION LOAD`/`DELETE`/`FLUSH` and `PING` (the same answer from each, or
//! the first error).
//!
//! **Failures.** A request the node may have run (it was written, then the
//! connection dropped) fails with `may_have_executed`, as on one connection:
//! nothing is sent twice silently. One that certainly was not sent (the node
//! cannot be reached) makes the map be read again, from the other nodes or
//! the seeds, and is sent where the new map says. The map is also read again
//! every [`REFRESH_EVERY`] (30 s), for changes no request ran into.

use super::keys::CommandTable;
use super::slot::key_slot;
use super::topology::{NodeAddr, SlotMap};
use crate::client::Client;
use crate::cmd::{cmd, Cmd};
use crate::config::{Addr, Config};
use crate::error::{Error, ErrorKind, Result};
use crate::pipeline::Pipeline;
use crate::value::{FromValue, Value};
use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::Duration;

/// Redirections (and retries of an unreachable node) for one command
/// before giving up.
const MAX_REDIRECTS: u32 = 16;

/// How often the slot map is read again when nothing says it changed.
///
/// ```
/// assert_eq!(redwire::cluster::REFRESH_EVERY.as_secs(), 30);
/// ```
pub const REFRESH_EVERY: Duration = Duration::from_secs(30);

/// How a command that concerns the whole cluster is sent to every primary
/// and its answers combined into one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FanOut {
    /// `DBSIZE`: the sum.
    Sum,
    /// `KEYS`: every node's list, one after the other.
    Concat,
    /// `FLUSHALL`, `FLUSHDB`, `SCRIPT LOAD`/`FLUSH`, `FUNCTION LOAD`/`DELETE`/`FLUSH`,
    /// `PING`: the same answer from every node, or the first error.
    Same,
}

/// The commands that fan out (the docs of [`ClusterClient`] list them).
fn fan_out(cmd: &Cmd) -> Option<FanOut> {
    let mut args = cmd.args_iter();
    let name = args.next()?;
    let is = |word: &[u8]| name.eq_ignore_ascii_case(word);
    let sub_in = |words: &[&[u8]]| {
        cmd.args_iter()
            .nth(1)
            .is_some_and(|s| words.iter().any(|w| s.eq_ignore_ascii_case(w)))
    };
    let whole_cluster = is(b"FLUSHALL")
        || is(b"FLUSHDB")
        || is(b"PING")
        || (is(b"SCRIPT") && sub_in(&[b"LOAD", b"FLUSH"]))
        || (is(b"FUNCTION") && sub_in(&[b"LOAD", b"DELETE", b"FLUSH"]));
    if is(b"DBSIZE") {
        Some(FanOut::Sum)
    } else if is(b"KEYS") {
        Some(FanOut::Concat)
    } else {
        whole_cluster.then_some(FanOut::Same)
    }
}

/// A Redis Cluster client: the typed API and the raw path, routed by slot.
///
/// ```no_run
/// # async fn demo() -> redwire::Result<()> {
/// use redwire::prelude::*;
/// use redwire::cluster::ClusterClient;
///
/// let cluster = ClusterClient::connect(vec!["redis://10.0.0.1:7000".parse()?]).await?;
/// cluster.set("user:1", "Ada").await?;
/// let name: Option<String> = cluster.get("user:1").await?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct ClusterClient {
    inner: Arc<Inner>,
}

struct Inner {
    /// The first seed's configuration: credentials, timeouts, TLS; each
    /// node's client gets it with the node's address.
    template: Config,
    seeds: Vec<Config>,
    read_from: ReadFrom,
    /// Turns of round-robin reads.
    turn: std::sync::atomic::AtomicUsize,
    state: RwLock<State>,
    /// One refresh of the map at a time.
    refreshing: tokio::sync::Mutex<()>,
}

struct State {
    map: SlotMap,
    /// One client per node, and one more per replica read from (`READONLY`).
    nodes: HashMap<(NodeAddr, bool), Client>,
    commands: Arc<CommandTable>,
}

impl std::fmt::Debug for ClusterClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = self.inner.state.read().unwrap_or_else(|e| e.into_inner());
        f.debug_struct("ClusterClient")
            .field("primaries", &state.map.primaries().len())
            .field("connections", &state.nodes.len())
            .finish()
    }
}

/// Where read-only commands go (`GET`, `HGETALL`…: the server's `readonly`
/// flag); everything else goes to the primary.
///
/// ```no_run
/// # async fn demo() -> redwire::Result<()> {
/// use redwire::cluster::{ClusterClient, ReadFrom};
/// let seeds = vec!["redis://10.0.0.1:7000".parse()?];
/// let cluster = ClusterClient::connect_with(seeds, ReadFrom::PreferReplica).await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ReadFrom {
    /// The primary: every read sees every acknowledged write.
    #[default]
    Primary,
    /// A replica of the slot when it has one (reads may lag the writes).
    PreferReplica,
    /// The primary and its replicas in turn.
    RoundRobin,
}

/// Where a command goes.
enum Route {
    Slot(u16),
    AnyPrimary,
}

impl ClusterClient {
    /// Connects to the first seed that answers, reads the slot map and the
    /// server's commands; fails with the last seed's error when none does.
    pub async fn connect(seeds: Vec<Config>) -> Result<ClusterClient> {
        ClusterClient::connect_with(seeds, ReadFrom::Primary).await
    }

    /// Connects with the seeds of a URL that lists several hosts, each with
    /// the URL's credentials and options:
    /// `redis://[user:password@]h1:7000,h2:7001[/db][?options]` (or
    /// `rediss://` for TLS to every node).
    ///
    /// ```no_run
    /// # async fn demo() -> redwire::Result<()> {
    /// use redwire::cluster::ClusterClient;
    /// let cluster = ClusterClient::connect_url("redis://:secret@10.0.0.1:7000,10.0.0.2:7000").await?;
    /// # Ok(()) }
    /// ```
    pub async fn connect_url(url: &str) -> Result<ClusterClient> {
        ClusterClient::connect(crate::config::parse_seeds(url)?).await
    }

    /// Like [`connect`](Self::connect), reading from replicas as `read_from`
    /// says. A replica's connection asks it to serve reads (`READONLY`);
    /// after a failover the roles are read again with the map.
    pub async fn connect_with(seeds: Vec<Config>, read_from: ReadFrom) -> Result<ClusterClient> {
        let Some(template) = seeds.first().cloned() else {
            return Err(Error::config(
                "a cluster client needs at least one seed address",
            ));
        };
        let inner = Arc::new(Inner {
            template,
            seeds,
            read_from,
            turn: std::sync::atomic::AtomicUsize::new(0),
            state: RwLock::new(State {
                map: SlotMap::default(),
                nodes: HashMap::new(),
                commands: Arc::new(CommandTable::default()),
            }),
            refreshing: tokio::sync::Mutex::new(()),
        });
        let client = ClusterClient { inner };
        client.refresh(true).await?;
        client.refresh_periodically();
        Ok(client)
    }

    /// Reads the map again every [`REFRESH_EVERY`], for changes nobody was
    /// told about (no request hit a moved slot); ends with the last handle.
    fn refresh_periodically(&self) {
        let weak = Arc::downgrade(&self.inner);
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(REFRESH_EVERY).await;
                let Some(inner) = weak.upgrade() else { return };
                let _ = ClusterClient { inner }.refresh(false).await;
            }
        });
    }

    /// Reads the slot map again, from a known primary or else a seed.
    /// `commands`: also read the command table.
    async fn refresh(&self, commands: bool) -> Result<()> {
        let _one_at_a_time = self.inner.refreshing.lock().await;
        let mut sources: Vec<Config> = {
            let state = self.inner.state.read().unwrap_or_else(|e| e.into_inner());
            state
                .map
                .primaries()
                .into_iter()
                .map(|a| self.node_config(a))
                .collect()
        };
        sources.extend(self.inner.seeds.iter().cloned());
        let mut last_error = None;
        for source in sources {
            let host = match source.addr() {
                Addr::Tcp { host, .. } => host.clone(),
                Addr::Unix(_) => String::new(),
            };
            let tls = source.is_tls();
            let attempt = async {
                let client = Client::connect(source).await?;
                let map = match client.send(&cmd("CLUSTER").arg("SHARDS")).await {
                    Ok(reply) => SlotMap::from_shards(reply, &host, tls)?,
                    Err(e) if e.kind() == ErrorKind::Server => {
                        // Before Redis 7.
                        SlotMap::from_slots(
                            client.send(&cmd("CLUSTER").arg("SLOTS")).await?,
                            &host,
                        )?
                    }
                    Err(e) => return Err(e),
                };
                let table = if commands {
                    Some(CommandTable::from_command_reply(
                        client.send(&cmd("COMMAND")).await?,
                    )?)
                } else {
                    None
                };
                Ok((map, table))
            };
            match attempt.await {
                Ok((map, table)) if map.is_complete() || last_error.is_none() => {
                    let mut state = self.inner.state.write().unwrap_or_else(|e| e.into_inner());
                    state.map = map;
                    if let Some(table) = table {
                        state.commands = Arc::new(table);
                    }
                    return Ok(());
                }
                Ok(_) => {}
                Err(e) => last_error = Some(e),
            }
        }
        Err(last_error.unwrap_or_else(|| Error::new(ErrorKind::Io, "no cluster node answered")))
    }

    /// A node's configuration: the template with the node's address.
    fn node_config(&self, addr: &NodeAddr) -> Config {
        let mut config = self.inner.template.clone();
        config.addr = Addr::Tcp {
            host: addr.host.clone(),
            port: addr.port,
        };
        // A request for a node that is down comes back at once, unsent, and
        // is routed again by a fresh map.
        config.fail_fast = true;
        config
    }

    /// The shared client of a node, made on first use.
    fn node(&self, addr: &NodeAddr) -> Client {
        self.node_for(addr, false)
    }

    /// The shared client of a node; `replica_reads`: one that has asked a
    /// replica to serve reads.
    fn node_for(&self, addr: &NodeAddr, replica_reads: bool) -> Client {
        let key = (addr.clone(), replica_reads);
        if let Some(c) = self
            .inner
            .state
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .nodes
            .get(&key)
        {
            return c.clone();
        }
        let mut state = self.inner.state.write().unwrap_or_else(|e| e.into_inner());
        state
            .nodes
            .entry(key)
            .or_insert_with(|| {
                let mut config = self.node_config(addr);
                config.replica_reads = replica_reads;
                Client::new(config)
            })
            .clone()
    }

    /// A replica to read `cmd` from, when the policy and the map say so.
    fn replica_for(&self, cmd: &Cmd, route: &Route) -> Option<NodeAddr> {
        let Route::Slot(slot) = route else {
            return None;
        };
        if self.inner.read_from == ReadFrom::Primary {
            return None;
        }
        let state = self.inner.state.read().unwrap_or_else(|e| e.into_inner());
        let args: Vec<&[u8]> = cmd.args_iter().collect();
        if !state.commands.is_readonly(&args) {
            return None;
        }
        let replicas = state.map.replicas(*slot);
        if replicas.is_empty() {
            return None;
        }
        let turn = self
            .inner
            .turn
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        match self.inner.read_from {
            ReadFrom::PreferReplica => Some(replicas[turn % replicas.len()].clone()),
            // The primary has the last turn of each round.
            ReadFrom::RoundRobin => replicas.get(turn % (replicas.len() + 1)).cloned(),
            ReadFrom::Primary => None,
        }
    }

    /// Where `cmd` goes, or why it cannot go anywhere.
    fn route(&self, cmd: &Cmd) -> Result<Route> {
        let commands = self
            .inner
            .state
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .commands
            .clone();
        let args: Vec<&[u8]> = cmd.args_iter().collect();
        let slot = one_slot(
            commands.keys(&args).into_iter().map(key_slot),
            |first, s| {
                format!(
                    "{} has keys in different slots ({first} and {s}): in a cluster, \
                 keys used together must share a slot (use a {{hash tag}})",
                    cmd.name()
                )
            },
        )?;
        Ok(slot.map_or(Route::AnyPrimary, Route::Slot))
    }

    /// The primary for a route, reading the map again if it has a hole.
    async fn primary_for(&self, route: &Route) -> Result<NodeAddr> {
        for attempt in 0..2 {
            {
                let state = self.inner.state.read().unwrap_or_else(|e| e.into_inner());
                let found = match route {
                    Route::Slot(slot) => state.map.primary(*slot).cloned(),
                    Route::AnyPrimary => state.map.primaries().first().map(|a| (*a).clone()),
                };
                if let Some(addr) = found {
                    return Ok(addr);
                }
            }
            if attempt == 0 {
                self.refresh(false).await?;
            }
        }
        Err(Error::new(
            ErrorKind::Server,
            "CLUSTERDOWN no node serves the slot of this command",
        ))
    }

    /// Sends one command where it belongs, following redirections.
    ///
    /// ```no_run
    /// # async fn demo(cluster: redwire::cluster::ClusterClient) -> redwire::Result<()> {
    /// let reply = cluster.send(&redwire::cmd("INCR").arg("visits")).await?;
    /// # Ok(()) }
    /// ```
    pub async fn send(&self, cmd: &Cmd) -> Result<Value> {
        // The configured deadline bounds the whole of it: redirections,
        // retries and refreshes included.
        match self.inner.template.command_timeout {
            None => self.send_routed(cmd).await,
            Some(limit) => tokio::time::timeout(limit, self.send_routed(cmd))
                .await
                .unwrap_or_else(|_| {
                    Err(Error::deadline(format!(
                        "{} got no answer from the cluster within the deadline of {limit:?}",
                        cmd.name()
                    )))
                }),
        }
    }

    async fn send_routed(&self, cmd: &Cmd) -> Result<Value> {
        cmd.check_shareable()?;
        if cmd
            .args_iter()
            .next()
            .is_some_and(|n| n.eq_ignore_ascii_case(b"SCAN"))
        {
            return Err(Error::new(
                ErrorKind::Unsupported,
                "SCAN on a cluster would see one node's keys: use ClusterClient::scan_cluster, \
                 which scans every primary",
            ));
        }
        if let Some(how) = fan_out(cmd) {
            return self.send_to_every_primary(cmd, how).await;
        }
        let route = self.route(cmd)?;
        if let Some(replica) = self.replica_for(cmd, &route) {
            match self.node_for(&replica, true).send(cmd).await {
                // A replica that cannot serve it (down, or no longer a
                // replica of this slot): the primary will. (A read is safe
                // to send again.)
                Err(e) if e.kind() != ErrorKind::Server || e.code() == Some("MOVED") => {}
                other => return other,
            }
        }
        let mut target = self.primary_for(&route).await?;
        let mut asking = false;
        let mut backoff = Duration::from_millis(10);
        for _ in 0..=MAX_REDIRECTS {
            let node = self.node(&target);
            let reply = if asking {
                let mut p = Pipeline::new();
                p.add(crate::cmd::cmd("ASKING")).push(cmd);
                node.pipeline(&p)
                    .await
                    .and_then(|mut r| r.pop().unwrap_or_else(|| Err(Error::protocol("no reply"))))
            } else {
                node.send(cmd).await
            };
            asking = false;
            let err = match reply {
                Ok(value) => return Ok(value),
                Err(e) => e,
            };
            match err.code() {
                Some("MOVED") => {
                    let (slot, addr) = redirection(&err, &target)?;
                    {
                        let mut state = self.inner.state.write().unwrap_or_else(|e| e.into_inner());
                        state.map.moved(slot, addr.clone());
                    }
                    self.refresh_in_background();
                    target = addr;
                }
                Some("ASK") => {
                    let (_, addr) = redirection(&err, &target)?;
                    target = addr;
                    asking = true;
                }
                Some("TRYAGAIN") | Some("CLUSTERDOWN") => {
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(Duration::from_millis(500));
                    if err.code() == Some("CLUSTERDOWN") {
                        self.refresh(false).await.ok();
                        target = self.primary_for(&route).await?;
                    }
                }
                _ if matches!(
                    err.kind(),
                    ErrorKind::Io
                        | ErrorKind::NotConnected
                        | ErrorKind::Closed
                        | ErrorKind::Timeout
                ) && !err.may_have_executed() =>
                {
                    // Certainly not run: find where the slot lives now (a
                    // replica may be taking over), after a pause.
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(Duration::from_millis(500));
                    let _ = self.refresh(false).await;
                    target = self.primary_for(&route).await?;
                }
                _ => return Err(err),
            }
        }
        Err(Error::new(
            ErrorKind::Protocol,
            format!(
                "{} was redirected more than {MAX_REDIRECTS} times; the cluster keeps moving its slot",
                cmd.name()
            ),
        ))
    }

    /// Sends a pipeline: its entries go to their nodes, each node's share as
    /// one pipeline, all nodes at once; the results come back in the
    /// pipeline's order. An entry redirected (`MOVED`, `ASK`, `TRYAGAIN`:
    /// it did not run) is sent again alone. A transaction
    /// ([`atomic`](Pipeline::atomic)) must have all its keys in one slot and
    /// runs on that slot's node.
    ///
    /// ```no_run
    /// # async fn demo(cluster: redwire::cluster::ClusterClient) -> redwire::Result<()> {
    /// use redwire::prelude::*;
    /// let mut p = Pipeline::new();
    /// let a = p.incr("a");
    /// let b = p.incr("b"); // another slot, maybe another node
    /// let mut results = cluster.pipeline(&p).await?;
    /// let (a, b) = (a.take(&mut results)?, b.take(&mut results)?);
    /// # Ok(()) }
    /// ```
    pub async fn pipeline(&self, pipeline: &Pipeline) -> Result<Vec<Result<Value>>> {
        if pipeline.is_empty() {
            return Ok(Vec::new());
        }
        pipeline.check_shared()?;
        let entries = pipeline.entries();
        if pipeline.is_atomic() {
            return self.atomic_pipeline(pipeline, &entries).await;
        }
        // Entries by node, in order.
        let mut by_node: HashMap<NodeAddr, Vec<usize>> = HashMap::new();
        let mut results: Vec<Option<Result<Value>>> = (0..entries.len()).map(|_| None).collect();
        for (i, entry) in entries.iter().enumerate() {
            match self.route(entry) {
                Ok(route) => match self.primary_for(&route).await {
                    Ok(addr) => by_node.entry(addr).or_default().push(i),
                    Err(e) => results[i] = Some(Err(e)),
                },
                Err(e) => results[i] = Some(Err(e)),
            }
        }
        let sends: Vec<_> = by_node
            .into_iter()
            .map(|(addr, indices)| {
                let node = self.node(&addr);
                let mut part = Pipeline::new();
                for &i in &indices {
                    part.push(&entries[i]);
                }
                tokio::spawn(async move { (indices, node.pipeline(&part).await) })
            })
            .collect();
        for send in sends {
            let (indices, outcome) = send
                .await
                .map_err(|e| Error::protocol(format!("a pipeline's task failed: {e}")))?;
            match outcome {
                Ok(values) => {
                    for (i, value) in indices.into_iter().zip(values) {
                        results[i] = Some(value);
                    }
                }
                Err(e) => {
                    for i in indices {
                        results[i] = Some(Err(e.clone()));
                    }
                }
            }
        }
        let mut out = Vec::with_capacity(results.len());
        for (i, result) in results.into_iter().enumerate() {
            let result =
                result.unwrap_or_else(|| Err(Error::protocol("a pipeline entry got no result")));
            let redirected = matches!(&result, Err(e) if matches!(e.code(), Some("MOVED" | "ASK" | "TRYAGAIN" | "CLUSTERDOWN")))
                || matches!(&result, Err(e) if e.kind() == ErrorKind::NotConnected);
            out.push(if redirected {
                self.send(&entries[i]).await
            } else {
                result
            });
        }
        Ok(out)
    }

    /// A transaction on the node of its one slot; sent again (whole) when
    /// the slot moved, since then nothing of it ran.
    async fn atomic_pipeline(
        &self,
        pipeline: &Pipeline,
        entries: &[Cmd],
    ) -> Result<Vec<Result<Value>>> {
        let mut slots = Vec::with_capacity(entries.len());
        for entry in entries {
            if let Route::Slot(s) = self.route(entry)? {
                slots.push(s);
            }
        }
        let slot = one_slot(slots.into_iter(), |first, s| {
            format!(
                "a transaction's keys are in different slots ({first} and {s}): \
                 in a cluster a transaction runs on one node; use a {{hash tag}}"
            )
        })?;
        let route = slot.map_or(Route::AnyPrimary, Route::Slot);
        let mut last = None;
        for _ in 0..3 {
            let node = self.node(&self.primary_for(&route).await?);
            match node.pipeline(pipeline).await {
                Err(e) if e.message().contains("MOVED") || e.message().contains("ASK") => {
                    self.refresh(false).await?;
                    last = Some(e);
                }
                other => return other,
            }
        }
        Err(last.unwrap_or_else(|| Error::protocol("the transaction's slot kept moving")))
    }

    /// Sends `cmd` to every primary at once and combines the answers.
    async fn send_to_every_primary(&self, cmd: &Cmd, how: FanOut) -> Result<Value> {
        let primaries: Vec<NodeAddr> = {
            let state = self.inner.state.read().unwrap_or_else(|e| e.into_inner());
            state.map.primaries().into_iter().cloned().collect()
        };
        let sends: Vec<_> = primaries
            .iter()
            .map(|addr| {
                let (node, cmd) = (self.node(addr), cmd.clone());
                tokio::spawn(async move { node.send(&cmd).await })
            })
            .collect();
        let mut answers = Vec::with_capacity(sends.len());
        for send in sends {
            answers.push(
                send.await
                    .map_err(|e| Error::protocol(format!("a fan-out task failed: {e}")))??,
            );
        }
        match how {
            FanOut::Sum => {
                let mut total = 0i64;
                for a in answers {
                    total += i64::from_value(a)?;
                }
                Ok(Value::Int(total))
            }
            FanOut::Concat => {
                let mut all = Vec::new();
                for a in answers {
                    all.extend(Vec::<Value>::from_value(a)?);
                }
                Ok(Value::Array(all))
            }
            FanOut::Same => Ok(answers.into_iter().next().unwrap_or(Value::Nil)),
        }
    }

    /// `SCAN` over every primary, as a stream (see [`ClusterScan`](super::ClusterScan)).
    pub fn scan_cluster<T: FromValue + Send + 'static>(
        &self,
        options: crate::commands::ScanOptions,
    ) -> super::ClusterScan<T> {
        let primaries: Vec<NodeAddr> = {
            let state = self.inner.state.read().unwrap_or_else(|e| e.into_inner());
            state.map.primaries().into_iter().cloned().collect()
        };
        let nodes = primaries.iter().map(|a| self.node(a)).collect();
        super::ClusterScan::new(nodes, options)
    }

    /// A dedicated connection to the primary of `key`'s slot: for what needs a
    /// connection of its own on a cluster (blocking commands, `WATCH`).
    /// It is not redirected: if the slot moves, its commands answer `MOVED`.
    ///
    /// ```no_run
    /// # async fn demo(cluster: redwire::cluster::ClusterClient) -> redwire::Result<()> {
    /// use redwire::prelude::*;
    /// let mut conn = cluster.connection_for("{jobs}:queue").await?;
    /// let job: Option<(String, String)> = conn.blpop(["{jobs}:queue"], 1.0).await?;
    /// # Ok(()) }
    /// ```
    pub async fn connection_for(&self, key: impl crate::cmd::ToArg) -> Result<crate::Connection> {
        let mut keys = Cmd::new();
        key.write_args(&mut keys);
        let slot = keys
            .args_iter()
            .next()
            .map(key_slot)
            .ok_or_else(|| Error::config("connection_for needs a key"))?;
        let addr = self.primary_for(&Route::Slot(slot)).await?;
        let mut config = self.node_config(&addr);
        config.fail_fast = false;
        crate::Connection::connect(config).await
    }

    /// An optimistic transaction (`WATCH`, your reads, your writes as
    /// `MULTI`/`EXEC`, again when a watched key changed) on the node of its
    /// keys, which must share one slot; see
    /// [`Connection::transaction`](crate::Connection::transaction).
    ///
    /// ```no_run
    /// # async fn demo(cluster: redwire::cluster::ClusterClient) -> redwire::Result<()> {
    /// use redwire::prelude::*;
    /// cluster
    ///     .transaction(["{acct}:a", "{acct}:b"], |conn| {
    ///         Box::pin(async {
    ///             let a: i64 = conn.get::<Option<i64>>("{acct}:a").await?.unwrap_or(0);
    ///             let mut writes = Pipeline::new();
    ///             writes.decr_by("{acct}:a", a);
    ///             writes.incr_by("{acct}:b", a);
    ///             Ok(writes)
    ///         })
    ///     })
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub async fn transaction<'data, F>(
        &self,
        keys: impl crate::cmd::ToArg,
        body: F,
    ) -> Result<Vec<Result<Value>>>
    where
        F: for<'c> FnMut(&'c mut crate::Connection) -> crate::Attempt<'c, 'data>,
    {
        self.transaction_with(keys, crate::TransactionRetry::DEFAULT, body)
            .await
    }

    /// Like [`transaction`](Self::transaction) with a retry policy of your
    /// own; see [`Connection::transaction_with`](crate::Connection::transaction_with).
    ///
    /// ```no_run
    /// # async fn demo(cluster: redwire::cluster::ClusterClient) -> redwire::Result<()> {
    /// use redwire::prelude::*;
    /// let retry = redwire::TransactionRetry::default().attempts(50);
    /// cluster
    ///     .transaction_with("{acct}:a", retry, |conn| {
    ///         Box::pin(async {
    ///             let a: i64 = conn.get::<Option<i64>>("{acct}:a").await?.unwrap_or(0);
    ///             let mut writes = Pipeline::new();
    ///             writes.set("{acct}:a", a + 1);
    ///             Ok(writes)
    ///         })
    ///     })
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub async fn transaction_with<'data, F>(
        &self,
        keys: impl crate::cmd::ToArg,
        retry: crate::TransactionRetry,
        body: F,
    ) -> Result<Vec<Result<Value>>>
    where
        F: for<'c> FnMut(&'c mut crate::Connection) -> crate::Attempt<'c, 'data>,
    {
        let mut list = Cmd::new();
        keys.write_args(&mut list);
        let slots: Vec<u16> = list.args_iter().map(key_slot).collect();
        let Some(&first) = slots.first() else {
            return Err(Error::config(
                "a transaction needs at least one key to watch",
            ));
        };
        if let Some(other) = slots.iter().find(|&&s| s != first) {
            return Err(Error::new(
                ErrorKind::Unsupported,
                format!(
                    "a transaction's keys are in different slots ({first} and {other}): \
                     in a cluster a transaction runs on one node; use a {{hash tag}}"
                ),
            ));
        }
        let keys: Vec<Vec<u8>> = list.args_iter().map(<[u8]>::to_vec).collect();
        let mut conn = self.connection_for(&keys[0]).await?;
        conn.transaction_with(&keys, retry, body).await
    }

    /// Reads the map again in the background, unless a refresh is running.
    fn refresh_in_background(&self) {
        if self.inner.refreshing.try_lock().is_err() {
            return;
        }
        let me = self.clone();
        tokio::spawn(async move {
            let _ = me.refresh(false).await;
        });
    }
}

/// What the cluster's subscriber needs of the client: the map, and each
/// node's configuration.
impl ClusterClient {
    /// Reads the slot map again now (one refresh at a time).
    pub(crate) async fn refresh_map(&self) -> Result<()> {
        self.refresh(false).await
    }

    /// The primary that serves `slot` by the map, reading it again if the
    /// map has a hole.
    pub(crate) async fn owner(&self, slot: u16) -> Result<NodeAddr> {
        self.primary_for(&Route::Slot(slot)).await
    }

    /// Some primary, for what any node can serve.
    pub(crate) async fn any_primary(&self) -> Result<NodeAddr> {
        self.primary_for(&Route::AnyPrimary).await
    }

    /// Every primary in the map.
    pub(crate) fn primaries(&self) -> Vec<NodeAddr> {
        let state = self.inner.state.read().unwrap_or_else(|e| e.into_inner());
        state.map.primaries().into_iter().cloned().collect()
    }

    /// Learns from a `MOVED` error where its slot went, and reads the whole
    /// map again in the background; the new owner, or `None` for another
    /// error.
    pub(crate) fn follow_moved(&self, err: &Error, from: &NodeAddr) -> Option<NodeAddr> {
        if err.code() != Some("MOVED") {
            return None;
        }
        let (slot, addr) = redirection(err, from).ok()?;
        self.inner
            .state
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .map
            .moved(slot, addr.clone());
        self.refresh_in_background();
        Some(addr)
    }

    /// The configuration of a subscriber's connection to a node: like the
    /// node's client, but waiting through outages (a subscription is made
    /// again after a reconnect) instead of failing fast.
    pub(crate) fn subscriber_config(&self, addr: &NodeAddr) -> Config {
        let mut config = self.node_config(addr);
        config.fail_fast = false;
        config
    }

    /// How long one step of a subscription change may take: the configured
    /// command timeout, or 5 s.
    pub(crate) fn step_timeout(&self) -> Duration {
        self.inner
            .template
            .command_timeout
            .unwrap_or(Duration::from_secs(5))
    }
}

/// The one slot all of `slots` are in (`None` for none), or an error that
/// `why` words from the first two that differ.
fn one_slot(
    mut slots: impl Iterator<Item = u16>,
    why: impl FnOnce(u16, u16) -> String,
) -> Result<Option<u16>> {
    let Some(first) = slots.next() else {
        return Ok(None);
    };
    match slots.find(|s| *s != first) {
        Some(other) => Err(Error::new(ErrorKind::Unsupported, why(first, other))),
        None => Ok(Some(first)),
    }
}

/// The slot and address of a `MOVED` or `ASK` error.
fn redirection(err: &Error, from: &NodeAddr) -> Result<(u16, NodeAddr)> {
    let mut words = err.message().split_whitespace().skip(1);
    let slot = words.next().and_then(|s| s.parse().ok());
    let addr = words.next().and_then(|a| NodeAddr::parse(a, &from.host));
    match (slot, addr) {
        (Some(slot), Some(addr)) => Ok((slot, addr)),
        _ => Err(Error::protocol(format!(
            "a redirection that cannot be read: {}",
            err.message()
        ))),
    }
}

/// Typed commands on a cluster: each a boxed future (routing and
/// redirections make it more than one round trip).
impl<'a> crate::commands::Commands for &'a ClusterClient {
    type Reply<T: crate::value::FromValue> =
        std::pin::Pin<Box<dyn std::future::Future<Output = Result<T>> + Send + 'a>>;

    fn command<T: crate::value::FromValue>(self, cmd: Cmd) -> Self::Reply<T> {
        Box::pin(async move { T::from_value(self.send(&cmd).await?) })
    }

    fn script<T: crate::value::FromValue>(
        self,
        call: crate::commands::ScriptCall,
    ) -> Self::Reply<T> {
        Box::pin(async move {
            match self.send(&call.evalsha()).await {
                Err(e) if e.code() == Some("NOSCRIPT") => {
                    T::from_value(self.send(&call.eval()).await?)
                }
                other => T::from_value(other?),
            }
        })
    }
}
