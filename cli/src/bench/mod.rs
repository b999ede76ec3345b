//! `redwire bench`: a load generator in the spirit of redis-benchmark and
//! memtier. Connections are `redwire::Client`s, so `--tasks` above 1 measures
//! the client's automatic pipelining across callers of one connection.

#[cfg(feature = "client-metrics")]
mod client_metrics;
mod date;
mod plot;
mod report;
mod runner;
mod validate;
mod workload;

use crate::exit::{EXIT_FAILURE, EXIT_OK, EXIT_USAGE};
use crate::server_args::ServerArgs;
use crate::target::{connect, Target, TargetError};
use runner::{Amount, Conn, Plan};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use tokio::task::JoinSet;
use workload::{Test, Workload};

/// Options of `redwire bench`.
#[derive(clap::Args, Debug)]
#[command(
    disable_help_flag = true,
    after_help = "Tests: ping,set,get,incr,lpush,rpush,lpop,rpop,sadd,hset,spop,zadd,mset \
(the shapes of redis-benchmark's). Latency is from the send to the reply (for a pipeline, to \
its last reply); with --rate it is from when the request was due.\n\n\
With no -h, -p, -s, -u, -a, --user, --dbnum, --tls (and no REDIS_URL or REDISCLI_AUTH) a throwaway \
redis-server is started from PATH."
)]
pub struct BenchArgs {
    #[command(flatten)]
    pub server: ServerArgs,
    /// Database number
    #[arg(long, value_name = "DB")]
    pub dbnum: Option<i64>,
    /// Connections to open
    #[arg(short = 'c', long, default_value_t = 50)]
    pub connections: u64,
    /// Concurrent tasks per connection (each waits for its own replies)
    #[arg(long, default_value_t = 1)]
    pub tasks: u64,
    /// Requests per test
    #[arg(
        short = 'n',
        long,
        default_value_t = 100_000,
        conflicts_with = "duration"
    )]
    pub requests: u64,
    /// Seconds per test, instead of a number of requests
    #[arg(long, value_name = "SECONDS")]
    pub duration: Option<f64>,
    /// Bytes of each value
    #[arg(short = 'd', long, default_value_t = 3)]
    pub data_size: usize,
    /// Requests per pipeline
    #[arg(short = 'P', long, default_value_t = 1)]
    pub pipeline: u64,
    /// Keys are drawn at random from this many (key:000000000000 …)
    #[arg(short = 'r', long, default_value_t = 10_000)]
    pub keyspace: u64,
    /// Comma-separated tests to run, in order
    #[arg(short = 't', long, default_value = "set,get", value_delimiter = ',')]
    pub tests: Vec<String>,
    /// Open loop: this many requests per second in total, at fixed times
    #[arg(long, value_name = "OPS_PER_SEC")]
    pub rate: Option<f64>,
    /// Print the results as JSON instead of a table
    #[arg(long)]
    pub json: bool,
    /// Draw latency percentiles and throughput over time into FILE.svg or FILE.png
    #[arg(long, value_name = "FILE")]
    pub plot: Option<PathBuf>,
    /// The URL is one node of a Redis Cluster: each connection is a cluster
    /// client (one connection per node), routing every request by its key
    #[arg(long)]
    pub cluster: bool,
    /// Print the client's own metrics (redwire's `metrics` feature:
    /// operation durations, batches, reconnects, bytes…) after the results
    #[arg(long)]
    pub client_metrics: bool,
    /// Print this help
    #[arg(long, action = clap::ArgAction::Help)]
    pub help: Option<bool>,
}

/// Runs `redwire bench`.
pub fn run(args: BenchArgs) -> ExitCode {
    let validate::Checked { tests, amount } = match validate::check(&args) {
        Ok(c) => c,
        Err(e) => return usage(&e),
    };
    let (target, config) = match Target::resolve(&args.server, args.dbnum) {
        Ok(both) => both,
        Err(TargetError::Usage(e)) => return usage(&e),
        Err(TargetError::Failure(e)) => return fail(&e),
    };
    // Before any connection: a handle registers its metrics with the
    // recorder there is when it first needs them.
    let metrics = match ClientMetrics::when(args.client_metrics) {
        Ok(m) => m,
        Err(e) => return fail(&e),
    };
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => return fail(&format!("cannot start the runtime: {e}")),
    };
    let embedded = target.is_embedded();
    let code = rt.block_on(bench(
        &args,
        config,
        &tests,
        amount,
        embedded,
        metrics.as_ref(),
    ));
    drop(rt);
    drop(target);
    ExitCode::from(code)
}

fn usage(message: &str) -> ExitCode {
    eprintln!("redwire bench: {message}");
    ExitCode::from(EXIT_USAGE)
}

fn fail(message: &str) -> ExitCode {
    eprintln!("redwire bench: {message}");
    ExitCode::from(EXIT_FAILURE)
}

