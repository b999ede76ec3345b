//! The transaction workload: callers run `MULTI`/`EXEC` transactions through
//! redwire's own API under the seed's faults, and the oracle
//! ([`transaction_oracle`](crate::transaction_oracle)) holds each against
//! what the model executed; then the faults stop and the client must serve
//! again.
//!
//! Every transaction of caller `c`, number `s`, is `SET k:<c> <c>:<s> GET`
//! (the value names writer and sequence, so its execution is known) and
//! `INCR c:<c>`; some carry a `SET pad:<c>` of 70 KB between the two, more
//! than a connection's buffer takes at once, so that a reset can catch the
//! request half written, its first command already run. On the shared `Client` it goes as an
//! [`atomic`](redwire::Pipeline::atomic) pipeline, or (one in three) as a
//! plain pipeline of the same two commands, which is not atomic but must
//! still run each command at most once and say truthfully whether it may
//! have run. On a dedicated `Connection` it goes through
//! [`Connection::transaction_with`] (`WATCH k:<c>`, a `GET` of it in the
//! body, then the writes), some also watching and incrementing a key all of
//! them share (`hot`), so that watched keys change under each other and
//! transactions abort and retry; or as an atomic pipeline of its own; one
//! such caller in three runs every one through `Pool::transaction_with`
//! instead (a checkout, then the same), so a transaction dropped there
//! goes back to the pool still watching, for the pool to clear. One
//! call in ten is dropped at a random point, and in one seed in eight the
//! shared client is closed mid-run ([`closing`](crate::closing)), its
//! pipelines in flight.

use crate::oracle::Outcome;
use crate::setting::{ms, Setting};
use crate::world::World;
use redwire::{cmd, Attempt, Client, Connection, ErrorKind, Pipeline, TransactionRetry, Value};
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::time::Instant;

/// How long past its deadline a call may run before it counts as hung.
const HANG_GRACE: Duration = crate::workload::HANG_GRACE;

/// How a transaction was sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    /// `Client::pipeline` of an atomic pipeline.
    Atomic,
    /// `Client::pipeline` of a plain pipeline: not a transaction.
    Plain,
    /// `Connection::pipeline` of an atomic pipeline.
    Dedicated,
    /// `Connection::transaction_with`, its keys watched.
    Watched,
    /// `Pool::transaction_with`: a checkout, then as `Watched`.
    Pooled,
}

/// How a transaction ended.
#[derive(Debug, Clone)]
pub enum Ended {
    /// `EXEC` (or the plain pipeline) answered: one result per command.
    Done(Vec<Result<Value, String>>),
    /// It failed as a whole.
    Failed(Outcome),
}

/// One transaction of one caller.
#[derive(Debug, Clone)]
pub struct TxOp {
    /// Which caller.
    pub caller: usize,
    /// Its sequence number within the caller.
    pub seq: usize,
    /// How it was sent.
    pub via: Via,
    /// Whether it also watched and incremented `hot`.
    pub hot: bool,
    /// Whether it carried the large `SET pad:<caller>`.
    pub pad: bool,
    /// The longest it may take.
    pub deadline: Duration,
    /// How long it took.
    pub took: Duration,
    /// When it ended.
    pub finished: Instant,
    /// What the body's `GET k:<caller>` read, attempt by attempt (`Watched`).
    pub reads: Vec<Outcome>,
    /// How it ended (`Failed(Cancelled)`: dropped by the caller).
    pub ended: Ended,
}

/// What one run hands the oracle.
pub struct TxRun {
    /// Every transaction and how it ended.
    pub ops: Vec<TxOp>,
    /// The world at the end.
    pub world: World,
    /// Whether the shared client served again in time after the faults.
    pub recovered: bool,
    /// The time it had.
    pub bound: Duration,
    /// Whether the client failed fast while disconnected.
    pub fail_fast: bool,
    /// The client's in-flight limit.
    pub max_in_flight: usize,
    /// How the shared client was closed mid-run, if it was.
    pub closed: Option<crate::closing::Closed>,
}

/// The size of a pad.
pub const PAD: usize = 70_000;

/// The commands of transaction `seq` of `caller`, as the oracle expects
/// them (the pad, and `INCR hot`, when asked for).
pub fn writes(caller: usize, seq: usize, pad: bool, hot: bool) -> Pipeline {
    let mut p = Pipeline::new();
    p.add(
        cmd("SET")
            .arg(format!("k:{caller}"))
            .arg(format!("{caller}:{seq}"))
            .arg("GET"),
    );
    if pad {
        p.add(
            cmd("SET")
                .arg(format!("pad:{caller}"))
                .arg(&[b'p'; PAD][..]),
        );
    }
    p.add(cmd("INCR").arg(format!("c:{caller}")));
    if hot {
        p.add(cmd("INCR").arg("hot"));
    }
    p
}

