//! The connection actor: one task owns one socket and is the only way to it.
//!
//! Read this file top to bottom as a state machine:
//!
//! ```text
//!   connect ──ok──▶ serve ──drop──▶ fail written, keep unwritten ──▶ connect
//!      │                                                              ▲
//!      └──error──▶ backoff (exponential, jitter) ────────────────────┘
//! ```
//!
//! **Serving.** Callers send a `Request` (encoded bytes, how many replies they
//! expect, a oneshot for the answer) over a bounded channel. On every wake-up the
//! actor takes everything waiting, copies it into one write buffer and writes it
//! with as few syscalls as the socket allows; each request becomes a `Waiter` at
//! the back of the in-flight FIFO. Replies complete waiters from the front. This is
//! automatic pipelining across callers.
//!
//! **Batching that does not depend on scheduling luck.** When requests arrive
//! while earlier ones are still in flight, the server is busy anyway: the actor
//! then yields once (it wakes itself, which puts it at the back of the run queue)
//! so that the other callers woken by the last batch of replies can add their
//! requests, and writes them all at once. With nothing in flight it writes at
//! once, so a lone caller pays no latency for this.
//!
//! **Fairness.** Callers are served in FIFO order, and the actor hands out at
//! most 128 replies before it yields so that the callers it woke can run: waking
//! thousands at once would overflow the worker's run queue into tokio's global
//! queue, where some callers wait many times longer than others. The actor runs
//! outside tokio's cooperative budget (which would cut every intake at 128
//! requests) and keeps a small budget of its own instead.
//!
//! **Cancellation.** A caller that gives up drops its receiver. A dropped request
//! still in the queue is never written; one already written keeps its slot in the
//! FIFO and its reply is read and thrown away, so no reply can reach the wrong
//! caller.
//!
//! **Disconnects.** A request whose bytes were all handed to the socket fails with
//! a connection-lost error saying it may have executed; requests not (completely)
//! written go back to the front of the queue and are sent after the reconnect,
//! unless the client fails fast or their caller has gone.
//!
//! **Bounded memory.** The channel, the queue, the in-flight FIFO and the write
//! buffer are all bounded; when they are full, callers wait. The read buffer only
//! ever holds one incomplete frame, every complete one is handed out at once.
//!
//! **Dead servers.** A timer ticks a few times per response timeout. If requests
//! are outstanding and nothing at all was read for the response timeout, the
//! connection is replaced. When idle for the health-check interval, a `PING` is
//! sent, which the same rule then covers.

mod handshake;
pub(crate) mod io;
pub(crate) mod state;

use crate::config::Config;
use crate::error::{Error, ErrorKind, Result};
use bytes::{Buf, Bytes, BytesMut};
use io::Transport;
use redwire_resp::{Decoder, Frame};
use state::{ConnectionState, Event, Shared};
use std::collections::VecDeque;
use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::AsyncWrite;
use tokio::sync::{mpsc, oneshot};
use tokio::time::{Instant, Sleep};

/// Stop filling the write buffer past this; the rest waits its turn.
const WRITE_BUFFER_LIMIT: usize = 1 << 20;
/// A connection that lasted less than this before dropping counts as a failed
/// attempt for the backoff.
const STABLE_AFTER: Duration = Duration::from_secs(1);
/// Rounds of intake, write and read in one poll before the actor yields, so a
/// connection under constant load cannot starve the tasks beside it. (The actor
/// runs outside tokio's cooperative budget, which would split every intake.)
const POLL_BUDGET: usize = 4;
/// Replies handed out before the actor lets the woken callers run.
const DISPATCH_BUDGET: usize = 128;
/// Keep at least this much room for the next read.
const READ_CHUNK: usize = 16 * 1024;

/// The answer to a request.
#[derive(Debug)]
pub(crate) enum Reply {
    One(Frame),
    Many(Vec<Frame>),
}

pub(crate) type ReplySender = oneshot::Sender<Result<Reply>>;

/// What a caller sends to the actor.
pub(crate) struct Request {
    /// One command, or a pipeline's commands back to back.
    pub(crate) bytes: Bytes,
    /// How many replies the bytes produce.
    pub(crate) replies: usize,
    /// Where the answer goes; `None` when the caller does not want it.
    pub(crate) tx: Option<ReplySender>,
}

impl Request {
    /// The caller gave up (timed out or dropped its future).
    fn abandoned(&self) -> bool {
        self.tx.as_ref().is_some_and(|tx| tx.is_closed())
    }

