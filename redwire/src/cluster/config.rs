//! [`ClusterConfig`]: one configuration for a [`ClusterClient`](super::ClusterClient):
//! the seeds, one [`Config`] for every node connection, and the cluster's
//! own knobs (where reads go, how many redirections, how long to pause
//! between retries, how often to read the slot map again, fail-fast).
//!
//! What the cluster takes over from the node configuration, and the
//! deadline rule, are in [`ClusterConfig`]'s docs: users read those.

use crate::config::{duration, parse_seeds, Addr, Config};
use crate::error::{Error, Result};
use std::time::Duration;

/// How a cluster request waits for the cluster to heal: the pauses between
/// its attempts when no node serves its slot, its node cannot be reached,
/// or a node answered `TRYAGAIN` or `CLUSTERDOWN`.
///
/// ```
/// use std::time::Duration;
/// let retry = redwire::cluster::ClusterRetry::default();
/// assert_eq!((retry.initial, retry.max), (Duration::from_millis(10), Duration::from_millis(500)));
/// assert_eq!(retry.max_attempts, Some(16));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClusterRetry {
    /// The first pause.
    pub initial: Duration,
    /// The longest pause (each is twice the one before, up to this).
    pub max: Duration,
    /// Pauses after which a request with no deadline gives up (`None`:
    /// never). A request with a deadline waits until its deadline.
    pub max_attempts: Option<u32>,
}

impl Default for ClusterRetry {
    fn default() -> Self {
        ClusterRetry {
            initial: Duration::from_millis(10),
            max: Duration::from_millis(500),
            max_attempts: Some(16),
        }
    }
}

impl ClusterRetry {
    /// The pause before retry `attempt` (1 for the first).
    ///
    /// ```
    /// use std::time::Duration;
    /// let retry = redwire::cluster::ClusterRetry::default();
    /// assert_eq!(retry.pause(1), Duration::from_millis(10));
    /// assert_eq!(retry.pause(3), Duration::from_millis(40));
    /// assert_eq!(retry.pause(40), Duration::from_millis(500));
    /// ```
    pub fn pause(&self, attempt: u32) -> Duration {
        // At least 1 ms, so that a zero pause cannot spin against a cluster
        // that keeps refusing; the cap never below the first pause.
        let exp = attempt.saturating_sub(1).min(30);
        let initial = self.initial.max(Duration::from_millis(1));
        initial.saturating_mul(1 << exp).min(self.max.max(initial))
    }
}

/// Where read-only commands go (`GET`, `HGETALL`…: the server's `readonly`
/// flag); everything else goes to the primary.
///
/// ```no_run
/// # async fn demo() -> redwire::Result<()> {
/// use redwire::cluster::{ClusterClient, ClusterConfig, ReadFrom};
/// let config = ClusterConfig::builder().seed("10.0.0.1", 7000).read_from(ReadFrom::PreferReplica).build();
/// let cluster = ClusterClient::connect(config).await?;
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

