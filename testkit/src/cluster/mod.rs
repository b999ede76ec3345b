//! [`RedisCluster`]: a real Redis Cluster of throwaway `redis-server` processes
//! (primaries and their replicas, each on free ports in its own temp dir), built
//! with `CLUSTER ADDSLOTSRANGE`, `MEET` and `REPLICATE`, plus the operations a
//! cluster client is tested against: slot migration with `-ASK`/`-MOVED`,
//! failover, a crashed and restarted node, a node added.
//!
//! Every operation waits, with a deadline, until the cluster has settled (see
//! `topology`), so a test continues from a cluster that agrees with itself.

mod migration;
mod node;
mod slot;
mod topology;

pub use migration::Migration;
pub use node::{ClusterNode, NodeRole};
pub use slot::key_slot;

use crate::binary::{check_explicit, find_redis_server};
use slot::SLOTS;
use std::io;
use std::path::PathBuf;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};
use topology::{short, Layout};

/// How often the fixture looks at the cluster while it waits.
const POLL_INTERVAL: Duration = Duration::from_millis(20);
/// How many lines of each node's log a failing test prints.
const LOG_TAIL_LINES: usize = 40;

/// What every node of a cluster is started with.
#[derive(Clone)]
pub(crate) struct ClusterSettings {
    pub(crate) binary: PathBuf,
    pub(crate) password: Option<String>,
    pub(crate) config: Vec<String>,
    pub(crate) node_timeout: Duration,
    pub(crate) startup_timeout: Duration,
    /// How long each wait for the cluster to settle may take.
    pub(crate) settle_timeout: Duration,
    /// The certificates every node serves TLS with (one CA for all), in
    /// their own temp dir; `None` without TLS.
    pub(crate) tls: Option<std::sync::Arc<(crate::tls_files::TlsFiles, tempfile::TempDir)>>,
}

/// A Redis Cluster started for one test; every node is killed when it is
/// dropped.
///
/// [`start`](RedisCluster::start) gives 3 primaries with 1 replica each, the
/// 16384 slots split evenly (primary 0 has the lowest slots). It returns once
/// every node reports `cluster_state:ok`, all nodes agree on who serves which
/// slots, and every replica's link to its primary is up: about two seconds,
/// because a fresh primary waits that long before it serves.
///
/// Nodes listen on `127.0.0.1` with free ports (client and cluster bus), save
/// nothing but their `nodes-<port>.conf`, and use `cluster-node-timeout 2000`.
/// If the test panics, dropping the cluster prints the end of every node's log.
///
/// ```no_run
/// use redwire_testkit::{Frame, RedisCluster};
///
/// let cluster = RedisCluster::start()?;
/// println!("seed the client under test with {:?}", cluster.seed_urls());
/// let node = cluster.node_for_key("user:1");
/// assert_eq!(node.command(&["SET", "user:1", "ada"])?, Frame::Simple("OK".into()));
///
/// let replica = cluster.replicas_of(node.id())[0];
/// cluster.failover(replica)?;
/// assert!(replica.is_primary());
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct RedisCluster {
    nodes: Vec<ClusterNode>,
    pub(crate) settings: ClusterSettings,
    /// For each slot, the index in `nodes` of its primary, as last agreed.
    slot_owners: Mutex<Vec<usize>>,
}

/// Options for a [`RedisCluster`]; made by [`RedisCluster::builder`].
///
/// ```no_run
/// use redwire_testkit::RedisCluster;
///
/// let cluster = RedisCluster::builder()
///     .primaries(2)
///     .replicas(2)
///     .config("maxmemory 10mb")
///     .start()?;
/// assert_eq!(cluster.nodes().len(), 6);
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Clone)]
#[must_use = "a builder does nothing until .start() is called"]
pub struct RedisClusterBuilder {
    primaries: usize,
    replicas: usize,
    password: Option<String>,
    config: Vec<String>,
    binary: Option<PathBuf>,
    node_timeout: Duration,
    startup_timeout: Duration,
    settle_timeout: Duration,
    tls: bool,
}

impl Default for RedisClusterBuilder {
    fn default() -> Self {
        RedisClusterBuilder {
            primaries: 3,
            replicas: 1,
            password: None,
            config: Vec::new(),
            binary: None,
            node_timeout: Duration::from_millis(2000),
            startup_timeout: Duration::from_secs(10),
            settle_timeout: Duration::from_secs(15),
            tls: false,
        }
    }
}

