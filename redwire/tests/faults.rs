//! Faults through the testkit proxy and fake server: traffic cut into single
//! bytes, a server killed and restarted under load, a black hole, replies nobody
//! asked for, malformed frames, and RESP3 pushes between replies.

mod support;

use redwire::{cmd, Backoff, Client, ErrorKind, Event, Value};
use redwire_testkit::{Action, FakeServer, FaultProxy, Frame, RedisServer, Request};
use std::sync::Arc;
use std::time::{Duration, Instant};
use support::{config, wait_event};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_byte_pieces_still_round_trip() {
    let server = RedisServer::start().unwrap();
    let proxy = FaultProxy::start(server.addr()).unwrap();
    proxy.set_chunk_size(Some(1));
    let cfg = config(&proxy.url())
        .into_builder()
        .response_timeout(Some(Duration::from_secs(300)))
        .build();
    let client = Client::connect(cfg).await.unwrap();
    let mut tasks = Vec::new();
    for i in 0..8 {
        let c = client.clone();
        tasks.push(tokio::spawn(async move {
            for j in 0..10 {
                let key = format!("key:{i}:{j}");
                c.send(&cmd("SET").arg(&key).arg(&key)).await.unwrap();
                let v: String = c.query(&cmd("GET").arg(&key)).await.unwrap();
                assert_eq!(v, key);
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    // A 1 MiB reply with every byte written on its own, then an 8 MiB one in
    // 61-byte pieces (one byte per write for 8 MiB takes over a minute here).
    // Stored directly: the upload direction would only test the server's parser.
    proxy.set_chunk_pause(false);
    for (size, piece) in [(1024 * 1024, 1), (8 * 1024 * 1024, 61)] {
        proxy.set_chunk_size(Some(piece));
        let big: Vec<u8> = (0..size).map(|i: u32| (i % 251) as u8).collect();
        server.command(&[&b"SET"[..], b"big", &big]).unwrap();
        let back: bytes::Bytes = client.query(&cmd("GET").arg("big")).await.unwrap();
        assert!(
            back == big,
            "{size}-byte value differs after the round trip"
        );
        // And back up through the proxy, in 61-byte pieces.
        proxy.set_chunk_size(Some(61));
        client
            .send(&cmd("SET").arg("big2").arg(&back))
            .await
            .unwrap();
        assert_eq!(
            server.command(&[&b"GET"[..], b"big2"]).unwrap(),
            Frame::Bulk(back)
        );
    }
    assert_eq!(proxy.connections_total(), 1);
}

/// Counters that are INCRed under load while the connection is reset: no INCR
/// that was written may be sent again, so the count on the server is at most
/// the successes plus the requests reported as "may have executed".
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn written_requests_are_never_replayed() {
    let server = RedisServer::start().unwrap();
    let proxy = Arc::new(FaultProxy::start(server.addr()).unwrap());
    let client = Client::connect(config(&proxy.url())).await.unwrap();
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut tasks = Vec::new();
    for i in 0..64 {
        let (c, stop) = (client.clone(), stop.clone());
        tasks.push(tokio::spawn(async move {
            let (mut ok, mut maybe) = (0u64, 0u64);
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let r = c
                    .send_timeout(
                        &cmd("INCR").arg(format!("c{i}")),
                        Some(Duration::from_secs(5)),
                    )
                    .await;
                match r {
                    Ok(_) => ok += 1,
                    Err(e) if e.kind() == ErrorKind::ConnectionLost => {
                        assert!(e.may_have_executed(), "only written requests fail: {e}");
                        maybe += 1;
                    }
                    Err(e) => panic!("unexpected error: {e}"),
                }
            }
            (i, ok, maybe)
        }));
    }
    let mut events = client.events();
    for _ in 0..5 {
        tokio::time::sleep(Duration::from_millis(60)).await;
        proxy.reset_all();
        wait_event(&mut events, Duration::from_secs(5), |e| {
            matches!(e, Event::Connected { .. }).then_some(())
        })
        .await;
    }
    tokio::time::sleep(Duration::from_millis(60)).await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let (mut lost_total, mut ok_total) = (0, 0);
    for t in tasks {
        let (i, ok, maybe) = t.await.unwrap();
        let on_server = match server.command(&["GET", &format!("c{i}")]).unwrap() {
            Frame::Bulk(b) => std::str::from_utf8(&b).unwrap().parse::<u64>().unwrap(),
            Frame::Null => 0,
            other => panic!("{other:?}"),
        };
        assert!(
            on_server >= ok,
            "task {i}: {on_server} on the server < {ok} successes"
        );
        assert!(
            on_server <= ok + maybe,
            "task {i}: {on_server} executions > {ok} successes + {maybe} maybe-executed: a request was replayed"
        );
        lost_total += maybe;
        ok_total += ok;
    }
    assert!(
        lost_total > 0,
        "the resets hit no request in flight; the test proved nothing"
    );
    assert!(ok_total > 1000);
}

/// The server is killed under load and comes back: written requests fail as
/// connection-lost, the others are sent after the reconnect, backoff delays grow
/// exponentially with jitter up to the max, nobody waits past the deadline.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_killed_and_restarted_under_load() {
    let server = Arc::new(RedisServer::start().unwrap());
    let backoff = Backoff {
        initial: Duration::from_millis(10),
        max: Duration::from_millis(80),
        jitter: 0.5,
        max_attempts: None,
    };
    let cfg = config(&server.url())
        .into_builder()
        .backoff(backoff)
        .build();
    let client = Client::connect(cfg).await.unwrap();
    let mut events = client.events();
    let deadline = Duration::from_secs(3);
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut tasks = Vec::new();
    for i in 0..64 {
        let (c, stop) = (client.clone(), stop.clone());
        tasks.push(tokio::spawn(async move {
            let (mut ok, mut lost, mut timeouts) = (0u32, 0u32, 0u32);
            let mut slowest = Duration::ZERO;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let started = Instant::now();
                let r = c
                    .send_timeout(&cmd("SET").arg(format!("k{i}")).arg(i), Some(deadline))
                    .await;
                slowest = slowest.max(started.elapsed());
                match r {
                    Ok(v) => {
                        assert!(v.is_ok());
                        ok += 1
                    }
                    Err(e) if e.kind() == ErrorKind::ConnectionLost => {
                        assert!(e.may_have_executed(), "{e}");
                        lost += 1
                    }
                    Err(e) if e.kind() == ErrorKind::Timeout => timeouts += 1,
                    Err(e) => panic!("unexpected error: {e}"),
                }
            }
            (ok, lost, timeouts, slowest)
        }));
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    // A command the server is still busy with when it dies: certainly in flight.
    let sleeper = {
        let c = client.clone();
        tokio::spawn(async move { c.send(&cmd("DEBUG").arg("SLEEP").arg(1)).await })
    };
    tokio::time::sleep(Duration::from_millis(50)).await;
    server.stop();
    let err = sleeper.await.unwrap().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ConnectionLost, "{err}");
    assert!(err.may_have_executed());
    tokio::time::sleep(Duration::from_millis(700)).await;
    let mut delays = Vec::new();
    while let Ok(event) = events.try_recv() {
        if let Event::Reconnecting { attempt, delay, .. } = event {
            delays.push((attempt, delay));
        }
    }
    server.restart().unwrap();
    wait_event(&mut events, Duration::from_secs(5), |e| {
        matches!(e, Event::Connected { .. }).then_some(())
    })
    .await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);

    let (mut ok, mut lost, mut timeouts) = (0, 0, 0);
    for t in tasks {
        let (o, l, to, slowest) = t.await.unwrap();
        assert!(
            slowest < deadline + Duration::from_millis(500),
            "a caller waited {slowest:?}"
        );
        ok += o;
        lost += l;
        timeouts += to;
    }
    assert!(lost > 0, "no written request was caught by the kill");
    assert_eq!(
        timeouts, 0,
        "the requests queued during the outage were sent after it"
    );
    assert!(ok > 100);
    // Everything works again, on the new server.
    for i in 0..64 {
        let v: i64 = client
            .query(&cmd("GET").arg(format!("k{i}")))
            .await
            .unwrap();
        assert_eq!(v, i);
    }

    // Backoff: attempt n waits initial * 2^(n-1), capped, minus up to half of it.
    assert!(
        delays.len() >= 5,
        "only {} reconnect attempts: {delays:?}",
        delays.len()
    );
    for (n, (attempt, delay)) in delays.iter().enumerate() {
        assert_eq!(*attempt as usize, n + 1);
        let base = (backoff.initial * 2u32.pow(n.min(20) as u32)).min(backoff.max);
        assert!(
            *delay <= base && *delay >= base / 2,
            "attempt {attempt}: {delay:?} vs {base:?}"
        );
    }
    assert!(
        delays.iter().any(|(_, d)| *d > backoff.max / 4 * 2),
        "delays reach the max: {delays:?}"
    );
    let distinct: std::collections::HashSet<_> = delays.iter().map(|(_, d)| *d).collect();
    assert!(
        distinct.len() > delays.len() / 2,
        "delays are jittered: {delays:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn black_hole_is_detected_and_traffic_recovers() {
    let server = RedisServer::start().unwrap();
    let proxy = FaultProxy::start(server.addr()).unwrap();
    let cfg = config(&proxy.url())
        .into_builder()
        .response_timeout(Some(Duration::from_millis(400)))
        .connect_timeout(Duration::from_millis(300))
        .build();
    let client = Client::connect(cfg).await.unwrap();
    client.send(&cmd("SET").arg("k").arg("v")).await.unwrap();
    let mut events = client.events();

    proxy.black_hole();
    let started = Instant::now();
    let err = client
        .send_timeout(&cmd("GET").arg("k"), Some(Duration::from_millis(200)))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout);
    assert!(started.elapsed() < Duration::from_secs(1));
    let reason = wait_event(&mut events, Duration::from_secs(5), |e| match e {
        Event::Disconnected { reason } => Some(reason.clone()),
        _ => None,
    })
    .await;
    assert_eq!(reason.kind(), ErrorKind::Timeout);
    assert!(reason.message().contains("did not answer"), "{reason}");

    proxy.resume();
    let v: String = client
        .send_timeout(&cmd("GET").arg("k"), Some(Duration::from_secs(5)))
        .await
        .and_then(redwire::FromValue::from_value)
        .unwrap();
    assert_eq!(v, "v");
    assert!(
        proxy.connections_total() >= 2,
        "the connection was replaced"
    );
}

fn fake_rules(req: &Request) -> Vec<Action> {
    match req.name.as_str() {
        // Two replies to one command: the second one nobody asked for.
        "BOOM" => vec![Action::send("+first\r\n"), Action::send("+second\r\n")],
        // A frame no RESP parser may accept.
        "BAD" => vec![Action::send("$abc\r\n")],
        "SLOW" => vec![
            Action::Sleep(Duration::from_millis(100)),
            Action::send("+slow\r\n"),
        ],
        "GET" => vec![
            // Push frames between replies, one of them annotated: they answer nobody.
            Action::send(">2\r\n$7\r\nmessage\r\n$2\r\nhi\r\n"),
            Action::send("|1\r\n+ttl\r\n:5\r\n>1\r\n$4\r\nnote\r\n"),
            Action::Frame(Frame::Bulk(req.args[0].clone())),
        ],
        _ => vec![Action::ok()],
    }
}

#[tokio::test]
async fn a_reply_nobody_asked_for_replaces_the_connection() {
    let fake = FakeServer::resp3(fake_rules).unwrap();
    let client = Client::connect(config(&fake.url())).await.unwrap();
    let bystander = Client::connect(config(&fake.url())).await.unwrap();
    let mut events = client.events();
    let first = client.send(&cmd("BOOM")).await.unwrap();
    assert_eq!(first, Value::Simple("first".into()));
    let reason = wait_event(&mut events, Duration::from_secs(5), |e| match e {
        Event::Disconnected { reason } => Some(reason.clone()),
        _ => None,
    })
    .await;
    assert_eq!(reason.kind(), ErrorKind::Protocol);
    assert!(
        reason.message().contains("no request was waiting"),
        "{reason}"
    );
    // A new connection serves the client; the other client never noticed.
    let v: String = client.query(&cmd("GET").arg("after")).await.unwrap();
    assert_eq!(v, "after");
    let v: String = bystander.query(&cmd("GET").arg("still")).await.unwrap();
    assert_eq!(v, "still");
    assert_eq!(fake.connections_total(), 3);
}

#[tokio::test]
async fn a_malformed_frame_fails_everything_in_flight() {
    let fake = FakeServer::resp3(fake_rules).unwrap();
    let client = Client::connect(config(&fake.url())).await.unwrap();
    let bystander = Client::connect(config(&fake.url())).await.unwrap();
    // SLOW is in flight when BAD's reply poisons the stream.
    let slow = {
        let c = client.clone();
        tokio::spawn(async move { c.send(&cmd("SLOW")).await })
    };
    tokio::time::sleep(Duration::from_millis(20)).await;
    let bad_cmd = cmd("BAD");
    let (bad, slow_after) = tokio::join!(client.send(&bad_cmd), async {
        tokio::time::sleep(Duration::from_millis(5)).await;
        client.send(&cmd("SLOW")).await
    });
    // The first SLOW was answered before BAD's reply broke the stream.
    assert_eq!(slow.await.unwrap().unwrap(), Value::Simple("slow".into()));
    // The kind names the cause, and both were sent, so both may have run.
    let bad = bad.unwrap_err();
    assert_eq!(bad.kind(), ErrorKind::Protocol, "{bad}");
    assert!(bad.may_have_executed());
    let cause = std::error::Error::source(&bad).unwrap().to_string();
    assert!(cause.contains("malformed reply"), "{cause}");
    let second = slow_after.unwrap_err();
    assert_eq!(second.kind(), ErrorKind::Protocol, "{second}");
    assert!(second.may_have_executed());
    // Recovered on a new connection; the other client is unaffected.
    let v: String = client.query(&cmd("GET").arg("x")).await.unwrap();
    assert_eq!(v, "x");
    let v: String = bystander.query(&cmd("GET").arg("y")).await.unwrap();
    assert_eq!(v, "y");
}

#[tokio::test]
async fn push_frames_never_complete_a_waiter() {
    let fake = FakeServer::resp3(fake_rules).unwrap();
    let client = Client::connect(config(&fake.url())).await.unwrap();
    let mut tasks = Vec::new();
    for i in 0..50 {
        let c = client.clone();
        tasks.push(tokio::spawn(async move {
            let key = format!("key{i}");
            let v: String = c.query(&cmd("GET").arg(&key)).await.unwrap();
            assert_eq!(v, key, "a push frame answered a request");
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    // Pushes with nothing in flight are not protocol violations either.
    fake.send_all(">2\r\n$7\r\nmessage\r\n$2\r\nhi\r\n");
    tokio::time::sleep(Duration::from_millis(50)).await;
    let v: String = client.query(&cmd("GET").arg("z")).await.unwrap();
    assert_eq!(v, "z");
    assert_eq!(fake.connections_total(), 1);
}

/// A server that accepts, completes the handshake, then breaks the protocol every
/// time: reconnects back off instead of spinning.
#[tokio::test]
async fn a_connection_that_dies_at_once_backs_off() {
    let base = redwire_testkit::resp3_handshake(|_| vec![Action::ok()]);
    let fake = FakeServer::start(move |req: &Request| {
        let mut answer = base(req);
        if req.is("CLIENT") && req.arg_str(1) == Some("LIB-VER") {
            answer.push(Action::send("+nobody asked\r\n"));
        }
        answer
    })
    .unwrap();
    let client = Client::new(config(&fake.url()));
    let mut events = client.events();
    let mut delays = Vec::new();
    while delays.len() < 5 {
        let (attempt, delay) = wait_event(&mut events, Duration::from_secs(5), |e| match e {
            Event::Reconnecting { attempt, delay, .. } => Some((*attempt, *delay)),
            _ => None,
        })
        .await;
        delays.push((attempt, delay));
    }
    let attempts: Vec<u32> = delays.iter().map(|d| d.0).collect();
    assert_eq!(
        attempts,
        [1, 2, 3, 4, 5],
        "each short-lived connection counts as a failure"
    );
    assert!(
        delays[4].1 >= Duration::from_millis(40),
        "delays grow: {delays:?}"
    );
    assert!(
        fake.connections_total() <= 7,
        "{} connections",
        fake.connections_total()
    );
}

/// Bytes that arrive in the same read as the handshake's last reply are kept:
/// here a push split between that read and the next one, which must decode
/// whole (and answer nobody) rather than leave a torn frame behind.
#[tokio::test]
async fn a_frame_split_across_the_handshake_and_the_first_read_is_kept() {
    let handshake = redwire_testkit::resp3_handshake(|req: &Request| match req.name.as_str() {
        "GET" => vec![
            Action::send("age\r\n$2\r\nhi\r\n"),
            Action::Frame(Frame::Bulk(req.args[0].clone())),
        ],
        _ => vec![Action::ok()],
    });
    let fake = FakeServer::start(move |req: &Request| {
        let last_of_handshake = req.is("CLIENT")
            && req
                .arg_str(1)
                .is_some_and(|a| a.eq_ignore_ascii_case("LIB-VER"));
        if last_of_handshake {
            // Its reply and the start of a push in one write.
            vec![Action::send("+OK\r\n>2\r\n$7\r\nmess")]
        } else {
            handshake(req)
        }
    })
    .unwrap();
    let client = Client::connect(config(&fake.url())).await.unwrap();
    let mut events = client.events();
    let v = client.send(&cmd("GET").arg("k")).await.unwrap();
    assert_eq!(v, Value::Bulk("k".into()));
    assert!(
        events.try_recv().is_err(),
        "the connection was replaced: a torn frame was read as garbage"
    );
    assert_eq!(fake.connections_total(), 1);
}
