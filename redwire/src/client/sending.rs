//! The future of one request on a shared [`Client`](crate::Client)(crate::Client): queue it, wait for its
//! reply within the deadline, convert the reply.
//!
//! Written by hand rather than as an `async fn` so that it has a name: it is
//! what every typed method of `&Client` returns ([`Sending`], the
//! `Commands::Reply` of the client), and a named future costs no box. The raw
//! path ([`Client::send`](crate::Client::send)) and the typed one are this same code; only the last
//! step, [`FromValue`], differs.
//!
//! The deadline starts at the first poll, as `tokio::time::timeout` would, and
//! covers queueing, reconnecting and the reply. A script's fallback (`EVAL`
//! with the source after `NOSCRIPT`) is sent within the same deadline.
//!
//! The future is kept within 128 bytes (a unit test holds it) because it is
//! moved several times before its first poll (out of the typed method, into
//! the caller's own future), and a larger move is a `memcpy` call: the timer
//! (110 bytes) and a script's fallback are boxed, and only exist when a
//! deadline is set or a script is invoked; the command's span shares the
//! fallback's box, made only when a subscriber wants spans. With the
//! `metrics` feature the future also carries its start and operation (24
//! bytes more, 152 in all).

use super::link::Link;
use crate::commands::ScriptCall;
use crate::connection::{Msg, Reply, ReplyReceiver, Request};
use crate::error::{Error, Result};
#[cfg(feature = "metrics")]
use crate::telemetry::meter::OpTimer;
use crate::telemetry::metered;
use crate::telemetry::span::{Observed, OpSpan};
use crate::value::{FromValue, Value};
use crate::wire::Wire;
use std::future::Future;
use std::marker::PhantomData;
use std::mem::ManuallyDrop;
use std::pin::Pin;
use std::task::{ready, Context, Poll};
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::time::Sleep;

type Answer = ReplyReceiver;

/// Where a request is in its round trip.
enum State {
    /// Not yet handed to the actor (or refused before that).
    Ready(Result<(Wire, usize)>),
    /// The actor's channel was full: waiting for room (rare, so boxed).
    Queueing(Pin<Box<dyn Future<Output = bool> + Send>>, Answer),
    /// Handed over: waiting for the answer.
    Waiting(Answer),
    /// Served from the client-side cache.
    #[cfg(feature = "client-cache")]
    Hit(redwire_resp::Frame),
    /// The same read is on its way: waiting for its reply, with this
    /// request's own bytes in case it comes back empty.
    #[cfg(feature = "client-cache")]
    Following(std::sync::Arc<crate::cache::flight::Flight>, Box<Wire>),
    Done,
}

/// One round trip: the request handed to the actor and its answer awaited,
/// bounded by an optional deadline.
pub(crate) struct Exchange<'a> {
    link: &'a Link,
    /// Dropped by `give_up` (in `drop`), which leaves it `Done`: an answered
    /// request's state is not dropped once more by drop code of its own.
    state: ManuallyDrop<State>,
    limit: Option<Duration>,
    deadline: Option<Pin<Box<Sleep>>>,
    /// A blocking command's own timeout, which the actor adds to the response
    /// timeout; non-zero also means: if the caller gives up, close the
    /// connection at once (a dedicated one), so that the server does not pop
    /// an element for nobody.
    patience: Duration,
}

impl<'a> Exchange<'a> {
    /// `request` is the bytes and the number of replies they produce, or why
    /// they cannot be sent.
    #[inline]
    pub(crate) fn new(
        link: &'a Link,
        request: Result<(impl Into<Wire>, usize)>,
        limit: Option<Duration>,
    ) -> Self {
        Exchange {
            link,
            state: ManuallyDrop::new(State::Ready(request.map(|(bytes, n)| (bytes.into(), n)))),
            limit,
            deadline: None,
            patience: Duration::ZERO,
        }
    }

    /// A request answered already, from the client-side cache.
    #[cfg(feature = "client-cache")]
    #[inline]
    pub(crate) fn hit(link: &'a Link, frame: redwire_resp::Frame) -> Self {
        Exchange {
            link,
            state: ManuallyDrop::new(State::Hit(frame)),
            limit: None,
            deadline: None,
            patience: Duration::ZERO,
        }
    }

