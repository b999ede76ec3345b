//! One node of a [`RedisCluster`](super::RedisCluster): its `redis-server`
//! process with cluster mode on, its ports and temp dir, its node id, the role
//! the fixture last saw it in, and a blocking [`command`](ClusterNode::command).

use super::ClusterSettings;
use crate::blocking::BlockingConn;
use crate::ports::free_port;
use crate::process::{Launch, Probe, RedisProcess, StartError};
use crate::text::{percent_encode, quote};
use redwire_resp::Frame;
use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;
use tempfile::TempDir;

/// How many times a fresh node picks new ports after losing a port race.
const START_ATTEMPTS: usize = 20;

/// Whether a node serves slots or copies a primary.
///
/// ```no_run
/// use redwire_testkit::{NodeRole, RedisCluster};
///
/// let cluster = RedisCluster::start()?;
/// assert_eq!(cluster.nodes()[0].role(), NodeRole::Primary);
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum NodeRole {
    /// A primary (master): it owns hash slots, or none when just added.
    Primary,
    /// A replica of one primary.
    Replica,
}

/// One `redis-server --cluster-enabled yes` process of a [`RedisCluster`](crate::RedisCluster).
///
/// It listens on `127.0.0.1` on a free port, with its cluster bus on a second
/// free port, and keeps its `nodes-<port>.conf`, config and log in its own temp
/// dir, so a [`restart`](super::RedisCluster::restart) brings back the same node
/// (same id, same port). Nothing else is saved.
///
/// Its [`role`](ClusterNode::role) and [`primary_id`](ClusterNode::primary_id)
/// are what the whole cluster agreed on the last time the fixture waited for it
/// to settle (at start and after each operation, or
/// [`wait_settled`](super::RedisCluster::wait_settled)).
///
/// ```no_run
/// use redwire_testkit::{Frame, RedisCluster};
///
/// let cluster = RedisCluster::start()?;
/// for node in cluster.nodes() {
///     println!("{} {} {:?} at {}", node.id(), node.url(), node.role(), node.addr());
///     assert_eq!(node.command(&["PING"])?, Frame::Simple("PONG".into()));
/// }
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct ClusterNode {
    // Field order matters: the process must die before its directory goes.
    process: RedisProcess,
    port: u16,
    bus_port: u16,
    /// The TLS port, when the cluster serves TLS.
    tls_port: Option<u16>,
    id: String,
    password: Option<String>,
    startup_timeout: Duration,
    /// `None` for a primary, else the id of the primary it replicates.
    primary: Mutex<Option<String>>,
    dir: TempDir,
}

impl ClusterNode {
    /// Starts a new, empty cluster node on free ports and reads its node id.
    pub(crate) fn launch(settings: &ClusterSettings) -> io::Result<ClusterNode> {
        let dir = tempfile::Builder::new()
            .prefix("redwire-cluster-")
            .tempdir()?;
        let config_path = dir.path().join("redis.conf");
        let process = RedisProcess::new(Launch {
            binary: settings.binary.clone(),
            config_path: config_path.clone(),
            log_path: dir.path().join("redis.log"),
            dir: dir.path().to_path_buf(),
            extra_args: Vec::new(),
        });
        for _ in 0..START_ATTEMPTS {
            let port = free_port()?;
            let mut bus_port = free_port()?;
            while bus_port == port {
                bus_port = free_port()?;
            }
            let tls_port = match settings.tls {
                Some(_) => {
                    let mut tls_port = free_port()?;
                    while tls_port == port || tls_port == bus_port {
                        tls_port = free_port()?;
                    }
                    Some(tls_port)
                }
                None => None,
            };
            std::fs::write(
                &config_path,
                render_config(settings, dir.path(), port, bus_port, tls_port),
            )?;
            let probe = Probe {
                addr: SocketAddr::from((Ipv4Addr::LOCALHOST, port)),
                password: settings.password.clone(),
            };
            match process.start(&probe, settings.startup_timeout) {
                Ok(()) => {
                    let mut node = ClusterNode {
                        process,
                        port,
                        bus_port,
                        tls_port,
                        id: String::new(),
                        password: settings.password.clone(),
                        startup_timeout: settings.startup_timeout,
                        primary: Mutex::new(None),
                        dir,
                    };
                    node.id = match node.checked(&["CLUSTER", "MYID"])? {
                        Frame::Bulk(id) | Frame::Simple(id) => {
                            String::from_utf8_lossy(&id).into_owned()
                        }
                        other => {
                            return Err(io::Error::other(format!(
                                "CLUSTER MYID on {} answered {other:?}",
                                node.addr()
                            )))
                        }
                    };
                    return Ok(node);
                }
                Err(StartError::PortTaken) => continue,
                Err(StartError::Failed(e)) => return Err(e),
            }
        }
        Err(io::Error::new(
            io::ErrorKind::AddrInUse,
            format!("a cluster node lost the race for free ports {START_ATTEMPTS} times"),
        ))
    }

