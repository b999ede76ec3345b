//! Which of the server's commands redwire types, checked against a real
//! server: every top-level command `COMMAND LIST` names must have a typed
//! method or be listed below as raw on purpose (with the reason), so a server
//! that adds a command makes this test fail and name it.
//!
//! # Where the truth lives
//!
//! - **Typed** is read from the source, not written down: a command is typed
//!   when a method in `redwire/src/commands/*.rs` builds it with
//!   `cmd("NAME")` (lines that are comments, and each file's `#[cfg(test)]`
//!   part, do not count). Every typed method there builds its command that
//!   way, so adding a method is all it takes: no list to keep in step. (A
//!   method that built its name another way would show up below as a
//!   command in neither list.)
//! - **Not typed** is the checked-in table [`RAW`]: each command a typed
//!   method does not build, how it is reached instead ([`Why`]) and a one-line
//!   reason. [`Why::NotYet`] marks the gaps, the only entries that are raw
//!   without a reason to stay so.
//! - The test fails when the two disagree with the server or with each
//!   other: a command in neither (a new server command, or a typo), a
//!   command in both (typed since: delete its entry), a [`Why::Deprecated`]
//!   entry the server's `COMMAND DOCS` does not flag deprecated.
//!
//! Commands absent from the running server are ignored either way (Redis 7.0
//! has no `WAITAOF`, Valkey 8.0 no hash-field expiry), so one table serves
//! Redis 7.0, Redis 8.0 and Valkey 8.0.
//!
//! With `REDWIRE_COVERAGE_OUT=<file>` the test also writes the markdown of
//! its server (a summary row, then the details); `scripts/command-coverage`
//! runs it once per server and assembles `docs/command-coverage.md`.

use redwire_testkit::{Frame, RedisServer};
use std::collections::{BTreeMap, BTreeSet};

/// How a command that no typed method builds is reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Why {
    /// redwire sends it itself, behind an API that is not a command method
    /// (the `Config` handshake, `Pipeline::atomic`, `Subscriber`…).
    Library,
    /// The server documents it as deprecated; a typed method covers its
    /// replacement.
    Deprecated,
    /// Server administration: an operator's job (redis-cli, config files),
    /// not an application's.
    Admin,
    /// Debugging, diagnostics and self-tests.
    Debugging,
    /// Sent between cluster nodes or by cluster tooling.
    ClusterInternal,
    /// Sent between a primary and its replicas.
    ReplicationInternal,
    /// Changes the connection under the client's feet; the library owns that
    /// state.
    ConnectionState,
    /// Not typed yet: raw only, with no reason to stay so.
    NotYet,
}

impl Why {
    fn label(self) -> &'static str {
        match self {
            Why::Library => "sent by redwire behind another API",
            Why::Deprecated => "deprecated",
            Why::Admin => "server administration",
            Why::Debugging => "debugging",
            Why::ClusterInternal => "cluster-internal",
            Why::ReplicationInternal => "replication-internal",
            Why::ConnectionState => "connection state",
            Why::NotYet => "not typed yet",
        }
    }
}