    /// Marks a blocking request: the server may keep silent for `patience`
    /// (`Duration::MAX`: for ever), and giving up closes the connection.
    pub(crate) fn blocking(mut self, patience: Duration) -> Self {
        self.patience = patience;
        self
    }

    /// The caller gave up while the request may be pending on the server.
    fn give_up(&mut self) {
        if matches!(*self.state, State::Done) {
            // Answered (the common end): nothing to give up, nothing to drop.
            return;
        }
        let pending = matches!(*self.state, State::Waiting(_) | State::Queueing(..));
        if pending
            && !self.patience.is_zero()
            && !crate::connection::bugs::on(crate::connection::bugs::Bug::KeepGivenUp)
        {
            self.link.abort();
        }
        *self.state = State::Done;
    }

    /// Leaves `Done` for `next`. `Done` holds nothing, so the old state is
    /// not dropped: no drop code runs for it on the request path.
    #[inline]
    fn set_from_done(&mut self, next: State) {
        debug_assert!(matches!(*self.state, State::Done));
        std::mem::forget(std::mem::replace(&mut *self.state, next));
    }

    /// Starts another request within the deadline already running.
    fn resend(&mut self, bytes: Wire) {
        *self.state = State::Ready(Ok((bytes, 1)));
    }
}

impl Future for Exchange<'_> {
    type Output = Result<Reply>;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<Reply>> {
        self.get_mut().poll_with(cx, &mut None)
    }
}

impl Exchange<'_> {
    /// The round trip; `fill` (a cache miss's, kept by the caller's future
    /// so that this one stays small) goes with the request.
    #[inline]
    fn poll_with(
        &mut self,
        cx: &mut Context<'_>,
        fill: &mut crate::connection::CacheFill,
    ) -> Poll<Result<Reply>> {
        let this = self;
        if let Some(limit) = this.limit {
            if this.deadline.is_none() {
                this.deadline = Some(Box::pin(tokio::time::sleep(limit)));
            }
        }
        loop {
            match &mut *this.state {
                // The common case: handed over, the answer awaited.
                State::Waiting(rx) => match Pin::new(rx).poll(cx) {
                    Poll::Ready(answer) => {
                        // The receiver dropped as itself, not through the
                        // drop code of the whole state.
                        if let State::Waiting(rx) = std::mem::replace(&mut *this.state, State::Done)
                        {
                            drop(rx);
                        }
                        return Poll::Ready(
                            answer.unwrap_or_else(|_| Err(this.link.closed_error())),
                        );
                    }
                    Poll::Pending => break,
                },
                State::Ready(_) => {
                    let State::Ready(request) = std::mem::replace(&mut *this.state, State::Done)
                    else {
                        unreachable!("matched above")
                    };
                    let (bytes, replies) = request?;
                    // The waker goes in before the actor can see the slot:
                    // no poll of the answer is needed until it comes.
                    let (tx, rx) = ReplyReceiver::with_waker(cx.waker());
                    let msg = Msg::Request(Request {
                        bytes,
                        replies,
                        tx,
                        patience: this.patience,
                        confirms: None,
                        announce: None,
                        fill: fill.take(),
                    });
                    // The common case, a channel with room, needs no future at all.
                    match this.link.tx.try_send(msg) {
                        Ok(()) => {
                            this.set_from_done(State::Waiting(rx));
                            break;
                        }
                        Err(mpsc::error::TrySendError::Full(msg)) => {
                            let sender = this.link.tx.clone();
                            let wait = Box::pin(async move { sender.send(msg).await.is_ok() });
                            this.set_from_done(State::Queueing(wait, rx));
                        }
                        Err(mpsc::error::TrySendError::Closed(_)) => {
                            return Poll::Ready(Err(this.link.closed_error()))
                        }
                    }
                }
                State::Queueing(wait, _) => match wait.as_mut().poll(cx) {
                    Poll::Ready(true) => {
                        let State::Queueing(_, rx) =
                            std::mem::replace(&mut *this.state, State::Done)
                        else {
                            unreachable!("matched above")
                        };
                        *this.state = State::Waiting(rx);
                    }
                    Poll::Ready(false) => {
                        *this.state = State::Done;
                        return Poll::Ready(Err(this.link.closed_error()));
                    }
                    Poll::Pending => break,
                },
                #[cfg(feature = "client-cache")]
                State::Hit(_) => {
                    // A hit is ready at once; it spends the task's tokio
                    // budget like any other ready resource, so a loop of
                    // hits yields to the runtime now and then instead of
                    // starving every other task (the actor among them).
                    let coop = std::task::ready!(tokio::task::coop::poll_proceed(cx));
                    coop.made_progress();
                    let State::Hit(frame) = std::mem::replace(&mut *this.state, State::Done) else {
                        unreachable!("matched above")
                    };
                    return Poll::Ready(Ok(Reply::One(frame)));
                }
                #[cfg(feature = "client-cache")]
                State::Following(flight, _) => match flight.poll_landed(cx) {
                    Poll::Ready(Some(frame)) => {
                        *this.state = State::Done;
                        return Poll::Ready(Ok(Reply::One(frame)));
                    }
                    // The leader's read failed or never went out: send ours.
                    Poll::Ready(None) => {
                        let State::Following(_, wire) =
                            std::mem::replace(&mut *this.state, State::Done)
                        else {
                            unreachable!("matched above")
                        };
                        *this.state = State::Ready(Ok((*wire, 1)));
                    }
                    Poll::Pending => break,
                },
                State::Done => panic!("a redwire request polled after it completed"),
            }
        }
        if crate::connection::bugs::on(crate::connection::bugs::Bug::SkipDeadline) {
            return Poll::Pending;
        }
        if let Some(deadline) = &mut this.deadline {
            if deadline.as_mut().poll(cx).is_ready() {
                // Dropping the answer's receiver makes the actor read and drop
                // the reply, or never write a request it has not written yet.
                this.give_up();
                let limit = this.limit.unwrap_or_default();
                return Poll::Ready(Err(this.link.timeout_error(limit)));
            }
        }
        Poll::Pending
    }
}

