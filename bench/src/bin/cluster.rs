//! End-to-end cluster benchmark: `--tasks` (128) tasks on ONE cluster client
//! each (the client's own connections to the nodes, as it manages them),
//! alternating `GET` and `SET` of 16-byte values over `--keys` (10,000) keys
//! spread over the slots (all set once before), against a real local Redis
//! Cluster of 3 primaries with 1 replica each (`redwire_testkit::RedisCluster`,
//! started once by the parent and shared by every cell). Clients: redwire's
//! `cluster::ClusterClient`, redis-rs's async `cluster_async::ClusterConnection`,
//! fred's `Client` in clustered mode and rustis's `Client` with a
//! `ServerConfig::Cluster`, each with its defaults (all of them read from the
//! primaries).
//!
//! Every (client, runtime) cell runs in a child process of its own, cells
//! interleaved over `--repeat` runs; reported: ops/s, p50/p99 latency of every
//! request (HDR histogram), and the process's CPU (user+sys) per request, each
//! as median (min–max), and redwire's ops/s over each peer's, paired within
//! each run.
//!
//! ```text
//! cargo run --release -p redwire-bench --bin cluster -- --repeat 5
//! ```

use clap::Parser;
use redwire_bench::{
    child_command, cpu_time, load_average, run_cell, spread, spread_of, LoadCell as Cell, Phases,
};
use std::sync::Arc;
use std::time::Duration;

#[derive(Parser, Debug, Clone)]
#[command(
    about = "cluster GET/SET: redwire ClusterClient vs redis-rs cluster-async vs fred vs rustis"
)]
struct Args {
    /// Seed URLs of a running cluster, comma-separated; by default a
    /// throwaway cluster (3 primaries × 1 replica) is started.
    #[arg(long, value_delimiter = ',')]
    seeds: Vec<String>,
    /// Seconds measured per cell.
    #[arg(long, default_value_t = 2.0)]
    duration: f64,
    /// Seconds of warm-up per cell, not measured.
    #[arg(long, default_value_t = 0.5)]
    warmup: f64,
    /// Tasks sharing the one client.
    #[arg(long, default_value_t = 128)]
    tasks: usize,
    /// Keys the requests go over, spread across the slots.
    #[arg(long, default_value_t = 10_000)]
    keys: usize,
    /// Clients: redwire, redis-rs, fred, rustis.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "redwire,redis-rs,fred,rustis"
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
    let cluster = if args.seeds.is_empty() {
        Some(redwire_testkit::RedisCluster::start().expect("start a redis cluster"))
    } else {
        None
    };
    let seeds = match &cluster {
        Some(c) => c.seed_urls(),
        None => args.seeds.clone(),
    };
    set_all_keys(&seeds, args.keys);
    eprintln!(
        "cluster of {} nodes, {} keys set; load average {}",
        seeds.len(),
        args.keys,
        load_average()
    );
    let seed_arg = seeds.join(",");
    let cells = redwire_bench::runtime_client_cells(&args.runtimes, &args.clients);
    let runs = redwire_bench::interleaved(&cells, args.repeat, |run, (runtime, client)| {
        let c: Cell = run_cell(
            &format!("run {run} {runtime} {client}"),
            child_command()
                .args(["--seeds", &seed_arg])
                .args(["--duration", &args.duration.to_string()])
                .args(["--warmup", &args.warmup.to_string()])
                .args(["--tasks", &args.tasks.to_string()])
                .args(["--keys", &args.keys.to_string()])
                .args(["--runtimes", runtime, "--clients", client]),
        )?;
        eprintln!(
            "run {run} {runtime:>4} {client:>8}: {:>8.0} ops/s  p50 {:>7.1} µs  p99 {:>7.1} µs  cpu {:.2} µs/req",
            c.ops, c.p50_us, c.p99_us, c.cpu_us
        );
        Some(c)
    });
    eprintln!("load average at the end {}", load_average());
    println!("{}", report(&args, &cells, &runs));
    drop(cluster);
}

