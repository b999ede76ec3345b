//! The typed key commands against a real redis-server, over RESP2 and RESP3:
//! each method's effect or result, and each option (expiry conditions, `COPY`
//! and `RESTORE` options) changing what the server does.

mod support;

use redwire::prelude::*;
use redwire_testkit::RedisServer;
use support::{both_protocols, flush};

fn now() -> std::time::Duration {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
}

/// A client of the same server on database `db`.
async fn on_db(server: &RedisServer, db: i64) -> Client {
    let config = support::config(&server.url())
        .into_builder()
        .database(db)
        .build();
    Client::connect(config).await.unwrap()
}

#[tokio::test]
async fn deleting_counting_and_touching_keys() {
    let server = RedisServer::start().unwrap();
    for client in both_protocols(&server).await {
        flush(&client).await;
        client.mset([("a", 1), ("b", 2), ("c", 3)]).await.unwrap();

        assert_eq!(client.exists(["a", "b", "a", "zz"]).await.unwrap(), 3);
        assert_eq!(client.exists("zz").await.unwrap(), 0);
        assert_eq!(client.touch(["a", "zz"]).await.unwrap(), 1);
        assert_eq!(client.del(["a", "zz"]).await.unwrap(), 1);
        assert_eq!(client.exists("a").await.unwrap(), 0);
        assert_eq!(client.unlink(vec!["b", "c", "zz"]).await.unwrap(), 2);
        assert_eq!(client.exists(["b", "c"]).await.unwrap(), 0);

        assert_eq!(client.randomkey::<String>().await.unwrap(), None);
        client.set("only", 1).await.unwrap();
        assert_eq!(
            client.randomkey::<String>().await.unwrap().as_deref(),
            Some("only")
        );

        client
            .mset([("user:1", 1), ("user:2", 2), ("other", 3)])
            .await
            .unwrap();
        let mut users: Vec<String> = client.keys("user:*").await.unwrap();
        users.sort();
        assert_eq!(users, ["user:1", "user:2"]);
        assert!(client.keys::<String>("nothing:*").await.unwrap().is_empty());
    }
}

#[tokio::test]
async fn expiries_and_their_conditions() {
    let server = RedisServer::start().unwrap();
    for client in both_protocols(&server).await {
        flush(&client).await;
        client.mset([("k", 1), ("p", 2)]).await.unwrap();

        // No expiry, no key.
        assert_eq!(client.ttl("p").await.unwrap(), -1);
        assert_eq!(client.pttl("p").await.unwrap(), -1);
        assert_eq!(client.expiretime("p").await.unwrap(), -1);
        assert_eq!(client.pexpiretime("p").await.unwrap(), -1);
        assert_eq!(client.ttl("missing").await.unwrap(), -2);
        assert_eq!(client.pttl("missing").await.unwrap(), -2);
        assert_eq!(client.expiretime("missing").await.unwrap(), -2);
        assert_eq!(client.pexpiretime("missing").await.unwrap(), -2);
        assert!(!client.expire("missing", 10, None).await.unwrap());

        assert!(client.expire("k", 100, None).await.unwrap());
        assert!((99..=100).contains(&client.ttl("k").await.unwrap()));

        // NX: only a key without expiry.
        assert!(!client
            .expire("k", 500, Some(ExpireCondition::Nx))
            .await
            .unwrap());
        assert!(client.ttl("k").await.unwrap() <= 100);
        assert!(client
            .expire("p", 500, Some(ExpireCondition::Nx))
            .await
            .unwrap());
        assert!((499..=500).contains(&client.ttl("p").await.unwrap()));
        client.persist("p").await.unwrap();

        // XX: only a key with an expiry.
        assert!(!client
            .expire("p", 500, Some(ExpireCondition::Xx))
            .await
            .unwrap());
        assert_eq!(client.ttl("p").await.unwrap(), -1);
        assert!(client
            .expire("k", 300, Some(ExpireCondition::Xx))
            .await
            .unwrap());
        assert!((299..=300).contains(&client.ttl("k").await.unwrap()));

        // GT: only later; LT: only sooner.
        assert!(!client
            .expire("k", 50, Some(ExpireCondition::Gt))
            .await
            .unwrap());
        assert!(client.ttl("k").await.unwrap() > 250);
        assert!(client
            .expire("k", 400, Some(ExpireCondition::Gt))
            .await
            .unwrap());
        assert!((399..=400).contains(&client.ttl("k").await.unwrap()));
        assert!(!client
            .expire("k", 600, Some(ExpireCondition::Lt))
            .await
            .unwrap());
        assert!(client.ttl("k").await.unwrap() <= 400);
        assert!(client
            .expire("k", 200, Some(ExpireCondition::Lt))
            .await
            .unwrap());
        assert!((199..=200).contains(&client.ttl("k").await.unwrap()));

        // Milliseconds.
        assert!(client.pexpire("k", 5_000, None).await.unwrap());
        assert!((4_000..=5_000).contains(&client.pttl("k").await.unwrap()));
        assert!(!client
            .pexpire("k", 1_000, Some(ExpireCondition::Gt))
            .await
            .unwrap());
        assert!(client
            .pexpire("k", 1_000_000, Some(ExpireCondition::Gt))
            .await
            .unwrap());
        assert!(client.pttl("k").await.unwrap() > 900_000);

        // Absolute times read back exactly.
        let at = now().as_secs() + 500;
        assert!(client.expireat("k", at, None).await.unwrap());
        assert_eq!(client.expiretime("k").await.unwrap(), at as i64);
        assert!(!client
            .expireat("p", at, Some(ExpireCondition::Xx))
            .await
            .unwrap());
        assert_eq!(client.expiretime("p").await.unwrap(), -1);
        assert!(client
            .expireat("p", at, Some(ExpireCondition::Nx))
            .await
            .unwrap());
        assert_eq!(client.expiretime("p").await.unwrap(), at as i64);

        let at_ms = now().as_millis() as u64 + 700_000;
        assert!(client.pexpireat("k", at_ms, None).await.unwrap());
        assert_eq!(client.pexpiretime("k").await.unwrap(), at_ms as i64);
        assert!(!client
            .pexpireat("k", at_ms - 100_000, Some(ExpireCondition::Gt))
            .await
            .unwrap());
        assert!(client
            .pexpireat("k", at_ms - 100_000, Some(ExpireCondition::Lt))
            .await
            .unwrap());
        assert_eq!(
            client.pexpiretime("k").await.unwrap(),
            at_ms as i64 - 100_000
        );

        // PERSIST removes it, once.
        assert!(client.persist("k").await.unwrap());
        assert_eq!(client.ttl("k").await.unwrap(), -1);
        assert!(!client.persist("k").await.unwrap());
        assert!(!client.persist("missing").await.unwrap());
    }
}

