//! Pub/sub: a [`Subscriber`] (its own connection actor) and its
//! [`Messages`], an async stream of what is published to its channels,
//! patterns and shard channels.
//!
//! **Confirmed.** [`subscribe`](Subscriber::subscribe) and the other forms
//! return once the server has confirmed every name: a message published after
//! `subscribe().await` returned is delivered. After
//! [`unsubscribe`](Subscriber::unsubscribe) returns, no message of that
//! channel comes out of the stream, even one that was already on its way.
//!
//! **One deadline rule.** Every (un)subscription is bounded by the
//! configured [`command_timeout`](crate::Config::command_timeout), like any
//! command of any handle; [`with_timeout`](Subscriber::with_timeout) gives a
//! clone another deadline (the subscriber has no raw send to take a
//! `send_timeout`). The deadline covers waiting for a connection and for the
//! confirmation; when it passes, the error is of kind
//! [`ErrorKind::Timeout`](crate::ErrorKind::Timeout) and says what it waited
//! for.
//!
//! **Given up is undone, never silently kept.** A subscription is on record
//! (listed by [`subscriptions`](Subscriber::subscriptions), made again after
//! every reconnect, its messages delivered) only once the server confirmed it
//! to a caller still waiting. The actor and the caller race for one atomic
//! decision per request: if the caller gave up first (its deadline passed,
//! or it dropped the future), the request is not written if it was not yet,
//! and if the server makes the subscription after all, the actor follows the
//! confirmation with the matching unsubscription (unless the name is on
//! record already or wanted by a request behind it) and the stream drops
//! what arrives for it meanwhile. If the confirmation won, the caller gets
//! `Ok` even at its deadline. The alternative, keeping a subscription the
//! caller was told had failed, would deliver messages nobody expects and
//! make it again after every reconnect; failing it for good would need the
//! server's answer, which is what did not come. An unsubscription is done
//! from the moment the actor takes it (off the record, its messages
//! dropped), and is written even if its caller gave up: a timeout there
//! only means the confirmation was not seen in time.
//!
//! **Lists.** An empty list is nothing: `unsubscribe(())` or an empty `Vec`
//! returns `Ok` at once and changes nothing, like `subscribe(())`. Everything
//! of a kind is [`unsubscribe_all`](Subscriber::unsubscribe_all),
//! [`punsubscribe_all`](Subscriber::punsubscribe_all) and
//! [`sunsubscribe_all`](Subscriber::sunsubscribe_all): a list computed from
//! nothing never unsubscribes from everything by accident.
//!
//! **Survives outages.** After a drop the subscriber reconnects (with the
//! configured backoff, for ever unless `Backoff::max_attempts` says
//! otherwise) and subscribes again to everything, then emits
//! [`Event::Resubscribed`](crate::Event::Resubscribed) on
//! [`events`](Subscriber::events). Messages published while it was
//! disconnected are lost: Redis pub/sub keeps nothing for absent
//! subscribers (use streams for that). If the reconnect gives up, the stream
//! yields the error and ends.
//!
//! **Gaps, in order.** Events are a separate channel, seen only from when
//! `events()` was called, and cannot say where among the messages a drop
//! fell. [`Messages::with_gaps`] gives the same stream as [`Deliveries`],
//! which yields [`Delivery::Disconnected`] where the connection dropped and
//! [`Delivery::Resubscribed`] where everything was subscribed again, in
//! order with the messages: what was received before the drop comes before
//! the first, what was published after the resubscription after the
//! second. The markers do not travel in the message buffer (a full buffer
//! would have to drop them or grow): the actor counts the frames it hands
//! to the stream and posts each marker at its count, beside the buffer; the
//! stream yields it once it has taken that many. A marker is never dropped;
//! several drops with no message between them while the consumer is behind
//! coalesce into one gap (the first reason is kept), so the markers waiting
//! are bounded by the buffer's size. The plain [`Messages`] skips them.
//!
//! **Bounded memory.** The stream holds at most
//! [`MESSAGE_BUFFER`] messages. When the consumer falls behind and the buffer
//! is full, the subscriber stops reading its socket: the kernel's buffers
//! fill, TCP pushes back on the server, and the client's memory stays put.
//! The server keeps the rest in its output buffer for this client up to
//! `client-output-buffer-limit pubsub` (32 MB by default) and then drops the
//! connection; the subscriber reconnects, resubscribes, and says so with the
//! events `Disconnected` and `Resubscribed` (and the markers of
//! [`Deliveries`]): the gap between them is lost. Not reading, it may learn
//! of a drop only when the consumer makes room or it writes. One consequence
//! to know: confirmations come in order with the messages, so while the
//! buffer is full, `subscribe` and `unsubscribe` wait until the consumer
//! makes room, or their deadline passes (a subscription is then given up,
//! as above). Do not await them in the task that consumes the stream while
//! it is behind.
//!
//! Both protocols work: RESP3 pushes, or RESP2's subscribed mode.

