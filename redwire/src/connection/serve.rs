//! The poll loop of a live connection: take requests in, write them, read
//! replies and hand each to the oldest waiter, and let the timer check the
//! server's health. See the module doc of [`connection`](super) for batching,
//! fairness and cancellation.

use super::io::Transport;
use super::wakes::Wakes;
use super::watchdog::Check;
use super::{push, Actor, Msg, Reply, Request, Waiter};
use crate::error::{Error, ErrorKind, Result};
use crate::telemetry::metered;
use redwire_resp::Frame;
use std::future::poll_fn;
use std::task::{Context, Poll};
use tokio::time::Instant;

/// Rounds of intake, write and read in one poll before the actor yields, so a
/// connection under constant load cannot starve the tasks beside it. (The actor
/// runs outside tokio's cooperative budget, which would split every intake.)
const POLL_BUDGET: usize = 4;
/// Most replies handed out before the actor lets the woken callers run (see
/// [`dispatch_budget`]).
const DISPATCH_MAX: usize = 256;

/// How many replies the actor hands out before it lets the callers it woke
/// run, with `in_flight` requests in flight: half of them (at least 1) up to
/// 64, then a quarter, at most 256 (see "Fairness and overlap" in the module
/// doc of `connection`).
///
/// Each chunk's callers run and send before the next chunk is handed out,
/// and their requests go out in one write: the chunk is the write's size.
/// Chunks of an eighth (before) were 2 requests at 16 tasks; written a few
/// at a time, they were answered a few at a time, and the connection settled
/// into about one write per request. All at once makes the server idle while
/// the callers run. Halves keep one half at the server while the other's
/// callers run. GET at 16/32/64 tasks on one shared connection, 2-core VM,
/// interleaved, 5 runs, median ops/s after ÷ before (eighths): ct 2.8, 1.8,
/// 1.6; mt1 2.1, 2.0, 1.4; writes per request at 16 tasks 0.91 -> 0.18,
/// CPU µs per request 5.5 -> 1.7 (ct). All at once (tried): 0.063 writes per
/// request at 16 tasks but 0.84 and 0.69 times eighths' ops/s at 32 and 64.
#[inline]
fn dispatch_budget(in_flight: usize) -> usize {
    if in_flight <= 64 {
        (in_flight / 2).max(1)
    } else {
        (in_flight / 4).min(DISPATCH_MAX)
    }
}
/// Most messages taken off the channel in one batch.
const INTAKE_BATCH: usize = 256;

/// Why serving stopped.
pub(super) enum Stop {
    /// The connection failed; reconnect.
    Lost(Error),
    /// The actor is closing and has nothing left to answer (or its grace ran out).
    Done,
}

impl Actor {
    pub(super) async fn serve(&mut self, mut transport: Transport) -> Stop {
        self.watchdog.start(self.reads);
        // What arrived right behind the handshake's replies is already buffered.
        if let Err(e) = self.dispatch_buffered(usize::MAX) {
            return Stop::Lost(e);
        }
        self.reset_tick();
        let mut wakes: Option<Wakes> = None;
        poll_fn(|cx| {
            let wakes = match &mut wakes {
                Some(w) => {
                    w.register(cx.waker());
                    w
                }
                None => wakes.insert(Wakes::new(cx.waker())),
            };
            let poll = self.poll_serve(cx, &mut transport, wakes);
            // Once per pass, not per request (see `telemetry::meter`).
            metered!(self.meter.levels(self.in_flight.len(), self.pending.len()));
            poll
        })
        .await
    }

    fn poll_serve(&mut self, cx: &mut Context<'_>, t: &mut Transport, wakes: &Wakes) -> Poll<Stop> {
        for _ in 0..POLL_BUDGET {
            let budget = dispatch_budget(self.in_flight.len());
            let idle = self.in_flight.is_empty();
            let received = wakes.take_channel() && self.intake(wakes);
            if received && !idle && !self.deferred {
                // See "Automatic pipelining" in the module doc.
                self.deferred = true;
                cx.waker().wake_by_ref();
                return Poll::Pending;
            }
            self.fill_write_queue();
            let wrote = match self.out.poll_write(cx, t) {
                Ok(wrote) => wrote,
                Err(e) => return Poll::Ready(Stop::Lost(e)),
            };
            if wrote {
                self.deferred = false;
                metered!(self.meter.wrote(self.out.written()));
            }
            let handed = match self.poll_read(cx, t, wakes, budget) {
                Ok(handed) => handed,
                Err(e) => return Poll::Ready(Stop::Lost(e)),
            };
            if handed >= budget {
                // As many callers were just woken as a worker's run queue holds
                // well: let them run (and send again) before handing out more.
                self.deferred = true;
                cx.waker().wake_by_ref();
                return Poll::Pending;
            }
            if self.closing.is_some()
                && self.pending.is_empty()
                && self.in_flight.is_empty()
                && self.out.is_empty()
            {
                return Poll::Ready(Stop::Done);
            }
            let mut timer = false;
            if self.tick.poll_fired(cx) {
                if let Some(stop) = self.on_tick() {
                    return Poll::Ready(stop);
                }
                self.reset_tick();
                timer = true;
            }
            if !(received || wrote || handed > 0 || timer) {
                return Poll::Pending;
            }
        }
        // Still busy: let the other tasks of this thread run, then go on.
        cx.waker().wake_by_ref();
        Poll::Pending
    }

