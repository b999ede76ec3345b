//! The cluster workload: a world of 2–4 model cluster nodes over one store
//! (see [`cluster_model`](crate::cluster_model)), a `ClusterClient` whose
//! node connections go through the same in-memory dialer as every other
//! workload's, and the `client` workload's callers and commands on it
//! (per-caller keys, `SET … GET` of values naming writer and sequence,
//! `INCR`, `GET`, deadlines, drops at random points; one in six a
//! pipeline of two or three of them), while the slot map
//! changes under them: slots of the callers' keys moved at once, migrated
//! key by key with `ASK` (some migrations left unfinished), nodes
//! restarted (losing their keys), nodes lost and replaced by spares, on top of the usual connection faults. Then the faults stop
//! and the client must serve again.
//!
//! The oracle is the `client` workload's: every execution is in the one
//! log whichever node ran it, so a command a redirection made run twice, or
//! that ran on one node after failing as not run on another, is caught
//! there.

use crate::cluster_model::{Cluster, FIRST_PORT, HOST};
use crate::op::{Kind, Op, Outcome};
use crate::setting::{ms, Setting};
use crate::workload::{Planned, Run};
use crate::world::{ClusterFault, World};
use redwire::cluster::{key_slot, ClusterClient, ClusterConfig, ClusterRetry};
use redwire::{cmd, Addr, Pipeline, Value};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::time::Instant;

/// The cluster's faults for a run: each on a slot of a key the callers use.
fn draw_faults(
    rng: &mut fastrand::Rng,
    callers: usize,
    nodes: usize,
    spares: usize,
) -> Vec<(Duration, ClusterFault)> {
    let mut faults = Vec::new();
    // A node lost for good for each spare, some of them; a spare takes its
    // place a while later (or when the faults stop).
    for _ in 0..rng.usize(0..=spares) {
        let at = ms(rng, 0, 400);
        faults.push((at, ClusterFault::NodeLoss(rng.usize(..nodes))));
        faults.push((at + ms(rng, 0, 300), ClusterFault::Failover));
    }
    for _ in 0..rng.usize(0..=6) {
        let key = match rng.u8(..8) {
            0 => "probe".to_string(),
            1..=4 => format!("k:{}", rng.usize(..callers)),
            _ => format!("c:{}", rng.usize(..callers)),
        };
        let slot = key_slot(key.as_bytes());
        let shift = rng.usize(1..nodes);
        let at = ms(rng, 0, 400);
        match rng.u8(..8) {
            0..=2 => faults.push((at, ClusterFault::Move { slot, shift })),
            3..=5 => {
                faults.push((at, ClusterFault::Migrate { slot, shift }));
                let mut t = at;
                for _ in 0..rng.usize(0..=3) {
                    t += ms(rng, 1, 60);
                    faults.push((t, ClusterFault::MigrateKey(slot)));
                }
                // One migration in four is still under way at the end.
                if rng.u8(..4) != 0 {
                    faults.push((t + ms(rng, 1, 200), ClusterFault::Finish(slot)));
                }
            }
            _ => faults.push((
                at,
                ClusterFault::NodeRestart(rng.usize(..nodes), ms(rng, 0, 200)),
            )),
        }
    }
    faults.sort_by_key(|(at, _)| *at);
    faults
}

/// Runs `faults` at their times (from now), unless healed first.
async fn chaos(world: World, faults: Vec<(Duration, ClusterFault)>) {
    let start = Instant::now();
    for (at, fault) in faults {
        tokio::time::sleep_until(start + at).await;
        world.cluster_fault(fault);
    }
}

/// Operations `seq`.. of `caller` sent as one pipeline: 2–3 of them, at
/// most one `SET` (a redirected entry is sent again alone, after the others:
/// entries on one key could run out of order, which a cluster pipeline does
/// not promise to prevent).
fn pipeline(rng: &mut fastrand::Rng, caller: usize, seq: usize, timeout: Duration) -> Vec<Planned> {
    let mut entries: Vec<Planned> = Vec::new();
    for i in 0..rng.usize(2..=3) {
        let entry = loop {
            let entry = Planned::draw(rng, caller, seq + i, timeout);
            let second_set =
                entry.kind() == Kind::SetGet && entries.iter().any(|e| e.kind() == Kind::SetGet);
            if !second_set {
                break entry;
            }
        };
        entries.push(entry);
    }
    entries
}

