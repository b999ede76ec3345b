//! [`RedisServer`]: a real, throwaway `redis-server` on a free port, with its own
//! temp dir, optional password, ACL users, unix socket and TLS.

use crate::binary::{check_explicit, find_redis_server};
use crate::blocking::BlockingConn;
use crate::identity::ServerIdentity;
use crate::ports::free_port;
use crate::process::{Launch, Probe, RedisProcess, StartError};
use crate::text::{percent_encode, quote};
#[cfg(feature = "tls-certs")]
use crate::tls::TestCa;
use crate::tls_files::TlsFiles;
use redwire_resp::Frame;
use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::Duration;
use tempfile::TempDir;

/// How many times a fresh start picks new ports after losing a port race.
const START_ATTEMPTS: usize = 20;

/// A `redis-server` process started for one test and killed when dropped.
///
/// It listens on `127.0.0.1` on a free port, keeps nothing on disk (`save ""`,
/// `appendonly no`, its `dir` a fresh temp dir removed on drop) and is ready to
/// answer when [`start`](RedisServer::start) returns. If the test panics, dropping
/// the server prints its log to stderr.
///
/// ```no_run
/// use redwire_testkit::{Frame, RedisServer};
///
/// let server = RedisServer::start()?;
/// assert_eq!(server.command(&["PING"])?, Frame::Simple("PONG".into()));
/// println!("connect the client under test to {}", server.url());
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct RedisServer {
    // Field order matters: the process must die before its directory goes.
    process: RedisProcess,
    settings: Settings,
    dir: TempDir,
}

/// What a server was started with; a restart reuses all of it.
struct Settings {
    port: u16,
    tls_port: Option<u16>,
    unix_socket: Option<PathBuf>,
    password: Option<String>,
    users: Vec<User>,
    extra_config: Vec<String>,
    tls: Option<TlsFiles>,
    config_path: PathBuf,
    startup_timeout: Duration,
}

#[derive(Clone)]
struct User {
    name: String,
    password: String,
    rules: String,
}

/// Options for a [`RedisServer`]; made by [`RedisServer::builder`].
///
/// ```no_run
/// use redwire_testkit::RedisServer;
///
/// let server = RedisServer::builder()
///     .password("pw")
///     .user("alice", "secret", "on ~* &* +@all")
///     .config("maxmemory 10mb")
///     .unix_socket(true)
///     .start()?;
/// assert_eq!(server.url(), format!("redis://:pw@127.0.0.1:{}", server.port()));
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Clone)]
#[must_use = "a builder does nothing until .start() is called"]
pub struct RedisServerBuilder {
    password: Option<String>,
    users: Vec<User>,
    config: Vec<String>,
    unix_socket: bool,
    tls: bool,
    binary: Option<PathBuf>,
    startup_timeout: Duration,
}

impl Default for RedisServerBuilder {
    fn default() -> Self {
        RedisServerBuilder {
            password: None,
            users: Vec::new(),
            config: Vec::new(),
            unix_socket: false,
            tls: false,
            binary: None,
            startup_timeout: Duration::from_secs(10),
        }
    }
}

impl RedisServerBuilder {
    /// Sets `requirepass`: the default user needs this password.
    ///
    /// ```no_run
    /// let server = redwire_testkit::RedisServer::builder().password("pw").start()?;
    /// assert_eq!(server.password(), Some("pw"));
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn password(mut self, password: impl Into<String>) -> Self {
        self.password = Some(password.into());
        self
    }

