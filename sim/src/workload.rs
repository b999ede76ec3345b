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

use crate::op::{Kind, Op, Outcome};
use crate::setting::{ms, Setting};
use crate::world::World;
use redwire::{cmd, Client, Cmd, Value};
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::time::Instant;

pub use crate::op::HANG_GRACE;

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
    /// The client's in-flight limit.
    pub max_in_flight: usize,
    /// Dedicated connections, which end with their first drop (so a request
    /// may fail as closed).
    pub dedicated: bool,
    /// How the client was closed mid-run, if it was.
    pub closed: Option<crate::closing::Closed>,
}

/// One operation drawn for a caller: what it sends, its deadline, and when
/// the caller drops it (if it does).
pub struct Planned {
    caller: usize,
    seq: usize,
    kind: Kind,
    /// The command.
    pub command: Cmd,
    /// The call's deadline.
    pub deadline: Duration,
    cancel: Option<Duration>,
}

impl Planned {
    /// Draws operation `seq` of `caller`.
    pub fn draw(rng: &mut fastrand::Rng, caller: usize, seq: usize, default: Duration) -> Planned {
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
            default
        } else {
            ms(rng, 1, 1000)
        };
        let cancel = (rng.u8(..10) == 0).then(|| Duration::from_micros(rng.u64(0..=20_000)));
        Planned {
            caller,
            seq,
            kind,
            command,
            deadline,
            cancel,
        }
    }

    /// What it sends.
    pub fn kind(&self) -> Kind {
        self.kind
    }

    /// When its caller stops waiting for it: its drop or its deadline,
    /// whichever comes first.
    pub fn give_up_after(&self) -> Duration {
        self.cancel.map_or(self.deadline, |c| c.min(self.deadline))
    }

    /// A line for the trace.
    pub fn describe(&self) -> String {
        format!(
            "caller{} op{}: {:?} deadline={:?} cancel={:?}",
            self.caller, self.seq, self.kind, self.deadline, self.cancel
        )
    }

    /// Awaits the call, dropping it at the planned point, or giving up on it
    /// as hung long past its deadline.
    pub async fn finish(&self, sending: impl Future<Output = redwire::Result<Value>>) -> Outcome {
        match self.cancel {
            Some(after) => match tokio::time::timeout(after, sending).await {
                Err(_) => Outcome::Cancelled,
                Ok(r) => Outcome::from(r),
            },
            None => match tokio::time::timeout(self.deadline + HANG_GRACE, sending).await {
                Err(_) => Outcome::Hung,
                Ok(r) => Outcome::from(r),
            },
        }
    }

    /// The record of how it ended (and a line in the trace).
    pub fn record(&self, outcome: Outcome, start: Instant, world: &World) -> Op {
        let took = start.elapsed();
        world.note(format!(
            "caller{} op{}: {outcome} after {took:?}",
            self.caller, self.seq
        ));
        Op {
            caller: self.caller,
            seq: self.seq,
            kind: self.kind,
            deadline: self.deadline,
            took,
            ended: Instant::now(),
            cancelled: self.cancel.is_some(),
            outcome,
        }
    }
}

/// Runs the shared-client workload for `seed` (inside a paused runtime).
pub async fn shared_client(seed: u64) -> Run {
    let mut rng = fastrand::Rng::with_seed(seed);
    let setting = Setting::draw(seed, &mut rng);
    let world = setting.world.clone();
    let config = setting.config("client");
    let (command_timeout, fail_fast) = (setting.command_timeout, setting.fail_fast);
    let faults = setting.faults.clone();
    let chaos = tokio::spawn(world.clone().chaos(faults));

    let client = Client::new(config);
    let closer = crate::closing::start(seed, &setting, &client, &world);
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
                let planned = Planned::draw(&mut rng, caller, seq, command_timeout);
                world.note(planned.describe());
                let start = Instant::now();
                let sending = client.send_timeout(&planned.command, Some(planned.deadline));
                let outcome = planned.finish(sending).await;
                ops.lock()
                    .unwrap()
                    .push(planned.record(outcome, start, &world));
            }
        }));
    }
    for task in tasks {
        let _ = task.await;
    }
    let closed = match closer {
        Some(closer) => closer.await.ok(),
        None => None,
    };
    chaos.abort();
    world.heal();

    // After the faults: the client must serve again within its own bounds
    // (unless it was closed).
    let reconnect_bound = setting.reconnect_bound();
    let healed = Instant::now();
    let mut recovered_after = None;
    while closed.is_none() && healed.elapsed() <= reconnect_bound {
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
        max_in_flight: setting.max_in_flight,
        dedicated: false,
        closed,
    }
}
