//! [`Cmd`]: one command, encoded as it is built.
//!
//! A `Cmd` writes each argument as a RESP bulk string into its own buffer the
//! moment it is added (what an argument may be is [`ToArg`], defined here and
//! implemented for the standard types in `args`), so
//! sending it is one copy of finished bytes. Whether a shared connection may
//! carry it is decided here too, from its first words (see [`rules`]).
//!
//! An argument of 4 KiB or more is the exception: its payload is kept out of
//! line, in a `Bytes` of its own, so that sending the command, by reference
//! or by value, never copies it again (`crate::large` says how and why).
//! A `Bytes` argument that large is shared, not copied at all.
//!
//! A dropped command leaves its buffer (up to 1 KiB) to the next command
//! built on its thread, at most 64 kept per thread: building a command per
//! request then allocates nothing, as a prebuilt one does not.

use crate::error::{Error, Result};
use crate::large::{self, Large, Parts, LARGE_ARG};
use crate::rules::{self, Rule, Why};
use crate::wire::Wire;
use bytes::{BufMut, Bytes, BytesMut};

/// Starts a command with its name.
///
/// ```
/// let c = redwire::cmd("SET").arg("key").arg(42);
/// assert_eq!(c.arg_count(), 3);
/// ```
pub fn cmd(name: &str) -> Cmd {
    let mut c = Cmd::new();
    c.write_arg(name.as_bytes());
    c
}

/// Bytes kept free in front of a command's arguments for its array header
/// (`*` and up to 20 digits and CRLF), so that a command sent by value goes
/// out of its own buffer, header included, without a copy.
const HEADER: usize = 24;

/// One Redis command: a name and its arguments, already encoded.
///
/// ```
/// use redwire::Cmd;
///
/// let mut c = Cmd::new();
/// c.push_arg("INCRBY").push_arg("counter").push_arg(5u32);
/// assert_eq!(c.to_bytes(), &b"*3\r\n$6\r\nINCRBY\r\n$7\r\ncounter\r\n$1\r\n5\r\n"[..]);
/// ```
///
/// An argument of 4 KiB or more is kept in a buffer of its own, so that
/// sending the command copies it no more, by reference (`client.send(&cmd)`)
/// or by value; a [`Bytes`] argument that large is shared, not copied:
///
/// ```
/// let value = bytes::Bytes::from(vec![b'v'; 64 * 1024]);
/// let c = redwire::cmd("SET").arg("k").arg(&value);
/// let arg = c.args_iter().nth(2).unwrap();
/// assert_eq!(arg.as_ptr(), value.as_ptr()); // the same memory
/// // `*3`, `$3 SET`, `$1 k`, `$65536`, each with its CRLF, the value and its CRLF.
/// assert_eq!(c.to_bytes().len(), 4 + 9 + 7 + 8 + 64 * 1024 + 2);
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Cmd {
    argc: usize,
    /// The encoded arguments after room for the header, except the payloads
    /// of the large ones: `$len\r\n` and CRLF only.
    args: BytesMut,
    /// The large arguments' payloads, in order, with their offsets in
    /// `args[HEADER..]`: every argument of `LARGE_ARG` bytes or more, and
    /// only those. Empty (no allocation) for most commands.
    large: Parts,
    /// Whether a shared connection may carry it (see [`rules`](crate::rules)).
    pub(crate) rule: Rule,
}

/// Room for the header and a typical command, so that adding arguments does
/// not reallocate.
const START: usize = HEADER + 72;
/// Most buffers of dropped commands a thread keeps for its next ones.
const SPARE_PER_THREAD: usize = 64;
/// A larger buffer is freed, not kept: a spare never holds much memory.
const SPARE_MAX: usize = 1024;

thread_local! {
    /// Buffers of this thread's dropped commands, emptied, for its next
    /// ones: building a command per request then allocates nothing.
    static SPARE: std::cell::RefCell<Vec<BytesMut>> = const { std::cell::RefCell::new(Vec::new()) };
}

impl Default for Cmd {
    fn default() -> Self {
        let mut args = SPARE
            .try_with(|spare| spare.borrow_mut().pop())
            .ok()
            .flatten()
            .unwrap_or_else(|| BytesMut::with_capacity(START));
        args.put_bytes(0, HEADER);
        Cmd {
            argc: 0,
            args,
            large: Parts::default(),
            rule: Rule::Empty,
        }
    }
}

