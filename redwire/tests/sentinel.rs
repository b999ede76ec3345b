//! A client that finds its primary through Sentinel, against a real primary,
//! replica and three Sentinels: it connects to the primary, follows a forced
//! failover and a killed primary by itself, and never counts a write twice.

mod support;

use redwire::prelude::*;
use redwire::{Addr, Backoff};
use redwire_testkit::RedisSentinel;
use std::time::{Duration, Instant};

fn sentinel_config(set: &RedisSentinel) -> Config {
    let sentinels = set.sentinel_addrs().into_iter().map(|a| Addr::Tcp {
        host: a.ip().to_string(),
        port: a.port(),
    });
    Config::builder()
        .sentinel(set.master_name(), sentinels)
        .connect_timeout(Duration::from_secs(2))
        .backoff(Backoff {
            initial: Duration::from_millis(20),
            max: Duration::from_millis(200),
            jitter: 0.5,
            max_attempts: None,
        })
        .build()
}

/// INCR until one is acknowledged, counting the failures; within 30 s.
async fn incr_until_acknowledged(client: &Client, key: &str, failures: &mut u64) -> i64 {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        match tokio::time::timeout(Duration::from_secs(2), client.incr(key)).await {
            Ok(Ok(n)) => return n,
            Ok(Err(e)) => {
                assert!(
                    e.code() == Some("READONLY") || e.kind() != ErrorKind::Server,
                    "unexpected: {e}"
                );
                *failures += 1;
            }
            Err(_) => *failures += 1,
        }
        assert!(Instant::now() < deadline, "no primary took the writes");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_client_follows_the_primary_through_failovers() {
    let set = RedisSentinel::start().unwrap();
    let client = Client::connect(sentinel_config(&set)).await.unwrap();
    let role: Value = client.send(&cmd("ROLE")).await.unwrap();
    assert!(format!("{role:?}").contains("master"));
    let mut failures = 0;
    let mut acknowledged = 0;
    for _ in 0..20 {
        incr_until_acknowledged(&client, "n", &mut failures).await;
        acknowledged += 1;
    }

    let new_primary = set.failover().unwrap();
    for _ in 0..20 {
        incr_until_acknowledged(&client, "n", &mut failures).await;
        acknowledged += 1;
    }
    let info: String = client.query(&cmd("INFO").arg("server")).await.unwrap();
    assert!(
        info.contains(&format!("tcp_port:{}", new_primary.port())),
        "not on the new primary"
    );

    let promoted = set.kill_primary().unwrap();
    for _ in 0..20 {
        incr_until_acknowledged(&client, "n", &mut failures).await;
        acknowledged += 1;
    }
    let info: String = client.query(&cmd("INFO").arg("server")).await.unwrap();
    assert!(
        info.contains(&format!("tcp_port:{}", promoted.port())),
        "not on the promoted replica"
    );
    let n: i64 = client.get("n").await.unwrap();
    // Nothing counted twice; a write acknowledged just before a kill may be
    // lost (replication is asynchronous), which this failover does not do.
    assert!(
        n <= acknowledged + failures as i64,
        "n {n}, acknowledged {acknowledged}, failed {failures}"
    );
    assert!(n >= acknowledged - 20, "n {n}, acknowledged {acknowledged}");
}

#[tokio::test]
async fn a_sentinel_url_works_and_an_unknown_master_name_is_a_clear_error() {
    let set = RedisSentinel::start().unwrap();
    let hosts: Vec<String> = set.sentinel_addrs().iter().map(|a| a.to_string()).collect();
    let url = |name: &str| format!("redis+sentinel://{}/{name}", hosts.join(","));
    // The URL form finds the primary too.
    let client = Client::connect(url(set.master_name()).parse().unwrap())
        .await
        .unwrap();
    assert_eq!(client.incr("via-url").await.unwrap(), 1);
    let err = Client::connect(url("nosuchmaster").parse().unwrap())
        .await
        .unwrap_err();
    assert!(err.message().contains("nosuchmaster"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_only_reads_moves_to_the_new_primary_when_the_sentinels_say_so() {
    let set = RedisSentinel::start().unwrap();
    let client = Client::connect(sentinel_config(&set)).await.unwrap();
    let port = |info: String| -> u16 {
        info.lines()
            .find_map(|l| l.strip_prefix("tcp_port:"))
            .unwrap()
            .trim()
            .parse()
            .unwrap()
    };
    let old = port(client.query(&cmd("INFO").arg("server")).await.unwrap());
    assert_eq!(old, set.primary().port());
    let new_primary = set.failover().unwrap();
    // Reads alone get no READONLY: only +switch-master moves the client.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Ok(info) = client.query::<String>(&cmd("INFO").arg("server")).await {
            if port(info) == new_primary.port() {
                break;
            }
        }
        assert!(
            Instant::now() < deadline,
            "still reading from the demoted primary"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
