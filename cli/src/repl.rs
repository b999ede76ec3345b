//! The interactive prompt: line editing and history (rustyline), command-name
//! completion and hints of each command's arguments built from the server's
//! `COMMAND DOCS`, so the hints match the server's version, modules included.

use crate::cli::{command, EXIT_FAILURE, EXIT_OK};
use crate::format::{render, render_error, Mode};
use crate::split::split_args;
use crate::stream;
use crate::target::connect;
use redwire::{cmd, Client, Config, ErrorKind, Pipeline, Value};
use rustyline::completion::Completer;
use rustyline::highlight::Highlighter;
use rustyline::hint::Hinter;
use rustyline::history::DefaultHistory;
use rustyline::validate::Validator;
use rustyline::{Context, Editor};
use std::borrow::Cow;
use std::collections::BTreeMap;
use std::path::PathBuf;
use tokio::runtime::Runtime;

/// What `COMMAND DOCS` says about one command.
#[derive(Debug, Default, Clone)]
struct Doc {
    summary: String,
    group: String,
    /// The top-level arguments as redis-cli would show them, and whether each
    /// is required and single (so a typed word certainly fills it).
    args: Vec<(String, bool)>,
}

/// Docs by command, `GET` or `CONFIG GET` for subcommands.
type Docs = BTreeMap<String, Doc>;

/// The key/value pairs of a RESP3 map or of a RESP2 flat array.
fn pairs(v: &Value) -> Vec<(&Value, &Value)> {
    match v {
        Value::Map(p) => p.iter().map(|(k, v)| (k, v)).collect(),
        Value::Array(items) => items.chunks_exact(2).map(|c| (&c[0], &c[1])).collect(),
        _ => Vec::new(),
    }
}

fn text(v: &Value) -> String {
    v.as_bytes()
        .map(|b| String::from_utf8_lossy(b).into_owned())
        .unwrap_or_default()
}

fn field<'a>(v: &'a Value, name: &str) -> Option<&'a Value> {
    pairs(v)
        .into_iter()
        .find(|(k, _)| text(k).eq_ignore_ascii_case(name))
        .map(|(_, v)| v)
}

/// One argument in redis-cli's notation: `[EX seconds|PX milliseconds]`,
/// `key [key ...]`.
fn arg_text(arg: &Value) -> (String, bool) {
    let kind = field(arg, "type").map(text).unwrap_or_default();
    let flags: Vec<String> = field(arg, "flags")
        .and_then(|f| f.as_array())
        .map(|f| f.iter().map(text).collect())
        .unwrap_or_default();
    let children = || -> Vec<String> {
        field(arg, "arguments")
            .and_then(|a| a.as_array())
            .map(|a| a.iter().map(|c| arg_text(c).0).collect())
            .unwrap_or_default()
    };
    let token = field(arg, "token").map(text);
    let core = match kind.as_str() {
        "oneof" => children().join("|"),
        "block" => children().join(" "),
        "pure-token" => token.clone().unwrap_or_default(),
        _ => field(arg, "display_text")
            .or_else(|| field(arg, "name"))
            .map(text)
            .unwrap_or_default(),
    };
    let mut s = match token {
        Some(t) if kind != "pure-token" => format!("{t} {core}"),
        _ => core,
    };
    let multiple = flags.iter().any(|f| f == "multiple");
    let optional = flags.iter().any(|f| f == "optional");
    if multiple {
        s = format!("{s} [{s} ...]");
    }
    if optional {
        s = format!("[{s}]");
    }
    (s, !optional && !multiple)
}

fn doc_of(body: &Value) -> Doc {
    Doc {
        summary: field(body, "summary").map(text).unwrap_or_default(),
        group: field(body, "group").map(text).unwrap_or_default(),
        args: field(body, "arguments")
            .and_then(|a| a.as_array())
            .map(|a| a.iter().map(arg_text).collect())
            .unwrap_or_default(),
    }
}

