//! Scans as streams against a real redis-server, over RESP2 and RESP3: every
//! key of 10,000 is seen and the stream ends, also while keys are being added;
//! MATCH, COUNT and TYPE each change what comes back; HSCAN/SSCAN/ZSCAN give
//! pairs, members and scored members alike in both protocols.

mod support;

use redwire::prelude::*;
use redwire_testkit::RedisServer;
use std::collections::{BTreeMap, HashSet};
use support::{both_protocols, calls, flush};

async fn fill(client: &Client, prefix: &str, n: usize) -> HashSet<String> {
    let keys: Vec<String> = (0..n).map(|i| format!("{prefix}:{i}")).collect();
    for chunk in keys.chunks(1000) {
        let pairs: Vec<(&str, usize)> = chunk.iter().map(|k| (k.as_str(), 1)).collect();
        client.mset(pairs).await.unwrap();
    }
    keys.into_iter().collect()
}

#[tokio::test]
async fn scan_yields_every_key_and_ends() {
    let server = RedisServer::start().unwrap();
    for client in both_protocols(&server).await {
        flush(&client).await;
        let all = fill(&client, "k", 10_000).await;

        let seen: Vec<String> = client
            .scan(ScanOptions::new().count(500))
            .try_collect()
            .await
            .unwrap();
        let unique: HashSet<String> = seen.iter().cloned().collect();
        assert_eq!(unique, all);
        // SCAN may repeat a key, never invent one: at most a few repeats.
        assert!(seen.len() >= all.len());

        // The stream interface gives the same.
        let mut stream = client.scan::<String>(ScanOptions::new().count(1000));
        let mut count = 0;
        while let Some(key) = stream.next().await {
            assert!(all.contains(&key.unwrap()));
            count += 1;
        }
        assert!(count >= all.len());
        assert!(stream.next().await.is_none(), "an ended scan stays ended");

        // As a futures Stream.
        let mut stream = client.scan::<String>(ScanOptions::new().count(1000));
        let mut polled = 0;
        while let Some(key) =
            std::future::poll_fn(|cx| std::pin::Pin::new(&mut stream).poll_next(cx)).await
        {
            key.unwrap();
            polled += 1;
        }
        assert!(polled >= all.len());
    }
}

#[tokio::test]
async fn scan_sees_every_original_key_while_keys_are_added() {
    let server = RedisServer::start().unwrap();
    for client in both_protocols(&server).await {
        flush(&client).await;
        let original = fill(&client, "old", 10_000).await;

        let writer = client.clone();
        let adding = tokio::spawn(async move { fill(&writer, "new", 10_000).await });
        let mut seen = HashSet::new();
        let mut scan = client.scan::<String>(ScanOptions::new().count(200));
        while let Some(key) = scan.next().await {
            seen.insert(key.unwrap());
            tokio::task::yield_now().await;
        }
        let added = adding.await.unwrap();
        assert!(
            original.is_subset(&seen),
            "a key present throughout was missed"
        );
        assert!(seen
            .iter()
            .all(|k| original.contains(k) || added.contains(k)));
    }
}

#[tokio::test]
async fn match_count_and_type_change_what_comes_back() {
    let server = RedisServer::start().unwrap();
    for client in both_protocols(&server).await {
        flush(&client).await;
        fill(&client, "user", 300).await;
        fill(&client, "order", 300).await;
        client
            .send(&cmd("HSET").arg("user:h").arg("f").arg("v"))
            .await
            .unwrap();

        let users: HashSet<String> = client
            .scan(ScanOptions::new().pattern("user:*"))
            .try_collect()
            .await
            .unwrap()
            .into_iter()
            .collect();
        assert_eq!(users.len(), 301);
        assert!(users.iter().all(|k| k.starts_with("user:")));

        let hashes: HashSet<String> = client
            .scan(ScanOptions::new().of_type(KeyType::Hash))
            .try_collect()
            .await
            .unwrap()
            .into_iter()
            .collect();
        assert_eq!(hashes, HashSet::from(["user:h".to_string()]));

        // COUNT is the work per page: fewer, larger pages.
        let before = calls(&client, "scan").await;
        let _: Vec<String> = client
            .scan(ScanOptions::new().count(1000))
            .try_collect()
            .await
            .unwrap();
        let large_pages = calls(&client, "scan").await - before;
        let before = calls(&client, "scan").await;
        let _: Vec<String> = client.scan(ScanOptions::new()).try_collect().await.unwrap();
        let default_pages = calls(&client, "scan").await - before;
        assert!(large_pages <= 3, "COUNT 1000 took {large_pages} pages");
        assert!(
            default_pages >= 30,
            "the default took {default_pages} pages"
        );
    }
}

#[tokio::test]
async fn hscan_sscan_and_zscan_follow_the_cursor_in_both_protocols() {
    let server = RedisServer::start().unwrap();
    let mut per_protocol = Vec::new();
    for client in both_protocols(&server).await {
        flush(&client).await;
        // Past the compact encodings, so that the cursor really moves.
        let n = 1000;
        let fields: Vec<(String, String)> =
            (0..n).map(|i| (format!("f{i}"), format!("v{i}"))).collect();
        client
            .send(&cmd("HSET").arg("h").arg(&fields))
            .await
            .unwrap();
        let members: Vec<String> = (0..n).map(|i| format!("m{i}")).collect();
        client
            .send(&cmd("SADD").arg("s").arg(&members))
            .await
            .unwrap();
        let scored: Vec<(f64, String)> =
            (0..n).map(|i| (i as f64 + 0.5, format!("z{i}"))).collect();
        client
            .send(&cmd("ZADD").arg("z").arg(&scored))
            .await
            .unwrap();

        let h: BTreeMap<String, String> = client
            .hscan::<(String, String)>("h", ScanOptions::new().count(100))
            .try_collect()
            .await
            .unwrap()
            .into_iter()
            .collect();
        assert_eq!(h, fields.iter().cloned().collect::<BTreeMap<_, _>>());

        let s: HashSet<String> = client
            .sscan::<String>("s", ScanOptions::new().pattern("m1*"))
            .try_collect()
            .await
            .unwrap()
            .into_iter()
            .collect();
        let want: HashSet<String> = members
            .iter()
            .filter(|m| m.starts_with("m1"))
            .cloned()
            .collect();
        assert_eq!(s, want);

        let z: BTreeMap<String, f64> = client
            .zscan::<(String, f64)>("z", ScanOptions::new())
            .try_collect()
            .await
            .unwrap()
            .into_iter()
            .collect();
        assert_eq!(z.len(), n);
        assert_eq!(z["z7"], 7.5);
        per_protocol.push((
            h,
            z.into_iter()
                .map(|(k, v)| (k, v.to_bits()))
                .collect::<Vec<_>>(),
        ));
    }
    assert_eq!(per_protocol[0], per_protocol[1]);
}

#[tokio::test]
async fn an_error_ends_the_scan_after_saying_why() {
    let server = RedisServer::start().unwrap();
    for client in both_protocols(&server).await {
        flush(&client).await;
        client.set("str", "x").await.unwrap();
        let mut scan = client.hscan::<(String, String)>("str", ScanOptions::new());
        let err = scan.next().await.unwrap().unwrap_err();
        assert_eq!(err.code(), Some("WRONGTYPE"));
        assert!(scan.next().await.is_none());
    }
}
