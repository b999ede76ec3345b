//! Closing a client mid-run: the closer a workload may start (one seed in
//! eight, from a generator of its own so the workload's other draws stay
//! as they were), and the oracle of what `Client::close` promises.
//!
//! The closer calls `close()` (whose grace is the response timeout) or
//! `close_within(grace)` with no grace or a few milliseconds, which cut off
//! what is in flight, at a random time while the callers are busy, and
//! notes when it began and when it returned. redwire promises: no request
//! is taken any more, and those after it fail with `ErrorKind::Closed`; the
//! requests already taken are written and answered within the grace, the
//! rest fail as closed (saying whether they were sent); then the socket is
//! closed. So the oracle holds, as invariant 10:
//!
//! - `close` returns within its grace and the time it takes to notice a
//!   dead connection (a response timeout and a tick), none hangs, and the
//!   client is `Closed` when it has;
//! - every call made after `close` returned fails at once with `Closed`,
//!   saying it did not run, and the server never sees it;
//! - nothing reaches the server later than the bytes already on their way
//!   when the socket closed (the pipe's delay after `close` returned).
//!
//! A request failing as closed after `close` began is expected (the shared
//! oracle's (7)); one failing so saying it did not run must not have run
//! (its (2)).

use crate::op::{Outcome, HANG_GRACE};
use crate::setting::{ms, Setting};
use crate::world::World;
use redwire::{cmd, Client, ConnectionState, ErrorKind};
use std::time::Duration;
use tokio::task::JoinHandle;
use tokio::time::Instant;

/// Timer slack: tokio's timers fire on whole milliseconds.
const SLACK: Duration = Duration::from_millis(2);

/// How and when a run closed its client.
#[derive(Debug, Clone)]
pub struct Closed {
    /// The grace given (`close()`: the response timeout).
    pub grace: Duration,
    /// The longest `close` may take: the grace, a dead connection noticed.
    pub bound: Duration,
    /// When `close` was called.
    pub began: Instant,
    /// When it returned (`None`: it hung).
    pub returned: Option<Instant>,
    /// The client's state then.
    pub state: Option<ConnectionState>,
    /// A call made after it: how it ended, how long it took, and whether the
    /// server ever saw it.
    pub after: Option<(Outcome, Duration)>,
    /// The pipe's longest delay.
    pub max_delay: Duration,
}

/// The probe a closed client is sent: a key nobody else writes.
const AFTER: &str = "after-close";

/// Starts the closer for `seed`, or none (seven seeds in eight).
pub fn start(
    seed: u64,
    setting: &Setting,
    client: &Client,
    world: &World,
) -> Option<JoinHandle<Closed>> {
    let mut rng = fastrand::Rng::with_seed(seed ^ 0x0c10_5e0f_c11e);
    if rng.u8(..8) != 0 {
        return None;
    }
    let at = ms(&mut rng, 0, 300);
    // No grace, or a few milliseconds, cuts off what is in flight.
    let own = match rng.u8(..3) {
        0 => None,
        1 => Some(Duration::ZERO),
        _ => Some(ms(&mut rng, 1, 10)),
    };
    let grace = own.unwrap_or(setting.response_timeout);
    // A black hole is noticed a response timeout after the last read, on a
    // tick (a few per response timeout).
    let bound = grace + setting.response_timeout * 2 + Duration::from_millis(10);
    let max_delay = setting.max_delay();
    let (client, world) = (client.clone(), world.clone());
    Some(tokio::spawn(async move {
        tokio::time::sleep(at).await;
        world.note(format!("closer: closing, grace {own:?}"));
        let began = Instant::now();
        let closing = async {
            match own {
                Some(g) => client.close_within(g).await,
                None => client.close().await,
            }
        };
        let done = tokio::time::timeout(bound + HANG_GRACE, closing).await;
        let returned = done.is_ok().then(Instant::now);
        let state = returned.map(|_| client.state());
        world.note(format!(
            "closer: close returned={} after {:?}, state {state:?}",
            returned.is_some(),
            began.elapsed()
        ));
        let after = match returned {
            None => None,
            Some(_) => {
                let start = Instant::now();
                let probe = cmd("SET").arg(AFTER).arg("x");
                let r = tokio::time::timeout(
                    Duration::from_secs(1),
                    client.send_timeout(&probe, Some(Duration::from_secs(1))),
                )
                .await
                .map_or(Outcome::Hung, Outcome::from);
                world.note(format!("closer: a call after close: {r}"));
                Some((r, start.elapsed()))
            }
        };
        Closed {
            grace,
            bound,
            began,
            returned,
            state,
            after,
            max_delay,
        }
    }))
}

/// The broken promises of a close (invariant 10), the server's log read
/// for what the client labelled `owner` sent.
pub fn check(closed: &Closed, world: &World, owner: &str) -> Vec<String> {
    let mut bad = Vec::new();
    let Some(returned) = closed.returned else {
        bad.push(format!(
            "(10) close did not return within {:?} (grace {:?})",
            closed.bound + HANG_GRACE,
            closed.grace
        ));
        return bad;
    };
    let took = returned - closed.began;
    if took > closed.bound + SLACK {
        bad.push(format!(
            "(10) close took {took:?}, over its grace {:?} and a dead connection's notice ({:?})",
            closed.grace, closed.bound
        ));
    }
    if closed.state != Some(ConnectionState::Closed) {
        bad.push(format!(
            "(10) after close returned the client is {:?}, not Closed",
            closed.state
        ));
    }
    match &closed.after {
        Some((
            outcome @ Outcome::Err {
                kind: ErrorKind::Closed,
                may_have_executed,
                message,
            },
            took,
        )) if *may_have_executed || *took > SLACK || !message.contains("closed") => {
            bad.push(format!(
                "(10) a call after close failed after {took:?}: {outcome}"
            ));
        }
        Some((
            Outcome::Err {
                kind: ErrorKind::Closed,
                ..
            },
            _,
        )) => {}
        Some((outcome, took)) => bad.push(format!(
            "(10) a call after close ended {outcome} after {took:?}, not as closed"
        )),
        None => {}
    }
    let late = returned + closed.max_delay + SLACK;
    for exec in world.log() {
        if world.owner(exec.conn) != owner {
            continue;
        }
        if exec.args.get(1).is_some_and(|k| &k[..] == AFTER.as_bytes()) {
            bad.push("(10) the server ran a call made after close".into());
        } else if exec.at > late {
            bad.push(format!(
                "(10) the server ran {} on conn{} {:?} after close returned",
                crate::world::show_args(&exec.args),
                exec.conn,
                exec.at - returned
            ));
        }
    }
    bad
}
