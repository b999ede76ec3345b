//! The pool of dedicated connections against a real redis-server: its limits
//! and checkout timeout, idle and lifetime expiry, broken connections
//! replaced, every dirty state reset or discarded before the next user, and no
//! reply of a checkout that gave up ever reaching the next user.

#![cfg(feature = "pool")]

mod support;

use redwire::prelude::*;
use redwire::Pool;
use redwire_testkit::RedisServer;
use std::time::{Duration, Instant};
use support::{client_info, config};

async fn one_connection_pool(server: &RedisServer) -> Pool {
    Pool::builder(config(&server.url()))
        .max_size(1)
        .build()
        .await
        .unwrap()
}

#[tokio::test]
async fn connections_are_reused_and_the_size_and_checkout_timeout_hold() {
    let server = RedisServer::start().unwrap();
    let pool = Pool::builder(config(&server.url()))
        .max_size(2)
        .checkout_timeout(Duration::from_millis(200))
        .build()
        .await
        .unwrap();
    let id = {
        let mut conn = pool.get().await.unwrap();
        conn.query::<i64>(&cmd("CLIENT").arg("ID")).await.unwrap()
    };
    let again: i64 = pool
        .get()
        .await
        .unwrap()
        .query(&cmd("CLIENT").arg("ID"))
        .await
        .unwrap();
    assert_eq!(again, id, "the same connection came back");
    assert_eq!(pool.state().created, 1);

    let a = pool.get().await.unwrap();
    let b = pool.get().await.unwrap();
    let state = pool.state();
    assert_eq!((state.in_use, state.idle, state.created), (2, 0, 2));
    let err = pool.get().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout);
    assert!(err.message().contains("2 in use"), "{err}");
    assert_eq!(pool.state().timed_out, 1);

    // A waiter gets the connection given back.
    let waiter = {
        let pool = pool.clone();
        tokio::spawn(async move { pool.get().await.map(|_| ()) })
    };
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(pool.state().waiting, 1);
    drop(a);
    waiter.await.unwrap().unwrap();
    drop(b);
    let state = pool.state();
    assert_eq!((state.in_use, state.idle), (0, 2));
}

#[tokio::test]
async fn min_idle_idle_timeout_and_max_lifetime() {
    let server = RedisServer::start().unwrap();
    let pool = Pool::builder(config(&server.url()))
        .min_idle(2)
        .build()
        .await
        .unwrap();
    assert_eq!(pool.state().idle, 2, "made before the first checkout");

    let pool = Pool::builder(config(&server.url()))
        .max_lifetime(Some(Duration::from_millis(200)))
        .build()
        .await
        .unwrap();
    drop(pool.get().await.unwrap());
    tokio::time::sleep(Duration::from_millis(300)).await;
    drop(pool.get().await.unwrap());
    let state = pool.state();
    assert_eq!(
        state.created, 2,
        "the old connection was not handed out again"
    );
    assert!(state.discarded >= 1);

    let pool = Pool::builder(config(&server.url()))
        .idle_timeout(Some(Duration::from_millis(200)))
        .build()
        .await
        .unwrap();
    drop(pool.get().await.unwrap());
    assert_eq!(pool.state().idle, 1);
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while pool.state().idle > 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "the idle connection stayed"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(pool.state().discarded, 1);
}

#[tokio::test]
async fn a_broken_connection_is_replaced() {
    let server = RedisServer::start().unwrap();
    let client = Client::connect(config(&server.url())).await.unwrap();
    // Checked on every checkout: the kill is found however soon it comes.
    let pool = Pool::builder(config(&server.url()))
        .max_size(1)
        .check_idle_after(Duration::ZERO)
        .build()
        .await
        .unwrap();
    let id: i64 = pool
        .get()
        .await
        .unwrap()
        .query(&cmd("CLIENT").arg("ID"))
        .await
        .unwrap();
    client
        .send(&cmd("CLIENT").arg("KILL").arg("ID").arg(id))
        .await
        .unwrap();
    // The next user gets a working connection, a new one.
    let mut conn = pool.get().await.unwrap();
    let new_id: i64 = conn.query(&cmd("CLIENT").arg("ID")).await.unwrap();
    assert_ne!(new_id, id);
    assert_eq!(conn.incr("n").await.unwrap(), 1);
    drop(conn);
    let state = pool.state();
    assert_eq!((state.created, state.discarded), (2, 1));
}

