//! [`Config`]: where to connect and how the connection behaves, from a URL or a
//! builder.
//!
//! URLs: `redis://[user[:password]@]host[:port][/db]`, `rediss://…` for TLS and
//! `unix:///path/to/socket?db=N`; user and password are percent-decoded; query
//! options `protocol=2|3`, `client_name=NAME` and `db=N`. Defaults are chosen for
//! a shared, long-lived connection: TCP_NODELAY on, reconnect forever with
//! backoff from 10 ms to 5 s, dead-server detection after 30 s without an answer.
//! The password is kept in a type whose `Debug` prints `***`, so neither errors
//! nor logs can show it.

use crate::error::{Error, Result};
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
    pub fn delay(&self, attempt: u32, random: f64) -> Duration {
        let exp = attempt.saturating_sub(1).min(30);
        let base = self.initial.saturating_mul(1u32 << exp).min(self.max);
        let jitter = self.jitter.clamp(0.0, 1.0) * random.clamp(0.0, 1.0);
        base.mul_f64(1.0 - jitter)
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
        }
    }
}

impl Config {
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

    /// Parses a `redis://`, `rediss://` or `unix://` URL.
    ///
    /// ```
    /// let c = redwire::Config::from_url("unix:///run/redis.sock?db=4&protocol=2").unwrap();
    /// assert_eq!(c.database(), 4);
    /// assert!(redwire::Config::from_url("http://nope").is_err());
    /// ```
    pub fn from_url(url: &str) -> Result<Config> {
        parse_url(url)
    }

    /// Where the client connects.
    pub fn addr(&self) -> &Addr {
        &self.addr
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
        parse_url(s)
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

    /// The reconnection policy.
    pub fn backoff(mut self, backoff: Backoff) -> Self {
        self.0.backoff = backoff;
        self
    }

    /// While disconnected, fail requests at once instead of keeping them for the
    /// reconnect (default: keep them, within their deadline).
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

    /// The finished configuration.
    pub fn build(self) -> Config {
        self.0
    }
}

fn parse_url(input: &str) -> Result<Config> {
    let bad = |why: &str| Error::config(format!("invalid Redis URL: {why}"));
    let url = url::Url::parse(input).map_err(|e| bad(&e.to_string()))?;
    let mut config = Config::default();
    match url.scheme() {
        "redis" | "valkey" => {}
        "rediss" | "valkeys" => config.tls = Some(TlsConfig::default()),
        "unix" | "redis+unix" => {
            if url.path().is_empty() {
                return Err(bad("a unix:// URL needs a socket path"));
            }
            config.addr = Addr::Unix(PathBuf::from(url.path()));
        }
        other => {
            return Err(bad(&format!(
                "unknown scheme `{other}` (expected redis://, rediss:// or unix://)"
            )))
        }
    }
    if !matches!(config.addr, Addr::Unix(_)) {
        let host = match url.host() {
            Some(url::Host::Ipv6(ip)) => ip.to_string(),
            Some(host) => host.to_string(),
            None => return Err(bad("no host")),
        };
        config.addr = Addr::Tcp {
            host,
            port: url.port().unwrap_or(6379),
        };
        let db = url.path().trim_matches('/');
        if !db.is_empty() {
            config.database = db
                .parse()
                .map_err(|_| bad(&format!("database `{db}` is not a number")))?;
        }
    }
    let decode = |s: &str| {
        percent_encoding::percent_decode_str(s)
            .decode_utf8()
            .map(|s| s.into_owned())
            .map_err(|_| bad("user or password is not valid UTF-8 after percent-decoding"))
    };
    if !url.username().is_empty() {
        config.username = Some(decode(url.username())?);
    }
    if let Some(password) = url.password() {
        config.password = Some(Secret(decode(password)?));
    }
    for (key, value) in url.query_pairs() {
        match &*key {
            "db" => {
                config.database = value
                    .parse()
                    .map_err(|_| bad(&format!("db `{value}` is not a number")))?
            }
            "protocol" | "resp" => {
                config.protocol = match &*value {
                    "2" => Protocol::Resp2,
                    "3" => Protocol::Resp3,
                    _ => return Err(bad(&format!("protocol `{value}` is not 2 or 3"))),
                }
            }
            "client_name" | "name" => config.client_name = Some(value.into_owned()),
            _ => return Err(bad(&format!("unknown option `{key}`"))),
        }
    }
    Ok(config)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_url() {
        let c = Config::from_url(
            "redis://al%40ice:p%3Ass%2Fw@cache.local:7000/3?protocol=3&client_name=api",
        )
        .unwrap();
        assert_eq!(
            c.addr,
            Addr::Tcp {
                host: "cache.local".into(),
                port: 7000
            }
        );
        assert_eq!(c.username.as_deref(), Some("al@ice"));
        assert_eq!(c.password, Some(Secret("p:ss/w".into())));
        assert_eq!(c.database, 3);
        assert_eq!(c.protocol, Protocol::Resp3);
        assert_eq!(c.client_name.as_deref(), Some("api"));
        assert!(c.tls.is_none());
    }

    #[test]
    fn defaults_tls_ipv6_and_unix() {
        let c: Config = "redis://localhost".parse().unwrap();
        assert_eq!(c.addr.to_string(), "localhost:6379");
        assert_eq!((c.database, c.protocol), (0, Protocol::Auto));
        let c: Config = "rediss://[::1]:6380?protocol=2".parse().unwrap();
        assert!(c.is_tls());
        assert_eq!(c.addr.to_string(), "[::1]:6380");
        assert_eq!(c.protocol, Protocol::Resp2);
        let c: Config = "unix:///tmp/redis.sock?db=9".parse().unwrap();
        assert_eq!(c.addr, Addr::Unix("/tmp/redis.sock".into()));
        assert_eq!(c.database, 9);
        // Only a password: the default user.
        let c: Config = "redis://:pw@h".parse().unwrap();
        assert_eq!((c.username, c.password), (None, Some(Secret("pw".into()))));
    }

    #[test]
    fn passwords_are_redacted() {
        let c: Config = "redis://u:topsecret@h:1/2".parse().unwrap();
        assert_eq!(c.redacted_url(), "redis://u:***@h:1/2");
        assert!(!format!("{c:?}").contains("topsecret"));
    }

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
}
