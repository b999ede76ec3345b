//! Large values against a real redis-server: a value of any size, around the
//! 4 KiB from which a command keeps an argument in a buffer of its own and
//! around the 16 KiB from which the write queue writes a request from its own
//! buffer, reaches the server whole, on every path: by reference and by
//! value, as `Bytes`, among small arguments, in pipelines and transactions,
//! in scripts, on a dedicated connection, and from many callers at once
//! (batches that mix split requests with small ones). Each value is read
//! back with GET and compared byte for byte.

mod support;

use bytes::Bytes;
use redwire::prelude::*;
use redwire::{cmd, FromValue, Value};
use redwire_testkit::RedisServer;

/// `src/large.rs`: arguments from this size are kept out of line.
const LARGE_ARG: usize = 4 * 1024;
/// `connection/write_queue.rs`: requests from this size are not copied.
const LARGE_REQUEST: usize = 16 * 1024;

fn sizes() -> Vec<usize> {
    vec![
        0,
        1,
        LARGE_ARG - 1,
        LARGE_ARG,
        LARGE_ARG + 1,
        LARGE_REQUEST - 1,
        LARGE_REQUEST,
        LARGE_REQUEST + 1,
        1 << 20,
    ]
}

/// A value of `size` bytes that differs with `seed` and holds every byte
/// (CR, LF and `$` among them).
fn value(size: usize, seed: usize) -> Vec<u8> {
    (0..size)
        .map(|i| (i.wrapping_mul(31) ^ seed.wrapping_mul(131)) as u8)
        .collect()
}

async fn get(client: &Client, key: &str) -> Vec<u8> {
    let v: Option<Bytes> = client.get(key).await.unwrap();
    v.expect("the key was set").to_vec()
}

fn bytes_of(v: &Result<Value, redwire::Error>) -> Vec<u8> {
    Bytes::from_value(v.clone().unwrap()).unwrap().to_vec()
}

#[tokio::test]
async fn single_commands_carry_values_of_every_size_whole() {
    let server = RedisServer::start().unwrap();
    for client in support::both_protocols(&server).await {
        for size in sizes() {
            // By reference, the value as a slice.
            let v = value(size, 1);
            let ok = client.send(&cmd("SET").arg("a").arg(&v[..])).await;
            assert!(ok.unwrap().is_ok());
            assert!(get(&client, "a").await == v, "by reference, {size} bytes");

            // By value (a typed method).
            let v = value(size, 2);
            client.set("a", &v[..]).await.unwrap();
            assert!(get(&client, "a").await == v, "by value, {size} bytes");

            // As `Bytes`, by reference and by value.
            let v = Bytes::from(value(size, 3));
            client.send(&cmd("SET").arg("a").arg(&v)).await.unwrap();
            assert!(get(&client, "a").await == v, "Bytes, {size} bytes");
            let v = Bytes::from(value(size, 4));
            client.set("a", &v).await.unwrap();
            assert!(get(&client, "a").await == v, "Bytes by value, {size} bytes");

            // Among small arguments and other large ones, the same command
            // sent twice.
            let (x, y) = (value(size, 5), value(size + LARGE_ARG, 6));
            let mset = cmd("MSET")
                .arg("x")
                .arg(&x[..])
                .arg("s")
                .arg("small")
                .arg("y")
                .arg(&y[..]);
            client.send(&mset).await.unwrap();
            client.send(&mset).await.unwrap();
            let got: Vec<Option<Bytes>> = client.mget(["x", "s", "y"]).await.unwrap();
            let got: Vec<Vec<u8>> = got.into_iter().map(|b| b.unwrap().to_vec()).collect();
            assert!(got == [x, b"small".to_vec(), y], "MSET, {size} bytes");

            // The length the server counted, to be sure of the framing.
            let n: u64 = client.strlen("y").await.unwrap();
            assert_eq!(n, (size + LARGE_ARG) as u64);
        }
    }
}

