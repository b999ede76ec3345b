//! The typed hash commands against a real redis-server, over RESP2 and
//! RESP3: each method's effect or result, maps read from both protocols'
//! shapes, and (on Redis 7.4+) field expiry with each condition.

mod support;

use redwire::prelude::*;
use redwire_testkit::RedisServer;
use std::collections::{BTreeMap, HashMap};
use support::{both_protocols, flush, version};

#[tokio::test]
async fn fields_values_and_counters() {
    let server = RedisServer::start().unwrap();
    for client in both_protocols(&server).await {
        flush(&client).await;

        assert_eq!(client.hset("h", [("a", "1"), ("b", "2")]).await.unwrap(), 2);
        assert_eq!(client.hset("h", [("b", 20), ("c", 3)]).await.unwrap(), 1);
        assert_eq!(
            client.hset("h", HashMap::from([("d", 4)])).await.unwrap(),
            1
        );

        assert_eq!(client.hget::<i64>("h", "b").await.unwrap(), Some(20));
        assert_eq!(client.hget::<String>("h", "zz").await.unwrap(), None);
        assert_eq!(client.hget::<String>("missing", "a").await.unwrap(), None);
        let values: Vec<Option<i64>> = client.hmget("h", ["a", "zz", "c"]).await.unwrap();
        assert_eq!(values, [Some(1), None, Some(3)]);

        // HGETALL into a map of either kind and into pairs.
        let want = BTreeMap::from([
            ("a".to_string(), 1),
            ("b".to_string(), 20),
            ("c".to_string(), 3),
            ("d".to_string(), 4),
        ]);
        let tree: BTreeMap<String, i64> = client.hgetall("h").await.unwrap();
        assert_eq!(tree, want);
        let map: HashMap<String, i64> = client.hgetall("h").await.unwrap();
        assert_eq!(map, HashMap::from_iter(want.clone()));
        let mut pairs: Vec<(String, i64)> = client.hgetall("h").await.unwrap();
        pairs.sort();
        assert_eq!(pairs, Vec::from_iter(want.clone()));
        let empty: HashMap<String, String> = client.hgetall("missing").await.unwrap();
        assert!(empty.is_empty());

        let mut keys: Vec<String> = client.hkeys("h").await.unwrap();
        keys.sort();
        assert_eq!(keys, ["a", "b", "c", "d"]);
        let mut vals: Vec<i64> = client.hvals("h").await.unwrap();
        vals.sort();
        assert_eq!(vals, [1, 3, 4, 20]);
        assert_eq!(client.hlen("h").await.unwrap(), 4);
        assert_eq!(client.hlen("missing").await.unwrap(), 0);

        assert!(client.hexists("h", "a").await.unwrap());
        assert_eq!(client.hdel("h", ["a", "zz"]).await.unwrap(), 1);
        assert!(!client.hexists("h", "a").await.unwrap());
        assert_eq!(client.hlen("h").await.unwrap(), 3);

        // HSETNX refuses an existing field.
        assert!(!client.hsetnx("h", "b", 99).await.unwrap());
        assert_eq!(client.hget::<i64>("h", "b").await.unwrap(), Some(20));
        assert!(client.hsetnx("h", "e", "hello").await.unwrap());
        assert_eq!(client.hstrlen("h", "e").await.unwrap(), 5);
        assert_eq!(client.hstrlen("h", "zz").await.unwrap(), 0);

        assert_eq!(client.hincr_by("h", "b", 22).await.unwrap(), 42);
        assert_eq!(client.hincr_by("h", "new", -3).await.unwrap(), -3);
        assert_eq!(client.hincr_by_float("h", "f", 1.5).await.unwrap(), 1.5);
        assert_eq!(client.hincr_by_float("h", "f", -0.25).await.unwrap(), 1.25);
        assert_eq!(client.hget::<f64>("h", "f").await.unwrap(), Some(1.25));
    }
}

