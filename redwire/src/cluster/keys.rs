//! Which arguments of a command are keys, as the server itself says: the key
//! specifications of `COMMAND` (Redis 7), falling back to the older
//! first-key/last-key/step triple. Read once from a node, so that the table
//! never goes stale against the server's commands (modules included).
//!
//! A key specification is a pair: where to begin searching (`index`: at a
//! fixed argument; `keyword`: after a word such as `STREAMS`) and how to find
//! the keys from there (`range`: to a last index with a step; `keynum`: a
//! count argument such as `EVAL`'s `numkeys`, then that many keys).

use crate::error::{Error, Result};
use crate::value::convert::pairs;
use crate::value::{FromValue, Value};
use std::collections::HashMap;

/// Where the keys of one command are.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct KeyLayout {
    specs: Vec<Spec>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Spec {
    begin: Begin,
    find: Find,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Begin {
    /// At this argument (the name is 0; negative counts from the end).
    Index(i64),
    /// After `keyword`, searched from `from` (negative: backwards from the end).
    Keyword { keyword: Vec<u8>, from: i64 },
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Find {
    /// Keys up to `last` (relative to the beginning; -1 the last argument,
    /// -2 the one before…), every `step`; with `limit` > 1 (and `last` -1),
    /// only 1/limit of what remains.
    Range { last: i64, step: i64, limit: i64 },
    /// A count at `count_at`, keys from `first`, every `step`.
    KeyNum {
        count_at: i64,
        first: i64,
        step: i64,
    },
}

/// The key layouts of every command a server knows, by lowercase name
/// (`get`, `xgroup|create` for a subcommand).
#[derive(Debug, Clone, Default)]
pub(crate) struct CommandTable {
    layouts: HashMap<String, KeyLayout>,
    /// Commands flagged `readonly` (which a replica may answer).
    readonly: std::collections::HashSet<String>,
    /// Commands whose layout is on their subcommands.
    with_subcommands: std::collections::HashSet<String>,
}

impl CommandTable {
    /// Reads the reply of `COMMAND` (RESP2 or RESP3).
    pub(crate) fn from_command_reply(reply: Value) -> Result<CommandTable> {
        let mut table = CommandTable::default();
        for entry in Vec::<Value>::from_value(reply)? {
            table.add_entry(entry)?;
        }
        Ok(table)
    }

    fn add_entry(&mut self, entry: Value) -> Result<()> {
        let fields = Vec::<Value>::from_value(entry)?;
        let name = fields
            .first()
            .cloned()
            .map(String::from_value)
            .transpose()?
            .ok_or_else(|| Error::protocol("a COMMAND entry without a name"))?
            .to_ascii_lowercase();
        let number = |i: usize| {
            fields
                .get(i)
                .cloned()
                .map(i64::from_value)
                .transpose()
                .map(Option::unwrap_or_default)
        };
        let (first, last, step) = (number(3)?, number(4)?, number(5)?);
        if let Some(flags) = fields.get(2) {
            let flags = Vec::<String>::from_value(flags.clone()).unwrap_or_default();
            if flags.iter().any(|f| f == "readonly") {
                self.readonly.insert(name.clone());
            }
        }
        let specs = match fields.get(8) {
            Some(specs) => parse_specs(specs.clone())?,
            None => Vec::new(),
        };
        let layout = if specs.is_empty() && first > 0 {
            // Servers before key specifications: the triple.
            KeyLayout {
                specs: vec![Spec {
                    begin: Begin::Index(first),
                    find: Find::Range {
                        last: if last < 0 { last } else { last - first },
                        step: step.max(1),
                        limit: 0,
                    },
                }],
            }
        } else {
            KeyLayout { specs }
        };
        if let Some(subcommands) = fields.get(9) {
            let subcommands = Vec::<Value>::from_value(subcommands.clone())?;
            if !subcommands.is_empty() {
                self.with_subcommands.insert(name.clone());
            }
            for sub in subcommands {
                self.add_entry(sub)?;
            }
        }
        self.layouts.insert(name, layout);
        Ok(())
    }

    /// The keys among `args` (the command's name first), in order.
    pub(crate) fn keys<'a>(&self, args: &[&'a [u8]]) -> Vec<&'a [u8]> {
        let Some(name) = args.first() else {
            return Vec::new();
        };
        let name = String::from_utf8_lossy(name).to_ascii_lowercase();
        let layout = match (self.with_subcommands.contains(&name), args.get(1)) {
            (true, Some(sub)) => {
                let full = format!(
                    "{name}|{}",
                    String::from_utf8_lossy(sub).to_ascii_lowercase()
                );
                self.layouts.get(&full)
            }
            _ => self.layouts.get(&name),
        };
        layout.map_or_else(Vec::new, |l| l.keys(args))
    }

    /// True for a command that only reads (its `readonly` flag), which a
    /// replica may answer.
    pub(crate) fn is_readonly(&self, args: &[&[u8]]) -> bool {
        let Some(name) = args.first() else {
            return false;
        };
        let name = String::from_utf8_lossy(name).to_ascii_lowercase();
        let full = match (self.with_subcommands.contains(&name), args.get(1)) {
            (true, Some(sub)) => format!(
                "{name}|{}",
                String::from_utf8_lossy(sub).to_ascii_lowercase()
            ),
            _ => name,
        };
        self.readonly.contains(&full)
    }

    /// True when the server knows the command.
    #[cfg_attr(not(test), allow(dead_code))]
    pub(crate) fn knows(&self, name: &[u8]) -> bool {
        self.layouts
            .contains_key(&String::from_utf8_lossy(name).to_ascii_lowercase())
    }
}

