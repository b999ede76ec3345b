//! The typed list commands against a real redis-server, over RESP2 and
//! RESP3: each method's effect or result, each option (`LPOS` `RANK`,
//! `COUNT`, `MAXLEN`; ends; counts) changing what the server does, and the
//! blocking pops both timing out and being served by another client's push.

mod support;

use redwire::prelude::*;
use redwire_testkit::RedisServer;
use std::time::Duration;
use support::{both_protocols, flush};

/// The whole list, through the raw path.
async fn all(client: &Client, key: &str) -> Vec<String> {
    client
        .query(&cmd("LRANGE").arg(key).arg(0).arg(-1))
        .await
        .unwrap()
}

#[tokio::test]
async fn pushing_popping_and_reading() {
    let server = RedisServer::start().unwrap();
    for client in both_protocols(&server).await {
        flush(&client).await;

        assert_eq!(client.lpush("l", ["a", "b"]).await.unwrap(), 2);
        assert_eq!(client.rpush("l", "c").await.unwrap(), 3);
        assert_eq!(all(&client, "l").await, ["b", "a", "c"]);

        // The X forms push only onto an existing list.
        assert_eq!(client.lpushx("none", "x").await.unwrap(), 0);
        assert_eq!(client.rpushx("none", ["x", "y"]).await.unwrap(), 0);
        assert_eq!(client.exists("none").await.unwrap(), 0);
        assert_eq!(client.lpushx("l", "first").await.unwrap(), 4);
        assert_eq!(client.rpushx("l", ["y", "last"]).await.unwrap(), 6);
        assert_eq!(
            all(&client, "l").await,
            ["first", "b", "a", "c", "y", "last"]
        );

        assert_eq!(
            client.lrange::<String>("l", 1, 2).await.unwrap(),
            ["b", "a"]
        );
        assert_eq!(
            client.lrange::<String>("l", -2, -1).await.unwrap(),
            ["y", "last"]
        );
        assert!(client
            .lrange::<String>("none", 0, -1)
            .await
            .unwrap()
            .is_empty());
        assert_eq!(client.llen("l").await.unwrap(), 6);
        assert_eq!(client.llen("none").await.unwrap(), 0);
        assert_eq!(
            client.lindex::<String>("l", 1).await.unwrap().as_deref(),
            Some("b")
        );
        assert_eq!(
            client.lindex::<String>("l", -1).await.unwrap().as_deref(),
            Some("last")
        );
        assert_eq!(client.lindex::<String>("l", 99).await.unwrap(), None);

        assert_eq!(
            client.lpop::<String>("l").await.unwrap().as_deref(),
            Some("first")
        );
        assert_eq!(
            client.rpop::<String>("l").await.unwrap().as_deref(),
            Some("last")
        );
        assert_eq!(client.lpop::<String>("none").await.unwrap(), None);
        assert_eq!(client.rpop::<String>("none").await.unwrap(), None);
        // With a count: up to that many, in pop order.
        assert_eq!(
            client.lpop_count::<String>("l", 2).await.unwrap(),
            ["b", "a"]
        );
        client.rpush("l", ["d", "e"]).await.unwrap();
        assert_eq!(
            client.rpop_count::<String>("l", 2).await.unwrap(),
            ["e", "d"]
        );
        assert_eq!(
            client.rpop_count::<String>("l", 10).await.unwrap(),
            ["y", "c"]
        );
        assert!(client
            .lpop_count::<String>("l", 2)
            .await
            .unwrap()
            .is_empty());
        assert!(client
            .rpop_count::<String>("none", 2)
            .await
            .unwrap()
            .is_empty());

        client.rpush("n", [1, 2, 3]).await.unwrap();
        client.lset("n", 1, 20).await.unwrap();
        assert_eq!(client.lrange::<i64>("n", 0, -1).await.unwrap(), [1, 20, 3]);
        let err = client.lset("n", 9, 0).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Server);
    }
}

