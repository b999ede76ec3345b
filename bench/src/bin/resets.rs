//! GET/SET under resets: redwire, redis-rs (`ConnectionManager`), fred and
//! rustis (its `Client`, which reconnects on its own), each
//! on ONE connection shared by 256 tasks alternating SET and GET of 16-byte
//! values for 5 s, while a thread resets every connection (TCP RST on both
//! sides) every 250 ms through `redwire_testkit::FaultProxy`.
//!
//! Each run is a child process of its own with its own throwaway redis-server
//! and proxy; the clients are interleaved inside each repetition (redwire,
//! redis-rs, fred, rustis, redwire, ...). All four reconnect with an
//! exponential backoff from 100 ms to 1 s, forever, and bound every command by
//! 1 s (redwire `command_timeout`, redis-rs `response_timeout`, fred
//! `default_command_timeout`, rustis `command_timeout`) and every connection
//! attempt by 1 s. None retries a command that failed with the connection
//! (rustis's `retry_on_error` is off by default and left so). Per run it
//! counts requests answered with the expected reply, requests that failed (any
//! `Err`, by kind), replies that were not the caller's (a GET that returned
//! another task's value, a SET not answered `OK`), tasks still stuck 3 s after
//! the end, and connections the proxy accepted (`connections_total`, the first
//! connection included: ideally resets + 1). The table gives the median and the
//! min–max over the repetitions.
//!
//! ```text
//! cargo run --release -p redwire-bench --bin resets -- [--repeat 5] [--out /tmp/resets.md]
//!     [--duration 5] [--reset-every-ms 250] [--tasks 256] [--runtime mt2]
//!     [--clients redwire,redis-rs,fred,rustis]
//! ```
//!
//! `--out FILE` replaces the section `## GET/SET under resets every 250 ms` of
//! that markdown file (up to the next heading), or appends it.

use clap::Parser;
use redwire_bench::{parse_result_line, result_line};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[derive(Parser, Debug, Clone)]
#[command(
    about = "redwire vs redis-rs vs fred vs rustis: GET/SET while the connection is reset every 250 ms"
)]
struct Args {
    /// Repetitions; each runs every client once, interleaved.
    #[arg(long, default_value_t = 5)]
    repeat: usize,
    /// Seconds of load (and resets) per run.
    #[arg(long, default_value_t = 5.0)]
    duration: f64,
    /// Milliseconds between two resets of all connections.
    #[arg(long, default_value_t = 250)]
    reset_every_ms: u64,
    /// Tasks sharing the one connection.
    #[arg(long, default_value_t = 256)]
    tasks: usize,
    /// Runtime: ct (current_thread), mt1, mt2 (multi_thread with 1 or 2 workers).
    #[arg(long, default_value = "mt2")]
    runtime: String,
    /// Clients: redwire, redis-rs, fred, rustis.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "redwire,redis-rs,fred,rustis"
    )]
    clients: Vec<String>,
    /// Markdown file in which to replace (or append) this benchmark's section.
    #[arg(long)]
    out: Option<String>,
    /// Internal: run one client in this process and print its result.
    #[arg(long, hide = true)]
    child: bool,
}

/// Reconnect backoff of all four clients.
const BACKOFF_INITIAL: Duration = Duration::from_millis(100);
const BACKOFF_MAX: Duration = Duration::from_secs(1);
/// Bound of every command and of every connection attempt, for all four.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(1);
/// How long tasks may take to finish after the load stops before they count
/// as stuck.
const DRAIN: Duration = Duration::from_secs(3);

/// One run of one client.
#[derive(Debug, Clone, Default)]
struct Run {
    completed: u64,
    errors: u64,
    connections: u64,
    resets: u64,
    stuck: u64,
    wrong: u64,
    /// Errors by kind, and the first message seen of each kind.
    kinds: BTreeMap<String, (u64, String)>,
}

