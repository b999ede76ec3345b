//! Optimistic transactions on a dedicated connection: `WATCH` the keys, let
//! the caller read and decide its writes, `EXEC` them, and start over when a
//! watched key changed in between.
//!
//! The caller's body gets the connection (with the keys watched) and returns
//! the writes as a [`Pipeline`]; an empty one means "nothing to write". The
//! writes run as `MULTI … EXEC`; a nil `EXEC` (a watched key changed) runs the
//! body again after a pause ([`TransactionRetry`]), up to the attempts
//! allowed, and then fails with [`ErrorKind::Aborted`]. Every way out of the
//! call leaves nothing watched: `EXEC` ends the watches, and an error from
//! the body (or an empty pipeline) sends `UNWATCH`. A future dropped before
//! it ends (a timeout around it, a `select!` that took another branch) has
//! no way to send anything: its keys stay watched, and a later `EXEC` on the
//! connection would abort when one of them changed. `is_clean()` says so,
//! `reset()` clears it, and a `Pool` resets a connection
//! that comes back so.
//!
//! **Why the body returns a boxed future, not an `async` closure.** The body
//! is called once per attempt with the connection borrowed anew, so its
//! future borrows the connection for that attempt only, and usually the
//! caller's data too (a key made with `format!`, a `&Client`). Written as
//! `AsyncFnMut(&mut Connection)`, the transaction's future could not be
//! spawned when the body borrowed anything but `'static` data: rustc cannot
//! prove such a future `Send` for every lifetime of the connection's borrow
//! ("implementation of `Send` is not general enough", and the `AsyncFnMut`
//! bound cannot say that its future is `Send`). So the body is a plain
//! closure returning an [`Attempt`]: `|conn| Box::pin(async { … })`, a
//! boxed future that is `Send` by its type. The lifetime `'data` of the
//! caller's data is part of the type ([`AttemptFuture`]'s hidden parameter
//! says `'data` outlives each attempt's borrow of the connection), which is
//! what lets the body borrow it at all; the box costs one allocation per
//! attempt, next to a round trip for `WATCH` and one for `EXEC`.
//!
//! The retry policy is a type of its own ([`TransactionRetry`]), not the
//! reconnect [`Backoff`](crate::Backoff): a conflict is retried within
//! milliseconds, a few times, where a reconnect waits seconds and may go on
//! for ever.

use super::Connection;
use crate::cmd::{cmd, ToArg};
use crate::error::{Error, ErrorKind, Result};
use crate::pipeline::Pipeline;
use crate::value::Value;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::time::Duration;

/// How a transaction ([`Connection::transaction_with`],
/// `Pool::transaction_with`, `ClusterClient::transaction_with`) retries when
/// a watched key changed: at most `attempts` runs of the body (`None`: until
/// it goes through), with a pause between them that starts at `initial` and
/// doubles up to `max`, shortened at random by up to `jitter` (0.0–1.0) of
/// itself so that competing writers do not retry in step.
///
/// The default is 16 attempts, 1 ms doubling to 100 ms, jitter 0.5.
///
/// ```
/// use redwire::TransactionRetry;
/// use std::time::Duration;
///
/// let patient = TransactionRetry::default()
///     .attempts(100)
///     .delays(Duration::from_millis(2), Duration::from_millis(50));
/// assert_eq!(patient.attempts, Some(100));
/// let stubborn = TransactionRetry { jitter: 0.0, ..TransactionRetry::default() }.until_done();
/// assert_eq!(stubborn.attempts, None);
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TransactionRetry {
    /// The most runs of the body, the first included (`None`: no limit;
    /// `Some(0)` counts as 1).
    pub attempts: Option<u32>,
    /// The pause after the first conflict.
    pub initial: Duration,
    /// The longest pause.
    pub max: Duration,
    /// How much of each pause may be cut at random (0.0: none, 1.0: all of
    /// it); outside 0.0–1.0 it is clamped, not a number counts as 0.
    pub jitter: f64,
}

impl TransactionRetry {
    /// The default policy as a constant: 16 attempts, 1 ms doubling to
    /// 100 ms, jitter 0.5.
    ///
    /// ```
    /// assert_eq!(redwire::TransactionRetry::DEFAULT, Default::default());
    /// ```
    pub const DEFAULT: TransactionRetry = TransactionRetry {
        attempts: Some(16),
        initial: Duration::from_millis(1),
        max: Duration::from_millis(100),
        jitter: 0.5,
    };

    /// At most `attempts` runs of the body.
    ///
    /// ```
    /// let once = redwire::TransactionRetry::default().attempts(1);
    /// assert_eq!(once.attempts, Some(1));
    /// ```
    #[must_use]
    pub fn attempts(mut self, attempts: u32) -> Self {
        self.attempts = Some(attempts);
        self
    }

