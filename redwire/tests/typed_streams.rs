//! The typed stream commands against a real redis-server, over RESP2 and
//! RESP3: ids and entries, each `XADD` and trim option, `XREAD` (blocking
//! too), consumer groups with their pending lists and claims, and the typed
//! `XINFO` replies.

mod support;

use redwire::prelude::*;
use redwire_testkit::RedisServer;
use support::{both_protocols, flush, version};

fn id(ms: u64) -> StreamId {
    StreamId::new(ms, 0)
}

fn ids<V>(entries: &[StreamEntry<V>]) -> Vec<StreamId> {
    entries.iter().map(|e| e.id).collect()
}

/// Adds entries `1-0` … `n-0` to `key`, each with `n` = its number.
async fn fill(client: &Client, key: &str, n: u64) {
    for i in 1..=n {
        let options = XAddOptions::new().id(id(i));
        client.xadd_with(key, [("n", i)], options).await.unwrap();
    }
}

#[tokio::test]
async fn ids_entries_and_ranges() {
    let server = RedisServer::start().unwrap();
    for client in both_protocols(&server).await {
        flush(&client).await;

        // An automatic id, and the entry as it was given: fields in order.
        let auto = client
            .xadd("auto", [("kind", "login"), ("user", "ada")])
            .await
            .unwrap();
        assert!(auto.ms > 0);
        let entries: Vec<StreamEntry> = client.xrange("auto", "-", "+").await.unwrap();
        assert_eq!(entries.len(), 1);
        assert_eq!(entries[0].id, auto);
        assert_eq!(
            entries[0].fields,
            [
                ("kind".to_string(), "login".to_string()),
                ("user".to_string(), "ada".to_string())
            ]
        );
        assert_eq!(entries[0].get("user").map(String::as_str), Some("ada"));
        assert_eq!(entries[0].get("nope"), None);
        let raw: Vec<StreamEntry<bytes::Bytes>> = client.xrange("auto", auto, auto).await.unwrap();
        assert_eq!(raw[0].get("kind").unwrap(), "login");

        // Explicit ids; values read as numbers.
        fill(&client, "s", 5).await;
        assert_eq!(client.xlen("s").await.unwrap(), 5);
        assert_eq!(client.xlen("missing").await.unwrap(), 0);
        let all: Vec<StreamEntry<u64>> = client.xrange("s", "-", "+").await.unwrap();
        assert_eq!(ids(&all), [id(1), id(2), id(3), id(4), id(5)]);
        assert_eq!(all[2].get("n"), Some(&3));
        let some: Vec<StreamEntry> = client.xrange("s", id(2), "4").await.unwrap();
        assert_eq!(ids(&some), [id(2), id(3), id(4)]);
        // COUNT pages; `(` excludes the last id seen.
        let page: Vec<StreamEntry> = client.xrange_count("s", "-", "+", 2).await.unwrap();
        assert_eq!(ids(&page), [id(1), id(2)]);
        let next: Vec<StreamEntry> = client
            .xrange_count("s", format!("({}", page[1].id), "+", 2)
            .await
            .unwrap();
        assert_eq!(ids(&next), [id(3), id(4)]);
        let rev: Vec<StreamEntry> = client.xrevrange("s", "+", id(3)).await.unwrap();
        assert_eq!(ids(&rev), [id(5), id(4), id(3)]);
        let rev: Vec<StreamEntry> = client.xrevrange_count("s", "+", "-", 1).await.unwrap();
        assert_eq!(ids(&rev), [id(5)]);

        assert_eq!(client.xdel("s", [id(2), id(4), id(99)]).await.unwrap(), 2);
        let left: Vec<StreamEntry> = client.xrange("s", "-", "+").await.unwrap();
        assert_eq!(ids(&left), [id(1), id(3), id(5)]);

        // Ids parse, print and compare.
        assert_eq!("7-3".parse::<StreamId>().unwrap(), StreamId::new(7, 3));
        assert_eq!("7".parse::<StreamId>().unwrap(), id(7));
        assert!("x-1".parse::<StreamId>().is_err());
        assert_eq!(StreamId::new(7, 3).to_string(), "7-3");
    }
}