impl Run {
    /// The counts on a `RESULT` line, then an `ERRKIND` line per error kind.
    fn to_lines(&self) -> String {
        let counts = [
            self.completed,
            self.errors,
            self.connections,
            self.resets,
            self.stuck,
            self.wrong,
        ];
        let mut s = result_line(&counts.map(|n| n as f64)) + "\n";
        for (kind, (n, msg)) in &self.kinds {
            s.push_str(&format!("ERRKIND {kind} {n} {msg}\n"));
        }
        s
    }

    fn from_lines(text: &str) -> Option<Run> {
        let mut run = None::<Run>;
        for line in text.lines() {
            if let Some(v) = parse_result_line(line, 6) {
                let v: Vec<u64> = v.into_iter().map(|n| n as u64).collect();
                run = Some(Run {
                    completed: v[0],
                    errors: v[1],
                    connections: v[2],
                    resets: v[3],
                    stuck: v[4],
                    wrong: v[5],
                    kinds: BTreeMap::new(),
                });
            } else if let Some(rest) = line.strip_prefix("ERRKIND ") {
                let mut parts = rest.splitn(3, ' ');
                let kind = parts.next()?.to_string();
                let n: u64 = parts.next()?.parse().ok()?;
                let msg = parts.next().unwrap_or("").to_string();
                run.as_mut()?.kinds.insert(kind, (n, msg));
            }
        }
        run
    }
}

fn main() {
    let args = Args::parse();
    if args.child {
        let run = run_child(&args);
        print!("{}", run.to_lines());
        return;
    }
    run_parent(args);
}

// ---- the parent: children, interleaved, and the report ----

fn run_parent(args: Args) {
    let mut runs: BTreeMap<String, Vec<Run>> = BTreeMap::new();
    for rep in 0..args.repeat {
        for client in &args.clients {
            let out = redwire_bench::child_command()
                .args(["--clients", client])
                .args(["--duration", &args.duration.to_string()])
                .args(["--reset-every-ms", &args.reset_every_ms.to_string()])
                .args(["--tasks", &args.tasks.to_string()])
                .args(["--runtime", &args.runtime])
                .output()
                .expect("run child");
            let text = String::from_utf8_lossy(&out.stdout);
            match Run::from_lines(&text) {
                Some(run) => {
                    eprintln!(
                        "run {}/{} {client:>8}: {} completed, {} errors, {} connections, {} resets, {} stuck, {} wrong replies{}",
                        rep + 1,
                        args.repeat,
                        run.completed,
                        run.errors,
                        run.connections,
                        run.resets,
                        run.stuck,
                        run.wrong,
                        kinds_summary(&run.kinds)
                    );
                    runs.entry(client.clone()).or_default().push(run);
                }
                None => eprintln!(
                    "run {}/{} {client}: failed ({}): {}",
                    rep + 1,
                    args.repeat,
                    out.status,
                    String::from_utf8_lossy(&out.stderr)
                ),
            }
        }
    }
    let report = report(&args, &runs);
    println!("{report}");
    if let Some(path) = &args.out {
        let old = std::fs::read_to_string(path).unwrap_or_default();
        std::fs::write(path, replace_section(&old, &section_title(&args), &report))
            .expect("write report");
        eprintln!("wrote {path}");
    }
}

fn kinds_summary(kinds: &BTreeMap<String, (u64, String)>) -> String {
    if kinds.is_empty() {
        return String::new();
    }
    let parts: Vec<String> = kinds.iter().map(|(k, (n, _))| format!("{k} {n}")).collect();
    format!(" ({})", parts.join(", "))
}

fn section_title(args: &Args) -> String {
    format!("## GET/SET under resets every {} ms", args.reset_every_ms)
}

/// `old` with the section that starts with the line `title` (up to the next
/// `#` or `##` heading) replaced by `section`, or with `section` appended.
fn replace_section(old: &str, title: &str, section: &str) -> String {
    let section = format!("{}\n", section.trim_end());
    let lines: Vec<&str> = old.split_inclusive('\n').collect();
    let Some(start) = lines.iter().position(|l| l.trim_end() == title) else {
        let mut s = old.to_string();
        if !s.is_empty() {
            if !s.ends_with('\n') {
                s.push('\n');
            }
            if !s.ends_with("\n\n") {
                s.push('\n');
            }
        }
        s.push_str(&section);
        return s;
    };
    let end = lines[start + 1..]
        .iter()
        .position(|l| l.starts_with("# ") || l.starts_with("## "))
        .map_or(lines.len(), |i| start + 1 + i);
    let mut s: String = lines[..start].concat();
    s.push_str(&section);
    if end < lines.len() {
        s.push('\n');
        s.push_str(&lines[end..].concat());
    }
    s
}