#[tokio::test]
async fn random_fields() {
    let server = RedisServer::start().unwrap();
    for client in both_protocols(&server).await {
        flush(&client).await;
        client.hset("one", [("f", "v")]).await.unwrap();
        client.hset("two", [("a", 1), ("b", 2)]).await.unwrap();

        assert_eq!(
            client.hrandfield::<String>("one").await.unwrap().as_deref(),
            Some("f")
        );
        assert_eq!(client.hrandfield::<String>("missing").await.unwrap(), None);

        // A positive count gives distinct fields, at most all of them.
        let mut fields: Vec<String> = client.hrandfield_count("two", 10).await.unwrap();
        fields.sort();
        assert_eq!(fields, ["a", "b"]);
        assert_eq!(
            client
                .hrandfield_count::<String>("two", 1)
                .await
                .unwrap()
                .len(),
            1
        );
        // A negative one exactly that many, repeating.
        let repeated: Vec<String> = client.hrandfield_count("one", -3).await.unwrap();
        assert_eq!(repeated, ["f", "f", "f"]);
        assert!(client
            .hrandfield_count::<String>("missing", 3)
            .await
            .unwrap()
            .is_empty());

        // WITHVALUES: pairs (flat in RESP2, nested in RESP3).
        let mut pairs: Vec<(String, i64)> = client.hrandfield_withvalues("two", 10).await.unwrap();
        pairs.sort();
        assert_eq!(pairs, [("a".to_string(), 1), ("b".to_string(), 2)]);
        let repeated: Vec<(String, String)> =
            client.hrandfield_withvalues("one", -2).await.unwrap();
        let fv = ("f".to_string(), "v".to_string());
        assert_eq!(repeated, [fv.clone(), fv]);
    }
}

#[tokio::test]
async fn field_expiry_needs_redis_7_4() {
    let server = RedisServer::start().unwrap();
    for client in both_protocols(&server).await {
        if version(&client).await < (7, 4) {
            eprintln!("skipped: needs Redis 7.4");
            return;
        }
        flush(&client).await;
        client
            .hset("h", [("a", 1), ("b", 2), ("c", 3)])
            .await
            .unwrap();

        // No expiry, no field.
        assert_eq!(client.httl("h", ["a", "zz"]).await.unwrap(), [-1, -2]);
        assert_eq!(client.hpttl("h", ["a", "zz"]).await.unwrap(), [-1, -2]);
        assert_eq!(
            client.hexpiretime("h", ["a", "zz"]).await.unwrap(),
            [-1, -2]
        );
        assert_eq!(
            client.hpexpiretime("h", ["a", "zz"]).await.unwrap(),
            [-1, -2]
        );

        assert_eq!(
            client.hexpire("h", 100, None, ["a", "zz"]).await.unwrap(),
            [1, -2]
        );
        let ttl = client.httl("h", ["a"]).await.unwrap()[0];
        assert!((99..=100).contains(&ttl));

        // NX: only fields without expiry; XX: only fields with one.
        let nx = Some(ExpireCondition::Nx);
        assert_eq!(
            client.hexpire("h", 500, nx, ["a", "b"]).await.unwrap(),
            [0, 1]
        );
        assert!(client.httl("h", ["a"]).await.unwrap()[0] <= 100);
        let xx = Some(ExpireCondition::Xx);
        assert_eq!(
            client.hexpire("h", 300, xx, ["a", "c"]).await.unwrap(),
            [1, 0]
        );
        assert_eq!(client.httl("h", ["c"]).await.unwrap(), [-1]);
        // GT: only later; LT: only sooner.
        let gt = Some(ExpireCondition::Gt);
        assert_eq!(client.hexpire("h", 50, gt, ["a"]).await.unwrap(), [0]);
        assert_eq!(client.hexpire("h", 400, gt, ["a"]).await.unwrap(), [1]);
        let lt = Some(ExpireCondition::Lt);
        assert_eq!(client.hexpire("h", 600, lt, ["a"]).await.unwrap(), [0]);
        assert_eq!(client.hexpire("h", 200, lt, ["a"]).await.unwrap(), [1]);
        assert!((199..=200).contains(&client.httl("h", ["a"]).await.unwrap()[0]));

        assert_eq!(client.hpexpire("h", 5_000, None, ["a"]).await.unwrap(), [1]);
        let pttl = client.hpttl("h", ["a"]).await.unwrap()[0];
        assert!((4_000..=5_000).contains(&pttl));

        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap();
        let at = now.as_secs() + 500;
        assert_eq!(client.hexpireat("h", at, None, ["a"]).await.unwrap(), [1]);
        assert_eq!(client.hexpiretime("h", ["a"]).await.unwrap(), [at as i64]);
        let at_ms = now.as_millis() as u64 + 700_000;
        assert_eq!(
            client.hpexpireat("h", at_ms, None, ["b"]).await.unwrap(),
            [1]
        );
        assert_eq!(
            client.hpexpiretime("h", ["b"]).await.unwrap(),
            [at_ms as i64]
        );

        // A time in the past deletes the field.
        assert_eq!(client.hexpireat("h", 1, None, ["c"]).await.unwrap(), [2]);
        assert!(!client.hexists("h", "c").await.unwrap());

        assert_eq!(client.hpersist("h", ["a", "c"]).await.unwrap(), [1, -2]);
        assert_eq!(client.hpersist("h", ["a"]).await.unwrap(), [-1]);
        assert_eq!(client.httl("h", ["a"]).await.unwrap(), [-1]);
    }
}
