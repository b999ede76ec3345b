//! The typed sorted set commands against a real redis-server, over RESP2 and
//! RESP3: each method's result or effect, each `ZADD` option, each kind of
//! `ZRANGE` bound, the combining options, and the blocking pops.

mod support;

use redwire::prelude::*;
use redwire_testkit::RedisServer;
use support::{both_protocols, flush, version};

fn s(items: &[&str]) -> Vec<String> {
    items.iter().map(|i| i.to_string()).collect()
}

fn scored(items: &[(&str, f64)]) -> Vec<(String, f64)> {
    items.iter().map(|(m, sc)| (m.to_string(), *sc)).collect()
}

#[tokio::test]
async fn zadd_and_its_options() {
    let server = RedisServer::start().unwrap();
    for client in both_protocols(&server).await {
        flush(&client).await;

        assert_eq!(client.zadd("z", [(1.0, "a"), (2.0, "b")]).await.unwrap(), 2);
        // A new score for an existing member adds nothing.
        assert_eq!(client.zadd("z", [(5.0, "a"), (3.0, "c")]).await.unwrap(), 1);
        assert_eq!(client.zscore("z", "a").await.unwrap(), Some(5.0));

        // NX refuses existing members, XX new ones.
        let added = client
            .zadd_with("z", [(9.0, "a"), (4.0, "d")], ZAddOptions::new().nx())
            .await
            .unwrap();
        assert_eq!(added, 1);
        assert_eq!(client.zscore("z", "a").await.unwrap(), Some(5.0));
        let added = client
            .zadd_with("z", [(6.0, "a"), (1.0, "e")], ZAddOptions::new().xx())
            .await
            .unwrap();
        assert_eq!(added, 0);
        assert_eq!(client.zscore("z", "a").await.unwrap(), Some(6.0));
        assert_eq!(client.zscore("z", "e").await.unwrap(), None);

        // GT keeps the higher score, LT the lower; CH counts the changes.
        let changed = client
            .zadd_with("z", [(1.0, "a"), (8.0, "b")], ZAddOptions::new().gt().ch())
            .await
            .unwrap();
        assert_eq!(changed, 1);
        assert_eq!(
            client.zmscore("z", ["a", "b"]).await.unwrap(),
            [Some(6.0), Some(8.0)]
        );
        let changed = client
            .zadd_with("z", [(1.0, "a"), (9.0, "b")], ZAddOptions::new().lt().ch())
            .await
            .unwrap();
        assert_eq!(changed, 1);
        assert_eq!(
            client.zmscore("z", ["a", "b", "nope"]).await.unwrap(),
            [Some(1.0), Some(8.0), None]
        );
        // Without CH only additions count.
        let added = client
            .zadd_with("z", [(0.5, "a"), (7.0, "f")], ZAddOptions::new().lt())
            .await
            .unwrap();
        assert_eq!(added, 1);
        assert_eq!(client.zscore("z", "a").await.unwrap(), Some(0.5));

        // INCR returns the new score, None when an option held it back.
        let opts = ZAddOptions::new();
        assert_eq!(
            client.zadd_incr("z", 2.5, "a", opts).await.unwrap(),
            Some(3.0)
        );
        assert_eq!(
            client.zadd_incr("z", 1.0, "a", opts.nx()).await.unwrap(),
            None
        );
        assert_eq!(
            client.zadd_incr("z", 1.0, "new", opts.xx()).await.unwrap(),
            None
        );
        assert_eq!(
            client.zadd_incr("z", -1.0, "a", opts.gt()).await.unwrap(),
            None
        );
        assert_eq!(client.zscore("z", "a").await.unwrap(), Some(3.0));

        assert_eq!(client.zincrby("z", 1.5, "a").await.unwrap(), 4.5);
        assert_eq!(client.zincrby("z", 2.0, "fresh").await.unwrap(), 2.0);
        // a, b, c, d, f and fresh.
        assert_eq!(client.zcard("z").await.unwrap(), 6);
        assert_eq!(client.zcard("missing").await.unwrap(), 0);
        assert_eq!(client.zrem("z", ["fresh", "nope"]).await.unwrap(), 1);

        // Infinite scores go both ways.
        client
            .zadd(
                "inf",
                [(f64::INFINITY, "top"), (f64::NEG_INFINITY, "bottom")],
            )
            .await
            .unwrap();
        let all: Vec<(String, f64)> = client
            .zrange_withscores("inf", ZRange::all())
            .await
            .unwrap();
        assert_eq!(
            all,
            scored(&[("bottom", f64::NEG_INFINITY), ("top", f64::INFINITY)])
        );
    }
}

