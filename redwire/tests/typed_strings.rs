//! The typed string commands against a real redis-server, over RESP2 and
//! RESP3: each method's effect or result, and each `SET` option changing what
//! the server does.

mod support;

use redwire::prelude::*;
use redwire_testkit::RedisServer;
use std::collections::BTreeMap;
use support::{both_protocols, flush};

#[tokio::test]
async fn get_set_and_their_options() {
    let server = RedisServer::start().unwrap();
    for client in both_protocols(&server).await {
        flush(&client).await;

        client.set("k", "v1").await.unwrap();
        assert_eq!(
            client.get::<Option<String>>("k").await.unwrap().as_deref(),
            Some("v1")
        );
        assert_eq!(client.get::<Option<String>>("missing").await.unwrap(), None);
        let raw: bytes::Bytes = client.get("k").await.unwrap();
        assert_eq!(raw, "v1");

        // NX refuses an existing key, XX a missing one.
        assert!(!client
            .set_with("k", "v2", SetOptions::new().nx())
            .await
            .unwrap());
        assert!(client
            .set_with("new", "n", SetOptions::new().nx())
            .await
            .unwrap());
        assert!(!client
            .set_with("absent", "a", SetOptions::new().xx())
            .await
            .unwrap());
        assert!(client
            .set_with("k", "v2", SetOptions::new().xx())
            .await
            .unwrap());
        assert_eq!(client.get::<String>("k").await.unwrap(), "v2");

        // Each expiry sets a TTL; KEEPTTL keeps it; a plain SET clears it.
        let ttl = |key: &'static str| {
            let client = client.clone();
            async move { client.query::<i64>(&cmd("PTTL").arg(key)).await.unwrap() }
        };
        client
            .set_with("e", 1, SetOptions::new().ex(100))
            .await
            .unwrap();
        assert!((99_000..=100_000).contains(&ttl("e").await));
        client
            .set_with("e", 1, SetOptions::new().px(5_000))
            .await
            .unwrap();
        assert!((4_000..=5_000).contains(&ttl("e").await));
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap();
        client
            .set_with("e", 1, SetOptions::new().exat(now.as_secs() + 200))
            .await
            .unwrap();
        assert!((198_000..=200_000).contains(&ttl("e").await));
        let at = now.as_millis() as u64 + 300_000;
        client
            .set_with("e", 1, SetOptions::new().pxat(at))
            .await
            .unwrap();
        assert!((298_000..=300_000).contains(&ttl("e").await));
        client
            .set_with("e", 2, SetOptions::new().keepttl())
            .await
            .unwrap();
        assert!(ttl("e").await > 290_000);
        client.set("e", 3).await.unwrap();
        assert_eq!(ttl("e").await, -1);

        // SET … GET returns the old value.
        let old: Option<String> = client.set_get("k", "v3", SetOptions::new()).await.unwrap();
        assert_eq!(old.as_deref(), Some("v2"));
        let none: Option<String> = client
            .set_get("fresh", "f", SetOptions::new())
            .await
            .unwrap();
        assert_eq!(none, None);
    }
}

