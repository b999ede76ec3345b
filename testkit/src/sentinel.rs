//! [`RedisSentinel`]: a primary, one replica and three Sentinels watching them
//! as `mymaster`, all real processes on free ports, with failover on command.

use crate::binary::find_redis_server;
use crate::blocking::BlockingConn;
use crate::ports::free_port;
use crate::process::{Launch, Probe, RedisProcess, StartError};
use crate::server::RedisServer;
use redwire_resp::Frame;
use std::collections::HashMap;
use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use tempfile::TempDir;

/// The name the Sentinels monitor the primary under.
const MASTER_NAME: &str = "mymaster";
/// How many Sentinels run; with a quorum of two, one can be lost.
const SENTINELS: usize = 3;
const QUORUM: usize = 2;
/// Fast timings so a failover takes seconds, not minutes.
///
/// `down-after-milliseconds` must stay well above one second. After every
/// switch of primary a Sentinel starts its "no answer since" clock for the new
/// primary at once, but may wait up to a second (its fixed reconnect and ping
/// period) before it sends the first PING. At 500 ms every Sentinel therefore
/// marks the fresh primary down and fails over a second time, straight onto
/// whatever the other node is (an empty restarted one, say).
const DOWN_AFTER_MS: u64 = 2000;
const FAILOVER_TIMEOUT_MS: u64 = 2000;
/// How many times a Sentinel picks a new port after losing a port race.
const START_ATTEMPTS: usize = 20;
/// How long [`RedisSentinel::start`] waits for the topology to form.
const FORM_TIMEOUT: Duration = Duration::from_secs(20);
/// How long a failover (forced or after a kill) may take. An election that
/// splits is retried only after twice the failover timeout, so leave room.
const FAILOVER_WAIT: Duration = Duration::from_secs(30);
/// How many lines of each log a panicking test prints.
const LOG_TAIL_LINES: usize = 200;

/// A Sentinel-monitored set-up for one test: a primary, a replica of it and
/// three Sentinels (quorum 2) that watch it as `"mymaster"`, each process on a
/// free port of `127.0.0.1` with its own temp dir, all killed when dropped.
///
/// The timings are short (`down-after-milliseconds 2000`, `failover-timeout
/// 2000`, `parallel-syncs 1`), so a dead primary is replaced within about
/// four seconds. [`start`](RedisSentinel::start) returns once the replica is in
/// sync and every Sentinel knows the primary, the replica and the two other
/// Sentinels. [`failover`](RedisSentinel::failover) and
/// [`kill_primary`](RedisSentinel::kill_primary) swap the roles and wait until
/// all Sentinels agree; [`primary`](RedisSentinel::primary) and
/// [`replica`](RedisSentinel::replica) follow them.
///
/// If the test panics, dropping the set-up prints the tail of every Sentinel's
/// log and the logs of both data nodes.
///
/// ```no_run
/// use redwire_testkit::RedisSentinel;
///
/// let sentinel = RedisSentinel::start()?;
/// // connect the client under test to sentinel.sentinel_urls() with
/// // master name sentinel.master_name(), then:
/// sentinel.primary().command(&["SET", "k", "v"])?;
/// let new_primary = sentinel.failover()?;
/// assert_eq!(new_primary, sentinel.primary().addr());
/// assert_eq!(sentinel.current_primary_addr()?, new_primary);
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct RedisSentinel {
    // Field order matters: the Sentinels go first, so none of them reacts to
    // the data nodes dying one after the other.
    sentinels: Vec<SentinelProcess>,
    nodes: [RedisServer; 2],
    /// Which of `nodes` the Sentinels last agreed is the primary.
    primary: AtomicUsize,
}

/// One `redis-server --sentinel` process.
struct SentinelProcess {
    // The process must die before its directory goes.
    process: RedisProcess,
    port: u16,
    dir: TempDir,
    /// Its own password (`requirepass`), if any.
    password: Option<String>,
}

