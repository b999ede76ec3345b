//! The simulator's self-test switches (feature `sim`, hidden): each makes
//! the client break one promise on purpose, so the self-test can show that
//! the oracle catches it. Off unless switched on, per thread: the simulator
//! runs a whole world on one thread, and tests beside it stay unaffected.
//! Without the feature every switch is a constant `false`, which the
//! compiler removes with the code it guards.

#[cfg(feature = "sim")]
use std::cell::Cell;

/// A known bug the client can be made to have.
#[cfg_attr(not(feature = "sim"), allow(dead_code))]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bug {
    /// A reply goes to the second waiter instead of the oldest.
    WrongWaiter = 1,
    /// A request kept for the reconnect is dropped instead.
    DropRequeued = 2,
    /// A written request lost with its connection says it did not execute.
    SentNotExecuted = 4,
    /// A caller's deadline is not enforced.
    SkipDeadline = 8,
    /// A written request lost with its connection is written again.
    ReplayWritten = 16,
    /// A subscriber does not subscribe again after a reconnect.
    ForgetResubscribe = 32,
    /// The in-flight limit is ignored: requests are buffered without bound.
    UnboundedInFlight = 64,
    /// A subscriber's message buffer has no bound: a slow consumer's
    /// messages pile up in memory instead of pushing back on the server.
    UnboundedMessages = 128,
    /// A blocking command given up on leaves its connection open, so the
    /// server may still pop for nobody.
    KeepGivenUp = 256,
    /// A pooled connection goes to its next user as its last user left it
    /// (a `WATCH` still on).
    DirtyCheckout = 512,
    /// `close` returns before the client is closed.
    CloseReturnsEarly = 1024,
    /// A transaction's commands go out without `MULTI`/`EXEC`.
    NotAtomic = 2048,
    /// A cluster request lost after it was written to a node is sent again
    /// (to where the slot map says now), as if it had been redirected.
    ClusterResendWritten = 4096,
    /// A cluster request redirected by `ASK` is sent to the target without
    /// `ASKING` (which then sends it back).
    AskWithoutAsking = 8192,
}

#[cfg(feature = "sim")]
impl Bug {
    /// Every switch.
    pub const ALL: [Bug; 14] = [
        Bug::WrongWaiter,
        Bug::DropRequeued,
        Bug::SentNotExecuted,
        Bug::SkipDeadline,
        Bug::ReplayWritten,
        Bug::ForgetResubscribe,
        Bug::UnboundedInFlight,
        Bug::UnboundedMessages,
        Bug::KeepGivenUp,
        Bug::DirtyCheckout,
        Bug::CloseReturnsEarly,
        Bug::NotAtomic,
        Bug::ClusterResendWritten,
        Bug::AskWithoutAsking,
    ];
}

#[cfg(feature = "sim")]
thread_local! {
    static ON: Cell<u32> = const { Cell::new(0) };
}

#[cfg(feature = "sim")]
/// Switches on `bug` alone on this thread (`None`: none).
pub fn set(bug: Option<Bug>) {
    ON.with(|on| on.set(bug.map_or(0, |b| b as u32)));
}

/// Whether `bug` is on for this thread.
#[cfg(feature = "sim")]
#[inline]
pub(crate) fn on(bug: Bug) -> bool {
    ON.with(|on| on.get() & bug as u32 != 0)
}

/// Never, without the feature.
#[cfg(not(feature = "sim"))]
#[inline(always)]
pub(crate) const fn on(_: Bug) -> bool {
    false
}
