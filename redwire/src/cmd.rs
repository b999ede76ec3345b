//! Commands and pipelines, encoded as they are built.
//!
//! A [`Cmd`] writes each argument as a RESP bulk string into its own buffer the
//! moment it is added, so sending it is one copy of finished bytes; a
//! [`Pipeline`] is the same for many commands, written contiguously.

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
    // Room for a typical command, so that adding arguments does not reallocate.
    let mut c = Cmd {
        argc: 0,
        args: BytesMut::with_capacity(64),
        rule: Rule::Empty,
    };
    c.write_arg(name.as_bytes());
    c
}

/// One Redis command: a name and its arguments, already encoded.
///
/// ```
/// use redwire::Cmd;
///
/// let mut c = Cmd::new();
/// c.push_arg("INCRBY").push_arg("counter").push_arg(5u32);
/// assert_eq!(c.to_bytes(), &b"*3\r\n$6\r\nINCRBY\r\n$7\r\ncounter\r\n$1\r\n5\r\n"[..]);
/// ```
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Cmd {
    argc: usize,
    args: BytesMut,
    /// Whether a shared connection may carry it (see [`rules`](crate::rules)).
    rule: Rule,
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
        let why = match self.rule {
            Rule::Shared | Rule::Client => return Ok(()),
            Rule::PipelineOnly if in_pipeline => return Ok(()),
            Rule::PipelineOnly => Why::Asking,
            Rule::Empty => Why::NoReply,
            Rule::Refused(why) => why,
        };
        Err(Error::refused(&self.display_name(), why))
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
        buf.reserve(self.args.len() + 16);
        redwire_resp::encode_array_header(buf, self.argc);
        buf.put_slice(&self.args);
    }

    /// The command as it goes on the wire.
    pub fn to_bytes(&self) -> Bytes {
        let mut buf = BytesMut::with_capacity(self.args.len() + 16);
        self.encode(&mut buf);
        buf.freeze()
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
        let mut rest: &[u8] = &self.args;
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

/// A value usable as command arguments.
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
pub trait ToArg {
    /// Writes this value as zero or more arguments.
    fn write_args(&self, cmd: &mut Cmd);
}

impl<T: ToArg + ?Sized> ToArg for &T {
    fn write_args(&self, cmd: &mut Cmd) {
        (**self).write_args(cmd)
    }
}

impl ToArg for str {
    fn write_args(&self, cmd: &mut Cmd) {
        cmd.write_arg(self.as_bytes())
    }
}

impl ToArg for String {
    fn write_args(&self, cmd: &mut Cmd) {
        cmd.write_arg(self.as_bytes())
    }
}

impl ToArg for [u8] {
    fn write_args(&self, cmd: &mut Cmd) {
        cmd.write_arg(self)
    }
}

impl<const N: usize> ToArg for [u8; N] {
    fn write_args(&self, cmd: &mut Cmd) {
        cmd.write_arg(self)
    }
}

impl ToArg for Vec<u8> {
    fn write_args(&self, cmd: &mut Cmd) {
        cmd.write_arg(self)
    }
}

impl ToArg for Bytes {
    fn write_args(&self, cmd: &mut Cmd) {
        cmd.write_arg(self)
    }
}

macro_rules! to_arg_int {
    ($($t:ty),*) => {$(
        impl ToArg for $t {
            fn write_args(&self, cmd: &mut Cmd) {
                cmd.write_arg(itoa::Buffer::new().format(*self).as_bytes())
            }
        }
    )*};
}
// Not `u8`: a byte slice or `Vec<u8>` is one binary argument, not a list of numbers.
to_arg_int!(i8, i16, i32, i64, i128, isize, u16, u32, u64, u128, usize);

macro_rules! to_arg_float {
    ($($t:ty),*) => {$(
        impl ToArg for $t {
            fn write_args(&self, cmd: &mut Cmd) {
                // Redis reads `inf`, `-inf` and plain decimals.
                let text = if self.is_infinite() {
                    if *self > 0.0 { "inf".to_string() } else { "-inf".to_string() }
                } else {
                    self.to_string()
                };
                cmd.write_arg(text.as_bytes())
            }
        }
    )*};
}
to_arg_float!(f32, f64);

impl ToArg for bool {
    fn write_args(&self, cmd: &mut Cmd) {
        cmd.write_arg(if *self { b"1" } else { b"0" })
    }
}

/// A slice or `Vec` adds each element as an argument (`DEL k1 k2 k3`).
impl<T: ToArg> ToArg for [T] {
    fn write_args(&self, cmd: &mut Cmd) {
        for item in self {
            item.write_args(cmd)
        }
    }
}

impl<T: ToArg> ToArg for Vec<T> {
    fn write_args(&self, cmd: &mut Cmd) {
        self.as_slice().write_args(cmd)
    }
}

impl<T: ToArg> ToArg for Option<T> {
    fn write_args(&self, cmd: &mut Cmd) {
        if let Some(v) = self {
            v.write_args(cmd)
        }
    }
}

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
#[derive(Clone, Default, Debug)]
pub struct Pipeline {
    buf: BytesMut,
    count: usize,
    atomic: bool,
    /// The first entry a shared connection refuses, and why.
    refused: Option<Error>,
    /// The last entry is `ASKING`, which would apply to another caller's command.
    ends_with_asking: bool,
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
        cmd.encode(&mut self.buf);
        self.count += 1;
        if self.refused.is_none() {
            self.refused = cmd.check_shared(true).err();
        }
        self.ends_with_asking = cmd.rule == Rule::PipelineOnly;
        self
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

    /// The bytes to write and the number of replies they produce.
    pub(crate) fn wire(&self) -> (Bytes, usize) {
        if !self.atomic {
            return (Bytes::copy_from_slice(&self.buf), self.count);
        }
        let mut out = BytesMut::with_capacity(self.buf.len() + 40);
        out.put_slice(b"*1\r\n$5\r\nMULTI\r\n");
        out.put_slice(&self.buf);
        out.put_slice(b"*1\r\n$4\r\nEXEC\r\n");
        (out.freeze(), self.count + 2)
    }
}
