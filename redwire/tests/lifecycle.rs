//! The actor's lifecycle under faults: a black hole under a trickle of
//! traffic, handles dropped while disconnected, connections that flap,
//! requests cut off mid-write, fire-and-forget across a reconnect, graceful
//! close, and reply limits.

mod support;

use redwire::{cmd, Backoff, Client, ConnectionState, ErrorKind, Event, Value};
use redwire_testkit::{Action, FakeServer, FaultProxy, Frame, RedisServer, Request};
use std::time::Duration;
use support::{config, unsent_bytes_to, wait_event};

fn backoff(initial_ms: u64, max_ms: u64) -> Backoff {
    Backoff {
        initial: Duration::from_millis(initial_ms),
        max: Duration::from_millis(max_ms),
        jitter: 0.0,
        max_attempts: None,
    }
}

/// A client created while its server is unreachable (the proxy refuses new
/// connections until told otherwise), with quick retries unless `tune` says.
fn while_down(
    tune: impl FnOnce(redwire::ConfigBuilder) -> redwire::ConfigBuilder,
) -> (RedisServer, FaultProxy, Client) {
    let server = RedisServer::start().unwrap();
    let proxy = FaultProxy::start(server.addr()).unwrap();
    proxy.refuse_new(true);
    let builder = config(&proxy.url()).into_builder().backoff(backoff(20, 50));
    let client = Client::new(tune(builder).build());
    (server, proxy, client)
}

/// Writes prove nothing: one request every 300 ms into a black hole must not
/// keep the connection alive past the response timeout, and a request with no
/// deadline of its own must not wait forever.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_black_hole_is_detected_under_a_trickle_of_traffic() {
    let server = RedisServer::start().unwrap();
    let proxy = FaultProxy::start(server.addr()).unwrap();
    let cfg = config(&proxy.url())
        .into_builder()
        .response_timeout(Some(Duration::from_secs(1)))
        .health_check_interval(None)
        .build();
    let client = Client::connect(cfg).await.unwrap();
    let mut events = client.events();
    proxy.black_hole();
    let first = {
        let c = client.clone();
        tokio::spawn(async move { c.send(&cmd("INCR").arg("n")).await })
    };
    let trickle = {
        let c = client.clone();
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_millis(300)).await;
                let c = c.clone();
                tokio::spawn(async move { c.send(&cmd("PING")).await });
            }
        })
    };
    let reason = wait_event(&mut events, Duration::from_secs(4), |e| match e {
        Event::Disconnected { reason } => Some(reason.clone()),
        _ => None,
    })
    .await;
    trickle.abort();
    assert_eq!(reason.kind(), ErrorKind::Timeout, "{reason}");
    let err = tokio::time::timeout(Duration::from_secs(1), first)
        .await
        .expect("the first request still waits")
        .unwrap()
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout, "{err}");
    assert!(err.may_have_executed());
    proxy.resume();
}

/// A request abandoned while disconnected is never written, and it does not
/// keep the actor reconnecting after the last handle is gone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn abandoned_requests_are_never_written_nor_keep_the_actor_alive() {
    let (_server, proxy, client) = while_down(|b| b);
    let mut events = client.events();
    let err = client
        .send_timeout(
            &cmd("INCR").arg("abandoned"),
            Some(Duration::from_millis(100)),
        )
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout);
    // Let it connect: the abandoned INCR must not be written.
    proxy.refuse_new(false);
    client.wait_connected().await.unwrap();
    let v = client.send(&cmd("GET").arg("abandoned")).await.unwrap();
    assert_eq!(v, Value::Nil, "an abandoned request was written");

    // Down again, a request abandoned, then every handle dropped.
    proxy.refuse_new(true);
    proxy.reset_all();
    wait_event(&mut events, Duration::from_secs(5), |e| {
        matches!(e, Event::Reconnecting { .. }).then_some(())
    })
    .await;
    let _ = client
        .send_timeout(
            &cmd("INCR").arg("abandoned"),
            Some(Duration::from_millis(50)),
        )
        .await;
    drop(client);
    let reason = wait_event(&mut events, Duration::from_secs(2), |e| match e {
        Event::Closed { reason } => Some(reason.clone()),
        _ => None,
    })
    .await;
    assert!(reason.contains("dropped"), "{reason}");
    let attempts = proxy.connections_total();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(proxy.connections_total(), attempts, "still reconnecting");
}

