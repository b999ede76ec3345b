//! The reply slot: where the actor puts one request's answer and the caller
//! waits for it. It does what a `tokio::sync::oneshot` did here, for less.
//!
//! Design decisions:
//!
//! - **Safe code only.** One `Arc` shared by exactly two owners, the
//!   [`ReplySender`] (the actor's) and the [`ReplyReceiver`] (the caller's),
//!   around a `Mutex` holding the answer and the caller's waker. Uncontended,
//!   which it nearly always is, the lock is one compare-and-swap and one swap.
//! - **Abandonment is the receiver's absence.** The caller gives up by
//!   dropping its receiver; the sender sees it as a strong count of one
//!   ([`ReplySender::is_closed`]), one atomic load with no lock. This is what
//!   `Request::abandoned` asks before a request is written or requeued.
//! - **Slots are reused, never shared.** A receiver dropped while it is the
//!   slot's only owner (the sender has answered and is gone: the normal end
//!   of a request) puts the slot, emptied, in a small free list of its thread
//!   (at most [`FREE_PER_THREAD`]), and the next request on that thread takes
//!   it instead of allocating. Only a slot nobody else holds is reused, so no
//!   sender of an earlier request can exist for it: an answer can never reach
//!   a later request's caller. A receiver dropped while the sender still holds
//!   the slot just lets go of it; the sender's answer then lands in a slot
//!   nobody reads and is freed with it.
//! - **The first registration is free.** A new slot is the caller's alone
//!   until its sender is made, so the caller's waker goes in without locking
//!   (`Arc::get_mut`), and the caller need not poll again before the actor
//!   answers.
//! - **A sender dropped without an answer** (the actor ended) wakes the
//!   receiver, which then reports [`Closed`].

use super::Reply;
use crate::error::Result;
use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};

/// Most empty slots a thread keeps for reuse (about 100 bytes each).
const FREE_PER_THREAD: usize = 64;

type Answer = Result<Reply>;

#[derive(Default)]
struct State {
    answer: Option<Answer>,
    waker: Option<Waker>,
    /// The sender is gone (with or without an answer).
    done: bool,
}

#[derive(Default)]
struct Slot {
    state: Mutex<State>,
}

impl Slot {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while locked leaves a consistent `State`: every write to it
        // is a single field assignment.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

thread_local! {
    static FREE: RefCell<Vec<Arc<Slot>>> = const { RefCell::new(Vec::new()) };
}

/// The sender went away without an answer.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Closed;

/// The actor's end: answers once. It may have no slot ([`none`](Self::none)):
/// then nobody waits, and the request carrying it stays a pointer wide (a
/// `Request` small enough to be moved without a `memcpy` call).
pub(crate) struct ReplySender {
    /// `None`: nobody waits, or already answered.
    slot: Option<Arc<Slot>>,
}

/// The caller's end: a future of the answer.
pub(crate) struct ReplyReceiver {
    /// `None` only while it is dropped.
    slot: Option<Arc<Slot>>,
}

/// A new slot (reused when this thread has one), with both its ends.
pub(crate) fn channel() -> (ReplySender, ReplyReceiver) {
    let receiver = ReplyReceiver {
        slot: Some(take_free()),
    };
    (receiver.sender(), receiver)
}

/// A reused slot, or a new one.
fn take_free() -> Arc<Slot> {
    FREE.try_with(|free| free.borrow_mut().pop())
        .ok()
        .flatten()
        .unwrap_or_default()
}

impl ReplyReceiver {
    /// A slot with the caller's waker already in it, and its sender: the
    /// waker is stored before anyone else can see the slot, without a lock.
    pub(crate) fn with_waker(waker: &Waker) -> (ReplySender, ReplyReceiver) {
        let mut slot = take_free();
        if let Some(slot) = Arc::get_mut(&mut slot) {
            let state = slot.state.get_mut().unwrap_or_else(|e| e.into_inner());
            state.waker = Some(waker.clone());
        }
        let receiver = ReplyReceiver { slot: Some(slot) };
        (receiver.sender(), receiver)
    }

    fn sender(&self) -> ReplySender {
        ReplySender {
            slot: self.slot.clone(),
        }
    }
}

impl ReplySender {
    /// For a request whose answer nobody reads (the health check).
    pub(crate) fn none() -> Self {
        ReplySender { slot: None }
    }