/// The passwords of a set-up: the data nodes' (`requirepass`, `masterauth`,
/// and the Sentinels' `auth-pass`) and the Sentinels' own (`requirepass`
/// and `sentinel-pass` of each Sentinel).
#[derive(Debug, Clone, Default)]
struct Passwords {
    data: Option<String>,
    sentinel: Option<String>,
}

impl SentinelProcess {
    fn start(
        binary: &Path,
        primary_port: u16,
        passwords: &Passwords,
    ) -> io::Result<SentinelProcess> {
        let dir = tempfile::Builder::new()
            .prefix("redwire-sentinel-")
            .tempdir()?;
        let config_path = dir.path().join("sentinel.conf");
        let process = RedisProcess::new(Launch {
            binary: binary.to_path_buf(),
            config_path: config_path.clone(),
            log_path: dir.path().join("sentinel.log"),
            dir: dir.path().to_path_buf(),
            extra_args: vec!["--sentinel".into()],
        });
        for _ in 0..START_ATTEMPTS {
            let port = free_port()?;
            // Written afresh on every attempt: Sentinel rewrites its config
            // file (its id, what it learned), so it must be writable.
            std::fs::write(
                &config_path,
                sentinel_config(port, primary_port, dir.path(), passwords),
            )?;
            let probe = Probe {
                addr: SocketAddr::from((Ipv4Addr::LOCALHOST, port)),
                password: passwords.sentinel.clone(),
            };
            match process.start(&probe, Duration::from_secs(10)) {
                Ok(()) => {
                    return Ok(SentinelProcess {
                        process,
                        port,
                        dir,
                        password: passwords.sentinel.clone(),
                    })
                }
                Err(StartError::PortTaken) => continue,
                Err(StartError::Failed(e)) => return Err(e),
            }
        }
        Err(io::Error::new(
            io::ErrorKind::AddrInUse,
            format!("redis-server --sentinel lost the race for a free port {START_ATTEMPTS} times"),
        ))
    }

    fn addr(&self) -> SocketAddr {
        SocketAddr::from((Ipv4Addr::LOCALHOST, self.port))
    }

    fn command<A: AsRef<[u8]>>(&self, args: &[A]) -> io::Result<Frame> {
        let mut conn = BlockingConn::connect(self.addr(), Duration::from_secs(5))?;
        if let Some(password) = &self.password {
            conn.auth(password)?;
        }
        conn.command(args)
    }

    /// `SENTINEL <sub> mymaster` as a list of field maps, one per instance.
    fn instances(&self, sub: &str) -> io::Result<Vec<HashMap<String, String>>> {
        match self.command(&["SENTINEL", sub, MASTER_NAME])? {
            Frame::Array(items) => items.iter().map(field_map).collect(),
            other => Err(unexpected(&format!("SENTINEL {sub}"), &other)),
        }
    }

    /// What this Sentinel says the primary's address is.
    fn primary_addr(&self) -> io::Result<SocketAddr> {
        let reply = self.command(&["SENTINEL", "GET-MASTER-ADDR-BY-NAME", MASTER_NAME])?;
        match &reply {
            Frame::Array(parts) if parts.len() == 2 => {
                let ip = text(&parts[0]).and_then(|s| s.parse().ok());
                let port = text(&parts[1]).and_then(|s| s.parse().ok());
                match (ip, port) {
                    (Some(ip), Some(port)) => Ok(SocketAddr::new(ip, port)),
                    _ => Err(unexpected("SENTINEL GET-MASTER-ADDR-BY-NAME", &reply)),
                }
            }
            _ => Err(unexpected("SENTINEL GET-MASTER-ADDR-BY-NAME", &reply)),
        }
    }
}