/// A connection that answered requests was a success however short it was:
/// resets every few milliseconds cost one immediate reconnect each, with no
/// backoff delay in between.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_that_answered_are_reconnected_at_once() {
    let server = RedisServer::start().unwrap();
    let proxy = FaultProxy::start(server.addr()).unwrap();
    let cfg = config(&proxy.url())
        .into_builder()
        .backoff(backoff(2_000, 5_000))
        .build();
    let client = Client::connect(cfg).await.unwrap();
    let mut events = client.events();
    for i in 0..5 {
        let v = client
            .send_timeout(&cmd("PING"), Some(Duration::from_secs(1)))
            .await
            .unwrap_or_else(|e| panic!("round {i}: {e}"));
        assert_eq!(v, Value::Simple("PONG".into()));
        proxy.reset_all();
        wait_event(&mut events, Duration::from_secs(1), |e| {
            matches!(e, Event::Connected { .. }).then_some(())
        })
        .await;
    }
    while let Ok(event) = events.try_recv() {
        assert!(
            !matches!(event, Event::Reconnecting { .. }),
            "a backoff delay after a connection that answered: {event:?}"
        );
    }
    assert_eq!(proxy.connections_total(), 6);
}

/// A server that completes the handshake and then drops every connection
/// before answering anything gets exponential backoff, not a spin.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_fails_at_once_gets_backoff() {
    let fake = FakeServer::resp3(|_: &Request| vec![Action::Close]).unwrap();
    let cfg = config(&fake.url())
        .into_builder()
        .backoff(backoff(40, 10_000))
        .build();
    let client = Client::connect(cfg).await.unwrap();
    let mut events = client.events();
    let pinger = {
        let c = client.clone();
        tokio::spawn(async move {
            loop {
                let _ = c.send(&cmd("GET").arg("k")).await;
            }
        })
    };
    let mut delays = Vec::new();
    while delays.len() < 4 {
        let (attempt, delay) = wait_event(&mut events, Duration::from_secs(3), |e| match e {
            Event::Reconnecting { attempt, delay, .. } => Some((*attempt, *delay)),
            _ => None,
        })
        .await;
        delays.push((attempt, delay));
    }
    pinger.abort();
    assert_eq!(
        delays,
        (1..=4)
            .map(|a| (a, Duration::from_millis(40 << (a - 1))))
            .collect::<Vec<_>>()
    );
    assert!(
        fake.connections_total() <= 6,
        "{}",
        fake.connections_total()
    );
}

/// Through a black hole the socket takes only part of a large request: it and
/// what queued behind it (a fire-and-forget one too) are sent again after the
/// reconnect, since none of them fully reached the server.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn partly_written_and_unwritten_requests_survive_a_reconnect() {
    let server = RedisServer::start().unwrap();
    let proxy = FaultProxy::start(server.addr()).unwrap();
    let cfg = config(&proxy.url())
        .into_builder()
        .response_timeout(Some(Duration::from_secs(30)))
        .build();
    let client = Client::connect(cfg).await.unwrap();
    let mut events = client.events();
    proxy.black_hole();
    let big = bytes::Bytes::from(vec![b'v'; 48 << 20]);
    let set_big = cmd("SET").arg("big").arg(&big);
    let set = {
        let c = client.clone();
        tokio::spawn(async move { c.send(&set_big).await })
    };
    // The SET is partly written when the socket's send queue stands full.
    let stalled = tokio::time::timeout(Duration::from_secs(10), async {
        while unsent_bytes_to(proxy.addr().port()) < 1 << 20 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    });
    stalled
        .await
        .expect("the large SET never stalled in the black hole");
    client
        .send_and_forget(&cmd("INCR").arg("forgotten"))
        .await
        .unwrap();
    let incr = {
        let c = client.clone();
        tokio::spawn(async move { c.send(&cmd("INCR").arg("counted")).await })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    proxy.reset_all();
    proxy.resume();
    wait_event(&mut events, Duration::from_secs(5), |e| {
        matches!(e, Event::Connected { .. }).then_some(())
    })
    .await;
    assert_eq!(set.await.unwrap().unwrap(), Value::Simple("OK".into()));
    assert_eq!(incr.await.unwrap().unwrap(), Value::Int(1));
    let n: i64 = client.query(&cmd("GET").arg("forgotten")).await.unwrap();
    assert_eq!(n, 1, "the fire-and-forget request was lost");
    let len: i64 = client.query(&cmd("STRLEN").arg("big")).await.unwrap();
    assert_eq!(len, 48 << 20);
}