#[tokio::test]
async fn ranges_by_rank_score_and_member() {
    let server = RedisServer::start().unwrap();
    for client in both_protocols(&server).await {
        flush(&client).await;
        client
            .zadd(
                "z",
                [(1.0, "a"), (2.0, "b"), (3.0, "c"), (4.0, "d"), (5.0, "e")],
            )
            .await
            .unwrap();

        // By rank, and REV.
        let r: Vec<String> = client.zrange("z", ZRange::ranks(1, 2)).await.unwrap();
        assert_eq!(r, s(&["b", "c"]));
        let r: Vec<String> = client.zrange("z", ZRange::ranks(0, 1).rev()).await.unwrap();
        assert_eq!(r, s(&["e", "d"]));
        let r: Vec<String> = client.zrange("z", ZRange::ranks(-2, -1)).await.unwrap();
        assert_eq!(r, s(&["d", "e"]));

        // BYSCORE: inclusive, exclusive, infinite; REV; LIMIT.
        use ScoreBound::*;
        let r: Vec<String> = client
            .zrange("z", ZRange::by_score(Inclusive(2.0), Inclusive(4.0)))
            .await
            .unwrap();
        assert_eq!(r, s(&["b", "c", "d"]));
        let r: Vec<String> = client
            .zrange("z", ZRange::by_score(Exclusive(2.0), Exclusive(4.0)))
            .await
            .unwrap();
        assert_eq!(r, s(&["c"]));
        let r: Vec<String> = client
            .zrange("z", ZRange::by_score(NegInf, Exclusive(3.0)))
            .await
            .unwrap();
        assert_eq!(r, s(&["a", "b"]));
        let r: Vec<String> = client
            .zrange("z", ZRange::by_score(Inclusive(4.0), PosInf))
            .await
            .unwrap();
        assert_eq!(r, s(&["d", "e"]));
        let r: Vec<String> = client
            .zrange("z", ZRange::by_score(Inclusive(2.0), Inclusive(4.0)).rev())
            .await
            .unwrap();
        assert_eq!(r, s(&["d", "c", "b"]));
        let r: Vec<String> = client
            .zrange("z", ZRange::by_score(NegInf, PosInf).limit(1, 2))
            .await
            .unwrap();
        assert_eq!(r, s(&["b", "c"]));
        let r: Vec<String> = client
            .zrange("z", ZRange::by_score(NegInf, PosInf).rev().limit(1, 2))
            .await
            .unwrap();
        assert_eq!(r, s(&["d", "c"]));

        // WITHSCORES gives (member, score) in both protocols.
        let r: Vec<(String, f64)> = client
            .zrange_withscores("z", ZRange::by_score(Exclusive(3.0), PosInf))
            .await
            .unwrap();
        assert_eq!(r, scored(&[("d", 4.0), ("e", 5.0)]));

        // BYLEX on equal scores: [ ( - +, REV, LIMIT.
        client
            .zadd(
                "lex",
                [
                    (0.0, "apple"),
                    (0.0, "banana"),
                    (0.0, "cherry"),
                    (0.0, "date"),
                ],
            )
            .await
            .unwrap();
        let r: Vec<String> = client
            .zrange(
                "lex",
                ZRange::by_lex(LexBound::incl("banana"), LexBound::Highest),
            )
            .await
            .unwrap();
        assert_eq!(r, s(&["banana", "cherry", "date"]));
        let r: Vec<String> = client
            .zrange(
                "lex",
                ZRange::by_lex(LexBound::excl("banana"), LexBound::excl("date")),
            )
            .await
            .unwrap();
        assert_eq!(r, s(&["cherry"]));
        let r: Vec<String> = client
            .zrange(
                "lex",
                ZRange::by_lex(LexBound::Lowest, LexBound::incl("b")).rev(),
            )
            .await
            .unwrap();
        assert_eq!(r, s(&["apple"]));
        let r: Vec<String> = client
            .zrange(
                "lex",
                ZRange::by_lex(LexBound::Lowest, LexBound::Highest)
                    .rev()
                    .limit(0, 2),
            )
            .await
            .unwrap();
        assert_eq!(r, s(&["date", "cherry"]));
        assert_eq!(
            client
                .zlexcount("lex", LexBound::incl("b"), LexBound::excl("d"))
                .await
                .unwrap(),
            2
        );
        assert_eq!(
            client
                .zlexcount("lex", LexBound::Lowest, LexBound::Highest)
                .await
                .unwrap(),
            4
        );

        // ZRANGESTORE keeps the scores.
        let n = client
            .zrangestore("top", "z", ZRange::ranks(0, 1).rev())
            .await
            .unwrap();
        assert_eq!(n, 2);
        let r: Vec<(String, f64)> = client
            .zrange_withscores("top", ZRange::all())
            .await
            .unwrap();
        assert_eq!(r, scored(&[("d", 4.0), ("e", 5.0)]));

        // Counts.
        assert_eq!(
            client
                .zcount("z", Exclusive(1.0), Inclusive(3.0))
                .await
                .unwrap(),
            2
        );
        assert_eq!(client.zcount("z", NegInf, PosInf).await.unwrap(), 5);

        // Ranks.
        assert_eq!(client.zrank("z", "c").await.unwrap(), Some(2));
        assert_eq!(client.zrevrank("z", "c").await.unwrap(), Some(2));
        assert_eq!(client.zrevrank("z", "e").await.unwrap(), Some(0));
        assert_eq!(client.zrank("z", "nope").await.unwrap(), None);
        if version(&client).await >= (7, 2) {
            assert_eq!(
                client.zrank_withscore("z", "b").await.unwrap(),
                Some((1, 2.0))
            );
            assert_eq!(
                client.zrevrank_withscore("z", "b").await.unwrap(),
                Some((3, 2.0))
            );
            assert_eq!(client.zrank_withscore("z", "nope").await.unwrap(), None);
        } else {
            eprintln!("skipped: needs Redis 7.2");
        }

        // Removing by rank, score and member.
        assert_eq!(client.zremrangebyrank("z", 0, 0).await.unwrap(), 1);
        assert_eq!(
            client
                .zremrangebyscore("z", Exclusive(4.0), PosInf)
                .await
                .unwrap(),
            1
        );
        let r: Vec<String> = client.zrange("z", ZRange::all()).await.unwrap();
        assert_eq!(r, s(&["b", "c", "d"]));
        assert_eq!(
            client
                .zremrangebylex("lex", LexBound::excl("apple"), LexBound::incl("cherry"))
                .await
                .unwrap(),
            2
        );
        let r: Vec<String> = client.zrange("lex", ZRange::all()).await.unwrap();
        assert_eq!(r, s(&["apple", "date"]));
    }
}

