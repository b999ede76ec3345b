//! Frames that are not replies to a request: pub/sub messages, subscription
//! confirmations the server sends on its own (a shard channel moved away),
//! invalidations. Telling them from replies, and where they go.
//!
//! In RESP3 they are push frames. In RESP2 a subscribed connection sends them
//! as arrays whose first element names the kind (`message`, `subscribe`…);
//! only a subscriber's connection reads arrays that way (its only other
//! replies are errors and `PING`'s `["pong", …]`).
//!
//! A shared client's pushes go to a bounded buffer that drops when full (the
//! socket is everyone's: it cannot stop reading for one slow reader). A
//! subscriber's go to a bounded buffer that the actor waits on: while it is
//! full the actor reads nothing more, so TCP pushes back on the server and
//! memory stays bounded.

use redwire_resp::Frame;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use tokio::sync::mpsc;
use tokio_util::sync::PollSender;

/// What a frame that is not a reply is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// `message`, `pmessage`, `smessage`.
    Message,
    /// `subscribe`, `unsubscribe` and the pattern and shard forms.
    Confirmation,
    /// Anything else pushed (`invalidate`…).
    Other,
}

/// `None` for a reply; the kind of anything else. `subscriber_resp2`: read
/// RESP2 arrays as a subscribed connection sends them.
pub(crate) fn classify(frame: &Frame, subscriber_resp2: bool) -> Option<Kind> {
    let items = match frame {
        Frame::Push(items) => items,
        Frame::Attribute { frame, .. } => return classify(frame, subscriber_resp2),
        Frame::Array(items) if subscriber_resp2 => items,
        _ => return None,
    };
    let name = match items.first() {
        Some(Frame::Bulk(b) | Frame::Simple(b)) => b,
        _ if matches!(frame, Frame::Push(_)) => return Some(Kind::Other),
        _ => return None,
    };
    let kind = match name.to_ascii_lowercase().as_slice() {
        b"message" | b"pmessage" | b"smessage" => Kind::Message,
        b"subscribe" | b"psubscribe" | b"ssubscribe" | b"unsubscribe" | b"punsubscribe"
        | b"sunsubscribe" => Kind::Confirmation,
        // RESP2's answer to PING on a subscribed connection is a reply.
        _ if !matches!(frame, Frame::Push(_)) => return None,
        _ => Kind::Other,
    };
    Some(kind)
}

/// Where a connection's pushes go.
pub(crate) enum Sink {
    /// Dropped when full, counted in `dropped`.
    Lossy {
        tx: mpsc::Sender<Frame>,
        dropped: Arc<AtomicU64>,
    },
    /// Waited on when full: the actor stops reading. `sent` counts the
    /// frames handed over, where a subscriber's gap markers go (see `gaps`).
    Backpressure { tx: PollSender<Frame>, sent: u64 },
}

/// What became of a push handed to the sink.
pub(crate) enum Delivery {
    Done,
    /// The buffer is full: hold the frame and read nothing more until
    /// [`Sink::poll_room`] says there is room.
    Full(Frame),
}

impl Sink {
    /// A lossy sink and its receiver.
    pub(crate) fn lossy(capacity: usize) -> (Sink, mpsc::Receiver<Frame>, Arc<AtomicU64>) {
        let (tx, rx) = mpsc::channel(capacity);
        let dropped = Arc::new(AtomicU64::new(0));
        let sink = Sink::Lossy {
            tx,
            dropped: dropped.clone(),
        };
        (sink, rx, dropped)
    }

    /// A sink that pushes back, and its receiver.
    pub(crate) fn backpressure(capacity: usize) -> (Sink, mpsc::Receiver<Frame>) {
        let capacity = match super::bugs::on(super::bugs::Bug::UnboundedMessages) {
            true => 1 << 20,
            false => capacity,
        };
        let (tx, rx) = mpsc::channel(capacity);
        let tx = PollSender::new(tx);
        (Sink::Backpressure { tx, sent: 0 }, rx)
    }

    /// Frames handed to a backpressure sink's channel so far.
    pub(crate) fn sent(&self) -> u64 {
        match self {
            Sink::Backpressure { sent, .. } => *sent,
            Sink::Lossy { .. } => 0,
        }
    }

