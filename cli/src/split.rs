//! Splitting a typed line into arguments the way redis-cli does (`sdssplitargs`):
//! words separated by blanks, "double quotes" with C-like escapes (`\n`, `\xff`,
//! `\"`), 'single quotes' taken literally except for `\'`.

/// The arguments of one line, or why it cannot be split (unbalanced quotes).
///
/// ```ignore
/// assert_eq!(split_args(r#"SET k "a b\n""#).unwrap()[2], b"a b\n");
/// ```
pub fn split_args(line: &str) -> Result<Vec<Vec<u8>>, String> {
    let bytes = line.as_bytes();
    let mut args = Vec::new();
    let mut i = 0;
    loop {
        while i < bytes.len() && bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        if i >= bytes.len() {
            return Ok(args);
        }
        let mut arg = Vec::new();
        let mut in_double = false;
        let mut in_single = false;
        loop {
            if in_double {
                match bytes.get(i) {
                    None => return Err("unbalanced quotes".into()),
                    Some(b'\\') if i + 3 < bytes.len() && bytes[i + 1] == b'x' => {
                        match hex_pair(bytes[i + 2], bytes[i + 3]) {
                            Some(b) => {
                                arg.push(b);
                                i += 3;
                            }
                            None => arg.push(b'\\'),
                        }
                    }
                    Some(b'\\') if i + 1 < bytes.len() => {
                        i += 1;
                        arg.push(match bytes[i] {
                            b'n' => b'\n',
                            b'r' => b'\r',
                            b't' => b'\t',
                            b'b' => 8,
                            b'a' => 7,
                            other => other,
                        });
                    }
                    Some(b'"') => {
                        // A closing quote must end the word: `"a"b` is a typo, not `ab`.
                        if i + 1 < bytes.len() && !bytes[i + 1].is_ascii_whitespace() {
                            return Err("closing quote must be followed by a space".into());
                        }
                        i += 1;
                        break;
                    }
                    Some(&b) => arg.push(b),
                }
            } else if in_single {
                match bytes.get(i) {
                    None => return Err("unbalanced quotes".into()),
                    Some(b'\\') if bytes.get(i + 1) == Some(&b'\'') => {
                        arg.push(b'\'');
                        i += 1;
                    }
                    Some(b'\'') => {
                        if i + 1 < bytes.len() && !bytes[i + 1].is_ascii_whitespace() {
                            return Err("closing quote must be followed by a space".into());
                        }
                        i += 1;
                        break;
                    }
                    Some(&b) => arg.push(b),
                }
            } else {
                match bytes.get(i) {
                    None => break,
                    Some(b) if b.is_ascii_whitespace() => break,
                    Some(b'"') => in_double = true,
                    Some(b'\'') => in_single = true,
                    Some(&b) => arg.push(b),
                }
            }
            i += 1;
        }
        args.push(arg);
    }
}

fn hex_pair(a: u8, b: u8) -> Option<u8> {
    let digit = |c: u8| (c as char).to_digit(16).map(|d| d as u8);
    Some(digit(a)? * 16 + digit(b)?)
}

#[cfg(test)]
mod tests {
    use super::split_args;

    fn strs(line: &str) -> Vec<String> {
        split_args(line)
            .unwrap()
            .into_iter()
            .map(|a| String::from_utf8(a).unwrap())
            .collect()
    }

    #[test]
    fn words_and_quotes() {
        assert_eq!(strs("  SET  k v "), ["SET", "k", "v"]);
        assert_eq!(strs(r#"SET k "a b\n\x41""#), ["SET", "k", "a b\nA"]);
        assert_eq!(strs(r"SET k 'it\'s \n'"), ["SET", "k", "it's \\n"]);
        assert_eq!(strs(r#"SET k """#), ["SET", "k", ""]);
    }

    #[test]
    fn bad_quotes_are_errors() {
        assert!(split_args(r#"SET k "open"#).is_err());
        assert!(split_args(r#"SET k "a"b"#).is_err());
        assert!(split_args("SET k 'open").is_err());
    }
}
