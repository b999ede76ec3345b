//! [`Pipeline`]: many commands written as one, answered in order; with
//! [`atomic`](Pipeline::atomic), a `MULTI`/`EXEC` transaction.
//!
//! Entries are encoded as they are added, contiguously, and checked against
//! the shared connection's [rules](crate::rules) one by one. Their arguments
//! of 4 KiB or more stay out of line, shared with the commands they came
//! from (see `crate::large`): a large value is copied once, into its
//! command, and neither adding the command (by value or by reference) nor
//! sending the pipeline copies it again.
//!
//! A pipeline is also a handle of the typed API (`impl Commands for &mut
//! Pipeline`): a typed method queues its command and returns a [`Slot`] that
//! reads the entry's result back with its type. Script invocations are
//! remembered so that an entry answered `NOSCRIPT` can be run again with the
//! source (see the scripting module).

use crate::cmd::Cmd;
use crate::commands::{Commands, ScriptCall, Slot};
use crate::error::{Error, ErrorKind, Result};
use crate::large::{self, Large};
use crate::rules::{Effect, Rule, Why};
use crate::value::{FromValue, Value};
use crate::wire::Wire;
use bytes::{BufMut, BytesMut};
use redwire_resp::Frame;
use std::time::Duration;

/// Many commands sent as one contiguous write, answered in order.
///
/// With [`atomic`](Pipeline::atomic) the commands are wrapped in `MULTI`/`EXEC`
/// and run as a transaction.
///
/// ```
/// let mut p = redwire::Pipeline::new();
/// p.add(redwire::cmd("SET").arg("a").arg(1)).add(redwire::cmd("INCR").arg("a"));
/// assert_eq!(p.len(), 2);
/// ```
#[derive(Clone, Default)]
pub struct Pipeline {
    /// The entries, encoded back to back, except the payloads of their large
    /// arguments.
    buf: BytesMut,
    /// Those payloads, with their offsets in `buf`.
    large: Vec<Large>,
    count: usize,
    atomic: bool,
    /// The first entry a shared connection refuses, and why.
    refused: Option<Error>,
    /// The last entry is `ASKING`, which would apply to another caller's command.
    ends_with_asking: bool,
    /// The script invocations, by entry index.
    scripts: Vec<(usize, ScriptCall)>,
    /// The first entry a dedicated connection refuses too.
    refused_dedicated: Option<Error>,
    /// What the entries do to a dedicated connection's session, in order
    /// (only the entries that do something).
    effects: Vec<Effect>,
    /// The block times of the blocking entries, added up (see
    /// `Cmd::patience`; `Duration::MAX`: one blocks for ever).
    patience: Duration,
}

/// Pipelines are shown by size only, like [`Cmd`]: their entries may hold
/// secrets (`AUTH`) or megabytes of data.
///
/// ```
/// let mut p = redwire::Pipeline::new();
/// p.add(redwire::cmd("AUTH").arg("hunter2"));
/// assert!(!format!("{p:?}").contains("hunter2"));
/// ```
impl std::fmt::Debug for Pipeline {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let bytes = self.buf.len() + self.large.iter().map(|l| l.bytes.len()).sum::<usize>();
        f.debug_struct("Pipeline")
            .field("commands", &self.count)
            .field("bytes", &bytes)
            .field("atomic", &self.atomic)
            .finish()
    }
}

impl Pipeline {
    /// An empty pipeline.
    pub fn new() -> Self {
        Pipeline::default()
    }

    /// Adds a command.
    pub fn add(&mut self, cmd: Cmd) -> &mut Self {
        self.push(&cmd)
    }

    /// Adds a command by reference.
    pub fn push(&mut self, cmd: &Cmd) -> &mut Self {
        cmd.encode_split(&mut self.buf, &mut self.large);
        self.count += 1;
        if self.refused.is_none() {
            self.refused = cmd.check_shared(true).err();
        }
        self.ends_with_asking = cmd.rule == Rule::PipelineOnly;
        if !matches!(cmd.rule, Rule::Shared | Rule::Client) {
            if self.refused_dedicated.is_none() {
                self.refused_dedicated = cmd.check_dedicated(true).err();
            }
            match cmd.effect() {
                Effect::None => {}
                effect => self.effects.push(effect),
            }
            // The server runs the entries one after the other: their
            // block times add up.
            self.patience = self.patience.saturating_add(cmd.patience());
        }
        self
    }

    /// Refuses a pipeline with an entry that a dedicated connection cannot
    /// carry either.
    pub(crate) fn check_dedicated(&self) -> Result<()> {
        if let Some(err) = &self.refused_dedicated {
            return Err(err.clone());
        }
        if self.ends_with_asking {
            return Err(Error::refused_on(
                "ASKING",
                Why::Asking,
                "a dedicated connection",
            ));
        }
        Ok(())
    }

