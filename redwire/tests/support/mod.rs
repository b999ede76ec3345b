//! Shared set-up for the client's integration tests: configurations with short
//! timeouts, so that a fault shows up in milliseconds rather than seconds.

#![allow(dead_code)]

use redwire::{Backoff, Config};
use std::time::Duration;

/// A configuration for `url` with test-sized timeouts and backoff.
pub fn config(url: &str) -> Config {
    Config::from_url(url)
        .expect("test URL")
        .into_builder()
        .connect_timeout(Duration::from_secs(2))
        .backoff(Backoff {
            initial: Duration::from_millis(5),
            max: Duration::from_millis(100),
            jitter: 0.5,
            max_attempts: None,
        })
        .build()
}

/// Waits for the first event that `pick` accepts, for at most `within`.
/// Any event type: a connection's `redwire::Event` or a cluster's.
pub async fn wait_event<E: Clone, T>(
    events: &mut tokio::sync::broadcast::Receiver<E>,
    within: Duration,
    mut pick: impl FnMut(&E) -> Option<T>,
) -> T {
    tokio::time::timeout(within, async {
        loop {
            match events.recv().await {
                Ok(event) => {
                    if let Some(found) = pick(&event) {
                        return found;
                    }
                }
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                Err(e) => panic!("event stream ended: {e}"),
            }
        }
    })
    .await
    .expect("the awaited event did not come")
}

/// A numeric field of the server's `INFO` (`total_connections_received`...).
pub fn info_field(server: &redwire_testkit::RedisServer, field: &str) -> u64 {
    let info = match server.command(&["INFO"]).unwrap() {
        redwire_testkit::Frame::Bulk(b) => String::from_utf8_lossy(&b).into_owned(),
        other => panic!("INFO answered {other:?}"),
    };
    info.lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .unwrap_or_else(|| panic!("no {field} in INFO"))
        .trim()
        .parse()
        .unwrap()
}

/// Two clients of `server`, one speaking RESP2 and one RESP3, for tests that
/// must see the same Rust values from both protocols.
pub async fn both_protocols(server: &redwire_testkit::RedisServer) -> Vec<redwire::Client> {
    let mut clients = Vec::new();
    for protocol in [redwire::Protocol::Resp2, redwire::Protocol::Resp3] {
        let config = config(&server.url())
            .into_builder()
            .protocol(protocol)
            .build();
        clients.push(redwire::Client::connect(config).await.expect("connect"));
    }
    clients
}

/// Empties the server's current database.
pub async fn flush(client: &redwire::Client) {
    client
        .send(&redwire::cmd("FLUSHALL"))
        .await
        .expect("FLUSHALL");
}

/// True (after printing why) when the server has no `command`: the test that
/// asked skips, on a server older than the command or of another product.
pub fn lacks(server: &redwire_testkit::RedisServer, command: &str) -> bool {
    if server.has_command(command).expect("COMMAND INFO") {
        return false;
    }
    let id = server.identity().expect("INFO server");
    eprintln!("skipped: {id} has no {command}");
    true
}

/// The server's version as (major, minor), from `INFO server`.
pub async fn version(client: &redwire::Client) -> (u32, u32) {
    let info: String = client
        .query(&redwire::cmd("INFO").arg("server"))
        .await
        .unwrap();
    let v = info
        .lines()
        .find_map(|l| l.strip_prefix("redis_version:"))
        .expect("redis_version in INFO")
        .trim();
    let mut parts = v.split('.').map(|p| p.parse::<u32>().unwrap());
    (parts.next().unwrap(), parts.next().unwrap())
}

/// How many times the server has run `command` (`INFO commandstats`).
pub async fn calls(client: &redwire::Client, command: &str) -> u64 {
    let info: String = client
        .query(&redwire::cmd("INFO").arg("commandstats"))
        .await
        .unwrap();
    info.lines()
        .find_map(|l| l.strip_prefix(&format!("cmdstat_{command}:calls=")))
        .map(|rest| rest.split(',').next().unwrap().parse().unwrap())
        .unwrap_or(0)
}

/// Bytes written by this machine's sockets connected to `port` that the peer
/// has not taken yet (the send queues in `/proc/net/tcp`): how a test sees a
/// request stuck in a black hole, without guessing with a sleep.
pub fn unsent_bytes_to(port: u16) -> u64 {
    let table = std::fs::read_to_string("/proc/net/tcp").expect("/proc/net/tcp");
    let remote = format!(":{port:04X}");
    table
        .lines()
        .skip(1)
        .filter_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            if !fields.get(2)?.ends_with(&remote) {
                return None;
            }
            let tx_queue = fields.get(4)?.split(':').next()?;
            u64::from_str_radix(tx_queue, 16).ok()
        })
        .sum()
}

/// A dedicated connection made like `client` (same server, same protocol):
/// where the blocking commands run.
pub async fn dedicated(client: &redwire::Client) -> redwire::Connection {
    redwire::Connection::connect(client.config().clone())
        .await
        .expect("connect a dedicated connection")
}

/// A field of `CLIENT INFO` on a dedicated connection (`db`, `name`, `multi`…).
pub async fn client_info(conn: &mut redwire::Connection, field: &str) -> String {
    let info: String = conn
        .query(&redwire::cmd("CLIENT").arg("INFO"))
        .await
        .unwrap();
    info.split(' ')
        .find_map(|f| f.strip_prefix(&format!("{field}=")))
        .unwrap_or_else(|| panic!("no {field} in {info}"))
        .trim()
        .to_string()
}

/// A primary of `cluster` that does not serve `slot` now.
pub fn other_primary(
    cluster: &redwire_testkit::RedisCluster,
    slot: u16,
) -> &redwire_testkit::ClusterNode {
    let from = cluster.slot_owner(slot).id().to_string();
    cluster
        .primaries()
        .into_iter()
        .find(|n| n.id() != from)
        .unwrap()
}