    /// Moves waiting requests from the channel into the queue, in batches:
    /// `recv_many` gives the channel's permits back once per batch, not once
    /// per request. True if any message came. Called only while the
    /// channel's flag is up (see `wakes`); raises it again unless the channel
    /// said `Pending`, which registered its waker.
    fn intake(&mut self, wakes: &Wakes) -> bool {
        let mut received = false;
        let mut cx = Context::from_waker(&wakes.channel);
        loop {
            if self.closing.is_some() || self.pending.len() >= self.pending_limit {
                // Not asked to the end: ask again once there is room.
                wakes.raise_channel();
                break;
            }
            let room = (self.pending_limit - self.pending.len()).min(INTAKE_BATCH);
            let Poll::Ready(n) = self.rx.poll_recv_many(&mut cx, &mut self.batch, room) else {
                break;
            };
            received = true;
            if n == 0 {
                self.receive(None, true);
                break;
            }
            let mut batch = std::mem::take(&mut self.batch);
            for msg in batch.drain(..) {
                match msg {
                    // Behind a close: fails when the actor ends, like what
                    // is still in the channel.
                    msg if self.closing.is_some() => self.behind_close.push(msg),
                    // Nothing waits before it: straight into the write
                    // queue, without a stop in `pending`.
                    Msg::Request(req) if self.pending.is_empty() && self.has_room_for(&req) => {
                        self.start(req)
                    }
                    msg => self.receive(Some(msg), true),
                }
            }
            self.batch = batch;
        }
        received
    }

    /// Queues waiting requests for the socket, within the in-flight limit and
    /// the write queue's size. A request whose caller gave up is not written.
    fn fill_write_queue(&mut self) {
        while let Some(req) = self.pending.front() {
            if !self.has_room_for(req) {
                break;
            }
            let Some(req) = self.pending.pop_front() else {
                break;
            };
            self.start(req);
        }
    }

    /// The in-flight limit and the write queue's size let `req` be written
    /// now.
    #[inline]
    fn has_room_for(&self, req: &Request) -> bool {
        let over_limit = self.in_flight_replies + req.replies > self.config.max_in_flight
            && !self.in_flight.is_empty()
            && !super::bugs::on(super::bugs::Bug::UnboundedInFlight);
        !over_limit && !self.out.is_full()
    }

    /// Queues `req`'s bytes for the socket and makes it a waiter; a request
    /// whose caller gave up is dropped instead (but for an unsubscription,
    /// which is carried out all the same: see `subscriptions`).
    #[inline]
    fn start(&mut self, req: Request) {
        if req.abandoned() && !req.confirms.as_ref().is_some_and(|a| a.unsubscribes()) {
            return;
        }
        let end = self.out.push(&req.bytes);
        metered!(self.meter.started());
        self.in_flight_replies += req.replies;
        self.in_flight.push_back(Waiter { request: req, end });
    }

