//! [`Config`]: where to connect and how the connection behaves, from a URL or a
//! builder.
//!
//! URLs are parsed in [`url`](self::url). Defaults are chosen for
//! a shared, long-lived connection: TCP_NODELAY on, reconnect forever with
//! backoff from 10 ms to 5 s, dead-server detection after 30 s without an answer.
//! The password is kept in a type whose `Debug` prints `***`, so neither errors
//! nor logs can show it.

mod url;
pub(crate) use url::{duration, parse_seeds};

use crate::error::{Error, Result};
use redwire_resp::Limits;
use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

/// Where the server is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Addr {
    /// A host name or IP address and a port.
    Tcp {
        /// Host name or IP literal.
        host: String,
        /// TCP port.
        port: u16,
    },
    /// A unix domain socket.
    Unix(PathBuf),
}

impl fmt::Display for Addr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Addr::Tcp { host, port } if host.contains(':') => write!(f, "[{host}]:{port}"),
            Addr::Tcp { host, port } => write!(f, "{host}:{port}"),
            Addr::Unix(path) => write!(f, "unix:{}", path.display()),
        }
    }
}

/// Which RESP version to speak.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Protocol {
    /// RESP3 through `HELLO 3`, falling back to RESP2 on servers without HELLO.
    #[default]
    Auto,
    /// RESP2 only (no `HELLO`).
    Resp2,
    /// RESP3 required: connecting fails on a server that cannot speak it.
    Resp3,
}

/// Reconnection policy: exponential backoff with jitter.
///
/// The delay before attempt `n` (from 1) is `initial * 2^(n-1)`, capped at `max`,
/// minus a random share of up to `jitter` (0.0–1.0) of it, so that many clients
/// do not reconnect in lockstep. The first reconnect after a drop is immediate.
///
/// ```
/// use std::time::Duration;
/// let b = redwire::Backoff::default();
/// assert_eq!(b.initial, Duration::from_millis(10));
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Backoff {
    /// Delay after the first failed attempt.
    pub initial: Duration,
    /// Largest delay.
    pub max: Duration,
    /// Share of each delay that is randomised (0.0: none, 1.0: all of it).
    pub jitter: f64,
    /// Failed attempts in a row after which the client closes; `None`: never.
    pub max_attempts: Option<u32>,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff {
            initial: Duration::from_millis(10),
            max: Duration::from_secs(5),
            jitter: 0.5,
            max_attempts: None,
        }
    }
}

impl Backoff {
    /// The delay before reconnect attempt `attempt` (1 for the first retry),
    /// given a random number in `0.0..1.0`.
    ///
    /// ```
    /// use std::time::Duration;
    /// let b = redwire::Backoff { jitter: 0.0, ..Default::default() };
    /// assert_eq!(b.delay(1, 0.7), Duration::from_millis(10));
    /// assert_eq!(b.delay(3, 0.7), Duration::from_millis(40));
    /// assert_eq!(b.delay(30, 0.7), Duration::from_secs(5));
    /// ```
    ///
    /// It never panics, whatever the fields hold: a jitter or random number that
    /// is not a number counts as 0, and the largest durations saturate.
    pub fn delay(&self, attempt: u32, random: f64) -> Duration {
        let exp = attempt.saturating_sub(1).min(30);
        let base = self.initial.saturating_mul(1u32 << exp).min(self.max);
        let unit = |x: f64| if x.is_nan() { 0.0 } else { x.clamp(0.0, 1.0) };
        let keep = 1.0 - unit(self.jitter) * unit(random);
        Duration::try_from_secs_f64(base.as_secs_f64() * keep).map_or(base, |d| d.min(base))
    }

    /// This policy with its fields made sensible: jitter within 0.0–1.0 (0.5
    /// when it is not a number), `initial` at least 1 ms (a zero delay would
    /// spin against a server that refuses every attempt) and `max` at least
    /// `initial`. The builder applies it.
    ///
    /// ```
    /// use std::time::Duration;
    /// let b = redwire::Backoff { jitter: f64::NAN, initial: Duration::ZERO, ..Default::default() };
    /// let b = b.normalized();
    /// assert_eq!((b.jitter, b.initial), (0.5, Duration::from_millis(1)));
    /// ```
    pub fn normalized(self) -> Backoff {
        let jitter = if self.jitter.is_nan() {
            0.5
        } else {
            self.jitter.clamp(0.0, 1.0)
        };
        let initial = self.initial.max(Duration::from_millis(1));
        Backoff {
            initial,
            max: self.max.max(initial),
            jitter,
            max_attempts: self.max_attempts,
        }
    }
}