/// A command's buffer goes back to its thread's spares, unless it is too
/// large (or was handed over: then it is empty and has no capacity).
impl Drop for Cmd {
    fn drop(&mut self) {
        let capacity = self.args.capacity();
        if !(START..=SPARE_MAX).contains(&capacity) {
            return;
        }
        let mut args = std::mem::take(&mut self.args);
        args.clear();
        let _ = SPARE.try_with(|spare| {
            let mut spare = spare.borrow_mut();
            if spare.len() < SPARE_PER_THREAD {
                spare.push(args);
            }
        });
    }
}

impl Cmd {
    /// An empty command; add the name first.
    pub fn new() -> Self {
        Cmd::default()
    }

    /// Adds an argument (builder style).
    ///
    /// ```
    /// let c = redwire::cmd("HSET").arg("h").arg("field").arg(b"bytes".as_slice());
    /// assert_eq!(c.arg_count(), 4);
    /// ```
    #[must_use]
    pub fn arg(mut self, arg: impl ToArg) -> Self {
        self.push_arg(arg);
        self
    }

    /// Adds an argument in place.
    pub fn push_arg(&mut self, arg: impl ToArg) -> &mut Self {
        arg.write_args(self);
        self
    }

    /// Adds how many arguments `items` writes, then the items: the
    /// `numkeys keys…` of `EVAL`, `FCALL`, `ZUNIONSTORE`, `LMPOP`…
    ///
    /// ```
    /// let c = redwire::cmd("SINTERCARD").arg_counted(["a", "b"]);
    /// let args: Vec<&[u8]> = c.args_iter().collect();
    /// assert_eq!(args, [&b"SINTERCARD"[..], b"2", b"a", b"b"]);
    /// ```
    #[must_use]
    pub fn arg_counted(mut self, items: impl ToArg) -> Self {
        let mut scratch = Cmd::new();
        items.write_args(&mut scratch);
        self.push_arg(scratch.argc);
        self.append(&scratch);
        self
    }

    /// Adds the arguments of another command (its name included, if it has
    /// one): a command's tail built apart. Its large arguments are shared,
    /// not copied.
    pub(crate) fn append(&mut self, other: &Cmd) {
        // Keep the rules' view of the first words.
        for (i, arg) in other.args_iter().enumerate().take(2 - self.argc.min(2)) {
            self.classify(self.argc + i, arg);
        }
        let shift = self.args.len() - HEADER;
        self.args.extend_from_slice(&other.args[HEADER..]);
        self.large.extend_shifted(&other.large, shift);
        self.argc += other.argc;
    }

    /// Adds one raw argument; what every [`ToArg`] implementation ends in.
    /// The bytes are copied: into the command's buffer, or, from 4 KiB, into
    /// a buffer of their own that sending the command does not copy again.
    ///
    /// ```
    /// let mut c = redwire::cmd("GET");
    /// c.write_arg(b"key");
    /// assert_eq!(c.arg_count(), 2);
    /// ```
    #[inline]
    pub fn write_arg(&mut self, bytes: &[u8]) {
        if bytes.len() >= LARGE_ARG {
            return self.write_large(Bytes::copy_from_slice(bytes));
        }
        if self.argc < 2 {
            self.classify(self.argc, bytes);
        }
        redwire_resp::encode_bulk(&mut self.args, bytes);
        self.argc += 1;
    }

    /// Adds one argument held in a [`Bytes`]: from 4 KiB it is shared (its
    /// reference count goes up), not copied; a smaller one is copied like
    /// [`write_arg`](Self::write_arg) does. What the [`ToArg`] of `Bytes`
    /// does; to hand over a `Vec<u8>` without a copy, make it a `Bytes`
    /// first (`Bytes::from(vec)` takes its buffer).
    ///
    /// ```
    /// let value = bytes::Bytes::from(vec![0u8; 1 << 20]);
    /// let mut c = redwire::cmd("SET");
    /// c.write_arg(b"key");
    /// c.write_bytes(&value);
    /// assert_eq!(c.args_iter().nth(2).unwrap().as_ptr(), value.as_ptr());
    /// ```
    pub fn write_bytes(&mut self, bytes: &Bytes) {
        if bytes.len() >= LARGE_ARG {
            self.write_large(bytes.clone());
        } else {
            self.write_arg(bytes);
        }
    }

