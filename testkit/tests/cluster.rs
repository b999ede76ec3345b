//! RedisCluster against real redis-server processes: forming 3 primaries with
//! 3 replicas, key slots against CLUSTER KEYSLOT, slot migration with -ASK and
//! -MOVED, failover, a killed node rejoining after restart, and an added node.

use redwire_testkit::{key_slot, Frame, NodeRole, RedisCluster};
use std::time::{Duration, Instant};

fn text(frame: Frame) -> String {
    match frame {
        Frame::Bulk(b) | Frame::Simple(b) | Frame::Verbatim { data: b, .. } => {
            String::from_utf8_lossy(&b).into_owned()
        }
        other => panic!("expected text, got {other:?}"),
    }
}

fn error(frame: Frame) -> String {
    match frame {
        Frame::Error(e) => String::from_utf8_lossy(&e).into_owned(),
        other => panic!("expected an error reply, got {other:?}"),
    }
}

/// A key that `node` serves.
fn key_on(cluster: &RedisCluster, node: &redwire_testkit::ClusterNode) -> String {
    (0..)
        .map(|i| format!("key:{i}"))
        .find(|k| cluster.node_for_key(k).id() == node.id())
        .unwrap()
}

fn assert_cluster_ok(cluster: &RedisCluster) {
    for node in cluster.nodes().iter().filter(|n| n.is_running()) {
        let info = text(node.command(&["CLUSTER", "INFO"]).unwrap());
        assert!(info.contains("cluster_state:ok"), "{}: {info}", node.addr());
        assert!(
            info.contains("cluster_slots_ok:16384"),
            "{}: {info}",
            node.addr()
        );
    }
}

#[test]
fn a_started_cluster_has_three_primaries_with_a_replica_each() {
    let started = Instant::now();
    let cluster = RedisCluster::start().unwrap();
    let took = started.elapsed();
    eprintln!("RedisCluster::start took {took:?}");
    assert!(took < Duration::from_secs(10), "start took {took:?}");

    assert_eq!(cluster.nodes().len(), 6);
    let primaries = cluster.primaries();
    assert_eq!(primaries.len(), 3);
    assert_cluster_ok(&cluster);
    for primary in &primaries {
        assert_eq!(primary.role(), NodeRole::Primary);
        assert_eq!(primary.primary_id(), None);
        let replicas = cluster.replicas_of(primary.id());
        assert_eq!(replicas.len(), 1, "replicas of {}", primary.addr());
        let replica = replicas[0];
        assert_eq!(replica.role(), NodeRole::Replica);
        let info = text(replica.command(&["INFO", "replication"]).unwrap());
        assert!(info.contains("master_link_status:up"), "{info}");
        assert!(
            info.contains(&format!("master_port:{}", primary.port())),
            "{info}"
        );
    }

    // Every node: its own port and dir, its id, its URL.
    for node in cluster.nodes() {
        assert_eq!(node.addr().port(), node.port());
        assert_eq!(node.url(), format!("redis://127.0.0.1:{}", node.port()));
        assert_eq!(text(node.command(&["CLUSTER", "MYID"]).unwrap()), node.id());
        assert!(node
            .dir()
            .join(format!("nodes-{}.conf", node.port()))
            .exists());
        assert!(node.is_running());
    }
    assert_eq!(cluster.seed_urls().len(), 6);
    assert_eq!(cluster.url(), cluster.nodes()[0].url());

    // The slots are split evenly, primary 0 first.
    assert_eq!(cluster.slot_owner(0).id(), primaries[0].id());
    assert_eq!(cluster.slot_owner(5461).id(), primaries[0].id());
    assert_eq!(cluster.slot_owner(5462).id(), primaries[1].id());
    assert_eq!(cluster.slot_owner(16383).id(), primaries[2].id());

    // node_for_key finds the node that serves a key, the others redirect.
    for key in ["a", "b", "user:1", "{tag}x"] {
        let owner = cluster.node_for_key(key);
        assert_eq!(
            owner.command(&["SET", key, "v"]).unwrap(),
            Frame::Simple("OK".into())
        );
        for other in cluster
            .primaries()
            .into_iter()
            .filter(|p| p.id() != owner.id())
        {
            let moved = error(other.command(&["GET", key]).unwrap());
            assert_eq!(
                moved,
                format!(
                    "MOVED {} 127.0.0.1:{}",
                    key_slot(key.as_bytes()),
                    owner.port()
                )
            );
        }
    }
}