impl RedisClusterBuilder {
    /// Serves TLS too: each node gets a `tls-port` beside its plain port
    /// (which the kit itself uses), and the nodes talk TLS to each other
    /// (`tls-cluster yes`, `tls-replication yes`), so a client on TLS is
    /// told TLS ports in `CLUSTER SLOTS`, `MOVED` and `ASK`. One test CA
    /// signs every node's certificate. Needs the `tls-certs` feature.
    ///
    /// ```no_run
    /// let cluster = redwire_testkit::RedisCluster::builder().tls(true).start()?;
    /// let url = cluster.nodes()[0].tls_url().unwrap();
    /// assert!(url.starts_with("rediss://127.0.0.1:"));
    /// println!("trust {}", cluster.tls_ca_cert_path().unwrap().display());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn tls(mut self, enabled: bool) -> Self {
        self.tls = enabled;
        self
    }

    /// How many primaries share the 16384 slots (default 3, at least 1).
    ///
    /// ```no_run
    /// let cluster = redwire_testkit::RedisCluster::builder().primaries(1).replicas(0).start()?;
    /// assert_eq!(cluster.slot_owner(16383).id(), cluster.nodes()[0].id());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn primaries(mut self, count: usize) -> Self {
        self.primaries = count;
        self
    }

    /// How many replicas each primary has (default 1).
    ///
    /// ```no_run
    /// let cluster = redwire_testkit::RedisCluster::builder().replicas(0).start()?;
    /// assert_eq!(cluster.nodes().len(), 3);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn replicas(mut self, per_primary: usize) -> Self {
        self.replicas = per_primary;
        self
    }

    /// Adds one line to every node's config file, such as `"maxmemory 10mb"`.
    /// It comes after the fixture's own lines, so it can override them.
    ///
    /// ```no_run
    /// let cluster = redwire_testkit::RedisCluster::builder()
    ///     .config("cluster-allow-reads-when-down yes")
    ///     .start()?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn config(mut self, line: impl Into<String>) -> Self {
        self.config.push(line.into());
        self
    }

    /// Sets `requirepass` (and `masterauth`, for the replicas) on every node;
    /// the URLs carry it and `MIGRATE` uses it.
    ///
    /// ```no_run
    /// let cluster = redwire_testkit::RedisCluster::builder().password("pw").start()?;
    /// assert!(cluster.url().starts_with("redis://:pw@127.0.0.1:"));
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn password(mut self, password: impl Into<String>) -> Self {
        self.password = Some(password.into());
        self
    }

    /// Uses this `redis-server` binary instead of `REDWIRE_REDIS_SERVER` or the
    /// `PATH`.
    ///
    /// ```
    /// let err = redwire_testkit::RedisCluster::builder()
    ///     .binary("/nonexistent/redis-server")
    ///     .start()
    ///     .err()
    ///     .unwrap();
    /// assert!(err.to_string().contains("apt-get install redis-server"));
    /// ```
    pub fn binary(mut self, path: impl Into<PathBuf>) -> Self {
        self.binary = Some(path.into());
        self
    }

    /// `cluster-node-timeout` (default 2 s): how long a node may be unreachable
    /// before it is suspected, which is about how long after a
    /// [`kill`](RedisCluster::kill) a replica starts to take over.
    ///
    /// ```no_run
    /// use std::time::Duration;
    /// let cluster = redwire_testkit::RedisCluster::builder()
    ///     .node_timeout(Duration::from_millis(1000))
    ///     .start()?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn node_timeout(mut self, timeout: Duration) -> Self {
        self.node_timeout = timeout;
        self
    }

    /// How long starting or restarting one process may take (default 10 s).
    ///
    /// ```no_run
    /// use std::time::Duration;
    /// let cluster = redwire_testkit::RedisCluster::builder()
    ///     .startup_timeout(Duration::from_secs(30))
    ///     .start()?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn startup_timeout(mut self, timeout: Duration) -> Self {
        self.startup_timeout = timeout;
        self
    }

    /// How long each wait for the cluster to settle may take (default 15 s):
    /// the forming of the cluster, and each operation.
    ///
    /// ```no_run
    /// use std::time::Duration;
    /// let cluster = redwire_testkit::RedisCluster::builder()
    ///     .settle_timeout(Duration::from_secs(60))
    ///     .start()?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn settle_timeout(mut self, timeout: Duration) -> Self {
        self.settle_timeout = timeout;
        self
    }

    /// Starts every node, forms the cluster and waits until it has settled.
    ///
    /// Fails with a message that says what to do when `redis-server` is missing,
    /// and with what it waited for and the end of every node's log when the
    /// cluster does not form.
    ///
    /// ```no_run
    /// let cluster = redwire_testkit::RedisCluster::builder().primaries(3).replicas(1).start()?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn start(self) -> io::Result<RedisCluster> {
        if self.primaries == 0 || self.primaries > usize::from(SLOTS) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "a cluster needs 1 to {SLOTS} primaries, not {}",
                    self.primaries
                ),
            ));
        }
        let binary = match &self.binary {
            Some(path) => check_explicit(path, "RedisClusterBuilder::binary")?,
            None => find_redis_server()?,
        };
        let tls = if self.tls {
            let dir = tempfile::Builder::new()
                .prefix("redwire-cluster-tls-")
                .tempdir()?;
            Some(std::sync::Arc::new((
                crate::tls_files::TlsFiles::create(dir.path())?,
                dir,
            )))
        } else {
            None
        };
        let settings = ClusterSettings {
            binary,
            password: self.password,
            config: self.config,
            node_timeout: self.node_timeout,
            startup_timeout: self.startup_timeout,
            settle_timeout: self.settle_timeout,
            tls,
        };
        let count = self.primaries * (1 + self.replicas);
        // A server that crashes while the cluster forms (seen once: a
        // Valkey 8.0 node's bug report during the TLS handshakes) is the
        // server's fault, not the test's: the cluster is made again once,
        // from new nodes, and the first attempt's logs are printed.
        let mut attempt = 0;
        loop {
            attempt += 1;
            let nodes = launch_all(&settings, count)?;
            let cluster = RedisCluster {
                nodes,
                settings: settings.clone(),
                slot_owners: Mutex::new(vec![0; usize::from(SLOTS)]),
            };
            match cluster.form(self.primaries, self.replicas) {
                Ok(()) => return Ok(cluster),
                Err(e) if attempt == 1 && cluster.nodes.iter().any(|n| !n.is_running()) => {
                    eprintln!(
                        "testkit: a cluster node died while the cluster formed ({e}); forming a new one\n{}",
                        cluster.log_tails()
                    );
                }
                Err(e) => {
                    return Err(io::Error::new(
                        e.kind(),
                        format!("{e}\n{}", cluster.log_tails()),
                    ))
                }
            }
        }
    }
}