#[tokio::test]
async fn pops_and_random_members() {
    let server = RedisServer::start().unwrap();
    for client in both_protocols(&server).await {
        flush(&client).await;
        client
            .zadd(
                "z",
                [(1.0, "a"), (2.0, "b"), (3.0, "c"), (4.0, "d"), (5.0, "e")],
            )
            .await
            .unwrap();

        let p: Vec<(String, f64)> = client.zpopmin("z", 2).await.unwrap();
        assert_eq!(p, scored(&[("a", 1.0), ("b", 2.0)]));
        let p: Vec<(String, f64)> = client.zpopmax("z", 1).await.unwrap();
        assert_eq!(p, scored(&[("e", 5.0)]));
        let p: Vec<(String, f64)> = client.zpopmin("missing", 1).await.unwrap();
        assert!(p.is_empty());

        // ZMPOP takes from the first non-empty key, from the end asked.
        let p = client
            .zmpop::<String>(["missing", "z"], ScoreEnd::Max, 5)
            .await
            .unwrap();
        assert_eq!(
            p,
            Some(("z".to_string(), scored(&[("d", 4.0), ("c", 3.0)])))
        );
        client.zadd("y", [(1.0, "x"), (2.0, "w")]).await.unwrap();
        let p = client
            .zmpop::<String>(["y"], ScoreEnd::Min, 1)
            .await
            .unwrap();
        assert_eq!(p, Some(("y".to_string(), scored(&[("x", 1.0)]))));
        assert_eq!(
            client
                .zmpop::<String>(["missing", "z"], ScoreEnd::Min, 1)
                .await
                .unwrap(),
            None
        );

        // Random members come from the set; a negative count may repeat.
        client
            .zadd("r", [(1.0, "a"), (2.0, "b"), (3.0, "c")])
            .await
            .unwrap();
        let one: Option<String> = client.zrandmember("r").await.unwrap();
        assert!(["a", "b", "c"].contains(&one.unwrap().as_str()));
        assert_eq!(client.zrandmember::<String>("missing").await.unwrap(), None);
        let mut two: Vec<String> = client.zrandmember_count("r", 2).await.unwrap();
        two.sort();
        two.dedup();
        assert_eq!(two.len(), 2);
        let five: Vec<String> = client.zrandmember_count("r", -5).await.unwrap();
        assert_eq!(five.len(), 5);
        let mut all: Vec<(String, f64)> = client.zrandmember_withscores("r", 3).await.unwrap();
        all.sort_by(|x, y| x.0.cmp(&y.0));
        assert_eq!(all, scored(&[("a", 1.0), ("b", 2.0), ("c", 3.0)]));
    }
}