#[tokio::test]
async fn pipelines_and_transactions_carry_large_values_whole() {
    let server = RedisServer::start().unwrap();
    let client = Client::connect(support::config(&server.url()))
        .await
        .unwrap();
    for size in sizes() {
        let (a, b) = (value(size, 7), Bytes::from(value(size, 8)));
        for atomic in [false, true] {
            let mut p = Pipeline::new();
            if atomic {
                p.atomic();
            }
            let by_ref = cmd("SET").arg("a").arg(&a[..]);
            p.push(&by_ref)
                .add(cmd("GET").arg("a"))
                .add(cmd("SET").arg("b").arg(&b))
                .add(cmd("APPEND").arg("b").arg(&a[..]))
                .add(cmd("GET").arg("b"));
            let results = client.pipeline(&p).await.unwrap();
            assert_eq!(results.len(), 5);
            assert!(bytes_of(&results[1]) == a, "{size} bytes, atomic {atomic}");
            let mut ab = b.to_vec();
            ab.extend_from_slice(&a);
            assert!(bytes_of(&results[4]) == ab, "{size} bytes, atomic {atomic}");
            assert!(get(&client, "a").await == a);
        }
    }
}

#[tokio::test]
async fn scripts_and_dedicated_connections_carry_large_values_whole() {
    let server = RedisServer::start().unwrap();
    let client = Client::connect(support::config(&server.url()))
        .await
        .unwrap();
    let mut conn = support::dedicated(&client).await;
    let set = Script::new("return redis.call('SET', KEYS[1], ARGV[1])");
    // A source of 4 KiB or more is itself a large argument (of EVAL and
    // SCRIPT LOAD).
    let padded = format!(
        "{}\nreturn redis.call('SET', KEYS[1], ARGV[1])",
        "-- padding\n".repeat(LARGE_ARG / 10)
    );
    let large_source = Script::new(padded);
    for size in sizes() {
        let v = value(size, 9);
        let _: Value = client.invoke(set.key("s").arg(&v[..])).await.unwrap();
        assert!(get(&client, "s").await == v, "script, {size} bytes");
        let v = value(size, 10);
        client.script_flush(false).await.unwrap();
        let _: Value = client
            .invoke(large_source.key("s").arg(&v[..]))
            .await
            .unwrap();
        assert!(get(&client, "s").await == v, "large script, {size} bytes");
        // In a transaction, which loads the scripts first.
        client.script_flush(false).await.unwrap();
        let v = value(size, 11);
        let mut tx = Pipeline::new();
        tx.atomic();
        let _ = (&mut tx).invoke::<Value>(large_source.key("s").arg(&v[..]));
        client.pipeline(&tx).await.unwrap()[0].as_ref().unwrap();
        assert!(
            get(&client, "s").await == v,
            "script in a transaction, {size}"
        );

        // A dedicated connection: by reference, by value, in a pipeline.
        let v = value(size, 12);
        conn.send(&cmd("SET").arg("d").arg(&v[..])).await.unwrap();
        assert!(get(&client, "d").await == v, "dedicated, {size} bytes");
        let v = value(size, 13);
        (&mut conn).set("d", &v[..]).await.unwrap();
        assert!(get(&client, "d").await == v, "dedicated by value, {size}");
        let v = value(size, 14);
        let mut p = Pipeline::new();
        p.add(cmd("SET").arg("d").arg(&v[..]))
            .add(cmd("GET").arg("d"));
        let results = conn.pipeline(&p).await.unwrap();
        assert!(bytes_of(&results[1]) == v, "dedicated pipeline, {size}");
    }
}

#[tokio::test]
async fn many_callers_mixing_large_and_small_requests_each_get_their_own_value() {
    let server = RedisServer::start().unwrap();
    let client = Client::connect(support::config(&server.url()))
        .await
        .unwrap();
    let sizes = sizes();
    let tasks: Vec<_> = (0..64)
        .map(|t| {
            let client = client.clone();
            let size = sizes[t % sizes.len()];
            tokio::spawn(async move {
                let key = format!("k:{t}");
                for round in 0..4 {
                    let v = value(size, t * 10 + round);
                    if round % 2 == 0 {
                        client
                            .send(&cmd("SET").arg(&key).arg(&v[..]))
                            .await
                            .unwrap();
                    } else {
                        client.set(&key, Bytes::from(v.clone())).await.unwrap();
                    }
                    // A small request in between, in the same batches.
                    let _: i64 = client.incr("counter").await.unwrap();
                    assert!(get(&client, &key).await == v, "task {t}, {size} bytes");
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    let n: i64 = client.get("counter").await.unwrap();
    assert_eq!(n, 64 * 4);
}
