//! The client against a real redis-server: commands, conversions, pipelines,
//! transactions, fire-and-forget, connection settings kept across reconnects,
//! unix sockets, and secrets kept out of every message.

mod support;

use redwire::{cmd, Client, ConnectionState, ErrorKind, Event, Pipeline, Value};
use redwire_testkit::RedisServer;
use std::collections::HashMap;
use std::time::Duration;
use support::{config, wait_event};

#[tokio::test]
async fn commands_and_conversions() {
    let server = RedisServer::start().unwrap();
    let client = Client::connect(config(&server.url())).await.unwrap();
    assert_eq!(client.state(), ConnectionState::Connected);

    assert!(client
        .send(&cmd("SET").arg("s").arg("hello"))
        .await
        .unwrap()
        .is_ok());
    let s: String = client.query(&cmd("GET").arg("s")).await.unwrap();
    assert_eq!(s, "hello");
    let missing: Option<String> = client.query(&cmd("GET").arg("nope")).await.unwrap();
    assert_eq!(missing, None);
    let n: i64 = client.query(&cmd("INCRBY").arg("n").arg(41)).await.unwrap();
    assert_eq!(n, 41);
    let n: u32 = client.query(&cmd("GET").arg("n")).await.unwrap();
    assert_eq!(n, 41);

    client
        .send(&cmd("HSET").arg("h").arg("a").arg(1).arg("b").arg(2))
        .await
        .unwrap();
    let h: HashMap<String, i64> = client.query(&cmd("HGETALL").arg("h")).await.unwrap();
    assert_eq!(h, HashMap::from([("a".into(), 1), ("b".into(), 2)]));

    client
        .send(&cmd("RPUSH").arg("l").arg(vec!["x", "y", "z"]))
        .await
        .unwrap();
    let l: Vec<String> = client
        .query(&cmd("LRANGE").arg("l").arg(0).arg(-1))
        .await
        .unwrap();
    assert_eq!(l, ["x", "y", "z"]);

    // Binary-safe both ways.
    let blob: Vec<u8> = (0..=255).collect();
    client
        .send(&cmd("SET").arg("bin").arg(&blob))
        .await
        .unwrap();
    let back: Vec<u8> = client.query(&cmd("GET").arg("bin")).await.unwrap();
    assert_eq!(back, blob);

    // RESP3 types come through as such.
    let d: f64 = client
        .query(&cmd("ZADD").arg("z").arg("INCR").arg(1.5).arg("m"))
        .await
        .unwrap();
    assert_eq!(d, 1.5);

    // A conversion that cannot work is a type error, not a panic.
    let err = client.query::<i64>(&cmd("GET").arg("s")).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Type);
}

#[tokio::test]
async fn server_errors_are_values_with_codes() {
    let server = RedisServer::start().unwrap();
    let client = Client::connect(config(&server.url())).await.unwrap();
    client.send(&cmd("SET").arg("k").arg("v")).await.unwrap();
    let err = client
        .send(&cmd("LPUSH").arg("k").arg("x"))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Server);
    assert_eq!(err.code(), Some("WRONGTYPE"));
    let err = client
        .send(
            &cmd("EVALSHA")
                .arg("0123456789012345678901234567890123456789")
                .arg(0),
        )
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("NOSCRIPT"));
    // The connection is fine afterwards.
    assert_eq!(
        client.send(&cmd("PING")).await.unwrap(),
        Value::Simple("PONG".into())
    );
}

#[tokio::test]
async fn pipeline_returns_one_result_per_command() {
    let server = RedisServer::start().unwrap();
    let client = Client::connect(config(&server.url())).await.unwrap();
    let mut p = Pipeline::new();
    p.add(cmd("SET").arg("k").arg("v"))
        .add(cmd("LPUSH").arg("k").arg("x"))
        .add(cmd("GET").arg("k"));
    let results = client.pipeline(&p).await.unwrap();
    assert_eq!(results.len(), 3);
    assert!(results[0].as_ref().unwrap().is_ok());
    assert_eq!(results[1].as_ref().unwrap_err().code(), Some("WRONGTYPE"));
    assert_eq!(results[2].as_ref().unwrap(), &Value::Bulk("v".into()));
    assert!(client.pipeline(&Pipeline::new()).await.unwrap().is_empty());
}