#[tokio::test]
async fn every_dirty_state_is_cleared_or_discarded_before_the_next_user() {
    let server = RedisServer::start().unwrap();
    let client = Client::connect(config(&server.url())).await.unwrap();
    let pool = one_connection_pool(&server).await;

    // Another database.
    pool.get()
        .await
        .unwrap()
        .send(&cmd("SELECT").arg(4))
        .await
        .unwrap();
    let mut conn = pool.get().await.unwrap();
    assert_eq!(client_info(&mut conn, "db").await, "0");
    drop(conn);

    // An open transaction.
    {
        let mut conn = pool.get().await.unwrap();
        conn.send(&cmd("MULTI")).await.unwrap();
        conn.send(&cmd("SET").arg("queued").arg(1)).await.unwrap();
    }
    let mut conn = pool.get().await.unwrap();
    assert_eq!(conn.incr("n").await.unwrap(), 1, "a reply, not QUEUED");
    assert_eq!(client.get::<Option<i64>>("queued").await.unwrap(), None);
    drop(conn);

    // Watched keys: a change of the key would abort the next user's transaction.
    pool.get()
        .await
        .unwrap()
        .send(&cmd("WATCH").arg("w"))
        .await
        .unwrap();
    client.set("w", "changed").await.unwrap();
    let mut conn = pool.get().await.unwrap();
    let mut tx = Pipeline::new();
    tx.atomic().add(cmd("INCR").arg("n"));
    assert!(conn.pipeline(&tx).await.is_ok(), "a WATCH was left behind");
    drop(conn);
    assert_eq!(pool.state().created, 1, "cleared, not replaced");

    // A name no command undoes: discarded.
    pool.get()
        .await
        .unwrap()
        .send(&cmd("CLIENT").arg("SETNAME").arg("dirty"))
        .await
        .unwrap();
    let mut conn = pool.get().await.unwrap();
    assert_eq!(client_info(&mut conn, "name").await, "");
    drop(conn);
    let state = pool.state();
    assert_eq!((state.created, state.discarded), (2, 1));
}

#[tokio::test]
async fn no_reply_of_a_checkout_that_gave_up_reaches_the_next_user() {
    let server = RedisServer::start().unwrap();
    let client = Client::connect(config(&server.url())).await.unwrap();
    let pool = one_connection_pool(&server).await;
    client.set("mine", "the next user's value").await.unwrap();
    for _ in 0..20 {
        let mut conn = pool.get().await.unwrap();
        // Sent, then given up before its reply came.
        let slow = conn.send(&cmd("DEBUG").arg("SLEEP").arg("0.02"));
        assert!(tokio::time::timeout(Duration::from_millis(2), slow)
            .await
            .is_err());
        drop(conn);
        let mut next = pool.get().await.unwrap();
        let v: String = next.get("mine").await.unwrap();
        assert_eq!(v, "the next user's value");
    }
    assert_eq!(
        pool.state().created,
        1,
        "the connection was reused throughout"
    );
}