fn sentinel_config(port: u16, primary_port: u16, dir: &Path, passwords: &Passwords) -> String {
    let dir = dir
        .to_string_lossy()
        .replace('\\', "\\\\")
        .replace('"', "\\\"");
    let mut auth = String::new();
    if let Some(pw) = &passwords.data {
        auth.push_str(&format!("sentinel auth-pass {MASTER_NAME} {pw}\n"));
    }
    if let Some(pw) = &passwords.sentinel {
        auth.push_str(&format!("requirepass {pw}\nsentinel sentinel-pass {pw}\n"));
    }
    format!(
        "# Written by redwire-testkit for one test; Sentinel adds to it.\n\
         bind 127.0.0.1\n\
         port {port}\n\
         daemonize no\n\
         dir \"{dir}\"\n\
         sentinel monitor {MASTER_NAME} 127.0.0.1 {primary_port} {QUORUM}\n\
         sentinel down-after-milliseconds {MASTER_NAME} {DOWN_AFTER_MS}\n\
         sentinel failover-timeout {MASTER_NAME} {FAILOVER_TIMEOUT_MS}\n\
         sentinel parallel-syncs {MASTER_NAME} 1\n\
         {auth}"
    )
}

/// Builds a [`RedisSentinel`] with passwords: the data nodes' and the
/// Sentinels' own, apart.
///
/// ```no_run
/// let sentinel = redwire_testkit::RedisSentinel::builder().sentinel_password("watch").start()?;
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct RedisSentinelBuilder {
    passwords: Passwords,
}

impl RedisSentinelBuilder {
    /// The data nodes' password (`requirepass` and `masterauth` on both,
    /// `auth-pass` on the Sentinels).
    ///
    /// ```no_run
    /// let sentinel = redwire_testkit::RedisSentinel::builder().password("pw").start()?;
    /// assert_eq!(sentinel.primary().password(), Some("pw"));
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn password(mut self, password: impl Into<String>) -> Self {
        self.passwords.data = Some(password.into());
        self
    }

    /// The Sentinels' own password (`requirepass`, and `sentinel-pass` for
    /// talking to each other).
    ///
    /// ```no_run
    /// let sentinel = redwire_testkit::RedisSentinel::builder().sentinel_password("watch").start()?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn sentinel_password(mut self, password: impl Into<String>) -> Self {
        self.passwords.sentinel = Some(password.into());
        self
    }

    /// Starts the set-up, as [`RedisSentinel::start`] does.
    ///
    /// ```no_run
    /// let sentinel = redwire_testkit::RedisSentinel::builder().start()?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn start(self) -> io::Result<RedisSentinel> {
        RedisSentinel::start_with(self.passwords)
    }
}