/// TLS settings. Certificates are always verified unless
/// [`insecure_skip_verify`](TlsConfig::insecure_skip_verify) is set.
///
/// ```
/// let tls = redwire::TlsConfig::default().ca_file("/etc/redis/ca.pem").server_name("cache.internal");
/// # let _ = tls;
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TlsConfig {
    pub(crate) ca_file: Option<PathBuf>,
    pub(crate) client_cert: Option<(PathBuf, PathBuf)>,
    pub(crate) server_name: Option<String>,
    pub(crate) insecure_skip_verify: bool,
}

impl TlsConfig {
    /// Trusts the CA certificates in this PEM file instead of the system's roots.
    pub fn ca_file(mut self, path: impl AsRef<Path>) -> Self {
        self.ca_file = Some(path.as_ref().to_owned());
        self
    }

    /// Presents this client certificate chain and private key (PEM files).
    pub fn client_cert(mut self, cert: impl AsRef<Path>, key: impl AsRef<Path>) -> Self {
        self.client_cert = Some((cert.as_ref().to_owned(), key.as_ref().to_owned()));
        self
    }

    /// The name to send as SNI and to verify, when it differs from the host.
    pub fn server_name(mut self, name: impl Into<String>) -> Self {
        self.server_name = Some(name.into());
        self
    }

    /// Accepts any certificate. Only for tests: it removes all protection
    /// against an attacker in the middle.
    pub fn insecure_skip_verify(mut self, yes: bool) -> Self {
        self.insecure_skip_verify = yes;
        self
    }
}

/// A password that never shows in `Debug` or `Display`.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Secret(pub(crate) String);

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// Everything a [`Client`](crate::Client) needs to know.
///
/// ```
/// use std::time::Duration;
/// use redwire::Config;
///
/// let config: Config = "redis://alice:s%40cret@localhost:6380/2?client_name=api".parse().unwrap();
/// assert_eq!(config.database(), 2);
/// assert!(!format!("{config:?}").contains("cret"), "the password never shows");
///
/// let config = Config::builder()
///     .host("localhost")
///     .port(6379)
///     .command_timeout(Duration::from_secs(1))
///     .build();
/// assert_eq!(config.command_timeout(), Some(Duration::from_secs(1)));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    pub(crate) addr: Addr,
    pub(crate) tls: Option<TlsConfig>,
    pub(crate) username: Option<String>,
    pub(crate) password: Option<Secret>,
    pub(crate) database: i64,
    pub(crate) client_name: Option<String>,
    pub(crate) protocol: Protocol,
    pub(crate) connect_timeout: Duration,
    pub(crate) command_timeout: Option<Duration>,
    pub(crate) response_timeout: Option<Duration>,
    pub(crate) health_check_interval: Option<Duration>,
    pub(crate) backoff: Backoff,
    pub(crate) fail_fast: bool,
    pub(crate) max_in_flight: usize,
    pub(crate) channel_capacity: usize,
    pub(crate) tcp_nodelay: bool,
    pub(crate) tcp_keepalive: Option<Duration>,
    pub(crate) limits: Limits,
    /// Find the primary through Sentinel: the monitored name and where the
    /// Sentinels listen.
    pub(crate) sentinel: Option<Sentinel>,
    /// A cluster replica read from: `READONLY` on every connect.
    pub(crate) replica_reads: bool,
    /// Whether command spans carry `db.query.text`.
    pub(crate) query_text: crate::telemetry::QueryText,
    /// The simulator's dialer: streams come from it instead of sockets.
    #[cfg(feature = "sim")]
    pub(crate) sim_dialer: Option<crate::connection::memory::Dialer>,
    /// Server-assisted client-side caching.
    #[cfg(feature = "client-cache")]
    pub(crate) client_cache: Option<crate::cache::CacheConfig>,
}

