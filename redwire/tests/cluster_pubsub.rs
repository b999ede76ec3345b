//! Pub/sub on a real Redis Cluster (3 primaries, 1 replica each) through the
//! cluster's subscriber: shard channels live on their slot's primary and
//! follow it through a migration, a failover and a killed primary; channels
//! and patterns are heard once though the cluster passes every PUBLISH to
//! every node; nothing comes out after an unsubscription.

mod support;

use redwire::cluster::{key_slot, ClusterClient, ClusterMessages};
use redwire::prelude::*;
use redwire::SubscriptionKind;
use redwire_testkit::{ClusterNode, Frame, RedisCluster};
use std::collections::BTreeMap;
use std::time::Duration;
use support::config;

/// The tests of this file run one at a time: each starts a six-node cluster,
/// and the migration and failover tests assert that a channel moves sooner
/// than the periodic check (5 s). Six clusters starting and failing over at
/// once on a two-core machine can delay the cluster itself past that.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

async fn client(cluster: &RedisCluster) -> ClusterClient {
    let seeds = cluster.seed_urls().iter().map(|u| config(u)).collect();
    ClusterClient::connect(redwire::cluster::ClusterConfig::from_seeds(seeds).unwrap())
        .await
        .unwrap()
}

/// How many subscribers `node` counts for a shard channel.
fn shard_subscribers(node: &ClusterNode, channel: &str) -> i64 {
    match node.command(&["PUBSUB", "SHARDNUMSUB", channel]).unwrap() {
        Frame::Array(items) => match items.get(1) {
            Some(Frame::Integer(n)) => *n,
            other => panic!("{other:?}"),
        },
        other => panic!("{other:?}"),
    }
}

/// Every message that arrives within `within`, by payload.
async fn drain(messages: &mut ClusterMessages, within: Duration) -> BTreeMap<String, usize> {
    let mut seen = BTreeMap::new();
    while let Ok(Some(m)) = tokio::time::timeout(within, messages.recv()).await {
        let m = m.unwrap();
        *seen
            .entry(String::from_utf8(m.payload.to_vec()).unwrap())
            .or_default() += 1;
    }
    seen
}

/// Publishes on `channel` until a message comes through (the subscription
/// is moving), for at most 4.5 s: sooner than the subscriber's periodic
/// check (`CHECK_EVERY`, 5 s), so the move must come from what the server
/// or the connection said; then publishes `after` more, each of which
/// must arrive exactly once.
async fn heard_again(
    c: &ClusterClient,
    messages: &mut ClusterMessages,
    channel: &str,
    after: usize,
) {
    let deadline = tokio::time::Instant::now() + Duration::from_millis(4500);
    let mut attempt = 0;
    loop {
        attempt += 1;
        let _ = c.spublish(channel, format!("probe {attempt}")).await;
        if let Ok(Some(m)) = tokio::time::timeout(Duration::from_millis(100), messages.recv()).await
        {
            assert!(m.unwrap().payload.starts_with(b"probe"));
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{channel} was never heard again"
        );
    }
    // Probes still on their way are not counted.
    drain(messages, Duration::from_millis(300)).await;
    for i in 0..after {
        c.spublish(channel, format!("m{i}")).await.unwrap();
    }
    let seen = drain(messages, Duration::from_millis(500)).await;
    for i in 0..after {
        assert_eq!(seen.get(&format!("m{i}")), Some(&1), "{seen:?}");
    }
    assert_eq!(seen.len(), after, "{seen:?}");
}