mod delivery;
mod message;
mod monitor;

pub use crate::connection::subscriptions::SubscriptionKind;
pub use delivery::{Deliveries, Delivery};
pub use message::Message;
pub use monitor::Monitor;

use crate::client::link::Link;
use crate::cmd::{Cmd, ToArg};
use crate::config::Config;
use crate::connection::gaps::{Gaps, Marker};
use crate::connection::push::Sink;
use crate::connection::state::{ConnectionState, Event};
use crate::connection::subscriptions::{Claim, Registry, Subscription};
use crate::connection::{Kind, Msg};
use crate::error::{Error, Result};
use bytes::Bytes;
use message::Pushed;
use redwire_resp::Frame;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::sync::{broadcast, mpsc};

/// How many messages wait in a subscriber's stream before it stops reading.
///
/// ```no_run
/// # fn demo(messages: &redwire::Messages) {
/// if messages.len() == redwire::MESSAGE_BUFFER {
///     eprintln!("the consumer is behind: the subscriber has stopped reading");
/// }
/// # }
/// ```
pub const MESSAGE_BUFFER: usize = 1024;

/// A pub/sub subscriber: its own connection, subscriptions confirmed by the
/// server, made again after every reconnect. Clone it to (un)subscribe from
/// several tasks; the messages come out of the [`Messages`] returned with it.
///
/// Every (un)subscription is bounded by the configured
/// [`command_timeout`](crate::Config::command_timeout), or by the deadline
/// of [`with_timeout`](Self::with_timeout).
///
/// ```no_run
/// # async fn demo() -> redwire::Result<()> {
/// let (subscriber, mut messages) = redwire::Subscriber::connect("redis://127.0.0.1".parse()?).await?;
/// subscriber.subscribe(["news", "alerts"]).await?;
/// subscriber.psubscribe("user.*").await?;
/// while let Some(message) = messages.recv().await {
///     let message = message?;
///     println!("{:?}: {:?}", message.channel, message.payload);
/// }
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Subscriber {
    link: Arc<Link>,
    registry: Arc<Mutex<Registry>>,
    /// The deadline of each (un)subscription.
    timeout: Option<Duration>,
}