/// Where to find the primary through Sentinel (see
/// [`ConfigBuilder::sentinel`]).
///
/// ```
/// let config: redwire::Config = "redis+sentinel://s1:26379,s2:26379/mymaster".parse().unwrap();
/// let sentinel = config.sentinel().unwrap();
/// assert_eq!(sentinel.master_name, "mymaster");
/// assert_eq!(sentinel.sentinels.len(), 2);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sentinel {
    /// The name the Sentinels monitor the primary under (`mymaster`).
    pub master_name: String,
    /// The Sentinels' addresses; asked in turn.
    pub sentinels: Vec<Addr>,
    /// The Sentinels' own password, apart from the data nodes'.
    pub(crate) password: Option<Secret>,
    /// Connect to a replica (for reads) instead of the primary.
    pub(crate) replica: bool,
}

impl Sentinel {
    /// True when the client connects to a replica
    /// ([`ConfigBuilder::sentinel_replica`]), false for the primary.
    ///
    /// ```
    /// let config: redwire::Config = "redis+sentinel://s1/mymaster".parse().unwrap();
    /// assert!(!config.sentinel().unwrap().reads_from_replica());
    /// ```
    pub fn reads_from_replica(&self) -> bool {
        self.replica
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            addr: Addr::Tcp {
                host: "127.0.0.1".into(),
                port: 6379,
            },
            tls: None,
            username: None,
            password: None,
            database: 0,
            client_name: None,
            protocol: Protocol::Auto,
            connect_timeout: Duration::from_secs(5),
            command_timeout: None,
            response_timeout: Some(Duration::from_secs(30)),
            health_check_interval: Some(Duration::from_secs(15)),
            backoff: Backoff::default(),
            fail_fast: false,
            max_in_flight: 16_384,
            channel_capacity: 4_096,
            tcp_nodelay: true,
            tcp_keepalive: Some(Duration::from_secs(60)),
            limits: Limits::default(),
            sentinel: None,
            replica_reads: false,
            query_text: crate::telemetry::QueryText::Off,
            #[cfg(feature = "sim")]
            sim_dialer: None,
            #[cfg(feature = "client-cache")]
            client_cache: None,
        }
    }
}

impl Config {
    /// The client-side cache asked for
    /// ([`ConfigBuilder::client_cache`]), if any.
    ///
    /// ```
    /// assert!(redwire::Config::default().client_cache().is_none());
    /// ```
    #[cfg(feature = "client-cache")]
    pub fn client_cache(&self) -> Option<&crate::cache::CacheConfig> {
        self.client_cache.as_ref()
    }

    /// Whether command spans carry `db.query.text`
    /// ([`ConfigBuilder::trace_query_text`]).
    pub fn query_text(&self) -> crate::telemetry::QueryText {
        self.query_text
    }

    /// A builder starting from the defaults (`127.0.0.1:6379`).
    pub fn builder() -> ConfigBuilder {
        ConfigBuilder(Config::default())
    }

    /// A builder starting from this configuration.
    ///
    /// ```
    /// let c = redwire::Config::from_url("redis://h:1").unwrap().into_builder().database(3).build();
    /// assert_eq!(c.database(), 3);
    /// ```
    pub fn into_builder(self) -> ConfigBuilder {
        ConfigBuilder(self)
    }