#[tokio::test]
async fn xadd_options_and_trimming() {
    let server = RedisServer::start().unwrap();
    // Small nodes, so that an approximate trim (whole nodes) differs from an exact one.
    server
        .command(&["CONFIG", "SET", "stream-node-max-entries", "2"])
        .unwrap();
    for client in both_protocols(&server).await {
        flush(&client).await;

        // NOMKSTREAM does not create a missing stream, but adds to an existing one.
        let nomk = XAddOptions::new().nomkstream();
        assert_eq!(
            client.xadd_with("none", [("f", "v")], nomk).await.unwrap(),
            None
        );
        assert_eq!(
            client
                .query::<i64>(&cmd("EXISTS").arg("none"))
                .await
                .unwrap(),
            0
        );
        client
            .xadd_with("some", [("f", "v")], XAddOptions::new().id(id(1)))
            .await
            .unwrap();
        let added = client
            .xadd_with("some", [("f", "w")], nomk.id(id(2)))
            .await
            .unwrap();
        assert_eq!(added, Some(id(2)));
        // Without an id the server makes one.
        let auto = client
            .xadd_with("some", [("f", "x")], nomk)
            .await
            .unwrap()
            .unwrap();
        assert!(auto > id(2));

        // MAXLEN (exact `=`) keeps the newest entries.
        for i in 1..=5 {
            let options = XAddOptions::new().id(id(i)).trim(StreamTrim::maxlen(3));
            client.xadd_with("m", [("n", i)], options).await.unwrap();
        }
        let left: Vec<StreamEntry> = client.xrange("m", "-", "+").await.unwrap();
        assert_eq!(ids(&left), [id(3), id(4), id(5)]);

        // MINID keeps the entries from that id on.
        let options = XAddOptions::new().id(id(6)).trim(StreamTrim::minid(id(5)));
        client.xadd_with("m", [("n", 6)], options).await.unwrap();
        let left: Vec<StreamEntry> = client.xrange("m", "-", "+").await.unwrap();
        assert_eq!(ids(&left), [id(5), id(6)]);

        // XTRIM: exact trims to the length; `~` only whole nodes (of 2 here),
        // so it keeps more; LIMIT caps what one call evicts.
        fill(&client, "t", 10).await;
        assert_eq!(
            client
                .xtrim("t", StreamTrim::maxlen(3).approx())
                .await
                .unwrap(),
            6
        );
        assert_eq!(client.xlen("t").await.unwrap(), 4);
        assert_eq!(client.xtrim("t", StreamTrim::maxlen(3)).await.unwrap(), 1);
        assert_eq!(client.xlen("t").await.unwrap(), 3);

        fill(&client, "l", 10).await;
        let limited = StreamTrim::maxlen(0).approx().limit(4);
        assert_eq!(client.xtrim("l", limited).await.unwrap(), 4);
        assert_eq!(client.xlen("l").await.unwrap(), 6);
        assert_eq!(
            client.xtrim("l", StreamTrim::minid(id(9))).await.unwrap(),
            4
        );
        let left: Vec<StreamEntry> = client.xrange("l", "-", "+").await.unwrap();
        assert_eq!(ids(&left), [id(9), id(10)]);
        let approx = StreamTrim::minid(id(10)).approx();
        let options = XAddOptions::new().id(id(11)).trim(approx);
        client.xadd_with("l", [("n", 11)], options).await.unwrap();
        assert_eq!(
            client.xlen("l").await.unwrap(),
            3,
            "~ keeps the node holding 9 and 10"
        );
    }
}

