//! Replies as the bytes to print: the human format of redis-cli
//! (`cliFormatReplyTTY`: numbered arrays, `(integer)`, `(nil)`, `1#` map
//! entries, `1~` set members, quoted strings) and its `--raw` format
//! (`cliFormatReplyRaw`), byte for byte. JSON is in [`crate::json`].
//!
//! Output is bytes, not text: a value that is not UTF-8 is printed as the
//! server stored it (`--raw`) or escaped (`"\xff"`), never replaced.

use crate::double::double;
use redwire::Value;

/// How replies are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// redis-cli's formatted output.
    Human,
    /// Values only, one per line, strings unquoted and unescaped.
    Raw,
    /// One JSON document per reply.
    Json,
}

/// The whole output for one reply, final newline included.
///
/// `text_command` says the command is one whose string reply redis-cli prints
/// as it is in every mode but JSON (`INFO`, `CLIENT LIST`, … see
/// [`is_text_command`]): its bytes then, with a newline only when the text
/// does not end in one.
pub fn reply(value: &Value, mode: Mode, text_command: bool) -> Vec<u8> {
    if text_command && mode != Mode::Json {
        if let Value::Bulk(b) | Value::Verbatim { text: b, .. } = value {
            let mut out = b.to_vec();
            if !out.ends_with(b"\n") {
                out.push(b'\n');
            }
            return out;
        }
    }
    let mut out = render(value, mode);
    out.push(b'\n');
    out
}

/// Writes [`reply`] to stdout and flushes it (whoever reads our stdout may be
/// waiting for this very reply).
pub fn print(value: &Value, mode: Mode, text_command: bool) {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    let _ = stdout.write_all(&reply(value, mode, text_command));
    let _ = stdout.flush();
}

/// A reply as the lines to print, without the final newline.
pub fn render(value: &Value, mode: Mode) -> Vec<u8> {
    match mode {
        Mode::Human => {
            let mut out = Vec::new();
            human(value, "", &mut out);
            out.pop();
            out
        }
        Mode::Raw => {
            let mut out = Vec::new();
            raw(value, &mut out);
            out
        }
        Mode::Json => crate::json::to_json(value).to_string().into_bytes(),
    }
}

/// An error reply as redis-cli shows it, without the final newline.
pub fn render_error(message: &str, mode: Mode) -> String {
    match mode {
        Mode::Human => format!("(error) {message}"),
        Mode::Raw => message.to_string(),
        Mode::Json => serde_json::json!({ "error": message }).to_string(),
    }
}

/// Commands whose string reply is text made for people, which redis-cli prints
/// raw even on a terminal (its `output_raw` list): with RESP2 they are bulk
/// strings that would otherwise print as one quoted line full of `\r\n`.
pub fn is_text_command(words: &[Vec<u8>]) -> bool {
    let word = |i: usize| {
        words
            .get(i)
            .map(|w| String::from_utf8_lossy(w).to_ascii_lowercase())
            .unwrap_or_default()
    };
    let (name, sub) = (word(0), word(1));
    let argc = words.len();
    match name.as_str() {
        "info" | "lolwut" => true,
        "debug" => matches!(sub.as_str(), "htstats" | "htstats-key" | "listpack"),
        "memory" => matches!(sub.as_str(), "malloc-stats" | "doctor"),
        "cluster" => argc == 2 && matches!(sub.as_str(), "nodes" | "info"),
        "client" => matches!(sub.as_str(), "list" | "info"),
        "latency" => (argc == 3 && sub == "graph") || (argc == 2 && sub == "doctor"),
        _ => false,
    }
}