    /// Adds a large argument: its `$len\r\n` and CRLF in the buffer, its
    /// payload out of line.
    #[cold]
    #[inline(never)]
    fn write_large(&mut self, bytes: Bytes) {
        if self.argc < 2 {
            self.classify(self.argc, &bytes);
        }
        let mut digits = itoa::Buffer::new();
        let digits = digits.format(bytes.len()).as_bytes();
        self.args.reserve(digits.len() + 5);
        self.args.put_u8(b'$');
        self.args.put_slice(digits);
        self.args.put_slice(b"\r\n");
        self.large.push(Large {
            at: self.args.len() - HEADER,
            bytes,
        });
        self.args.put_slice(b"\r\n");
        self.argc += 1;
    }

    /// Applies the rules to the name (argument 0), and to the subcommand of
    /// `CLIENT` (argument 1).
    #[inline]
    fn classify(&mut self, index: usize, arg: &[u8]) {
        if index == 0 {
            self.rule = rules::for_name(arg);
        } else if self.rule == Rule::Client {
            self.rule = rules::for_client(arg);
        }
    }

    /// True when a shared [`Client`](crate::Client) may send this command on its
    /// own. It refuses commands that would break one-reply-per-request or change
    /// the connection for every caller (`SUBSCRIBE`, `MULTI`, `SELECT`,
    /// `CLIENT REPLY`, an empty command…); the table with the reasons is in
    /// [`rules`](crate::rules).
    ///
    /// ```
    /// assert!(redwire::cmd("GET").arg("k").is_shareable());
    /// assert!(!redwire::cmd("multi").is_shareable());
    /// assert!(!redwire::cmd("CLIENT").arg("reply").arg("off").is_shareable());
    /// assert!(!redwire::Cmd::new().is_shareable());
    /// ```
    pub fn is_shareable(&self) -> bool {
        self.check_shareable().is_ok()
    }

    /// Like [`is_shareable`](Self::is_shareable), with the error a shared
    /// client would give: what the command would break and where it belongs.
    ///
    /// ```
    /// let err = redwire::cmd("SELECT").arg(2).check_shareable().unwrap_err();
    /// assert_eq!(err.kind(), redwire::ErrorKind::Unsupported);
    /// assert!(err.message().contains("database"));
    /// ```
    pub fn check_shareable(&self) -> Result<()> {
        self.check_shared(false)
    }

    /// Refuses, before anything is written, a command that cannot share a
    /// connection; `in_pipeline` allows `ASKING` (followed by its command).
    #[inline]
    pub(crate) fn check_shared(&self, in_pipeline: bool) -> Result<()> {
        if matches!(self.rule, Rule::Shared | Rule::Client) {
            return Ok(());
        }
        self.refusal(in_pipeline)
    }

    /// The error for a command the rules do not simply allow.
    #[cold]
    #[inline(never)]
    fn refusal(&self, in_pipeline: bool) -> Result<()> {
        self.refusal_on(in_pipeline, "a shared client")
    }

    fn refusal_on(&self, in_pipeline: bool, place: &str) -> Result<()> {
        let why = match self.rule {
            Rule::Shared | Rule::Client => return Ok(()),
            Rule::StreamRead if self.blocking().is_none() => return Ok(()),
            Rule::StreamRead => Why::Blocking,
            Rule::PipelineOnly if in_pipeline => return Ok(()),
            Rule::PipelineOnly => Why::Asking,
            Rule::Empty => Why::NoReply,
            Rule::Refused(why) => why,
        };
        Err(Error::refused_on(&self.display_name(), why, place))
    }

    /// Refuses, before anything is written, a command that a dedicated
    /// connection (one user) cannot carry either: one that breaks
    /// one-reply-per-request or that the configuration owns (see
    /// [`rules`](crate::rules)).
    pub(crate) fn check_dedicated(&self, in_pipeline: bool) -> Result<()> {
        match self.rule {
            Rule::Refused(why) if why.allowed_on_dedicated() => Ok(()),
            Rule::StreamRead => Ok(()),
            _ => self.refusal_on(in_pipeline, "a dedicated connection"),
        }
    }

