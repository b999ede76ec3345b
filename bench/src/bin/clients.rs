//! End-to-end benchmark of redwire against redis-rs (`MultiplexedConnection`),
//! fred and rustis, each on ONE connection shared by 1, 16, 128 and 1,024
//! tasks doing GET (or GET and SET) of a value of `--size` bytes (16 by
//! default), under three tokio runtimes, against one or more local servers
//! (`--servers`: Redis and Valkey binaries); plus `redis-benchmark -P 16 -c
//! 50` on each server as the ceiling.
//!
//! Every (server, runtime, tasks, client) cell runs in a child process of its
//! own, so its CPU time, write syscalls and peak memory are its own:
//!
//! - ops/s and p50/p99/p99.9 latency (HDR histogram of every request),
//! - client CPU per request: user+sys time of the process / requests,
//! - socket writes per request: write-family syscalls (`write`, `writev`,
//!   `send`, `sendto`, `sendmsg`) on the client's socket / requests, counted by
//!   wrappers that this binary puts in front of libc's (see `count_write`);
//!   and TCP segments per request (`tcpi_data_segs_out` of `TCP_INFO`), which
//!   can be fewer since the kernel may merge small writes,
//! - peak RSS of the process.
//!
//! The cells are interleaved: each of `--repeat` repetitions goes over every
//! cell once, the clients of one (server, runtime, tasks) back to back and
//! their order rotated from one repetition to the next, so that whatever the
//! shared machine does weighs on every client alike. The table gives the
//! median (min–max) over the repetitions, and redwire's ops/s over each
//! peer's, paired within each repetition (the ratio of the two runs that
//! were seconds apart), as median (min–max) of those ratios.
//!
//! ```text
//! cargo run --release -p redwire-bench --bin clients -- --workload get --repeat 3 \
//!     --servers /usr/bin/redis-server,/usr/bin/valkey-server
//! ```

use clap::Parser;
use redwire_bench::load::{Load, PEERS};
use redwire_bench::{
    child_command, cpu_time, peak_rss_kib, run_cell, spread, spread_of, Figures, Phases,
};
use std::process::Command;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

#[derive(Parser, Debug, Clone)]
#[command(about = "redwire vs redis-rs vs fred vs rustis on one shared connection")]
struct Args {
    /// Server URL; by default throwaway servers are started (`--servers`).
    #[arg(long)]
    url: Option<String>,
    /// Server binaries to start, one throwaway server each, cells of all of
    /// them interleaved; by default `REDWIRE_REDIS_SERVER` or `redis-server`.
    #[arg(long, value_delimiter = ',')]
    servers: Vec<String>,
    /// Seconds measured per cell.
    #[arg(long, default_value_t = 2.0)]
    duration: f64,
    /// Seconds of warm-up per cell, not measured.
    #[arg(long, default_value_t = 0.5)]
    warmup: f64,
    /// Task counts.
    #[arg(long, value_delimiter = ',', default_value = "1,16,128,1024")]
    tasks: Vec<usize>,
    /// Runtimes: ct (current_thread), mt1, mt2 (multi_thread with 1 or 2 workers).
    #[arg(long, value_delimiter = ',', default_value = "ct,mt1,mt2")]
    runtimes: Vec<String>,
    /// Clients: redwire, redwire-typed (the typed methods, `client.get(k)`,
    /// instead of `client.query(&cmd("GET").arg(k))`), redwire-prebuilt (one
    /// GET command per task, sent again and again), redis-rs, fred, rustis.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "redwire,redis-rs,fred,rustis"
    )]
    clients: Vec<String>,
    /// Repetitions, each over every cell once (interleaved); median and
    /// min–max are reported.
    #[arg(long, default_value_t = 1)]
    repeat: usize,
    /// What each task does: `mix` alternates SET and GET, `get` only GETs
    /// (of keys set once before the warm-up).
    #[arg(long, default_value = "mix", value_parser = ["mix", "get"])]
    workload: String,
    /// Size of the values in bytes.
    #[arg(long, default_value_t = 16)]
    size: usize,
    /// Skip the `redis-benchmark` ceiling.
    #[arg(long)]
    no_ceiling: bool,
    /// Internal: run one cell in this process and print its result.
    #[arg(long, hide = true)]
    child: bool,
}