    /// The entries again as commands (read back from the encoded bytes, the
    /// large arguments shared), for a cluster that sends them to different
    /// nodes.
    pub(crate) fn entries(&self) -> Vec<Cmd> {
        let mut args = large::Reader::new(&self.buf, &self.large);
        let mut out = Vec::with_capacity(self.count);
        while let Some(argc) = args.array() {
            let mut c = Cmd::new();
            for _ in 0..argc {
                match args.arg() {
                    Some(large::Arg::Small(arg)) => c.write_arg(arg),
                    Some(large::Arg::Large(bytes)) => c.write_bytes(bytes),
                    None => break,
                }
            }
            out.push(c);
        }
        out
    }

    /// What the entries do to a dedicated connection's session, in order.
    pub(crate) fn effects(&self) -> &[Effect] {
        &self.effects
    }

    /// How long the server may keep silent about the blocking entries: their
    /// block times added up.
    pub(crate) fn patience(&self) -> Duration {
        self.patience
    }

    /// True when a shared [`Client`](crate::Client) may send this pipeline:
    /// every entry is allowed on a shared connection ([`Cmd::is_shareable`];
    /// `ASKING` is allowed when a command follows it), and transactions are
    /// made with [`atomic`](Self::atomic), not with `MULTI` entries.
    ///
    /// ```
    /// let mut p = redwire::Pipeline::new();
    /// p.add(redwire::cmd("MULTI")).add(redwire::cmd("INCR").arg("n")).add(redwire::cmd("EXEC"));
    /// assert!(!p.is_shareable());
    /// ```
    pub fn is_shareable(&self) -> bool {
        self.check_shared().is_ok()
    }

    /// Refuses a pipeline with an entry that cannot share a connection.
    pub(crate) fn check_shared(&self) -> Result<()> {
        if let Some(err) = &self.refused {
            return Err(err.clone());
        }
        if self.ends_with_asking {
            return Err(Error::refused("ASKING", Why::Asking));
        }
        Ok(())
    }

    /// Makes this pipeline a `MULTI`/`EXEC` transaction.
    ///
    /// ```
    /// let mut p = redwire::Pipeline::new();
    /// p.atomic().add(redwire::cmd("INCR").arg("n"));
    /// assert!(p.is_atomic());
    /// ```
    pub fn atomic(&mut self) -> &mut Self {
        self.atomic = true;
        self
    }

    /// True if this pipeline runs as a transaction.
    pub fn is_atomic(&self) -> bool {
        self.atomic
    }

    /// The number of commands.
    pub fn len(&self) -> usize {
        self.count
    }

    /// True when it holds no command.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// The bytes to write and the number of replies they produce. A
    /// transaction holding scripts loads them first, inside it. The large
    /// arguments are shared with the request, not copied.
    pub(crate) fn wire(&self) -> (Wire, usize) {
        if !self.atomic || crate::connection::bugs::on(crate::connection::bugs::Bug::NotAtomic) {
            let small = BytesMut::from(&self.buf[..]);
            return (Wire::split(small, self.large.clone()), self.count);
        }
        let mut out = BytesMut::with_capacity(self.buf.len() + 40);
        let mut large = Vec::new();
        out.put_slice(b"*1\r\n$5\r\nMULTI\r\n");
        let loads = self.script_loads();
        for script in &loads {
            script.encode_split(&mut out, &mut large);
        }
        let shift = out.len();
        out.put_slice(&self.buf);
        large.extend(self.large.iter().map(|part| part.shifted(shift)));
        out.put_slice(b"*1\r\n$4\r\nEXEC\r\n");
        (Wire::split(out, large), self.count + loads.len() + 2)
    }

    /// `SCRIPT LOAD` of each distinct script a transaction invokes.
    fn script_loads(&self) -> Vec<Cmd> {
        let mut seen: Vec<&str> = Vec::new();
        let mut loads = Vec::new();
        for (_, call) in &self.scripts {
            let script = call.script();
            if !seen.contains(&script.sha1()) {
                seen.push(script.sha1());
                loads.push(script.load_cmd());
            }
        }
        loads
    }

    /// One result per entry, from the frames that answered [`wire`](Self::wire).
    pub(crate) fn results(&self, frames: Vec<Frame>) -> Result<Vec<Result<Value>>> {
        if !self.atomic {
            return Ok(frames.into_iter().map(Value::from_reply).collect());
        }
        let mut results = transaction_results(frames)?;
        // The scripts' loads come first inside the transaction.
        let loads = results.len().saturating_sub(self.count);
        Ok(results.split_off(loads))
    }

    /// The entries whose script the server did not have, and a pipeline that
    /// runs them again with their source; `None` when there are none, and
    /// always for a transaction (which loads its scripts itself: running an
    /// entry after `EXEC` would break its atomicity).
    pub(crate) fn noscript_retries(
        &self,
        results: &[Result<Value>],
    ) -> Option<(Vec<usize>, Pipeline)> {
        if self.atomic {
            return None;
        }
        let mut indices = Vec::new();
        let mut again = Pipeline::new();
        for (index, call) in &self.scripts {
            let noscript =
                matches!(results.get(*index), Some(Err(e)) if e.code() == Some("NOSCRIPT"));
            if noscript {
                indices.push(*index);
                again.add(call.eval());
            }
        }
        (!indices.is_empty()).then_some((indices, again))
    }
}