#[tokio::test]
async fn many_keys_counters_and_ranges() {
    let server = RedisServer::start().unwrap();
    for client in both_protocols(&server).await {
        flush(&client).await;

        client.mset([("a", "1"), ("b", "2")]).await.unwrap();
        let values: Vec<Option<i64>> = client.mget(["a", "b", "c"]).await.unwrap();
        assert_eq!(values, [Some(1), Some(2), None]);
        assert!(!client
            .msetnx(BTreeMap::from([("a", 9), ("z", 9)]))
            .await
            .unwrap());
        assert!(client
            .msetnx(BTreeMap::from([("y", 9), ("z", 9)]))
            .await
            .unwrap());
        assert_eq!(client.get::<i64>("z").await.unwrap(), 9);

        assert_eq!(client.incr("n").await.unwrap(), 1);
        assert_eq!(client.incr_by("n", 41).await.unwrap(), 42);
        assert_eq!(client.decr("n").await.unwrap(), 41);
        assert_eq!(client.decr_by("n", 40).await.unwrap(), 1);
        assert_eq!(client.incr_by_float("f", 1.5).await.unwrap(), 1.5);
        assert_eq!(client.incr_by_float("f", -0.25).await.unwrap(), 1.25);

        assert_eq!(client.append("s", "Hello").await.unwrap(), 5);
        assert_eq!(client.append("s", " World").await.unwrap(), 11);
        assert_eq!(client.strlen("s").await.unwrap(), 11);
        assert_eq!(client.strlen("nothing").await.unwrap(), 0);
        assert_eq!(client.getrange::<String>("s", 0, 4).await.unwrap(), "Hello");
        assert_eq!(
            client.getrange::<String>("s", -5, -1).await.unwrap(),
            "World"
        );
        assert_eq!(client.setrange("s", 6, "Redis").await.unwrap(), 11);
        assert_eq!(client.get::<String>("s").await.unwrap(), "Hello Redis");

        assert_eq!(
            client.getdel::<String>("s").await.unwrap().as_deref(),
            Some("Hello Redis")
        );
        assert_eq!(client.get::<Option<String>>("s").await.unwrap(), None);
        assert_eq!(client.getdel::<String>("s").await.unwrap(), None);

        client.set("g", "v").await.unwrap();
        let v: Option<String> = client.getex("g", Expiry::Ex(50)).await.unwrap();
        assert_eq!(v.as_deref(), Some("v"));
        assert!(client.query::<i64>(&cmd("TTL").arg("g")).await.unwrap() > 40);
        client
            .getex::<String>("g", Expiry::Px(90_000))
            .await
            .unwrap();
        assert!(client.query::<i64>(&cmd("PTTL").arg("g")).await.unwrap() > 80_000);
        client.getex::<String>("g", Expiry::Persist).await.unwrap();
        assert_eq!(client.query::<i64>(&cmd("TTL").arg("g")).await.unwrap(), -1);
        let secs = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        client
            .getex::<String>("g", Expiry::ExAt(secs + 500))
            .await
            .unwrap();
        assert!(client.query::<i64>(&cmd("TTL").arg("g")).await.unwrap() > 400);
        client
            .getex::<String>("g", Expiry::PxAt((secs + 700) * 1000))
            .await
            .unwrap();
        assert!(client.query::<i64>(&cmd("TTL").arg("g")).await.unwrap() > 600);
    }
}

#[tokio::test]
async fn a_reply_of_the_wrong_shape_is_a_type_error_naming_both_types() {
    let server = RedisServer::start().unwrap();
    for client in both_protocols(&server).await {
        flush(&client).await;
        client.set("word", "abc").await.unwrap();
        let err = client.get::<i64>("word").await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Type);
        assert_eq!(
            err.message(),
            r#"expected an integer (i64), got bulk string "abc""#
        );
        // The connection is fine afterwards.
        assert_eq!(client.incr("n").await.unwrap(), 1);
    }
}

#[tokio::test]
async fn lcs_text_length_and_ranges() {
    let server = RedisServer::start().unwrap();
    for client in both_protocols(&server).await {
        flush(&client).await;
        client
            .mset([("a", "ohmytext"), ("b", "mynewtext")])
            .await
            .unwrap();
        assert_eq!(client.lcs::<String>("a", "b").await.unwrap(), "mytext");
        assert_eq!(client.lcs_len("a", "b").await.unwrap(), 6);
        let all = client.lcs_idx("a", "b", 0).await.unwrap();
        assert_eq!(all.len, 6);
        assert_eq!(
            all.matches,
            [
                LcsMatch {
                    first: (4, 7),
                    second: (5, 8),
                    len: 4
                },
                LcsMatch {
                    first: (2, 3),
                    second: (0, 1),
                    len: 2
                },
            ]
        );
        // MINMATCHLEN leaves the short match out; the total still counts it.
        let long = client.lcs_idx("a", "b", 4).await.unwrap();
        assert_eq!((long.len, long.matches.len()), (6, 1));
        assert_eq!(long.matches[0].len, 4);
        assert_eq!(client.lcs::<String>("a", "missing").await.unwrap(), "");
    }
}
