//! Typed commands: one definition per command, for every way of sending.
//!
//! # The shape, and why
//!
//! A handle implements [`Commands`]: an associated type, [`Reply<T>`](Commands::Reply),
//! and the two methods that send one [`Cmd`](crate::Cmd) (or one script invocation). Every
//! typed command is a provided method of an extension trait, one trait per data
//! type, one file per trait ([`StringCommands`] in `strings.rs`,
//! [`HashCommands`] in `hashes.rs`…), implemented for every `Commands` by a
//! blanket impl. A command is therefore written once, in one screen of plain
//! Rust: it builds its `Cmd` and names the type of its reply. `grep 'fn hset'`
//! finds it.
//!
//! The files: `strings.rs`, `keys.rs`, `hashes.rs` (field expiry and
//! Redis 8's `HGETEX`/`HSETEX`/`HGETDEL` included), `lists.rs`, `sets.rs`,
//! `sorted_sets.rs`, `streams.rs`, `geo.rs`, `bitmaps.rs`,
//! `hyperloglog.rs`, `vectors.rs` (Redis 8's vector sets,
//! [`VectorSetCommands`]), `scan.rs`, `scripting.rs` and `script.rs`,
//! `pubsub.rs`, `server.rs` (`WAIT`, `WAITAOF`…).
//!
//! `Commands` takes `self` by value and is implemented for references, so the
//! one definition serves handles of different kinds:
//!
//! | implemented for | a typed method returns | |
//! |---|---|---|
//! | `&Client` | [`Sending<'_, T>`](crate::Sending), a future of the reply | `client.incr("n").await?` |
//! | `&mut Pipeline` | a [`Slot<T>`], the entry's index and type | `let n = p.incr("n");` … `n.take(&mut results)?` |
//! | `&mut Connection`, `&mut PooledConnection` | a [`Sending<'_, T>`](crate::Sending) on a dedicated connection | `conn.blpop(["jobs"], 0.0).await?` |
//! | `&ClusterClient` | a boxed future (routing and redirections) | `cluster.get::<String>("k").await?` |
//!
//! `Reply<T>` is a named type where it can be, not a boxed future: a typed
//! call on a `&Client` costs no more than the raw
//! [`Client::send`](crate::Client::send) (it is the same future, and the
//! typed one sends its command without a copy; see `BENCHMARKS.md`).
//!
//! Rejected shapes: one trait of every command in one file (thousands of
//! lines, no grouping); `async fn` methods (a future without a name cannot be
//! the pipeline's `Slot`, and a boxed one allocates per request); macros that
//! generate methods (a newcomer could not read them).
//!
//! # Reply types
//!
//! Where a command answers user data, its method is generic over the Rust type
//! (`get::<String>`, `hgetall::<HashMap<String, i64>>`; anything [`FromValue`](crate::FromValue)).
//! Where the answer's meaning is fixed, the type is too: counts are `u64`,
//! `INCR` is `i64`, yes/no replies are `bool`, `OK` is `()`, scores and
//! similarities are `f64`. Structured replies have their own types
//! ([`StreamEntry`], [`Info`], [`ScanPage`], [`VectorSetInfo`]…), which
//! convert from RESP2 and RESP3 alike. JSON replies (vector set
//! attributes) are text, and with the `serde_json` feature also
//! `serde_json::Value` or any `T: DeserializeOwned` through `Json`.
//!
//! # Where the commands run
//!
//! Every command here may be sent on a shared [`Client`](crate::Client)
//! except the blocking ones (`BLPOP`, `BLMOVE`, `BZPOPMIN`, `XREAD` with
//! `BLOCK`, `WAIT`, `WAITAOF`…): they hold every caller behind them, and a caller that
//! gave up could not stop them from popping an element for nobody, so they
//! run on a dedicated [`Connection`](crate::Connection) (or a pooled one),
//! which closes itself when their caller gives up. Each says so in its docs;
//! the shared client refuses them with an error that says where to run them.
//!
//! Commands with no typed method go through the raw path:
//! `client.send(&cmd("ANY").arg(..))`.

mod bitmaps;
mod geo;
mod handle;
mod hashes;
mod hyperloglog;
mod keys;
mod lists;
mod pubsub;
mod scan;
mod script;
mod scripting;
mod server;
mod sets;
mod sorted_sets;
mod streams;
mod strings;
mod vectors;

pub use bitmaps::*;
pub use geo::*;
pub use handle::{Commands, Slot};
pub use hashes::*;
pub use hyperloglog::*;
pub use keys::*;
pub use lists::*;
pub use pubsub::*;
pub use scan::*;
pub use script::{Script, ScriptCall};
pub use scripting::*;
pub use server::*;
pub use sets::*;
pub use sorted_sets::*;
pub use streams::*;
pub use strings::*;
pub use vectors::*;
