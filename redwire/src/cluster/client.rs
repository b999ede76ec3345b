//! [`ClusterClient`]: one shared [`Client`] (one connection actor) per node,
//! and the routing between them. The slot map and the node connections are
//! kept up to date in `refresh`.
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
//! is left alone. At most [`max_redirects`](ClusterConfigBuilder::max_redirects)
//! of them (16): a loop of redirections ends in an error of kind
//! [`ErrorKind::Cluster`], not a spin.
//!
//! **Waiting for the cluster to heal.** A slot with no owner in the map (a
//! primary failed and no replica has taken over yet), a node that cannot be
//! reached (the request certainly was not sent), `TRYAGAIN` and
//! `CLUSTERDOWN` are all the same case: pause ([`ClusterRetry`]), read the
//! map again (one refresh at a time, through the nodes' existing
//! connections; a refresh that finished during the pause is not repeated),
//! and send the request where the map says now, all within the command's
//! deadline. Only when the deadline passes does the caller get an error,
//! of kind `Timeout`, saying what it waited for
//! ([`Error::cluster_reason`]). Without a deadline a request gives up after
//! [`ClusterRetry::max_attempts`] pauses; with
//! [`fail_fast`](ClusterConfigBuilder::fail_fast) it does not wait at all,
//! but the map is read again in the background all the same (a primary that
//! failed over says nothing, not even `MOVED`: without it a fail-fast
//! client would go on sending to the lost node until the periodic refresh).
//!
//! **Fan-out.** Commands about the whole cluster go to every primary at once
//! and their answers are combined: `DBSIZE` (summed), `KEYS` (the lists one
//! after the other), `FLUSHALL`, `FLUSHDB`, `SCRIPT LOAD`/`FLUSH`,
//! `FUNCTION LOAD`/`DELETE`/`FLUSH` and `PING` (the same answer from each, or
//! the first error).
//!
//! **Failures.** A request the node may have run (it was written, then the
//! connection dropped) fails with `may_have_executed`, as on one connection:
//! nothing is sent twice silently.

#[cfg(doc)]
use super::config::ClusterConfigBuilder;
use super::config::{ClusterConfig, ClusterRetry, ReadFrom};
use super::events::{ClusterEvent, ClusterState};
use super::keys::CommandTable;
use super::slot::key_slot;
use super::topology::{NodeAddr, SlotMap};
use crate::client::Client;
use crate::cmd::Cmd;
use crate::config::{Addr, Config};
use crate::error::{ClusterReason, Error, ErrorKind, Result};
use crate::pipeline::Pipeline;
use crate::value::{FromValue, Value};
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;
use tokio::sync::broadcast;

/// How often the slot map is read again when nothing says it changed, by
/// default ([`ClusterConfigBuilder::refresh_interval`]).
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
/// Its `Debug` shows the slot map's shape (nodes, roles, slot ranges, the
/// state of each connection), never credentials.
///
/// ```no_run
/// # async fn demo() -> redwire::Result<()> {
/// use redwire::prelude::*;
/// use redwire::cluster::ClusterClient;
///
/// let cluster = ClusterClient::connect_url("redis://10.0.0.1:7000,10.0.0.2:7000?command_timeout=2").await?;
/// cluster.set("user:1", "Ada").await?;
/// let name: Option<String> = cluster.get("user:1").await?;
/// println!("{cluster:?}");
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct ClusterClient {
    pub(super) inner: Arc<Inner>,
}

pub(super) struct Inner {
    pub(super) config: ClusterConfig,
    /// The seeds' addresses, asked when no node of the map answers.
    pub(super) seeds: Vec<NodeAddr>,
    /// Turns of round-robin reads.
    turn: AtomicUsize,
    pub(super) state: RwLock<State>,
    /// One refresh of the map at a time.
    pub(super) refreshing: tokio::sync::Mutex<()>,
    /// Refreshes finished so far: a caller that saw this number before a
    /// pause does not read the map again if it moved meanwhile.
    pub(super) generation: AtomicU64,
    pub(super) events: broadcast::Sender<ClusterEvent>,
    /// The router's metrics (nothing without the `metrics` feature).
    pub(super) meter: crate::telemetry::meter::ClusterMeter,
}

