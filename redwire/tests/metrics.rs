//! The `metrics` feature against real servers: each test records into its
//! own `metrics-util` debugging recorder (installed for its thread, with a
//! current-thread runtime inside) and checks the names, attributes and
//! values of a known sequence: GETs, a server error, a caller that gave up,
//! a reset through the fault proxy; a pool checkout timeout; a cluster
//! migration (a `MOVED` and a refresh); a resubscription; a failover
//! followed through Sentinel.

mod support;

use metrics_util::debugging::{DebugValue, DebuggingRecorder, Snapshotter};
use metrics_util::CompositeKey;
use redwire::prelude::*;
use redwire::telemetry as t;
use redwire::Event;
use redwire_testkit::{FaultProxy, RedisCluster, RedisSentinel, RedisServer};
use std::future::Future;
use std::time::Duration;
use support::{config, wait_event};

/// Runs `test` on a current-thread runtime with a fresh recorder installed
/// for this thread (every task of that runtime runs here).
fn recorded<F: Future<Output = ()>>(test: impl FnOnce(Snapshotter) -> F) {
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    metrics::with_local_recorder(&recorder, || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(test(snapshotter))
    });
}

/// One snapshot (taking it resets what it read), searched by name and by
/// some of the attributes.
struct Recorded(Vec<(CompositeKey, DebugValue)>);

impl Recorded {
    fn take(snapshotter: &Snapshotter) -> Recorded {
        let all = snapshotter.snapshot().into_vec();
        Recorded(all.into_iter().map(|(k, _, _, v)| (k, v)).collect())
    }

    fn matching<'a>(
        &'a self,
        name: &'a str,
        labels: &'a [(&'a str, &'a str)],
    ) -> impl Iterator<Item = &'a DebugValue> + 'a {
        self.0.iter().filter_map(move |(key, value)| {
            let key = key.key();
            let all = labels.iter().all(|(k, v)| {
                key.labels()
                    .any(|label| label.key() == *k && label.value() == *v)
            });
            (key.name() == name && all).then_some(value)
        })
    }

    /// The sum of the counters of that name with those attributes.
    fn counter(&self, name: &str, labels: &[(&str, &str)]) -> u64 {
        self.matching(name, labels)
            .map(|v| match v {
                DebugValue::Counter(n) => *n,
                other => panic!("{name} is not a counter: {other:?}"),
            })
            .sum()
    }

    fn gauge(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        self.matching(name, labels)
            .map(|v| match v {
                DebugValue::Gauge(g) => g.0,
                other => panic!("{name} is not a gauge: {other:?}"),
            })
            .sum()
    }

    fn histogram(&self, name: &str, labels: &[(&str, &str)]) -> Vec<f64> {
        self.matching(name, labels)
            .flat_map(|v| match v {
                DebugValue::Histogram(values) => values.iter().map(|f| f.0).collect::<Vec<_>>(),
                other => panic!("{name} is not a histogram: {other:?}"),
            })
            .collect()
    }

    /// No series of `name` carries an attribute `key` (bounded labels).
    fn attribute_values(&self, name: &str, key: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(k, _)| k.key().name() == name)
            .flat_map(|(k, _)| {
                k.key()
                    .labels()
                    .filter(|l| l.key() == key)
                    .map(|l| l.value().to_owned())
                    .collect::<Vec<_>>()
            })
            .collect()
    }
}

async fn connected(events: &mut tokio::sync::broadcast::Receiver<Event>) {
    wait_event(events, Duration::from_secs(5), |e| {
        matches!(e, Event::Connected { .. }).then_some(())
    })
    .await
}

