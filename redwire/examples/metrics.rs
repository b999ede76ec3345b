//! redwire's metrics in Prometheus text form: installs
//! `metrics-exporter-prometheus` as the recorder, runs some traffic (GETs,
//! a pipeline, a server error, a pub/sub message),
//! then prints the exposition, or with `--listen ADDR` keeps the traffic
//! going and serves it at `http://ADDR/metrics` for a Prometheus to scrape.
//!
//! Uses `$REDIS_URL` when set; otherwise starts a throwaway `redis-server`
//! from the PATH (via redwire-testkit).
//!
//! ```text
//! cargo run -p redwire --features metrics --example metrics
//! cargo run -p redwire --features metrics --example metrics -- --listen 127.0.0.1:9898
//! curl -s http://127.0.0.1:9898/metrics
//! ```

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use redwire::prelude::*;
use redwire::telemetry;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The OpenTelemetry conventions' advice for `db.client.operation.duration`.
const DURATION_BUCKETS: &[f64] = &[0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 10.0];
/// Requests per write, in powers of two.
const BATCH_BUCKETS: &[f64] = &[1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0];

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // The recorder comes first: a handle's metrics are registered with the
    // recorder installed when they are first needed.
    let prometheus = PrometheusBuilder::new()
        .set_buckets_for_metric(
            Matcher::Full(telemetry::OPERATION_DURATION.into()),
            DURATION_BUCKETS,
        )?
        .set_buckets_for_metric(Matcher::Full(telemetry::BATCH_SIZE.into()), BATCH_BUCKETS)?
        .install_recorder()?;
    let listen = std::env::args().skip_while(|a| a != "--listen").nth(1);

    let (_server, url) = match std::env::var("REDIS_URL") {
        Ok(url) => (None, url),
        Err(_) => {
            let server = redwire_testkit::RedisServer::start()?;
            let url = server.url();
            (Some(server), url)
        }
    };
    let config: Config = url.parse()?;
    let client = Client::connect(config.clone()).await?;
    let (subscriber, mut messages) = redwire::Subscriber::connect(config).await?;
    subscriber.subscribe("news").await?;

    traffic(&client).await?;
    client.publish("news", "hello").await?;
    let _ = messages.recv().await;

    match listen {
        None => print!("{}", prometheus.render()),
        Some(addr) => {
            let background = client.clone();
            tokio::spawn(async move {
                loop {
                    let _ = traffic(&background).await;
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            });
            serve(&addr, prometheus).await?;
        }
    }
    Ok(())
}

/// Some of everything the table lists for a client.
async fn traffic(client: &Client) -> redwire::Result<()> {
    client.set("greeting", "hello").await?;
    let tasks: Vec<tokio::task::JoinHandle<redwire::Result<()>>> = (0..16)
        .map(|_| {
            let client = client.clone();
            tokio::spawn(async move {
                for _ in 0..100 {
                    let _: Option<String> = client.get("greeting").await?;
                }
                Ok(())
            })
        })
        .collect();
    for task in tasks {
        task.await.expect("a task panicked")?;
    }
    let mut p = Pipeline::new();
    let _ = p.incr("visits");
    let _ = p.incr("visits");
    client.pipeline(&p).await?;
    // A server error: WRONGTYPE.
    let _ = client.lpush("greeting", ["x"]).await;
    Ok(())
}

/// A minimal HTTP/1.1 endpoint: every request gets the exposition.
async fn serve(addr: &str, prometheus: PrometheusHandle) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    eprintln!("serving http://{}/metrics", listener.local_addr()?);
    loop {
        let (mut socket, _) = listener.accept().await?;
        let body = prometheus.render();
        tokio::spawn(async move {
            let mut request = [0u8; 4096];
            let _ = socket.read(&mut request).await;
            let head = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: text/plain; version=0.0.4\r\n\
                 content-length: {}\r\nconnection: close\r\n\r\n",
                body.len()
            );
            let _ = socket.write_all(head.as_bytes()).await;
            let _ = socket.write_all(body.as_bytes()).await;
        });
    }
}
