//! Many callers on one client: replies never reach the wrong caller, whether
//! callers wait, time out or vanish mid-request; and a stalled server cannot make
//! the client take in more than its bounds.

mod support;

use redwire::{cmd, Client, ErrorKind};
use redwire_testkit::{Action, FakeServer, Frame, RedisServer};
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;
use support::config;

fn client_list(server: &RedisServer) -> String {
    match server.command(&["CLIENT", "LIST"]).unwrap() {
        Frame::Bulk(b) => String::from_utf8_lossy(&b).into_owned(),
        other => panic!("{other:?}"),
    }
}

/// 1,000 tasks × 200 requests on one client; each value names its own key.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_tasks_share_one_connection() {
    let server = RedisServer::start().unwrap();
    let client = Client::connect(config(&format!("{}?client_name=crowd", server.url())))
        .await
        .unwrap();
    let mut tasks = Vec::new();
    for i in 0..1000 {
        let c = client.clone();
        tasks.push(tokio::spawn(async move {
            for j in 0..100 {
                let key = format!("key:{i}:{j}");
                assert!(c
                    .send(&cmd("SET").arg(&key).arg(&key))
                    .await
                    .unwrap()
                    .is_ok());
                let value: String = c.query(&cmd("GET").arg(&key)).await.unwrap();
                assert_eq!(value, key, "a reply reached the wrong caller");
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let list = client_list(&server);
    assert_eq!(list.matches("name=crowd").count(), 1, "{list}");
    let received = support::info_field(&server, "total_connections_received");
    // The client's one connection, the readiness probe and the two `command`s.
    assert!(received <= 4, "{received} connections");
}

/// Polls `fut` `times` times (or until it finishes), then drops it.
async fn poll_then_drop<F: Future>(fut: F, times: usize) -> Option<F::Output> {
    let mut fut = std::pin::pin!(fut);
    for _ in 0..times {
        let step =
            std::future::poll_fn(|cx| Poll::Ready(Pin::new(&mut fut).as_mut().poll(cx))).await;
        if let Poll::Ready(out) = step {
            return Some(out);
        }
        tokio::task::yield_now().await;
    }
    None
}

/// 100,000 requests with deadlines of 0–2 ms and futures dropped at random
/// points; then a verification pass on the same client.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelled_requests_never_misroute_replies() {
    let server = RedisServer::start().unwrap();
    let client = Client::connect(config(&server.url())).await.unwrap();
    let (answered, timed_out, dropped) = (
        Arc::new(AtomicUsize::new(0)),
        Arc::new(AtomicUsize::new(0)),
        Arc::new(AtomicUsize::new(0)),
    );
    let mut tasks = Vec::new();
    for t in 0..100 {
        let c = client.clone();
        let (answered, timed_out, dropped) = (answered.clone(), timed_out.clone(), dropped.clone());
        tasks.push(tokio::spawn(async move {
            let mut rng = fastrand::Rng::with_seed(t);
            for n in 0..1000 {
                let token = format!("t:{t}:{n}");
                let echo = cmd("ECHO").arg(&token);
                let reply = if rng.bool() {
                    let deadline = Duration::from_micros(rng.u64(0..=2000));
                    match c.send_timeout(&echo, Some(deadline)).await {
                        Err(e) if e.kind() == ErrorKind::Timeout => {
                            timed_out.fetch_add(1, Ordering::Relaxed);
                            continue;
                        }
                        other => other,
                    }
                } else {
                    match poll_then_drop(c.send(&echo), rng.usize(0..4)).await {
                        None => {
                            dropped.fetch_add(1, Ordering::Relaxed);
                            continue;
                        }
                        Some(reply) => reply,
                    }
                };
                let reply: String = redwire::FromValue::from_value(reply.unwrap()).unwrap();
                assert_eq!(reply, token, "a reply reached the wrong caller");
                answered.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let (a, to, d) = (
        answered.load(Ordering::Relaxed),
        timed_out.load(Ordering::Relaxed),
        dropped.load(Ordering::Relaxed),
    );
    assert_eq!(a + to + d, 100_000);
    assert!(
        to > 0 && d > 0 && a > 0,
        "answered {a}, timed out {to}, dropped {d}"
    );

    // Verification: the same client, every reply still lands where it belongs.
    let mut tasks = Vec::new();
    for t in 0..50 {
        let c = client.clone();
        tasks.push(tokio::spawn(async move {
            for n in 0..200 {
                let token = format!("v:{t}:{n}");
                let reply: String = c.query(&cmd("ECHO").arg(&token)).await.unwrap();
                assert_eq!(reply, token);
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
}

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| s.split_whitespace().nth(1)?.parse::<u64>().ok())
        .map_or(0, |pages| pages * 4)
}

/// A server that reads but never answers, and 100,000 callers: the server sees
/// at most `max_in_flight` requests, and the client takes in no more than its
/// channel, queue and in-flight bounds; the rest of the callers wait.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_server_gets_no_more_than_max_in_flight() {
    let fake = FakeServer::resp3(|_| vec![Action::Hang]).unwrap();
    let cfg = config(&fake.url())
        .into_builder()
        .max_in_flight(100)
        .channel_capacity(1000)
        .response_timeout(None)
        .health_check_interval(None)
        .build();
    let client = Client::connect(cfg).await.unwrap();
    let rss_before = rss_kib();
    let admitted = Arc::new(AtomicUsize::new(0));
    let mut callers = Vec::new();
    for i in 0..100_000u32 {
        let (c, admitted) = (client.clone(), admitted.clone());
        callers.push(tokio::spawn(async move {
            c.send_and_forget(&cmd("INCR").arg(i)).await.unwrap();
            admitted.fetch_add(1, Ordering::Relaxed);
        }));
    }
    // Let everything that can move, move.
    let mut last = usize::MAX;
    loop {
        tokio::time::sleep(Duration::from_millis(300)).await;
        let now = admitted.load(Ordering::Relaxed);
        if now == last {
            break;
        }
        last = now;
    }
    let written = fake.received().iter().filter(|r| r.name == "INCR").count();
    assert!(
        written > 0 && written <= 100,
        "{written} requests reached the server"
    );
    let admitted = admitted.load(Ordering::Relaxed);
    // channel (1,000) + the actor's queue (1,000) + in flight (100)
    assert!(admitted <= 2100, "{admitted} requests taken in");
    assert!(admitted >= 100);
    println!(
        "100,000 waiting callers: {admitted} admitted, {written} written, RSS {} -> {} KiB",
        rss_before,
        rss_kib()
    );
    for c in callers {
        c.abort();
    }
}

/// The in-flight limit is a window, not a ceiling that fills up for good:
/// after many answered requests, a burst still goes out `max_in_flight` at a
/// time. Seen from the server: while writes are paused (`CLIENT PAUSE …
/// WRITE`), the first `INCR` is held and the other requests wait
/// unread-but-received in the connection's query buffer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answered_requests_free_their_in_flight_slots() {
    let server = RedisServer::start().unwrap();
    let cfg = config(&server.url())
        .into_builder()
        .max_in_flight(4)
        .client_name("windowed")
        .build();
    let client = Client::connect(cfg).await.unwrap();
    for _ in 0..20 {
        client.send(&cmd("PING")).await.unwrap();
    }
    server
        .command(&["CLIENT", "PAUSE", "10000", "WRITE"])
        .unwrap();
    let burst: Vec<_> = (0..6)
        .map(|_| {
            let c = client.clone();
            tokio::spawn(async move { c.send(&cmd("INCR").arg("n")).await })
        })
        .collect();
    let one = cmd("INCR").arg("n").to_bytes().len();
    // The first INCR is held; the next three of the window wait in its query buffer.
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    let qbuf = loop {
        let list = client_list(&server);
        let line = list
            .lines()
            .find(|l| l.contains("name=windowed"))
            .unwrap()
            .to_owned();
        let qbuf: usize = line
            .split(' ')
            .find_map(|f| f.strip_prefix("qbuf="))
            .unwrap()
            .parse()
            .unwrap();
        if qbuf >= 3 * one || std::time::Instant::now() > deadline {
            break qbuf;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(qbuf, 3 * one, "requests sent behind the held one");
    server.command(&["CLIENT", "UNPAUSE"]).unwrap();
    for b in burst {
        b.await.unwrap().unwrap();
    }
    let n: i64 = client.query(&cmd("GET").arg("n")).await.unwrap();
    assert_eq!(n, 6);
}

/// More callers than the actor's queue holds, with one request in flight at a
/// time: the actor stops taking from its channel while its queue is full and
/// must look at the channel again once the queue drains, although nothing
/// wakes it for the requests already waiting there. Every caller is answered.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn callers_beyond_a_full_queue_are_all_answered() {
    let server = RedisServer::start().unwrap();
    let config = config(&server.url())
        .into_builder()
        .max_in_flight(1)
        .channel_capacity(8)
        .build();
    let client = Client::connect(config).await.unwrap();
    let mut tasks = Vec::new();
    for i in 0..400 {
        let c = client.clone();
        tasks.push(tokio::spawn(async move {
            let n: i64 = c.query(&cmd("INCR").arg("queued")).await.unwrap();
            (i, n)
        }));
    }
    let all = tokio::time::timeout(Duration::from_secs(10), async {
        let mut seen = Vec::new();
        for t in tasks {
            seen.push(t.await.unwrap().1);
        }
        seen
    })
    .await
    .expect("every caller answered");
    let mut seen = all;
    seen.sort_unstable();
    assert_eq!(seen, (1..=400).collect::<Vec<i64>>());
}