/// Every key the cells use, set once through redwire before the first cell.
fn set_all_keys(seeds: &[String], keys: usize) {
    let runtime = redwire_bench::runtime("ct");
    runtime.block_on(async {
        use redwire::prelude::*;
        let configs = seeds
            .iter()
            .map(|u| redwire::Config::from_url(u).expect("seed url"))
            .collect();
        let client = redwire::cluster::ClusterClient::connect(
            redwire::cluster::ClusterConfig::from_seeds(configs).expect("seed configs"),
        )
        .await
        .expect("connect to the cluster");
        let names = key_names(keys);
        let mut handles = Vec::new();
        for chunk in names.chunks(names.len().div_ceil(64).max(1)) {
            let (client, chunk) = (client.clone(), chunk.to_vec());
            handles.push(tokio::spawn(async move {
                for key in &chunk {
                    client.set(key.as_str(), VALUE).await.expect("SET");
                }
            }));
        }
        for h in handles {
            h.await.unwrap();
        }
    });
}

fn key_names(keys: usize) -> Vec<String> {
    (0..keys).map(|i| format!("bench:cluster:{i}")).collect()
}

fn report(args: &Args, cells: &[(String, String)], runs: &[Vec<Cell>]) -> String {
    use std::fmt::Write;
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{} tasks on one client, GET/SET of 16 B over {} keys; {:.1} s measured after \
         {:.1} s warm-up per cell; {} run(s), interleaved; median (min–max).\n",
        args.tasks, args.keys, args.duration, args.warmup, args.repeat,
    );
    let _ = writeln!(
        s,
        "| runtime | client | ops/s | p50 µs | p99 µs | CPU µs/req |\n|---|---|---:|---:|---:|---:|"
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
    let _ = writeln!(s);
    for runtime in &args.runtimes {
        let of = |name: &str| {
            cells
                .iter()
                .position(|(rt, c)| rt == runtime && c == name)
                .map(|i| &runs[i])
        };
        let Some(me) = of("redwire") else { continue };
        for peer in redwire_bench::load::PEERS {
            let Some(them) = of(peer) else { continue };
            if them.len() != me.len() || me.is_empty() {
                continue;
            }
            let ratios: Vec<f64> = me.iter().zip(them).map(|(a, b)| a.ops / b.ops).collect();
            let _ = writeln!(
                s,
                "{runtime}: redwire ops/s ÷ {peer}'s in the same run: {}×  ",
                spread(&ratios, 2),
            );
        }
    }
    s
}

// ---- the child: one cell ----

const VALUE: &[u8; 16] = b"0123456789abcdef";

fn run_child(args: &Args) -> Cell {
    let runtime = redwire_bench::runtime(&args.runtimes[0]);
    let seeds = args.seeds.clone();
    let client = args.clients[0].clone();
    let (tasks, keys) = (args.tasks, args.keys);
    let warmup = Duration::from_secs_f64(args.warmup);
    let duration = Duration::from_secs_f64(args.duration);
    runtime.block_on(async move {
        let load = Load::connect(&client, &seeds).await;
        measure(load, tasks, Arc::new(key_names(keys)), warmup, duration).await
    })
}

async fn measure(
    load: Load,
    tasks: usize,
    keys: Arc<Vec<String>>,
    warmup: Duration,
    duration: Duration,
) -> Cell {
    let phases = Phases::new();
    let handles = (0..tasks)
        .map(|t| {
            // A handle of the one client per task (an `Arc`, a channel sender or
            // the like: no connection of its own).
            let mut load = load.clone();
            let (keys, mut rec) = (keys.clone(), phases.recorder());
            tokio::spawn(async move {
                // Task t walks the keys t, t + tasks, t + 2·tasks, …: the tasks
                // together go over all of them, each key's slot wherever it is.
                let mut at = t % keys.len();
                let mut n = 0u64;
                while let Some(op) = rec.start() {
                    let key = keys[at].as_str();
                    if n % 2 == 0 {
                        load.get(key).await;
                    } else {
                        load.set(key).await;
                    }
                    rec.record(op);
                    n += 1;
                    at = (at + tasks) % keys.len();
                }
                rec.finish();
            })
        })
        .collect();
    let measured = phases.run(warmup, duration, handles, cpu_time).await;
    Cell::from_measured(&measured)
}