#[tokio::test]
async fn xread_from_several_streams_blocking_or_not() {
    let server = RedisServer::start().unwrap();
    let writers = both_protocols(&server).await;
    for (client, writer) in both_protocols(&server).await.into_iter().zip(writers) {
        flush(&client).await;
        let mut conn = support::dedicated(&client).await;
        fill(&client, "a", 3).await;
        fill(&client, "b", 1).await;

        // One (key, entries) per stream with news, in the order asked;
        // COUNT limits each stream.
        let reads: StreamReads<u64> = conn
            .xread(
                ["a", "b", "c"],
                ["0", "0", "0"],
                XReadOptions::new().count(2),
            )
            .await
            .unwrap();
        let keys: Vec<&str> = reads.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys, ["a", "b"]);
        assert_eq!(ids(&reads[0].1), [id(1), id(2)]);
        assert_eq!(ids(&reads[1].1), [id(1)]);
        assert_eq!(reads[0].1[1].get("n"), Some(&2));
        let reads: StreamReads = conn
            .xread(["a"], [id(1)], XReadOptions::new())
            .await
            .unwrap();
        assert_eq!(ids(&reads[0].1), [id(2), id(3)]);

        // Nothing new: empty, at once or after BLOCK times out.
        let reads: StreamReads = conn
            .xread(["a"], [id(3)], XReadOptions::new())
            .await
            .unwrap();
        assert!(reads.is_empty());
        let block = XReadOptions::new().block(50);
        let reads: StreamReads = conn.xread(["a", "b"], ["$", "$"], block).await.unwrap();
        assert!(reads.is_empty());

        // An XADD from another client wakes a blocked XREAD (or came first:
        // the same answer, since the read starts after 0-0).
        let mut reader = support::dedicated(&client).await;
        let read = tokio::spawn(async move {
            let options = XReadOptions::new().block(5000);
            reader.xread::<String>(["w"], ["0-0"], options).await
        });
        writer
            .xadd_with("w", [("wake", "up")], XAddOptions::new().id(id(42)))
            .await
            .unwrap();
        let reads = read.await.unwrap().unwrap();
        assert_eq!(reads.len(), 1);
        assert_eq!(reads[0].0, "w");
        assert_eq!(
            reads[0].1,
            [StreamEntry {
                id: id(42),
                fields: vec![("wake".to_string(), "up".to_string())]
            }]
        );
    }
}

#[tokio::test]
async fn groups_reading_acknowledging_and_pending() {
    let server = RedisServer::start().unwrap();
    let writers = both_protocols(&server).await;
    for (client, writer) in both_protocols(&server).await.into_iter().zip(writers) {
        flush(&client).await;
        let mut conn = support::dedicated(&client).await;
        let plain = XGroupCreateOptions::new();

        // CREATE needs the stream, unless MKSTREAM.
        assert!(client.xgroup_create("s", "g", "$", plain).await.is_err());
        client
            .xgroup_create("s", "g", "0", plain.mkstream())
            .await
            .unwrap();
        assert_eq!(
            client.query::<i64>(&cmd("EXISTS").arg("s")).await.unwrap(),
            1
        );
        fill(&client, "s", 4).await;

        // `>` delivers new entries, COUNT at a time; they become pending.
        let opts = XReadGroupOptions::new();
        let reads: StreamReads<u64> = conn
            .xreadgroup("g", "alice", ["s"], [">"], opts.count(3))
            .await
            .unwrap();
        assert_eq!(reads.len(), 1);
        assert_eq!(reads[0].0, "s");
        assert_eq!(ids(&reads[0].1), [id(1), id(2), id(3)]);
        let summary = client.xpending("s", "g").await.unwrap();
        assert_eq!(
            summary,
            PendingSummary {
                count: 3,
                min_id: Some(id(1)),
                max_id: Some(id(3)),
                consumers: vec![("alice".to_string(), 3)],
            }
        );
        // NOACK: delivered, not pending.
        let reads: StreamReads = conn
            .xreadgroup("g", "bob", ["s"], [">"], opts.noack())
            .await
            .unwrap();
        assert_eq!(ids(&reads[0].1), [id(4)]);
        assert_eq!(client.xpending("s", "g").await.unwrap().count, 3);
        // An id instead of `>`: the consumer's own pending entries.
        let reads: StreamReads = conn
            .xreadgroup("g", "alice", ["s"], [id(1)], opts)
            .await
            .unwrap();
        assert_eq!(ids(&reads[0].1), [id(2), id(3)]);
        // Nothing new: BLOCK times out empty; an XADD wakes it.
        let reads: StreamReads = conn
            .xreadgroup("g", "bob", ["s"], [">"], opts.block(50))
            .await
            .unwrap();
        assert!(reads.is_empty());
        let mut reader = support::dedicated(&client).await;
        let read = tokio::spawn(async move {
            reader
                .xreadgroup::<String>("g", "bob", ["s"], [">"], opts.block(5000))
                .await
        });
        writer
            .xadd_with("s", [("n", 5)], XAddOptions::new().id(id(5)))
            .await
            .unwrap();
        let reads = read.await.unwrap().unwrap();
        assert_eq!(ids(&reads[0].1), [id(5)]);

        // XACK removes from the pending list.
        assert_eq!(client.xack("s", "g", [id(1), id(99)]).await.unwrap(), 1);
        let summary = client.xpending("s", "g").await.unwrap();
        assert_eq!(summary.count, 3);
        assert_eq!(summary.min_id, Some(id(2)));
        assert_eq!(
            summary.consumers,
            [("alice".to_string(), 2), ("bob".to_string(), 1)]
        );

        // The extended form: per entry; COUNT, the range, the consumer and
        // IDLE filter.
        let all = XPendingOptions::new();
        let pending = client
            .xpending_range("s", "g", "-", "+", 10, all.clone())
            .await
            .unwrap();
        let who: Vec<(StreamId, &str, u64)> = pending
            .iter()
            .map(|p| (p.id, p.consumer.as_str(), p.deliveries))
            .collect();
        assert_eq!(
            who,
            [(id(2), "alice", 2), (id(3), "alice", 2), (id(5), "bob", 1)]
        );
        let first = client
            .xpending_range("s", "g", "-", "+", 1, all.clone())
            .await
            .unwrap();
        assert_eq!(first.len(), 1);
        let later = client
            .xpending_range("s", "g", id(3), "+", 10, all.clone())
            .await
            .unwrap();
        assert_eq!(
            later.iter().map(|p| p.id).collect::<Vec<_>>(),
            [id(3), id(5)]
        );
        let bobs = client
            .xpending_range("s", "g", "-", "+", 10, all.clone().consumer("bob"))
            .await
            .unwrap();
        assert_eq!(bobs.iter().map(|p| p.id).collect::<Vec<_>>(), [id(5)]);
        let idle = client
            .xpending_range("s", "g", "-", "+", 10, all.idle(3_600_000))
            .await
            .unwrap();
        assert!(idle.is_empty());

        // An empty group's summary.
        client
            .xgroup_create("s", "quiet", "$", plain)
            .await
            .unwrap();
        assert_eq!(
            client.xpending("s", "quiet").await.unwrap(),
            PendingSummary::default()
        );
    }
}

