//! The actor's lifecycle, top to bottom: connect, serve, and after a drop fail
//! what was written, keep what was not, and reconnect with backoff; closing.
//!
//! **How a connection is judged.** One that completed its handshake and
//! answered a request, or that lived a while, was a success: after its drop
//! the next attempt is immediate, so a proxy that resets connections every few
//! hundred milliseconds costs one reconnect per reset, not a growing backoff.
//! One that failed its handshake, or dropped before answering anything within
//! its first second, counts as a failed attempt: a server that accepts and then
//! fails every time gets exponential backoff, not a spin.
//!
//! **When it ends.** When every handle is dropped or [`Client::close`] is
//! called, the actor takes no more requests. Connected, it answers what it has
//! taken (within `close`'s grace) and stops; disconnected, it stops at once:
//! the requests it still holds were abandoned by callers that are gone, or
//! never reached a server, and they must not keep reconnecting forever. A
//! configuration error, a first connection that fails under
//! [`Client::connect`], and running out of attempts end it too. A dedicated
//! connection's actor does not reconnect at all: the session it carried
//! (a transaction, watched keys, a database) would silently be gone, so the
//! first drop ends it and its owner makes a new one.
//!
//! [`Client::close`]: crate::Client::close
//! [`Client::connect`]: crate::Client::connect

use super::io::{Connector, Transport};
use super::serve::Stop;
use super::state::{ConnectionState, Event};
use super::{handshake, Actor, Closing, Msg};
use crate::error::{Error, ErrorKind, Result};
use bytes::BytesMut;
use std::future::Future;
use std::time::Duration;
use tokio::sync::oneshot;
use tokio::time::Instant;

/// A connection that answered nothing counts as a failed attempt when it
/// dropped sooner than this.
const STABLE_AFTER: Duration = Duration::from_secs(1);

