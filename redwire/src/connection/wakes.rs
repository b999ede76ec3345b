//! Why the actor was woken: one flag per source, so that a poll touches only
//! the sources that may have something.
//!
//! The actor is woken by its channel (a request came), by its socket (bytes
//! to read), by its timer, by the push consumer making room, and by itself
//! (a deferred write, a spent budget). Without knowing which, every poll
//! would ask each source again: an empty channel, a read that ends in
//! `WouldBlock`, the timer. At low concurrency that was most of the actor's
//! work: at one task, four passes over all sources per request.
//!
//! So the channel and the socket are polled with wakers of their own
//! ([`Wakes::channel`], [`Wakes::socket`]): each sets its flag, then wakes the
//! actor's task. A source is polled only while its flag is up; the flag is
//! lowered *before* the poll, so a wake that comes during the poll raises it
//! again and is never lost, and raised again after a poll that returned
//! something (a channel or a socket is drained until it says `Pending`, which
//! is what registers the waker). Both flags start up. The timer needs no flag:
//! [`Tick`](super::watchdog::Tick) asks the `Sleep` whether it fired, which is
//! one load. Whatever else wakes the actor uses the task's own waker, and the
//! actor looks at those sources on every poll, as before.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Wake, Waker};

/// The flags and the wakers that raise them, for one connection.
pub(super) struct Wakes {
    flags: Arc<Flags>,
    /// The waker registered with the channel.
    pub(super) channel: Waker,
    /// The waker registered with the socket's reads.
    pub(super) socket: Waker,
    /// The task's waker, which both wake.
    task: Waker,
}

struct Flags {
    channel: AtomicBool,
    socket: AtomicBool,
}

/// One source's waker: raises its flag, wakes the task. It holds the task's
/// waker itself, so waking takes no lock; a task whose waker changes gets
/// new flags (see [`Wakes::register`]).
struct Flag {
    flags: Arc<Flags>,
    socket: bool,
    task: Waker,
}

impl Wake for Flag {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        let flag = if self.socket {
            &self.flags.socket
        } else {
            &self.flags.channel
        };
        flag.store(true, Ordering::Release);
        self.task.wake_by_ref();
    }
}

impl Wakes {
    /// Both flags up: the first poll asks every source. `task` is the
    /// actor's task's waker.
    pub(super) fn new(task: &Waker) -> Self {
        let flags = Arc::new(Flags {
            channel: AtomicBool::new(true),
            socket: AtomicBool::new(true),
        });
        let flag = |socket| {
            Waker::from(Arc::new(Flag {
                flags: flags.clone(),
                socket,
                task: task.clone(),
            }))
        };
        Wakes {
            channel: flag(false),
            socket: flag(true),
            flags,
            task: task.clone(),
        }
    }

    /// Follows the task's waker. A task's waker does not change from one
    /// poll to the next, so this is a comparison; if it ever does, the flags
    /// and their wakers are made anew with both flags up, so that each
    /// source is polled, and registered, with a waker that wakes the task
    /// as it is now.
    #[inline]
    pub(super) fn register(&mut self, task: &Waker) {
        if !self.task.will_wake(task) {
            *self = Wakes::new(task);
        }
    }

    /// Lowers the channel's flag; true if it was up (poll the channel).
    #[inline]
    pub(super) fn take_channel(&self) -> bool {
        take(&self.flags.channel)
    }

    /// Lowers the socket's flag; true if it was up (read the socket).
    #[inline]
    pub(super) fn take_socket(&self) -> bool {
        take(&self.flags.socket)
    }

    /// The channel may have more: ask it again on the next pass.
    #[inline]
    pub(super) fn raise_channel(&self) {
        self.flags.channel.store(true, Ordering::Relaxed);
    }

    /// The socket may have more: read it again on the next pass.
    #[inline]
    pub(super) fn raise_socket(&self) {
        self.flags.socket.store(true, Ordering::Relaxed);
    }
}

/// Lowers `flag`; true if it was up. A plain load first: a lowered flag, the
/// common case, costs no read-modify-write.
#[inline]
fn take(flag: &AtomicBool) -> bool {
    flag.load(Ordering::Acquire) && flag.swap(false, Ordering::Acquire)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    struct Count(AtomicUsize);
    impl Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    #[test]
    #[allow(clippy::waker_clone_wake)] // `wake` by value is tested too
    fn each_waker_raises_its_own_flag_and_wakes_the_task() {
        let count = Arc::new(Count(AtomicUsize::new(0)));
        let task = Waker::from(count.clone());
        let mut wakes = Wakes::new(&task);
        assert!(wakes.take_channel() && wakes.take_socket(), "both start up");
        assert!(!wakes.take_channel() && !wakes.take_socket(), "lowered");
        wakes.register(&task.clone());
        assert!(!wakes.take_channel(), "the same task: nothing made anew");
        wakes.socket.wake_by_ref();
        assert_eq!(count.0.load(Ordering::SeqCst), 1);
        assert!(
            !wakes.take_channel(),
            "the socket's wake left the channel's flag down"
        );
        assert!(wakes.take_socket());
        wakes.channel.clone().wake();
        assert_eq!(count.0.load(Ordering::SeqCst), 2);
        assert!(wakes.take_channel());
        assert!(!wakes.take_socket());
        wakes.raise_channel();
        wakes.raise_socket();
        assert!(wakes.take_channel() && wakes.take_socket());
    }

    #[test]
    fn a_new_task_waker_makes_new_flags_both_up() {
        let first = Arc::new(Count(AtomicUsize::new(0)));
        let second = Arc::new(Count(AtomicUsize::new(0)));
        let mut wakes = Wakes::new(&Waker::from(first.clone()));
        assert!(wakes.take_channel() && wakes.take_socket());
        wakes.register(&Waker::from(second.clone()));
        assert!(wakes.take_channel() && wakes.take_socket(), "asked again");
        wakes.channel.wake_by_ref();
        assert_eq!(first.0.load(Ordering::SeqCst), 0);
        assert_eq!(second.0.load(Ordering::SeqCst), 1);
    }
}
