//! Typed commands: one definition per command, for every way of sending.
//!
//! # The shape, and why
//!
//! A handle implements [`Commands`]: an associated type, [`Reply<T>`](Commands::Reply),
//! and the two methods that send one [`Cmd`] (or one script invocation). Every
//! typed command is a provided method of an extension trait, one trait per data
//! type, one file per trait ([`StringCommands`] in `strings.rs`,
//! [`HashCommands`] in `hashes.rs`…), implemented for every `Commands` by a
//! blanket impl. A command is therefore written once, in one screen of plain
//! Rust: it builds its `Cmd` and names the type of its reply. `grep 'fn hset'`
//! finds it.
//!
//! `Commands` takes `self` by value and is implemented for references, so the
//! one definition serves handles of different kinds:
//!
//! | implemented for | a typed method returns | |
//! |---|---|---|
//! | `&Client` | [`Sending<'_, T>`](crate::Sending), a future of the reply | `client.incr("n").await?` |
//! | `&mut Pipeline` | a [`Slot<T>`], the entry's index and type | `let n = p.incr("n");` … `n.take(&mut results)?` |
//!
//! and the dedicated connections and the cluster client implement it the same
//! way. `Reply<T>` is a named type, not a boxed future: a typed call on a
//! `&Client` costs what the raw [`Client::send`](crate::Client::send) costs
//! (it is the same future, see `BENCHMARKS.md`).
//!
//! Rejected shapes: one trait of every command in one file (thousands of
//! lines, no grouping); `async fn` methods (a future without a name cannot be
//! the pipeline's `Slot`, and a boxed one allocates per request); macros that
//! generate methods (a newcomer could not read them).
//!
//! # Reply types
//!
//! Where a command answers user data, its method is generic over the Rust type
//! (`get::<String>`, `hgetall::<HashMap<String, i64>>`; anything [`FromValue`]).
//! Where the answer's meaning is fixed, the type is too: counts are `u64`,
//! `INCR` is `i64`, yes/no replies are `bool`, `OK` is `()`. Structured
//! replies have their own types ([`StreamEntry`], [`Info`],
//! [`ScanPage`]…), which convert from RESP2 and RESP3 alike.
//!
//! # Where the commands run
//!
//! Every command here may be sent on a shared [`Client`](crate::Client). The
//! blocking ones (`BLPOP`, `BLMOVE`, `BZPOPMIN`, `XREAD` with `BLOCK`,
//! `WAIT`…) are allowed there too, but they hold every request queued behind
//! them on that connection until they return: give them a connection of their
//! own when others share it. Each says so in its docs.
//!
//! Commands with no typed method go through the raw path:
//! `client.send(&cmd("ANY").arg(..))`.

mod bitmaps;
mod geo;
mod hashes;
mod hyperloglog;
mod keys;
mod lists;
mod pubsub;
mod scan;
mod scripting;
mod server;
mod sets;
mod sorted_sets;
mod streams;
mod strings;

pub use bitmaps::*;
pub use geo::*;
pub use hashes::*;
pub use hyperloglog::*;
pub use keys::*;
pub use lists::*;
pub use pubsub::*;
pub use scan::*;
pub use scripting::*;
pub use server::*;
pub use sets::*;
pub use sorted_sets::*;
pub use streams::*;
pub use strings::*;

use crate::cmd::Cmd;
use crate::value::FromValue;

/// A way of sending commands: what every typed command is built on.
///
/// Implemented for `&Client` (each typed method returns a future of its reply)
/// and `&mut Pipeline` (each typed method queues its command and returns a
/// [`Slot`]). The typed methods themselves are in the extension traits
/// ([`StringCommands`], [`HashCommands`]…); bring them all into scope with
/// `use redwire::prelude::*`.
///
/// ```no_run
/// # async fn demo(client: redwire::Client) -> redwire::Result<()> {
/// use redwire::prelude::*;
///
/// client.set("greeting", "hello").await?;
/// let greeting: Option<String> = client.get("greeting").await?;
///
/// let mut p = Pipeline::new();
/// let visits = p.incr("visits");
/// let name = p.get::<String>("name");
/// let mut results = client.pipeline(&p).await?;
/// let (visits, name) = (visits.take(&mut results)?, name.take(&mut results)?);
/// # Ok(()) }
/// ```
///
/// A handle of your own (a wrapper that logs, a test double) implements the
/// two methods:
///
/// ```
/// use redwire::{Cmd, Commands, FromValue, ScriptCall, Value};
///
/// /// Records what it is asked to send.
/// #[derive(Default)]
/// struct Recorder(Vec<String>);
///
/// impl Commands for &mut Recorder {
///     type Reply<T: FromValue> = ();
///     fn command<T: FromValue>(self, cmd: Cmd) {
///         self.0.push(format!("{cmd:?}"));
///     }
///     fn script<T: FromValue>(self, call: ScriptCall) {
///         self.0.push(format!("{:?}", call.evalsha()));
///     }
/// }
///
/// use redwire::prelude::*;
/// let mut r = Recorder::default();
/// r.hset("h", [("f", 1)]);
/// assert_eq!(r.0, ["Cmd(HSET with 3 args)"]);
/// ```
pub trait Commands: Sized {
    /// What a typed method gives back for a reply of type `T`: a future of
    /// `Result<T>` for a connection, a [`Slot<T>`] for a pipeline.
    type Reply<T: FromValue>;

    /// Sends (or queues) one command whose reply converts into `T`.
    fn command<T: FromValue>(self, cmd: Cmd) -> Self::Reply<T>;

    /// Sends (or queues) a script invocation: `EVALSHA`, and if the server
    /// does not have the script (`NOSCRIPT`), the script loaded and run once
    /// more, transparently.
    fn script<T: FromValue>(self, call: ScriptCall) -> Self::Reply<T>;
}

/// A pipeline entry queued by a typed method: its index, and the type its
/// reply converts into.
///
/// ```no_run
/// # async fn demo(client: redwire::Client) -> redwire::Result<()> {
/// use redwire::prelude::*;
///
/// let mut p = Pipeline::new();
/// p.set("a", 1);
/// let a = p.incr("a");
/// let mut results = client.pipeline(&p).await?;
/// assert_eq!(a.take(&mut results)?, 2);
/// # Ok(()) }
/// ```
///
/// Ignoring a slot is fine (`p.set(..);`): the entry still runs, and its
/// result is in the pipeline's results for whoever wants it.
pub struct Slot<T> {
    index: usize,
    _reply: std::marker::PhantomData<fn() -> T>,
}

impl<T> Slot<T> {
    pub(crate) fn new(index: usize) -> Self {
        Slot {
            index,
            _reply: std::marker::PhantomData,
        }
    }

    /// The entry's position in the pipeline.
    pub fn index(&self) -> usize {
        self.index
    }
}

impl<T> Clone for Slot<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for Slot<T> {}

impl<T> std::fmt::Debug for Slot<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Slot({})", self.index)
    }
}

impl<T: FromValue> Slot<T> {
    /// Takes this entry's result out of a pipeline's results and converts
    /// it; its place is left holding an error saying it was taken.
    pub fn take(&self, results: &mut [crate::Result<crate::Value>]) -> crate::Result<T> {
        let Some(entry) = results.get_mut(self.index) else {
            return Err(crate::Error::type_error(format!(
                "pipeline entry {} asked for, but the results hold {}",
                self.index,
                results.len()
            )));
        };
        let taken = Err(crate::Error::type_error(format!(
            "pipeline entry {} was already taken",
            self.index
        )));
        T::from_value(std::mem::replace(entry, taken)?)
    }
}
