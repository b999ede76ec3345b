//! What the prompt knows about commands, for its hints, completion and
//! `help`: the connected server's `COMMAND DOCS` (summary, since, group,
//! arguments), or a static list of names when the server does not answer it.
//!
//! Design decisions:
//! - **The server's docs first.** They match its version and its modules, so
//!   Redis 8's `HGETEX` and vector-set commands, or Valkey's own, complete and
//!   have help, and a command the server lacks does not complete.
//! - **A static list as the fallback** (`known_commands.txt`: the names,
//!   groups and versions of Redis 7.0's commands and subcommands, no prose),
//!   for a server without `COMMAND DOCS` (before Redis 7) or a user whose ACL
//!   denies `COMMAND`: completion and `help @group` still work, without
//!   summaries or argument hints.
//! - **Lazily, once per connection.** One-shot commands never fetch the docs.
//!   The prompt starts the fetch in the background when it opens and waits
//!   for it only when something first needs it (a hint after the first
//!   keystroke, Tab, `help`), so the first prompt is not delayed. A fetch that
//!   failed because the connection did (not because the server refused) is
//!   tried again in the background, the static list serving meanwhile.

use crate::remote::Remote;
use redwire::{cmd, ErrorKind, Value};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::runtime::Handle;
use tokio::task::JoinHandle;

/// What the docs say about one command.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Doc {
    pub summary: String,
    pub group: String,
    /// The server version that added the command.
    pub since: String,
    /// The top-level arguments as redis-cli would show them, and whether each
    /// is required and single (so a typed word certainly fills it).
    pub args: Vec<(String, bool)>,
}

/// Docs by command, `GET` or `CONFIG GET` for subcommands.
pub type Docs = BTreeMap<String, Doc>;

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
        since: field(body, "since").map(text).unwrap_or_default(),
        args: field(body, "arguments")
            .and_then(|a| a.as_array())
            .map(|a| a.iter().map(arg_text).collect())
            .unwrap_or_default(),
    }
}

/// Adds the commands of a `COMMAND DOCS` reply (and their subcommands).
pub fn add_docs(docs: &mut Docs, reply: &Value) {
    for (name, body) in pairs(reply) {
        let name = text(name).to_ascii_uppercase().replace('|', " ");
        if let Some(subs) = field(body, "subcommands") {
            add_docs(docs, subs);
        }
        docs.insert(name, doc_of(body));
    }
}

/// The fallback: every command and subcommand of Redis 7.0 by name, group
/// and version, without summaries or arguments.
pub fn known_commands() -> Docs {
    include_str!("known_commands.txt")
        .lines()
        .filter_map(|line| {
            let mut words: Vec<&str> = line.split_whitespace().collect();
            let since = words.pop()?;
            let group = words.pop()?;
            (!words.is_empty()).then(|| {
                let doc = Doc {
                    group: group.to_string(),
                    since: since.to_string(),
                    ..Doc::default()
                };
                (words.join(" "), doc)
            })
        })
        .collect()
}

/// How long the first use of the docs waits for the server's answer.
const FETCH_TIMEOUT: Duration = Duration::from_secs(5);

/// What a fetch of `COMMAND DOCS` came to.
enum Fetched {
    /// The server's docs.
    Server(Docs),
    /// The server answered with an error (no `COMMAND DOCS`, or the ACL
    /// denies it): asking again will not help.
    Refused,
    /// The connection failed or the answer did not come in time: worth
    /// another try.
    Failed,
}

async fn fetch(remote: Remote) -> Fetched {
    let ask = cmd("COMMAND").arg("DOCS");
    match tokio::time::timeout(FETCH_TIMEOUT, remote.send(&ask)).await {
        Ok(Ok(reply)) => {
            let mut docs = Docs::new();
            add_docs(&mut docs, &reply);
            if docs.is_empty() {
                Fetched::Refused
            } else {
                Fetched::Server(docs)
            }
        }
        Ok(Err(e)) if e.kind() == ErrorKind::Server => Fetched::Refused,
        Ok(Err(_)) | Err(_) => Fetched::Failed,
    }
}

enum State {
    /// A fetch is under way; `waited` once the first use waited for one.
    Fetching {
        task: JoinHandle<Fetched>,
        waited: bool,
    },
    /// Settled: the server's docs, or the static list for good.
    Settled(Arc<Docs>),
}

/// The docs of the connected server, fetched in the background and settled
/// on first use (see the module doc).
pub struct LazyDocs {
    /// The runtime the fetches run on; `None` when settled from the start.
    rt: Option<Handle>,
    /// Where a retry asks; `None` once settled (no client kept alive for it).
    remote: Mutex<Option<Remote>>,
    state: Mutex<State>,
    fallback: Arc<Docs>,
}

impl LazyDocs {
    /// Starts fetching the docs from `remote` in the background.
    pub fn start(rt: Handle, remote: Remote) -> LazyDocs {
        let task = rt.spawn(fetch(remote.clone()));
        LazyDocs {
            rt: Some(rt),
            remote: Mutex::new(Some(remote)),
            state: Mutex::new(State::Fetching {
                task,
                waited: false,
            }),
            fallback: Arc::new(known_commands()),
        }
    }

    /// Docs already settled: nothing to fetch.
    #[cfg(test)]
    pub fn settled(docs: Docs) -> LazyDocs {
        LazyDocs {
            rt: None,
            remote: Mutex::new(None),
            state: Mutex::new(State::Settled(Arc::new(docs))),
            fallback: Arc::new(Docs::new()),
        }
    }

    /// The connection changed (`SELECT` makes a new client): a retry, if one
    /// is needed, goes there.
    pub fn follow(&self, remote: &Remote) {
        let mut slot = self.remote.lock().unwrap_or_else(|e| e.into_inner());
        if slot.is_some() {
            *slot = Some(remote.clone());
        }
    }

    /// The docs to use now. The first call waits for the fetch; after a
    /// failed one, the static list serves while another runs.
    pub fn get(&self) -> Arc<Docs> {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let (task, waited) = match &mut *state {
            State::Settled(docs) => return docs.clone(),
            State::Fetching { task, waited } => (task, *waited),
        };
        let Some(rt) = &self.rt else {
            return self.fallback.clone();
        };
        if waited && !task.is_finished() {
            return self.fallback.clone();
        }
        let fetched = rt.block_on(task).unwrap_or(Fetched::Failed);
        let settled = match fetched {
            Fetched::Server(docs) => Arc::new(docs),
            Fetched::Refused => self.fallback.clone(),
            Fetched::Failed => {
                let remote = self.remote.lock().unwrap_or_else(|e| e.into_inner());
                match remote.clone() {
                    Some(remote) => {
                        *state = State::Fetching {
                            task: rt.spawn(fetch(remote)),
                            waited: true,
                        };
                        return self.fallback.clone();
                    }
                    None => self.fallback.clone(),
                }
            }
        };
        *state = State::Settled(settled.clone());
        *self.remote.lock().unwrap_or_else(|e| e.into_inner()) = None;
        settled
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_static_list_names_commands_subcommands_and_groups() {
        let docs = known_commands();
        assert_eq!(docs["GET"].group, "string");
        assert_eq!(docs["GET"].since, "1.0.0");
        assert_eq!(docs["CLIENT KILL"].group, "connection");
        assert_eq!(docs["ZADD"].group, "sorted-set");
        assert!(docs.len() > 300, "{}", docs.len());
        // Redis 7.0's list: Redis 8's commands come only from the server.
        assert!(!docs.contains_key("HGETEX"));
    }
}
