//! Replies as text: the human format of redis-cli (numbered arrays, `(integer)`,
//! `(nil)`, `1#` map entries, `1~` set members, quoted strings), its `--raw`
//! format for scripts, and JSON.

use redwire::Value;
use serde_json::json;

/// How replies are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// redis-cli's formatted output.
    Human,
    /// Values only, one per line, strings unquoted.
    Raw,
    /// One JSON document per reply.
    Json,
}

/// A reply as the lines to print (without the final newline).
pub fn render(value: &Value, mode: Mode) -> String {
    match mode {
        Mode::Human => {
            let mut out = String::new();
            human(value, "", &mut out);
            out.pop();
            out
        }
        Mode::Raw => raw(value),
        Mode::Json => to_json(value).to_string(),
    }
}

/// An error reply as redis-cli shows it.
pub fn render_error(message: &str, mode: Mode) -> String {
    match mode {
        Mode::Human => format!("(error) {message}"),
        Mode::Raw => message.to_string(),
        Mode::Json => json!({ "error": message }).to_string(),
    }
}

/// Appends `value` and a newline; `prefix` is the indentation of the lines
/// after the first inside an aggregate, as in redis-cli's `cliFormatReplyTTY`.
fn human(value: &Value, prefix: &str, out: &mut String) {
    match value {
        Value::Nil => out.push_str("(nil)\n"),
        Value::Int(i) => out.push_str(&format!("(integer) {i}\n")),
        Value::Bulk(b) => {
            quote(b, out);
            out.push('\n');
        }
        Value::Simple(s) => {
            out.push_str(&String::from_utf8_lossy(s));
            out.push('\n');
        }
        Value::Verbatim { text, .. } => {
            out.push_str(&String::from_utf8_lossy(text));
            out.push('\n');
        }
        Value::Double(d) => out.push_str(&format!("(double) {}\n", double(*d))),
        Value::Boolean(b) => out.push_str(if *b { "(true)\n" } else { "(false)\n" }),
        Value::BigNumber(n) => {
            out.push_str(&format!("(big number) {}\n", String::from_utf8_lossy(n)));
        }
        Value::Error(e) => out.push_str(&format!("(error) {}\n", e.message())),
        Value::Array(items) => list(items, ')', "(empty array)", prefix, out),
        Value::Set(items) => list(items, '~', "(empty set)", prefix, out),
        Value::Push(items) => list(items, ')', "(empty push)", prefix, out),
        Value::Map(pairs) => {
            if pairs.is_empty() {
                out.push_str("(empty hash)\n");
                return;
            }
            let width = digits(pairs.len());
            let inner = format!("{prefix}{}", " ".repeat(width + 2));
            for (i, (k, v)) in pairs.iter().enumerate() {
                let lead = if i == 0 { "" } else { prefix };
                out.push_str(&format!("{lead}{:>width$}# ", i + 1));
                human(k, &inner, out);
                out.pop();
                out.push_str(" => ");
                human(v, &inner, out);
            }
        }
    }
}

fn list(items: &[Value], sep: char, empty: &str, prefix: &str, out: &mut String) {
    if items.is_empty() {
        out.push_str(empty);
        out.push('\n');
        return;
    }
    let width = digits(items.len());
    let inner = format!("{prefix}{}", " ".repeat(width + 2));
    for (i, item) in items.iter().enumerate() {
        // The first entry continues the line the parent's index started.
        let lead = if i == 0 { "" } else { prefix };
        out.push_str(&format!("{lead}{:>width$}{sep} ", i + 1));
        human(item, &inner, out);
    }
}

fn digits(mut n: usize) -> usize {
    let mut d = 1;
    while n >= 10 {
        n /= 10;
        d += 1;
    }
    d
}

/// redis-cli's `sdscatrepr`: printable ASCII as is, the rest escaped, so a
/// binary value can be read back and typed again.
fn quote(bytes: &[u8], out: &mut String) {
    out.push('"');
    for &b in bytes {
        match b {
            b'\\' => out.push_str("\\\\"),
            b'"' => out.push_str("\\\""),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            7 => out.push_str("\\a"),
            8 => out.push_str("\\b"),
            0x20..=0x7e => out.push(b as char),
            _ => out.push_str(&format!("\\x{b:02x}")),
        }
    }
    out.push('"');
}

