//! Running one test: `connections × tasks` workers, each sending its requests
//! (or pipelines of them) one after the other and recording each latency in its
//! own HDR histogram, merged at the end so workers never contend on a lock.
//!
//! With a rate the run is open-loop: requests are due at fixed times, and a
//! request sent late because earlier ones were slow is timed from when it was
//! due, not from when it went out. That is what keeps a stalled server from
//! hiding its stall (coordinated omission), as in wrk2.

use super::workload::{Test, Workload};
use hdrhistogram::Histogram;
use indicatif::{ProgressBar, ProgressStyle};
use redwire::cluster::ClusterClient;
use redwire::{Client, Cmd, ErrorKind, Pipeline, Value};
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::task::JoinSet;

/// Latencies are kept in microseconds, up to a minute.
pub const LATENCY_MAX_US: u64 = 60_000_000;

/// How long a test runs.
#[derive(Debug, Clone, Copy)]
pub enum Amount {
    Requests(u64),
    Duration(Duration),
}

/// What the workers of a test share.
pub struct Plan {
    pub test: Test,
    pub amount: Amount,
    pub pipeline: usize,
    pub tasks_per_connection: usize,
    /// Requests per second over all workers; `None`: as fast as replies come.
    pub rate: Option<f64>,
    pub workload: Arc<Workload>,
}

/// The outcome of one test.
pub struct TestResult {
    pub test: Test,
    pub requests: u64,
    pub errors: u64,
    pub elapsed: Duration,
    /// Microseconds.
    pub latency: Histogram<u64>,
    /// (seconds since the start, requests per second in the interval before):
    /// full sampling intervals only, or, for a test shorter than one, the
    /// whole test as its single sample.
    pub timeline: Vec<(f64, f64)>,
}

impl TestResult {
    pub fn ops_per_sec(&self) -> f64 {
        self.requests as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

struct Shared {
    remaining: AtomicI64,
    deadline: Option<Instant>,
    done: AtomicU64,
    errors: AtomicU64,
    stop: AtomicBool,
    failure: Mutex<Option<String>>,
}

impl Shared {
    /// How many requests the next batch may send; 0 ends the worker.
    fn claim(&self, want: usize) -> usize {
        if self.stop.load(Ordering::Relaxed) {
            return 0;
        }
        if let Some(deadline) = self.deadline {
            return if Instant::now() >= deadline { 0 } else { want };
        }
        let before = self.remaining.fetch_sub(want as i64, Ordering::Relaxed);
        before.clamp(0, want as i64) as usize
    }

    fn fail(&self, why: String) {
        self.stop.store(true, Ordering::Relaxed);
        self.failure
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get_or_insert(why);
    }
}

/// What the load goes through: one server's shared client, or a cluster's.
#[derive(Clone)]
pub enum Conn {
    Single(Client),
    Cluster(ClusterClient),
}

impl Conn {
    async fn send(&self, cmd: &Cmd) -> redwire::Result<Value> {
        match self {
            Conn::Single(c) => c.send(cmd).await,
            Conn::Cluster(c) => c.send(cmd).await,
        }
    }

    async fn pipeline(&self, p: &Pipeline) -> redwire::Result<Vec<redwire::Result<Value>>> {
        match self {
            Conn::Single(c) => c.pipeline(p).await,
            Conn::Cluster(c) => c.pipeline(p).await,
        }
    }
}

fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, LATENCY_MAX_US, 3).expect("valid histogram bounds")
}

async fn worker(
    client: Conn,
    plan: Arc<Plan>,
    shared: Arc<Shared>,
    schedule: Option<(Instant, Duration)>,
    seed: u64,
) -> (Histogram<u64>, Instant) {
    let mut hist = histogram();
    let mut rng = fastrand::Rng::with_seed(seed);
    let mut next_due = schedule.map(|(first, _)| first);
    loop {
        let n = shared.claim(plan.pipeline);
        if n == 0 {
            break;
        }
        let start = match next_due {
            None => Instant::now(),
            Some(due) => {
                let now = Instant::now();
                if due > now {
                    // Ahead of schedule: any lateness now is the timer's (1 ms
                    // granularity), not the server's, so time from the send.
                    tokio::time::sleep_until(due.into()).await;
                    Instant::now()
                } else {
                    // Behind: the server made us late; that wait is latency.
                    due
                }
            }
        };
        if let (Some(due), Some((_, interval))) = (next_due.as_mut(), schedule) {
            *due += interval;
        }
        let errors = if n == 1 {
            match client
                .send(&plan.workload.command(plan.test, &mut rng))
                .await
            {
                Ok(_) => 0,
                Err(e) if e.kind() == ErrorKind::Server => 1,
                Err(e) => {
                    shared.fail(e.to_string());
                    break;
                }
            }
        } else {
            let mut p = Pipeline::new();
            for _ in 0..n {
                p.add(plan.workload.command(plan.test, &mut rng));
            }
            match client.pipeline(&p).await {
                Ok(results) => results.iter().filter(|r| r.is_err()).count() as u64,
                Err(e) => {
                    shared.fail(e.to_string());
                    break;
                }
            }
        };
        // Every reply of a pipeline arrives with the last of its batch here.
        let us = start.elapsed().as_micros().min(LATENCY_MAX_US as u128) as u64;
        let _ = hist.record_n(us.max(1), n as u64);
        shared.done.fetch_add(n as u64, Ordering::Relaxed);
        if errors > 0 {
            shared.errors.fetch_add(errors, Ordering::Relaxed);
        }
    }
    (hist, Instant::now())
}

