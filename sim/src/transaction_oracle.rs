//! The transaction oracle: what each transaction's caller saw, held against
//! what the model executed (the log keeps each command an `EXEC` ran, with
//! that `EXEC`'s number). The invariants keep the shared oracle's numbers
//! ([`oracle`](crate::oracle)), and add one:
//!
//! 1. an answered transaction's results are what the model's `EXEC` answered
//!    its commands (a plain pipeline's: its `SET`'s reply, an `INCR` on the
//!    caller's own counter); what a body's `GET` read is the caller's own;
//! 2. an answered transaction ran, and its write (after the last restart)
//!    is not lost; one that failed saying `may_have_executed() == false`, or
//!    aborted because a watched key changed, did not run at all;
//! 3. nothing ran more often than it was sent;
//! 4. every call ended by its deadline (a watched transaction's: its
//!    attempts' round trips and pauses, after a pool's checkout timeout),
//!    none hung;
//! 5. the in-flight limit holds (a request larger than it goes alone);
//! 7. a transaction fails only by its deadline, its connection's loss, a
//!    dedicated connection's end, the shared client's close, failing fast or
//!    (watched) running out of attempts; once the faults stopped, the client
//!    served again (unless it was closed);
//! 8. a transaction runs all or nothing: its `SET` ran inside an `EXEC`
//!    together with its `INCR`s, never on its own;
//! 10. what `close` promises (see [`closing`](crate::closing)).

use crate::model::COUNTER_BASE;
use crate::oracle::{
    check_counters, check_in_flight, check_last_writes, seq_of, show_value, Outcome,
};
use crate::transaction::{Ended, TxRun, Via};
use crate::world::{show, Exec};
use redwire::{ErrorKind, Value};
use std::collections::BTreeMap;
use std::time::Duration;

/// Timer slack: tokio's timers fire on whole milliseconds.
const SLACK: Duration = Duration::from_millis(2);