/// How a [`ClusterClient`](super::ClusterClient) connects and behaves: the
/// seeds, the configuration of every node connection, and the cluster's own
/// knobs.
///
/// **One node configuration.** Every node is reached with the same
/// credentials, TLS, protocol, timeouts and backoff: a cluster has one
/// [`Config`] for all its connections, under the names a single client
/// uses. The seeds are only addresses. Of the node configuration, the
/// cluster sets what is its own decision: the address (from the seeds and
/// the slot map), `fail_fast` (node connections always fail fast, so that a
/// request for a node that is down comes back unsent and the router can
/// send it where the map says now; the router's own
/// [`fail_fast`](ClusterConfigBuilder::fail_fast) says whether to wait for
/// the cluster to heal) and `READONLY` on connections to replicas read
/// from. A Sentinel setting makes no sense for a cluster and is refused.
///
/// **Deadlines.** The node configuration's `command_timeout` is the default
/// deadline of a whole cluster request: routing, redirections, pauses and
/// map refreshes included. Within it, a slot without an owner, a node that
/// cannot be reached, `TRYAGAIN` and `CLUSTERDOWN` are waited out (a pause
/// that doubles from [`ClusterRetry::initial`] to [`ClusterRetry::max`],
/// the map read again, the request sent again). A request without a
/// deadline gives up after [`ClusterRetry::max_attempts`] pauses.
///
/// ```
/// use std::time::Duration;
/// use redwire::cluster::{ClusterConfig, ReadFrom};
/// use redwire::Config;
///
/// let config = ClusterConfig::builder()
///     .seed("10.0.0.1", 7000)
///     .seed("10.0.0.2", 7000)
///     .node(Config::builder().password("secret").command_timeout(Duration::from_secs(2)).build())
///     .read_from(ReadFrom::PreferReplica)
///     .max_redirects(8)
///     .refresh_interval(Some(Duration::from_secs(10)))
///     .build();
/// assert_eq!(config.seeds().len(), 2);
/// assert!(!format!("{config:?}").contains("secret"));
///
/// // The same from a URL: the seeds, the node options, the cluster's options.
/// let url = "redis://:secret@10.0.0.1:7000,10.0.0.2:7000?command_timeout=2&read_from=prefer_replica&max_redirects=8&refresh_interval=10s";
/// let parsed = ClusterConfig::from_url(url).unwrap();
/// assert_eq!(parsed.seeds(), config.seeds());
/// assert_eq!(parsed.node().command_timeout(), config.node().command_timeout());
/// assert_eq!((parsed.read_from(), parsed.max_redirects()), (ReadFrom::PreferReplica, 8));
/// assert_eq!(parsed.refresh_interval(), config.refresh_interval());
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct ClusterConfig {
    pub(crate) node: Config,
    pub(crate) seeds: Vec<Addr>,
    pub(crate) read_from: ReadFrom,
    pub(crate) max_redirects: u32,
    pub(crate) retry: ClusterRetry,
    pub(crate) refresh_interval: Option<Duration>,
    pub(crate) fail_fast: bool,
}

impl Default for ClusterConfig {
    fn default() -> Self {
        ClusterConfig {
            node: Config::default(),
            seeds: Vec::new(),
            read_from: ReadFrom::Primary,
            max_redirects: 16,
            retry: ClusterRetry::default(),
            refresh_interval: Some(Duration::from_secs(30)),
            fail_fast: false,
        }
    }
}

/// One seed, with its configuration for every node.
///
/// ```
/// let config: redwire::cluster::ClusterConfig = redwire::Config::from_url("redis://10.0.0.1:7000").unwrap().into();
/// assert_eq!(config.seeds()[0].to_string(), "10.0.0.1:7000");
/// ```
impl From<Config> for ClusterConfig {
    fn from(node: Config) -> Self {
        ClusterConfig {
            seeds: vec![node.addr.clone()],
            node,
            ..ClusterConfig::default()
        }
    }
}

impl ClusterConfig {
    /// A builder with the defaults: no seed yet, the default [`Config`] for
    /// the nodes, reads from primaries, 16 redirections, the default
    /// [`ClusterRetry`], the map read again every 30 s, waiting (not failing
    /// fast) while the cluster heals.
    pub fn builder() -> ClusterConfigBuilder {
        ClusterConfigBuilder(ClusterConfig::default())
    }

    /// A builder starting from this configuration.
    pub fn into_builder(self) -> ClusterConfigBuilder {
        ClusterConfigBuilder(self)
    }

