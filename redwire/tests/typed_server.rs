//! The typed server commands against a real redis-server, over RESP2 and
//! RESP3: health checks, `INFO` parsed the same from both protocols, flushes
//! and their modes, `CONFIG`, the `CLIENT` family, memory, time, `ROLE`,
//! `WAIT`, `WAITAOF` (on servers that have it) and the slow log.

mod support;

use redwire::prelude::*;
use redwire_testkit::RedisServer;
use std::collections::HashMap;
use support::{both_protocols, flush, lacks};

#[tokio::test]
async fn ping_echo_info_and_dbsize() {
    let server = RedisServer::start().unwrap();
    let mut server_sections = Vec::new();
    for (client, resp3) in both_protocols(&server).await.into_iter().zip([false, true]) {
        flush(&client).await;

        assert_eq!(client.ping().await.unwrap(), Pong);
        assert_eq!(client.ping_message::<String>("hi").await.unwrap(), "hi");
        assert_eq!(client.echo::<String>("echo").await.unwrap(), "echo");
        let raw: Vec<u8> = client.echo(&b"\x00\xff"[..]).await.unwrap();
        assert_eq!(raw, [0, 0xff]);

        // INFO is a bulk string in RESP2, a verbatim string in RESP3.
        let reply = client.send(&cmd("INFO").arg("server")).await.unwrap();
        assert_eq!(matches!(reply, Value::Verbatim { .. }), resp3);
        assert_eq!(matches!(reply, Value::Bulk(_)), !resp3);

        client.set("a", 1).await.unwrap();
        client.set("b", 2).await.unwrap();
        assert_eq!(client.dbsize().await.unwrap(), 2);

        let info = client.info().await.unwrap();
        let port = server.port().to_string();
        assert_eq!(info.get("server", "tcp_port"), Some(port.as_str()));
        assert_eq!(info.get("Server", "tcp_port"), Some(port.as_str()));
        assert_eq!(
            info.get_parsed::<u16>("server", "tcp_port"),
            Some(server.port())
        );
        assert_eq!(info.get_parsed::<u16>("server", "redis_version"), None);
        assert_eq!(info.get("server", "no_such_field"), None);
        assert_eq!(info.get("no_such_section", "tcp_port"), None);
        // Servers add fields to a keyspace line (Redis 8: `subexpiry`), so
        // the fields are compared, not the line.
        assert_eq!(db_fields(&info, "db0", &["keys", "expires"]), ["2", "0"]);
        let server_fields = info.section("server").unwrap();
        assert_eq!(server_fields.get("tcp_port"), Some(&port));
        assert!(server_fields.contains_key("redis_version"));
        let sections: Vec<&str> = info.sections().collect();
        assert_eq!(sections.first(), Some(&"server"));
        assert!(sections.contains(&"keyspace") && sections.contains(&"memory"));
        assert!(!sections.contains(&"commandstats"), "not a default section");

        let only = client
            .info_sections(["clients", "commandstats"])
            .await
            .unwrap();
        assert_eq!(
            only.sections().collect::<Vec<_>>(),
            ["clients", "commandstats"]
        );
        // Two SETs a round, counted since the server started.
        let calls = format!("calls={},", if resp3 { 4 } else { 2 });
        let set_stats = only.get("commandstats", "cmdstat_set").unwrap();
        assert!(set_stats.starts_with(&calls), "{set_stats}");
        let one = client.info_sections("server").await.unwrap();
        server_sections.push(one);
    }
    // Both protocols parse to the same sections and fields.
    let (resp2, resp3) = (&server_sections[0], &server_sections[1]);
    let fields = |i: &Info| {
        let mut f: Vec<String> = i.section("server").unwrap().keys().cloned().collect();
        f.sort();
        f
    };
    assert_eq!(fields(resp2), fields(resp3));
    assert_eq!(resp2.get("server", "run_id"), resp3.get("server", "run_id"));
    let text = "# Server\r\nredis_version:7.0.15\r\n\r\n# Keyspace\r\ndb0:keys=1,expires=0\r\n";
    let bulk = Info::from_value(Value::Bulk(text.into())).unwrap();
    let verbatim = Info::from_value(Value::Verbatim {
        format: *b"txt",
        text: text.into(),
    })
    .unwrap();
    assert_eq!(bulk, verbatim);
    assert_eq!(bulk.get("keyspace", "db0"), Some("keys=1,expires=0"));
}

