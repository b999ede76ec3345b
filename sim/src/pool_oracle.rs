//! The pool oracle: the shared oracle ([`oracle`](crate::oracle)) on the
//! commands the callers sent on their pooled connections (a dedicated
//! connection's rules: a request may fail as closed), and for the
//! checkouts themselves:
//!
//! 4. every checkout ends by the checkout timeout, none hangs;
//! 7. a checkout fails only by timing out or with the connect error that
//!    stopped it;
//! 11. a connection comes out of the pool clean: its session says so, and
//!     the server says it watches no key (what the last user left behind).

use crate::oracle::Outcome;
use crate::pool::PoolRun;
use redwire::ErrorKind;
use std::time::Duration;

/// Timer slack: tokio's timers fire on whole milliseconds.
const SLACK: Duration = Duration::from_millis(2);

/// Every broken promise of a pool run, each a line naming the invariant.
pub fn check(run: &PoolRun) -> Vec<String> {
    let mut bad = crate::oracle::check(&run.run);
    for (i, checkout) in run.checkouts.iter().enumerate() {
        let who = format!("caller{} checkout {i}", checkout.caller);
        match &checkout.outcome {
            Outcome::Hung => bad.push(format!(
                "(4) {who}: no connection {:?} past the checkout timeout {:?}",
                crate::workload::HANG_GRACE,
                run.checkout_timeout
            )),
            Outcome::Cancelled => {}
            _ if checkout.took > run.checkout_timeout + SLACK => bad.push(format!(
                "(4) {who}: ended after {:?}, past the checkout timeout {:?}",
                checkout.took, run.checkout_timeout
            )),
            _ => {}
        }
        if !checkout.clean {
            bad.push(format!(
                "(11) {who}: the connection came with a session left"
            ));
        }
        if let Some(n) = checkout.watching.filter(|&n| n != 0) {
            bad.push(format!(
                "(11) {who}: the connection still watched {n} keys on the server"
            ));
        }
        if let Outcome::Err { kind, .. } = &checkout.outcome {
            let expected = matches!(
                kind,
                ErrorKind::Timeout
                    | ErrorKind::ConnectionLost
                    | ErrorKind::NotConnected
                    | ErrorKind::Closed
                    | ErrorKind::Protocol
                    | ErrorKind::Io
            );
            if !expected {
                bad.push(format!("(7) {who}: {}", checkout.outcome));
            }
        }
    }
    bad
}