/// Every broken promise of a transaction run, each a line naming the
/// invariant.
pub fn check(run: &TxRun) -> Vec<String> {
    let mut bad = Vec::new();
    let log = run.world.log();
    let final_epoch = run.world.epoch();
    // SET values are unique: value -> its executions.
    let mut sets: BTreeMap<Vec<u8>, Vec<&Exec>> = BTreeMap::new();
    // Transaction -> the commands it ran, in order.
    let mut txs: BTreeMap<u64, Vec<&Exec>> = BTreeMap::new();
    // Counter key -> the replies of its executions.
    let mut incrs: BTreeMap<Vec<u8>, Vec<i64>> = BTreeMap::new();
    for exec in &log {
        if let Some(t) = exec.tx {
            txs.entry(t).or_default().push(exec);
        }
        match &exec.args[0].to_ascii_uppercase()[..] {
            b"SET" if exec.args.len() >= 3 && exec.args[1].starts_with(b"k:") => {
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
    let mut last_acked: BTreeMap<usize, usize> = BTreeMap::new();
    for op in &run.ops {
        let who = format!("caller{} tx{} {:?}", op.caller, op.seq, op.via);
        let counter = format!("c:{}", op.caller).into_bytes();
        let failed = match &op.ended {
            Ended::Failed(outcome) => Some(outcome),
            Ended::Done(_) => None,
        };
        // 4: deadlines.
        match failed {
            Some(Outcome::Hung) => bad.push(format!(
                "(4) {who}: no answer {:?} past its deadline {:?}",
                crate::workload::HANG_GRACE,
                op.deadline
            )),
            Some(Outcome::Cancelled) => {}
            _ if op.took > op.deadline + SLACK => bad.push(format!(
                "(4) {who}: ended after {:?}, past its deadline {:?}",
                op.took, op.deadline
            )),
            _ => {}
        }
        // 7: the ways a transaction may fail.
        let dedicated = matches!(op.via, Via::Dedicated | Via::Watched | Via::Pooled);
        if let Some(Outcome::Err { kind, .. }) = failed {
            let expected = match kind {
                ErrorKind::Timeout | ErrorKind::ConnectionLost | ErrorKind::Protocol => true,
                ErrorKind::NotConnected => run.fail_fast,
                ErrorKind::Closed => {
                    dedicated || run.closed.as_ref().is_some_and(|c| op.finished >= c.began)
                }
                ErrorKind::Aborted => matches!(op.via, Via::Watched | Via::Pooled),
                _ => false,
            };
            if !expected {
                bad.push(format!(
                    "(7) {who}: {} while the client was reconnecting",
                    failed.expect("an error")
                ));
            }
        }
        let did_not_run = matches!(
            failed,
            Some(Outcome::Err {
                may_have_executed: false,
                ..
            }) | Some(Outcome::Err {
                kind: ErrorKind::Aborted,
                ..
            })
        );
        let entry = incr_sent.entry(op.caller).or_default();
        entry.0 += 1;
        if did_not_run {
            entry.1 += 1;
        }
        // 1: a body reads its caller's own key.
        for read in &op.reads {
            if let Outcome::Ok(v) = read {
                let own = match v {
                    Value::Nil => true,
                    Value::Bulk(b) => {
                        seq_of(b).is_some_and(|(c, _)| c == op.caller) && sets.contains_key(&b[..])
                    }
                    _ => false,
                };
                if !own {
                    bad.push(format!(
                        "(1) {who}: its body read {}, not a value this caller stored",
                        show_value(v)
                    ));
                }
            }
        }
        let value = format!("{}:{}", op.caller, op.seq).into_bytes();
        let execs = sets.get(&value).map_or(&[][..], |v| &v[..]);
        if execs.len() > 1 {
            bad.push(format!("(3) {who}: its SET ran {} times", execs.len()));
        }
        if did_not_run && !execs.is_empty() {
            bad.push(format!(
                "(2) {who}: failed saying it did not run ({}), but the server ran it",
                failed.expect("a failure")
            ));
        }
        // 8: all or nothing.
        let atomic = op.via != Via::Plain;
        for exec in execs {
            let ran_with = exec.tx.and_then(|t| txs.get(&t));
            match (atomic, ran_with) {
                (true, None) => bad.push(format!(
                    "(8) {who}: its SET ran outside a transaction (conn{})",
                    exec.conn
                )),
                (true, Some(cmds)) => {
                    // Each command by its name and key (a pad is large).
                    let shape: Vec<String> = cmds
                        .iter()
                        .map(|e| crate::world::show_args(&e.args[..2]))
                        .collect();
                    let mut want = vec![format!("SET k:{}", op.caller)];
                    if op.pad {
                        want.push(format!("SET pad:{}", op.caller));
                    }
                    want.push(format!("INCR c:{}", op.caller));
                    if op.hot {
                        want.push("INCR hot".into());
                    }
                    if shape != want {
                        bad.push(format!(
                            "(8) {who}: its EXEC ran [{}], not its commands [{}]",
                            shape.join("; "),
                            want.join("; ")
                        ));
                    }
                }
                (false, Some(_)) => bad.push(format!(
                    "(8) {who}: a plain pipeline's SET ran inside a transaction"
                )),
                (false, None) => {}
            }
        }
        let Ended::Done(results) = &op.ended else {
            continue;
        };
        // 2: answered, so it ran.
        let Some(exec) = execs.first() else {
            bad.push(format!(
                "(2) {who}: answered ({}) but never ran",
                crate::transaction::show_ended(&op.ended)
            ));
            continue;
        };
        if exec.epoch == final_epoch {
            let last = last_acked.entry(op.caller).or_default();
            *last = (*last).max(op.seq);
        }
        // 1: the results are the model's answers.
        let got: Vec<String> = results
            .iter()
            .map(|r| match r {
                Ok(v) => show_value(v),
                Err(e) => format!("-{e}"),
            })
            .collect();
        if atomic {
            let want: Vec<String> = exec
                .tx
                .and_then(|t| txs.get(&t))
                .map(|cmds| cmds.iter().map(|e| show(&e.reply)).collect())
                .unwrap_or_default();
            if got != want {
                bad.push(format!(
                    "(1) {who}: got [{}] but the server's EXEC answered [{}]",
                    got.join(", "),
                    want.join(", ")
                ));
            }
        } else {
            let incr_ok = match results.last() {
                Some(Ok(Value::Int(n))) => {
                    n / COUNTER_BASE == op.caller as i64 + 1
                        && incrs.get(&counter).is_some_and(|r| r.contains(n))
                }
                _ => false,
            };
            let set_ok = results.len() == 2 + op.pad as usize && got[0] == show(&exec.reply);
            if !incr_ok || !set_ok {
                bad.push(format!(
                    "(1) {who}: got [{}]; the server answered its SET {}",
                    got.join(", "),
                    show(&exec.reply)
                ));
            }
        }
    }
    // 3 and 2 for counters, whose commands are alike: count them.
    bad.extend(check_counters(&incr_sent, &incrs));
    // 2: the last answered write (since the last restart) is not lost.
    bad.extend(check_last_writes(&run.world, &last_acked));
    // 5: the in-flight limit (a request larger than it, a padded
    // transaction's five replies at most, goes alone).
    bad.extend(check_in_flight(&run.world, run.max_in_flight.max(5)));
    if let Some(closed) = &run.closed {
        bad.extend(crate::closing::check(closed, &run.world, "client"));
    }
    if !run.recovered && run.closed.is_none() {
        bad.push(format!(
            "(7) the client did not serve a transaction again within {:?} after the faults stopped",
            run.bound
        ));
    }
    bad
}
