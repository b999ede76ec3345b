//! The dedicated-connection workload: each caller owns a `Connection` (one
//! actor, no reconnect: its first drop ends it) and makes a new one when it
//! finds it closed; the same checkable commands as the shared-client
//! workload, so the same oracle holds, but for a request failing as closed.

use crate::setting::Setting;
use crate::workload::{Planned, Run};
use redwire::{cmd, Connection, Value};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::time::Instant;

/// Runs the dedicated-connection workload for `seed` (inside a paused
/// runtime).
pub async fn dedicated(seed: u64) -> Run {
    let mut rng = fastrand::Rng::with_seed(seed);
    let setting = Arc::new(Setting::draw(seed, &mut rng));
    let world = setting.world.clone();
    let chaos = tokio::spawn(world.clone().chaos(setting.faults.clone()));
    let ops = Arc::new(Mutex::new(Vec::new()));
    let mut tasks = Vec::new();
    for caller in 0..rng.usize(1..=6) {
        let (setting, world, ops) = (setting.clone(), world.clone(), ops.clone());
        let caller_seed = rng.u64(..);
        tasks.push(tokio::spawn(async move {
            let mut rng = fastrand::Rng::with_seed(caller_seed);
            let mut conn: Option<Connection> = None;
            for seq in 0..rng.usize(5..=40) {
                tokio::time::sleep(Duration::from_micros(rng.u64(0..=5000))).await;
                let planned = Planned::draw(&mut rng, caller, seq, setting.command_timeout);
                if conn.as_ref().is_none_or(Connection::is_closed) {
                    match Connection::connect(setting.config("connection")).await {
                        Ok(c) => conn = Some(c),
                        Err(e) => {
                            world.note(format!("caller{caller}: connect failed: {e}"));
                            continue;
                        }
                    }
                }
                let c = conn.as_mut().expect("connected above");
                world.note(planned.describe());
                let start = Instant::now();
                let sending = c.send_timeout(&planned.command, Some(planned.deadline));
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
    chaos.abort();
    world.heal();

    // After the faults: a new connection serves within the bounds.
    let reconnect_bound = setting.reconnect_bound();
    let healed = Instant::now();
    let mut recovered_after = None;
    while healed.elapsed() <= reconnect_bound {
        let attempt = async {
            let mut c = Connection::connect(setting.config("connection")).await?;
            c.send_timeout(&cmd("GET").arg("probe"), Some(reconnect_bound))
                .await
        };
        match attempt.await {
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
    let ops = std::mem::take(&mut *ops.lock().unwrap());
    Run {
        ops,
        world,
        recovered_after,
        reconnect_bound,
        fail_fast: setting.fail_fast,
        max_in_flight: setting.max_in_flight,
        dedicated: true,
        closed: None,
    }
}
