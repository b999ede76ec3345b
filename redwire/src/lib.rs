//! redwire: an async Redis client for tokio, built on one idea: a single task
//! owns each socket and is the only way to it.
//!
//! Many callers share one [`Client`] without blocking each other: their requests
//! are written at once (pipelined automatically across callers), each waits in a
//! FIFO for its own reply, the connection is made in the background and re-made
//! with exponential backoff when it drops. See the [`connection`] module for the
//! contract of the actor behind every client.
//!
//! # A tour
//!
//! **Connect.** A URL or a [`Config`]; [`Client::connect`] makes the first
//! connection and returns its error, [`Client::new`] connects in the
//! background. Clone the client freely: every clone shares the connection.
//!
//! ```no_run
//! # async fn demo() -> redwire::Result<()> {
//! use redwire::prelude::*;
//!
//! let client = Client::connect("redis://127.0.0.1:6379/0".parse()?).await?;
//! # Ok(()) }
//! ```
//!
//! **Typed commands.** One method per command, grouped by data type in
//! [`commands`] ([`StringCommands`](commands::StringCommands),
//! [`HashCommands`](commands::HashCommands), …), all in scope with
//! `use redwire::prelude::*`. Options are builders, replies come in the type
//! you ask for, the same from RESP2 and RESP3 servers ([`FromValue`]).
//!
//! ```no_run
//! # async fn demo(client: redwire::Client) -> redwire::Result<()> {
//! use redwire::prelude::*;
//! use std::collections::HashMap;
//!
//! client.set_with("session:1", "ada", SetOptions::new().nx().ex(3600)).await?;
//! let user: Option<String> = client.get("session:1").await?;
//! let visits: i64 = client.incr("visits").await?;
//! client.hset("user:1", [("name", "Ada"), ("lang", "en")]).await?;
//! let user: HashMap<String, String> = client.hgetall("user:1").await?;
//! # Ok(()) }
//! ```
//!
//! **Pipelines and transactions.** The same typed methods fill a [`Pipeline`];
//! each returns a [`Slot`] that reads its entry's result back, typed. One
//! write, one result per command; [`Pipeline::atomic`] makes it
//! `MULTI`/`EXEC`.
//!
//! ```no_run
//! # async fn demo(client: redwire::Client) -> redwire::Result<()> {
//! use redwire::prelude::*;
//!
//! let mut tx = Pipeline::new();
//! tx.atomic();
//! let n = tx.incr("counter");
//! let name = tx.get::<Option<String>>("name");
//! let mut results = client.pipeline(&tx).await?;
//! let (n, name) = (n.take(&mut results)?, name.take(&mut results)?);
//! # Ok(()) }
//! ```
//!
//! **The raw path.** Any command, typed method or not, goes through [`cmd`]:
//! `cmd("ANY").arg(..)`, sent with [`Client::send`] (a [`Value`]) or
//! [`Client::query`] (converted), or queued with [`Pipeline::add`].
//!
//! ```no_run
//! # async fn demo(client: redwire::Client) -> redwire::Result<()> {
//! use redwire::{cmd, Value};
//!
//! let reply: Value = client.send(&cmd("OBJECT").arg("FREQ").arg("k")).await?;
//! let n: i64 = client.query(&cmd("MEMORY").arg("USAGE").arg("k")).await?;
//! # Ok(()) }
//! ```
//!
//! **Errors.** Every call returns [`Result`]; [`Error::kind`] says what
//! failed (a server error reply with its [`code`](Error::code), a lost
//! connection and whether the command [may have run](Error::may_have_executed),
//! a timeout, a reply of another type than asked…). A shared client refuses,
//! before sending, the few commands that would hand replies to the wrong
//! caller or change the connection under the others (`MULTI`, `SUBSCRIBE`,
//! `SELECT`, `CLIENT REPLY`…); the table, with where each belongs instead, is
//! in [`rules`].
//!
//! ```no_run
//! # async fn demo(client: redwire::Client) -> redwire::Result<()> {
//! use redwire::prelude::*;
//!
//! match client.incr("name").await {
//!     Err(e) if e.kind() == ErrorKind::Server => eprintln!("{}: {}", e.code().unwrap_or("?"), e),
//!     Err(e) if e.may_have_executed() => eprintln!("lost, maybe ran: {e}"),
//!     Err(e) => return Err(e),
//!     Ok(n) => println!("{n}"),
//! }
//! # Ok(()) }
//! ```
//!
//! **One set of rules for every handle.** Each is configured by a
//! [`Config`] (builder or URL, [`Config::from_url`] lists the options), has
//! `command_timeout` as the default deadline of every call and a deadline of
//! the call's own, fails with [`Error`], and can be watched:
//!
//! | handle | configured by | one call's deadline | state / events |
//! |---|---|---|---|
//! | [`Client`] | [`Config`] | [`send_timeout`](Client::send_timeout) | [`state`](Client::state), [`events`](Client::events) |
//! | [`Connection`] (and the pool's `PooledConnection`) | [`Config`] (`Pool::builder(config)`) | [`send_timeout`](Connection::send_timeout); a blocking command's default adds its block time | [`state`](Connection::state), [`events`](Connection::events) |
//! | [`Subscriber`] | [`Config`] | [`with_timeout`](Subscriber::with_timeout) | [`state`](Subscriber::state), [`events`](Subscriber::events), [`Messages::with_gaps`] |
//! | [`ClusterClient`](cluster::ClusterClient) | [`ClusterConfig`](cluster::ClusterConfig) | [`send_timeout`](cluster::ClusterClient::send_timeout) | [`state`](cluster::ClusterClient::state), [`events`](cluster::ClusterClient::events) |
//!
//! Features: `tls` enables `rediss://` (rustls with the ring provider);
//! `pool` adds `Pool`, a pool of dedicated connections (on bb8);
//! `metrics` reports OpenTelemetry-named metrics through the `metrics`
//! facade. Spans and lifecycle events go through `tracing` always; see
//! [`telemetry`] for both.

