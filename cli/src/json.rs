//! `--json`: each reply as one JSON document.
//!
//! Strings that are UTF-8 are JSON strings. A string that is not UTF-8 is
//! never altered: it becomes `{"base64": "…"}` (standard alphabet, padded),
//! which gives back its exact bytes. Maps become objects keyed by their keys'
//! text; a map with a key that is not text (binary, or an aggregate) becomes a
//! list of `[key, value]` pairs instead. Numbers JSON cannot hold (NaN,
//! infinities, big numbers) are strings; error entries are `{"error": "…"}`.

use base64::Engine;
use redwire::Value;
use serde_json::json;

/// A string as JSON: itself when UTF-8, else `{"base64": …}`.
fn string(bytes: &[u8]) -> serde_json::Value {
    match std::str::from_utf8(bytes) {
        Ok(s) => json!(s),
        Err(_) => json!({ "base64": base64::engine::general_purpose::STANDARD.encode(bytes) }),
    }
}

/// A map key as an object key, when it has a text form.
fn key_text(key: &Value) -> Option<String> {
    match key {
        Value::Bulk(b)
        | Value::Simple(b)
        | Value::BigNumber(b)
        | Value::Verbatim { text: b, .. } => std::str::from_utf8(b).ok().map(str::to_string),
        Value::Int(i) => Some(i.to_string()),
        Value::Double(d) => Some(crate::double::double(*d)),
        Value::Boolean(b) => Some(b.to_string()),
        Value::Nil => Some("null".into()),
        _ => None,
    }
}

/// The JSON form of a reply.
pub fn to_json(value: &Value) -> serde_json::Value {
    match value {
        Value::Nil => serde_json::Value::Null,
        Value::Int(i) => json!(i),
        Value::Bulk(b) | Value::Simple(b) | Value::BigNumber(b) => string(b),
        Value::Verbatim { text, .. } => string(text),
        Value::Double(d) if d.is_finite() => json!(d),
        Value::Double(d) => json!(crate::double::double(*d)),
        Value::Boolean(b) => json!(b),
        Value::Error(e) => json!({ "error": e.message() }),
        Value::Array(items) | Value::Set(items) | Value::Push(items) => {
            serde_json::Value::Array(items.iter().map(to_json).collect())
        }
        Value::Map(pairs) => {
            let keys: Option<Vec<String>> = pairs.iter().map(|(k, _)| key_text(k)).collect();
            match keys {
                Some(keys) => serde_json::Value::Object(
                    keys.into_iter()
                        .zip(pairs)
                        .map(|(k, (_, v))| (k, to_json(v)))
                        .collect(),
                ),
                None => serde_json::Value::Array(
                    pairs
                        .iter()
                        .map(|(k, v)| json!([to_json(k), to_json(v)]))
                        .collect(),
                ),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bulk(s: &str) -> Value {
        Value::Bulk(s.to_string().into())
    }

    #[test]
    fn text_is_a_string_and_binary_is_base64() {
        let v = Value::Array(vec![bulk("a b"), Value::Int(3), Value::Nil]);
        assert_eq!(to_json(&v).to_string(), r#"["a b",3,null]"#);
        let b = Value::Bulk(vec![0xff, 0x00, b'a'].into());
        assert_eq!(to_json(&b), json!({ "base64": "/wBh" }));
        let m = Value::Map(vec![(bulk("k"), Value::Double(f64::INFINITY))]);
        assert_eq!(to_json(&m).to_string(), r#"{"k":"inf"}"#);
    }

    #[test]
    fn a_map_with_a_binary_key_is_a_list_of_pairs() {
        let m = Value::Map(vec![
            (bulk("k"), Value::Int(1)),
            (Value::Bulk(vec![0xfe].into()), Value::Int(2)),
        ]);
        assert_eq!(to_json(&m), json!([["k", 1], [{ "base64": "/g==" }, 2]]));
    }
}
