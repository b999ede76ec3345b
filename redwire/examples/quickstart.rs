//! A first look at redwire: connect, run commands, a pipeline and a transaction,
//! then share one connection among many tasks and print what it sustained.
//!
//! Uses `$REDIS_URL` when set; otherwise starts a throwaway `redis-server` from
//! the PATH (via redwire-testkit) and says so.
//!
//! ```text
//! cargo run --release -p redwire --example quickstart
//! REDIS_URL=redis://127.0.0.1:6379 cargo run --release -p redwire --example quickstart
//! ```

use redwire::{cmd, Client, Config, Pipeline};
use std::time::{Duration, Instant};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (_server, url) = match std::env::var("REDIS_URL") {
        Ok(url) => (None, url),
        Err(_) => {
            let server = redwire_testkit::RedisServer::start()?;
            eprintln!(
                "REDIS_URL not set: started a throwaway redis-server at {}",
                server.url()
            );
            let url = server.url();
            (Some(server), url)
        }
    };
    let config: Config = url.parse()?;
    let client = Client::connect(config.clone()).await?;
    println!("connected to {}", config.redacted_url());

    client
        .send(&cmd("SET").arg("greeting").arg("hello from redwire"))
        .await?;
    let greeting: String = client.query(&cmd("GET").arg("greeting")).await?;
    println!("GET greeting -> {greeting:?}");

    let mut pipeline = Pipeline::new();
    pipeline
        .add(cmd("DEL").arg("visits"))
        .add(cmd("INCR").arg("visits"))
        .add(cmd("INCRBY").arg("visits").arg(41));
    let results = client.pipeline(&pipeline).await?;
    println!("pipeline -> {:?}", results.last().map(|r| r.as_ref().ok()));

    let mut tx = Pipeline::new();
    tx.atomic()
        .add(cmd("HSET").arg("user:1").arg("name").arg("ada"))
        .add(cmd("HGET").arg("user:1").arg("name"));
    println!("transaction -> {:?}", client.pipeline(&tx).await?);

    // One connection, 128 tasks: requests from all of them are pipelined.
    let tasks = 128;
    let per_task = 2_000;
    let started = Instant::now();
    let mut handles = Vec::new();
    for t in 0..tasks {
        let client = client.clone();
        handles.push(tokio::spawn(async move {
            let key = format!("key:{t}");
            for _ in 0..per_task {
                client
                    .send(&cmd("SET").arg(&key).arg("0123456789abcdef"))
                    .await?;
                let _: Option<bytes::Bytes> = client.query(&cmd("GET").arg(&key)).await?;
            }
            Ok::<_, redwire::Error>(())
        }));
    }
    for handle in handles {
        handle.await??;
    }
    let elapsed = started.elapsed();
    let ops = tasks * per_task * 2;
    println!(
        "{tasks} tasks on one connection: {ops} commands in {:.2?} = {:.0} ops/s",
        elapsed,
        ops as f64
            / elapsed
                .as_secs_f64()
                .max(Duration::from_micros(1).as_secs_f64())
    );
    Ok(())
}