    fn fail(self, err: Error) {
        if let Some(tx) = self.tx {
            let _ = tx.send(Err(err));
        }
    }
}

/// A request written (or being written) on this connection, waiting for replies.
struct Waiter {
    request: Request,
    /// Replies collected so far, for a pipeline.
    frames: Vec<Frame>,
    /// Where its bytes end in this connection's output stream.
    end: u64,
}

/// Why serving stopped.
enum Stop {
    /// The connection failed; reconnect.
    Lost(Error),
    /// Every handle dropped and nothing is left to answer.
    Done,
}

pub(crate) struct Actor {
    config: Arc<Config>,
    shared: Arc<Shared>,
    rx: mpsc::Receiver<Request>,
    /// Every handle is gone: finish what is queued, then stop.
    closing: bool,
    /// Received, not yet written; survives reconnects.
    pending: VecDeque<Request>,
    pending_limit: usize,
    in_flight: VecDeque<Waiter>,
    /// Replies expected by `in_flight`, counted against `max_in_flight`.
    in_flight_replies: usize,
    wbuf: BytesMut,
    /// Bytes put into `wbuf` and bytes written, since this connection opened.
    queued: u64,
    written: u64,
    needs_flush: bool,
    /// Yielded once to gather more requests since the last write.
    deferred: bool,
    rbuf: BytesMut,
    decoder: Decoder,
    /// Count of reads, for the response-timeout check.
    reads: u64,
    watchdog: Watchdog,
}

impl Actor {
    pub(crate) fn new(
        config: Arc<Config>,
        shared: Arc<Shared>,
        rx: mpsc::Receiver<Request>,
    ) -> Self {
        let pending_limit = config.channel_capacity.max(64);
        Actor {
            watchdog: Watchdog::new(&config),
            config,
            shared,
            rx,
            closing: false,
            pending: VecDeque::new(),
            pending_limit,
            in_flight: VecDeque::new(),
            in_flight_replies: 0,
            wbuf: BytesMut::with_capacity(16 * 1024),
            queued: 0,
            written: 0,
            needs_flush: false,
            deferred: false,
            rbuf: BytesMut::with_capacity(READ_CHUNK),
            decoder: Decoder::new(),
            reads: 0,
        }
    }

    /// Runs until every handle is dropped or reconnecting gives up. With `first`,
    /// the first connection attempt's outcome is reported there, and a failure
    /// ends the actor (that is [`Client::connect`](crate::Client::connect)).
    pub(crate) async fn run(mut self, mut first: Option<oneshot::Sender<Result<()>>>) {
        let mut failures = 0u32;
        loop {
            self.shared.set(ConnectionState::Connecting);
            let attempt =
                tokio::time::timeout(self.config.connect_timeout, open(self.config.clone()));
            let result = match self.while_disconnected(attempt).await {
                None => return self.close("every client handle was dropped".into()),
                Some(Ok(r)) => r,
                Some(Err(_)) => Err(Error::new(
                    ErrorKind::Timeout,
                    format!(
                        "timed out connecting to {} after {:?}",
                        self.config.addr, self.config.connect_timeout
                    ),
                )),
            };
            let error = match result {
                Ok((transport, resp, rbuf)) => {
                    self.rbuf = rbuf;
                    self.decoder.reset();
                    if let Some(tx) = first.take() {
                        let _ = tx.send(Ok(()));
                    }
                    self.shared.set_last_error(None);
                    self.shared.set(ConnectionState::Connected);
                    self.shared.emit(Event::Connected {
                        addr: self.config.addr.to_string(),
                        resp,
                    });
                    tracing::debug!(addr = %self.config.addr, resp, "connected");
                    let since = Instant::now();
                    let reason = match self.serve(transport).await {
                        Stop::Done => return self.close("every client handle was dropped".into()),
                        Stop::Lost(reason) => reason,
                    };
                    tracing::debug!(addr = %self.config.addr, %reason, "disconnected");
                    self.disconnected(&reason);
                    self.shared.set_last_error(Some(reason.clone()));
                    self.shared.emit(Event::Disconnected {
                        reason: reason.clone(),
                    });
                    if since.elapsed() >= STABLE_AFTER {
                        // A connection that served a while: the first attempt
                        // after its drop is immediate.
                        failures = 0;
                        continue;
                    }
                    // One that dies at once (a server that accepts, then fails
                    // every time) counts as a failed attempt, or we would spin.
                    reason
                }
                Err(error) => {
                    if let Some(tx) = first.take() {
                        let _ = tx.send(Err(error.clone()));
                        return self.close(format!("the first connection failed: {error}"));
                    }
                    self.shared.set_last_error(Some(error.clone()));
                    if self.config.fail_fast {
                        let err = self.not_connected();
                        self.pending.drain(..).for_each(|r| r.fail(err.clone()));
                    }
                    error
                }
            };
            failures += 1;
            let backoff = &self.config.backoff;
            if backoff.max_attempts.is_some_and(|max| failures >= max) {
                return self.close(format!(
                    "gave up after {failures} failed connection attempts; last error: {error}"
                ));
            }
            let delay = backoff.delay(failures, fastrand::f64());
            tracing::debug!(attempt = failures, ?delay, %error, "reconnecting");
            self.shared.set(ConnectionState::Reconnecting);
            self.shared.emit(Event::Reconnecting {
                attempt: failures,
                delay,
                error,
            });
            if self
                .while_disconnected(tokio::time::sleep(delay))
                .await
                .is_none()
            {
                return self.close("every client handle was dropped".into());
            }
        }
    }