#[derive(Debug, Clone, Copy, Default)]
struct Cell {
    ops: f64,
    p50_us: f64,
    p99_us: f64,
    p999_us: f64,
    cpu_us: f64,
    writes: f64,
    segments: f64,
    rss_mib: f64,
}

impl Figures for Cell {
    const FIELDS: usize = 8;

    fn figures(&self) -> Vec<f64> {
        vec![
            self.ops,
            self.p50_us,
            self.p99_us,
            self.p999_us,
            self.cpu_us,
            self.writes,
            self.rss_mib,
            self.segments,
        ]
    }

    fn from_figures(v: &[f64]) -> Cell {
        Cell {
            ops: v[0],
            p50_us: v[1],
            p99_us: v[2],
            p999_us: v[3],
            cpu_us: v[4],
            writes: v[5],
            rss_mib: v[6],
            segments: v[7],
        }
    }
}

fn main() {
    let args = Args::parse();
    redwire_bench::child_or_parent(args.child, args, run_child, run_parent);
}

/// A server under test: its name as reported ("redis 7.0.15"), its URL,
/// and the process when this run started it.
struct Server {
    name: String,
    url: String,
    _process: Option<redwire_testkit::RedisServer>,
}

fn servers(args: &Args) -> Vec<Server> {
    if let Some(url) = &args.url {
        return vec![Server {
            name: url.clone(),
            url: url.clone(),
            _process: None,
        }];
    }
    let start = |binary: Option<&str>| {
        let mut builder = redwire_testkit::RedisServer::builder();
        if let Some(b) = binary {
            builder = builder.binary(b);
        }
        let server = builder.start().expect("start a server");
        let name = server.identity().map_or_else(
            |_| binary.unwrap_or("redis-server").to_string(),
            |i| i.to_string(),
        );
        Server {
            name,
            url: server.url(),
            _process: Some(server),
        }
    };
    if args.servers.is_empty() {
        vec![start(None)]
    } else {
        args.servers.iter().map(|b| start(Some(b))).collect()
    }
}

/// One cell of the matrix.
#[derive(Clone)]
struct Key {
    server: usize,
    runtime: String,
    tasks: usize,
    client: String,
}

fn run_parent(args: Args) {
    let servers = servers(&args);
    let ceilings: Vec<f64> = servers
        .iter()
        .map(|s| {
            if args.no_ceiling {
                return 0.0;
            }
            let c = redis_benchmark(port_of(&s.url), args.size);
            eprintln!(
                "{}: redis-benchmark -P 16 -c 50 GET ceiling: {c:.0} ops/s",
                s.name
            );
            c
        })
        .collect();
    // Groups of cells whose clients run back to back.
    let mut groups: Vec<Vec<Key>> = Vec::new();
    for server in 0..servers.len() {
        for runtime in &args.runtimes {
            for &tasks in &args.tasks {
                groups.push(
                    args.clients
                        .iter()
                        .map(|client| Key {
                            server,
                            runtime: runtime.clone(),
                            tasks,
                            client: client.clone(),
                        })
                        .collect(),
                );
            }
        }
    }
    // runs[g][c]: the runs of client c of group g, by repetition (None: failed).
    let mut runs: Vec<Vec<Vec<Option<Cell>>>> =
        groups.iter().map(|g| vec![Vec::new(); g.len()]).collect();
    for rep in 0..args.repeat {
        for (g, group) in groups.iter().enumerate() {
            for i in 0..group.len() {
                let c = (i + rep) % group.len();
                let key = &group[c];
                let server = &servers[key.server];
                let label = format!(
                    "run {}/{} {} {} {} {}",
                    rep + 1,
                    args.repeat,
                    server.name,
                    key.runtime,
                    key.tasks,
                    key.client
                );
                let cell = run_cell::<Cell>(
                    &label,
                    child_command()
                        .env("REDWIRE_BENCH_PORT", port_of(&server.url))
                        .args(["--url", &server.url])
                        .args(["--duration", &args.duration.to_string()])
                        .args(["--warmup", &args.warmup.to_string()])
                        .args(["--tasks", &key.tasks.to_string()])
                        .args(["--runtimes", &key.runtime, "--clients", &key.client])
                        .args(["--workload", &args.workload])
                        .args(["--size", &args.size.to_string()]),
                );
                if let Some(c) = &cell {
                    eprintln!(
                        "{label}: {:>9.0} ops/s  p50 {:>7.1} µs  p99 {:>8.1} µs  cpu {:>5.2} µs/req  {:.3} writes/req  {:.3} segs/req  {:>6.1} MiB",
                        c.ops, c.p50_us, c.p99_us, c.cpu_us, c.writes, c.segments, c.rss_mib
                    );
                }
                runs[g][c].push(cell);
            }
        }
    }
    println!("{}", report(&args, &servers, &ceilings, &groups, &runs));
}