impl std::fmt::Debug for Subscriber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Subscriber")
            .field("url", &self.link.config.redacted_url())
            .field("state", &self.link.state())
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl Subscriber {
    /// Connects (returning the first connection's error) and returns the
    /// subscriber and its stream of messages.
    ///
    /// ```no_run
    /// # async fn demo() -> redwire::Result<()> {
    /// let (subscriber, messages) = redwire::Subscriber::connect("redis://127.0.0.1".parse()?).await?;
    /// # Ok(()) }
    /// ```
    pub async fn connect(config: Config) -> Result<(Subscriber, Messages)> {
        let registry = Arc::new(Mutex::new(Registry::default()));
        let gaps = Arc::new(Gaps::default());
        let (sink, rx) = Sink::backpressure(MESSAGE_BUFFER);
        let kind = Kind::Subscriber(sink, registry.clone(), gaps.clone());
        let timeout = config.command_timeout;
        let link = Arc::new(Link::connect(config, kind, None).await?);
        let messages = Messages {
            rx,
            registry: registry.clone(),
            link: link.clone(),
            gaps,
            taken: 0,
            ended: false,
        };
        let subscriber = Subscriber {
            link,
            registry,
            timeout,
        };
        Ok((subscriber, messages))
    }

    /// A clone whose (un)subscriptions have `timeout` as their deadline
    /// (`None`: no deadline) instead of the configured
    /// [`command_timeout`](crate::Config::command_timeout). This is the
    /// subscriber's spelling of the per-call deadline that
    /// [`Client::send_timeout`](crate::Client::send_timeout) gives a command:
    /// a subscriber has no raw send, so the deadline goes with the handle.
    /// The deadline covers waiting for the connection (a reconnect
    /// included) and for the server's confirmation.
    ///
    /// ```no_run
    /// # async fn demo(subscriber: redwire::Subscriber) -> redwire::Result<()> {
    /// use std::time::Duration;
    /// let patient = subscriber.with_timeout(Some(Duration::from_secs(30)));
    /// patient.subscribe("slow-to-confirm").await?;
    /// # Ok(()) }
    /// ```
    pub fn with_timeout(&self, timeout: Option<Duration>) -> Subscriber {
        Subscriber {
            timeout,
            ..self.clone()
        }
    }

    /// `SUBSCRIBE`: returns once the server confirmed every channel. An
    /// empty list subscribes to nothing and returns at once.
    ///
    /// If the deadline passes first, the error is of kind
    /// [`ErrorKind::Timeout`](crate::ErrorKind::Timeout) and the subscription
    /// is given up: it is not on record (not made again after a
    /// reconnect), none of its messages comes out, and if the server makes it
    /// after all, the subscriber unsubscribes it. Dropping the future before
    /// the confirmation does the same.
    ///
    /// ```no_run
    /// # async fn demo(subscriber: redwire::Subscriber) -> redwire::Result<()> {
    /// subscriber.subscribe(["orders", "payments"]).await?;
    /// # Ok(()) }
    /// ```
    pub async fn subscribe(&self, channels: impl ToArg) -> Result<()> {
        self.change(SubscriptionKind::Channel, true, names(channels))
            .await
    }

    /// `PSUBSCRIBE`: glob-style patterns (`news.*`), like
    /// [`subscribe`](Self::subscribe).
    ///
    /// ```no_run
    /// # async fn demo(subscriber: redwire::Subscriber) -> redwire::Result<()> {
    /// subscriber.psubscribe("news.*").await?;
    /// # Ok(()) }
    /// ```
    pub async fn psubscribe(&self, patterns: impl ToArg) -> Result<()> {
        self.change(SubscriptionKind::Pattern, true, names(patterns))
            .await
    }

    /// `SSUBSCRIBE`: shard channels (Redis 7+), like
    /// [`subscribe`](Self::subscribe).
    ///
    /// ```no_run
    /// # async fn demo(subscriber: redwire::Subscriber) -> redwire::Result<()> {
    /// subscriber.ssubscribe("orders:{eu}").await?;
    /// # Ok(()) }
    /// ```
    pub async fn ssubscribe(&self, channels: impl ToArg) -> Result<()> {
        self.change(SubscriptionKind::Shard, true, names(channels))
            .await
    }

    /// `UNSUBSCRIBE` these channels: once it returns, no message of them
    /// comes out of the stream. An empty list (`()`, an empty `Vec`)
    /// unsubscribes from nothing and returns at once; every channel is
    /// [`unsubscribe_all`](Self::unsubscribe_all).
    ///
    /// The channels are off the record as soon as the subscriber takes the
    /// request: if the deadline passes first (an error of kind
    /// [`ErrorKind::Timeout`](crate::ErrorKind::Timeout)), none of their
    /// messages comes out all the same, and `UNSUBSCRIBE` is still sent.
    ///
    /// ```no_run
    /// # async fn demo(subscriber: redwire::Subscriber) -> redwire::Result<()> {
    /// subscriber.unsubscribe("orders").await?;
    /// subscriber.unsubscribe(Vec::<String>::new()).await?; // nothing
    /// # Ok(()) }
    /// ```
    pub async fn unsubscribe(&self, channels: impl ToArg) -> Result<()> {
        self.change(SubscriptionKind::Channel, false, names(channels))
            .await
    }

    /// `PUNSUBSCRIBE` these patterns, like [`unsubscribe`](Self::unsubscribe);
    /// an empty list is nothing, every pattern is
    /// [`punsubscribe_all`](Self::punsubscribe_all).
    ///
    /// ```no_run
    /// # async fn demo(subscriber: redwire::Subscriber) -> redwire::Result<()> {
    /// subscriber.punsubscribe("news.*").await?;
    /// # Ok(()) }
    /// ```
    pub async fn punsubscribe(&self, patterns: impl ToArg) -> Result<()> {
        self.change(SubscriptionKind::Pattern, false, names(patterns))
            .await
    }

    /// `SUNSUBSCRIBE` these shard channels, like
    /// [`unsubscribe`](Self::unsubscribe); an empty list is nothing, every
    /// shard channel is [`sunsubscribe_all`](Self::sunsubscribe_all).
    ///
    /// ```no_run
    /// # async fn demo(subscriber: redwire::Subscriber) -> redwire::Result<()> {
    /// subscriber.sunsubscribe("orders:{eu}").await?;
    /// # Ok(()) }
    /// ```
    pub async fn sunsubscribe(&self, channels: impl ToArg) -> Result<()> {
        self.change(SubscriptionKind::Shard, false, names(channels))
            .await
    }

    /// `UNSUBSCRIBE` from every channel on record (what
    /// [`subscriptions`](Self::subscriptions) lists when the subscriber
    /// takes the request; a `subscribe` still waiting for its confirmation
    /// then is not undone by it). With nothing on record it returns at once.
    ///
    /// ```no_run
    /// # async fn demo(subscriber: redwire::Subscriber) -> redwire::Result<()> {
    /// subscriber.unsubscribe_all().await?;
    /// assert!(subscriber.subscriptions(redwire::SubscriptionKind::Channel).is_empty());
    /// # Ok(()) }
    /// ```
    pub async fn unsubscribe_all(&self) -> Result<()> {
        self.request(SubscriptionKind::Channel, false, Vec::new())
            .await
    }

    /// `PUNSUBSCRIBE` from every pattern on record.
    ///
    /// ```no_run
    /// # async fn demo(subscriber: redwire::Subscriber) -> redwire::Result<()> {
    /// subscriber.punsubscribe_all().await?;
    /// # Ok(()) }
    /// ```
    pub async fn punsubscribe_all(&self) -> Result<()> {
        self.request(SubscriptionKind::Pattern, false, Vec::new())
            .await
    }

    /// `SUNSUBSCRIBE` from every shard channel on record.
    ///
    /// ```no_run
    /// # async fn demo(subscriber: redwire::Subscriber) -> redwire::Result<()> {
    /// subscriber.sunsubscribe_all().await?;
    /// # Ok(()) }
    /// ```
    pub async fn sunsubscribe_all(&self) -> Result<()> {
        self.request(SubscriptionKind::Shard, false, Vec::new())
            .await
    }

    /// What is subscribed now, of one kind: what the server confirmed to a
    /// caller that waited for it, less what was unsubscribed since.
    ///
    /// ```no_run
    /// # fn demo(subscriber: redwire::Subscriber) {
    /// use redwire::SubscriptionKind;
    /// println!("{:?}", subscriber.subscriptions(SubscriptionKind::Pattern));
    /// # }
    /// ```
    pub fn subscriptions(&self, kind: SubscriptionKind) -> Vec<Bytes> {
        self.registry
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .names(kind)
    }

    /// Connection events from now on: `Disconnected`, `Connected`,
    /// `Resubscribed` (with everything subscribed again), `Closed`. To place
    /// a drop among the messages, see [`Messages::with_gaps`].
    ///
    /// ```no_run
    /// # async fn demo(subscriber: redwire::Subscriber) {
    /// let mut events = subscriber.events();
    /// while let Ok(event) = events.recv().await {
    ///     println!("{event:?}");
    /// }
    /// # }
    /// ```
    pub fn events(&self) -> broadcast::Receiver<Event> {
        self.link.shared.events.subscribe()
    }

    /// The connection's state now.
    ///
    /// ```no_run
    /// # fn demo(subscriber: redwire::Subscriber) {
    /// println!("{:?}", subscriber.state());
    /// # }
    /// ```
    pub fn state(&self) -> ConnectionState {
        self.link.state()
    }

    /// A change of names the caller listed: an empty list is nothing.
    async fn change(
        &self,
        kind: SubscriptionKind,
        subscribe: bool,
        names: Vec<Bytes>,
    ) -> Result<()> {
        if names.is_empty() {
            return Ok(());
        }
        self.request(kind, subscribe, names).await
    }

    /// Hands a change to the actor and waits, within the deadline, for its
    /// confirmation. No names: an unsubscription from everything.
    async fn request(
        &self,
        kind: SubscriptionKind,
        subscribe: bool,
        names: Vec<Bytes>,
    ) -> Result<()> {
        let count = names.len();
        let claim = Arc::new(Claim::default());
        // Dropped before the answer came: given up.
        let _give_up = GiveUp(&claim);
        let (tx, mut rx) = crate::connection::slot::channel();
        let request = Msg::Subscription(Subscription {
            kind,
            subscribe,
            names,
            tx,
            claim: claim.clone(),
        });
        let exchange = async {
            self.link
                .tx
                .send(request)
                .await
                .map_err(|_| self.link.closed_error())?;
            (&mut rx).await.map_err(|_| self.link.closed_error())?
        };
        let reply = match self.timeout {
            None => exchange.await?,
            Some(limit) => match tokio::time::timeout(limit, exchange).await {
                Ok(reply) => reply?,
                Err(_) if claim.abandon() => {
                    return Err(self.deadline_error(kind, subscribe, count, limit))
                }
                // Answered just as the deadline passed: the answer stands,
                // and is in the slot already or about to be.
                Err(_) => rx.await.map_err(|_| self.link.closed_error())??,
            },
        };
        let refused = reply.into_frames().into_iter().find_map(|f| match f {
            Frame::Error(e) | Frame::BulkError(e) => Some(Error::server_bytes(&e)),
            _ => None,
        });
        match refused {
            Some(err) => Err(err),
            None => Ok(()),
        }
    }

    /// The error of a change whose deadline passed: what it waited for, and
    /// what became of it.
    fn deadline_error(
        &self,
        kind: SubscriptionKind,
        subscribe: bool,
        count: usize,
        limit: Duration,
    ) -> Error {
        let what = match count {
            0 => format!("every {}", kind.noun(1)),
            n => format!("{n} {}", kind.noun(n)),
        };
        let fate = if subscribe {
            "given up: not subscribed, not made again after a reconnect, and unsubscribed if the server makes it after all"
        } else {
            "off the record all the same (no message of it comes out) and still sent"
        };
        let mut message = format!(
            "no confirmation of {} of {what} within the deadline of {limit:?}; {fate}",
            kind.command(subscribe)
        );
        if self.link.state() != ConnectionState::Connected {
            message.push_str("; not connected");
            if let Some(why) = self.link.shared.last_error() {
                message.push_str(&format!(" (last error: {why})"));
            }
        }
        Error::deadline(message)
    }
}

