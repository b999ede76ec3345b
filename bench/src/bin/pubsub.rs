//! End-to-end pub/sub benchmark: ONE publisher and ONE subscriber on one local
//! redis-server, the subscriber being redwire's `Subscriber`, redis-rs's
//! `aio::PubSub`, fred's `SubscriberClient` (and `fred-1024`, fred with its
//! message broadcast channel widened from 32 to 1,024, redwire's
//! `MESSAGE_BUFFER`) or rustis's `PubSubStream` (from `Client::subscribe` on
//! a connection of its own; its delivery channel holds up to 8 MiB of
//! messages by default and drops the oldest beyond), each with its default
//! configuration.
//!
//! The publisher is the same for every subscriber: a redwire `Client` on a
//! connection and a thread (with its own current-thread runtime) of its own,
//! `--in-flight` tasks calling `PUBLISH` at full speed (the client pipelines
//! them), or paced to `--rate` messages/s. Each message is 100 bytes: a
//! sequence number and the publish timestamp (taken just before the call),
//! padding after. The subscriber runs on the main thread's runtime
//! (`--runtime`, current-thread by default).
//!
//! Per cell (subscriber), in a child process of its own, cells interleaved
//! over `--repeat` runs:
//!
//! - messages/s received: messages received / (last receive − first publish),
//!   over `--count` messages; with the publisher's own rate beside it, to see
//!   which side was the bottleneck,
//! - publish→receive latency p50/p99 (HDR histogram, from the timestamp in
//!   the payload; at full speed this is mostly queueing in front of the
//!   slower side),
//! - messages lost: published minus received, by `--grace` seconds after the
//!   last `PUBLISH` was answered,
//! - subscriber CPU per message published (every one reached the
//!   subscriber's socket, received or not): process CPU minus the publisher
//!   thread's.
//!
//! ```text
//! cargo run --release -p redwire-bench --bin pubsub -- --repeat 3
//! ```

use clap::Parser;
use hdrhistogram::Histogram;
use redwire_bench::{child_command, cpu_time, run_cell, spread, spread_of, Figures};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

#[derive(Parser, Debug, Clone)]
#[command(about = "pub/sub: redwire vs redis-rs vs fred vs rustis subscribers, one publisher")]
struct Args {
    /// Server URL; by default a throwaway redis-server is started.
    #[arg(long)]
    url: Option<String>,
    /// Messages published per cell.
    #[arg(long, default_value_t = 200_000)]
    count: u64,
    /// Payload size in bytes (at least 16: sequence number and timestamp).
    #[arg(long, default_value_t = 100)]
    size: usize,
    /// PUBLISH calls in flight at once on the publisher's connection.
    #[arg(long, default_value_t = 64)]
    in_flight: usize,
    /// Messages per second; 0 publishes at full speed.
    #[arg(long, default_value_t = 0)]
    rate: u64,
    /// Seconds the subscriber may take, after the last PUBLISH was answered,
    /// before what has not arrived counts as lost.
    #[arg(long, default_value_t = 2.0)]
    grace: f64,
    /// Subscribers: redwire, redis-rs, fred, fred-1024, rustis.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "redwire,redis-rs,fred,rustis"
    )]
    clients: Vec<String>,
    /// The subscriber's runtime: ct, mt1 or mt2.
    #[arg(long, default_value = "ct")]
    runtime: String,
    /// Runs of every cell, interleaved; median and min–max are reported.
    #[arg(long, default_value_t = 3)]
    repeat: usize,
    /// Internal: run one cell in this process and print its result.
    #[arg(long, hide = true)]
    child: bool,
}

#[derive(Debug, Clone, Copy, Default)]
struct Cell {
    /// Messages received per second.
    recv_rate: f64,
    /// Messages published per second (first publish to last reply).
    pub_rate: f64,
    p50_us: f64,
    p99_us: f64,
    lost: f64,
    cpu_us: f64,
}

impl Figures for Cell {
    const FIELDS: usize = 6;

    fn figures(&self) -> Vec<f64> {
        vec![
            self.recv_rate,
            self.pub_rate,
            self.p50_us,
            self.p99_us,
            self.lost,
            self.cpu_us,
        ]
    }