impl RedisSentinel {
    /// Starts the primary, its replica and three Sentinels, and waits until
    /// the replica is in sync and every Sentinel reports the primary and sees
    /// the replica and the two other Sentinels (a few seconds: Sentinels find
    /// each other through hello messages sent every two seconds).
    ///
    /// Uses the `redis-server` that [`RedisServer`] uses; fails with the logs
    /// when the set-up does not form within 20 s.
    ///
    /// ```no_run
    /// let sentinel = redwire_testkit::RedisSentinel::start()?;
    /// assert_eq!(sentinel.sentinel_addrs().len(), 3);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn start() -> io::Result<RedisSentinel> {
        RedisSentinel::builder().start()
    }

    /// A builder, for passwords.
    ///
    /// ```no_run
    /// let sentinel = redwire_testkit::RedisSentinel::builder()
    ///     .password("data-pw")
    ///     .sentinel_password("sentinel-pw")
    ///     .start()?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn builder() -> RedisSentinelBuilder {
        RedisSentinelBuilder::default()
    }

    fn start_with(passwords: Passwords) -> io::Result<RedisSentinel> {
        let binary = find_redis_server()?;
        let data_node = || {
            let mut builder = RedisServer::builder()
                .binary(&binary)
                // Both nodes may serve a full sync; without this it waits 5 s.
                .config("repl-diskless-sync-delay 0");
            if let Some(pw) = &passwords.data {
                builder = builder
                    .password(pw.clone())
                    .config(format!("masterauth {pw}"));
            }
            builder
        };
        let primary = data_node().start()?;
        let replica = data_node()
            .config(format!("replicaof 127.0.0.1 {}", primary.port()))
            .start()?;
        let deadline = Instant::now() + FORM_TIMEOUT;
        wait_for(deadline, "the replica to sync with the primary", || {
            replica_of(&replica, primary.port())
        })
        .map_err(|e| with_logs(e, &[&primary, &replica], &[]))?;

        let mut sentinels = Vec::with_capacity(SENTINELS);
        for _ in 0..SENTINELS {
            sentinels.push(SentinelProcess::start(&binary, primary.port(), &passwords)?);
        }
        let set_up = RedisSentinel {
            sentinels,
            nodes: [primary, replica],
            primary: AtomicUsize::new(0),
        };
        set_up
            .wait_for_sentinels(deadline, "the Sentinels to find each other", true)
            .map_err(|e| set_up.with_all_logs(e))?;
        Ok(set_up)
    }

    /// The name the Sentinels monitor the primary under: `"mymaster"`.
    ///
    /// ```no_run
    /// let sentinel = redwire_testkit::RedisSentinel::start()?;
    /// assert_eq!(sentinel.master_name(), "mymaster");
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn master_name(&self) -> &str {
        MASTER_NAME
    }

    /// The three Sentinels' addresses, `127.0.0.1:port` each.
    ///
    /// ```no_run
    /// let sentinel = redwire_testkit::RedisSentinel::start()?;
    /// for addr in sentinel.sentinel_addrs() {
    ///     std::net::TcpStream::connect(addr)?;
    /// }
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn sentinel_addrs(&self) -> Vec<SocketAddr> {
        self.sentinels.iter().map(SentinelProcess::addr).collect()
    }

    /// The three Sentinels as `redis://127.0.0.1:PORT` URLs.
    ///
    /// ```no_run
    /// let sentinel = redwire_testkit::RedisSentinel::start()?;
    /// assert!(sentinel.sentinel_urls()[0].starts_with("redis://127.0.0.1:"));
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn sentinel_urls(&self) -> Vec<String> {
        self.sentinels
            .iter()
            .map(|s| format!("redis://127.0.0.1:{}", s.port))
            .collect()
    }

    /// Sends one command to Sentinel `index` (0, 1 or 2) over a fresh
    /// connection and returns the reply; an error reply is `Ok(Frame::Error)`.
    ///
    /// Panics if `index` is out of range.
    ///
    /// ```no_run
    /// let sentinel = redwire_testkit::RedisSentinel::start()?;
    /// let replicas = sentinel.sentinel_command(0, &["SENTINEL", "REPLICAS", "mymaster"])?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn sentinel_command<A: AsRef<[u8]>>(&self, index: usize, args: &[A]) -> io::Result<Frame> {
        self.sentinels[index].command(args)
    }

    /// The data node that is the primary: the one started as primary, or the
    /// one the last [`failover`](Self::failover) or
    /// [`kill_primary`](Self::kill_primary) promoted. It is a full
    /// [`RedisServer`]: `port`, `url`, `command`, `log`, `stop`, `restart`.
    ///
    /// Stopping or restarting it by hand is allowed, but if it stays away
    /// longer than two seconds the Sentinels fail over without telling this
    /// set-up; [`kill_primary`](Self::kill_primary) is the tracked way.
    ///
    /// ```no_run
    /// let sentinel = redwire_testkit::RedisSentinel::start()?;
    /// sentinel.primary().command(&["SET", "k", "v"])?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn primary(&self) -> &RedisServer {
        &self.nodes[self.primary.load(Ordering::SeqCst)]
    }

    /// The other data node: the replica, or after
    /// [`kill_primary`](Self::kill_primary) the killed old primary (until
    /// [`restart_replica`](Self::restart_replica) brings it back).
    ///
    /// ```no_run
    /// use redwire_testkit::Frame;
    ///
    /// let sentinel = redwire_testkit::RedisSentinel::start()?;
    /// sentinel.primary().command(&["SET", "k", "v"])?;
    /// sentinel.primary().command(&["WAIT", "1", "1000"])?;
    /// assert_eq!(sentinel.replica().command(&["GET", "k"])?, Frame::Bulk("v".into()));
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn replica(&self) -> &RedisServer {
        &self.nodes[1 - self.primary.load(Ordering::SeqCst)]
    }

    /// Asks the Sentinels (`SENTINEL GET-MASTER-ADDR-BY-NAME mymaster`) where
    /// the primary is; the first Sentinel that answers decides.
    ///
    /// ```no_run
    /// let sentinel = redwire_testkit::RedisSentinel::start()?;
    /// assert_eq!(sentinel.current_primary_addr()?, sentinel.primary().addr());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn current_primary_addr(&self) -> io::Result<SocketAddr> {
        let mut last_error = None;
        for sentinel in &self.sentinels {
            match sentinel.primary_addr() {
                Ok(addr) => return Ok(addr),
                Err(e) => last_error = Some(e),
            }
        }
        Err(last_error.unwrap_or_else(|| io::Error::other("no Sentinel is running")))
    }

    /// Forces a failover (`SENTINEL FAILOVER mymaster`) and returns the new
    /// primary's address (the old replica's).
    ///
    /// First it pauses writes on the primary (`CLIENT PAUSE WRITE`) and
    /// waits (up to 1 s, `WAIT 1 1000`) until the replica has every write
    /// made so far, so nothing a client was told is written is lost: writes
    /// sent meanwhile wait, then fail with `READONLY` once the old primary
    /// is a replica (it is unpaused then). It returns when all
    /// Sentinels report the new primary, the new primary says `role:master`
    /// and the old primary is its replica with the link up. (Sentinel itself
    /// would demote the old primary only some seconds later; this set-up sends
    /// it the same `REPLICAOF` right away.) [`primary`](Self::primary) and
    /// [`replica`](Self::replica) swap.
    ///
    /// ```no_run
    /// let sentinel = redwire_testkit::RedisSentinel::start()?;
    /// let old = sentinel.primary().addr();
    /// let new = sentinel.failover()?;
    /// assert_eq!(sentinel.replica().addr(), old);
    /// let back = sentinel.failover()?; // and back again
    /// assert_eq!(back, old);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn failover(&self) -> io::Result<SocketAddr> {
        let old = self.primary.load(Ordering::SeqCst);
        let new = 1 - old;
        // Coordinated, like `CLUSTER FAILOVER`: writes to the old primary
        // wait (paused) from here on, and once it is a replica they fail
        // with READONLY, so none is acknowledged and then lost with the
        // switch. Best effort: a primary that is down has nothing more to
        // hand over.
        let _ = self.nodes[old].command(&["CLIENT", "PAUSE", "10000", "WRITE"]);
        let _ = self.nodes[old].command(&["WAIT", "1", "1000"]);
        let deadline = Instant::now() + FAILOVER_WAIT;
        wait_for(deadline, "a Sentinel to accept SENTINEL FAILOVER", || {
            // Right after a restart a Sentinel may not yet think the replica
            // is fit (NOGOODSLAVE), or a failover may still be running
            // (INPROG); both pass.
            match self.sentinels[0].command(&["SENTINEL", "FAILOVER", MASTER_NAME]) {
                Ok(Frame::Simple(_)) => Ok(()),
                Ok(other) => Err(format!("SENTINEL FAILOVER answered {other:?}")),
                Err(e) => Err(e.to_string()),
            }
        })
        .map_err(|e| self.with_all_logs(e))?;
        self.await_promotion(new, deadline)?;
        if self.nodes[old].is_running() {
            let new_port = self.nodes[new].port().to_string();
            self.nodes[old].command(&["REPLICAOF", "127.0.0.1", &new_port])?;
            wait_for(deadline, "the old primary to sync with the new one", || {
                replica_of(&self.nodes[old], self.nodes[new].port())
            })
            .map_err(|e| self.with_all_logs(e))?;
            self.nodes[old].command(&["CLIENT", "UNPAUSE"])?;
        }
        Ok(self.nodes[new].addr())
    }

    /// Kills the primary (SIGKILL, like a crash) and waits until the
    /// Sentinels have promoted the replica: all of them report it and it says
    /// `role:master`. Returns its address; [`primary`](Self::primary) and
    /// [`replica`](Self::replica) swap, so `replica()` is then the dead node.
    ///
    /// This takes about four seconds (two to notice, then a vote) and
    /// fails with the logs after 30 s.
    ///
    /// ```no_run
    /// let sentinel = redwire_testkit::RedisSentinel::start()?;
    /// let survivor = sentinel.replica().addr();
    /// assert_eq!(sentinel.kill_primary()?, survivor);
    /// assert!(!sentinel.replica().is_running());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn kill_primary(&self) -> io::Result<SocketAddr> {
        let old = self.primary.load(Ordering::SeqCst);
        let new = 1 - old;
        self.nodes[old].stop();
        self.await_promotion(new, Instant::now() + FAILOVER_WAIT)?;
        Ok(self.nodes[new].addr())
    }

    /// Restarts the [`replica`](Self::replica) node (killing it first if it
    /// runs), makes it a replica of the current primary and waits until its
    /// link is up and every Sentinel sees it as a healthy replica. After
    /// [`kill_primary`](Self::kill_primary) this brings the old primary back,
    /// empty, as the new replica.
    ///
    /// To crash and restart the primary itself, use
    /// `primary().stop()` / `primary().restart()`; the Sentinels fail over if
    /// it stays away longer than two seconds.
    ///
    /// ```no_run
    /// let sentinel = redwire_testkit::RedisSentinel::start()?;
    /// sentinel.kill_primary()?;
    /// sentinel.restart_replica()?;
    /// assert!(sentinel.replica().is_running());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn restart_replica(&self) -> io::Result<()> {
        let primary = self.primary();
        let replica = self.replica();
        replica.restart()?;
        let primary_port = primary.port().to_string();
        replica.command(&["REPLICAOF", "127.0.0.1", &primary_port])?;
        let deadline = Instant::now() + FAILOVER_WAIT;
        wait_for(deadline, "the restarted replica to sync", || {
            replica_of(replica, primary.port())
        })
        .and_then(|()| self.wait_for_sentinels(deadline, "the Sentinels to see the replica", false))
        .map_err(|e| self.with_all_logs(e))
    }

    /// Waits until node `new` is the primary by every Sentinel's word and its
    /// own, then records it as the primary.
    fn await_promotion(&self, new: usize, deadline: Instant) -> io::Result<()> {
        let want = self.nodes[new].addr();
        wait_for(deadline, "the Sentinels to promote the replica", || {
            for (i, sentinel) in self.sentinels.iter().enumerate() {
                let addr = sentinel.primary_addr().map_err(|e| e.to_string())?;
                if addr != want {
                    return Err(format!("Sentinel {i} still reports {addr}"));
                }
            }
            match info_field(&self.nodes[new], "replication", "role") {
                Some(role) if role == "master" => Ok(()),
                role => Err(format!("{want} reports role {role:?}")),
            }
        })
        .map_err(|e| self.with_all_logs(e))?;
        self.primary.store(new, Ordering::SeqCst);
        Ok(())
    }

    /// Waits until every Sentinel reports the primary, sees the replica as a
    /// healthy replica (with its link up, if `link_ok`) and knows the others.
    fn wait_for_sentinels(&self, deadline: Instant, what: &str, link_ok: bool) -> io::Result<()> {
        let primary = self.primary().addr();
        let replica_port = self.replica().port().to_string();
        wait_for(deadline, what, || {
            for (i, sentinel) in self.sentinels.iter().enumerate() {
                let problem = |p: String| format!("Sentinel {i} ({}): {p}", sentinel.addr());
                let reported = sentinel
                    .primary_addr()
                    .map_err(|e| problem(e.to_string()))?;
                if reported != primary {
                    return Err(problem(format!("reports primary {reported}")));
                }
                let replicas = sentinel
                    .instances("REPLICAS")
                    .map_err(|e| problem(e.to_string()))?;
                let replica = replicas
                    .iter()
                    .find(|r| r.get("port") == Some(&replica_port))
                    .ok_or_else(|| problem(format!("does not list the replica: {replicas:?}")))?;
                if !healthy(replica, "slave")
                    || (link_ok
                        && replica.get("master-link-status").map(String::as_str) != Some("ok"))
                {
                    return Err(problem(format!("sees the replica as {replica:?}")));
                }
                let others = sentinel
                    .instances("SENTINELS")
                    .map_err(|e| problem(e.to_string()))?;
                let seen = others.iter().filter(|s| healthy(s, "sentinel")).count();
                if seen != SENTINELS - 1 {
                    return Err(problem(format!("sees other Sentinels {others:?}")));
                }
            }
            Ok(())
        })
    }

    /// Adds the tail of every log to an error, for failures outside a panic.
    fn with_all_logs(&self, error: io::Error) -> io::Error {
        let nodes: Vec<&RedisServer> = self.nodes.iter().collect();
        let sentinels: Vec<&SentinelProcess> = self.sentinels.iter().collect();
        with_logs(error, &nodes, &sentinels)
    }
}