#[test]
fn key_slot_matches_cluster_keyslot_and_the_cluster_dies_with_its_handle() {
    let cluster = RedisCluster::builder()
        .primaries(1)
        .replicas(0)
        .start()
        .unwrap();
    let node = &cluster.nodes()[0];
    assert_eq!(cluster.slot_owner(0).id(), node.id());
    assert_eq!(cluster.slot_owner(16383).id(), node.id());
    let keys: [&[u8]; 10] = [
        b"",
        b"foo",
        b"123456789",
        b"{user1000}.following",
        b"{user1000}.followers",
        b"foo{}{bar}",
        b"foo{{bar}}zap",
        b"foo{bar}{zap}",
        b"{",
        b"\xff\x00binary{\x01}",
    ];
    for key in keys {
        let Frame::Integer(expected) = node
            .command(&[b"CLUSTER".as_slice(), b"KEYSLOT", key])
            .unwrap()
        else {
            panic!("CLUSTER KEYSLOT did not answer an integer");
        };
        assert_eq!(i64::from(key_slot(key)), expected, "key {key:?}");
    }

    let pid = node.pid().unwrap();
    let dir = node.dir().to_path_buf();
    drop(cluster);
    assert!(!std::path::Path::new(&format!("/proc/{pid}")).exists());
    assert!(!dir.exists());
}

#[test]
fn a_migrating_slot_answers_ask_and_its_keys_end_up_on_the_target() {
    // With a password: replicas log in with masterauth, MIGRATE with AUTH.
    let cluster = RedisCluster::builder()
        .password("s3cret pw")
        .start()
        .unwrap();
    let first = &cluster.nodes()[0];
    assert_eq!(
        first.url(),
        format!("redis://:s3cret%20pw@127.0.0.1:{}", first.port())
    );
    let slot = key_slot(b"{mig}");
    let source = cluster.slot_owner(slot);
    let target = cluster
        .primaries()
        .into_iter()
        .find(|p| p.id() != source.id())
        .unwrap();
    let keys: Vec<String> = (0..20).map(|i| format!("{{mig}}:{i}")).collect();
    for key in &keys {
        assert_eq!(
            source.command(&["SET", key, key]).unwrap(),
            Frame::Simple("OK".into())
        );
    }

    let migration = cluster.begin_migration(slot, target).unwrap();
    assert_eq!(
        (migration.slot(), migration.source().id()),
        (slot, source.id())
    );
    migration.set_importing_migrating().unwrap();
    assert_eq!(migration.move_keys(5).unwrap(), 5);

    // Moved keys are answered with -ASK by the source; the rest it still serves.
    let mut asked = 0;
    for key in &keys {
        match source.command(&["GET", key]).unwrap() {
            Frame::Bulk(value) => assert_eq!(value, key.as_bytes()),
            Frame::Error(e) => {
                assert_eq!(
                    String::from_utf8_lossy(&e),
                    format!("ASK {slot} 127.0.0.1:{}", target.port())
                );
                asked += 1;
            }
            other => panic!("GET {key} answered {other:?}"),
        }
    }
    assert_eq!(asked, 5);
    // The target wants ASKING first: without it, a plain GET is sent back.
    let moved = error(target.command(&["GET", &keys[0]]).unwrap());
    assert_eq!(moved, format!("MOVED {slot} 127.0.0.1:{}", source.port()));

    assert_eq!(migration.move_keys(10).unwrap(), 10);
    migration.finish().unwrap();

    assert_eq!(cluster.slot_owner(slot).id(), target.id());
    assert_cluster_ok(&cluster);
    for key in &keys {
        assert_eq!(text(target.command(&["GET", key]).unwrap()), *key);
        assert_eq!(
            error(source.command(&["GET", key]).unwrap()),
            format!("MOVED {slot} 127.0.0.1:{}", target.port())
        );
    }

    // And back in one go.
    cluster.migrate_slot(slot, source).unwrap();
    assert_eq!(cluster.slot_owner(slot).id(), source.id());
    for key in &keys {
        assert_eq!(text(source.command(&["GET", key]).unwrap()), *key);
    }
    let err = cluster.begin_migration(slot, source).unwrap_err();
    assert!(err.to_string().contains("already served"), "{err}");
}