#[tokio::test]
async fn types_of_keys() {
    let server = RedisServer::start().unwrap();
    for client in both_protocols(&server).await {
        flush(&client).await;
        client.set("s", "v").await.unwrap();
        client.send(&cmd("RPUSH").arg("l").arg("x")).await.unwrap();
        client.send(&cmd("SADD").arg("st").arg("x")).await.unwrap();
        client
            .send(&cmd("ZADD").arg("z").arg(1).arg("x"))
            .await
            .unwrap();
        client
            .send(&cmd("HSET").arg("h").arg("f").arg("v"))
            .await
            .unwrap();
        client
            .send(&cmd("XADD").arg("x").arg("*").arg("f").arg("v"))
            .await
            .unwrap();

        assert_eq!(client.key_type("s").await.unwrap(), KeyType::String);
        assert_eq!(client.key_type("l").await.unwrap(), KeyType::List);
        assert_eq!(client.key_type("st").await.unwrap(), KeyType::Set);
        assert_eq!(client.key_type("z").await.unwrap(), KeyType::ZSet);
        assert_eq!(client.key_type("h").await.unwrap(), KeyType::Hash);
        assert_eq!(client.key_type("x").await.unwrap(), KeyType::Stream);
        assert_eq!(client.key_type("missing").await.unwrap(), KeyType::None);

        // As a `SCAN … TYPE` argument, each is the name the server uses.
        for (key, ty) in [
            ("l", KeyType::List),
            ("z", KeyType::ZSet),
            ("x", KeyType::Stream),
        ] {
            let page: (String, Vec<String>) = client
                .query(
                    &cmd("SCAN")
                        .arg(0)
                        .arg("COUNT")
                        .arg(100)
                        .arg("TYPE")
                        .arg(&ty),
                )
                .await
                .unwrap();
            assert_eq!(page.1, [key]);
        }
    }
    // A module's type.
    let other = KeyType::from_value(Value::Simple("ReJSON-RL".into())).unwrap();
    assert_eq!(other, KeyType::Other("ReJSON-RL".into()));
    assert_eq!(other.as_str(), "ReJSON-RL");
    let err = KeyType::from_value(Value::Int(1)).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Type);
}