    /// Parses a `redis://`, `rediss://` or `unix://` URL (or
    /// `redis+sentinel://`, see [`ConfigBuilder::sentinel`]).
    ///
    /// Query options, each the [`ConfigBuilder`] method of the same name; an
    /// unknown option is an error. Durations are seconds (`1.5`) or carry a
    /// unit (`250ms`, `2s`, `1m`); `none` turns an optional one off.
    ///
    /// | option | value | builder method |
    /// |---|---|---|
    /// | `db` | number | [`database`](ConfigBuilder::database) (or the path, `/2`) |
    /// | `protocol` | `2` or `3` | [`protocol`](ConfigBuilder::protocol) |
    /// | `client_name` | text | [`client_name`](ConfigBuilder::client_name) |
    /// | `connect_timeout` | duration | [`connect_timeout`](ConfigBuilder::connect_timeout) |
    /// | `command_timeout` | duration or `none` | [`command_timeout`](ConfigBuilder::command_timeout) |
    /// | `response_timeout` | duration or `none` | [`response_timeout`](ConfigBuilder::response_timeout) |
    /// | `health_check_interval` | duration or `none` | [`health_check_interval`](ConfigBuilder::health_check_interval) |
    /// | `tcp_keepalive` | duration or `none` | [`tcp_keepalive`](ConfigBuilder::tcp_keepalive) |
    /// | `tcp_nodelay` | `true`/`false` | [`tcp_nodelay`](ConfigBuilder::tcp_nodelay) |
    /// | `fail_fast` | `true`/`false` | [`fail_fast`](ConfigBuilder::fail_fast) |
    /// | `max_in_flight` | number | [`max_in_flight`](ConfigBuilder::max_in_flight) |
    /// | `channel_capacity` | number | [`channel_capacity`](ConfigBuilder::channel_capacity) |
    /// | `backoff_initial`, `backoff_max` | duration | [`backoff`](ConfigBuilder::backoff): [`Backoff::initial`], [`Backoff::max`] |
    /// | `backoff_jitter` | 0.0–1.0 | [`Backoff::jitter`] |
    /// | `max_reconnect_attempts` | number or `none` | [`Backoff::max_attempts`] |
    ///
    /// A Sentinel URL adds `sentinel_password` and `role`; a cluster's seed
    /// list ([`ClusterConfig::from_url`](crate::cluster::ClusterConfig::from_url))
    /// adds the cluster's own options.
    ///
    /// ```
    /// use std::time::Duration;
    /// let c = redwire::Config::from_url("redis://h:6380?connect_timeout=1&command_timeout=250ms").unwrap();
    /// assert_eq!(c.command_timeout(), Some(Duration::from_millis(250)));
    /// assert!(redwire::Config::from_url("redis://h?conect_timeout=1").is_err());
    /// let c = redwire::Config::from_url("unix:///run/redis.sock?db=4&protocol=2").unwrap();
    /// assert_eq!(c.database(), 4);
    /// assert!(redwire::Config::from_url("http://nope").is_err());
    /// ```
    pub fn from_url(url: &str) -> Result<Config> {
        url::parse(url)
    }

    /// Where the client connects.
    pub fn addr(&self) -> &Addr {
        &self.addr
    }

    /// Where the Sentinels are, when the primary is found through them.
    pub fn sentinel(&self) -> Option<&Sentinel> {
        self.sentinel.as_ref()
    }

    /// The database selected on every connection.
    pub fn database(&self) -> i64 {
        self.database
    }

    /// The default deadline of each command, if any.
    pub fn command_timeout(&self) -> Option<Duration> {
        self.command_timeout
    }

    /// The RESP version policy.
    pub fn protocol(&self) -> Protocol {
        self.protocol
    }

    /// The client name set on every connection.
    pub fn client_name(&self) -> Option<&str> {
        self.client_name.as_deref()
    }

    /// True when connecting with TLS.
    pub fn is_tls(&self) -> bool {
        self.tls.is_some()
    }

    /// The reconnection policy.
    pub fn backoff(&self) -> &Backoff {
        &self.backoff
    }

    /// A URL for this configuration with the password replaced by `***`.
    ///
    /// ```
    /// let c = redwire::Config::from_url("redis://:hunter2@h:7000").unwrap();
    /// assert_eq!(c.redacted_url(), "redis://:***@h:7000/0");
    /// ```
    pub fn redacted_url(&self) -> String {
        let auth = match (&self.username, &self.password) {
            (Some(u), Some(_)) => format!("{u}:***@"),
            (Some(u), None) => format!("{u}@"),
            (None, Some(_)) => ":***@".to_string(),
            (None, None) => String::new(),
        };
        match &self.addr {
            Addr::Unix(path) => format!("unix://{}?db={}", path.display(), self.database),
            addr => {
                let scheme = if self.tls.is_some() {
                    "rediss"
                } else {
                    "redis"
                };
                format!("{scheme}://{auth}{addr}/{}", self.database)
            }
        }
    }
}

impl FromStr for Config {
    type Err = Error;
    fn from_str(s: &str) -> Result<Config> {
        url::parse(s)
    }
}