/// A command goes out whole with any number of arguments, sent by reference
/// and by value: those of fewer than 10 on the short path with a one-digit
/// count, those of 10 and more on the other, up to hundreds, where the count
/// no longer fits in a byte (a one-digit header for them would be wrong, or
/// overflow).
#[tokio::test]
async fn commands_of_any_argument_count_go_out_whole() {
    use redwire::Commands;
    let server = RedisServer::start().unwrap();
    let client = Client::connect(config(&server.url())).await.unwrap();
    for argc in (3..=12).chain([100, 207, 208, 230, 255, 256, 257, 300]) {
        let mut c = cmd("RPUSH").arg(format!("list{argc}"));
        for i in 0..argc - 2 {
            c = c.arg(i % 10);
        }
        assert_eq!(c.arg_count(), argc);
        let by_ref = client.send(&c).await.unwrap();
        assert_eq!(
            by_ref,
            Value::Int(argc as i64 - 2),
            "{argc} arguments by reference"
        );
        let by_value: i64 = (&client).command(c).await.unwrap();
        assert_eq!(by_value, 2 * (argc as i64 - 2), "{argc} arguments by value");
    }
}

#[tokio::test]
async fn atomic_pipeline_is_a_transaction() {
    let server = RedisServer::start().unwrap();
    let client = Client::connect(config(&server.url())).await.unwrap();
    let mut p = Pipeline::new();
    p.atomic()
        .add(cmd("SET").arg("t").arg(1))
        .add(cmd("INCR").arg("t"))
        .add(cmd("INCR").arg("t"));
    let results = client.pipeline(&p).await.unwrap();
    assert_eq!(results.len(), 3);
    assert_eq!(results[2].as_ref().unwrap(), &Value::Int(3));
    // A command refused while queueing aborts the whole transaction.
    let mut bad = Pipeline::new();
    bad.atomic()
        .add(cmd("INCR").arg("t"))
        .add(cmd("NOSUCHCOMMAND"));
    let err = client.pipeline(&bad).await.unwrap_err();
    assert_eq!(err.code(), Some("EXECABORT"));
    let t: i64 = client.query(&cmd("GET").arg("t")).await.unwrap();
    assert_eq!(t, 3, "nothing of the aborted transaction ran");
}

#[tokio::test]
async fn fire_and_forget_runs_and_its_reply_is_dropped() {
    let server = RedisServer::start().unwrap();
    let client = Client::connect(config(&server.url())).await.unwrap();
    for _ in 0..100 {
        client.send_and_forget(&cmd("INCR").arg("f")).await.unwrap();
    }
    // Replies of the forgotten commands must not reach this caller.
    let n: i64 = client.query(&cmd("GET").arg("f")).await.unwrap();
    assert_eq!(n, 100);
}

#[tokio::test]
async fn database_and_client_name_survive_a_reconnect() {
    let server = RedisServer::start().unwrap();
    let url = format!("{}/5?client_name=survivor", server.url());
    let client = Client::connect(config(&url)).await.unwrap();
    client
        .send(&cmd("SET").arg("where").arg("db5"))
        .await
        .unwrap();
    let mut events = client.events();

    let killed = server
        .command(&["CLIENT", "KILL", "TYPE", "normal"])
        .unwrap();
    // At least ours (a connection testkit used a moment ago may still count).
    assert!(
        matches!(killed, redwire_testkit::Frame::Integer(n) if n >= 1),
        "{killed:?}"
    );
    wait_event(&mut events, Duration::from_secs(5), |e| {
        matches!(e, Event::Connected { .. }).then_some(())
    })
    .await;

    let v: Option<String> = client.query(&cmd("GET").arg("where")).await.unwrap();
    assert_eq!(v.as_deref(), Some("db5"), "database 5 is selected again");
    let name: String = client.query(&cmd("CLIENT").arg("GETNAME")).await.unwrap();
    assert_eq!(name, "survivor");
}

#[tokio::test]
async fn resp2_only_when_asked() {
    let server = RedisServer::start().unwrap();
    let client = Client::connect(config(&format!("{}?protocol=2", server.url())))
        .await
        .unwrap();
    client
        .send(&cmd("HSET").arg("h").arg("a").arg(1))
        .await
        .unwrap();
    // RESP2 has no maps: HGETALL is a flat array.
    let reply = client.send(&cmd("HGETALL").arg("h")).await.unwrap();
    assert!(
        matches!(reply, Value::Array(ref v) if v.len() == 2),
        "{reply:?}"
    );
    let client3 = Client::connect(config(&server.url())).await.unwrap();
    let reply = client3.send(&cmd("HGETALL").arg("h")).await.unwrap();
    assert!(
        matches!(reply, Value::Map(ref v) if v.len() == 1),
        "{reply:?}"
    );
}

