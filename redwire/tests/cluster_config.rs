//! The cluster client configured, watched and explained like the single
//! one, against a real password-protected Redis Cluster: one configuration
//! from a seed URL for every node (client name, timeouts), the cluster's own
//! knobs (redirect limit, refresh interval), its state and events, a Debug
//! that shows the map's shape but no password, and errors of their own kind.

mod support;

use redwire::cluster::{ClusterClient, ClusterConfig, ClusterEvent, NodeRole};
use redwire::prelude::*;
use redwire::ClusterReason;
use redwire_testkit::{Frame, RedisCluster};
use std::time::Duration;
use support::{other_primary, wait_event};

/// `redis://:pw@h1,h2,h3` for the cluster's primaries, with `options`.
fn seed_url(cluster: &RedisCluster, options: &str) -> String {
    let hosts: Vec<String> = cluster
        .primaries()
        .iter()
        .map(|n| format!("127.0.0.1:{}", n.port()))
        .collect();
    format!("redis://:s3cret@{}?{options}", hosts.join(","))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_configuration_reaches_every_node_and_the_cluster_knobs_apply() {
    let cluster = RedisCluster::builder().password("s3cret").start().unwrap();
    let url = seed_url(
        &cluster,
        "client_name=cfg-test&connect_timeout=2&command_timeout=3s&backoff_max=200ms",
    );
    let c = ClusterClient::connect_url(&url).await.unwrap();
    assert_eq!(
        c.config().node().command_timeout(),
        Some(Duration::from_secs(3))
    );

    // The shape of the map: three primaries serving every slot between
    // them, each with its replica; no password anywhere in the Debug. The
    // map comes from the first node that gives every slot an owner; right
    // after the cluster formed, that node may not list a replica yet
    // (seen on Valkey 8.0 under load), so the test waits for the periodic
    // refresh of a client that has one (every 200 ms) to bring all three
    // in. (`c` has none, so its MOVED below is not learnt by a refresh.)
    let watching = ClusterClient::connect_url(&format!("{url}&refresh_interval=200ms"))
        .await
        .unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    let state = loop {
        let state = watching.state();
        let known = state
            .nodes
            .iter()
            .filter(|n| n.role == NodeRole::Replica)
            .count();
        if known == 3 || std::time::Instant::now() > deadline {
            break state;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(state.slots_served, redwire::cluster::SLOTS as usize);
    let primaries: Vec<_> = state
        .nodes
        .iter()
        .filter(|n| n.role == NodeRole::Primary)
        .collect();
    assert_eq!(primaries.len(), 3);
    let covered: usize = primaries
        .iter()
        .flat_map(|n| &n.slots)
        .map(|(a, b)| usize::from(b - a) + 1)
        .sum();
    assert_eq!(covered, redwire::cluster::SLOTS as usize);
    let replicas: Vec<_> = state
        .nodes
        .iter()
        .filter(|n| n.role == NodeRole::Replica)
        .collect();
    assert_eq!(replicas.len(), 3);
    for r in &replicas {
        assert!(r.slots.is_empty());
        assert!(primaries
            .iter()
            .any(|p| Some(&p.addr) == r.replica_of.as_ref()));
    }
    let shown = format!("{c:?}");
    assert!(shown.contains("slots: [0-"), "{shown}");
    for p in &primaries {
        assert!(shown.contains(&p.addr), "{shown}");
    }
    assert!(!shown.contains("s3cret"), "{shown}");

    // Every node is reached with the one configuration: the name of every
    // connection of the client is the URL's.
    let mut events = c.events();
    let keys: Vec<String> = (0..64).map(|i| format!("cfg:{i}")).collect();
    for k in &keys {
        c.set(k.as_str(), 1).await.unwrap();
    }
    for node in cluster.primaries() {
        let Frame::Bulk(list) = node.command(&["CLIENT", "LIST"]).unwrap() else {
            panic!("CLIENT LIST")
        };
        let list = String::from_utf8_lossy(&list).into_owned();
        assert!(
            list.contains(" name=cfg-test "),
            "no connection named cfg-test on {}: {list}",
            node.port()
        );
    }
    // A node's connection is in the state once made.
    assert!(c
        .state()
        .nodes
        .iter()
        .filter(|n| n.role == NodeRole::Primary)
        .all(|n| n.connection == Some(redwire::ConnectionState::Connected)));

    // A MOVED is followed and announced.
    let slot = redwire::cluster::key_slot(keys[0].as_bytes());
    let to = other_primary(&cluster, slot);
    cluster.migrate_slot(slot, to).unwrap();
    assert_eq!(c.get::<i64>(keys[0].as_str()).await.unwrap(), 1);
    let moved = wait_event(&mut events, Duration::from_secs(5), |e| match e {
        ClusterEvent::SlotMoved { slot: s, to } if *s == slot => Some(to.clone()),
        _ => None,
    })
    .await;
    assert_eq!(moved, format!("127.0.0.1:{}", to.port()));
    wait_event(&mut events, Duration::from_secs(5), |e| {
        matches!(e, ClusterEvent::Refreshed { changed: true, .. }).then_some(())
    })
    .await;

    // No redirection allowed: a moved slot is an error of the cluster's
    // own kind, not a protocol error.
    let strict =
        ClusterClient::connect_url(&seed_url(&cluster, "max_redirects=0&refresh_interval=none"))
            .await
            .unwrap();
    let slot = redwire::cluster::key_slot(keys[1].as_bytes());
    cluster
        .migrate_slot(slot, other_primary(&cluster, slot))
        .unwrap();
    let err = strict.get::<i64>(keys[1].as_str()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Cluster, "{err}");
    assert_eq!(err.cluster_reason(), Some(ClusterReason::TooManyRedirects));
    assert!(!err.may_have_executed());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_map_is_read_again_at_the_configured_interval_without_any_request() {
    let cluster = RedisCluster::builder().password("s3cret").start().unwrap();
    let c = ClusterClient::connect(
        ClusterConfig::from_url(&seed_url(&cluster, "refresh_interval=200ms")).unwrap(),
    )
    .await
    .unwrap();
    // Reading the map again goes through the nodes' own connections: a
    // second of refreshes (about five) opens none.
    let received = || -> u64 {
        cluster
            .nodes()
            .iter()
            .map(|n| {
                let Frame::Bulk(info) = n.command(&["INFO", "stats"]).unwrap() else {
                    panic!("INFO")
                };
                String::from_utf8_lossy(&info)
                    .lines()
                    .find_map(|l| l.strip_prefix("total_connections_received:"))
                    .unwrap()
                    .trim()
                    .parse::<u64>()
                    .unwrap()
            })
            .sum()
    };
    let mut events = c.events();
    let before = received();
    let mut refreshes = 0;
    while refreshes < 5 {
        wait_event(&mut events, Duration::from_secs(5), |e| {
            matches!(e, ClusterEvent::Refreshed { .. }).then_some(())
        })
        .await;
        refreshes += 1;
    }
    let opened = received() - before;
    // The kit's own INFO connections, one per node, and at most two more
    // of the cluster's own (a replica's link made again on a busy machine):
    // a connection per refresh would be five more.
    let kit = cluster.nodes().len() as u64;
    assert!(
        opened <= kit + 2,
        "five refreshes opened {} connections",
        opened.saturating_sub(kit)
    );
    let slot = redwire::cluster::key_slot(b"quiet");
    let to = other_primary(&cluster, slot);
    cluster.migrate_slot(slot, to).unwrap();
    // Nothing was sent: only the periodic refresh can have seen the move.
    wait_event(&mut events, Duration::from_secs(5), |e| {
        matches!(e, ClusterEvent::Refreshed { changed: true, .. }).then_some(())
    })
    .await;
    let owner = format!("127.0.0.1:{}", to.port());
    let state = c.state();
    let node = state.nodes.iter().find(|n| n.addr == owner).unwrap();
    assert!(
        node.slots.iter().any(|(a, b)| (*a..=*b).contains(&slot)),
        "{state:?}"
    );
}

#[tokio::test]
async fn node_connections_report_their_events_through_the_cluster() {
    let cluster = RedisCluster::builder().password("s3cret").start().unwrap();
    // Seeds a single primary: the others are connected on first use.
    let seed = format!(
        "redis://:s3cret@127.0.0.1:{}",
        cluster.primaries()[0].port()
    );
    let c = ClusterClient::connect(Config::from_url(&seed).unwrap())
        .await
        .unwrap();
    let mut events = c.events();
    let far = cluster.primaries()[1];
    let far_addr = format!("127.0.0.1:{}", far.port());
    // A key that lives on `far`.
    let key = (0..)
        .map(|i| format!("far:{i}"))
        .find(|k| cluster.node_for_key(k).id() == far.id())
        .unwrap();
    c.set(key.as_str(), 1).await.unwrap();
    let addr = wait_event(&mut events, Duration::from_secs(5), |e| match e {
        ClusterEvent::Node {
            addr,
            event: redwire::Event::Connected { .. },
        } => Some(addr.clone()),
        _ => None,
    })
    .await;
    assert_eq!(addr, far_addr);
    // A URL option no connection knows is refused, naming it.
    let err = ClusterClient::connect_url(&format!("{seed}?conect_timeout=1"))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Config);
    assert!(err.message().contains("conect_timeout"), "{err}");
    // Seeds that disagree on anything but their address are refused.
    let other = Config::from_url(&format!(
        "redis://:other@127.0.0.1:{}",
        cluster.primaries()[1].port()
    ))
    .unwrap();
    let err = ClusterConfig::from_seeds(vec![Config::from_url(&seed).unwrap(), other]).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Config);
    assert!(!err.message().contains("other"), "a password shows: {err}");
}