/// Builds a [`Config`] one option at a time.
///
/// ```
/// use std::time::Duration;
/// use redwire::{Backoff, Config, Protocol};
///
/// let config = Config::builder()
///     .host("10.0.0.5")
///     .port(6380)
///     .password("secret")
///     .database(1)
///     .client_name("worker")
///     .protocol(Protocol::Resp2)
///     .connect_timeout(Duration::from_secs(2))
///     .response_timeout(Some(Duration::from_secs(5)))
///     .backoff(Backoff { max_attempts: Some(10), ..Backoff::default() })
///     .fail_fast(true)
///     .build();
/// assert_eq!(config.database(), 1);
/// ```
#[derive(Debug, Clone)]
pub struct ConfigBuilder(Config);

impl ConfigBuilder {
    /// Finds the primary through Sentinel: on every (re)connect the Sentinels
    /// are asked, in turn, for the address of `master_name`, and the server
    /// there must say it is a primary (`ROLE`). A connection to a primary
    /// that was demoted since (its writes answer `READONLY`) is replaced, so
    /// that the client follows a failover by itself. The password, database
    /// and TLS settings of this configuration are the data nodes'; the
    /// Sentinels are asked without them.
    ///
    /// ```no_run
    /// # async fn demo() -> redwire::Result<()> {
    /// use redwire::{Addr, Client, Config};
    /// let config = Config::builder()
    ///     .sentinel("mymaster", [
    ///         Addr::Tcp { host: "10.0.0.1".into(), port: 26379 },
    ///         Addr::Tcp { host: "10.0.0.2".into(), port: 26379 },
    ///     ])
    ///     .build();
    /// let client = Client::connect(config).await?;
    /// # Ok(()) }
    /// ```
    pub fn sentinel(
        mut self,
        master_name: impl Into<String>,
        sentinels: impl IntoIterator<Item = Addr>,
    ) -> Self {
        self.0.sentinel = Some(Sentinel {
            master_name: master_name.into(),
            sentinels: sentinels.into_iter().collect(),
            password: None,
            replica: false,
        });
        self
    }

    /// The Sentinels' own password (`requirepass` of the Sentinels), when it
    /// differs from the data nodes' password; needs [`sentinel`](Self::sentinel)
    /// first.
    ///
    /// ```
    /// let config = redwire::Config::builder()
    ///     .sentinel("mymaster", [redwire::Addr::Tcp { host: "s1".into(), port: 26379 }])
    ///     .sentinel_password("watchers-only")
    ///     .build();
    /// assert!(!format!("{config:?}").contains("watchers-only"));
    /// ```
    pub fn sentinel_password(mut self, password: impl Into<String>) -> Self {
        if let Some(sentinel) = &mut self.0.sentinel {
            sentinel.password = Some(Secret(password.into()));
        }
        self
    }

    /// Connects to one of the primary's replicas instead, for reads: one the
    /// Sentinels see healthy (not down, its link to the primary up), another
    /// in turn on each connect. While none is healthy, connecting fails and
    /// is tried again with the backoff: the primary is never used instead.
    /// Writes get `READONLY` from a replica. On a failover (`+switch-master`) the client
    /// picks again. Needs [`sentinel`](Self::sentinel) first. In a URL:
    /// `?role=replica`.
    ///
    /// ```
    /// let config = redwire::Config::builder()
    ///     .sentinel("mymaster", [redwire::Addr::Tcp { host: "s1".into(), port: 26379 }])
    ///     .sentinel_replica(true)
    ///     .build();
    /// assert!(config.sentinel().unwrap().reads_from_replica());
    /// let url: redwire::Config = "redis+sentinel://s1/mymaster?role=replica".parse().unwrap();
    /// assert!(url.sentinel().unwrap().reads_from_replica());
    /// ```
    pub fn sentinel_replica(mut self, replica: bool) -> Self {
        if let Some(sentinel) = &mut self.0.sentinel {
            sentinel.replica = replica;
        }
        self
    }

    /// The host name or IP (keeps the port, switches from a unix socket to TCP).
    pub fn host(mut self, host: impl Into<String>) -> Self {
        let port = match self.0.addr {
            Addr::Tcp { port, .. } => port,
            Addr::Unix(_) => 6379,
        };
        self.0.addr = Addr::Tcp {
            host: host.into(),
            port,
        };
        self
    }

    /// The TCP port.
    pub fn port(mut self, port: u16) -> Self {
        if let Addr::Tcp { port: p, .. } = &mut self.0.addr {
            *p = port;
        }
        self
    }