pub(super) struct State {
    pub(super) map: SlotMap,
    /// One client per node, and one more per replica read from (`READONLY`).
    pub(super) nodes: HashMap<(NodeAddr, bool), Client>,
    pub(super) commands: Arc<CommandTable>,
}

impl std::fmt::Debug for ClusterClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClusterClient")
            .field("state", &self.state())
            .finish()
    }
}

/// Where a command goes.
pub(super) enum Route {
    Slot(u16),
    AnyPrimary,
}

/// What a request is doing, for the error its deadline gives: whether a
/// node has it (so it may run) and what it last waited for.
#[derive(Default)]
struct Progress {
    sent: AtomicBool,
    waited_for: Mutex<Option<Error>>,
}

impl Progress {
    fn deadline_error(&self, name: &str, limit: Duration) -> Error {
        let sent = self.sent.load(Ordering::Relaxed);
        let waited = self
            .waited_for
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        let mut message =
            format!("{name} got no answer from the cluster within the deadline of {limit:?}");
        if sent {
            message.push_str("; it was in a node's hands, so it may have executed");
        }
        if let Some(obstacle) = &waited {
            message.push_str(&format!(
                "; {} waiting for the cluster: {obstacle}",
                if sent { "before that it was" } else { "it was" }
            ));
        }
        let reason = waited.as_ref().and_then(Error::cluster_reason);
        Error::cluster_deadline(message, sent, reason, waited)
    }
}

impl ClusterClient {
    /// Connects to the first seed that answers, reads the slot map and the
    /// server's commands; fails with the last seed's error when none does
    /// (refused, wrong password…). A [`Config`] is a configuration with one
    /// seed; a [`ClusterConfig`] holds several and the cluster's own knobs.
    ///
    /// ```no_run
    /// # async fn demo() -> redwire::Result<()> {
    /// use redwire::cluster::{ClusterClient, ClusterConfig};
    /// let one_seed = ClusterClient::connect(redwire::Config::from_url("redis://10.0.0.1:7000")?).await?;
    /// let config = ClusterConfig::builder()
    ///     .seed("10.0.0.1", 7000)
    ///     .seed("10.0.0.2", 7000)
    ///     .node(redwire::Config::builder().password("secret").build())
    ///     .build();
    /// let cluster = ClusterClient::connect(config).await?;
    /// # Ok(()) }
    /// ```
    pub async fn connect(config: impl Into<ClusterConfig>) -> Result<ClusterClient> {
        let config = config.into();
        let seeds = config
            .checked()?
            .into_iter()
            .map(|(host, port)| NodeAddr { host, port })
            .collect::<Vec<_>>();
        let meter = crate::telemetry::meter::ClusterMeter::new(
            seeds
                .first()
                .map(|s| crate::Addr::Tcp {
                    host: s.host.clone(),
                    port: s.port,
                })
                .as_ref(),
        );
        let refresh_interval = config.refresh_interval;
        let inner = Arc::new(Inner {
            meter,
            config,
            seeds,
            turn: AtomicUsize::new(0),
            state: RwLock::new(State {
                map: SlotMap::default(),
                nodes: HashMap::new(),
                commands: Arc::new(CommandTable::default()),
            }),
            refreshing: tokio::sync::Mutex::new(()),
            generation: AtomicU64::new(0),
            events: broadcast::Sender::new(256),
        });
        let client = ClusterClient { inner };
        client.refresh(true).await?;
        if let Some(every) = refresh_interval {
            client.refresh_periodically(every);
        }
        Ok(client)
    }

    /// Connects with a seed list URL (see [`ClusterConfig::from_url`] for its
    /// options): `redis://[user:password@]h1:7000,h2:7001[/db][?options]`.
    ///
    /// ```no_run
    /// # async fn demo() -> redwire::Result<()> {
    /// use redwire::cluster::ClusterClient;
    /// let cluster = ClusterClient::connect_url(
    ///     "redis://:secret@10.0.0.1:7000,10.0.0.2:7000?connect_timeout=1&command_timeout=2",
    /// )
    /// .await?;
    /// # Ok(()) }
    /// ```
    pub async fn connect_url(url: &str) -> Result<ClusterClient> {
        ClusterClient::connect(ClusterConfig::from_url(url)?).await
    }