impl KeyLayout {
    fn keys<'a>(&self, args: &[&'a [u8]]) -> Vec<&'a [u8]> {
        let mut keys = Vec::new();
        for spec in &self.specs {
            spec.collect(args, &mut keys);
        }
        keys
    }
}

impl Spec {
    fn collect<'a>(&self, args: &[&'a [u8]], out: &mut Vec<&'a [u8]>) {
        let len = args.len() as i64;
        let at = |i: i64| if i < 0 { len + i } else { i };
        let start = match &self.begin {
            Begin::Index(i) => at(*i),
            Begin::Keyword { keyword, from } => {
                let found = if *from >= 0 {
                    (*from..len).find(|&i| args[i as usize].eq_ignore_ascii_case(keyword))
                } else {
                    (1..=at(*from))
                        .rev()
                        .find(|&i| args[i as usize].eq_ignore_ascii_case(keyword))
                };
                match found {
                    Some(i) => i + 1,
                    None => return,
                }
            }
        };
        if start < 1 || start >= len {
            return;
        }
        let (first, last, step) = match self.find {
            Find::Range { last, step, limit } => {
                let end = if last >= 0 {
                    start + last
                } else if limit > 1 {
                    start + (len - start) / limit - 1
                } else {
                    len + last
                };
                (start, end, step.max(1))
            }
            Find::KeyNum {
                count_at,
                first,
                step,
            } => {
                let Some(count) = args
                    .get((start + count_at) as usize)
                    .and_then(|c| std::str::from_utf8(c).ok()?.parse::<i64>().ok())
                else {
                    return;
                };
                let first = start + first;
                let step = step.max(1);
                (first, first + (count - 1) * step, step)
            }
        };
        let mut i = first;
        while i <= last && i < len {
            if i >= 1 {
                out.push(args[i as usize]);
            }
            i += step;
        }
    }
}

/// The key specifications of one command entry.
fn parse_specs(specs: Value) -> Result<Vec<Spec>> {
    let mut out = Vec::new();
    for spec in Vec::<Value>::from_value(specs)? {
        let fields = map(spec)?;
        let (Some(begin), Some(find)) = (fields.get("begin_search"), fields.get("find_keys"))
        else {
            continue;
        };
        let (Some(begin), Some(find)) = (parse_begin(begin.clone())?, parse_find(find.clone())?)
        else {
            // An "unknown" search: the server cannot say; nor can we.
            continue;
        };
        out.push(Spec { begin, find });
    }
    Ok(out)
}

fn parse_begin(value: Value) -> Result<Option<Begin>> {
    let fields = map(value)?;
    let spec = map(fields.get("spec").cloned().unwrap_or(Value::Nil))?;
    let int = |k: &str| spec.get(k).cloned().map(i64::from_value).transpose();
    Ok(match text(fields.get("type")).as_str() {
        "index" => int("index")?.map(Begin::Index),
        "keyword" => match (spec.get("keyword"), int("startfrom")?) {
            (Some(k), Some(from)) => Some(Begin::Keyword {
                keyword: Vec::<u8>::from_value(k.clone())?,
                from,
            }),
            _ => None,
        },
        _ => None,
    })
}

fn parse_find(value: Value) -> Result<Option<Find>> {
    let fields = map(value)?;
    let spec = map(fields.get("spec").cloned().unwrap_or(Value::Nil))?;
    let int = |k: &str| spec.get(k).cloned().map(i64::from_value).transpose();
    Ok(match text(fields.get("type")).as_str() {
        "range" => match (int("lastkey")?, int("keystep")?, int("limit")?) {
            (Some(last), Some(step), limit) => Some(Find::Range {
                last,
                step,
                limit: limit.unwrap_or(0),
            }),
            _ => None,
        },
        "keynum" => match (int("keynumidx")?, int("firstkey")?, int("keystep")?) {
            (Some(count_at), Some(first), Some(step)) => Some(Find::KeyNum {
                count_at,
                first,
                step,
            }),
            _ => None,
        },
        _ => None,
    })
}

