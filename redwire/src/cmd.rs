//! [`Cmd`]: one command, encoded as it is built.
//!
//! A `Cmd` writes each argument as a RESP bulk string into its own buffer the
//! moment it is added (what an argument may be is [`ToArg`], defined here and
//! implemented for the standard types in `args`), so
//! sending it is one copy of finished bytes. Whether a shared connection may
//! carry it is decided here too, from its first words (see [`rules`]).

use crate::connection::Wire;
use crate::error::{Error, Result};
use crate::rules::{self, Rule, Why};
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
#[derive(Clone, PartialEq, Eq)]
pub struct Cmd {
    argc: usize,
    args: BytesMut,
    /// Whether a shared connection may carry it (see [`rules`](crate::rules)).
    pub(crate) rule: Rule,
}

impl Default for Cmd {
    fn default() -> Self {
        // Room for the header and a typical command, so that adding
        // arguments does not reallocate.
        let mut args = BytesMut::with_capacity(HEADER + 72);
        args.put_bytes(0, HEADER);
        Cmd {
            argc: 0,
            args,
            rule: Rule::Empty,
        }
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
    /// one): a command's tail built apart.
    pub(crate) fn append(&mut self, other: &Cmd) {
        if self.argc < 2 {
            // Keep the rules' view of the first words.
            for arg in other.args_iter() {
                self.write_arg(arg);
            }
            return;
        }
        self.args.extend_from_slice(&other.args[HEADER..]);
        self.argc += other.argc;
    }

    /// Adds one raw argument; what every [`ToArg`] implementation ends in.
    ///
    /// ```
    /// let mut c = redwire::cmd("GET");
    /// c.write_arg(b"key");
    /// assert_eq!(c.arg_count(), 2);
    /// ```
    pub fn write_arg(&mut self, bytes: &[u8]) {
        if self.argc < 2 {
            self.classify(bytes);
        }
        redwire_resp::encode_bulk(&mut self.args, bytes);
        self.argc += 1;
    }

    /// Applies the rules to the name, and to the subcommand of `CLIENT`.
    #[inline]
    fn classify(&mut self, arg: &[u8]) {
        if self.argc == 0 {
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

    /// Writes the whole command (array header and arguments) to `buf`.
    pub fn encode(&self, buf: &mut BytesMut) {
        buf.reserve(self.args.len());
        redwire_resp::encode_array_header(buf, self.argc);
        buf.put_slice(&self.args[HEADER..]);
    }

    /// The command as it goes on the wire (a copy; see
    /// [`into_bytes`](Self::into_bytes)).
    pub fn to_bytes(&self) -> Bytes {
        let mut header = [0u8; HEADER];
        let header = self.header(&mut header);
        // Exactly as large as the command: a full buffer becomes `Bytes`
        // without the extra shared header a partly used one needs.
        let mut buf = Vec::with_capacity(header.len() + self.args.len() - HEADER);
        buf.extend_from_slice(header);
        buf.extend_from_slice(&self.args[HEADER..]);
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
    /// allocation), else a copy of its bytes.
    #[inline]
    pub(crate) fn to_wire(&self) -> Wire {
        self.inline_wire()
            .unwrap_or_else(|| Wire::Shared(self.to_bytes()))
    }

    /// The request of a command handed over by value: inline when small,
    /// else its own buffer (no copy).
    #[inline]
    pub(crate) fn into_wire(self) -> Wire {
        match self.inline_wire() {
            Some(wire) => wire,
            None => Wire::Shared(self.into_bytes()),
        }
    }

    /// The command as an inline request, if it fits.
    #[inline]
    fn inline_wire(&self) -> Option<Wire> {
        let mut header = [0u8; HEADER];
        let header = self.header(&mut header);
        Wire::inline(&[header, &self.args[HEADER..]])
    }

    /// The command as it goes on the wire, in its own buffer: the header is
    /// written into the room kept for it, nothing is copied.
    ///
    /// ```
    /// let c = redwire::cmd("GET").arg("k");
    /// assert_eq!(c.clone().into_bytes(), c.to_bytes());
    /// assert_eq!(c.into_bytes(), &b"*2\r\n$3\r\nGET\r\n$1\r\nk\r\n"[..]);
    /// ```
    pub fn into_bytes(mut self) -> Bytes {
        let mut header = [0u8; HEADER];
        let header = self.header(&mut header);
        let start = HEADER - header.len();
        self.args[start..HEADER].copy_from_slice(header);
        bytes::Buf::advance(&mut self.args, start);
        self.args.freeze()
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
    pub fn args_iter(&self) -> impl Iterator<Item = &[u8]> {
        let mut rest: &[u8] = &self.args[HEADER..];
        std::iter::from_fn(move || {
            // Each argument is `$<len>\r\n<bytes>\r\n`, written by `write_arg`.
            let digits_end = rest.iter().position(|&b| b == b'\r')?;
            let len: usize = std::str::from_utf8(&rest[1..digits_end])
                .ok()?
                .parse()
                .ok()?;
            let start = digits_end + 2;
            let arg = &rest[start..start + len];
            rest = &rest[start + len + 2..];
            Some(arg)
        })
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
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_large_command_handed_over_is_not_copied_and_a_small_one_is_inline() {
        let c = cmd("SET").arg("k").arg(vec![7u8; 100_000]);
        let value = c.args_iter().nth(2).unwrap().as_ptr() as usize;
        let expected = c.to_bytes();
        let Wire::Shared(b) = c.into_wire() else {
            panic!("a large command is not inline")
        };
        assert_eq!(b, expected);
        let start = b.as_ptr() as usize;
        assert!(
            (start..start + b.len()).contains(&value),
            "the request is the command's own buffer"
        );
        let c = cmd("GET").arg("k");
        assert!(matches!(c.to_wire(), Wire::Inline { .. }));
        assert_eq!(c.to_wire().as_slice(), &c.to_bytes()[..]);
        assert_eq!(c.clone().into_wire().as_slice(), &c.to_bytes()[..]);
    }
}
