//! How a client's cache is set up: its bound in bytes, an optional cap on
//! how long an entry lives, and which tracking mode the server runs.

use std::time::Duration;

/// The client-side cache of a [`Client`](crate::Client) (feature
/// `client-cache`), given to [`ConfigBuilder::client_cache`](crate::ConfigBuilder::client_cache).
///
/// ```
/// use redwire::{CacheConfig, CacheMode};
/// use std::time::Duration;
///
/// let cache = CacheConfig::new()
///     .max_bytes(16 << 20)
///     .max_ttl(Duration::from_secs(60))
///     .mode(CacheMode::Broadcast { prefixes: vec!["user:".into()] });
/// assert_eq!(cache.bytes(), 16 << 20);
/// let config = redwire::Config::builder().client_cache(cache).build();
/// assert!(config.client_cache().is_some());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CacheConfig {
    pub(crate) max_bytes: u64,
    pub(crate) max_ttl: Option<Duration>,
    pub(crate) mode: CacheMode,
}

/// Which keys the server tells the client about (`CLIENT TRACKING` modes).
///
/// ```
/// let optin = redwire::CacheMode::OptIn;
/// assert_ne!(optin, redwire::CacheMode::Tracking);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum CacheMode {
    /// The server remembers the keys this connection read and invalidates
    /// them when they change; every cacheable read is cached.
    #[default]
    Tracking,
    /// Only the reads made through [`Client::cached`](crate::Client::cached)
    /// are tracked and cached (each is sent right behind
    /// `CLIENT CACHING YES`, in the same write).
    OptIn,
    /// The server invalidates every key that starts with one of the
    /// prefixes (every key when there is none), whoever read it; only keys
    /// under the prefixes are cached. Costs the server no memory per key.
    Broadcast {
        /// Key prefixes; none means every key.
        prefixes: Vec<String>,
    },
}

impl Default for CacheConfig {
    fn default() -> Self {
        CacheConfig {
            max_bytes: 64 << 20,
            max_ttl: None,
            mode: CacheMode::Tracking,
        }
    }
}

impl CacheConfig {
    /// 64 MiB, no TTL cap, [`CacheMode::Tracking`].
    ///
    /// ```
    /// assert_eq!(redwire::CacheConfig::new().bytes(), 64 << 20);
    /// ```
    pub fn new() -> Self {
        CacheConfig::default()
    }

    /// The most the cache holds, keys and values counted (at least 4 KiB).
    ///
    /// ```
    /// let c = redwire::CacheConfig::new().max_bytes(1 << 20);
    /// assert_eq!(c.bytes(), 1 << 20);
    /// ```
    pub fn max_bytes(mut self, bytes: u64) -> Self {
        self.max_bytes = bytes.max(4096);
        self
    }

    /// No entry is served longer than this after it was read, even if the
    /// server never invalidates it (a safety net, not needed for correctness).
    ///
    /// ```
    /// let c = redwire::CacheConfig::new().max_ttl(std::time::Duration::from_secs(5));
    /// assert_eq!(c.ttl(), Some(std::time::Duration::from_secs(5)));
    /// ```
    pub fn max_ttl(mut self, ttl: Duration) -> Self {
        self.max_ttl = Some(ttl);
        self
    }

    /// The tracking mode.
    ///
    /// ```
    /// let c = redwire::CacheConfig::new().mode(redwire::CacheMode::OptIn);
    /// assert_eq!(c.tracking_mode(), &redwire::CacheMode::OptIn);
    /// ```
    pub fn mode(mut self, mode: CacheMode) -> Self {
        self.mode = mode;
        self
    }

    /// The bound in bytes.
    pub fn bytes(&self) -> u64 {
        self.max_bytes
    }

    /// The cap on an entry's life, if any.
    pub fn ttl(&self) -> Option<Duration> {
        self.max_ttl
    }

    /// The tracking mode.
    pub fn tracking_mode(&self) -> &CacheMode {
        &self.mode
    }

    /// `CLIENT TRACKING ON …` for this mode, sent in every handshake.
    pub(crate) fn tracking_command(&self) -> crate::cmd::Cmd {
        let mut c = crate::cmd::cmd("CLIENT").arg("TRACKING").arg("ON");
        match &self.mode {
            CacheMode::Tracking => {}
            CacheMode::OptIn => {
                c.push_arg("OPTIN");
            }
            CacheMode::Broadcast { prefixes } => {
                c.push_arg("BCAST");
                for prefix in prefixes {
                    c.push_arg("PREFIX").push_arg(prefix);
                }
            }
        }
        c
    }
}
