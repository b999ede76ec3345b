//! [`FromValue`]: a reply converted into the Rust type the caller asked for.
//!
//! One Rust type reads a reply the same way in both protocols: RESP3's map,
//! set, double, boolean, big number and verbatim string convert to what their
//! RESP2 forms convert to. A map is read from a RESP3 map, from RESP2's flat
//! `[k, v, k, v]` array (`HGETALL`), or from an array of `[k, v]` pairs; a
//! `Vec<(A, B)>` likewise from pairs or from a flat list (`ZRANGE …
//! WITHSCORES` is flat in RESP2, pairs in RESP3). A number is read from an
//! integer, a double or its decimal text; `inf`/`-inf` are floats.
//!
//! A conversion that cannot be made is an [`ErrorKind::Type`](crate::ErrorKind)
//! error naming what was wanted and what came, never a panic. An error entry
//! inside a reply (one command of a transaction) converts to that error.

use super::Value;
use crate::error::{Error, Result};
use bytes::Bytes;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet, VecDeque};
use std::hash::{BuildHasher, Hash};

/// Conversion of a reply into a Rust type: what typed commands and
/// [`Client::query`](crate::Client::query) return.
///
/// ```
/// use redwire::{FromValue, Value};
///
/// let n = i64::from_value(Value::Bulk("42".into())).unwrap();
/// assert_eq!(n, 42);
/// let missing = Option::<String>::from_value(Value::Nil).unwrap();
/// assert_eq!(missing, None);
/// let err = i64::from_value(Value::Bulk("abc".into())).unwrap_err();
/// assert_eq!(err.message(), r#"expected an integer (i64), got bulk string "abc""#);
/// ```
///
/// A type of your own:
///
/// ```
/// use redwire::{FromValue, Result, Value};
///
/// struct Celsius(f64);
/// impl FromValue for Celsius {
///     fn from_value(value: Value) -> Result<Self> {
///         f64::from_value(value).map(Celsius)
///     }
/// }
/// # assert_eq!(Celsius::from_value(Value::Double(21.5)).unwrap().0, 21.5);
/// ```
pub trait FromValue: Sized {
    /// Converts the value, or says why it cannot be.
    fn from_value(value: Value) -> Result<Self>;

    /// Converts the elements of an aggregate, for `Vec<Self>` and the other
    /// collections. Pairs override it so that a flat `[a, b, a, b]` list (a
    /// RESP2 map, a scored range) reads as pairs; other types keep this default.
    fn from_elements(items: Vec<Value>) -> Result<Vec<Self>> {
        items.into_iter().map(Self::from_value).collect()
    }
}

