//! The interactive prompt: line editing and history (rustyline), completion
//! of command and subcommand names, hints of each command's arguments and
//! `help` built from the server's `COMMAND DOCS` (see [`docs`]: fetched in
//! the background once per connection, a static list of names where the
//! server has none), so they match the server's version, modules included.
//! The prompt says `(TX)` inside `MULTI` and `not connected` while the
//! connection is down, as redis-cli's does.

mod docs;

use crate::exit::{EXIT_FAILURE, EXIT_OK};
use crate::format::{is_text_command, print, render_error, Mode};
use crate::remote::{command, Remote};
use crate::split::split_args;
use crate::stream;
use crate::words::failure;
use docs::{Doc, Docs, LazyDocs};
use redwire::{Config, ErrorKind, Pipeline, Value};
use rustyline::completion::Completer;
use rustyline::highlight::Highlighter;
use rustyline::hint::Hinter;
use rustyline::history::DefaultHistory;
use rustyline::validate::Validator;
use rustyline::{Context, Editor};
use std::borrow::Cow;
use std::path::PathBuf;
use tokio::runtime::Runtime;

struct Helper {
    docs: LazyDocs,
    color: bool,
}

/// The command's doc and how many argument words follow its name.
fn lookup<'d>(docs: &'d Docs, words: &[String]) -> Option<(&'d Doc, usize)> {
    let first = words.first()?.to_ascii_uppercase();
    if let Some(second) = words.get(1) {
        let key = format!("{first} {}", second.to_ascii_uppercase());
        if let Some(doc) = docs.get(&key) {
            return Some((doc, words.len() - 2));
        }
    }
    docs.get(&first).map(|d| (d, words.len() - 1))
}

