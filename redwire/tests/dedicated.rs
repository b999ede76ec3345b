//! Dedicated connections against a real redis-server: what they carry that a
//! shared client refuses, blocking commands that keep their patience and lose
//! nothing when their caller gives up, one socket that is never silently
//! re-made, and optimistic (`WATCH`) transactions that retry on conflict.

mod support;

use redwire::prelude::*;
use redwire::{ConnectionState, TransactionRetry};
use redwire_testkit::RedisServer;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use support::{client_info, config};

async fn connection(server: &RedisServer) -> Connection {
    Connection::connect(config(&server.url())).await.unwrap()
}

#[tokio::test]
async fn a_dedicated_connection_carries_the_stateful_commands_and_tracks_them() {
    let server = RedisServer::start().unwrap();
    let mut conn = connection(&server).await;
    assert!(conn.is_clean());

    conn.send(&cmd("SELECT").arg(3)).await.unwrap();
    assert_eq!(client_info(&mut conn, "db").await, "3");
    assert!(!conn.is_clean());
    conn.send(&cmd("WATCH").arg("k")).await.unwrap();
    conn.send(&cmd("MULTI")).await.unwrap();
    let queued = conn.send(&cmd("INCR").arg("k")).await.unwrap();
    assert_eq!(queued, Value::Simple("QUEUED".into()));

    conn.reset().await.unwrap();
    assert!(conn.is_clean());
    assert_eq!(client_info(&mut conn, "multi").await, "-1");
    assert_eq!(client_info(&mut conn, "db").await, "0");
    // Nothing of the discarded transaction ran.
    assert_eq!(conn.get::<Option<i64>>("k").await.unwrap(), None);

    // A name no command undoes: reset refuses, so a pool discards it.
    conn.send(&cmd("CLIENT").arg("SETNAME").arg("mine"))
        .await
        .unwrap();
    assert_eq!(
        conn.reset().await.unwrap_err().kind(),
        ErrorKind::Unsupported
    );
}

#[tokio::test]
async fn what_breaks_one_reply_per_request_is_refused_there_too() {
    let server = RedisServer::start().unwrap();
    let mut conn = connection(&server).await;
    for refused in [
        cmd("SUBSCRIBE").arg("ch"),
        cmd("MONITOR"),
        cmd("CLIENT").arg("REPLY").arg("OFF"),
        cmd("HELLO").arg(2),
        cmd("RESET"),
        Cmd::new(),
    ] {
        let err = conn.send(&refused).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Unsupported, "{refused:?}");
        assert!(err.message().contains("dedicated connection"), "{err}");
    }
    assert_eq!(conn.incr("n").await.unwrap(), 1, "nothing was sent");
}

#[tokio::test]
async fn the_shared_client_refuses_blocking_commands_and_says_where_they_run() {
    let server = RedisServer::start().unwrap();
    let client = Client::connect(config(&server.url())).await.unwrap();
    let err = client.blpop::<String>(["q"], 0.0).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unsupported);
    assert!(err.message().contains("Connection"), "{err}");
    let err = client
        .send(
            &cmd("XREAD")
                .arg("BLOCK")
                .arg(0)
                .arg("STREAMS")
                .arg("s")
                .arg("$"),
        )
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unsupported);
    // Without BLOCK, XREAD is an ordinary read.
    let none = client
        .send(&cmd("XREAD").arg("STREAMS").arg("s").arg("0"))
        .await
        .unwrap();
    assert_eq!(none, Value::Nil);
    let calls = support::calls(&client, "blpop").await;
    assert_eq!(calls, 0, "a refused command never reaches the server");
}

#[tokio::test]
async fn a_blocking_pop_whose_caller_gives_up_pops_nothing() {
    let server = RedisServer::start().unwrap();
    let client = Client::connect(config(&server.url())).await.unwrap();

    // Dropped future.
    let mut conn = connection(&server).await;
    let waiting = tokio::spawn(async move {
        let popped = conn.blpop::<String>(["jobs"], 0.0).await;
        (popped, conn)
    });
    tokio::time::sleep(Duration::from_millis(100)).await;
    waiting.abort();
    let _ = waiting.await;
    // Its own deadline passed: it is the whole deadline, shorter than the
    // block time plus the command timeout.
    let cfg = config(&server.url())
        .into_builder()
        .command_timeout(Duration::from_secs(1))
        .build();
    let mut timed = Connection::connect(cfg).await.unwrap();
    let pop = cmd("BLPOP").arg("jobs").arg(5);
    let started = Instant::now();
    let err = timed
        .send_timeout(&pop, Some(Duration::from_millis(100)))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout);
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "cut by its own deadline, after {:?}",
        started.elapsed()
    );
    assert!(timed.is_closed(), "the connection is closed at once");

    // Wait until the server has seen both connections go.
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while client_count(&client).await > 1 {
        assert!(
            std::time::Instant::now() < deadline,
            "the blocked connections stayed"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    client.rpush("jobs", ["j1"]).await.unwrap();
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(
        client.lrange::<String>("jobs", 0, -1).await.unwrap(),
        ["j1"],
        "the element is still there for someone else"
    );
    let err = timed.incr("n").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Closed, "{err}");
}