fn add_docs(docs: &mut Docs, reply: &Value) {
    for (name, body) in pairs(reply) {
        let name = text(name).to_ascii_uppercase().replace('|', " ");
        if let Some(subs) = field(body, "subcommands") {
            add_docs(docs, subs);
        }
        docs.insert(name, doc_of(body));
    }
}

/// The docs, or none on a server without `COMMAND DOCS` (before Redis 7):
/// the prompt works the same, without hints.
async fn load_docs(client: &Client) -> Docs {
    let mut docs = Docs::new();
    if let Ok(reply) = client.send(&cmd("COMMAND").arg("DOCS")).await {
        add_docs(&mut docs, &reply);
    }
    docs
}

struct Helper {
    docs: Docs,
    color: bool,
}

impl Helper {
    /// The command's doc and how many argument words follow its name.
    fn lookup(&self, words: &[String]) -> Option<(&Doc, usize)> {
        let first = words.first()?.to_ascii_uppercase();
        if let Some(second) = words.get(1) {
            let key = format!("{first} {}", second.to_ascii_uppercase());
            if let Some(doc) = self.docs.get(&key) {
                return Some((doc, words.len() - 2));
            }
        }
        self.docs.get(&first).map(|d| (d, words.len() - 1))
    }
}

/// The hint after `line`: the arguments still to type.
fn hint_for(helper: &Helper, line: &str) -> Option<String> {
    let words: Vec<String> = line.split_whitespace().map(String::from).collect();
    let ends_in_space = line.ends_with(char::is_whitespace);
    let (doc, after) = helper.lookup(&words)?;
    // A word still being typed fills no argument yet.
    let typed = if ends_in_space {
        after
    } else {
        after.saturating_sub(1)
    };
    if !ends_in_space && after > 0 {
        return None;
    }
    let filled = doc
        .args
        .iter()
        .take(typed)
        .take_while(|(_, required)| *required)
        .count();
    if filled < typed && doc.args.iter().skip(filled).all(|(_, r)| *r) {
        return None;
    }
    let rest: Vec<&str> = doc.args[filled..].iter().map(|(s, _)| s.as_str()).collect();
    if rest.is_empty() {
        return None;
    }
    let lead = if ends_in_space { "" } else { " " };
    Some(format!("{lead}{}", rest.join(" ")))
}

impl Hinter for Helper {
    type Hint = String;
    fn hint(&self, line: &str, pos: usize, _: &Context<'_>) -> Option<String> {
        if pos < line.len() {
            return None;
        }
        hint_for(self, line)
    }
}

impl Highlighter for Helper {
    fn highlight_hint<'h>(&self, hint: &'h str) -> Cow<'h, str> {
        if self.color {
            Cow::Owned(format!("\x1b[90m{hint}\x1b[0m"))
        } else {
            Cow::Borrowed(hint)
        }
    }
}

impl Completer for Helper {
    type Candidate = String;
    fn complete(
        &self,
        line: &str,
        pos: usize,
        _: &Context<'_>,
    ) -> rustyline::Result<(usize, Vec<String>)> {
        let head = &line[..pos];
        if head.contains(char::is_whitespace) {
            return Ok((pos, Vec::new()));
        }
        let upper = head.to_ascii_uppercase();
        let found = self
            .docs
            .keys()
            .filter(|k| !k.contains(' ') && k.starts_with(&upper))
            .map(|k| {
                let lower = head.chars().next().is_some_and(|c| c.is_ascii_lowercase());
                if lower {
                    k.to_ascii_lowercase()
                } else {
                    k.clone()
                }
            })
            .collect();
        Ok((0, found))
    }
}

impl Validator for Helper {}
impl rustyline::Helper for Helper {}

fn history_path() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("REDWIRE_HISTFILE") {
        return Some(PathBuf::from(p));
    }
    std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".redwire_history"))
}

fn prompt(config: &Config, in_tx: bool) -> String {
    let tx = if in_tx { "(TX)" } else { "" };
    match config.database() {
        0 => format!("{}{tx}> ", config.addr()),
        db => format!("{}[{db}]{tx}> ", config.addr()),
    }
}