/// The named fields of a keyspace line (`db0:keys=2,expires=0,...`).
fn db_fields(info: &Info, db: &str, names: &[&str]) -> Vec<String> {
    let line = info
        .get("keyspace", db)
        .unwrap_or_else(|| panic!("no {db} in INFO"));
    names
        .iter()
        .map(|name| {
            line.split(',')
                .find_map(|f| f.strip_prefix(name)?.strip_prefix('='))
                .unwrap_or_else(|| panic!("no {name} in {line}"))
                .to_string()
        })
        .collect()
}

/// `lazyfreed_objects` of `INFO memory`: what background threads freed.
async fn lazyfreed(client: &Client) -> u64 {
    let info = client.info_sections("memory").await.unwrap();
    info.get_parsed("memory", "lazyfreed_objects").unwrap()
}

/// Waits until the background thread has freed everything it was given
/// (a SYNC flush may hand it objects too, on Redis 8 and Valkey 8).
async fn lazyfree_drained(client: &Client) {
    for _ in 0..1000 {
        let info = client.info_sections("memory").await.unwrap();
        let pending: u64 = info
            .get_parsed("memory", "lazyfree_pending_objects")
            .unwrap();
        if pending == 0 {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    panic!("the lazy-free thread never drained");
}

#[tokio::test]
async fn flushes_and_their_modes() {
    let server = RedisServer::start().unwrap();
    for client in both_protocols(&server).await {
        flush(&client).await;

        // FLUSHDB empties this database only, FLUSHALL every one.
        client.set("moved", 1).await.unwrap();
        assert!(client
            .query::<bool>(&cmd("MOVE").arg("moved").arg(1))
            .await
            .unwrap());
        client.set("here", 1).await.unwrap();
        client.flushdb().await.unwrap();
        assert_eq!(client.dbsize().await.unwrap(), 0);
        let keyspace = client.info_sections("keyspace").await.unwrap();
        assert_eq!(
            db_fields(&keyspace, "db1", &["keys", "expires"]),
            ["1", "0"]
        );
        client.flushall().await.unwrap();
        let keyspace = client.info_sections("keyspace").await.unwrap();
        assert_eq!(keyspace.get("keyspace", "db1"), None);

        // Each mode reaches the server as its argument: the slow log (at
        // threshold 0) records the command as sent. ASYNC hands the keys to a
        // background thread, which counts them in `lazyfreed_objects`; what
        // SYNC does with them differs by server (Redis 8 frees them in a
        // background thread too, while the caller waits), so only the
        // ASYNC count is checked.
        client
            .config_set("slowlog-log-slower-than", 0)
            .await
            .unwrap();
        let last_command = || async { client.slowlog_get(1).await.unwrap()[0].args.clone() };
        client.mset([("x", 1), ("y", 2), ("z", 3)]).await.unwrap();
        client.flushdb_with(FlushMode::Sync).await.unwrap();
        assert_eq!(last_command().await, ["FLUSHDB", "SYNC"]);
        assert_eq!(client.dbsize().await.unwrap(), 0);
        client.set("moved", 1).await.unwrap();
        client
            .query::<bool>(&cmd("MOVE").arg("moved").arg(1))
            .await
            .unwrap();
        client.mset([("x", 1), ("y", 2)]).await.unwrap();
        lazyfree_drained(&client).await;
        let before = lazyfreed(&client).await;
        client.flushall_with(FlushMode::Async).await.unwrap();
        assert_eq!(last_command().await, ["FLUSHALL", "ASYNC"]);
        assert_eq!(client.dbsize().await.unwrap(), 0);
        // The count comes when the background thread has run.
        let mut freed = 0;
        for _ in 0..1000 {
            freed = lazyfreed(&client).await - before;
            if freed == 3 {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
        assert_eq!(freed, 3);
        client.flushdb_with(FlushMode::Async).await.unwrap();
        assert_eq!(last_command().await, ["FLUSHDB", "ASYNC"]);
        client.flushall_with(FlushMode::Sync).await.unwrap();
        assert_eq!(last_command().await, ["FLUSHALL", "SYNC"]);
        client
            .config_set("slowlog-log-slower-than", 10_000)
            .await
            .unwrap();
        // RESETSTAT zeroes it.
        client.config_resetstat().await.unwrap();
        assert_eq!(lazyfreed(&client).await, 0);
    }
}

#[tokio::test]
async fn config_get_and_set() {
    let server = RedisServer::start().unwrap();
    for client in both_protocols(&server).await {
        let got = client.config_get("maxmemory").await.unwrap();
        assert_eq!(
            got,
            HashMap::from([("maxmemory".to_string(), "0".to_string())])
        );
        client.config_set("maxmemory", "10mb").await.unwrap();
        assert_eq!(
            client.config_get("maxmemory").await.unwrap()["maxmemory"],
            "10485760"
        );

        client
            .config_set_many([("maxmemory", "20mb"), ("maxmemory-policy", "allkeys-lru")])
            .await
            .unwrap();
        let got = client
            .config_get(["maxmemory", "maxmemory-policy"])
            .await
            .unwrap();
        assert_eq!(got.len(), 2);
        assert_eq!(got["maxmemory"], "20971520");
        assert_eq!(got["maxmemory-policy"], "allkeys-lru");
        // A pattern matches several parameters.
        let got = client.config_get("maxmemory*").await.unwrap();
        assert!(got.len() > 2 && got.contains_key("maxmemory-samples"));
        // All or none: one bad value changes nothing.
        let err = client
            .config_set_many([("maxmemory", "1mb"), ("maxmemory-policy", "bogus")])
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Server);
        assert_eq!(
            client.config_get("maxmemory").await.unwrap()["maxmemory"],
            "20971520"
        );

        client
            .config_set_many(HashMap::from([
                ("maxmemory", "0"),
                ("maxmemory-policy", "noeviction"),
            ]))
            .await
            .unwrap();
        assert_eq!(
            client.config_get("maxmemory").await.unwrap()["maxmemory"],
            "0"
        );

        // RESETSTAT zeroes the command statistics.
        client.config_resetstat().await.unwrap();
        let stats = client.info_sections("commandstats").await.unwrap();
        assert_eq!(stats.get("commandstats", "cmdstat_config"), None);
        assert_eq!(
            stats.get_parsed::<u64>("commandstats", "cmdstat_info"),
            None
        );
        assert!(stats.section("commandstats").unwrap().len() <= 1);
    }
}

#[tokio::test]
async fn client_commands() {
    let server = RedisServer::start().unwrap();
    let protocols = [redwire::Protocol::Resp2, redwire::Protocol::Resp3];
    for (client, protocol) in both_protocols(&server).await.into_iter().zip(protocols) {
        let id = client.client_id().await.unwrap();
        let me = client.client_info().await.unwrap();
        assert_eq!(me.id, id);
        assert_eq!(me.cmd, "client|info");
        assert_eq!(me.db, 0);
        assert_eq!(me.name, None);
        assert_eq!(me.user, "default");
        assert_eq!(me.flags, "N");
        assert!(me.addr.starts_with("127.0.0.1:"));
        assert_eq!(me.laddr, format!("127.0.0.1:{}", server.port()));
        assert!(me.age < 60 && me.idle < 60);
        let resp = if protocol == redwire::Protocol::Resp3 {
            "3"
        } else {
            "2"
        };
        assert_eq!(me.get("resp"), Some(resp));
        assert_eq!(client.client_getname().await.unwrap(), None);

        // A named connection.
        let config = support::config(&server.url())
            .into_builder()
            .protocol(protocol)
            .client_name("worker")
            .build();
        let named = Client::connect(config).await.unwrap();
        assert_eq!(
            named.client_getname().await.unwrap().as_deref(),
            Some("worker")
        );
        let named_info = named.client_info().await.unwrap();
        assert_eq!(named_info.name.as_deref(), Some("worker"));

        // CLIENT LIST holds both; with IDs, only those asked for.
        let all = client.client_list().await.unwrap();
        assert!(all.iter().any(|c| c.id == id && c.cmd == "client|list"));
        assert!(all
            .iter()
            .any(|c| c.id == named_info.id && c.name.as_deref() == Some("worker")));
        let listed = client
            .client_list_ids([named_info.id, 999_999])
            .await
            .unwrap();
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0].addr, named_info.addr);

        // KILL by id, then by address: each closes one connection.
        assert_eq!(client.client_kill_id(named_info.id).await.unwrap(), 1);
        assert_eq!(client.client_kill_id(named_info.id).await.unwrap(), 0);
        assert!(client
            .client_list_ids(named_info.id)
            .await
            .unwrap()
            .is_empty());
        let other = Client::connect(support::config(&server.url()))
            .await
            .unwrap();
        let other_info = other.client_info().await.unwrap();
        assert_eq!(client.client_kill_addr(&other_info.addr).await.unwrap(), 1);
        assert!(client
            .client_list_ids(other_info.id)
            .await
            .unwrap()
            .is_empty());
        assert_eq!(client.client_kill_addr("10.9.9.9:1").await.unwrap(), 0);
        // The killing connection itself is left alone (SKIPME).
        assert_eq!(client.client_kill_id(id).await.unwrap(), 0);
        assert_eq!(client.client_id().await.unwrap(), id);
    }
}

#[tokio::test]
async fn time_memory_role_wait_and_more() {
    let server = RedisServer::start().unwrap();
    for client in both_protocols(&server).await {
        flush(&client).await;
        let mut conn = support::dedicated(&client).await;

        let time = client.time().await.unwrap();
        assert!(time.micros < 1_000_000);
        let ours = std::time::SystemTime::now();
        let apart = match ours.duration_since(time.to_system_time()) {
            Ok(d) => d,
            Err(e) => e.duration(),
        };
        assert!(apart.as_secs() < 60, "the server runs on this machine");
        assert_eq!(time.since_epoch().as_secs(), time.secs);

        let persistence = client.info_sections("persistence").await.unwrap();
        let last = persistence.get_parsed::<u64>("persistence", "rdb_last_save_time");
        assert_eq!(Some(client.lastsave().await.unwrap()), last);

        // COMMAND describes each command once (subcommands inside their parent).
        let docs: Vec<Value> = client.query(&cmd("COMMAND")).await.unwrap();
        assert_eq!(client.command_count().await.unwrap(), docs.len() as u64);

        // MEMORY USAGE: None for a missing key. A hash of one huge value among
        // small ones: counting every field (SAMPLES 0) differs from
        // extrapolating one.
        assert_eq!(client.memory_usage("missing").await.unwrap(), None);
        client.set("s", "v").await.unwrap();
        assert!(client.memory_usage("s").await.unwrap().unwrap() > 0);
        let mut fields: Vec<(String, String)> = (0..200)
            .map(|i| (format!("f{i}"), "x".to_string()))
            .collect();
        fields[100].1 = "y".repeat(100_000);
        client
            .send(&cmd("HSET").arg("h").arg(&fields))
            .await
            .unwrap();
        let exact = client.memory_usage_samples("h", 0).await.unwrap().unwrap();
        assert!(exact > 100_000);
        let all_again = client
            .memory_usage_samples("h", 1_000)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(all_again, exact);
        let one = client.memory_usage_samples("h", 1).await.unwrap().unwrap();
        assert_ne!(one, exact);
        assert!(client.memory_usage("h").await.unwrap().is_some());

        match client.role().await.unwrap() {
            Role::Master { offset, replicas } => {
                assert!(offset >= 0);
                assert!(replicas.is_empty());
            }
            other => panic!("expected a master, got {other:?}"),
        }

        // No replicas: none acknowledge, at once for 0 wanted, after the
        // timeout for 1.
        client.set("w", 1).await.unwrap();
        assert_eq!(conn.wait(0, 0).await.unwrap(), 0);
        assert_eq!(conn.wait(1, 10).await.unwrap(), 0);

        // The slow log, with every command slow; SLOWLOG RESET logs itself.
        client
            .config_set("slowlog-log-slower-than", 0)
            .await
            .unwrap();
        client.slowlog_reset().await.unwrap();
        client.echo::<String>("marker").await.unwrap();
        assert_eq!(client.slowlog_len().await.unwrap(), 2);
        let entries = client.slowlog_get(-1).await.unwrap();
        let args: Vec<Vec<String>> = entries
            .iter()
            .map(|e| {
                e.args
                    .iter()
                    .map(|a| String::from_utf8_lossy(a).into_owned())
                    .collect()
            })
            .collect();
        assert_eq!(
            args,
            [
                vec!["SLOWLOG", "LEN"],
                vec!["ECHO", "marker"],
                vec!["SLOWLOG", "RESET"]
            ]
        );
        assert!(entries[0].id > entries[1].id);
        let me = client.client_info().await.unwrap();
        assert_eq!(entries[1].client_addr, me.addr);
        assert_eq!(entries[1].client_name, "");
        assert!(entries[1].timestamp as u64 >= time.secs);
        let newest = client.slowlog_get(1).await.unwrap();
        assert_eq!(newest.len(), 1);
        assert_eq!(newest[0].args, ["CLIENT", "INFO"]);
        client
            .config_set("slowlog-log-slower-than", 10_000)
            .await
            .unwrap();
        client.slowlog_reset().await.unwrap();
        assert_eq!(client.slowlog_len().await.unwrap(), 0);
    }
}

#[test]
fn role_reads_replicas_and_sentinels() {
    let bulk = |s: &str| Value::Bulk(s.to_string().into());
    let master = Value::Array(vec![
        bulk("master"),
        Value::Int(3129659),
        Value::Array(vec![Value::Array(vec![
            bulk("127.0.0.1"),
            bulk("9001"),
            bulk("3129242"),
        ])]),
    ]);
    assert_eq!(
        Role::from_value(master).unwrap(),
        Role::Master {
            offset: 3129659,
            replicas: vec![ReplicaLink {
                ip: "127.0.0.1".into(),
                port: 9001,
                offset: 3129242
            }],
        }
    );
    let replica = Value::Array(vec![
        bulk("slave"),
        bulk("127.0.0.1"),
        Value::Int(9000),
        bulk("connected"),
        Value::Int(3167038),
    ]);
    assert_eq!(
        Role::from_value(replica).unwrap(),
        Role::Replica {
            master_host: "127.0.0.1".into(),
            master_port: 9000,
            state: "connected".into(),
            offset: 3167038,
        }
    );
    let sentinel = Value::Array(vec![
        bulk("sentinel"),
        Value::Array(vec![bulk("resque-master"), bulk("html-fragments-master")]),
    ]);
    assert_eq!(
        Role::from_value(sentinel).unwrap(),
        Role::Sentinel {
            masters: vec!["resque-master".into(), "html-fragments-master".into()],
        }
    );
    let err = Role::from_value(Value::Array(vec![bulk("mystery")])).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Type);
}

