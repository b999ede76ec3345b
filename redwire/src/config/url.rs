//! Parsing of `redis://`, `rediss://`, `unix://` and `redis+sentinel://`
//! URLs into a [`Config`].
//!
//! `redis://[user:password@]host[:port][/db]` (`valkey://` too), `rediss://…`
//! for TLS and `unix:///path/to/socket?db=N` (`redis+unix://` too). User,
//! password and socket path are percent-decoded. A user without a password is
//! an error: Redis has no way to log in as a user without one.
//!
//! Query options carry everything [`ConfigBuilder`](super::ConfigBuilder)
//! sets that fits in text, under the builder's own names (the table is in
//! [`Config::from_url`]); anything else is an error, so a typo never goes
//! unnoticed. A duration is a number of seconds (`1.5`) or has a unit
//! (`250ms`, `2s`, `1m`); an optional one is turned off with `none`.

use super::{Addr, Config, Protocol, Secret, TlsConfig};
use crate::error::{Error, Result};
use std::path::PathBuf;
use std::time::Duration;

pub(super) fn parse(input: &str) -> Result<Config> {
    if let Some((scheme, rest)) = input.split_once("://") {
        if scheme == "redis+sentinel" || scheme == "rediss+sentinel" {
            return parse_sentinel(scheme, rest);
        }
    }
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
        option(&mut config, &key, &value).map_err(|why| bad(&why))?;
    }
    Ok(config)
}

/// Applies one query option to `config`, or says why it cannot.
fn option(config: &mut Config, key: &str, value: &str) -> std::result::Result<(), String> {
    let number = |what: &str| -> std::result::Result<u64, String> {
        value
            .parse()
            .map_err(|_| format!("{what} `{value}` is not a whole number"))
    };
    let yes_no = || -> std::result::Result<bool, String> {
        match value {
            "true" | "yes" | "on" | "1" => Ok(true),
            "false" | "no" | "off" | "0" => Ok(false),
            _ => Err(format!("{key} `{value}` is not true or false")),
        }
    };
    let some_duration = || -> std::result::Result<Option<Duration>, String> {
        match value {
            "none" | "off" => Ok(None),
            _ => duration(value)
                .map(Some)
                .map_err(|why| format!("{key}: {why}")),
        }
    };
    let a_duration = || duration(value).map_err(|why| format!("{key}: {why}"));
    match key {
        "db" => {
            config.database = value
                .parse()
                .map_err(|_| format!("db `{value}` is not a number"))?
        }
        "protocol" | "resp" => {
            config.protocol = match value {
                "2" => Protocol::Resp2,
                "3" => Protocol::Resp3,
                _ => return Err(format!("protocol `{value}` is not 2 or 3")),
            }
        }
        "client_name" | "name" => config.client_name = Some(value.to_owned()),
        "connect_timeout" => config.connect_timeout = a_duration()?,
        "command_timeout" => config.command_timeout = some_duration()?,
        "response_timeout" => config.response_timeout = some_duration()?,
        "health_check_interval" => config.health_check_interval = some_duration()?,
        "tcp_keepalive" => config.tcp_keepalive = some_duration()?,
        "tcp_nodelay" => config.tcp_nodelay = yes_no()?,
        "fail_fast" => config.fail_fast = yes_no()?,
        "max_in_flight" => config.max_in_flight = (number(key)? as usize).max(1),
        "channel_capacity" => config.channel_capacity = (number(key)? as usize).max(1),
        "backoff_initial" => config.backoff.initial = a_duration()?,
        "backoff_max" => config.backoff.max = a_duration()?,
        "backoff_jitter" => {
            config.backoff.jitter = value
                .parse()
                .map_err(|_| format!("backoff_jitter `{value}` is not a number"))?
        }
        "max_reconnect_attempts" => {
            config.backoff.max_attempts = match value {
                "none" => None,
                _ => Some(u32::try_from(number(key)?).map_err(|_| format!("{key} is too large"))?),
            }
        }
        _ => return Err(format!("unknown option `{key}`")),
    }
    if key.starts_with("backoff_") || key == "max_reconnect_attempts" {
        config.backoff = config.backoff.normalized();
    }
    Ok(())
}

/// A duration in a URL: seconds (`1.5`), or with a unit (`250ms`, `2s`, `1m`).
pub(crate) fn duration(text: &str) -> std::result::Result<Duration, String> {
    let (number, scale) = if let Some(n) = text.strip_suffix("ms") {
        (n, 0.001)
    } else if let Some(n) = text.strip_suffix('s') {
        (n, 1.0)
    } else if let Some(n) = text.strip_suffix('m') {
        (n, 60.0)
    } else {
        (text, 1.0)
    };
    number
        .parse::<f64>()
        .ok()
        .and_then(|n| Duration::try_from_secs_f64(n * scale).ok())
        .ok_or_else(|| format!("`{text}` is not a duration (seconds, or a number with ms, s or m)"))
}