/// Every top-level command of Redis 7.0, Redis 8.0 and Valkey 8.0 that no
/// typed method builds, how it is reached, and why.
const RAW: &[(&str, Why, &str)] = &[
    // Sent by the library.
    ("AUTH", Why::Library, "the handshake: `Config` username and password (URL or builder)"),
    ("HELLO", Why::Library, "the handshake: `ConfigBuilder::protocol`; refused on a shared client"),
    ("SELECT", Why::Library, "`ConfigBuilder::database`, selected again on every reconnect"),
    ("READONLY", Why::Library, "the handshake, for `Config` replica reads"),
    ("ASKING", Why::Library, "`ClusterClient` sends it when it follows an ASK redirection"),
    ("MULTI", Why::Library, "`Pipeline::atomic`"),
    ("EXEC", Why::Library, "`Pipeline::atomic`"),
    ("DISCARD", Why::Library, "a dedicated connection handed back inside a transaction"),
    ("WATCH", Why::Library, "`Connection::watch` and `Connection::transaction`"),
    ("UNWATCH", Why::Library, "`Connection::transaction`, and a pooled connection handed back dirty"),
    ("SUBSCRIBE", Why::Library, "`Subscriber::subscribe`"),
    ("PSUBSCRIBE", Why::Library, "`Subscriber::psubscribe`"),
    ("SSUBSCRIBE", Why::Library, "`Subscriber::ssubscribe`, `ClusterSubscriber::ssubscribe`"),
    ("UNSUBSCRIBE", Why::Library, "`Subscriber::unsubscribe`"),
    ("PUNSUBSCRIBE", Why::Library, "`Subscriber::punsubscribe`"),
    ("SUNSUBSCRIBE", Why::Library, "`Subscriber::sunsubscribe`"),
    ("MONITOR", Why::Library, "`pubsub::Monitor`"),
    // Deprecated: the server's COMMAND DOCS flags each (checked below).
    ("GETSET", Why::Deprecated, "`SET … GET`"),
    ("SETNX", Why::Deprecated, "`SET … NX`"),
    ("SETEX", Why::Deprecated, "`SET … EX`"),
    ("PSETEX", Why::Deprecated, "`SET … PX`"),
    ("SUBSTR", Why::Deprecated, "`GETRANGE`"),
    ("HMSET", Why::Deprecated, "`HSET` with several pairs"),
    ("RPOPLPUSH", Why::Deprecated, "`LMOVE`"),
    ("BRPOPLPUSH", Why::Deprecated, "`BLMOVE`"),
    ("GEORADIUS", Why::Deprecated, "`GEOSEARCH` / `GEOSEARCHSTORE`"),
    ("GEORADIUS_RO", Why::Deprecated, "`GEOSEARCH`"),
    ("GEORADIUSBYMEMBER", Why::Deprecated, "`GEOSEARCH` / `GEOSEARCHSTORE` from a member"),
    ("GEORADIUSBYMEMBER_RO", Why::Deprecated, "`GEOSEARCH` from a member"),
    ("ZRANGEBYSCORE", Why::Deprecated, "`ZRANGE … BYSCORE`"),
    ("ZRANGEBYLEX", Why::Deprecated, "`ZRANGE … BYLEX`"),
    ("ZREVRANGE", Why::Deprecated, "`ZRANGE … REV`"),
    ("ZREVRANGEBYSCORE", Why::Deprecated, "`ZRANGE … BYSCORE REV`"),
    ("ZREVRANGEBYLEX", Why::Deprecated, "`ZRANGE … BYLEX REV`"),
    ("SLAVEOF", Why::Deprecated, "`REPLICAOF` (itself administration)"),
    ("QUIT", Why::Deprecated, "dropping the client (a shared client refuses QUIT)"),
    // Administration.
    ("ACL", Why::Admin, "users and permissions are an operator's (ACL files, redis-cli)"),
    ("BGSAVE", Why::Admin, "persistence is the operator's"),
    ("SAVE", Why::Admin, "persistence is the operator's; blocks the whole server"),
    ("BGREWRITEAOF", Why::Admin, "persistence is the operator's"),
    ("SHUTDOWN", Why::Admin, "stops the server; the connection ends without a reply"),
    ("REPLICAOF", Why::Admin, "changes the replication topology"),
    ("FAILOVER", Why::Admin, "changes the replication topology"),
    ("MODULE", Why::Admin, "loads code into the server"),
    ("SWAPDB", Why::Admin, "swaps databases under every client at once"),
    ("CLUSTER", Why::Admin, "cluster administration; `ClusterClient` reads CLUSTER SHARDS/SLOTS itself"),
    // Debugging and diagnostics.
    ("DEBUG", Why::Debugging, "server debugging (a system command, often disabled)"),
    ("PFDEBUG", Why::Debugging, "HyperLogLog internals"),
    ("PFSELFTEST", Why::Debugging, "HyperLogLog self-test"),
    ("LATENCY", Why::Debugging, "latency diagnostics, an operator's tool"),
    ("LOLWUT", Why::Debugging, "prints art and the version; nothing to type"),
    // Sent by servers and tools to each other.
    ("MIGRATE", Why::ClusterInternal, "moves keys between servers, for resharding tools"),
    ("RESTORE-ASKING", Why::ClusterInternal, "key migration between cluster nodes"),
    ("PSYNC", Why::ReplicationInternal, "a replica's handshake"),
    ("SYNC", Why::ReplicationInternal, "a replica's handshake (old form)"),
    ("REPLCONF", Why::ReplicationInternal, "the replication stream's settings"),
    ("XSETID", Why::ReplicationInternal, "replicates a stream's last ID"),
    // Connection state.
    ("RESET", Why::ConnectionState, "clears what the library set (database, subscriptions); a dedicated connection's `reset()` does it the library's way"),
    ("READWRITE", Why::ConnectionState, "undoes READONLY, which the `Config` owns"),
];

