//! Where a subscriber's stream may miss messages: the markers of a drop and
//! of the resubscription after it, kept beside the stream's channel and
//! placed by position among its frames, so that they come out in order with
//! the messages without ever queueing behind a full buffer.
//!
//! **Positions.** The actor counts the frames it hands to the stream's
//! channel; a marker is posted at that count (plus the frame it holds for
//! lack of room, which came before the drop and goes before the marker).
//! The stream counts the frames it takes; a marker comes out once every
//! frame before it did. The channel stays the one queue of frames, bounded;
//! the markers wait here, and are never dropped.
//!
//! **Coalescing.** A `Disconnected` posted while the last marker waiting is
//! a `Disconnected` (no resubscription finished since), or a `Resubscribed`
//! with no frame after it, merges into that `Disconnected`: one gap, with
//! the first reason (the `Resubscribed` it swallowed goes too: the gap goes
//! on). So a waiting `Disconnected`–`Resubscribed` pair always has a frame
//! after it, and the markers waiting are bounded by the channel's capacity.
//! The first connection posts nothing; a `Resubscribed` is posted only after
//! a `Disconnected`, once everything on record is subscribed again.

use super::state::Event;
use super::Actor;
use crate::error::Error;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::task::Waker;

/// A place in the stream where messages may be missing.
#[derive(Debug, Clone)]
pub(crate) enum Marker {
    /// The connection dropped: what is published from now on is lost…
    Disconnected(Error),
    /// …until now: everything on record is subscribed again.
    Resubscribed,
}

/// The markers waiting for the stream to reach them.
#[derive(Debug)]
pub(crate) struct Gaps {
    /// The position of the first marker waiting (`u64::MAX`: none), so the
    /// stream checks for one per frame without the lock.
    next: AtomicU64,
    queue: Mutex<Queue>,
}

#[derive(Debug, Default)]
struct Queue {
    markers: VecDeque<(u64, Marker)>,
    /// The stream, waiting for a frame or a marker.
    waker: Option<Waker>,
}

impl Queue {
    fn push(&mut self, at: u64, marker: Marker) {
        if let Marker::Disconnected(_) = marker {
            if matches!(self.markers.back(), Some((p, Marker::Resubscribed)) if *p == at) {
                self.markers.pop_back();
            }
            if matches!(self.markers.back(), Some((_, Marker::Disconnected(_)))) {
                return;
            }
        }
        self.markers.push_back((at, marker));
    }

    fn front(&self) -> u64 {
        self.markers.front().map_or(u64::MAX, |(at, _)| *at)
    }
}

impl Default for Gaps {
    fn default() -> Self {
        Gaps {
            next: AtomicU64::new(u64::MAX),
            queue: Mutex::default(),
        }
    }
}

impl Gaps {
    fn lock(&self) -> std::sync::MutexGuard<'_, Queue> {
        self.queue.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The actor: `marker` goes after the first `at` frames of the stream.
    pub(crate) fn post(&self, at: u64, marker: Marker) {
        let waker = {
            let mut queue = self.lock();
            queue.push(at, marker);
            self.next.store(queue.front(), Ordering::Release);
            queue.waker.take()
        };
        if let Some(waker) = waker {
            waker.wake();
        }
    }

    /// The stream, having taken `taken` frames: the next marker, if every
    /// frame before it was taken. With `waker`, when there is none, the
    /// stream is woken by the next one posted.
    pub(crate) fn take(&self, taken: u64, waker: Option<&Waker>) -> Option<Marker> {
        if waker.is_none() && self.next.load(Ordering::Acquire) > taken {
            return None;
        }
        let mut queue = self.lock();
        if queue.front() > taken {
            if let Some(waker) = waker {
                if !queue.waker.as_ref().is_some_and(|w| w.will_wake(waker)) {
                    queue.waker = Some(waker.clone());
                }
            }
            return None;
        }
        let (_, marker) = queue.markers.pop_front()?;
        self.next.store(queue.front(), Ordering::Release);
        Some(marker)
    }