    /// The configuration it was made with.
    pub fn config(&self) -> &ClusterConfig {
        &self.inner.config
    }

    /// The slot map's shape and each node connection's state now.
    ///
    /// ```no_run
    /// # fn demo(cluster: redwire::cluster::ClusterClient) {
    /// let state = cluster.state();
    /// println!("{} slots served by {} nodes", state.slots_served, state.nodes.len());
    /// # }
    /// ```
    pub fn state(&self) -> ClusterState {
        self.snapshot()
    }

    /// A receiver of the cluster's events from now on: the map read again,
    /// slots moved, nodes added and removed, and every node connection's own
    /// events (see [`ClusterEvent`]).
    ///
    /// ```no_run
    /// # async fn demo(cluster: redwire::cluster::ClusterClient) {
    /// let mut events = cluster.events();
    /// while let Ok(event) = events.recv().await {
    ///     println!("{event:?}");
    /// }
    /// # }
    /// ```
    pub fn events(&self) -> broadcast::Receiver<ClusterEvent> {
        self.inner.events.subscribe()
    }

    /// What the client-side caches of the nodes (one per node connection,
    /// when the node configuration asks for one: see
    /// [`ConfigBuilder::client_cache`](crate::ConfigBuilder::client_cache))
    /// have done and hold, added up; `None` without a cache.
    ///
    /// ```no_run
    /// # fn demo(cluster: redwire::cluster::ClusterClient) {
    /// if let Some(stats) = cluster.cache_stats() {
    ///     println!("{} hits, {} keys held", stats.hits, stats.entries);
    /// }
    /// # }
    /// ```
    #[cfg(feature = "client-cache")]
    pub fn cache_stats(&self) -> Option<crate::CacheStats> {
        let state = self.inner.state.read().unwrap_or_else(|e| e.into_inner());
        let mut total: Option<crate::CacheStats> = None;
        for client in state.nodes.values() {
            if let Some(stats) = client.cache_stats() {
                total.get_or_insert_with(Default::default).add(stats);
            }
        }
        total
    }

    /// A node's configuration: the cluster's node configuration with the
    /// node's address.
    pub(super) fn node_config(&self, addr: &NodeAddr) -> Config {
        let mut config = self.inner.config.node.clone();
        config.addr = Addr::Tcp {
            host: addr.host.clone(),
            port: addr.port,
        };
        // A request for a node that is down comes back at once, unsent, and
        // the router decides what to do with it.
        config.fail_fast = true;
        config
    }

    /// The shared client of a node, made on first use.
    fn node(&self, addr: &NodeAddr) -> Client {
        self.node_for(addr, false)
    }

