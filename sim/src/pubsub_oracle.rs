//! The pub/sub oracle (invariant 6, and 1 and 7 for a subscriber): after a
//! confirmed subscribe, what the server routed to the subscriber arrives in
//! order, each message once, on the channel subscribed, and a message is
//! missing only where a gap is reported; once the faults stopped, a new
//! message arrives.
//!
//! The server may route one message to two of the subscriber's connections
//! (an old one it does not know is dead yet, and the new one), so the
//! messages are compared by payload, in the order the server first routed
//! each.

use crate::pubsub::{Got, PubSubRun, CHANNEL};
use std::collections::BTreeMap;

/// Messages one read of the subscriber's socket may bring beyond its
/// buffer: a 16 KiB read of the shortest messages the workload publishes.
const ONE_READ: u64 = 16 * 1024 / 30;

/// Every broken promise of a pub/sub run.
pub fn check(run: &PubSubRun) -> Vec<String> {
    let mut bad = Vec::new();
    let mut order: Vec<Vec<u8>> = Vec::new();
    let mut index: BTreeMap<Vec<u8>, usize> = BTreeMap::new();
    for r in run
        .world
        .routed()
        .iter()
        .filter(|r| r.owner == "subscriber")
    {
        if !index.contains_key(&r.payload[..]) {
            index.insert(r.payload.to_vec(), order.len());
            order.push(r.payload.to_vec());
        }
    }
    let show = |p: &[u8]| String::from_utf8_lossy(p).into_owned();
    // Where the last message was in the routing order (-1: the subscribe).
    let mut last: isize = -1;
    let mut gap = false;
    for got in &run.got {
        match got {
            Got::Disconnected => gap = true,
            Got::Resubscribed => {}
            Got::Message(channel, payload) => {
                if channel != CHANNEL.as_bytes() {
                    bad.push(format!(
                        "(1) a message on {} the subscriber never subscribed to",
                        show(channel)
                    ));
                }
                let Some(&at) = index.get(&payload[..]) else {
                    bad.push(format!(
                        "(1) received {}, which the server never routed to the subscriber",
                        show(payload)
                    ));
                    continue;
                };
                let at = at as isize;
                if at <= last {
                    bad.push(format!(
                        "(6) received {} again or out of order (after {})",
                        show(payload),
                        show(&order[last as usize])
                    ));
                    continue;
                }
                if !gap && at > last + 1 {
                    let missing: Vec<String> = order[(last + 1) as usize..at as usize]
                        .iter()
                        .map(|p| show(p))
                        .collect();
                    bad.push(format!(
                        "(6) missed {} before {} with no gap reported",
                        missing.join(", "),
                        show(payload)
                    ));
                }
                last = at;
                gap = false;
            }
        }
    }
    if !run.recovered {
        bad.push(format!(
            "(6) once the faults stopped, nothing published reached the subscriber within {:?}",
            run.bound
        ));
    }
    // 5: a slow consumer's subscriber holds its buffer and one read, and
    // what each gap may have lost of one more.
    if let Some(held) = run.slow {
        let bound = redwire::MESSAGE_BUFFER as u64 + ONE_READ * (1 + held.gaps);
        if held.most > bound {
            bad.push(format!(
                "(5) the subscriber held {} messages its slow consumer had not taken (burst of {}), over {} (its buffer of {}, and what one read brings per connection)",
                held.most,
                held.burst,
                bound,
                redwire::MESSAGE_BUFFER
            ));
        }
    }
    bad
}