impl Drop for Exchange<'_> {
    fn drop(&mut self) {
        self.give_up();
    }
}

/// The future of one command on a shared [`Client`](crate::Client), converting its reply
/// into `T`: what [`Client::send`](crate::Client::send) and every typed method of `&Client`
/// return.
///
/// ```no_run
/// # async fn demo(client: redwire::Client) -> redwire::Result<()> {
/// use redwire::prelude::*;
///
/// let pending: redwire::Sending<'_, Option<String>> = client.get("greeting");
/// let greeting = pending.await?;
/// # Ok(()) }
/// ```
#[must_use = "a command is sent only when its future is awaited"]
pub struct Sending<'a, T> {
    exchange: Exchange<'a>,
    // A script invocation, sent once more with its source (`EVAL`) if the
    // reply is `NOSCRIPT`, and the command's span; boxed, so that other
    // requests do not carry their size.
    extra: Option<Box<Extra>>,
    /// Its start, for the duration metric.
    #[cfg(feature = "metrics")]
    timer: OpTimer,
    _reply: PhantomData<fn() -> T>,
}

/// What few requests carry: a script's fallback, a span, a cache miss's
/// fill.
struct Extra {
    fallback: Option<ScriptCall>,
    span: OpSpan,
    #[cfg(feature = "client-cache")]
    fill: crate::connection::CacheFill,
}

impl<'a, T> Sending<'a, T> {
    #[inline]
    pub(crate) fn new(
        link: &'a Link,
        request: Result<impl Into<Wire>>,
        limit: Option<Duration>,
        fallback: Option<ScriptCall>,
        observed: Observed,
    ) -> Self {
        #[cfg_attr(not(feature = "metrics"), allow(unused_variables))]
        let (span, timer) = observed.into_parts();
        let extra = if fallback.is_none() && span.is_none() {
            None
        } else {
            Some(Box::new(Extra {
                fallback,
                span,
                #[cfg(feature = "client-cache")]
                fill: None,
            }))
        };
        Sending {
            exchange: Exchange::new(link, request.map(|b| (b, 1)), limit),
            extra,
            #[cfg(feature = "metrics")]
            timer,
            _reply: PhantomData,
        }
    }
}

