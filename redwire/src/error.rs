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
/// /// Worth sending again: the connection failed, not the command, and the
/// /// request may only be repeated if it is idempotent or certainly did not run.
/// fn retry_worthy(err: &Error, idempotent: bool) -> bool {
///     let connection_trouble = matches!(
///         err.kind(),
///         ErrorKind::ConnectionLost | ErrorKind::Timeout | ErrorKind::Io | ErrorKind::NotConnected
///     );
///     connection_trouble && (idempotent || !err.may_have_executed())
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
    /// The caller's deadline passed, the server stopped answering (the
    /// response timeout), or connecting took too long.
    Timeout,
    /// The connection dropped (closed by the server, reset, broken pipe) while
    /// the request was in flight; see [`Error::may_have_executed`].
    ConnectionLost,
    /// The client is not connected and fails fast: the request was not sent.
    NotConnected,
    /// The client is closed: every handle was dropped, or it gave up reconnecting.
    Closed,
    /// The configuration or URL is invalid.
    Config,
    /// The TLS handshake or certificate verification failed.
    Tls,
    /// A reply could not be converted into the requested Rust type.
    Type,
    /// A transaction did not run because a key it `WATCH`ed changed (`EXEC`
    /// answered nil), or kept changing for every attempt of
    /// [`Connection::transaction`](crate::Connection::transaction).
    Aborted,
    /// The request cannot be sent this way: a command a shared connection
    /// refuses (`MULTI`, `SUBSCRIBE`, `SELECT`…; see [`rules`](crate::rules)),
    /// whose message says where it belongs.
    Unsupported,
    /// A cluster could not serve the request, for a reason of the cluster's
    /// own that no single server reported: no node serves the slot (a
    /// failover is under way), or the request was redirected more times than
    /// allowed. [`Error::cluster_reason`] says which.
    Cluster,
}

/// Why a cluster did not serve a request: read from a server's redirection
/// or refusal (`MOVED`, `ASK`, `TRYAGAIN`, `CLUSTERDOWN`, `CROSSSLOT`, of kind
/// [`ErrorKind::Server`]) or decided by the cluster client
/// ([`NoOwner`](Self::NoOwner), [`TooManyRedirects`](Self::TooManyRedirects),
/// of kind [`ErrorKind::Cluster`]). A deadline that passed while the client
/// waited for one of them carries it too (of kind [`ErrorKind::Timeout`]).
///
/// ```
/// use redwire::{ClusterReason, Error};
/// let err = Error::server("MOVED 3999 127.0.0.1:6381");
/// assert_eq!(
///     err.cluster_reason(),
///     Some(ClusterReason::Moved { slot: 3999, to: "127.0.0.1:6381".into() })
/// );
/// assert_eq!(Error::server("TRYAGAIN later").cluster_reason(), Some(ClusterReason::TryAgain));
/// assert_eq!(Error::server("ERR nope").cluster_reason(), None);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ClusterReason {
    /// The slot lives on another node now (`MOVED`).
    Moved {
        /// The slot.
        slot: u16,
        /// Its new owner, `host:port`.
        to: String,
    },
    /// The slot is being migrated and this key already left (`ASK`).
    Ask {
        /// The slot.
        slot: u16,
        /// Where the key is now, `host:port`.
        to: String,
    },
    /// A multi-key command during a migration of its slot (`TRYAGAIN`).
    TryAgain,
    /// The cluster does not serve (`CLUSTERDOWN`).
    ClusterDown,
    /// The keys of one command hash to different slots (`CROSSSLOT`).
    CrossSlot,
    /// No node serves the slot by the client's map, read again to no avail
    /// (a primary failed and no replica has taken over yet).
    NoOwner {
        /// The slot; `None` for a command without keys when the map has no
        /// primary at all.
        slot: Option<u16>,
    },
    /// The request was redirected more times than allowed: the cluster keeps
    /// moving its slot.
    TooManyRedirects,
}

