//! `redwire cli` run as a user runs it: the built binary spawned as a process
//! against a real redis-server, its stdout, stderr and exit code checked.

mod support;

use redwire_testkit::{Frame, RedisServer};
use std::io::{BufRead, BufReader};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};
use support::{redwire, run, stderr, stdout};

fn cli(server: &RedisServer, args: &[&str]) -> Output {
    let url = server.url();
    let mut all = vec!["cli", "-u", url.as_str()];
    all.extend_from_slice(args);
    run(&all, b"")
}

/// Starts the tool with `args` and returns it with its stdout, line by line.
fn streaming(args: &[&str]) -> (std::process::Child, std::sync::mpsc::Receiver<String>) {
    let mut child = redwire()
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let reader = BufReader::new(child.stdout.take().unwrap());
    std::thread::spawn(move || {
        for line in reader.lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    (child, rx)
}

/// Ctrl-C to the tool; its exit code.
fn interrupt(mut child: std::process::Child) -> Option<i32> {
    let pid = child.id().to_string();
    assert!(Command::new("kill")
        .args(["-INT", &pid])
        .status()
        .unwrap()
        .success());
    child.wait().unwrap().code()
}

#[test]
fn one_shot_commands_print_like_redis_cli_for_each_reply_type() {
    let server = RedisServer::start().unwrap();
    server.command(&["RPUSH", "l", "a", "b"]).unwrap();
    server.command(&["HSET", "h", "f", "v"]).unwrap();
    server.command(&["SADD", "s", "m"]).unwrap();
    server.command(&["ZADD", "z", "1.5", "m"]).unwrap();
    let cases: [(&[&str], &str); 9] = [
        (&["--no-raw", "SET", "k", "a b\n"], "OK\n"),
        (&["--no-raw", "GET", "k"], "\"a b\\n\"\n"),
        (&["--no-raw", "GET", "missing"], "(nil)\n"),
        (&["--no-raw", "INCR", "n"], "(integer) 1\n"),
        (
            &["--no-raw", "LRANGE", "l", "0", "-1"],
            "1) \"a\"\n2) \"b\"\n",
        ),
        (&["--no-raw", "HGETALL", "h"], "1# \"f\" => \"v\"\n"),
        (&["--no-raw", "SMEMBERS", "s"], "1~ \"m\"\n"),
        (&["--no-raw", "ZSCORE", "z", "m"], "(double) 1.5\n"),
        (
            &["--no-raw", "LRANGE", "none", "0", "-1"],
            "(empty array)\n",
        ),
    ];
    for (args, want) in cases {
        let out = cli(&server, args);
        assert_eq!(stdout(&out), want, "{args:?}: {}", stderr(&out));
        assert!(out.status.success(), "{args:?}");
    }
}

#[test]
fn raw_is_the_default_off_a_terminal_and_json_is_json() {
    let server = RedisServer::start().unwrap();
    server.command(&["HSET", "h", "f", "v"]).unwrap();
    // stdout is a pipe here, so without a flag the output is raw, as redis-cli's:
    // a RESP3 map as `key value` lines (redis-cli -3), RESP2's flat array a line each.
    assert_eq!(stdout(&cli(&server, &["HGETALL", "h"])), "f v\n");
    assert_eq!(stdout(&cli(&server, &["-2", "HGETALL", "h"])), "f\nv\n");
    assert_eq!(stdout(&cli(&server, &["--raw", "GET", "nope"])), "\n");
    let json = stdout(&cli(&server, &["--json", "HGETALL", "h"]));
    let parsed: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(parsed, serde_json::json!({ "f": "v" }));
    let json = stdout(&cli(&server, &["--json", "--resp2", "HGETALL", "h"]));
    assert_eq!(json.trim(), r#"["f","v"]"#, "RESP2 sends a flat array");
}

#[test]
fn an_error_reply_exits_1_with_the_error_on_stderr() {
    let server = RedisServer::start().unwrap();
    server.command(&["SET", "str", "x"]).unwrap();
    let out = cli(&server, &["LPUSH", "str", "y"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("WRONGTYPE"), "{}", stderr(&out));
    assert_eq!(stdout(&out), "", "stdout holds only data");
    let out = cli(&server, &["--no-raw", "NOSUCHCOMMAND"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("(error) ERR unknown command"));
}

#[test]
fn an_unreachable_server_exits_3() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let url = format!("redis://127.0.0.1:{port}");
    let out = run(&["cli", "-u", &url, "PING"], b"");
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(stderr(&out).contains("cannot connect"));
}

#[test]
fn x_reads_the_last_argument_from_stdin_byte_for_byte() {
    let server = RedisServer::start().unwrap();
    let url = server.url();
    let value = b"line one\nline two\n\x00\xff";
    let out = run(&["cli", "-u", &url, "-x", "SET", "k"], value);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        server.command(&["GET", "k"]).unwrap(),
        Frame::Bulk(value.to_vec().into())
    );
}

#[test]
fn pipe_runs_a_file_of_commands_and_counts_errors() {
    let server = RedisServer::start().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cmds.txt");
    let mut text = String::from("# a comment\n");
    for _ in 0..2500 {
        text.push_str("INCR counter\n");
    }
    // An argument missing (ERR), then a wrong type (WRONGTYPE).
    text.push_str("SET \"spaced key\"\nHSET counter f v\n");
    std::fs::write(&path, text).unwrap();
    let out = cli(&server, &["--pipe", path.to_str().unwrap()]);
    assert_eq!(stdout(&out), "errors: 2, replies: 2502\n");
    assert_eq!(out.status.code(), Some(1), "an error reply fails the run");
    let err = stderr(&out);
    assert!(
        err.contains("line 2502: ERR wrong number") && err.contains("line 2503: WRONGTYPE"),
        "{err}"
    );
    assert_eq!(
        server.command(&["GET", "counter"]).unwrap(),
        Frame::Bulk("2500".into())
    );

    // The RESP form, as `redis-cli --pipe` takes it, from stdin.
    let resp = b"*3\r\n$3\r\nSET\r\n$5\r\nmy ke\r\n$1\r\n1\r\n*2\r\n$4\r\nINCR\r\n$5\r\nmy ke\r\n";
    let out = run(&["cli", "-u", &server.url(), "--pipe", "-"], resp);
    assert_eq!(stdout(&out), "errors: 0, replies: 2\n");
    assert!(out.status.success());
    assert_eq!(
        server.command(&["GET", "my ke"]).unwrap(),
        Frame::Bulk("2".into())
    );
}

#[test]
fn commands_piped_to_stdin_print_every_reply() {
    let server = RedisServer::start().unwrap();
    let out = run(
        &["cli", "-u", &server.url(), "--no-raw"],
        b"SET a 5\nINCRBY a 2\nGET a\n",
    );
    assert_eq!(stdout(&out), "OK\n(integer) 7\n\"7\"\n");
    assert!(out.status.success());
}

#[test]
fn subscribe_streams_messages_until_ctrl_c() {
    let server = RedisServer::start().unwrap();
    let (child, rx) = streaming(&["cli", "-u", &server.url(), "--no-raw", "SUBSCRIBE", "news"]);
    let mut seen = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(10);
    while !seen.iter().any(|l: &String| l.contains("\"hello\"")) {
        assert!(Instant::now() < deadline, "no message; got {seen:?}");
        // Publish until it arrives: the subscription may not be in place yet.
        server.command(&["PUBLISH", "news", "hello"]).unwrap();
        while let Ok(line) = rx.recv_timeout(Duration::from_millis(100)) {
            seen.push(line);
        }
    }
    assert_eq!(
        seen[..3],
        ["1) \"subscribe\"", "2) \"news\"", "3) (integer) 1"]
    );
    assert!(seen
        .windows(3)
        .any(|w| w == ["1) \"message\"", "2) \"news\"", "3) \"hello\""]));
    assert_eq!(interrupt(child), Some(0), "Ctrl-C ends the stream cleanly");
}

#[test]
fn blocking_commands_run_on_a_connection_of_their_own() {
    let server = RedisServer::start().unwrap();
    let out = run(
        &["cli", "-u", &server.url(), "--no-raw", "BLPOP", "q", "0.05"],
        b"",
    );
    assert_eq!(stdout(&out), "(nil)\n", "{}", stderr(&out));
    assert!(out.status.success());
    server.command(&["RPUSH", "q", "job"]).unwrap();
    let out = run(
        &["cli", "-u", &server.url(), "--no-raw", "BLPOP", "q", "1"],
        b"",
    );
    assert_eq!(stdout(&out), "1) \"q\"\n2) \"job\"\n");
}

#[test]
fn monitor_streams_the_commands_the_server_runs() {
    let server = RedisServer::start().unwrap();
    let (child, rx) = streaming(&["cli", "-u", &server.url(), "--no-raw", "MONITOR"]);
    let mut seen = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(10);
    while !seen
        .iter()
        .any(|l: &String| l.contains(r#""SET" "watched" "1""#))
    {
        assert!(
            Instant::now() < deadline,
            "no SET in the feed; got {seen:?}"
        );
        // Until the feed has started.
        server.command(&["SET", "watched", "1"]).unwrap();
        while let Ok(line) = rx.recv_timeout(Duration::from_millis(100)) {
            seen.push(line);
        }
    }
    assert_eq!(seen[0], "OK");
    assert_eq!(interrupt(child), Some(0));
}

#[test]
fn without_a_url_a_throwaway_server_is_started_and_announced() {
    let out = run(&["cli", "--no-raw", "PING"], b"");
    assert_eq!(stdout(&out), "PONG\n");
    assert!(
        stderr(&out).contains("started a throwaway redis-server"),
        "{}",
        stderr(&out)
    );
    assert!(out.status.success());
}

#[test]
fn no_subcommand_prints_help() {
    let out = run(&[], b"");
    let text = stdout(&out);
    assert!(
        text.contains("Usage: redwire") && text.contains("bench"),
        "{text}"
    );
}

#[test]
fn commands_a_shared_connection_refuses_are_named_before_anything_runs() {
    let server = RedisServer::start().unwrap();
    let out = run(
        &["cli", "-u", &server.url(), "--pipe", "-"],
        b"INCR before\nMULTI\nINCR inside\nEXEC\n",
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("line 2: MULTI cannot be sent"), "{err}");
    assert_eq!(server.command(&["GET", "before"]).unwrap(), Frame::Null);
    // One-shot: the library's reason, and nothing sent.
    let out = cli(&server, &["SELECT", "3"]);
    assert_ne!(out.status.code(), Some(0));
    assert!(stderr(&out).contains("database"), "{}", stderr(&out));
}

#[test]
fn cluster_mode_routes_a_command_by_its_key() {
    let cluster = redwire_testkit::RedisCluster::start().unwrap();
    let url = cluster.url();
    for key in ["a", "b", "c", "d"] {
        let out = run(&["cli", "-c", "-u", &url, "SET", key, key], b"");
        assert_eq!(stdout(&out), "OK\n", "{}", stderr(&out));
    }
    let out = run(&["cli", "-c", "-u", &url, "--no-raw", "DBSIZE"], b"");
    assert_eq!(stdout(&out), "(integer) 4\n");
    // Without -c the node answers MOVED for a key it does not own.
    let foreign = ["a", "b", "c", "d"]
        .into_iter()
        .find(|k| cluster.node_for_key(k.as_bytes()).url() != url)
        .unwrap();
    let out = run(&["cli", "-u", &url, "GET", foreign], b"");
    assert!(stderr(&out).contains("MOVED"), "{}", stderr(&out));
    let out = run(&["cli", "-c", "-u", &url, "GET", foreign], b"");
    assert_eq!(stdout(&out), format!("{foreign}\n"));
}

#[test]
fn cluster_mode_routes_piped_lines_and_pipe_files_across_every_node() {
    let cluster = redwire_testkit::RedisCluster::start().unwrap();
    let url = cluster.url();
    let keys: Vec<String> = (0..30).map(|i| format!("k{i}")).collect();
    let owners: std::collections::BTreeSet<_> = keys
        .iter()
        .map(|k| cluster.node_for_key(k.as_bytes()).id())
        .collect();
    assert_eq!(owners.len(), 3, "the keys span every primary");
    // --pipe: every line routed by its key, no error.
    let file: String = keys.iter().map(|k| format!("SET {k} v-{k}\n")).collect();
    let out = run(&["cli", "-c", "-u", &url, "--pipe", "-"], file.as_bytes());
    assert_eq!(stdout(&out), "errors: 0, replies: 30\n", "{}", stderr(&out));
    for k in &keys {
        let node = cluster.node_for_key(k.as_bytes());
        assert_eq!(
            node.command(&["GET", k]).unwrap(),
            Frame::Bulk(format!("v-{k}").into())
        );
    }
    // A file refuses MULTI with -c as without it (the prompt queues it).
    let lines: String = keys
        .iter()
        .map(|k| format!("GET {k}\n"))
        .chain(["MULTI\nINCR {t}a\nINCR {t}b\nEXEC\n".to_string()])
        .collect();
    let out = run(&["cli", "-c", "-u", &url, "--pipe", "-"], lines.as_bytes());
    assert_eq!(
        out.status.code(),
        Some(2),
        "MULTI is refused in a file as without -c"
    );
    let lines: String = keys.iter().map(|k| format!("GET {k}\n")).collect();
    // Piped lines: each reply printed, in order, from whichever node.
    let out = run(&["cli", "-c", "-u", &url], lines.as_bytes());
    let want: String = keys.iter().map(|k| format!("v-{k}\n")).collect();
    assert_eq!(stdout(&out), want, "{}", stderr(&out));
    // DBSIZE sums every primary.
    let out = run(&["cli", "-c", "-u", &url, "DBSIZE"], b"");
    assert_eq!(stdout(&out), "30\n");
}

/// The interactive prompt in a pseudo-terminal: `redwire cli ARGS` run by
/// util-linux's `script`, which gives it a terminal as a person's shell
/// would, so line editing, Tab completion and `help` run for real.
struct Prompt {
    child: std::process::Child,
    stdin: std::process::ChildStdin,
    output: std::sync::mpsc::Receiver<Vec<u8>>,
    /// Everything printed so far, escape sequences and carriage returns
    /// taken out.
    seen: String,
    prompt: String,
    _history: tempfile::TempDir,
}

impl Prompt {
    /// The prompt against `server`, or `None` (the test then says it is
    /// skipped) where `script` is not installed.
    fn start(server: &RedisServer, url: &str) -> Option<Prompt> {
        use std::io::Read;
        if Command::new("script").arg("--version").output().is_err() {
            eprintln!("skipped: no `script` (util-linux) to give the prompt a terminal");
            return None;
        }
        let history = tempfile::tempdir().unwrap();
        let command = format!("'{}' cli -u '{url}'", env!("CARGO_BIN_EXE_redwire"));
        let mut child = Command::new("script")
            .args(["-qec", &command, "/dev/null"])
            .env("TERM", "xterm")
            .env("NO_COLOR", "1")
            .env("REDWIRE_HISTFILE", history.path().join("history"))
            .env_remove("REDIS_URL")
            .env_remove("REDISCLI_AUTH")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdin = child.stdin.take().unwrap();
        let mut stdout = child.stdout.take().unwrap();
        let (tx, output) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = stdout.read(&mut buf) {
                if n == 0 || tx.send(buf[..n].to_vec()).is_err() {
                    break;
                }
            }
        });
        let mut p = Prompt {
            child,
            stdin,
            output,
            seen: String::new(),
            prompt: format!("127.0.0.1:{}> ", server.port()),
            _history: history,
        };
        let prompt = p.prompt.clone();
        p.wait_for(&prompt);
        Some(p)
    }

    /// Reads until the text since `from` contains `want`; returns that text.
    fn wait_for_from(&mut self, from: usize, want: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(15);
        while !self.seen[from..].contains(want) {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.output.recv_timeout(left) {
                Ok(bytes) => self.seen.push_str(&plain(&bytes)),
                Err(_) => panic!("no {want:?} from the prompt; it printed:\n{}", self.seen),
            }
        }
        self.seen[from..].to_string()
    }

    fn wait_for(&mut self, want: &str) -> String {
        self.wait_for_from(0, want)
    }

    /// Types `keys` and Enter, and returns what the prompt printed until it
    /// was back.
    fn line(&mut self, keys: &str) -> String {
        use std::io::Write;
        let from = self.seen.len();
        self.stdin.write_all(keys.as_bytes()).unwrap();
        self.stdin.write_all(b"\r").unwrap();
        self.stdin.flush().unwrap();
        // The echo of Enter ends the edited line; the reply follows it.
        let prompt = self.prompt.clone();
        let out = self.wait_for_from(from, "\n");
        let start = from + out.find('\n').unwrap() + 1;
        let reply = self.wait_for_from(start, &prompt);
        reply[..reply.rfind(&prompt).unwrap()].to_string()
    }

    fn quit(mut self) {
        let _ = self.line_without_reply("quit");
        let status = self.child.wait().unwrap();
        assert!(status.success(), "the prompt ended with {status}");
    }

    fn line_without_reply(&mut self, keys: &str) -> std::io::Result<()> {
        use std::io::Write;
        self.stdin.write_all(keys.as_bytes())?;
        self.stdin.write_all(b"\r")?;
        self.stdin.flush()
    }
}

impl Drop for Prompt {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Terminal output as plain text: no escape sequences, no carriage returns.
fn plain(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let mut out = String::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\x1b' => {
                // CSI: ESC [ parameters, then a final letter (or ~).
                if chars.peek() == Some(&'[') {
                    chars.next();
                    for c in chars.by_ref() {
                        if c.is_ascii_alphabetic() || c == '~' {
                            break;
                        }
                    }
                }
            }
            '\r' | '\x07' => {}
            c => out.push(c),
        }
    }
    out
}

#[test]
fn the_prompt_explains_and_completes_the_servers_own_commands() {
    let server = RedisServer::start().unwrap();
    let id = server.identity().unwrap();
    let has_hgetex = server.has_command("HGETEX").unwrap();
    server.command(&["CONFIG", "RESETSTAT"]).unwrap();
    // A one-shot command never asks for the docs.
    assert_eq!(stdout(&cli(&server, &["PING"])), "PONG\n");
    assert_eq!(docs_fetches(&server), 0);
    let Some(mut p) = Prompt::start(&server, &server.url()) else {
        return;
    };
    // `help` from the server's COMMAND DOCS: the syntax, summary, version, group.
    let help = p.line("help get");
    assert!(help.contains("  GET key\n"), "{help}");
    assert!(
        help.contains("  summary: ") && help.contains("  group: string"),
        "{help}"
    );
    // Tab completes a unique prefix: what runs is HSTRLEN, not "hstrl".
    assert_eq!(p.line("hstrl\t k f"), "(integer) 0\n");
    if has_hgetex {
        let help = p.line("help hgetex");
        assert!(help.contains("  HGETEX key "), "{help}");
        assert!(
            help.contains("since: 8.0.0") && help.contains("group: hash"),
            "{help}"
        );
        let reply = p.line("hgete\t");
        assert!(
            reply.contains("wrong number of arguments for 'hgetex'"),
            "{reply}"
        );
    } else {
        eprintln!("skipped (the HGETEX part): {id} has no HGETEX");
        // The server's docs, not a list of every server's commands: no help,
        // and nothing to complete "hgete" to.
        assert_eq!(p.line("help hgetex"), "no help for HGETEX\n");
        let reply = p.line("hgete\t");
        assert!(reply.contains("unknown command 'hgete'"), "{reply}");
    }
    p.quit();
    // Hints, Tab and help all used one fetch.
    assert_eq!(docs_fetches(&server), 1);
}

/// How many times `COMMAND DOCS` ran since the last `CONFIG RESETSTAT`.
fn docs_fetches(server: &RedisServer) -> u64 {
    let stats = match server.command(&["INFO", "commandstats"]).unwrap() {
        Frame::Bulk(b) => String::from_utf8_lossy(&b).into_owned(),
        other => panic!("INFO answered {other:?}"),
    };
    stats
        .lines()
        .find_map(|l| l.strip_prefix("cmdstat_command|docs:calls="))
        .map(|rest| rest.split(',').next().unwrap().parse().unwrap())
        .unwrap_or(0)
}

#[test]
fn without_command_docs_the_prompt_falls_back_to_the_static_list() {
    // A user that may not run COMMAND: the docs are refused.
    let server = RedisServer::builder()
        .user("nodocs", "pw", "on ~* &* +@all -command")
        .start()
        .unwrap();
    let url = server.user_url("nodocs").unwrap();
    let refused = run(&["cli", "-u", &url, "COMMAND", "DOCS", "GET"], b"");
    assert!(stderr(&refused).contains("NOPERM"), "{}", stderr(&refused));
    let Some(mut p) = Prompt::start(&server, &url) else {
        return;
    };
    // Names, groups and versions from the static list; no summary.
    let help = p.line("help get");
    assert_eq!(
        help, "\n  GET\n  since: 1.0.0\n  group: string\n\n",
        "{help}"
    );
    assert_eq!(p.line("hstrl\t k f"), "(integer) 0\n");
    p.quit();
}

#[test]
fn prompt_info_hello_and_client_info_work_on_redis_and_valkey() {
    let server = RedisServer::start().unwrap();
    let id = server.identity().unwrap();
    let (a, b, c) = id.version;
    let version = format!("{a}.{b}.{c}");
    // INFO names the server in its own fields: Valkey has server_name and
    // valkey_version (and an old redis_version for compatibility).
    let info = stdout(&cli(&server, &["INFO", "server"]));
    let own = if id.is_valkey() {
        assert!(info.contains("server_name:valkey"), "{info}");
        format!("valkey_version:{version}")
    } else {
        format!("redis_version:{version}")
    };
    assert!(info.contains(&own), "{id}: {info}");
    let all = stdout(&cli(&server, &["INFO"]));
    assert!(
        all.contains("# Server") && all.contains("# Keyspace"),
        "{all}"
    );
    // CLIENT INFO: the library names itself where the server records it (7.2+).
    let client = stdout(&cli(&server, &["CLIENT", "INFO"]));
    assert!(client.starts_with("id="), "{client}");
    if id.at_least("redis", 7, 2) || id.is_valkey() {
        assert!(client.contains("lib-name=redwire"), "{id}: {client}");
    }
    // HELLO is the cli's own handshake: the error names its flags.
    let hello = cli(&server, &["HELLO", "3"]);
    assert!(!hello.status.success());
    assert!(
        stderr(&hello).contains("-2 (RESP2) or -3"),
        "{}",
        stderr(&hello)
    );
    // The protocol it chose shows in what the server says of the connection.
    assert!(client.contains("resp=3"), "{client}");
    let two = stdout(&cli(&server, &["-2", "CLIENT", "INFO"]));
    assert!(two.contains("resp=2"), "{two}");

    let Some(mut p) = Prompt::start(&server, &server.url()) else {
        return;
    };
    assert_eq!(p.line("PING"), "PONG\n");
    assert_eq!(p.line("SET k v"), "OK\n");
    assert_eq!(p.line("GET k"), "\"v\"\n");
    let info = p.line("INFO server");
    assert!(info.contains(&own), "{id}: {info}");
    let hello = p.line("HELLO");
    assert!(
        hello.contains("HELLO is sent by redwire cli itself"),
        "{hello}"
    );
    p.quit();
}
