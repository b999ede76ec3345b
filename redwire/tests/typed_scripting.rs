//! Scripts and functions against a real redis-server, over RESP2 and RESP3:
//! `Script` is sent by digest and recovers after `SCRIPT FLUSH`, alone, in a
//! pipeline and in a transaction, without running anything twice; `EVAL`,
//! `SCRIPT …` and `FUNCTION …`/`FCALL` by hand.

mod support;

use redwire::prelude::*;
use redwire_testkit::RedisServer;
use support::{both_protocols, calls, flush};

const ADD: &str = "return redis.call('INCRBY', KEYS[1], ARGV[1])";

#[tokio::test]
async fn a_script_is_sent_by_digest_and_reloaded_once_after_a_flush() {
    let server = RedisServer::start().unwrap();
    for client in both_protocols(&server).await {
        flush(&client).await;
        client.script_flush(false).await.unwrap();
        let add = Script::new(ADD);

        let (sha_before, eval_before) = (
            calls(&client, "evalsha").await,
            calls(&client, "eval").await,
        );
        // The server does not have it: EVALSHA, NOSCRIPT, then EVAL once.
        assert_eq!(client.invoke::<i64>(add.key("n").arg(5)).await.unwrap(), 5);
        // Now it does: EVALSHA only.
        assert_eq!(client.invoke::<i64>(add.key("n").arg(2)).await.unwrap(), 7);
        assert_eq!(calls(&client, "evalsha").await - sha_before, 2);
        assert_eq!(calls(&client, "eval").await - eval_before, 1);

        client.script_flush(true).await.unwrap();
        assert_eq!(client.invoke::<i64>(add.key("n").arg(1)).await.unwrap(), 8);
        assert_eq!(calls(&client, "eval").await - eval_before, 2);
        // Ran once per invocation: 5 + 2 + 1.
        assert_eq!(client.get::<i64>("n").await.unwrap(), 8);

        // An error inside the script is the script's error, not retried.
        let bad = Script::new("return redis.call('INCR', KEYS[1])");
        client.set("text", "abc").await.unwrap();
        let err = client.invoke::<i64>(bad.key("text")).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Server);
        assert!(err.message().contains("not an integer"), "{err}");
    }
}

#[tokio::test]
async fn a_pipeline_runs_again_only_the_entries_whose_script_was_missing() {
    let server = RedisServer::start().unwrap();
    for client in both_protocols(&server).await {
        flush(&client).await;
        client.script_flush(false).await.unwrap();
        let add = Script::new(ADD);

        let mut p = Pipeline::new();
        p.set("n", 10);
        let first = p.invoke::<i64>(add.key("n").arg(1));
        let read = p.get::<i64>("n");
        let second = p.invoke::<i64>(add.key("n").arg(100));
        let mut results = client.pipeline(&p).await.unwrap();
        // Both invocations got NOSCRIPT, did not run, and ran after the pipeline.
        assert_eq!(read.take(&mut results).unwrap(), 10);
        assert_eq!(first.take(&mut results).unwrap(), 11);
        assert_eq!(second.take(&mut results).unwrap(), 111);
        assert_eq!(client.get::<i64>("n").await.unwrap(), 111);

        // Loaded now: nothing is sent again.
        let eval_before = calls(&client, "eval").await;
        let results = client.pipeline(&p).await.unwrap();
        assert_eq!(results.len(), 4);
        assert_eq!(calls(&client, "eval").await, eval_before);
    }
}

#[tokio::test]
async fn a_transaction_loads_its_scripts_inside_itself() {
    let server = RedisServer::start().unwrap();
    for client in both_protocols(&server).await {
        flush(&client).await;
        client.script_flush(false).await.unwrap();
        let add = Script::new(ADD);

        let mut tx = Pipeline::new();
        tx.atomic();
        tx.set("n", 1);
        let added = tx.invoke::<i64>(add.key("n").arg(41));
        let after = tx.get::<i64>("n");
        let mut results = client.pipeline(&tx).await.unwrap();
        assert_eq!(results.len(), 3, "the script's load is not a result");
        assert_eq!(added.take(&mut results).unwrap(), 42);
        assert_eq!(after.take(&mut results).unwrap(), 42);
        assert!(client.script_exists([add.sha1()]).await.unwrap()[0]);
    }
}