    fn from_figures(v: &[f64]) -> Cell {
        Cell {
            recv_rate: v[0],
            pub_rate: v[1],
            p50_us: v[2],
            p99_us: v[3],
            lost: v[4],
            cpu_us: v[5],
        }
    }
}

fn main() {
    let args = Args::parse();
    assert!(args.size >= 16, "--size must be at least 16");
    redwire_bench::child_or_parent(args.child, args, run_child, run_parent);
}

fn run_parent(args: Args) {
    let (_server, url) = redwire_bench::server_url(args.url.as_deref());
    let runs = redwire_bench::interleaved(&args.clients, args.repeat, |run, client| {
        let c: Cell = run_cell(
            &format!("run {run} {client}"),
            child_command()
                .args(["--url", &url, "--clients", client])
                .args(["--count", &args.count.to_string()])
                .args(["--size", &args.size.to_string()])
                .args(["--in-flight", &args.in_flight.to_string()])
                .args(["--rate", &args.rate.to_string()])
                .args(["--grace", &args.grace.to_string()])
                .args(["--runtime", &args.runtime]),
        )?;
        eprintln!(
            "run {run} {client:>9}: {:>8.0} msg/s received ({:>8.0} published)  p50 {:>9.1} µs  p99 {:>9.1} µs  lost {:>6.0}  cpu {:.2} µs/msg",
            c.recv_rate, c.pub_rate, c.p50_us, c.p99_us, c.lost, c.cpu_us
        );
        Some(c)
    });
    println!("{}", report(&args, &runs));
}

fn report(args: &Args, runs: &[Vec<Cell>]) -> String {
    use std::fmt::Write;
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{} messages of {} bytes per cell, {}, {} PUBLISH in flight; subscriber runtime `{}`; \
         grace {} s; {} run(s), interleaved; median (min–max).\n",
        args.count,
        args.size,
        if args.rate == 0 {
            "published at full speed".to_string()
        } else {
            format!("paced to {} messages/s", args.rate)
        },
        args.in_flight,
        args.runtime,
        args.grace,
        args.repeat,
    );
    let _ = writeln!(
        s,
        "| subscriber | received msg/s | published msg/s | p50 µs | p99 µs | lost | sub CPU µs/msg |\n|---|---:|---:|---:|---:|---:|---:|"
    );
    for (client, cells) in args.clients.iter().zip(runs) {
        let _ = writeln!(
            s,
            "| {client} | {} | {} | {} | {} | {} | {} |",
            spread_of(cells, |c| c.recv_rate, 0),
            spread_of(cells, |c| c.pub_rate, 0),
            spread_of(cells, |c| c.p50_us, 0),
            spread_of(cells, |c| c.p99_us, 0),
            spread_of(cells, |c| c.lost, 0),
            spread_of(cells, |c| c.cpu_us, 2),
        );
    }
    // Paired within each run, so that what the shared machine did during a
    // run weighs on both sides of the ratio.
    let of = |name: &str| {
        args.clients
            .iter()
            .position(|c| c == name)
            .map(|i| &runs[i])
    };
    if let Some(me) = of("redwire") {
        let peers: Vec<&Vec<Cell>> = args
            .clients
            .iter()
            .filter(|c| *c != "redwire")
            .filter_map(|c| of(c))
            .collect();
        if !peers.is_empty() && peers.iter().all(|p| p.len() == me.len()) {
            let ratios: Vec<f64> = (0..me.len())
                .map(|i| me[i].recv_rate / peers.iter().map(|p| p[i].recv_rate).fold(0.0, f64::max))
                .collect();
            let _ = writeln!(
                s,
                "\nredwire received msg/s ÷ the better peer's in the same run: {}",
                spread(&ratios, 2)
            );
        }
    }
    s
}

// ---- the child: one cell ----

/// Every timestamp is nanoseconds since this instant, shared by the publisher
/// thread and the subscriber (one process).
static BASE: OnceLock<Instant> = OnceLock::new();

fn now_ns() -> u64 {
    BASE.get_or_init(Instant::now).elapsed().as_nanos() as u64
}