#[tokio::test]
async fn a_pooled_blocking_pop_given_up_pops_nothing_and_its_connection_goes() {
    let server = RedisServer::start().unwrap();
    let client = Client::connect(config(&server.url())).await.unwrap();
    let pool = one_connection_pool(&server).await;
    {
        let mut conn = pool.get().await.unwrap();
        let pop = conn.blpop::<String>(["jobs"], 0.0);
        assert!(tokio::time::timeout(Duration::from_millis(100), pop)
            .await
            .is_err());
    }
    // The next user gets a new connection, at once.
    let mut conn = pool.get().await.unwrap();
    assert_eq!(conn.incr("n").await.unwrap(), 1);
    // Once the server has seen the blocked connection go, a push stays.
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    loop {
        let list: String = client.query(&cmd("CLIENT").arg("LIST")).await.unwrap();
        if !list.contains("cmd=blpop") {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the blocked connection stayed"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    client.rpush("jobs", ["j"]).await.unwrap();
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(client.llen("jobs").await.unwrap(), 1, "nobody popped it");
    drop(conn);
    let state = pool.state();
    assert_eq!((state.created, state.discarded), (2, 1));
}

#[tokio::test]
async fn a_transaction_on_the_pool() {
    let server = RedisServer::start().unwrap();
    let pool = one_connection_pool(&server).await;
    let results = pool
        .transaction(["stock"], |conn| {
            Box::pin(async move {
                let stock: i64 = conn.get::<Option<i64>>("stock").await?.unwrap_or(3);
                let mut writes = Pipeline::new();
                writes.set("stock", stock - 1);
                Ok(writes)
            })
        })
        .await
        .unwrap();
    assert_eq!(results.len(), 1);
    let mut conn = pool.get().await.unwrap();
    assert_eq!(conn.get::<i64>("stock").await.unwrap(), 2);
}

#[tokio::test]
async fn only_a_connection_that_sat_idle_is_pinged_before_reuse() {
    let server = RedisServer::start().unwrap();
    let client = Client::connect(config(&server.url())).await.unwrap();
    let pool = Pool::builder(config(&server.url()))
        .max_size(1)
        .check_idle_after(Duration::from_millis(300))
        .build()
        .await
        .unwrap();
    let _ = pool.get().await.unwrap();
    let before = support::calls(&client, "ping").await;
    for _ in 0..50 {
        let mut conn = pool.get().await.unwrap();
        conn.incr("n").await.unwrap();
    }
    assert_eq!(
        support::calls(&client, "ping").await,
        before,
        "a busy pool pinged"
    );
    tokio::time::sleep(Duration::from_millis(400)).await;
    let mut conn = pool.get().await.unwrap();
    conn.incr("n").await.unwrap();
    assert_eq!(support::calls(&client, "ping").await, before + 1);
}

#[tokio::test]
async fn a_wrong_password_fails_the_checkout_at_once_with_the_servers_error() {
    let server = RedisServer::builder().password("right").start().unwrap();
    let url = format!("redis://:wrong@127.0.0.1:{}", server.port());
    let pool = Pool::builder(config(&url))
        .checkout_timeout(Duration::from_secs(5))
        .build()
        .await
        .unwrap();
    // The first checkout and the ones after it, while it stays wrong.
    for _ in 0..3 {
        let started = Instant::now();
        let err = pool.get().await.unwrap_err();
        assert_eq!(err.code(), Some("WRONGPASS"), "{err}");
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "waited {:?} for an error waiting does not cure",
            started.elapsed()
        );
    }
    let state = pool.state();
    assert_eq!((state.waiting, state.timed_out), (0, 0));
}

#[tokio::test]
async fn after_a_password_change_the_connections_logged_in_before_still_serve() {
    let server = RedisServer::builder().password("old").start().unwrap();
    let url = format!("redis://:old@127.0.0.1:{}", server.port());
    // Every checkout PINGs: the idle connection is not handed out at once.
    let pool = Pool::builder(config(&url))
        .max_size(2)
        .check_idle_after(Duration::ZERO)
        .checkout_timeout(Duration::from_secs(5))
        .build()
        .await
        .unwrap();
    let mut first = pool.get().await.unwrap();
    first
        .send(&cmd("CONFIG").arg("SET").arg("requirepass").arg("new"))
        .await
        .unwrap();
    // A new connection cannot log in any more...
    let err = pool.get().await.unwrap_err();
    assert_eq!(err.code(), Some("WRONGPASS"), "{err}");
    // ...but the one logged in before, back in the pool, serves.
    let id: i64 = first.query(&cmd("CLIENT").arg("ID")).await.unwrap();
    drop(first);
    let mut again = pool.get().await.unwrap();
    let same: i64 = again.query(&cmd("CLIENT").arg("ID")).await.unwrap();
    assert_eq!(same, id);
}

#[tokio::test]
async fn a_refused_checkout_waits_its_timeout_and_says_why() {
    let server = RedisServer::start().unwrap();
    server.stop();
    let pool = Pool::builder(config(&server.url()))
        .checkout_timeout(Duration::from_millis(800))
        .build()
        .await
        .unwrap();
    let started = Instant::now();
    let err = pool.get().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout, "{err}");
    assert!(
        started.elapsed() >= Duration::from_millis(700),
        "a refusal is retried until the checkout timeout, not given up at {:?}",
        started.elapsed()
    );
    assert!(err.message().contains("refused"), "{err}");
    let why = std::error::Error::source(&err).expect("the connect error as the source");
    assert!(why.to_string().contains("refused"), "{why}");
    assert_eq!(pool.state().timed_out, 1);
}