#[tokio::test]
async fn eval_and_script_commands_by_hand() {
    let server = RedisServer::start().unwrap();
    for client in both_protocols(&server).await {
        flush(&client).await;
        let keys: Vec<String> = client
            .eval("return {KEYS[1], KEYS[2], ARGV[1]}", ["a", "b"], ["x"])
            .await
            .unwrap();
        assert_eq!(keys, ["a", "b", "x"]);

        let sha = client.script_load("return ARGV[1] + 1").await.unwrap();
        assert_eq!(sha, Script::new("return ARGV[1] + 1").sha1());
        assert_eq!(
            client.script_exists([sha.as_str(), "0000"]).await.unwrap(),
            [true, false]
        );
        let n: i64 = client.evalsha(&sha, (), [41]).await.unwrap();
        assert_eq!(n, 42);
        client.set("k", "v").await.unwrap();
        let v: String = client
            .eval_ro("return redis.call('GET', KEYS[1])", ["k"], ())
            .await
            .unwrap();
        assert_eq!(v, "v");
        let err = client
            .eval_ro::<()>("return redis.call('SET', KEYS[1], 'w')", ["k"], ())
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Server);

        client.script_flush(false).await.unwrap();
        assert_eq!(client.script_exists([sha.as_str()]).await.unwrap(), [false]);
        let err = client.evalsha::<i64>(&sha, (), [1]).await.unwrap_err();
        assert_eq!(err.code(), Some("NOSCRIPT"));
    }
}

#[tokio::test]
async fn functions_load_call_list_and_delete() {
    let server = RedisServer::start().unwrap();
    for client in both_protocols(&server).await {
        flush(&client).await;
        client.function_flush().await.unwrap();
        let lib = "#!lua name=counters\n\
            redis.register_function('bump', function(keys, args) return redis.call('INCRBY', keys[1], args[1]) end)\n\
            redis.register_function{function_name='peek', callback=function(keys) return redis.call('GET', keys[1]) end, flags={'no-writes'}}";
        assert_eq!(
            client.function_load(lib, FunctionLoad::New).await.unwrap(),
            "counters"
        );
        let again = client
            .function_load(lib, FunctionLoad::New)
            .await
            .unwrap_err();
        assert!(again.message().contains("already exists"), "{again}");
        assert_eq!(
            client
                .function_load(lib, FunctionLoad::Replace)
                .await
                .unwrap(),
            "counters"
        );

        assert_eq!(client.fcall::<i64>("bump", ["c"], [3]).await.unwrap(), 3);
        assert_eq!(client.fcall_ro::<i64>("peek", ["c"], ()).await.unwrap(), 3);
        let err = client
            .fcall_ro::<i64>("bump", ["c"], [1])
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Server);

        let list: Value = client.function_list().await.unwrap();
        assert!(format!("{list:?}").contains("counters"));
        client.function_delete("counters").await.unwrap();
        let err = client.fcall::<i64>("bump", ["c"], [1]).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Server);
    }
}

#[tokio::test]
async fn evalsha_ro_runs_a_read_only_script_and_refuses_writes() {
    let server = RedisServer::start().unwrap();
    for client in both_protocols(&server).await {
        flush(&client).await;
        client.set("k", "v").await.unwrap();
        let read = client
            .script_load("return redis.call('GET', KEYS[1])")
            .await
            .unwrap();
        let v: Option<String> = client.evalsha_ro(&read, ["k"], ()).await.unwrap();
        assert_eq!(v.as_deref(), Some("v"));
        // A script that writes is refused under _RO, so nothing is written.
        let write = client
            .script_load("return redis.call('SET', KEYS[1], 'w')")
            .await
            .unwrap();
        let err = client
            .evalsha_ro::<Value>(&write, ["k"], ())
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Server, "{err}");
        assert_eq!(client.get::<String>("k").await.unwrap(), "v");
    }
}