fn latency_histogram() -> Histogram<u64> {
    // 100 ns to 1,000 s at 3 significant digits.
    Histogram::new_with_bounds(100, 1_000_000_000_000, 3).expect("histogram bounds")
}

/// What the publisher thread reports when it is done.
struct Published {
    /// When the first PUBLISH was issued.
    first_ns: u64,
    /// When the last reply came.
    last_ns: u64,
    /// CPU time of the publisher thread.
    cpu: Duration,
}

fn run_child(args: &Args) -> Cell {
    now_ns();
    let url = args.url.clone().expect("url");
    let client = args.clients[0].clone();
    let channel = format!("bench:pubsub:{}", std::process::id());
    let runtime = redwire_bench::runtime(&args.runtime);
    let (count, size, in_flight, rate) = (args.count, args.size, args.in_flight, args.rate);
    let grace = Duration::from_secs_f64(args.grace);

    runtime.block_on(async move {
        let mut sub = Sub::connect(&client, &url, &channel).await;

        // The publisher: its own thread, runtime and connection; it starts
        // once the subscription is confirmed.
        let (done_tx, done_rx) = tokio::sync::oneshot::channel::<()>();
        let (url2, channel2) = (url.clone(), channel.clone());
        let cpu0 = cpu_time();
        let publisher = std::thread::spawn(move || {
            let rt = redwire_bench::runtime("ct");
            let published = rt.block_on(publish(&url2, &channel2, count, size, in_flight, rate));
            let _ = done_tx.send(());
            published
        });

        // The subscriber: receives until every message came, or `grace` after
        // the publisher finished.
        let mut hist = latency_histogram();
        let mut received = 0u64;
        let mut last_ns = 0u64;
        let deadline = async {
            let _ = done_rx.await;
            tokio::time::sleep(grace).await;
        };
        tokio::pin!(deadline);
        while received < count {
            tokio::select! {
                biased;
                sent = sub.next() => {
                    let Some(sent) = sent else { break };
                    let at = now_ns();
                    hist.saturating_record(at.saturating_sub(sent));
                    received += 1;
                    last_ns = at;
                }
                () = &mut deadline => break,
            }
        }
        let cpu1 = cpu_time();
        let published = publisher.join().expect("publisher thread");
        if LAGGED.load(Ordering::Relaxed) > 0 {
            eprintln!(
                "dropped by the broadcast channel: {}",
                LAGGED.load(Ordering::Relaxed)
            );
        }
        let sub_cpu = (cpu1 - cpu0).saturating_sub(published.cpu);
        Cell {
            recv_rate: received as f64
                / ((last_ns.saturating_sub(published.first_ns)) as f64 / 1e9),
            pub_rate: count as f64 / ((published.last_ns - published.first_ns) as f64 / 1e9),
            p50_us: hist.value_at_quantile(0.5) as f64 / 1000.0,
            p99_us: hist.value_at_quantile(0.99) as f64 / 1000.0,
            lost: (count - received) as f64,
            cpu_us: sub_cpu.as_secs_f64() * 1e6 / count as f64,
        }
    })
}

async fn publish(
    url: &str,
    channel: &str,
    count: u64,
    size: usize,
    in_flight: usize,
    rate: u64,
) -> Published {
    use redwire::prelude::*;
    let config = redwire::Config::from_url(url).expect("url");
    let client = redwire::Client::connect(config)
        .await
        .expect("publisher connect");
    let next = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let first_ns = now_ns();
    let mut tasks = Vec::new();
    for _ in 0..in_flight {
        let (client, next, channel) = (client.clone(), next.clone(), channel.to_string());
        tasks.push(tokio::spawn(async move {
            let mut payload = vec![b'x'; size];
            loop {
                let seq = next.fetch_add(1, Ordering::Relaxed);
                if seq >= count {
                    break;
                }
                if rate > 0 {
                    let at = start + Duration::from_secs_f64(seq as f64 / rate as f64);
                    tokio::time::sleep_until(at.into()).await;
                }
                payload[..8].copy_from_slice(&seq.to_le_bytes());
                payload[8..16].copy_from_slice(&now_ns().to_le_bytes());
                let _: u64 = client
                    .publish(channel.as_str(), &payload[..])
                    .await
                    .expect("PUBLISH");
            }
        }));
    }
    for t in tasks {
        t.await.expect("publisher task");
    }
    Published {
        first_ns,
        last_ns: now_ns(),
        // The thread's whole life: its runtime, connection and publishing.
        cpu: redwire_bench::thread_cpu_time(),
    }
}