impl Drop for RedisSentinel {
    fn drop(&mut self) {
        // The data nodes print their own logs when they drop; the Sentinels'
        // logs say who voted for what and when.
        if std::thread::panicking() {
            for (i, sentinel) in self.sentinels.iter().enumerate() {
                eprintln!(
                    "----- Sentinel {i} log tail (port {}, {}) -----\n{}----- end of Sentinel {i} log -----",
                    sentinel.port,
                    sentinel.dir.path().display(),
                    tail(&sentinel.process.log(), LOG_TAIL_LINES)
                );
            }
        }
    }
}

impl std::fmt::Debug for RedisSentinel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisSentinel")
            .field("master_name", &MASTER_NAME)
            .field("primary", &self.primary().addr())
            .field("replica", &self.replica().addr())
            .field("sentinels", &self.sentinel_addrs())
            .finish_non_exhaustive()
    }
}

/// Whether a Sentinel's view of an instance has the `role` flag and none that
/// says it is unreachable. Other flags pass: after a failover the other
/// Sentinels keep `master_down` (their vote) for some seconds.
fn healthy(instance: &HashMap<String, String>, role: &str) -> bool {
    let flags: Vec<&str> = instance
        .get("flags")
        .map(|f| f.split(',').collect())
        .unwrap_or_default();
    flags.contains(&role)
        && !flags
            .iter()
            .any(|f| matches!(*f, "s_down" | "o_down" | "disconnected"))
}