/// Gives a subscription up if its future is dropped before the answer.
struct GiveUp<'a>(&'a Claim);

impl Drop for GiveUp<'_> {
    fn drop(&mut self) {
        self.0.abandon();
    }
}

/// The names in `args`.
fn names(args: impl ToArg) -> Vec<Bytes> {
    let mut list = Cmd::new();
    args.write_args(&mut list);
    list.args_iter().map(Bytes::copy_from_slice).collect()
}

/// What a subscriber's stream carries.
pub(crate) enum Item {
    Message(Message),
    /// A subscription the server ended (a confirmation nobody asked for),
    /// for the cluster's subscriber.
    Ended,
    /// Where the connection dropped, and where everything was subscribed
    /// again (see [`Deliveries`]).
    Gap(Marker),
}

/// The messages of a [`Subscriber`]: an async stream (`recv`, or
/// [`Stream`](futures_core::Stream)) that holds at most [`MESSAGE_BUFFER`]
/// of them (see the module docs). It ends with the subscriber's connection:
/// if that gave up reconnecting, the last item is the error. It yields
/// messages only; [`with_gaps`](Self::with_gaps) also marks where some may
/// be missing.
///
/// ```no_run
/// # async fn demo() -> redwire::Result<()> {
/// let (subscriber, mut messages) = redwire::Subscriber::connect("redis://127.0.0.1".parse()?).await?;
/// subscriber.subscribe("news").await?;
/// tokio::spawn(async move {
///     while let Some(Ok(message)) = messages.recv().await {
///         println!("{:?}", message.payload);
///     }
/// });
/// # Ok(()) }
/// ```
pub struct Messages {
    rx: mpsc::Receiver<Frame>,
    registry: Arc<Mutex<Registry>>,
    link: Arc<Link>,
    /// The drops to place among the frames.
    gaps: Arc<Gaps>,
    /// Frames taken from `rx` so far (where the markers go).
    taken: u64,
    ended: bool,
}