#[tokio::test]
async fn union_intersection_difference_and_their_options() {
    let server = RedisServer::start().unwrap();
    for client in both_protocols(&server).await {
        flush(&client).await;
        client
            .zadd("s1", [(1.0, "a"), (2.0, "b"), (3.0, "c")])
            .await
            .unwrap();
        client
            .zadd("s2", [(10.0, "b"), (20.0, "c"), (30.0, "d")])
            .await
            .unwrap();
        let none = ZCombineOptions::new;

        let u: Vec<(String, f64)> = client
            .zunion_withscores(["s1", "s2"], none())
            .await
            .unwrap();
        assert_eq!(
            u,
            scored(&[("a", 1.0), ("b", 12.0), ("c", 23.0), ("d", 30.0)])
        );
        let u: Vec<String> = client.zunion(["s1", "s2"], none()).await.unwrap();
        assert_eq!(u, s(&["a", "b", "c", "d"]));
        // WEIGHTS multiply each set's scores.
        let u: Vec<(String, f64)> = client
            .zunion_withscores(["s1", "s2"], none().weights([10.0, 1.0]))
            .await
            .unwrap();
        assert_eq!(
            u,
            scored(&[("a", 10.0), ("b", 30.0), ("d", 30.0), ("c", 50.0)])
        );
        // AGGREGATE MIN and MAX keep one score instead of the sum.
        let u: Vec<(String, f64)> = client
            .zunion_withscores(["s1", "s2"], none().aggregate(Aggregate::Min))
            .await
            .unwrap();
        assert_eq!(
            u,
            scored(&[("a", 1.0), ("b", 2.0), ("c", 3.0), ("d", 30.0)])
        );
        let i: Vec<(String, f64)> = client
            .zinter_withscores(["s1", "s2"], none().aggregate(Aggregate::Max))
            .await
            .unwrap();
        assert_eq!(i, scored(&[("b", 10.0), ("c", 20.0)]));
        let i: Vec<(String, f64)> = client
            .zinter_withscores(["s1", "s2"], none().aggregate(Aggregate::Sum))
            .await
            .unwrap();
        assert_eq!(i, scored(&[("b", 12.0), ("c", 23.0)]));
        let i: Vec<String> = client.zinter(["s1", "s2"], none()).await.unwrap();
        assert_eq!(i, s(&["b", "c"]));

        let d: Vec<String> = client.zdiff(["s1", "s2"]).await.unwrap();
        assert_eq!(d, s(&["a"]));
        let d: Vec<(String, f64)> = client.zdiff_withscores(["s2", "s1"]).await.unwrap();
        assert_eq!(d, scored(&[("d", 30.0)]));

        assert_eq!(client.zintercard(["s1", "s2"], 0).await.unwrap(), 2);
        assert_eq!(client.zintercard(["s1", "s2"], 1).await.unwrap(), 1);

        // The STORE forms, with the same options.
        let n = client
            .zunionstore(
                "u",
                ["s1", "s2"],
                none().weights([2.0, 0.5]).aggregate(Aggregate::Max),
            )
            .await
            .unwrap();
        assert_eq!(n, 4);
        let u: Vec<(String, f64)> = client.zrange_withscores("u", ZRange::all()).await.unwrap();
        assert_eq!(
            u,
            scored(&[("a", 2.0), ("b", 5.0), ("c", 10.0), ("d", 15.0)])
        );
        let n = client
            .zinterstore("i", ["s1", "s2"], none().weights([1.0, 0.0]))
            .await
            .unwrap();
        assert_eq!(n, 2);
        let i: Vec<(String, f64)> = client.zrange_withscores("i", ZRange::all()).await.unwrap();
        assert_eq!(i, scored(&[("b", 2.0), ("c", 3.0)]));
        assert_eq!(client.zdiffstore("d", ["s2", "s1"]).await.unwrap(), 1);
        let d: Vec<(String, f64)> = client.zrange_withscores("d", ZRange::all()).await.unwrap();
        assert_eq!(d, scored(&[("d", 30.0)]));
    }
}