async fn client_count(client: &Client) -> usize {
    let list: String = client.query(&cmd("CLIENT").arg("LIST")).await.unwrap();
    list.lines().count()
}

#[tokio::test]
async fn a_blocking_pop_with_no_timeout_outlives_the_response_timeout() {
    let server = RedisServer::start().unwrap();
    let cfg = config(&server.url())
        .into_builder()
        .response_timeout(Some(Duration::from_millis(200)))
        .health_check_interval(Some(Duration::from_millis(50)))
        .build();
    let mut conn = Connection::connect(cfg).await.unwrap();
    let client = Client::connect(config(&server.url())).await.unwrap();
    let waiting = tokio::spawn(async move {
        let popped = conn.blpop::<String>(["jobs"], 0.0).await;
        (popped, conn)
    });
    // Five response timeouts of silence.
    tokio::time::sleep(Duration::from_millis(1_000)).await;
    client.rpush("jobs", ["late"]).await.unwrap();
    let (popped, conn) = waiting.await.unwrap();
    assert_eq!(
        popped.unwrap(),
        Some(("jobs".to_string(), "late".to_string()))
    );
    assert!(!conn.is_closed());

    // A timeout of its own: the response timeout counts from its end.
    let cfg = config(&server.url())
        .into_builder()
        .response_timeout(Some(Duration::from_millis(200)))
        .build();
    let mut conn = Connection::connect(cfg).await.unwrap();
    let popped = conn.blpop::<String>(["empty"], 0.6).await.unwrap();
    assert_eq!(popped, None);
    assert!(!conn.is_closed());
}

#[tokio::test]
async fn a_blocking_pop_gets_its_block_time_on_top_of_the_command_timeout() {
    let server = RedisServer::start().unwrap();
    let cfg = config(&server.url())
        .into_builder()
        .command_timeout(Duration::from_secs(1))
        .build();
    let mut conn = Connection::connect(cfg).await.unwrap();
    let started = Instant::now();
    let popped = conn.blpop::<String>(["empty"], 3.0).await;
    let waited = started.elapsed();
    assert_eq!(
        popped.unwrap(),
        None,
        "the server's answer when its block time ran out, not a deadline"
    );
    assert!(waited >= Duration::from_millis(2_900), "after {waited:?}");
    assert!(!conn.is_closed());
    assert_eq!(conn.incr("n").await.unwrap(), 1, "still open and usable");

    // In a pipeline the block times add up: 0.5 s + 0.5 s, then the 300 ms
    // of the command timeout.
    let cfg = config(&server.url())
        .into_builder()
        .command_timeout(Duration::from_millis(300))
        .build();
    let mut conn = Connection::connect(cfg).await.unwrap();
    let mut p = Pipeline::new();
    p.add(cmd("BLPOP").arg("a").arg(0.5))
        .add(cmd("BLPOP").arg("b").arg(0.5));
    let results = conn.pipeline(&p).await.unwrap();
    assert_eq!(results.len(), 2);
    assert!(results.iter().all(|r| *r.as_ref().unwrap() == Value::Nil));
    assert!(!conn.is_closed());
}

#[tokio::test]
async fn a_blocking_pop_with_no_timeout_outlives_the_command_timeout() {
    let server = RedisServer::start().unwrap();
    let cfg = config(&server.url())
        .into_builder()
        .command_timeout(Duration::from_millis(300))
        .build();
    let mut conn = Connection::connect(cfg).await.unwrap();
    let client = Client::connect(config(&server.url())).await.unwrap();
    let pusher = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_secs(1)).await;
        client.rpush("jobs", ["late"]).await.unwrap();
    });
    let popped = tokio::time::timeout(Duration::from_secs(10), conn.blpop::<String>(["jobs"], 0.0))
        .await
        .expect("the pushed element never arrived");
    assert_eq!(
        popped.unwrap(),
        Some(("jobs".to_string(), "late".to_string()))
    );
    assert!(!conn.is_closed());
    pusher.await.unwrap();
}

