//! The shared-`Client` workload: a world, a client configuration and a fault
//! schedule drawn from the seed; many callers on one `Client` issuing
//! checkable commands with deadlines, some dropped at a random point; then
//! the faults stop and the client must serve again.
//!
//! Each caller owns its keys (`k:<caller>`, `c:<caller>`) and runs its
//! operations one after another, so what the oracle expects of a key follows
//! from that caller's record alone; the callers together keep the connection
//! pipelined. Every random draw comes from a generator seeded by the seed
//! (one per caller, so the order in which tasks run cannot change a draw).

use crate::model::Dialect;
use crate::oracle::{Kind, Op, Outcome};
use crate::pipe::Shape;
use crate::world::{Fault, Setup, World};
use redwire::{cmd, Backoff, Client, Config, Value};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::time::Instant;

/// How long past its deadline a call may run before it counts as hung.
pub const HANG_GRACE: Duration = Duration::from_secs(2);

/// What one run hands the oracle.
pub struct Run {
    /// Every operation and how it ended.
    pub ops: Vec<Op>,
    /// The world at the end.
    pub world: World,
    /// How long the client took to serve again after the faults stopped
    /// (`None`: it did not within `reconnect_bound`).
    pub recovered_after: Option<Duration>,
    /// The most it may take.
    pub reconnect_bound: Duration,
    /// Whether the client failed fast while disconnected.
    pub fail_fast: bool,
}

fn ms(rng: &mut fastrand::Rng, lo: u64, hi: u64) -> Duration {
    Duration::from_millis(rng.u64(lo..=hi))
}

/// Runs the shared-client workload for `seed` (inside a paused runtime).
pub async fn shared_client(seed: u64) -> Run {
    let mut rng = fastrand::Rng::with_seed(seed);
    let shape = Shape {
        split: if rng.bool() { rng.f64() * 0.6 } else { 0.0 },
        short_write: if rng.bool() { rng.f64() * 0.4 } else { 0.0 },
        max_delay: Duration::from_micros(rng.u64(0..=3000)),
    };
    let setup = Setup {
        dialect: if rng.u8(..4) == 0 {
            Dialect::Resp2Only
        } else {
            Dialect::Hello
        },
        shape,
        flaky_connects: if rng.u8(..4) == 0 {
            rng.f64() * 0.4
        } else {
            0.0
        },
    };
    let world = World::new(seed, setup);
    let response_timeout = ms(&mut rng, 150, 800);
    let connect_timeout = ms(&mut rng, 50, 300);
    let backoff = Backoff {
        initial: ms(&mut rng, 1, 20),
        max: ms(&mut rng, 20, 200),
        jitter: 0.5,
        max_attempts: None,
    };
    let command_timeout = ms(&mut rng, 100, 2000);
    let fail_fast = rng.u8(..6) == 0;
    let config = Config::builder()
        .sim_dialer(world.dialer())
        .connect_timeout(connect_timeout)
        .response_timeout(Some(response_timeout))
        .command_timeout(Some(command_timeout))
        .health_check_interval(Some(ms(&mut rng, 50, 1000)))
        .backoff(backoff)
        .fail_fast(fail_fast)
        .max_in_flight(rng.usize(2..=64))
        .channel_capacity(rng.usize(2..=256))
        .build();
    world.note(format!(
        "setup: {shape:?} response_timeout={response_timeout:?} connect_timeout={connect_timeout:?} \
         command_timeout={command_timeout:?} {backoff:?} fail_fast={fail_fast}"
    ));

    let mut faults = Vec::new();
    for _ in 0..rng.usize(0..=8) {
        let at = ms(&mut rng, 0, 400);
        let fault = match rng.u8(..10) {
            0..=2 => Fault::Reset,
            3 => Fault::BlackHole,
            4 => Fault::HalfClose,
            5 => Fault::Restart(ms(&mut rng, 0, 200)),
            6 => Fault::Refuse(ms(&mut rng, 0, 300)),
            7 | 8 => Fault::Unsolicited,
            _ => Fault::Malformed,
        };
        faults.push((at, fault));
    }
    faults.sort_by_key(|(at, _)| *at);
    let chaos = tokio::spawn(world.clone().chaos(faults));

    let client = Client::new(config);
    let ops = Arc::new(Mutex::new(Vec::new()));
    let callers = rng.usize(2..=12);
    let mut tasks = Vec::new();
    for caller in 0..callers {
        let (client, world, ops) = (client.clone(), world.clone(), ops.clone());
        let caller_seed = rng.u64(..);
        tasks.push(tokio::spawn(async move {
            let mut rng = fastrand::Rng::with_seed(caller_seed);
            let count = rng.usize(5..=40);
            for seq in 0..count {
                tokio::time::sleep(Duration::from_micros(rng.u64(0..=5000))).await;
                let kind = match rng.u8(..10) {
                    0..=4 => Kind::SetGet,
                    5..=7 => Kind::Incr,
                    _ => Kind::Get,
                };
                let command = match kind {
                    Kind::SetGet => cmd("SET")
                        .arg(format!("k:{caller}"))
                        .arg(format!("{caller}:{seq}"))
                        .arg("GET"),
                    Kind::Incr => cmd("INCR").arg(format!("c:{caller}")),
                    Kind::Get => cmd("GET").arg(format!("k:{caller}")),
                };
                let deadline = if rng.bool() {
                    command_timeout
                } else {
                    ms(&mut rng, 1, 1000)
                };
                let cancel =
                    (rng.u8(..10) == 0).then(|| Duration::from_micros(rng.u64(0..=20_000)));
                world.note(format!(
                    "caller{caller} op{seq}: {kind:?} deadline={deadline:?} cancel={cancel:?}"
                ));
                let start = Instant::now();
                let sending = client.send_timeout(&command, Some(deadline));
                let outcome = match cancel {
                    Some(after) => match tokio::time::timeout(after, sending).await {
                        Err(_) => Outcome::Cancelled,
                        Ok(r) => Outcome::from(r),
                    },
                    None => match tokio::time::timeout(deadline + HANG_GRACE, sending).await {
                        Err(_) => Outcome::Hung,
                        Ok(r) => Outcome::from(r),
                    },
                };
                let took = start.elapsed();
                world.note(format!("caller{caller} op{seq}: {outcome} after {took:?}"));
                ops.lock().unwrap().push(Op {
                    caller,
                    seq,
                    kind,
                    deadline,
                    took,
                    cancelled: cancel.is_some(),
                    outcome,
                });
            }
        }));
    }
    for task in tasks {
        let _ = task.await;
    }
    chaos.abort();
    world.heal();

    // After the faults: the client must serve again within its own bounds.
    let reconnect_bound =
        response_timeout * 2 + connect_timeout + backoff.max * 2 + Duration::from_millis(100);
    let healed = Instant::now();
    let mut recovered_after = None;
    while healed.elapsed() <= reconnect_bound {
        let probe = client.send_timeout(&cmd("GET").arg("probe"), Some(reconnect_bound));
        match probe.await {
            Ok(Value::Nil) => {
                recovered_after = Some(healed.elapsed());
                break;
            }
            other => world.note(format!("probe: {other:?}")),
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    world.note(format!(
        "probe: recovered after {recovered_after:?} (bound {reconnect_bound:?})"
    ));
    drop(client);
    let ops = std::mem::take(&mut *ops.lock().unwrap());
    Run {
        ops,
        world,
        recovered_after,
        reconnect_bound,
        fail_fast,
    }
}
