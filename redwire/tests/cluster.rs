//! The cluster client against a real Redis Cluster (3 primaries, 1 replica
//! each): routing by slot, cross-slot refusal, MOVED after a slot moved, ASK
//! in the middle of a migration, and traffic that keeps going while a slot
//! migrates, with nothing lost and nothing counted twice.

mod support;

use redwire::cluster::ClusterClient;
use redwire::prelude::*;
use redwire_testkit::RedisCluster;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use support::{config, other_primary};

async fn client(cluster: &RedisCluster) -> ClusterClient {
    let seeds = cluster.seed_urls().iter().map(|u| config(u)).collect();
    ClusterClient::connect(redwire::cluster::ClusterConfig::from_seeds(seeds).unwrap())
        .await
        .unwrap()
}

/// INCRs from 8 tasks over `keys` until stopped, counting what was
/// acknowledged and what failed (or took over 5 s).
struct IncrLoad {
    acknowledged: Arc<AtomicU64>,
    errors: Arc<AtomicU64>,
    stop: Arc<std::sync::atomic::AtomicBool>,
    workers: Vec<tokio::task::JoinHandle<()>>,
}

impl IncrLoad {
    fn start(c: &ClusterClient, keys: &[String]) -> IncrLoad {
        let acknowledged = Arc::new(AtomicU64::new(0));
        let errors = Arc::new(AtomicU64::new(0));
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let workers = (0..8)
            .map(|w| {
                let (c, keys) = (c.clone(), keys.to_vec());
                let (acknowledged, errors, stop) =
                    (acknowledged.clone(), errors.clone(), stop.clone());
                tokio::spawn(async move {
                    let mut i = w;
                    while !stop.load(Ordering::Relaxed) {
                        let key = keys[i % keys.len()].as_str();
                        match tokio::time::timeout(Duration::from_secs(5), c.incr(key)).await {
                            Ok(Ok(_)) => acknowledged.fetch_add(1, Ordering::Relaxed),
                            Ok(Err(e)) => {
                                eprintln!("INCR failed: {e}");
                                errors.fetch_add(1, Ordering::Relaxed)
                            }
                            Err(_) => errors.fetch_add(1, Ordering::Relaxed),
                        };
                        i += 1;
                    }
                })
            })
            .collect();
        IncrLoad {
            acknowledged,
            errors,
            stop,
            workers,
        }
    }

    /// Acknowledged so far.
    fn acknowledged(&self) -> u64 {
        self.acknowledged.load(Ordering::Relaxed)
    }

    /// Stops the tasks; (acknowledged, failed).
    async fn stop(self) -> (u64, u64) {
        self.stop.store(true, Ordering::Relaxed);
        for w in self.workers {
            w.await.unwrap();
        }
        (
            self.acknowledged.load(Ordering::Relaxed),
            self.errors.load(Ordering::Relaxed),
        )
    }
}

/// The sum of `keys`' counters.
async fn total(c: &ClusterClient, keys: &[String]) -> u64 {
    let mut total = 0;
    for k in keys {
        total += c.get::<i64>(k.as_str()).await.unwrap() as u64;
    }
    total
}

#[tokio::test]
async fn commands_go_to_the_node_of_their_slot() {
    let cluster = RedisCluster::start().unwrap();
    let c = client(&cluster).await;
    for i in 0..200 {
        let key = format!("key:{i}");
        c.set(key.as_str(), i).await.unwrap();
    }
    for i in 0..200 {
        let key = format!("key:{i}");
        assert_eq!(c.get::<i64>(key.as_str()).await.unwrap(), i);
        // It is where the slot says, not merely reachable through redirects.
        let owner = cluster.node_for_key(key.as_bytes());
        let frame = owner.command(&["GET", &key]).unwrap();
        assert_eq!(frame, redwire_testkit::Frame::Bulk(i.to_string().into()));
    }
    // Keys of one hash tag go together; others are refused before sending.
    c.mset([("{u1}:a", 1), ("{u1}:b", 2)]).await.unwrap();
    let err = c.mset([("a", 1), ("b", 2)]).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unsupported);
    assert!(err.message().contains("different slots"), "{err}");
    // No key: any primary.
    assert_eq!(
        c.send(&cmd("PING")).await.unwrap(),
        Value::Simple("PONG".into())
    );
}