/// Appends `value` and a newline; `prefix` is the indentation of the lines
/// after the first inside an aggregate, as in redis-cli's `cliFormatReplyTTY`.
fn human(value: &Value, prefix: &str, out: &mut Vec<u8>) {
    match value {
        Value::Nil => out.extend_from_slice(b"(nil)\n"),
        Value::Int(i) => out.extend_from_slice(format!("(integer) {i}\n").as_bytes()),
        Value::Bulk(b) => {
            quote(b, out);
            out.push(b'\n');
        }
        Value::Simple(s) => {
            out.extend_from_slice(s);
            out.push(b'\n');
        }
        Value::Verbatim { text, .. } => {
            // Text that ends its last line itself gets no blank line after it.
            out.extend_from_slice(text);
            if !text.ends_with(b"\n") {
                out.push(b'\n');
            }
        }
        Value::Double(d) => out.extend_from_slice(format!("(double) {}\n", double(*d)).as_bytes()),
        Value::Boolean(b) => out.extend_from_slice(if *b { b"(true)\n" } else { b"(false)\n" }),
        Value::BigNumber(n) => {
            out.extend_from_slice(b"(big number) ");
            out.extend_from_slice(n);
            out.push(b'\n');
        }
        Value::Error(e) => out.extend_from_slice(format!("(error) {}\n", e.message()).as_bytes()),
        Value::Array(items) => list(items, ')', "(empty array)", prefix, out),
        Value::Set(items) => list(items, '~', "(empty set)", prefix, out),
        Value::Push(items) => list(items, ')', "(empty push)", prefix, out),
        Value::Map(pairs) => {
            if pairs.is_empty() {
                out.extend_from_slice(b"(empty hash)\n");
                return;
            }
            let width = digits(pairs.len());
            let inner = format!("{prefix}{}", " ".repeat(width + 2));
            for (i, (k, v)) in pairs.iter().enumerate() {
                let lead = if i == 0 { "" } else { prefix };
                out.extend_from_slice(format!("{lead}{:>width$}# ", i + 1).as_bytes());
                human(k, &inner, out);
                out.pop();
                out.extend_from_slice(b" => ");
                if is_multiline(v) {
                    // A value of several lines starts on its own line, so
                    // its entries line up (redis-cli's cliIsMultilineValueTTY).
                    out.push(b'\n');
                    out.extend_from_slice(inner.as_bytes());
                }
                human(v, &inner, out);
            }
        }
    }
}

/// True when `value` prints on more than one line in the human format.
fn is_multiline(value: &Value) -> bool {
    match value {
        Value::Array(items) | Value::Set(items) | Value::Push(items) => match items.len() {
            0 => false,
            1 => is_multiline(&items[0]),
            _ => true,
        },
        Value::Map(pairs) => match pairs.len() {
            0 => false,
            1 => is_multiline(&pairs[0].1),
            _ => true,
        },
        _ => false,
    }
}

