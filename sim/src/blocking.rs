//! The blocking workload: a producer on a shared `Client` pushes uniquely
//! numbered items (`RPUSH items i:<n>`) while consumers pop them with
//! `BLPOP` and short server timeouts, each on a dedicated `Connection` (a
//! new one after each end), under the seed's faults; the oracle
//! ([`blocking_oracle`](crate::blocking_oracle)) follows every item; then the
//! faults stop and a pop must succeed again.
//!
//! Each pop names a key nobody pushes to, `tag:<consumer>:<seq>`, after
//! `items`, so the server's log says which call each pop served. A pop's
//! deadline is its block time plus the command timeout, or (one in three) a
//! deadline of its own, which may be shorter than the block time: then the
//! client gives up on a blocked command and must close its connection, so
//! the server pops nothing for nobody. One pop in eight is dropped at a
//! random point; one in sixteen goes to the shared `Client`, which must
//! refuse it before writing anything. One consumer in three checks a
//! connection out of a `Pool` for each pop instead (the pool must not hand
//! out again a connection whose blocked pop was given up on: its reply
//! would reach the next user).

use crate::oracle::Outcome;
use crate::setting::{ms, Setting};
use crate::world::World;
use redwire::{cmd, Client, Connection, PooledConnection, Value};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::time::Instant;

/// The list the items go through.
pub const ITEMS: &str = "items";

/// How a pop was sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    /// On the consumer's dedicated connection.
    Dedicated,
    /// On a connection checked out of the pool for it.
    Pooled,
    /// On the shared client, which must refuse it.
    Shared,
}

/// One `BLPOP` of one consumer.
#[derive(Debug, Clone)]
pub struct Pop {
    /// Which consumer.
    pub consumer: usize,
    /// Its sequence number within the consumer.
    pub seq: usize,
    /// Where it went.
    pub via: Via,
    /// Its block time on the server.
    pub block: Duration,
    /// The longest it may take.
    pub deadline: Duration,
    /// When it started and how long it took.
    pub start: Instant,
    /// How long it took.
    pub took: Duration,
    /// How it ended.
    pub outcome: Outcome,
}

impl Pop {
    /// The key that names it.
    pub fn tag(&self) -> String {
        format!("tag:{}:{}", self.consumer, self.seq)
    }
}

/// One push of the producer.
#[derive(Debug, Clone)]
pub struct Push {
    /// The item's number.
    pub n: usize,
    /// How it ended.
    pub outcome: Outcome,
}

/// What one run hands the oracle.
pub struct BlockingRun {
    /// Every pop and how it ended.
    pub pops: Vec<Pop>,
    /// Every push and how it ended.
    pub pushes: Vec<Push>,
    /// The world at the end.
    pub world: World,
    /// The longest a piece of a write takes to arrive (the pipe's delay).
    pub max_delay: Duration,
    /// Whether the client failed fast while disconnected.
    pub fail_fast: bool,
    /// Whether a pop succeeded again in time after the faults.
    pub recovered: bool,
    /// The time it had.
    pub bound: Duration,
}

