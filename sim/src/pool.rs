//! The pool workload: callers check connections out of a `Pool` (bb8 under
//! redwire's checks), issue the shared-client workload's checkable commands
//! on them, and give them back, under the seed's faults; then the faults
//! stop and a checkout must serve again. The commands go to the shared
//! oracle ([`oracle`](crate::oracle)), as on dedicated connections; the
//! checkouts to [`pool_oracle`](crate::pool_oracle).
//!
//! A caller keeps a connection for one to three commands; one call in ten
//! is dropped at a random point (its reply, if it comes, must reach nobody,
//! not the connection's next user); one checkout in ten leaves a `WATCH`
//! behind, which the pool must clear before the next user (one checkout in
//! four asks the server, `SIM.WATCHING`, whether the connection it got
//! still watches a key); one in twenty drops the checkout itself while it
//! waits. The pool's clocks are the
//! simulation's: no idle or lifetime limit (bb8 reads those off the wall
//! clock), and a connection back from a user is checked with a `PING` on
//! every checkout or on none (redwire's `check_idle_after` reads the wall
//! clock too: zero or an hour decide it either way). One wall-clock
//! reading is left: bb8 stops retrying a failed connect once the checkout
//! timeout has passed in real time; a run takes milliseconds, so it always
//! retries, and the checkouts end by their timeout on the simulated clock.

use crate::oracle::Outcome;
use crate::setting::{ms, Setting};
use crate::workload::{Planned, Run, HANG_GRACE};
use redwire::{cmd, Pool, Value};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::time::Instant;

/// One checkout.
#[derive(Debug, Clone)]
pub struct Checkout {
    /// Which caller.
    pub caller: usize,
    /// How long it took.
    pub took: Duration,
    /// How it ended (`Ok(Nil)`: a connection).
    pub outcome: Outcome,
    /// Whether the connection it got said its session was clean.
    pub clean: bool,
    /// How many keys the server said the connection watched, if asked.
    pub watching: Option<i64>,
}

/// What one run hands the oracles.
pub struct PoolRun {
    /// The commands, as the shared oracle reads them.
    pub run: Run,
    /// Every checkout and how it ended.
    pub checkouts: Vec<Checkout>,
    /// The pool's checkout timeout.
    pub checkout_timeout: Duration,
}

/// A pool of one to three connections beside another workload's callers,
/// on the simulation's clock as the pool workload's (see the module doc),
/// its knobs drawn from `rng`; and its checkout timeout.
pub(crate) async fn side_pool(setting: &Setting, rng: &mut fastrand::Rng) -> (Pool, Duration) {
    let checkout_timeout = ms(rng, 100, 1000);
    let pool = Pool::builder(setting.config("pool"))
        .max_size(rng.u32(1..=3))
        .checkout_timeout(checkout_timeout)
        .idle_timeout(None)
        .max_lifetime(None)
        .check_idle_after(if rng.bool() {
            Duration::ZERO
        } else {
            Duration::from_secs(3600)
        })
        .build()
        .await
        .expect("a pool without idle connections makes none at first");
    (pool, checkout_timeout)
}

