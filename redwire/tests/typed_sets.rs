//! The typed set commands against a real redis-server, over RESP2 and RESP3
//! (where sets are a type of their own): each method's effect or result, and
//! the counts and `LIMIT` changing what the server does.

mod support;

use redwire::prelude::*;
use redwire_testkit::RedisServer;
use std::collections::{BTreeSet, HashSet};
use support::{both_protocols, flush};

fn strings<const N: usize>(items: [&str; N]) -> BTreeSet<String> {
    items.into_iter().map(String::from).collect()
}

#[tokio::test]
async fn members() {
    let server = RedisServer::start().unwrap();
    for client in both_protocols(&server).await {
        flush(&client).await;

        assert_eq!(client.sadd("s", ["a", "b", "c"]).await.unwrap(), 3);
        assert_eq!(client.sadd("s", vec!["c", "d"]).await.unwrap(), 1);
        assert_eq!(client.srem("s", ["a", "zz"]).await.unwrap(), 1);
        assert_eq!(client.scard("s").await.unwrap(), 3);
        assert_eq!(client.scard("missing").await.unwrap(), 0);

        let tree: BTreeSet<String> = client.smembers("s").await.unwrap();
        assert_eq!(tree, strings(["b", "c", "d"]));
        let hash: HashSet<String> = client.smembers("s").await.unwrap();
        assert_eq!(hash, HashSet::from_iter(tree.clone()));
        let mut list: Vec<String> = client.smembers("s").await.unwrap();
        list.sort();
        assert_eq!(list, ["b", "c", "d"]);
        let none: HashSet<String> = client.smembers("missing").await.unwrap();
        assert!(none.is_empty());

        assert!(client.sismember("s", "b").await.unwrap());
        assert!(!client.sismember("s", "a").await.unwrap());
        let found = client.smismember("s", ["b", "zz", "d"]).await.unwrap();
        assert_eq!(found, [true, false, true]);

        // SMOVE moves a member that is there, and only that.
        assert!(client.smove("s", "t", "b").await.unwrap());
        assert!(!client.smove("s", "t", "b").await.unwrap());
        assert!(!client.sismember("s", "b").await.unwrap());
        assert!(client.sismember("t", "b").await.unwrap());

        client.sadd("n", [3, 1, 2]).await.unwrap();
        let ints: BTreeSet<i64> = client.smembers("n").await.unwrap();
        assert_eq!(ints, BTreeSet::from([1, 2, 3]));
    }
}

#[tokio::test]
async fn random_members_and_pops() {
    let server = RedisServer::start().unwrap();
    for client in both_protocols(&server).await {
        flush(&client).await;
        let all = strings(["a", "b", "c"]);
        client.sadd("s", ["a", "b", "c"]).await.unwrap();
        client.sadd("one", "only").await.unwrap();

        // SRANDMEMBER leaves the set as it is.
        let picked = client.srandmember::<String>("s").await.unwrap().unwrap();
        assert!(all.contains(&picked));
        assert_eq!(
            client
                .srandmember::<String>("one")
                .await
                .unwrap()
                .as_deref(),
            Some("only")
        );
        assert_eq!(client.srandmember::<String>("missing").await.unwrap(), None);
        let distinct: BTreeSet<String> = client
            .srandmember_count::<String>("s", 10)
            .await
            .unwrap()
            .into_iter()
            .collect();
        assert_eq!(distinct, all);
        assert_eq!(
            client
                .srandmember_count::<String>("s", 2)
                .await
                .unwrap()
                .len(),
            2
        );
        let repeated: Vec<String> = client.srandmember_count("one", -3).await.unwrap();
        assert_eq!(repeated, ["only", "only", "only"]);
        assert_eq!(client.scard("s").await.unwrap(), 3);

        // SPOP removes what it returns.
        let popped: Vec<String> = client.spop_count("s", 2).await.unwrap();
        assert_eq!(popped.len(), 2);
        let left: BTreeSet<String> = client.smembers("s").await.unwrap();
        assert_eq!(left.len(), 1);
        let mut together: BTreeSet<String> = popped.into_iter().collect();
        together.extend(left);
        assert_eq!(together, all);
        assert_eq!(
            client.spop::<String>("one").await.unwrap().as_deref(),
            Some("only")
        );
        assert_eq!(client.spop::<String>("one").await.unwrap(), None);
        assert!(client
            .spop_count::<String>("missing", 2)
            .await
            .unwrap()
            .is_empty());
    }
}

#[tokio::test]
async fn intersections_unions_and_differences() {
    let server = RedisServer::start().unwrap();
    for client in both_protocols(&server).await {
        flush(&client).await;
        client.sadd("x", ["a", "b", "c", "d"]).await.unwrap();
        client.sadd("y", ["c", "d", "e"]).await.unwrap();
        client.sadd("z", ["d", "f"]).await.unwrap();

        let inter: BTreeSet<String> = client.sinter(["x", "y"]).await.unwrap();
        assert_eq!(inter, strings(["c", "d"]));
        let inter: BTreeSet<String> = client.sinter(["x", "y", "z"]).await.unwrap();
        assert_eq!(inter, strings(["d"]));
        assert_eq!(client.sinterstore("xy", ["x", "y"]).await.unwrap(), 2);
        let stored: BTreeSet<String> = client.smembers("xy").await.unwrap();
        assert_eq!(stored, strings(["c", "d"]));

        // LIMIT stops the count.
        assert_eq!(client.sintercard(["x", "y"], None).await.unwrap(), 2);
        assert_eq!(client.sintercard(["x", "y"], Some(1)).await.unwrap(), 1);
        assert_eq!(client.sintercard(["x", "y"], Some(5)).await.unwrap(), 2);
        assert_eq!(client.sintercard(["x", "missing"], None).await.unwrap(), 0);

        let union: BTreeSet<String> = client.sunion(["y", "z"]).await.unwrap();
        assert_eq!(union, strings(["c", "d", "e", "f"]));
        assert_eq!(client.sunionstore("yz", ["y", "z"]).await.unwrap(), 4);
        let stored: HashSet<String> = client.smembers("yz").await.unwrap();
        assert_eq!(stored.len(), 4);

        let diff: BTreeSet<String> = client.sdiff(["x", "y"]).await.unwrap();
        assert_eq!(diff, strings(["a", "b"]));
        let diff: BTreeSet<String> = client.sdiff(["x", "y", "z"]).await.unwrap();
        assert_eq!(diff, strings(["a", "b"]));
        assert_eq!(client.sdiffstore("x-z", ["x", "z"]).await.unwrap(), 3);
        let stored: BTreeSet<String> = client.smembers("x-z").await.unwrap();
        assert_eq!(stored, strings(["a", "b", "c"]));

        // A store replaces the destination.
        assert_eq!(
            client.sinterstore("x-z", ["x", "missing"]).await.unwrap(),
            0
        );
        assert_eq!(client.exists("x-z").await.unwrap(), 0);
    }
}