/// Sends `entries` as one `ClusterClient::pipeline`, given up on (dropped)
/// at the first entry's drop or deadline (a pipeline has no deadline of its
/// own); each entry's record.
async fn send_pipeline(client: &ClusterClient, entries: &[Planned], world: &World) -> Vec<Op> {
    let mut p = Pipeline::new();
    for entry in entries {
        world.note(format!("{} (in a pipeline)", entry.describe()));
        p.push(&entry.command);
    }
    let start = Instant::now();
    let give_up = entries.iter().map(Planned::give_up_after).min();
    let outcomes: Vec<Outcome> =
        match tokio::time::timeout(give_up.unwrap_or_default(), client.pipeline(&p)).await {
            Err(_) => entries.iter().map(|_| Outcome::Cancelled).collect(),
            Ok(Err(e)) => entries
                .iter()
                .map(|_| Outcome::from(Err(e.clone())))
                .collect(),
            Ok(Ok(results)) => results.into_iter().map(Outcome::from).collect(),
        };
    entries
        .iter()
        .zip(outcomes)
        .map(|(entry, outcome)| entry.record(outcome, start, world))
        .collect()
}

/// Runs the cluster workload for `seed` (inside a paused runtime).
pub async fn cluster(seed: u64) -> Run {
    let mut rng = fastrand::Rng::with_seed(seed);
    let setting = Setting::draw(seed, &mut rng);
    let world = setting.world.clone();
    let nodes = rng.usize(2..=4);
    let spares = rng.usize(0..=2);
    let shards = rng.bool();
    world.set_cluster(Cluster::new(nodes, spares, shards));
    let callers = rng.usize(2..=10);
    let cluster_faults = draw_faults(&mut rng, callers, nodes, spares);
    let retry = ClusterRetry {
        initial: ms(&mut rng, 1, 20),
        max: ms(&mut rng, 20, 200),
        max_attempts: Some(16),
    };
    let refresh = rng.bool().then(|| ms(&mut rng, 20, 1000));
    world.note(format!(
        "cluster: {nodes} nodes and {spares} spares, CLUSTER {}, {callers} callers, {retry:?}, refresh every {refresh:?}, \
         faults={cluster_faults:?}",
        if shards { "SHARDS" } else { "SLOTS only" }
    ));
    let config = ClusterConfig::builder()
        .seeds((0..nodes + spares).map(|i| Addr::Tcp {
            host: HOST.into(),
            port: FIRST_PORT + i as u16,
        }))
        .node(setting.config("client"))
        .retry(retry)
        .refresh_interval(refresh)
        .fail_fast(setting.fail_fast)
        .build();
    let (command_timeout, fail_fast) = (setting.command_timeout, setting.fail_fast);
    let chaos_task = tokio::spawn(world.clone().chaos(setting.faults.clone()));
    let cluster_chaos = tokio::spawn(chaos(world.clone(), cluster_faults));

    // Connecting reads the map; under faults it may take a few tries.
    let mut client = None;
    for attempt in 0..200 {
        match ClusterClient::connect(config.clone()).await {
            Ok(c) => {
                client = Some(c);
                break;
            }
            Err(e) => world.note(format!("connect {attempt}: {e}")),
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let ops = Arc::new(Mutex::new(Vec::new()));
    if let Some(client) = &client {
        let mut tasks = Vec::new();
        for caller in 0..callers {
            let (client, world, ops) = (client.clone(), world.clone(), ops.clone());
            let caller_seed = rng.u64(..);
            tasks.push(tokio::spawn(async move {
                let mut rng = fastrand::Rng::with_seed(caller_seed);
                let (count, mut seq) = (rng.usize(5..=40), 0);
                while seq < count {
                    tokio::time::sleep(Duration::from_micros(rng.u64(0..=5000))).await;
                    if rng.u8(..6) == 0 {
                        let entries = pipeline(&mut rng, caller, seq, command_timeout);
                        seq += entries.len();
                        let records = send_pipeline(&client, &entries, &world).await;
                        ops.lock().unwrap().extend(records);
                        continue;
                    }
                    let planned = Planned::draw(&mut rng, caller, seq, command_timeout);
                    seq += 1;
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
    }
    chaos_task.abort();
    cluster_chaos.abort();
    world.heal();

    // After the faults: the client (or a new one, if none connected) must
    // serve again within its bounds: the client's own, a map read from
    // every node in turn, and the cluster's longest pause twice.
    let reconnect_bound = setting.reconnect_bound()
        + setting.connect_timeout * (nodes + spares) as u32
        + retry.max * 2;
    let healed = Instant::now();
    let mut recovered_after = None;
    while healed.elapsed() <= reconnect_bound {
        if client.is_none() {
            match ClusterClient::connect(config.clone()).await {
                Ok(c) => client = Some(c),
                Err(e) => world.note(format!("probe: connect: {e}")),
            }
        }
        if let Some(c) = &client {
            let probe = cmd("GET").arg("probe");
            match c.send_timeout(&probe, Some(reconnect_bound)).await {
                Ok(Value::Nil) => {
                    recovered_after = Some(healed.elapsed());
                    break;
                }
                other => world.note(format!("probe: {other:?}")),
            }
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
        closed: None,
    }
}