#[tokio::test]
async fn passwords_and_acl_users() {
    let server = RedisServer::builder()
        .password("s3cr3t-pw")
        .user("alice", "wonder-land", "on ~* &* +@all")
        .start()
        .unwrap();
    let client = Client::connect(config(&server.url())).await.unwrap();
    assert!(client
        .send(&cmd("SET").arg("a").arg(1))
        .await
        .unwrap()
        .is_ok());
    let alice = Client::connect(config(&server.user_url("alice").unwrap()))
        .await
        .unwrap();
    let who: String = alice.query(&cmd("ACL").arg("WHOAMI")).await.unwrap();
    assert_eq!(who, "alice");
    // The RESP2 path authenticates with AUTH instead of HELLO.
    let url2 = format!("{}?protocol=2", server.user_url("alice").unwrap());
    let alice2 = Client::connect(config(&url2)).await.unwrap();
    let who: String = alice2.query(&cmd("ACL").arg("WHOAMI")).await.unwrap();
    assert_eq!(who, "alice");
}

#[tokio::test]
async fn secrets_never_show() {
    let server = RedisServer::builder()
        .password("right-one")
        .start()
        .unwrap();
    let url = format!("redis://:hunter2-secret@127.0.0.1:{}", server.port());
    let cfg = config(&url);
    assert!(!format!("{cfg:?}").contains("hunter2"));
    assert!(!cfg.redacted_url().contains("hunter2"));
    let err = Client::connect(cfg).await.unwrap_err();
    assert_eq!(err.code(), Some("WRONGPASS"));
    assert!(!format!("{err} {err:?}").contains("hunter2"), "{err:?}");
    // The command's Debug shows no arguments either.
    let auth = cmd("AUTH").arg("hunter2-secret");
    assert!(!format!("{auth:?}").contains("hunter2"));
}

#[cfg(unix)]
#[tokio::test]
async fn unix_socket() {
    let server = RedisServer::builder().unix_socket(true).start().unwrap();
    let path = server.unix_socket_path().unwrap();
    let client = Client::connect(config(&format!("unix://{}?db=2", path.display())))
        .await
        .unwrap();
    client.send(&cmd("SET").arg("u").arg("x")).await.unwrap();
    let v: String = client.query(&cmd("GET").arg("u")).await.unwrap();
    assert_eq!(v, "x");
    // It really is database 2 on the same server.
    assert_eq!(
        server.command(&["SELECT", "2"]).unwrap(),
        redwire_testkit::Frame::Simple("OK".into())
    );
    let info = server.command(&["INFO", "keyspace"]).unwrap();
    let redwire_testkit::Frame::Bulk(text) = info else {
        panic!("{info:?}")
    };
    assert!(String::from_utf8_lossy(&text).contains("db2:keys=1"));
}

#[tokio::test]
async fn dropping_every_handle_ends_the_connection() {
    let server = RedisServer::start().unwrap();
    let client = Client::connect(config(&format!("{}?client_name=ephemeral", server.url())))
        .await
        .unwrap();
    let clone = client.clone();
    let list = |s: &RedisServer| match s.command(&["CLIENT", "LIST"]).unwrap() {
        redwire_testkit::Frame::Bulk(b) => String::from_utf8_lossy(&b).into_owned(),
        other => panic!("{other:?}"),
    };
    assert!(list(&server).contains("name=ephemeral"));
    drop(client);
    // One clone left: still connected.
    clone.send(&cmd("PING")).await.unwrap();
    assert!(list(&server).contains("name=ephemeral"));
    drop(clone);
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while list(&server).contains("name=ephemeral") {
        assert!(
            std::time::Instant::now() < deadline,
            "connection still open"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn streaming_commands_are_refused_on_a_shared_client() {
    let server = RedisServer::start().unwrap();
    let client = Client::connect(config(&server.url())).await.unwrap();
    let mut events = client.events();
    for c in [
        cmd("SUBSCRIBE").arg("ch"),
        cmd("monitor"),
        cmd("PSubscribe").arg("p*"),
    ] {
        let err = client.send(&c).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Unsupported, "{err}");
        assert!(err.message().contains("dedicated connection"), "{err}");
        assert_eq!(
            client.send_and_forget(&c).await.unwrap_err().kind(),
            ErrorKind::Unsupported
        );
    }
    let mut p = Pipeline::new();
    p.add(cmd("PING")).add(cmd("SUBSCRIBE").arg("x"));
    assert_eq!(
        client.pipeline(&p).await.unwrap_err().kind(),
        ErrorKind::Unsupported
    );
    // Nothing reached the server, so the connection was never disturbed.
    assert_eq!(
        client.send(&cmd("PING")).await.unwrap(),
        Value::Simple("PONG".into())
    );
    assert!(matches!(
        events.try_recv(),
        Err(tokio::sync::broadcast::error::TryRecvError::Empty)
    ));
}