impl Actor {
    /// Runs until the actor ends (see the module doc). With `first`, the first
    /// connection attempt's outcome is reported there, and a failure ends the
    /// actor (that is [`Client::connect`](crate::Client::connect)).
    pub(crate) async fn run(mut self, mut first: Option<oneshot::Sender<Result<()>>>) {
        if let Some(sentinel) = self.config.sentinel.clone() {
            // Hear of a failover at once (see `sentinel::watch_switches`).
            let (tx, rx) = tokio::sync::watch::channel(0u64);
            self.switched = Some(rx);
            tokio::spawn(super::sentinel::watch_switches(
                sentinel,
                self.config.connect_timeout,
                tx,
            ));
        }
        let mut failures = 0u32;
        loop {
            self.shared.set(ConnectionState::Connecting);
            let began = Instant::now();
            let attempt = tokio::time::timeout(
                self.config.connect_timeout,
                open(self.connector.clone(), self.config.limits),
            );
            let result = match self.while_disconnected(attempt).await {
                None => return self.close(),
                Some(Ok(result)) => result,
                Some(Err(_)) => Err(Error::new(
                    ErrorKind::Timeout,
                    format!(
                        "timed out connecting to {} after {:?}",
                        self.config.addr, self.config.connect_timeout
                    ),
                )),
            };
            self.attempted = true;
            let error = match result {
                Ok((transport, resp, rbuf)) => {
                    let since = Instant::now();
                    let took = since.duration_since(began);
                    let reason = match self
                        .connected(transport, resp, rbuf, took, first.take())
                        .await
                    {
                        Stop::Done => return self.close(),
                        Stop::Lost(reason) if !self.reconnect => {
                            return self.close_with(format!("the connection was lost: {reason}"))
                        }
                        Stop::Lost(reason) => reason,
                    };
                    if self.answered > 0 || since.elapsed() >= STABLE_AFTER {
                        failures = 0;
                        continue;
                    }
                    reason
                }
                Err(error) => {
                    if let Some(tx) = first.take() {
                        let _ = tx.send(Err(error.clone()));
                        return self.close_with(format!("the first connection failed: {error}"));
                    }
                    if error.kind() == ErrorKind::Config {
                        // No later attempt can succeed.
                        return self.close_with(error.to_string());
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
                return self.close_with(format!(
                    "gave up after {failures} failed connection attempts; last error: {error}"
                ));
            }
            let delay = backoff.delay(failures, fastrand::f64());
            tracing::debug!(target: "redwire::connection", attempt = failures, ?delay, %error, "reconnecting");
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
                return self.close();
            }
        }
    }

    /// Serves a fresh connection until it drops or the actor is done; after a
    /// drop, settles the requests it carried.
    /// `first` hears of it after the state and the event: whoever `connect`
    /// returns to sees `Connected`, and no stale event.
    async fn connected(
        &mut self,
        transport: Transport,
        resp: u8,
        rbuf: BytesMut,
        took: Duration,
        first: Option<oneshot::Sender<Result<()>>>,
    ) -> Stop {
        self.meter.connected(took);
        self.input.start(rbuf);
        self.answered = 0;
        self.resp = resp;
        if let Some(switched) = &mut self.switched {
            // This connection was made after any switch announced so far.
            switched.mark_unchanged();
        }
        if let Some(registry) = &self.subscriptions {
            // Everything subscribed is subscribed again, first.
            let mut again = registry
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .resubscribe();
            if super::bugs::on(super::bugs::Bug::ForgetResubscribe) {
                again.clear();
            }
            if again.is_empty() {
                // Nothing to make again: the gap ends here.
                self.mark_gap(super::gaps::Marker::Resubscribed);
            }
            for req in again.into_iter().rev() {
                self.pending.push_front(req);
            }
        }
        if self.monitor {
            // The feed starts again on every connection.
            let mut bytes = BytesMut::new();
            redwire_resp::encode_command(&mut bytes, ["MONITOR"]);
            self.pending
                .push_front(super::Request::internal(bytes.freeze()));
        }
        self.shared.set_last_error(None);
        self.shared.set(ConnectionState::Connected);
        self.shared.emit(Event::Connected {
            addr: self.config.addr.to_string(),
            resp,
        });
        if let Some(tx) = first {
            let _ = tx.send(Ok(()));
        }
        let address = self.config.addr.to_string();
        tracing::info!(target: "redwire::connection", resp, server.address = address, "connected");
        let stop = self.serve(transport).await;
        // Tracking went with the socket: nothing cached may outlive it.
        #[cfg(feature = "client-cache")]
        if let (Some((cache, meter)), Stop::Lost(_)) = (&mut self.cache, &stop) {
            cache.flush();
            meter.report(cache.stats());
        }
        if let Stop::Lost(reason) = &stop {
            let error_type = crate::telemetry::error_type(reason);
            tracing::warn!(
                target: "redwire::connection",
                %reason,
                server.address = address,
                error.type = error_type,
                "disconnected"
            );
            self.meter.disconnected(reason, self.reconnect);
            self.mark_gap(super::gaps::Marker::Disconnected(reason.clone()));
            self.disconnected(reason);
            self.shared.set_last_error(Some(reason.clone()));
            self.shared.emit(Event::Disconnected {
                reason: reason.clone(),
            });
        }
        stop
    }

    /// Runs `fut` while taking in requests: kept for later, or failed at once
    /// when the client fails fast. `None` when the actor is closing, which
    /// `close` can also say out of band: its message may wait behind a full
    /// queue that only a connection would drain.
    async fn while_disconnected<F: Future>(&mut self, fut: F) -> Option<F::Output> {
        tokio::pin!(fut);
        let shared = self.shared.clone();
        let close = shared.close_requested.notified();
        tokio::pin!(close);
        loop {
            if self.closing.is_some() {
                return None;
            }
            if self.pending.len() >= self.pending_limit {
                // Callers that gave up free their place.
                self.pending.retain(|r| !r.abandoned());
            }
            let room = self.pending.len() < self.pending_limit;
            // Biased: a fixed order (one a random pick could make too), so a
            // seeded simulation replays exactly; `close` before the channel,
            // so callers that resend at once cannot hold a close back.
            tokio::select! {
                biased;
                out = &mut fut => return Some(out),
                () = &mut close => self.begin_closing("closed by Client::close", None),
                msg = self.rx.recv(), if room => self.receive(msg, false),
            }
        }
    }

    /// Takes one message from the channel (`None`: every handle is gone).
    #[inline]
    pub(super) fn receive(&mut self, msg: Option<Msg>, connected: bool) {
        match msg {
            None => self.begin_closing("every client handle was dropped", None),
            Some(Msg::Close { grace }) => {
                self.begin_closing("closed by Client::close", Some(Instant::now() + grace))
            }
            // Fail fast, once the first attempt is over: a new client's very
            // first connection is waited for, not failed.
            Some(Msg::Request(req)) if !connected && self.config.fail_fast && self.attempted => {
                req.fail(self.not_connected())
            }
            Some(Msg::Request(req)) => self.pending.push_back(req),
            Some(Msg::Subscription(sub)) => {
                let Some(registry) = &self.subscriptions else {
                    let _ = sub.tx.send(Err(Error::new(
                        ErrorKind::Unsupported,
                        "only a Subscriber subscribes",
                    )));
                    return;
                };
                let req = registry.lock().unwrap_or_else(|e| e.into_inner()).take(sub);
                if req.replies == 0 {
                    // Nothing to (un)subscribe: done.
                    let _ = req.tx.send(Ok(super::Reply::Many(Vec::new())));
                } else {
                    self.pending.push_back(req);
                }
            }
        }
    }

    /// Takes no more requests: what is still in the channel fails when the
    /// actor ends.
    fn begin_closing(&mut self, reason: &str, deadline: Option<Instant>) {
        if self.closing.is_none() {
            self.closing = Some(Closing {
                reason: reason.to_owned(),
                deadline,
            });
            // Before the channel closes: a caller refused by it says why.
            self.shared.set_last_error(Some(Error::closed(reason)));
            self.rx.close();
            if let Some(deadline) = deadline {
                if deadline < self.tick.deadline() {
                    self.tick.reset(deadline);
                }
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

    /// After a drop: fail what was written, requeue what was not.
    fn disconnected(&mut self, reason: &Error) {
        let written = self.out.written();
        let mut requeue = Vec::new();
        for waiter in self.in_flight.drain(..) {
            if waiter.request.confirms.is_some() {
                // Idempotent: written again for a caller that still waits.
                // What is on record is made again in any case; what a
                // caller gave up, or the actor's own undo, is moot on a
                // new connection.
                if waiter.request.tx.is_some() && !waiter.request.abandoned() {
                    requeue.push(waiter.request);
                }
            } else if waiter.end <= written && !super::bugs::on(super::bugs::Bug::ReplayWritten) {
                let written = !super::bugs::on(super::bugs::Bug::SentNotExecuted);
                waiter.request.fail(Error::connection_lost(reason, written));
            } else if ran_in_part(&waiter, written) {
                // Written again, its first commands would run twice.
                waiter.request.fail(Error::connection_lost(reason, true));
            } else if super::bugs::on(super::bugs::Bug::DropRequeued) {
                drop(waiter);
            } else if !waiter.request.abandoned() {
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
        // The oldest waiter's partial replies went with it.
        self.collected = Vec::new();
        self.out.reset();
        self.input.reset();
        self.deferred = false;
    }

    fn close(self) {
        let reason = match &self.closing {
            Some(closing) => closing.reason.clone(),
            None => "the connection task stopped".into(),
        };
        self.close_with(reason)
    }

    /// Ends the actor: everything it still holds fails with a closed error.
    fn close_with(mut self, reason: String) {
        tracing::debug!(target: "redwire::connection", %reason, "closed");
        // A closed client answers nothing from memory either.
        #[cfg(feature = "client-cache")]
        if let Some((cache, _)) = &self.cache {
            cache.close();
        }
        let err = Error::closed(&reason);
        // Before the channel closes: a caller refused by it says why.
        self.shared.set_last_error(Some(err.clone()));
        let written = self.out.written();
        for waiter in self.in_flight.drain(..) {
            // Cut off by close's grace: it may have run.
            let written = waiter.end <= written || ran_in_part(&waiter, written);
            waiter.request.fail(Error::connection_lost(&err, written));
        }
        self.pending.drain(..).for_each(|r| r.fail(err.clone()));
        self.rx.close();
        let behind_close = std::mem::take(&mut self.behind_close);
        let channel = std::iter::from_fn(|| self.rx.try_recv().ok());
        for msg in behind_close.into_iter().chain(channel) {
            if let Msg::Request(req) = msg {
                req.fail(err.clone());
            }
        }
        self.shared.set(ConnectionState::Closed);
        self.shared.emit(Event::Closed { reason });
    }
}

/// Whether a request cut off after `written` bytes of the stream (its end
/// not written) may have run in part: a pipeline whose written part holds a
/// complete command outside `MULTI`, or an `EXEC`. A single command cut off,
/// or a transaction cut before its `EXEC`, cannot have run; written again
/// whole on a new connection, it runs once.
fn ran_in_part(waiter: &super::Waiter, written: u64) -> bool {
    let len = waiter.request.bytes.len() as u64;
    let start = waiter.end.saturating_sub(len);
    if waiter.request.replies < 2 || written <= start || written >= waiter.end {
        return false;
    }
    // Only one request straddles the written end, once per drop: reading
    // its commands back costs nothing on the requests' path.
    let all = waiter.request.bytes.contiguous();
    let mut prefix = BytesMut::from(&all[..(written - start) as usize]);
    let mut decoder = redwire_resp::Decoder::new();
    let mut in_multi = false;
    while let Ok(Some(frame)) = decoder.decode(&mut prefix) {
        let redwire_resp::Frame::Array(args) = frame else {
            return true;
        };
        let name = match args.first() {
            Some(redwire_resp::Frame::Bulk(name)) => name.to_ascii_uppercase(),
            _ => return true,
        };
        match &name[..] {
            b"MULTI" => in_multi = true,
            b"DISCARD" => in_multi = false,
            b"EXEC" => return true,
            _ if !in_multi => return true,
            _ => {}
        }
    }
    false
}

/// Opens a stream and runs the handshake on it; returns the stream, the RESP
/// version and the read buffer (which may already hold the start of a reply).
async fn open(
    connector: Connector,
    limits: redwire_resp::Limits,
) -> Result<(Transport, u8, BytesMut)> {
    let mut transport = connector.open().await?;
    let mut rbuf = BytesMut::with_capacity(16 * 1024);
    let mut decoder = redwire_resp::Decoder::with_limits(limits);
    let negotiated =
        handshake::handshake(&mut transport, connector.config(), &mut rbuf, &mut decoder).await?;
    Ok((transport, negotiated.resp, rbuf))
}

#[cfg(test)]
mod tests {
    use super::super::{Request, Waiter};
    use super::ran_in_part;
    use bytes::BytesMut;

    /// A waiter for `commands` written back to back, as the stream's first
    /// bytes, expecting one reply each.
    fn waiter(commands: &[&[&str]]) -> Waiter {
        let mut bytes = BytesMut::new();
        for c in commands {
            redwire_resp::encode_command(&mut bytes, c.iter().copied());
        }
        let mut request = Request::internal(bytes.freeze());
        request.replies = commands.len();
        let end = request.bytes.len() as u64;
        Waiter { request, end }
    }

    fn len(command: &[&str]) -> u64 {
        let mut bytes = BytesMut::new();
        redwire_resp::encode_command(&mut bytes, command.iter().copied());
        bytes.len() as u64
    }

    #[test]
    fn a_pipeline_cut_after_a_whole_command_may_have_run_in_part() {
        let (set, get) = (["SET", "k", "v"], ["GET", "k"]);
        let w = waiter(&[&set, &get]);
        assert!(!ran_in_part(&w, 0), "nothing written");
        assert!(!ran_in_part(&w, len(&set) - 1), "SET cut off");
        assert!(ran_in_part(&w, len(&set)), "SET whole");
        assert!(!ran_in_part(&w, w.end), "written whole: not cut off");
    }

    #[test]
    fn a_single_command_or_a_transaction_cut_before_exec_did_not_run() {
        let set = ["SET", "k", "v"];
        assert!(!ran_in_part(&waiter(&[&set]), len(&set) - 1));
        let tx = waiter(&[&["MULTI"], &set, &["EXEC"]]);
        let before_exec = len(&["MULTI"]) + len(&set);
        assert!(!ran_in_part(&tx, before_exec));
        assert!(!ran_in_part(&tx, tx.end - 1));
        // A hand-made one with a command after its EXEC did run.
        let after = waiter(&[&["MULTI"], &set, &["EXEC"], &["GET", "k"]]);
        assert!(ran_in_part(&after, before_exec + len(&["EXEC"])));
    }
}
