//! [`Value`], a decoded reply, and [`FromValue`], its conversion into Rust types.
//!
//! A `Value` is built from the codec's frame in the caller's task, not in the
//! connection actor, so the work of conversion is spread over the callers. Bulk
//! strings stay zero-copy [`Bytes`] slices of the read buffer. RESP3 attributes
//! are dropped here: they annotate a reply, they are not part of it.

use crate::error::{Error, Result};
use bytes::Bytes;
use redwire_resp::Frame;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::hash::Hash;

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
    pub(crate) fn from_reply(frame: Frame) -> Result<Value> {
        match frame {
            Frame::Error(e) | Frame::BulkError(e) => Err(Error::server_bytes(&e)),
            Frame::Attribute { frame, .. } => Value::from_reply(*frame),
            other => Ok(Value::from(other)),
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

/// Conversion of a reply into a Rust type, for [`Client::query`](crate::Client::query).
///
/// ```
/// use redwire::{FromValue, Value};
///
/// let n = i64::from_value(Value::Bulk("42".into())).unwrap();
/// assert_eq!(n, 42);
/// let missing = Option::<String>::from_value(Value::Nil).unwrap();
/// assert_eq!(missing, None);
/// ```
pub trait FromValue: Sized {
    /// Converts the value, or says why it cannot be.
    fn from_value(value: Value) -> Result<Self>;
}

fn mismatch<T>(value: &Value, wanted: &str) -> Result<T> {
    if let Value::Error(e) = value {
        return Err(e.clone());
    }
    Err(Error::type_error(format!(
        "cannot convert a {} reply into {wanted}",
        value.kind_name()
    )))
}

impl FromValue for Value {
    fn from_value(value: Value) -> Result<Self> {
        Ok(value)
    }
}

impl FromValue for () {
    fn from_value(value: Value) -> Result<Self> {
        match value {
            Value::Error(e) => Err(e),
            _ => Ok(()),
        }
    }
}

impl FromValue for Bytes {
    fn from_value(value: Value) -> Result<Self> {
        match value {
            Value::Bulk(b) | Value::Simple(b) | Value::BigNumber(b) => Ok(b),
            Value::Verbatim { text, .. } => Ok(text),
            Value::Int(i) => Ok(Bytes::from(i.to_string())),
            Value::Double(d) => Ok(Bytes::from(d.to_string())),
            other => mismatch(&other, "bytes"),
        }
    }
}

impl FromValue for Vec<u8> {
    fn from_value(value: Value) -> Result<Self> {
        Bytes::from_value(value).map(Vec::from)
    }
}

impl FromValue for String {
    fn from_value(value: Value) -> Result<Self> {
        let bytes = Bytes::from_value(value)?;
        String::from_utf8(bytes.into()).map_err(|_| {
            Error::type_error("cannot convert a reply that is not UTF-8 into a String")
        })
    }
}

fn parse_text<T: std::str::FromStr>(bytes: &[u8], wanted: &str) -> Result<T> {
    std::str::from_utf8(bytes)
        .ok()
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| {
            Error::type_error(format!(
                "cannot convert {:?} into {wanted}",
                String::from_utf8_lossy(&bytes[..bytes.len().min(64)])
            ))
        })
}

macro_rules! from_value_int {
    ($($t:ty),*) => {$(
        impl FromValue for $t {
            fn from_value(value: Value) -> Result<Self> {
                let wanted = stringify!($t);
                match value {
                    Value::Int(i) => <$t>::try_from(i)
                        .map_err(|_| Error::type_error(format!("{i} does not fit in {wanted}"))),
                    Value::Bulk(ref b) | Value::Simple(ref b) | Value::BigNumber(ref b) => parse_text(b, wanted),
                    Value::Boolean(b) => Ok(b as $t),
                    other => mismatch(&other, wanted),
                }
            }
        }
    )*};
}
// Not `u8`: `Vec<u8>` is the bytes of a string, not a list of numbers.
from_value_int!(i8, i16, i32, i64, i128, isize, u16, u32, u64, u128, usize);

impl FromValue for f64 {
    fn from_value(value: Value) -> Result<Self> {
        match value {
            Value::Double(d) => Ok(d),
            Value::Int(i) => Ok(i as f64),
            Value::Bulk(ref b) | Value::Simple(ref b) => parse_text(b, "f64"),
            other => mismatch(&other, "f64"),
        }
    }
}

impl FromValue for f32 {
    fn from_value(value: Value) -> Result<Self> {
        f64::from_value(value).map(|d| d as f32)
    }
}

impl FromValue for bool {
    fn from_value(value: Value) -> Result<Self> {
        match value {
            Value::Boolean(b) => Ok(b),
            Value::Int(i) => Ok(i != 0),
            Value::Nil => Ok(false),
            Value::Simple(ref s) if s == "OK" => Ok(true),
            Value::Bulk(ref b) => Ok(parse_text::<i64>(b, "bool")? != 0),
            other => mismatch(&other, "bool"),
        }
    }
}

impl<T: FromValue> FromValue for Option<T> {
    fn from_value(value: Value) -> Result<Self> {
        match value {
            Value::Nil => Ok(None),
            other => T::from_value(other).map(Some),
        }
    }
}

/// The elements of an aggregate; a map is flattened to key, value, key, value.
fn elements(value: Value, wanted: &str) -> Result<Vec<Value>> {
    match value {
        Value::Array(v) | Value::Set(v) | Value::Push(v) => Ok(v),
        Value::Map(pairs) => Ok(pairs.into_iter().flat_map(|(k, v)| [k, v]).collect()),
        Value::Nil => Ok(Vec::new()),
        other => mismatch(&other, wanted),
    }
}

impl<T: FromValue> FromValue for Vec<T> {
    fn from_value(value: Value) -> Result<Self> {
        elements(value, "a Vec")?
            .into_iter()
            .map(T::from_value)
            .collect()
    }
}

impl<T: FromValue + Eq + Hash> FromValue for HashSet<T> {
    fn from_value(value: Value) -> Result<Self> {
        elements(value, "a HashSet")?
            .into_iter()
            .map(T::from_value)
            .collect()
    }
}

/// Key/value pairs of a RESP3 map, or of a RESP2 flat array (HGETALL).
fn pairs(value: Value, wanted: &str) -> Result<Vec<(Value, Value)>> {
    match value {
        Value::Map(pairs) => Ok(pairs),
        Value::Array(items) if items.len() % 2 == 0 => {
            let mut it = items.into_iter();
            let mut out = Vec::with_capacity(it.len() / 2);
            while let (Some(k), Some(v)) = (it.next(), it.next()) {
                out.push((k, v));
            }
            Ok(out)
        }
        Value::Nil => Ok(Vec::new()),
        other => mismatch(&other, wanted),
    }
}

impl<K: FromValue + Eq + Hash, V: FromValue> FromValue for HashMap<K, V> {
    fn from_value(value: Value) -> Result<Self> {
        pairs(value, "a HashMap")?
            .into_iter()
            .map(|(k, v)| Ok((K::from_value(k)?, V::from_value(v)?)))
            .collect()
    }
}

impl<K: FromValue + Ord, V: FromValue> FromValue for BTreeMap<K, V> {
    fn from_value(value: Value) -> Result<Self> {
        pairs(value, "a BTreeMap")?
            .into_iter()
            .map(|(k, v)| Ok((K::from_value(k)?, V::from_value(v)?)))
            .collect()
    }
}

macro_rules! from_value_tuple {
    ($n:literal: $($t:ident),+) => {
        impl<$($t: FromValue),+> FromValue for ($($t,)+) {
            fn from_value(value: Value) -> Result<Self> {
                let items = elements(value, concat!("a tuple of ", $n))?;
                if items.len() != $n {
                    return Err(Error::type_error(format!(
                        "cannot convert {} elements into a tuple of {}", items.len(), $n
                    )));
                }
                let mut it = items.into_iter();
                Ok(($($t::from_value(it.next().unwrap_or(Value::Nil))?,)+))
            }
        }
    };
}
from_value_tuple!(1: A);
from_value_tuple!(2: A, B);
from_value_tuple!(3: A, B, C);
from_value_tuple!(4: A, B, C, D);