    /// True for a blocking command (`BLPOP`, `BLMOVE`, `BZPOPMIN`, `WAIT`,
    /// `XREAD … BLOCK`…): one that runs on a dedicated
    /// [`Connection`](crate::Connection), not on a shared client.
    ///
    /// ```
    /// assert!(redwire::cmd("BLPOP").arg("q").arg(0).is_blocking());
    /// assert!(redwire::cmd("XREAD").arg("BLOCK").arg(10).arg("STREAMS").arg("s").arg("$").is_blocking());
    /// assert!(!redwire::cmd("XREAD").arg("STREAMS").arg("s").arg("0").is_blocking());
    /// ```
    pub fn is_blocking(&self) -> bool {
        self.blocking().is_some()
    }

    /// What this command does to a dedicated connection's session.
    pub(crate) fn effect(&self) -> rules::Effect {
        match self.rule {
            Rule::Refused(why) => rules::effect(why, self.args_iter()),
            _ => rules::Effect::None,
        }
    }

    /// How much longer than the response timeout the server may keep silent
    /// about this command: its blocking timeout (`Duration::MAX` for ever),
    /// zero when it does not block.
    pub(crate) fn patience(&self) -> std::time::Duration {
        match self.blocking() {
            None => std::time::Duration::ZERO,
            Some(None) => std::time::Duration::MAX,
            Some(Some(timeout)) => timeout.max(std::time::Duration::from_millis(1)),
        }
    }

    /// How long this command may block on the server (`Some(None)`: for
    /// ever); `None` when it does not block.
    pub(crate) fn blocking(&self) -> Option<Option<std::time::Duration>> {
        match self.rule {
            Rule::Refused(Why::Blocking) | Rule::StreamRead => {
                rules::blocking_timeout(self.args_iter().collect::<Vec<_>>().into_iter())
            }
            _ => None,
        }
    }

    /// The name for an error message: the command and, for `CLIENT`, its
    /// subcommand.
    fn display_name(&self) -> String {
        let words = if self.name() == "CLIENT" { 2 } else { 1 };
        let name: Vec<String> = self
            .args_iter()
            .take(words)
            .map(|a| String::from_utf8_lossy(a).to_ascii_uppercase())
            .collect();
        if name.is_empty() {
            "an empty command".into()
        } else {
            name.join(" ")
        }
    }

    /// The number of arguments, the name included.
    pub fn arg_count(&self) -> usize {
        self.argc
    }

    /// The encoded arguments, large payloads left out.
    #[inline]
    pub(crate) fn body(&self) -> &[u8] {
        &self.args[HEADER..]
    }

    /// Some argument is kept out of line (4 KiB or more): the body does
    /// not hold every byte of the command.
    #[cfg(feature = "client-cache")]
    #[inline]
    pub(crate) fn has_large(&self) -> bool {
        !self.large.is_empty()
    }

    /// Writes the whole command (array header and arguments) to `buf`.
    ///
    /// ```
    /// let mut buf = bytes::BytesMut::new();
    /// redwire::cmd("GET").arg("k").encode(&mut buf);
    /// assert_eq!(&buf[..], b"*2\r\n$3\r\nGET\r\n$1\r\nk\r\n");
    /// ```
    pub fn encode(&self, buf: &mut BytesMut) {
        buf.reserve(HEADER + large::plain_len(self.body(), &self.large));
        redwire_resp::encode_array_header(buf, self.argc);
        large::write_plain(buf, self.body(), &self.large);
    }

    /// Writes the command to `small` as a pipeline holds it: its large
    /// payloads are shared into `large`, with their offsets in `small`.
    pub(crate) fn encode_split(&self, small: &mut BytesMut, large: &mut Vec<Large>) {
        small.reserve(HEADER + self.body().len());
        redwire_resp::encode_array_header(small, self.argc);
        let shift = small.len();
        small.put_slice(self.body());
        large.extend(self.large.iter().map(|part| part.shifted(shift)));
    }

    /// The command as it goes on the wire, in one buffer (a copy; see
    /// [`into_bytes`](Self::into_bytes)).
    ///
    /// ```
    /// let c = redwire::cmd("GET").arg("k");
    /// assert_eq!(c.to_bytes(), &b"*2\r\n$3\r\nGET\r\n$1\r\nk\r\n"[..]);
    /// ```
    pub fn to_bytes(&self) -> Bytes {
        let mut header = [0u8; HEADER];
        let header = self.header(&mut header);
        // Exactly as large as the command: a full buffer becomes `Bytes`
        // without the extra shared header a partly used one needs.
        let mut buf = Vec::with_capacity(header.len() + large::plain_len(self.body(), &self.large));
        buf.extend_from_slice(header);
        large::write_plain(&mut buf, self.body(), &self.large);
        Bytes::from(buf)
    }

