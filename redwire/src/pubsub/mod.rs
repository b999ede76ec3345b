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
//! **Survives outages.** After a drop the subscriber reconnects (with the
//! configured backoff, for ever unless `Backoff::max_attempts` says
//! otherwise) and subscribes again to everything, then emits
//! [`Event::Resubscribed`](crate::Event::Resubscribed) on
//! [`events`](Subscriber::events). Messages published while it was
//! disconnected are lost: Redis pub/sub keeps nothing for absent
//! subscribers (use streams for that). If the reconnect gives up, the stream
//! yields the error and ends.
//!
//! **Bounded memory.** The stream holds at most
//! [`MESSAGE_BUFFER`] messages. When the consumer falls behind and the buffer
//! is full, the subscriber stops reading its socket: the kernel's buffers
//! fill, TCP pushes back on the server, and the client's memory stays put.
//! The server keeps the rest in its output buffer for this client up to
//! `client-output-buffer-limit pubsub` (32 MB by default) and then drops the
//! connection; the subscriber reconnects, resubscribes, and says so with the
//! events `Disconnected` and `Resubscribed`: the gap between them is lost.
//! One consequence to know: confirmations come in order with the messages,
//! so while the buffer is full, `subscribe` and `unsubscribe` wait until the
//! consumer makes room. Do not await them in the task that consumes the
//! stream while it is behind.
//!
//! Both protocols work: RESP3 pushes, or RESP2's subscribed mode.

mod message;
mod monitor;

pub use crate::connection::subscriptions::SubscriptionKind;
pub use message::Message;
pub use monitor::Monitor;

use crate::client::link::Link;
use crate::cmd::{Cmd, ToArg};
use crate::config::Config;
use crate::connection::push::Sink;
use crate::connection::state::{ConnectionState, Event};
use crate::connection::subscriptions::{Registry, Subscription};
use crate::connection::{Kind, Msg};
use crate::error::{Error, Result};
use bytes::Bytes;
use message::Pushed;
use redwire_resp::Frame;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
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
}

impl std::fmt::Debug for Subscriber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Subscriber")
            .field("url", &self.link.config.redacted_url())
            .field("state", &self.link.state())
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
        let (sink, rx) = Sink::backpressure(MESSAGE_BUFFER);
        let kind = Kind::Subscriber(sink, registry.clone());
        let link = Arc::new(Link::connect(config, kind, None).await?);
        let messages = Messages {
            rx,
            registry: registry.clone(),
            link: link.clone(),
            ended: false,
        };
        Ok((Subscriber { link, registry }, messages))
    }

    /// `SUBSCRIBE`: returns once the server confirmed every channel.
    ///
    /// ```no_run
    /// # async fn demo(subscriber: redwire::Subscriber) -> redwire::Result<()> {
    /// subscriber.subscribe(["orders", "payments"]).await?;
    /// # Ok(()) }
    /// ```
    pub async fn subscribe(&self, channels: impl ToArg) -> Result<()> {
        self.change(SubscriptionKind::Channel, true, channels).await
    }

    /// `PSUBSCRIBE`: glob-style patterns (`news.*`).
    pub async fn psubscribe(&self, patterns: impl ToArg) -> Result<()> {
        self.change(SubscriptionKind::Pattern, true, patterns).await
    }

    /// `SSUBSCRIBE`: shard channels (Redis 7+).
    pub async fn ssubscribe(&self, channels: impl ToArg) -> Result<()> {
        self.change(SubscriptionKind::Shard, true, channels).await
    }

    /// `UNSUBSCRIBE`: once it returns, no message of these channels comes out
    /// of the stream. No channel (`()`) means every channel.
    ///
    /// ```no_run
    /// # async fn demo(subscriber: redwire::Subscriber) -> redwire::Result<()> {
    /// subscriber.unsubscribe("orders").await?;
    /// subscriber.unsubscribe(()).await?; // all the rest
    /// # Ok(()) }
    /// ```
    pub async fn unsubscribe(&self, channels: impl ToArg) -> Result<()> {
        self.change(SubscriptionKind::Channel, false, channels)
            .await
    }

    /// `PUNSUBSCRIBE`; no pattern (`()`) means every pattern.
    pub async fn punsubscribe(&self, patterns: impl ToArg) -> Result<()> {
        self.change(SubscriptionKind::Pattern, false, patterns)
            .await
    }

    /// `SUNSUBSCRIBE`; no channel (`()`) means every shard channel.
    pub async fn sunsubscribe(&self, channels: impl ToArg) -> Result<()> {
        self.change(SubscriptionKind::Shard, false, channels).await
    }

    /// What is subscribed now, of one kind.
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
    /// `Resubscribed` (with everything subscribed again), `Closed`.
    pub fn events(&self) -> broadcast::Receiver<Event> {
        self.link.shared.events.subscribe()
    }

    /// The connection's state now.
    pub fn state(&self) -> ConnectionState {
        self.link.state()
    }

    async fn change(
        &self,
        kind: SubscriptionKind,
        subscribe: bool,
        names: impl ToArg,
    ) -> Result<()> {
        let mut list = Cmd::new();
        names.write_args(&mut list);
        let names: Vec<Bytes> = list.args_iter().map(Bytes::copy_from_slice).collect();
        if subscribe && names.is_empty() {
            return Ok(());
        }
        let (tx, rx) = crate::connection::slot::channel();
        let request = Msg::Subscription(Subscription {
            kind,
            subscribe,
            names: names.clone(),
            tx,
        });
        self.link
            .tx
            .send(request)
            .await
            .map_err(|_| self.link.closed_error())?;
        let reply = rx.await.map_err(|_| self.link.closed_error())??;
        let refused = reply.into_frames().into_iter().find_map(|f| match f {
            Frame::Error(e) | Frame::BulkError(e) => Some(Error::server_bytes(&e)),
            _ => None,
        });
        if let Some(err) = refused {
            if subscribe {
                // Not subscribed after all: not made again after a reconnect.
                let mut registry = self.registry.lock().unwrap_or_else(|e| e.into_inner());
                registry.forget(kind, &names);
            }
            return Err(err);
        }
        Ok(())
    }
}

/// What a subscriber's stream carries, for the cluster's subscriber.
pub(crate) enum Item {
    Message(Message),
    /// A subscription the server ended (a confirmation nobody asked for).
    Ended,
}

/// The messages of a [`Subscriber`]: an async stream (`recv`, or
/// [`Stream`](futures_core::Stream)) that holds at most [`MESSAGE_BUFFER`]
/// of them (see the module docs). It ends with the subscriber's connection:
/// if that gave up reconnecting, the last item is the error.
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

    fn poll_message(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<Message>>> {
        loop {
            match std::task::ready!(self.poll_item(cx)) {
                Some(Ok(Item::Message(message))) => return Poll::Ready(Some(Ok(message))),
                Some(Ok(Item::Ended)) => {}
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
            let Some(frame) = std::task::ready!(self.rx.poll_recv(cx)) else {
                self.ended = true;
                return Poll::Ready(self.end_error().map(Err));
            };
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
