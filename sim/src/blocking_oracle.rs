//! The blocking oracle: every item followed from its push to its pop, and
//! every pop held against what the server did for it (the log names the pop
//! by its tag key). The invariants keep the shared oracle's numbers
//! ([`oracle`](crate::oracle)), and add one:
//!
//! 1. a pop handed an item got the item the server popped for that very
//!    call; a nil came from the server's timeout of that call;
//! 2. an acknowledged push ran; a call failing with `may_have_executed() ==
//!    false` did not run (a push was not pushed, a pop popped nothing); an
//!    item the server popped but nobody got is allowed only where its call
//!    was dropped or failed saying it may have executed; the shared client
//!    writes no `BLPOP`;
//! 3. nothing ran more often than it was sent, and no item was handed out
//!    twice; the server popped each item once, or it is still in the list;
//! 4. every call ended by its deadline (a pop's: its block time plus the
//!    command timeout, or its own), none hung;
//! 7. a pop fails only by its deadline or its connection's end, and the
//!    shared client refuses it; once the faults stopped, a pop succeeds;
//! 9. a blocked pop given up on (dropped, or past its deadline) takes
//!    nothing after the server could see its connection closed (the pipe's
//!    delay after it ended).

use crate::blocking::{BlockingRun, Via, ITEMS};
use crate::oracle::{show_value, Outcome};
use crate::world::{show, Exec};
use redwire::{ErrorKind, Value};
use redwire_resp::Frame;
use std::collections::BTreeMap;
use std::time::Duration;

/// Timer slack: tokio's timers fire on whole milliseconds.
const SLACK: Duration = Duration::from_millis(2);

/// The item of a pop's reply.
fn item(reply: &Frame) -> Option<&[u8]> {
    match reply {
        Frame::Array(kv) => match &kv[..] {
            [Frame::Bulk(_), Frame::Bulk(v)] => Some(v),
            _ => None,
        },
        _ => None,
    }
}