    /// Parses a seed list URL:
    /// `redis://[user:password@]h1:7000,h2:7001[/db][?options]` (or
    /// `rediss://` for TLS to every node). Its options are those of
    /// [`Config::from_url`], for every node connection, and the cluster's
    /// own, each the [`ClusterConfigBuilder`] method of the same name:
    ///
    /// | option | value |
    /// |---|---|
    /// | `read_from` | `primary`, `prefer_replica` or `round_robin` |
    /// | `max_redirects` | number |
    /// | `retry_initial`, `retry_max` | duration ([`ClusterRetry`]) |
    /// | `retry_max_attempts` | number or `none` |
    /// | `refresh_interval` | duration or `none` |
    /// | `fail_fast` | `true`/`false`: the router's (see [`ClusterConfigBuilder::fail_fast`]) |
    ///
    /// ```
    /// use std::time::Duration;
    /// let c = redwire::cluster::ClusterConfig::from_url(
    ///     "redis://h1:7000,h2:7000?connect_timeout=1&backoff_max=2s&retry_max=1s&fail_fast=true",
    /// )
    /// .unwrap();
    /// assert_eq!(c.node().backoff().max, Duration::from_secs(2));
    /// assert_eq!(c.retry().max, Duration::from_secs(1));
    /// assert!(c.fail_fast());
    /// assert!(redwire::cluster::ClusterConfig::from_url("redis://h1?read_from=anywhere").is_err());
    /// ```
    pub fn from_url(url: &str) -> Result<ClusterConfig> {
        let bad = |why: String| Error::config(format!("invalid seed URL: {why}"));
        let (head, query) = url.split_once('?').unwrap_or((url, ""));
        let mut config = ClusterConfig::default();
        let mut node_options = Vec::new();
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            let retry = &mut config.retry;
            match key {
                "read_from" => {
                    config.read_from = match value {
                        "primary" => ReadFrom::Primary,
                        "prefer_replica" => ReadFrom::PreferReplica,
                        "round_robin" => ReadFrom::RoundRobin,
                        _ => {
                            return Err(bad(format!(
                                "read_from `{value}` is not primary, prefer_replica or round_robin"
                            )))
                        }
                    }
                }
                "max_redirects" => {
                    config.max_redirects = value.parse().map_err(|_| {
                        bad(format!("max_redirects `{value}` is not a whole number"))
                    })?
                }
                "retry_initial" => retry.initial = duration(value).map_err(bad)?,
                "retry_max" => retry.max = duration(value).map_err(bad)?,
                "retry_max_attempts" => {
                    retry.max_attempts = match value {
                        "none" => None,
                        _ => Some(value.parse().map_err(|_| {
                            bad(format!(
                                "retry_max_attempts `{value}` is not a whole number"
                            ))
                        })?),
                    }
                }
                "refresh_interval" => {
                    config.refresh_interval = match value {
                        "none" | "off" => None,
                        _ => Some(duration(value).map_err(bad)?),
                    }
                }
                "fail_fast" => {
                    config.fail_fast = match value {
                        "true" | "yes" | "on" | "1" => true,
                        "false" | "no" | "off" | "0" => false,
                        _ => return Err(bad(format!("fail_fast `{value}` is not true or false"))),
                    }
                }
                _ => node_options.push(pair),
            }
        }
        let rest = if node_options.is_empty() {
            head.to_string()
        } else {
            format!("{head}?{}", node_options.join("&"))
        };
        let seeds = parse_seeds(&rest)?;
        config.seeds = seeds.iter().map(|c| c.addr.clone()).collect();
        config.node = seeds
            .into_iter()
            .next()
            .expect("parse_seeds gives one or more");
        Ok(config)
    }

    /// One configuration from a list of seeds' configurations, which must
    /// agree on everything but their addresses (a cluster has one node
    /// configuration: the first seed's would otherwise silently apply to
    /// all).
    ///
    /// ```
    /// use redwire::cluster::ClusterConfig;
    /// let a: redwire::Config = "redis://:pw@h1:7000".parse().unwrap();
    /// let b: redwire::Config = "redis://:pw@h2:7000".parse().unwrap();
    /// assert_eq!(ClusterConfig::from_seeds(vec![a.clone(), b]).unwrap().seeds().len(), 2);
    /// let other: redwire::Config = "redis://:other@h3:7000".parse().unwrap();
    /// assert!(ClusterConfig::from_seeds(vec![a, other]).is_err());
    /// ```
    pub fn from_seeds(seeds: Vec<Config>) -> Result<ClusterConfig> {
        let Some(first) = seeds.first().cloned() else {
            return Err(Error::config(
                "a cluster client needs at least one seed address",
            ));
        };
        for seed in &seeds[1..] {
            let mut same = seed.clone();
            same.addr = first.addr.clone();
            if same != first {
                return Err(Error::config(format!(
                    "the seeds' configurations differ beyond their addresses ({} and {}): \
                     a cluster has one configuration for every node; use \
                     ClusterConfig::builder().node(config).seeds(addresses)",
                    first.redacted_url(),
                    seed.redacted_url()
                )));
            }
        }
        Ok(ClusterConfig {
            seeds: seeds.iter().map(|c| c.addr.clone()).collect(),
            node: first,
            ..ClusterConfig::default()
        })
    }

    /// The configuration of every node connection.
    pub fn node(&self) -> &Config {
        &self.node
    }

    /// The seed addresses.
    pub fn seeds(&self) -> &[Addr] {
        &self.seeds
    }

    /// Where reads go.
    pub fn read_from(&self) -> ReadFrom {
        self.read_from
    }

    /// Redirections (`MOVED`, `ASK`) a request may follow.
    pub fn max_redirects(&self) -> u32 {
        self.max_redirects
    }

    /// How a request waits for the cluster to heal.
    pub fn retry(&self) -> ClusterRetry {
        self.retry
    }

    /// How often the slot map is read again when nothing said it changed.
    pub fn refresh_interval(&self) -> Option<Duration> {
        self.refresh_interval
    }

    /// True when a request fails at once instead of waiting for the cluster
    /// to heal.
    pub fn fail_fast(&self) -> bool {
        self.fail_fast
    }

    /// The seeds to try, or why there are none fit for a cluster.
    pub(crate) fn checked(&self) -> Result<Vec<(String, u16)>> {
        if self.node.sentinel.is_some() {
            return Err(Error::config(
                "a cluster is not found through Sentinel: give the cluster's nodes as seeds",
            ));
        }
        let mut seeds = Vec::new();
        let addrs = if self.seeds.is_empty() {
            std::slice::from_ref(&self.node.addr)
        } else {
            &self.seeds[..]
        };
        for addr in addrs {
            match addr {
                Addr::Tcp { host, port } => seeds.push((host.clone(), *port)),
                Addr::Unix(path) => {
                    return Err(Error::config(format!(
                        "a cluster seed is a TCP address, not the unix socket {}",
                        path.display()
                    )))
                }
            }
        }
        Ok(seeds)
    }
}