/// host:port of each seed URL (`redis://[:pw@]host:port`).
fn host_ports(seeds: &[String]) -> Vec<(String, u16)> {
    seeds
        .iter()
        .map(|u| {
            let rest = u.rsplit('@').next().unwrap_or(u);
            let rest = rest.trim_start_matches("redis://").trim_end_matches('/');
            let (host, port) = rest.rsplit_once(':').expect("host:port");
            (host.to_string(), port.parse().expect("port"))
        })
        .collect()
}

/// One cluster client under test. Cloning gives another handle of the same
/// client, sharing its connections.
#[derive(Clone)]
enum Load {
    Redwire(redwire::cluster::ClusterClient),
    RedisRs(redis::cluster_async::ClusterConnection),
    Fred(fred::clients::Client),
    Rustis(rustis::client::Client),
}

impl Load {
    async fn connect(client: &str, seeds: &[String]) -> Load {
        match client {
            "redwire" => {
                let configs = seeds
                    .iter()
                    .map(|u| redwire::Config::from_url(u).expect("seed url"))
                    .collect();
                Load::Redwire(
                    redwire::cluster::ClusterClient::connect(
                        redwire::cluster::ClusterConfig::from_seeds(configs).expect("seed configs"),
                    )
                    .await
                    .expect("connect"),
                )
            }
            "redis-rs" => {
                let client = redis::cluster::ClusterClient::new(seeds.iter().map(String::as_str))
                    .expect("seed urls");
                Load::RedisRs(client.get_async_connection().await.expect("connect"))
            }
            "fred" => {
                use fred::prelude::*;
                let config = Config {
                    server: ServerConfig::new_clustered(host_ports(seeds)),
                    ..Config::default()
                };
                let client = Builder::from_config(config).build().expect("build");
                client.init().await.expect("connect");
                Load::Fred(client)
            }
            "rustis" => {
                use rustis::client::{ClusterConfig, Config, ServerConfig};
                // Both structs are non-exhaustive: defaults, then the nodes.
                let mut cluster = ClusterConfig::default();
                cluster.nodes = host_ports(seeds);
                let mut config = Config::default();
                config.server = ServerConfig::Cluster(cluster);
                Load::Rustis(
                    rustis::client::Client::connect(config)
                        .await
                        .expect("connect"),
                )
            }
            other => panic!("unknown client {other}"),
        }
    }

    async fn get(&mut self, key: &str) {
        match self {
            Load::Redwire(c) => {
                use redwire::prelude::*;
                let v: Option<bytes::Bytes> = c.get(key).await.expect("GET");
                assert!(v.is_some(), "GET {key}: nil");
                std::hint::black_box(v);
            }
            Load::RedisRs(c) => {
                let v: Option<Vec<u8>> = redis::cmd("GET")
                    .arg(key)
                    .query_async(c)
                    .await
                    .expect("GET");
                assert!(v.is_some(), "GET {key}: nil");
                std::hint::black_box(v);
            }
            Load::Fred(c) => {
                use fred::prelude::*;
                let v: Option<bytes::Bytes> = c.get(key).await.expect("GET");
                assert!(v.is_some(), "GET {key}: nil");
                std::hint::black_box(v);
            }
            Load::Rustis(c) => {
                use rustis::commands::StringCommands;
                let v: Option<rustis::resp::BulkString> = c.get(key).await.expect("GET");
                assert!(v.is_some(), "GET {key}: nil");
                std::hint::black_box(v);
            }
        }
    }

    async fn set(&mut self, key: &str) {
        match self {
            Load::Redwire(c) => {
                use redwire::prelude::*;
                c.set(key, VALUE).await.expect("SET");
            }
            Load::RedisRs(c) => {
                let _: () = redis::cmd("SET")
                    .arg(key)
                    .arg(&VALUE[..])
                    .query_async(c)
                    .await
                    .expect("SET");
            }
            Load::Fred(c) => {
                use fred::prelude::*;
                let _: () = c
                    .set(key, &VALUE[..], None, None, false)
                    .await
                    .expect("SET");
            }
            Load::Rustis(c) => {
                use rustis::commands::StringCommands;
                c.set(key, rustis::resp::RefBulkString::new(VALUE))
                    .await
                    .expect("SET");
            }
        }
    }
}
