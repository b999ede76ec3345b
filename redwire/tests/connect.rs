//! Connecting: in the background before the server exists, fail-fast, and every
//! way `Client::connect` can fail, each a distinct, readable error bounded by
//! the connect timeout.

mod support;

use redwire::{cmd, Client, Config, ErrorKind, Protocol};
use redwire_testkit::{Action, FakeServer, RedisServer};
use std::time::{Duration, Instant};
use support::config;

#[tokio::test]
async fn requests_wait_for_a_server_that_starts_later() {
    let server = RedisServer::start().unwrap();
    server.stop();
    let client = Client::new(config(&server.url()));
    let mut waiting = Vec::new();
    for i in 0..20 {
        let c = client.clone();
        waiting.push(tokio::spawn(async move {
            c.send_timeout(
                &cmd("SET").arg(format!("k{i}")).arg(i),
                Some(Duration::from_secs(10)),
            )
            .await
        }));
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(
        waiting.iter().all(|h| !h.is_finished()),
        "requests wait for the connection"
    );
    server.restart().unwrap();
    for h in waiting {
        assert!(h.await.unwrap().unwrap().is_ok());
    }
    let v: i64 = client.query(&cmd("GET").arg("k7")).await.unwrap();
    assert_eq!(v, 7);
}

#[tokio::test]
async fn fail_fast_fails_at_once_while_disconnected() {
    let server = RedisServer::start().unwrap();
    server.stop();
    let client = Client::new(config(&server.url()).into_builder().fail_fast(true).build());
    let started = Instant::now();
    let err = client
        .send_timeout(&cmd("PING"), Some(Duration::from_secs(10)))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotConnected, "{err}");
    assert!(err.message().contains("fail-fast"), "{err}");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "it did not wait for the deadline"
    );
    server.restart().unwrap();
    client.wait_connected().await.unwrap();
    assert!(client.send(&cmd("PING")).await.is_ok());
}

#[tokio::test]
async fn connection_refused() {
    let server = RedisServer::start().unwrap();
    server.stop();
    let err = Client::connect(config(&server.url())).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Io);
    assert!(
        err.message().contains("cannot connect to 127.0.0.1:"),
        "{err}"
    );
}

#[tokio::test]
async fn unknown_host() {
    let err = Client::connect(config("redis://no-such-host.invalid:6379"))
        .await
        .unwrap_err();
    assert!(
        matches!(err.kind(), ErrorKind::Io | ErrorKind::Timeout),
        "{err:?}"
    );
    assert!(err.message().contains("no-such-host.invalid"), "{err}");
}

#[tokio::test]
async fn wrong_password_is_reported_at_once_and_not_retried() {
    let server = RedisServer::builder().password("right").start().unwrap();
    let url = format!("redis://:wrong@127.0.0.1:{}", server.port());
    let err = Client::connect(config(&url)).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Server);
    assert_eq!(err.code(), Some("WRONGPASS"), "{err}");
    // No password at all: the server says NOAUTH to the first real command.
    let no_pw = format!("redis://127.0.0.1:{}/1", server.port());
    let err = Client::connect(config(&no_pw)).await.unwrap_err();
    assert_eq!(err.code(), Some("NOAUTH"), "{err}");
    let connections = support::info_field(&server, "total_connections_received");
    // One connection per failed connect(), plus the ones of `server.command`.
    assert!(
        connections <= 4,
        "connect() retried: {connections} connections"
    );
}

#[tokio::test]
async fn a_server_that_never_answers_hits_the_connect_timeout() {
    let fake = FakeServer::silent().unwrap();
    let timeout = Duration::from_millis(300);
    let cfg = config(&fake.url())
        .into_builder()
        .connect_timeout(timeout)
        .build();
    let started = Instant::now();
    let err = Client::connect(cfg).await.unwrap_err();
    let took = started.elapsed();
    assert_eq!(err.kind(), ErrorKind::Timeout, "{err}");
    assert!(err.message().contains("timed out connecting"), "{err}");
    assert!(
        took >= timeout && took < timeout + Duration::from_secs(2),
        "took {took:?}"
    );
}