/// Median (mean of the two middle ones for an even count), min and max.
fn stats(mut v: Vec<u64>) -> (f64, u64, u64) {
    v.sort_unstable();
    let n = v.len();
    let median = if n % 2 == 1 {
        v[n / 2] as f64
    } else {
        (v[n / 2 - 1] + v[n / 2]) as f64 / 2.0
    };
    (median, v[0], v[n - 1])
}

fn cell(v: Vec<u64>) -> String {
    let (median, min, max) = stats(v);
    let median = if median.fract() == 0.0 {
        format!("{median:.0}")
    } else {
        format!("{median:.1}")
    };
    format!("{median} ({min}–{max})")
}

fn report(args: &Args, runs: &BTreeMap<String, Vec<Run>>) -> String {
    use std::fmt::Write;
    let mut s = String::new();
    let _ = writeln!(s, "{}\n", section_title(args));
    let _ = writeln!(
        s,
        "Each client on ONE connection, through `redwire_testkit::FaultProxy` to a throwaway\n\
         redis-server, shared by {} tasks alternating SET and GET of a 16-byte value (one key per\n\
         task) for {:.1} s, while a thread calls `proxy.reset_all()` (TCP RST to both sides) every\n\
         {} ms. Reconnect backoff 100 ms to 1 s, exponential, forever; every command and every\n\
         connection attempt bounded by 1 s. Runtime `{}`. {} repetition(s), the clients interleaved\n\
         in each, each run in a process of its own with its own server and proxy; median (min–max).\n\
         Machine: {} cores.\n",
        args.tasks,
        args.duration,
        args.reset_every_ms,
        args.runtime,
        args.repeat,
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    let _ = writeln!(
        s,
        "Command: `cargo run --release -p redwire-bench --bin resets -- --repeat {} --duration {} --reset-every-ms {} --tasks {} --runtime {}`\n",
        args.repeat, args.duration, args.reset_every_ms, args.tasks, args.runtime
    );
    let _ = writeln!(
        s,
        "| client | completed | errors | connections |\n|---|---:|---:|---:|"
    );
    let ordered: Vec<(&String, &Vec<Run>)> = args
        .clients
        .iter()
        .filter_map(|c| runs.get(c).map(|r| (c, r)))
        .collect();
    for (client, rs) in &ordered {
        let _ = writeln!(
            s,
            "| {client} | {} | {} | {} |",
            cell(rs.iter().map(|r| r.completed).collect()),
            cell(rs.iter().map(|r| r.errors).collect()),
            cell(rs.iter().map(|r| r.connections).collect()),
        );
    }
    let _ = writeln!(
        s,
        "\n`completed`: requests answered with the expected reply; `errors`: requests that returned\n\
         any error; `connections`: connections the proxy accepted, the first one included\n\
         (ideally resets + 1).\n"
    );
    let _ = writeln!(
        s,
        "| client | resets | wrong replies | tasks stuck | errors by kind (sum over runs) |\n|---|---:|---:|---:|---|"
    );
    for (client, rs) in &ordered {
        let mut kinds: BTreeMap<&str, u64> = BTreeMap::new();
        for r in rs.iter() {
            for (k, (n, _)) in &r.kinds {
                *kinds.entry(k).or_default() += n;
            }
        }
        let kinds: Vec<String> = kinds.iter().map(|(k, n)| format!("{k} {n}")).collect();
        let _ = writeln!(
            s,
            "| {client} | {} | {} | {} | {} |",
            cell(rs.iter().map(|r| r.resets).collect()),
            cell(rs.iter().map(|r| r.wrong).collect()),
            cell(rs.iter().map(|r| r.stuck).collect()),
            if kinds.is_empty() {
                "–".to_string()
            } else {
                kinds.join(", ")
            }
        );
    }
    let _ = writeln!(s, "\nFirst message seen of each error kind:\n");
    for (client, rs) in &ordered {
        let mut seen: BTreeMap<&str, &str> = BTreeMap::new();
        for r in rs.iter() {
            for (k, (_, msg)) in &r.kinds {
                seen.entry(k).or_insert(msg);
            }
        }
        for (k, msg) in seen {
            let _ = writeln!(s, "- {client}, {k}: `{}`", msg.replace('`', "'"));
        }
    }
    s
}

// ---- the child: one client, one server, one proxy ----

fn run_child(args: &Args) -> Run {
    let runtime = redwire_bench::runtime(&args.runtime);
    let server = redwire_testkit::RedisServer::start().expect("start redis-server");
    let proxy =
        Arc::new(redwire_testkit::FaultProxy::start(server.addr()).expect("start fault proxy"));
    let client = args.clients[0].clone();
    let url = proxy.url();
    let duration = Duration::from_secs_f64(args.duration);
    let every = Duration::from_millis(args.reset_every_ms);
    let tasks = args.tasks;
    let mut run = runtime.block_on({
        let proxy = proxy.clone();
        async move {
            let load = Arc::new(Load::connect(&client, &url).await);
            load_under_resets(load, proxy, tasks, duration, every).await
        }
    });
    // Stop the runtime (and the client's background tasks) before counting
    // connections, so a last reconnect is counted or not, but not half-way.
    drop(runtime);
    run.connections = proxy.connections_total() as u64;
    run
}

#[derive(Default)]
struct TaskStats {
    completed: u64,
    errors: u64,
    wrong: u64,
    kinds: BTreeMap<String, (u64, String)>,
}

async fn load_under_resets(
    load: Arc<Load>,
    proxy: Arc<redwire_testkit::FaultProxy>,
    tasks: usize,
    duration: Duration,
    every: Duration,
) -> Run {
    let stop = Arc::new(AtomicBool::new(false));
    let merged = Arc::new(Mutex::new(TaskStats::default()));
    let mut handles = Vec::new();
    for t in 0..tasks {
        let (load, stop, merged) = (load.clone(), stop.clone(), merged.clone());
        handles.push(tokio::spawn(async move {
            let key = format!("resets:{t}");
            let value = format!("resets-task{t:05}");
            debug_assert_eq!(value.len(), 16);
            let mut stats = TaskStats::default();
            let mut n = 0u64;
            while !stop.load(Ordering::Relaxed) {
                let outcome = if n % 2 == 0 {
                    load.set(&key, value.as_bytes()).await
                } else {
                    load.get(&key, value.as_bytes()).await
                };
                n += 1;
                match outcome {
                    Outcome::Ok => stats.completed += 1,
                    Outcome::Wrong => stats.wrong += 1,
                    Outcome::Err { kind, message } => {
                        stats.errors += 1;
                        stats.kinds.entry(kind).or_insert((0, message)).0 += 1;
                    }
                }
            }
            let mut m = merged.lock().unwrap();
            m.completed += stats.completed;
            m.errors += stats.errors;
            m.wrong += stats.wrong;
            for (k, (n, msg)) in stats.kinds {
                m.kinds.entry(k).or_insert((0, msg)).0 += n;
            }
        }));
    }
    // Resets on a plain thread: reset_all blocks until the sockets are gone.
    let resetter = {
        let (proxy, stop) = (proxy.clone(), stop.clone());
        std::thread::spawn(move || {
            let t0 = Instant::now();
            let mut resets = 0u64;
            loop {
                let due = t0 + every * (resets as u32 + 1);
                if due >= t0 + duration || stop.load(Ordering::Relaxed) {
                    return resets;
                }
                std::thread::sleep(due.saturating_duration_since(Instant::now()));
                proxy.reset_all();
                resets += 1;
            }
        })
    };
    tokio::time::sleep(duration).await;
    stop.store(true, Ordering::Relaxed);
    let resets = tokio::task::spawn_blocking(move || resetter.join().expect("resetter"))
        .await
        .expect("join resetter");
    let drain_until = tokio::time::Instant::now() + DRAIN;
    let mut stuck = 0u64;
    for h in handles {
        match tokio::time::timeout_at(drain_until, &mut Box::pin(h)).await {
            Ok(joined) => joined.expect("task"),
            Err(_) => stuck += 1,
        }
    }
    let m = std::mem::take(&mut *merged.lock().unwrap());
    Run {
        completed: m.completed,
        errors: m.errors,
        connections: 0,
        resets,
        stuck,
        wrong: m.wrong,
        kinds: m.kinds,
    }
}

// ---- the clients ----

enum Outcome {
    /// The expected reply: `OK` to SET; to GET nil or this task's own value.
    Ok,
    /// A reply that cannot be this request's.
    Wrong,
    Err {
        kind: String,
        message: String,
    },
}

fn error(kind: impl std::fmt::Debug, message: impl std::fmt::Display) -> Outcome {
    let kind: String = format!("{kind:?}")
        .chars()
        .map(|c| if c.is_whitespace() { '_' } else { c })
        .collect();
    let mut message = message.to_string().replace('\n', " ");
    if message.len() > 160 {
        let mut cut = 160;
        while !message.is_char_boundary(cut) {
            cut -= 1;
        }
        message.truncate(cut);
        message.push('…');
    }
    Outcome::Err { kind, message }
}

fn check_get(reply: Option<&[u8]>, own: &[u8]) -> Outcome {
    match reply {
        None => Outcome::Ok,
        Some(v) if v == own => Outcome::Ok,
        Some(_) => Outcome::Wrong,
    }
}

/// One client under test on its single shared, reconnecting connection.
enum Load {
    Redwire(redwire::Client),
    RedisRs(redis::aio::ConnectionManager),
    Fred(fred::clients::Client),
    Rustis(rustis::client::Client),
}

/// The name of a rustis error's kind, without the data it carries.
fn rustis_kind(e: &rustis::Error) -> String {
    let kind = format!("{:?}", e.kind());
    kind.split(['(', ' ', '{']).next().unwrap_or("").to_string()
}

impl Load {
    async fn connect(client: &str, url: &str) -> Load {
        match client {
            "redwire" => {
                let config = redwire::Config::from_url(url)
                    .expect("url")
                    .into_builder()
                    .backoff(redwire::Backoff {
                        initial: BACKOFF_INITIAL,
                        max: BACKOFF_MAX,
                        jitter: 0.5,
                        max_attempts: None,
                    })
                    .command_timeout(COMMAND_TIMEOUT)
                    .connect_timeout(COMMAND_TIMEOUT)
                    .build();
                Load::Redwire(redwire::Client::connect(config).await.expect("connect"))
            }
            "redis-rs" => {
                let client = redis::Client::open(url).expect("url");
                // Delays min(max, rand(0 .. 100 ms * 2^n)), retried forever.
                let config = redis::aio::ConnectionManagerConfig::new()
                    .set_min_delay(BACKOFF_INITIAL)
                    .set_max_delay(BACKOFF_MAX)
                    .set_exponent_base(2.0)
                    .set_number_of_retries(usize::MAX)
                    .set_response_timeout(Some(COMMAND_TIMEOUT))
                    .set_connection_timeout(Some(COMMAND_TIMEOUT));
                Load::RedisRs(
                    redis::aio::ConnectionManager::new_with_config(client, config)
                        .await
                        .expect("connect"),
                )
            }
            "fred" => {
                use fred::prelude::*;
                let config = Config::from_url(url).expect("url");
                // 100 ms * 2^(n-1) capped at 1 s, plus up to 50 ms of jitter;
                // 0 attempts means forever.
                let mut policy = ReconnectPolicy::new_exponential(
                    0,
                    BACKOFF_INITIAL.as_millis() as u32,
                    BACKOFF_MAX.as_millis() as u32,
                    2,
                );
                policy.set_jitter(50);
                let client = Builder::from_config(config)
                    .set_policy(policy)
                    .with_performance_config(|p| p.default_command_timeout = COMMAND_TIMEOUT)
                    .with_connection_config(|c| {
                        c.connection_timeout = COMMAND_TIMEOUT;
                        c.internal_command_timeout = COMMAND_TIMEOUT;
                    })
                    .build()
                    .expect("build");
                client.init().await.expect("connect");
                Load::Fred(client)
            }
            "rustis" => {
                use rustis::client::{IntoConfig, ReconnectionConfig};
                let mut config = url.into_config().expect("url");
                // 100 ms * 2^n capped at 1 s, plus up to 50 ms of jitter; 0
                // attempts means forever.
                let mut reconnection = ReconnectionConfig::new_exponential(
                    0,
                    BACKOFF_INITIAL.as_millis() as u32,
                    BACKOFF_MAX.as_millis() as u32,
                    2,
                );
                reconnection.set_jitter(50);
                config.reconnection = reconnection;
                config.command_timeout = COMMAND_TIMEOUT;
                config.connect_timeout = COMMAND_TIMEOUT;
                Load::Rustis(
                    rustis::client::Client::connect(config)
                        .await
                        .expect("connect"),
                )
            }
            other => panic!("unknown client {other}"),
        }
    }

    async fn get(&self, key: &str, own: &[u8]) -> Outcome {
        match self {
            Load::Redwire(c) => {
                match c
                    .query::<Option<bytes::Bytes>>(&redwire::cmd("GET").arg(key))
                    .await
                {
                    Ok(v) => check_get(v.as_deref(), own),
                    Err(e) => error(e.kind(), &e),
                }
            }
            Load::RedisRs(c) => {
                match redis::cmd("GET")
                    .arg(key)
                    .query_async::<Option<Vec<u8>>>(&mut c.clone())
                    .await
                {
                    Ok(v) => check_get(v.as_deref(), own),
                    Err(e) => error(e.kind(), &e),
                }
            }
            Load::Fred(c) => {
                use fred::prelude::*;
                match c.get::<Option<bytes::Bytes>, _>(key).await {
                    Ok(v) => check_get(v.as_deref(), own),
                    Err(e) => error(e.kind(), &e),
                }
            }
            Load::Rustis(c) => {
                use rustis::commands::StringCommands;
                match c.get::<Option<rustis::resp::BulkString>>(key).await {
                    Ok(v) => check_get(v.as_deref(), own),
                    Err(e) => error(format_args!("{}", rustis_kind(&e)), &e),
                }
            }
        }
    }

    async fn set(&self, key: &str, value: &[u8]) -> Outcome {
        match self {
            Load::Redwire(c) => match c.send(&redwire::cmd("SET").arg(key).arg(value)).await {
                Ok(redwire::Value::Simple(s)) if &s[..] == b"OK" => Outcome::Ok,
                Ok(_) => Outcome::Wrong,
                Err(e) => error(e.kind(), &e),
            },
            Load::RedisRs(c) => {
                match redis::cmd("SET")
                    .arg(key)
                    .arg(value)
                    .query_async::<redis::Value>(&mut c.clone())
                    .await
                {
                    Ok(redis::Value::Okay) => Outcome::Ok,
                    Ok(redis::Value::SimpleString(s)) if s == "OK" => Outcome::Ok,
                    Ok(_) => Outcome::Wrong,
                    Err(e) => error(e.kind(), &e),
                }
            }
            Load::Fred(c) => {
                use fred::prelude::*;
                match c
                    .set::<Option<String>, _, _>(key, value, None, None, false)
                    .await
                {
                    Ok(Some(s)) if s == "OK" => Outcome::Ok,
                    Ok(_) => Outcome::Wrong,
                    Err(e) => error(e.kind(), &e),
                }
            }
            Load::Rustis(c) => {
                let set = rustis::resp::cmd("SET")
                    .key(key)
                    .arg(rustis::resp::RefBulkString::new(value));
                match c.send::<rustis::resp::Value>(set, None).await {
                    Ok(rustis::resp::Value::SimpleString(s)) if s == "OK" => Outcome::Ok,
                    Ok(_) => Outcome::Wrong,
                    Err(e) => error(format_args!("{}", rustis_kind(&e)), &e),
                }
            }
        }
    }
}