    /// Adds an ACL user with a password and ACL rules, as in
    /// `ACL SETUSER name >password rules...`.
    ///
    /// ```no_run
    /// let server = redwire_testkit::RedisServer::builder()
    ///     .user("reader", "secret", "on ~* &* +@read +ping +hello +auth")
    ///     .start()?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn user(
        mut self,
        name: impl Into<String>,
        password: impl Into<String>,
        rules: impl Into<String>,
    ) -> Self {
        self.users.push(User {
            name: name.into(),
            password: password.into(),
            rules: rules.into(),
        });
        self
    }

    /// Adds one line to the server's config file, such as `"maxmemory 10mb"`.
    ///
    /// ```no_run
    /// let server = redwire_testkit::RedisServer::builder()
    ///     .config("maxmemory 10mb")
    ///     .config("maxmemory-policy allkeys-lru")
    ///     .start()?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn config(mut self, line: impl Into<String>) -> Self {
        self.config.push(line.into());
        self
    }

    /// Also listens on a unix socket in the server's temp dir
    /// (see [`RedisServer::unix_socket_path`]).
    ///
    /// ```no_run
    /// let server = redwire_testkit::RedisServer::builder().unix_socket(true).start()?;
    /// assert!(server.unix_socket_path().unwrap().exists());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn unix_socket(mut self, enabled: bool) -> Self {
        self.unix_socket = enabled;
        self
    }

    /// Also listens for TLS on a second port, with a freshly generated test CA,
    /// server certificate (for `localhost` and `127.0.0.1`) and client
    /// certificate. Client certificates are optional (`tls-auth-clients optional`).
    /// Needs the `tls-certs` feature, which generates the certificates: without
    /// it, [`start`](Self::start) fails and says so.
    ///
    /// ```no_run
    /// let server = redwire_testkit::RedisServer::builder().tls(true).start()?;
    /// println!("{} trusting {}", server.tls_url().unwrap(),
    ///          server.tls_ca_cert_path().unwrap().display());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn tls(mut self, enabled: bool) -> Self {
        self.tls = enabled;
        self
    }

    /// Uses this `redis-server` binary instead of `REDWIRE_REDIS_SERVER` or the
    /// `PATH`.
    ///
    /// ```
    /// let err = redwire_testkit::RedisServer::builder()
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

    /// How long a start or restart may take before it fails with the server's
    /// log (default 10 s).
    ///
    /// ```no_run
    /// use std::time::Duration;
    /// let server = redwire_testkit::RedisServer::builder()
    ///     .startup_timeout(Duration::from_secs(30))
    ///     .start()?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn startup_timeout(mut self, timeout: Duration) -> Self {
        self.startup_timeout = timeout;
        self
    }

    /// Starts the server and waits until it answers PING.
    ///
    /// Fails with a message that says what to do when `redis-server` is missing,
    /// and with the server's log when it does not come up.
    ///
    /// ```no_run
    /// let server = redwire_testkit::RedisServer::builder().password("pw").start()?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn start(self) -> io::Result<RedisServer> {
        let binary = match &self.binary {
            Some(path) => check_explicit(path, "RedisServerBuilder::binary")?,
            None => find_redis_server()?,
        };
        let dir = tempfile::Builder::new()
            .prefix("redwire-redis-")
            .tempdir()?;
        let tls = if self.tls {
            Some(TlsFiles::create(dir.path())?)
        } else {
            None
        };
        let config_path = dir.path().join("redis.conf");
        let process = RedisProcess::new(Launch {
            binary,
            config_path: config_path.clone(),
            log_path: dir.path().join("redis.log"),
            dir: dir.path().to_path_buf(),
            extra_args: Vec::new(),
        });
        let mut settings = Settings {
            port: 0,
            tls_port: None,
            unix_socket: self.unix_socket.then(|| dir.path().join("redis.sock")),
            password: self.password,
            users: self.users,
            extra_config: self.config,
            tls,
            config_path,
            startup_timeout: self.startup_timeout,
        };
        for _ in 0..START_ATTEMPTS {
            settings.port = free_port()?;
            settings.tls_port = match settings.tls {
                Some(_) => Some(free_port()?),
                None => None,
            };
            std::fs::write(&settings.config_path, settings.render(dir.path()))?;
            match process.start(&settings.probe(), settings.startup_timeout) {
                Ok(()) => {
                    return Ok(RedisServer {
                        process,
                        settings,
                        dir,
                    })
                }
                Err(StartError::PortTaken) => continue,
                Err(StartError::Failed(e)) => return Err(e),
            }
        }
        Err(io::Error::new(
            io::ErrorKind::AddrInUse,
            format!("redis-server lost the race for a free port {START_ATTEMPTS} times"),
        ))
    }
}

