//! The meters of the `metrics` feature: each handle, connection actor, pool
//! and cluster router looks its metric handles up once and then only
//! updates them (see the module doc of [`telemetry`](super) for the names).
//!
//! **Where the handles come from.** A handle is registered with whatever
//! recorder is installed when it is first needed: the connection's when the
//! connection is made, an operation's histogram when its command is first
//! sent. Install the recorder before making clients: a client made while
//! none is installed (while the facade's no-op recorder, the only one of
//! size zero, is in place) does not time its requests at all.
//!
//! **Gauges of several connections.** Connections to one server share their
//! gauges' series (the same attributes), so each adds and takes away its own
//! share (deltas from what it last reported) rather than setting a value,
//! and gives its share back when it ends.

use super::{addr_endpoint, endpoint, error_type, names, HandleKind};
use crate::cmd::Cmd;
use crate::config::Config;
use crate::error::{Error, Result};
use metrics::{Counter, Gauge, Histogram, Label, Unit};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// Describes every metric to the recorder (units and help text); called
/// when a meter is made, which is rare.
fn describe() {
    use metrics::{describe_counter as c, describe_gauge as g, describe_histogram as h};
    h!(
        super::OPERATION_DURATION,
        Unit::Seconds,
        "Duration of database client operations."
    );
    g!(super::CONNECTION_COUNT, "The number of connections that are currently in the state described by the state attribute.");
    g!(
        super::PENDING_REQUESTS,
        "The number of current pending requests for an open connection."
    );
    h!(
        super::CREATE_TIME,
        Unit::Seconds,
        "The time it took to create a new connection."
    );
    h!(
        super::WAIT_TIME,
        Unit::Seconds,
        "The time it took to obtain an open connection from the pool."
    );
    c!(super::TIMEOUTS, "The number of connection timeouts that have occurred trying to obtain a connection from the pool.");
    g!(
        super::IN_FLIGHT,
        "Requests written and waiting for their replies."
    );
    g!(
        super::QUEUED,
        "Requests taken by the connection and not written yet."
    );
    c!(
        super::RECONNECTS,
        "Connections lost and made again, by cause."
    );
    h!(
        super::BATCH_SIZE,
        "Requests written by one write to the socket."
    );
    c!(
        super::DISCARDED_REPLIES,
        "Replies read for callers that had given up."
    );
    c!(
        super::IO,
        Unit::Bytes,
        "Bytes written to and read from the socket."
    );
    c!(super::PUBSUB_MESSAGES, "Pub/sub messages received.");
    c!(
        super::RESUBSCRIPTIONS,
        "Subscriptions made again after a reconnect."
    );
    c!(super::FAILOVERS, "Failovers followed through Sentinel.");
    c!(super::REDIRECTS, "Cluster redirections followed.");
    c!(super::REFRESHES, "Cluster slot-map reads.");
    c!(
        super::SLOT_HOLES,
        "Waits for a cluster slot that no node served."
    );
}

/// `db.system.name`, `server.address`, `server.port`.
fn server_labels(address: &str, port: u16) -> Vec<Label> {
    vec![
        Label::from_static_parts("db.system.name", "redis"),
        Label::new("server.address", address.to_owned()),
        Label::new("server.port", port.to_string()),
    ]
}

/// `labels` and one more.
fn with(
    labels: &[Label],
    key: &'static str,
    value: impl Into<metrics::SharedString>,
) -> Vec<Label> {
    let mut all = labels.to_vec();
    all.push(Label::new(key, value));
    all
}

/// A request's start: when (none when nobody records), and which operation.
pub(crate) struct OpTimer {
    start: Option<Instant>,
    op: u16,
}

/// A handle's operation figures: one histogram per operation name, made
/// the first time the name is sent.
pub(crate) struct OpMeter {
    labels: Vec<Label>,
    ops: Box<[OnceLock<Histogram>]>,
    /// A recorder was installed when the handle was made (see [`recording`]).
    active: bool,
}

/// Whether a recorder is installed: the facade's no-op recorder is the
/// only one of size zero that matters (a real one keeps its series
/// somewhere). Asked once per handle, so that with none a request takes
/// no clock reading and looks no name up: the cost of the feature when
/// nobody listens is then a branch.
fn recording() -> bool {
    metrics::with_recorder(|recorder| std::mem::size_of_val(recorder) != 0)
}

impl OpMeter {
    pub(crate) fn new(config: &Config, _kind: HandleKind) -> Self {
        let (address, port) = endpoint(config);
        OpMeter {
            labels: server_labels(&address, port),
            ops: (0..names::LABELS).map(|_| OnceLock::new()).collect(),
            active: recording(),
        }
    }

