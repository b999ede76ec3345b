//! Client-side caching, end to end: GET of hot keys on one shared client,
//! redwire's cache against uncached redwire and against redis-rs's
//! `cache-aio` (its `MultiplexedConnection` with a `CacheConfig`, RESP3),
//! and uncached redis-rs, in one run, interleaved.
//!
//! Each task reads one of 1,000 hot keys (set before the warm-up, so they
//! are cached after it) nine times in ten, and a key never read before (a
//! miss for any cache) the tenth time: about 90 % hits once warm. Every
//! cell runs in a child process of its own (see `clients`): ops/s, p50/p99
//! latency, client CPU per request and the hit ratio the client reports.
//!
//! `--count` measures instructions per hit instead (callgrind, two run
//! lengths, the difference over the difference of requests, as `counts`
//! does): every read a hit of a warm key.
//!
//! ```text
//! cargo run --release -p redwire-bench --features cache --bin cache -- --repeat 5
//! cargo run --release -p redwire-bench --features cache --bin cache -- --count
//! ```

use clap::Parser;
use redwire_bench::{child_command, cpu_time, run_cell, spread, spread_of, Figures, Phases};
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

#[derive(Parser, Debug, Clone)]
#[command(about = "client-side caching: redwire's cache vs none vs redis-rs's cache-aio")]
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
    #[arg(long, value_delimiter = ',', default_value = "16,128")]
    tasks: Vec<usize>,
    /// Runtimes: ct, mt1, mt2.
    #[arg(long, value_delimiter = ',', default_value = "ct,mt2")]
    runtimes: Vec<String>,
    /// Clients: redwire-cached, redwire, redis-rs-cached, redis-rs.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "redwire-cached,redwire,redis-rs-cached,redis-rs"
    )]
    clients: Vec<String>,
    /// Repetitions, interleaved; median and min–max are reported.
    #[arg(long, default_value_t = 3)]
    repeat: usize,
    /// Percent of reads that go to a hot key.
    #[arg(long, default_value_t = 90)]
    hot_percent: u32,
    /// Instructions per hit (callgrind) instead of the load.
    #[arg(long)]
    count: bool,
    /// Internal: run one cell in this process and print its result.
    #[arg(long, hide = true)]
    child: bool,
    /// Internal (with --child --count): hits to make.
    #[arg(long, hide = true, default_value_t = 0)]
    hits: u64,
}

const HOT_KEYS: usize = 1000;

/// A client under test.
enum Reader {
    Redwire(redwire::Client),
    RedisRs(redis::aio::MultiplexedConnection),
}

impl Reader {
    async fn connect(client: &str, url: &str) -> Reader {
        match client {
            "redwire" | "redwire-cached" => {
                let mut config = redwire::Config::from_url(url).expect("url").into_builder();
                if client == "redwire-cached" {
                    config = config.client_cache(redwire::CacheConfig::new());
                }
                let c = redwire::Client::connect(config.build())
                    .await
                    .expect("connect");
                Reader::Redwire(c)
            }
            "redis-rs" | "redis-rs-cached" => {
                let url = format!("{url}?protocol=resp3");
                let redis = redis::Client::open(url).expect("url");
                let mut config = redis::AsyncConnectionConfig::new().set_response_timeout(None);
                if client == "redis-rs-cached" {
                    config = config.set_cache_config(redis::caching::CacheConfig::new());
                }
                let c = redis
                    .get_multiplexed_async_connection_with_config(&config)
                    .await
                    .expect("connect");
                Reader::RedisRs(c)
            }
            other => panic!("unknown client {other}"),
        }
    }

    async fn get(&self, key: &str) {
        match self {
            Reader::Redwire(c) => {
                use redwire::prelude::*;
                let v: Option<bytes::Bytes> = c.get(key).await.expect("GET");
                std::hint::black_box(v);
            }
            Reader::RedisRs(c) => {
                let v: Option<Vec<u8>> = redis::cmd("GET")
                    .arg(key)
                    .query_async(&mut c.clone())
                    .await
                    .expect("GET");
                std::hint::black_box(v);
            }
        }
    }

    /// Hits over reads, as the client counts them.
    fn hit_ratio(&self) -> f64 {
        match self {
            Reader::Redwire(c) => c.cache_stats().map_or(0.0, |s| s.hit_ratio()),
            Reader::RedisRs(c) => c
                .get_cache_statistics()
                .map_or(0.0, |s| s.hit as f64 / (s.hit + s.miss).max(1) as f64),
        }
    }
}

