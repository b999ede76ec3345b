//! One error type for everything that can go wrong, with a kind a caller can
//! match on. Errors are values: a server error reply is an `Error` like any other.
//!
//! Errors are cheap to clone (a disconnect fails every request in flight with the
//! same cause) and never carry a password: configuration is redacted before it can
//! reach a message.

use bytes::Bytes;
use std::fmt;
use std::sync::Arc;

/// What kind of failure an [`Error`] is.
///
/// ```
/// use redwire::{Error, ErrorKind};
///
/// fn retry_worthy(err: &Error) -> bool {
///     match err.kind() {
///         ErrorKind::ConnectionLost => !err.may_have_executed(),
///         ErrorKind::NotConnected | ErrorKind::Timeout => true,
///         _ => false,
///     }
/// }
/// # let _ = retry_worthy;
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The server answered with an error reply; see [`Error::code`].
    Server,
    /// An I/O failure: connection refused, unknown host, reset.
    Io,
    /// The server sent bytes that are not valid RESP, or a reply nobody asked for.
    Protocol,
    /// The deadline passed before the reply arrived.
    Timeout,
    /// The connection dropped while the request was queued or in flight; see
    /// [`Error::may_have_executed`].
    ConnectionLost,
    /// The client is not connected and was configured to fail fast.
    NotConnected,
    /// The client is closed: every handle was dropped, or it gave up reconnecting.
    Closed,
    /// The configuration or URL is invalid.
    Config,
    /// The TLS handshake or certificate verification failed.
    Tls,
    /// A reply could not be converted into the requested Rust type.
    Type,
    /// The request cannot be sent this way, such as `SUBSCRIBE` or `MONITOR` on
    /// a shared connection, whose replies would be a stream, not one reply.
    Unsupported,
}

/// The error of every redwire operation.
///
/// ```
/// use redwire::{Error, ErrorKind};
///
/// let err = Error::server("WRONGTYPE Operation against a key holding the wrong kind of value");
/// assert_eq!(err.kind(), ErrorKind::Server);
/// assert_eq!(err.code(), Some("WRONGTYPE"));
/// ```
#[derive(Clone)]
pub struct Error {
    inner: Arc<Inner>,
}

struct Inner {
    kind: ErrorKind,
    message: String,
    may_have_executed: bool,
    source: Option<Arc<dyn std::error::Error + Send + Sync>>,
}

impl Error {
    pub(crate) fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error {
            inner: Arc::new(Inner {
                kind,
                message: message.into(),
                may_have_executed: false,
                source: None,
            }),
        }
    }

    pub(crate) fn with_source(
        kind: ErrorKind,
        message: impl Into<String>,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        Error {
            inner: Arc::new(Inner {
                kind,
                message: message.into(),
                may_have_executed: false,
                source: Some(Arc::new(source)),
            }),
        }
    }

    /// A server error reply (`-ERR ...`, `-WRONGTYPE ...`, a bulk error).
    pub fn server(message: impl Into<String>) -> Self {
        Error::new(ErrorKind::Server, message)
    }

    pub(crate) fn server_bytes(message: &Bytes) -> Self {
        Error::server(String::from_utf8_lossy(message))
    }

    pub(crate) fn io(context: impl fmt::Display, err: std::io::Error) -> Self {
        Error::with_source(ErrorKind::Io, format!("{context}: {err}"), err)
    }

    pub(crate) fn config(message: impl Into<String>) -> Self {
        Error::new(ErrorKind::Config, message)
    }

    pub(crate) fn protocol(message: impl Into<String>) -> Self {
        Error::new(ErrorKind::Protocol, message)
    }

    pub(crate) fn type_error(message: impl Into<String>) -> Self {
        Error::new(ErrorKind::Type, message)
    }

    /// A command that a shared connection refuses (see [`crate::rules`]).
    pub(crate) fn refused(name: &str, why: crate::rules::Why) -> Self {
        Error::new(
            ErrorKind::Unsupported,
            format!(
                "{name} cannot be sent on a shared client: {}",
                why.explain()
            ),
        )
    }

    pub(crate) fn closed(reason: impl fmt::Display) -> Self {
        Error::new(ErrorKind::Closed, format!("the client is closed: {reason}"))
    }

    /// The connection dropped; `written` says whether the request had been sent.
    pub(crate) fn connection_lost(cause: &Error, written: bool) -> Self {
        let message = if written {
            format!("connection lost after the request was sent, so it may have executed: {cause}")
        } else {
            format!("connection lost before the request was sent: {cause}")
        };
        Error {
            inner: Arc::new(Inner {
                kind: ErrorKind::ConnectionLost,
                message,
                may_have_executed: written,
                source: Some(Arc::new(cause.clone())),
            }),
        }
    }

    /// What kind of failure this is.
    pub fn kind(&self) -> ErrorKind {
        self.inner.kind
    }

    /// For a server error, its code: the first word of the reply, such as
    /// `ERR`, `WRONGTYPE`, `MOVED`, `NOSCRIPT` or `WRONGPASS`.
    ///
    /// ```
    /// let err = redwire::Error::server("MOVED 3999 127.0.0.1:6381");
    /// assert_eq!(err.code(), Some("MOVED"));
    /// ```
    pub fn code(&self) -> Option<&str> {
        if self.inner.kind != ErrorKind::Server {
            return None;
        }
        let word = self.inner.message.split(' ').next()?;
        (!word.is_empty() && word.bytes().all(|b| b.is_ascii_uppercase() || b == b'_'))
            .then_some(word)
    }

    /// The full message, for a server error the reply text itself.
    pub fn message(&self) -> &str {
        &self.inner.message
    }

    /// True when the request reached the socket before the connection was lost:
    /// the server may have executed it, so it is not sent again by redwire.
    ///
    /// ```
    /// let err = redwire::Error::server("ERR x");
    /// assert!(!err.may_have_executed());
    /// ```
    pub fn may_have_executed(&self) -> bool {
        self.inner.may_have_executed
    }

    pub(crate) fn is_auth_failure(&self) -> bool {
        matches!(self.code(), Some("WRONGPASS" | "NOAUTH" | "NOPERM"))
            || (self.kind() == ErrorKind::Server && self.message().contains("invalid password"))
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.inner.kind {
            ErrorKind::Server => write!(f, "server error: {}", self.inner.message),
            _ => f.write_str(&self.inner.message),
        }
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Error")
            .field("kind", &self.inner.kind)
            .field("message", &self.inner.message)
            .field("may_have_executed", &self.inner.may_have_executed)
            .finish()
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.inner
            .source
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}

impl From<redwire_resp::DecodeError> for Error {
    fn from(err: redwire_resp::DecodeError) -> Self {
        Error::with_source(
            ErrorKind::Protocol,
            format!("malformed reply from the server: {err}"),
            err,
        )
    }
}

/// `Result<T, redwire::Error>`.
pub type Result<T, E = Error> = std::result::Result<T, E>;