#[tokio::test]
async fn renaming_copying_and_moving() {
    let server = RedisServer::start().unwrap();
    let db1 = on_db(&server, 1).await;
    for client in both_protocols(&server).await {
        flush(&client).await;
        client.set("a", "A").await.unwrap();

        client.rename("a", "b").await.unwrap();
        assert_eq!(
            client.get::<Option<String>>("b").await.unwrap().as_deref(),
            Some("A")
        );
        assert_eq!(client.exists("a").await.unwrap(), 0);
        let err = client.rename("a", "c").await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Server);

        client.set("taken", "T").await.unwrap();
        assert!(!client.renamenx("b", "taken").await.unwrap());
        assert_eq!(client.get::<String>("taken").await.unwrap(), "T");
        assert!(client.renamenx("b", "free").await.unwrap());
        assert_eq!(client.get::<String>("free").await.unwrap(), "A");

        // COPY refuses an existing destination unless REPLACE.
        assert!(client
            .copy("free", "copy", CopyOptions::new())
            .await
            .unwrap());
        assert_eq!(client.get::<String>("copy").await.unwrap(), "A");
        assert!(!client
            .copy("taken", "copy", CopyOptions::new())
            .await
            .unwrap());
        assert_eq!(client.get::<String>("copy").await.unwrap(), "A");
        assert!(client
            .copy("taken", "copy", CopyOptions::new().replace())
            .await
            .unwrap());
        assert_eq!(client.get::<String>("copy").await.unwrap(), "T");
        assert!(!client
            .copy("missing", "copy2", CopyOptions::new())
            .await
            .unwrap());

        // DB copies into another database.
        db1.send(&cmd("FLUSHDB")).await.unwrap();
        assert!(client
            .copy("free", "there", CopyOptions::new().db(1))
            .await
            .unwrap());
        assert_eq!(client.exists("there").await.unwrap(), 0);
        assert_eq!(db1.get::<String>("there").await.unwrap(), "A");
        assert!(!client
            .copy("taken", "there", CopyOptions::new().db(1))
            .await
            .unwrap());
        assert!(client
            .copy("taken", "there", CopyOptions::new().db(1).replace())
            .await
            .unwrap());
        assert_eq!(db1.get::<String>("there").await.unwrap(), "T");

        // MOVE.
        assert!(client.move_to_db("free", 1).await.unwrap());
        assert_eq!(client.exists("free").await.unwrap(), 0);
        assert_eq!(db1.get::<String>("free").await.unwrap(), "A");
        assert!(!client.move_to_db("free", 1).await.unwrap());
    }
}

#[tokio::test]
async fn dump_restore_and_object() {
    let server = RedisServer::start().unwrap();
    for client in both_protocols(&server).await {
        flush(&client).await;
        client
            .send(&cmd("RPUSH").arg("l").arg("x").arg("y"))
            .await
            .unwrap();

        assert_eq!(client.dump("missing").await.unwrap(), None);
        let blob = client.dump("l").await.unwrap().unwrap();

        client
            .restore("r", 0, &blob, RestoreOptions::new())
            .await
            .unwrap();
        let items: Vec<String> = client
            .query(&cmd("LRANGE").arg("r").arg(0).arg(-1))
            .await
            .unwrap();
        assert_eq!(items, ["x", "y"]);
        assert_eq!(client.pttl("r").await.unwrap(), -1);

        // An existing key is refused unless REPLACE.
        let err = client
            .restore("r", 0, &blob, RestoreOptions::new())
            .await
            .unwrap_err();
        assert!(err.message().contains("BUSYKEY"), "{err}");
        client.set("s", "v").await.unwrap();
        client
            .restore("s", 10_000, &blob, RestoreOptions::new().replace())
            .await
            .unwrap();
        assert_eq!(client.key_type("s").await.unwrap(), KeyType::List);
        assert!((9_000..=10_000).contains(&client.pttl("s").await.unwrap()));

        // ABSTTL: the TTL is a Unix time.
        let at = now().as_millis() as u64 + 60_000;
        client
            .restore("s", at, &blob, RestoreOptions::new().replace().absttl())
            .await
            .unwrap();
        assert_eq!(client.pexpiretime("s").await.unwrap(), at as i64);

        // IDLETIME sets the idle time OBJECT IDLETIME reads.
        client
            .restore("idle", 0, &blob, RestoreOptions::new().idletime(1_000))
            .await
            .unwrap();
        assert!((1_000..=1_001).contains(&client.object_idletime("idle").await.unwrap().unwrap()));
        assert!(client.object_idletime("r").await.unwrap().unwrap() < 1_000);
        assert_eq!(client.object_idletime("missing").await.unwrap(), None);

        client.set("n", 12345).await.unwrap();
        client.set("str", "abc").await.unwrap();
        client
            .send(&cmd("SADD").arg("nums").arg(1).arg(2))
            .await
            .unwrap();
        assert_eq!(
            client.object_encoding("n").await.unwrap().as_deref(),
            Some("int")
        );
        assert_eq!(
            client.object_encoding("str").await.unwrap().as_deref(),
            Some("embstr")
        );
        assert_eq!(
            client.object_encoding("nums").await.unwrap().as_deref(),
            Some("intset")
        );
        assert_eq!(client.object_encoding("missing").await.unwrap(), None);
        assert_eq!(client.object_refcount("str").await.unwrap(), Some(1));
        assert_eq!(client.object_refcount("missing").await.unwrap(), None);

        // FREQ sets the counter OBJECT FREQ reads (LFU policies only).
        let policy = |p: &'static str| cmd("CONFIG").arg("SET").arg("maxmemory-policy").arg(p);
        client.send(&policy("allkeys-lfu")).await.unwrap();
        client
            .restore("hot", 0, &blob, RestoreOptions::new().freq(100))
            .await
            .unwrap();
        client
            .restore("cold", 0, &blob, RestoreOptions::new())
            .await
            .unwrap();
        assert_eq!(client.object_freq("hot").await.unwrap(), Some(100));
        assert!(client.object_freq("cold").await.unwrap().unwrap() < 100);
        assert_eq!(client.object_freq("missing").await.unwrap(), None);
        client.send(&policy("noeviction")).await.unwrap();
    }
}