#[derive(Debug, Clone, Copy, Default)]
struct Cell {
    ops: f64,
    p50_us: f64,
    p99_us: f64,
    cpu_us: f64,
    hit_ratio: f64,
}

impl Figures for Cell {
    const FIELDS: usize = 5;

    fn figures(&self) -> Vec<f64> {
        vec![
            self.ops,
            self.p50_us,
            self.p99_us,
            self.cpu_us,
            self.hit_ratio,
        ]
    }

    fn from_figures(v: &[f64]) -> Cell {
        Cell {
            ops: v[0],
            p50_us: v[1],
            p99_us: v[2],
            cpu_us: v[3],
            hit_ratio: v[4],
        }
    }
}

/// What a `--count` child made: its hits.
struct Made(f64);

impl Figures for Made {
    const FIELDS: usize = 1;

    fn figures(&self) -> Vec<f64> {
        vec![self.0]
    }

    fn from_figures(v: &[f64]) -> Made {
        Made(v[0])
    }
}

fn main() {
    let args = Args::parse();
    if args.child && args.count {
        println!("{}", count_child(&args).to_line());
        return;
    }
    redwire_bench::child_or_parent(args.child, args, run_child, run_parent);
}

fn cell_args(args: &Args, url: &str, runtime: &str, tasks: usize, client: &str) -> Command {
    let mut c = child_command();
    c.args(["--url", url, "--runtimes", runtime, "--clients", client])
        .args(["--tasks", &tasks.to_string()])
        .args(["--duration", &args.duration.to_string()])
        .args(["--warmup", &args.warmup.to_string()])
        .args(["--hot-percent", &args.hot_percent.to_string()]);
    c
}

fn run_parent(args: Args) {
    let (_server, url) = redwire_bench::server_url(args.url.as_deref());
    if args.count {
        return count_parent(&args, &url);
    }
    let mut cells = Vec::new();
    for rt in &args.runtimes {
        for &tasks in &args.tasks {
            cells.push((rt.clone(), tasks));
        }
    }
    println!(
        "GET, {} hot keys, {} % of reads hot, one shared client; median (min–max) of {} runs of {} s",
        HOT_KEYS, args.hot_percent, args.repeat, args.duration
    );
    println!();
    println!("| runtime | tasks | client | ops/s | p50 µs | p99 µs | CPU µs/req | hits | ÷ redwire uncached | ÷ redis-rs cached |");
    println!("|---|---|---|---|---|---|---|---|---|---|");
    for (rt, tasks) in &cells {
        // Interleaved: every client once per repetition, order rotated.
        let mut runs: Vec<Vec<Option<Cell>>> = args.clients.iter().map(|_| Vec::new()).collect();
        for run in 0..args.repeat {
            let n = args.clients.len();
            for i in 0..n {
                let k = (i + run) % n;
                let client = &args.clients[k];
                let label = format!("{rt} {tasks} {client}");
                let cell =
                    run_cell::<Cell>(&label, &mut cell_args(&args, &url, rt, *tasks, client));
                runs[k].push(cell);
            }
        }
        let index = |name: &str| args.clients.iter().position(|c| c == name);
        let ratio = |k: usize, base: Option<usize>| -> String {
            let Some(b) = base else { return "–".into() };
            let r: Vec<f64> = runs[k]
                .iter()
                .zip(&runs[b])
                .filter_map(|(a, b)| Some(a.as_ref()?.ops / b.as_ref()?.ops))
                .collect();
            spread(&r, 2)
        };
        for (k, client) in args.clients.iter().enumerate() {
            let ok: Vec<Cell> = runs[k].iter().flatten().copied().collect();
            println!(
                "| {rt} | {tasks} | {client} | {} | {} | {} | {} | {} | {} | {} |",
                spread_of(&ok, |c| c.ops, 0),
                spread_of(&ok, |c| c.p50_us, 1),
                spread_of(&ok, |c| c.p99_us, 1),
                spread_of(&ok, |c| c.cpu_us, 2),
                spread_of(&ok, |c| c.hit_ratio * 100.0, 0),
                ratio(k, index("redwire")),
                ratio(k, index("redis-rs-cached")),
            );
        }
    }
}

/// Sets the hot keys (16-byte values) through a plain client.
async fn set_hot_keys(url: &str) {
    use redwire::prelude::*;
    let c = redwire::Client::connect(redwire::Config::from_url(url).expect("url"))
        .await
        .expect("connect");
    for i in 0..HOT_KEYS {
        c.set(format!("hot:{i}"), "0123456789abcdef")
            .await
            .expect("SET");
    }
}