/// Runs the blocking workload for `seed` (inside a paused runtime).
pub async fn blocking(seed: u64) -> BlockingRun {
    let mut rng = fastrand::Rng::with_seed(seed);
    let setting = Arc::new(Setting::draw(seed, &mut rng));
    let world = setting.world.clone();
    let chaos = tokio::spawn(world.clone().chaos(setting.faults.clone()));
    let client = Client::new(setting.config("client"));
    let pops = Arc::new(Mutex::new(Vec::new()));
    // The pool's knobs and who uses it, from a generator of their own.
    let mut pool_rng = fastrand::Rng::with_seed(seed ^ 0x0b10_c4ed_9001);
    let (pool, checkout_timeout) = crate::pool::side_pool(&setting, &mut pool_rng).await;
    let mut tasks = Vec::new();
    for consumer in 0..rng.usize(1..=4) {
        let (client, setting, world, pops, pool) = (
            client.clone(),
            setting.clone(),
            world.clone(),
            pops.clone(),
            pool.clone(),
        );
        let consumer_seed = rng.u64(..);
        let pooled = pool_rng.u8(..3) == 0;
        tasks.push(tokio::spawn(async move {
            let mut rng = fastrand::Rng::with_seed(consumer_seed);
            let mut conn: Option<Connection> = None;
            for seq in 0..rng.usize(3..=25) {
                tokio::time::sleep(Duration::from_micros(rng.u64(0..=3000))).await;
                let block = ms(&mut rng, 10, 200);
                let mut via = if pooled { Via::Pooled } else { Via::Dedicated };
                if rng.u8(..16) == 0 {
                    via = Via::Shared;
                }
                let own = (rng.u8(..3) == 0).then(|| ms(&mut rng, 1, 400));
                let cancel =
                    (rng.u8(..8) == 0).then(|| Duration::from_micros(rng.u64(0..=100_000)));
                let deadline = own.unwrap_or(block + setting.command_timeout);
                let pop = cmd("BLPOP")
                    .arg(ITEMS)
                    .arg(format!("tag:{consumer}:{seq}"))
                    .arg(format!("{:.3}", block.as_secs_f64()));
                if via == Via::Dedicated && conn.as_ref().is_none_or(Connection::is_closed) {
                    match Connection::connect(setting.config("connection")).await {
                        Ok(c) => conn = Some(c),
                        Err(e) => {
                            world.note(format!("consumer{consumer}: connect failed: {e}"));
                            continue;
                        }
                    }
                }
                // A connection from the pool for this pop alone.
                let mut checked_out: Option<PooledConnection> = None;
                if via == Via::Pooled {
                    let limit = checkout_timeout + crate::workload::HANG_GRACE;
                    match tokio::time::timeout(limit, pool.get()).await {
                        Ok(Ok(c)) => checked_out = Some(c),
                        other => {
                            world.note(format!(
                                "consumer{consumer}: checkout failed: {:?}",
                                other.map(|r| r.map(|_| ()))
                            ));
                            continue;
                        }
                    }
                }
                world.note(format!(
                    "consumer{consumer} pop{seq}: {via:?} block={block:?} deadline={deadline:?} cancel={cancel:?}"
                ));
                let start = Instant::now();
                let call = async {
                    let c: &mut Connection = match via {
                        Via::Shared => return client.send(&pop).await,
                        Via::Dedicated => conn.as_mut().expect("connected above"),
                        Via::Pooled => checked_out.as_mut().expect("checked out above"),
                    };
                    match own {
                        Some(d) => c.send_timeout(&pop, Some(d)).await,
                        None => c.send(&pop).await,
                    }
                };
                let outcome = match cancel {
                    Some(after) => match tokio::time::timeout(after, call).await {
                        Err(_) => Outcome::Cancelled,
                        Ok(r) => Outcome::from(r),
                    },
                    None => {
                        let limit = deadline + crate::workload::HANG_GRACE;
                        match tokio::time::timeout(limit, call).await {
                            Err(_) => Outcome::Hung,
                            Ok(r) => Outcome::from(r),
                        }
                    }
                };
                let took = start.elapsed();
                world.note(format!(
                    "consumer{consumer} pop{seq}: {outcome} after {took:?}"
                ));
                pops.lock().unwrap().push(Pop {
                    consumer,
                    seq,
                    via,
                    block,
                    deadline,
                    start,
                    took,
                    outcome,
                });
            }
        }));
    }
    let producer = {
        let (client, world) = (client.clone(), world.clone());
        let (count, producer_seed) = (rng.usize(5..=60), rng.u64(..));
        let timeout = setting.command_timeout;
        tokio::spawn(async move {
            let mut rng = fastrand::Rng::with_seed(producer_seed);
            let mut pushes = Vec::new();
            for n in 0..count {
                tokio::time::sleep(Duration::from_micros(rng.u64(0..=15_000))).await;
                let push = cmd("RPUSH").arg(ITEMS).arg(format!("i:{n}"));
                let outcome = Outcome::from(client.send_timeout(&push, Some(timeout)).await);
                world.note(format!("producer i:{n}: {outcome}"));
                pushes.push(Push { n, outcome });
            }
            pushes
        })
    };
    let pushes = producer.await.unwrap_or_default();
    for task in tasks {
        let _ = task.await;
    }
    chaos.abort();
    world.heal();

    // After the faults: a pushed item is popped.
    let bound = setting.reconnect_bound();
    let healed = Instant::now();
    let mut recovered = false;
    while !recovered && healed.elapsed() <= bound {
        let _ = client
            .send_timeout(&cmd("RPUSH").arg("probe").arg("p"), Some(bound))
            .await;
        let attempt = async {
            let mut c = Connection::connect(setting.config("connection")).await?;
            c.send_timeout(&cmd("BLPOP").arg("probe").arg("0.05"), Some(bound))
                .await
        };
        match attempt.await {
            Ok(Value::Array(_)) => recovered = true,
            other => {
                world.note(format!("probe: {other:?}"));
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        }
    }
    world.note(format!(
        "probe: recovered={recovered} after {:?} (bound {bound:?})",
        healed.elapsed()
    ));
    drop(client);
    let pops = std::mem::take(&mut *pops.lock().unwrap());
    BlockingRun {
        pops,
        pushes,
        world,
        max_delay: setting.max_delay(),
        fail_fast: setting.fail_fast,
        recovered,
        bound,
    }
}