    /// Runs `fut` while taking in requests: kept for later, or failed at once when
    /// the client fails fast. `None` when every handle is gone and nothing waits.
    async fn while_disconnected<F: std::future::Future>(&mut self, fut: F) -> Option<F::Output> {
        tokio::pin!(fut);
        loop {
            if self.closing && self.pending.is_empty() {
                return None;
            }
            if self.pending.len() >= self.pending_limit {
                // Callers that gave up free their place.
                self.pending.retain(|r| !r.abandoned());
            }
            let room = !self.closing && self.pending.len() < self.pending_limit;
            tokio::select! {
                out = &mut fut => return Some(out),
                req = self.rx.recv(), if room => match req {
                    None => self.closing = true,
                    Some(req) if self.config.fail_fast => req.fail(self.not_connected()),
                    Some(req) => self.pending.push_back(req),
                },
            }
        }
    }

    fn not_connected(&self) -> Error {
        let why = self
            .shared
            .last_error()
            .map(|e| format!(": {e}"))
            .unwrap_or_default();
        Error::new(
            ErrorKind::NotConnected,
            format!(
                "not connected to {} (fail-fast is on){why}",
                self.config.addr
            ),
        )
    }

    fn close(mut self, reason: String) {
        tracing::debug!(%reason, "client closed");
        let err = Error::closed(&reason);
        self.pending.drain(..).for_each(|r| r.fail(err.clone()));
        self.rx.close();
        while let Ok(req) = self.rx.try_recv() {
            req.fail(err.clone());
        }
        self.shared.set(ConnectionState::Closed);
        self.shared.emit(Event::Closed { reason });
    }

    /// After a drop: fail what was written, requeue what was not.
    fn disconnected(&mut self, reason: &Error) {
        let mut requeue = Vec::new();
        for waiter in self.in_flight.drain(..) {
            if waiter.end <= self.written {
                waiter.request.fail(Error::connection_lost(reason, true));
            } else if waiter.request.tx.is_some() {
                requeue.push(waiter.request);
            }
        }
        for req in requeue.into_iter().rev() {
            self.pending.push_front(req);
        }
        if self.config.fail_fast {
            let err = Error::connection_lost(reason, false);
            self.pending.drain(..).for_each(|r| r.fail(err.clone()));
        }
        self.in_flight_replies = 0;
        self.wbuf.clear();
        self.rbuf.clear();
        self.decoder.reset();
        self.queued = 0;
        self.written = 0;
        self.needs_flush = false;
        self.deferred = false;
    }

    async fn serve(&mut self, mut transport: Transport) -> Stop {
        self.watchdog.start(self.reads + self.written);
        // What arrived right behind the handshake's replies is already buffered.
        if let Err(e) = self.dispatch_buffered(usize::MAX) {
            return Stop::Lost(e);
        }
        let mut tick = Box::pin(tokio::time::sleep(self.watchdog.period));
        poll_fn(|cx| self.poll_serve(cx, &mut transport, tick.as_mut())).await
    }