#[test]
fn a_client_reports_operations_errors_give_ups_reconnects_and_its_connection() {
    recorded(|snapshotter| async move {
        let server = RedisServer::start().unwrap();
        let proxy = FaultProxy::start(server.addr()).unwrap();
        let port = proxy.addr().port().to_string();
        let client = Client::connect(config(&proxy.url())).await.unwrap();
        client.set("k", "v").await.unwrap();
        for _ in 0..5 {
            assert_eq!(client.get::<String>("k").await.unwrap(), "v");
        }
        // A server error: a list command on a string.
        let err = client.lpush("k", ["x"]).await.unwrap_err();
        assert_eq!(err.code(), Some("WRONGTYPE"));
        // A caller that gives up: its reply comes later and is thrown away.
        proxy.set_latency(Duration::from_millis(150));
        let late = client
            .send_timeout(&cmd("GET").arg("k"), Some(Duration::from_millis(20)))
            .await;
        assert_eq!(late.unwrap_err().kind(), ErrorKind::Timeout);
        tokio::time::sleep(Duration::from_millis(400)).await;
        proxy.set_latency(Duration::ZERO);
        // A reset: the connection is made again.
        let mut events = client.events();
        proxy.reset_all();
        connected(&mut events).await;
        assert_eq!(client.get::<String>("k").await.unwrap(), "v");
        // A command outside the table, folded into `other`.
        let _ = client.send(&cmd("NOSUCHCOMMAND").arg("k")).await;

        let m = Recorded::take(&snapshotter);
        let at = [("server.port", port.as_str()), ("db.system.name", "redis")];
        let op = |name: &'static str| {
            let mut labels = at.to_vec();
            labels.push(("db.operation.name", name));
            labels
        };
        let ok_gets: Vec<_> = m
            .histogram(t::OPERATION_DURATION, &op("GET"))
            .into_iter()
            .collect();
        // 6 answered GETs and the one given up (with its error.type).
        assert_eq!(ok_gets.len(), 7, "{ok_gets:?}");
        assert!(ok_gets.iter().all(|s| *s > 0.0 && *s < 5.0));
        let mut timeout = op("GET");
        timeout.push(("error.type", "timeout"));
        let given_up = m.histogram(t::OPERATION_DURATION, &timeout);
        assert_eq!(given_up.len(), 1);
        assert!(given_up[0] >= 0.02, "the deadline was 20 ms: {given_up:?}");
        let mut wrongtype = op("LPUSH");
        wrongtype.push(("error.type", "WRONGTYPE"));
        assert_eq!(m.histogram(t::OPERATION_DURATION, &wrongtype).len(), 1);
        assert_eq!(m.histogram(t::OPERATION_DURATION, &op("SET")).len(), 1);
        let mut other = op("other");
        other.push(("error.type", "ERR"));
        assert_eq!(m.histogram(t::OPERATION_DURATION, &other).len(), 1);
        let names = m.attribute_values(t::OPERATION_DURATION, "db.operation.name");
        assert!(
            names
                .iter()
                .all(|n| ["SET", "GET", "LPUSH", "other"].contains(&n.as_str())),
            "{names:?}"
        );

        // The connection: the reset counted with its cause, made twice.
        let pool = format!("client 127.0.0.1:{port}");
        let conn = [("db.client.connection.pool.name", pool.as_str())];
        let mut lost = at.to_vec();
        lost.push(("error.type", "connection_lost"));
        assert_eq!(m.counter(t::RECONNECTS, &lost), 1);
        assert_eq!(m.counter(t::RECONNECTS, &at), 1);
        assert_eq!(m.histogram(t::CREATE_TIME, &conn).len(), 2);
        let mut used = conn.to_vec();
        used.push(("db.client.connection.state", "used"));
        assert_eq!(m.gauge(t::CONNECTION_COUNT, &used), 1.0);
        assert_eq!(m.counter(t::DISCARDED_REPLIES, &at), 1);
        // Nothing waits now.
        assert_eq!(m.gauge(t::IN_FLIGHT, &at), 0.0);
        assert_eq!(m.gauge(t::QUEUED, &at), 0.0);
        assert_eq!(m.gauge(t::PENDING_REQUESTS, &conn), 0.0);
        // Every request went out in some write: 10 requests in all.
        let batches = m.histogram(t::BATCH_SIZE, &at);
        assert_eq!(batches.iter().sum::<f64>(), 10.0, "{batches:?}");
        let mut tx = at.to_vec();
        tx.push(("network.io.direction", "transmit"));
        let mut rx = at.to_vec();
        rx.push(("network.io.direction", "receive"));
        // `*1\r\n$3\r\nGET\r\n$1\r\nk\r\n` is 22 bytes; `$1\r\nv\r\n` 7.
        assert!(m.counter(t::IO, &tx) >= 7 * 22, "{}", m.counter(t::IO, &tx));
        assert!(m.counter(t::IO, &rx) >= 7 * 7, "{}", m.counter(t::IO, &rx));
    });
}

