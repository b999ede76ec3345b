//! [`Message`]: one pub/sub message as the subscriber hands it out, read
//! zero-copy from the frame the server sent (RESP2 array or RESP3 push).

use crate::connection::subscriptions::SubscriptionKind;
use bytes::Bytes;
use redwire_resp::Frame;

/// A message received by a [`Subscriber`](super::Subscriber).
///
/// ```no_run
/// # async fn demo(mut messages: redwire::Messages) {
/// while let Some(Ok(msg)) = messages.recv().await {
///     println!("{:?} on {:?}: {:?}", msg.kind, msg.channel, msg.payload);
/// }
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Message {
    /// How it was subscribed to: a channel, a pattern, a shard channel.
    pub kind: SubscriptionKind,
    /// The channel it was published on.
    pub channel: Bytes,
    /// The pattern that matched, for a pattern subscription.
    pub pattern: Option<Bytes>,
    /// What was published.
    pub payload: Bytes,
}

/// What a pushed frame is, for the message stream.
pub(crate) enum Pushed {
    Message(Message),
    /// A subscription ended by the server (a shard channel's slot moved).
    Unsubscribed(SubscriptionKind, Bytes),
    /// Anything else.
    Other,
}

impl Pushed {
    pub(crate) fn from_frame(frame: Frame) -> Pushed {
        let items = match frame {
            Frame::Push(items) | Frame::Array(items) => items,
            Frame::Attribute { frame, .. } => return Pushed::from_frame(*frame),
            _ => return Pushed::Other,
        };
        let mut it = items.into_iter().map(|f| match f {
            Frame::Bulk(b) | Frame::Simple(b) => Some(b),
            _ => None,
        });
        let Some(Some(kind)) = it.next() else {
            return Pushed::Other;
        };
        let mut next = || it.next().flatten();
        match kind.to_ascii_lowercase().as_slice() {
            b"message" | b"smessage" => {
                let kind = if kind.eq_ignore_ascii_case(b"smessage") {
                    SubscriptionKind::Shard
                } else {
                    SubscriptionKind::Channel
                };
                match (next(), next()) {
                    (Some(channel), Some(payload)) => Pushed::Message(Message {
                        kind,
                        channel,
                        pattern: None,
                        payload,
                    }),
                    _ => Pushed::Other,
                }
            }
            b"pmessage" => match (next(), next(), next()) {
                (Some(pattern), Some(channel), Some(payload)) => Pushed::Message(Message {
                    kind: SubscriptionKind::Pattern,
                    channel,
                    pattern: Some(pattern),
                    payload,
                }),
                _ => Pushed::Other,
            },
            b"unsubscribe" => next().map_or(Pushed::Other, |c| {
                Pushed::Unsubscribed(SubscriptionKind::Channel, c)
            }),
            b"punsubscribe" => next().map_or(Pushed::Other, |c| {
                Pushed::Unsubscribed(SubscriptionKind::Pattern, c)
            }),
            b"sunsubscribe" => next().map_or(Pushed::Other, |c| {
                Pushed::Unsubscribed(SubscriptionKind::Shard, c)
            }),
            _ => Pushed::Other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bulk(s: &str) -> Frame {
        Frame::Bulk(Bytes::copy_from_slice(s.as_bytes()))
    }

    #[test]
    fn the_three_kinds_of_message_are_read_in_both_protocols() {
        for wrap in [Frame::Push as fn(Vec<Frame>) -> Frame, Frame::Array] {
            let Pushed::Message(m) =
                Pushed::from_frame(wrap(vec![bulk("message"), bulk("c"), bulk("p")]))
            else {
                panic!("not a message")
            };
            assert_eq!(
                (m.kind, &m.channel[..], m.pattern, &m.payload[..]),
                (SubscriptionKind::Channel, &b"c"[..], None, &b"p"[..])
            );
            let Pushed::Message(m) = Pushed::from_frame(wrap(vec![
                bulk("pmessage"),
                bulk("c.*"),
                bulk("c.1"),
                bulk("p"),
            ])) else {
                panic!("not a message")
            };
            assert_eq!(m.pattern.as_deref(), Some(&b"c.*"[..]));
            assert_eq!(&m.channel[..], b"c.1");
            let Pushed::Message(m) =
                Pushed::from_frame(wrap(vec![bulk("smessage"), bulk("s"), bulk("p")]))
            else {
                panic!("not a message")
            };
            assert_eq!(m.kind, SubscriptionKind::Shard);
        }
        assert!(matches!(
            Pushed::from_frame(Frame::Push(vec![
                bulk("sunsubscribe"),
                bulk("s"),
                Frame::Integer(0)
            ])),
            Pushed::Unsubscribed(SubscriptionKind::Shard, _)
        ));
        assert!(matches!(
            Pushed::from_frame(Frame::Push(vec![bulk("message")])),
            Pushed::Other
        ));
    }
}