#[tokio::test]
async fn key_commands_in_a_pipeline() {
    let server = RedisServer::start().unwrap();
    for client in both_protocols(&server).await {
        flush(&client).await;
        let mut p = Pipeline::new();
        let stored = p.set("a", 1);
        let set = p.expire("a", 60, None);
        let ty = p.key_type("a");
        let gone = p.del(["a", "b"]);
        let mut results = client.pipeline(&p).await.unwrap();
        stored.take(&mut results).unwrap();
        assert!(set.take(&mut results).unwrap());
        assert_eq!(ty.take(&mut results).unwrap(), KeyType::String);
        assert_eq!(gone.take(&mut results).unwrap(), 1);
    }
}

#[tokio::test]
async fn sort_orders_pages_points_and_stores() {
    let server = RedisServer::start().unwrap();
    for client in both_protocols(&server).await {
        flush(&client).await;
        client.rpush("ids", [3, 10, 2]).await.unwrap();
        // Numbers by default (10 after 3), bytes with ALPHA ("10" before "2").
        let sorted: Vec<i64> = client.sort("ids", SortOptions::new()).await.unwrap();
        assert_eq!(sorted, [2, 3, 10]);
        let alpha: Vec<String> = client
            .sort("ids", SortOptions::new().alpha())
            .await
            .unwrap();
        assert_eq!(alpha, ["10", "2", "3"]);
        let page: Vec<i64> = client
            .sort("ids", SortOptions::new().desc().limit(1, 2))
            .await
            .unwrap();
        assert_eq!(page, [3, 2]);
        // BY and GET follow patterns to other keys; a missing one is nil.
        client
            .mset([
                ("w_3", "1"),
                ("w_10", "3"),
                ("w_2", "2"),
                ("n_3", "three"),
                ("n_2", "two"),
            ])
            .await
            .unwrap();
        let by_weight: Vec<i64> = client
            .sort("ids", SortOptions::new().by("w_*"))
            .await
            .unwrap();
        assert_eq!(by_weight, [3, 2, 10]);
        let named: Vec<Option<String>> = client
            .sort("ids", SortOptions::new().by("w_*").get("#").get("n_*"))
            .await
            .unwrap();
        assert_eq!(
            named,
            [
                Some("3".into()),
                Some("three".into()),
                Some("2".into()),
                Some("two".into()),
                Some("10".into()),
                None
            ]
        );
        let ro: Vec<i64> = client
            .sort_ro("ids", SortOptions::new().desc())
            .await
            .unwrap();
        assert_eq!(ro, [10, 3, 2]);
        assert_eq!(
            client
                .sort_store("ids", SortOptions::new(), "ids:sorted")
                .await
                .unwrap(),
            3
        );
        assert_eq!(
            client.lrange::<i64>("ids:sorted", 0, -1).await.unwrap(),
            [2, 3, 10]
        );
    }
}