/// Runs `plan` on `clients`, showing a progress bar on a terminal.
pub async fn run(clients: &[Conn], plan: Plan) -> Result<TestResult, String> {
    let plan = Arc::new(plan);
    let workers = clients.len() * plan.tasks_per_connection.max(1);
    let start = Instant::now();
    let shared = Arc::new(Shared {
        remaining: AtomicI64::new(match plan.amount {
            Amount::Requests(n) => n as i64,
            Amount::Duration(_) => i64::MAX,
        }),
        deadline: match plan.amount {
            Amount::Duration(d) => Some(start + d),
            Amount::Requests(_) => None,
        },
        done: AtomicU64::new(0),
        errors: AtomicU64::new(0),
        stop: AtomicBool::new(false),
        failure: Mutex::new(None),
    });
    // Per worker: a batch is due every `interval`; workers start spread over
    // one interval so the arrivals are even, not in bursts of `workers`.
    let interval = plan
        .rate
        .filter(|r| *r > 0.0)
        .map(|rate| Duration::from_secs_f64(plan.pipeline as f64 * workers as f64 / rate));

    let bar = progress_bar(plan.test, plan.amount);
    let mut set = JoinSet::new();
    for w in 0..workers {
        let client = clients[w % clients.len()].clone();
        let schedule = interval.map(|i| (start + i.mul_f64(w as f64 / workers as f64), i));
        set.spawn(worker(
            client,
            plan.clone(),
            shared.clone(),
            schedule,
            0x5eed ^ ((w as u64) << 20),
        ));
    }

    let mut timeline = Vec::new();
    let (mut last_t, mut last_done) = (0.0f64, 0u64);
    let mut ticker = tokio::time::interval(Duration::from_millis(100));
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut hist = histogram();
    let mut end = start;
    let mut finished = 0;
    while finished < workers {
        tokio::select! {
            joined = set.join_next() => {
                let Some(joined) = joined else { break };
                let (h, t) = joined.map_err(|e| format!("a bench worker failed: {e}"))?;
                hist.add(&h).map_err(|e| format!("merging histograms: {e}"))?;
                end = end.max(t);
                finished += 1;
            }
            _ = ticker.tick() => {
                let t = start.elapsed().as_secs_f64();
                let done = shared.done.load(Ordering::Relaxed);
                if t - last_t > 0.05 {
                    timeline.push((t, (done - last_done) as f64 / (t - last_t)));
                    (last_t, last_done) = (t, done);
                }
                update_bar(&bar, plan.amount, start, done);
            }
        }
    }
    bar.finish_and_clear();
    if let Some(why) = shared
        .failure
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .take()
    {
        return Err(format!("{} stopped: {why}", plan.test));
    }
    let done = shared.done.load(Ordering::Relaxed);
    let t = (end - start).as_secs_f64();
    // A tick that came after the last worker ended covers idle time: out.
    // The stretch after the last tick is a sliver of an interval, its rate
    // noise: it is left out too, unless it is the whole test.
    timeline.retain(|(at, _)| *at <= t);
    if timeline.is_empty() && done > 0 && t > 0.0 {
        timeline.push((t, done as f64 / t));
    }
    Ok(TestResult {
        test: plan.test,
        requests: done,
        errors: shared.errors.load(Ordering::Relaxed),
        elapsed: end - start,
        latency: hist,
        timeline,
    })
}

fn progress_bar(test: Test, amount: Amount) -> ProgressBar {
    let len = match amount {
        Amount::Requests(n) => n,
        Amount::Duration(d) => d.as_millis() as u64,
    };
    // indicatif draws nothing when stderr is not a terminal.
    let bar = ProgressBar::new(len);
    let template = match amount {
        Amount::Requests(_) => "{prefix:>6} [{bar:40}] {pos}/{len} requests {msg}",
        Amount::Duration(_) => "{prefix:>6} [{bar:40}] {msg}",
    };
    if let Ok(style) = ProgressStyle::with_template(template) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_prefix(test.to_string());
    bar
}

fn update_bar(bar: &ProgressBar, amount: Amount, start: Instant, done: u64) {
    bar.set_message(bar_message(amount, start.elapsed(), done));
    match amount {
        Amount::Requests(n) => bar.set_position(done.min(n)),
        Amount::Duration(d) => bar.set_position(start.elapsed().min(d).as_millis() as u64),
    }
}

/// The text after the bar: the elapsed and total time of a timed test, and
/// the rate so far.
fn bar_message(amount: Amount, elapsed: Duration, done: u64) -> String {
    let rate = done as f64 / elapsed.as_secs_f64().max(1e-9);
    match amount {
        Amount::Requests(_) => format!("{rate:.0} ops/s"),
        Amount::Duration(d) => format!(
            "{:.1}/{:.1} s {rate:.0} ops/s",
            elapsed.min(d).as_secs_f64(),
            d.as_secs_f64()
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_timed_bar_says_elapsed_of_total() {
        let amount = Amount::Duration(Duration::from_secs(10));
        assert_eq!(
            bar_message(amount, Duration::from_millis(2500), 5000),
            "2.5/10.0 s 2000 ops/s"
        );
        // Past the end (the last replies coming in), it stays at the total.
        assert_eq!(
            bar_message(amount, Duration::from_secs(11), 11),
            "10.0/10.0 s 1 ops/s"
        );
        assert_eq!(
            bar_message(Amount::Requests(10), Duration::from_secs(2), 10),
            "5 ops/s"
        );
    }
}
