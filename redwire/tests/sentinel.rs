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

/// The port a server says it listens on, from its `INFO server`.
fn tcp_port(info: String) -> u16 {
    info.lines()
        .find_map(|l| l.strip_prefix("tcp_port:"))
        .unwrap()
        .trim()
        .parse()
        .unwrap()
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
    let old = tcp_port(client.query(&cmd("INFO").arg("server")).await.unwrap());
    assert_eq!(old, set.primary().port());
    let new_primary = set.failover().unwrap();
    // Reads alone get no READONLY: only +switch-master moves the client.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Ok(info) = client.query::<String>(&cmd("INFO").arg("server")).await {
            if tcp_port(info) == new_primary.port() {
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

/// INCRs from 8 tasks over 16 keys until `stop`; (acknowledged, failed).
fn incr_load(
    client: &Client,
    stop: &std::sync::Arc<std::sync::atomic::AtomicBool>,
) -> Vec<tokio::task::JoinHandle<(u64, u64)>> {
    (0..8)
        .map(|w| {
            let (client, stop) = (client.clone(), stop.clone());
            tokio::spawn(async move {
                let (mut acked, mut failed) = (0, 0);
                let mut i = w;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    let key = format!("load:{}", i % 16);
                    match tokio::time::timeout(Duration::from_secs(5), client.incr(key)).await {
                        Ok(Ok(_)) => acked += 1,
                        _ => {
                            failed += 1;
                            tokio::time::sleep(Duration::from_millis(5)).await;
                        }
                    }
                    i += 1;
                }
                (acked, failed)
            })
        })
        .collect()
}

async fn stop_load(
    stop: &std::sync::Arc<std::sync::atomic::AtomicBool>,
    workers: Vec<tokio::task::JoinHandle<(u64, u64)>>,
) -> (u64, u64) {
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let mut total = (0, 0);
    for w in workers {
        let (a, f) = w.await.unwrap();
        total = (total.0 + a, total.1 + f);
    }
    total
}

async fn counted(client: &Client) -> u64 {
    let mut n = 0;
    for i in 0..16 {
        n += client
            .get::<Option<u64>>(format!("load:{i}"))
            .await
            .unwrap()
            .unwrap_or(0);
    }
    n
}

/// INCRs the server at `server` ran, from its command statistics.
fn incrs_run(server: &redwire_testkit::RedisServer) -> u64 {
    let frame = server.command(&["INFO", "commandstats"]).unwrap();
    let text = format!("{frame:?}");
    text.split("cmdstat_incr:calls=")
        .nth(1)
        .map_or(0, |rest| rest.split(',').next().unwrap().parse().unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failover_under_load_loses_no_acknowledged_write_and_a_returning_primary_gets_none() {
    let set = RedisSentinel::start().unwrap();
    let client = Client::connect(sentinel_config(&set)).await.unwrap();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));

    // A coordinated failover under load: nothing acknowledged is lost,
    // nothing is counted twice (acknowledged ≤ counted ≤ acknowledged +
    // failed), and the client ends on the new primary.
    let workers = incr_load(&client, &stop);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let new_primary = set.failover().unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let (acked, failed) = stop_load(&stop, workers).await;
    let total = counted(&client).await;
    assert!(
        acked <= total && total <= acked + failed,
        "acknowledged {acked}, counted {total}, failed {failed}"
    );
    assert!(acked > 0);
    let info: String = client.query(&cmd("INFO").arg("server")).await.unwrap();
    assert!(info.contains(&format!("tcp_port:{}", new_primary.port())));

    // The primary dies; its replica is promoted; the dead one comes back,
    // empty and still a primary by its own account, before the Sentinels
    // demote it. The client, made to reconnect meanwhile and asked for
    // writes, never sends one there.
    let promoted = set.kill_primary().unwrap();
    stop.store(false, std::sync::atomic::Ordering::Relaxed);
    let workers = incr_load(&client, &stop);
    let returning = set.replica();
    returning.restart().unwrap();
    let before = incrs_run(returning);
    for _ in 0..3 {
        set.primary()
            .command(&["CLIENT", "KILL", "TYPE", "normal"])
            .unwrap();
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let fresh = Client::connect(sentinel_config(&set)).await.unwrap();
    fresh.incr("fresh").await.unwrap();
    let (acked, _) = stop_load(&stop, workers).await;
    assert!(acked > 0, "no write went through after the promotion");
    assert_eq!(set.primary().addr(), promoted);
    assert_eq!(
        incrs_run(returning),
        before,
        "a write reached the primary that came back"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replica_reader_reads_from_a_replica_and_picks_again_after_a_failover() {
    let set = RedisSentinel::start().unwrap();
    let writer = Client::connect(sentinel_config(&set)).await.unwrap();
    writer.set("r", "v").await.unwrap();
    let hosts: Vec<String> = set.sentinel_addrs().iter().map(|a| a.to_string()).collect();
    let url = format!(
        "redis+sentinel://{}/{}?role=replica",
        hosts.join(","),
        set.master_name()
    );
    let reader = Client::connect(url.parse().unwrap()).await.unwrap();
    let on = tcp_port(reader.query(&cmd("INFO").arg("server")).await.unwrap());
    assert_eq!(on, set.replica().port(), "not on the replica");
    // Replication is asynchronous: the write shows up shortly.
    let deadline = Instant::now() + Duration::from_secs(5);
    while reader.get::<Option<String>>("r").await.unwrap().is_none() {
        assert!(Instant::now() < deadline, "the replica never had the write");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // A write is refused there, and that does not send the reader to the
    // primary.
    let err = reader.set("r", "w").await.unwrap_err();
    assert_eq!(err.code(), Some("READONLY"), "{err}");
    let on = tcp_port(reader.query(&cmd("INFO").arg("server")).await.unwrap());
    assert_eq!(on, set.replica().port());

    // After a failover the old primary is the replica: the reader moves to it.
    let old_primary = set.primary().port();
    set.failover().unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Ok(info) = reader.query::<String>(&cmd("INFO").arg("server")).await {
            if tcp_port(info) == old_primary {
                break;
            }
        }
        assert!(
            Instant::now() < deadline,
            "still reading from the new primary"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sentinels_password_is_apart_from_the_data_nodes() {
    let set = RedisSentinel::builder()
        .password("data-pw")
        .sentinel_password("watch-pw")
        .start()
        .unwrap();
    let with = |data: &str, sentinel: &str| {
        sentinel_config(&set)
            .into_builder()
            .password(data)
            .sentinel_password(sentinel)
            .build()
    };
    let client = Client::connect(with("data-pw", "watch-pw")).await.unwrap();
    assert_eq!(client.incr("pw").await.unwrap(), 1);
    // It hears +switch-master through the password too: it follows a
    // failover even though it only reads.
    let new_primary = set.failover().unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Ok(info) = client.query::<String>(&cmd("INFO").arg("server")).await {
            if info.contains(&format!("tcp_port:{}\r", new_primary.port())) {
                break;
            }
        }
        assert!(Instant::now() < deadline, "never moved to the new primary");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // A wrong Sentinel password says where it failed; so does the data one.
    let err = Client::connect(with("data-pw", "wrong")).await.unwrap_err();
    assert!(
        err.message().contains("authenticating with Sentinel"),
        "{err}"
    );
    let err = Client::connect(with("wrong", "watch-pw"))
        .await
        .unwrap_err();
    assert!(!err.message().contains("Sentinel"), "{err}");
    assert!(err.to_string().to_lowercase().contains("pass"), "{err}");
}