fn port_of(url: &str) -> &str {
    url.rsplit(':')
        .next()
        .unwrap_or("6379")
        .trim_end_matches('/')
}

/// `redis-benchmark -P 16 -c 50` GET throughput on the same server.
fn redis_benchmark(port: &str, size: usize) -> f64 {
    let out = Command::new("redis-benchmark")
        .args(["-p", port, "-P", "16", "-c", "50", "-t", "get", "-q"])
        .args(["-n", if size > 4096 { "50000" } else { "1000000" }])
        .args(["-d", &size.to_string()])
        .output();
    let Ok(out) = out else { return 0.0 };
    let text = String::from_utf8_lossy(&out.stdout);
    // "GET: 1176470.62 requests per second, p50=..." (after \r progress lines)
    text.rsplit(['\r', '\n'])
        .filter_map(|l| l.strip_prefix("GET: "))
        .find_map(|l| l.split_whitespace().next()?.parse::<f64>().ok())
        .unwrap_or(0.0)
}

fn report(
    args: &Args,
    servers: &[Server],
    ceilings: &[f64],
    groups: &[Vec<Key>],
    runs: &[Vec<Vec<Option<Cell>>>],
) -> String {
    use std::fmt::Write;
    let mut s = String::new();
    let work = if args.workload == "get" {
        "GET"
    } else {
        "alternating GET and SET"
    };
    let _ = writeln!(
        s,
        "{work} of a {} B value, ONE connection per client shared by N tasks; {:.1} s measured \
         after {:.1} s warm-up per cell, each cell in a process of its own; {} repetition(s), \
         interleaved; median (min–max).\n",
        args.size, args.duration, args.warmup, args.repeat
    );
    for (i, server) in servers.iter().enumerate() {
        if ceilings[i] > 0.0 {
            let _ = writeln!(
                s,
                "Ceiling on {}: `redis-benchmark -P 16 -c 50 -t get -d {}` = {:.0} ops/s  ",
                server.name, args.size, ceilings[i]
            );
        }
    }
    let peers: Vec<&str> = args
        .clients
        .iter()
        .map(String::as_str)
        .filter(|c| PEERS.contains(c))
        .collect();
    // redwire's ops/s over `peer`'s in each repetition of a group.
    let ratios = |g: usize, peer: &str| -> Option<Vec<f64>> {
        let group = &groups[g];
        let me = group.iter().position(|k| k.client == "redwire")?;
        let them = group.iter().position(|k| k.client == peer)?;
        Some(
            runs[g][me]
                .iter()
                .zip(&runs[g][them])
                .filter_map(|(a, b)| Some(a.as_ref()?.ops / b.as_ref()?.ops))
                .collect(),
        )
    };
    // The summary: redwire ÷ each peer, servers side by side.
    if args.clients.iter().any(|c| c == "redwire") && !peers.is_empty() {
        let _ = writeln!(
            s,
            "\n**redwire's ops/s ÷ the peer's**, paired within each repetition, median (min–max):\n"
        );
        let mut header = String::from("| runtime | tasks |");
        let mut rule = String::from("|---|---:|");
        for server in servers {
            for p in &peers {
                let _ = write!(header, " ÷ {p} ({}) |", server.name);
                rule.push_str("---:|");
            }
        }
        let _ = writeln!(s, "{header}\n{rule}");
        for runtime in &args.runtimes {
            for &tasks in &args.tasks {
                let _ = write!(s, "| {runtime} | {tasks} |");
                for server in 0..servers.len() {
                    let g = groups
                        .iter()
                        .position(|grp| {
                            let k = &grp[0];
                            k.server == server && &k.runtime == runtime && k.tasks == tasks
                        })
                        .expect("group");
                    for p in &peers {
                        let text = ratios(g, p).map_or("–".into(), |r| spread(&r, 2));
                        let _ = write!(s, " {text} |");
                    }
                }
                let _ = writeln!(s);
            }
        }
    }
    for (i, server) in servers.iter().enumerate() {
        let _ = writeln!(
            s,
            "\n**{}**: every client, median (min–max) of the repetitions (writes/req: median):\n",
            server.name
        );
        let _ = writeln!(
            s,
            "| runtime | tasks | client | ops/s | p50 µs | p99 µs | CPU µs/req | writes/req |\n|---|---:|---|---:|---:|---:|---:|---:|"
        );
        for (group, group_runs) in groups.iter().zip(runs) {
            for (key, cell_runs) in group.iter().zip(group_runs) {
                if key.server != i {
                    continue;
                }
                let ok: Vec<Cell> = cell_runs.iter().flatten().copied().collect();
                let lat = if key.tasks >= 128 { 0 } else { 1 };
                let writes =
                    redwire_bench::median_min_max(&ok.iter().map(|c| c.writes).collect::<Vec<_>>())
                        .map_or("–".into(), |(m, _, _)| format!("{m:.3}"));
                let _ = writeln!(
                    s,
                    "| {} | {} | {} | {} | {} | {} | {} | {writes} |",
                    key.runtime,
                    key.tasks,
                    key.client,
                    spread_of(&ok, |c| c.ops, 0),
                    spread_of(&ok, |c| c.p50_us, lat),
                    spread_of(&ok, |c| c.p99_us, lat),
                    spread_of(&ok, |c| c.cpu_us, 2),
                );
            }
        }
    }
    s
}