impl Settings {
    fn render(&self, dir: &Path) -> String {
        let mut conf = String::new();
        let mut line = |text: String| {
            conf.push_str(&text);
            conf.push('\n');
        };
        line("# Written by redwire-testkit for one test; nothing is kept.".into());
        line("bind 127.0.0.1".into());
        line(format!("port {}", self.port));
        line("daemonize no".into());
        line("save \"\"".into());
        line("appendonly no".into());
        line(format!("dir {}", quote(&dir.to_string_lossy())));
        // Tests slow a server down on purpose with DEBUG SLEEP.
        line("enable-debug-command yes".into());
        if let Some(path) = &self.unix_socket {
            line(format!("unixsocket {}", quote(&path.to_string_lossy())));
            line("unixsocketperm 700".into());
        }
        if let (Some(tls), Some(port)) = (&self.tls, self.tls_port) {
            line(format!("tls-port {port}"));
            let path = |p: &Path| quote(&p.to_string_lossy());
            line(format!("tls-cert-file {}", path(&tls.server_cert)));
            line(format!("tls-key-file {}", path(&tls.server_key)));
            line(format!("tls-ca-cert-file {}", path(&tls.ca_cert)));
            line("tls-auth-clients optional".into());
        }
        if let Some(password) = &self.password {
            line(format!("requirepass {}", quote(password)));
        }
        for user in &self.users {
            line(format!(
                "user {} {} {}",
                quote(&user.name),
                quote(&format!(">{}", user.password)),
                user.rules
            ));
        }
        for extra in &self.extra_config {
            line(extra.clone());
        }
        conf
    }

    fn probe(&self) -> Probe {
        Probe {
            addr: SocketAddr::from((Ipv4Addr::LOCALHOST, self.port)),
            password: self.password.clone(),
        }
    }
}