fn list(items: &[Value], sep: char, empty: &str, prefix: &str, out: &mut Vec<u8>) {
    if items.is_empty() {
        out.extend_from_slice(empty.as_bytes());
        out.push(b'\n');
        return;
    }
    let width = digits(items.len());
    let inner = format!("{prefix}{}", " ".repeat(width + 2));
    for (i, item) in items.iter().enumerate() {
        // The first entry continues the line the parent's index started.
        let lead = if i == 0 { "" } else { prefix };
        out.extend_from_slice(format!("{lead}{:>width$}{sep} ", i + 1).as_bytes());
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
fn quote(bytes: &[u8], out: &mut Vec<u8>) {
    out.push(b'"');
    for &b in bytes {
        match b {
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'"' => out.extend_from_slice(b"\\\""),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            7 => out.extend_from_slice(b"\\a"),
            8 => out.extend_from_slice(b"\\b"),
            0x20..=0x7e => out.push(b),
            _ => out.extend_from_slice(format!("\\x{b:02x}").as_bytes()),
        }
    }
    out.push(b'"');
}

/// redis-cli's `cliFormatReplyRaw`: strings as their bytes, aggregates one
/// element per line, a map entry as `key value` on one line.
fn raw(value: &Value, out: &mut Vec<u8>) {
    match value {
        Value::Nil => {}
        Value::Int(i) => out.extend_from_slice(i.to_string().as_bytes()),
        Value::Bulk(b) | Value::Simple(b) | Value::BigNumber(b) => out.extend_from_slice(b),
        Value::Verbatim { text, .. } => out.extend_from_slice(text),
        Value::Double(d) => out.extend_from_slice(double(*d).as_bytes()),
        Value::Boolean(b) => out.extend_from_slice(if *b { b"(true)" } else { b"(false)" }),
        Value::Error(e) => {
            out.extend_from_slice(e.message().as_bytes());
            out.push(b'\n');
        }
        Value::Array(items) | Value::Set(items) | Value::Push(items) => {
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b'\n');
                }
                raw(item, out);
            }
        }
        Value::Map(pairs) => {
            for (i, (k, v)) in pairs.iter().enumerate() {
                if i > 0 {
                    out.push(b'\n');
                }
                raw(k, out);
                out.push(b' ');
                raw(v, out);
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

    fn text(v: &Value, mode: Mode) -> String {
        String::from_utf8(render(v, mode)).unwrap()
    }

    #[test]
    fn nested_arrays_are_numbered_and_indented_like_redis_cli() {
        let items: Vec<Value> = (0..10).map(Value::Int).collect();
        let v = Value::Array(vec![
            bulk("a"),
            Value::Array(vec![bulk("b"), Value::Nil]),
            Value::Array(items),
        ]);
        let text = text(&v, Mode::Human);
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
            (bulk("one"), Value::Map(vec![(bulk("i"), Value::Int(1))])),
        ]);
        // A value of several lines starts on its own, indented line; a
        // one-line aggregate stays beside its key.
        assert_eq!(
            text(&v, Mode::Human),
            "1# \"f\" => (double) 1.5\n2# \"s\" => \n   1~ \"x\"\n   2~ \"y\"\n\
             3# \"one\" => 1# \"i\" => (integer) 1"
        );
        assert_eq!(text(&Value::Boolean(true), Mode::Human), "(true)");
        assert_eq!(text(&bulk("a\"\n\u{1}"), Mode::Human), r#""a\"\n\x01""#);
        assert_eq!(text(&Value::Array(vec![]), Mode::Human), "(empty array)");
    }

    #[test]
    fn a_verbatim_string_ending_its_line_gets_no_blank_line() {
        let v = Value::Verbatim {
            format: *b"txt",
            text: "id=1 resp=3\n".into(),
        };
        assert_eq!(reply(&v, Mode::Human, false), b"id=1 resp=3\n");
        let v = Value::Verbatim {
            format: *b"txt",
            text: "no newline".into(),
        };
        assert_eq!(reply(&v, Mode::Human, false), b"no newline\n");
    }

    #[test]
    fn text_commands_print_their_string_as_it_is() {
        let info = Value::Bulk("# Server\r\nredis_version:7\r\n".into());
        let words = |s: &str| {
            s.split(' ')
                .map(|w| w.as_bytes().to_vec())
                .collect::<Vec<_>>()
        };
        assert!(is_text_command(&words("INFO server")));
        assert!(is_text_command(&words("client list")));
        assert!(is_text_command(&words("LATENCY DOCTOR")));
        assert!(!is_text_command(&words("LATENCY DOCTOR x")));
        assert!(!is_text_command(&words("GET info")));
        assert_eq!(
            reply(&info, Mode::Human, true),
            b"# Server\r\nredis_version:7\r\n"
        );
        assert_eq!(
            reply(&info, Mode::Raw, true),
            b"# Server\r\nredis_version:7\r\n"
        );
        assert_eq!(
            reply(&info, Mode::Human, false),
            b"\"# Server\\r\\nredis_version:7\\r\\n\"\n"
        );
    }

    #[test]
    fn raw_is_byte_exact_and_maps_print_key_space_value() {
        let v = Value::Array(vec![bulk("a b"), Value::Int(3), Value::Nil]);
        assert_eq!(text(&v, Mode::Raw), "a b\n3\n");
        let bytes = Value::Bulk(vec![0xff, 0x00, b'\n', 0x80].into());
        assert_eq!(render(&bytes, Mode::Raw), [0xff, 0x00, b'\n', 0x80]);
        let m = Value::Map(vec![
            (bulk("f"), bulk("v")),
            (bulk("l"), Value::Array(vec![bulk("a"), bulk("b")])),
        ]);
        assert_eq!(text(&m, Mode::Raw), "f v\nl a\nb");
    }
}