#[tokio::test]
async fn inserting_removing_trimming_and_moving() {
    let server = RedisServer::start().unwrap();
    for client in both_protocols(&server).await {
        flush(&client).await;

        client.rpush("l", ["a", "c"]).await.unwrap();
        assert_eq!(
            client
                .linsert("l", InsertPosition::Before, "c", "b")
                .await
                .unwrap(),
            3
        );
        assert_eq!(
            client
                .linsert("l", InsertPosition::After, "c", "d")
                .await
                .unwrap(),
            4
        );
        assert_eq!(all(&client, "l").await, ["a", "b", "c", "d"]);
        assert_eq!(
            client
                .linsert("l", InsertPosition::After, "zz", "x")
                .await
                .unwrap(),
            -1
        );
        assert_eq!(
            client
                .linsert("none", InsertPosition::After, "a", "x")
                .await
                .unwrap(),
            0
        );

        // LREM: from the head, from the tail, all.
        client
            .rpush("r", ["x", "a", "x", "b", "x", "c", "x"])
            .await
            .unwrap();
        assert_eq!(client.lrem("r", 2, "x").await.unwrap(), 2);
        assert_eq!(all(&client, "r").await, ["a", "b", "x", "c", "x"]);
        assert_eq!(client.lrem("r", -1, "x").await.unwrap(), 1);
        assert_eq!(all(&client, "r").await, ["a", "b", "x", "c"]);
        assert_eq!(client.lrem("r", 0, "x").await.unwrap(), 1);
        assert_eq!(all(&client, "r").await, ["a", "b", "c"]);
        assert_eq!(client.lrem("r", 0, "zz").await.unwrap(), 0);

        client.ltrim("l", 1, -2).await.unwrap();
        assert_eq!(all(&client, "l").await, ["b", "c"]);

        // LMOVE from each end to each end.
        client.rpush("src", [1, 2, 3]).await.unwrap();
        let moved: Option<i64> = client
            .lmove("src", "dst", End::Right, End::Left)
            .await
            .unwrap();
        assert_eq!(moved, Some(3));
        let moved: Option<i64> = client
            .lmove("src", "dst", End::Left, End::Right)
            .await
            .unwrap();
        assert_eq!(moved, Some(1));
        let moved: Option<i64> = client
            .lmove("src", "dst", End::Left, End::Left)
            .await
            .unwrap();
        assert_eq!(moved, Some(2));
        assert_eq!(all(&client, "dst").await, ["2", "3", "1"]);
        assert_eq!(client.exists("src").await.unwrap(), 0);
        let moved: Option<i64> = client
            .lmove("src", "dst", End::Left, End::Left)
            .await
            .unwrap();
        assert_eq!(moved, None);
        // Rotating a list onto itself.
        let moved: Option<i64> = client
            .lmove("dst", "dst", End::Right, End::Left)
            .await
            .unwrap();
        assert_eq!(moved, Some(1));
        assert_eq!(all(&client, "dst").await, ["1", "2", "3"]);
    }
}

#[tokio::test]
async fn positions_and_their_options() {
    let server = RedisServer::start().unwrap();
    for client in both_protocols(&server).await {
        flush(&client).await;
        client
            .rpush("l", ["a", "b", "c", "a", "b", "c", "a"])
            .await
            .unwrap();
        let opts = LposOptions::new;

        assert_eq!(client.lpos("l", "a", opts()).await.unwrap(), Some(0));
        assert_eq!(client.lpos("l", "c", opts()).await.unwrap(), Some(2));
        assert_eq!(client.lpos("l", "zz", opts()).await.unwrap(), None);
        assert_eq!(client.lpos("none", "a", opts()).await.unwrap(), None);
        // RANK picks the n-th match, from the tail when negative.
        assert_eq!(
            client.lpos("l", "a", opts().rank(2)).await.unwrap(),
            Some(3)
        );
        assert_eq!(
            client.lpos("l", "a", opts().rank(-1)).await.unwrap(),
            Some(6)
        );
        // MAXLEN stops looking.
        assert_eq!(client.lpos("l", "c", opts().maxlen(2)).await.unwrap(), None);
        assert_eq!(
            client.lpos("l", "c", opts().maxlen(3)).await.unwrap(),
            Some(2)
        );

        // COUNT: several matches (0: all).
        assert_eq!(
            client.lpos_count("l", "a", 0, opts()).await.unwrap(),
            [0, 3, 6]
        );
        assert_eq!(
            client.lpos_count("l", "a", 2, opts()).await.unwrap(),
            [0, 3]
        );
        assert_eq!(
            client
                .lpos_count("l", "a", 0, opts().rank(-1))
                .await
                .unwrap(),
            [6, 3, 0]
        );
        assert_eq!(
            client
                .lpos_count("l", "a", 0, opts().rank(2))
                .await
                .unwrap(),
            [3, 6]
        );
        assert_eq!(
            client
                .lpos_count("l", "a", 0, opts().maxlen(4))
                .await
                .unwrap(),
            [0, 3]
        );
        let both = opts().rank(-1).maxlen(2);
        assert_eq!(client.lpos_count("l", "c", 0, both).await.unwrap(), [5]);
        assert!(client
            .lpos_count("l", "zz", 0, opts())
            .await
            .unwrap()
            .is_empty());
    }
}