/// Queues typed commands: each returns the [`Slot`] to read its result with.
///
/// ```
/// use redwire::prelude::*;
///
/// let mut p = Pipeline::new();
/// let n = p.incr("n");
/// let v = p.get::<String>("v");
/// assert_eq!((n.index(), v.index(), p.len()), (0, 1, 2));
/// ```
impl Commands for &mut Pipeline {
    type Reply<T: FromValue> = Slot<T>;

    fn command<T: FromValue>(self, cmd: Cmd) -> Slot<T> {
        self.push(&cmd);
        Slot::new(self.count - 1)
    }

    fn script<T: FromValue>(self, call: ScriptCall) -> Slot<T> {
        self.push(&call.evalsha());
        let index = self.count - 1;
        self.scripts.push((index, call));
        Slot::new(index)
    }
}

/// The results of `MULTI` … `EXEC`: the entries of `EXEC`'s reply, or why the
/// transaction did not run.
fn transaction_results(mut frames: Vec<Frame>) -> Result<Vec<Result<Value>>> {
    let exec = frames.pop().map(Value::from_reply);
    // A command refused while queueing makes EXEC fail with EXECABORT; say which.
    let queued_error = frames
        .into_iter()
        .enumerate()
        .find_map(|(i, f)| Value::from_reply(f).err().map(|e| (i, e)));
    match exec {
        Some(Ok(Value::Array(items))) => Ok(items
            .into_iter()
            .map(|v| match v {
                Value::Error(e) => Err(e),
                v => Ok(v),
            })
            .collect()),
        Some(Ok(Value::Nil)) => Err(Error::new(
            ErrorKind::Aborted,
            "the transaction did not run: a WATCHed key changed (EXEC answered nil)",
        )),
        Some(Err(e)) => Err(match queued_error {
            // Frame 0 answers MULTI.
            Some((i, q)) => Error::server(format!(
                "{} (entry {}: {})",
                e.message(),
                i.saturating_sub(1),
                q.message()
            )),
            None => e,
        }),
        _ => Err(Error::protocol("unexpected reply to EXEC")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cmd::cmd;
    use crate::commands::StringCommands;

    #[test]
    fn typed_entries_get_their_index_and_the_pipeline_counts_them() {
        let mut p = Pipeline::new();
        assert!(p.is_empty() && p.is_shareable() && !p.is_atomic());
        let a = p.incr("a");
        let b = p.get::<String>("b");
        assert_eq!((a.index(), b.index(), p.len()), (0, 1, 2));
        assert_eq!(format!("{b:?}"), "Slot(1)");
        p.add(cmd("WATCH").arg("k"));
        assert!(!p.is_shareable());
        assert!(p.atomic().is_atomic());
        // MULTI, three entries, EXEC.
        assert_eq!(p.wire().1, 5);
    }

    #[test]
    fn the_block_times_of_blocking_entries_add_up() {
        let mut p = Pipeline::new();
        p.add(cmd("GET").arg("k"));
        assert_eq!(p.patience(), Duration::ZERO);
        p.add(cmd("BLPOP").arg("a").arg(2));
        p.add(cmd("BRPOP").arg("b").arg(1.5));
        assert_eq!(p.patience(), Duration::from_millis(3500));
        p.add(cmd("BLPOP").arg("c").arg(0));
        assert_eq!(p.patience(), Duration::MAX, "one blocks for ever");
    }

    #[test]
    fn debug_shows_sizes_never_arguments() {
        let mut p = Pipeline::new();
        p.add(cmd("AUTH").arg("user").arg("hunter2"));
        p.add(cmd("SET").arg("k").arg(vec![b'v'; 5000]));
        // 37 bytes of AUTH, 5,029 of SET (its payload out of line).
        let shown = format!("{:?}", p.atomic());
        assert_eq!(shown, "Pipeline { commands: 2, bytes: 5066, atomic: true }");
        assert!(!shown.contains("hunter2"));
    }

    #[test]
    fn a_nil_exec_is_an_aborted_transaction() {
        let frames = vec![
            Frame::Simple("OK".into()),
            Frame::Simple("QUEUED".into()),
            Frame::Null,
        ];
        let err = transaction_results(frames).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Aborted);
        let frames = vec![
            Frame::Simple("OK".into()),
            Frame::Simple("QUEUED".into()),
            Frame::Array(vec![Frame::Integer(1)]),
        ];
        assert_eq!(
            transaction_results(frames).unwrap()[0].as_ref().unwrap(),
            &Value::Int(1)
        );
    }
}