#[tokio::test]
async fn claims_and_their_options() {
    let server = RedisServer::start().unwrap();
    for client in both_protocols(&server).await {
        flush(&client).await;
        fill(&client, "s", 5).await;
        client
            .xgroup_create("s", "g", "0", XGroupCreateOptions::new())
            .await
            .unwrap();
        let _: StreamReads = client
            .xreadgroup(
                "g",
                "alice",
                ["s"],
                [">"],
                XReadGroupOptions::new().count(4),
            )
            .await
            .unwrap();
        let pending_of = |entry: StreamId| {
            let client = client.clone();
            async move {
                let all = client
                    .xpending_range("s", "g", entry, entry, 1, XPendingOptions::new())
                    .await
                    .unwrap();
                all.into_iter().next()
            }
        };
        let none = XClaimOptions::new();

        // The minimum idle time holds back entries delivered just now.
        let claimed: Vec<StreamEntry> = client
            .xclaim("s", "g", "bob", 3_600_000, [id(1)], none)
            .await
            .unwrap();
        assert!(claimed.is_empty());
        // Claimed: bob's now, delivered once more.
        let claimed: Vec<StreamEntry<u64>> = client
            .xclaim("s", "g", "bob", 0, [id(1)], none)
            .await
            .unwrap();
        assert_eq!(ids(&claimed), [id(1)]);
        assert_eq!(claimed[0].get("n"), Some(&1));
        let p = pending_of(id(1)).await.unwrap();
        assert_eq!((p.consumer.as_str(), p.deliveries), ("bob", 2));

        // IDLE and TIME set the idle time; RETRYCOUNT the deliveries.
        client
            .xclaim::<String>(
                "s",
                "g",
                "bob",
                0,
                [id(2)],
                none.idle(7_200_000).retrycount(9),
            )
            .await
            .unwrap();
        let p = pending_of(id(2)).await.unwrap();
        assert!(p.idle_ms >= 7_200_000);
        assert_eq!(p.deliveries, 9);
        let now_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis() as u64;
        client
            .xclaim::<String>("s", "g", "bob", 0, [id(3)], none.time(now_ms - 5_000_000))
            .await
            .unwrap();
        assert!(pending_of(id(3)).await.unwrap().idle_ms >= 5_000_000);
        // The IDLE filter of XPENDING now finds those two.
        let idle = client
            .xpending_range(
                "s",
                "g",
                "-",
                "+",
                10,
                XPendingOptions::new().idle(3_600_000),
            )
            .await
            .unwrap();
        assert_eq!(
            idle.iter().map(|p| p.id).collect::<Vec<_>>(),
            [id(2), id(3)]
        );

        // FORCE claims an entry that nobody has pending (5 was never delivered).
        let claimed: Vec<StreamEntry> = client
            .xclaim("s", "g", "bob", 0, [id(5)], none)
            .await
            .unwrap();
        assert!(claimed.is_empty());
        let claimed: Vec<StreamEntry> = client
            .xclaim("s", "g", "bob", 0, [id(5)], none.force())
            .await
            .unwrap();
        assert_eq!(ids(&claimed), [id(5)]);
        assert_eq!(pending_of(id(5)).await.unwrap().consumer, "bob");

        // JUSTID answers ids and leaves the delivery count alone.
        let before = pending_of(id(4)).await.unwrap().deliveries;
        let just = client
            .xclaim_justid("s", "g", "carol", 0, [id(4)], none)
            .await
            .unwrap();
        assert_eq!(just, [id(4)]);
        let p = pending_of(id(4)).await.unwrap();
        assert_eq!((p.consumer.as_str(), p.deliveries), ("carol", before));

        // XAUTOCLAIM pages through the pending list; a deleted entry is
        // reported and dropped from it.
        client.xdel("s", [id(2)]).await.unwrap();
        let page: AutoClaimed<u64> = client
            .xautoclaim("s", "g", "dave", 0, "0", 2)
            .await
            .unwrap();
        assert_eq!(ids(&page.entries), [id(1)]);
        assert_eq!(page.deleted, [id(2)]);
        assert_eq!(page.next, id(3));
        let page: AutoClaimed = client
            .xautoclaim("s", "g", "dave", 0, page.next, 10)
            .await
            .unwrap();
        assert_eq!(ids(&page.entries), [id(3), id(4), id(5)]);
        assert!(page.deleted.is_empty());
        assert_eq!(page.next, id(0));
        let summary = client.xpending("s", "g").await.unwrap();
        assert_eq!(summary.count, 4);
        assert_eq!(summary.consumers, [("dave".to_string(), 4)]);
    }
}

