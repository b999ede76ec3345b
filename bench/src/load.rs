//! One client under test, on its single shared connection: GET and SET as
//! each benchmark's tasks issue them. An enum rather than trait objects, so
//! the harness adds no allocation per request.
//!
//! The redwire variants differ only in how the command reaches `Client`:
//!
//! - `redwire`: `cmd("GET").arg(key)` built per request and sent by
//!   reference (`client.query(&cmd)`), the raw path;
//! - `redwire-typed`: the typed methods (`client.get(key)`), which hand the
//!   command over by value;
//! - `redwire-prebuilt`: one command built per task before the load and sent
//!   by reference again and again (GET only; SET builds per request).
//!
//! The peers each use the shared-connection handle their docs recommend:
//! redis-rs's `MultiplexedConnection`, fred's `Client`, and rustis's
//! `Client`, which is multiplexed like redwire's (its docs: "A Client
//! instance can be cloned, allowing multiple requests to be sent
//! concurrently on the same underlying connection"). rustis reads a GET into
//! `BulkString` (an owned `Vec<u8>`, as redis-rs's `Vec<u8>`) and writes a
//! SET value as `RefBulkString` (borrowed, its zero-copy argument type);
//! redwire and fred read a GET into `Bytes`. rustis's budget of bytes in
//! flight is raised from 16 to 256 MiB (see `connect`), the one setting
//! changed from its defaults.

/// A client under test, connected.
pub enum Load {
    Redwire(redwire::Client),
    RedwireTyped(redwire::Client),
    RedwirePrebuilt(redwire::Client),
    RedisRs(redis::aio::MultiplexedConnection),
    Fred(fred::clients::Client),
    Rustis(rustis::client::Client),
}

/// The client names [`Load::connect`] knows.
pub const CLIENTS: [&str; 6] = [
    "redwire",
    "redwire-typed",
    "redwire-prebuilt",
    "redis-rs",
    "fred",
    "rustis",
];

/// The peers every benchmark compares redwire with, in the order of its
/// tables.
pub const PEERS: [&str; 3] = ["redis-rs", "fred", "rustis"];

impl Load {
    /// Connects `client` (one of [`CLIENTS`]) to `url`.
    pub async fn connect(client: &str, url: &str) -> Load {
        let redwire = || async {
            let config = redwire::Config::from_url(url).expect("url");
            redwire::Client::connect(config).await.expect("connect")
        };
        match client {
            "redwire" => Load::Redwire(redwire().await),
            "redwire-typed" => Load::RedwireTyped(redwire().await),
            "redwire-prebuilt" => Load::RedwirePrebuilt(redwire().await),
            "redis-rs" => {
                // No response timeout, as redwire's and fred's defaults: a
                // run under valgrind is slow enough to trip redis-rs's.
                let client = redis::Client::open(url).expect("url");
                let config = redis::AsyncConnectionConfig::new().set_response_timeout(None);
                Load::RedisRs(
                    client
                        .get_multiplexed_async_connection_with_config(&config)
                        .await
                        .expect("connect"),
                )
            }
            "fred" => {
                use fred::prelude::*;
                let config = Config::from_url(url).expect("url");
                let client = Builder::from_config(config).build().expect("build");
                client.init().await.expect("connect");
                Load::Fred(client)
            }
            "rustis" => {
                // One connection, shared by reference (`Arc<Load>`); no
                // command timeout, as its default. Its default budget of
                // bytes in flight (16 MiB) fails 128 concurrent SETs of
                // 1 MiB with `SendQueueFull`: raised to what such a cell
                // holds, 256 MiB (it bounds memory, it does not pace).
                use rustis::client::IntoConfig;
                let mut config = url.into_config().expect("url");
                config.backpressure.max_queued_bytes = 256 << 20;
                Load::Rustis(
                    rustis::client::Client::connect(config)
                        .await
                        .expect("connect"),
                )
            }
            other => panic!("unknown client {other} (expected one of {CLIENTS:?})"),
        }
    }

    /// What a task of `redwire-prebuilt` sends for its GETs: built once.
    pub fn prebuilt_get(key: &str) -> redwire::Cmd {
        redwire::cmd("GET").arg(key)
    }

    /// GET `key`; `prebuilt` is [`Load::prebuilt_get`] of the same key.
    pub async fn get(&self, key: &str, prebuilt: &redwire::Cmd) {
        match self {
            Load::Redwire(c) => {
                let v: Option<bytes::Bytes> =
                    c.query(&redwire::cmd("GET").arg(key)).await.expect("GET");
                std::hint::black_box(v);
            }
            Load::RedwireTyped(c) => {
                use redwire::prelude::*;
                let v: Option<bytes::Bytes> = c.get(key).await.expect("GET");
                std::hint::black_box(v);
            }
            Load::RedwirePrebuilt(c) => {
                let v: Option<bytes::Bytes> = c.query(prebuilt).await.expect("GET");
                std::hint::black_box(v);
            }
            Load::RedisRs(c) => {
                let v: Option<Vec<u8>> = redis::cmd("GET")
                    .arg(key)
                    .query_async(&mut c.clone())
                    .await
                    .expect("GET");
                std::hint::black_box(v);
            }
            Load::Fred(c) => {
                use fred::prelude::*;
                let v: Option<bytes::Bytes> = c.get(key).await.expect("GET");
                std::hint::black_box(v);
            }
            Load::Rustis(c) => {
                use rustis::commands::StringCommands;
                let v: Option<rustis::resp::BulkString> = c.get(key).await.expect("GET");
                std::hint::black_box(v);
            }
        }
    }

    /// SET `key` to `value`.
    pub async fn set(&self, key: &str, value: &[u8]) {
        match self {
            Load::Redwire(c) | Load::RedwirePrebuilt(c) => {
                c.send(&redwire::cmd("SET").arg(key).arg(value))
                    .await
                    .expect("SET");
            }
            Load::RedwireTyped(c) => {
                use redwire::prelude::*;
                c.set(key, value).await.expect("SET");
            }
            Load::RedisRs(c) => {
                let _: () = redis::cmd("SET")
                    .arg(key)
                    .arg(value)
                    .query_async(&mut c.clone())
                    .await
                    .expect("SET");
            }
            Load::Fred(c) => {
                use fred::prelude::*;
                let _: () = c.set(key, value, None, None, false).await.expect("SET");
            }
            Load::Rustis(c) => {
                use rustis::commands::StringCommands;
                c.set(key, rustis::resp::RefBulkString::new(value))
                    .await
                    .expect("SET");
            }
        }
    }
}
