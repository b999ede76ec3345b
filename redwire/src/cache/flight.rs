//! Single flight: concurrent misses of the same read become one request.
//!
//! The first caller to miss (the leader) sends the read with a [`Fill`]
//! attached; callers that miss while it is out (followers) wait on its
//! [`Flight`] instead of sending their own. The actor settles the flight
//! when it hands out the reply, in the same step that stores it, so a
//! follower gets exactly what the cache got. A leader that gives up does not
//! strand its followers: if its request is written, the reply still comes
//! and settles the flight; if it is dropped unwritten or fails, dropping the
//! `Fill` settles the flight empty, and each follower sends its read itself.

use super::Cache;
use bytes::Bytes;
use redwire_resp::Frame;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};

/// One read on its way, which followers wait for.
#[derive(Debug, Default)]
pub(crate) struct Flight {
    state: Mutex<Landing>,
}

#[derive(Debug, Default)]
enum Landing {
    #[default]
    Flying,
    Waiting(Vec<Waker>),
    /// The reply, or `None`: the leader's request failed or was dropped.
    Landed(Option<Frame>),
}

impl Flight {
    /// The reply once the flight lands (`None`: send the read yourself).
    pub(crate) fn poll_landed(&self, cx: &mut Context<'_>) -> Poll<Option<Frame>> {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        match &mut *state {
            Landing::Landed(reply) => Poll::Ready(reply.clone()),
            Landing::Waiting(wakers) => {
                if !wakers.iter().any(|w| w.will_wake(cx.waker())) {
                    wakers.push(cx.waker().clone());
                }
                Poll::Pending
            }
            Landing::Flying => {
                *state = Landing::Waiting(vec![cx.waker().clone()]);
                Poll::Pending
            }
        }
    }

    fn land(&self, reply: Option<Frame>) {
        let before = std::mem::replace(
            &mut *self.state.lock().unwrap_or_else(|e| e.into_inner()),
            Landing::Landed(reply),
        );
        if let Landing::Waiting(wakers) = before {
            wakers.into_iter().for_each(Waker::wake);
        }
    }
}

/// What a leader's request carries: where its reply goes in the cache.
/// Settled by the actor ([`Cache::on_reply`]); dropped unsettled (the
/// request was never answered), it lands its flight empty.
pub(crate) struct Fill {
    pub(crate) cache: Arc<Cache>,
    /// The keys and commands under which the reply is kept: one for a read
    /// of one key; one per key for `MGET`, each as that key's `GET`.
    pub(crate) targets: Vec<(Bytes, Bytes)>,
    /// `MGET`: the reply is an array, one element per target.
    pub(crate) split: bool,
    /// The request starts with `CLIENT CACHING YES` (opt-in mode): two
    /// replies, of which the caller gets the second.
    pub(crate) opt_in: bool,
    /// The flight of a single read (`MGET` has none), and its name in the
    /// cache's table of flights.
    pub(crate) flight: Option<(Bytes, Arc<Flight>)>,
}

impl Fill {
    /// Lands the flight with `reply` and takes it off the table.
    pub(crate) fn land(&mut self, reply: Option<Frame>) {
        if let Some((command, flight)) = self.flight.take() {
            self.cache.end_flight(&command, &flight);
            flight.land(reply);
        }
    }
}

impl Drop for Fill {
    fn drop(&mut self) {
        self.land(None);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn followers_are_woken_with_the_reply() {
        let flight = Flight::default();
        let waker = crate::connection::noop_waker();
        let mut cx = Context::from_waker(&waker);
        assert!(flight.poll_landed(&mut cx).is_pending());
        assert!(flight.poll_landed(&mut cx).is_pending());
        flight.land(Some(Frame::Integer(7)));
        assert_eq!(
            flight.poll_landed(&mut cx),
            Poll::Ready(Some(Frame::Integer(7)))
        );
    }

    /// Every follower's waker is kept, once, and woken when it lands.
    #[test]
    fn each_follower_is_woken_once() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        use std::sync::Arc;
        struct Count(AtomicUsize);
        impl std::task::Wake for Count {
            fn wake(self: Arc<Self>) {
                self.0.fetch_add(1, Ordering::Relaxed);
            }
        }
        let flight = Flight::default();
        let counts: Vec<Arc<Count>> = (0..3)
            .map(|_| Arc::new(Count(AtomicUsize::new(0))))
            .collect();
        for count in &counts {
            let waker = std::task::Waker::from(count.clone());
            let mut cx = Context::from_waker(&waker);
            assert!(flight.poll_landed(&mut cx).is_pending());
            assert!(flight.poll_landed(&mut cx).is_pending(), "polled again");
        }
        flight.land(None);
        let woken: Vec<usize> = counts.iter().map(|c| c.0.load(Ordering::Relaxed)).collect();
        assert_eq!(woken, [1, 1, 1]);
    }
}