    fn poll_serve(
        &mut self,
        cx: &mut Context<'_>,
        t: &mut Transport,
        mut tick: Pin<&mut Sleep>,
    ) -> Poll<Stop> {
        for _ in 0..POLL_BUDGET {
            let received = self.intake(cx);
            if received && !self.in_flight.is_empty() && !self.deferred {
                // See "Batching" in the module doc.
                self.deferred = true;
                cx.waker().wake_by_ref();
                return Poll::Pending;
            }
            self.fill_write_buffer();
            let wrote = match self.poll_write(cx, t) {
                Ok(wrote) => wrote,
                Err(e) => return Poll::Ready(Stop::Lost(e)),
            };
            let handed = match self.poll_read(cx, t) {
                Ok(handed) => handed,
                Err(e) => return Poll::Ready(Stop::Lost(e)),
            };
            if handed >= DISPATCH_BUDGET {
                // As many callers were just woken as a worker's run queue holds
                // well: let them run (and send again) before handing out more.
                // Waking thousands at once spills them into tokio's global
                // queue, where some wait far longer than others.
                self.deferred = true;
                cx.waker().wake_by_ref();
                return Poll::Pending;
            }
            let read = handed > 0;
            if self.closing
                && self.pending.is_empty()
                && self.in_flight.is_empty()
                && self.wbuf.is_empty()
            {
                return Poll::Ready(Stop::Done);
            }
            let mut timer = false;
            if tick.as_mut().poll(cx).is_ready() {
                if let Err(e) = self.on_tick() {
                    return Poll::Ready(Stop::Lost(e));
                }
                tick.as_mut().reset(Instant::now() + self.watchdog.period);
                timer = true;
            }
            if !(received || wrote || read || timer) {
                return Poll::Pending;
            }
        }
        // Still busy: let the other tasks of this thread run, then go on.
        cx.waker().wake_by_ref();
        Poll::Pending
    }

    /// Moves waiting requests from the channel into the queue. True if any came.
    fn intake(&mut self, cx: &mut Context<'_>) -> bool {
        let mut received = false;
        while !self.closing && self.pending.len() < self.pending_limit {
            match self.rx.poll_recv(cx) {
                Poll::Ready(Some(req)) => {
                    self.pending.push_back(req);
                    received = true;
                }
                Poll::Ready(None) => self.closing = true,
                Poll::Pending => break,
            }
        }
        received
    }

    /// Encodes queued requests into the write buffer, within the in-flight limit.
    fn fill_write_buffer(&mut self) {
        while let Some(req) = self.pending.front() {
            let over_limit = self.in_flight_replies + req.replies > self.config.max_in_flight
                && !self.in_flight.is_empty();
            if over_limit || self.wbuf.len() >= WRITE_BUFFER_LIMIT {
                break;
            }
            let Some(req) = self.pending.pop_front() else {
                break;
            };
            if req.abandoned() {
                continue;
            }
            self.wbuf.extend_from_slice(&req.bytes);
            self.queued += req.bytes.len() as u64;
            self.in_flight_replies += req.replies;
            let frames = if req.replies > 1 {
                Vec::with_capacity(req.replies)
            } else {
                Vec::new()
            };
            self.in_flight.push_back(Waiter {
                request: req,
                frames,
                end: self.queued,
            });
        }
    }

    /// Writes as much of the write buffer as the socket takes. True on progress.
    fn poll_write(&mut self, cx: &mut Context<'_>, t: &mut Transport) -> Result<bool> {
        let mut progress = false;
        while !self.wbuf.is_empty() {
            match Pin::new(&mut *t).poll_write(cx, &self.wbuf) {
                Poll::Ready(Ok(0)) => {
                    return Err(Error::io(
                        "write failed",
                        std::io::ErrorKind::WriteZero.into(),
                    ))
                }
                Poll::Ready(Ok(n)) => {
                    self.wbuf.advance(n);
                    self.written += n as u64;
                    self.needs_flush = true;
                    self.deferred = false;
                    progress = true;
                }
                Poll::Ready(Err(e)) => return Err(Error::io("write failed", e)),
                Poll::Pending => break,
            }
        }
        if self.needs_flush {
            match Pin::new(&mut *t).poll_flush(cx) {
                Poll::Ready(Ok(())) => self.needs_flush = false,
                Poll::Ready(Err(e)) => return Err(Error::io("write failed", e)),
                Poll::Pending => {}
            }
        }
        Ok(progress)
    }

