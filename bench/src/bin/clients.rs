//! End-to-end benchmark of redwire against redis-rs (`MultiplexedConnection`)
//! and fred, each on ONE connection shared by 1, 16, 128 and 1,024 tasks doing
//! GET and SET of 16-byte values, under three tokio runtimes, against one local
//! redis-server; plus `redis-benchmark -P 16 -c 50` on the same server as the
//! ceiling.
//!
//! Every (client, runtime, tasks) cell runs in a child process of its own, so
//! its CPU time, write syscalls and peak memory are its own:
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
//! ```text
//! cargo run --release -p redwire-bench --bin clients -- --out BENCHMARKS.md
//! ```

use clap::Parser;
use redwire_bench::load::Load;
use redwire_bench::{child_command, cpu_time, peak_rss_kib, run_cell, Figures, Phases};
use std::process::Command;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

#[derive(Parser, Debug, Clone)]
#[command(about = "redwire vs redis-rs vs fred on one shared connection")]
struct Args {
    /// Server URL; by default a throwaway redis-server is started.
    #[arg(long)]
    url: Option<String>,
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
    /// GET command per task, sent again and again), redis-rs, fred.
    #[arg(long, value_delimiter = ',', default_value = "redwire,redis-rs,fred")]
    clients: Vec<String>,
    /// Runs of each cell; the median by ops/s is reported.
    #[arg(long, default_value_t = 1)]
    repeat: usize,
    /// What each task does: `mix` alternates SET and GET, `get` only GETs
    /// (of keys set once before the warm-up).
    #[arg(long, default_value = "mix", value_parser = ["mix", "get"])]
    workload: String,
    /// Markdown file to write the results to.
    #[arg(long)]
    out: Option<String>,
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

fn run_parent(args: Args) {
    let (_server, url) = redwire_bench::server_url(args.url.as_deref());
    let port = url
        .rsplit(':')
        .next()
        .unwrap_or("6379")
        .trim_end_matches('/')
        .to_string();
    let ceiling = redis_benchmark(&port);
    eprintln!("redis-benchmark -P 16 -c 50 GET ceiling: {ceiling:.0} ops/s");

    let mut rows = Vec::new();
    for runtime in &args.runtimes {
        for &tasks in &args.tasks {
            for client in &args.clients {
                let mut runs = Vec::new();
                for _ in 0..args.repeat {
                    let cell = run_cell::<Cell>(
                        &format!("{client} {runtime} {tasks}"),
                        child_command()
                            .env("REDWIRE_BENCH_PORT", &port)
                            .args(["--url", &url])
                            .args(["--duration", &args.duration.to_string()])
                            .args(["--warmup", &args.warmup.to_string()])
                            .args(["--tasks", &tasks.to_string()])
                            .args(["--runtimes", runtime, "--clients", client])
                            .args(["--workload", &args.workload]),
                    );
                    runs.extend(cell);
                }
                runs.sort_by(|a, b| a.ops.total_cmp(&b.ops));
                let Some(cell) = runs.get(runs.len() / 2).copied() else {
                    continue;
                };
                eprintln!(
                    "{runtime:>4} {tasks:>5} {client:>9}: {:>9.0} ops/s  p50 {:>7.1} µs  p99 {:>8.1} µs  p99.9 {:>8.1} µs  cpu {:>5.2} µs/req  {:.3} writes/req  {:.3} segs/req  {:>6.1} MiB",
                    cell.ops, cell.p50_us, cell.p99_us, cell.p999_us, cell.cpu_us, cell.writes, cell.segments, cell.rss_mib
                );
                rows.push((runtime.clone(), tasks, client.clone(), cell));
            }
        }
    }
    let report = report(&args, &rows, ceiling);
    println!("{report}");
    if let Some(path) = &args.out {
        // Hand-written notes below the marker survive a new run.
        let notes = std::fs::read_to_string(path)
            .ok()
            .and_then(|old| old.find(NOTES_MARKER).map(|at| old[at..].to_string()))
            .unwrap_or_else(|| format!("{NOTES_MARKER}\n"));
        std::fs::write(path, format!("{report}\n{notes}")).expect("write report");
        eprintln!("wrote {path}");
    }
}

/// Where the generated part of the report ends and kept notes begin.
const NOTES_MARKER: &str = "<!-- notes: kept when the benchmark rewrites this file -->";

/// `redis-benchmark -P 16 -c 50` GET throughput on the same server.
fn redis_benchmark(port: &str) -> f64 {
    let out = Command::new("redis-benchmark")
        .args([
            "-p", port, "-P", "16", "-c", "50", "-t", "get", "-n", "2000000", "-d", "16", "-q",
        ])
        .output();
    let Ok(out) = out else { return 0.0 };
    let text = String::from_utf8_lossy(&out.stdout);
    // "GET: 1176470.62 requests per second, p50=..." (after \r progress lines)
    text.rsplit(['\r', '\n'])
        .filter_map(|l| l.strip_prefix("GET: "))
        .find_map(|l| l.split_whitespace().next()?.parse::<f64>().ok())
        .unwrap_or(0.0)
}

fn report(args: &Args, rows: &[(String, usize, String, Cell)], ceiling: f64) -> String {
    use std::fmt::Write;
    let mut s = String::new();
    let _ = writeln!(s, "# Client benchmark: redwire vs redis-rs vs fred\n");
    let _ = writeln!(
        s,
        "One local redis-server; each client on ONE connection shared by N tasks, each task\n\
         {} of a 16-byte value. {:.1} s measured after {:.1} s warm-up per cell,\n\
         median of {} run(s); each cell in a process of its own. Machine: {} cores.\n",
        if args.workload == "get" {
            "doing GET"
        } else {
            "alternating GET and SET"
        },
        args.duration,
        args.warmup,
        args.repeat,
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    let _ = writeln!(
        s,
        "Command: `cargo run --release -p redwire-bench --bin clients -- --duration {} --warmup {} --repeat {} --out BENCHMARKS.md`\n",
        args.duration, args.warmup, args.repeat
    );
    let _ = writeln!(
        s,
        "Ceiling: `redis-benchmark -P 16 -c 50 -t get -d 16` = **{ceiling:.0} ops/s**\n"
    );
    let _ = writeln!(
        s,
        "| runtime | tasks | client | ops/s | p50 µs | p99 µs | p99.9 µs | CPU µs/req | writes/req | segments/req | peak RSS MiB |\n|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|"
    );
    for (rt, tasks, client, c) in rows {
        let _ = writeln!(
            s,
            "| {rt} | {tasks} | {client} | {:.0} | {:.1} | {:.1} | {:.1} | {:.2} | {:.3} | {:.3} | {:.1} |",
            c.ops, c.p50_us, c.p99_us, c.p999_us, c.cpu_us, c.writes, c.segments, c.rss_mib
        );
    }
    let _ = writeln!(s, "\n## Goals\n");
    let find = |rt: &str, tasks: usize, client: &str| {
        rows.iter()
            .find(|(r, t, c, _)| r == rt && *t == tasks && c == client)
            .map(|x| x.3)
    };
    let mut goal = |text: String, met: bool| {
        let _ = writeln!(
            s,
            "- {} {text}",
            if met { "**met**:" } else { "**NOT met**:" }
        );
    };
    for rt in &args.runtimes {
        if let Some(c) = find(rt, 128, "redwire") {
            goal(
                format!(
                    "{rt}, 128 tasks: {:.3} writes/request (goal ≤ 0.05)",
                    c.writes
                ),
                c.writes <= 0.05,
            );
        }
    }
    for rt in &args.runtimes {
        for tasks in [16, 128, 1024] {
            let Some(me) = find(rt, tasks, "redwire") else {
                continue;
            };
            let best = ["redis-rs", "fred"]
                .iter()
                .filter_map(|p| find(rt, tasks, p))
                .map(|c| c.ops)
                .fold(0.0, f64::max);
            if best > 0.0 {
                let want = if rt == "mt1" { 2.0 } else { 1.5 };
                let ratio = me.ops / best;
                goal(
                    format!("{rt}, {tasks} tasks: {ratio:.2}× the better peer's throughput (goal ≥ {want}×)"),
                    ratio >= want,
                );
            }
        }
    }
    if let Some(c) = find("ct", 128, "redwire") {
        if ceiling > 0.0 {
            let share = c.ops / ceiling;
            goal(
                format!(
                    "ct, 128 tasks: {:.0} % of the redis-benchmark ceiling (goal ≥ 70 %)",
                    share * 100.0
                ),
                share >= 0.7,
            );
        }
    }
    for rt in &args.runtimes {
        if let Some(c) = find(rt, 128, "redwire") {
            goal(
                format!(
                    "{rt}, 128 tasks: {:.2} µs CPU per request (goal ≤ 1.0)",
                    c.cpu_us
                ),
                c.cpu_us <= 1.0,
            );
        }
    }
    for rt in &args.runtimes {
        if let Some(c) = find(rt, 1024, "redwire") {
            goal(
                format!(
                    "{rt}, 1,024 tasks: p99 {:.2} ms (goal < 5 ms)",
                    c.p99_us / 1000.0
                ),
                c.p99_us < 5000.0,
            );
        }
    }
    for rt in &args.runtimes {
        if let Some(me) = find(rt, 1, "redwire") {
            let peers: Vec<f64> = ["redis-rs", "fred"]
                .iter()
                .filter_map(|p| find(rt, 1, p))
                .map(|c| c.p50_us)
                .collect();
            let best = peers.iter().copied().fold(f64::INFINITY, f64::min);
            if !peers.is_empty() {
                goal(
                    format!("{rt}, 1 task: p50 {:.1} µs vs the peers' best {best:.1} µs (goal: no worse)", me.p50_us),
                    me.p50_us <= best * 1.02,
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
        measure(load, tasks, warmup, duration, args.workload == "get").await
    })
}

async fn measure(
    load: Arc<Load>,
    tasks: usize,
    warmup: Duration,
    duration: Duration,
    get_only: bool,
) -> Cell {
    let phases = Phases::new();
    let handles = (0..tasks)
        .map(|t| {
            let (load, mut rec) = (load.clone(), phases.recorder());
            tokio::spawn(async move {
                let key = format!("bench:{}", t % 1000);
                let prebuilt = Load::prebuilt_get(&key);
                if get_only {
                    load.set(&key, VALUE).await;
                }
                let mut n = u64::from(get_only);
                while let Some(op) = rec.start() {
                    if n % 2 == 0 && !get_only {
                        load.set(&key, VALUE).await;
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

const VALUE: &[u8; 16] = b"0123456789abcdef";
