//! A fixed load for counting what observability costs per request: GET of
//! a 16-byte value from `--tasks` tasks sharing one `Client` on a
//! current-thread runtime, `--requests` of them after a warm-up, with
//! nobody listening (`--listen none`), with a Prometheus recorder installed
//! (`--listen recorder`: meaningful when built with the `metrics` feature),
//! or with a `tracing` subscriber at INFO, which does not enable the
//! command spans (`--listen info`). Run it under callgrind twice with two
//! request counts and divide the difference: `docs/observability.md` shows
//! the commands and the figures.
//!
//! ```text
//! cargo build --release -p redwire --features metrics --example observed_load
//! valgrind --tool=callgrind target/release/examples/observed_load \
//!     --url redis://127.0.0.1:6379 --requests 10000 --listen recorder
//! ```

use redwire::{cmd, Client};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use tracing_subscriber::prelude::*;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let (mut url, mut requests, mut tasks, mut listen) = (
        String::from("redis://127.0.0.1:6379"),
        10_000u64,
        128u64,
        String::from("none"),
    );
    while let Some(arg) = args.next() {
        let value = args.next().ok_or(format!("{arg} needs a value"))?;
        match arg.as_str() {
            "--url" => url = value,
            "--requests" => requests = value.parse()?,
            "--tasks" => tasks = value.parse()?,
            "--listen" => listen = value,
            other => return Err(format!("unknown argument {other}").into()),
        }
    }
    // Kept alive for the whole run: the recorder lives in it.
    let mut _prometheus = None;
    match listen.as_str() {
        "none" => {}
        "recorder" => {
            _prometheus =
                Some(metrics_exporter_prometheus::PrometheusBuilder::new().install_recorder()?)
        }
        "info" => tracing::subscriber::set_global_default(
            tracing_subscriber::registry().with(tracing_subscriber::filter::LevelFilter::INFO),
        )?,
        other => return Err(format!("--listen none, recorder or info, not {other}").into()),
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let client = Client::connect(url.parse()?).await?;
        client
            .send(&cmd("SET").arg("key:16").arg("v".repeat(16)))
            .await?;
        // The same warm-up in every run: it cancels out of the difference.
        run(&client, 1_000, tasks).await;
        run(&client, requests, tasks).await;
        Ok::<_, redwire::Error>(())
    })?;
    println!("RESULT {requests}");
    Ok(())
}

/// `requests` GETs spread over `tasks` tasks.
async fn run(client: &Client, requests: u64, tasks: u64) {
    let left = Arc::new(AtomicU64::new(requests));
    let workers: Vec<_> = (0..tasks)
        .map(|_| {
            let (client, left) = (client.clone(), left.clone());
            tokio::spawn(async move {
                while left
                    .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1))
                    .is_ok()
                {
                    let _: Option<bytes::Bytes> = client
                        .query(&cmd("GET").arg("key:16"))
                        .await
                        .expect("GET failed");
                }
            })
        })
        .collect();
    for worker in workers {
        worker.await.expect("a worker panicked");
    }
}