    /// Hands out buffered replies, and reads once if the socket is ready and the
    /// dispatch budget is not spent. Returns how many frames were handed out,
    /// at least 1 when bytes were read.
    fn poll_read(
        &mut self,
        cx: &mut Context<'_>,
        t: &mut Transport,
        wakes: &Wakes,
        budget: usize,
    ) -> Result<usize> {
        if self.held.is_some() {
            // The consumer is behind: read nothing more (TCP pushes back)
            // until it makes room.
            if self.push.poll_room(cx, &mut self.held).is_pending() {
                return Ok(0);
            }
        }
        // Most passes find nothing buffered: one length check, not a decode.
        let mut handed = if self.input.is_empty() {
            0
        } else {
            self.dispatch_buffered(budget)?
        };
        if handed == budget || self.held.is_some() {
            return Ok(handed.max(1));
        }
        // Read only while the socket's flag is up (see `wakes`), and until
        // it says `Pending`, which registers its waker.
        if !wakes.take_socket() {
            return Ok(handed);
        }
        let poll = self
            .input
            .poll_fill(&mut Context::from_waker(&wakes.socket), t);
        if poll.is_ready() {
            wakes.raise_socket();
        }
        match poll {
            Poll::Pending => Ok(handed),
            Poll::Ready(Ok(0)) => Err(Error::new(
                ErrorKind::ConnectionLost,
                "the server closed the connection",
            )),
            Poll::Ready(Ok(_read)) => {
                self.reads += 1;
                metered!(self.meter.read(_read));
                handed += self.dispatch_buffered(budget - handed)?;
                // A read that completed nothing is still progress (a large
                // reply arriving in pieces).
                Ok(handed.max(1))
            }
            Poll::Ready(Err(e)) => Err(Error::socket("read failed", e)),
        }
    }

    /// Hands out up to `limit` complete frames from the read buffer; stops
    /// at a push the sink has no room for.
    fn dispatch_buffered(&mut self, limit: usize) -> Result<usize> {
        let mut handed = 0;
        while handed < limit && self.held.is_none() {
            let Some(frame) = self.input.next_frame()? else {
                break;
            };
            self.dispatch(frame)?;
            handed += 1;
        }
        Ok(handed)
    }

    /// Gives a reply to the oldest waiter, and anything else to the push
    /// sink (see `push`).
    fn dispatch(&mut self, frame: Frame) -> Result<()> {
        let confirms = self
            .in_flight
            .front()
            .is_some_and(|w| w.request.confirms.is_some());
        let subscriber_resp2 = self.subscriptions.is_some() && self.resp == 2;
        let feed = self.monitor && self.in_flight.is_empty();
        match push::classify(&frame, subscriber_resp2) {
            None if feed => {
                if let push::Delivery::Full(frame) = self.push.deliver(frame) {
                    self.held = Some(frame);
                }
                return Ok(());
            }
            None => {}
            // The confirmations a subscription request waits for (and not
            // one the server sent on its own meanwhile).
            Some(push::Kind::Confirmation)
                if self
                    .in_flight
                    .front()
                    .and_then(|w| w.request.confirms.as_deref())
                    .is_some_and(|awaited| awaited.answered_by(&frame)) => {}
            #[cfg(feature = "client-cache")]
            Some(push::Kind::Other)
                if self
                    .cache
                    .as_ref()
                    .is_some_and(|(c, _)| c.invalidated(&frame)) =>
            {
                // Applied before any later reply is handed out (see `cache`).
                return Ok(());
            }
            Some(_kind) => {
                metered!(
                    if matches!(_kind, push::Kind::Message) && self.subscriptions.is_some() {
                        self.meter.message();
                    }
                );
                if let push::Delivery::Full(frame) = self.push.deliver(frame) {
                    self.held = Some(frame);
                }
                return Ok(());
            }
        }
        let Some(waiter) = self.in_flight.front_mut() else {
            return Err(Error::protocol(
                "the server sent a reply that no request was waiting for",
            ));
        };
        let whole = confirms && matches!(frame, Frame::Error(_) | Frame::BulkError(_));
        // Found through Sentinel, and demoted since: follow the failover.
        let demoted = self.config.sentinel.as_ref().is_some_and(|s| !s.replica)
            && matches!(&frame, Frame::Error(e) if e.starts_with(b"READONLY"));
        let reply = if waiter.request.replies == 1 {
            Reply::One(frame)
        } else if whole {
            // A subscription refused (a permission, a moved slot): one error
            // answers it all.
            self.collected.clear();
            Reply::Many(vec![frame])
        } else {
            if self.collected.is_empty() {
                self.collected.reserve_exact(waiter.request.replies);
            }
            self.collected.push(frame);
            if self.collected.len() < waiter.request.replies {
                return Ok(());
            }
            Reply::Many(std::mem::take(&mut self.collected))
        };
        if super::bugs::on(super::bugs::Bug::WrongWaiter) && self.in_flight.len() > 1 {
            self.in_flight.swap(0, 1);
        }
        if let Some(waiter) = self.in_flight.pop_front() {
            // Stored, and the settling mark set, before the caller hears.
            #[cfg(feature = "client-cache")]
            let mut waiter = waiter;
            #[cfg(feature = "client-cache")]
            let reply = match self.cache.is_some() {
                true => self.through_cache(&mut waiter, reply),
                false => reply,
            };
            self.in_flight_replies -= waiter.request.replies;
            self.answered += 1;
            if confirms {
                // Before the caller can hear of it: it may have given up.
                if let Some(awaited) = &waiter.request.confirms {
                    self.settle_subscription(awaited, &reply);
                }
            }
            if let Some(event) = waiter.request.announce {
                self.announce(*event);
            }
            #[cfg(feature = "metrics")]
            let waited = waiter.request.tx.is_some();
            // A caller that gave up dropped its receiver: the reply is discarded.
            if let Err(unread) = waiter.request.tx.send(Ok(reply)) {
                #[cfg(feature = "metrics")]
                if waited {
                    self.meter.discarded();
                }
                drop(unread);
            }
        }
        if demoted {
            self.followed_failover("the primary was demoted to a replica (READONLY)");
            return Err(Error::new(
                ErrorKind::ConnectionLost,
                "the primary was demoted to a replica (READONLY); asking the Sentinels again",
            ));
        }
        Ok(())
    }