    /// The stream, at its end: the markers still waiting, in order.
    pub(crate) fn take_last(&self) -> Option<Marker> {
        self.take(u64::MAX, None)
    }
}

impl Actor {
    /// Places `marker` in a subscriber's stream, after every frame handed to
    /// it so far (or held for it). A `Resubscribed` only closes a gap.
    pub(super) fn mark_gap(&mut self, marker: Marker) {
        let Some(gaps) = &self.gaps else {
            return;
        };
        match marker {
            Marker::Disconnected(_) => self.gap_open = true,
            Marker::Resubscribed if !self.gap_open => return,
            Marker::Resubscribed => self.gap_open = false,
        }
        let at = self.push.sent() + u64::from(self.held.is_some());
        gaps.post(at, marker);
    }

    /// Emits the event a request carried, once answered; a resubscription's
    /// is also a marker in the stream.
    pub(super) fn announce(&mut self, event: Event) {
        if let Event::Resubscribed {
            channels,
            patterns,
            shard_channels,
        } = &event
        {
            self.meter.resubscribed();
            tracing::info!(
                target: "redwire::pubsub",
                channels = channels.len(),
                patterns = patterns.len(),
                shard_channels = shard_channels.len(),
                "resubscribed"
            );
            self.mark_gap(Marker::Resubscribed);
        }
        self.shared.emit(event);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn drop_at(gaps: &Gaps, at: u64) {
        gaps.post(
            at,
            Marker::Disconnected(Error::protocol(format!("drop {at}"))),
        );
    }

    fn taken(gaps: &Gaps, taken: u64) -> Option<String> {
        gaps.take(taken, None).map(|m| match m {
            Marker::Disconnected(e) => e.message().to_owned(),
            Marker::Resubscribed => "resubscribed".into(),
        })
    }

    #[test]
    fn a_marker_waits_for_the_frames_before_it() {
        let gaps = Gaps::default();
        assert_eq!(taken(&gaps, 0), None);
        drop_at(&gaps, 3);
        gaps.post(3, Marker::Resubscribed);
        assert_eq!(taken(&gaps, 2), None, "two frames before it are unread");
        assert!(taken(&gaps, 3).unwrap().contains("drop 3"));
        assert_eq!(taken(&gaps, 3).as_deref(), Some("resubscribed"));
        assert_eq!(taken(&gaps, 3), None);
    }

    #[test]
    fn drops_with_no_frame_between_them_are_one_gap() {
        let gaps = Gaps::default();
        for _ in 0..1000 {
            drop_at(&gaps, 5);
            gaps.post(5, Marker::Resubscribed);
        }
        drop_at(&gaps, 5);
        // Then a frame, and a drop that did not resubscribe before the next.
        gaps.post(5, Marker::Resubscribed);
        drop_at(&gaps, 6);
        drop_at(&gaps, 7);
        gaps.post(7, Marker::Resubscribed);
        let all: Vec<String> = std::iter::from_fn(|| taken(&gaps, 7)).collect();
        assert_eq!(all.len(), 4, "{all:?}");
        assert!(
            all[0].contains("drop 5"),
            "the first reason is kept: {all:?}"
        );
        assert_eq!(all[1], "resubscribed");
        assert!(all[2].contains("drop 6"), "{all:?}");
        assert_eq!(all[3], "resubscribed");
    }

    #[test]
    fn a_waiting_stream_is_woken_by_a_marker_and_the_end_takes_them_all() {
        struct Count(std::sync::atomic::AtomicUsize);
        impl std::task::Wake for Count {
            fn wake(self: std::sync::Arc<Self>) {
                self.0.fetch_add(1, Ordering::SeqCst);
            }
        }
        let count = std::sync::Arc::new(Count(Default::default()));
        let waker = Waker::from(count.clone());
        let gaps = Gaps::default();
        assert!(gaps.take(0, Some(&waker)).is_none());
        drop_at(&gaps, 2);
        assert_eq!(count.0.load(Ordering::SeqCst), 1);
        assert!(gaps.take(0, Some(&waker)).is_none());
        assert!(gaps.take_last().is_some());
        assert!(gaps.take_last().is_none());
    }
}