    #[inline]
    pub(crate) fn start(&self, cmd: &Cmd) -> OpTimer {
        if !self.active {
            return OpTimer { start: None, op: 0 };
        }
        let op = cmd
            .args_iter()
            .next()
            .map_or(names::OTHER_INDEX, names::index);
        OpTimer {
            start: Some(Instant::now()),
            op,
        }
    }

    /// A timer that records nothing, when no recorder is installed.
    #[cfg(feature = "client-cache")]
    #[inline]
    pub(crate) fn idle(&self) -> Option<OpTimer> {
        (!self.active).then_some(OpTimer { start: None, op: 0 })
    }

    #[inline]
    pub(crate) fn start_pipeline(&self, atomic: bool) -> OpTimer {
        OpTimer {
            start: self.active.then(Instant::now),
            op: if atomic {
                names::TRANSACTION_INDEX
            } else {
                names::PIPELINE_INDEX
            },
        }
    }

    #[inline]
    pub(crate) fn finish(&self, timer: &OpTimer, error: Option<&Error>) {
        let Some(start) = timer.start else {
            return;
        };
        let took = start.elapsed().as_secs_f64();
        match error {
            None => self.histogram(timer.op).record(took),
            Some(error) => self.failed(timer.op, error, took),
        }
    }

    /// The histogram of a successful `op`.
    #[inline]
    fn histogram(&self, op: u16) -> &Histogram {
        self.ops[op as usize].get_or_init(|| {
            let labels = with(&self.labels, "db.operation.name", names::label(op));
            metrics::histogram!(super::OPERATION_DURATION, labels)
        })
    }

    /// A failure: its `error.type` series is looked up now (the error path).
    #[cold]
    fn failed(&self, op: u16, error: &Error, took: f64) {
        let mut labels = with(&self.labels, "db.operation.name", names::label(op));
        labels.push(Label::new("error.type", error_type(error)));
        metrics::histogram!(super::OPERATION_DURATION, labels).record(took);
    }
}

/// A connection actor's figures.
pub(crate) struct ConnMeter {
    labels: Vec<Label>,
    count: Gauge,
    pending: Gauge,
    in_flight: Gauge,
    queued: Gauge,
    batch: Histogram,
    transmit: Counter,
    receive: Counter,
    discarded: Counter,
    messages: Counter,
    resubscriptions: Counter,
    create_time: Histogram,
    /// What this connection last added to the shared gauges.
    up: bool,
    last_in_flight: usize,
    last_queued: usize,
    /// Requests queued for the socket since the last write, and the bytes
    /// written on this connection by then.
    since_write: u32,
    written: u64,
}

impl ConnMeter {
    pub(crate) fn new(config: &Config, kind: HandleKind) -> Self {
        describe();
        let (address, port) = endpoint(config);
        let labels = server_labels(&address, port);
        let pool_name = format!(
            "{} {}",
            kind.name(),
            crate::Addr::Tcp {
                host: address,
                port
            }
        );
        let pool = vec![Label::new("db.client.connection.pool.name", pool_name)];
        let mut attrs = labels.clone();
        attrs.extend(pool.iter().cloned());
        let used = with(&pool, "db.client.connection.state", "used");
        let io = |direction: &'static str| {
            metrics::counter!(super::IO, with(&attrs, "network.io.direction", direction))
        };
        ConnMeter {
            count: metrics::gauge!(super::CONNECTION_COUNT, used),
            pending: metrics::gauge!(super::PENDING_REQUESTS, pool.clone()),
            create_time: metrics::histogram!(super::CREATE_TIME, pool.clone()),
            in_flight: metrics::gauge!(super::IN_FLIGHT, attrs.clone()),
            queued: metrics::gauge!(super::QUEUED, attrs.clone()),
            batch: metrics::histogram!(super::BATCH_SIZE, attrs.clone()),
            transmit: io("transmit"),
            receive: io("receive"),
            discarded: metrics::counter!(super::DISCARDED_REPLIES, attrs.clone()),
            messages: metrics::counter!(super::PUBSUB_MESSAGES, attrs.clone()),
            resubscriptions: metrics::counter!(super::RESUBSCRIPTIONS, attrs.clone()),
            labels: attrs,
            up: false,
            last_in_flight: 0,
            last_queued: 0,
            since_write: 0,
            written: 0,
        }
    }

    pub(crate) fn connected(&mut self, took: Duration) {
        self.create_time.record(took.as_secs_f64());
        if !self.up {
            self.up = true;
            self.count.increment(1.0);
        }
        self.since_write = 0;
        self.written = 0;
    }

    pub(crate) fn disconnected(&mut self, cause: &Error, reconnecting: bool) {
        if self.up {
            self.up = false;
            self.count.decrement(1.0);
        }
        if reconnecting {
            let labels = with(&self.labels, "error.type", error_type(cause));
            metrics::counter!(super::RECONNECTS, labels).increment(1);
        }
    }

    #[inline]
    pub(crate) fn started(&mut self) {
        self.since_write += 1;
    }

    #[inline]
    pub(crate) fn wrote(&mut self, written: u64) {
        let bytes = written.saturating_sub(self.written);
        self.written = written;
        self.transmit.increment(bytes);
        if self.since_write > 0 {
            self.batch.record(f64::from(self.since_write));
            self.since_write = 0;
        }
    }

    #[inline]
    pub(crate) fn read(&mut self, bytes: usize) {
        self.receive.increment(bytes as u64);
    }

    #[inline]
    pub(crate) fn discarded(&self) {
        self.discarded.increment(1);
    }

    /// The queue lengths now; the gauges hear only of changes.
    #[inline]
    pub(crate) fn levels(&mut self, in_flight: usize, queued: usize) {
        if in_flight == self.last_in_flight && queued == self.last_queued {
            return;
        }
        let df = in_flight as f64 - self.last_in_flight as f64;
        let dq = queued as f64 - self.last_queued as f64;
        self.in_flight.increment(df);
        self.queued.increment(dq);
        self.pending.increment(df + dq);
        self.last_in_flight = in_flight;
        self.last_queued = queued;
    }

    #[inline]
    pub(crate) fn message(&self) {
        self.messages.increment(1);
    }

    pub(crate) fn resubscribed(&self) {
        self.resubscriptions.increment(1);
    }

    pub(crate) fn failover(&self) {
        metrics::counter!(super::FAILOVERS, self.labels.clone()).increment(1);
    }
}