/// The commands the typed methods build, from the source of
/// `redwire/src/commands/`.
fn typed_in_source() -> BTreeSet<String> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/commands");
    let mut found = BTreeSet::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "rs") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let code = text.split("#[cfg(test)]").next().unwrap_or_default();
        for line in code.lines().filter(|l| !l.trim_start().starts_with("//")) {
            found.extend(cmd_names(line));
        }
    }
    assert!(
        found.len() > 100,
        "only {} commands found in {}: has the way methods build commands changed?",
        found.len(),
        dir.display()
    );
    found
}

/// The names of the `cmd("NAME")` calls on one line of code, and of the
/// reads the cache may answer first (`read_key("NAME"`, `read_member("NAME"`,
/// which build `cmd("NAME")` when it does not).
fn cmd_names(line: &str) -> Vec<String> {
    let mut names = Vec::new();
    for call in ["cmd(\"", "read_key(\"", "read_member(\""] {
        let mut rest = line;
        while let Some(at) = rest.find(call) {
            let after = &rest[at + call.len()..];
            let Some(end) = after.find('"') else { break };
            let before = rest[..at].chars().next_back();
            // `cmd(` itself, not `encode_cmd(` or `my_cmd(`.
            if !before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
                names.push(after[..end].to_ascii_uppercase());
            }
            rest = &after[end..];
        }
    }
    names
}

fn text(f: &Frame) -> String {
    match f {
        Frame::Bulk(b) | Frame::Simple(b) | Frame::Verbatim { data: b, .. } => {
            String::from_utf8_lossy(b).into_owned()
        }
        _ => String::new(),
    }
}

/// The key/value pairs of a RESP3 map or of RESP2's flat array.
fn pairs(f: &Frame) -> Vec<(&Frame, &Frame)> {
    match f {
        Frame::Map(p) => p.iter().map(|(k, v)| (k, v)).collect(),
        Frame::Array(items) => items.chunks_exact(2).map(|c| (&c[0], &c[1])).collect(),
        _ => Vec::new(),
    }
}

/// The server's top-level commands (no `a|b` subcommands), upper case.
fn top_level(server: &RedisServer) -> BTreeSet<String> {
    match server.command(&["COMMAND", "LIST"]).unwrap() {
        Frame::Array(names) | Frame::Set(names) => names
            .iter()
            .map(|n| text(n).to_ascii_uppercase())
            .filter(|n| !n.contains('|'))
            .collect(),
        other => panic!("COMMAND LIST answered {other:?}"),
    }
}

/// The commands whose `COMMAND DOCS` says `deprecated`.
fn deprecated(server: &RedisServer) -> BTreeSet<String> {
    let docs = server.command(&["COMMAND", "DOCS"]).unwrap();
    let mut out = BTreeSet::new();
    for (name, body) in pairs(&docs) {
        let field = |want: &str| {
            pairs(body)
                .into_iter()
                .find(|(k, _)| text(k) == want)
                .map(|(_, v)| v)
        };
        let flagged = match field("doc_flags") {
            Some(Frame::Array(flags) | Frame::Set(flags)) => {
                flags.iter().any(|f| text(f) == "deprecated")
            }
            _ => false,
        };
        if flagged {
            out.insert(text(name).to_ascii_uppercase());
        }
    }
    out
}