#[test]
fn failover_makes_the_replica_primary() {
    let cluster = RedisCluster::start().unwrap();
    let old = cluster.primaries()[1];
    let replica = cluster.replicas_of(old.id())[0];
    let key = key_on(&cluster, old);
    old.command(&["SET", &key, "kept"]).unwrap();
    let slot = key_slot(key.as_bytes());
    assert_eq!(cluster.slot_owner(slot).id(), old.id());

    cluster.failover(replica).unwrap();

    assert_eq!(replica.role(), NodeRole::Primary);
    assert_eq!(old.role(), NodeRole::Replica);
    assert_eq!(old.primary_id().as_deref(), Some(replica.id()));
    assert_eq!(cluster.replicas_of(replica.id())[0].id(), old.id());
    assert_eq!(cluster.slot_owner(slot).id(), replica.id());
    let Frame::Array(role) = replica.command(&["ROLE"]).unwrap() else {
        panic!("ROLE did not answer an array");
    };
    assert_eq!(text(role[0].clone()), "master");
    assert_cluster_ok(&cluster);
    // The data came along; the old primary now redirects.
    assert_eq!(text(replica.command(&["GET", &key]).unwrap()), "kept");
    assert_eq!(
        error(old.command(&["GET", &key]).unwrap()),
        format!("MOVED {slot} 127.0.0.1:{}", replica.port())
    );

    let err = cluster.failover(replica).unwrap_err();
    assert!(err.to_string().contains("already a primary"), "{err}");
}

#[test]
fn a_killed_node_rejoins_after_a_restart() {
    let cluster = RedisCluster::start().unwrap();
    let primary = cluster.primaries()[0];
    let replica = cluster.replicas_of(primary.id())[0];
    let (port, id) = (replica.port(), replica.id().to_string());

    cluster.kill(replica);
    assert!(!replica.is_running());
    assert!(replica.command(&["PING"]).is_err());
    cluster.restart(replica).unwrap();
    assert!(replica.is_running());
    assert_eq!((replica.port(), replica.id()), (port, id.as_str()));
    assert_eq!(replica.primary_id().as_deref(), Some(primary.id()));
    let info = text(replica.command(&["INFO", "replication"]).unwrap());
    assert!(info.contains("master_link_status:up"), "{info}");

    // A primary back before anyone noticed is still the primary, now empty.
    let key = key_on(&cluster, primary);
    primary.command(&["SET", &key, "lost"]).unwrap();
    cluster.kill(primary);
    cluster.restart(primary).unwrap();
    assert!(primary.is_primary());
    assert_eq!(cluster.slot_owner(0).id(), primary.id());
    assert_eq!(primary.command(&["GET", &key]).unwrap(), Frame::Null);
    assert_cluster_ok(&cluster);
}

#[test]
fn a_killed_primary_is_replaced_by_its_replica_and_rejoins_as_a_replica() {
    let cluster = RedisCluster::builder()
        .node_timeout(Duration::from_millis(1000))
        .start()
        .unwrap();
    let old = cluster.primaries()[2];
    let replica = cluster.replicas_of(old.id())[0];

    cluster.kill(old);
    cluster.wait_settled().unwrap();
    assert!(replica.is_primary());
    assert_eq!(cluster.slot_owner(16383).id(), replica.id());
    assert_cluster_ok(&cluster);

    cluster.restart(old).unwrap();
    assert_eq!(old.role(), NodeRole::Replica);
    assert_eq!(old.primary_id().as_deref(), Some(replica.id()));
    let info = text(old.command(&["INFO", "replication"]).unwrap());
    assert!(
        info.contains(&format!("master_port:{}", replica.port())),
        "{info}"
    );
    assert!(info.contains("master_link_status:up"), "{info}");
}

#[test]
fn an_added_node_joins_as_an_empty_primary_and_can_take_a_slot() {
    let mut cluster = RedisCluster::builder().replicas(0).start().unwrap();
    let id = cluster.add_node().unwrap().id().to_string();
    assert_eq!(cluster.nodes().len(), 4);
    let new = cluster.node(&id).unwrap();
    assert!(new.is_primary());
    for node in cluster.nodes() {
        let nodes = text(node.command(&["CLUSTER", "NODES"]).unwrap());
        assert!(
            nodes.contains(&id),
            "{} does not know {id}: {nodes}",
            node.addr()
        );
    }
    assert_cluster_ok(&cluster);

    cluster.migrate_slot(100, new).unwrap();
    assert_eq!(cluster.slot_owner(100).id(), id);
    let key = (0..)
        .map(|i| format!("k{i}"))
        .find(|k| key_slot(k.as_bytes()) == 100)
        .unwrap();
    assert_eq!(cluster.node_for_key(&key).id(), id);
    assert_eq!(
        new.command(&["SET", &key, "here"]).unwrap(),
        Frame::Simple("OK".into())
    );
}