/// Polls `check` every 50 ms until it passes or `deadline` passes; the error
/// names what was awaited and the last problem seen.
fn wait_for(
    deadline: Instant,
    what: &str,
    mut check: impl FnMut() -> Result<(), String>,
) -> io::Result<()> {
    loop {
        let problem = match check() {
            Ok(()) => return Ok(()),
            Err(problem) => problem,
        };
        if Instant::now() >= deadline {
            return Err(io::Error::new(
                io::ErrorKind::TimedOut,
                format!("timed out waiting for {what} (last problem: {problem})"),
            ));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Whether `node` replicates from the primary on `primary_port` with its
/// link up.
fn replica_of(node: &RedisServer, primary_port: u16) -> Result<(), String> {
    let info = info(node, "replication").map_err(|e| e.to_string())?;
    let get = |key: &str| field(&info, key);
    match (get("role"), get("master_port"), get("master_link_status")) {
        (Some("slave"), Some(port), Some("up")) if port == primary_port.to_string() => Ok(()),
        _ => Err(format!("{} reports {}", node.addr(), info.trim())),
    }
}

fn info(node: &RedisServer, section: &str) -> io::Result<String> {
    match node.command(&["INFO", section])? {
        Frame::Bulk(b) | Frame::Verbatim { data: b, .. } => {
            Ok(String::from_utf8_lossy(&b).into_owned())
        }
        other => Err(unexpected("INFO", &other)),
    }
}

fn info_field(node: &RedisServer, section: &str, key: &str) -> Option<String> {
    field(&info(node, section).ok()?, key).map(str::to_owned)
}

fn field<'a>(info: &'a str, key: &str) -> Option<&'a str> {
    info.lines()
        .find_map(|line| line.strip_prefix(key)?.strip_prefix(':').map(str::trim))
}

/// A Sentinel instance description (a flat array of names and values in
/// RESP2, a map in RESP3) as a map.
fn field_map(frame: &Frame) -> io::Result<HashMap<String, String>> {
    let pairs: Vec<(&Frame, &Frame)> = match frame {
        Frame::Array(items) if items.len() % 2 == 0 => {
            items.chunks(2).map(|p| (&p[0], &p[1])).collect()
        }
        Frame::Map(pairs) => pairs.iter().map(|(k, v)| (k, v)).collect(),
        other => return Err(unexpected("a Sentinel instance", other)),
    };
    pairs
        .into_iter()
        .map(|(k, v)| match (text(k), text(v)) {
            (Some(k), Some(v)) => Ok((k, v)),
            _ => Err(unexpected("a Sentinel instance field", frame)),
        })
        .collect()
}

fn text(frame: &Frame) -> Option<String> {
    match frame {
        Frame::Bulk(b) | Frame::Simple(b) => Some(String::from_utf8_lossy(b).into_owned()),
        _ => None,
    }
}

fn unexpected(what: &str, frame: &Frame) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!("unexpected reply to {what}: {frame:?}"),
    )
}

