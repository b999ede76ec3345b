//! Set commands: members, random picks, and intersections, unions and differences.

use super::handle::Commands;
use crate::cmd::cmd;
use crate::cmd::ToArg;
use crate::value::FromValue;

/// Commands on sets.
///
/// Members are anything [`ToArg`] (one, a slice, a `Vec`, a `HashSet`).
/// Replies that are whole sets (`smembers`, `sinter`, `sunion`, `sdiff`) are
/// generic over the collection, so the caller picks `HashSet<String>`,
/// `BTreeSet<i64>` or `Vec<String>`; random picks with a count are a `Vec`,
/// since they may repeat.
pub trait SetCommands: Commands {
    /// `SADD`: adds members; returns how many were new.
    ///
    /// ```no_run
    /// # async fn demo(client: redwire::Client) -> redwire::Result<()> {
    /// use redwire::prelude::*;
    /// let added = client.sadd("tags", ["rust", "redis"]).await?;
    /// # Ok(()) }
    /// ```
    fn sadd(self, key: impl ToArg, members: impl ToArg) -> Self::Reply<u64> {
        self.command(cmd("SADD").arg(key).arg(members))
    }

    /// `SREM`: removes members; returns how many were there.
    fn srem(self, key: impl ToArg, members: impl ToArg) -> Self::Reply<u64> {
        self.command(cmd("SREM").arg(key).arg(members))
    }

    /// `SMEMBERS`: every member (empty for a missing key).
    ///
    /// ```no_run
    /// # async fn demo(client: redwire::Client) -> redwire::Result<()> {
    /// use redwire::prelude::*;
    /// use std::collections::HashSet;
    /// let tags: HashSet<String> = client.smembers("tags").await?;
    /// # Ok(()) }
    /// ```
    fn smembers<T: FromValue>(self, key: impl ToArg) -> Self::Reply<T> {
        self.read_key("SMEMBERS", key)
    }

    /// `SISMEMBER`: whether `member` is in the set.
    fn sismember(self, key: impl ToArg, member: impl ToArg) -> Self::Reply<bool> {
        self.read_member("SISMEMBER", key, member)
    }

    /// `SMISMEMBER`: for each of `members`, in order, whether it is in the set.
    fn smismember(self, key: impl ToArg, members: impl ToArg) -> Self::Reply<Vec<bool>> {
        self.command(cmd("SMISMEMBER").arg(key).arg(members))
    }

    /// `SCARD`: the number of members (0 for a missing key).
    fn scard(self, key: impl ToArg) -> Self::Reply<u64> {
        self.read_key("SCARD", key)
    }

    /// `SPOP`: removes and returns a random member; `None` if the set is
    /// empty.
    fn spop<T: FromValue>(self, key: impl ToArg) -> Self::Reply<Option<T>> {
        self.command(cmd("SPOP").arg(key))
    }

    /// `SPOP key count`: removes and returns up to `count` random members.
    fn spop_count<T: FromValue>(self, key: impl ToArg, count: u64) -> Self::Reply<Vec<T>> {
        self.command(cmd("SPOP").arg(key).arg(count))
    }

    /// `SRANDMEMBER`: a random member, left in place; `None` if the set is
    /// empty.
    fn srandmember<T: FromValue>(self, key: impl ToArg) -> Self::Reply<Option<T>> {
        self.command(cmd("SRANDMEMBER").arg(key))
    }

    /// `SRANDMEMBER key count`: up to `count` distinct random members; with a
    /// negative `count`, exactly `-count` members, possibly repeated.
    fn srandmember_count<T: FromValue>(self, key: impl ToArg, count: i64) -> Self::Reply<Vec<T>> {
        self.command(cmd("SRANDMEMBER").arg(key).arg(count))
    }

    /// `SMOVE`: moves `member` from `source` to `destination`; true if it
    /// was in `source`.
    fn smove(
        self,
        source: impl ToArg,
        destination: impl ToArg,
        member: impl ToArg,
    ) -> Self::Reply<bool> {
        self.command(cmd("SMOVE").arg(source).arg(destination).arg(member))
    }

    /// `SINTER`: the members present in every one of `keys`.
    ///
    /// ```no_run
    /// # async fn demo(client: redwire::Client) -> redwire::Result<()> {
    /// use redwire::prelude::*;
    /// use std::collections::BTreeSet;
    /// let both: BTreeSet<String> = client.sinter(["tags:a", "tags:b"]).await?;
    /// # Ok(()) }
    /// ```
    fn sinter<T: FromValue>(self, keys: impl ToArg) -> Self::Reply<T> {
        self.command(cmd("SINTER").arg(keys))
    }

    /// `SINTERSTORE`: stores the intersection of `keys` at `destination`
    /// (replacing it); returns its size.
    fn sinterstore(self, destination: impl ToArg, keys: impl ToArg) -> Self::Reply<u64> {
        self.command(cmd("SINTERSTORE").arg(destination).arg(keys))
    }

    /// `SINTERCARD`: the size of the intersection of `keys`, counting stops
    /// at `limit` when one is given.
    ///
    /// ```no_run
    /// # async fn demo(client: redwire::Client) -> redwire::Result<()> {
    /// use redwire::prelude::*;
    /// let at_least_ten = client.sintercard(["a", "b"], Some(10)).await? == 10;
    /// # Ok(()) }
    /// ```
    fn sintercard(self, keys: impl ToArg, limit: Option<u64>) -> Self::Reply<u64> {
        let mut c = cmd("SINTERCARD").arg_counted(keys);
        if let Some(limit) = limit {
            c.push_arg("LIMIT").push_arg(limit);
        }
        self.command(c)
    }

    /// `SUNION`: the members present in any of `keys`.
    fn sunion<T: FromValue>(self, keys: impl ToArg) -> Self::Reply<T> {
        self.command(cmd("SUNION").arg(keys))
    }

    /// `SUNIONSTORE`: stores the union of `keys` at `destination`
    /// (replacing it); returns its size.
    fn sunionstore(self, destination: impl ToArg, keys: impl ToArg) -> Self::Reply<u64> {
        self.command(cmd("SUNIONSTORE").arg(destination).arg(keys))
    }

    /// `SDIFF`: the members of the first of `keys` that are in none of the
    /// others.
    fn sdiff<T: FromValue>(self, keys: impl ToArg) -> Self::Reply<T> {
        self.command(cmd("SDIFF").arg(keys))
    }

    /// `SDIFFSTORE`: stores the difference of `keys` at `destination`
    /// (replacing it); returns its size.
    fn sdiffstore(self, destination: impl ToArg, keys: impl ToArg) -> Self::Reply<u64> {
        self.command(cmd("SDIFFSTORE").arg(destination).arg(keys))
    }
}

impl<C: Commands> SetCommands for C {}