/// Runs the pool workload for `seed` (inside a paused runtime).
pub async fn pool(seed: u64) -> PoolRun {
    let mut rng = fastrand::Rng::with_seed(seed);
    let setting = Arc::new(Setting::draw(seed, &mut rng));
    let world = setting.world.clone();
    let checkout_timeout = ms(&mut rng, 100, 1000);
    let check_idle_after = if rng.bool() {
        Duration::ZERO
    } else {
        Duration::from_secs(3600)
    };
    let max_size = rng.u32(1..=4);
    world.note(format!(
        "pool: max_size={max_size} checkout_timeout={checkout_timeout:?} check_idle_after={check_idle_after:?}"
    ));
    let pool = Pool::builder(setting.config("pool"))
        .max_size(max_size)
        .checkout_timeout(checkout_timeout)
        .idle_timeout(None)
        .max_lifetime(None)
        .check_idle_after(check_idle_after)
        .build()
        .await
        .expect("a pool without idle connections makes none at first");
    let chaos = tokio::spawn(world.clone().chaos(setting.faults.clone()));
    let ops = Arc::new(Mutex::new(Vec::new()));
    let checkouts = Arc::new(Mutex::new(Vec::new()));
    let mut tasks = Vec::new();
    for caller in 0..rng.usize(1..=8) {
        let (pool, setting, world, ops, checkouts) = (
            pool.clone(),
            setting.clone(),
            world.clone(),
            ops.clone(),
            checkouts.clone(),
        );
        let caller_seed = rng.u64(..);
        tasks.push(tokio::spawn(async move {
            let mut rng = fastrand::Rng::with_seed(caller_seed);
            let mut seq = 0;
            let count = rng.usize(5..=30);
            while seq < count {
                tokio::time::sleep(Duration::from_micros(rng.u64(0..=5000))).await;
                let start = Instant::now();
                let drop_checkout =
                    (rng.u8(..20) == 0).then(|| Duration::from_micros(rng.u64(0..=50_000)));
                let limit = drop_checkout.unwrap_or(checkout_timeout + HANG_GRACE);
                let got = tokio::time::timeout(limit, pool.get()).await;
                let took = start.elapsed();
                let (outcome, mut conn) = match got {
                    Err(_) if drop_checkout.is_some() => (Outcome::Cancelled, None),
                    Err(_) => (Outcome::Hung, None),
                    Ok(Ok(conn)) => (Outcome::Ok(Value::Nil), Some(conn)),
                    Ok(Err(e)) => (Outcome::from(Err::<Value, _>(e)), None),
                };
                world.note(format!("caller{caller}: checkout {outcome} after {took:?}"));
                let clean = conn.as_ref().is_none_or(|c| c.is_clean());
                let mut watching = None;
                if let Some(c) = conn.as_mut().filter(|_| rng.u8(..4) == 0) {
                    let ask = cmd("SIM.WATCHING");
                    match c.send_timeout(&ask, Some(setting.command_timeout)).await {
                        Ok(Value::Int(n)) => watching = Some(n),
                        other => world.note(format!("caller{caller}: SIM.WATCHING {other:?}")),
                    }
                }
                checkouts.lock().unwrap().push(Checkout {
                    caller,
                    took,
                    outcome,
                    clean,
                    watching,
                });
                let Some(mut conn) = conn else {
                    seq += 1;
                    continue;
                };
                for _ in 0..rng.usize(1..=3) {
                    if seq >= count {
                        break;
                    }
                    let planned = Planned::draw(&mut rng, caller, seq, setting.command_timeout);
                    seq += 1;
                    world.note(planned.describe());
                    let start = Instant::now();
                    let sending = conn.send_timeout(&planned.command, Some(planned.deadline));
                    let outcome = planned.finish(sending).await;
                    let op = planned.record(outcome, start, &world);
                    let ended = matches!(op.outcome, Outcome::Cancelled | Outcome::Err { .. });
                    ops.lock().unwrap().push(op);
                    if ended {
                        // Given back with whatever is still in flight.
                        break;
                    }
                }
                if rng.u8(..10) == 0 {
                    // Left watching: the pool clears it before the next user.
                    let watch = cmd("WATCH").arg(format!("k:{caller}"));
                    let r = conn
                        .send_timeout(&watch, Some(setting.command_timeout))
                        .await;
                    world.note(format!("caller{caller}: WATCH left behind: {r:?}"));
                }
                drop(conn);
            }
        }));
    }
    for task in tasks {
        let _ = task.await;
    }
    chaos.abort();
    world.heal();

    // After the faults: a checkout serves within the bounds (bb8 retries a
    // failed connect after pauses of up to half the checkout timeout).
    let reconnect_bound = setting.reconnect_bound() + checkout_timeout;
    let healed = Instant::now();
    let mut recovered_after = None;
    while healed.elapsed() <= reconnect_bound {
        let attempt = async {
            let mut c = pool.get().await?;
            c.send_timeout(&cmd("GET").arg("probe"), Some(reconnect_bound))
                .await
        };
        match tokio::time::timeout(reconnect_bound, attempt).await {
            Ok(Ok(Value::Nil)) => {
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
    drop(pool);
    let ops = std::mem::take(&mut *ops.lock().unwrap());
    let checkouts = std::mem::take(&mut *checkouts.lock().unwrap());
    PoolRun {
        run: Run {
            ops,
            world,
            recovered_after,
            reconnect_bound,
            fail_fast: setting.fail_fast,
            max_in_flight: setting.max_in_flight,
            dedicated: true,
            closed: None,
        },
        checkouts,
        checkout_timeout,
    }
}