    /// No limit on the attempts: retry until the transaction goes through.
    ///
    /// ```
    /// assert_eq!(redwire::TransactionRetry::default().until_done().attempts, None);
    /// ```
    #[must_use]
    pub fn until_done(mut self) -> Self {
        self.attempts = None;
        self
    }

    /// The first pause and the longest.
    ///
    /// ```
    /// use std::time::Duration;
    /// let r = redwire::TransactionRetry::default().delays(Duration::ZERO, Duration::ZERO);
    /// assert_eq!(r.max, Duration::ZERO); // retry at once
    /// ```
    #[must_use]
    pub fn delays(mut self, initial: Duration, max: Duration) -> Self {
        self.initial = initial;
        self.max = max;
        self
    }

    /// How much of each pause may be cut at random (0.0–1.0).
    ///
    /// ```
    /// assert_eq!(redwire::TransactionRetry::default().jitter(0.0).jitter, 0.0);
    /// ```
    #[must_use]
    pub fn jitter(mut self, jitter: f64) -> Self {
        self.jitter = jitter;
        self
    }

    /// True when `attempt` runs (counted from 1) are all that is allowed.
    fn exhausted(&self, attempt: u32) -> bool {
        self.attempts.is_some_and(|max| attempt >= max)
    }

    /// The pause after the `attempt`-th conflict (counted from 1), `random`
    /// in 0.0–1.0 choosing how much jitter cuts.
    fn delay(&self, attempt: u32, random: f64) -> Duration {
        let doublings = attempt.saturating_sub(1).min(30);
        let base = self.initial.saturating_mul(1u32 << doublings).min(self.max);
        let unit = |x: f64| if x.is_nan() { 0.0 } else { x.clamp(0.0, 1.0) };
        let keep = 1.0 - unit(self.jitter) * unit(random);
        Duration::try_from_secs_f64(base.as_secs_f64() * keep).map_or(base, |d| d.min(base))
    }
}

impl Default for TransactionRetry {
    fn default() -> Self {
        TransactionRetry::DEFAULT
    }
}

/// The future of one attempt of a transaction's body: the writes to run, as
/// a [`Pipeline`]. `'c` is the attempt's borrow of the connection, `'data`
/// the lifetime of the caller's data the body borrows. Make one with
/// `Box::pin(async { … })`.
///
/// ```no_run
/// # async fn demo(mut conn: redwire::Connection) -> redwire::Result<()> {
/// use redwire::prelude::*;
/// use redwire::Attempt;
///
/// // A body of its own, for a transaction to reuse.
/// fn double<'c, 'data>(conn: &'c mut Connection, key: &'data str) -> Attempt<'c, 'data> {
///     Box::pin(async move {
///         let n: i64 = conn.get::<Option<i64>>(key).await?.unwrap_or(0);
///         let mut writes = Pipeline::new();
///         writes.set(key, n * 2);
///         Ok(writes)
///     })
/// }
/// let key = String::from("balance");
/// conn.transaction(&key, |conn| double(conn, &key)).await?;
/// # Ok(()) }
/// ```
pub type Attempt<'c, 'data> = Pin<Box<dyn AttemptFuture<'c, 'data> + 'c>>;

/// What an [`Attempt`] boxes: a `Send` future of the writes. Every such
/// future is one; you never implement or name it.
///
/// Its parameter `Scope` is left to its default: the type
/// `&'c &'data ()` in it is only valid when `'data` outlives `'c`, and rustc
/// takes that as given inside a body returning an `Attempt<'c, 'data>`. That
/// is what allows the body's future to hold the caller's borrowed data
/// through every attempt, whatever `'c` the transaction lends the
/// connection for.
pub trait AttemptFuture<'c, 'data, Scope = PhantomData<&'c &'data ()>>:
    Future<Output = Result<Pipeline>> + Send
{
}

impl<'c, 'data, F> AttemptFuture<'c, 'data> for F where F: Future<Output = Result<Pipeline>> + Send {}