    /// Connects to a unix domain socket instead of TCP.
    pub fn unix_socket(mut self, path: impl AsRef<Path>) -> Self {
        self.0.addr = Addr::Unix(path.as_ref().to_owned());
        self
    }

    /// The ACL user name (with [`password`](Self::password)).
    pub fn username(mut self, user: impl Into<String>) -> Self {
        self.0.username = Some(user.into());
        self
    }

    /// The password (`AUTH`).
    pub fn password(mut self, password: impl Into<String>) -> Self {
        self.0.password = Some(Secret(password.into()));
        self
    }

    /// The database number to `SELECT`.
    pub fn database(mut self, db: i64) -> Self {
        self.0.database = db;
        self
    }

    /// The name set with `CLIENT SETNAME` (or `HELLO ... SETNAME`).
    pub fn client_name(mut self, name: impl Into<String>) -> Self {
        self.0.client_name = Some(name.into());
        self
    }

    /// RESP version policy (default: RESP3 with fallback to RESP2).
    pub fn protocol(mut self, protocol: Protocol) -> Self {
        self.0.protocol = protocol;
        self
    }

    /// Connects with TLS.
    pub fn tls(mut self, tls: TlsConfig) -> Self {
        self.0.tls = Some(tls);
        self
    }

    /// Bounds one connection attempt: resolving, connecting, TLS and handshake.
    /// [`Client::connect`](crate::Client::connect) is bounded by it as a whole.
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.0.connect_timeout = timeout;
        self
    }

    /// The default deadline of every command: it covers waiting in the queue,
    /// reconnecting and the reply (default: none).
    pub fn command_timeout(mut self, timeout: impl Into<Option<Duration>>) -> Self {
        self.0.command_timeout = timeout.into();
        self
    }

    /// How long requests may go unanswered, with nothing at all read from the
    /// server, before the connection is declared dead and replaced (default 30 s).
    /// Keep it above the longest blocking command you send on this client.
    pub fn response_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.0.response_timeout = timeout;
        self
    }

    /// Sends `PING` when the connection has been idle this long (default 15 s).
    pub fn health_check_interval(mut self, interval: Option<Duration>) -> Self {
        self.0.health_check_interval = interval;
        self
    }

    /// The reconnection policy, [`normalized`](Backoff::normalized).
    pub fn backoff(mut self, backoff: Backoff) -> Self {
        self.0.backoff = backoff.normalized();
        self
    }

    /// While disconnected, fail requests at once instead of keeping them for the
    /// reconnect (default: keep them, within their deadline). A new client's
    /// very first connection attempt is waited for all the same.
    pub fn fail_fast(mut self, yes: bool) -> Self {
        self.0.fail_fast = yes;
        self
    }

    /// Most requests written and not yet answered (default 16,384). A command
    /// of a pipeline counts as one.
    pub fn max_in_flight(mut self, n: usize) -> Self {
        self.0.max_in_flight = n.max(1);
        self
    }

    /// Capacity of the request channel; a full channel makes callers wait
    /// (default 4,096).
    pub fn channel_capacity(mut self, n: usize) -> Self {
        self.0.channel_capacity = n.max(1);
        self
    }

    /// Sets TCP_NODELAY (default on: requests are batched by the client already).
    pub fn tcp_nodelay(mut self, yes: bool) -> Self {
        self.0.tcp_nodelay = yes;
        self
    }

    /// Turns on TCP keepalive probes after this long without traffic (default
    /// 60 s), so that a peer that vanished without a word is noticed by the
    /// operating system even on an idle connection; `None` turns them off.
    pub fn tcp_keepalive(mut self, idle: Option<Duration>) -> Self {
        self.0.tcp_keepalive = idle;
        self
    }

    /// Bounds on what one reply may hold: the longest string, the most
    /// elements, the deepest nesting and the most bytes in all
    /// ([`Limits::max_frame_len`], default 1 GiB). A reply over a limit fails
    /// its request with [`ErrorKind::Protocol`](crate::ErrorKind::Protocol) and
    /// the connection is replaced, so a broken or hostile server cannot make
    /// the client's memory grow without end.
    ///
    /// ```
    /// use redwire::resp::Limits;
    /// let config = redwire::Config::builder()
    ///     .reply_limits(Limits { max_frame_len: 64 << 20, ..Limits::default() })
    ///     .build();
    /// # let _ = config;
    /// ```
    pub fn reply_limits(mut self, limits: Limits) -> Self {
        self.0.limits = limits;
        self
    }

    /// Whether command spans carry `db.query.text` (default
    /// [`QueryText::Off`](crate::telemetry::QueryText::Off)): the command
    /// with its arguments as `?`, or shown with
    /// [`QueryText::Full`](crate::telemetry::QueryText::Full). The commands
    /// that carry credentials (`AUTH`, `HELLO`, `CONFIG`, `ACL`, `MIGRATE`)
    /// never show their arguments.
    ///
    /// ```
    /// use redwire::telemetry::QueryText;
    /// let config = redwire::Config::builder().trace_query_text(QueryText::Full).build();
    /// assert_eq!(config.query_text(), QueryText::Full);
    /// ```
    pub fn trace_query_text(mut self, mode: crate::telemetry::QueryText) -> Self {
        self.0.query_text = mode;
        self
    }

    /// Connects through the simulator's dialer instead of a socket (feature
    /// `sim`; see [`crate::connection::memory`]).
    #[cfg(feature = "sim")]
    #[doc(hidden)]
    pub fn sim_dialer(mut self, dialer: crate::connection::memory::Dialer) -> Self {
        self.0.sim_dialer = Some(dialer);
        self
    }

    /// Keeps the replies of reads in memory and serves repeated reads from
    /// there, with the server's `CLIENT TRACKING` telling when a key changed
    /// (feature `client-cache`; see [`Client::cached`](crate::Client::cached)
    /// and [`Client::cache_stats`](crate::Client::cache_stats)). It needs
    /// RESP3: with [`Protocol::Resp2`], or a server that refuses tracking,
    /// connecting fails with an [`ErrorKind::Config`](crate::ErrorKind::Config)
    /// error that says why. Only a shared [`Client`](crate::Client) (and a
    /// cluster client's nodes) caches; dedicated connections ignore it.
    ///
    /// ```
    /// let config = redwire::Config::builder()
    ///     .client_cache(redwire::CacheConfig::new().max_bytes(8 << 20))
    ///     .build();
    /// assert_eq!(config.client_cache().unwrap().bytes(), 8 << 20);
    /// ```
    #[cfg(feature = "client-cache")]
    pub fn client_cache(mut self, cache: crate::cache::CacheConfig) -> Self {
        self.0.client_cache = Some(cache);
        self
    }

    /// The finished configuration.
    pub fn build(self) -> Config {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_caps() {
        let b = Backoff {
            initial: Duration::from_millis(100),
            max: Duration::from_secs(1),
            jitter: 1.0,
            max_attempts: None,
        };
        assert_eq!(b.delay(1, 0.0), Duration::from_millis(100));
        assert_eq!(b.delay(2, 0.0), Duration::from_millis(200));
        assert_eq!(b.delay(5, 0.0), Duration::from_secs(1));
        assert_eq!(b.delay(1, 0.5), Duration::from_millis(50));
        assert_eq!(b.delay(u32::MAX, 0.0), Duration::from_secs(1));
    }

    #[test]
    fn backoff_never_panics() {
        let odd = [f64::NAN, f64::INFINITY, f64::NEG_INFINITY, -1.0, 2.0, 0.5];
        for jitter in odd {
            for random in odd {
                for (initial, max) in [
                    (Duration::MAX, Duration::MAX),
                    (Duration::ZERO, Duration::ZERO),
                    (Duration::from_secs(5), Duration::from_millis(1)),
                ] {
                    let b = Backoff {
                        initial,
                        max,
                        jitter,
                        max_attempts: None,
                    };
                    for attempt in [0, 1, 2, 31, u32::MAX] {
                        assert!(b.delay(attempt, random) <= max.max(initial));
                        let n = b.normalized();
                        assert!((0.0..=1.0).contains(&n.jitter));
                        assert!(n.initial >= Duration::from_millis(1) && n.max >= n.initial);
                        let _ = n.delay(attempt, random);
                    }
                }
            }
        }
        let b = Backoff {
            jitter: f64::NAN,
            ..Backoff::default()
        };
        assert_eq!(b.delay(1, 0.9), Duration::from_millis(10));
    }
}