    /// The array header (`*<argc>\r\n`), written into `room`.
    #[inline]
    fn header<'a>(&self, room: &'a mut [u8; HEADER]) -> &'a [u8] {
        let mut digits = itoa::Buffer::new();
        let digits = digits.format(self.argc).as_bytes();
        room[0] = b'*';
        room[1..1 + digits.len()].copy_from_slice(digits);
        room[1 + digits.len()..3 + digits.len()].copy_from_slice(b"\r\n");
        &room[..3 + digits.len()]
    }

    /// The request of a command sent by reference: inline when small (no
    /// allocation), else a copy of its bytes, except its large arguments,
    /// which the request shares.
    #[inline]
    pub(crate) fn to_wire(&self) -> Wire {
        if !self.large.is_empty() {
            return self.to_split_wire();
        }
        self.inline_wire()
            .unwrap_or_else(|| Wire::Shared(self.to_bytes()))
    }

    /// The request of a command handed over by value: inline when small,
    /// else its own buffers (no copy).
    #[inline]
    pub(crate) fn into_wire(self) -> Wire {
        if !self.large.is_empty() {
            return self.into_split_wire();
        }
        match self.inline_wire() {
            Some(wire) => wire,
            None => Wire::Shared(self.into_bytes()),
        }
    }

    /// The request of a command with large arguments, sent by reference: a
    /// copy of the small parts, the large ones shared.
    #[inline(never)]
    fn to_split_wire(&self) -> Wire {
        let mut header = [0u8; HEADER];
        let header = self.header(&mut header);
        let mut small = BytesMut::with_capacity(header.len() + self.body().len());
        small.put_slice(header);
        small.put_slice(self.body());
        let shift = header.len();
        let large = self.large.iter().map(|part| part.shifted(shift)).collect();
        Wire::split(small, large)
    }

    /// The request of a command with large arguments, handed over by value:
    /// its own buffers.
    #[inline(never)]
    fn into_split_wire(mut self) -> Wire {
        let shift = self.put_header();
        let large = std::mem::take(&mut self.large).into_shifted(shift);
        Wire::split(std::mem::take(&mut self.args), large)
    }

    /// Writes the array header into the room kept for it and starts the
    /// buffer there; returns the header's length.
    #[inline]
    fn put_header(&mut self) -> usize {
        let mut header = [0u8; HEADER];
        let header = self.header(&mut header);
        let start = HEADER - header.len();
        self.args[start..HEADER].copy_from_slice(header);
        bytes::Buf::advance(&mut self.args, start);
        header.len()
    }

    /// The command as an inline request, if it fits.
    #[inline]
    fn inline_wire(&self) -> Option<Wire> {
        let body = &self.args[HEADER..];
        if self.argc < 10 {
            // Nearly every command: a header of 4 bytes, written with a
            // store of fixed size, and one copy of unknown length (the body).
            let head = [b'*', b'0' + self.argc as u8, b'\r', b'\n'];
            return Wire::inline_after(head, body);
        }
        let mut header = [0u8; HEADER];
        let header = self.header(&mut header);
        Wire::inline(&[header, body])
    }

    /// The command as it goes on the wire, in one buffer: its own, the
    /// header written into the room kept for it, so nothing is copied;
    /// except when it holds arguments of 4 KiB or more, which live in
    /// buffers of their own and are copied together (as
    /// [`to_bytes`](Self::to_bytes) does). Sending a command never needs
    /// this: it sends the parts as they are.
    ///
    /// ```
    /// let c = redwire::cmd("GET").arg("k");
    /// assert_eq!(c.clone().into_bytes(), c.to_bytes());
    /// assert_eq!(c.into_bytes(), &b"*2\r\n$3\r\nGET\r\n$1\r\nk\r\n"[..]);
    /// ```
    pub fn into_bytes(mut self) -> Bytes {
        if !self.large.is_empty() {
            return self.to_bytes();
        }
        self.put_header();
        std::mem::take(&mut self.args).freeze()
    }

    /// The command's name, uppercased, for logs and routing.
    ///
    /// ```
    /// assert_eq!(redwire::cmd("get").arg("k").name(), "GET");
    /// ```
    pub fn name(&self) -> String {
        self.args_iter()
            .next()
            .map(|n| String::from_utf8_lossy(n).to_ascii_uppercase())
            .unwrap_or_default()
    }

    /// The arguments as byte slices, the name first.
    ///
    /// ```
    /// let c = redwire::cmd("SET").arg("k").arg(vec![b'v'; 10_000]);
    /// let args: Vec<&[u8]> = c.args_iter().collect();
    /// assert_eq!(args.len(), 3);
    /// assert_eq!(args[2].len(), 10_000);
    /// ```
    pub fn args_iter(&self) -> impl Iterator<Item = &[u8]> {
        large::Reader::new(self.body(), &self.large)
    }
}