#[tokio::test]
async fn group_management_and_xinfo() {
    let server = RedisServer::start().unwrap();
    for client in both_protocols(&server).await {
        flush(&client).await;
        fill(&client, "s", 3).await;
        client.xdel("s", [id(1)]).await.unwrap();
        let plain = XGroupCreateOptions::new();

        // XINFO STREAM.
        let info: StreamInfo = client.xinfo_stream("s").await.unwrap();
        assert_eq!(info.length, 2);
        assert_eq!(info.groups, 0);
        assert_eq!(info.last_generated_id, id(3));
        assert_eq!(info.max_deleted_entry_id, Some(id(1)));
        assert_eq!(info.entries_added, Some(3));
        assert_eq!(info.recorded_first_entry_id, Some(id(2)));
        assert_eq!(info.first_entry.as_ref().map(|e| e.id), Some(id(2)));
        let last = info.last_entry.unwrap();
        assert_eq!(
            (last.id, last.get("n").map(String::as_str)),
            (id(3), Some("3"))
        );
        assert!(info.radix_tree_keys >= 1 && info.radix_tree_nodes >= 1);
        client
            .xadd_with("e", [("f", "v")], XAddOptions::new().id(id(1)))
            .await
            .unwrap();
        client.xdel("e", [id(1)]).await.unwrap();
        let empty: StreamInfo<bytes::Bytes> = client.xinfo_stream("e").await.unwrap();
        assert_eq!(
            (empty.length, empty.first_entry, empty.last_entry),
            (0, None, None)
        );

        // Groups: ENTRIESREAD sets what the group has read, and so its lag.
        client
            .xgroup_create("s", "early", "0", plain)
            .await
            .unwrap();
        client
            .xgroup_create("s", "counted", id(2), plain.entries_read(2))
            .await
            .unwrap();
        client.xgroup_create("s", "late", "$", plain).await.unwrap();
        client
            .xgroup_create("s", "uncounted", id(2), plain)
            .await
            .unwrap();
        let _: StreamReads = client
            .xreadgroup(
                "early",
                "alice",
                ["s"],
                [">"],
                XReadGroupOptions::new().count(1),
            )
            .await
            .unwrap();
        assert!(client
            .xgroup_createconsumer("s", "early", "bob")
            .await
            .unwrap());
        assert!(!client
            .xgroup_createconsumer("s", "early", "bob")
            .await
            .unwrap());

        let groups = client.xinfo_groups("s").await.unwrap();
        let names: Vec<&str> = groups.iter().map(|g| g.name.as_str()).collect();
        assert_eq!(names, ["counted", "early", "late", "uncounted"]);
        let counted = &groups[0];
        assert_eq!((counted.consumers, counted.pending), (0, 0));
        assert_eq!(counted.last_delivered_id, id(2));
        assert_eq!((counted.entries_read, counted.lag), (Some(2), Some(1)));
        let early = &groups[1];
        assert_eq!((early.consumers, early.pending), (2, 1));
        assert_eq!(early.last_delivered_id, id(2));
        let late = &groups[2];
        assert_eq!((late.last_delivered_id, late.lag), (id(3), Some(0)));
        let uncounted = &groups[3];
        assert_eq!(
            (uncounted.last_delivered_id, uncounted.entries_read),
            (id(2), None)
        );
        assert_eq!(client.xinfo_stream::<String>("s").await.unwrap().groups, 4);

        let consumers = client.xinfo_consumers("s", "early").await.unwrap();
        let who: Vec<(&str, u64)> = consumers
            .iter()
            .map(|c| (c.name.as_str(), c.pending))
            .collect();
        assert_eq!(who, [("alice", 1), ("bob", 0)]);
        if version(&client).await >= (7, 2) {
            assert!(consumers[0].inactive_ms.is_some());
        } else {
            assert_eq!(consumers[0].inactive_ms, None);
        }

        // DELCONSUMER answers what it had pending.
        assert_eq!(
            client
                .xgroup_delconsumer("s", "early", "alice")
                .await
                .unwrap(),
            1
        );
        assert_eq!(
            client
                .xgroup_delconsumer("s", "early", "bob")
                .await
                .unwrap(),
            0
        );
        assert_eq!(client.xinfo_consumers("s", "early").await.unwrap(), []);

        // SETID rewinds a group: everything is delivered again.
        client.xgroup_setid("s", "late", "0").await.unwrap();
        let reads: StreamReads = client
            .xreadgroup("late", "carol", ["s"], [">"], XReadGroupOptions::new())
            .await
            .unwrap();
        assert_eq!(ids(&reads[0].1), [id(2), id(3)]);

        // DESTROY: true once.
        assert!(client.xgroup_destroy("s", "late").await.unwrap());
        assert!(!client.xgroup_destroy("s", "late").await.unwrap());
        assert_eq!(client.xinfo_groups("s").await.unwrap().len(), 3);
    }
}

#[tokio::test]
async fn typed_stream_commands_queue_in_a_pipeline() {
    let server = RedisServer::start().unwrap();
    for client in both_protocols(&server).await {
        flush(&client).await;
        let mut p = Pipeline::new();
        let added = p.xadd_with("s", [("f", "v")], XAddOptions::new().id(id(9)));
        let read = p.xread::<String>(["s"], ["0"], XReadOptions::new());
        let mut results = client.pipeline(&p).await.unwrap();
        assert_eq!(added.take(&mut results).unwrap(), Some(id(9)));
        let read = read.take(&mut results).unwrap();
        assert_eq!((read[0].0.as_str(), ids(&read[0].1)), ("s", vec![id(9)]));
    }
}