/// `redis://[user:password@]h1:7000,h2:7001[/db][?options]`: one
/// configuration per host, each with the credentials and options of the
/// URL (the seeds of a cluster client).
pub(crate) fn parse_seeds(input: &str) -> Result<Vec<Config>> {
    let bad = |why: &str| Error::config(format!("invalid seed URL: {why}"));
    let (scheme, rest) = input
        .split_once("://")
        .ok_or_else(|| bad("it needs a scheme: redis://h1:7000,h2:7001"))?;
    if scheme != "redis" && scheme != "rediss" {
        return Err(bad("the scheme is redis:// or rediss://"));
    }
    let end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    let (userinfo, hosts) = match authority.rsplit_once('@') {
        Some((u, h)) => (Some(u), h),
        None => (None, authority),
    };
    let auth = userinfo.map(|u| format!("{u}@")).unwrap_or_default();
    let hosts: Vec<&str> = hosts.split(',').filter(|h| !h.is_empty()).collect();
    if hosts.is_empty() {
        return Err(bad("it names no host"));
    }
    hosts
        .into_iter()
        .map(|host| parse(&format!("{scheme}://{auth}{host}{tail}")))
        .collect()
}

/// `redis+sentinel://[user:password@]s1:26379,s2:26379/mymaster[/db][?options]`:
/// the Sentinels (port 26379 unless given), the monitored name, and the
/// data nodes' credentials, database and options as in `redis://`; the
/// option `sentinel_password` is the Sentinels' own, and `role=replica`
/// connects to a replica for reads. `rediss+sentinel://` uses TLS to the
/// data nodes.
fn parse_sentinel(scheme: &str, rest: &str) -> Result<Config> {
    let bad = |why: &str| Error::config(format!("invalid Sentinel URL: {why}"));
    let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
    let (userinfo, hosts) = match authority.rsplit_once('@') {
        Some((userinfo, hosts)) => (Some(userinfo), hosts),
        None => (None, authority),
    };
    let mut sentinels = Vec::new();
    for host in hosts.split(',').filter(|h| !h.is_empty()) {
        let (name, port) = match host.rsplit_once(':') {
            Some((name, port)) if !name.ends_with(':') && !port.contains(']') => (
                name,
                port.parse()
                    .map_err(|_| bad(&format!("port `{port}` is not a number")))?,
            ),
            _ => (host, 26379),
        };
        let name = name.trim_start_matches('[').trim_end_matches(']');
        sentinels.push(Addr::Tcp {
            host: name.to_string(),
            port,
        });
    }
    let (path, query) = path.split_once('?').unwrap_or((path, ""));
    let mut parts = path.splitn(2, '/');
    let name = parts.next().unwrap_or("");
    if sentinels.is_empty() || name.is_empty() {
        return Err(bad("it needs the Sentinels and the monitored name: redis+sentinel://s1:26379,s2:26379/mymaster"));
    }
    let db = parts.next().unwrap_or("");
    let mut sentinel_password = None;
    let mut replica = false;
    let mut options: Vec<&str> = Vec::new();
    for kv in query.split('&').filter(|kv| !kv.is_empty()) {
        if let Some(pw) = kv.strip_prefix("sentinel_password=") {
            sentinel_password = Some(pw.to_string());
        } else if let Some(role) = kv.strip_prefix("role=") {
            replica = match role {
                "replica" => true,
                "primary" | "master" => false,
                _ => return Err(bad("role is `primary` or `replica`")),
            };
        } else {
            options.push(kv);
        }
    }
    let data_scheme = if scheme == "rediss+sentinel" {
        "rediss"
    } else {
        "redis"
    };
    let auth = userinfo.map(|u| format!("{u}@")).unwrap_or_default();
    let Addr::Tcp { host, port } = &sentinels[0] else {
        unreachable!("sentinels are TCP")
    };
    let host = if host.contains(':') {
        format!("[{host}]")
    } else {
        host.clone()
    };
    let query = if options.is_empty() {
        String::new()
    } else {
        format!("?{}", options.join("&"))
    };
    let data = parse(&format!("{data_scheme}://{auth}{host}:{port}/{db}{query}"))?;
    let mut builder = data
        .into_builder()
        .sentinel(name, sentinels)
        .sentinel_replica(replica);
    if let Some(pw) = sentinel_password {
        let pw = percent_encoding::percent_decode_str(&pw)
            .decode_utf8()
            .map_err(|_| bad("sentinel_password is not valid UTF-8 after percent-decoding"))?
            .into_owned();
        builder = builder.sentinel_password(pw);
    }
    Ok(builder.build())
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
    fn a_seed_list_gives_one_configuration_per_host_with_the_same_credentials() {
        let seeds = parse_seeds("redis://u:p%40w@a:7000,[::1]:7001,c/2?protocol=3").unwrap();
        let addrs: Vec<String> = seeds.iter().map(|c| c.addr.to_string()).collect();
        assert_eq!(addrs, ["a:7000", "[::1]:7001", "c:6379"]);
        for c in &seeds {
            assert_eq!(c.password, Some(Secret("p@w".into())));
            assert_eq!(c.username.as_deref(), Some("u"));
            assert_eq!((c.database, c.protocol), (2, Protocol::Resp3));
        }
        assert!(parse_seeds("rediss://a,b")
            .unwrap()
            .iter()
            .all(|c| c.is_tls()));
        for bad in [
            "a:1,b:2",
            "http://a",
            "redis://",
            "redis://,/0",
            "redis://a:x,b:1",
        ] {
            assert!(parse_seeds(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn sentinel_urls_name_the_sentinels_the_service_and_both_passwords() {
        let c: Config = "redis+sentinel://:data%40pw@s1:26380,[::1],s3/mymaster/2?sentinel_password=watch&protocol=3"
            .parse()
            .unwrap();
        let sentinel = c.sentinel.clone().unwrap();
        assert_eq!(sentinel.master_name, "mymaster");
        let addrs: Vec<String> = sentinel.sentinels.iter().map(ToString::to_string).collect();
        assert_eq!(addrs, ["s1:26380", "[::1]:26379", "s3:26379"]);
        assert_eq!(sentinel.password, Some(Secret("watch".into())));
        assert_eq!(c.password, Some(Secret("data@pw".into())));
        assert_eq!((c.database, c.protocol), (2, Protocol::Resp3));
        assert!(!format!("{c:?}").contains("watch"));
        let c: Config = "rediss+sentinel://s1/m".parse().unwrap();
        assert!(c.is_tls());
        assert!(Config::from_url("redis+sentinel://s1:26379").is_err());
        // An IPv6 Sentinel without a port, its last group not after `::`.
        let c: Config = "redis+sentinel://[2001:db8::7:1]/m".parse().unwrap();
        let addrs: Vec<String> = c
            .sentinel
            .unwrap()
            .sentinels
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(addrs, ["[2001:db8::7:1]:26379"]);
        let c: Config = "redis+sentinel://s1/m?role=replica&protocol=3"
            .parse()
            .unwrap();
        assert!(c.sentinel.as_ref().unwrap().replica);
        assert_eq!(c.protocol, Protocol::Resp3);
        let c: Config = "redis+sentinel://s1/m?role=primary".parse().unwrap();
        assert!(!c.sentinel.as_ref().unwrap().replica);
        let err = Config::from_url("redis+sentinel://s1/m?role=leader").unwrap_err();
        assert!(err.message().contains("role"), "{err}");
        assert!(Config::from_url("redis+sentinel://s1:x/m").is_err());
    }

    #[test]
    fn timeouts_backoff_and_connection_knobs_come_in_the_query() {
        let c: Config = "redis://h/0?connect_timeout=1.5&command_timeout=250ms&response_timeout=none\
                         &health_check_interval=2m&tcp_keepalive=off&tcp_nodelay=false&fail_fast=true\
                         &max_in_flight=64&channel_capacity=8&backoff_initial=20ms&backoff_max=3s\
                         &backoff_jitter=0.25&max_reconnect_attempts=7"
            .parse()
            .unwrap();
        assert_eq!(c.connect_timeout, Duration::from_millis(1500));
        assert_eq!(c.command_timeout, Some(Duration::from_millis(250)));
        assert_eq!(c.response_timeout, None);
        assert_eq!(c.health_check_interval, Some(Duration::from_secs(120)));
        assert_eq!(c.tcp_keepalive, None);
        assert!(!c.tcp_nodelay && c.fail_fast);
        assert_eq!((c.max_in_flight, c.channel_capacity), (64, 8));
        assert_eq!(
            c.backoff,
            crate::Backoff {
                initial: Duration::from_millis(20),
                max: Duration::from_secs(3),
                jitter: 0.25,
                max_attempts: Some(7),
            }
        );
        let c: Config = "redis://h?command_timeout=2&max_reconnect_attempts=none&fail_fast=no"
            .parse()
            .unwrap();
        assert_eq!(c.command_timeout, Some(Duration::from_secs(2)));
        assert_eq!((c.backoff.max_attempts, c.fail_fast), (None, false));
        // The same options reach a Sentinel URL's data nodes.
        let c: Config = "redis+sentinel://s1/m?connect_timeout=3s".parse().unwrap();
        assert_eq!(c.connect_timeout, Duration::from_secs(3));
        for bad in [
            "redis://h?connect_timeout=soon",
            "redis://h?connect_timeout=none",
            "redis://h?command_timeout=-1",
            "redis://h?fail_fast=maybe",
            "redis://h?max_in_flight=lots",
            "redis://h?backoff_jitter=x",
            "redis://h?max_reconnect_attempts=99999999999",
            "redis://h?conect_timeout=1",
        ] {
            let err = Config::from_url(bad).unwrap_err();
            assert_eq!(err.kind(), crate::ErrorKind::Config, "{bad}");
        }
        let err = Config::from_url("redis://h?connect_timeout=soon").unwrap_err();
        assert!(err.message().contains("connect_timeout"), "{err}");
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
