//! redwire: an async Redis client for tokio, built on one idea: a single task
//! owns each socket and is the only way to it.
//!
//! Many callers share one [`Client`] without blocking each other: their requests
//! are written at once (pipelined automatically across callers), each waits in a
//! FIFO for its own reply, the connection is made in the background and re-made
//! with exponential backoff when it drops. See the [`connection`] module for the
//! contract of the actor behind every client.
//!
//! Every command is sent with [`cmd`]: `cmd("ANY").arg(..)` builds any Redis
//! command. A shared client refuses the few commands that would hand replies
//! to the wrong caller or change the connection under the others (`MULTI`,
//! `SUBSCRIBE`, `SELECT`, `CLIENT REPLY`…); the table of them, with where each
//! belongs instead, is in [`rules`].
//!
//! ```no_run
//! # async fn demo() -> redwire::Result<()> {
//! use redwire::{cmd, Client, Config};
//!
//! let client = Client::connect(Config::from_url("redis://127.0.0.1:6379/0")?).await?;
//! client.send(&cmd("SET").arg("k").arg("v")).await?;
//! let v: String = client.query(&cmd("GET").arg("k")).await?;
//! assert_eq!(v, "v");
//! # Ok(()) }
//! ```
//!
//! Features: `tls` enables `rediss://` (rustls with the ring provider).

#![warn(missing_docs)]

mod args;
mod client;
mod cmd;
pub mod commands;
mod config;
pub mod connection;
mod error;
mod pipeline;
pub mod rules;
mod value;

pub use args::ToArg;
pub use client::{Client, Sending};
pub use cmd::{cmd, Cmd};
pub use commands::{Commands, Script, ScriptCall, Slot};
pub use pipeline::Pipeline;
pub use config::{Addr, Backoff, Config, ConfigBuilder, Protocol, TlsConfig};
pub use connection::state::{ConnectionState, Event};
pub use error::{Error, ErrorKind, Result};
pub use redwire_resp as resp;
pub use value::{FromValue, Value};

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
    pub use crate::{cmd, Client, Cmd, Config, Error, ErrorKind, FromValue, Pipeline, ToArg, Value};
}