/// `close` answers what was sent, refuses what comes after, and ends the actor;
/// with a short grace, what is still unanswered fails as closed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn close_answers_what_was_sent_then_ends() {
    let server = RedisServer::start().unwrap();
    let client = Client::connect(config(&server.url())).await.unwrap();
    let other = client.clone();
    let slow = {
        let c = client.clone();
        tokio::spawn(async move { c.send(&cmd("DEBUG").arg("SLEEP").arg("0.2")).await })
    };
    tokio::time::sleep(Duration::from_millis(50)).await;
    let closing = {
        let c = client.clone();
        tokio::spawn(async move { c.close().await })
    };
    // While the close waits for that answer, a new call is refused, and
    // says why.
    tokio::time::sleep(Duration::from_millis(20)).await;
    let err = other.send(&cmd("PING")).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Closed, "{err}");
    assert!(err.message().contains("Client::close"), "{err}");
    closing.await.unwrap();
    assert_eq!(slow.await.unwrap().unwrap(), Value::Simple("OK".into()));
    assert_eq!(other.state(), ConnectionState::Closed);
    let err = other.send(&cmd("PING")).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Closed, "{err}");
    assert!(err.message().contains("Client::close"), "{err}");

    let client = Client::connect(config(&server.url())).await.unwrap();
    let slow = {
        let c = client.clone();
        tokio::spawn(async move { c.send(&cmd("DEBUG").arg("SLEEP").arg(1)).await })
    };
    tokio::time::sleep(Duration::from_millis(50)).await;
    client.close_within(Duration::from_millis(100)).await;
    let err = slow.await.unwrap().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Closed, "{err}");
    assert!(err.may_have_executed(), "it was sent");
}

/// A reply over the configured limit fails its request as a protocol error
/// instead of growing memory, and the connection is replaced.
#[tokio::test]
async fn reply_limits_come_from_the_config() {
    let server = RedisServer::start().unwrap();
    server
        .command(&["SET", "big", &"x".repeat(100_000)])
        .unwrap();
    let cfg = config(&server.url())
        .into_builder()
        .reply_limits(redwire::resp::Limits {
            max_frame_len: 64 * 1024,
            ..Default::default()
        })
        .build();
    let client = Client::connect(cfg).await.unwrap();
    let err = client.send(&cmd("GET").arg("big")).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Protocol, "{err}");
    assert!(err.message().contains("over the limit"), "{err}");
    let v = client.send(&cmd("STRLEN").arg("big")).await.unwrap();
    assert_eq!(v, Value::Int(100_000));
    assert_eq!(server.command(&["GET", "nothing"]).unwrap(), Frame::Null);
}

