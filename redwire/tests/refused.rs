//! The shared client refuses every command that would break
//! one-request-one-reply or change the connection under the other callers, and
//! it does so before anything is written: concurrent callers keep getting their
//! own replies, and the server never sees the refused command.

mod support;

use redwire::{cmd, Client, Cmd, ErrorKind, Pipeline, Value};
use redwire_testkit::{Frame, RedisServer};
use std::time::Duration;
use support::config;

/// Each command with a word its error must contain (where it belongs).
fn refused() -> Vec<(Cmd, &'static str)> {
    vec![
        (Cmd::new(), "no reply"),
        (cmd("UNSUBSCRIBE").arg("a").arg("b"), "dedicated connection"),
        (cmd("punsubscribe"), "dedicated connection"),
        (cmd("SUNSUBSCRIBE").arg("s"), "dedicated connection"),
        (cmd("SUBSCRIBE").arg("c"), "dedicated connection"),
        (cmd("MONITOR"), "dedicated connection"),
        (cmd("CLIENT").arg("REPLY").arg("SKIP"), "never allowed"),
        (cmd("client").arg("reply").arg("off"), "never allowed"),
        (cmd("MULTI"), "Pipeline::atomic"),
        (cmd("EXEC"), "Pipeline::atomic"),
        (cmd("DISCARD"), "Pipeline::atomic"),
        (cmd("WATCH").arg("k"), "dedicated connection"),
        (cmd("UNWATCH"), "dedicated connection"),
        (cmd("SELECT").arg(1), "ConfigBuilder::database"),
        (cmd("HELLO").arg(2), "Config"),
        (cmd("AUTH").arg("pw"), "Config"),
        (cmd("RESET"), "Client::close"),
        (cmd("QUIT"), "Client::close"),
        (cmd("CLIENT").arg("SETNAME").arg("x"), "client_name"),
        (
            cmd("CLIENT").arg("TRACKING").arg("on"),
            "dedicated connection",
        ),
        (
            cmd("CLIENT").arg("NO-EVICT").arg("on"),
            "dedicated connection",
        ),
        (cmd("READONLY"), "dedicated connection"),
        (cmd("ASKING"), "Pipeline"),
    ]
}

/// Sends `bad` in the middle of 40 concurrent GETs and checks that it is
/// refused with a pointer to where it belongs, and that every GET got its own
/// value.
async fn refused_amid_traffic(client: &Client, bad: &Cmd, hint: &str) {
    let mut gets = Vec::new();
    for i in 0..40 {
        let c = client.clone();
        gets.push(tokio::spawn(async move {
            let key = format!("key:{i}");
            c.send_timeout(&cmd("GET").arg(&key), Some(Duration::from_secs(5)))
                .await
                .map(|v| (key, v))
        }));
        if i == 20 {
            let err = client
                .send_timeout(bad, Some(Duration::from_secs(2)))
                .await
                .expect_err("a shared client must refuse it");
            assert_eq!(err.kind(), ErrorKind::Unsupported, "{bad:?}: {err}");
            assert!(!err.may_have_executed());
            assert!(err.message().contains(hint), "{bad:?}: {err}");
            assert!(err.message().contains("shared client"), "{err}");
            let forgotten = client.send_and_forget(bad).await.unwrap_err();
            assert_eq!(forgotten.kind(), ErrorKind::Unsupported);
        }
    }
    for get in gets {
        let (key, value) = get.await.unwrap().unwrap();
        assert_eq!(
            value,
            Value::Bulk(key.clone().into()),
            "{bad:?} mixed up replies"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commands_that_break_the_fifo_are_refused_before_they_are_written() {
    let server = RedisServer::start().unwrap();
    for i in 0..40 {
        let key = format!("key:{i}");
        server.command(&["SET", &key, &key]).unwrap();
    }
    for protocol in [2, 3] {
        let url = format!("{}?protocol={protocol}", server.url());
        let client = Client::connect(config(&url)).await.unwrap();
        for (bad, hint) in refused() {
            refused_amid_traffic(&client, &bad, hint).await;
        }
        // The connection was never disturbed: same database, one connection.
        let n: i64 = client.query(&cmd("DBSIZE")).await.unwrap();
        assert_eq!(n, 40);
    }
    let stats = match server.command(&["INFO", "commandstats"]).unwrap() {
        Frame::Bulk(b) => String::from_utf8_lossy(&b).into_owned(),
        other => panic!("{other:?}"),
    };
    for name in [
        "unsubscribe",
        "punsubscribe",
        "sunsubscribe",
        "subscribe",
        "monitor",
        "client|reply",
        "multi",
        "exec",
        "discard",
        "watch",
        "unwatch",
        "select",
        "auth",
        "reset",
        "quit",
        "client|setname",
        "client|tracking",
        "client|no-evict",
        "readonly",
        "asking",
    ] {
        assert!(
            !stats.contains(&format!("cmdstat_{name}:")),
            "the server received {name}:\n{stats}"
        );
    }
    assert!(stats.contains("cmdstat_get:calls=1840,"), "{stats}");
}

#[tokio::test]
async fn pipelines_are_checked_entry_by_entry() {
    let server = RedisServer::start().unwrap();
    let client = Client::connect(config(&server.url())).await.unwrap();

    let mut hand_made = Pipeline::new();
    hand_made
        .add(cmd("MULTI"))
        .add(cmd("INCR").arg("n"))
        .add(cmd("EXEC"));
    assert!(!hand_made.is_shareable());
    let err = client.pipeline(&hand_made).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unsupported);
    assert!(err.message().contains("Pipeline::atomic"), "{err}");

    let mut with_select = Pipeline::new();
    with_select
        .add(cmd("GET").arg("a"))
        .add(cmd("SELECT").arg(2));
    let err = client.pipeline(&with_select).await.unwrap_err();
    assert!(err.message().starts_with("SELECT"), "{err}");

    // A transaction is made with `atomic`, and it still refuses bad entries.
    let mut tx = Pipeline::new();
    tx.atomic()
        .add(cmd("INCR").arg("n"))
        .add(cmd("INCR").arg("n"));
    let results = client.pipeline(&tx).await.unwrap();
    assert_eq!(results.len(), 2);
    assert_eq!(results[1].as_ref().unwrap(), &Value::Int(2));
    let mut tx = Pipeline::new();
    tx.atomic().add(cmd("WATCH").arg("n"));
    assert!(client.pipeline(&tx).await.is_err());

    // ASKING only with the command it is for.
    let mut asking = Pipeline::new();
    asking.add(cmd("GET").arg("n")).add(cmd("ASKING"));
    let err = client.pipeline(&asking).await.unwrap_err();
    assert!(err.message().contains("ASKING"), "{err}");
    asking.add(cmd("GET").arg("n"));
    assert!(asking.is_shareable());
    let results = client.pipeline(&asking).await.unwrap();
    assert_eq!(results.len(), 3);
    assert_eq!(results[2].as_ref().unwrap(), &Value::Bulk("2".into()));

    let n: i64 = client.query(&cmd("GET").arg("n")).await.unwrap();
    assert_eq!(n, 2, "nothing refused ran");
}
