//! Pub/sub against a real redis-server, over RESP2 and RESP3: subscriptions
//! confirmed before `subscribe` returns and gone when `unsubscribe` returns,
//! patterns and shard channels, 10,000 channels, resubscription after a
//! killed connection, a server restart and a long outage, and pushes on a
//! shared client that are never taken for replies.

mod support;

use redwire::prelude::*;
use redwire::{
    Deliveries, Delivery, Event, FromValue, Messages, Protocol, Subscriber, SubscriptionKind,
    MESSAGE_BUFFER,
};
use redwire_testkit::{FaultProxy, RedisServer};
use std::collections::HashSet;
use std::time::Duration;
use support::{config, wait_event};

async fn subscriber(url: &str, protocol: Protocol) -> (Subscriber, Messages) {
    let cfg = config(url).into_builder().protocol(protocol).build();
    Subscriber::connect(cfg).await.unwrap()
}

async fn next(messages: &mut Messages) -> redwire::Message {
    tokio::time::timeout(Duration::from_secs(5), messages.recv())
        .await
        .expect("no message came")
        .expect("the stream ended")
        .expect("the stream failed")
}

const PROTOCOLS: [Protocol; 2] = [Protocol::Resp2, Protocol::Resp3];

#[tokio::test]
async fn a_message_published_right_after_subscribe_returns_is_delivered() {
    let server = RedisServer::start().unwrap();
    let client = Client::connect(config(&server.url())).await.unwrap();
    for protocol in PROTOCOLS {
        let (sub, mut messages) = subscriber(&server.url(), protocol).await;
        for round in 0..100 {
            let channel = format!("{protocol:?}:{round}");
            sub.subscribe(channel.as_str()).await.unwrap();
            assert_eq!(client.publish(channel.as_str(), round).await.unwrap(), 1);
            let m = next(&mut messages).await;
            assert_eq!(m.channel, channel.as_bytes());
            assert_eq!(m.payload, round.to_string().as_bytes());
            assert_eq!(m.kind, SubscriptionKind::Channel);
        }
        assert_eq!(sub.subscriptions(SubscriptionKind::Channel).len(), 100);
    }
}

#[tokio::test]
async fn nothing_of_a_channel_comes_out_after_unsubscribe_returns() {
    let server = RedisServer::start().unwrap();
    let client = Client::connect(config(&server.url())).await.unwrap();
    for protocol in PROTOCOLS {
        let (sub, mut messages) = subscriber(&server.url(), protocol).await;
        sub.subscribe(["noisy", "control"]).await.unwrap();
        // Published and received, not yet consumed, when unsubscribe returns.
        for i in 0..100 {
            client.publish("noisy", i).await.unwrap();
        }
        sub.unsubscribe("noisy").await.unwrap();
        assert_eq!(client.publish("noisy", "late").await.unwrap(), 0);
        client.publish("control", "after").await.unwrap();
        let m = next(&mut messages).await;
        assert_eq!(
            (&m.channel[..], &m.payload[..]),
            (&b"control"[..], &b"after"[..]),
            "a message of an unsubscribed channel came out"
        );
        // Unsubscribing from everything.
        sub.unsubscribe_all().await.unwrap();
        assert!(sub.subscriptions(SubscriptionKind::Channel).is_empty());
        assert_eq!(client.publish("control", "x").await.unwrap(), 0);
    }
}