impl<'a, T> Sending<'a, T> {
    /// The future of a read served from the client-side cache.
    #[cfg(feature = "client-cache")]
    #[inline]
    pub(crate) fn hit(link: &'a Link, frame: redwire_resp::Frame, observed: Observed) -> Self {
        #[cfg_attr(not(feature = "metrics"), allow(unused_variables))]
        let (span, timer) = observed.into_parts();
        let extra = (!span.is_none()).then(|| {
            Box::new(Extra {
                fallback: None,
                span,
                fill: None,
            })
        });
        Sending {
            exchange: Exchange::hit(link, frame),
            extra,
            #[cfg(feature = "metrics")]
            timer,
            _reply: PhantomData,
        }
    }
}

impl<T> Sending<'_, T> {
    /// Applies what the client-side cache said of `cmd` (see `cache::Plan`).
    #[cfg(feature = "client-cache")]
    pub(crate) fn planned(mut self, plan: crate::cache::Plan, cmd: &crate::cmd::Cmd) -> Self {
        use crate::cache::Plan;
        let exchange = &mut self.exchange;
        match plan {
            Plan::Pass => {}
            Plan::Hit(frame) => *exchange.state = State::Hit(frame),
            Plan::Lead(fill) => {
                if fill.opt_in {
                    let wire = crate::cache::Cache::opt_in_wire(cmd).into();
                    *exchange.state = State::Ready(Ok((wire, 2)));
                }
                let extra = self.extra.get_or_insert_with(|| {
                    Box::new(Extra {
                        fallback: None,
                        span: OpSpan::none(),
                        fill: None,
                    })
                });
                extra.fill = Some(fill);
            }
            Plan::Follow(flight) => {
                *exchange.state = match std::mem::replace(&mut *exchange.state, State::Done) {
                    State::Ready(Ok((wire, _))) => State::Following(flight, Box::new(wire)),
                    other => other,
                };
            }
        }
        self
    }

    /// Marks a blocking command (see `Exchange::blocking`).
    pub(crate) fn blocking(mut self, patience: Duration) -> Self {
        self.exchange.patience = patience;
        self
    }
}

impl<T: FromValue> Future for Sending<'_, T> {
    type Output = Result<T>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<T>> {
        let this = self.get_mut();
        let result = loop {
            #[cfg(feature = "client-cache")]
            let answer = {
                let mut none = None;
                let fill = match this.extra.as_deref_mut() {
                    Some(extra) => &mut extra.fill,
                    None => &mut none,
                };
                this.exchange.poll_with(cx, fill)
            };
            #[cfg(not(feature = "client-cache"))]
            let answer = Pin::new(&mut this.exchange).poll(cx);
            let frame = match ready!(answer) {
                Ok(Reply::One(frame)) => frame,
                Ok(Reply::Many(_)) => break Err(Error::protocol("one reply expected")),
                Err(e) => break Err(e),
            };
            match Value::from_reply(frame) {
                Err(e)
                    if e.code() == Some("NOSCRIPT")
                        && this.extra.as_ref().is_some_and(|x| x.fallback.is_some()) =>
                {
                    let call = this
                        .extra
                        .as_mut()
                        .and_then(|x| x.fallback.take())
                        .expect("checked above");
                    this.exchange.resend(call.eval().into_wire());
                }
                reply => break reply.and_then(T::from_value),
            }
        };
        // The common case, no span and no recorder: one branch.
        if let (Some(extra), Err(error)) = (this.extra.as_deref(), &result) {
            extra.span.fail(error);
        }
        metered!(this
            .exchange
            .link
            .meter
            .finish(&this.timer, result.as_ref().err()));
        Poll::Ready(result)
    }
}

#[cfg(test)]
mod tests {
    /// Moves of the future stay inline code (see the module doc).
    #[test]
    fn the_request_future_fits_in_128_bytes() {
        let limit = if cfg!(feature = "metrics") { 152 } else { 128 };
        assert!(std::mem::size_of::<super::Sending<'static, crate::Value>>() <= limit);
    }
}
