//! RedisSentinel against the real redis-server: the set-up forms, the Sentinels
//! agree on the primary, writes replicate, and both a forced failover and a
//! killed primary move the primary role to the replica.

mod support;

use redwire_testkit::{Frame, RedisSentinel};
use std::time::{Duration, Instant};
use support::{bulk, simple, Client};

/// Every Sentinel's answer to GET-MASTER-ADDR-BY-NAME, asked over a raw client.
fn reported_primaries(set_up: &RedisSentinel) -> Vec<Frame> {
    set_up
        .sentinel_addrs()
        .into_iter()
        .map(|addr| {
            Client::connect(addr).call(&["SENTINEL", "GET-MASTER-ADDR-BY-NAME", "mymaster"])
        })
        .collect()
}

fn addr_frame(port: u16) -> Frame {
    Frame::Array(vec![bulk("127.0.0.1"), bulk(&port.to_string())])
}

fn role(node: &redwire_testkit::RedisServer) -> String {
    let Frame::Array(parts) = node.command(&["ROLE"]).unwrap() else {
        panic!("ROLE must answer an array");
    };
    match &parts[0] {
        Frame::Bulk(b) => String::from_utf8_lossy(b).into_owned(),
        other => panic!("ROLE's first element: {other:?}"),
    }
}

#[test]
fn the_set_up_starts_and_every_sentinel_agrees_on_the_primary() {
    let started = Instant::now();
    let set_up = RedisSentinel::start().unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "start took {:?}",
        started.elapsed()
    );
    assert_eq!(set_up.master_name(), "mymaster");

    let addrs = set_up.sentinel_addrs();
    assert_eq!(addrs.len(), 3);
    let urls = set_up.sentinel_urls();
    for (addr, url) in addrs.iter().zip(&urls) {
        assert_eq!(url, &format!("redis://127.0.0.1:{}", addr.port()));
    }
    let mut ports: Vec<u16> = addrs.iter().map(|a| a.port()).collect();
    ports.extend([set_up.primary().port(), set_up.replica().port()]);
    ports.sort_unstable();
    ports.dedup();
    assert_eq!(ports.len(), 5, "every process has its own port");

    let primary = set_up.primary();
    assert_eq!(
        reported_primaries(&set_up),
        vec![addr_frame(primary.port()); 3]
    );
    assert_eq!(set_up.current_primary_addr().unwrap(), primary.addr());
    assert_eq!(role(primary), "master");
    assert_eq!(role(set_up.replica()), "slave");

    // Each Sentinel knows the replica and the two others.
    for i in 0..3 {
        let Frame::Array(replicas) = set_up
            .sentinel_command(i, &["SENTINEL", "REPLICAS", "mymaster"])
            .unwrap()
        else {
            panic!("SENTINEL REPLICAS must answer an array");
        };
        assert_eq!(replicas.len(), 1, "Sentinel {i}: {replicas:?}");
        let Frame::Array(sentinels) = set_up
            .sentinel_command(i, &["SENTINEL", "SENTINELS", "mymaster"])
            .unwrap()
        else {
            panic!("SENTINEL SENTINELS must answer an array");
        };
        assert_eq!(sentinels.len(), 2, "Sentinel {i}: {sentinels:?}");
    }
}

#[test]
fn a_write_to_the_primary_is_readable_on_the_replica() {
    let set_up = RedisSentinel::start().unwrap();
    let mut client = Client::connect(set_up.primary().addr());
    assert_eq!(client.call(&["SET", "greeting", "hello"]), simple("OK"));
    assert_eq!(client.call(&["WAIT", "1", "2000"]), Frame::Integer(1));
    assert_eq!(
        set_up.replica().command(&["GET", "greeting"]).unwrap(),
        bulk("hello")
    );
    let Frame::Error(e) = set_up.replica().command(&["SET", "x", "y"]).unwrap() else {
        panic!("a replica must refuse writes");
    };
    assert!(e.starts_with(b"READONLY"), "{e:?}");
}

#[test]
fn a_failover_swaps_the_roles_and_the_sentinels_report_it() {
    let set_up = RedisSentinel::start().unwrap();
    let old_primary = set_up.primary().addr();
    let old_replica = set_up.replica().addr();
    set_up
        .primary()
        .command(&["SET", "before", "failover"])
        .unwrap();

    let new_primary = set_up.failover().unwrap();
    assert_eq!(new_primary, old_replica);
    assert_eq!(set_up.primary().addr(), old_replica);
    assert_eq!(set_up.replica().addr(), old_primary);
    assert_eq!(
        reported_primaries(&set_up),
        vec![addr_frame(new_primary.port()); 3]
    );
    assert_eq!(set_up.current_primary_addr().unwrap(), new_primary);
    assert_eq!(role(set_up.primary()), "master");
    assert_eq!(role(set_up.replica()), "slave");

    // The data came along, and the old primary now replicates from the new one.
    assert_eq!(
        set_up.primary().command(&["GET", "before"]).unwrap(),
        bulk("failover")
    );
    set_up
        .primary()
        .command(&["SET", "after", "failover"])
        .unwrap();
    set_up.primary().command(&["WAIT", "1", "2000"]).unwrap();
    assert_eq!(
        set_up.replica().command(&["GET", "after"]).unwrap(),
        bulk("failover")
    );

    // And back again, right away.
    assert_eq!(set_up.failover().unwrap(), old_primary);
    assert_eq!(set_up.primary().addr(), old_primary);
    assert_eq!(
        reported_primaries(&set_up),
        vec![addr_frame(old_primary.port()); 3]
    );
    assert_eq!(role(set_up.primary()), "master");
    assert_eq!(role(set_up.replica()), "slave");
    assert_eq!(
        set_up.primary().command(&["GET", "after"]).unwrap(),
        bulk("failover")
    );
}

#[test]
fn killing_the_primary_promotes_the_replica() {
    let set_up = RedisSentinel::start().unwrap();
    let old_primary = set_up.primary().addr();
    let old_replica = set_up.replica().addr();
    set_up.primary().command(&["SET", "kept", "yes"]).unwrap();
    set_up.primary().command(&["WAIT", "1", "2000"]).unwrap();

    let started = Instant::now();
    let new_primary = set_up.kill_primary().unwrap();
    eprintln!(
        "the Sentinels promoted the replica in {:?}",
        started.elapsed()
    );
    assert_eq!(new_primary, old_replica);
    assert!(!set_up.replica().is_running());
    assert_eq!(set_up.replica().addr(), old_primary);
    assert_eq!(
        reported_primaries(&set_up),
        vec![addr_frame(new_primary.port()); 3]
    );
    let mut client = Client::connect(new_primary);
    assert_eq!(client.call(&["GET", "kept"]), bulk("yes"));
    assert_eq!(client.call(&["SET", "written", "after"]), simple("OK"));

    // The old primary comes back, empty, as the new primary's replica.
    set_up.restart_replica().unwrap();
    assert_eq!(role(set_up.replica()), "slave");
    client.call(&["WAIT", "1", "2000"]);
    assert_eq!(
        set_up.replica().command(&["GET", "written"]).unwrap(),
        bulk("after")
    );
}
