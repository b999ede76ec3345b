//! What a caller did and how it ended ([`Op`], [`Outcome`]), as every
//! workload records it and every oracle reads it; and how long past its
//! deadline a call may run before it counts as hung.

use redwire::{ErrorKind, Value};
use std::fmt;
use std::time::Duration;

/// How long past its deadline a call may run before it counts as hung.
pub const HANG_GRACE: Duration = Duration::from_secs(2);

/// What a caller asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `SET k:<caller> <caller>:<seq> GET`.
    SetGet,
    /// `INCR c:<caller>`.
    Incr,
    /// `GET k:<caller>`.
    Get,
}

/// How a call ended.
#[derive(Debug, Clone)]
pub enum Outcome {
    /// A reply.
    Ok(Value),
    /// An error, its kind and whether it may have executed.
    Err {
        /// The error's kind.
        kind: ErrorKind,
        /// `Error::may_have_executed`.
        may_have_executed: bool,
        /// Its message.
        message: String,
    },
    /// The caller dropped the future.
    Cancelled,
    /// Nothing came back long past the deadline.
    Hung,
}

impl From<redwire::Result<Value>> for Outcome {
    fn from(r: redwire::Result<Value>) -> Self {
        match r {
            Ok(v) => Outcome::Ok(v),
            Err(e) => Outcome::Err {
                kind: e.kind(),
                may_have_executed: e.may_have_executed(),
                message: e.to_string(),
            },
        }
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Outcome::Ok(v) => write!(f, "ok {}", show_value(v)),
            Outcome::Err {
                kind,
                may_have_executed,
                message,
            } => write!(
                f,
                "err {kind:?} may_have_executed={may_have_executed}: {message}"
            ),
            Outcome::Cancelled => f.write_str("cancelled"),
            Outcome::Hung => f.write_str("HUNG"),
        }
    }
}

/// One operation of one caller.
#[derive(Debug, Clone)]
pub struct Op {
    /// Which caller.
    pub caller: usize,
    /// Its sequence number within the caller.
    pub seq: usize,
    /// What it sent.
    pub kind: Kind,
    /// Its deadline.
    pub deadline: Duration,
    /// How long it took.
    pub took: Duration,
    /// When it ended.
    pub ended: tokio::time::Instant,
    /// Whether the caller meant to drop it early.
    pub cancelled: bool,
    /// How it ended.
    pub outcome: Outcome,
}

/// A value as the trace shows it, in the model's notation.
pub fn show_value(v: &Value) -> String {
    match v {
        Value::Nil => "nil".into(),
        Value::Int(n) => format!(":{n}"),
        Value::Bulk(b) => format!("\"{}\"", String::from_utf8_lossy(b)),
        Value::Simple(b) => format!("+{}", String::from_utf8_lossy(b)),
        other => format!("{other:?}"),
    }
}
