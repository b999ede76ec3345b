//! Which server a test runs against: [`ServerIdentity`] (Redis or Valkey, and
//! its version), read from the binary (`--version`) before anything starts, or
//! from a running server's `INFO server`, so a test can require a version or a
//! command and skip with a printed reason instead of hard-coding one server's
//! output.
//!
//! Valkey reports `redis_version:7.2.4` for compatibility and its own version
//! in `valkey_version`; a test that compares versions must compare within one
//! product, which is why the name is part of the identity and
//! [`ServerIdentity::at_least`] takes it.

use crate::binary::find_redis_server;
use std::fmt;
use std::io;
use std::path::Path;
use std::process::Command;
use std::sync::OnceLock;

/// The product and version of a server binary or a running server.
///
/// ```no_run
/// let id = redwire_testkit::ServerIdentity::current()?;
/// println!("tests run against {id}"); // "redis 7.0.15" or "valkey 8.0.1"
/// if id.at_least("redis", 7, 4) {
///     // HEXPIRE and friends are there
/// }
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServerIdentity {
    /// `"redis"` or `"valkey"` (lower case).
    pub name: String,
    /// Major, minor and patch version of that product.
    pub version: (u32, u32, u32),
}

impl ServerIdentity {
    /// The identity of the server binary every launcher of this crate uses
    /// (`REDWIRE_REDIS_SERVER` or `redis-server` on the `PATH`), read once per
    /// process from its `--version` output.
    ///
    /// ```no_run
    /// let id = redwire_testkit::ServerIdentity::current()?;
    /// assert!(id.name == "redis" || id.name == "valkey");
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn current() -> io::Result<ServerIdentity> {
        static CURRENT: OnceLock<Result<ServerIdentity, String>> = OnceLock::new();
        CURRENT
            .get_or_init(|| {
                find_redis_server()
                    .and_then(|path| ServerIdentity::of_binary(&path))
                    .map_err(|e| e.to_string())
            })
            .clone()
            .map_err(io::Error::other)
    }

    /// Runs `binary --version` and reads the product and version from it
    /// (`Redis server v=7.0.15 ...`, `Valkey server v=8.0.1 ...`).
    ///
    /// ```no_run
    /// let id = redwire_testkit::ServerIdentity::of_binary("/usr/bin/valkey-server".as_ref())?;
    /// assert_eq!(id.name, "valkey");
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn of_binary(binary: &Path) -> io::Result<ServerIdentity> {
        let out = Command::new(binary).arg("--version").output()?;
        let text = String::from_utf8_lossy(&out.stdout);
        ServerIdentity::from_version_line(&text).ok_or_else(|| {
            io::Error::other(format!(
                "{} --version printed {text:?}, which names no Redis or Valkey version",
                binary.display()
            ))
        })
    }

    /// Reads `--version` output: the product is its first word, the version
    /// follows `v=`.
    ///
    /// ```
    /// use redwire_testkit::ServerIdentity;
    /// let id = ServerIdentity::from_version_line("Valkey server v=8.0.1 sha=0 malloc=jemalloc").unwrap();
    /// assert_eq!((id.name.as_str(), id.version), ("valkey", (8, 0, 1)));
    /// ```
    pub fn from_version_line(text: &str) -> Option<ServerIdentity> {
        let name = text.split_whitespace().next()?.to_ascii_lowercase();
        let version = text
            .split_whitespace()
            .find_map(|w| w.strip_prefix("v="))
            .and_then(parse_version)?;
        known(name, version)
    }

    /// Reads the text of `INFO server`: `valkey_version` when present (and
    /// `server_name:valkey`), else `redis_version`.
    ///
    /// ```
    /// use redwire_testkit::ServerIdentity;
    /// let info = "# Server\r\nredis_version:7.2.4\r\nserver_name:valkey\r\nvalkey_version:8.0.1\r\n";
    /// assert_eq!(ServerIdentity::from_info(info).unwrap().to_string(), "valkey 8.0.1");
    /// let info = "# Server\r\nredis_version:8.0.2\r\n";
    /// assert_eq!(ServerIdentity::from_info(info).unwrap().to_string(), "redis 8.0.2");
    /// ```
    pub fn from_info(info: &str) -> Option<ServerIdentity> {
        let field = |name: &str| {
            info.lines()
                .find_map(|l| l.strip_prefix(name)?.strip_prefix(':'))
                .map(str::trim)
        };
        if let Some(v) = field("valkey_version") {
            return known("valkey".into(), parse_version(v)?);
        }
        known("redis".into(), parse_version(field("redis_version")?)?)
    }

    /// True when this is `name` (`"redis"` or `"valkey"`) at `major.minor` or
    /// later. Another product is never "at least" a version of this one.
    ///
    /// ```
    /// use redwire_testkit::ServerIdentity;
    /// let id = ServerIdentity::from_version_line("Redis server v=8.0.2").unwrap();
    /// assert!(id.at_least("redis", 7, 4));
    /// assert!(!id.at_least("valkey", 8, 0));
    /// ```
    pub fn at_least(&self, name: &str, major: u32, minor: u32) -> bool {
        self.name == name && (self.version.0, self.version.1) >= (major, minor)
    }

    /// True for Valkey.
    ///
    /// ```
    /// use redwire_testkit::ServerIdentity;
    /// assert!(ServerIdentity::from_version_line("Valkey server v=8.0.1").unwrap().is_valkey());
    /// ```
    pub fn is_valkey(&self) -> bool {
        self.name == "valkey"
    }
}

impl fmt::Display for ServerIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (a, b, c) = self.version;
        write!(f, "{} {a}.{b}.{c}", self.name)
    }
}

fn known(name: String, version: (u32, u32, u32)) -> Option<ServerIdentity> {
    matches!(name.as_str(), "redis" | "valkey").then_some(ServerIdentity { name, version })
}

fn parse_version(text: &str) -> Option<(u32, u32, u32)> {
    let mut parts = text.trim().split('.').map(|p| p.parse::<u32>().ok());
    let major = parts.next()??;
    let minor = parts.next().unwrap_or(Some(0))?;
    let patch = parts.next().unwrap_or(Some(0))?;
    Some((major, minor, patch))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_lines_of_both_products() {
        let r = ServerIdentity::from_version_line(
            "Redis server v=7.0.15 sha=00000000:0 malloc=jemalloc-5.3.0 bits=64 build=1",
        )
        .unwrap();
        assert_eq!(r.to_string(), "redis 7.0.15");
        assert!(r.at_least("redis", 7, 0) && !r.at_least("redis", 7, 4));
        assert!(!r.is_valkey());
        let v = ServerIdentity::from_version_line("Valkey server v=8.0.1 sha=0").unwrap();
        assert_eq!(v.version, (8, 0, 1));
        assert!(v.at_least("valkey", 8, 0) && !v.at_least("redis", 7, 0));
    }

    #[test]
    fn unknown_text_is_none() {
        assert_eq!(ServerIdentity::from_version_line("KeyDB v=6.3.4"), None);
        assert_eq!(ServerIdentity::from_version_line("Redis server"), None);
        assert_eq!(ServerIdentity::from_info("# Server\r\n"), None);
    }

    #[test]
    fn info_prefers_valkey_version() {
        let info = "redis_version:7.2.4\r\nvalkey_version:8.0.1\r\n";
        assert_eq!(ServerIdentity::from_info(info).unwrap().version, (8, 0, 1));
        assert!(ServerIdentity::from_info(info).unwrap().is_valkey());
    }
}
