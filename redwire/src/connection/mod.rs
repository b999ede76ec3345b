//! The connection actor: one task owns one socket and is the only way to it.
//!
//! The actor is a state machine whose lifecycle reads top to bottom in
//! `lifecycle`:
//!
//! ```text
//!   connect ──ok──▶ serve ──drop──▶ fail written, keep unwritten ──▶ connect
//!      │                                                              ▲
//!      └──error──▶ backoff (exponential, jitter) ────────────────────┘
//! ```
//!
//! The files of this module, one job each:
//!
//! | file | job |
//! |---|---|
//! | `lifecycle` | connect, reconnect with backoff, what a drop does to requests, closing |
//! | `serve` | the poll loop of a live connection: intake, write, read, hand out replies |
//! | `slot` | a request's reply slot: the answer and the caller's waker, reused per thread |
//! | `write_queue` | the bytes waiting for the socket, and how many were written |
//! | `read_buffer` | the bytes read and not yet decoded, and what replies may keep alive |
//! | `wakes` | why the actor was woken: a flag per source, so a poll asks only those |
//! | `watchdog` | dead-server detection, idle health checks, the timer |
//! | `subscriptions` | a subscriber's record of what it is subscribed to, and who decides a subscription's fate |
//! | `gaps` | the markers of a subscriber's drops, in order with its messages |
//! | `push` | telling pushes from replies, and the sinks they go to |
//! | `handshake` | `HELLO`/`AUTH`/`SELECT`/`CLIENT SETINFO` on every connect |
//! | `io` | opening TCP, unix and TLS streams |
//! | `state` | the state and events a user can watch |
//!
//! # The contract
//!
//! **One request, one answer, in order.** Callers send a `Request` (encoded
//! bytes, how many replies they expect, a reply slot for the answer) over a
//! bounded channel. The actor writes requests in the order they came and keeps
//! each as a waiter in a FIFO; each reply completes the oldest waiter. Commands
//! that would break this (no reply, several, pushes, or a change of the
//! connection under the other callers) never get here: the shared client
//! refuses them from one table ([`crate::rules`]). A RESP3 push never completes
//! a waiter. A reply nobody waits for is a protocol violation: everything in
//! flight fails and the connection is replaced.
//!
//! **Automatic pipelining.** On every wake-up the actor takes everything
//! waiting and writes it with as few syscalls as the socket allows. When
//! requests arrive while earlier ones are in flight, the server is busy anyway:
//! the actor yields once so that the callers woken by the last replies can add
//! theirs, and writes them all at once. With nothing in flight it writes at
//! once, so a lone caller pays no latency for this. The channel is taken in
//! batches (`recv_many`), which gives its permits back to the senders once
//! per batch rather than once per request.
//!
//! **Fairness and overlap.** The actor hands out at most a quarter of what
//! is in flight (half, at least 1, up to 64 in flight; at most 256) before
//! it lets the callers it woke run: below 64, smaller chunks made each
//! chunk's callers send their next requests in a write of their own, about
//! one write per request at 16 tasks (see `dispatch_budget` in `serve.rs`).
//! Waking thousands at once would overflow the worker's run queue
//! into tokio's global queue, where some callers wait far longer than
//! others. And handing out all the replies of a batch before any caller can
//! send again makes the client and the server take turns: the server idles
//! while the callers run, the callers wait while it works. In quarters, the
//! first callers' next requests are written while the server still answers
//! the rest (GET at 128 tasks on one shared connection: about 1.5 million
//! requests per second where 128 at a time gave 0.85 million; see
//! BENCHMARKS.md, round 3). The actor runs outside tokio's cooperative
//! budget (which would cut every intake at 128 requests) and keeps a small
//! budget of its own instead.
//!
//! **Cancellation.** A caller that gives up drops its receiver. A request not
//! yet written is then never written; one already written keeps its slot in
//! the FIFO and its reply is read and thrown away.
//!
//! **Disconnects.** A request whose bytes all reached the socket fails with an
//! error that says it may have executed, of the kind of the cause (the
//! connection dropped, the server stopped answering, a malformed reply…).
//! Requests not (completely) written, fire-and-forget ones included, go back to
//! the front of the queue and are sent after the reconnect, unless the client
//! fails fast; but a pipeline cut off after some of its commands reached the
//! socket whole (outside `MULTI`) fails like a written request, since those
//! may have run and would run twice. A connection that completed its handshake and answered requests
//! was a success: the first attempt after its drop is immediate.
//!
//! **Bounded memory.** The channel, the queue and the in-flight FIFO are bounded
//! in requests; the write queue stops filling at 1 MiB and returns to 16 KiB
//! after a large transfer; a large request, or a command's large argument, is
//! written from its own buffer, not copied; one reply is bounded by [`Limits`](redwire_resp::Limits) (1 GiB by
//! default); and a reply never keeps more than 128 KiB, or about its own size,
//! of read buffer alive (see `read_buffer`).
//!
//! **Dead servers.** A timer ticks a few times per response timeout. If
//! requests are outstanding and nothing at all was read for the response
//! timeout, the connection is replaced. When idle for the health-check
//! interval, a `PING` is sent, which the same rule then covers.
//!
//! **Ending.** The actor ends when every handle is dropped (after answering
//! what was already sent, if connected), when [`Client::close`](crate::Client::close)
//! asks, or when reconnecting gives up. Requests abandoned while disconnected
//! never keep it alive.