impl RedisServer {
    /// Starts a server with the defaults: no password, TCP only.
    ///
    /// ```no_run
    /// let server = redwire_testkit::RedisServer::start()?;
    /// assert!(server.is_running());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn start() -> io::Result<RedisServer> {
        RedisServerBuilder::default().start()
    }

    /// A builder for a server with a password, users, extra config, a unix
    /// socket or TLS.
    ///
    /// ```no_run
    /// let server = redwire_testkit::RedisServer::builder().password("pw").start()?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn builder() -> RedisServerBuilder {
        RedisServerBuilder::default()
    }

    /// The TCP port on 127.0.0.1; it stays the same across restarts.
    ///
    /// ```no_run
    /// let server = redwire_testkit::RedisServer::start()?;
    /// assert_ne!(server.port(), 0);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn port(&self) -> u16 {
        self.settings.port
    }

    /// `127.0.0.1:port`.
    ///
    /// ```no_run
    /// let server = redwire_testkit::RedisServer::start()?;
    /// let stream = std::net::TcpStream::connect(server.addr())?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn addr(&self) -> SocketAddr {
        SocketAddr::from((Ipv4Addr::LOCALHOST, self.settings.port))
    }

    /// `redis://127.0.0.1:PORT`, or `redis://:PASSWORD@127.0.0.1:PORT` when a
    /// password is set (percent-encoded where the URL needs it).
    ///
    /// ```no_run
    /// let server = redwire_testkit::RedisServer::builder().password("pw").start()?;
    /// assert_eq!(server.url(), format!("redis://:pw@127.0.0.1:{}", server.port()));
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn url(&self) -> String {
        self.make_url("redis", self.settings.port)
    }

    /// A URL that logs in as the ACL user `name` (added with
    /// [`RedisServerBuilder::user`]): `redis://name:password@127.0.0.1:PORT`.
    ///
    /// ```no_run
    /// let server = redwire_testkit::RedisServer::builder()
    ///     .user("alice", "secret", "on ~* &* +@all")
    ///     .start()?;
    /// assert_eq!(
    ///     server.user_url("alice").unwrap(),
    ///     format!("redis://alice:secret@127.0.0.1:{}", server.port())
    /// );
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn user_url(&self, name: &str) -> Option<String> {
        let user = self.settings.users.iter().find(|u| u.name == name)?;
        Some(format!(
            "redis://{}:{}@127.0.0.1:{}",
            percent_encode(&user.name),
            percent_encode(&user.password),
            self.settings.port
        ))
    }

    /// The password of the default user, if one was set.
    ///
    /// ```no_run
    /// let server = redwire_testkit::RedisServer::start()?;
    /// assert_eq!(server.password(), None);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn password(&self) -> Option<&str> {
        self.settings.password.as_deref()
    }

    /// The unix socket's path, when the builder asked for one.
    ///
    /// ```no_run
    /// let server = redwire_testkit::RedisServer::builder().unix_socket(true).start()?;
    /// let stream = std::os::unix::net::UnixStream::connect(server.unix_socket_path().unwrap())?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn unix_socket_path(&self) -> Option<&Path> {
        self.settings.unix_socket.as_deref()
    }

    /// The TLS port, when the builder asked for TLS.
    ///
    /// ```no_run
    /// let server = redwire_testkit::RedisServer::builder().tls(true).start()?;
    /// assert_ne!(server.tls_port(), Some(server.port()));
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn tls_port(&self) -> Option<u16> {
        self.settings.tls_port
    }

    /// `rediss://127.0.0.1:TLS_PORT` (with the password, like [`url`](Self::url)),
    /// when the builder asked for TLS.
    ///
    /// ```no_run
    /// let server = redwire_testkit::RedisServer::builder().tls(true).start()?;
    /// assert!(server.tls_url().unwrap().starts_with("rediss://127.0.0.1:"));
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn tls_url(&self) -> Option<String> {
        Some(self.make_url("rediss", self.settings.tls_port?))
    }

    /// The PEM file of the CA that signed the server's certificate.
    ///
    /// ```no_run
    /// let server = redwire_testkit::RedisServer::builder().tls(true).start()?;
    /// let pem = std::fs::read_to_string(server.tls_ca_cert_path().unwrap())?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn tls_ca_cert_path(&self) -> Option<&Path> {
        Some(&self.settings.tls.as_ref()?.ca_cert)
    }

    /// The PEM file of a client certificate the server accepts.
    ///
    /// ```no_run
    /// let server = redwire_testkit::RedisServer::builder().tls(true).start()?;
    /// assert!(server.tls_client_cert_path().unwrap().exists());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn tls_client_cert_path(&self) -> Option<&Path> {
        Some(&self.settings.tls.as_ref()?.client_cert)
    }

    /// The PEM file of the client certificate's private key.
    ///
    /// ```no_run
    /// let server = redwire_testkit::RedisServer::builder().tls(true).start()?;
    /// assert!(server.tls_client_key_path().unwrap().exists());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn tls_client_key_path(&self) -> Option<&Path> {
        Some(&self.settings.tls.as_ref()?.client_key)
    }

    /// The CA behind the server's certificates, to issue more certificates it
    /// trusts (for example a client certificate with another name).
    ///
    /// ```no_run
    /// let server = redwire_testkit::RedisServer::builder().tls(true).start()?;
    /// let bob = server.tls_ca().unwrap().issue_client("bob")?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    #[cfg(feature = "tls-certs")]
    pub fn tls_ca(&self) -> Option<&TestCa> {
        Some(&self.settings.tls.as_ref()?.ca)
    }

    /// The server's temp dir (config, log, sockets, certificates); removed on drop.
    ///
    /// ```no_run
    /// let server = redwire_testkit::RedisServer::start()?;
    /// assert!(server.dir().join("redis.conf").exists());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The pid of the running process, `None` while stopped.
    ///
    /// ```no_run
    /// let server = redwire_testkit::RedisServer::start()?;
    /// println!("redis-server is pid {}", server.pid().unwrap());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn pid(&self) -> Option<u32> {
        self.process.pid()
    }

    /// Everything the server wrote to stdout and stderr, across restarts.
    ///
    /// ```no_run
    /// let server = redwire_testkit::RedisServer::start()?;
    /// assert!(server.log().contains("Ready to accept connections"));
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn log(&self) -> String {
        self.process.log()
    }

    /// True while the process is alive.
    ///
    /// ```no_run
    /// let server = redwire_testkit::RedisServer::start()?;
    /// server.stop();
    /// assert!(!server.is_running());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn is_running(&self) -> bool {
        self.process.is_running()
    }

    /// Kills the server with SIGKILL and waits for it to die, the way a crash
    /// looks to a client: no goodbye, no save. Its port refuses connections once
    /// this returns. Does nothing when already stopped.
    ///
    /// ```no_run
    /// let server = redwire_testkit::RedisServer::start()?;
    /// server.stop();
    /// assert!(std::net::TcpStream::connect(server.addr()).is_err());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn stop(&self) {
        self.process.kill();
    }

    /// Starts the server again on the same port(s) with the same config (killing
    /// it first if it runs), waiting for the port to come free if needed. Its
    /// data is gone: nothing was saved.
    ///
    /// ```no_run
    /// let server = redwire_testkit::RedisServer::start()?;
    /// let port = server.port();
    /// server.stop();
    /// server.restart()?;
    /// assert_eq!(server.port(), port);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn restart(&self) -> io::Result<()> {
        self.process.restart(
            &self.settings.probe(),
            self.settings.startup_timeout,
            &format!("port {}", self.settings.port),
        )
    }

    /// Sends one command over a fresh blocking connection (logging in with the
    /// password if one is set) and returns the reply. A server error comes back
    /// as `Ok(Frame::Error(..))`; only I/O and protocol trouble is an `Err`.
    ///
    /// This talks to the server without the client under test, to set it up or
    /// check what a test did. It blocks, so in an async test keep it to set-up
    /// and checks.
    ///
    /// ```no_run
    /// use redwire_testkit::{Frame, RedisServer};
    ///
    /// let server = RedisServer::builder().config("maxmemory 10mb").start()?;
    /// let reply = server.command(&["CONFIG", "GET", "maxmemory"])?;
    /// assert_eq!(
    ///     reply,
    ///     Frame::Array(vec![Frame::Bulk("maxmemory".into()), Frame::Bulk("10485760".into())])
    /// );
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn command<A: AsRef<[u8]>>(&self, args: &[A]) -> io::Result<Frame> {
        let mut conn = BlockingConn::connect(self.addr(), Duration::from_secs(5))?;
        if let Some(password) = &self.settings.password {
            conn.auth(password)?;
        }
        conn.command(args)
    }

    /// Which server this is (Redis or Valkey, and its version), from its
    /// `INFO server`.
    ///
    /// ```no_run
    /// let server = redwire_testkit::RedisServer::start()?;
    /// let id = server.identity()?;
    /// if !id.at_least("redis", 8, 0) {
    ///     eprintln!("skipped: {id} has no HGETEX");
    /// }
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn identity(&self) -> io::Result<ServerIdentity> {
        let info = match self.command(&["INFO", "server"])? {
            Frame::Bulk(b) | Frame::Verbatim { data: b, .. } => {
                String::from_utf8_lossy(&b).into_owned()
            }
            other => return Err(io::Error::other(format!("INFO server answered {other:?}"))),
        };
        ServerIdentity::from_info(&info)
            .ok_or_else(|| io::Error::other("INFO server names no Redis or Valkey version"))
    }

    /// True when the server knows the top-level command `name` (`COMMAND INFO`
    /// answers it), so a test can skip with a reason on a server that lacks it.
    ///
    /// ```no_run
    /// let server = redwire_testkit::RedisServer::start()?;
    /// assert!(server.has_command("GET")?);
    /// assert!(!server.has_command("NO-SUCH-COMMAND")?);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn has_command(&self, name: &str) -> io::Result<bool> {
        match self.command(&["COMMAND", "INFO", name])? {
            Frame::Array(items) => Ok(matches!(items.first(), Some(Frame::Array(_)))),
            other => Err(io::Error::other(format!("COMMAND INFO answered {other:?}"))),
        }
    }

    fn make_url(&self, scheme: &str, port: u16) -> String {
        match &self.settings.password {
            Some(pw) => format!("{scheme}://:{}@127.0.0.1:{port}", percent_encode(pw)),
            None => format!("{scheme}://127.0.0.1:{port}"),
        }
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        // A failed test's output is where one looks first; the log explains most
        // server-side surprises (bad config, a crash, a refused command).
        if std::thread::panicking() {
            eprintln!(
                "----- redis-server log (port {}, {}) -----\n{}----- end of redis-server log -----",
                self.settings.port,
                self.dir.path().display(),
                self.process.log()
            );
        }
    }
}

impl std::fmt::Debug for RedisServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The password stays out of Debug output on purpose.
        f.debug_struct("RedisServer")
            .field("addr", &self.addr())
            .field("tls_port", &self.settings.tls_port)
            .field("unix_socket", &self.settings.unix_socket)
            .field("pid", &self.pid())
            .field("dir", &self.dir.path())
            .finish_non_exhaustive()
    }
}

impl std::fmt::Debug for RedisServerBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisServerBuilder")
            .field("password", &self.password.as_ref().map(|_| "<hidden>"))
            .field(
                "users",
                &self.users.iter().map(|u| &u.name).collect::<Vec<_>>(),
            )
            .field("config", &self.config)
            .field("unix_socket", &self.unix_socket)
            .field("tls", &self.tls)
            .field("binary", &self.binary)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_percent_encoded_in_urls() {
        assert_eq!(percent_encode("p@ss:w/rd%"), "p%40ss%3Aw%2Frd%25");
        assert_eq!(percent_encode("plain-pw_1.~"), "plain-pw_1.~");
    }
}