#[tokio::test]
async fn popping_from_many_lists() {
    let server = RedisServer::start().unwrap();
    for client in both_protocols(&server).await {
        flush(&client).await;
        client.rpush("l2", [1, 2, 3]).await.unwrap();
        client.rpush("l3", [7]).await.unwrap();
        let keys = ["l1", "l2", "l3"];

        // The first non-empty list, from the chosen end, up to COUNT.
        let popped = client.lmpop::<i64>(keys, End::Left, 2).await.unwrap();
        assert_eq!(popped, Some(("l2".to_string(), vec![1, 2])));
        let popped = client.lmpop::<i64>(keys, End::Right, 5).await.unwrap();
        assert_eq!(popped, Some(("l2".to_string(), vec![3])));
        let popped = client.lmpop::<i64>(keys, End::Right, 1).await.unwrap();
        assert_eq!(popped, Some(("l3".to_string(), vec![7])));
        assert_eq!(client.lmpop::<i64>(keys, End::Left, 1).await.unwrap(), None);

        client.rpush("l1", ["a", "b", "c"]).await.unwrap();
        let popped = client.lmpop::<String>(keys, End::Right, 2).await.unwrap();
        assert_eq!(
            popped,
            Some(("l1".to_string(), vec!["c".into(), "b".into()]))
        );
    }
}

/// Pushes `elements` onto `key` from a client of its own, after the caller
/// has had time to block.
fn push_later(server: &RedisServer, key: &'static str, elements: &'static [&'static str]) {
    let config = support::config(&server.url());
    tokio::spawn(async move {
        let pusher = Client::connect(config).await.unwrap();
        tokio::time::sleep(Duration::from_millis(20)).await;
        pusher.rpush(key, elements).await.unwrap();
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blocking_pops_time_out_or_are_served_by_a_push() {
    let server = RedisServer::start().unwrap();
    // The server notices a timed-out waiter on its cron tick: 10 ms, not 100.
    server.command(&["CONFIG", "SET", "hz", "100"]).unwrap();
    for client in both_protocols(&server).await {
        flush(&client).await;
        let mut conn = support::dedicated(&client).await;

        // Timed out: None.
        assert_eq!(
            conn.blpop::<String>(["q1", "q2"], 0.01).await.unwrap(),
            None
        );
        assert_eq!(conn.brpop::<String>("q1", 0.01).await.unwrap(), None);
        let moved = conn
            .blmove::<String>("q1", "dst", End::Left, End::Right, 0.01)
            .await
            .unwrap();
        assert_eq!(moved, None);
        let popped = conn
            .blmpop::<String>(0.01, ["q1", "q2"], End::Left, 2)
            .await
            .unwrap();
        assert_eq!(popped, None);

        // Served by another client's push while waiting.
        push_later(&server, "q2", &["x", "y"]);
        let got = conn.blpop::<String>(["q1", "q2"], 5.0).await.unwrap();
        assert_eq!(got, Some(("q2".to_string(), "x".to_string())));
        // Already there: served at once, from the tail.
        let got = conn.brpop::<String>(["q1", "q2"], 5.0).await.unwrap();
        assert_eq!(got, Some(("q2".to_string(), "y".to_string())));

        push_later(&server, "q1", &["z"]);
        let got = conn.brpop::<String>(["q1", "q2"], 5.0).await.unwrap();
        assert_eq!(got, Some(("q1".to_string(), "z".to_string())));

        push_later(&server, "q1", &["m"]);
        let moved = conn
            .blmove::<String>("q1", "dst", End::Right, End::Left, 5.0)
            .await
            .unwrap();
        assert_eq!(moved.as_deref(), Some("m"));
        assert_eq!(all(&client, "dst").await, ["m"]);

        push_later(&server, "q2", &["a", "b", "c"]);
        let popped = conn
            .blmpop::<String>(5.0, ["q1", "q2"], End::Right, 2)
            .await
            .unwrap();
        // One RPUSH adds all three before the waiter is served.
        assert_eq!(
            popped,
            Some(("q2".to_string(), vec!["c".into(), "b".into()]))
        );
        let popped = conn
            .blmpop::<String>(5.0, ["q1", "q2"], End::Left, 5)
            .await
            .unwrap();
        assert_eq!(popped, Some(("q2".to_string(), vec!["a".into()])));
    }
}
