//! Typed commands queued in pipelines and transactions, against a real
//! redis-server over RESP2 and RESP3: the same methods fill a `Pipeline`,
//! each `Slot` reads its own entry back with its type, in order; a failed
//! entry and an aborted transaction say which entry and why.

mod support;

use redwire::prelude::*;
use redwire_testkit::RedisServer;
use std::collections::HashMap;
use support::{both_protocols, flush};

#[tokio::test]
async fn a_typed_pipeline_reads_each_result_with_its_type_in_order() {
    let server = RedisServer::start().unwrap();
    let mut per_protocol = Vec::new();
    for client in both_protocols(&server).await {
        flush(&client).await;
        let mut p = Pipeline::new();
        p.set("name", "Ada");
        let n = p.incr_by("n", 5);
        let name = p.get::<String>("name");
        let missing = p.get::<Option<String>>("missing");
        let many = p.mget::<String>(["name", "missing"]);
        let len = p.strlen("name");
        let float = p.incr_by_float("f", 0.5);
        let mut results = client.pipeline(&p).await.unwrap();
        assert_eq!(results.len(), 7);

        // Read in any order: each slot knows its entry.
        assert_eq!(len.take(&mut results).unwrap(), 3);
        assert_eq!(n.take(&mut results).unwrap(), 5);
        assert_eq!(name.take(&mut results).unwrap(), "Ada");
        assert_eq!(missing.take(&mut results).unwrap(), None);
        let many = many.take(&mut results).unwrap();
        assert_eq!(many, [Some("Ada".to_string()), None]);
        let float = float.take(&mut results).unwrap();
        assert_eq!(float, 0.5);

        // A slot read twice, or against the wrong results, says so.
        let again = n.take(&mut results).unwrap_err();
        assert_eq!(again.kind(), ErrorKind::Type);
        assert!(again.message().contains("already taken"), "{again}");
        let elsewhere = n.take(&mut []).unwrap_err();
        assert!(elsewhere.message().contains("entry 1"), "{elsewhere}");
        per_protocol.push(many);
    }
    assert_eq!(per_protocol[0], per_protocol[1]);
}

#[tokio::test]
async fn one_failed_entry_fails_only_its_slot() {
    let server = RedisServer::start().unwrap();
    for client in both_protocols(&server).await {
        flush(&client).await;
        client.set("text", "abc").await.unwrap();
        let mut p = Pipeline::new();
        let bad = p.incr("text");
        let wrong_type = p.get::<i64>("text");
        let good = p.incr("n");
        let mut results = client.pipeline(&p).await.unwrap();
        assert_eq!(
            bad.take(&mut results).unwrap_err().kind(),
            ErrorKind::Server
        );
        let err = wrong_type.take(&mut results).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Type);
        assert_eq!(
            err.message(),
            r#"expected an integer (i64), got bulk string "abc""#
        );
        assert_eq!(good.take(&mut results).unwrap(), 1);
    }
}

#[tokio::test]
async fn a_typed_transaction_returns_its_results_in_order() {
    let server = RedisServer::start().unwrap();
    for client in both_protocols(&server).await {
        flush(&client).await;
        let mut tx = Pipeline::new();
        tx.atomic();
        tx.set("a", 1);
        let a = tx.incr("a");
        let b = tx.incr_by("b", 10);
        let values = tx.mget::<i64>(["a", "b"]);
        let mut results = client.pipeline(&tx).await.unwrap();
        assert_eq!(a.take(&mut results).unwrap(), 2);
        assert_eq!(b.take(&mut results).unwrap(), 10);
        assert_eq!(values.take(&mut results).unwrap(), [Some(2), Some(10)]);

        // An entry failing at run time fails alone; the others ran.
        client.set("text", "abc").await.unwrap();
        let mut tx = Pipeline::new();
        tx.atomic();
        let bad = tx.incr("text");
        let good = tx.incr("a");
        let mut results = client.pipeline(&tx).await.unwrap();
        assert_eq!(
            bad.take(&mut results).unwrap_err().kind(),
            ErrorKind::Server
        );
        assert_eq!(good.take(&mut results).unwrap(), 3);

        // An entry refused while queueing aborts everything, and is named.
        let mut tx = Pipeline::new();
        tx.atomic();
        let _ = tx.incr("a");
        tx.add(cmd("GET"));
        let err = client.pipeline(&tx).await.unwrap_err();
        assert_eq!(err.code(), Some("EXECABORT"));
        assert!(err.message().contains("entry 1"), "{err}");
        assert!(err.message().contains("wrong number of arguments"), "{err}");
        assert_eq!(client.get::<i64>("a").await.unwrap(), 3, "nothing ran");
    }
}

#[tokio::test]
async fn typed_and_raw_paths_give_the_same_values() {
    let server = RedisServer::start().unwrap();
    for client in both_protocols(&server).await {
        flush(&client).await;
        client
            .send(&cmd("HSET").arg("h").arg([("a", "1"), ("b", "2")]))
            .await
            .unwrap();
        let raw: HashMap<String, i64> = client.query(&cmd("HGETALL").arg("h")).await.unwrap();
        let mut p = Pipeline::new();
        let typed = p.command::<HashMap<String, i64>>(cmd("HGETALL").arg("h"));
        let mut results = client.pipeline(&p).await.unwrap();
        assert_eq!(typed.take(&mut results).unwrap(), raw);
        let direct: HashMap<String, i64> = client.command(cmd("HGETALL").arg("h")).await.unwrap();
        assert_eq!(direct, raw);
    }
}