/// The last `lines` lines of `log`.
fn tail(log: &str, lines: usize) -> &str {
    if lines == 0 {
        return "";
    }
    let body = log.strip_suffix('\n').unwrap_or(log);
    match body.rmatch_indices('\n').nth(lines - 1) {
        Some((i, _)) => &log[i + 1..],
        None => log,
    }
}

/// Appends the log tails of the given processes to an error's message.
fn with_logs(
    error: io::Error,
    nodes: &[&RedisServer],
    sentinels: &[&SentinelProcess],
) -> io::Error {
    let mut message = error.to_string();
    for node in nodes {
        message.push_str(&format!(
            "\n----- redis-server log tail (port {}) -----\n{}",
            node.port(),
            tail(&node.log(), LOG_TAIL_LINES)
        ));
    }
    for sentinel in sentinels {
        message.push_str(&format!(
            "\n----- Sentinel log tail (port {}) -----\n{}",
            sentinel.port,
            tail(&sentinel.process.log(), LOG_TAIL_LINES)
        ));
    }
    io::Error::new(error.kind(), message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tail_keeps_the_last_lines() {
        assert_eq!(tail("a\nb\nc\n", 2), "b\nc\n");
        assert_eq!(tail("a\nb\nc", 2), "b\nc");
        assert_eq!(tail("a\nb\n", 5), "a\nb\n");
        assert_eq!(tail("", 3), "");
    }

    #[test]
    fn info_fields_are_found_by_exact_name() {
        let info = "# Replication\r\nrole:slave\r\nmaster_port:6380\r\nmaster_link_status:up\r\n";
        assert_eq!(field(info, "role"), Some("slave"));
        assert_eq!(field(info, "master_port"), Some("6380"));
        assert_eq!(field(info, "master"), None);
    }

    #[test]
    fn an_instance_is_healthy_with_its_role_and_no_down_flag() {
        let with = |flags: &str| HashMap::from([("flags".to_string(), flags.to_string())]);
        assert!(healthy(&with("slave"), "slave"));
        assert!(healthy(&with("sentinel,master_down"), "sentinel"));
        assert!(!healthy(&with("s_down,slave,disconnected"), "slave"));
        assert!(!healthy(&with("sentinel,disconnected"), "sentinel"));
        assert!(!healthy(&with("master"), "slave"));
        assert!(!healthy(&HashMap::new(), "slave"));
    }

    #[test]
    fn the_sentinel_config_monitors_mymaster_with_quorum_two() {
        let conf = sentinel_config(26379, 6379, Path::new("/tmp/x"), &Passwords::default());
        assert!(
            conf.contains("sentinel monitor mymaster 127.0.0.1 6379 2\n"),
            "{conf}"
        );
        assert!(conf.contains("port 26379\n"), "{conf}");
    }
}