#[tokio::test]
async fn a_deadline_of_its_own_replaces_the_command_timeout() {
    let server = RedisServer::start().unwrap();
    let cfg = config(&server.url())
        .into_builder()
        .command_timeout(Duration::from_millis(200))
        .build();
    let mut conn = Connection::connect(cfg).await.unwrap();
    let slow = cmd("DEBUG").arg("SLEEP").arg(0.5);
    // None: no deadline at all, though the configuration has one.
    assert_eq!(
        conn.send_timeout(&slow, None).await.unwrap(),
        Value::Simple("OK".into())
    );
    // The configured one cuts the same command...
    let err = conn.send(&slow).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout, "{err}");
    // ...and a shorter one of its own too.
    let started = Instant::now();
    let err = conn
        .send_timeout(&slow, Some(Duration::from_millis(20)))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout, "{err}");
    assert!(err.message().contains("20ms"), "{err}");
    assert!(started.elapsed() < Duration::from_millis(400));
    // A command that does not block leaves the connection up, and the late
    // replies go to nobody.
    assert!(!conn.is_closed());
    // (It waits behind the two sleeps still running on the server.)
    let echo = conn.send_timeout(&cmd("ECHO").arg("mine"), None).await;
    assert_eq!(echo.unwrap(), Value::Bulk("mine".into()));
}

#[tokio::test]
async fn a_deadline_of_its_own_on_a_black_hole() {
    let server = RedisServer::start().unwrap();
    let proxy = redwire_testkit::FaultProxy::start(server.addr()).unwrap();
    let mut conn = Connection::connect(config(&proxy.url())).await.unwrap();
    proxy.black_hole();
    let err = tokio::time::timeout(
        Duration::from_secs(10),
        conn.send_timeout(&cmd("PING"), Some(Duration::from_millis(100))),
    )
    .await
    .expect("the deadline did not cut the request")
    .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout, "{err}");
    assert!(err.may_have_executed());
}

#[tokio::test]
async fn a_blocking_pop_across_a_server_restart_ends_with_an_error() {
    let server = RedisServer::start().unwrap();
    let mut conn = connection(&server).await;
    let waiting = tokio::spawn(async move { conn.blpop::<String>(["jobs"], 0.0).await });
    tokio::time::sleep(Duration::from_millis(100)).await;
    server.restart().unwrap();
    let outcome = tokio::time::timeout(Duration::from_secs(10), waiting)
        .await
        .expect("the blocked pop hung across the restart")
        .unwrap();
    let err = outcome.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ConnectionLost, "{err}");
    assert!(err.may_have_executed());
}

#[tokio::test]
async fn a_lost_dedicated_connection_is_not_made_again() {
    let server = RedisServer::start().unwrap();
    let client = Client::connect(config(&server.url())).await.unwrap();
    let mut conn = connection(&server).await;
    conn.send(&cmd("SELECT").arg(5)).await.unwrap();
    let id: i64 = conn.query(&cmd("CLIENT").arg("ID")).await.unwrap();
    client
        .send(&cmd("CLIENT").arg("KILL").arg("ID").arg(id))
        .await
        .unwrap();
    let err = conn.set("k", "would land in db 0").await.unwrap_err();
    assert!(
        matches!(err.kind(), ErrorKind::ConnectionLost | ErrorKind::Closed),
        "{err}"
    );
    assert!(conn.is_closed());
    assert_eq!(
        conn.set("k", "v").await.unwrap_err().kind(),
        ErrorKind::Closed
    );
    assert_eq!(client.get::<Option<String>>("k").await.unwrap(), None);
    assert_eq!(client_count(&client).await, 1, "no new connection was made");
    assert_ne!(client.state(), ConnectionState::Closed);
}

#[tokio::test]
async fn a_watch_conflict_is_retried_until_the_transaction_runs() {
    let server = RedisServer::start().unwrap();
    let client = Client::connect(config(&server.url())).await.unwrap();
    let mut conn = connection(&server).await;
    client.set("balance", 10).await.unwrap();

    let attempts = Arc::new(AtomicU32::new(0));
    let results = conn
        .transaction(["balance"], |conn| {
            let n = attempts.fetch_add(1, Ordering::SeqCst) + 1;
            let client = &client;
            Box::pin(async move {
                let balance: i64 = conn.get("balance").await?;
                if n <= 2 {
                    // Another writer changes the watched key in between.
                    client.incr_by("balance", 1).await?;
                }
                let mut writes = Pipeline::new();
                writes.set("balance", balance * 2);
                Ok(writes)
            })
        })
        .await
        .unwrap();
    assert_eq!(attempts.load(Ordering::SeqCst), 3);
    assert_eq!(results.len(), 1);
    // Doubled once, from the value after the two concurrent increments.
    assert_eq!(client.get::<i64>("balance").await.unwrap(), 24);
    assert!(conn.is_clean());
}