/// The error of every redwire operation.
///
/// Which kind a caller sees, and when:
///
/// | what happened | [`kind`](Error::kind) | [`may_have_executed`](Error::may_have_executed) |
/// |---|---|---|
/// | the server answered with an error reply (`WRONGTYPE`, `MOVED`…) | `Server`, with [`code`](Error::code) | false |
/// | the command cannot be sent on a shared client (`MULTI`, `SUBSCRIBE`, `SELECT`…) | `Unsupported` | false |
/// | the request was sent, then the server closed or reset the connection | `ConnectionLost` | true |
/// | the request was sent, then nothing at all came back for the response timeout | `Timeout` | true |
/// | the request was sent, then the server sent bytes that are not RESP, a reply over the [limits](crate::resp::Limits), or a reply nobody asked for | `Protocol` | true |
/// | the request was sent, then another socket error | `Io` | true |
/// | the caller's deadline (`command_timeout`, `send_timeout`) passed | `Timeout` | true (it may have been sent) |
/// | the client fails fast and is not connected | `NotConnected` | false |
/// | the client was closed (every handle dropped, `close`, attempts ran out) | `Closed` | false; true for a request cut off by `close`'s grace after it was sent |
/// | connecting failed: refused, unknown host / no reply in time / TLS / wrong password | `Io` / `Timeout` / `Tls` / `Server` (`WRONGPASS`) | false |
/// | the configuration or URL is invalid | `Config` | false |
/// | a reply could not be converted into the asked-for type | `Type` | false |
/// | a `WATCH`ed key changed, so `EXEC` did not run the transaction | `Aborted` | false |
/// | a cluster: no node serves the slot (fail-fast, or retries ran out without a deadline), or too many redirections | `Cluster`, with [`cluster_reason`](Error::cluster_reason) | false |
/// | a cluster: the deadline passed while waiting for a node to serve the slot | `Timeout`, with [`cluster_reason`](Error::cluster_reason) | false, true if it was in a node's hands |
///
/// "Sent" counts a pipeline cut off after some of its commands reached the
/// socket whole (outside `MULTI`): those may have run.
///
/// A request not yet written when the connection drops is not an error: it is
/// sent after the reconnect; so is one cut off before any of it could run
/// (a single command, a transaction before its `EXEC`).
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
    /// A reason the cluster client decided (not read from a server's reply).
    cluster: Option<ClusterReason>,
}