/// Starts `count` nodes side by side; each one's start-up is mostly waiting.
fn launch_all(settings: &ClusterSettings, count: usize) -> io::Result<Vec<ClusterNode>> {
    let results: Vec<io::Result<ClusterNode>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..count)
            .map(|_| scope.spawn(|| ClusterNode::launch(settings)))
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err(io::Error::other("starting a cluster node panicked")))
            })
            .collect()
    });
    // Dropping the nodes that did start kills them.
    results.into_iter().collect()
}

impl RedisCluster {
    /// Starts 3 primaries with 1 replica each.
    ///
    /// ```no_run
    /// let cluster = redwire_testkit::RedisCluster::start()?;
    /// assert_eq!(cluster.primaries().len(), 3);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn start() -> io::Result<RedisCluster> {
        RedisClusterBuilder::default().start()
    }

    /// A builder for another shape, a password or extra config.
    ///
    /// ```no_run
    /// let cluster = redwire_testkit::RedisCluster::builder().primaries(1).replicas(2).start()?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn builder() -> RedisClusterBuilder {
        RedisClusterBuilder::default()
    }

    /// Every node: the primaries in the order they were created, then the
    /// replicas (those of primary 0 first), then nodes from
    /// [`add_node`](Self::add_node). The order never changes, roles may.
    ///
    /// ```no_run
    /// let cluster = redwire_testkit::RedisCluster::start()?;
    /// for node in cluster.nodes() {
    ///     println!("{} {:?} {}", node.addr(), node.role(), node.id());
    /// }
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn nodes(&self) -> &[ClusterNode] {
        &self.nodes
    }

    /// The node with this id.
    ///
    /// ```no_run
    /// let cluster = redwire_testkit::RedisCluster::start()?;
    /// let id = cluster.nodes()[1].id();
    /// assert_eq!(cluster.node(id).unwrap().port(), cluster.nodes()[1].port());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn node(&self, id: &str) -> Option<&ClusterNode> {
        self.nodes.iter().find(|n| n.id() == id)
    }

    /// The nodes that are primaries, in [`nodes`](Self::nodes) order.
    ///
    /// ```no_run
    /// let cluster = redwire_testkit::RedisCluster::start()?;
    /// assert_eq!(cluster.primaries().len(), 3);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn primaries(&self) -> Vec<&ClusterNode> {
        self.nodes.iter().filter(|n| n.is_primary()).collect()
    }

    /// The replicas of the primary with this id.
    ///
    /// ```no_run
    /// let cluster = redwire_testkit::RedisCluster::start()?;
    /// let primary = cluster.primaries()[0];
    /// assert_eq!(cluster.replicas_of(primary.id()).len(), 1);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn replicas_of(&self, primary_id: &str) -> Vec<&ClusterNode> {
        self.nodes
            .iter()
            .filter(|n| n.primary_id().as_deref() == Some(primary_id))
            .collect()
    }

    /// The URL of every node, for a client that takes several seed nodes.
    ///
    /// ```no_run
    /// let cluster = redwire_testkit::RedisCluster::start()?;
    /// assert_eq!(cluster.seed_urls().len(), 6);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn seed_urls(&self) -> Vec<String> {
        self.nodes.iter().map(ClusterNode::url).collect()
    }

    /// Every node's `rediss://` URL, when the cluster serves TLS
    /// ([`RedisClusterBuilder::tls`]); empty otherwise.
    ///
    /// ```no_run
    /// let cluster = redwire_testkit::RedisCluster::builder().tls(true).start()?;
    /// assert_eq!(cluster.tls_seed_urls().len(), 6);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn tls_seed_urls(&self) -> Vec<String> {
        self.nodes.iter().filter_map(ClusterNode::tls_url).collect()
    }

    /// The CA certificate (PEM) that signed every node's, when the cluster
    /// serves TLS.
    ///
    /// ```no_run
    /// let cluster = redwire_testkit::RedisCluster::builder().tls(true).start()?;
    /// assert!(cluster.tls_ca_cert_path().unwrap().exists());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn tls_ca_cert_path(&self) -> Option<&std::path::Path> {
        self.settings
            .tls
            .as_ref()
            .map(|tls| tls.0.ca_cert.as_path())
    }

    /// One seed URL: the first running primary's (any node will do for a client
    /// that discovers the rest with `CLUSTER SLOTS`).
    ///
    /// ```no_run
    /// let cluster = redwire_testkit::RedisCluster::start()?;
    /// assert_eq!(cluster.url(), cluster.nodes()[0].url());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn url(&self) -> String {
        self.nodes
            .iter()
            .find(|n| n.is_primary() && n.is_running())
            .unwrap_or(&self.nodes[0])
            .url()
    }

    /// The primary that serves `slot`, as the cluster last agreed.
    ///
    /// # Panics
    ///
    /// If `slot` is 16384 or more.
    ///
    /// ```no_run
    /// let cluster = redwire_testkit::RedisCluster::start()?;
    /// assert_eq!(cluster.slot_owner(0).id(), cluster.nodes()[0].id());
    /// assert_eq!(cluster.slot_owner(16383).id(), cluster.nodes()[2].id());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn slot_owner(&self, slot: u16) -> &ClusterNode {
        assert!(slot < SLOTS, "slot {slot} is out of range (0..{SLOTS})");
        &self.nodes[self.owners()[usize::from(slot)]]
    }

    /// The primary that serves `key`: the owner of [`key_slot`]`(key)`.
    ///
    /// ```no_run
    /// use redwire_testkit::{Frame, RedisCluster};
    ///
    /// let cluster = RedisCluster::start()?;
    /// let node = cluster.node_for_key("{user1}.name");
    /// assert_eq!(node.command(&["SET", "{user1}.name", "ada"])?, Frame::Simple("OK".into()));
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn node_for_key(&self, key: impl AsRef<[u8]>) -> &ClusterNode {
        self.slot_owner(key_slot(key.as_ref()))
    }

    /// Starts moving `slot` from its current primary to the primary `to`; see
    /// [`Migration`] for the steps. Nothing is sent to the servers yet.
    ///
    /// Fails when `to` is not a primary of this cluster or already owns the slot.
    ///
    /// ```no_run
    /// let cluster = redwire_testkit::RedisCluster::start()?;
    /// let migration = cluster.begin_migration(0, cluster.primaries()[1])?;
    /// migration.set_importing_migrating()?;
    /// migration.move_keys(10)?;
    /// migration.finish()?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn begin_migration<'a>(
        &'a self,
        slot: u16,
        to: &'a ClusterNode,
    ) -> io::Result<Migration<'a>> {
        if slot >= SLOTS {
            return Err(invalid(format!("slot {slot} is out of range (0..{SLOTS})")));
        }
        let target = self.member(to)?;
        if !target.is_primary() {
            return Err(invalid(format!(
                "node {} is a replica; a slot can only move to a primary",
                target.addr()
            )));
        }
        let source = self.slot_owner(slot);
        if source.id() == target.id() {
            return Err(invalid(format!(
                "slot {slot} is already served by {}",
                target.addr()
            )));
        }
        Ok(Migration {
            cluster: self,
            slot,
            source,
            target,
        })
    }

    /// Moves `slot` and all its keys to the primary `to` in one go and waits
    /// until every node agrees. Does nothing when `to` already owns it.
    ///
    /// ```no_run
    /// let cluster = redwire_testkit::RedisCluster::start()?;
    /// let target = cluster.primaries()[1];
    /// cluster.migrate_slot(0, target)?;
    /// assert_eq!(cluster.slot_owner(0).id(), target.id());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn migrate_slot(&self, slot: u16, to: &ClusterNode) -> io::Result<()> {
        if slot < SLOTS && self.slot_owner(slot).id() == to.id() {
            return Ok(());
        }
        let migration = self.begin_migration(slot, to)?;
        migration.set_importing_migrating()?;
        migration.finish()
    }

    /// Makes `replica` the primary of its shard with `CLUSTER FAILOVER` (the
    /// coordinated kind, or `FORCE` when its primary is not running) and waits
    /// until every node agrees it is primary and the cluster has settled. The
    /// old primary, if running, becomes its replica.
    ///
    /// ```no_run
    /// let cluster = redwire_testkit::RedisCluster::start()?;
    /// let old = cluster.primaries()[0];
    /// let replica = cluster.replicas_of(old.id())[0];
    /// cluster.failover(replica)?;
    /// assert!(replica.is_primary());
    /// assert_eq!(old.primary_id().as_deref(), Some(replica.id()));
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn failover(&self, replica: &ClusterNode) -> io::Result<()> {
        let replica = self.member(replica)?;
        let Some(primary_id) = replica.primary_id() else {
            return Err(invalid(format!(
                "node {} is already a primary",
                replica.addr()
            )));
        };
        let primary_up = self.node(&primary_id).is_some_and(ClusterNode::is_running);
        let args: &[&str] = if primary_up {
            &["CLUSTER", "FAILOVER"]
        } else {
            &["CLUSTER", "FAILOVER", "FORCE"]
        };
        replica.checked(args)?;
        let id = replica.id();
        self.wait_until(
            &format!(
                "replica {} ({}) to take over from {}",
                replica.addr(),
                short(id),
                short(&primary_id)
            ),
            |layout| {
                if layout.is_primary(id) {
                    Ok(())
                } else {
                    Err(format!("{} is still a replica", short(id)))
                }
            },
        )
    }

    /// Kills `node` with SIGKILL, like a crash, and returns at once. Its
    /// `nodes-<port>.conf` stays for [`restart`](Self::restart).
    ///
    /// The cluster notices after about the node timeout; a killed primary's
    /// replica then takes over. [`wait_settled`](Self::wait_settled) waits for
    /// that. A killed primary without a replica leaves the cluster down.
    ///
    /// ```no_run
    /// let cluster = redwire_testkit::RedisCluster::start()?;
    /// let primary = cluster.primaries()[0];
    /// let replica = cluster.replicas_of(primary.id())[0];
    /// cluster.kill(primary);
    /// cluster.wait_settled()?; // the replica has taken over
    /// assert!(replica.is_primary());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn kill(&self, node: &ClusterNode) {
        node.kill();
    }

    /// Starts `node` again on the same ports with its `nodes-<port>.conf`
    /// (killing it first if it runs), so it rejoins as the same node, and
    /// waits until the cluster has settled with it. Its data is gone: nothing
    /// was saved. A primary that was replaced meanwhile comes back as a replica.
    ///
    /// ```no_run
    /// let cluster = redwire_testkit::RedisCluster::start()?;
    /// let replica = &cluster.nodes()[3];
    /// cluster.kill(replica);
    /// cluster.restart(replica)?;
    /// assert!(replica.is_running());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn restart(&self, node: &ClusterNode) -> io::Result<()> {
        let node = self.member(node)?;
        node.restart()?;
        self.wait_until(
            &format!("node {} ({}) to rejoin", node.addr(), short(node.id())),
            |_| Ok(()),
        )
    }

    /// Starts a new, empty primary (no slots, no replicas), introduces it with
    /// `CLUSTER MEET` and waits until every node knows it. It is appended to
    /// [`nodes`](Self::nodes); give it slots with
    /// [`migrate_slot`](Self::migrate_slot).
    ///
    /// ```no_run
    /// let mut cluster = redwire_testkit::RedisCluster::start()?;
    /// let id = cluster.add_node()?.id().to_string();
    /// let new = cluster.node(&id).unwrap();
    /// cluster.migrate_slot(0, new)?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn add_node(&mut self) -> io::Result<&ClusterNode> {
        let node = ClusterNode::launch(&self.settings)?;
        let (port, bus) = (node.port().to_string(), node.bus_port().to_string());
        self.nodes.push(node);
        let new = self.nodes.last().expect("just pushed");
        for other in self
            .nodes
            .iter()
            .filter(|n| n.is_running() && n.id() != new.id())
        {
            other.checked(&["CLUSTER", "MEET", "127.0.0.1", &port, &bus])?;
        }
        self.wait_until(
            &format!("new node {} ({}) to join", new.addr(), short(new.id())),
            |_| Ok(()),
        )?;
        Ok(self.nodes.last().expect("just pushed"))
    }

    /// Waits until the cluster has settled: every running node reports
    /// `cluster_state:ok` with all slots served, all agree on every node's role,
    /// slots and config epoch, none suspects a running node, every slot's
    /// primary is running (so after killing a primary this waits for its
    /// replica to take over), and every replica of a running primary has its
    /// link up. Roles and the slot map this
    /// fixture reports are refreshed from what they agreed on.
    ///
    /// ```no_run
    /// let cluster = redwire_testkit::RedisCluster::start()?;
    /// cluster.kill(&cluster.nodes()[3]); // a replica
    /// cluster.wait_settled()?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn wait_settled(&self) -> io::Result<()> {
        self.wait_until("the cluster to settle", |_| Ok(()))
    }

    /// The end of every node's log, as a failing test prints it.
    ///
    /// ```no_run
    /// let cluster = redwire_testkit::RedisCluster::start()?;
    /// assert!(cluster.log_tails().contains("Cluster state changed: ok"));
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn log_tails(&self) -> String {
        let mut out = String::new();
        for node in &self.nodes {
            let log = node.log();
            out.push_str(&format!(
                "----- cluster node {} ({}, {:?}, {}) last {LOG_TAIL_LINES} log lines -----\n{}",
                node.addr(),
                short(node.id()),
                node.role(),
                if node.is_running() {
                    "running"
                } else {
                    "killed"
                },
                tail(&log, LOG_TAIL_LINES)
            ));
        }
        out.push_str("----- end of cluster logs -----");
        out
    }

    /// Creates the cluster from fresh nodes: slots, epochs, MEET, REPLICATE.
    fn form(&self, primaries: usize, replicas: usize) -> io::Result<()> {
        let per = usize::from(SLOTS) / primaries;
        let extra = usize::from(SLOTS) % primaries;
        let mut first = 0;
        for (i, node) in self.nodes[..primaries].iter().enumerate() {
            let count = per + usize::from(i < extra);
            let last = first + count - 1;
            node.checked(&[
                "CLUSTER".to_string(),
                "ADDSLOTSRANGE".into(),
                first.to_string(),
                last.to_string(),
            ])?;
            // Distinct epochs up front, as redis-cli does, so no epoch
            // collision has to be resolved before the nodes agree.
            node.checked(&["CLUSTER", "SET-CONFIG-EPOCH", &(i + 1).to_string()])?;
            first = last + 1;
        }
        for (i, a) in self.nodes.iter().enumerate() {
            for b in &self.nodes[i + 1..] {
                let (port, bus) = (b.port().to_string(), b.bus_port().to_string());
                a.checked(&["CLUSTER", "MEET", "127.0.0.1", &port, &bus])?;
            }
        }
        self.poll("every node to know every other node", || {
            topology::all_known(&self.nodes)
        })?;
        for (i, replica) in self.nodes[primaries..].iter().enumerate() {
            let primary = &self.nodes[i / replicas];
            replica.checked(&["CLUSTER", "REPLICATE", primary.id()])?;
        }
        self.wait_until(
            &format!(
                "a new cluster of {primaries} primaries with {replicas} replica(s) each to form"
            ),
            |_| Ok(()),
        )
    }

    /// Waits until the cluster has settled and `also` holds for the layout all
    /// nodes agree on; then records roles and slot owners from it.
    pub(crate) fn wait_until(
        &self,
        what: &str,
        also: impl Fn(&Layout) -> Result<(), String>,
    ) -> io::Result<()> {
        let layout = self.poll(what, || {
            let layout = topology::observe(&self.nodes)?;
            also(&layout)?;
            Ok(layout)
        })?;
        self.record(&layout);
        Ok(())
    }

    /// Calls `check` every [`POLL_INTERVAL`] until it succeeds or the settle
    /// timeout passes; the error says what was awaited and the last problem.
    fn poll<T>(&self, what: &str, mut check: impl FnMut() -> Result<T, String>) -> io::Result<T> {
        let timeout = self.settings.settle_timeout;
        let deadline = Instant::now() + timeout;
        loop {
            let problem = match check() {
                Ok(value) => return Ok(value),
                Err(problem) => problem,
            };
            if Instant::now() >= deadline {
                return Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    format!("waited {timeout:?} for {what}, but {problem}"),
                ));
            }
            std::thread::sleep(POLL_INTERVAL);
        }
    }

    fn record(&self, layout: &Layout) {
        let mut owners = self.owners();
        for (index, node) in self.nodes.iter().enumerate() {
            let Some(shape) = layout.nodes.get(node.id()) else {
                continue;
            };
            node.set_primary(shape.primary.clone());
            if shape.primary.is_none() {
                for &(a, b) in &shape.slots {
                    for slot in a..=b.min(SLOTS - 1) {
                        owners[usize::from(slot)] = index;
                    }
                }
            }
        }
    }

    fn owners(&self) -> MutexGuard<'_, Vec<usize>> {
        self.slot_owners.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The cluster's own node with the id of `node`, or an error when it is from
    /// another cluster.
    fn member<'a>(&'a self, node: &ClusterNode) -> io::Result<&'a ClusterNode> {
        self.node(node.id()).ok_or_else(|| {
            invalid(format!(
                "node {} ({}) is not part of this cluster",
                node.addr(),
                short(node.id())
            ))
        })
    }
}