    /// The node's client port on 127.0.0.1; it stays the same across restarts.
    ///
    /// ```no_run
    /// let cluster = redwire_testkit::RedisCluster::start()?;
    /// assert_ne!(cluster.nodes()[0].port(), 0);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The node's cluster bus port (`cluster-port`), a free port of its own
    /// rather than `port + 10000`.
    ///
    /// ```no_run
    /// let cluster = redwire_testkit::RedisCluster::start()?;
    /// let node = &cluster.nodes()[0];
    /// assert_ne!(node.bus_port(), node.port());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn bus_port(&self) -> u16 {
        self.bus_port
    }

    /// `127.0.0.1:port`, the address the other nodes announce for it (in
    /// `-MOVED`/`-ASK` redirects and `CLUSTER SLOTS`).
    ///
    /// ```no_run
    /// let cluster = redwire_testkit::RedisCluster::start()?;
    /// let stream = std::net::TcpStream::connect(cluster.nodes()[0].addr())?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn addr(&self) -> SocketAddr {
        SocketAddr::from((Ipv4Addr::LOCALHOST, self.port))
    }

    /// `redis://127.0.0.1:PORT`, or `redis://:PASSWORD@127.0.0.1:PORT` when the
    /// cluster has a password.
    ///
    /// ```no_run
    /// let cluster = redwire_testkit::RedisCluster::start()?;
    /// let node = &cluster.nodes()[0];
    /// assert_eq!(node.url(), format!("redis://127.0.0.1:{}", node.port()));
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn url(&self) -> String {
        match &self.password {
            Some(pw) => format!("redis://:{}@127.0.0.1:{}", percent_encode(pw), self.port),
            None => format!("redis://127.0.0.1:{}", self.port),
        }
    }

    /// The port the other nodes reach this one's clients on (`MIGRATE`):
    /// the TLS port in a TLS cluster, else the plain one.
    pub(crate) fn client_port_for_nodes(&self) -> u16 {
        self.tls_port.unwrap_or(self.port)
    }

    /// `rediss://127.0.0.1:TLS_PORT` (with the password, if any) when the
    /// cluster serves TLS ([`tls`](super::RedisClusterBuilder::tls)).
    ///
    /// ```no_run
    /// let cluster = redwire_testkit::RedisCluster::builder().tls(true).start()?;
    /// assert!(cluster.nodes()[0].tls_url().is_some());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn tls_url(&self) -> Option<String> {
        let port = self.tls_port?;
        Some(match &self.password {
            Some(pw) => format!("rediss://:{}@127.0.0.1:{port}", percent_encode(pw)),
            None => format!("rediss://127.0.0.1:{port}"),
        })
    }

    /// The node's cluster id (`CLUSTER MYID`), 40 hex digits; kept across
    /// restarts.
    ///
    /// ```no_run
    /// let cluster = redwire_testkit::RedisCluster::start()?;
    /// assert_eq!(cluster.nodes()[0].id().len(), 40);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Primary or replica, as the cluster last agreed (see the type's docs).
    ///
    /// ```no_run
    /// use redwire_testkit::{NodeRole, RedisCluster};
    ///
    /// let cluster = RedisCluster::start()?;
    /// let replicas = cluster.nodes().iter().filter(|n| n.role() == NodeRole::Replica);
    /// assert_eq!(replicas.count(), 3);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn role(&self) -> NodeRole {
        match *self.primary_slot() {
            None => NodeRole::Primary,
            Some(_) => NodeRole::Replica,
        }
    }

    /// True when [`role`](Self::role) is [`NodeRole::Primary`].
    ///
    /// ```no_run
    /// let cluster = redwire_testkit::RedisCluster::start()?;
    /// assert!(cluster.primaries().iter().all(|n| n.is_primary()));
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn is_primary(&self) -> bool {
        self.role() == NodeRole::Primary
    }

    /// For a replica, the node id of its primary; `None` for a primary.
    ///
    /// ```no_run
    /// let cluster = redwire_testkit::RedisCluster::start()?;
    /// let primary = cluster.primaries()[0];
    /// let replica = cluster.replicas_of(primary.id())[0];
    /// assert_eq!(replica.primary_id().as_deref(), Some(primary.id()));
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn primary_id(&self) -> Option<String> {
        self.primary_slot().clone()
    }

    /// Sends one command over a fresh blocking connection (logging in with the
    /// cluster's password if it has one) and returns the reply. A server error,
    /// `-MOVED` and `-ASK` included, comes back as `Ok(Frame::Error(..))`; only
    /// I/O and protocol trouble is an `Err`. Redirects are not followed: this
    /// talks to exactly this node.
    ///
    /// ```no_run
    /// use redwire_testkit::{Frame, RedisCluster};
    ///
    /// let cluster = RedisCluster::start()?;
    /// let node = cluster.node_for_key("greeting");
    /// assert_eq!(node.command(&["SET", "greeting", "hello"])?, Frame::Simple("OK".into()));
    /// assert_eq!(node.command(&["GET", "greeting"])?, Frame::Bulk("hello".into()));
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn command<A: AsRef<[u8]>>(&self, args: &[A]) -> io::Result<Frame> {
        self.connect(Duration::from_secs(5))?.command(args)
    }

    /// The pid of the running process, `None` while killed.
    ///
    /// ```no_run
    /// let cluster = redwire_testkit::RedisCluster::start()?;
    /// println!("first node is pid {}", cluster.nodes()[0].pid().unwrap());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn pid(&self) -> Option<u32> {
        self.process.pid()
    }

    /// True while the process is alive.
    ///
    /// ```no_run
    /// let cluster = redwire_testkit::RedisCluster::start()?;
    /// let node = &cluster.nodes()[5];
    /// cluster.kill(node);
    /// assert!(!node.is_running());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn is_running(&self) -> bool {
        self.process.is_running()
    }

    /// Everything the node wrote to stdout and stderr, across restarts.
    ///
    /// ```no_run
    /// let cluster = redwire_testkit::RedisCluster::start()?;
    /// assert!(cluster.nodes()[0].log().contains("Cluster state changed: ok"));
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn log(&self) -> String {
        self.process.log()
    }

    /// The node's temp dir (config, `nodes-<port>.conf`, log); removed on drop.
    ///
    /// ```no_run
    /// let cluster = redwire_testkit::RedisCluster::start()?;
    /// let node = &cluster.nodes()[0];
    /// assert!(node.dir().join(format!("nodes-{}.conf", node.port())).exists());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// A blocking connection, logged in.
    pub(crate) fn connect(&self, timeout: Duration) -> io::Result<BlockingConn> {
        let mut conn = BlockingConn::connect(self.addr(), timeout)?;
        if let Some(password) = &self.password {
            conn.auth(password)?;
        }
        Ok(conn)
    }

    /// Like [`command`](Self::command), but an error reply becomes an `Err` that
    /// names the node and the command.
    pub(crate) fn checked<A: AsRef<[u8]>>(&self, args: &[A]) -> io::Result<Frame> {
        match self.command(args)? {
            Frame::Error(e) | Frame::BulkError(e) => Err(io::Error::other(format!(
                "{} on {} answered: {}",
                describe(args),
                self.addr(),
                String::from_utf8_lossy(&e)
            ))),
            reply => Ok(reply),
        }
    }

    /// Its `nodes.conf`, and the copy [`kill`](Self::kill) keeps of it.
    fn nodes_files(&self) -> (PathBuf, PathBuf) {
        let file = self.dir.path().join(format!("nodes-{}.conf", self.port));
        let copy = file.with_extension("conf.before-kill");
        (file, copy)
    }

    /// Kills the process; keeps a copy of its `nodes.conf` first, since a
    /// server killed while it rewrites the file (Valkey 8.0 rewrites it in
    /// place) leaves it corrupted, and could not start again.
    pub(crate) fn kill(&self) {
        let (file, copy) = self.nodes_files();
        let _ = std::fs::copy(&file, &copy);
        self.process.kill();
    }

    /// Starts the process again with the same config, ports and `nodes.conf`
    /// (killing it first if it runs), waiting for the ports to come free.
    /// A `nodes.conf` the kill left corrupted is replaced by the copy taken
    /// before it.
    pub(crate) fn restart(&self) -> io::Result<()> {
        let probe = Probe {
            addr: self.addr(),
            password: self.password.clone(),
        };
        let ports = format!("port {} or bus port {}", self.port, self.bus_port);
        match self.process.restart(&probe, self.startup_timeout, &ports) {
            Err(e) if e.to_string().contains("corrupted cluster config file") => {
                let (file, copy) = self.nodes_files();
                std::fs::copy(&copy, &file).map_err(|c| {
                    io::Error::other(format!("{e}\n(and its copy from before the kill: {c})"))
                })?;
                eprintln!(
                    "testkit: node {} restarts from the nodes.conf kept before its kill",
                    self.addr()
                );
                self.process.restart(&probe, self.startup_timeout, &ports)
            }
            other => other,
        }
    }

    pub(crate) fn set_primary(&self, primary: Option<String>) {
        *self.primary_slot() = primary;
    }

    fn primary_slot(&self) -> MutexGuard<'_, Option<String>> {
        self.primary.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl std::fmt::Debug for ClusterNode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClusterNode")
            .field("id", &self.id)
            .field("addr", &self.addr())
            .field("bus_port", &self.bus_port)
            .field("role", &self.role())
            .field("pid", &self.pid())
            .field("dir", &self.dir.path())
            .finish_non_exhaustive()
    }
}