/// Commands are shown by name and argument count only: arguments may hold
/// secrets (`AUTH`, `HELLO ... AUTH`) or megabytes of data.
impl std::fmt::Debug for Cmd {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Cmd({} with {} args)",
            self.name(),
            self.argc.saturating_sub(1)
        )
    }
}

/// A value usable as command arguments: one, several (collections, tuples,
/// maps) or none (`None`).
///
/// Implement it for your own types; the one method writes the value's bytes
/// with [`Cmd::write_arg`]:
///
/// ```
/// use redwire::{Cmd, ToArg};
///
/// struct UserId(u64);
/// impl ToArg for UserId {
///     fn write_args(&self, cmd: &mut Cmd) {
///         cmd.write_arg(format!("user:{}", self.0).as_bytes());
///     }
/// }
/// let c = redwire::cmd("GET").arg(UserId(7));
/// assert_eq!(c.args_iter().nth(1), Some(&b"user:7"[..]));
/// ```
///
/// Many at once:
///
/// ```
/// use std::collections::BTreeMap;
///
/// let fields = BTreeMap::from([("a", 1), ("b", 2)]);
/// let c = redwire::cmd("HSET").arg("h").arg(&fields);
/// let args: Vec<&[u8]> = c.args_iter().collect();
/// assert_eq!(args, [&b"HSET"[..], b"h", b"a", b"1", b"b", b"2"]);
///
/// let c = redwire::cmd("DEL").arg(["k1", "k2"]).arg(("k3", 4)).arg(None::<&str>);
/// assert_eq!(c.arg_count(), 5);
/// ```
pub trait ToArg {
    /// Writes this value as zero or more arguments.
    fn write_args(&self, cmd: &mut Cmd);

    /// This value's bytes when it is exactly one argument already in
    /// memory (a string or bytes), so that a client-side cache can look a
    /// key up without building the command. `None`, the default, is always
    /// correct: the command is built and looked up as usual.
    #[doc(hidden)]
    #[inline]
    fn as_one_arg(&self) -> Option<&[u8]> {
        None
    }
}

#[cfg(test)]
mod tests {
    /// Dropped commands leave their buffers for the next ones, at most
    /// `SPARE_PER_THREAD`, and never one larger than `SPARE_MAX`.
    #[test]
    fn spare_buffers_are_bounded_in_number_and_size() {
        let spares = || SPARE.with(|s| s.borrow().len());
        drop(
            (0..SPARE_PER_THREAD * 2)
                .map(|_| cmd("GET").arg("k"))
                .collect::<Vec<_>>(),
        );
        assert_eq!(spares(), SPARE_PER_THREAD);
        let reused = cmd("PING");
        assert_eq!(spares(), SPARE_PER_THREAD - 1, "taken for the next command");
        assert_eq!(reused.to_bytes(), &b"*1\r\n$4\r\nPING\r\n"[..], "and empty");
        drop(reused);
        SPARE.with(|s| s.borrow_mut().clear());
        drop(cmd("SET").arg("k").arg(&[b'v'; SPARE_MAX][..]));
        assert_eq!(spares(), 0, "too large to keep");
        let handed = cmd("SET").arg("k").arg("v").into_bytes();
        assert_eq!(spares(), 0, "a buffer handed over is not kept");
        drop(handed);
    }

    use super::*;
    use crate::Pipeline;
    use proptest::prelude::*;

