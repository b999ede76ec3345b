//! The oracle: what each caller saw, held against what the model executed.
//!
//! 1. no crosstalk: a reply matches what the model answered that very
//!    command (`SET … GET` values are unique, so its execution is known), an
//!    `INCR` reply is on the caller's own counter (see the model's counter
//!    base), a `GET` reply is a value the caller wrote and the model stored;
//! 2. an acknowledged write was executed, and after the last restart it is
//!    still there at the end (nothing later of the caller's overwrote it
//!    with an older one); a failure with `may_have_executed() == false` was
//!    not executed;
//! 3. nothing executed more often than it was sent;
//! 4. every call ended by its deadline (simulated time), none hung;
//! 5. the client never has more replies outstanding on its connection than
//!    its in-flight limit (as the server sees them, a lower bound);
//! 7. a request is kept across a reconnect (it fails only by its deadline,
//!    its connection's loss, failing fast, or the client's close), and once
//!    the faults stopped the client served again within its bounds (unless
//!    it was closed);
//! 10. what `close` promises (see [`closing`](crate::closing)).

use crate::model::COUNTER_BASE;
use crate::workload::Run;
use crate::world::{show, World};
use redwire::{ErrorKind, Value};
use std::collections::BTreeMap;
use std::time::Duration;

/// Timer slack: tokio's timers fire on whole milliseconds.
const SLACK: Duration = Duration::from_millis(2);

pub use crate::op::{show_value, Kind, Op, Outcome};

/// The writer and sequence number a value names (`<caller>:<seq>`).
pub(crate) fn seq_of(value: &[u8]) -> Option<(usize, usize)> {
    let s = std::str::from_utf8(value).ok()?;
    let (c, q) = s.split_once(':')?;
    Some((c.parse().ok()?, q.parse().ok()?))
}

/// Invariants 3 and 2 for the per-caller counters: `sent` calls of which
/// `not_run` failed saying they did not run, against the `INCR`s the server
/// ran of each caller's counter (`ran`, by key).
pub(crate) fn check_counters(
    sent: &BTreeMap<usize, (usize, usize)>,
    ran: &BTreeMap<Vec<u8>, Vec<i64>>,
) -> Vec<String> {
    let mut bad = Vec::new();
    for (&caller, &(sent, not_run)) in sent {
        let key = format!("c:{caller}").into_bytes();
        let ran = ran.get(&key).map_or(0, Vec::len);
        if ran > sent {
            bad.push(format!(
                "(3) caller{caller}: INCR executed {ran} times, sent {sent}"
            ));
        } else if ran > sent - not_run {
            bad.push(format!(
                "(2) caller{caller}: INCR executed {ran} times, but {not_run} of {sent} calls failed saying they did not execute"
            ));
        }
    }
    bad
}

/// Invariant 2 for the per-caller keys: the last acknowledged write of each
/// caller (since the last restart) is what its key holds, or older than it.
pub(crate) fn check_last_writes(world: &World, last: &BTreeMap<usize, usize>) -> Vec<String> {
    let mut bad = Vec::new();
    for (&caller, &seq) in last {
        let now = world.get(format!("k:{caller}").as_bytes());
        let held = now.as_deref().and_then(seq_of);
        if !held.is_some_and(|(c, s)| c == caller && s >= seq) {
            bad.push(format!(
                "(2) caller{caller}: acknowledged write {caller}:{seq} lost; the key holds {:?}",
                now.map(|b| String::from_utf8_lossy(&b).into_owned())
            ));
        }
    }
    bad
}

/// Invariant 5: the server never saw more replies outstanding on the
/// shared client's connection than `limit`.
pub(crate) fn check_in_flight(world: &World, limit: usize) -> Option<String> {
    let seen = world.max_outstanding("client");
    (seen > limit).then(|| {
        format!(
            "(5) {seen} replies outstanding on one connection, over the in-flight limit {limit}"
        )
    })
}