fn ended(r: redwire::Result<Vec<redwire::Result<Value>>>) -> Ended {
    match r {
        Ok(results) => Ended::Done(
            results
                .into_iter()
                .map(|r| r.map_err(|e| e.to_string()))
                .collect(),
        ),
        Err(e) => Ended::Failed(Outcome::from(Err::<Value, _>(e))),
    }
}

/// A watched transaction's body: reads the caller's key (kept in `reads`),
/// then the writes.
fn body<'c, 'data>(
    c: &'c mut Connection,
    key: &'data str,
    writes: &'data Pipeline,
    reads: &'data Mutex<Vec<Outcome>>,
) -> Attempt<'c, 'data> {
    Box::pin(async move {
        let read = c.send(&cmd("GET").arg(key)).await;
        reads.lock().unwrap().push(Outcome::from(read.clone()));
        read?;
        let mut w = writes.clone();
        // The transaction makes it atomic itself.
        w.atomic();
        Ok(w)
    })
}

/// Awaits `call`, dropped after `cancel` if the caller means to, or given
/// up on as hung long past `deadline`.
async fn finish(
    call: impl Future<Output = redwire::Result<Vec<redwire::Result<Value>>>>,
    cancel: Option<Duration>,
    deadline: Duration,
) -> Ended {
    match cancel {
        Some(after) => match tokio::time::timeout(after, call).await {
            Err(_) => Ended::Failed(Outcome::Cancelled),
            Ok(r) => ended(r),
        },
        None => match tokio::time::timeout(deadline + HANG_GRACE, call).await {
            Err(_) => Ended::Failed(Outcome::Hung),
            Ok(r) => ended(r),
        },
    }
}