#[tokio::test]
async fn patterns_and_shard_channels() {
    let server = RedisServer::start().unwrap();
    let client = Client::connect(config(&server.url())).await.unwrap();
    for protocol in PROTOCOLS {
        let (sub, mut messages) = subscriber(&server.url(), protocol).await;
        sub.psubscribe("news.*").await.unwrap();
        client.publish("news.eu", "hello").await.unwrap();
        let m = next(&mut messages).await;
        assert_eq!(m.kind, SubscriptionKind::Pattern);
        assert_eq!(m.pattern.as_deref(), Some(&b"news.*"[..]));
        assert_eq!(
            (&m.channel[..], &m.payload[..]),
            (&b"news.eu"[..], &b"hello"[..])
        );

        sub.ssubscribe("orders").await.unwrap();
        assert_eq!(client.spublish("orders", "o1").await.unwrap(), 1);
        let m = next(&mut messages).await;
        assert_eq!(m.kind, SubscriptionKind::Shard);
        assert_eq!(
            (&m.channel[..], &m.payload[..]),
            (&b"orders"[..], &b"o1"[..])
        );

        sub.punsubscribe_all().await.unwrap();
        sub.sunsubscribe("orders").await.unwrap();
        assert_eq!(client.publish("news.eu", "x").await.unwrap(), 0);
        assert_eq!(client.spublish("orders", "x").await.unwrap(), 0);
    }
}

#[tokio::test]
async fn ten_thousand_channels_each_get_their_message() {
    let server = RedisServer::start().unwrap();
    let client = Client::connect(config(&server.url())).await.unwrap();
    for protocol in PROTOCOLS {
        let (sub, mut messages) = subscriber(&server.url(), protocol).await;
        let channels: Vec<String> = (0..10_000).map(|i| format!("c{i}")).collect();
        sub.subscribe(&channels).await.unwrap();
        let mut p = Pipeline::new();
        for c in &channels {
            p.publish(c.as_str(), c.as_str());
        }
        let published = client.pipeline(&p).await.unwrap();
        assert!(published
            .iter()
            .all(|r| r.as_ref().unwrap() == &Value::Int(1)));
        let mut seen = HashSet::new();
        while seen.len() < channels.len() {
            let m = next(&mut messages).await;
            assert_eq!(m.channel, m.payload);
            seen.insert(String::from_utf8(m.channel.to_vec()).unwrap());
        }
        assert_eq!(seen, channels.iter().cloned().collect());
        sub.unsubscribe_all().await.unwrap();
    }
}

async fn resubscribed(events: &mut tokio::sync::broadcast::Receiver<Event>) -> Vec<bytes::Bytes> {
    wait_event(events, Duration::from_secs(20), |e| match e {
        Event::Resubscribed { channels, .. } => Some(channels.clone()),
        _ => None,
    })
    .await
}

#[tokio::test]
async fn a_killed_connection_is_resubscribed() {
    let server = RedisServer::start().unwrap();
    let client = Client::connect(config(&server.url())).await.unwrap();
    for protocol in PROTOCOLS {
        let (sub, mut messages) = subscriber(&server.url(), protocol).await;
        sub.subscribe("ch").await.unwrap();
        sub.psubscribe("p.*").await.unwrap();
        let mut events = sub.events();
        client
            .send(&cmd("CLIENT").arg("KILL").arg("TYPE").arg("pubsub"))
            .await
            .unwrap();
        assert_eq!(resubscribed(&mut events).await, ["ch"]);
        assert_eq!(client.publish("ch", "again").await.unwrap(), 1);
        assert_eq!(next(&mut messages).await.payload, "again");
        client.publish("p.1", "pattern").await.unwrap();
        assert_eq!(next(&mut messages).await.payload, "pattern");
    }
}

#[tokio::test]
async fn a_server_restart_is_resubscribed() {
    let server = RedisServer::start().unwrap();
    let (sub, mut messages) = subscriber(&server.url(), Protocol::Resp3).await;
    sub.subscribe("ch").await.unwrap();
    let mut events = sub.events();
    server.restart().unwrap();
    assert_eq!(resubscribed(&mut events).await, ["ch"]);
    let client = Client::connect(config(&server.url())).await.unwrap();
    assert_eq!(client.publish("ch", "back").await.unwrap(), 1);
    assert_eq!(next(&mut messages).await.payload, "back");
}