/// Messages fred's broadcast channel dropped (`RecvError::Lagged`).
static LAGGED: AtomicU64 = AtomicU64::new(0);

/// The publish timestamp in a payload.
fn sent_at(payload: &[u8]) -> u64 {
    u64::from_le_bytes(payload[8..16].try_into().expect("16-byte header"))
}

/// One subscriber under test, subscribed to the channel. (The `_client`
/// fields keep the subscription's owner alive.)
enum Sub {
    Redwire {
        _client: redwire::Subscriber,
        messages: redwire::Messages,
    },
    RedisRs(redis::aio::PubSubStream),
    Fred {
        _client: fred::clients::SubscriberClient,
        rx: tokio::sync::broadcast::Receiver<fred::types::Message>,
    },
    Rustis {
        _client: rustis::client::Client,
        // Boxed: 376 bytes against the others' 80 or fewer.
        stream: Box<rustis::client::PubSubStream>,
    },
}

impl Sub {
    async fn connect(client: &str, url: &str, channel: &str) -> Sub {
        match client {
            "redwire" => {
                let config = redwire::Config::from_url(url).expect("url");
                let (sub, messages) = redwire::Subscriber::connect(config).await.expect("connect");
                sub.subscribe(channel).await.expect("SUBSCRIBE");
                Sub::Redwire {
                    _client: sub,
                    messages,
                }
            }
            "redis-rs" => {
                let client = redis::Client::open(url).expect("url");
                let mut pubsub = client.get_async_pubsub().await.expect("connect");
                pubsub.subscribe(channel).await.expect("SUBSCRIBE");
                Sub::RedisRs(pubsub.into_on_message())
            }
            "fred" | "fred-1024" => {
                use fred::prelude::*;
                let config = Config::from_url(url).expect("url");
                let mut builder = Builder::from_config(config);
                if client == "fred-1024" {
                    builder.with_performance_config(|p| {
                        p.broadcast_channel_capacity = redwire::MESSAGE_BUFFER
                    });
                }
                let sub = builder.build_subscriber_client().expect("build");
                sub.init().await.expect("connect");
                let rx = sub.message_rx();
                sub.subscribe(channel).await.expect("SUBSCRIBE");
                Sub::Fred { _client: sub, rx }
            }
            "rustis" => {
                use rustis::commands::PubSubCommands;
                let client = rustis::client::Client::connect(url).await.expect("connect");
                let stream = Box::new(client.subscribe(channel).await.expect("SUBSCRIBE"));
                Sub::Rustis {
                    _client: client,
                    stream,
                }
            }
            other => panic!("unknown client {other}"),
        }
    }

    /// The publish timestamp of the next message; `None` if the stream ended.
    async fn next(&mut self) -> Option<u64> {
        match self {
            Sub::Redwire { messages, .. } => {
                let m = messages.recv().await?.expect("message");
                Some(sent_at(&m.payload))
            }
            Sub::RedisRs(stream) => {
                use futures_util::StreamExt;
                let m = stream.next().await?;
                Some(sent_at(m.get_payload_bytes()))
            }
            Sub::Fred { rx, .. } => loop {
                use tokio::sync::broadcast::error::RecvError;
                match rx.recv().await {
                    Ok(m) => return Some(sent_at(m.value.as_bytes()?)),
                    // Messages the broadcast channel dropped: lost.
                    Err(RecvError::Lagged(n)) => {
                        LAGGED.fetch_add(n, Ordering::Relaxed);
                        continue;
                    }
                    Err(RecvError::Closed) => return None,
                }
            },
            Sub::Rustis { stream, .. } => {
                use futures_util::StreamExt;
                let m = stream.next().await?.expect("message");
                Some(sent_at(m.payload()))
            }
        }
    }
}