/// Builds a [`ClusterConfig`] one option at a time (see
/// [`ClusterConfig::builder`]).
#[derive(Debug, Clone)]
pub struct ClusterConfigBuilder(ClusterConfig);

impl ClusterConfigBuilder {
    /// Adds a seed: a node to read the slot map from first. With no seed,
    /// the node configuration's address is the one seed.
    pub fn seed(mut self, host: impl Into<String>, port: u16) -> Self {
        self.0.seeds.push(Addr::Tcp {
            host: host.into(),
            port,
        });
        self
    }

    /// Adds these seeds.
    ///
    /// ```
    /// use redwire::Addr;
    /// let config = redwire::cluster::ClusterConfig::builder()
    ///     .seeds([Addr::Tcp { host: "10.0.0.1".into(), port: 7000 }])
    ///     .build();
    /// assert_eq!(config.seeds().len(), 1);
    /// ```
    pub fn seeds(mut self, seeds: impl IntoIterator<Item = Addr>) -> Self {
        self.0.seeds.extend(seeds);
        self
    }

    /// The configuration of every node connection: credentials, TLS,
    /// protocol, client name, timeouts (its `command_timeout` is the
    /// default deadline of a whole cluster request), backoff, limits. Its
    /// address is a seed when no other is given; its `fail_fast` is not used
    /// (see [`ClusterConfig`]).
    pub fn node(mut self, node: Config) -> Self {
        self.0.node = node;
        self
    }