    /// Hands out buffered replies, and reads once if the socket is ready and the
    /// dispatch budget is not spent. Returns how many frames were handed out.
    fn poll_read(&mut self, cx: &mut Context<'_>, t: &mut Transport) -> Result<usize> {
        let mut handed = self.dispatch_buffered(DISPATCH_BUDGET)?;
        if handed == DISPATCH_BUDGET {
            return Ok(handed);
        }
        let want = match self.decoder.needed_len() {
            Some(total) if total > self.rbuf.len() + READ_CHUNK => total - self.rbuf.len(),
            _ => READ_CHUNK,
        };
        if self.rbuf.capacity() - self.rbuf.len() < READ_CHUNK {
            self.rbuf.reserve(want);
        }
        match tokio_util::io::poll_read_buf(Pin::new(&mut *t), cx, &mut self.rbuf) {
            Poll::Pending => Ok(handed),
            Poll::Ready(Ok(0)) => Err(Error::io(
                "the server closed the connection",
                std::io::ErrorKind::UnexpectedEof.into(),
            )),
            Poll::Ready(Ok(_)) => {
                self.reads += 1;
                handed += self.dispatch_buffered(DISPATCH_BUDGET - handed)?;
                // A read that completed nothing is still progress (a large
                // reply arriving in pieces).
                Ok(handed.max(1))
            }
            Poll::Ready(Err(e)) => Err(Error::io("read failed", e)),
        }
    }

    /// Hands out up to `limit` complete frames from the read buffer.
    fn dispatch_buffered(&mut self, limit: usize) -> Result<usize> {
        let mut handed = 0;
        while handed < limit {
            let Some(frame) = self.decoder.decode(&mut self.rbuf)? else {
                break;
            };
            self.dispatch(frame)?;
            handed += 1;
        }
        Ok(handed)
    }

    /// Gives a reply to the oldest waiter.
    fn dispatch(&mut self, frame: Frame) -> Result<()> {
        if frame.is_push() {
            // Out-of-band: never the answer to a request.
            tracing::trace!("push frame dropped: no subscriber");
            return Ok(());
        }
        let Some(waiter) = self.in_flight.front_mut() else {
            return Err(Error::protocol(
                "the server sent a reply that no request was waiting for",
            ));
        };
        let reply = if waiter.request.replies == 1 {
            Reply::One(frame)
        } else {
            waiter.frames.push(frame);
            if waiter.frames.len() < waiter.request.replies {
                return Ok(());
            }
            Reply::Many(std::mem::take(&mut waiter.frames))
        };
        if let Some(waiter) = self.in_flight.pop_front() {
            self.in_flight_replies -= waiter.request.replies;
            if let Some(tx) = waiter.request.tx {
                // A caller that gave up dropped its receiver: the reply is discarded.
                let _ = tx.send(Ok(reply));
            }
        }
        Ok(())
    }

    /// The timer: dead-server detection and idle health checks.
    fn on_tick(&mut self) -> Result<()> {
        let busy = !self.in_flight.is_empty();
        // Bytes moving either way show the server is alive.
        match self.watchdog.check(busy, self.reads + self.written) {
            Check::Fine => Ok(()),
            Check::Dead(after) => Err(Error::new(
                ErrorKind::Timeout,
                format!("the server did not answer for {after:?}; the connection is replaced"),
            )),
            Check::Idle => {
                let mut ping = BytesMut::new();
                redwire_resp::encode_command(&mut ping, ["PING"]);
                self.pending.push_back(Request {
                    bytes: ping.freeze(),
                    replies: 1,
                    tx: None,
                });
                Ok(())
            }
        }
    }
}

/// Opens a stream and runs the handshake on it; returns the stream, the RESP
/// version and the read buffer (which may already hold the start of a reply).
async fn open(config: Arc<Config>) -> Result<(Transport, u8, BytesMut)> {
    let mut transport = io::open(&config).await?;
    let mut rbuf = BytesMut::with_capacity(READ_CHUNK);
    let mut decoder = Decoder::new();
    let negotiated = handshake::handshake(&mut transport, &config, &mut rbuf, &mut decoder).await?;
    Ok((transport, negotiated.resp, rbuf))
}

/// Timekeeping for the response timeout and the health check, done per tick
/// rather than per request so that the hot path reads no clock.
struct Watchdog {
    period: Duration,
    response_timeout: Option<Duration>,
    health_interval: Option<Duration>,
    /// Last tick at which nothing was outstanding or something was read.
    last_progress: Instant,
    /// Last tick at which anything was outstanding or read.
    last_activity: Instant,
    reads_seen: u64,
}

enum Check {
    Fine,
    Dead(Duration),
    Idle,
}

impl Watchdog {
    fn new(config: &Config) -> Self {
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

    fn start(&mut self, reads: u64) {
        self.last_progress = Instant::now();
        self.last_activity = self.last_progress;
        self.reads_seen = reads;
    }

    fn check(&mut self, busy: bool, reads: u64) -> Check {
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