#[test]
fn every_server_command_is_typed_or_raw_on_purpose() {
    let server = RedisServer::start().unwrap();
    let id = server.identity().unwrap();
    let commands = top_level(&server);
    let source = typed_in_source();
    let raw: BTreeMap<&str, (Why, &str)> = RAW.iter().map(|&(n, w, r)| (n, (w, r))).collect();
    assert_eq!(raw.len(), RAW.len(), "a command is listed twice in RAW");

    let stale: Vec<&str> = raw
        .keys()
        .copied()
        .filter(|n| source.contains(*n))
        .collect();
    assert!(
        stale.is_empty(),
        "typed in redwire/src/commands now, so delete them from RAW: {stale:?}"
    );
    let neither: Vec<&String> = commands
        .iter()
        .filter(|c| !source.contains(*c) && !raw.contains_key(c.as_str()))
        .collect();
    assert!(
        neither.is_empty(),
        "{id} has {} top-level command(s) that no typed method builds and RAW does not list; \
         type them in redwire/src/commands or add them to RAW with a reason: {neither:?}",
        neither.len()
    );

    // Redis 7.2 revised the docs and flagged SETNX, SETEX, PSETEX and (newly
    // deprecated) QUIT; 7.0's docs do not flag them yet.
    if id.at_least("redis", 7, 2) || id.is_valkey() {
        let flagged = deprecated(&server);
        let unflagged: Vec<&str> = RAW
            .iter()
            .filter(|(n, w, _)| *w == Why::Deprecated && commands.contains(*n))
            .filter(|(n, _, _)| !flagged.contains(*n))
            .map(|(n, _, _)| *n)
            .collect();
        assert!(
            unflagged.is_empty(),
            "{id}'s COMMAND DOCS does not call these deprecated: {unflagged:?}"
        );
    }

    let table = markdown(&id.to_string(), &commands, &source, &raw);
    println!("{table}");
    if let Some(path) = std::env::var_os("REDWIRE_COVERAGE_OUT") {
        std::fs::write(path, table).unwrap();
    }
}

/// The markdown of one server: its summary row (the first line), then its
/// raw commands by reason.
fn markdown(
    server: &str,
    commands: &BTreeSet<String>,
    source: &BTreeSet<String>,
    raw: &BTreeMap<&str, (Why, &str)>,
) -> String {
    let total = commands.len();
    let typed = commands.iter().filter(|c| source.contains(*c)).count();
    let of = |why: Why| -> Vec<&String> {
        commands
            .iter()
            .filter(|c| raw.get(c.as_str()).is_some_and(|(w, _)| *w == why))
            .collect()
    };
    let library = of(Why::Library);
    let gaps = of(Why::NotYet);
    let on_purpose = total - typed - library.len() - gaps.len();
    let pct = |n: usize| format!("{:.0}%", 100.0 * n as f64 / total as f64);
    let mut out = format!(
        "| {server} | {total} | {typed} ({}) | {} | {} ({}) | {} |\n",
        pct(typed),
        library.len(),
        on_purpose + gaps.len(),
        pct(on_purpose + gaps.len()),
        gaps.len(),
    );
    out.push_str(&format!(
        "\n## {server}\n\n{total} top-level commands: {typed} typed in the source"
    ));
    out.push_str(&format!(
        ", {} sent by redwire behind another API, {on_purpose} raw on purpose, {} not typed yet.\n\n\
         | command | reached | why |\n|---|---|---|\n",
        library.len(),
        gaps.len()
    ));
    for why in [
        Why::Library,
        Why::Deprecated,
        Why::Admin,
        Why::Debugging,
        Why::ClusterInternal,
        Why::ReplicationInternal,
        Why::ConnectionState,
        Why::NotYet,
    ] {
        for c in of(why) {
            let (_, reason) = raw[c.as_str()];
            let reached = if why == Why::Library {
                "library"
            } else {
                "raw"
            };
            let reason = match why {
                Why::Library => reason.to_string(),
                Why::Deprecated => format!("deprecated, in favour of {reason}"),
                _ => format!("{}: {reason}", why.label()),
            };
            out.push_str(&format!("| `{c}` | {reached} | {reason} |\n"));
        }
    }
    out
}

#[test]
fn the_source_scan_reads_command_names_only_from_cmd_calls() {
    assert_eq!(cmd_names(r#"self.command(cmd("HSET").arg(key))"#), ["HSET"]);
    assert_eq!(
        cmd_names(r#"if a { cmd("ZRANGE") } else { cmd("zrangestore") }"#),
        ["ZRANGE", "ZRANGESTORE"]
    );
    assert!(cmd_names(r#"encode_cmd("GET"); my_cmd("SET")"#).is_empty());
    assert_eq!(cmd_names(r#"self.read_key("GET", key)"#), ["GET"]);
    assert_eq!(
        cmd_names(r#"self.read_member("HGET", key, field)"#),
        ["HGET"]
    );
    assert!(cmd_names(r#"self.my_read_key("GET", key)"#).is_empty());
    let typed = typed_in_source();
    assert!(
        typed.contains("HSET") && typed.contains("XADD"),
        "{typed:?}"
    );
    // `commands/mod.rs` shows the raw path as `cmd("ANY")` in a comment.
    assert!(!typed.contains("ANY"));
}