    /// A reply on its way to its waiter, through the client-side cache when
    /// there is one (see `cache`).
    /// Out of line, so that a client without a cache keeps its dispatch
    /// loop as small as it was.
    #[cfg(feature = "client-cache")]
    #[inline(never)]
    fn through_cache(&self, waiter: &mut Waiter, reply: Reply) -> Reply {
        let Some((cache, _)) = &self.cache else {
            return reply;
        };
        let waited = waiter.request.tx.is_some();
        let fill = waiter.request.fill.take();
        cache.on_reply(fill, waited, waiter.request.bytes.head(), reply)
    }

    /// The timer: close's grace, dead-server detection and idle health checks.
    fn on_tick(&mut self) -> Option<Stop> {
        #[cfg(feature = "client-cache")]
        if let Some((cache, meter)) = &mut self.cache {
            meter.report(cache.stats());
        }
        let deadline = self.closing.as_ref().and_then(|c| c.deadline);
        if deadline.is_some_and(|d| Instant::now() >= d) {
            return Some(Stop::Done);
        }
        if self.held.is_some() {
            // Not reading is the consumer's doing, not the server's silence.
            self.watchdog.start(self.reads);
            return None;
        }
        if let Some(switched) = &mut self.switched {
            if switched.has_changed().unwrap_or(false) {
                switched.mark_unchanged();
                self.followed_failover("the Sentinels announced a new primary (+switch-master)");
                return Some(Stop::Lost(Error::new(
                    ErrorKind::ConnectionLost,
                    "the Sentinels announced a new primary (+switch-master); connecting to it",
                )));
            }
        }
        // A blocking command in flight may keep the server silent that long.
        let patience = self.in_flight.iter().map(|w| w.request.patience).max();
        let busy = patience.is_some();
        match self
            .watchdog
            .check(busy, patience.unwrap_or_default(), self.reads)
        {
            Check::Fine => None,
            Check::Dead(after) => Some(Stop::Lost(Error::new(
                ErrorKind::Timeout,
                format!("the server did not answer for {after:?}; the connection is replaced"),
            ))),
            // A feed answers nothing but its lines: no PING to wait for.
            Check::Idle if self.monitor => None,
            Check::Idle => {
                let mut ping = bytes::BytesMut::new();
                redwire_resp::encode_command(&mut ping, ["PING"]);
                self.pending.push_back(Request::internal(ping.freeze()));
                None
            }
        }
    }

    /// A Sentinel-discovered connection leaves its primary: counted, told.
    #[cold]
    #[inline(never)]
    fn followed_failover(&self, reason: &str) {
        self.meter.failover();
        tracing::warn!(
            target: "redwire::sentinel",
            master = self.config.sentinel.as_ref().map_or("", |s| s.master_name.as_str()),
            reason,
            "failover followed"
        );
    }

    /// The next tick: one watchdog period from now, or close's deadline.
    fn reset_tick(&mut self) {
        let mut next = Instant::now() + self.watchdog.period;
        if let Some(deadline) = self.closing.as_ref().and_then(|c| c.deadline) {
            next = next.min(deadline);
        }
        self.tick.reset(next);
    }
}

#[cfg(test)]
mod tests {
    /// The chunks replies are handed out in (see `dispatch_budget`).
    #[test]
    fn replies_go_out_in_halves_up_to_64_in_flight_then_in_quarters() {
        let budget = super::dispatch_budget;
        assert_eq!(
            [budget(0), budget(1), budget(16), budget(64)],
            [1, 1, 8, 32]
        );
        assert_eq!([budget(65), budget(128)], [16, 32]);
        assert_eq!([budget(1024), budget(4096)], [256, 256]);
    }
}