/// Every broken promise of a blocking run, each a line naming the invariant.
pub fn check(run: &BlockingRun) -> Vec<String> {
    let mut bad = Vec::new();
    let log = run.world.log();
    let final_epoch = run.world.epoch();
    let mut pushed: BTreeMap<Vec<u8>, Vec<&Exec>> = BTreeMap::new();
    let mut popped: BTreeMap<Vec<u8>, Vec<&Exec>> = BTreeMap::new();
    let mut by_tag: BTreeMap<Vec<u8>, Vec<&Exec>> = BTreeMap::new();
    for exec in &log {
        let name = exec.args[0].to_ascii_uppercase();
        if &name[..] == b"RPUSH" && exec.args[1] == ITEMS.as_bytes() {
            pushed.entry(exec.args[2].to_vec()).or_default().push(exec);
        }
        if &name[..] == b"BLPOP" && exec.args.len() == 4 && exec.args[1] == ITEMS.as_bytes() {
            by_tag.entry(exec.args[2].to_vec()).or_default().push(exec);
            if let Some(v) = item(&exec.reply) {
                popped.entry(v.to_vec()).or_default().push(exec);
            }
        }
    }
    // The producer's pushes.
    for push in &run.pushes {
        let who = format!("producer i:{}", push.n);
        let value = format!("i:{}", push.n).into_bytes();
        let execs = pushed.get(&value).map_or(&[][..], |v| &v[..]);
        if execs.len() > 1 {
            bad.push(format!("(3) {who}: pushed {} times", execs.len()));
        }
        match &push.outcome {
            Outcome::Ok(_) if execs.is_empty() => {
                bad.push(format!("(2) {who}: acknowledged but never pushed"))
            }
            Outcome::Err {
                may_have_executed: false,
                ..
            } if !execs.is_empty() => bad.push(format!(
                "(2) {who}: failed saying it did not run ({}), but the server pushed it",
                push.outcome
            )),
            _ => {}
        }
    }
    // The server's own bookkeeping: each item it took in is popped once or
    // still there.
    let left: Vec<Vec<u8>> = run
        .world
        .list(ITEMS.as_bytes())
        .iter()
        .map(|b| b.to_vec())
        .collect();
    for (value, execs) in &pushed {
        let shown = String::from_utf8_lossy(value);
        let pops = popped
            .get(value)
            .map_or(0, |p| p.iter().filter(|e| e.epoch == final_epoch).count());
        let pushes = execs.iter().filter(|e| e.epoch == final_epoch).count();
        let there = left.iter().filter(|l| l == &value).count();
        if pushes > 0 && pops + there != pushes {
            bad.push(format!(
                "(3) {shown}: pushed {pushes} times since the last restart, popped {pops}, still listed {there}"
            ));
        }
    }
    // The consumers' pops.
    let mut handed: BTreeMap<Vec<u8>, Vec<String>> = BTreeMap::new();
    for pop in &run.pops {
        let tag = pop.tag();
        let who = format!("consumer{} pop{}", pop.consumer, pop.seq);
        let execs = by_tag.get(tag.as_bytes()).map_or(&[][..], |v| &v[..]);
        let took_item = execs.iter().find_map(|e| item(&e.reply).map(|v| (v, *e)));
        if execs.len() > 1 {
            bad.push(format!("(3) {who}: ran {} times", execs.len()));
        }
        // 4: deadlines.
        match &pop.outcome {
            Outcome::Hung => bad.push(format!(
                "(4) {who}: no answer {:?} past its deadline {:?}",
                crate::workload::HANG_GRACE,
                pop.deadline
            )),
            Outcome::Cancelled => {}
            _ if pop.took > pop.deadline + SLACK => bad.push(format!(
                "(4) {who}: ended after {:?}, past its deadline {:?} (block {:?})",
                pop.took, pop.deadline, pop.block
            )),
            _ => {}
        }
        if pop.via == Via::Shared {
            let refused = matches!(
                pop.outcome,
                Outcome::Err {
                    kind: ErrorKind::Unsupported,
                    may_have_executed: false,
                    ..
                }
            );
            if !refused {
                bad.push(format!(
                    "(7) {who}: the shared client answered BLPOP {}, not a refusal",
                    pop.outcome
                ));
            }
            if !execs.is_empty() {
                bad.push(format!("(2) {who}: the shared client wrote a BLPOP"));
            }
            continue;
        }
        match &pop.outcome {
            Outcome::Ok(Value::Array(kv)) => {
                let got = match &kv[..] {
                    [Value::Bulk(k), Value::Bulk(v)] if k == ITEMS.as_bytes() => Some(v),
                    _ => None,
                };
                match (got, took_item) {
                    (Some(v), Some((server, _))) if v[..] == *server => {
                        handed.entry(v.to_vec()).or_default().push(who.clone());
                    }
                    _ => bad.push(format!(
                        "(1) {who}: got {} but the server answered it {}",
                        show_value(&Value::Array(kv.clone())),
                        execs.first().map_or("nothing".into(), |e| show(&e.reply))
                    )),
                }
            }
            Outcome::Ok(Value::Nil) => {
                let timed_out = execs.iter().any(|e| e.reply == Frame::Null);
                if !timed_out || took_item.is_some() {
                    bad.push(format!(
                        "(1) {who}: got nil but the server answered it {}",
                        execs.first().map_or("nothing".into(), |e| show(&e.reply))
                    ));
                }
            }
            Outcome::Ok(other) => bad.push(format!(
                "(1) {who}: got {}, not an answer to BLPOP",
                show_value(other)
            )),
            Outcome::Err {
                kind,
                may_have_executed,
                ..
            } => {
                let expected = matches!(
                    kind,
                    ErrorKind::Timeout
                        | ErrorKind::ConnectionLost
                        | ErrorKind::Protocol
                        | ErrorKind::Closed
                ) || (*kind == ErrorKind::NotConnected && run.fail_fast);
                if !expected {
                    bad.push(format!("(7) {who}: {}", pop.outcome));
                }
                if !may_have_executed {
                    if let Some((v, _)) = took_item {
                        bad.push(format!(
                            "(2) {who}: failed saying it did not run ({}), but the server popped {} for it",
                            pop.outcome,
                            String::from_utf8_lossy(v)
                        ));
                    }
                }
            }
            Outcome::Cancelled | Outcome::Hung => {}
        }
        // 9: given up, the pop is stopped within the pipe's delay.
        let given_up = match &pop.outcome {
            Outcome::Cancelled => true,
            Outcome::Err { kind, .. } => *kind == ErrorKind::Timeout,
            _ => false,
        };
        if let (true, Some((v, exec))) = (given_up, took_item) {
            let ended = pop.start + pop.took;
            let late = exec.at.saturating_duration_since(ended);
            if late > run.max_delay + SLACK {
                bad.push(format!(
                    "(9) {who} was given up ({}), yet the server popped {} for it {late:?} later: its connection was not closed",
                    pop.outcome,
                    String::from_utf8_lossy(v)
                ));
            }
        }
    }
    for (v, who) in handed {
        if who.len() > 1 {
            bad.push(format!(
                "(3) {} was handed out {} times: {}",
                String::from_utf8_lossy(&v),
                who.len(),
                who.join(", ")
            ));
        }
    }
    if !run.recovered {
        bad.push(format!(
            "(7) once the faults stopped, no pop succeeded within {:?}",
            run.bound
        ));
    }
    bad
}