#[tokio::test]
async fn a_moved_slot_is_followed_and_learned() {
    let cluster = RedisCluster::start().unwrap();
    let c = client(&cluster).await;
    c.set("moving", "v").await.unwrap();
    let slot = redwire::cluster::key_slot(b"moving");
    let to = other_primary(&cluster, slot);
    cluster.migrate_slot(slot, to).unwrap();
    assert_eq!(c.get::<String>("moving").await.unwrap(), "v");
    c.set("moving", "w").await.unwrap();
    let frame = to.command(&["GET", "moving"]).unwrap();
    assert_eq!(frame, redwire_testkit::Frame::Bulk("w".into()));
}

#[tokio::test]
async fn ask_during_a_migration_reaches_the_moved_keys() {
    let cluster = RedisCluster::start().unwrap();
    let c = client(&cluster).await;
    let keys: Vec<String> = (0..20).map(|i| format!("{{tag}}:{i}")).collect();
    for k in &keys {
        c.set(k.as_str(), k.as_str()).await.unwrap();
    }
    let slot = redwire::cluster::key_slot(b"tag");
    let to = other_primary(&cluster, slot);
    let migration = cluster.begin_migration(slot, to).unwrap();
    migration.set_importing_migrating().unwrap();
    assert!(migration.move_keys(5).unwrap() > 0);
    // Some keys are on the target now, some not: every one is readable.
    for k in &keys {
        assert_eq!(c.get::<String>(k.as_str()).await.unwrap(), *k);
    }
    migration.finish().unwrap();
    for k in &keys {
        assert_eq!(c.get::<String>(k.as_str()).await.unwrap(), *k);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn traffic_keeps_going_while_a_slot_migrates() {
    let cluster = RedisCluster::start().unwrap();
    let c = client(&cluster).await;
    let slot = redwire::cluster::key_slot(b"hot");
    let keys: Vec<String> = (0..50).map(|i| format!("{{hot}}:{i}")).collect();
    for k in &keys {
        c.set(k.as_str(), 0).await.unwrap();
    }
    let load = IncrLoad::start(&c, &keys);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let to = other_primary(&cluster, slot);
    let migration = cluster.begin_migration(slot, to).unwrap();
    migration.set_importing_migrating().unwrap();
    while migration.move_keys(3).unwrap() > 0 {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    migration.finish().unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let (acked, failed) = load.stop().await;
    let total = total(&c, &keys).await;
    assert!(acked > 100, "too little traffic: {acked}");
    // Every acknowledged increment counted once; a failed one at most once.
    assert!(
        acked <= total && total <= acked + failed,
        "acked {acked}, total {total}, failed {failed}"
    );
    assert_eq!(failed, 0, "the migration failed requests");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_primary_is_replaced_and_nothing_is_counted_twice() {
    let cluster = RedisCluster::builder()
        .node_timeout(Duration::from_millis(1000))
        .start()
        .unwrap();
    let c = client(&cluster).await;
    let keys: Vec<String> = (0..30).map(|i| format!("counter:{i}")).collect();
    for k in &keys {
        c.set(k.as_str(), 0).await.unwrap();
    }
    let load = IncrLoad::start(&c, &keys);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let victim = cluster.slot_owner(redwire::cluster::key_slot(b"counter:0"));
    cluster.kill(victim);
    cluster.wait_settled().unwrap();
    // Traffic goes on to the promoted replica.
    let before = load.acknowledged();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let (acked, failed) = load.stop().await;
    assert!(acked > before, "no traffic after the failover");
    let total = total(&c, &keys).await;
    // A write the old primary acknowledged may be lost in a failover (Redis
    // replicates asynchronously); none is ever counted twice.
    assert!(
        total <= acked + failed,
        "acked {acked}, total {total}, failed {failed}"
    );
    eprintln!("acknowledged {acked}, failed {failed}, counted {total}");
}

#[tokio::test]
async fn a_pipeline_is_split_by_node_and_its_results_come_back_in_order() {
    let cluster = RedisCluster::start().unwrap();
    let c = client(&cluster).await;
    let mut p = Pipeline::new();
    let slots: Vec<_> = (0..100)
        .map(|i| p.incr_by(format!("n:{i}").as_str(), i))
        .collect();
    let mut results = c.pipeline(&p).await.unwrap();
    for (i, slot) in slots.into_iter().enumerate() {
        assert_eq!(slot.take(&mut results).unwrap(), i as i64);
    }
    // The keys are spread over every primary.
    let owners: std::collections::HashSet<String> = (0..100)
        .map(|i| {
            cluster
                .node_for_key(format!("n:{i}").as_bytes())
                .id()
                .to_string()
        })
        .collect();
    assert_eq!(owners.len(), 3);

    // An entry whose slot moved is redirected alone.
    let slot = redwire::cluster::key_slot(b"n:7");
    let to = other_primary(&cluster, slot);
    cluster.migrate_slot(slot, to).unwrap();
    let mut p = Pipeline::new();
    let seven = p.incr("n:7");
    let eight = p.incr("n:8");
    let mut results = c.pipeline(&p).await.unwrap();
    assert_eq!(seven.take(&mut results).unwrap(), 8);
    assert_eq!(eight.take(&mut results).unwrap(), 9);

    // A transaction runs on its slot's node; across slots it is refused.
    let mut tx = Pipeline::new();
    tx.atomic();
    let a = tx.incr("{t}:a");
    let b = tx.incr("{t}:b");
    let mut results = c.pipeline(&tx).await.unwrap();
    assert_eq!(
        (a.take(&mut results).unwrap(), b.take(&mut results).unwrap()),
        (1, 1)
    );
    let mut tx = Pipeline::new();
    tx.atomic();
    tx.incr("x");
    tx.incr("y");
    let err = c.pipeline(&tx).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unsupported);
    assert!(err.message().contains("different slots"), "{err}");

    // Large values (4 KiB and more are kept out of line in a command, and
    // shared when a pipeline is split by node) reach their nodes whole:
    // in a pipeline over every node, in a transaction, alone.
    let values: Vec<Vec<u8>> = [0usize, 4095, 4096, 4097, 1 << 20]
        .iter()
        .enumerate()
        .map(|(i, n)| (0..*n).map(|j| (j * 31 + i) as u8).collect())
        .collect();
    let read = |v: Value| bytes::Bytes::from_value(v).unwrap().to_vec();
    let mut p = Pipeline::new();
    for i in 0..30 {
        let v = &values[i % values.len()];
        p.add(redwire::cmd("SET").arg(format!("big:{i}")).arg(&v[..]));
    }
    for result in c.pipeline(&p).await.unwrap() {
        assert!(result.unwrap().is_ok());
    }
    for i in 0..30 {
        let got = c.send(&redwire::cmd("GET").arg(format!("big:{i}"))).await;
        assert!(read(got.unwrap()) == values[i % values.len()], "big:{i}");
    }
    let mut tx = Pipeline::new();
    tx.atomic();
    tx.add(redwire::cmd("SET").arg("{t}:big").arg(&values[4][..]));
    tx.add(redwire::cmd("GET").arg("{t}:big"));
    let results = c.pipeline(&tx).await.unwrap();
    assert!(read(results[1].clone().unwrap()) == values[4]);
    let set = redwire::cmd("SET").arg("alone").arg(&values[3][..]);
    c.send(&set).await.unwrap();
    let got = c.send(&redwire::cmd("GET").arg("alone")).await.unwrap();
    assert!(read(got) == values[3]);
}

#[tokio::test]
async fn many_keys_land_on_their_owners_and_whole_cluster_commands_fan_out() {
    let cluster = RedisCluster::start().unwrap();
    let c = client(&cluster).await;
    let n = 100_000;
    for chunk in (0..n).collect::<Vec<_>>().chunks(5_000) {
        let mut p = Pipeline::new();
        for i in chunk {
            p.set(format!("k:{i}").as_str(), *i);
        }
        let results = c.pipeline(&p).await.unwrap();
        assert!(results.iter().all(|r| r.is_ok()));
    }
    // Every key reads back; a sample sits on the node that owns its slot.
    for chunk in (0..n).collect::<Vec<_>>().chunks(5_000) {
        let mut p = Pipeline::new();
        let slots: Vec<_> = chunk
            .iter()
            .map(|i| p.get::<i64>(format!("k:{i}").as_str()))
            .collect();
        let mut results = c.pipeline(&p).await.unwrap();
        for (i, slot) in chunk.iter().zip(slots) {
            assert_eq!(slot.take(&mut results).unwrap(), *i);
        }
    }
    for i in (0..n).step_by(997) {
        let key = format!("k:{i}");
        let frame = cluster
            .node_for_key(key.as_bytes())
            .command(&["EXISTS", &key])
            .unwrap();
        assert_eq!(frame, redwire_testkit::Frame::Integer(1));
    }
    // A scan of the whole cluster sees every key; a plain SCAN is refused.
    let keys: std::collections::HashSet<String> = c
        .scan_cluster::<String>(ScanOptions::new().count(1000))
        .try_collect()
        .await
        .unwrap()
        .into_iter()
        .collect();
    assert_eq!(keys.len(), n as usize);
    let err = c
        .scan::<String>(ScanOptions::new())
        .try_collect()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unsupported);
    // DBSIZE is the sum over the primaries; KEYS gathers them all.
    assert_eq!(c.dbsize().await.unwrap(), n as u64);
    let some: Vec<String> = c
        .send(&cmd("KEYS").arg("k:1234*"))
        .await
        .map(|v| FromValue::from_value(v).unwrap())
        .unwrap();
    assert_eq!(some.len(), 11);
    c.send(&cmd("FLUSHALL")).await.unwrap();
    assert_eq!(c.dbsize().await.unwrap(), 0);
    assert_eq!(
        c.send(&cmd("PING")).await.unwrap(),
        Value::Simple("PONG".into())
    );
}

/// `GET`s a node has run (INFO commandstats).
fn gets(node: &redwire_testkit::ClusterNode) -> u64 {
    let info = match node.command(&["INFO", "commandstats"]).unwrap() {
        redwire_testkit::Frame::Bulk(b) => String::from_utf8_lossy(&b).into_owned(),
        other => panic!("INFO answered {other:?}"),
    };
    info.lines()
        .find_map(|l| l.strip_prefix("cmdstat_get:calls="))
        .map(|rest| rest.split(',').next().unwrap().parse().unwrap())
        .unwrap_or(0)
}

/// The intended behaviour of `ReadFrom::PreferReplica`: a read goes to a
/// replica of its slot once the client knows that replica and its read
/// connection is up; a read the replica cannot serve (no replica known yet,
/// its connection down or still failing, a `MOVED` because it no longer
/// replicates the slot) is served by the primary, since a read is safe to
/// send again. So the test first warms every replica's connection (the
/// client makes them on first use), waits until the client's state shows
/// them connected, and only then counts; then it kills a replica and checks
/// that its shard's reads go on, from the primary.
#[tokio::test]
async fn reads_go_to_replicas_when_asked_and_writes_never_do() {
    use redwire::cluster::NodeRole;
    use redwire::ConnectionState;

    let cluster = RedisCluster::start().unwrap();
    let seeds: Vec<_> = cluster.seed_urls().iter().map(|u| config(u)).collect();
    let config = redwire::cluster::ClusterConfig::from_seeds(seeds)
        .unwrap()
        .into_builder()
        .read_from(redwire::cluster::ReadFrom::PreferReplica)
        // Right after the cluster forms, the node the first map comes from
        // may not list every replica yet (seen on Valkey 8.0 under load):
        // the periodic refresh brings them in.
        .refresh_interval(Some(Duration::from_millis(200)))
        .build();
    let c = redwire::cluster::ClusterClient::connect(config)
        .await
        .unwrap();
    let keys: Vec<String> = (0..60).map(|i| format!("r:{i}")).collect();
    for k in &keys {
        c.set(k.as_str(), k.as_str()).await.unwrap();
    }
    // Warm-up: reads until the client knows a replica of every shard and
    // each one's connection is up (replication is asynchronous, so the
    // values are not checked yet).
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        for k in &keys {
            c.get::<Option<String>>(k.as_str()).await.unwrap();
        }
        let state = c.state();
        let replicas: Vec<_> = state
            .nodes
            .iter()
            .filter(|n| n.role == NodeRole::Replica)
            .collect();
        if replicas.len() == 3
            && replicas
                .iter()
                .all(|n| n.connection == Some(ConnectionState::Connected))
        {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the replicas' connections never came up: {state:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let wait_replicated = || {
        cluster.nodes().iter().all(|n| {
            n.is_primary()
                || matches!(
                    n.command(&["DBSIZE"]).unwrap(),
                    redwire_testkit::Frame::Integer(d) if d > 0
                )
        })
    };
    while !wait_replicated() {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;

    let before: Vec<u64> = cluster.nodes().iter().map(gets).collect();
    for k in &keys {
        assert_eq!(c.get::<String>(k.as_str()).await.unwrap(), *k);
    }
    let per_node: Vec<(String, bool, u64)> = cluster
        .nodes()
        .iter()
        .zip(&before)
        .map(|(n, b)| (n.addr().to_string(), n.is_primary(), gets(n) - b))
        .collect();
    let to_primaries: u64 = per_node.iter().filter(|n| n.1).map(|n| n.2).sum();
    let to_replicas: u64 = per_node.iter().filter(|n| !n.1).map(|n| n.2).sum();
    assert_eq!(
        (to_primaries, to_replicas),
        (0, keys.len() as u64),
        "reads per node (addr, primary, GETs): {per_node:?}\n{:?}",
        c.state()
    );
    // Writes still go to the primaries.
    assert_eq!(c.incr("r:count").await.unwrap(), 1);

    // A replica gone: its shard's reads are served by its primary.
    let primary = cluster.node_for_key(&keys[0]);
    let replica = cluster.replicas_of(primary.id())[0];
    cluster.kill(replica);
    let primary_before = gets(primary);
    let shard: Vec<&String> = keys
        .iter()
        .filter(|k| cluster.node_for_key(k.as_str()).id() == primary.id())
        .collect();
    for k in &shard {
        assert_eq!(c.get::<String>(k.as_str()).await.unwrap(), **k);
    }
    assert!(
        gets(primary) - primary_before >= shard.len() as u64,
        "the primary did not serve the reads of its killed replica"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_manual_failover_under_load_loses_nothing_and_counts_nothing_twice() {
    let cluster = RedisCluster::start().unwrap();
    let c = client(&cluster).await;
    let keys: Vec<String> = (0..30).map(|i| format!("{{f}}:{i}")).collect();
    for k in &keys {
        c.set(k.as_str(), 0).await.unwrap();
    }
    let load = IncrLoad::start(&c, &keys);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let primary = cluster.slot_owner(redwire::cluster::key_slot(b"f"));
    let replica = cluster.replicas_of(primary.id())[0];
    cluster.failover(replica).unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (acked, failed) = load.stop().await;
    let total = total(&c, &keys).await;
    // A coordinated failover loses no acknowledged write, and nothing is
    // replayed: acknowledged ≤ final ≤ acknowledged + failed.
    assert!(
        acked <= total && total <= acked + failed,
        "acked {acked}, total {total}, failed {failed}"
    );
    eprintln!("acknowledged {acked}, failed {failed}, counted {total}");
    // The slot is served by the promoted replica now.
    let frame = replica.command(&["GET", &keys[0]]).unwrap();
    assert!(
        matches!(frame, redwire_testkit::Frame::Bulk(_)),
        "{frame:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_a_primary_down_requests_end_within_their_deadline_then_succeed_again() {
    let cluster = RedisCluster::builder()
        .node_timeout(Duration::from_millis(1000))
        .start()
        .unwrap();
    let seeds = cluster
        .seed_urls()
        .iter()
        .map(|u| {
            config(u)
                .into_builder()
                .command_timeout(Duration::from_millis(300))
                .build()
        })
        .collect();
    let c = ClusterClient::connect(redwire::cluster::ClusterConfig::from_seeds(seeds).unwrap())
        .await
        .unwrap();
    c.set("down", 0).await.unwrap();
    let victim = cluster.slot_owner(redwire::cluster::key_slot(b"down"));
    cluster.kill(victim);
    let mut failures = 0;
    let until = std::time::Instant::now() + Duration::from_millis(1500);
    while std::time::Instant::now() < until {
        let started = std::time::Instant::now();
        if c.incr("down").await.is_err() {
            failures += 1;
        }
        // Never held past its deadline (generous slack for a busy machine).
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "held {:?}",
            started.elapsed()
        );
    }
    assert!(failures > 0, "a dead primary answered?");
    cluster.wait_settled().unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while c.incr("down").await.is_err() {
        assert!(
            std::time::Instant::now() < deadline,
            "the promoted replica never took the writes"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_watch_transaction_and_a_blocking_pop_run_on_their_slots_node() {
    let cluster = RedisCluster::start().unwrap();
    let c = client(&cluster).await;
    c.set("{acct}:a", 10).await.unwrap();
    let results = c
        .transaction(["{acct}:a", "{acct}:b"], |conn| {
            Box::pin(async move {
                let a: i64 = conn.get::<Option<i64>>("{acct}:a").await?.unwrap_or(0);
                let mut writes = Pipeline::new();
                writes.decr_by("{acct}:a", a);
                writes.incr_by("{acct}:b", a);
                Ok(writes)
            })
        })
        .await
        .unwrap();
    assert_eq!(results.len(), 2);
    assert_eq!(c.get::<i64>("{acct}:b").await.unwrap(), 10);
    let err = c
        .transaction(["x", "y"], |_| Box::pin(async { Ok(Pipeline::new()) }))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unsupported);

    let mut conn = c.connection_for("{jobs}:q").await.unwrap();
    c.rpush("{jobs}:q", ["j1"]).await.unwrap();
    let popped: Option<(String, String)> = conn.blpop(["{jobs}:q"], 1.0).await.unwrap();
    assert_eq!(popped, Some(("{jobs}:q".to_string(), "j1".to_string())));
}

#[tokio::test]
async fn a_password_protected_cluster_is_reached_through_a_seed_list_url() {
    let cluster = RedisCluster::builder().password("s3cret").start().unwrap();
    let hosts: Vec<String> = cluster
        .primaries()
        .iter()
        .map(|n| format!("127.0.0.1:{}", n.port()))
        .collect();
    // A dead seed first: the next one is tried.
    let dead = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead_port = dead.local_addr().unwrap().port();
    drop(dead);
    let url = format!("redis://:s3cret@127.0.0.1:{dead_port},{}", hosts.join(","));
    let c = ClusterClient::connect_url(&url).await.unwrap();
    // Every node is reached with the password: one key per primary.
    let keys: Vec<String> = (0..64).map(|i| format!("auth:{i}")).collect();
    for k in &keys {
        c.set(k.as_str(), k.as_str()).await.unwrap();
    }
    let owners: std::collections::BTreeSet<_> =
        keys.iter().map(|k| cluster.node_for_key(k).id()).collect();
    assert_eq!(owners.len(), 3);
    for k in &keys {
        assert_eq!(c.get::<String>(k.as_str()).await.unwrap(), *k);
    }
    let wrong = format!("redis://:nope@{}", hosts.join(","));
    let err = ClusterClient::connect_url(&wrong).await.unwrap_err();
    assert!(
        err.to_string().to_lowercase().contains("pass"),
        "not an authentication error: {err}"
    );
    assert!(ClusterClient::connect_url("redis://").await.is_err());
}

#[cfg(feature = "tls")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tls_cluster_is_served_on_its_tls_ports_through_a_moved_slot() {
    let cluster = RedisCluster::builder().tls(true).start().unwrap();
    let ca = cluster.tls_ca_cert_path().unwrap().to_path_buf();
    let seeds = cluster
        .tls_seed_urls()
        .iter()
        .map(|u| {
            config(u)
                .into_builder()
                .tls(redwire::TlsConfig::default().ca_file(&ca))
                .client_name("tls-test")
                .build()
        })
        .collect();
    let c = ClusterClient::connect(redwire::cluster::ClusterConfig::from_seeds(seeds).unwrap())
        .await
        .unwrap();
    let keys: Vec<String> = (0..64).map(|i| format!("tls:{i}")).collect();
    for k in &keys {
        c.set(k.as_str(), k.as_str()).await.unwrap();
    }
    // Each key on its owner, read back through the kit's plain port.
    for k in &keys {
        let owner = cluster.node_for_key(k);
        assert_eq!(
            owner.command(&["GET", k]).unwrap(),
            redwire_testkit::Frame::Bulk(k.clone().into())
        );
    }
    // A moved slot: the MOVED names the new owner's TLS port.
    let slot = redwire::cluster::key_slot(keys[0].as_bytes());
    cluster
        .migrate_slot(slot, other_primary(&cluster, slot))
        .unwrap();
    assert_eq!(c.get::<String>(keys[0].as_str()).await.unwrap(), keys[0]);
    // Nothing of it went over a plain port: every connection of the client
    // (named `tls-test`) came in on its node's TLS port.
    let mut seen = 0;
    for node in cluster.nodes() {
        let tls_port = node
            .tls_url()
            .unwrap()
            .rsplit(':')
            .next()
            .unwrap()
            .to_string();
        let redwire_testkit::Frame::Bulk(list) = node.command(&["CLIENT", "LIST"]).unwrap() else {
            panic!("CLIENT LIST")
        };
        for line in String::from_utf8_lossy(&list).lines() {
            if !line.contains(" name=tls-test ") {
                continue;
            }
            seen += 1;
            assert!(
                line.contains(&format!("laddr=127.0.0.1:{tls_port} ")),
                "a client on another port: {line}"
            );
        }
    }
    assert!(
        seen >= 3,
        "the client's connections were not found ({seen})"
    );
}

/// How the requests of a load ended while a primary was killed.
#[derive(Debug, Default)]
struct Outcomes {
    acknowledged: u64,
    /// Failed after reaching the killed node: may have executed.
    in_flight: u64,
    /// Failed at their deadline, unsent, saying what they waited for.
    past_deadline: u64,
    /// Anything else: a failure the deadline could have absorbed.
    early: Vec<String>,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_primary_fails_only_requests_in_its_hands_or_past_their_deadline() {
    let cluster = RedisCluster::builder()
        .node_timeout(Duration::from_millis(1000))
        .start()
        .unwrap();
    let deadline = Duration::from_secs(2);
    let node = config(&cluster.seed_urls()[0])
        .into_builder()
        .command_timeout(deadline)
        .build();
    let seeds: Vec<_> = cluster
        .primaries()
        .iter()
        .map(|n| redwire::Addr::Tcp {
            host: "127.0.0.1".into(),
            port: n.port(),
        })
        .collect();
    let waiting = redwire::cluster::ClusterConfig::builder()
        .node(node)
        .seeds(seeds)
        .build();
    let c = ClusterClient::connect(waiting.clone()).await.unwrap();
    // The same cluster, failing fast: it does not wait for a new owner.
    let fast = ClusterClient::connect(waiting.into_builder().fail_fast(true).build())
        .await
        .unwrap();
    let keys: Vec<String> = (0..30).map(|i| format!("kill:{i}")).collect();
    for k in &keys {
        c.set(k.as_str(), 0).await.unwrap();
    }
    let outcomes = Arc::new(std::sync::Mutex::new(Outcomes::default()));
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let workers: Vec<_> = (0..8)
        .map(|w| {
            let (c, keys, outcomes, stop) =
                (c.clone(), keys.clone(), outcomes.clone(), stop.clone());
            tokio::spawn(async move {
                let mut i = w;
                while !stop.load(Ordering::Relaxed) {
                    let started = std::time::Instant::now();
                    let result = c.incr(keys[i % keys.len()].as_str()).await;
                    let took = started.elapsed();
                    let mut o = outcomes.lock().unwrap();
                    match result {
                        Ok(_) => o.acknowledged += 1,
                        Err(e) if e.may_have_executed() => o.in_flight += 1,
                        Err(e)
                            if e.kind() == ErrorKind::Timeout
                                && took >= deadline - Duration::from_millis(50)
                                && e.message().contains("waiting for the cluster") =>
                        {
                            o.past_deadline += 1
                        }
                        Err(e) => o.early.push(format!("after {took:?}: {:?} {e}", e.kind())),
                    }
                    i += 1;
                }
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let victim = cluster.slot_owner(redwire::cluster::key_slot(b"kill:0"));
    cluster.kill(victim);
    // The fail-fast client says at once that the slot cannot be served
    // (once a request that was on the wire as the node died is out of the
    // way: that one may have run).
    let mut unsent = None;
    for _ in 0..5 {
        let started = std::time::Instant::now();
        let err = fast.incr("kill:0").await.unwrap_err();
        assert!(
            started.elapsed() < Duration::from_millis(1500),
            "fail-fast waited {:?}",
            started.elapsed()
        );
        if !err.may_have_executed() {
            unsent = Some(err);
            break;
        }
    }
    let err = unsent.expect("every fail-fast request was in flight");
    assert!(
        matches!(err.kind(), ErrorKind::NotConnected | ErrorKind::Cluster),
        "{err:?}"
    );
    cluster.wait_settled().unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    stop.store(true, Ordering::Relaxed);
    for w in workers {
        w.await.unwrap();
    }
    let o = std::mem::take(&mut *outcomes.lock().unwrap());
    eprintln!("{o:?}");
    assert!(
        o.early.is_empty(),
        "{} requests failed before their deadline for want of a node: {:?}",
        o.early.len(),
        &o.early[..o.early.len().min(5)]
    );
    assert!(o.acknowledged > 0);
    // The promoted replica serves the killed primary's slots.
    assert!(c.incr("kill:0").await.is_ok());
}
