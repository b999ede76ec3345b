//! Server-assisted client-side caching (feature `client-cache`) against real
//! servers, the fault proxy for resets, and the fake server for the orders
//! of frames a real server will not produce on demand.

mod support;

use redwire::prelude::*;
use redwire::{CacheConfig, CacheMode, Client, ErrorKind, Protocol};
use redwire_testkit::{resp3_handshake, Action, FakeServer, FaultProxy, RedisServer, Request};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use support::config;

async fn cached_client(url: &str, cache: CacheConfig) -> Client {
    let config = config(url).into_builder().client_cache(cache).build();
    Client::connect(config).await.unwrap()
}

/// How many times the server ran `command` (its `INFO commandstats`).
fn calls(server: &RedisServer, command: &str) -> u64 {
    let info = match server.command(&["INFO", "commandstats"]).unwrap() {
        redwire_testkit::Frame::Bulk(b) => String::from_utf8_lossy(&b).into_owned(),
        other => panic!("INFO answered {other:?}"),
    };
    let prefix = format!("cmdstat_{command}:calls=");
    info.lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .map_or(0, |rest| rest.split(',').next().unwrap().parse().unwrap())
}

/// Any reply the server produced after now: every invalidation sent before
/// it has been applied once it is back.
async fn barrier(client: &Client) {
    client.send(&redwire::cmd("PING")).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_repeated_read_is_served_from_memory_until_another_client_writes() {
    let server = RedisServer::start().unwrap();
    let writer = Client::connect(config(&server.url())).await.unwrap();
    let client = cached_client(&server.url(), CacheConfig::new()).await;
    writer.set("k", "v1").await.unwrap();
    let before = calls(&server, "get");
    for _ in 0..5 {
        let v: Option<String> = client.get("k").await.unwrap();
        assert_eq!(v.as_deref(), Some("v1"));
    }
    assert_eq!(
        calls(&server, "get") - before,
        1,
        "four of five reads from memory"
    );
    let stats = client.cache_stats().unwrap();
    assert_eq!((stats.hits, stats.misses, stats.entries), (4, 1, 1));

    writer.set("k", "v2").await.unwrap();
    barrier(&client).await;
    let v: Option<String> = client.get("k").await.unwrap();
    assert_eq!(v.as_deref(), Some("v2"), "the invalidation removed v1");
    assert_eq!(client.cache_stats().unwrap().invalidations, 1);

    // Two reads of one key are kept apart.
    for _ in 0..2 {
        let n: u64 = client.strlen("k").await.unwrap();
        assert_eq!(n, 2);
        let v: Option<String> = client.get("k").await.unwrap();
        assert_eq!(v.as_deref(), Some("v2"));
    }

    // Other cacheable reads of the key, and MGET key by key.
    writer.hset("h", [("f", "1"), ("g", "2")]).await.unwrap();
    let hgets = calls(&server, "hget");
    for _ in 0..2 {
        let f: Option<String> = client.hget("h", "f").await.unwrap();
        assert_eq!(f.as_deref(), Some("1"));
        let g: Option<String> = client.hget("h", "g").await.unwrap();
        assert_eq!(g.as_deref(), Some("2"), "two fields of one key kept apart");
        let n: u64 = client.hlen("h").await.unwrap();
        assert_eq!(n, 2);
    }
    assert_eq!(
        calls(&server, "hget") - hgets,
        2,
        "the second round from memory"
    );
    let both: Vec<Option<String>> = client.mget(["k", "nothing"]).await.unwrap();
    assert_eq!(both, [Some("v2".to_string()), None]);
    let gets = calls(&server, "get");
    let again: Vec<Option<String>> = client.mget(["k", "nothing"]).await.unwrap();
    assert_eq!(again, both);
    let nothing: Option<String> = client.get("nothing").await.unwrap();
    assert_eq!(nothing, None, "MGET stored each key as its GET");
    assert_eq!(calls(&server, "get"), gets);
    // A write is never cached, nor served from the cache.
    assert_eq!(calls(&server, "mget"), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flushall_from_another_client_empties_the_cache() {
    let server = RedisServer::start().unwrap();
    let writer = Client::connect(config(&server.url())).await.unwrap();
    let client = cached_client(&server.url(), CacheConfig::new()).await;
    for i in 0..100 {
        writer.set(format!("k{i}"), i).await.unwrap();
        let _: Option<i64> = client.get(format!("k{i}")).await.unwrap();
    }
    assert_eq!(client.cache_stats().unwrap().entries, 100);
    writer.send(&redwire::cmd("FLUSHALL")).await.unwrap();
    barrier(&client).await;
    let stats = client.cache_stats().unwrap();
    assert_eq!(stats.entries, 0, "{stats:?}");
    let v: Option<i64> = client.get("k7").await.unwrap();
    assert_eq!(v, None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eviction_keeps_the_bytes_under_the_bound() {
    let server = RedisServer::start().unwrap();
    let client = cached_client(&server.url(), CacheConfig::new().max_bytes(64 * 1024)).await;
    let value = "x".repeat(1000);
    for i in 0..1000 {
        client.set(format!("k{i}"), &value).await.unwrap();
    }
    for i in 0..1000 {
        let v: Option<String> = client.get(format!("k{i}")).await.unwrap();
        assert_eq!(v.as_deref(), Some(value.as_str()));
        let stats = client.cache_stats().unwrap();
        assert!(stats.bytes <= 64 * 1024, "{stats:?}");
    }
    let stats = client.cache_stats().unwrap();
    assert!(stats.evictions > 900, "{stats:?}");
    assert!(stats.entries > 20 && stats.entries < 64, "{stats:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resp2_and_a_server_that_refuses_tracking_are_config_errors() {
    let server = RedisServer::start().unwrap();
    let resp2 = config(&server.url())
        .into_builder()
        .protocol(Protocol::Resp2)
        .client_cache(CacheConfig::new())
        .build();
    let err = Client::connect(resp2).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Config, "{err}");
    // Refused from the configuration, before the server is asked.
    assert!(
        err.to_string()
            .contains("leave the protocol on auto or RESP3"),
        "{err}"
    );

    // A server from before HELLO: RESP2 only.
    let old = FakeServer::resp2(|_: &Request| vec![Action::ok()]).unwrap();
    let config_old = config(&old.url())
        .into_builder()
        .client_cache(CacheConfig::new())
        .build();
    let err = Client::connect(config_old).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Config, "{err}");
    assert!(err.to_string().contains("HELLO 3 was refused"), "{err}");

    // A server (a proxy, a restricted user) that refuses CLIENT TRACKING.
    let inner = resp3_handshake(|_: &Request| vec![Action::ok()]);
    let refusing = FakeServer::start(move |req: &Request| {
        if req.is("CLIENT")
            && req
                .arg_str(0)
                .is_some_and(|s| s.eq_ignore_ascii_case("TRACKING"))
        {
            return vec![Action::error("ERR unknown subcommand 'TRACKING'")];
        }
        inner(req)
    })
    .unwrap();
    let config_refusing = config(&refusing.url())
        .into_builder()
        .client_cache(CacheConfig::new())
        .build();
    let err = Client::connect(config_refusing).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Config, "{err}");
    assert!(err.to_string().contains("CLIENT TRACKING"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn opt_in_caches_only_the_reads_marked_for_it() {
    let server = RedisServer::start().unwrap();
    let writer = Client::connect(config(&server.url())).await.unwrap();
    let client = cached_client(&server.url(), CacheConfig::new().mode(CacheMode::OptIn)).await;
    writer.set("plain", 1).await.unwrap();
    writer.set("marked", 1).await.unwrap();
    for _ in 0..3 {
        let _: Option<i64> = client.get("plain").await.unwrap();
    }
    assert_eq!(
        client.cache_stats().unwrap().hits,
        0,
        "unmarked reads are not cached"
    );
    for _ in 0..3 {
        let v: Option<i64> = client.cached().get("marked").await.unwrap();
        assert_eq!(v, Some(1));
    }
    let stats = client.cache_stats().unwrap();
    assert_eq!((stats.hits, stats.misses), (2, 1), "{stats:?}");
    // The server tracked the marked read: a write elsewhere invalidates it.
    writer.set("marked", 2).await.unwrap();
    barrier(&client).await;
    let v: Option<i64> = client.cached().get("marked").await.unwrap();
    assert_eq!(v, Some(2));
    // And only it: the unmarked key was never tracked.
    writer.set("plain", 2).await.unwrap();
    barrier(&client).await;
    assert_eq!(client.cache_stats().unwrap().invalidations, 1);
    // A marked read's value is not handed to an unmarked read of its key.
    let hits = client.cache_stats().unwrap().hits;
    let gets = calls(&server, "get");
    let v: Option<i64> = client.get("marked").await.unwrap();
    assert_eq!(v, Some(2));
    assert_eq!(
        calls(&server, "get"),
        gets + 1,
        "an unmarked read asks the server"
    );
    assert_eq!(client.cache_stats().unwrap().hits, hits);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broadcast_caches_the_keys_under_its_prefixes() {
    let server = RedisServer::start().unwrap();
    let writer = Client::connect(config(&server.url())).await.unwrap();
    let mode = CacheMode::Broadcast {
        prefixes: vec!["user:".into()],
    };
    let client = cached_client(&server.url(), CacheConfig::new().mode(mode)).await;
    writer.set("user:1", "a").await.unwrap();
    writer.set("other:1", "a").await.unwrap();
    for _ in 0..3 {
        let _: Option<String> = client.get("user:1").await.unwrap();
        let _: Option<String> = client.get("other:1").await.unwrap();
    }
    let stats = client.cache_stats().unwrap();
    assert_eq!(
        (stats.hits, stats.misses, stats.entries),
        (2, 1, 1),
        "{stats:?}"
    );
    writer.set("user:1", "b").await.unwrap();
    barrier(&client).await;
    let v: Option<String> = client.get("user:1").await.unwrap();
    assert_eq!(v.as_deref(), Some("b"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_misses_are_one_request_and_a_leader_that_gives_up_poisons_nothing() {
    let server = RedisServer::start().unwrap();
    let proxy = FaultProxy::start(server.addr()).unwrap();
    let writer = Client::connect(config(&server.url())).await.unwrap();
    writer.set("hot", "v").await.unwrap();
    let client = cached_client(&proxy.url(), CacheConfig::new()).await;
    proxy.set_latency(Duration::from_millis(100));
    let before = calls(&server, "get");
    // The leader gives up long before its reply comes back.
    let leader = client.clone();
    let gave_up = tokio::spawn(async move {
        tokio::time::timeout(
            Duration::from_millis(10),
            leader.get::<Option<String>>("hot"),
        )
        .await
    });
    tokio::time::sleep(Duration::from_millis(2)).await;
    let mut followers = Vec::new();
    for _ in 0..50 {
        let c = client.clone();
        followers.push(tokio::spawn(
            async move { c.get::<Option<String>>("hot").await },
        ));
    }
    assert!(gave_up.await.unwrap().is_err(), "the leader timed out");
    for f in followers {
        let answered = tokio::time::timeout(Duration::from_secs(5), f)
            .await
            .expect("a follower is answered, not left waiting on the abandoned flight");
        assert_eq!(answered.unwrap().unwrap().as_deref(), Some("v"));
    }
    assert_eq!(calls(&server, "get") - before, 1, "one GET for 51 callers");
    let stats = client.cache_stats().unwrap();
    assert_eq!((stats.misses, stats.coalesced), (1, 50), "{stats:?}");
    assert_eq!(stats.entries, 1, "the abandoned leader's reply was stored");

    // A leader dropped before it was ever polled (its request never went
    // out): its followers are told, and send their own.
    proxy.set_latency(Duration::ZERO);
    writer.set("cold", "w").await.unwrap();
    let unpolled = client.get::<Option<String>>("cold");
    let mut followers = Vec::new();
    for _ in 0..5 {
        let c = client.clone();
        followers.push(tokio::spawn(async move {
            c.get::<Option<String>>("cold").await
        }));
    }
    tokio::time::sleep(Duration::from_millis(50)).await;
    drop(unpolled);
    for f in followers {
        let answered = tokio::time::timeout(Duration::from_secs(5), f)
            .await
            .expect("a follower of a dropped leader is answered");
        assert_eq!(answered.unwrap().unwrap().as_deref(), Some("w"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_disconnect_empties_the_cache_before_the_next_connection_serves() {
    let server = RedisServer::start().unwrap();
    let proxy = FaultProxy::start(server.addr()).unwrap();
    let writer = Client::connect(config(&server.url())).await.unwrap();
    let client = cached_client(&proxy.url(), CacheConfig::new()).await;
    writer.set("k", "v1").await.unwrap();
    let _: Option<String> = client.get("k").await.unwrap();
    // The invalidation of this write goes to a connection that is gone.
    proxy.refuse_new(true);
    proxy.reset_all();
    tokio::time::sleep(Duration::from_millis(50)).await;
    writer.set("k", "v2").await.unwrap();
    proxy.refuse_new(false);
    client.wait_connected().await.unwrap();
    let v: Option<String> = client.get("k").await.unwrap();
    assert_eq!(
        v.as_deref(),
        Some("v2"),
        "a value outlived the connection that tracked it"
    );
    assert!(client.cache_stats().unwrap().flushes >= 1);
}

/// The frames of a scripted server for one key, whose value the script
/// changes: `GET` answers the current value and, with `push_first`, sends an
/// invalidation of the key right before that reply.
fn scripted(value: Arc<AtomicUsize>, push_first: Arc<AtomicBool>) -> FakeServer {
    let invalidate = "$10\r\ninvalidate\r\n*1\r\n$1\r\nk\r\n";
    FakeServer::resp3(move |req: &Request| {
        let v = format!("$2\r\nv{}\r\n", value.load(Ordering::SeqCst));
        let push = format!(">2\r\n{invalidate}");
        match req.name.as_str() {
            "GET" if push_first.load(Ordering::SeqCst) => {
                vec![Action::send(push), Action::send(v)]
            }
            "GET" => vec![Action::send(v)],
            // Like Redis 7 on a write of its own: the reply, then (here
            // much later) the invalidation it causes.
            "SET" => {
                value.fetch_add(1, Ordering::SeqCst);
                vec![
                    Action::ok(),
                    Action::Sleep(Duration::from_millis(200)),
                    Action::send(push),
                ]
            }
            "INVALIDATE-AFTER" => vec![Action::ok(), Action::send(push)],
            _ => vec![Action::ok()],
        }
    })
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invalidation_before_a_reply_leaves_it_fresh_and_one_after_removes_it() {
    let value = Arc::new(AtomicUsize::new(1));
    let push_first = Arc::new(AtomicBool::new(true));
    let fake = scripted(value.clone(), push_first.clone());
    let client = cached_client(&fake.url(), CacheConfig::new()).await;
    // The push comes first: the reply behind it was read after the change,
    // so it is kept.
    let v: String = client.get("k").await.unwrap();
    assert_eq!(v, "v1");
    let v: String = client.get("k").await.unwrap();
    assert_eq!(v, "v1");
    let stats = client.cache_stats().unwrap();
    assert_eq!(
        (stats.hits, stats.misses, stats.entries),
        (1, 1, 1),
        "{stats:?}"
    );
    // Now one behind a reply (the key changed after it was read): gone
    // before the next reply is handed out.
    push_first.store(false, Ordering::SeqCst);
    value.store(2, Ordering::SeqCst);
    client
        .send(&redwire::cmd("INVALIDATE-AFTER"))
        .await
        .unwrap();
    barrier(&client).await;
    let v: String = client.get("k").await.unwrap();
    assert_eq!(v, "v2");
    let gets = fake.received().iter().filter(|r| r.is("GET")).count();
    assert_eq!(gets, 2, "one read from memory, two from the server");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_reads_its_own_write_even_before_the_invalidation_arrives() {
    let value = Arc::new(AtomicUsize::new(1));
    let fake = scripted(value, Arc::new(AtomicBool::new(false)));
    let client = cached_client(&fake.url(), CacheConfig::new()).await;
    let v: String = client.get("k").await.unwrap();
    assert_eq!(v, "v1");
    // The server answers OK and sends the invalidation 200 ms later.
    client.set("k", "v2").await.unwrap();
    let v: String = client.get("k").await.unwrap();
    assert_eq!(v, "v2", "the client's own write was hidden by its cache");
}

/// The one promise that matters, under load and resets: once a write is
/// acknowledged and the reading client has had any later reply, a cached
/// read of the key returns the written value or a newer one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_stale_read_after_a_barrier_with_writers_readers_and_resets() {
    const KEYS: usize = 10_000;
    const WRITERS: usize = 16;
    const READERS: usize = 16;
    // Nine reads in ten go to these.
    const HOT: usize = 200;
    let server = RedisServer::start().unwrap();
    let proxy = FaultProxy::start(server.addr()).unwrap();
    let writer = Client::connect(config(&server.url())).await.unwrap();
    let client = cached_client(&proxy.url(), CacheConfig::new()).await;
    let acked: Arc<Vec<AtomicU64>> = Arc::new((0..KEYS).map(|_| AtomicU64::new(0)).collect());
    let stop = Arc::new(AtomicBool::new(false));
    let stale = Arc::new(AtomicU64::new(0));
    let checked = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::new();
    for w in 0..WRITERS {
        let (writer, acked, stop) = (writer.clone(), acked.clone(), stop.clone());
        tasks.push(tokio::spawn(async move {
            // Each writer owns the keys k ≡ w (mod WRITERS) and counts up.
            let mut seq = 0u64;
            let mut rng = fastrand::Rng::with_seed(w as u64);
            while !stop.load(Ordering::Relaxed) {
                // Over the keys readers read most, so that hits are of
                // keys that change.
                let k = (rng.usize(0..HOT * 10 / WRITERS) * WRITERS + w) % KEYS;
                seq += 1;
                writer.set(format!("k{k}"), seq).await.unwrap();
                acked[k].fetch_max(seq, Ordering::SeqCst);
            }
        }));
    }
    for r in 0..READERS {
        let (client, acked, stop) = (client.clone(), acked.clone(), stop.clone());
        let (stale, checked) = (stale.clone(), checked.clone());
        tasks.push(tokio::spawn(async move {
            let mut rng = fastrand::Rng::with_seed(1000 + r as u64);
            while !stop.load(Ordering::Relaxed) {
                let k = if rng.u8(..) < 230 {
                    rng.usize(0..HOT)
                } else {
                    rng.usize(0..KEYS)
                };
                let floor = acked[k].load(Ordering::SeqCst);
                if client.send(&redwire::cmd("PING")).await.is_err() {
                    continue;
                }
                let Ok(v) = client.get::<Option<u64>>(format!("k{k}")).await else {
                    continue;
                };
                checked.fetch_add(1, Ordering::Relaxed);
                if v.unwrap_or(0) < floor {
                    stale.fetch_add(1, Ordering::Relaxed);
                    eprintln!("stale: k{k} read {v:?} after {floor} was acknowledged");
                }
            }
        }));
    }
    let resets = tokio::spawn({
        let stop = stop.clone();
        async move {
            let mut n = 0;
            while !stop.load(Ordering::Relaxed) {
                tokio::time::sleep(Duration::from_millis(250)).await;
                proxy.reset_all();
                n += 1;
            }
            n
        }
    });
    let began = Instant::now();
    tokio::time::sleep(Duration::from_secs(4)).await;
    stop.store(true, Ordering::Relaxed);
    for t in tasks {
        t.await.unwrap();
    }
    let resets = resets.await.unwrap();
    let stats = client.cache_stats().unwrap();
    eprintln!(
        "{:?}: {} reads checked, {resets} resets, {stats:?}",
        began.elapsed(),
        checked.load(Ordering::Relaxed)
    );
    assert_eq!(stale.load(Ordering::Relaxed), 0, "stale reads");
    assert!(checked.load(Ordering::Relaxed) > 1000);
    assert!(stats.hits > 1000, "the cache served reads: {stats:?}");
    assert!(
        stats.invalidations > 100,
        "writes invalidated reads: {stats:?}"
    );
    assert!(
        stats.flushes >= resets / 2,
        "every reset emptied it: {stats:?}"
    );
}

/// Reads through `read` until it gives `want`, for at most `within`; the
/// last value read.
async fn until_read<F, Fut>(within: Duration, want: &str, mut read: F) -> Option<String>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = redwire::Result<Option<String>>>,
{
    let deadline = Instant::now() + within;
    let mut last = None;
    while Instant::now() < deadline {
        if let Ok(v) = read().await {
            if v.as_deref() == Some(want) {
                return v;
            }
            last = v;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    last
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cluster_client_caches_per_node_and_reads_a_moved_slot_fresh() {
    use redwire::cluster::{key_slot, ClusterClient, ClusterConfig};
    let cluster = redwire_testkit::RedisCluster::start().unwrap();
    let urls = cluster.seed_urls();
    let seeds = |cache: bool| {
        let configs = urls.iter().map(|u| {
            let b = config(u).into_builder();
            if cache {
                b.client_cache(CacheConfig::new()).build()
            } else {
                b.build()
            }
        });
        ClusterConfig::from_seeds(configs.collect()).unwrap()
    };
    let writer = ClusterClient::connect(seeds(false)).await.unwrap();
    let client = ClusterClient::connect(seeds(true)).await.unwrap();
    for key in ["{m}k", "{n}k"] {
        writer.set(key, "v1").await.unwrap();
        for _ in 0..3 {
            let v: Option<String> = client.get(key).await.unwrap();
            assert_eq!(v.as_deref(), Some("v1"));
        }
    }
    let stats = client.cache_stats().unwrap();
    assert_eq!(
        (stats.hits, stats.misses, stats.entries),
        (4, 2, 2),
        "{stats:?}"
    );

    // The slot moves (its keys are deleted where they were: that node
    // invalidates them), then the key changes on its new node.
    let slot = key_slot(b"m");
    cluster
        .migrate_slot(slot, support::other_primary(&cluster, slot))
        .unwrap();
    writer.set("{m}k", "v2").await.unwrap();
    let read = until_read(Duration::from_secs(5), "v2", || client.get("{m}k")).await;
    assert_eq!(read.as_deref(), Some("v2"), "a moved key was served stale");
    // A failover: the promoted replica's node has its own cache.
    let slot = key_slot(b"n");
    let replica = cluster.replicas_of(cluster.slot_owner(slot).id())[0];
    cluster.failover(replica).unwrap();
    let write = until_read(Duration::from_secs(5), "OK", || async {
        let set = redwire::cmd("SET").arg("{n}k").arg("v2");
        writer.send(&set).await.map(|_| Some("OK".into()))
    });
    assert_eq!(write.await.as_deref(), Some("OK"));
    let read = until_read(Duration::from_secs(5), "v2", || client.get("{n}k")).await;
    assert_eq!(
        read.as_deref(),
        Some("v2"),
        "a failed-over key was served stale"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sentinel_failover_empties_the_cache() {
    use redwire::{Addr, Backoff, Config};
    let set = redwire_testkit::RedisSentinel::start().unwrap();
    let sentinel_config = |cache: bool| {
        let sentinels = set.sentinel_addrs().into_iter().map(|a| Addr::Tcp {
            host: a.ip().to_string(),
            port: a.port(),
        });
        let b = Config::builder()
            .sentinel(set.master_name(), sentinels)
            .connect_timeout(Duration::from_secs(2))
            .backoff(Backoff {
                initial: Duration::from_millis(20),
                max: Duration::from_millis(200),
                jitter: 0.5,
                max_attempts: None,
            });
        if cache {
            b.client_cache(CacheConfig::new()).build()
        } else {
            b.build()
        }
    };
    let writer = Client::connect(sentinel_config(false)).await.unwrap();
    let client = Client::connect(sentinel_config(true)).await.unwrap();
    writer.set("k", "v1").await.unwrap();
    for _ in 0..3 {
        let v: Option<String> = client.get("k").await.unwrap();
        assert_eq!(v.as_deref(), Some("v1"));
    }
    assert_eq!(client.cache_stats().unwrap().hits, 2);
    let new_primary = set.failover().unwrap();
    // The cached client follows the failover (a reader hears of it from
    // the Sentinels, as no write of its own is refused).
    let port = format!("tcp_port:{}", new_primary.port());
    let moved = until_read(Duration::from_secs(10), "moved", || async {
        let info: String = client.query(&redwire::cmd("INFO").arg("server")).await?;
        let here = if info.contains(&port) {
            "moved"
        } else {
            "not yet"
        };
        Ok(Some(here.to_string()))
    });
    assert_eq!(moved.await.as_deref(), Some("moved"));
    // Written on the new primary, where the cached client has not read the
    // key: only emptying the cache makes the read fresh.
    let write = until_read(Duration::from_secs(10), "OK", || async {
        let set = redwire::cmd("SET").arg("k").arg("v2");
        writer.send(&set).await.map(|_| Some("OK".into()))
    });
    assert_eq!(write.await.as_deref(), Some("OK"));
    let read = until_read(Duration::from_secs(10), "v2", || client.get("k")).await;
    assert_eq!(
        read.as_deref(),
        Some("v2"),
        "the cache outlived the failover"
    );
    assert!(client.cache_stats().unwrap().flushes >= 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_closed_client_serves_nothing_from_memory() {
    let server = RedisServer::start().unwrap();
    let client = cached_client(&server.url(), CacheConfig::new()).await;
    client.set("k", "v").await.unwrap();
    for _ in 0..2 {
        let _: Option<String> = client.get("k").await.unwrap();
    }
    assert_eq!(client.cache_stats().unwrap().hits, 1);
    client.close().await;
    let err = client.get::<Option<String>>("k").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Closed, "{err}");
    assert_eq!(client.cache_stats().unwrap().entries, 0);
}

/// A hit is ready at once, yet a loop of hits must not keep the runtime to
/// itself: on one thread, another task (here a counter) still runs while
/// the loop reads from memory.
#[tokio::test(flavor = "current_thread")]
async fn a_loop_of_hits_lets_the_other_tasks_of_its_thread_run() {
    let server = RedisServer::start().unwrap();
    let client = cached_client(&server.url(), CacheConfig::new()).await;
    client.set("k", "v").await.unwrap();
    let _: Option<String> = client.get("k").await.unwrap();
    let turns = Arc::new(AtomicU64::new(0));
    let counter = tokio::spawn({
        let turns = turns.clone();
        async move {
            loop {
                turns.fetch_add(1, Ordering::Relaxed);
                tokio::task::yield_now().await;
            }
        }
    });
    tokio::task::yield_now().await;
    let start = turns.load(Ordering::Relaxed);
    for _ in 0..10_000 {
        let v: Option<String> = client.get("k").await.unwrap();
        assert_eq!(v.as_deref(), Some("v"));
    }
    let during = turns.load(Ordering::Relaxed) - start;
    counter.abort();
    assert_eq!(client.cache_stats().unwrap().hits, 10_000);
    // tokio's budget is 128 operations per turn: about 78 turns here.
    assert!(
        during >= 10,
        "the counter ran {during} times during 10,000 hits"
    );
}