/// `MULTI` … `EXEC` at the prompt. The client's connection is shared, so the
/// commands are queued here and sent together as one atomic pipeline at
/// `EXEC` (the server answers exactly as to `MULTI`, the commands and `EXEC`).
/// Returns true when `name` was a transaction command or was queued.
fn transaction_step(
    rt: &Runtime,
    client: &Client,
    tx: &mut Option<Pipeline>,
    name: &str,
    words: &[Vec<u8>],
    mode: Mode,
) -> bool {
    let error = |text: &str| println!("{}", render_error(text, mode));
    match (name, tx.as_mut()) {
        ("MULTI", Some(_)) => error("ERR MULTI calls can not be nested"),
        ("MULTI", None) => {
            let mut p = Pipeline::new();
            p.atomic();
            *tx = Some(p);
            println!("{}", render(&Value::Simple("OK".into()), mode));
        }
        ("EXEC" | "DISCARD", None) => error(&format!("ERR {name} without MULTI")),
        ("DISCARD", Some(_)) => {
            *tx = None;
            println!("{}", render(&Value::Simple("OK".into()), mode));
        }
        ("EXEC", Some(_)) => {
            let p = tx.take().unwrap_or_default();
            match rt.block_on(client.pipeline(&p)) {
                Ok(results) => {
                    let items = results
                        .into_iter()
                        .map(|r| r.unwrap_or_else(Value::Error))
                        .collect();
                    println!("{}", render(&Value::Array(items), mode));
                }
                Err(e) if e.kind() == ErrorKind::Server => error(e.message()),
                Err(e) => println!("(error) {e}"),
            }
        }
        (_, Some(p)) => {
            let c = command(words);
            if c.is_shareable() {
                p.add(c);
                println!("{}", render(&Value::Simple("QUEUED".into()), mode));
            } else {
                error(&format!(
                    "ERR {name} is not allowed inside MULTI at this prompt"
                ));
            }
        }
        (_, None) => return false,
    }
    true
}

fn help(docs: &Docs, words: &[String]) {
    if words.len() < 2 {
        println!("redwire cli: type a command and its arguments; hints show what comes next.");
        println!("\"help COMMAND\" shows what a command does; \"quit\" or Ctrl-D leaves.");
        return;
    }
    let name = words[1..].join(" ").to_ascii_uppercase();
    match docs.get(&name) {
        Some(doc) => {
            let args: Vec<&str> = doc.args.iter().map(|(s, _)| s.as_str()).collect();
            println!("\n  {name} {}", args.join(" "));
            println!("  summary: {}", doc.summary);
            println!("  group: {}\n", doc.group);
        }
        None => println!("no help for {name}"),
    }
}