fn double(d: f64) -> String {
    if d.is_infinite() {
        if d > 0.0 { "inf" } else { "-inf" }.to_string()
    } else {
        d.to_string()
    }
}

fn raw(value: &Value) -> String {
    match value {
        Value::Nil => String::new(),
        Value::Int(i) => i.to_string(),
        Value::Bulk(b) | Value::Simple(b) | Value::BigNumber(b) => {
            String::from_utf8_lossy(b).into_owned()
        }
        Value::Verbatim { text, .. } => String::from_utf8_lossy(text).into_owned(),
        Value::Double(d) => double(*d),
        Value::Boolean(b) => if *b { "(true)" } else { "(false)" }.to_string(),
        Value::Error(e) => e.message().to_string(),
        Value::Array(items) | Value::Set(items) | Value::Push(items) => {
            items.iter().map(raw).collect::<Vec<_>>().join("\n")
        }
        Value::Map(pairs) => pairs
            .iter()
            .flat_map(|(k, v)| [raw(k), raw(v)])
            .collect::<Vec<_>>()
            .join("\n"),
    }
}

/// JSON: maps become objects (keys as their text), strings that are not UTF-8
/// are decoded lossily, numbers JSON cannot hold (NaN, inf, big numbers) are
/// strings.
pub fn to_json(value: &Value) -> serde_json::Value {
    match value {
        Value::Nil => serde_json::Value::Null,
        Value::Int(i) => json!(i),
        Value::Bulk(b) | Value::Simple(b) | Value::BigNumber(b) => {
            json!(String::from_utf8_lossy(b))
        }
        Value::Verbatim { text, .. } => json!(String::from_utf8_lossy(text)),
        Value::Double(d) if d.is_finite() => json!(d),
        Value::Double(d) => json!(double(*d)),
        Value::Boolean(b) => json!(b),
        Value::Error(e) => json!({ "error": e.message() }),
        Value::Array(items) | Value::Set(items) | Value::Push(items) => {
            serde_json::Value::Array(items.iter().map(to_json).collect())
        }
        Value::Map(pairs) => serde_json::Value::Object(
            pairs
                .iter()
                .map(|(k, v)| {
                    let key = match to_json(k) {
                        serde_json::Value::String(s) => s,
                        other => other.to_string(),
                    };
                    (key, to_json(v))
                })
                .collect(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bulk(s: &str) -> Value {
        Value::Bulk(s.to_string().into())
    }

    #[test]
    fn nested_arrays_are_numbered_and_indented_like_redis_cli() {
        let items: Vec<Value> = (0..10).map(Value::Int).collect();
        let v = Value::Array(vec![
            bulk("a"),
            Value::Array(vec![bulk("b"), Value::Nil]),
            Value::Array(items),
        ]);
        let text = render(&v, Mode::Human);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "1) \"a\"");
        assert_eq!(lines[1], "2) 1) \"b\"");
        assert_eq!(lines[2], "   2) (nil)");
        assert_eq!(lines[3], "3)  1) (integer) 0");
        assert_eq!(lines[12], "   10) (integer) 9");
    }

    #[test]
    fn maps_sets_and_scalars() {
        let v = Value::Map(vec![
            (bulk("f"), Value::Double(1.5)),
            (bulk("s"), Value::Set(vec![bulk("x"), bulk("y")])),
        ]);
        assert_eq!(
            render(&v, Mode::Human),
            "1# \"f\" => (double) 1.5\n2# \"s\" => 1~ \"x\"\n   2~ \"y\""
        );
        assert_eq!(render(&Value::Boolean(true), Mode::Human), "(true)");
        assert_eq!(render(&bulk("a\"\n\u{1}"), Mode::Human), r#""a\"\n\x01""#);
        assert_eq!(render(&Value::Array(vec![]), Mode::Human), "(empty array)");
    }

    #[test]
    fn raw_and_json() {
        let v = Value::Array(vec![bulk("a b"), Value::Int(3), Value::Nil]);
        assert_eq!(render(&v, Mode::Raw), "a b\n3\n");
        assert_eq!(render(&v, Mode::Json), r#"["a b",3,null]"#);
        let m = Value::Map(vec![(bulk("k"), Value::Double(f64::INFINITY))]);
        assert_eq!(render(&m, Mode::Json), r#"{"k":"inf"}"#);
    }
}
