//! An idle connection costs no CPU: the actor sleeps until a request, a reply
//! or its timer wakes it, and never spins. (A test binary of its own, so that
//! no other test's work counts in the process's CPU time.)

#![cfg(target_os = "linux")]

mod support;

use redwire::{cmd, Client};
use redwire_testkit::RedisServer;
use std::time::Duration;
use support::config;

/// User plus system CPU time of this process, from `/proc/self/stat`, in
/// clock ticks (usually 10 ms).
fn cpu_ticks() -> u64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap();
    // Fields after the command name, which is in parentheses.
    let rest = &stat[stat.rfind(')').unwrap() + 2..];
    let fields: Vec<&str> = rest.split(' ').collect();
    fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_connection_does_not_spin() {
    let server = RedisServer::start().unwrap();
    let cfg = config(&server.url())
        .into_builder()
        .response_timeout(Some(Duration::from_millis(200)))
        .health_check_interval(Some(Duration::from_millis(100)))
        .build();
    let client = Client::connect(cfg).await.unwrap();
    // Traffic first, so every path (writes, reads, the timer) has run.
    for i in 0..100 {
        client.send(&cmd("SET").arg(i).arg(i)).await.unwrap();
    }
    let before = cpu_ticks();
    tokio::time::sleep(Duration::from_secs(1)).await;
    let used = cpu_ticks() - before;
    // A spinning actor burns a whole core: about 100 ticks in this second.
    assert!(used < 40, "{used} ticks of CPU in one idle second");
    assert!(client.send(&cmd("PING")).await.is_ok());
}