#[cfg(feature = "sim")]
#[doc(hidden)]
pub mod bugs;
#[cfg(not(feature = "sim"))]
pub(crate) mod bugs;
pub(crate) mod gaps;
mod handshake;
pub(crate) mod io;
mod lifecycle;
#[cfg(feature = "sim")]
#[doc(hidden)]
pub mod memory;
pub(crate) mod push;
mod read_buffer;
pub(crate) mod reply;
pub(crate) mod sentinel;
mod serve;
pub(crate) mod slot;
pub(crate) mod state;
pub(crate) mod subscriptions;
mod wakes;
mod watchdog;
mod write_queue;

use crate::wire::Wire;

use crate::config::Config;
use crate::error::Error;
use bytes::Bytes;
use read_buffer::ReadBuffer;
use redwire_resp::Frame;
use state::Shared;
use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::time::Instant;
use watchdog::{Tick, Watchdog};
use write_queue::WriteQueue;

pub(crate) use reply::Reply;
pub(crate) use slot::{ReplyReceiver, ReplySender};

/// What a handle sends to the actor.
pub(crate) enum Msg {
    Request(Request),
    /// Stop taking requests, answer what was sent within `grace`, then end.
    Close {
        grace: Duration,
    },
    /// A subscriber's (un)subscription.
    Subscription(subscriptions::Subscription),
}

/// One command, or a pipeline's commands, and where its answer goes.
pub(crate) struct Request {
    /// One command, or a pipeline's commands back to back.
    pub(crate) bytes: Wire,
    /// How many replies the bytes produce.
    pub(crate) replies: usize,
    /// Where the answer goes; [`ReplySender::none`] when nobody wants it.
    pub(crate) tx: ReplySender,
    /// How long the server may legitimately keep silent about it, on top of
    /// the response timeout: a blocking command's own timeout
    /// (`Duration::MAX`: for ever). Zero for everything else.
    pub(crate) patience: Duration,
    /// Its replies are subscription confirmations, of its command for its
    /// names (see [`subscriptions::Awaited`]): one error answers the whole
    /// request, and it is written again after a drop (it is idempotent).
    pub(crate) confirms: Option<Box<subscriptions::Awaited>>,
    /// An event to emit once it is answered (a resubscription).
    pub(crate) announce: Option<Box<state::Event>>,
    /// A cache miss: where its reply is stored (see `cache`).
    #[cfg_attr(not(feature = "client-cache"), allow(dead_code))]
    pub(crate) fill: CacheFill,
}