/// The error for a value that is not what was wanted; an error entry
/// converts to itself.
pub(crate) fn mismatch<T>(value: &Value, wanted: &str) -> Result<T> {
    if let Value::Error(e) = value {
        return Err(e.clone());
    }
    Err(Error::type_error(format!(
        "expected {wanted}, got {}",
        value.describe()
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
    #[inline]
    fn from_value(value: Value) -> Result<Self> {
        match value {
            Value::Bulk(b) | Value::Simple(b) | Value::BigNumber(b) => Ok(b),
            Value::Verbatim { text, .. } => Ok(text),
            Value::Int(i) => Ok(Bytes::from(i.to_string())),
            Value::Double(d) => Ok(Bytes::from(d.to_string())),
            other => mismatch(&other, "a string (bytes)"),
        }
    }
}

impl FromValue for Vec<u8> {
    fn from_value(value: Value) -> Result<Self> {
        match value {
            Value::Bulk(_) | Value::Simple(_) | Value::BigNumber(_) | Value::Verbatim { .. } => {
                Bytes::from_value(value).map(Vec::from)
            }
            Value::Int(_) | Value::Double(_) => Bytes::from_value(value).map(Vec::from),
            other => mismatch(&other, "a string (Vec<u8>)"),
        }
    }
}

impl FromValue for String {
    fn from_value(value: Value) -> Result<Self> {
        let bytes = match value {
            Value::Bulk(_)
            | Value::Simple(_)
            | Value::BigNumber(_)
            | Value::Verbatim { .. }
            | Value::Int(_)
            | Value::Double(_) => Bytes::from_value(value)?,
            other => return mismatch(&other, "a string (String)"),
        };
        String::from_utf8(bytes.into()).map_err(|e| {
            let bytes = e.into_bytes();
            Error::type_error(format!(
                "expected a UTF-8 string (String), got bulk string {} that is not UTF-8",
                Value::Bulk(bytes.into())
                    .describe()
                    .trim_start_matches("bulk string ")
            ))
        })
    }
}

/// Parses decimal text, or says what it was.
fn parse_text<T: std::str::FromStr>(value: &Value, bytes: &[u8], wanted: &str) -> Result<T> {
    std::str::from_utf8(bytes)
        .ok()
        .and_then(|s| s.parse().ok())
        .map_or_else(|| mismatch(value, wanted), Ok)
}

macro_rules! from_value_int {
    ($($t:ty),*) => {$(
        impl FromValue for $t {
            fn from_value(value: Value) -> Result<Self> {
                const WANTED: &str = concat!("an integer (", stringify!($t), ")");
                match value {
                    Value::Int(i) => <$t>::try_from(i).or_else(|_| mismatch(&value, WANTED)),
                    Value::Bulk(ref b) | Value::Simple(ref b) | Value::BigNumber(ref b) => {
                        parse_text(&value, b, WANTED)
                    }
                    // A RESP3 double that holds a whole number (a score).
                    Value::Double(d) if d.fract() == 0.0 && d.abs() < 9.007_199_254_740_992e15 => {
                        <$t>::try_from(d as i64).or_else(|_| mismatch(&value, WANTED))
                    }
                    Value::Boolean(b) => Ok(b as $t),
                    other => mismatch(&other, WANTED),
                }
            }
        }
    )*};
}
// Not `u8`: `Vec<u8>` is the bytes of a string, not a list of numbers.
from_value_int!(i8, i16, i32, i64, i128, isize, u16, u32, u64, u128, usize);

impl FromValue for f64 {
    fn from_value(value: Value) -> Result<Self> {
        const WANTED: &str = "a number (f64)";
        match value {
            Value::Double(d) => Ok(d),
            Value::Int(i) => Ok(i as f64),
            Value::Bulk(ref b) | Value::Simple(ref b) | Value::BigNumber(ref b) => {
                parse_text(&value, b, WANTED)
            }
            other => mismatch(&other, WANTED),
        }
    }
}

impl FromValue for f32 {
    fn from_value(value: Value) -> Result<Self> {
        f64::from_value(value).map(|d| d as f32)
    }
}

/// `true` from a RESP3 boolean, a non-zero integer (or its text) or `OK`;
/// `false` from zero and from nil (`SET … NX` that did not set).
impl FromValue for bool {
    fn from_value(value: Value) -> Result<Self> {
        const WANTED: &str = "a boolean";
        match value {
            Value::Boolean(b) => Ok(b),
            Value::Int(i) => Ok(i != 0),
            Value::Nil => Ok(false),
            Value::Simple(ref s) if s == "OK" => Ok(true),
            Value::Bulk(ref b) | Value::Simple(ref b) => {
                parse_text::<i64>(&value, b, WANTED).map(|i| i != 0)
            }
            other => mismatch(&other, WANTED),
        }
    }
}

impl<T: FromValue> FromValue for Option<T> {
    #[inline]
    fn from_value(value: Value) -> Result<Self> {
        match value {
            Value::Nil => Ok(None),
            other => T::from_value(other).map(Some),
        }
    }
}

impl<T: FromValue> FromValue for Box<T> {
    fn from_value(value: Value) -> Result<Self> {
        T::from_value(value).map(Box::new)
    }
}

/// The elements of an aggregate; a map is flattened to key, value, key, value;
/// nil is empty.
pub(crate) fn elements(value: Value, wanted: &str) -> Result<Vec<Value>> {
    match value {
        Value::Array(v) | Value::Set(v) | Value::Push(v) => Ok(v),
        Value::Map(pairs) => Ok(pairs.into_iter().flat_map(|(k, v)| [k, v]).collect()),
        Value::Nil => Ok(Vec::new()),
        other => mismatch(&other, wanted),
    }
}

impl<T: FromValue> FromValue for Vec<T> {
    fn from_value(value: Value) -> Result<Self> {
        T::from_elements(elements(value, "an array (Vec)")?)
    }
}

impl<T: FromValue> FromValue for VecDeque<T> {
    fn from_value(value: Value) -> Result<Self> {
        Vec::from_value(value).map(VecDeque::from)
    }
}

impl<T: FromValue + Eq + Hash, S: BuildHasher + Default> FromValue for HashSet<T, S> {
    fn from_value(value: Value) -> Result<Self> {
        let items = T::from_elements(elements(value, "a set (HashSet)")?)?;
        Ok(items.into_iter().collect())
    }
}

impl<T: FromValue + Ord> FromValue for BTreeSet<T> {
    fn from_value(value: Value) -> Result<Self> {
        let items = T::from_elements(elements(value, "a set (BTreeSet)")?)?;
        Ok(items.into_iter().collect())
    }
}

/// Key/value pairs of a RESP3 map, of a RESP2 flat array (`HGETALL`), or of
/// an array of two-element arrays.
pub(crate) fn pairs(value: Value, wanted: &str) -> Result<Vec<(Value, Value)>> {
    let items = match value {
        Value::Map(pairs) => return Ok(pairs),
        Value::Nil => return Ok(Vec::new()),
        Value::Array(items) | Value::Set(items) => items,
        other => return mismatch(&other, wanted),
    };
    if matches!(items.first(), Some(Value::Array(first)) if first.len() == 2) {
        return items
            .into_iter()
            .map(|item| match item {
                Value::Array(pair) if pair.len() == 2 => {
                    let mut it = pair.into_iter();
                    Ok((
                        it.next().unwrap_or(Value::Nil),
                        it.next().unwrap_or(Value::Nil),
                    ))
                }
                other => mismatch(&other, wanted),
            })
            .collect();
    }
    if items.len() % 2 != 0 {
        return Err(Error::type_error(format!(
            "expected {wanted}, got array of {} (an odd number of elements cannot be pairs)",
            items.len()
        )));
    }
    let mut out = Vec::with_capacity(items.len() / 2);
    let mut it = items.into_iter();
    while let (Some(k), Some(v)) = (it.next(), it.next()) {
        out.push((k, v));
    }
    Ok(out)
}

impl<K: FromValue + Eq + Hash, V: FromValue, S: BuildHasher + Default> FromValue
    for HashMap<K, V, S>
{
    fn from_value(value: Value) -> Result<Self> {
        pairs(value, "a map (HashMap)")?
            .into_iter()
            .map(|(k, v)| Ok((K::from_value(k)?, V::from_value(v)?)))
            .collect()
    }
}

impl<K: FromValue + Ord, V: FromValue> FromValue for BTreeMap<K, V> {
    fn from_value(value: Value) -> Result<Self> {
        pairs(value, "a map (BTreeMap)")?
            .into_iter()
            .map(|(k, v)| Ok((K::from_value(k)?, V::from_value(v)?)))
            .collect()
    }
}

/// A pair reads from a two-element array; a list of pairs also from a flat
/// list (`[a, b, a, b]`), as RESP2 sends maps and scored ranges.
impl<A: FromValue, B: FromValue> FromValue for (A, B) {
    fn from_value(value: Value) -> Result<Self> {
        let items = elements(value, "a pair")?;
        if items.len() != 2 {
            return Err(Error::type_error(format!(
                "expected a pair, got array of {}",
                items.len()
            )));
        }
        let mut it = items.into_iter();
        let a = A::from_value(it.next().unwrap_or(Value::Nil))?;
        Ok((a, B::from_value(it.next().unwrap_or(Value::Nil))?))
    }

    fn from_elements(items: Vec<Value>) -> Result<Vec<Self>> {
        let flat = items.first().is_some_and(|first| !first.is_aggregate());
        if !flat {
            return items.into_iter().map(Self::from_value).collect();
        }
        pairs(Value::Array(items), "pairs")?
            .into_iter()
            .map(|(a, b)| Ok((A::from_value(a)?, B::from_value(b)?)))
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
                        "expected a tuple of {}, got array of {}", $n, items.len()
                    )));
                }
                let mut it = items.into_iter();
                Ok(($($t::from_value(it.next().unwrap_or(Value::Nil))?,)+))
            }
        }
    };
}
from_value_tuple!(1: A);
from_value_tuple!(3: A, B, C);
from_value_tuple!(4: A, B, C, D);
from_value_tuple!(5: A, B, C, D, E);
from_value_tuple!(6: A, B, C, D, E, F);
from_value_tuple!(7: A, B, C, D, E, F, G);
from_value_tuple!(8: A, B, C, D, E, F, G, H);