impl Drop for RedisCluster {
    fn drop(&mut self) {
        // Which node did what is the first question when a cluster test fails.
        if std::thread::panicking() {
            eprintln!("{}", self.log_tails());
        }
        // The nodes are killed as they drop, then their directories go.
    }
}

impl std::fmt::Debug for RedisCluster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisCluster")
            .field("nodes", &self.nodes)
            .finish_non_exhaustive()
    }
}

impl std::fmt::Debug for RedisClusterBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The password stays out of Debug output on purpose.
        f.debug_struct("RedisClusterBuilder")
            .field("primaries", &self.primaries)
            .field("replicas", &self.replicas)
            .field("password", &self.password.as_ref().map(|_| "<hidden>"))
            .field("config", &self.config)
            .field("binary", &self.binary)
            .field("node_timeout", &self.node_timeout)
            .field("startup_timeout", &self.startup_timeout)
            .field("settle_timeout", &self.settle_timeout)
            .finish()
    }
}

fn invalid(message: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, message)
}

/// The last `lines` lines of `text`, ending in a newline.
fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    let mut out = all[all.len().saturating_sub(lines)..].join("\n");
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_builder_hides_the_password_in_debug_output() {
        let text = format!("{:?}", RedisCluster::builder().password("s3cret"));
        assert!(!text.contains("s3cret"), "{text}");
        assert!(text.contains("<hidden>"), "{text}");
    }

    #[test]
    fn a_log_tail_keeps_the_last_lines() {
        assert_eq!(tail("a\nb\nc\n", 2), "b\nc\n");
        assert_eq!(tail("a\n", 5), "a\n");
        assert_eq!(tail("", 5), "\n");
    }
}
