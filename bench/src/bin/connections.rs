//! Does spreading one process's requests over several multiplexed
//! connections help? 128 tasks doing GET of a 16-byte value, over 1, 2 or 4
//! redwire `Client`s (task i uses client i mod k), against one local
//! redis-server, under current_thread and multi_thread(2). The cells run
//! interleaved over the repeats; median and min–max of ops/s.
//!
//! ```text
//! cargo run --release -p redwire-bench --bin connections -- --repeat 5
//! ```

use clap::Parser;
use std::time::{Duration, Instant};

#[derive(Parser, Debug)]
struct Args {
    /// Server URL; by default a throwaway redis-server is started.
    #[arg(long)]
    url: Option<String>,
    /// Seconds measured per cell.
    #[arg(long, default_value_t = 2.0)]
    duration: f64,
    /// Runs of each cell, interleaved.
    #[arg(long, default_value_t = 5)]
    repeat: usize,
    /// Connection counts.
    #[arg(long, value_delimiter = ',', default_value = "1,2,4")]
    connections: Vec<usize>,
    /// Runtimes: ct, mt1, mt2.
    #[arg(long, value_delimiter = ',', default_value = "ct,mt2")]
    runtimes: Vec<String>,
}

const TASKS: usize = 128;

fn cell(url: &str, runtime: &str, connections: usize, duration: Duration) -> f64 {
    let rt = redwire_bench::runtime(runtime);
    rt.block_on(async {
        use redwire::prelude::*;
        let mut clients = Vec::new();
        for _ in 0..connections {
            let c = Client::connect(Config::from_url(url).unwrap())
                .await
                .unwrap();
            c.set("k", "0123456789abcdef").await.unwrap();
            clients.push(c);
        }
        let start = Instant::now();
        let tasks: Vec<_> = (0..TASKS)
            .map(|i| {
                let c = clients[i % connections].clone();
                tokio::spawn(async move {
                    let mut n = 0u64;
                    while start.elapsed() < duration {
                        let v: Option<bytes::Bytes> = c.get("k").await.unwrap();
                        std::hint::black_box(v);
                        n += 1;
                    }
                    n
                })
            })
            .collect();
        let mut total = 0;
        for t in tasks {
            total += t.await.unwrap();
        }
        total as f64 / start.elapsed().as_secs_f64()
    })
}

fn main() {
    let args = Args::parse();
    let (_server, url) = redwire_bench::server_url(args.url.as_deref());
    let duration = Duration::from_secs_f64(args.duration);
    let mut results: Vec<(String, usize, Vec<f64>)> = Vec::new();
    for rt in &args.runtimes {
        for &k in &args.connections {
            results.push((rt.clone(), k, Vec::new()));
        }
    }
    for run in 0..args.repeat {
        for (rt, k, ops) in results.iter_mut() {
            let o = cell(&url, rt, *k, duration);
            eprintln!("run {run} {rt} {k} connection(s): {o:.0} ops/s");
            ops.push(o);
        }
    }
    println!("| runtime | connections | ops/s median | min–max |\n|---|---:|---:|---:|");
    for (rt, k, ops) in results {
        let (median, min, max) = redwire_bench::median_min_max(&ops).expect("--repeat ≥ 1");
        println!("| {rt} | {k} | {median:.0} | {min:.0}–{max:.0} |");
    }
}