/// Runs the prompt until `quit`, Ctrl-D or Ctrl-C.
pub fn run(rt: &Runtime, mut config: Config, url: &str, mode: Mode) -> u8 {
    let mut client = match rt.block_on(connect(config.clone())) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("redwire: {e}");
            return EXIT_FAILURE;
        }
    };
    let docs = rt.block_on(load_docs(&client));
    let mut editor = match Editor::<Helper, DefaultHistory>::new() {
        Ok(e) => e,
        Err(e) => {
            eprintln!("redwire: cannot start the prompt: {e}");
            return EXIT_FAILURE;
        }
    };
    let color = std::env::var_os("NO_COLOR").is_none();
    editor.set_helper(Some(Helper { docs, color }));
    let history = history_path();
    if let Some(h) = &history {
        let _ = editor.load_history(h);
    }
    // Ctrl-C and Ctrl-D end the loop (an Err), as in redis-cli.
    let mut tx: Option<Pipeline> = None;
    while let Ok(line) = editor.readline(&prompt(&config, tx.is_some())) {
        if line.trim().is_empty() {
            continue;
        }
        let _ = editor.add_history_entry(line.as_str());
        let words = match split_args(&line) {
            Ok(w) if !w.is_empty() => w,
            Ok(_) => continue,
            Err(e) => {
                println!("Invalid argument(s): {e}");
                continue;
            }
        };
        let name = String::from_utf8_lossy(&words[0]).to_ascii_uppercase();
        match name.as_str() {
            "QUIT" | "EXIT" => break,
            "HELP" => {
                let strs: Vec<String> = words
                    .iter()
                    .map(|w| String::from_utf8_lossy(w).into_owned())
                    .collect();
                let docs = editor.helper().map(|h| &h.docs);
                help(docs.unwrap_or(&Docs::new()), &strs);
                continue;
            }
            "CLEAR" => {
                print!("\x1b[H\x1b[2J");
                continue;
            }
            _ => {}
        }
        if stream::is_streaming(&words[0]) {
            if let Err(e) = rt.block_on(stream::run(&config, url, &words, mode)) {
                println!("{}", render_error(&e, mode));
            }
            continue;
        }
        if transaction_step(rt, &client, &mut tx, &name, &words, mode) {
            continue;
        }
        if name == "SELECT" && words.len() == 2 {
            // The shared client keeps its database in its configuration (it
            // selects it again on every reconnect): a new client it is.
            match String::from_utf8_lossy(&words[1]).parse() {
                Ok(db) => {
                    let next = config.clone().into_builder().database(db).build();
                    match rt.block_on(connect(next.clone())) {
                        Ok(c) => {
                            (client, config) = (c, next);
                            println!("{}", render(&Value::Simple("OK".into()), mode));
                        }
                        Err(e) => println!("(error) {e}"),
                    }
                }
                Err(_) => println!(
                    "{}",
                    render_error("ERR value is not an integer or out of range", mode)
                ),
            }
            continue;
        }
        match rt.block_on(crate::cli::send(&client, &command(&words))) {
            Ok(value) => println!("{}", render(&value, mode)),
            Err(e) if e.kind() == ErrorKind::Server => {
                println!("{}", render_error(e.message(), mode))
            }
            Err(e) => println!("(error) {e}"),
        }
    }
    if let Some(h) = &history {
        let _ = editor.save_history(h);
    }
    EXIT_OK
}

#[cfg(test)]
mod tests {
    use super::*;

    fn helper() -> Helper {
        let bulk = |s: &str| Value::Bulk(s.to_string().into());
        let arg = |name: &str, kind: &str, flags: &[&str]| {
            Value::Map(vec![
                (bulk("name"), bulk(name)),
                (bulk("type"), bulk(kind)),
                (
                    bulk("flags"),
                    Value::Array(
                        flags
                            .iter()
                            .map(|f| Value::Simple(f.to_string().into()))
                            .collect(),
                    ),
                ),
            ])
        };
        let set = Value::Map(vec![
            (bulk("summary"), bulk("Sets the string value of a key.")),
            (
                bulk("arguments"),
                Value::Array(vec![
                    arg("key", "key", &[]),
                    arg("value", "string", &[]),
                    Value::Map(vec![
                        (bulk("name"), bulk("get")),
                        (bulk("type"), bulk("pure-token")),
                        (bulk("token"), bulk("GET")),
                        (
                            bulk("flags"),
                            Value::Array(vec![Value::Simple("optional".into())]),
                        ),
                    ]),
                ]),
            ),
        ]);
        let mut docs = Docs::new();
        add_docs(&mut docs, &Value::Map(vec![(bulk("set"), set)]));
        Helper { docs, color: false }
    }

    #[test]
    fn hints_show_the_arguments_still_to_type() {
        let h = helper();
        assert_eq!(hint_for(&h, "set").as_deref(), Some(" key value [GET]"));
        assert_eq!(hint_for(&h, "SET k ").as_deref(), Some("value [GET]"));
        assert_eq!(hint_for(&h, "SET k v ").as_deref(), Some("[GET]"));
        assert_eq!(hint_for(&h, "SET k").as_deref(), None);
        assert_eq!(hint_for(&h, "NOPE ").as_deref(), None);
    }
}
