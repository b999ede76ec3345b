//! Scripting: [`Script`](super::Script) (Lua, sent by its SHA1 and loaded again when the
//! server lost it), `EVAL`/`EVALSHA`/`SCRIPT …` by hand, and functions
//! (`FCALL`, `FCALL_RO`, `FUNCTION …`).
//!
//! A script is invoked with `EVALSHA`. If the server answers `NOSCRIPT` (it
//! restarted, failed over, or ran `SCRIPT FLUSH`), the handle sends `EVAL`
//! with the source once, which loads it and runs it, within the same
//! deadline; the caller sees only the result. In a pipeline, the entries that
//! got `NOSCRIPT` are sent again that way after the pipeline, so they run after
//! the entries that followed them. In a transaction (`Pipeline::atomic`),
//! where a late retry would break atomicity, the pipeline's scripts are loaded
//! with `SCRIPT LOAD` inside the transaction, before its entries.

use super::handle::Commands;
use super::script::ScriptCall;
use crate::cmd::{cmd, ToArg};
use crate::value::FromValue;

/// How a library's functions are replaced by `FUNCTION LOAD`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum FunctionLoad {
    /// Fail if the library exists.
    #[default]
    New,
    /// Replace the library if it exists (`REPLACE`).
    Replace,
}

/// Scripts and functions.
pub trait ScriptingCommands: Commands {
    /// Runs a [`Script`](super::Script) invocation: `EVALSHA`, and `EVAL` once if the server
    /// does not have the script. A script that writes runs once however the
    /// `NOSCRIPT` retry goes: `NOSCRIPT` means nothing ran.
    ///
    /// ```no_run
    /// # async fn demo(client: redwire::Client) -> redwire::Result<()> {
    /// use redwire::prelude::*;
    /// let get = Script::new("return redis.call('GET', KEYS[1])");
    /// let v: Option<String> = client.invoke(get.key("k")).await?;
    /// # Ok(()) }
    /// ```
    fn invoke<T: FromValue>(self, call: ScriptCall) -> Self::Reply<T> {
        self.script(call)
    }

    /// `EVAL`: runs Lua source as is (prefer [`Script`](super::Script), which sends its digest).
    fn eval<T: FromValue>(
        self,
        source: impl ToArg,
        keys: impl ToArg,
        args: impl ToArg,
    ) -> Self::Reply<T> {
        self.command(cmd("EVAL").arg(source).arg_counted(keys).arg(args))
    }

    /// `EVALSHA`: runs a script the server holds; `NOSCRIPT` if it does not.
    fn evalsha<T: FromValue>(
        self,
        sha1: &str,
        keys: impl ToArg,
        args: impl ToArg,
    ) -> Self::Reply<T> {
        self.command(cmd("EVALSHA").arg(sha1).arg_counted(keys).arg(args))
    }

    /// `EVAL_RO`: a read-only script (may run on a replica).
    fn eval_ro<T: FromValue>(
        self,
        source: impl ToArg,
        keys: impl ToArg,
        args: impl ToArg,
    ) -> Self::Reply<T> {
        self.command(cmd("EVAL_RO").arg(source).arg_counted(keys).arg(args))
    }

    /// `EVALSHA_RO`: a read-only script the server holds (may run on a
    /// replica); `NOSCRIPT` if the server does not hold it.
    ///
    /// ```no_run
    /// # async fn demo(client: redwire::Client) -> redwire::Result<()> {
    /// use redwire::prelude::*;
    /// let sha = client.script_load("return redis.call('GET', KEYS[1])").await?;
    /// let v: Option<String> = client.evalsha_ro(&sha, ["k"], ()).await?;
    /// # Ok(()) }
    /// ```
    fn evalsha_ro<T: FromValue>(
        self,
        sha1: &str,
        keys: impl ToArg,
        args: impl ToArg,
    ) -> Self::Reply<T> {
        self.command(cmd("EVALSHA_RO").arg(sha1).arg_counted(keys).arg(args))
    }

    /// `SCRIPT LOAD`: caches a script, returns its SHA1.
    fn script_load(self, source: impl ToArg) -> Self::Reply<String> {
        self.command(cmd("SCRIPT").arg("LOAD").arg(source))
    }

    /// `SCRIPT EXISTS`: whether each digest is cached.
    fn script_exists(self, sha1s: impl ToArg) -> Self::Reply<Vec<bool>> {
        self.command(cmd("SCRIPT").arg("EXISTS").arg(sha1s))
    }

    /// `SCRIPT FLUSH`: drops every cached script (`ASYNC` when `asynchronously`).
    fn script_flush(self, asynchronously: bool) -> Self::Reply<()> {
        let mode = if asynchronously { "ASYNC" } else { "SYNC" };
        self.command(cmd("SCRIPT").arg("FLUSH").arg(mode))
    }

    /// `FCALL`: calls a function of a loaded library.
    fn fcall<T: FromValue>(
        self,
        function: impl ToArg,
        keys: impl ToArg,
        args: impl ToArg,
    ) -> Self::Reply<T> {
        self.command(cmd("FCALL").arg(function).arg_counted(keys).arg(args))
    }

    /// `FCALL_RO`: calls a read-only function (flag `no-writes`).
    fn fcall_ro<T: FromValue>(
        self,
        function: impl ToArg,
        keys: impl ToArg,
        args: impl ToArg,
    ) -> Self::Reply<T> {
        self.command(cmd("FCALL_RO").arg(function).arg_counted(keys).arg(args))
    }

    /// `FUNCTION LOAD`: loads a library (`#!lua name=…` first line); returns its name.
    fn function_load(self, code: impl ToArg, mode: FunctionLoad) -> Self::Reply<String> {
        let mut c = cmd("FUNCTION").arg("LOAD");
        if mode == FunctionLoad::Replace {
            c = c.arg("REPLACE");
        }
        self.command(c.arg(code))
    }

    /// `FUNCTION DELETE`: removes a library.
    fn function_delete(self, library: impl ToArg) -> Self::Reply<()> {
        self.command(cmd("FUNCTION").arg("DELETE").arg(library))
    }

    /// `FUNCTION FLUSH`: removes every library.
    fn function_flush(self) -> Self::Reply<()> {
        self.command(cmd("FUNCTION").arg("FLUSH"))
    }

    /// `FUNCTION LIST`: the libraries, as the server describes them.
    fn function_list<T: FromValue>(self) -> Self::Reply<T> {
        self.command(cmd("FUNCTION").arg("LIST"))
    }
}

impl<C: Commands> ScriptingCommands for C {}