/// A RESP3 map or a RESP2 flat array, by field name.
fn map(value: Value) -> Result<HashMap<String, Value>> {
    pairs(value, "a map")?
        .into_iter()
        .map(|(k, v)| Ok((String::from_value(k)?, v)))
        .collect()
}

fn text(value: Option<&Value>) -> String {
    value
        .cloned()
        .and_then(|v| String::from_value(v).ok())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{cmd, Client, Config, Protocol};

    async fn table(protocol: Protocol) -> (CommandTable, redwire_testkit::RedisServer) {
        let server = redwire_testkit::RedisServer::start().unwrap();
        let config = Config::from_url(&server.url())
            .unwrap()
            .into_builder()
            .protocol(protocol)
            .build();
        let client = Client::connect(config).await.unwrap();
        let reply = client.send(&cmd("COMMAND")).await.unwrap();
        (CommandTable::from_command_reply(reply).unwrap(), server)
    }

    fn keys<'a>(table: &CommandTable, line: &'a str) -> Vec<&'a str> {
        let args: Vec<&[u8]> = line.split(' ').map(str::as_bytes).collect();
        table
            .keys(&args)
            .into_iter()
            .map(|k| std::str::from_utf8(k).unwrap())
            .collect()
    }

    #[tokio::test]
    async fn the_servers_own_key_specifications_find_the_keys() {
        for protocol in [Protocol::Resp2, Protocol::Resp3] {
            let (t, _server) = table(protocol).await;
            let cases: [(&str, &[&str]); 21] = [
                ("LCS a b", &["a", "b"]),
                ("BLPOP a b 0", &["a", "b"]),
                ("GET", &[]),
                ("EVAL script 0", &[]),
                ("EVAL script 3 k1", &["k1"]),
                ("XREAD COUNT 1", &[]),
                ("MIGRATE h 6379 x 0 5000 KEYS k1 k2", &["x", "k1", "k2"]),
                ("GET k", &["k"]),
                ("get k", &["k"]),
                ("SET k v EX 10", &["k"]),
                ("MSET a 1 b 2 c 3", &["a", "b", "c"]),
                ("DEL a b c", &["a", "b", "c"]),
                ("EVAL script 2 k1 k2 arg", &["k1", "k2"]),
                ("FCALL f 1 k arg", &["k"]),
                ("XREAD COUNT 1 STREAMS s1 s2 0 0", &["s1", "s2"]),
                ("ZUNION 2 a b WITHSCORES", &["a", "b"]),
                ("ZUNIONSTORE dst 2 a b", &["dst", "a", "b"]),
                ("LMOVE src dst LEFT RIGHT", &["src", "dst"]),
                ("OBJECT ENCODING k", &["k"]),
                ("XGROUP CREATE s g $", &["s"]),
                ("PING", &[]),
            ];
            for (line, want) in cases {
                assert_eq!(keys(&t, line), want, "{line} over {protocol:?}");
            }
            assert!(t.knows(b"get") && !t.knows(b"nosuchcommand"));
            assert!(
                t.is_readonly(&[b"GET", b"k"]) && t.is_readonly(&[b"object", b"encoding", b"k"])
            );
            assert!(
                !t.is_readonly(&[b"SET", b"k", b"v"]) && !t.is_readonly(&[b"xgroup", b"create"])
            );
            assert!(keys(&t, "NOSUCHCOMMAND a b").is_empty());
            assert!(keys(&t, "").is_empty());
        }
    }
}

#[cfg(test)]
mod legacy {
    use super::*;

    #[test]
    fn a_server_without_key_specifications_is_read_by_its_triple() {
        let entry = |name: &str, first: i64, last: i64, step: i64| {
            Value::Array(vec![
                Value::Bulk(bytes::Bytes::copy_from_slice(name.as_bytes())),
                Value::Int(-2),
                Value::Array(vec![]),
                Value::Int(first),
                Value::Int(last),
                Value::Int(step),
            ])
        };
        let reply = Value::Array(vec![
            entry("mget", 1, -1, 1),
            entry("mset", 1, -1, 2),
            entry("get", 1, 1, 1),
            entry("ping", 0, 0, 0),
        ]);
        let t = CommandTable::from_command_reply(reply).unwrap();
        let keys = |line: &str| -> Vec<String> {
            let args: Vec<&[u8]> = line.split(' ').map(str::as_bytes).collect();
            t.keys(&args)
                .into_iter()
                .map(|k| String::from_utf8_lossy(k).into_owned())
                .collect()
        };
        assert_eq!(keys("MGET a b c"), ["a", "b", "c"]);
        assert_eq!(keys("MSET a 1 b 2"), ["a", "b"]);
        assert_eq!(keys("GET k"), ["k"]);
        assert!(keys("PING").is_empty());
    }
}