/// A request's cache fill; nothing at all without the `client-cache` feature.
#[cfg(feature = "client-cache")]
pub(crate) type CacheFill = Option<Box<crate::cache::flight::Fill>>;
/// A request's cache fill; nothing at all without the `client-cache` feature.
#[cfg(not(feature = "client-cache"))]
pub(crate) type CacheFill = Option<std::convert::Infallible>;

impl Request {
    /// An internal request whose reply nobody reads (the health check).
    fn internal(bytes: Bytes) -> Request {
        Request {
            bytes: bytes.into(),
            replies: 1,
            tx: ReplySender::none(),
            patience: Duration::ZERO,
            confirms: None,
            announce: None,
            fill: None,
        }
    }

    /// The caller gave up (timed out or dropped its future).
    fn abandoned(&self) -> bool {
        self.tx.is_closed()
    }

    fn fail(self, err: Error) {
        let _ = self.tx.send(Err(err));
    }
}

/// A request written (or being written) on this connection, waiting for replies.
///
/// Kept within 128 bytes, so that moving it in and out of the FIFO is inline
/// code rather than a `memcpy` call: the replies of a pipeline are collected
/// in the actor's `collected`, since only the oldest waiter can have some.
struct Waiter {
    request: Request,
    /// Where its bytes end in this connection's output stream.
    end: u64,
}

/// Why the actor is winding down.
struct Closing {
    reason: String,
    /// When what is still in flight is given up ([`Client::close`]'s grace).
    deadline: Option<Instant>,
}

pub(crate) struct Actor {
    config: Arc<Config>,
    shared: Arc<Shared>,
    rx: mpsc::Receiver<Msg>,
    /// The intake's batch, kept for its capacity (empty between intakes).
    batch: Vec<Msg>,
    /// Messages taken in the same batch as a close, after it.
    behind_close: Vec<Msg>,
    connector: io::Connector,
    /// Set when every handle is gone or `close` was called: take no more
    /// requests, finish what was taken, then stop.
    closing: Option<Closing>,
    /// Received, not yet written; survives reconnects.
    pending: VecDeque<Request>,
    pending_limit: usize,
    in_flight: VecDeque<Waiter>,
    /// Replies collected so far for the oldest waiter, when it expects
    /// several (a pipeline).
    collected: Vec<Frame>,
    /// Replies expected by `in_flight`, counted against `max_in_flight`.
    in_flight_replies: usize,
    out: WriteQueue,
    input: ReadBuffer,
    /// Yielded once to gather more requests since the last write.
    deferred: bool,
    /// Reads that returned bytes, for the watchdog.
    reads: u64,
    /// Replies handed to waiters on the current connection.
    answered: u64,
    watchdog: Watchdog,
    tick: Tick,
    /// Make a new connection after a drop (a shared client), or end with the
    /// first connection (a dedicated one, whose session a new one would lose).
    reconnect: bool,
    /// Where frames that are not replies go.
    push: push::Sink,
    /// A push the sink had no room for: nothing more is read until it has.
    held: Option<Frame>,
    /// A subscriber's record of its subscriptions.
    subscriptions: Option<Arc<std::sync::Mutex<subscriptions::Registry>>>,
    /// A subscriber's gap markers, and whether a drop awaits its
    /// resubscription's marker.
    gaps: Option<Arc<gaps::Gaps>>,
    gap_open: bool,
    /// The RESP version of the current connection.
    resp: u8,
    /// A `MONITOR` feed: what is not a reply is a line of the feed.
    monitor: bool,
    /// The first connection attempt is over (fail-fast applies from then on).
    attempted: bool,
    /// Found through Sentinel: bumped when the Sentinels announce a new
    /// primary (`+switch-master`).
    switched: Option<tokio::sync::watch::Receiver<u64>>,
    /// The connection's metrics (nothing without the `metrics` feature).
    meter: crate::telemetry::meter::ConnMeter,
    /// The client-side cache this actor alone writes (see `cache`), and
    /// its meter.
    #[cfg(feature = "client-cache")]
    cache: Option<(
        Arc<crate::cache::Cache>,
        crate::telemetry::meter::CacheMeter,
    )>,
}