    /// A replica to read `cmd` from, when the policy and the map say so.
    fn replica_for(&self, cmd: &Cmd, route: &Route) -> Option<NodeAddr> {
        let Route::Slot(slot) = route else {
            return None;
        };
        let read_from = self.inner.config.read_from;
        if read_from == ReadFrom::Primary {
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
        let turn = self.inner.turn.fetch_add(1, Ordering::Relaxed);
        match read_from {
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

    /// The primary the map gives for a route now.
    fn owner_now(&self, route: &Route) -> Option<NodeAddr> {
        let state = self.inner.state.read().unwrap_or_else(|e| e.into_inner());
        match route {
            Route::Slot(slot) => state.map.primary(*slot).cloned(),
            Route::AnyPrimary => state.map.primaries().first().map(|a| (*a).clone()),
        }
    }

    /// The error of a route that has no owner in the map.
    fn no_owner(route: &Route, name: &str) -> Error {
        match route {
            Route::Slot(slot) => Error::cluster(
                ClusterReason::NoOwner { slot: Some(*slot) },
                format!(
                    "no node serves slot {slot} of {name}: the slot map has no owner for it \
                     (a primary failed and no replica has taken over yet?)"
                ),
            ),
            Route::AnyPrimary => Error::cluster(
                ClusterReason::NoOwner { slot: None },
                format!("no primary to send {name} to: the slot map is empty"),
            ),
        }
    }

    /// The primary for a route, reading the map again once if it has a
    /// hole; for what does not wait (pipeline entries, the subscriber).
    async fn primary_for(&self, route: &Route) -> Result<NodeAddr> {
        if let Some(addr) = self.owner_now(route) {
            return Ok(addr);
        }
        self.refresh(false).await?;
        self.owner_now(route)
            .ok_or_else(|| ClusterClient::no_owner(route, "the command"))
    }

    /// Waits out an `obstacle` (no owner, an unreachable node, `TRYAGAIN`,
    /// `CLUSTERDOWN`): a pause, then (`refresh`) the map read again unless
    /// another caller read it meanwhile. Gives the obstacle back as the
    /// error when the cluster fails fast (then, with `refresh`, the map is
    /// read again in the background), or when a request without a deadline
    /// has paused enough.
    async fn pause(
        &self,
        pauses: &mut u32,
        deadline: bool,
        progress: &Progress,
        obstacle: Error,
        refresh: bool,
    ) -> Result<()> {
        let config = &self.inner.config;
        let retry: ClusterRetry = config.retry;
        *pauses += 1;
        let enough = !deadline && retry.max_attempts.is_some_and(|max| *pauses > max);
        if config.fail_fast || enough {
            if refresh && config.fail_fast {
                // Failing at once must not leave the map stale for good (a
                // failed-over primary says nothing, not even `MOVED`): read
                // it again in the background, so that the next request goes
                // where the slot lives now.
                self.refresh_in_background();
            }
            return Err(obstacle);
        }
        *progress
            .waited_for
            .lock()
            .unwrap_or_else(|e| e.into_inner()) = Some(obstacle);
        let seen = self.inner.generation.load(Ordering::Acquire);
        tokio::time::sleep(retry.pause(*pauses)).await;
        if refresh {
            let _ = self.refresh_after(seen, false).await;
        }
        Ok(())
    }

    /// Sends one command where it belongs, following redirections and
    /// waiting out failovers, within the configured deadline (the node
    /// configuration's `command_timeout`).
    ///
    /// ```no_run
    /// # async fn demo(cluster: redwire::cluster::ClusterClient) -> redwire::Result<()> {
    /// let reply = cluster.send(&redwire::cmd("INCR").arg("visits")).await?;
    /// # Ok(()) }
    /// ```
    pub async fn send(&self, cmd: &Cmd) -> Result<Value> {
        self.send_timeout(cmd, self.inner.config.node.command_timeout)
            .await
    }

    /// Like [`send`](Self::send) with a deadline of its own (or none), which
    /// covers routing, redirections, waiting for a slot's new owner and the
    /// reply: the same meaning as [`Client::send_timeout`].
    ///
    /// ```no_run
    /// # async fn demo(cluster: redwire::cluster::ClusterClient) {
    /// use std::time::Duration;
    /// let r = cluster.send_timeout(&redwire::cmd("GET").arg("k"), Some(Duration::from_millis(50))).await;
    /// # }
    /// ```
    pub async fn send_timeout(&self, cmd: &Cmd, timeout: Option<Duration>) -> Result<Value> {
        let progress = Progress::default();
        match timeout {
            None => self.send_routed(cmd, &progress, false).await,
            Some(limit) => {
                match tokio::time::timeout(limit, self.send_routed(cmd, &progress, true)).await {
                    Ok(reply) => reply,
                    Err(_) => Err(progress.deadline_error(&cmd.name(), limit)),
                }
            }
        }
    }

    async fn send_routed(&self, cmd: &Cmd, progress: &Progress, deadline: bool) -> Result<Value> {
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
        let max_redirects = self.inner.config.max_redirects;
        let (mut redirects, mut pauses) = (0u32, 0u32);
        let mut target: Option<NodeAddr> = None;
        let mut asking = false;
        loop {
            let addr = match target.take() {
                Some(addr) => addr,
                None => match self.owner_now(&route) {
                    Some(addr) => addr,
                    None => {
                        self.inner.meter.hole();
                        let hole = ClusterClient::no_owner(&route, &cmd.name());
                        self.pause(&mut pauses, deadline, progress, hole, true)
                            .await?;
                        continue;
                    }
                },
            };
            let node = self.node(&addr);
            progress.sent.store(true, Ordering::Relaxed);
            let reply = if asking {
                let mut p = Pipeline::new();
                p.add(crate::cmd::cmd("ASKING")).push(cmd);
                node.pipeline(&p)
                    .await
                    .and_then(|mut r| r.pop().unwrap_or_else(|| Err(Error::protocol("no reply"))))
            } else {
                node.send(cmd).await
            };
            progress.sent.store(false, Ordering::Relaxed);
            asking = false;
            let err = match reply {
                Ok(value) => return Ok(value),
                Err(e) => e,
            };
            match err.cluster_reason() {
                Some(ClusterReason::Moved { .. } | ClusterReason::Ask { .. }) => {
                    redirects += 1;
                    if redirects > max_redirects {
                        return Err(Error::cluster(
                            ClusterReason::TooManyRedirects,
                            format!(
                                "{} was redirected more than {max_redirects} times; the cluster \
                                 keeps moving its slot (last: {})",
                                cmd.name(),
                                err.message()
                            ),
                        ));
                    }
                    let (slot, to) = redirection(&err, &addr)?;
                    if err.code() == Some("MOVED") {
                        self.learn_moved(slot, &to);
                    } else {
                        self.inner.meter.redirect(false);
                        asking = !crate::connection::bugs::on(
                            crate::connection::bugs::Bug::AskWithoutAsking,
                        );
                    }
                    target = Some(to);
                }
                Some(ClusterReason::TryAgain) => {
                    // The same node, once the migration has moved on.
                    self.pause(&mut pauses, deadline, progress, err, false)
                        .await?;
                    redirects = 0;
                    target = Some(addr);
                }
                Some(ClusterReason::ClusterDown) => {
                    self.pause(&mut pauses, deadline, progress, err, true)
                        .await?;
                    redirects = 0;
                }
                _ if matches!(
                    err.kind(),
                    ErrorKind::Io
                        | ErrorKind::NotConnected
                        | ErrorKind::Closed
                        | ErrorKind::Timeout
                ) && !err.may_have_executed()
                    || (err.may_have_executed()
                        && crate::connection::bugs::on(
                            crate::connection::bugs::Bug::ClusterResendWritten,
                        )) =>
                {
                    // Certainly not run: find where the slot lives now (a
                    // replica may be taking over), after a pause. The
                    // redirections before it were no loop: an `ASK` to a
                    // node that is down comes again after each pause, and
                    // the pauses are bounded (by the deadline, or by
                    // `max_attempts`).
                    self.pause(&mut pauses, deadline, progress, err, true)
                        .await?;
                    redirects = 0;
                }
                _ => return Err(err),
            }
        }
    }

    /// A `MOVED` seen: the slot's new owner goes into the map at once, and
    /// the whole map is read again in the background.
    fn learn_moved(&self, slot: u16, to: &NodeAddr) {
        self.inner.meter.redirect(true);
        tracing::debug!(target: "redwire::cluster", slot, to = %to, "slot moved");
        {
            let mut state = self.inner.state.write().unwrap_or_else(|e| e.into_inner());
            state.map.moved(slot, to.clone());
        }
        let _ = self.inner.events.send(ClusterEvent::SlotMoved {
            slot,
            to: to.to_string(),
        });
        self.refresh_in_background();
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
        // Entries by node, in order; the nodes in address order, so that
        // their shares go out in the same order every time.
        let mut by_node: BTreeMap<NodeAddr, Vec<usize>> = BTreeMap::new();
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
            // Certainly not run: sent again alone, redirections and waits
            // included.
            let redirected = matches!(&result, Err(e) if e.cluster_reason().is_some_and(|r| !matches!(r, ClusterReason::CrossSlot)))
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
        self.learn_moved(slot, &addr);
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
            .config
            .node
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