#[tokio::test]
async fn a_ten_second_outage_is_resubscribed() {
    let server = RedisServer::start().unwrap();
    let proxy = FaultProxy::start(server.addr()).unwrap();
    let (sub, mut messages) = subscriber(&proxy.url(), Protocol::Resp2).await;
    sub.subscribe("ch").await.unwrap();
    let mut events = sub.events();
    proxy.refuse_new(true);
    proxy.reset_all();
    wait_event(&mut events, Duration::from_secs(5), |e| {
        matches!(e, Event::Disconnected { .. }).then_some(())
    })
    .await;
    tokio::time::sleep(Duration::from_secs(10)).await;
    proxy.refuse_new(false);
    assert_eq!(resubscribed(&mut events).await, ["ch"]);
    let client = Client::connect(config(&server.url())).await.unwrap();
    assert_eq!(client.publish("ch", "after").await.unwrap(), 1);
    assert_eq!(next(&mut messages).await.payload, "after");
}

#[tokio::test]
async fn a_refused_subscription_is_an_error_and_is_not_kept() {
    let server = RedisServer::builder()
        .user("limited", "pw", "on ~* &allowed:* +@all")
        .start()
        .unwrap();
    let url = server.user_url("limited").unwrap();
    for protocol in PROTOCOLS {
        let (sub, mut messages) = subscriber(&url, protocol).await;
        let err = sub.subscribe("secret").await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Server);
        assert_eq!(err.code(), Some("NOPERM"), "{err}");
        assert!(sub.subscriptions(SubscriptionKind::Channel).is_empty());
        // The connection is fine.
        sub.subscribe("allowed:1").await.unwrap();
        let client = Client::connect(config(&url)).await.unwrap();
        client.publish("allowed:1", "ok").await.unwrap();
        assert_eq!(next(&mut messages).await.payload, "ok");
    }
}

#[tokio::test]
async fn pushes_on_a_shared_client_are_delivered_and_never_taken_for_replies() {
    let server = RedisServer::start().unwrap();
    let cfg = config(&server.url())
        .into_builder()
        .protocol(Protocol::Resp3)
        .build();
    let client = Client::connect(cfg).await.unwrap();
    let mut pushes = client.pushes().expect("the first call takes the pushes");
    assert!(client.pushes().is_none());
    let id: i64 = client.query(&cmd("CLIENT").arg("ID")).await.unwrap();
    // Invalidations of keys another connection reads are redirected here.
    let mut tracker = Connection::connect(config(&server.url())).await.unwrap();
    tracker
        .send(
            &cmd("CLIENT")
                .arg("TRACKING")
                .arg("ON")
                .arg("REDIRECT")
                .arg(id),
        )
        .await
        .unwrap();
    for i in 0..50 {
        let key = format!("k{i}");
        let _: Option<String> = tracker.get(key.as_str()).await.unwrap();
    }
    // Each write invalidates: pushes arrive interleaved with these replies.
    let mut replies = Vec::new();
    for i in 0..50 {
        let key = format!("k{i}");
        client.set(key.as_str(), i).await.unwrap();
        replies.push(client.get::<i64>(key.as_str()).await.unwrap());
    }
    assert_eq!(replies, (0..50).collect::<Vec<i64>>());
    let mut invalidated = HashSet::new();
    while invalidated.len() < 50 {
        let push = tokio::time::timeout(Duration::from_secs(5), pushes.recv())
            .await
            .expect("an invalidation did not come")
            .unwrap();
        let (kind, keys): (String, Vec<String>) = FromValue::from_value(match push {
            Value::Push(items) => Value::Array(items),
            other => panic!("not a push: {other:?}"),
        })
        .unwrap();
        assert_eq!(kind, "invalidate");
        invalidated.extend(keys);
    }
    assert_eq!(pushes.dropped(), 0);
}

#[tokio::test]
async fn the_monitor_feed_shows_the_commands_the_server_runs() {
    let server = RedisServer::start().unwrap();
    let client = Client::connect(config(&server.url())).await.unwrap();
    let mut monitor = redwire::Monitor::connect(config(&server.url()))
        .await
        .unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        // Until the feed has started.
        client.set("watched", "1").await.unwrap();
        let line = tokio::time::timeout(Duration::from_millis(200), monitor.recv()).await;
        if let Ok(Some(line)) = line {
            let line = String::from_utf8(line.unwrap().to_vec()).unwrap();
            if line.contains(r#""SET" "watched" "1""#) {
                break;
            }
        }
        assert!(std::time::Instant::now() < deadline, "no SET in the feed");
    }
}

