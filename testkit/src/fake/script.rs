//! What a [`FakeServer`](super::FakeServer) script sees ([`Request`]) and what it
//! can do in reply ([`Action`]).

use bytes::Bytes;
use redwire_resp::Frame;
use std::time::Duration;

/// One command a client sent to a [`FakeServer`](super::FakeServer).
///
/// ```
/// use redwire_testkit::Request;
///
/// let req = Request::new(0, "get", ["key"]);
/// assert_eq!(req.name, "GET");
/// assert_eq!(req.arg_str(0), Some("key"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// Which connection it came on: 0 for the first one accepted, then 1, 2...
    pub connection: usize,
    /// The command name, uppercased (`"GET"`, `"HELLO"`).
    pub name: String,
    /// The arguments after the name, as sent.
    pub args: Vec<Bytes>,
}

impl Request {
    /// Builds a request by hand, mostly to test a handler without a server.
    ///
    /// ```
    /// let req = redwire_testkit::Request::new(3, "set", ["k", "v"]);
    /// assert_eq!((req.connection, req.args.len()), (3, 2));
    /// ```
    pub fn new<I, A>(connection: usize, name: &str, args: I) -> Request
    where
        I: IntoIterator<Item = A>,
        A: AsRef<[u8]>,
    {
        Request {
            connection,
            name: name.to_ascii_uppercase(),
            args: args
                .into_iter()
                .map(|a| Bytes::copy_from_slice(a.as_ref()))
                .collect(),
        }
    }

    /// Argument `i` as UTF-8, or `None` if it is missing or not UTF-8.
    ///
    /// ```
    /// let req = redwire_testkit::Request::new(0, "SET", ["k", "v"]);
    /// assert_eq!(req.arg_str(1), Some("v"));
    /// assert_eq!(req.arg_str(2), None);
    /// ```
    pub fn arg_str(&self, i: usize) -> Option<&str> {
        std::str::from_utf8(self.args.get(i)?).ok()
    }

    /// True when the command is `name` (case-insensitive).
    ///
    /// ```
    /// assert!(redwire_testkit::Request::new(0, "ping", ["hi"]).is("PING"));
    /// ```
    pub fn is(&self, name: &str) -> bool {
        self.name.eq_ignore_ascii_case(name)
    }

    /// Decodes a command frame: an array of bulk (or simple) strings.
    pub(crate) fn from_frame(connection: usize, frame: Frame) -> Option<Request> {
        let Frame::Array(items) = frame else {
            return None;
        };
        let mut parts = items.into_iter().map(|item| match item {
            Frame::Bulk(b) | Frame::Simple(b) => Some(b),
            _ => None,
        });
        let name = parts.next()??;
        Some(Request {
            connection,
            name: String::from_utf8_lossy(&name).to_ascii_uppercase(),
            args: parts.collect::<Option<Vec<_>>>()?,
        })
    }
}

/// One step of a [`FakeServer`](super::FakeServer)'s answer to a request; a
/// handler returns them in order.
///
/// ```
/// use redwire_testkit::{Action, Frame};
/// use std::time::Duration;
///
/// let answer = vec![
///     Action::Sleep(Duration::from_millis(10)),
///     Action::send("$5\r\nhel"), // half a frame...
///     Action::Close,             // ...then the connection goes
/// ];
/// let ok = Action::Frame(Frame::Simple("OK".into()));
/// # let _ = (answer, ok);
/// ```
#[derive(Debug, Clone)]
pub enum Action {
    /// Writes these bytes exactly as given; nothing checks they are valid RESP.
    Send(Bytes),
    /// Writes this frame, encoded.
    Frame(Frame),
    /// Closes the connection politely (FIN); nothing more is read or written.
    Close,
    /// Closes the connection with a TCP reset (RST).
    Reset,
    /// Waits this long before the next action (other connections go on).
    Sleep(Duration),
    /// Never answers this or any later request on this connection; the
    /// connection stays open and what arrives is still read and logged.
    Hang,
}

impl Action {
    /// [`Action::Send`] of a copy of `bytes`.
    ///
    /// ```
    /// let action = redwire_testkit::Action::send(b"+OK\r\n");
    /// ```
    pub fn send(bytes: impl AsRef<[u8]>) -> Action {
        Action::Send(Bytes::copy_from_slice(bytes.as_ref()))
    }

    /// `+OK`.
    ///
    /// ```
    /// let action = redwire_testkit::Action::ok();
    /// ```
    pub fn ok() -> Action {
        Action::Frame(Frame::Simple(Bytes::from_static(b"OK")))
    }

    /// A simple error reply, such as `Action::error("ERR nope")`.
    ///
    /// ```
    /// let action = redwire_testkit::Action::error("WRONGTYPE Operation against a key");
    /// ```
    pub fn error(message: &str) -> Action {
        Action::Frame(Frame::Error(Bytes::copy_from_slice(message.as_bytes())))
    }
}