impl Drop for ConnMeter {
    fn drop(&mut self) {
        // This connection's share of the shared gauges goes with it.
        self.levels(0, 0);
        if self.up {
            self.count.decrement(1.0);
        }
    }
}

/// A pool's figures.
#[cfg_attr(not(feature = "pool"), allow(dead_code))]
pub(crate) struct PoolMeter {
    wait_time: Histogram,
    create_time: Histogram,
    timeouts: Counter,
    idle: Gauge,
    used: Gauge,
    last: std::sync::atomic::AtomicU64,
}

#[cfg_attr(not(feature = "pool"), allow(dead_code))]
impl PoolMeter {
    pub(crate) fn new(config: &Config) -> Self {
        describe();
        let (address, port) = endpoint(config);
        let name = format!(
            "pool {}",
            crate::Addr::Tcp {
                host: address,
                port
            }
        );
        let pool = vec![Label::new("db.client.connection.pool.name", name)];
        let state = |s: &'static str| {
            metrics::gauge!(
                super::CONNECTION_COUNT,
                with(&pool, "db.client.connection.state", s)
            )
        };
        PoolMeter {
            idle: state("idle"),
            used: state("used"),
            wait_time: metrics::histogram!(super::WAIT_TIME, pool.clone()),
            create_time: metrics::histogram!(super::CREATE_TIME, pool.clone()),
            timeouts: metrics::counter!(super::TIMEOUTS, pool),
            last: std::sync::atomic::AtomicU64::new(0),
        }
    }

    pub(crate) fn checkout<T>(&self, took: Duration, outcome: &Result<T>) {
        self.wait_time.record(took.as_secs_f64());
        if matches!(outcome, Err(e) if e.kind() == crate::ErrorKind::Timeout) {
            self.timeouts.increment(1);
        }
    }

    pub(crate) fn created(&self, took: Duration) {
        self.create_time.record(took.as_secs_f64());
    }

    /// The pool's idle and checked-out connections now (two `u32`s in one
    /// atomic, so that concurrent reports give deltas that add up).
    pub(crate) fn levels(&self, idle: u32, used: u32) {
        use std::sync::atomic::Ordering;
        let now = (u64::from(idle) << 32) | u64::from(used);
        let before = self.last.swap(now, Ordering::AcqRel);
        let (idle0, used0) = ((before >> 32) as u32, before as u32);
        self.idle.increment(f64::from(idle) - f64::from(idle0));
        self.used.increment(f64::from(used) - f64::from(used0));
    }
}

impl Drop for PoolMeter {
    fn drop(&mut self) {
        self.levels(0, 0);
    }
}

/// A cluster router's figures.
pub(crate) struct ClusterMeter {
    labels: Vec<Label>,
    moved: Counter,
    ask: Counter,
    holes: Counter,
    refreshes: Counter,
}

