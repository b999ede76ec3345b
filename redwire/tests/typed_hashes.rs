//! The typed hash commands against a real redis-server, over RESP2 and
//! RESP3: each method's effect or result, maps read from both protocols'
//! shapes, field expiry with each condition (on servers with `HEXPIRE`),
//! and `HGETEX`/`HSETEX`/`HGETDEL` with each option (on servers with them).
//! A test whose command the server lacks says so and passes.

mod support;

use redwire::prelude::*;
use redwire_testkit::RedisServer;
use std::collections::{BTreeMap, HashMap};
use std::time::{SystemTime, UNIX_EPOCH};
use support::{both_protocols, flush, lacks};

/// Now, as Unix seconds and milliseconds.
fn now() -> (u64, u64) {
    let t = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
    (t.as_secs(), t.as_millis() as u64)
}

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
async fn field_expiry() {
    let server = RedisServer::start().unwrap();
    if lacks(&server, "HEXPIRE") {
        return;
    }
    for client in both_protocols(&server).await {
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

        let (secs, millis) = now();
        let at = secs + 500;
        assert_eq!(client.hexpireat("h", at, None, ["a"]).await.unwrap(), [1]);
        assert_eq!(client.hexpiretime("h", ["a"]).await.unwrap(), [at as i64]);
        let at_ms = millis + 700_000;
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

#[tokio::test]
async fn hgetex_reads_and_sets_or_ends_expiry() {
    let server = RedisServer::start().unwrap();
    if lacks(&server, "HGETEX") {
        return;
    }
    for client in both_protocols(&server).await {
        flush(&client).await;
        client
            .hset("h", [("a", 1), ("b", 2), ("c", 3)])
            .await
            .unwrap();

        // No expiry option: a plain read, no expiry set.
        let got: Vec<Option<i64>> = client.hgetex("h", None, ["a", "zz"]).await.unwrap();
        assert_eq!(got, [Some(1), None]);
        assert_eq!(client.httl("h", ["a"]).await.unwrap(), [-1]);

        let got: Vec<Option<i64>> = client
            .hgetex("h", Some(Expiry::Ex(100)), ["a", "b"])
            .await
            .unwrap();
        assert_eq!(got, [Some(1), Some(2)]);
        for ttl in client.httl("h", ["a", "b"]).await.unwrap() {
            assert!((99..=100).contains(&ttl), "EX 100 gave a TTL of {ttl}");
        }
        assert_eq!(client.httl("h", ["c"]).await.unwrap(), [-1], "c not asked");

        let _: Vec<Option<String>> = client
            .hgetex("h", Some(Expiry::Px(5_000)), ["a"])
            .await
            .unwrap();
        let pttl = client.hpttl("h", ["a"]).await.unwrap()[0];
        assert!((4_000..=5_000).contains(&pttl), "PX 5000 gave {pttl}");

        let (secs, millis) = now();
        let _: Vec<Option<String>> = client
            .hgetex("h", Some(Expiry::ExAt(secs + 500)), ["a"])
            .await
            .unwrap();
        assert_eq!(
            client.hexpiretime("h", ["a"]).await.unwrap(),
            [(secs + 500) as i64]
        );
        let _: Vec<Option<String>> = client
            .hgetex("h", Some(Expiry::PxAt(millis + 600_000)), ["b"])
            .await
            .unwrap();
        assert_eq!(
            client.hpexpiretime("h", ["b"]).await.unwrap(),
            [(millis + 600_000) as i64]
        );

        // PERSIST ends the expiry.
        let got: Vec<Option<i64>> = client
            .hgetex("h", Some(Expiry::Persist), ["a", "b"])
            .await
            .unwrap();
        assert_eq!(got, [Some(1), Some(2)]);
        assert_eq!(client.httl("h", ["a", "b"]).await.unwrap(), [-1, -1]);

        // A time in the past: the value is answered, the field is gone.
        let got: Vec<Option<i64>> = client
            .hgetex("h", Some(Expiry::ExAt(1)), ["c"])
            .await
            .unwrap();
        assert_eq!(got, [Some(3)]);
        assert!(!client.hexists("h", "c").await.unwrap());

        let none: Vec<Option<String>> = client.hgetex("missing", None, ["a"]).await.unwrap();
        assert_eq!(none, [None]);
    }
}

#[tokio::test]
async fn hsetex_conditions_and_expiry() {
    let server = RedisServer::start().unwrap();
    if lacks(&server, "HSETEX") {
        return;
    }
    for client in both_protocols(&server).await {
        flush(&client).await;

        // No options: set, no expiry.
        let plain = HSetExOptions::new();
        assert!(client
            .hsetex("h", plain, [("a", 1), ("b", 2)])
            .await
            .unwrap());
        let got: Vec<Option<i64>> = client.hmget("h", ["a", "b"]).await.unwrap();
        assert_eq!(got, [Some(1), Some(2)]);
        assert_eq!(client.httl("h", ["a", "b"]).await.unwrap(), [-1, -1]);

        // FNX: only if no field exists; all or nothing.
        let fnx = HSetExOptions::new().fnx();
        assert!(!client
            .hsetex("h", fnx.ex(100), [("a", 9), ("c", 3)])
            .await
            .unwrap());
        assert_eq!(client.hget::<i64>("h", "a").await.unwrap(), Some(1));
        assert!(!client.hexists("h", "c").await.unwrap());
        assert!(client
            .hsetex("h", fnx.ex(100), [("c", 3), ("d", 4)])
            .await
            .unwrap());
        for ttl in client.httl("h", ["c", "d"]).await.unwrap() {
            assert!((99..=100).contains(&ttl), "EX 100 gave a TTL of {ttl}");
        }

        // FXX: only if every field exists; KEEPTTL keeps c's expiry.
        let fxx = HSetExOptions::new().fxx();
        assert!(!client
            .hsetex("h", fxx, [("a", 9), ("zz", 9)])
            .await
            .unwrap());
        assert!(!client.hexists("h", "zz").await.unwrap());
        assert!(client
            .hsetex("h", fxx.keepttl(), [("a", 10), ("c", 30)])
            .await
            .unwrap());
        let got: Vec<Option<i64>> = client.hmget("h", ["a", "c"]).await.unwrap();
        assert_eq!(got, [Some(10), Some(30)]);
        let ttls = client.httl("h", ["a", "c"]).await.unwrap();
        assert_eq!(ttls[0], -1);
        assert!(
            (99..=100).contains(&ttls[1]),
            "KEEPTTL lost c's TTL: {ttls:?}"
        );

        // Without KEEPTTL (or a new expiry) a set drops the old expiry.
        assert!(client.hsetex("h", fxx, [("d", 40)]).await.unwrap());
        assert_eq!(client.httl("h", ["d"]).await.unwrap(), [-1]);

        assert!(client
            .hsetex("h", HSetExOptions::new().px(5_000), [("a", 1)])
            .await
            .unwrap());
        let pttl = client.hpttl("h", ["a"]).await.unwrap()[0];
        assert!((4_000..=5_000).contains(&pttl), "PX 5000 gave {pttl}");

        let (secs, millis) = now();
        let exat = HSetExOptions::new().exat(secs + 500);
        assert!(client.hsetex("h", exat, [("a", 1)]).await.unwrap());
        assert_eq!(
            client.hexpiretime("h", ["a"]).await.unwrap(),
            [(secs + 500) as i64]
        );
        let pxat = HSetExOptions::new().pxat(millis + 600_000);
        assert!(client.hsetex("h", pxat, [("b", 2)]).await.unwrap());
        assert_eq!(
            client.hpexpiretime("h", ["b"]).await.unwrap(),
            [(millis + 600_000) as i64]
        );

        // The last option of each kind wins.
        let last = HSetExOptions::new().fxx().fnx().ex(1).keepttl();
        assert!(client.hsetex("h", last, [("e", 5)]).await.unwrap());
        assert_eq!(client.httl("h", ["e"]).await.unwrap(), [-1]);

        // A map of fields counts as pairs too.
        let map = HashMap::from([("m1", "x"), ("m2", "y")]);
        assert!(client.hsetex("h", plain, &map).await.unwrap());
        assert_eq!(
            client.hget::<String>("h", "m2").await.unwrap().as_deref(),
            Some("y")
        );

        // A field without its value is the server's error, not a truncation.
        let err = client
            .hsetex("h", plain, ["lonely"])
            .await
            .expect_err("a field without a value");
        assert_eq!(err.kind(), ErrorKind::Server);
        assert!(err.message().contains("wrong number of arguments"), "{err}");
        assert!(!client.hexists("h", "lonely").await.unwrap());
        let err = client
            .hsetex("h", plain, ["x", "1", "lonely"])
            .await
            .expect_err("the second field without a value");
        assert!(err.message().contains("wrong number of arguments"), "{err}");
        assert!(!client.hexists("h", "x").await.unwrap(), "nothing set");
    }
}

#[tokio::test]
async fn hgetdel_reads_and_deletes() {
    let server = RedisServer::start().unwrap();
    if lacks(&server, "HGETDEL") {
        return;
    }
    for client in both_protocols(&server).await {
        flush(&client).await;
        client.hset("h", [("a", "1"), ("b", "2")]).await.unwrap();

        let got: Vec<Option<i64>> = client.hgetdel("h", ["a", "zz"]).await.unwrap();
        assert_eq!(got, [Some(1), None]);
        assert!(!client.hexists("h", "a").await.unwrap());
        assert_eq!(client.hlen("h").await.unwrap(), 1);

        // Deleting the last field deletes the key.
        let got: Vec<Option<String>> = client.hgetdel("h", ["b"]).await.unwrap();
        assert_eq!(got, [Some("2".to_string())]);
        assert_eq!(client.exists(["h"]).await.unwrap(), 0);

        let none: Vec<Option<String>> = client.hgetdel("missing", ["a", "b"]).await.unwrap();
        assert_eq!(none, [None, None]);
    }
}