#[tokio::test]
async fn blocking_pops_time_out_or_wake_on_a_push() {
    let server = RedisServer::start().unwrap();
    let pushers = both_protocols(&server).await;
    for (client, pusher) in both_protocols(&server).await.into_iter().zip(pushers) {
        flush(&client).await;
        let mut conn = support::dedicated(&client).await;

        // A timeout gives None.
        assert_eq!(conn.bzpopmin::<String>(["q"], 0.05).await.unwrap(), None);
        assert_eq!(conn.bzpopmax::<String>(["q"], 0.05).await.unwrap(), None);
        assert_eq!(
            conn.bzmpop::<String>(0.05, ["q"], ScoreEnd::Min, 1)
                .await
                .unwrap(),
            None
        );

        // A ZADD from another client wakes it (or was there first: the same answer).
        let mut waiter = support::dedicated(&client).await;
        let popped =
            tokio::spawn(async move { waiter.bzpopmin::<String>(["other", "q"], 5.0).await });
        pusher.zadd("q", [(2.0, "job")]).await.unwrap();
        assert_eq!(
            popped.await.unwrap().unwrap(),
            Some(("q".to_string(), "job".to_string(), 2.0))
        );

        let mut waiter = support::dedicated(&client).await;
        let popped = tokio::spawn(async move { waiter.bzpopmax::<String>(["q"], 5.0).await });
        pusher.zadd("q", [(7.5, "big")]).await.unwrap();
        assert_eq!(
            popped.await.unwrap().unwrap(),
            Some(("q".to_string(), "big".to_string(), 7.5))
        );

        let mut waiter = support::dedicated(&client).await;
        let popped =
            tokio::spawn(
                async move { waiter.bzmpop::<String>(5.0, ["q"], ScoreEnd::Max, 2).await },
            );
        pusher
            .zadd("q", [(1.0, "x"), (3.0, "y"), (2.0, "z")])
            .await
            .unwrap();
        assert_eq!(
            popped.await.unwrap().unwrap(),
            Some(("q".to_string(), scored(&[("y", 3.0), ("z", 2.0)])))
        );
    }
}

#[tokio::test]
async fn typed_sorted_set_commands_queue_in_a_pipeline() {
    let server = RedisServer::start().unwrap();
    for client in both_protocols(&server).await {
        flush(&client).await;
        let mut p = Pipeline::new();
        let added = p.zadd("z", [(1.0, "a"), (2.0, "b")]);
        let range = p.zrange_withscores::<String>("z", ZRange::all().rev());
        let mut results = client.pipeline(&p).await.unwrap();
        assert_eq!(added.take(&mut results).unwrap(), 2);
        assert_eq!(
            range.take(&mut results).unwrap(),
            scored(&[("b", 2.0), ("a", 1.0)])
        );
    }
}