    /// Where reads go (default: the primary).
    pub fn read_from(mut self, read_from: ReadFrom) -> Self {
        self.0.read_from = read_from;
        self
    }

    /// Redirections (`MOVED`, `ASK`) a request may follow before it fails
    /// with [`ClusterReason::TooManyRedirects`](crate::ClusterReason::TooManyRedirects) (default 16).
    pub fn max_redirects(mut self, n: u32) -> Self {
        self.0.max_redirects = n;
        self
    }

    /// How a request waits for the cluster to heal (see [`ClusterRetry`]).
    pub fn retry(mut self, retry: ClusterRetry) -> Self {
        self.0.retry = retry;
        self
    }

    /// How often the slot map is read again when nothing said it changed
    /// (default 30 s; `None`: only when a request runs into a change).
    pub fn refresh_interval(mut self, every: Option<Duration>) -> Self {
        self.0.refresh_interval = every;
        self
    }

    /// When no node serves a request's slot, its node cannot be reached, or
    /// a node answers `TRYAGAIN`/`CLUSTERDOWN`: fail at once with that
    /// error instead of waiting (within the deadline) for the cluster to
    /// heal (default: wait); the slot map is read again in the background
    /// all the same, so the next request finds a new owner. The router's
    /// decision: node connections always fail fast on their own.
    pub fn fail_fast(mut self, yes: bool) -> Self {
        self.0.fail_fast = yes;
        self
    }