#[tokio::test]
async fn a_server_that_comes_back_in_time_serves_the_checkout() {
    let server = RedisServer::start().unwrap();
    server.stop();
    let pool = Pool::builder(config(&server.url()))
        .checkout_timeout(Duration::from_secs(5))
        .build()
        .await
        .unwrap();
    let restarted = tokio::task::spawn_blocking(move || {
        std::thread::sleep(Duration::from_secs(1));
        server.restart().unwrap();
        server
    });
    let mut conn = pool.get().await.expect("served once the server was back");
    assert_eq!(conn.incr("n").await.unwrap(), 1);
    let _server = restarted.await.unwrap();
}

#[tokio::test]
async fn a_pooled_connection_takes_a_deadline_of_its_own() {
    let server = RedisServer::start().unwrap();
    let cfg = config(&server.url())
        .into_builder()
        .command_timeout(Duration::from_millis(100))
        .build();
    let pool = Pool::builder(cfg).max_size(1).build().await.unwrap();
    let mut conn = pool.get().await.unwrap();
    let slow = cmd("DEBUG").arg("SLEEP").arg(0.3);
    let reply = conn.send_timeout(&slow, None).await.unwrap();
    assert_eq!(reply, Value::Simple("OK".into()), "no deadline at all");
    let err = conn
        .send_timeout(&slow, Some(Duration::from_millis(20)))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout);
    assert!(err.message().contains("20ms"), "{err}");
}

#[cfg(feature = "tls")]
#[tokio::test]
async fn a_certificate_that_does_not_verify_fails_the_checkout_at_once() {
    let server = RedisServer::builder().tls(true).start().unwrap();
    let other = redwire_testkit::TestCa::generate().unwrap();
    let path = server.dir().join("other-ca.pem");
    other.write_cert(&path).unwrap();
    let cfg = config(&server.tls_url().unwrap())
        .into_builder()
        .tls(redwire::TlsConfig::default().ca_file(&path))
        .build();
    let pool = Pool::builder(cfg)
        .checkout_timeout(Duration::from_secs(5))
        .build()
        .await
        .unwrap();
    let started = Instant::now();
    let err = pool.get().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Tls, "{err}");
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "waited {:?}",
        started.elapsed()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_spawned_pool_transaction_borrows_its_tasks_data() {
    let server = RedisServer::start().unwrap();
    let client = Client::connect(config(&server.url())).await.unwrap();
    let pool = Pool::builder(config(&server.url()))
        .max_size(2)
        .build()
        .await
        .unwrap();
    let mut tasks = Vec::new();
    for id in 1..=3 {
        let pool = pool.clone();
        let audit = client.clone();
        let account = format!("acct:{id}");
        tasks.push(tokio::spawn(async move {
            // The body borrows what the task owns, with no copies.
            pool.transaction(&account, |c| {
                Box::pin(async {
                    let balance: i64 = c.get::<Option<i64>>(&account).await?.unwrap_or(100);
                    audit.incr("attempts").await?;
                    let mut writes = Pipeline::new();
                    writes.set(&account, balance + id);
                    Ok(writes)
                })
            })
            .await
        }));
    }
    for task in tasks {
        assert_eq!(task.await.unwrap().unwrap().len(), 1);
    }
    for id in 1..=3 {
        let balance: i64 = client.get(format!("acct:{id}")).await.unwrap();
        assert_eq!(balance, 100 + id);
    }
    assert_eq!(client.get::<i64>("attempts").await.unwrap(), 3);
}