#[cfg(test)]
mod tests {
    use super::*;

    fn bulk(s: &str) -> Value {
        Value::Bulk(Bytes::copy_from_slice(s.as_bytes()))
    }

    #[test]
    fn resp3_shapes_and_their_resp2_forms_give_the_same_rust_values() {
        // HGETALL: RESP2 flat array, RESP3 map.
        let flat = Value::Array(vec![bulk("a"), bulk("1"), bulk("b"), bulk("2")]);
        let map = Value::Map(vec![(bulk("a"), bulk("1")), (bulk("b"), bulk("2"))]);
        let want = HashMap::from([("a".to_string(), 1i64), ("b".to_string(), 2)]);
        assert_eq!(
            HashMap::<String, i64>::from_value(flat.clone()).unwrap(),
            want
        );
        assert_eq!(
            HashMap::<String, i64>::from_value(map.clone()).unwrap(),
            want
        );
        let tree = BTreeMap::<String, i64>::from_value(flat).unwrap();
        assert_eq!(tree, BTreeMap::from_iter(want.clone()));
        assert_eq!(
            Vec::<(String, i64)>::from_value(map).unwrap(),
            [("a".to_string(), 1), ("b".to_string(), 2)]
        );

        // ZRANGE WITHSCORES: RESP2 flat with text scores, RESP3 pairs with doubles.
        let flat = Value::Array(vec![bulk("m"), bulk("1.5"), bulk("n"), bulk("inf")]);
        let nested = Value::Array(vec![
            Value::Array(vec![bulk("m"), Value::Double(1.5)]),
            Value::Array(vec![bulk("n"), Value::Double(f64::INFINITY)]),
        ]);
        let want = vec![("m".to_string(), 1.5), ("n".to_string(), f64::INFINITY)];
        assert_eq!(Vec::<(String, f64)>::from_value(flat).unwrap(), want);
        assert_eq!(
            Vec::<(String, f64)>::from_value(nested.clone()).unwrap(),
            want
        );
        assert_eq!(
            HashMap::<String, f64>::from_value(nested).unwrap(),
            HashMap::from_iter(want)
        );

        // Scalars.
        assert_eq!(f64::from_value(bulk("1.5")).unwrap(), 1.5);
        assert_eq!(f64::from_value(Value::Double(1.5)).unwrap(), 1.5);
        assert_eq!(f64::from_value(bulk("-inf")).unwrap(), f64::NEG_INFINITY);
        assert_eq!(i64::from_value(Value::Double(3.0)).unwrap(), 3);
        assert!(i64::from_value(Value::Double(3.5)).is_err());
        assert!(bool::from_value(Value::Boolean(true)).unwrap());
        assert!(bool::from_value(Value::Int(1)).unwrap());
        assert!(!bool::from_value(Value::Nil).unwrap());
        let big = Value::BigNumber("170141183460469231731687303715884105727".into());
        assert_eq!(i128::from_value(big).unwrap(), i128::MAX);
        let verbatim = Value::Verbatim {
            format: *b"txt",
            text: "hi".into(),
        };
        assert_eq!(String::from_value(verbatim).unwrap(), "hi");
        let set = Value::Set(vec![bulk("x"), bulk("y")]);
        let arr = Value::Array(vec![bulk("y"), bulk("x")]);
        assert_eq!(
            BTreeSet::<String>::from_value(set).unwrap(),
            BTreeSet::<String>::from_value(arr).unwrap()
        );
        assert_eq!(Option::<i64>::from_value(Value::Nil).unwrap(), None);
        assert_eq!(
            Vec::<Option<String>>::from_value(Value::Array(vec![Value::Nil, bulk("v")])).unwrap(),
            [None, Some("v".to_string())]
        );
        let nested: Vec<Vec<(String, i64)>> =
            FromValue::from_value(Value::Array(vec![Value::Array(vec![bulk("k"), bulk("7")])]))
                .unwrap();
        assert_eq!(nested, [[("k".to_string(), 7)]]);
        assert_eq!(f32::from_value(bulk("0.5")).unwrap(), 0.5);
        assert!(bool::from_value(Value::Simple("OK".into())).unwrap());
        assert!(bool::from_value(Value::Simple("QUEUED".into())).is_err());
        assert!(bool::from_value(bulk("1")).unwrap());
        assert!(!bool::from_value(bulk("0")).unwrap());
        let three = Value::Array(vec![bulk("b"), bulk("a"), bulk("b")]);
        assert_eq!(
            VecDeque::<String>::from_value(three.clone()).unwrap(),
            ["b", "a", "b"]
        );
        assert_eq!(
            HashSet::<String>::from_value(three.clone()).unwrap().len(),
            2
        );
        assert_eq!(
            BTreeSet::<String>::from_value(three)
                .unwrap()
                .into_iter()
                .collect::<Vec<_>>(),
            ["a", "b"]
        );
        // A list of pairs must be pairs throughout.
        let ragged = Value::Array(vec![
            Value::Array(vec![bulk("k"), bulk("1")]),
            Value::Array(vec![bulk("k2")]),
        ]);
        assert!(HashMap::<String, String>::from_value(ragged).is_err());
        assert!(<()>::from_value(Value::Int(1)).is_ok());
        assert_eq!(
            <()>::from_value(Value::Error(Error::server("ERR no")))
                .unwrap_err()
                .code(),
            Some("ERR")
        );
        let t: (String, i64, Option<f64>) =
            FromValue::from_value(Value::Array(vec![bulk("s"), Value::Int(2), Value::Nil]))
                .unwrap();
        assert_eq!(t, ("s".into(), 2, None));
    }

