//! HyperLogLog commands: `PFADD`, `PFCOUNT`, `PFMERGE`, approximate counts of
//! distinct elements in a few kilobytes.

use super::handle::Commands;
use crate::cmd::cmd;
use crate::cmd::ToArg;

/// Commands on HyperLogLogs: sets that only count their distinct elements,
/// with a standard error of 0.81%.
pub trait HyperLogLogCommands: Commands {
    /// `PFADD`: adds elements; true when the estimate changed (or the key
    /// was created).
    ///
    /// ```no_run
    /// # async fn demo(client: redwire::Client) -> redwire::Result<()> {
    /// use redwire::prelude::*;
    /// client.pfadd("visitors", ["alice", "bob"]).await?;
    /// let distinct = client.pfcount("visitors").await?;
    /// # Ok(()) }
    /// ```
    fn pfadd(self, key: impl ToArg, elements: impl ToArg) -> Self::Reply<bool> {
        self.command(cmd("PFADD").arg(key).arg(elements))
    }

    /// `PFCOUNT`: the estimated number of distinct elements of one key, or
    /// of the union of several (0 for missing keys).
    fn pfcount(self, keys: impl ToArg) -> Self::Reply<u64> {
        self.command(cmd("PFCOUNT").arg(keys))
    }

    /// `PFMERGE`: stores the union of `sources` (and of `destination`, if it
    /// exists) in `destination`.
    fn pfmerge(self, destination: impl ToArg, sources: impl ToArg) -> Self::Reply<()> {
        self.command(cmd("PFMERGE").arg(destination).arg(sources))
    }
}

impl<C: Commands> HyperLogLogCommands for C {}
