//! A subscriber whose consumer does not keep up: it stops reading, so its
//! memory stays bounded while a million messages are published; when the
//! server then drops it for its output buffer, it reconnects, subscribes
//! again and says so. Its own test binary, so that the process's memory is
//! this test's alone.

mod support;

use redwire::prelude::*;
use redwire::{Event, Protocol, Subscriber, MESSAGE_BUFFER};
use redwire_testkit::RedisServer;
use std::time::Duration;
use support::config;

/// The resident memory of this process, in KiB.
fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches(" kB").trim().parse().ok())
        .expect("VmRSS in /proc/self/status")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_consumer_keeps_memory_bounded_and_a_dropped_subscriber_comes_back() {
    let server = RedisServer::builder()
        // The server keeps whatever the subscriber does not read.
        .config("client-output-buffer-limit pubsub 0 0 0")
        .start()
        .unwrap();
    let client = Client::connect(config(&server.url())).await.unwrap();
    let cfg = config(&server.url())
        .into_builder()
        .protocol(Protocol::Resp3)
        .build();
    let (subscriber, mut messages) = Subscriber::connect(cfg).await.unwrap();
    subscriber.subscribe("flood").await.unwrap();
    let mut events = subscriber.events();

    let payload = vec![b'x'; 100];
    let before = rss_kib();
    let mut published = 0u64;
    for _ in 0..100 {
        let mut p = Pipeline::new();
        for _ in 0..10_000 {
            p.publish("flood", payload.as_slice());
        }
        published += client.pipeline(&p).await.unwrap().len() as u64;
    }
    assert_eq!(published, 1_000_000);
    // Let whatever can arrive arrive.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let grown_mib = rss_kib().saturating_sub(before) / 1024;
    eprintln!("grew {grown_mib} MiB, {} buffered", messages.len());
    assert!(
        messages.len() <= MESSAGE_BUFFER,
        "{} messages buffered",
        messages.len()
    );
    // 1,000,000 messages of 100 bytes are over 100 MiB as frames: only a
    // buffer's worth is ever read.
    assert!(
        grown_mib < 48,
        "the process grew by {grown_mib} MiB while the consumer slept"
    );

    // Now the server drops the slow subscriber at its next message.
    client
        .send(
            &cmd("CONFIG")
                .arg("SET")
                .arg("client-output-buffer-limit")
                .arg("pubsub 1mb 1mb 0"),
        )
        .await
        .unwrap();
    client.publish("flood", "trigger").await.unwrap();
    // The consumer catches up: what was read, then the drop, then the
    // resubscription; the rest of the million is the gap.
    let mut consumed = 0u64;
    let channels = loop {
        tokio::select! {
            m = messages.recv() => {
                m.expect("the stream ended").expect("the stream failed");
                consumed += 1;
            }
            e = events.recv() => {
                if let Ok(Event::Resubscribed { channels, .. }) = e {
                    break channels;
                }
            }
            () = tokio::time::sleep(Duration::from_secs(30)) => panic!("no resubscription"),
        }
    };
    assert_eq!(channels, ["flood"]);
    assert!(consumed < published, "nothing was lost? {consumed}");
    // Subscribed again: a new message arrives.
    client
        .send(
            &cmd("CONFIG")
                .arg("SET")
                .arg("client-output-buffer-limit")
                .arg("pubsub 32mb 8mb 60"),
        )
        .await
        .unwrap();
    while !messages.is_empty() {
        let _ = messages.recv().await;
    }
    assert_eq!(client.publish("flood", "after").await.unwrap(), 1);
    loop {
        let m = tokio::time::timeout(Duration::from_secs(5), messages.recv())
            .await
            .expect("the message after the resubscription did not come")
            .unwrap()
            .unwrap();
        if m.payload == "after" {
            break;
        }
    }
}