/// The config file of one cluster node.
fn render_config(
    settings: &ClusterSettings,
    dir: &Path,
    port: u16,
    bus_port: u16,
    tls_port: Option<u16>,
) -> String {
    let nodes_file: PathBuf = dir.join(format!("nodes-{port}.conf"));
    let mut conf = String::new();
    let mut line = |text: String| {
        conf.push_str(&text);
        conf.push('\n');
    };
    line("# Written by redwire-testkit for one cluster test; only nodes.conf is kept.".into());
    line("bind 127.0.0.1".into());
    line(format!("port {port}"));
    line("daemonize no".into());
    line("save \"\"".into());
    line("appendonly no".into());
    line(format!("dir {}", quote(&dir.to_string_lossy())));
    line("enable-debug-command yes".into());
    line("cluster-enabled yes".into());
    line(format!(
        "cluster-config-file {}",
        quote(&nodes_file.to_string_lossy())
    ));
    line(format!("cluster-port {bus_port}"));
    line(format!(
        "cluster-node-timeout {}",
        settings.node_timeout.as_millis()
    ));
    // A replica may always take over, however long its link was down; replicas
    // stay where they were put; a new replica syncs at once instead of waiting
    // five seconds for others to join the same transfer.
    line("cluster-replica-validity-factor 0".into());
    line("cluster-allow-replica-migration no".into());
    line("repl-diskless-sync yes".into());
    line("repl-diskless-sync-delay 0".into());
    if let Some(password) = &settings.password {
        line(format!("requirepass {}", quote(password)));
        line(format!("masterauth {}", quote(password)));
    }
    if let (Some(tls), Some(tls_port)) = (&settings.tls, tls_port) {
        let files = &tls.0;
        let path = |p: &Path| quote(&p.to_string_lossy());
        line(format!("tls-port {tls_port}"));
        line(format!("tls-cert-file {}", path(&files.server_cert)));
        line(format!("tls-key-file {}", path(&files.server_key)));
        line(format!("tls-ca-cert-file {}", path(&files.ca_cert)));
        line("tls-auth-clients optional".into());
        // The bus and replication on TLS: a TLS client is told TLS ports.
        line("tls-cluster yes".into());
        line("tls-replication yes".into());
    }
    for extra in &settings.config {
        line(extra.clone());
    }
    conf
}

/// A command for an error message: its arguments, lossily, space-separated.
fn describe<A: AsRef<[u8]>>(args: &[A]) -> String {
    let words: Vec<String> = args
        .iter()
        .take(8)
        .map(|a| String::from_utf8_lossy(a.as_ref()).into_owned())
        .collect();
    let mut text = words.join(" ");
    if args.len() > 8 {
        text.push_str(" ...");
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_commands_are_shortened_in_messages() {
        assert_eq!(describe(&["CLUSTER", "MYID"]), "CLUSTER MYID");
        let many: Vec<String> = (0..10).map(|i| i.to_string()).collect();
        assert_eq!(describe(&many), "0 1 2 3 4 5 6 7 ...");
    }

    #[test]
    fn config_values_and_passwords_are_escaped() {
        assert_eq!(quote(r#"a b"c"#), r#""a b\"c""#);
        assert_eq!(percent_encode("p@ss"), "p%40ss");
    }
}