impl Error {
    pub(crate) fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error {
            inner: Arc::new(Inner {
                kind,
                message: message.into(),
                may_have_executed: false,
                source: None,
                cluster: None,
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
                cluster: None,
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
        Error::refused_on(name, why, "a shared client")
    }

    /// A command that a connection of some kind (`place`) refuses.
    pub(crate) fn refused_on(name: &str, why: crate::rules::Why, place: &str) -> Self {
        Error::new(
            ErrorKind::Unsupported,
            format!("{name} cannot be sent on {place}: {}", why.explain()),
        )
    }

    pub(crate) fn closed(reason: impl fmt::Display) -> Self {
        Error::new(ErrorKind::Closed, format!("the client is closed: {reason}"))
    }

    /// A request cut off by `cause` (the connection dropped, the server stopped
    /// answering, a malformed reply, the client closing). `written`: its bytes
    /// had all reached the socket, so it may have run; it then fails with the
    /// cause's kind. Unwritten, it failed because the client fails fast.
    pub(crate) fn connection_lost(cause: &Error, written: bool) -> Self {
        let (kind, message) = if written {
            (
                cause.kind(),
                format!("the request was sent but its reply did not come, so it may have executed: {cause}"),
            )
        } else if cause.kind() == ErrorKind::Closed {
            (ErrorKind::Closed, cause.message().to_owned())
        } else {
            (
                ErrorKind::NotConnected,
                format!("connection lost before the request was sent (fail-fast is on): {cause}"),
            )
        };
        Error {
            inner: Arc::new(Inner {
                kind,
                message,
                may_have_executed: written,
                source: Some(Arc::new(cause.clone())),
                cluster: None,
            }),
        }
    }

    /// A failure on an open socket: a reset, an abort or a broken pipe is a
    /// lost connection, anything else an I/O error.
    pub(crate) fn socket(context: &str, err: std::io::Error) -> Self {
        use std::io::ErrorKind as Io;
        let kind = match err.kind() {
            Io::ConnectionReset
            | Io::ConnectionAborted
            | Io::BrokenPipe
            | Io::UnexpectedEof
            | Io::NotConnected => ErrorKind::ConnectionLost,
            _ => ErrorKind::Io,
        };
        Error::with_source(kind, format!("{context}: {err}"), err)
    }

    /// The caller's own deadline passed. The request may have been written
    /// before it did, so it may have executed.
    pub(crate) fn deadline(message: String) -> Self {
        Error {
            inner: Arc::new(Inner {
                kind: ErrorKind::Timeout,
                message,
                may_have_executed: true,
                source: None,
                cluster: None,
            }),
        }
    }

    /// A cluster's own failure (kind [`ErrorKind::Cluster`]).
    pub(crate) fn cluster(reason: ClusterReason, message: impl Into<String>) -> Self {
        Error {
            inner: Arc::new(Inner {
                kind: ErrorKind::Cluster,
                message: message.into(),
                may_have_executed: false,
                source: None,
                cluster: Some(reason),
            }),
        }
    }

    /// A cluster request's deadline passed: `waiting_for` what (a node for
    /// its slot…), `sent`: while it was in a node's hands, so it may have run.
    pub(crate) fn cluster_deadline(
        message: String,
        sent: bool,
        waiting_for: Option<ClusterReason>,
        last: Option<Error>,
    ) -> Self {
        Error {
            inner: Arc::new(Inner {
                kind: ErrorKind::Timeout,
                message,
                may_have_executed: sent,
                source: last.map(|e| Arc::new(e) as Arc<dyn std::error::Error + Send + Sync>),
                cluster: waiting_for,
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

    /// True when the request may have run on the server although no reply came
    /// back: its bytes reached the socket before the connection failed, or the
    /// caller's deadline passed after it may have been written. redwire never
    /// sends such a request again (a replayed `INCR` would count twice); whether
    /// to retry is the caller's decision. Available on every kind.
    ///
    /// ```
    /// let err = redwire::Error::server("ERR x");
    /// assert!(!err.may_have_executed());
    /// ```
    pub fn may_have_executed(&self) -> bool {
        self.inner.may_have_executed
    }

    /// Why a cluster did not serve the request, when that is what this error
    /// is: a redirection or refusal a node answered (`MOVED`, `ASK`,
    /// `TRYAGAIN`, `CLUSTERDOWN`, `CROSSSLOT`), or the cluster client's own
    /// verdict (no node serves the slot, too many redirections), also when a
    /// deadline passed while waiting on it.
    ///
    /// ```
    /// use redwire::{ClusterReason, Error, ErrorKind};
    /// # fn demo(err: Error) {
    /// match err.cluster_reason() {
    ///     Some(ClusterReason::NoOwner { slot: Some(slot) }) => eprintln!("slot {slot} has no primary yet"),
    ///     Some(other) => eprintln!("the cluster said no: {other:?}"),
    ///     None => eprintln!("{err}"),
    /// }
    /// # }
    /// ```
    pub fn cluster_reason(&self) -> Option<ClusterReason> {
        if let Some(reason) = &self.inner.cluster {
            return Some(reason.clone());
        }
        let code = self.code()?;
        let redirection = || {
            let mut words = self.inner.message.split_whitespace().skip(1);
            let slot = words.next()?.parse().ok()?;
            Some((slot, words.next()?.to_string()))
        };
        match code {
            "MOVED" => redirection().map(|(slot, to)| ClusterReason::Moved { slot, to }),
            "ASK" => redirection().map(|(slot, to)| ClusterReason::Ask { slot, to }),
            "TRYAGAIN" => Some(ClusterReason::TryAgain),
            "CLUSTERDOWN" => Some(ClusterReason::ClusterDown),
            "CROSSSLOT" => Some(ClusterReason::CrossSlot),
            _ => None,
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cluster_reasons_are_read_from_replies_and_kept_from_the_router() {
        let reason = |m: &str| Error::server(m).cluster_reason();
        assert_eq!(
            reason("ASK 12 10.0.0.1:7000"),
            Some(ClusterReason::Ask {
                slot: 12,
                to: "10.0.0.1:7000".into()
            })
        );
        assert_eq!(
            reason("CLUSTERDOWN The cluster is down"),
            Some(ClusterReason::ClusterDown)
        );
        assert_eq!(
            reason("CROSSSLOT Keys in request don't hash to the same slot"),
            Some(ClusterReason::CrossSlot)
        );
        // A redirection that cannot be read is no redirection.
        assert_eq!(reason("MOVED x 10.0.0.1:7000"), None);
        assert_eq!(reason("MOVED 12"), None);
        // Not a server error: the text does not count.
        assert_eq!(Error::protocol("MOVED 1 a:1").cluster_reason(), None);
        let hole = Error::cluster(ClusterReason::NoOwner { slot: Some(7) }, "no owner");
        assert_eq!(hole.kind(), ErrorKind::Cluster);
        assert_eq!(
            hole.cluster_reason(),
            Some(ClusterReason::NoOwner { slot: Some(7) })
        );
        let late = Error::cluster_deadline(
            "late".into(),
            false,
            Some(ClusterReason::TryAgain),
            Some(Error::server("TRYAGAIN x")),
        );
        assert_eq!(late.kind(), ErrorKind::Timeout);
        assert!(!late.may_have_executed());
        assert_eq!(late.cluster_reason(), Some(ClusterReason::TryAgain));
        assert!(std::error::Error::source(&late).is_some());
        let sent = Error::cluster_deadline("late".into(), true, None, None);
        assert!(sent.may_have_executed() && sent.cluster_reason().is_none());
    }
}