/// The hint after `line`: the arguments still to type. A word being typed
/// counts as the argument it is filling, so the hint stays while typing.
fn hint_for(docs: &Docs, line: &str) -> Option<String> {
    let words: Vec<String> = line.split_whitespace().map(String::from).collect();
    let ends_in_space = line.ends_with(char::is_whitespace);
    let (doc, after) = lookup(docs, &words)?;
    if after == 0 && !ends_in_space && words.len() > 1 {
        // "CLIENT KI": the subcommand is still being typed.
        return None;
    }
    let filled = doc
        .args
        .iter()
        .take(after)
        .take_while(|(_, required)| *required)
        .count();
    if filled < after {
        // Past the required arguments: the optional ones could be in any order.
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
        if pos < line.len() || line.trim().is_empty() {
            return None;
        }
        hint_for(&self.docs.get(), line)
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

/// The candidates for the word at the end of `head`: a command name first, a
/// subcommand after a command that has them, a command or `@group` after
/// `help`.
fn complete_word(docs: &Docs, head: &str) -> (usize, Vec<String>) {
    let start = head.rfind(char::is_whitespace).map(|i| i + 1).unwrap_or(0);
    let word = &head[start..];
    let before: Vec<String> = head[..start]
        .split_whitespace()
        .map(|w| w.to_ascii_uppercase())
        .collect();
    let upper = word.to_ascii_uppercase();
    let lower = word.chars().next().is_some_and(|c| c.is_ascii_lowercase());
    let case = |k: &str| {
        if lower {
            k.to_ascii_lowercase()
        } else {
            k.to_string()
        }
    };
    let mut found: Vec<String> = match before.as_slice() {
        [] => docs
            .keys()
            .filter(|k| !k.contains(' ') && k.starts_with(&upper))
            .map(|k| case(k))
            .collect(),
        [help] if help == "HELP" => {
            let mut topics: Vec<String> =
                groups(docs).into_iter().map(|g| format!("@{g}")).collect();
            topics.extend(docs.keys().filter(|k| !k.contains(' ')).cloned());
            topics
                .into_iter()
                .filter(|t| t.to_ascii_uppercase().starts_with(&upper))
                .map(|t| case(&t))
                .collect()
        }
        [name] => docs
            .keys()
            .filter_map(|k| k.strip_prefix(&format!("{name} ")))
            .filter(|sub| sub.starts_with(&upper))
            .map(case)
            .collect(),
        _ => Vec::new(),
    };
    found.dedup();
    (start, found)
}

impl Completer for Helper {
    type Candidate = String;
    fn complete(
        &self,
        line: &str,
        pos: usize,
        _: &Context<'_>,
    ) -> rustyline::Result<(usize, Vec<String>)> {
        Ok(complete_word(&self.docs.get(), &line[..pos]))
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

/// redis-cli's prompt: `host:port[db](TX)> `, or `not connected> ` while
/// the connection is down.
fn prompt(config: &Config, in_tx: bool, connected: bool) -> String {
    if !connected {
        return "not connected> ".to_string();
    }
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
    remote: &Remote,
    tx: &mut Option<Pipeline>,
    name: &str,
    words: &[Vec<u8>],
    mode: Mode,
) -> bool {
    let error = |text: &str| println!("{}", render_error(text, mode));
    let ok = |text: &'static str| print(&Value::Simple(text.into()), mode, false);
    match (name, tx.as_mut()) {
        ("MULTI", Some(_)) => error("ERR MULTI calls can not be nested"),
        ("MULTI", None) => {
            let mut p = Pipeline::new();
            p.atomic();
            *tx = Some(p);
            ok("OK");
        }
        ("EXEC" | "DISCARD", None) => error(&format!("ERR {name} without MULTI")),
        ("DISCARD", Some(_)) => {
            *tx = None;
            ok("OK");
        }
        ("EXEC", Some(_)) => {
            let p = tx.take().unwrap_or_default();
            match rt.block_on(remote.pipeline(&p)) {
                Ok(results) => {
                    let items = results
                        .into_iter()
                        .map(|r| r.unwrap_or_else(Value::Error))
                        .collect();
                    print(&Value::Array(items), mode, false);
                }
                Err(e) if e.kind() == ErrorKind::Server => error(e.message()),
                Err(e) => println!("(error) {}", failure(&e)),
            }
        }
        (_, Some(p)) => {
            let c = command(words);
            if c.is_shareable() {
                p.add(c);
                ok("QUEUED");
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

/// The command groups the server's docs name, sorted.
fn groups(docs: &Docs) -> Vec<String> {
    let mut g: Vec<String> = docs
        .values()
        .map(|d| d.group.clone())
        .filter(|g| !g.is_empty())
        .collect();
    g.sort();
    g.dedup();
    g
}

/// One entry of `help`, as redis-cli prints it.
fn help_entry(name: &str, doc: &Doc, with_group: bool) -> String {
    let args: Vec<&str> = doc.args.iter().map(|(s, _)| s.as_str()).collect();
    let syntax = format!("{name} {}", args.join(" "));
    let mut out = format!("\n  {}\n", syntax.trim_end());
    if !doc.summary.is_empty() {
        out.push_str(&format!("  summary: {}\n", doc.summary));
    }
    if !doc.since.is_empty() {
        out.push_str(&format!("  since: {}\n", doc.since));
    }
    if with_group {
        out.push_str(&format!("  group: {}\n", doc.group));
    }
    out
}

/// `help`, `help COMMAND [SUBCOMMAND]` and `help @group`.
fn help_text(docs: &Docs, words: &[String]) -> String {
    if words.len() < 2 {
        return format!(
            "redwire cli: type a command and its arguments; hints show what comes next.\n\
             \"help @<group>\" lists the commands of a group: {}\n\
             \"help <command>\" shows what a command does; Tab completes; \"quit\" or Ctrl-D leaves.",
            groups(docs)
                .iter()
                .map(|g| format!("@{g}"))
                .collect::<Vec<_>>()
                .join(" ")
        );
    }
    if let Some(group) = words[1].strip_prefix('@') {
        // redis-cli spells them sorted_set, the server sorted-set.
        let want = group.to_ascii_lowercase().replace('_', "-");
        let entries: String = docs
            .iter()
            .filter(|(_, d)| d.group.eq_ignore_ascii_case(&want))
            .map(|(name, d)| help_entry(name, d, false))
            .collect();
        return if entries.is_empty() {
            format!("no command in group @{group}")
        } else {
            entries.trim_end().to_string() + "\n"
        };
    }
    let name = words[1..].join(" ").to_ascii_uppercase();
    match docs.get(&name) {
        Some(doc) => help_entry(&name, doc, true),
        None => format!("no help for {name}"),
    }
}

/// Runs the prompt until `quit`, Ctrl-D or Ctrl-C.
pub fn run(rt: &Runtime, mut config: Config, cluster: bool, mode: Mode) -> u8 {
    let mut remote = match rt.block_on(Remote::connect(config.clone(), cluster)) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("redwire: {e}");
            return EXIT_FAILURE;
        }
    };
    // Fetched in the background, waited for at its first use.
    let docs = LazyDocs::start(rt.handle().clone(), remote.clone());
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
    loop {
        let connected = remote.connected();
        let Ok(line) = editor.readline(&prompt(&config, tx.is_some(), connected)) else {
            break;
        };
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
                let docs = editor.helper().map(|h| h.docs.get()).unwrap_or_default();
                println!("{}", help_text(&docs, &strs));
                continue;
            }
            "CLEAR" => {
                print!("\x1b[H\x1b[2J");
                continue;
            }
            _ => {}
        }
        if stream::is_streaming(&words[0]) {
            if let Err(e) = rt.block_on(stream::run(&config, &words, mode)) {
                println!("{}", render_error(&e, mode));
            }
            continue;
        }
        if transaction_step(rt, &remote, &mut tx, &name, &words, mode) {
            continue;
        }
        if name == "SELECT" && remote.is_cluster() {
            println!(
                "{}",
                render_error("ERR SELECT is not allowed in cluster mode", mode)
            );
            continue;
        }
        if name == "SELECT" && words.len() == 2 {
            // The shared client keeps its database in its configuration (it
            // selects it again on every reconnect): a new client it is.
            match String::from_utf8_lossy(&words[1]).parse() {
                Ok(db) => {
                    let next = config.clone().into_builder().database(db).build();
                    match rt.block_on(Remote::connect(next.clone(), false)) {
                        Ok(r) => {
                            if let Some(h) = editor.helper() {
                                h.docs.follow(&r);
                            }
                            (remote, config) = (r, next);
                            print(&Value::Simple("OK".into()), mode, false);
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
        match rt.block_on(remote.send(&command(&words))) {
            Ok(value) => print(&value, mode, is_text_command(&words)),
            Err(e) if e.kind() == ErrorKind::Server => {
                println!("{}", render_error(e.message(), mode))
            }
            Err(e) => println!("(error) {}", failure(&e)),
        }
    }
    if let Some(h) = &history {
        let _ = editor.save_history(h);
    }
    EXIT_OK
}

#[cfg(test)]
mod tests_support {
    use super::docs::add_docs;
    use super::*;

    /// Docs for SET (with arguments), CLIENT (with subcommands) and ZADD.
    pub fn helper() -> Helper {
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
            (bulk("since"), bulk("1.0.0")),
            (bulk("group"), bulk("string")),
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
        let client = Value::Map(vec![
            (
                bulk("summary"),
                bulk("A container for client connection commands."),
            ),
            (bulk("group"), bulk("connection")),
            (
                bulk("subcommands"),
                Value::Map(vec![
                    (
                        bulk("client|kill"),
                        Value::Map(vec![(bulk("group"), bulk("connection"))]),
                    ),
                    (
                        bulk("client|list"),
                        Value::Map(vec![(bulk("group"), bulk("connection"))]),
                    ),
                ]),
            ),
        ]);
        let zadd = Value::Map(vec![
            (bulk("summary"), bulk("Adds members to a sorted set.")),
            (bulk("group"), bulk("sorted-set")),
        ]);
        add_docs(
            &mut docs,
            &Value::Map(vec![
                (bulk("set"), set),
                (bulk("client"), client),
                (bulk("zadd"), zadd),
            ]),
        );
        Helper {
            docs: LazyDocs::settled(docs),
            color: false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::tests_support::helper;
    use super::*;

    #[test]
    fn hints_show_the_arguments_still_to_type() {
        let h = helper();
        assert_eq!(
            hint_for(&h.docs.get(), "set").as_deref(),
            Some(" key value [GET]")
        );
        assert_eq!(
            hint_for(&h.docs.get(), "SET k ").as_deref(),
            Some("value [GET]")
        );
        assert_eq!(
            hint_for(&h.docs.get(), "SET k v ").as_deref(),
            Some("[GET]")
        );
        assert_eq!(
            hint_for(&h.docs.get(), "SET k").as_deref(),
            Some(" value [GET]")
        );
        assert_eq!(hint_for(&h.docs.get(), "SET k v GET ").as_deref(), None);
        assert_eq!(hint_for(&h.docs.get(), "NOPE ").as_deref(), None);
    }
}

#[cfg(test)]
mod prompt_and_help {
    use super::tests_support::helper;
    use super::*;

    #[test]
    fn the_prompt_says_transaction_database_and_a_lost_connection() {
        let config = Config::builder().host("127.0.0.1").port(6379).build();
        assert_eq!(prompt(&config, false, true), "127.0.0.1:6379> ");
        assert_eq!(prompt(&config, true, true), "127.0.0.1:6379(TX)> ");
        let db = config.clone().into_builder().database(2).build();
        assert_eq!(prompt(&db, true, true), "127.0.0.1:6379[2](TX)> ");
        assert_eq!(prompt(&db, false, false), "not connected> ");
    }

    #[test]
    fn help_for_a_command_and_for_a_group() {
        let h = helper();
        let one = help_text(&h.docs.get(), &["help".into(), "set".into()]);
        assert_eq!(
            one,
            "\n  SET key value [GET]\n  summary: Sets the string value of a key.\n  \
             since: 1.0.0\n  group: string\n"
        );
        let group = help_text(&h.docs.get(), &["help".into(), "@string".into()]);
        assert!(group.contains("  SET key value [GET]\n"), "{group}");
        assert!(
            !group.contains("group:") && !group.contains("CLIENT"),
            "{group}"
        );
        // redis-cli's spelling of the group, the server's, either case.
        for name in ["@sorted_set", "@sorted-set", "@SORTED_SET"] {
            let text = help_text(&h.docs.get(), &["help".into(), name.into()]);
            assert!(text.contains("ZADD"), "{name}: {text}");
        }
        let none = help_text(&h.docs.get(), &["help".into(), "@nope".into()]);
        assert_eq!(none, "no command in group @nope");
        let intro = help_text(&h.docs.get(), &["help".into()]);
        assert!(intro.contains("@connection @sorted-set @string"), "{intro}");
    }

    #[test]
    fn tab_completes_commands_subcommands_and_help_topics() {
        let h = helper();
        assert_eq!(
            complete_word(&h.docs.get(), "se"),
            (0, vec!["set".to_string()])
        );
        assert_eq!(
            complete_word(&h.docs.get(), "CLIENT KI"),
            (7, vec!["KILL".to_string()])
        );
        assert_eq!(
            complete_word(&h.docs.get(), "client "),
            (7, vec!["KILL".to_string(), "LIST".to_string()])
        );
        assert_eq!(
            complete_word(&h.docs.get(), "help @s"),
            (5, vec!["@sorted-set".to_string(), "@string".to_string()])
        );
        assert_eq!(
            complete_word(&h.docs.get(), "help z"),
            (5, vec!["zadd".to_string()])
        );
        assert_eq!(
            complete_word(&h.docs.get(), "SET k "),
            (6, Vec::<String>::new())
        );
    }
}