fn run_child(args: &Args) -> Cell {
    let url = args.url.clone().expect("--url");
    let rt = redwire_bench::runtime(&args.runtimes[0]);
    let tasks = args.tasks[0];
    let hot = args.hot_percent;
    rt.block_on(async {
        set_hot_keys(&url).await;
        let reader = Arc::new(Reader::connect(&args.clients[0], &url).await);
        let phases = Phases::new();
        let mut handles = Vec::new();
        for t in 0..tasks {
            let (reader, mut rec) = (reader.clone(), phases.recorder());
            handles.push(tokio::spawn(async move {
                let mut rng = fastrand::Rng::with_seed(t as u64);
                let mut cold = 0u64;
                while let Some(op) = rec.start() {
                    let key = if rng.u32(0..100) < hot {
                        format!("hot:{}", rng.usize(0..HOT_KEYS))
                    } else {
                        cold += 1;
                        format!("cold:{t}:{cold}")
                    };
                    reader.get(&key).await;
                    rec.record(op);
                }
                rec.finish();
            }));
        }
        let secs = |s: f64| Duration::from_secs_f64(s);
        let m = phases
            .run(secs(args.warmup), secs(args.duration), handles, cpu_time)
            .await;
        Cell {
            ops: m.ops_per_sec(),
            p50_us: m.quantile_us(0.5),
            p99_us: m.quantile_us(0.99),
            cpu_us: m.per_op((m.after - m.before).as_secs_f64() * 1e6),
            hit_ratio: reader.hit_ratio(),
        }
    })
}

/// `--count`'s child: warms every hot key, then makes `--hits` hits
/// spread over the tasks.
fn count_child(args: &Args) -> Made {
    let url = args.url.clone().expect("--url");
    let rt = redwire_bench::runtime(&args.runtimes[0]);
    let tasks = args.tasks[0];
    rt.block_on(async {
        set_hot_keys(&url).await;
        let reader = Arc::new(Reader::connect(&args.clients[0], &url).await);
        for i in 0..HOT_KEYS {
            reader.get(&format!("hot:{i}")).await;
        }
        let per_task = args.hits / tasks as u64;
        let mut handles = Vec::new();
        for t in 0..tasks {
            let reader = reader.clone();
            handles.push(tokio::spawn(async move {
                // Keys made before, so that formatting them is not counted.
                let keys: Vec<String> = (0..64)
                    .map(|i| format!("hot:{}", (i * 7 + t) % HOT_KEYS))
                    .collect();
                for i in 0..per_task {
                    reader.get(&keys[i as usize % keys.len()]).await;
                }
            }));
        }
        for h in handles {
            h.await.expect("task");
        }
        Made((per_task * tasks as u64) as f64)
    })
}

fn count_parent(args: &Args, url: &str) {
    println!("instructions per read of a warm key (callgrind; difference of two run lengths)");
    println!();
    println!("| runtime | tasks | client | instructions per read |");
    println!("|---|---|---|---|");
    for rt in &args.runtimes {
        for &tasks in &args.tasks {
            for client in &args.clients {
                let child = |hits: u64| {
                    let mut c = cell_args(args, url, rt, tasks, client);
                    c.args(["--count", "--hits", &hits.to_string()]);
                    c
                };
                let (short, long) = (20_000u64, 60_000u64);
                let label = format!("{rt} {tasks} {client}");
                let (Some(a), Some(b)) = (
                    run_cell::<Made>(&label, &mut child(short)),
                    run_cell::<Made>(&label, &mut child(long)),
                ) else {
                    continue;
                };
                let (Some(ia), Some(ib)) = (callgrind(child(short)), callgrind(child(long))) else {
                    continue;
                };
                println!(
                    "| {rt} | {tasks} | {client} | {:.0} |",
                    (ib - ia) / (b.0 - a.0)
                );
            }
        }
    }
}

/// The instructions callgrind counted in a whole run of `child`.
fn callgrind(child: Command) -> Option<f64> {
    let out_file = std::env::temp_dir().join(format!("cache-callgrind.{}", std::process::id()));
    let out = Command::new("valgrind")
        .arg("--tool=callgrind")
        .arg(format!("--callgrind-out-file={}", out_file.display()))
        .arg(child.get_program())
        .args(child.get_args())
        .output()
        .expect("run valgrind (apt-get install valgrind)");
    let _ = std::fs::remove_file(&out_file);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let total = stderr
        .lines()
        .find_map(|l| l.split("Collected : ").nth(1))
        .and_then(|n| n.trim().parse().ok());
    if total.is_none() {
        eprintln!("callgrind run failed: {stderr}");
    }
    total
}