    #[test]
    fn failed_conversions_name_what_was_wanted_and_what_came() {
        let cases: Vec<(Result<()>, &str)> = vec![
            (
                i64::from_value(bulk("abc")).map(drop),
                r#"expected an integer (i64), got bulk string "abc""#,
            ),
            (
                u16::from_value(Value::Int(-1)).map(drop),
                "expected an integer (u16), got integer -1",
            ),
            (
                String::from_value(Value::Array(vec![])).map(drop),
                "expected a string (String), got array of 0",
            ),
            (
                f64::from_value(Value::Simple("x".into())).map(drop),
                r#"expected a number (f64), got simple string "x""#,
            ),
            (
                HashMap::<String, String>::from_value(Value::Array(vec![bulk("a")])).map(drop),
                "expected a map (HashMap), got array of 1 (an odd number of elements cannot be pairs)",
            ),
            (
                <(i64, i64)>::from_value(Value::Array(vec![Value::Int(1)])).map(drop),
                "expected a pair, got array of 1",
            ),
            (
                Vec::<i64>::from_value(Value::Int(3)).map(drop),
                "expected an array (Vec), got integer 3",
            ),
            (
                String::from_value(Value::Bulk(Bytes::from_static(b"\xff\xfe"))).map(drop),
                r#"expected a UTF-8 string (String), got bulk string "\xff\xfe" that is not UTF-8"#,
            ),
        ];
        for (result, message) in cases {
            let err = result.unwrap_err();
            assert_eq!(err.kind(), crate::ErrorKind::Type);
            assert_eq!(err.message(), message);
        }
        // An error entry converts to itself.
        let entry = Value::Error(Error::server("WRONGTYPE wrong kind"));
        assert_eq!(
            i64::from_value(entry).unwrap_err().code(),
            Some("WRONGTYPE")
        );
    }
}
