//! Timekeeping for the response timeout and the health check, done per tick
//! rather than per request so that the hot path reads no clock.
//!
//! Only bytes *read* show that the server is alive. Bytes written prove
//! nothing: a server behind a black hole takes writes into the kernel's
//! buffers for a long time, so a steady trickle of requests must not keep a
//! dead connection open.

use crate::config::Config;
use std::time::Duration;
use tokio::time::Instant;

pub(super) struct Watchdog {
    /// How often the actor's timer ticks.
    pub(super) period: Duration,
    response_timeout: Option<Duration>,
    health_interval: Option<Duration>,
    /// Last tick at which nothing was outstanding or something was read.
    last_progress: Instant,
    /// Last tick at which anything was outstanding or read.
    last_activity: Instant,
    reads_seen: u64,
}

/// What a tick found.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Check {
    Fine,
    /// Requests were outstanding and nothing was read for this long.
    Dead(Duration),
    /// Idle for the health-check interval: time for a `PING`.
    Idle,
}

impl Watchdog {
    pub(super) fn new(config: &Config) -> Self {
        let shortest = [config.response_timeout, config.health_check_interval]
            .into_iter()
            .flatten()
            .min()
            .unwrap_or(Duration::from_secs(1));
        let now = Instant::now();
        Watchdog {
            period: (shortest / 4).clamp(Duration::from_millis(5), Duration::from_secs(1)),
            response_timeout: config.response_timeout,
            health_interval: config.health_check_interval,
            last_progress: now,
            last_activity: now,
            reads_seen: 0,
        }
    }

    /// A new connection: the clocks start now.
    pub(super) fn start(&mut self, reads: u64) {
        self.last_progress = Instant::now();
        self.last_activity = self.last_progress;
        self.reads_seen = reads;
    }

    /// One tick: `busy` when requests are outstanding, `reads` the count of
    /// reads that returned bytes so far.
    pub(super) fn check(&mut self, busy: bool, reads: u64) -> Check {
        let now = Instant::now();
        let read_something = reads != self.reads_seen;
        self.reads_seen = reads;
        if !busy || read_something {
            self.last_progress = now;
        }
        if busy || read_something {
            self.last_activity = now;
        }
        if let Some(limit) = self.response_timeout {
            let stalled = now - self.last_progress;
            if stalled >= limit {
                return Check::Dead(stalled);
            }
        }
        match self.health_interval {
            Some(every) if !busy && now - self.last_activity >= every => {
                self.last_activity = now;
                Check::Idle
            }
            _ => Check::Fine,
        }
    }
}
