//! Timekeeping for the response timeout and the health check, done per tick
//! rather than per request so that the hot path reads no clock.
//!
//! Only bytes *read* show that the server is alive. Bytes written prove
//! nothing: a server behind a black hole takes writes into the kernel's
//! buffers for a long time, so a steady trickle of requests must not keep a
//! dead connection open.

use crate::config::Config;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::time::{Instant, Sleep};

/// The actor's timer. Polling a `Sleep` re-registers its waker every time,
/// which cost the actor about a hundred instructions per pass; a `Tick` polls
/// it only to register after a reset and to collect it once it fired, and
/// otherwise asks whether it fired (see `wakes`).
pub(super) struct Tick {
    sleep: Pin<Box<Sleep>>,
    /// Polled since the last reset: its waker is registered.
    armed: bool,
}

impl Tick {
    pub(super) fn new(period: Duration) -> Self {
        Tick {
            sleep: Box::pin(tokio::time::sleep(period)),
            armed: false,
        }
    }

    /// When it fires next.
    pub(super) fn deadline(&self) -> Instant {
        self.sleep.deadline()
    }

    /// Fires at `at` instead.
    pub(super) fn reset(&mut self, at: Instant) {
        self.sleep.as_mut().reset(at);
        self.armed = false;
    }

    /// True once the deadline passed (until the next reset).
    #[inline]
    pub(super) fn poll_fired(&mut self, cx: &mut Context<'_>) -> bool {
        if self.armed && !self.sleep.is_elapsed() {
            return false;
        }
        match self.sleep.as_mut().poll(cx) {
            Poll::Ready(()) => true,
            Poll::Pending => {
                self.armed = true;
                false
            }
        }
    }
}

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

    /// One tick: `busy` when requests are outstanding, `patience` how much
    /// longer than the response timeout the server may keep silent about them
    /// (a blocking command's own timeout), `reads` the count of reads that
    /// returned bytes so far.
    pub(super) fn check(&mut self, busy: bool, patience: Duration, reads: u64) -> Check {
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
            if stalled >= limit.saturating_add(patience) {
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

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::time::advance;

    fn watchdog(response: u64, health: u64) -> Watchdog {
        let config = Config::builder()
            .response_timeout(Some(Duration::from_millis(response)))
            .health_check_interval(Some(Duration::from_millis(health)))
            .build();
        let mut w = Watchdog::new(&config);
        w.start(0);
        w
    }

    #[tokio::test(start_paused = true)]
    async fn dead_only_when_requests_wait_and_nothing_is_read() {
        let mut w = watchdog(1_000, 10_000);
        assert_eq!(w.period, Duration::from_millis(250));
        advance(Duration::from_millis(600)).await;
        assert_eq!(w.check(true, Duration::ZERO, 0), Check::Fine);
        advance(Duration::from_millis(400)).await;
        assert_eq!(
            w.check(true, Duration::ZERO, 0),
            Check::Dead(Duration::from_millis(1_000))
        );
        // A read restarts the clock.
        w.start(0);
        advance(Duration::from_millis(900)).await;
        assert_eq!(w.check(true, Duration::ZERO, 1), Check::Fine);
        advance(Duration::from_millis(900)).await;
        assert_eq!(w.check(true, Duration::ZERO, 1), Check::Fine);
        advance(Duration::from_millis(100)).await;
        assert_eq!(
            w.check(true, Duration::ZERO, 1),
            Check::Dead(Duration::from_millis(1_000))
        );
        // Nothing outstanding: never dead, however long.
        w.start(1);
        advance(Duration::from_millis(5_000)).await;
        assert_eq!(w.check(false, Duration::ZERO, 1), Check::Fine);
        // Requests from the next tick on: idle time is not waiting time.
        advance(w.period).await;
        assert_eq!(w.check(true, Duration::ZERO, 1), Check::Fine);
    }

    #[tokio::test(start_paused = true)]
    async fn a_blocking_command_extends_the_silence_allowed() {
        let mut w = watchdog(1_000, 10_000);
        let patience = Duration::from_secs(5);
        advance(Duration::from_millis(5_900)).await;
        assert_eq!(w.check(true, patience, 0), Check::Fine);
        advance(Duration::from_millis(100)).await;
        assert_eq!(
            w.check(true, patience, 0),
            Check::Dead(Duration::from_millis(6_000))
        );
        // For ever: never dead, and never pinged while it waits.
        w.start(0);
        advance(Duration::from_secs(3_600)).await;
        assert_eq!(w.check(true, Duration::MAX, 0), Check::Fine);
    }

    #[tokio::test(start_paused = true)]
    async fn idle_connections_are_pinged_once_per_interval() {
        let mut w = watchdog(60_000, 1_000);
        assert_eq!(w.period, Duration::from_millis(250));
        advance(Duration::from_millis(999)).await;
        assert_eq!(w.check(false, Duration::ZERO, 0), Check::Fine);
        advance(Duration::from_millis(1)).await;
        assert_eq!(w.check(false, Duration::ZERO, 0), Check::Idle);
        assert_eq!(
            w.check(false, Duration::ZERO, 0),
            Check::Fine,
            "one ping per interval"
        );
        // Traffic (outstanding or read) postpones the ping.
        advance(Duration::from_millis(800)).await;
        assert_eq!(w.check(true, Duration::ZERO, 0), Check::Fine);
        advance(Duration::from_millis(800)).await;
        assert_eq!(w.check(false, Duration::ZERO, 1), Check::Fine);
        advance(Duration::from_millis(999)).await;
        assert_eq!(w.check(false, Duration::ZERO, 1), Check::Fine);
        advance(Duration::from_millis(1)).await;
        assert_eq!(w.check(false, Duration::ZERO, 1), Check::Idle);
    }

    #[test]
    fn the_period_follows_the_shortest_timer_within_bounds() {
        let config = Config::builder()
            .response_timeout(None)
            .health_check_interval(None)
            .build();
        assert_eq!(Watchdog::new(&config).period, Duration::from_millis(250));
        let config = Config::builder()
            .response_timeout(Some(Duration::from_millis(4)))
            .build();
        assert_eq!(Watchdog::new(&config).period, Duration::from_millis(5));
        let config = Config::builder()
            .response_timeout(Some(Duration::from_secs(100)))
            .health_check_interval(Some(Duration::from_secs(60)))
            .build();
        assert_eq!(Watchdog::new(&config).period, Duration::from_secs(1));
    }
}