    #[test]
    fn a_large_command_handed_over_is_not_copied_and_a_small_one_is_inline() {
        // Larger than inline, no large argument: the command's own buffer.
        let c = cmd("SET").arg("k").arg(vec![7u8; 1000]);
        let value = c.args_iter().nth(2).unwrap().as_ptr() as usize;
        let expected = c.to_bytes();
        let Wire::Shared(b) = c.into_wire() else {
            panic!("a command of 1000 bytes is one buffer")
        };
        assert_eq!(b, expected);
        let start = b.as_ptr() as usize;
        assert!(
            (start..start + b.len()).contains(&value),
            "the request is the command's own buffer"
        );
        // A large argument: its own buffer, which the request shares, by
        // value and by reference.
        let c = cmd("SET")
            .arg("k")
            .arg(vec![7u8; 100_000])
            .arg("EX")
            .arg(10);
        let value = c.args_iter().nth(2).unwrap().as_ptr();
        let expected = c.to_bytes();
        let by_ref = c.to_wire();
        let Wire::Split(split) = &by_ref else {
            panic!("a command with a large argument is split")
        };
        let large = &split.large;
        assert_eq!(large[0].bytes.as_ptr(), value, "shared, not copied");
        assert_eq!(by_ref.contiguous(), &expected[..]);
        let body = c.args.as_ptr() as usize;
        let Wire::Split(split) = c.into_wire() else {
            panic!("a command with a large argument is split")
        };
        let (small, large) = (split.small, split.large);
        assert_eq!(large[0].bytes.as_ptr(), value, "handed over, not copied");
        let start = small.as_ptr() as usize;
        assert!(
            (body..body + HEADER).contains(&start),
            "the small parts are the command's own buffer"
        );
        // Small: inline.
        let c = cmd("GET").arg("k");
        assert!(matches!(c.to_wire(), Wire::Inline { .. }));
        assert_eq!(c.to_wire().contiguous(), &c.to_bytes()[..]);
        assert_eq!(c.clone().into_wire().contiguous(), &c.to_bytes()[..]);
    }

    /// A request's bytes are the command's, by reference and by value, with
    /// fewer than 10 arguments (the short path, a one-digit count) and with
    /// more, up to counts that do not fit in a byte; with empty arguments
    /// too, the shortest, which come nearest to fitting inline at 10 or more.
    #[test]
    fn a_request_is_the_command_with_any_argument_count() {
        for argc in (1..=12).chain([207, 208, 255, 256, 300]) {
            for arg in ["", "v"] {
                let mut c = cmd("X");
                for _ in 1..argc {
                    c = c.arg(arg);
                }
                assert_eq!(c.arg_count(), argc);
                let expected = c.to_bytes();
                assert_eq!(
                    c.to_wire().contiguous(),
                    &expected[..],
                    "{argc} by reference"
                );
                assert_eq!(c.into_wire().contiguous(), &expected[..], "{argc} by value");
            }
        }
    }

    #[test]
    fn the_rules_see_the_first_words_however_they_come() {
        let mut tail = Cmd::new();
        tail.push_arg("CLIENT").push_arg("REPLY").push_arg("OFF");
        let mut c = Cmd::new();
        c.append(&tail);
        assert_eq!(c, cmd("CLIENT").arg("REPLY").arg("OFF"));
        assert!(!c.is_shareable());
        // A name of 4 KiB or more is out of line and still the name.
        let long = vec![b'x'; LARGE_ARG];
        let c = cmd("CLIENT").arg(&long[..]);
        assert_eq!(c.args_iter().nth(1), Some(&long[..]));
        assert_eq!(
            cmd(std::str::from_utf8(&long).unwrap()).name().len(),
            LARGE_ARG
        );
    }

    /// A name of 4 KiB or more (kept out of line) is still classified as the
    /// name: an unknown command is shareable, not refused as an empty one.
    #[test]
    fn a_name_kept_out_of_line_is_classified_as_the_name() {
        let long = vec![b'x'; LARGE_ARG];
        let c = cmd(std::str::from_utf8(&long).unwrap()).arg("k");
        assert!(c.is_shareable(), "an unknown name is shareable");
        let mut c = Cmd::new();
        c.write_bytes(&Bytes::from(long));
        assert!(c.is_shareable(), "a shared `Bytes` name too");
        assert!(!Cmd::new().is_shareable(), "only an empty command is not");
    }

    /// Argument sizes around the threshold, and some far from it.
    fn sizes() -> impl Strategy<Value = Vec<(usize, bool)>> {
        let size = prop_oneof![0..8usize, LARGE_ARG - 2..=LARGE_ARG + 2, 0..3 * LARGE_ARG,];
        proptest::collection::vec((size, any::<bool>()), 0..7)
    }

