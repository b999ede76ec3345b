//! What a seed decides before a workload starts: the world's knobs (how the
//! server answers `HELLO`, how connections cut and delay bytes, how often a
//! connect fails), the client's configuration, and the fault schedule.

use crate::model::Dialect;
use crate::pipe::Shape;
use crate::world::{Fault, Setup, World};
use redwire::{Backoff, Config};
use std::time::Duration;

/// A random duration of whole milliseconds in `lo..=hi`.
pub fn ms(rng: &mut fastrand::Rng, lo: u64, hi: u64) -> Duration {
    Duration::from_millis(rng.u64(lo..=hi))
}

/// One seed's world, client configuration and faults.
pub struct Setting {
    /// The world, with an empty server.
    pub world: World,
    /// Each call's default deadline.
    pub command_timeout: Duration,
    /// How long the client waits for a reply before it drops a connection.
    pub response_timeout: Duration,
    /// How long a connect may take.
    pub connect_timeout: Duration,
    /// The reconnect policy.
    pub backoff: Backoff,
    /// Whether requests fail at once while disconnected.
    pub fail_fast: bool,
    health_check: Duration,
    /// The client's in-flight limit (replies awaited).
    pub max_in_flight: usize,
    channel_capacity: usize,
    /// When which fault strikes, from the workload's start.
    pub faults: Vec<(Duration, Fault)>,
    /// The longest a piece of a write takes to arrive.
    max_delay: Duration,
}

impl Setting {
    /// Draws everything from `rng` (seeded by `seed`).
    pub fn draw(seed: u64, rng: &mut fastrand::Rng) -> Setting {
        let shape = Shape {
            split: if rng.bool() { rng.f64() * 0.6 } else { 0.0 },
            short_write: if rng.bool() { rng.f64() * 0.4 } else { 0.0 },
            max_delay: Duration::from_micros(rng.u64(0..=3000)),
        };
        let setup = Setup {
            dialect: if rng.u8(..4) == 0 {
                Dialect::Resp2Only
            } else {
                Dialect::Hello
            },
            shape,
            flaky_connects: if rng.u8(..4) == 0 {
                rng.f64() * 0.4
            } else {
                0.0
            },
        };
        let dialect = setup.dialect;
        let world = World::new(seed, setup);
        let setting = Setting {
            world,
            response_timeout: ms(rng, 150, 800),
            connect_timeout: ms(rng, 50, 300),
            backoff: Backoff {
                initial: ms(rng, 1, 20),
                max: ms(rng, 20, 200),
                jitter: 0.5,
                max_attempts: None,
            },
            command_timeout: ms(rng, 100, 2000),
            fail_fast: rng.u8(..6) == 0,
            health_check: ms(rng, 50, 1000),
            max_in_flight: rng.usize(2..=64),
            channel_capacity: rng.usize(2..=256),
            faults: Vec::new(),
            max_delay: shape.max_delay,
        };
        let mut faults = Vec::new();
        for _ in 0..rng.usize(0..=8) {
            let at = ms(rng, 0, 400);
            let fault = match rng.u8(..10) {
                0..=2 => Fault::Reset,
                3 => Fault::BlackHole,
                4 => Fault::HalfClose,
                5 => Fault::Restart(ms(rng, 0, 200)),
                6 => Fault::Refuse(ms(rng, 0, 300)),
                7 | 8 => Fault::Unsolicited,
                _ => Fault::Malformed,
            };
            faults.push((at, fault));
        }
        faults.sort_by_key(|(at, _)| *at);
        setting.world.note(format!(
            "setup: {shape:?} {:?} response_timeout={:?} connect_timeout={:?} command_timeout={:?} \
             {:?} fail_fast={} max_in_flight={} channel_capacity={} health_check={:?} faults={faults:?}",
            dialect,
            setting.response_timeout,
            setting.connect_timeout,
            setting.command_timeout,
            setting.backoff,
            setting.fail_fast,
            setting.max_in_flight,
            setting.channel_capacity,
            setting.health_check,
        ));
        Setting { faults, ..setting }
    }

    /// The longest a piece of a write takes to arrive (so the longest a
    /// closed connection takes to look closed to the server).
    pub fn max_delay(&self) -> Duration {
        self.max_delay
    }

    /// The configuration of a client whose connections carry `owner`.
    pub fn config(&self, owner: &'static str) -> Config {
        Config::builder()
            .sim_dialer(self.world.dialer(owner))
            .connect_timeout(self.connect_timeout)
            .response_timeout(Some(self.response_timeout))
            .command_timeout(Some(self.command_timeout))
            .health_check_interval(Some(self.health_check))
            .backoff(self.backoff)
            .fail_fast(self.fail_fast)
            .max_in_flight(self.max_in_flight)
            .channel_capacity(self.channel_capacity)
            .build()
    }

    /// The longest a client may take to serve again once the faults stop:
    /// a dead connection noticed (an idle one, such as a subscriber's, only
    /// by the health check: its interval and a response timeout; a busy one
    /// by a request's response timeout), a connect, and the largest backoff
    /// twice.
    pub fn reconnect_bound(&self) -> Duration {
        self.response_timeout * 2
            + self.health_check
            + self.connect_timeout
            + self.backoff.max * 2
            + Duration::from_millis(100)
    }
}