#[test]
fn a_pool_reports_checkouts_a_timeout_and_its_idle_and_used_connections() {
    recorded(|snapshotter| async move {
        let server = RedisServer::start().unwrap();
        let pool = redwire::Pool::builder(config(&server.url()))
            .max_size(1)
            .checkout_timeout(Duration::from_millis(100))
            .build()
            .await
            .unwrap();
        let held = pool.get().await.unwrap();
        let err = pool.get().await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Timeout);
        let while_held = Recorded::take(&snapshotter);
        let name = format!("pool 127.0.0.1:{}", server.port());
        let at = [("db.client.connection.pool.name", name.as_str())];
        let state = |s: &'static str| [at[0], ("db.client.connection.state", s)];
        assert_eq!(while_held.counter(t::TIMEOUTS, &at), 1);
        let waits = while_held.histogram(t::WAIT_TIME, &at);
        assert_eq!(waits.len(), 2, "{waits:?}");
        assert!(
            waits[1] >= 0.1,
            "the checkout timeout was 100 ms: {waits:?}"
        );
        assert_eq!(while_held.histogram(t::CREATE_TIME, &at).len(), 1);
        assert_eq!(while_held.gauge(t::CONNECTION_COUNT, &state("used")), 1.0);
        assert_eq!(while_held.gauge(t::CONNECTION_COUNT, &state("idle")), 0.0);
        drop(held);
        // (The snapshot took the gauges' values: these are the changes since.)
        let back = Recorded::take(&snapshotter);
        assert_eq!(back.gauge(t::CONNECTION_COUNT, &state("used")), -1.0);
        assert_eq!(back.gauge(t::CONNECTION_COUNT, &state("idle")), 1.0);
    });
}

#[test]
fn a_cluster_reports_a_moved_slot_and_the_refresh_it_caused() {
    recorded(|snapshotter| async move {
        let cluster = RedisCluster::builder().replicas(0).start().unwrap();
        let seeds = cluster.seed_urls().iter().map(|u| config(u)).collect();
        let c = redwire::cluster::ClusterClient::connect(
            redwire::cluster::ClusterConfig::from_seeds(seeds).unwrap(),
        )
        .await
        .unwrap();
        c.set("moving", "v").await.unwrap();
        let slot = redwire::cluster::key_slot(b"moving");
        let to = support::other_primary(&cluster, slot);
        cluster.migrate_slot(slot, to).unwrap();
        let mut events = c.events();
        assert_eq!(c.get::<String>("moving").await.unwrap(), "v");
        wait_event(&mut events, Duration::from_secs(5), |e| {
            matches!(e, redwire::cluster::ClusterEvent::Refreshed { .. }).then_some(())
        })
        .await;
        let m = Recorded::take(&snapshotter);
        let seed = cluster.seed_urls()[0].clone();
        let seed_port = seed.rsplit(':').next().unwrap().trim_end_matches('/');
        let at = [("server.port", seed_port)];
        assert_eq!(
            m.counter(t::REDIRECTS, &[at[0], ("redwire.redirect.kind", "moved")]),
            1
        );
        assert_eq!(
            m.counter(t::REDIRECTS, &[at[0], ("redwire.redirect.kind", "ask")]),
            0
        );
        // The first map, and the one read after the MOVED.
        assert!(
            m.counter(t::REFRESHES, &at) >= 2,
            "{}",
            m.counter(t::REFRESHES, &at)
        );
        // The node that answered at last counted the GET.
        let to_port = to.port().to_string();
        let get = [
            ("server.port", to_port.as_str()),
            ("db.operation.name", "GET"),
        ];
        assert_eq!(m.histogram(t::OPERATION_DURATION, &get).len(), 1);
    });
}

#[test]
fn a_subscriber_reports_its_messages_and_its_resubscription() {
    recorded(|snapshotter| async move {
        let server = RedisServer::start().unwrap();
        let client = Client::connect(config(&server.url())).await.unwrap();
        let (sub, mut messages) = redwire::Subscriber::connect(config(&server.url()))
            .await
            .unwrap();
        sub.subscribe("ch").await.unwrap();
        for i in 0..3 {
            assert_eq!(client.publish("ch", i).await.unwrap(), 1);
            let message = tokio::time::timeout(Duration::from_secs(5), messages.recv())
                .await
                .unwrap()
                .unwrap()
                .unwrap();
            assert_eq!(message.payload, i.to_string());
        }
        let mut events = sub.events();
        client
            .send(&cmd("CLIENT").arg("KILL").arg("TYPE").arg("pubsub"))
            .await
            .unwrap();
        wait_event(&mut events, Duration::from_secs(5), |e| {
            matches!(e, Event::Resubscribed { .. }).then_some(())
        })
        .await;
        let m = Recorded::take(&snapshotter);
        let name = format!("subscriber 127.0.0.1:{}", server.port());
        let at = [("db.client.connection.pool.name", name.as_str())];
        assert_eq!(m.counter(t::PUBSUB_MESSAGES, &at), 3);
        assert_eq!(m.counter(t::RESUBSCRIPTIONS, &at), 1);
        assert_eq!(m.counter(t::RECONNECTS, &at), 1);
        // The shared client received no pub/sub message.
        let shared = format!("client 127.0.0.1:{}", server.port());
        let shared = [("db.client.connection.pool.name", shared.as_str())];
        assert_eq!(m.counter(t::PUBSUB_MESSAGES, &shared), 0);
    });
}