#![warn(missing_docs)]

mod args;
#[cfg(feature = "client-cache")]
mod cache;
mod client;
pub mod cluster;
mod cmd;
pub mod commands;
mod config;
pub mod connection;
mod dedicated;
mod error;
mod large;
mod pipeline;
#[cfg(feature = "pool")]
mod pool;
mod pubsub;
pub mod rules;
pub mod telemetry;
mod value;
mod wire;

#[cfg(feature = "client-cache")]
pub use cache::{CacheConfig, CacheMode, CacheStats};
#[cfg(feature = "client-cache")]
pub use client::Cached;
pub use client::{Client, Pushes, Sending};
pub use cmd::{cmd, Cmd, ToArg};
pub use commands::{Commands, Script, ScriptCall, Slot};
pub use config::{Addr, Backoff, Config, ConfigBuilder, Protocol, Sentinel, TlsConfig};
pub use connection::state::{ConnectionState, Event};
pub use dedicated::{Attempt, AttemptFuture, Connection, TransactionRetry};
pub use error::{ClusterReason, Error, ErrorKind, Result};
pub use pipeline::Pipeline;
#[cfg(feature = "pool")]
pub use pool::{Pool, PoolBuilder, PoolState, PooledConnection};
pub use pubsub::{
    Deliveries, Delivery, Message, Messages, Monitor, Subscriber, SubscriptionKind, MESSAGE_BUFFER,
};
pub use redwire_resp as resp;
pub use value::{FromValue, Value};

/// The README's Rust examples, compiled as doctests so that they stay true.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct ReadmeExamples;

/// Everything a user of the typed API needs in scope: `use redwire::prelude::*;`.
///
/// ```no_run
/// # async fn demo() -> redwire::Result<()> {
/// use redwire::prelude::*;
///
/// let client = Client::connect("redis://127.0.0.1".parse()?).await?;
/// client.hset("user:1", [("name", "Ada"), ("lang", "en")]).await?;
/// # Ok(()) }
/// ```
pub mod prelude {
    pub use crate::commands::*;
    pub use crate::{
        cmd, Client, Cmd, Config, Connection, Error, ErrorKind, FromValue, Pipeline, ToArg, Value,
    };
}
