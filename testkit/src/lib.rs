//! Test kit for redwire: real `redis-server` processes, a fault-injecting TCP
//! proxy and a scripted fake server, for tests and examples that need a server.
//!
//! Everything here is made for tests that run in parallel threads: each server,
//! proxy and fake listens on its own free port of `127.0.0.1`, keeps its files
//! in its own temp dir and is cleaned up when dropped. Nothing depends on the
//! `redwire` crate, so the client is tested from the outside.
//!
//! # The parts
//!
//! - [`RedisServer`] starts a real `redis-server` (from `REDWIRE_REDIS_SERVER`
//!   or the `PATH`; Debian package `redis-server`) that saves nothing, and waits
//!   until it answers. Its builder adds a password, ACL users, config lines, a
//!   unix socket or TLS. [`stop`](RedisServer::stop) kills it like a crash,
//!   [`restart`](RedisServer::restart) brings it back on the same port with its
//!   data gone, and [`command`](RedisServer::command) talks to it without the
//!   client under test. Dropping it kills it; if the test is panicking, the
//!   server's log is printed first.
//! - [`ServerIdentity`] says which server the tests run against (Redis or
//!   Valkey, and the version), from the binary before anything starts
//!   ([`ServerIdentity::current`]) or from a running server
//!   ([`RedisServer::identity`]); [`RedisServer::has_command`] asks whether the
//!   server knows a command, so a test skips with a printed reason instead of
//!   failing on an older server.
//! - [`FaultProxy`] sits between client and server and breaks the traffic on
//!   command: [`reset_all`](FaultProxy::reset_all) (TCP resets),
//!   [`black_hole`](FaultProxy::black_hole) / [`resume`](FaultProxy::resume),
//!   [`set_latency`](FaultProxy::set_latency),
//!   [`set_chunk_size`](FaultProxy::set_chunk_size) (frames split at every
//!   byte), [`refuse_new`](FaultProxy::refuse_new) and
//!   [`set_upstream`](FaultProxy::set_upstream).
//! - [`FakeServer`] answers each command with what a script says ([`Action`]s:
//!   raw bytes, frames, sleeps, a close mid-frame, a hang), for replies no real
//!   server sends. [`resp3_handshake`] and [`resp2_handshake`] answer the
//!   connection handshake so the script only holds what the test is about;
//!   [`send_all`](FakeServer::send_all) injects bytes nobody asked for.
//! - `TestCa` makes throwaway certificates; `RedisServer::builder().tls(true)`
//!   uses one, and a second CA is the "wrong CA" a client must refuse. Both
//!   need the `tls-certs` feature (rcgen), which tests enable and a binary
//!   that only starts servers leaves off.
//!
//! The proxy and the fake server run on their own thread with their own tokio
//! runtime and are driven by plain synchronous methods, so they work the same
//! in `#[test]` and `#[tokio::test]` (any flavour). [`RedisServer`]'s methods
//! block briefly (starting, stopping, [`command`](RedisServer::command)); in an
//! async test that is fine for set-up and checks.
//!
//! # A test with faults
//!
//! ```no_run
//! use redwire_testkit::{FaultProxy, Frame, RedisServer};
//!
//! let server = RedisServer::builder().password("pw").start()?;
//! server.command(&["SET", "greeting", "hello"])?;
//!
//! let proxy = FaultProxy::start(server.addr())?;
//! // connect the client under test to proxy.addr() with password "pw", then:
//! proxy.set_chunk_size(Some(1)); // every reply arrives one byte at a time
//! proxy.reset_all();             // every connection is reset
//! server.stop();                 // the server "crashes"...
//! server.restart()?;             // ...and comes back, same port, empty
//! assert_eq!(server.command(&["GET", "greeting"])?, Frame::Null);
//! # Ok::<(), std::io::Error>(())
//! ```
//!
//! # A test with a misbehaving server
//!
//! ```no_run
//! use redwire_testkit::{Action, FakeServer, Request};
//!
//! let fake = FakeServer::resp3(|req: &Request| match req.name.as_str() {
//!     // half a bulk string, then the connection goes
//!     "GET" => vec![Action::send("$10\r\nabc"), Action::Close],
//!     _ => vec![Action::ok()],
//! })?;
//! // connect the client under test to fake.url(); its GET must fail cleanly
//! assert!(fake.received().iter().all(|r| r.name != "FLUSHALL"));
//! # Ok::<(), std::io::Error>(())
//! ```
//!
//! # Clusters and Sentinel
//!
//! - [`RedisCluster`] starts a real Redis Cluster (3 primaries with a replica
//!   each by default) from `redis-server --cluster-enabled yes` processes,
//!   ready when every node agrees on the slot map, with the operations a
//!   cluster client's tests need: a slot migration in steps a test can
//!   interleave with traffic ([`Migration`]), failover, kill and restart of a
//!   node, adding a node.
//! - [`RedisSentinel`] starts a primary, a replica and three Sentinels
//!   watching them, with a forced failover and a killed primary.
//!
//! All of them share one crate-private process type: spawning from a config
//! file, the readiness probe, kill, restart, and the watchdog that reaps the
//! servers of a test binary that died.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod background;
mod binary;
mod blocking;
mod cluster;
mod fake;
mod identity;
mod ports;
mod process;
mod proxy;
mod sentinel;
mod server;
mod text;
#[cfg(feature = "tls-certs")]
mod tls;
mod tls_files;

pub use binary::{find_redis_server, REDIS_SERVER_ENV};
pub use cluster::{key_slot, ClusterNode, Migration, NodeRole, RedisCluster, RedisClusterBuilder};
pub use fake::{resp2_handshake, resp3_handshake, Action, FakeServer, Request};
pub use identity::ServerIdentity;
pub use proxy::FaultProxy;
pub use redwire_resp::{Bytes, Frame};
pub use sentinel::{RedisSentinel, RedisSentinelBuilder};
pub use server::{RedisServer, RedisServerBuilder};
#[cfg(feature = "tls-certs")]
pub use tls::{TestCa, TestCert};