#[tokio::test]
async fn a_transaction_gives_up_at_its_limit_and_unwatches_on_every_way_out() {
    let server = RedisServer::start().unwrap();
    let client = Client::connect(config(&server.url())).await.unwrap();
    let mut conn = connection(&server).await;
    let retry = TransactionRetry::default().attempts(3);
    let attempts = AtomicU32::new(0);
    let err = conn
        .transaction_with("hot", retry, |conn| {
            attempts.fetch_add(1, Ordering::SeqCst);
            let client = &client;
            Box::pin(async move {
                let _: Option<i64> = conn.get("hot").await?;
                client.incr("hot").await?;
                let mut writes = Pipeline::new();
                writes.set("written", 1);
                Ok(writes)
            })
        })
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Aborted);
    assert!(err.message().contains("3 attempts"), "{err}");
    assert_eq!(attempts.load(Ordering::SeqCst), 3);
    assert_eq!(client.get::<Option<i64>>("written").await.unwrap(), None);

    // The body fails: the error comes back and nothing stays watched — a
    // transaction after a change of the key still runs.
    let err = conn
        .transaction("hot", |_| {
            Box::pin(async { Err(redwire::Error::server("ERR the body gave up")) })
        })
        .await
        .unwrap_err();
    assert!(err.message().contains("gave up"));
    assert!(conn.is_clean());
    client.incr("hot").await.unwrap();
    let mut tx = Pipeline::new();
    tx.atomic().add(cmd("INCR").arg("hot"));
    assert!(conn.pipeline(&tx).await.is_ok(), "no WATCH was left behind");

    // Nothing to write: nothing runs, nothing stays watched.
    let results = conn
        .transaction("hot", |_| Box::pin(async { Ok(Pipeline::new()) }))
        .await
        .unwrap();
    assert!(results.is_empty());
    assert!(conn.is_clean());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_spawned_transaction_borrows_the_data_its_task_owns() {
    let server = RedisServer::start().unwrap();
    let client = Client::connect(config(&server.url())).await.unwrap();
    let mut tasks = Vec::new();
    for id in 1..=4 {
        let mut conn = connection(&server).await;
        // Owned by the task, borrowed inside it: the keys, the log and a
        // client for the audit trail.
        let account = format!("acct:{id}");
        let log = String::from("log");
        let audit = client.clone();
        tasks.push(tokio::spawn(async move {
            let (key, log, audit) = (account.as_str(), &log, &audit);
            conn.transaction([key, log.as_str()], |c| {
                Box::pin(async move {
                    let balance: i64 = c.get::<Option<i64>>(key).await?.unwrap_or(100);
                    audit.incr("attempts").await?;
                    let mut writes = Pipeline::new();
                    writes.set(key, balance - 10);
                    // Every task watches the log, so they conflict.
                    writes.rpush(log, [key]);
                    Ok(writes)
                })
            })
            .await
        }));
    }
    for task in tasks {
        let results = task.await.unwrap().unwrap();
        assert_eq!(results.len(), 2);
    }
    for id in 1..=4 {
        let balance: i64 = client.get(format!("acct:{id}")).await.unwrap();
        assert_eq!(balance, 90, "acct:{id} was debited once");
    }
    let mut log: Vec<String> = client.lrange("log", 0, -1).await.unwrap();
    log.sort();
    assert_eq!(log, ["acct:1", "acct:2", "acct:3", "acct:4"]);
    let attempts: u32 = client.get("attempts").await.unwrap();
    assert!(attempts >= 4, "{attempts} attempts");
}

#[tokio::test]
async fn a_dedicated_connection_reports_its_state_and_the_reason_it_ended() {
    let server = RedisServer::start().unwrap();
    let mut conn = connection(&server).await;
    assert_eq!(conn.state(), ConnectionState::Connected);
    let mut events = conn.events();
    let id: i64 = conn.query(&cmd("CLIENT").arg("ID")).await.unwrap();
    server
        .command(&["CLIENT", "KILL", "ID", &id.to_string()])
        .unwrap();
    let reason = support::wait_event(&mut events, Duration::from_secs(5), |e| match e {
        redwire::Event::Disconnected { reason } => Some(reason.clone()),
        _ => None,
    })
    .await;
    assert_eq!(reason.kind(), ErrorKind::ConnectionLost, "{reason}");
    let deadline = Instant::now() + Duration::from_secs(5);
    while conn.state() != ConnectionState::Closed {
        assert!(Instant::now() < deadline, "still {:?}", conn.state());
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}