#[tokio::test]
async fn resp3_required_on_a_resp2_server() {
    let fake = FakeServer::resp2(|_| vec![Action::ok()]).unwrap();
    let cfg: Config = config(&fake.url())
        .into_builder()
        .protocol(Protocol::Resp3)
        .build();
    let err = Client::connect(cfg).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Protocol);
    assert!(err.message().contains("cannot speak RESP3"), "{err}");
    // The default falls back to RESP2 on the same server.
    let client = Client::connect(config(&fake.url())).await.unwrap();
    assert!(client
        .send(&cmd("SET").arg("a").arg("b"))
        .await
        .unwrap()
        .is_ok());
    let names: Vec<String> = fake.received().iter().map(|r| r.name.clone()).collect();
    assert!(names.contains(&"HELLO".to_string()));
}

#[tokio::test]
async fn bad_urls_are_config_errors() {
    for url in [
        "http://localhost",
        "redis://",
        "redis://h:1/notanumber",
        "redis://h?protocol=4",
        "redis://h?unknown=1",
        "unix://",
        "not a url",
    ] {
        let err = Config::from_url(url).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Config, "{url}");
        assert!(
            err.message().starts_with("invalid Redis URL"),
            "{url}: {err}"
        );
    }
}

#[tokio::test]
async fn gives_up_after_max_attempts_and_says_why() {
    let server = RedisServer::start().unwrap();
    server.stop();
    let mut cfg = config(&server.url());
    cfg = cfg
        .into_builder()
        .backoff(redwire::Backoff {
            initial: Duration::from_millis(1),
            max: Duration::from_millis(5),
            jitter: 0.0,
            max_attempts: Some(3),
        })
        .build();
    let client = Client::new(cfg);
    let err = client.send(&cmd("PING")).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Closed, "{err}");
    assert!(
        err.message()
            .contains("gave up after 3 failed connection attempts"),
        "{err}"
    );
    assert_eq!(client.state(), redwire::ConnectionState::Closed);
    let err = client.send(&cmd("PING")).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Closed);
}

/// TCP keepalive is on by default and can be turned off: the kernel shows a
/// keepalive timer (`02` in `/proc/net/tcp`) on an idle socket that has it.
#[cfg(target_os = "linux")]
#[tokio::test]
async fn tcp_keepalive_is_set_on_the_socket() {
    let server = RedisServer::start().unwrap();
    for (keepalive, timer) in [(Some(Duration::from_secs(60)), "02:"), (None, "00:")] {
        let cfg = config(&server.url())
            .into_builder()
            .tcp_keepalive(keepalive)
            .build();
        let client = Client::connect(cfg).await.unwrap();
        let info: String = client.query(&cmd("CLIENT").arg("INFO")).await.unwrap();
        let port: u16 = info
            .split(' ')
            .find_map(|f| f.strip_prefix("addr="))
            .and_then(|a| a.rsplit(':').next())
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("no addr in {info}"));
        tokio::time::sleep(Duration::from_millis(50)).await;
        let table = std::fs::read_to_string("/proc/net/tcp").unwrap();
        let local = format!(":{port:04X}");
        // The established socket (`st` 01): an old one on the same port may
        // linger in TIME_WAIT.
        let socket = table
            .lines()
            .find(|l| {
                let fields: Vec<&str> = l.split_whitespace().collect();
                fields.get(1).is_some_and(|a| a.ends_with(&local)) && fields.get(3) == Some(&"01")
            })
            .unwrap_or_else(|| panic!("port {port} not in /proc/net/tcp"));
        let state = socket.split_whitespace().nth(5).unwrap();
        assert!(state.starts_with(timer), "{keepalive:?}: timer {state}");
    }
}