/// The port a server says it listens on, from its `INFO server`.
fn tcp_port(info: &str) -> u16 {
    info.lines()
        .find_map(|l| l.strip_prefix("tcp_port:"))
        .and_then(|p| p.trim().parse().ok())
        .expect("INFO server has tcp_port")
}

#[test]
fn a_sentinel_client_counts_the_failover_it_follows() {
    recorded(|snapshotter| async move {
        let set = RedisSentinel::start().unwrap();
        let sentinels = set
            .sentinel_addrs()
            .into_iter()
            .map(|a| redwire::Addr::Tcp {
                host: a.ip().to_string(),
                port: a.port(),
            });
        let cfg = Config::builder()
            .sentinel(set.master_name(), sentinels)
            .connect_timeout(Duration::from_secs(2))
            .build();
        let client = Client::connect(cfg).await.unwrap();
        client.set("k", "v").await.unwrap();
        let new_primary = set.failover().unwrap();
        let deadline = std::time::Instant::now() + Duration::from_secs(15);
        loop {
            if let Ok(info) = client.query::<String>(&cmd("INFO").arg("server")).await {
                if tcp_port(&info) == new_primary.port() {
                    break;
                }
            }
            assert!(
                std::time::Instant::now() < deadline,
                "the failover was not followed"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let m = Recorded::take(&snapshotter);
        // Labelled with the monitored name, which outlives the primaries.
        let at = [("server.address", set.master_name()), ("server.port", "0")];
        // One switch announced (a demotion seen by a write could add one).
        let failovers = m.counter(t::FAILOVERS, &at);
        assert!((1..=2).contains(&failovers), "{failovers}");
        assert!(m.counter(t::RECONNECTS, &at) >= 1);
        let set_op = [at[0], ("db.operation.name", "SET")];
        assert_eq!(m.histogram(t::OPERATION_DURATION, &set_op).len(), 1);
    });
}

/// The client-side cache's figures reach the recorder within a tick of the
/// connection's timer, as changes (so two clients of one server add up).
#[cfg(feature = "client-cache")]
#[test]
fn a_client_side_cache_reports_hits_misses_invalidations_and_its_size() {
    recorded(|snapshotter| async move {
        let server = RedisServer::start().unwrap();
        let writer = Client::connect(config(&server.url())).await.unwrap();
        let cached = config(&server.url())
            .into_builder()
            .client_cache(redwire::CacheConfig::new())
            .response_timeout(Some(Duration::from_millis(400)))
            .build();
        let client = Client::connect(cached).await.unwrap();
        writer.set("k", "v").await.unwrap();
        for _ in 0..4 {
            assert_eq!(client.get::<String>("k").await.unwrap(), "v");
        }
        writer.set("k", "w").await.unwrap();
        client.send(&redwire::cmd("PING")).await.unwrap();
        let _ = client.get::<String>("k").await.unwrap();
        // The timer ticks at a quarter of the response timeout.
        tokio::time::sleep(Duration::from_millis(300)).await;
        let seen = Recorded::take(&snapshotter);
        let result = |r| seen.counter(t::CACHE_REQUESTS, &[("redwire.cache.result", r)]);
        assert_eq!((result("hit"), result("miss")), (3, 2));
        assert_eq!(seen.counter(t::CACHE_INVALIDATIONS, &[]), 1);
        assert_eq!(seen.gauge(t::CACHE_ENTRIES, &[]), 1.0);
        let size = seen.gauge(t::CACHE_SIZE, &[]);
        assert_eq!(size, client.cache_stats().unwrap().bytes as f64);
        assert!(size > 0.0);
    });
}
