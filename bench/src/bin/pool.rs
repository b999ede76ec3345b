//! End-to-end pool benchmark: `--tasks` (64) tasks each looping checkout +
//! `GET` of a 16-byte value + return, on a pool of at most `--max-size` (16)
//! connections, against one local redis-server, for redwire's `Pool`,
//! bb8-redis (bb8 over redis-rs's `MultiplexedConnection`), deadpool-redis
//! (deadpool over the same) and rustis's pool (`rustis-bb8`: bb8 over
//! rustis's `PooledClientManager`, which hands out an `ExclusiveClient`, the
//! pooled client its docs show), each otherwise with its defaults. The three
//! peers check every connection on every checkout with a `PING` (bb8's
//! `test_on_check_out`, on by default, calls bb8-redis's and rustis's
//! `is_valid`, a PING each; deadpool's `recycle` pings too), so each of their
//! operations is two round trips; redwire's pool pings only a connection idle
//! longer than `check_idle_after` (1 s by default), so under this load its
//! operations are one round trip.
//!
//! Every (client, runtime) cell runs in a child process of its own, cells
//! interleaved over `--repeat` runs; reported: ops/s, p50/p99 latency of the
//! whole checkout + GET + return (HDR histogram of every operation), and the
//! process's CPU per operation, each as median (min–max).
//!
//! ```text
//! cargo run --release -p redwire-bench --bin pool -- --repeat 3
//! ```

use clap::Parser;
use redwire_bench::{
    child_command, cpu_time, run_cell, spread, spread_of, LoadCell as Cell, Phases,
};
use std::sync::Arc;
use std::time::Duration;

#[derive(Parser, Debug, Clone)]
#[command(about = "pool checkout + GET: redwire Pool vs bb8-redis vs deadpool-redis vs rustis-bb8")]
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
    /// Tasks checking out at once.
    #[arg(long, default_value_t = 64)]
    tasks: usize,
    /// The pools' maximum size.
    #[arg(long, default_value_t = 16)]
    max_size: u32,
    /// Pools: redwire, bb8-redis, deadpool-redis, rustis-bb8.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "redwire,bb8-redis,deadpool-redis,rustis-bb8"
    )]
    clients: Vec<String>,
    /// Runtimes: ct (current_thread), mt1, mt2 (multi_thread with 1 or 2 workers).
    #[arg(long, value_delimiter = ',', default_value = "ct,mt2")]
    runtimes: Vec<String>,
    /// Runs of every cell, interleaved; median and min–max are reported.
    #[arg(long, default_value_t = 3)]
    repeat: usize,
    /// Internal: run one cell in this process and print its result.
    #[arg(long, hide = true)]
    child: bool,
}

fn main() {
    let args = Args::parse();
    redwire_bench::child_or_parent(args.child, args, run_child, run_parent);
}

fn run_parent(args: Args) {
    let (_server, url) = redwire_bench::server_url(args.url.as_deref());
    let cells = redwire_bench::runtime_client_cells(&args.runtimes, &args.clients);
    let runs = redwire_bench::interleaved(&cells, args.repeat, |run, (runtime, client)| {
        let c: Cell = run_cell(
            &format!("run {run} {runtime} {client}"),
            child_command()
                .args(["--url", &url])
                .args(["--duration", &args.duration.to_string()])
                .args(["--warmup", &args.warmup.to_string()])
                .args(["--tasks", &args.tasks.to_string()])
                .args(["--max-size", &args.max_size.to_string()])
                .args(["--runtimes", runtime, "--clients", client]),
        )?;
        eprintln!(
            "run {run} {runtime:>4} {client:>14}: {:>8.0} ops/s  p50 {:>7.1} µs  p99 {:>7.1} µs  cpu {:.2} µs/op",
            c.ops, c.p50_us, c.p99_us, c.cpu_us
        );
        Some(c)
    });
    println!("{}", report(&args, &cells, &runs));
}

fn report(args: &Args, cells: &[(String, String)], runs: &[Vec<Cell>]) -> String {
    use std::fmt::Write;
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{} tasks, pools of at most {} connections; {:.1} s measured after {:.1} s warm-up \
         per cell; {} run(s), interleaved; median (min–max).\n",
        args.tasks, args.max_size, args.duration, args.warmup, args.repeat,
    );
    let _ = writeln!(
        s,
        "| runtime | pool | ops/s | p50 µs | p99 µs | CPU µs/op |\n|---|---|---:|---:|---:|---:|"
    );
    for ((runtime, client), cells) in cells.iter().zip(runs) {
        let _ = writeln!(
            s,
            "| {runtime} | {client} | {} | {} | {} | {} |",
            spread_of(cells, |c| c.ops, 0),
            spread_of(cells, |c| c.p50_us, 1),
            spread_of(cells, |c| c.p99_us, 1),
            spread_of(cells, |c| c.cpu_us, 2),
        );
    }
    // Paired within each run, so that what the shared machine did during a
    // run weighs on both sides of the ratio.
    for runtime in &args.runtimes {
        let of = |name: &str| {
            cells
                .iter()
                .position(|(rt, c)| rt == runtime && c == name)
                .map(|i| &runs[i])
        };
        let Some(me) = of("redwire") else { continue };
        let peers: Vec<&Vec<Cell>> = ["bb8-redis", "deadpool-redis", "rustis-bb8"]
            .iter()
            .filter_map(|p| of(p))
            .collect();
        if peers.is_empty() || peers.iter().any(|p| p.len() != me.len()) {
            continue;
        }
        let ratios: Vec<f64> = (0..me.len())
            .map(|i| me[i].ops / peers.iter().map(|p| p[i].ops).fold(0.0, f64::max))
            .collect();
        let _ = writeln!(
            s,
            "\n{runtime}: redwire ops/s ÷ the better peer's in the same run: {}",
            spread(&ratios, 2)
        );
    }
    s
}