async fn bench(
    args: &BenchArgs,
    config: redwire::Config,
    tests: &[Test],
    amount: Amount,
    embedded: bool,
    metrics: Option<&ClientMetrics>,
) -> u8 {
    let server = config.redacted_url();
    let mut set = JoinSet::new();
    for _ in 0..args.connections {
        let (config, cluster) = (config.clone(), args.cluster);
        set.spawn(async move {
            if cluster {
                let shown = config.redacted_url();
                redwire::cluster::ClusterClient::connect(config)
                    .await
                    .map(Conn::Cluster)
                    .map_err(|e| format!("cannot reach the cluster at {shown}: {e}"))
            } else {
                connect(config).await.map(Conn::Single)
            }
        });
    }
    let mut clients = Vec::new();
    while let Some(joined) = set.join_next().await {
        match joined {
            Ok(Ok(c)) => clients.push(c),
            Ok(Err(e)) => {
                eprintln!("redwire bench: {e}");
                return EXIT_FAILURE;
            }
            Err(e) => {
                eprintln!("redwire bench: connecting failed: {e}");
                return EXIT_FAILURE;
            }
        }
    }
    let workload = Arc::new(Workload::new(args.data_size, args.keyspace));
    let mut results = Vec::new();
    for &test in tests {
        let plan = Plan {
            test,
            amount,
            pipeline: args.pipeline as usize,
            tasks_per_connection: args.tasks as usize,
            rate: args.rate,
            workload: workload.clone(),
        };
        match runner::run(&clients, plan).await {
            Ok(r) => {
                if let Some(warning) = args.rate.and_then(|rate| report::shortfall(&r, rate)) {
                    eprintln!("redwire bench: {warning}");
                }
                results.push(r)
            }
            Err(e) => {
                eprintln!("redwire bench: {e}");
                return EXIT_FAILURE;
            }
        }
    }
    let amount_text = match amount {
        Amount::Requests(n) => format!("{n} requests per test"),
        Amount::Duration(d) => format!("{:.1} s per test", d.as_secs_f64()),
    };
    let rate_text = args
        .rate
        .map(|r| format!(", open loop at {r:.0} requests/s"))
        .unwrap_or_default();
    let header = format!(
        "redwire bench: {server}{}, {} connections x {} task(s), pipeline {}, {}-byte values, \
         keyspace {}, {amount_text}{rate_text}",
        if embedded { " (throwaway server)" } else { "" },
        args.connections,
        args.tasks,
        args.pipeline,
        args.data_size,
        args.keyspace,
    );
    if args.json {
        let settings = serde_json::json!({
            "server": server,
            "embedded_server": embedded,
            "connections": args.connections,
            "tasks_per_connection": args.tasks,
            "pipeline": args.pipeline,
            "data_size": args.data_size,
            "keyspace": args.keyspace,
            "requests_per_test": matches!(amount, Amount::Requests(_)).then_some(args.requests),
            "duration_s_per_test": args.duration,
            "rate": args.rate,
        });
        let mut doc = report::json(settings, &results, args.rate);
        if let Some(metrics) = metrics {
            doc["client_metrics"] = metrics.json();
        }
        println!("{doc}");
    } else {
        print!("{}", report::table(&header, &results, args.rate));
        if let Some(metrics) = metrics {
            print!("{}", metrics.table());
        }
    }
    if let Some(path) = &args.plot {
        let title = plot::Title {
            main: format!(
                "redwire bench of {server}{} · {} · redwire {}",
                if embedded { " (throwaway server)" } else { "" },
                date::now_utc(),
                env!("CARGO_PKG_VERSION")
            ),
            settings: format!(
                "{} connections x {} task(s), pipeline {}, {}-byte values, keyspace {}, \
                 {amount_text}{rate_text}",
                args.connections, args.tasks, args.pipeline, args.data_size, args.keyspace
            ),
        };
        if let Err(e) = plot::draw(path, &title, &results) {
            eprintln!("redwire bench: cannot draw {}: {e}", path.display());
            return EXIT_FAILURE;
        }
        eprintln!("redwire bench: plot written to {}", path.display());
    }
    let errors: u64 = results.iter().map(|r| r.errors).sum();
    if errors > 0 {
        eprintln!("redwire bench: {errors} requests got an error reply");
        return crate::exit::EXIT_ERROR_REPLY;
    }
    EXIT_OK
}

#[cfg(feature = "client-metrics")]
use client_metrics::ClientMetrics;

/// Without the `client-metrics` feature there is nothing to record with.
#[cfg(not(feature = "client-metrics"))]
struct ClientMetrics;

#[cfg(not(feature = "client-metrics"))]
impl ClientMetrics {
    fn table(&self) -> String {
        String::new()
    }
    fn json(&self) -> serde_json::Value {
        serde_json::Value::Null
    }
}

impl ClientMetrics {
    /// The recorder, installed when `wanted`.
    fn when(wanted: bool) -> Result<Option<ClientMetrics>, String> {
        if !wanted {
            return Ok(None);
        }
        #[cfg(feature = "client-metrics")]
        return ClientMetrics::install().map(Some);
        #[cfg(not(feature = "client-metrics"))]
        Err("--client-metrics needs redwire-cli built with its `client-metrics` feature".into())
    }
}
