//! Optimistic transactions on a dedicated connection: `WATCH` the keys, let
//! the caller read and decide its writes, `EXEC` them, and start over when a
//! watched key changed in between.
//!
//! The caller's body gets the connection (with the keys watched) and returns
//! the writes as a [`Pipeline`]; an empty one means "nothing to write". The
//! writes run as `MULTI … EXEC`; a nil `EXEC` (a watched key changed) runs the
//! body again after a backoff, up to the attempts allowed, and then fails with
//! [`ErrorKind::Aborted`]. Every way out leaves nothing watched: `EXEC` ends
//! the watches, and an error from the body (or an empty pipeline) sends
//! `UNWATCH`.

use super::Connection;
use crate::cmd::{cmd, ToArg};
use crate::config::Backoff;
use crate::error::{Error, ErrorKind, Result};
use crate::pipeline::Pipeline;
use crate::value::Value;
use std::time::Duration;

/// The retry policy of [`Connection::transaction`]: up to 16 attempts, 1 ms
/// doubling to 100 ms between them, with jitter.
///
/// ```
/// let patient = redwire::Backoff { max_attempts: Some(100), ..redwire::TRANSACTION_RETRY };
/// assert_eq!(patient.initial, std::time::Duration::from_millis(1));
/// ```
pub const TRANSACTION_RETRY: Backoff = Backoff {
    initial: Duration::from_millis(1),
    max: Duration::from_millis(100),
    jitter: 0.5,
    max_attempts: Some(16),
};

impl Connection {
    /// Runs an optimistic transaction: `WATCH keys`, then `body` (which reads
    /// through the connection and returns the writes), then the writes as
    /// `MULTI … EXEC`. When a watched key changed meanwhile, it starts over
    /// (see [`TRANSACTION_RETRY`]); the results are those of `EXEC`.
    ///
    /// ```no_run
    /// # async fn demo(mut conn: redwire::Connection) -> redwire::Result<()> {
    /// use redwire::prelude::*;
    ///
    /// // Double a balance, safely against concurrent writers.
    /// conn.transaction(["balance"], async |conn: &mut Connection| {
    ///     let balance: i64 = conn.get::<Option<i64>>("balance").await?.unwrap_or(0);
    ///     let mut writes = Pipeline::new();
    ///     writes.set("balance", balance * 2);
    ///     Ok(writes)
    /// })
    /// .await?;
    /// # Ok(()) }
    /// ```
    pub async fn transaction<F>(&mut self, keys: impl ToArg, body: F) -> Result<Vec<Result<Value>>>
    where
        F: AsyncFnMut(&mut Connection) -> Result<Pipeline>,
    {
        self.transaction_with(keys, TRANSACTION_RETRY, body).await
    }

    /// Like [`transaction`](Self::transaction) with a retry policy of your
    /// own (`max_attempts: None` retries for ever).
    pub async fn transaction_with<F>(
        &mut self,
        keys: impl ToArg,
        retry: Backoff,
        mut body: F,
    ) -> Result<Vec<Result<Value>>>
    where
        F: AsyncFnMut(&mut Connection) -> Result<Pipeline>,
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
                    if retry.max_attempts.is_some_and(|max| attempt >= max) {
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