/// A scripted server, for what a real one cannot be made to do on cue: it
/// ends shard channel `a` on its own (as when `a`'s slot migrates away) at
/// the very moment the subscription of `b` waits for its confirmation.
#[tokio::test]
async fn a_confirmation_the_server_sends_on_its_own_is_not_taken_for_the_awaited_one() {
    use redwire_testkit::{Action, FakeServer, Request};
    let fake = FakeServer::resp3(|req: &Request| match (req.name.as_str(), req.arg_str(0)) {
        ("SSUBSCRIBE", Some("a")) => {
            vec![Action::send(">3\r\n$10\r\nssubscribe\r\n$1\r\na\r\n:1\r\n")]
        }
        ("SSUBSCRIBE", Some("b")) => vec![
            Action::send(">3\r\n$12\r\nsunsubscribe\r\n$1\r\na\r\n:0\r\n"),
            Action::send(">3\r\n$10\r\nssubscribe\r\n$1\r\nb\r\n:1\r\n"),
            Action::send(">3\r\n$8\r\nsmessage\r\n$1\r\nb\r\n$5\r\nhello\r\n"),
        ],
        _ => vec![Action::ok()],
    })
    .unwrap();
    let cfg = config(&fake.url())
        .into_builder()
        .protocol(Protocol::Resp3)
        .build();
    let (sub, mut messages) = Subscriber::connect(cfg).await.unwrap();
    sub.ssubscribe("a").await.unwrap();
    sub.ssubscribe("b").await.unwrap();
    let m = next(&mut messages).await;
    assert_eq!((&m.channel[..], &m.payload[..]), (&b"b"[..], &b"hello"[..]));
    // The server's own `sunsubscribe a` reached the stream, which forgot
    // `a`: taken for `b`'s confirmation, it would have left `a` on record,
    // to be subscribed again after a reconnect.
    assert_eq!(sub.subscriptions(SubscriptionKind::Shard), ["b"]);
}

/// A subscriber through `proxy` whose commands have a deadline of 500 ms.
async fn subscriber_with_deadline(
    proxy: &FaultProxy,
    protocol: Protocol,
) -> (Subscriber, Messages) {
    let cfg = config(&proxy.url())
        .into_builder()
        .protocol(protocol)
        .command_timeout(Duration::from_millis(500))
        .build();
    Subscriber::connect(cfg).await.unwrap()
}

/// After `given_up` was given up (its deadline passed, or its future was
/// dropped) on a black-holed connection that then heals: it is not on
/// record, the server was told to unsubscribe it, a reconnect does not make
/// it again, and none of its messages comes out, while a channel subscribed
/// afterwards is heard.
async fn the_given_up_channel_is_not_kept(
    server: &RedisServer,
    proxy: &FaultProxy,
    sub: &Subscriber,
    messages: &mut Messages,
    given_up: &str,
) {
    proxy.resume();
    // Written behind the given-up SUBSCRIBE, confirmed after it.
    sub.subscribe("after").await.unwrap();
    assert_eq!(
        sub.subscriptions(SubscriptionKind::Channel),
        ["after", "kept"]
    );
    // The undo is written when the given-up confirmation comes, behind what
    // was written already: one more round trip and the server has done it.
    sub.subscribe("after").await.unwrap();
    let client = Client::connect(config(&server.url())).await.unwrap();
    assert_eq!(
        client.publish(given_up, "unheard").await.unwrap(),
        0,
        "the server still has the given-up subscription"
    );
    let mut events = sub.events();
    proxy.reset_all();
    let mut channels = resubscribed(&mut events).await;
    channels.sort();
    assert_eq!(channels, ["after", "kept"]);
    assert_eq!(client.publish(given_up, "unheard").await.unwrap(), 0);
    assert_eq!(client.publish("after", "heard").await.unwrap(), 1);
    let m = next(messages).await;
    assert_eq!(
        (&m.channel[..], &m.payload[..]),
        (&b"after"[..], &b"heard"[..])
    );
}