impl std::fmt::Debug for Messages {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Messages")
            .field("waiting", &self.rx.len())
            .finish_non_exhaustive()
    }
}

impl Messages {
    /// The next message; `None` once the subscriber's connection has ended.
    ///
    /// ```no_run
    /// # async fn demo(mut messages: redwire::Messages) -> redwire::Result<()> {
    /// if let Some(message) = messages.recv().await {
    ///     let message = message?;
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn recv(&mut self) -> Option<Result<Message>> {
        std::future::poll_fn(|cx| self.poll_message(cx)).await
    }

    /// The next message, or a subscription the server ended (see
    /// `poll_item`).
    pub(crate) async fn recv_item(&mut self) -> Option<Result<Item>> {
        std::future::poll_fn(|cx| self.poll_item(cx)).await
    }

    /// How many messages wait in the buffer now.
    pub fn len(&self) -> usize {
        self.rx.len()
    }

    /// True when no message waits.
    pub fn is_empty(&self) -> bool {
        self.rx.is_empty()
    }

    /// The same stream, with the places where messages may be missing (see
    /// [`Deliveries`]).
    ///
    /// ```no_run
    /// # async fn demo(messages: redwire::Messages) -> redwire::Result<()> {
    /// use redwire::Delivery;
    /// let mut deliveries = messages.with_gaps();
    /// while let Some(delivery) = deliveries.recv().await {
    ///     match delivery? {
    ///         Delivery::Message(message) => println!("{:?}", message.payload),
    ///         Delivery::Disconnected { reason } => eprintln!("gap starts: {reason}"),
    ///         Delivery::Resubscribed => eprintln!("gap ends"),
    ///         _ => {}
    ///     }
    /// }
    /// # Ok(()) }
    /// ```
    pub fn with_gaps(self) -> Deliveries {
        Deliveries::new(self)
    }