#[tokio::test]
async fn shard_channels_live_on_their_slots_node_and_every_message_arrives_once() {
    let _serial = ONE_AT_A_TIME.lock().await;
    let cluster = RedisCluster::start().unwrap();
    let c = client(&cluster).await;
    let (subscriber, mut messages) = c.subscriber().await.unwrap();
    // Channels on every primary, two of them in one slot.
    let channels = ["s:{a}", "s:{b}", "s:{c}", "s:{d}", "t:{a}"];
    subscriber.ssubscribe(channels).await.unwrap();
    for ch in channels {
        let owner = cluster.node_for_key(ch);
        assert_eq!(shard_subscribers(owner, ch), 1, "{ch} on its owner");
        assert_eq!(
            subscriber.node_of(ch),
            Some(format!("127.0.0.1:{}", owner.port()))
        );
        for other in cluster.primaries() {
            if other.id() != owner.id() {
                assert_eq!(shard_subscribers(other, ch), 0, "{ch} elsewhere");
            }
        }
    }
    let owners: std::collections::BTreeSet<_> = channels
        .iter()
        .map(|ch| cluster.node_for_key(ch).id())
        .collect();
    assert!(owners.len() > 1, "the channels span several nodes");
    for ch in channels {
        assert_eq!(c.spublish(ch, format!("to {ch}")).await.unwrap(), 1);
    }
    let seen = drain(&mut messages, Duration::from_millis(500)).await;
    for ch in channels {
        assert_eq!(seen.get(&format!("to {ch}")), Some(&1), "{seen:?}");
    }
    assert_eq!(
        subscriber.subscriptions(SubscriptionKind::Shard).len(),
        channels.len()
    );

    // Once sunsubscribe returns, nothing more of that channel comes out.
    subscriber.sunsubscribe("s:{a}").await.unwrap();
    assert_eq!(shard_subscribers(cluster.node_for_key("s:{a}"), "s:{a}"), 0);
    assert_eq!(c.spublish("s:{a}", "late").await.unwrap(), 0);
    c.spublish("t:{a}", "still").await.unwrap();
    let seen = drain(&mut messages, Duration::from_millis(300)).await;
    assert_eq!(seen.keys().collect::<Vec<_>>(), ["still"]);
    // An empty list is nothing; the `_all` form is everything.
    let left = subscriber.subscriptions(SubscriptionKind::Shard);
    subscriber.sunsubscribe(Vec::<&str>::new()).await.unwrap();
    subscriber.sunsubscribe(()).await.unwrap();
    assert_eq!(subscriber.subscriptions(SubscriptionKind::Shard), left);
    assert_eq!(c.spublish("t:{a}", "still").await.unwrap(), 1);
    subscriber.sunsubscribe_all().await.unwrap();
    assert!(subscriber.subscriptions(SubscriptionKind::Shard).is_empty());
    for ch in channels {
        assert_eq!(shard_subscribers(cluster.node_for_key(ch), ch), 0, "{ch}");
    }
    // With nothing left on them, the nodes' subscriber connections close.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while subscriber_connections(&cluster) > 0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{} subscriber connections stay open",
            subscriber_connections(&cluster)
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The connections, on every node, whose last command was a shard
/// (un)subscription: the cluster subscriber's.
fn subscriber_connections(cluster: &RedisCluster) -> usize {
    cluster
        .nodes()
        .iter()
        .map(|node| {
            client_list(node)
                .lines()
                .filter(|l| l.contains("cmd=ssubscribe") || l.contains("cmd=sunsubscribe"))
                .count()
        })
        .sum()
}

#[tokio::test]
async fn the_stream_counts_what_waits_and_reads_as_a_stream() {
    let _serial = ONE_AT_A_TIME.lock().await;
    let cluster = RedisCluster::start().unwrap();
    let c = client(&cluster).await;
    let (subscriber, mut messages) = c.subscriber().await.unwrap();
    assert!(messages.is_empty());
    subscriber.ssubscribe(["w:{a}", "w:{b}"]).await.unwrap();
    c.spublish("w:{a}", "1").await.unwrap();
    c.spublish("w:{b}", "2").await.unwrap();
    c.spublish("w:{a}", "3").await.unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while messages.len() < 3 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{} waiting",
            messages.len()
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(messages.len(), 3);
    assert!(!messages.is_empty());
    assert!(
        format!("{messages:?}").contains("waiting: 3"),
        "{messages:?}"
    );
    assert!(
        format!("{subscriber:?}").contains("shard_channels: 2"),
        "{subscriber:?}"
    );
    // As a `Stream`.
    let mut payloads = Vec::new();
    for _ in 0..3 {
        let next = std::future::poll_fn(|cx| {
            futures_core::Stream::poll_next(std::pin::Pin::new(&mut messages), cx)
        });
        let m = tokio::time::timeout(Duration::from_secs(5), next)
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        payloads.push(String::from_utf8(m.payload.to_vec()).unwrap());
    }
    payloads.sort();
    assert_eq!(payloads, ["1", "2", "3"]);
    assert!(messages.is_empty());
}

#[tokio::test]
async fn channels_and_patterns_are_heard_once_though_every_node_passes_them_on() {
    let _serial = ONE_AT_A_TIME.lock().await;
    let cluster = RedisCluster::start().unwrap();
    let c = client(&cluster).await;
    let (subscriber, mut messages) = c.subscriber().await.unwrap();
    subscriber.subscribe(["news", "alerts"]).await.unwrap();
    subscriber.psubscribe("user.*").await.unwrap();
    // Published through a node the subscriber is not on, too: the cluster
    // passes it to every node.
    for node in cluster.primaries() {
        node.command(&["PUBLISH", "news", &format!("via {}", node.port())])
            .unwrap();
    }
    c.publish("user.7", "pattern").await.unwrap();
    let seen = drain(&mut messages, Duration::from_millis(500)).await;
    assert_eq!(seen.len(), cluster.primaries().len() + 1, "{seen:?}");
    assert!(seen.values().all(|n| *n == 1), "heard twice: {seen:?}");
    assert_eq!(
        subscriber.subscriptions(SubscriptionKind::Channel),
        ["alerts", "news"]
    );
    assert_eq!(
        subscriber.subscriptions(SubscriptionKind::Pattern),
        ["user.*"]
    );
    subscriber.unsubscribe(Vec::<&str>::new()).await.unwrap();
    subscriber.punsubscribe(()).await.unwrap();
    assert_eq!(
        subscriber.subscriptions(SubscriptionKind::Pattern),
        ["user.*"],
        "an empty list unsubscribed something"
    );
    subscriber.unsubscribe("news").await.unwrap();
    subscriber.punsubscribe_all().await.unwrap();
    assert_eq!(
        subscriber.subscriptions(SubscriptionKind::Channel),
        ["alerts"]
    );
    assert!(subscriber
        .subscriptions(SubscriptionKind::Pattern)
        .is_empty());
    c.publish("news", "gone").await.unwrap();
    c.publish("user.7", "gone too").await.unwrap();
    c.publish("alerts", "kept").await.unwrap();
    let seen = drain(&mut messages, Duration::from_millis(300)).await;
    assert_eq!(seen.keys().collect::<Vec<_>>(), ["kept"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shard_channel_follows_its_slot_to_another_node() {
    let _serial = ONE_AT_A_TIME.lock().await;
    let cluster = RedisCluster::start().unwrap();
    let c = client(&cluster).await;
    let (subscriber, mut messages) = c.subscriber().await.unwrap();
    subscriber.ssubscribe(["m:{x}", "stay:{y}"]).await.unwrap();
    let slot = key_slot(b"x");
    let from = cluster.slot_owner(slot);
    let to = cluster
        .primaries()
        .into_iter()
        .find(|n| n.id() != from.id())
        .unwrap();
    cluster.migrate_slot(slot, to).unwrap();
    heard_again(&c, &mut messages, "m:{x}", 20).await;
    assert_eq!(shard_subscribers(to, "m:{x}"), 1);
    assert_eq!(shard_subscribers(from, "m:{x}"), 0);
    assert_eq!(
        subscriber.node_of("m:{x}"),
        Some(format!("127.0.0.1:{}", to.port()))
    );
    // The other channel never moved.
    heard_again(&c, &mut messages, "stay:{y}", 5).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shard_channel_follows_a_failover_and_is_not_heard_twice() {
    let _serial = ONE_AT_A_TIME.lock().await;
    let cluster = RedisCluster::start().unwrap();
    let c = client(&cluster).await;
    let (subscriber, mut messages) = c.subscriber().await.unwrap();
    subscriber.ssubscribe("f:{z}").await.unwrap();
    let primary = cluster.node_for_key("f:{z}");
    let replica = cluster.replicas_of(primary.id())[0];
    cluster.failover(replica).unwrap();
    heard_again(&c, &mut messages, "f:{z}", 20).await;
    // The subscription moves to the new primary (sooner than the periodic
    // check: the demoted node ends it)…
    let moved_to = Some(format!("127.0.0.1:{}", replica.port()));
    let deadline = tokio::time::Instant::now() + Duration::from_millis(4500);
    while subscriber.node_of("f:{z}") != moved_to {
        assert!(tokio::time::Instant::now() < deadline, "never moved");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // …and the old primary, a replica now that still hears its shard,
    // passes on nothing more: every message once.
    heard_again(&c, &mut messages, "f:{z}", 20).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn everything_moves_off_a_primary_that_dies() {
    let _serial = ONE_AT_A_TIME.lock().await;
    let cluster = RedisCluster::builder()
        .node_timeout(Duration::from_millis(1000))
        .start()
        .unwrap();
    let c = client(&cluster).await;
    let (subscriber, mut messages) = c.subscriber().await.unwrap();
    subscriber.subscribe("plain").await.unwrap();
    subscriber.psubscribe("pat.*").await.unwrap();
    // The primary the channel and the pattern live on, and a shard channel
    // of its own: it dies with all three.
    let home = cluster
        .primaries()
        .into_iter()
        .find(|n| client_list(n).contains("cmd=psubscribe"))
        .expect("the pattern lives on a primary");
    let shard = (0..)
        .map(|i| format!("k:{{{i}}}"))
        .find(|k| cluster.node_for_key(k).id() == home.id())
        .unwrap();
    subscriber.ssubscribe(shard.as_str()).await.unwrap();
    let replica = cluster.replicas_of(home.id())[0];
    cluster.kill(home);
    cluster.wait_settled().unwrap();
    heard_again(&c, &mut messages, &shard, 10).await;
    assert_eq!(
        subscriber.node_of(&shard),
        Some(format!("127.0.0.1:{}", replica.port()))
    );
    // The channel and the pattern moved to a live primary (as what they
    // are): each PUBLISH is heard once.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    loop {
        c.publish("plain", "hello").await.unwrap();
        c.publish("pat.1", "matched").await.unwrap();
        let seen = drain(&mut messages, Duration::from_millis(300)).await;
        if seen.len() == 2 {
            assert_eq!(seen.get("hello"), Some(&1), "{seen:?}");
            assert_eq!(seen.get("matched"), Some(&1), "{seen:?}");
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "not heard again: {seen:?}"
        );
    }
    assert_eq!(
        subscriber.subscriptions(SubscriptionKind::Channel),
        ["plain"]
    );
    assert_eq!(
        subscriber.subscriptions(SubscriptionKind::Pattern),
        ["pat.*"]
    );
}

/// A node's `CLIENT LIST`.
fn client_list(node: &ClusterNode) -> String {
    match node.command(&["CLIENT", "LIST"]).unwrap() {
        Frame::Bulk(list) => String::from_utf8_lossy(&list).into_owned(),
        other => panic!("{other:?}"),
    }
}