    /// Someone waits (or waited) for the answer.
    pub(crate) fn is_some(&self) -> bool {
        self.slot.is_some()
    }

    /// Answers; gives the answer back if the receiver is gone.
    pub(crate) fn send(mut self, answer: Answer) -> std::result::Result<(), Answer> {
        let Some(slot) = self.slot.take() else {
            return Err(answer);
        };
        if Arc::strong_count(&slot) == 1 {
            return Err(answer);
        }
        let waker = {
            let mut state = slot.lock();
            // Empty (one answer per slot, and a reused slot is emptied):
            // nothing to drop, and no drop code run for it.
            if let Some(stale) = state.answer.replace(answer) {
                drop(stale);
            }
            state.done = true;
            state.waker.take()
        };
        drop(slot);
        if let Some(waker) = waker {
            waker.wake();
        }
        Ok(())
    }

    /// The receiver is gone: the caller gave up. (Never for [`none`](Self::none):
    /// nobody was there to give up.)
    pub(crate) fn is_closed(&self) -> bool {
        self.slot
            .as_ref()
            .is_some_and(|s| Arc::strong_count(s) == 1)
    }
}

impl Drop for ReplySender {
    fn drop(&mut self) {
        let Some(slot) = self.slot.take() else {
            return;
        };
        let waker = {
            let mut state = slot.lock();
            state.done = true;
            state.waker.take()
        };
        drop(slot);
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}

impl Future for ReplyReceiver {
    type Output = std::result::Result<Answer, Closed>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let Some(slot) = &self.slot else {
            return Poll::Ready(Err(Closed));
        };
        let mut state = slot.lock();
        if let Some(answer) = state.answer.take() {
            return Poll::Ready(Ok(answer));
        }
        if state.done {
            return Poll::Ready(Err(Closed));
        }
        let stale = match &state.waker {
            Some(w) if w.will_wake(cx.waker()) => None,
            _ => state.waker.replace(cx.waker().clone()),
        };
        drop(state);
        // Another task's waker, dropped outside the lock (see `drop`).
        drop(stale);
        Poll::Pending
    }
}

impl Drop for ReplyReceiver {
    fn drop(&mut self) {
        let Some(mut slot) = self.slot.take() else {
            return;
        };
        match Arc::get_mut(&mut slot) {
            // Alone: the sender is gone, nobody can write here any more.
            Some(alone) => {
                // Emptied field by field: after a normal answer both are
                // already empty, and the checks cost less than dropping a
                // whole `State`.
                let state = alone.state.get_mut().unwrap_or_else(|e| e.into_inner());
                state.done = false;
                if let Some(unread) = state.answer.take() {
                    drop(unread);
                }
                if let Some(waker) = state.waker.take() {
                    drop(waker);
                }
                let _ = FREE.try_with(|free| {
                    let mut free = free.borrow_mut();
                    if free.len() < FREE_PER_THREAD {
                        free.push(slot);
                    }
                });
            }
            // The sender still holds it: let go (and of our waker, so that
            // the task is not kept alive by an answer nobody reads).
            None => {
                // Dropped after the lock is released: a waker's drop may
                // free its task, which should not happen under our lock.
                let waker = slot.lock().waker.take();
                drop(waker);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::connection::noop_waker;
    use redwire_resp::Frame;

    fn slot_of(rx: &ReplyReceiver) -> *const Slot {
        Arc::as_ptr(rx.slot.as_ref().unwrap())
    }

    fn answer(n: i64) -> Answer {
        Ok(Reply::One(Frame::Integer(n)))
    }

    fn poll(rx: &mut ReplyReceiver) -> Poll<std::result::Result<Answer, Closed>> {
        let waker = noop_waker();
        Pin::new(rx).poll(&mut Context::from_waker(&waker))
    }

    fn value(p: Poll<std::result::Result<Answer, Closed>>) -> Option<i64> {
        match p {
            Poll::Ready(Ok(Ok(Reply::One(Frame::Integer(n))))) => Some(n),
            _ => None,
        }
    }

    #[test]
    fn an_answer_reaches_its_receiver_and_wakes_it() {
        struct Count(std::sync::atomic::AtomicUsize);
        impl std::task::Wake for Count {
            fn wake(self: Arc<Self>) {
                self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            }
        }
        let count = Arc::new(Count(Default::default()));
        let waker = Waker::from(count.clone());
        let (tx, mut rx) = ReplyReceiver::with_waker(&waker);
        assert!(!tx.is_closed());
        assert!(tx.send(answer(7)).is_ok());
        assert_eq!(count.0.load(std::sync::atomic::Ordering::SeqCst), 1);
        assert_eq!(value(poll(&mut rx)), Some(7));
    }

    #[test]
    fn the_answer_wakes_the_task_that_polled_last() {
        struct Count(std::sync::atomic::AtomicUsize);
        impl std::task::Wake for Count {
            fn wake(self: Arc<Self>) {
                self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            }
        }
        let (first, second) = (
            Arc::new(Count(Default::default())),
            Arc::new(Count(Default::default())),
        );
        let (tx, mut rx) = ReplyReceiver::with_waker(&Waker::from(first.clone()));
        let waker = Waker::from(second.clone());
        assert!(Pin::new(&mut rx)
            .poll(&mut Context::from_waker(&waker))
            .is_pending());
        tx.send(answer(5)).unwrap();
        assert_eq!(first.0.load(std::sync::atomic::Ordering::SeqCst), 0);
        assert_eq!(second.0.load(std::sync::atomic::Ordering::SeqCst), 1);
        assert_eq!(value(poll(&mut rx)), Some(5));
    }

    #[test]
    fn a_dropped_receiver_is_seen_as_abandoned() {
        let (tx, rx) = channel();
        assert!(!tx.is_closed());
        drop(rx);
        assert!(tx.is_closed());
        assert!(tx.send(answer(1)).is_err());
    }

    #[test]
    fn nobody_waits_on_none_and_it_is_not_abandoned() {
        let tx = ReplySender::none();
        assert!(!tx.is_some());
        assert!(!tx.is_closed());
        assert!(tx.send(answer(1)).is_err());
    }

    #[test]
    fn a_dropped_sender_closes_the_receiver() {
        let (tx, mut rx) = channel();
        assert!(poll(&mut rx).is_pending());
        drop(tx);
        assert!(matches!(poll(&mut rx), Poll::Ready(Err(Closed))));
    }

    #[test]
    fn a_reply_never_reaches_the_next_request_on_the_slot() {
        // The caller gives up while the actor holds the sender; the next
        // request on this thread must not get that slot, nor its answer.
        let (old_tx, old_rx) = channel();
        let old = slot_of(&old_rx);
        drop(old_rx);
        let (new_tx, mut new_rx) = channel();
        assert_ne!(slot_of(&new_rx), old);
        assert!(old_tx.is_closed());
        assert!(!new_tx.is_closed());
        let _ = old_tx.send(answer(1));
        assert!(poll(&mut new_rx).is_pending());
        assert!(new_tx.send(answer(2)).is_ok());
        assert_eq!(value(poll(&mut new_rx)), Some(2));
    }

    #[test]
    fn a_finished_slot_is_reused_empty() {
        FREE.with(|f| f.borrow_mut().clear());
        let (tx, mut rx) = channel();
        let first = slot_of(&rx);
        tx.send(answer(3)).unwrap();
        assert_eq!(value(poll(&mut rx)), Some(3));
        drop(rx);
        let (tx, mut rx) = channel();
        assert_eq!(slot_of(&rx), first, "the slot was not reused");
        assert!(!tx.is_closed());
        assert!(poll(&mut rx).is_pending(), "a reused slot kept an answer");
        // An answer sent but never read is not handed to the next request.
        tx.send(answer(4)).unwrap();
        drop(rx);
        let (_tx, mut rx) = channel();
        assert!(poll(&mut rx).is_pending());
    }

    #[test]
    fn the_free_list_is_bounded() {
        let slots: Vec<_> = (0..FREE_PER_THREAD * 2).map(|_| channel()).collect();
        drop(slots);
        assert_eq!(FREE.with(|f| f.borrow().len()), FREE_PER_THREAD);
    }
}