// ---- the child: one cell ----

fn run_child(args: &Args) -> Cell {
    let runtime = redwire_bench::runtime(&args.runtimes[0]);
    let url = args.url.clone().expect("url");
    let tasks = args.tasks[0];
    let client = args.clients[0].clone();
    let warmup = Duration::from_secs_f64(args.warmup);
    let duration = Duration::from_secs_f64(args.duration);
    runtime.block_on(async move {
        let load = Arc::new(Load::connect(&client, &url).await);
        let value = vec![b'v'; args.size];
        measure(load, tasks, warmup, duration, args.workload == "get", value).await
    })
}

async fn measure(
    load: Arc<Load>,
    tasks: usize,
    warmup: Duration,
    duration: Duration,
    get_only: bool,
    value: Vec<u8>,
) -> Cell {
    let value: Arc<[u8]> = Arc::from(value);
    let phases = Phases::new();
    let handles = (0..tasks)
        .map(|t| {
            let (load, mut rec, value) = (load.clone(), phases.recorder(), value.clone());
            tokio::spawn(async move {
                let key = format!("bench:{}", t % 1000);
                let prebuilt = Load::prebuilt_get(&key);
                if get_only {
                    load.set(&key, &value).await;
                }
                let mut n = u64::from(get_only);
                while let Some(op) = rec.start() {
                    if n % 2 == 0 && !get_only {
                        load.set(&key, &value).await;
                    } else {
                        load.get(&key, &prebuilt).await;
                    }
                    n += 1;
                    rec.record(op);
                }
                rec.finish();
            })
        })
        .collect();
    let m = phases
        .run(warmup, duration, handles, || {
            (cpu_time(), segments_sent(), WRITES.load(Ordering::Relaxed))
        })
        .await;
    let ((cpu0, s0, w0), (cpu1, s1, w1)) = (m.before, m.after);
    Cell {
        ops: m.ops_per_sec(),
        p50_us: m.quantile_us(0.5),
        p99_us: m.quantile_us(0.99),
        p999_us: m.quantile_us(0.999),
        cpu_us: m.per_op((cpu1 - cpu0).as_secs_f64() * 1e6),
        writes: m.per_op((w1 - w0) as f64),
        segments: m.per_op((s1 - s0) as f64),
        rss_mib: peak_rss_kib() as f64 / 1024.0,
    }
}