impl Connection {
    /// Runs an optimistic transaction: `WATCH keys`, then `body` (which reads
    /// through the connection and returns the writes), then the writes as
    /// `MULTI … EXEC`. When a watched key changed meanwhile, it starts over
    /// (up to 16 attempts, see [`TransactionRetry`]); the results are those
    /// of `EXEC`.
    ///
    /// The body is a closure returning `Box::pin(async { … })` (an
    /// [`Attempt`]), called once per attempt. Its `async` block borrows what
    /// it uses: the connection, lent for the attempt, and the caller's data
    /// (a task's own `String`s, a `&Client`…). The transaction's future is
    /// `Send`, so it can be spawned (see the module docs for why the body is
    /// not an `async` closure). Write `async move` when the block must own a
    /// value the closure made for this attempt; references it copies then.
    ///
    /// ```no_run
    /// # async fn demo(mut conn: redwire::Connection) -> redwire::Result<()> {
    /// use redwire::prelude::*;
    ///
    /// // Double a balance, safely against concurrent writers, in a task.
    /// let user = 42;
    /// tokio::spawn(async move {
    ///     let key = format!("balance:{user}");
    ///     conn.transaction(&key, |conn| {
    ///         Box::pin(async {
    ///             let balance: i64 = conn.get::<Option<i64>>(&key).await?.unwrap_or(0);
    ///             let mut writes = Pipeline::new();
    ///             writes.set(&key, balance * 2);
    ///             Ok(writes)
    ///         })
    ///     })
    ///     .await
    /// });
    /// # Ok(()) }
    /// ```
    pub async fn transaction<'data, F>(
        &mut self,
        keys: impl ToArg,
        body: F,
    ) -> Result<Vec<Result<Value>>>
    where
        F: for<'c> FnMut(&'c mut Connection) -> Attempt<'c, 'data>,
    {
        self.transaction_with(keys, TransactionRetry::DEFAULT, body)
            .await
    }

    /// Like [`transaction`](Self::transaction) with a retry policy of your
    /// own.
    ///
    /// ```no_run
    /// # async fn demo(mut conn: redwire::Connection) -> redwire::Result<()> {
    /// use redwire::prelude::*;
    /// use redwire::TransactionRetry;
    ///
    /// // A hot key: try longer, and give up only after 100 conflicts.
    /// let retry = TransactionRetry::default().attempts(100);
    /// conn.transaction_with("hits", retry, |conn| {
    ///     Box::pin(async move {
    ///         let hits: i64 = conn.get::<Option<i64>>("hits").await?.unwrap_or(0);
    ///         let mut writes = Pipeline::new();
    ///         writes.set("hits", hits + 1);
    ///         Ok(writes)
    ///     })
    /// })
    /// .await?;
    /// # Ok(()) }
    /// ```
    pub async fn transaction_with<'data, F>(
        &mut self,
        keys: impl ToArg,
        retry: TransactionRetry,
        mut body: F,
    ) -> Result<Vec<Result<Value>>>
    where
        F: for<'c> FnMut(&'c mut Connection) -> Attempt<'c, 'data>,
    {
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            self.watch(&keys).await?;
            let writes = match body(self).await {
                Ok(writes) => writes,
                Err(e) => {
                    self.unwatch().await;
                    return Err(e);
                }
            };
            if writes.is_empty() {
                self.unwatch().await;
                return Ok(Vec::new());
            }
            let mut writes = writes;
            writes.atomic();
            match self.pipeline(&writes).await {
                Err(e) if e.kind() == ErrorKind::Aborted => {
                    if retry.exhausted(attempt) {
                        return Err(Error::new(
                            ErrorKind::Aborted,
                            format!(
                                "the transaction did not run: its watched keys changed \
                                 before each of {attempt} attempts"
                            ),
                        ));
                    }
                    tokio::time::sleep(retry.delay(attempt, fastrand::f64())).await;
                }
                other => return other,
            }
        }
    }

    /// `UNWATCH`, on a way out that did not `EXEC`; a failure leaves the
    /// session marked watching, so a pool clears or discards it.
    async fn unwatch(&mut self) {
        let _ = self.send(&cmd("UNWATCH")).await;
    }
}

#[cfg(test)]
mod tests {
    use super::TransactionRetry;
    use std::time::Duration;

    #[test]
    fn the_default_is_the_old_policy_and_pauses_double_to_the_maximum() {
        let r = TransactionRetry::default();
        assert_eq!(r.attempts, Some(16));
        let ms = Duration::from_millis;
        let steady = r.jitter(0.0);
        let pauses: Vec<Duration> = (1..=9).map(|a| steady.delay(a, 0.7)).collect();
        assert_eq!(
            pauses,
            [
                ms(1),
                ms(2),
                ms(4),
                ms(8),
                ms(16),
                ms(32),
                ms(64),
                ms(100),
                ms(100)
            ]
        );
        assert_eq!(r.delay(4, 1.0), ms(4), "jitter 0.5 cuts half at most");
        assert_eq!(r.delay(4, 0.0), ms(8));
        assert_eq!(r.delay(4, 0.5), ms(6), "a quarter cut");
        assert_eq!(r.jitter(f64::NAN).delay(1, 1.0), ms(1));
        assert_eq!(r.jitter(7.0).delay(40, 1.0), Duration::ZERO);
        assert_eq!(
            r.delays(Duration::MAX, Duration::MAX).delay(40, 0.0),
            Duration::MAX
        );
    }

    #[test]
    fn the_attempts_run_out_only_with_a_limit() {
        let r = TransactionRetry::default().attempts(3);
        assert!(!r.exhausted(1) && !r.exhausted(2) && r.exhausted(3));
        assert!(TransactionRetry::default().attempts(0).exhausted(1));
        assert!(!r.until_done().exhausted(u32::MAX));
    }
}