impl Actor {
    pub(crate) fn new(
        config: Arc<Config>,
        shared: Arc<Shared>,
        rx: mpsc::Receiver<Msg>,
        kind: Kind,
    ) -> Self {
        let monitor = matches!(kind, Kind::Monitor(_));
        let meter = crate::telemetry::meter::ConnMeter::new(&config, kind.handle());
        let (reconnect, push, subscriptions, gaps) = match kind {
            Kind::Shared(push) => (true, push, None, None),
            Kind::Dedicated(push) => (false, push, None, None),
            Kind::Subscriber(push, registry, gaps) => (true, push, Some(registry), Some(gaps)),
            Kind::Monitor(push) => (true, push, None, None),
        };
        let watchdog = Watchdog::new(&config);
        #[cfg(feature = "client-cache")]
        let cache = shared
            .cache
            .clone()
            .map(|c| (c, crate::telemetry::meter::CacheMeter::new(&config)));
        Actor {
            pending_limit: config.channel_capacity.max(64),
            connector: io::Connector::new(config.clone()),
            input: ReadBuffer::new(config.limits),
            tick: Tick::new(watchdog.period),
            watchdog,
            config,
            shared,
            rx,
            batch: Vec::new(),
            behind_close: Vec::new(),
            closing: None,
            pending: VecDeque::new(),
            in_flight: VecDeque::new(),
            collected: Vec::new(),
            in_flight_replies: 0,
            out: WriteQueue::new(),
            deferred: false,
            reads: 0,
            answered: 0,
            reconnect,
            push,
            held: None,
            subscriptions,
            gaps,
            gap_open: false,
            resp: 2,
            monitor,
            attempted: false,
            switched: None,
            meter,
            #[cfg(feature = "client-cache")]
            cache,
        }
    }
}

/// What an actor serves.
pub(crate) enum Kind {
    /// A shared client: reconnects; pushes dropped when nobody keeps up.
    Shared(push::Sink),
    /// A dedicated connection: ends with its first connection.
    Dedicated(push::Sink),
    /// A subscriber: reconnects and subscribes again; its messages push
    /// back; its drops are marked in its stream.
    Subscriber(
        push::Sink,
        Arc<std::sync::Mutex<subscriptions::Registry>>,
        Arc<gaps::Gaps>,
    ),
    /// A `MONITOR` feed: reconnects and sends `MONITOR` again; every line
    /// the server sends after its `OK` goes to the sink, which pushes back.
    Monitor(push::Sink),
}

impl Kind {
    /// The handle it serves, for the metrics' attributes.
    pub(crate) fn handle(&self) -> crate::telemetry::HandleKind {
        use crate::telemetry::HandleKind;
        match self {
            Kind::Shared(_) => HandleKind::Client,
            Kind::Dedicated(_) => HandleKind::Connection,
            Kind::Subscriber(..) => HandleKind::Subscriber,
            Kind::Monitor(_) => HandleKind::Monitor,
        }
    }
}

/// A waker that does nothing, for unit tests that poll by hand.
#[cfg(test)]
pub(crate) fn noop_waker() -> std::task::Waker {
    struct Noop;
    impl std::task::Wake for Noop {
        fn wake(self: Arc<Self>) {}
    }
    std::task::Waker::from(Arc::new(Noop))
}

#[cfg(test)]
mod sizes {
    /// Moves of a waiter or a message stay inline code (see `Waiter`).
    #[test]
    fn a_waiter_and_a_message_fit_in_128_bytes() {
        assert!(std::mem::size_of::<super::Waiter>() <= 128);
        assert!(std::mem::size_of::<super::Msg>() <= 128);
    }
}
