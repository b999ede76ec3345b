//! [`Script`], a Lua script held with its SHA1, and [`ScriptCall`], one
//! invocation of it with keys and arguments: the two forms it is sent in
//! (`EVALSHA` by digest, `EVAL` with the source) are built here; how handles
//! send them is in the `scripting` module's docs.

use crate::cmd::{cmd, Cmd, ToArg};
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
/// [`ScriptingCommands::invoke`](super::ScriptingCommands::invoke).
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_script_shows_its_digest_and_keeps_its_source() {
        let s = Script::new("return 1");
        assert_eq!(s.source(), b"return 1");
        assert_eq!(
            format!("{s:?}"),
            "Script(e0e1f9fabfc9d4800c877a703b823ac0578ff8db)"
        );
        let eval = s.key("k").arg(2).eval();
        let args: Vec<&[u8]> = eval.args_iter().collect();
        assert_eq!(args, [&b"EVAL"[..], b"return 1", b"1", b"k", b"2"]);
    }
}