// ---- the child: one cell ----

const KEY: &str = "bench:pool";
const VALUE: &[u8; 16] = b"0123456789abcdef";

fn run_child(args: &Args) -> Cell {
    let runtime = redwire_bench::runtime(&args.runtimes[0]);
    let url = args.url.clone().expect("url");
    let client = args.clients[0].clone();
    let (tasks, max_size) = (args.tasks, args.max_size);
    let warmup = Duration::from_secs_f64(args.warmup);
    let duration = Duration::from_secs_f64(args.duration);
    runtime.block_on(async move {
        let pool = Arc::new(Load::build(&client, &url, max_size).await);
        pool.set().await;
        measure(pool, tasks, warmup, duration).await
    })
}

async fn measure(pool: Arc<Load>, tasks: usize, warmup: Duration, duration: Duration) -> Cell {
    let phases = Phases::new();
    let handles = (0..tasks)
        .map(|_| {
            let (pool, mut rec) = (pool.clone(), phases.recorder());
            tokio::spawn(async move {
                while let Some(op) = rec.start() {
                    pool.checkout_get().await;
                    rec.record(op);
                }
                rec.finish();
            })
        })
        .collect();
    let measured = phases.run(warmup, duration, handles, cpu_time).await;
    Cell::from_measured(&measured)
}

/// One pool under test.
enum Load {
    Redwire(redwire::Pool),
    Bb8(bb8_redis::bb8::Pool<bb8_redis::RedisConnectionManager>),
    Deadpool(deadpool_redis::Pool),
    Rustis(rustis::bb8::Pool<rustis::client::PooledClientManager>),
}

impl Load {
    async fn build(client: &str, url: &str, max_size: u32) -> Load {
        match client {
            "redwire" => {
                let config = redwire::Config::from_url(url).expect("url");
                Load::Redwire(
                    redwire::Pool::builder(config)
                        .max_size(max_size)
                        .build()
                        .await
                        .expect("pool"),
                )
            }
            "bb8-redis" => {
                let manager = bb8_redis::RedisConnectionManager::new(url).expect("url");
                Load::Bb8(
                    bb8_redis::bb8::Pool::builder()
                        .max_size(max_size)
                        .build(manager)
                        .await
                        .expect("pool"),
                )
            }
            "deadpool-redis" => Load::Deadpool(
                deadpool_redis::Config::from_url(url)
                    .builder()
                    .expect("config")
                    .max_size(max_size as usize)
                    .runtime(deadpool_redis::Runtime::Tokio1)
                    .build()
                    .expect("pool"),
            ),
            "rustis-bb8" => {
                let manager = rustis::client::PooledClientManager::new(url).expect("url");
                Load::Rustis(
                    rustis::bb8::Pool::builder()
                        .max_size(max_size)
                        .build(manager)
                        .await
                        .expect("pool"),
                )
            }
            other => panic!("unknown pool {other}"),
        }
    }

    /// The value read by every GET, set once.
    async fn set(&self) {
        match self {
            Load::Redwire(pool) => {
                let mut conn = pool.get().await.expect("checkout");
                conn.send(&redwire::cmd("SET").arg(KEY).arg(VALUE))
                    .await
                    .expect("SET");
            }
            Load::Bb8(pool) => {
                let mut conn = pool.get().await.expect("checkout");
                let _: () = redis::cmd("SET")
                    .arg(KEY)
                    .arg(&VALUE[..])
                    .query_async(&mut *conn)
                    .await
                    .expect("SET");
            }
            Load::Deadpool(pool) => {
                let mut conn = pool.get().await.expect("checkout");
                let _: () = redis::cmd("SET")
                    .arg(KEY)
                    .arg(&VALUE[..])
                    .query_async(&mut conn)
                    .await
                    .expect("SET");
            }
            Load::Rustis(pool) => {
                use rustis::commands::StringCommands;
                let conn = pool.get().await.expect("checkout");
                conn.set(KEY, rustis::resp::RefBulkString::new(VALUE))
                    .await
                    .expect("SET");
            }
        }
    }

    /// Checkout, GET, return (the connection goes back when dropped).
    async fn checkout_get(&self) {
        match self {
            Load::Redwire(pool) => {
                use redwire::prelude::*;
                let mut conn = pool.get().await.expect("checkout");
                let v: Option<bytes::Bytes> = conn.get(KEY).await.expect("GET");
                debug_assert_eq!(v.as_deref(), Some(&VALUE[..]));
                std::hint::black_box(v);
            }
            Load::Bb8(pool) => {
                let mut conn = pool.get().await.expect("checkout");
                let v: Option<Vec<u8>> = redis::cmd("GET")
                    .arg(KEY)
                    .query_async(&mut *conn)
                    .await
                    .expect("GET");
                std::hint::black_box(v);
            }
            Load::Deadpool(pool) => {
                let mut conn = pool.get().await.expect("checkout");
                let v: Option<Vec<u8>> = redis::cmd("GET")
                    .arg(KEY)
                    .query_async(&mut conn)
                    .await
                    .expect("GET");
                std::hint::black_box(v);
            }
            Load::Rustis(pool) => {
                use rustis::commands::StringCommands;
                let conn = pool.get().await.expect("checkout");
                let v: Option<rustis::resp::BulkString> = conn.get(KEY).await.expect("GET");
                std::hint::black_box(v);
            }
        }
    }
}