    /// Distinct bytes per argument, CR, LF and `$` among them.
    fn payload(i: usize, size: usize) -> Vec<u8> {
        (0..size).map(|j| (j * 31 + i * 7) as u8).collect()
    }

    /// The plain encoding, as the server reads it.
    fn plain(args: &[Vec<u8>]) -> Vec<u8> {
        let mut buf = BytesMut::new();
        redwire_resp::encode_command(&mut buf, args);
        buf.to_vec()
    }

    proptest! {
        #[test]
        fn small_and_large_arguments_go_out_as_the_plain_encoding(
            sizes in sizes(),
            split in 0..8usize,
        ) {
            let mut args = vec![b"SET".to_vec()];
            args.extend(sizes.iter().enumerate().map(|(i, (n, _))| payload(i, *n)));
            let held: Vec<Bytes> = args.iter().map(|a| Bytes::from(a.clone())).collect();
            // The same arguments as slices (copied), and as `Bytes`
            // (shared when large) where the strategy says so.
            let mut c = Cmd::new();
            let mut shared = Cmd::new();
            for (i, arg) in args.iter().enumerate() {
                c.write_arg(arg);
                if i > 0 && sizes[i - 1].1 {
                    shared.push_arg(&held[i]);
                } else {
                    shared.push_arg(&arg[..]);
                }
            }
            // And in two halves, the tail appended.
            let split = split.min(args.len());
            let mut appended = Cmd::new();
            let mut tail = Cmd::new();
            for arg in &args[..split] {
                appended.write_arg(arg);
            }
            for arg in &args[split..] {
                tail.write_arg(arg);
            }
            appended.append(&tail);

            let expected = plain(&args);
            let any_large = args.iter().any(|a| a.len() >= LARGE_ARG);
            for c in [&c, &shared, &appended] {
                prop_assert_eq!(c.arg_count(), args.len());
                prop_assert!(c.args_iter().eq(args.iter().map(|a| &a[..])));
                prop_assert_eq!(&c.to_bytes()[..], &expected[..]);
                let mut buf = BytesMut::new();
                c.encode(&mut buf);
                prop_assert_eq!(&buf[..], &expected[..]);
                prop_assert_eq!(&c.clone().into_bytes()[..], &expected[..]);
                let by_ref = c.to_wire();
                prop_assert_eq!(matches!(by_ref, Wire::Split(_)), any_large);
                prop_assert_eq!(&by_ref.contiguous()[..], &expected[..]);
                prop_assert_eq!(by_ref.len(), expected.len());
                let by_value = c.clone().into_wire();
                prop_assert_eq!(&by_value.contiguous()[..], &expected[..]);
                prop_assert_eq!(c.clone(), c.clone());
            }
            prop_assert_eq!(&shared, &c);
            prop_assert_eq!(&appended, &c);
            // Large `Bytes` are shared, small ones copied.
            for (i, arg) in shared.args_iter().enumerate().skip(1) {
                let same = arg.as_ptr() == held[i].as_ptr();
                prop_assert_eq!(same, sizes[i - 1].1 && arg.len() >= LARGE_ARG);
            }
            // Another argument makes another command.
            if let Some(last) = args.last() {
                let mut other = args.clone();
                let mut changed = last.clone();
                changed.push(b'!');
                *other.last_mut().unwrap() = changed;
                let mut d = Cmd::new();
                for arg in &other {
                    d.write_arg(arg);
                }
                prop_assert_ne!(&d, &c);
            }

            // In a pipeline, after a small entry, by reference and by value.
            let get = cmd("GET").arg("k");
            let mut p = Pipeline::new();
            p.push(&get).push(&shared).add(c.clone());
            let mut all = get.to_bytes().to_vec();
            all.extend_from_slice(&expected);
            all.extend_from_slice(&expected);
            let (wire, replies) = p.wire();
            prop_assert_eq!(replies, 3);
            prop_assert_eq!(&wire.contiguous()[..], &all[..]);
            prop_assert_eq!(p.entries(), vec![get, c.clone(), c.clone()]);
            // As a transaction.
            p.atomic();
            let (wire, replies) = p.wire();
            prop_assert_eq!(replies, 5);
            let mut tx = b"*1\r\n$5\r\nMULTI\r\n".to_vec();
            tx.extend_from_slice(&all);
            tx.extend_from_slice(b"*1\r\n$4\r\nEXEC\r\n");
            prop_assert_eq!(&wire.contiguous()[..], &tx[..]);
        }
    }
}