    fn poll_message(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<Message>>> {
        loop {
            match std::task::ready!(self.poll_item(cx)) {
                Some(Ok(Item::Message(message))) => return Poll::Ready(Some(Ok(message))),
                Some(Ok(Item::Ended | Item::Gap(_))) => {}
                Some(Err(e)) => return Poll::Ready(Some(Err(e))),
                None => return Poll::Ready(None),
            }
        }
    }

    /// The next message, or a subscription the server ended on its own (a
    /// shard channel whose slot moved away): the cluster's subscriber moves
    /// those to the slot's new owner.
    pub(crate) fn poll_item(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<Item>>> {
        loop {
            if self.ended {
                return Poll::Ready(None);
            }
            // Every frame before it was taken: a marker's turn.
            if let Some(marker) = self.gaps.take(self.taken, None) {
                return Poll::Ready(Some(Ok(Item::Gap(marker))));
            }
            let frame = match self.rx.poll_recv(cx) {
                Poll::Ready(Some(frame)) => frame,
                Poll::Ready(None) => {
                    if let Some(marker) = self.gaps.take_last() {
                        return Poll::Ready(Some(Ok(Item::Gap(marker))));
                    }
                    self.ended = true;
                    return Poll::Ready(self.end_error().map(Err));
                }
                Poll::Pending => {
                    // Caught up: a marker may come while no frame does.
                    return match self.gaps.take(self.taken, Some(cx.waker())) {
                        Some(marker) => Poll::Ready(Some(Ok(Item::Gap(marker)))),
                        None => Poll::Pending,
                    };
                }
            };
            self.taken += 1;
            match Pushed::from_frame(frame) {
                Pushed::Message(message) if self.wanted(&message) => {
                    return Poll::Ready(Some(Ok(Item::Message(message))))
                }
                Pushed::Unsubscribed(kind, name) => {
                    let mut registry = self.registry.lock().unwrap_or_else(|e| e.into_inner());
                    registry.forget(kind, std::slice::from_ref(&name));
                    return Poll::Ready(Some(Ok(Item::Ended)));
                }
                _ => {}
            }
        }
    }

    /// Still subscribed to what it came through (it may have been
    /// unsubscribed since it arrived).
    fn wanted(&self, message: &Message) -> bool {
        let registry = self.registry.lock().unwrap_or_else(|e| e.into_inner());
        let name = message.pattern.as_ref().unwrap_or(&message.channel);
        registry.contains(message.kind, name)
    }

    /// Why the connection ended, unless it was closed on purpose.
    fn end_error(&self) -> Option<Error> {
        let error = self.link.shared.last_error()?;
        let closed_on_purpose = error.message().contains("every client handle was dropped")
            || error.message().contains("Client::close");
        (!closed_on_purpose).then_some(error)
    }
}

impl futures_core::Stream for Messages {
    type Item = Result<Message>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Message>>> {
        self.get_mut().poll_message(cx)
    }
}
