//! [`Commands`], what a handle implements to have every typed command, and
//! [`Slot`], what a pipeline's typed method gives back. The design and its
//! reasons are in the `commands` module's docs.

use super::script::ScriptCall;
use crate::cmd::{cmd, Cmd, ToArg};
use crate::error::{Error, Result};
use crate::value::{FromValue, Value};

/// A way of sending commands: what every typed command is built on.
///
/// Implemented for `&Client` (each typed method returns a future of its reply)
/// and `&mut Pipeline` (each typed method queues its command and returns a
/// [`Slot`]). The typed methods themselves are in the extension traits
/// ([`StringCommands`](super::StringCommands), [`HashCommands`](super::HashCommands)…); bring them all into scope with
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

    /// A read of one key and nothing else (`GET k`, `HLEN k`…), which a
    /// handle with a client-side cache answers from memory before it builds
    /// the command; `name` is in the cache's table (`cache::table`). By
    /// default, the command is built and sent as [`command`](Self::command)
    /// sends it.
    #[doc(hidden)]
    #[inline]
    fn read_key<T: FromValue>(self, name: &'static str, key: impl ToArg) -> Self::Reply<T> {
        self.command(cmd(name).arg(key))
    }

    /// A read of one member of a key and nothing else (`HGET k f`,
    /// `ZSCORE k m`…), which a handle with a client-side cache answers from
    /// memory as [`read_key`](Self::read_key) does.
    #[doc(hidden)]
    #[inline]
    fn read_member<T: FromValue>(
        self,
        name: &'static str,
        key: impl ToArg,
        member: impl ToArg,
    ) -> Self::Reply<T> {
        self.command(cmd(name).arg(key).arg(member))
    }
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
    pub fn take(&self, results: &mut [Result<Value>]) -> Result<T> {
        let Some(entry) = results.get_mut(self.index) else {
            return Err(Error::type_error(format!(
                "pipeline entry {} asked for, but the results hold {}",
                self.index,
                results.len()
            )));
        };
        let taken = Err(Error::type_error(format!(
            "pipeline entry {} was already taken",
            self.index
        )));
        T::from_value(std::mem::replace(entry, taken)?)
    }
}
