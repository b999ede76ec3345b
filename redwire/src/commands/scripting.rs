//! Scripting: [`Script`] (Lua, sent by its SHA1 and loaded again when the
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

use super::Commands;
use crate::args::ToArg;
use crate::cmd::{cmd, Cmd};
use crate::value::FromValue;
use bytes::Bytes;
use sha1::{Digest, Sha1};
use std::sync::Arc;

/// A Lua script, held with its SHA1 so that it is sent by digest.
///
/// ```no_run
/// # async fn demo(client: redwire::Client) -> redwire::Result<()> {
/// use redwire::prelude::*;
///
/// let add = Script::new("return redis.call('INCRBY', KEYS[1], ARGV[1])");
/// let n: i64 = client.invoke(add.key("counter").arg(5)).await?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Script {
    inner: Arc<ScriptInner>,
}

struct ScriptInner {
    source: Bytes,
    sha1: String,
}

impl Script {
    /// Holds `source` and computes its SHA1 (what `SCRIPT LOAD` answers).
    ///
    /// ```
    /// let s = redwire::Script::new("return 1");
    /// assert_eq!(s.sha1(), "e0e1f9fabfc9d4800c877a703b823ac0578ff8db");
    /// ```
    pub fn new(source: impl Into<Bytes>) -> Script {
        let source = source.into();
        let digest = Sha1::digest(&source);
        let sha1 = digest.iter().map(|b| format!("{b:02x}")).collect();
        Script {
            inner: Arc::new(ScriptInner { source, sha1 }),
        }
    }

    /// The script's SHA1, in lowercase hex.
    pub fn sha1(&self) -> &str {
        &self.inner.sha1
    }

    /// The script's source.
    pub fn source(&self) -> &[u8] {
        &self.inner.source
    }

    /// An invocation with no keys and no arguments yet.
    ///
    /// ```
    /// let call = redwire::Script::new("return 1").call();
    /// assert_eq!(call.evalsha().arg_count(), 3);
    /// ```
    pub fn call(&self) -> ScriptCall {
        ScriptCall {
            script: self.clone(),
            keys: Cmd::new(),
            args: Cmd::new(),
        }
    }

    /// An invocation with a first key (`KEYS[1]`).
    pub fn key(&self, key: impl ToArg) -> ScriptCall {
        self.call().key(key)
    }

    /// An invocation with a first argument (`ARGV[1]`).
    pub fn arg(&self, arg: impl ToArg) -> ScriptCall {
        self.call().arg(arg)
    }

    /// `SCRIPT LOAD` of this script.
    pub(crate) fn load_cmd(&self) -> Cmd {
        cmd("SCRIPT").arg("LOAD").arg(&self.inner.source)
    }
}

impl std::fmt::Debug for Script {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Script({})", self.sha1())
    }
}

/// One invocation of a [`Script`]: its keys and arguments. Send it with
/// [`ScriptingCommands::invoke`].
///
/// ```
/// let call = redwire::Script::new("return KEYS[1]").key("a").key("b").arg(7);
/// let evalsha = call.evalsha();
/// let args: Vec<&[u8]> = evalsha.args_iter().skip(2).collect();
/// assert_eq!(args, [&b"2"[..], b"a", b"b", b"7"]);
/// ```
#[derive(Clone, Debug)]
pub struct ScriptCall {
    script: Script,
    keys: Cmd,
    args: Cmd,
}

impl ScriptCall {
    /// Adds keys (`KEYS[n]`); a collection adds each of its elements.
    #[must_use]
    pub fn key(mut self, key: impl ToArg) -> Self {
        self.keys.push_arg(key);
        self
    }

    /// Adds arguments (`ARGV[n]`).
    #[must_use]
    pub fn arg(mut self, arg: impl ToArg) -> Self {
        self.args.push_arg(arg);
        self
    }

    /// The script invoked.
    pub fn script(&self) -> &Script {
        &self.script
    }

    /// The invocation by digest: `EVALSHA sha1 numkeys keys… args…`.
    pub fn evalsha(&self) -> Cmd {
        self.with(cmd("EVALSHA").arg(self.script.sha1()))
    }

    /// The invocation with the source, which also loads the script:
    /// `EVAL source numkeys keys… args…`.
    pub fn eval(&self) -> Cmd {
        self.with(cmd("EVAL").arg(&self.script.inner.source))
    }

    fn with(&self, mut head: Cmd) -> Cmd {
        head.push_arg(self.keys.arg_count());
        head.append(&self.keys);
        head.append(&self.args);
        head
    }
}

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
    /// Runs a [`Script`] invocation: `EVALSHA`, and `EVAL` once if the server
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

    /// `EVAL`: runs Lua source as is (prefer [`Script`], which sends its digest).
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