    /// The finished configuration.
    pub fn build(self) -> ClusterConfig {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_seed_url_carries_node_and_cluster_options() {
        let c = ClusterConfig::from_url(
            "redis://:pw@a:7000,b:7001/0?connect_timeout=2&command_timeout=500ms&read_from=round_robin\
             &max_redirects=3&retry_initial=5ms&retry_max=200ms&retry_max_attempts=none\
             &refresh_interval=none&fail_fast=yes&client_name=api",
        )
        .unwrap();
        let seeds: Vec<String> = c.seeds().iter().map(ToString::to_string).collect();
        assert_eq!(seeds, ["a:7000", "b:7001"]);
        assert_eq!(c.node().command_timeout(), Some(Duration::from_millis(500)));
        assert_eq!(c.node().connect_timeout, Duration::from_secs(2));
        assert_eq!(c.node().client_name(), Some("api"));
        assert!(!c.node().fail_fast, "fail_fast is the router's");
        assert_eq!(c.read_from(), ReadFrom::RoundRobin);
        assert_eq!(c.max_redirects(), 3);
        assert_eq!(
            c.retry(),
            ClusterRetry {
                initial: Duration::from_millis(5),
                max: Duration::from_millis(200),
                max_attempts: None
            }
        );
        assert_eq!(c.refresh_interval(), None);
        assert!(c.fail_fast());
        for bad in [
            "redis://a?read_from=x",
            "redis://a?max_redirects=-1",
            "redis://a?retry_max=soon",
            "redis://a?retry_max_attempts=x",
            "redis://a?refresh_interval=x",
            "redis://a?fail_fast=x",
            "redis://a?nonsense=1",
            "redis://a?connect_timeout=x",
        ] {
            let err = ClusterConfig::from_url(bad).unwrap_err();
            assert_eq!(err.kind(), crate::ErrorKind::Config, "{bad}");
        }
        let defaults = ClusterConfig::from_url("redis://a").unwrap();
        assert_eq!(defaults.refresh_interval(), Some(Duration::from_secs(30)));
        assert_eq!(
            (defaults.max_redirects(), defaults.fail_fast()),
            (16, false)
        );
    }

    #[test]
    fn every_read_from_and_fail_fast_value_is_read() {
        for (text, read_from) in [
            ("primary", ReadFrom::Primary),
            ("prefer_replica", ReadFrom::PreferReplica),
            ("round_robin", ReadFrom::RoundRobin),
        ] {
            // From another value than the default, so that each arm counts.
            let url = format!("redis://a?read_from=round_robin&read_from={text}");
            assert_eq!(
                ClusterConfig::from_url(&url).unwrap().read_from(),
                read_from
            );
        }
        for (text, yes) in [("true", true), ("on", true), ("false", false), ("0", false)] {
            let url = format!("redis://a?fail_fast=true&fail_fast={text}");
            assert_eq!(
                ClusterConfig::from_url(&url).unwrap().fail_fast(),
                yes,
                "{text}"
            );
        }
    }

    #[test]
    fn seeds_that_agree_but_for_their_address_make_one_configuration() {
        let a = Config::from_url("redis://:pw@a:1/2?client_name=x").unwrap();
        let b = Config::from_url("redis://:pw@b:2/2?client_name=x").unwrap();
        let c = ClusterConfig::from_seeds(vec![a.clone(), b]).unwrap();
        let seeds: Vec<String> = c.seeds().iter().map(ToString::to_string).collect();
        assert_eq!(seeds, ["a:1", "b:2"]);
        assert_eq!(c.node(), &a);
        assert_eq!(c.max_redirects(), 16);
        let other_db = Config::from_url("redis://:pw@b:2/3?client_name=x").unwrap();
        let err = ClusterConfig::from_seeds(vec![a.clone(), other_db]).unwrap_err();
        assert_eq!(err.kind(), crate::ErrorKind::Config);
        assert!(ClusterConfig::from_seeds(Vec::new()).is_err());
        // One seed from a Config: its address.
        let one: ClusterConfig = a.clone().into();
        assert_eq!(one.seeds(), std::slice::from_ref(&a.addr));
        assert_eq!(one.node(), &a);
    }

    #[test]
    fn seeds_come_from_the_node_address_when_none_is_given_and_must_be_tcp() {
        let c: ClusterConfig = Config::from_url("redis://h:7000").unwrap().into();
        assert_eq!(c.checked().unwrap(), [("h".to_string(), 7000)]);
        let c = ClusterConfig::builder()
            .node(Config::from_url("redis://ignored:1").unwrap())
            .seed("a", 2)
            .build();
        assert_eq!(c.checked().unwrap(), [("a".to_string(), 2)]);
        let unix: ClusterConfig = Config::from_url("unix:///tmp/s.sock").unwrap().into();
        assert!(unix.checked().is_err());
        let sentinel: ClusterConfig = Config::from_url("redis+sentinel://s/m").unwrap().into();
        assert!(sentinel.checked().is_err());
    }

    #[test]
    fn the_retry_pause_doubles_up_to_its_cap_and_never_panics() {
        let r = ClusterRetry {
            initial: Duration::from_millis(100),
            max: Duration::from_secs(1),
            max_attempts: None,
        };
        assert_eq!(r.pause(1), Duration::from_millis(100));
        assert_eq!(r.pause(2), Duration::from_millis(200));
        assert_eq!(r.pause(5), Duration::from_secs(1));
        assert_eq!(r.pause(u32::MAX), Duration::from_secs(1));
        let zero = ClusterRetry {
            initial: Duration::ZERO,
            max: Duration::ZERO,
            max_attempts: None,
        };
        assert_eq!(zero.pause(1), Duration::from_millis(1));
        let inverted = ClusterRetry {
            initial: Duration::from_secs(2),
            max: Duration::from_millis(1),
            max_attempts: None,
        };
        assert_eq!(inverted.pause(3), Duration::from_secs(2));
    }
}