    /// Hands a push over without waiting. Nobody listening: dropped.
    pub(crate) fn deliver(&mut self, frame: Frame) -> Delivery {
        match self {
            Sink::Lossy { tx, dropped } => {
                if tx.try_send(frame).is_err() {
                    dropped.fetch_add(1, Ordering::Relaxed);
                }
                Delivery::Done
            }
            Sink::Backpressure { tx, sent } => {
                let Some(sender) = tx.get_ref() else {
                    return Delivery::Done;
                };
                match sender.try_send(frame) {
                    Ok(()) => {
                        *sent += 1;
                        Delivery::Done
                    }
                    Err(mpsc::error::TrySendError::Full(frame)) => Delivery::Full(frame),
                    Err(mpsc::error::TrySendError::Closed(_)) => Delivery::Done,
                }
            }
        }
    }

    /// Waits for room for `frame` (a backpressure sink); `Ready` once it is
    /// delivered (or nobody listens any more).
    pub(crate) fn poll_room(
        &mut self,
        cx: &mut Context<'_>,
        frame: &mut Option<Frame>,
    ) -> Poll<()> {
        let Sink::Backpressure { tx, sent } = self else {
            *frame = None;
            return Poll::Ready(());
        };
        match tx.poll_reserve(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(Ok(())) => {
                if let Some(frame) = frame.take() {
                    if tx.send_item(frame).is_ok() {
                        *sent += 1;
                    }
                }
                Poll::Ready(())
            }
            Poll::Ready(Err(_)) => {
                *frame = None;
                Poll::Ready(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bulk(s: &str) -> Frame {
        Frame::Bulk(bytes::Bytes::copy_from_slice(s.as_bytes()))
    }

    #[test]
    fn pushes_are_told_from_replies() {
        let msg = vec![bulk("message"), bulk("ch"), bulk("hi")];
        assert_eq!(
            classify(&Frame::Push(msg.clone()), false),
            Some(Kind::Message)
        );
        assert_eq!(
            classify(&Frame::Array(msg.clone()), true),
            Some(Kind::Message)
        );
        assert_eq!(
            classify(&Frame::Array(msg), false),
            None,
            "an ordinary array reply"
        );
        let confirm = vec![bulk("SUBSCRIBE"), bulk("ch"), Frame::Integer(1)];
        assert_eq!(
            classify(&Frame::Array(confirm), true),
            Some(Kind::Confirmation)
        );
        let pong = vec![bulk("pong"), bulk("")];
        assert_eq!(classify(&Frame::Array(pong), true), None);
        let invalidate = vec![bulk("invalidate"), Frame::Array(vec![bulk("k")])];
        assert_eq!(classify(&Frame::Push(invalidate), false), Some(Kind::Other));
        assert_eq!(classify(&Frame::Push(vec![]), false), Some(Kind::Other));
        assert_eq!(classify(&bulk("message"), true), None);
        // An annotated push is still a push; a push that names nothing is other.
        let annotated = Frame::Attribute {
            attributes: vec![],
            frame: Box::new(Frame::Push(vec![bulk("smessage"), bulk("c"), bulk("p")])),
        };
        assert_eq!(classify(&annotated, false), Some(Kind::Message));
        assert_eq!(
            classify(&Frame::Push(vec![Frame::Integer(1)]), false),
            Some(Kind::Other)
        );
        assert_eq!(classify(&Frame::Array(vec![Frame::Integer(1)]), true), None);
    }

    #[test]
    fn a_full_backpressure_sink_hands_the_frame_back() {
        let (mut sink, mut rx) = Sink::backpressure(1);
        assert!(matches!(sink.deliver(bulk("a")), Delivery::Done));
        assert_eq!(sink.sent(), 1);
        let Delivery::Full(held) = sink.deliver(bulk("b")) else {
            panic!("a full buffer took a frame")
        };
        let waker = crate::connection::noop_waker();
        let mut cx = Context::from_waker(&waker);
        let mut held = Some(held);
        assert!(sink.poll_room(&mut cx, &mut held).is_pending());
        assert_eq!(rx.try_recv().unwrap(), bulk("a"));
        assert!(sink.poll_room(&mut cx, &mut held).is_ready());
        assert!(held.is_none());
        assert_eq!(
            sink.sent(),
            2,
            "the held frame is counted once it is handed over"
        );
        assert_eq!(rx.try_recv().unwrap(), bulk("b"));
    }

    #[test]
    fn a_full_lossy_sink_drops_and_counts() {
        let (mut sink, mut rx, dropped) = Sink::lossy(1);
        sink.deliver(bulk("a"));
        sink.deliver(bulk("b"));
        assert_eq!(dropped.load(Ordering::Relaxed), 1);
        assert_eq!(rx.try_recv().unwrap(), bulk("a"));
        assert!(rx.try_recv().is_err());
    }
}