/// A transaction's end for the trace.
pub fn show_ended(ended: &Ended) -> String {
    match ended {
        Ended::Done(results) => format!(
            "done [{}]",
            results
                .iter()
                .map(|r| match r {
                    Ok(v) => crate::oracle::show_value(v),
                    Err(e) => format!("err {e}"),
                })
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Ended::Failed(outcome) => outcome.to_string(),
    }
}

/// Runs the transaction workload for `seed` (inside a paused runtime).
pub async fn transaction(seed: u64) -> TxRun {
    let mut rng = fastrand::Rng::with_seed(seed);
    let setting = Arc::new(Setting::draw(seed, &mut rng));
    let world = setting.world.clone();
    let chaos = tokio::spawn(world.clone().chaos(setting.faults.clone()));
    let client = Client::new(setting.config("client"));
    let closer = crate::closing::start(seed, &setting, &client, &world);
    let ops = Arc::new(Mutex::new(Vec::new()));
    // The pool's knobs and who uses it, from a generator of their own.
    let mut pool_rng = fastrand::Rng::with_seed(seed ^ 0x7a1e_9001_0b1e);
    let (pool, checkout_timeout) = crate::pool::side_pool(&setting, &mut pool_rng).await;
    let shared = rng.usize(1..=8);
    let dedicated = rng.usize(0..=3);
    let mut tasks = Vec::new();
    for caller in 0..shared + dedicated {
        let (client, setting, world, ops, pool) = (
            client.clone(),
            setting.clone(),
            world.clone(),
            ops.clone(),
            pool.clone(),
        );
        let caller_seed = rng.u64(..);
        let on_client = caller < shared;
        let pooled = !on_client && pool_rng.u8(..3) == 0;
        tasks.push(tokio::spawn(async move {
            let mut rng = fastrand::Rng::with_seed(caller_seed);
            let mut conn: Option<Connection> = None;
            let ct = setting.command_timeout;
            for seq in 0..rng.usize(3..=25) {
                tokio::time::sleep(Duration::from_micros(rng.u64(0..=5000))).await;
                let cancel =
                    (rng.u8(..10) == 0).then(|| Duration::from_micros(rng.u64(0..=20_000)));
                let via = match (on_client, rng.u8(..3)) {
                    (true, 0) => Via::Plain,
                    (true, _) => Via::Atomic,
                    (false, 0) => Via::Dedicated,
                    (false, _) => Via::Watched,
                };
                let hot = via == Via::Watched && rng.bool();
                let via = if pooled { Via::Pooled } else { via };
                let pad = rng.u8(..8) == 0;
                let attempts = rng.u32(1..=4);
                let retry = TransactionRetry::default()
                    .attempts(attempts)
                    .delays(ms(&mut rng, 0, 2), ms(&mut rng, 2, 5));
                let mut writes = writes(caller, seq, pad, hot);
                if via != Via::Plain {
                    writes.atomic();
                }
                // WATCH, the body's GET and EXEC per attempt, the pause
                // between two, and an UNWATCH on the way out.
                let deadline = match via {
                    Via::Watched => (ct * 3 + retry.max) * attempts + ct,
                    Via::Pooled => checkout_timeout + (ct * 3 + retry.max) * attempts + ct,
                    _ => ct,
                };
                // A transaction dropped after its WATCH leaves the keys
                // watched, which the connection's session records: what a
                // careful owner (the pool too) clears before the next one.
                if let Some(c) = conn.as_mut().filter(|c| !c.is_closed() && !c.is_clean()) {
                    match tokio::time::timeout(ct * 2 + HANG_GRACE, c.reset()).await {
                        Ok(Ok(())) => world.note(format!("caller{caller}: session reset")),
                        Ok(Err(e)) => world.note(format!("caller{caller}: reset failed: {e}")),
                        Err(_) => world.note(format!("caller{caller}: reset HUNG")),
                    }
                }
                let own_conn = matches!(via, Via::Dedicated | Via::Watched);
                if own_conn && conn.as_ref().is_none_or(Connection::is_closed) {
                    match Connection::connect(setting.config("connection")).await {
                        Ok(c) => conn = Some(c),
                        Err(e) => {
                            world.note(format!("caller{caller}: connect failed: {e}"));
                            continue;
                        }
                    }
                }
                world.note(format!(
                    "caller{caller} tx{seq}: {via:?} hot={hot} pad={pad} attempts={attempts} cancel={cancel:?}"
                ));
                let reads = Mutex::new(Vec::new());
                let start = Instant::now();
                let ended = match via {
                    Via::Atomic | Via::Plain => {
                        finish(client.pipeline(&writes), cancel, deadline).await
                    }
                    Via::Dedicated => {
                        let c = conn.as_mut().expect("connected above");
                        finish(c.pipeline(&writes), cancel, deadline).await
                    }
                    Via::Watched | Via::Pooled => {
                        let key = format!("k:{caller}");
                        let keys: Vec<&str> = if hot {
                            vec![&key, "hot"]
                        } else {
                            vec![&key]
                        };
                        let (reads, key, writes) = (&reads, &key, &writes);
                        if via == Via::Pooled {
                            let call = pool
                                .transaction_with(keys, retry, |c| body(c, key, writes, reads));
                            finish(call, cancel, deadline).await
                        } else {
                            let c = conn.as_mut().expect("connected above");
                            let call = c.transaction_with(keys, retry, |c| body(c, key, writes, reads));
                            finish(call, cancel, deadline).await
                        }
                    }
                };
                let took = start.elapsed();
                world.note(format!(
                    "caller{caller} tx{seq}: {} after {took:?}",
                    show_ended(&ended)
                ));
                ops.lock().unwrap().push(TxOp {
                    caller,
                    seq,
                    via,
                    hot,
                    pad,
                    deadline,
                    took,
                    finished: Instant::now(),
                    reads: reads.into_inner().unwrap(),
                    ended,
                });
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

    // After the faults: a transaction on the shared client goes through.
    let bound = setting.reconnect_bound();
    let healed = Instant::now();
    let mut recovered = false;
    let mut probe = Pipeline::new();
    probe.atomic().add(cmd("GET").arg("probe"));
    while closed.is_none() && healed.elapsed() <= bound {
        match client.pipeline(&probe).await {
            Ok(results) if matches!(results[..], [Ok(Value::Nil)]) => {
                recovered = true;
                break;
            }
            Err(e) if e.kind() == ErrorKind::Closed => break,
            other => world.note(format!("probe: {other:?}")),
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    world.note(format!(
        "probe: recovered={recovered} after {:?} (bound {bound:?})",
        healed.elapsed()
    ));
    drop(client);
    let ops = std::mem::take(&mut *ops.lock().unwrap());
    TxRun {
        ops,
        world,
        recovered,
        bound,
        fail_fast: setting.fail_fast,
        max_in_flight: setting.max_in_flight,
        closed,
    }
}