#[tokio::test]
async fn a_black_holed_subscribe_fails_with_timeout_at_its_deadline_and_is_not_kept() {
    let server = RedisServer::start().unwrap();
    for protocol in PROTOCOLS {
        let proxy = FaultProxy::start(server.addr()).unwrap();
        let (sub, mut messages) = subscriber_with_deadline(&proxy, protocol).await;
        sub.subscribe("kept").await.unwrap();
        proxy.black_hole();
        let started = std::time::Instant::now();
        let err = tokio::time::timeout(Duration::from_secs(5), sub.subscribe("lost"))
            .await
            .expect("subscribe ignored its deadline")
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Timeout, "{err}");
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "gave up after {:?}",
            started.elapsed()
        );
        assert!(err.to_string().contains("SUBSCRIBE of 1 channel"), "{err}");
        the_given_up_channel_is_not_kept(&server, &proxy, &sub, &mut messages, "lost").await;
    }
}

#[tokio::test]
async fn a_dropped_subscribe_future_is_not_kept() {
    let server = RedisServer::start().unwrap();
    for protocol in PROTOCOLS {
        let proxy = FaultProxy::start(server.addr()).unwrap();
        let (sub, mut messages) = subscriber_with_deadline(&proxy, protocol).await;
        let sub = sub.with_timeout(None);
        sub.subscribe("kept").await.unwrap();
        proxy.black_hole();
        let dropped =
            tokio::time::timeout(Duration::from_millis(200), sub.subscribe("dropped")).await;
        assert!(dropped.is_err(), "confirmed through a black hole?");
        the_given_up_channel_is_not_kept(&server, &proxy, &sub, &mut messages, "dropped").await;
    }
}

#[tokio::test]
async fn an_empty_list_unsubscribes_from_nothing_and_the_all_forms_from_everything() {
    let server = RedisServer::start().unwrap();
    let client = Client::connect(config(&server.url())).await.unwrap();
    for protocol in PROTOCOLS {
        let (sub, mut messages) = subscriber(&server.url(), protocol).await;
        sub.subscribe(["a", "b"]).await.unwrap();
        sub.psubscribe("p.*").await.unwrap();
        sub.ssubscribe("s").await.unwrap();
        sub.unsubscribe(Vec::<&str>::new()).await.unwrap();
        sub.unsubscribe(()).await.unwrap();
        sub.punsubscribe(Vec::<String>::new()).await.unwrap();
        sub.sunsubscribe(()).await.unwrap();
        for channel in ["a", "b", "p.1"] {
            assert_eq!(
                client.publish(channel, channel).await.unwrap(),
                1,
                "{channel}"
            );
            assert_eq!(next(&mut messages).await.channel, channel);
        }
        assert_eq!(client.spublish("s", "s").await.unwrap(), 1);
        assert_eq!(next(&mut messages).await.channel, "s");
        assert_eq!(sub.subscriptions(SubscriptionKind::Channel), ["a", "b"]);

        sub.unsubscribe_all().await.unwrap();
        assert!(sub.subscriptions(SubscriptionKind::Channel).is_empty());
        assert_eq!(client.publish("a", "x").await.unwrap(), 0);
        assert_eq!(client.publish("b", "x").await.unwrap(), 0);
        // Of one kind only.
        assert_eq!(client.publish("p.1", "still").await.unwrap(), 1);
        assert_eq!(next(&mut messages).await.payload, "still");
        sub.punsubscribe_all().await.unwrap();
        sub.sunsubscribe_all().await.unwrap();
        assert_eq!(client.publish("p.1", "x").await.unwrap(), 0);
        assert_eq!(client.spublish("s", "x").await.unwrap(), 0);
        // Nothing left: nothing to do.
        sub.unsubscribe_all().await.unwrap();
    }
}