#[tokio::test]
async fn waitaof_counts_fsyncs_and_needs_appendonly_for_local() {
    let with_aof = RedisServer::builder()
        .config("appendonly yes")
        .start()
        .unwrap();
    if lacks(&with_aof, "WAITAOF") {
        return;
    }
    for client in both_protocols(&with_aof).await {
        let mut conn = support::dedicated(&client).await;
        conn.set("order", "paid").await.unwrap();
        // Fsynced here; no replica to wait for.
        let acks = conn.waitaof(1, 0, 0).await.unwrap();
        assert_eq!(
            acks,
            AofAcks {
                local: 1,
                replicas: 0
            }
        );
        // Asking for a replica that does not exist: 0 of them, after the timeout.
        let acks = conn.waitaof(1, 1, 20).await.unwrap();
        assert_eq!(
            acks,
            AofAcks {
                local: 1,
                replicas: 0
            }
        );

        // Blocking: the shared client refuses it before sending it.
        let err = client.waitaof(1, 0, 0).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Unsupported, "{err}");
        assert!(err.message().contains("WAITAOF"), "{err}");
    }

    let without_aof = RedisServer::start().unwrap();
    for client in both_protocols(&without_aof).await {
        let mut conn = support::dedicated(&client).await;
        conn.set("order", "paid").await.unwrap();
        // numlocal 1 without an AOF: the server's error, which says why.
        let err = conn.waitaof(1, 0, 0).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Server, "{err}");
        assert!(err.message().contains("appendonly"), "{err}");
        // numlocal 0 asks nothing of this server.
        let acks = conn.waitaof(0, 0, 0).await.unwrap();
        assert_eq!(
            acks,
            AofAcks {
                local: 0,
                replicas: 0
            }
        );
        assert!(conn.ping().await.is_ok(), "the connection is still usable");
    }
}
