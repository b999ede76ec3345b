//! Parsing of `redis://`, `rediss://` and `unix://` URLs into a [`Config`].
//!
//! `redis://[user:password@]host[:port][/db]` (`valkey://` too), `rediss://…`
//! for TLS and `unix:///path/to/socket?db=N` (`redis+unix://` too). User,
//! password and socket path are percent-decoded. Query options: `protocol=2|3`,
//! `client_name=NAME` and `db=N`; anything else is an error, so a typo never
//! goes unnoticed. A user without a password is an error too: Redis has no way
//! to log in as a user without one.

use super::{Addr, Config, Protocol, Secret, TlsConfig};
use crate::error::{Error, Result};
use std::path::PathBuf;

pub(super) fn parse(input: &str) -> Result<Config> {
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
            let path = percent_encoding::percent_decode_str(url.path()).collect::<Vec<u8>>();
            config.addr = Addr::Unix(socket_path(path));
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
    if config.username.is_some() && config.password.is_none() && has_empty_password(input) {
        config.password = Some(Secret(String::new()));
    }
    if config.username.is_some() && config.password.is_none() {
        return Err(bad(
            "a user name needs a password (redis://user:password@host); \
             for the default user, give the password alone (redis://:password@host)",
        ));
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

/// True for `scheme://user:@host`: the URL parser drops an empty password,
/// which is still a password.
fn has_empty_password(input: &str) -> bool {
    let rest = input.split_once("://").map_or("", |(_, rest)| rest);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    authority
        .rsplit_once('@')
        .is_some_and(|(userinfo, _)| userinfo.ends_with(':'))
}

/// A socket path from its percent-decoded bytes (a path need not be UTF-8).
#[cfg(unix)]
fn socket_path(bytes: Vec<u8>) -> PathBuf {
    use std::os::unix::ffi::OsStringExt;
    PathBuf::from(std::ffi::OsString::from_vec(bytes))
}

#[cfg(not(unix))]
fn socket_path(bytes: Vec<u8>) -> PathBuf {
    PathBuf::from(String::from_utf8_lossy(&bytes).into_owned())
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
    fn unix_paths_are_percent_decoded() {
        let c: Config = "unix:///run/my%20redis/redis%2B1.sock?db=2"
            .parse()
            .unwrap();
        assert_eq!(c.addr, Addr::Unix("/run/my redis/redis+1.sock".into()));
        assert_eq!(c.database, 2);
    }

    #[test]
    fn a_user_without_a_password_is_refused() {
        let err = Config::from_url("redis://alice@h:6379").unwrap_err();
        assert_eq!(err.kind(), crate::ErrorKind::Config);
        assert!(err.message().contains("needs a password"), "{err}");
        // An empty password is a password.
        let c: Config = "redis://alice:@h".parse().unwrap();
        assert_eq!(c.username.as_deref(), Some("alice"));
    }
}