/// While disconnected the queue is bounded; when it is full, requests whose
/// callers gave up make room, and the live ones are all kept and answered.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_queue_while_disconnected_drops_only_abandoned_requests() {
    // The queue holds 64 requests (its floor) with a channel of 1.
    let (_server, proxy, client) = while_down(|b| b.channel_capacity(1));
    let mut live = Vec::new();
    for i in 0..10 {
        let c = client.clone();
        live.push(tokio::spawn(async move {
            c.send(&cmd("INCR").arg(format!("live:{i}"))).await
        }));
    }
    tokio::time::sleep(Duration::from_millis(50)).await;
    let mut gave_up = Vec::new();
    for i in 0..54 {
        let c = client.clone();
        gave_up.push(tokio::spawn(async move {
            c.send_timeout(
                &cmd("INCR").arg(format!("gave-up:{i}")),
                Some(Duration::from_millis(100)),
            )
            .await
        }));
    }
    for t in gave_up {
        assert_eq!(t.await.unwrap().unwrap_err().kind(), ErrorKind::Timeout);
    }
    // The queue is full of 10 live and 54 abandoned requests: new requests
    // still get in (a channel of 1 would block the second at once).
    for i in 0..3 {
        tokio::time::timeout(
            Duration::from_secs(5),
            client.send_and_forget(&cmd("INCR").arg("forgotten")),
        )
        .await
        .unwrap_or_else(|_| panic!("send_and_forget {i} blocked on a queue of abandoned requests"))
        .unwrap();
    }
    let last = {
        let c = client.clone();
        tokio::spawn(async move { c.send(&cmd("INCR").arg("last")).await })
    };
    tokio::time::sleep(Duration::from_millis(50)).await;
    proxy.refuse_new(false);
    for t in live {
        assert_eq!(t.await.unwrap().unwrap(), Value::Int(1));
    }
    assert_eq!(last.await.unwrap().unwrap(), Value::Int(1));
    let v = client.send(&cmd("GET").arg("gave-up:0")).await.unwrap();
    assert_eq!(v, Value::Nil);
    let v = client.send(&cmd("GET").arg("forgotten")).await.unwrap();
    assert_eq!(v, Value::Bulk("3".into()));
}

/// With fail-fast, a request that arrives between two connection attempts
/// fails at once, not when the next attempt fails.
#[tokio::test]
async fn fail_fast_does_not_wait_for_the_next_attempt() {
    let (_server, _proxy, client) =
        while_down(|b| b.fail_fast(true).backoff(backoff(5_000, 5_000)));
    let mut events = client.events();
    wait_event(&mut events, Duration::from_secs(5), |e| {
        matches!(e, Event::Reconnecting { .. }).then_some(())
    })
    .await;
    let err = client
        .send_timeout(&cmd("PING"), Some(Duration::from_secs(2)))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotConnected, "{err}");
    assert!(!err.may_have_executed());
}

/// `close` while the server is down ends at once: what waits for a connection
/// fails as closed and was never sent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn close_while_disconnected_fails_what_waits() {
    let (server, proxy, client) = while_down(|b| b);
    let waiting = {
        let c = client.clone();
        tokio::spawn(async move { c.send(&cmd("INCR").arg("never")).await })
    };
    tokio::time::sleep(Duration::from_millis(100)).await;
    tokio::time::timeout(Duration::from_secs(5), client.close())
        .await
        .expect("close waited for a connection");
    let err = waiting.await.unwrap().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Closed, "{err}");
    assert!(!err.may_have_executed());
    proxy.refuse_new(false);
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(
        server.command(&["GET", "never"]).unwrap(),
        Frame::Null,
        "a request was sent after close"
    );
}

/// `close` while the server is down and the queue is full does not wait for a
/// connection that would drain the queue.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn close_does_not_wait_behind_a_full_queue() {
    let (_server, _proxy, client) = while_down(|b| b.channel_capacity(1));
    // 64 queued, 1 in the channel, the rest waiting to get into it.
    let waiting: Vec<_> = (0..80)
        .map(|i| {
            let c = client.clone();
            tokio::spawn(async move { c.send(&cmd("INCR").arg(format!("k{i}"))).await })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(100)).await;
    tokio::time::timeout(Duration::from_secs(5), client.close())
        .await
        .expect("close waited behind the full queue");
    for w in waiting {
        let err = w.await.unwrap().unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Closed, "{err}");
    }
}
