//! [`Deliveries`]: a subscriber's messages with the places where some may be
//! missing, in order: a [`Delivery::Disconnected`] where the connection
//! dropped and a [`Delivery::Resubscribed`] where everything was subscribed
//! again (see `connection::gaps` for how the markers keep their place).

use super::{Item, Message, Messages};
use crate::connection::gaps::Marker;
use crate::error::{Error, Result};
use std::pin::Pin;
use std::task::{Context, Poll};

/// What a [`Deliveries`] stream yields: a message, or a place in the stream
/// where messages may be missing.
///
/// Between a `Disconnected` and the `Resubscribed` after it, what was
/// published may be lost (Redis keeps nothing for an absent subscriber);
/// messages received before the drop come before the `Disconnected`, and
/// every message after the `Resubscribed` was published after everything was
/// subscribed again. Several drops while the consumer is behind, with no
/// message between them, come out as one `Disconnected` (with the first
/// reason); a drop before the resubscription finished may come out as a
/// second `Disconnected` before the one `Resubscribed`.
///
/// ```no_run
/// # async fn demo(mut deliveries: redwire::Deliveries) -> redwire::Result<()> {
/// use redwire::Delivery;
/// match deliveries.recv().await.transpose()? {
///     Some(Delivery::Message(message)) => println!("{:?}", message.payload),
///     Some(Delivery::Disconnected { reason }) => eprintln!("dropped: {reason}"),
///     Some(Delivery::Resubscribed) => eprintln!("back; messages may be missing before this"),
///     Some(_) => {}
///     None => eprintln!("the subscriber has ended"),
/// }
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Delivery {
    /// A message, as [`Messages`] yields it.
    Message(Message),
    /// The connection dropped here: messages published from now on may be
    /// lost, until the next [`Resubscribed`](Delivery::Resubscribed).
    Disconnected {
        /// Why it dropped.
        reason: Error,
    },
    /// Everything subscribed is subscribed again, on a new connection.
    Resubscribed,
}

/// A subscriber's messages with the gaps marked, from
/// [`Messages::with_gaps`]: an async stream (`recv`, or
/// [`Stream`](futures_core::Stream)) of [`Delivery`]. It holds at most
/// [`MESSAGE_BUFFER`](crate::MESSAGE_BUFFER) messages like [`Messages`]; a
/// marker never waits in that buffer, never pushes a message out and is
/// never dropped.
///
/// ```no_run
/// # async fn demo() -> redwire::Result<()> {
/// use redwire::Delivery;
/// let (subscriber, messages) = redwire::Subscriber::connect("redis://127.0.0.1".parse()?).await?;
/// subscriber.subscribe("prices").await?;
/// let mut deliveries = messages.with_gaps();
/// while let Some(delivery) = deliveries.recv().await {
///     if let Delivery::Resubscribed = delivery? {
///         eprintln!("some prices may have been missed: reading them again");
///     }
/// }
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct Deliveries {
    messages: Messages,
}

impl Deliveries {
    pub(super) fn new(messages: Messages) -> Deliveries {
        Deliveries { messages }
    }

    /// The next message or marker; `None` once the subscriber's connection
    /// has ended (if it gave up reconnecting, the last item is the error).
    ///
    /// ```no_run
    /// # async fn demo(mut deliveries: redwire::Deliveries) -> redwire::Result<()> {
    /// if let Some(delivery) = deliveries.recv().await {
    ///     println!("{:?}", delivery?);
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn recv(&mut self) -> Option<Result<Delivery>> {
        std::future::poll_fn(|cx| self.poll_delivery(cx)).await
    }

    /// How many messages wait in the buffer now (markers not counted).
    ///
    /// ```no_run
    /// # fn demo(deliveries: &redwire::Deliveries) {
    /// println!("{} waiting", deliveries.len());
    /// # }
    /// ```
    pub fn len(&self) -> usize {
        self.messages.len()
    }

    /// True when no message waits.
    ///
    /// ```no_run
    /// # fn demo(deliveries: &redwire::Deliveries) {
    /// if deliveries.is_empty() {
    ///     println!("caught up");
    /// }
    /// # }
    /// ```
    pub fn is_empty(&self) -> bool {
        self.messages.is_empty()
    }

    fn poll_delivery(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<Delivery>>> {
        loop {
            let delivery = match std::task::ready!(self.messages.poll_item(cx)) {
                Some(Ok(Item::Message(message))) => Delivery::Message(message),
                Some(Ok(Item::Gap(Marker::Disconnected(reason)))) => {
                    Delivery::Disconnected { reason }
                }
                Some(Ok(Item::Gap(Marker::Resubscribed))) => Delivery::Resubscribed,
                Some(Ok(Item::Ended)) => continue,
                Some(Err(e)) => return Poll::Ready(Some(Err(e))),
                None => return Poll::Ready(None),
            };
            return Poll::Ready(Some(Ok(delivery)));
        }
    }
}

impl futures_core::Stream for Deliveries {
    type Item = Result<Delivery>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Delivery>>> {
        self.get_mut().poll_delivery(cx)
    }
}
