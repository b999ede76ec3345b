//! [`Value`], a decoded reply; its conversion into Rust types, [`FromValue`],
//! is in `convert`.
//!
//! A `Value` is built from the codec's frame in the caller's task, not in the
//! connection actor, so the work of conversion is spread over the callers. Bulk
//! strings stay zero-copy [`Bytes`] slices of the read buffer. RESP3 attributes
//! are dropped here: they annotate a reply, they are not part of it.

pub(crate) mod convert;

pub use convert::FromValue;

use crate::error::{Error, Result};
use bytes::Bytes;
use redwire_resp::Frame;

/// A reply from the server.
///
/// ```
/// use redwire::Value;
///
/// let v = Value::Array(vec![Value::Bulk("a".into()), Value::Int(1), Value::Nil]);
/// assert_eq!(v.as_array().map(|a| a.len()), Some(3));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// Null: a missing key, a timed-out blocking pop.
    Nil,
    /// An integer reply.
    Int(i64),
    /// A bulk string: binary-safe data.
    Bulk(Bytes),
    /// A simple status string, such as `OK` or `PONG`.
    Simple(Bytes),
    /// A RESP3 double.
    Double(f64),
    /// A RESP3 boolean.
    Boolean(bool),
    /// A RESP3 big number, as its decimal digits.
    BigNumber(Bytes),
    /// A RESP3 verbatim string and its three-letter format (`txt`, `mkd`).
    Verbatim {
        /// The format.
        format: [u8; 3],
        /// The text.
        text: Bytes,
    },
    /// An array (also what a RESP2 server sends for maps and sets).
    Array(Vec<Value>),
    /// A RESP3 map, in the server's order.
    Map(Vec<(Value, Value)>),
    /// A RESP3 set, in the server's order.
    Set(Vec<Value>),
    /// A RESP3 push message (pub/sub, invalidation).
    Push(Vec<Value>),
    /// An error nested inside a reply, such as one entry of an `EXEC` result.
    Error(Error),
}

impl Value {
    /// The value as a slice when it is an array, set or push.
    ///
    /// ```
    /// assert_eq!(redwire::Value::Int(1).as_array(), None);
    /// ```
    pub fn as_array(&self) -> Option<&[Value]> {
        match self {
            Value::Array(v) | Value::Set(v) | Value::Push(v) => Some(v),
            _ => None,
        }
    }

    /// The bytes of a bulk, simple or verbatim string.
    ///
    /// ```
    /// assert_eq!(redwire::Value::Simple("OK".into()).as_bytes(), Some(&b"OK"[..]));
    /// ```
    pub fn as_bytes(&self) -> Option<&[u8]> {
        match self {
            Value::Bulk(b) | Value::Simple(b) | Value::BigNumber(b) => Some(b),
            Value::Verbatim { text, .. } => Some(text),
            _ => None,
        }
    }

    /// True for the status reply `OK`.
    ///
    /// ```
    /// assert!(redwire::Value::Simple("OK".into()).is_ok());
    /// ```
    pub fn is_ok(&self) -> bool {
        matches!(self, Value::Simple(s) if s == "OK")
    }

    /// Converts a top-level reply: an error frame becomes `Err`.
    #[inline]
    pub(crate) fn from_reply(frame: Frame) -> Result<Value> {
        match frame {
            Frame::Error(e) | Frame::BulkError(e) => Err(Error::server_bytes(&e)),
            Frame::Attribute { frame, .. } => Value::from_reply(*frame),
            other => Ok(Value::from(other)),
        }
    }

    /// True for the aggregates: array, map, set, push.
    pub(crate) fn is_aggregate(&self) -> bool {
        matches!(
            self,
            Value::Array(_) | Value::Map(_) | Value::Set(_) | Value::Push(_)
        )
    }

    /// The value for an error message: its kind and a short preview,
    /// `bulk string "abc"`, `integer 7`, `array of 3`.
    pub(crate) fn describe(&self) -> String {
        let text = |b: &[u8]| {
            let more = if b.len() > 40 { "…" } else { "" };
            let head = &b[..b.len().min(40)];
            match std::str::from_utf8(head) {
                Ok(s) => format!("{s:?}{more}"),
                Err(_) => format!("\"{}\"{more}", head.escape_ascii()),
            }
        };
        let kind = self.kind_name();
        match self {
            Value::Nil => kind.to_string(),
            Value::Int(i) => format!("{kind} {i}"),
            Value::Double(d) => format!("{kind} {d}"),
            Value::Boolean(b) => format!("{kind} {b}"),
            Value::Bulk(b) | Value::Simple(b) | Value::BigNumber(b) => {
                format!("{kind} {}", text(b))
            }
            Value::Verbatim { text: t, .. } => format!("{kind} {}", text(t)),
            Value::Array(v) | Value::Set(v) | Value::Push(v) => format!("{kind} of {}", v.len()),
            Value::Map(v) => format!("{kind} of {}", v.len()),
            Value::Error(e) => format!("{kind} {:?}", e.message()),
        }
    }

    fn kind_name(&self) -> &'static str {
        match self {
            Value::Nil => "nil",
            Value::Int(_) => "integer",
            Value::Bulk(_) => "bulk string",
            Value::Simple(_) => "simple string",
            Value::Double(_) => "double",
            Value::Boolean(_) => "boolean",
            Value::BigNumber(_) => "big number",
            Value::Verbatim { .. } => "verbatim string",
            Value::Array(_) => "array",
            Value::Map(_) => "map",
            Value::Set(_) => "set",
            Value::Push(_) => "push",
            Value::Error(_) => "error",
        }
    }
}

impl From<Frame> for Value {
    #[inline]
    fn from(frame: Frame) -> Self {
        let list = |items: Vec<Frame>| items.into_iter().map(Value::from).collect();
        match frame {
            Frame::Simple(s) => Value::Simple(s),
            Frame::Error(e) | Frame::BulkError(e) => Value::Error(Error::server_bytes(&e)),
            Frame::Integer(i) => Value::Int(i),
            Frame::Bulk(b) => Value::Bulk(b),
            Frame::Null => Value::Nil,
            Frame::Array(items) => Value::Array(list(items)),
            Frame::Boolean(b) => Value::Boolean(b),
            Frame::Double(d) => Value::Double(d),
            Frame::BigNumber(n) => Value::BigNumber(n),
            Frame::Verbatim { format, data } => Value::Verbatim { format, text: data },
            Frame::Map(pairs) => Value::Map(
                pairs
                    .into_iter()
                    .map(|(k, v)| (Value::from(k), Value::from(v)))
                    .collect(),
            ),
            Frame::Set(items) => Value::Set(list(items)),
            Frame::Attribute { frame, .. } => Value::from(*frame),
            Frame::Push(items) => Value::Push(list(items)),
        }
    }
}

impl PartialEq for Error {
    fn eq(&self, other: &Self) -> bool {
        self.kind() == other.kind() && self.message() == other.message()
    }
}