impl ClusterMeter {
    pub(crate) fn new(seed: Option<&crate::Addr>) -> Self {
        describe();
        let (address, port) = seed.map(addr_endpoint).unwrap_or_default();
        let labels = server_labels(&address, port);
        let redirect = |kind: &'static str| {
            metrics::counter!(
                super::REDIRECTS,
                with(&labels, "redwire.redirect.kind", kind)
            )
        };
        ClusterMeter {
            moved: redirect("moved"),
            ask: redirect("ask"),
            holes: metrics::counter!(super::SLOT_HOLES, labels.clone()),
            refreshes: metrics::counter!(super::REFRESHES, labels.clone()),
            labels,
        }
    }

    pub(crate) fn redirect(&self, moved: bool) {
        if moved {
            self.moved.increment(1);
        } else {
            self.ask.increment(1);
        }
    }

    pub(crate) fn refreshed(&self, outcome: &Result<()>) {
        match outcome {
            Ok(()) => self.refreshes.increment(1),
            Err(e) => {
                let labels = with(&self.labels, "error.type", error_type(e));
                metrics::counter!(super::REFRESHES, labels).increment(1);
            }
        }
    }

    pub(crate) fn hole(&self) {
        self.holes.increment(1);
    }
}

/// A client-side cache's figures, reported as the changes since the last
/// report (connections to one server share the series).
#[cfg(feature = "client-cache")]
pub(crate) struct CacheMeter {
    hits: Counter,
    misses: Counter,
    coalesced: Counter,
    evictions: Counter,
    invalidations: Counter,
    flushes: Counter,
    size: Gauge,
    entries: Gauge,
    last: crate::CacheStats,
}

#[cfg(feature = "client-cache")]
impl CacheMeter {
    pub(crate) fn new(config: &Config) -> Self {
        use metrics::{describe_counter as c, describe_gauge as g};
        c!(super::CACHE_REQUESTS, "Cacheable reads, by result.");
        c!(
            super::CACHE_EVICTIONS,
            "Keys evicted from the client-side cache."
        );
        c!(
            super::CACHE_INVALIDATIONS,
            "Cached keys the server invalidated."
        );
        c!(
            super::CACHE_FLUSHES,
            "Times the client-side cache was emptied."
        );
        g!(
            super::CACHE_SIZE,
            Unit::Bytes,
            "Bytes the client-side cache holds."
        );
        g!(super::CACHE_ENTRIES, "Keys the client-side cache holds.");
        let (address, port) = endpoint(config);
        let mut labels = server_labels(&address, port);
        let addr = crate::Addr::Tcp {
            host: address,
            port,
        };
        let pool_name = format!("{} {addr}", HandleKind::Client.name());
        labels.push(Label::new("db.client.connection.pool.name", pool_name));
        let requests = |result: &'static str| {
            metrics::counter!(
                super::CACHE_REQUESTS,
                with(&labels, "redwire.cache.result", result)
            )
        };
        CacheMeter {
            hits: requests("hit"),
            misses: requests("miss"),
            coalesced: requests("coalesced"),
            evictions: metrics::counter!(super::CACHE_EVICTIONS, labels.clone()),
            invalidations: metrics::counter!(super::CACHE_INVALIDATIONS, labels.clone()),
            flushes: metrics::counter!(super::CACHE_FLUSHES, labels.clone()),
            size: metrics::gauge!(super::CACHE_SIZE, labels.clone()),
            entries: metrics::gauge!(super::CACHE_ENTRIES, labels),
            last: crate::CacheStats::default(),
        }
    }

    /// Reports what changed since the last report.
    pub(crate) fn report(&mut self, now: crate::CacheStats) {
        let last = self.last;
        self.hits.increment(now.hits.saturating_sub(last.hits));
        self.misses
            .increment(now.misses.saturating_sub(last.misses));
        self.coalesced
            .increment(now.coalesced.saturating_sub(last.coalesced));
        self.evictions
            .increment(now.evictions.saturating_sub(last.evictions));
        let invalidated = now.invalidations.saturating_sub(last.invalidations);
        self.invalidations.increment(invalidated);
        self.flushes
            .increment(now.flushes.saturating_sub(last.flushes));
        self.size.increment(now.bytes as f64 - last.bytes as f64);
        self.entries
            .increment(now.entries as f64 - last.entries as f64);
        self.last = now;
    }
}

#[cfg(feature = "client-cache")]
impl Drop for CacheMeter {
    fn drop(&mut self) {
        // This cache's share of the gauges goes with it.
        self.size.decrement(self.last.bytes as f64);
        self.entries.decrement(self.last.entries as f64);
    }
}