/// Every broken promise of a run, each a line naming the invariant.
pub fn check(run: &Run) -> Vec<String> {
    let mut bad = Vec::new();
    let log = run.world.log();
    let final_epoch = run.world.epoch();
    // SET values are unique: value -> its executions.
    let mut sets: BTreeMap<Vec<u8>, Vec<&crate::world::Exec>> = BTreeMap::new();
    // Counter key -> the replies of its executions.
    let mut incrs: BTreeMap<Vec<u8>, Vec<i64>> = BTreeMap::new();
    for exec in &log {
        match &exec.args[0].to_ascii_uppercase()[..] {
            b"SET" if exec.args.len() >= 3 => {
                sets.entry(exec.args[2].to_vec()).or_default().push(exec)
            }
            b"INCR" => {
                if let redwire_resp::Frame::Integer(n) = exec.reply {
                    incrs.entry(exec.args[1].to_vec()).or_default().push(n);
                }
            }
            _ => {}
        }
    }
    let mut incr_sent: BTreeMap<usize, (usize, usize)> = BTreeMap::new();
    let mut last_acked_set: BTreeMap<usize, usize> = BTreeMap::new();
    for op in &run.ops {
        let who = format!("caller{} op{} {:?}", op.caller, op.seq, op.kind);
        // 4: deadlines.
        match &op.outcome {
            Outcome::Hung => bad.push(format!(
                "(4) {who}: no answer {:?} past its deadline {:?}",
                crate::workload::HANG_GRACE,
                op.deadline
            )),
            Outcome::Cancelled => {}
            _ if op.took > op.deadline + SLACK => bad.push(format!(
                "(4) {who}: ended after {:?}, past its deadline {:?}",
                op.took, op.deadline
            )),
            _ => {}
        }
        // 7: a request is kept while reconnecting (unless the client fails
        // fast); failing it any other way drops what the caller asked for.
        if let Outcome::Err { kind, .. } = &op.outcome {
            let expected = match kind {
                ErrorKind::Timeout | ErrorKind::ConnectionLost | ErrorKind::Protocol => true,
                ErrorKind::NotConnected => run.fail_fast,
                ErrorKind::Closed => {
                    run.dedicated || run.closed.as_ref().is_some_and(|c| op.ended >= c.began)
                }
                _ => false,
            };
            if !expected {
                bad.push(format!(
                    "(7) {who}: {} while the client was reconnecting",
                    op.outcome
                ));
            }
        }
        let definitely_not = matches!(
            op.outcome,
            Outcome::Err {
                may_have_executed: false,
                ..
            }
        );
        match op.kind {
            Kind::SetGet => {
                let value = format!("{}:{}", op.caller, op.seq).into_bytes();
                let execs = sets.get(&value).map_or(&[][..], |v| &v[..]);
                if execs.len() > 1 {
                    bad.push(format!("(3) {who}: executed {} times", execs.len()));
                }
                if definitely_not && !execs.is_empty() {
                    bad.push(format!(
                        "(2) {who}: failed saying it did not execute ({}), but the server ran it",
                        op.outcome
                    ));
                }
                if let Outcome::Ok(reply) = &op.outcome {
                    match execs.first() {
                        None => bad.push(format!(
                            "(2) {who}: acknowledged ({}) but never executed",
                            op.outcome
                        )),
                        Some(exec) if show(&exec.reply) != show_value(reply) => bad.push(format!(
                            "(1) {who}: got {} but the server answered it {}",
                            show_value(reply),
                            show(&exec.reply)
                        )),
                        Some(exec) => {
                            if exec.epoch == final_epoch {
                                last_acked_set.insert(op.caller, op.seq);
                            }
                        }
                    }
                }
            }
            Kind::Incr => {
                let entry = incr_sent.entry(op.caller).or_default();
                entry.0 += 1;
                if definitely_not {
                    entry.1 += 1;
                }
                if let Outcome::Ok(reply) = &op.outcome {
                    let key = format!("c:{}", op.caller).into_bytes();
                    let ok = match reply {
                        Value::Int(n) => {
                            n / COUNTER_BASE == op.caller as i64 + 1
                                && incrs.get(&key).is_some_and(|r| r.contains(n))
                        }
                        _ => false,
                    };
                    if !ok {
                        bad.push(format!("(1) {who}: got {}, not an answer the server gave to this caller's INCR", show_value(reply)));
                    }
                }
            }
            Kind::Get => {
                if let Outcome::Ok(reply) = &op.outcome {
                    let ok = match reply {
                        Value::Nil => true,
                        Value::Bulk(b) => {
                            seq_of(b).is_some_and(|(c, _)| c == op.caller)
                                && sets.contains_key(&b[..])
                        }
                        _ => false,
                    };
                    if !ok {
                        bad.push(format!(
                            "(1) {who}: got {}, not a value this caller stored",
                            show_value(reply)
                        ));
                    }
                }
            }
        }
    }
    // 3 and 2 for counters, whose commands are alike: count them.
    bad.extend(check_counters(&incr_sent, &incrs));
    // 2: the last acknowledged write (since the last restart) is not lost.
    bad.extend(check_last_writes(&run.world, &last_acked_set));
    // 5: the in-flight limit holds (the handshake's three commands go out
    // together before it applies).
    bad.extend(check_in_flight(&run.world, run.max_in_flight.max(3)));
    // 10: what close promises; a closed client serves nothing again.
    if let Some(closed) = &run.closed {
        bad.extend(crate::closing::check(closed, &run.world, "client"));
    }
    // 7: serving again once the faults stopped.
    if run.recovered_after.is_none() && run.closed.is_none() {
        bad.push(format!(
            "(7) the client did not serve again within {:?} after the faults stopped",
            run.reconnect_bound
        ));
    }
    bad
}