/// Data segments sent so far by this process's TCP sockets connected to the
/// server (the one connection under test), from `TCP_INFO`.
fn segments_sent() -> u64 {
    let port: u16 = std::env::var("REDWIRE_BENCH_PORT")
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(0);
    let Ok(dir) = std::fs::read_dir("/proc/self/fd") else {
        return 0;
    };
    let mut total = 0u64;
    for entry in dir.flatten() {
        let Some(fd) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<i32>().ok())
        else {
            continue;
        };
        // SAFETY: getpeername and getsockopt only write into the buffers we pass;
        // on a descriptor that is not a TCP socket they fail and we skip it.
        unsafe {
            let mut addr: libc::sockaddr_storage = std::mem::zeroed();
            let mut len = std::mem::size_of::<libc::sockaddr_storage>() as libc::socklen_t;
            if libc::getpeername(fd, &mut addr as *mut _ as *mut libc::sockaddr, &mut len) != 0 {
                continue;
            }
            if addr.ss_family as i32 != libc::AF_INET {
                continue;
            }
            let sin = &*(&addr as *const _ as *const libc::sockaddr_in);
            if u16::from_be(sin.sin_port) != port {
                continue;
            }
            let mut info = [0u8; 256];
            let mut len = info.len() as libc::socklen_t;
            if libc::getsockopt(
                fd,
                libc::IPPROTO_TCP,
                libc::TCP_INFO,
                info.as_mut_ptr().cast(),
                &mut len,
            ) != 0
                || len < 160
            {
                continue;
            }
            TARGET_FD.store(fd, Ordering::Relaxed);
            // struct tcp_info: tcpi_data_segs_out is the u32 at byte 156.
            total += u32::from_ne_bytes([info[156], info[157], info[158], info[159]]) as u64;
        }
    }
    total
}

// ---- counting writes whatever syscall a client uses ----
//
// This executable defines libc's write-family symbols; the dynamic linker binds
// every call in the process (std, tokio, mio, the clients) to these, which count
// calls on the socket under test and pass everything on as the raw syscall.

static TARGET_FD: std::sync::atomic::AtomicI32 = std::sync::atomic::AtomicI32::new(-1);
static WRITES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

fn count_write(fd: libc::c_int) {
    if fd == TARGET_FD.load(Ordering::Relaxed) {
        WRITES.fetch_add(1, Ordering::Relaxed);
    }
}

/// # Safety
/// Same contract as libc's `write`.
#[no_mangle]
pub unsafe extern "C" fn write(
    fd: libc::c_int,
    buf: *const libc::c_void,
    n: libc::size_t,
) -> libc::ssize_t {
    count_write(fd);
    libc::syscall(libc::SYS_write, fd, buf, n) as libc::ssize_t
}

/// # Safety
/// Same contract as libc's `writev`.
#[no_mangle]
pub unsafe extern "C" fn writev(
    fd: libc::c_int,
    iov: *const libc::iovec,
    cnt: libc::c_int,
) -> libc::ssize_t {
    count_write(fd);
    libc::syscall(libc::SYS_writev, fd, iov, cnt) as libc::ssize_t
}

/// # Safety
/// Same contract as libc's `send`.
#[no_mangle]
pub unsafe extern "C" fn send(
    fd: libc::c_int,
    buf: *const libc::c_void,
    n: libc::size_t,
    flags: libc::c_int,
) -> libc::ssize_t {
    count_write(fd);
    libc::syscall(
        libc::SYS_sendto,
        fd,
        buf,
        n,
        flags,
        std::ptr::null::<libc::c_void>(),
        0,
    ) as libc::ssize_t
}

/// # Safety
/// Same contract as libc's `sendto`.
#[no_mangle]
pub unsafe extern "C" fn sendto(
    fd: libc::c_int,
    buf: *const libc::c_void,
    n: libc::size_t,
    flags: libc::c_int,
    addr: *const libc::sockaddr,
    len: libc::socklen_t,
) -> libc::ssize_t {
    count_write(fd);
    libc::syscall(libc::SYS_sendto, fd, buf, n, flags, addr, len) as libc::ssize_t
}

/// # Safety
/// Same contract as libc's `sendmsg`.
#[no_mangle]
pub unsafe extern "C" fn sendmsg(
    fd: libc::c_int,
    msg: *const libc::msghdr,
    flags: libc::c_int,
) -> libc::ssize_t {
    count_write(fd);
    libc::syscall(libc::SYS_sendmsg, fd, msg, flags) as libc::ssize_t
}