fn describe(delivery: &Delivery) -> String {
    match delivery {
        Delivery::Message(m) => String::from_utf8_lossy(&m.payload).into_owned(),
        Delivery::Disconnected { .. } => "<disconnected>".into(),
        Delivery::Resubscribed => "<resubscribed>".into(),
        other => format!("{other:?}"),
    }
}

async fn next_delivery(deliveries: &mut Deliveries) -> String {
    let delivery = tokio::time::timeout(Duration::from_secs(10), deliveries.recv())
        .await
        .expect("nothing came")
        .expect("the stream ended")
        .expect("the stream failed");
    describe(&delivery)
}

/// Until the subscriber's buffer holds `n` messages (received, unread).
async fn buffered(deliveries: &Deliveries, n: usize) {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while deliveries.len() < n {
        assert!(
            std::time::Instant::now() < deadline,
            "{} buffered",
            deliveries.len()
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

#[tokio::test]
async fn a_drop_and_the_resubscription_come_out_in_order_with_the_messages() {
    let server = RedisServer::start().unwrap();
    let client = Client::connect(config(&server.url())).await.unwrap();
    for protocol in PROTOCOLS {
        let proxy = FaultProxy::start(server.addr()).unwrap();
        let (sub, messages) = subscriber(&proxy.url(), protocol).await;
        let mut deliveries = messages.with_gaps();
        sub.subscribe("ch").await.unwrap();
        let mut events = sub.events();
        assert_eq!(client.publish("ch", "a").await.unwrap(), 1);
        buffered(&deliveries, 1).await;
        proxy.reset_all();
        assert_eq!(resubscribed(&mut events).await, ["ch"]);
        assert_eq!(client.publish("ch", "b").await.unwrap(), 1);
        let mut seen = Vec::new();
        for _ in 0..4 {
            seen.push(next_delivery(&mut deliveries).await);
        }
        assert_eq!(seen, ["a", "<disconnected>", "<resubscribed>", "b"]);
        // The plain stream of the same kind of subscriber skips the markers.
        let (sub, mut messages) = subscriber(&proxy.url(), protocol).await;
        sub.subscribe("ch").await.unwrap();
        let mut events = sub.events();
        proxy.reset_all();
        resubscribed(&mut events).await;
        client.publish("ch", "c").await.unwrap();
        assert_eq!(next(&mut messages).await.payload, "c");
    }
}

#[tokio::test]
async fn a_drop_behind_a_full_buffer_waits_its_turn_behind_the_messages() {
    let server = RedisServer::start().unwrap();
    let client = Client::connect(config(&server.url())).await.unwrap();
    let proxy = FaultProxy::start(server.addr()).unwrap();
    let (sub, messages) = subscriber(&proxy.url(), Protocol::Resp3).await;
    let mut deliveries = messages.with_gaps();
    sub.subscribe("ch").await.unwrap();
    let mut events = sub.events();
    // More than the buffer holds, none read.
    let mut p = Pipeline::new();
    for i in 0..MESSAGE_BUFFER + 100 {
        p.publish("ch", i);
    }
    client.pipeline(&p).await.unwrap();
    buffered(&deliveries, MESSAGE_BUFFER).await;
    proxy.reset_all();
    // Not reading, the subscriber learns of the drop when it writes: it
    // holds a message it had no room for, which goes before the marker.
    let writer = sub.with_timeout(None);
    let wake = tokio::spawn(async move { writer.subscribe("wake").await });
    // Once the consumer makes room, the subscriber comes back; then
    // "after" is published.
    let publisher = tokio::spawn(async move {
        resubscribed(&mut events).await;
        assert_eq!(client.publish("ch", "after").await.unwrap(), 1);
    });
    let mut before = 0usize;
    let first_marker = loop {
        let delivery = next_delivery(&mut deliveries).await;
        match delivery.parse::<usize>() {
            Ok(i) => {
                assert_eq!(i, before, "out of order");
                before += 1;
            }
            Err(_) => break delivery,
        }
    };
    assert!(
        before >= MESSAGE_BUFFER,
        "only {before} messages came before the marker"
    );
    assert_eq!(first_marker, "<disconnected>");
    assert_eq!(next_delivery(&mut deliveries).await, "<resubscribed>");
    assert_eq!(next_delivery(&mut deliveries).await, "after");
    publisher.await.unwrap();
    wake.await.unwrap().unwrap();
}

#[tokio::test]
async fn with_timeout_gives_a_clone_its_own_deadline_and_a_black_holed_unsubscribe_still_happens() {
    let server = RedisServer::start().unwrap();
    let client = Client::connect(config(&server.url())).await.unwrap();
    let proxy = FaultProxy::start(server.addr()).unwrap();
    // No configured deadline; one request written at a time, so that what
    // comes behind the first black-holed one is given up unwritten.
    let cfg = config(&proxy.url())
        .into_builder()
        .protocol(Protocol::Resp3)
        .max_in_flight(1)
        .build();
    let (sub, mut messages) = Subscriber::connect(cfg).await.unwrap();
    sub.subscribe(["gone", "kept"]).await.unwrap();
    proxy.black_hole();
    let hasty = sub.with_timeout(Some(Duration::from_millis(300)));
    let started = std::time::Instant::now();
    let err = tokio::time::timeout(Duration::from_secs(5), hasty.subscribe(["x", "y"]))
        .await
        .expect("with_timeout's deadline was ignored")
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout, "{err}");
    assert!(started.elapsed() < Duration::from_secs(2));
    assert!(err.to_string().contains("SUBSCRIBE of 2 channels"), "{err}");
    // The original handle keeps no deadline.
    assert!(
        tokio::time::timeout(Duration::from_millis(500), sub.subscribe("z"))
            .await
            .is_err(),
        "confirmed through a black hole?"
    );
    let err = hasty.unsubscribe("gone").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout, "{err}");
    assert!(
        err.to_string().contains("UNSUBSCRIBE of 1 channel"),
        "{err}"
    );
    // Off the record at once, and carried out once the network heals.
    assert_eq!(sub.subscriptions(SubscriptionKind::Channel), ["kept"]);
    proxy.resume();
    // The first is written before the late confirmations come (and their
    // undos are written), the second after.
    sub.subscribe("kept").await.unwrap();
    sub.subscribe("kept").await.unwrap();
    assert_eq!(client.publish("gone", "unheard").await.unwrap(), 0);
    for channel in ["x", "y", "z"] {
        assert_eq!(
            client.publish(channel, "unheard").await.unwrap(),
            0,
            "{channel}"
        );
    }
    assert_eq!(client.publish("kept", "heard").await.unwrap(), 1);
    assert_eq!(next(&mut messages).await.payload, "heard");
}

#[tokio::test]
async fn a_given_up_subscription_is_not_undone_under_a_caller_that_still_waits_for_it() {
    let server = RedisServer::start().unwrap();
    let client = Client::connect(config(&server.url())).await.unwrap();
    let proxy = FaultProxy::start(server.addr()).unwrap();
    let (sub, mut messages) = subscriber_with_deadline(&proxy, Protocol::Resp3).await;
    proxy.black_hole();
    // Written, then given up at its deadline…
    let err = sub.subscribe("shared").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout, "{err}");
    // …while another caller's SUBSCRIBE of the same channel is written
    // behind it and waits.
    let patient = sub.with_timeout(None);
    let waiting = tokio::spawn(async move { patient.subscribe("shared").await });
    tokio::time::sleep(Duration::from_millis(100)).await;
    proxy.resume();
    waiting.await.unwrap().unwrap();
    assert_eq!(sub.subscriptions(SubscriptionKind::Channel), ["shared"]);
    // Had the first been undone, its UNSUBSCRIBE would follow the second.
    sub.subscribe("sync").await.unwrap();
    assert_eq!(client.publish("shared", "heard").await.unwrap(), 1);
    assert_eq!(next(&mut messages).await.payload, "heard");
}
