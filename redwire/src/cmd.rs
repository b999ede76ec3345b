//! Commands and pipelines, encoded as they are built.
//!
//! A [`Cmd`] writes each argument as a RESP bulk string into its own buffer the
//! moment it is added, so sending it is one copy of finished bytes; a
//! [`Pipeline`] is the same for many commands, written contiguously.

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
        streaming: false,
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
    /// The command turns the connection into a stream of messages.
    streaming: bool,
}

/// Commands after which the server sends a stream of messages instead of one
/// reply per request; they cannot share a multiplexed connection.
const STREAMING: [&str; 6] = [
    "SUBSCRIBE",
    "PSUBSCRIBE",
    "SSUBSCRIBE",
    "MONITOR",
    "SYNC",
    "PSYNC",
];

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
        if self.argc == 0 {
            self.streaming = STREAMING
                .iter()
                .any(|s| s.as_bytes().eq_ignore_ascii_case(bytes));
        }
        redwire_resp::encode_bulk(&mut self.args, bytes);
        self.argc += 1;
    }

    /// True for commands that turn a connection into a stream of messages
    /// (`SUBSCRIBE`, `MONITOR`...): a shared client refuses them.
    ///
    /// ```
    /// assert!(redwire::cmd("monitor").is_streaming());
    /// assert!(!redwire::cmd("GET").arg("k").is_streaming());
    /// ```
    pub fn is_streaming(&self) -> bool {
        self.streaming
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
    streaming: bool,
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
        self.streaming |= cmd.is_streaming();
        self
    }

    /// True if any command is one a shared client refuses ([`Cmd::is_streaming`]).
    pub fn is_streaming(&self) -> bool {
        self.streaming
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
