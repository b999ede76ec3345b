//! List commands: pushing and popping at either end, ranges, positions, and the blocking pops.

use super::handle::Commands;
use crate::cmd::ToArg;
use crate::cmd::{cmd, Cmd};
use crate::value::FromValue;

/// An end of a list: where `LMOVE` takes from and puts to, where `LMPOP` pops.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum End {
    /// `LEFT`: the head, index 0.
    Left,
    /// `RIGHT`: the tail, index -1.
    Right,
}

impl ToArg for End {
    fn write_args(&self, cmd: &mut Cmd) {
        cmd.push_arg(match self {
            End::Left => "LEFT",
            End::Right => "RIGHT",
        });
    }
}

/// Where `LINSERT` puts the new element, relative to the pivot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InsertPosition {
    /// `BEFORE`: nearer the head than the pivot.
    Before,
    /// `AFTER`: nearer the tail than the pivot.
    After,
}

impl ToArg for InsertPosition {
    fn write_args(&self, cmd: &mut Cmd) {
        cmd.push_arg(match self {
            InsertPosition::Before => "BEFORE",
            InsertPosition::After => "AFTER",
        });
    }
}

/// The options of `LPOS`: which match to start from (`RANK`) and how many
/// elements to look at (`MAXLEN`).
///
/// ```
/// use redwire::commands::LposOptions;
/// // The last match, among the first 1000 elements.
/// let last = LposOptions::new().rank(-1).maxlen(1000);
/// # let _ = last;
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LposOptions {
    rank: Option<i64>,
    maxlen: Option<u64>,
}

impl LposOptions {
    /// From the first match, through the whole list.
    pub fn new() -> Self {
        Self::default()
    }

    /// `RANK`: start from the `rank`-th match (1 the first); negative ranks
    /// count matches from the tail, searching backwards. Not 0.
    #[must_use]
    pub fn rank(mut self, rank: i64) -> Self {
        self.rank = Some(rank);
        self
    }

    /// `MAXLEN`: compare at most this many elements (0: all).
    #[must_use]
    pub fn maxlen(mut self, maxlen: u64) -> Self {
        self.maxlen = Some(maxlen);
        self
    }
}

impl ToArg for LposOptions {
    fn write_args(&self, cmd: &mut Cmd) {
        if let Some(rank) = self.rank {
            cmd.push_arg("RANK").push_arg(rank);
        }
        if let Some(maxlen) = self.maxlen {
            cmd.push_arg("MAXLEN").push_arg(maxlen);
        }
    }
}

/// Commands on lists.
///
/// Elements are anything [`ToArg`] (one, a slice, a `Vec`); replies of
/// elements are generic over the element (`lrange::<String>` gives a
/// `Vec<String>`). The blocking commands take their timeout in seconds as an
/// `f64` (0: wait forever) and give `None` when it runs out.
pub trait ListCommands: Commands {
    /// `LPUSH`: pushes elements at the head, one after the other (so the
    /// last ends up first); returns the new length.
    ///
    /// ```no_run
    /// # async fn demo(client: redwire::Client) -> redwire::Result<()> {
    /// use redwire::prelude::*;
    /// let len = client.lpush("jobs", ["a", "b"]).await?;
    /// # Ok(()) }
    /// ```
    fn lpush(self, key: impl ToArg, elements: impl ToArg) -> Self::Reply<u64> {
        self.command(cmd("LPUSH").arg(key).arg(elements))
    }

    /// `RPUSH`: appends elements at the tail; returns the new length.
    fn rpush(self, key: impl ToArg, elements: impl ToArg) -> Self::Reply<u64> {
        self.command(cmd("RPUSH").arg(key).arg(elements))
    }

    /// `LPUSHX`: like `LPUSH`, only if the list exists; returns the new
    /// length (0: no list, nothing pushed).
    fn lpushx(self, key: impl ToArg, elements: impl ToArg) -> Self::Reply<u64> {
        self.command(cmd("LPUSHX").arg(key).arg(elements))
    }

    /// `RPUSHX`: like `RPUSH`, only if the list exists; returns the new
    /// length (0: no list, nothing pushed).
    fn rpushx(self, key: impl ToArg, elements: impl ToArg) -> Self::Reply<u64> {
        self.command(cmd("RPUSHX").arg(key).arg(elements))
    }

    /// `LPOP`: removes and returns the first element; `None` if the list is
    /// empty or missing.
    fn lpop<T: FromValue>(self, key: impl ToArg) -> Self::Reply<Option<T>> {
        self.command(cmd("LPOP").arg(key))
    }

    /// `LPOP key count`: removes and returns up to `count` elements from the
    /// head (empty if the list is missing).
    fn lpop_count<T: FromValue>(self, key: impl ToArg, count: u64) -> Self::Reply<Vec<T>> {
        self.command(cmd("LPOP").arg(key).arg(count))
    }

    /// `RPOP`: removes and returns the last element; `None` if the list is
    /// empty or missing.
    fn rpop<T: FromValue>(self, key: impl ToArg) -> Self::Reply<Option<T>> {
        self.command(cmd("RPOP").arg(key))
    }

    /// `RPOP key count`: removes and returns up to `count` elements from the
    /// tail, last first (empty if the list is missing).
    fn rpop_count<T: FromValue>(self, key: impl ToArg, count: u64) -> Self::Reply<Vec<T>> {
        self.command(cmd("RPOP").arg(key).arg(count))
    }

    /// `LRANGE`: the elements from `start` to `stop` inclusive (negative
    /// indexes count from the tail: `0, -1` is the whole list).
    ///
    /// ```no_run
    /// # async fn demo(client: redwire::Client) -> redwire::Result<()> {
    /// use redwire::prelude::*;
    /// let all: Vec<String> = client.lrange("jobs", 0, -1).await?;
    /// # Ok(()) }
    /// ```
    fn lrange<T: FromValue>(self, key: impl ToArg, start: i64, stop: i64) -> Self::Reply<Vec<T>> {
        self.command(cmd("LRANGE").arg(key).arg(start).arg(stop))
    }

    /// `LLEN`: the length (0 for a missing key).
    fn llen(self, key: impl ToArg) -> Self::Reply<u64> {
        self.read_key("LLEN", key)
    }

    /// `LINDEX`: the element at `index` (negative counts from the tail);
    /// `None` when out of range.
    fn lindex<T: FromValue>(self, key: impl ToArg, index: i64) -> Self::Reply<Option<T>> {
        self.command(cmd("LINDEX").arg(key).arg(index))
    }

    /// `LSET`: replaces the element at `index`; an error when out of range.
    fn lset(self, key: impl ToArg, index: i64, element: impl ToArg) -> Self::Reply<()> {
        self.command(cmd("LSET").arg(key).arg(index).arg(element))
    }

    /// `LINSERT`: inserts an element before or after the first `pivot`;
    /// returns the new length, `-1` if the pivot was not found, `0` if the
    /// list does not exist.
    ///
    /// ```no_run
    /// # async fn demo(client: redwire::Client) -> redwire::Result<()> {
    /// use redwire::prelude::*;
    /// client.linsert("letters", InsertPosition::Before, "c", "b").await?;
    /// # Ok(()) }
    /// ```
    fn linsert(
        self,
        key: impl ToArg,
        position: InsertPosition,
        pivot: impl ToArg,
        element: impl ToArg,
    ) -> Self::Reply<i64> {
        self.command(
            cmd("LINSERT")
                .arg(key)
                .arg(position)
                .arg(pivot)
                .arg(element),
        )
    }

    /// `LREM`: removes elements equal to `element`: the first `count` from
    /// the head (positive), the last `-count` from the tail (negative), or
    /// all (0); returns how many were removed.
    fn lrem(self, key: impl ToArg, count: i64, element: impl ToArg) -> Self::Reply<u64> {
        self.command(cmd("LREM").arg(key).arg(count).arg(element))
    }

    /// `LTRIM`: keeps only the elements from `start` to `stop` inclusive.
    fn ltrim(self, key: impl ToArg, start: i64, stop: i64) -> Self::Reply<()> {
        self.command(cmd("LTRIM").arg(key).arg(start).arg(stop))
    }

    /// `LMOVE`: pops an element from one end of `source`, pushes it at one
    /// end of `destination` (which may be the same list), and returns it;
    /// `None` if `source` is empty.
    ///
    /// ```no_run
    /// # async fn demo(client: redwire::Client) -> redwire::Result<()> {
    /// use redwire::prelude::*;
    /// let job: Option<String> = client.lmove("todo", "doing", End::Right, End::Left).await?;
    /// # Ok(()) }
    /// ```
    fn lmove<T: FromValue>(
        self,
        source: impl ToArg,
        destination: impl ToArg,
        from: End,
        to: End,
    ) -> Self::Reply<Option<T>> {
        self.command(cmd("LMOVE").arg(source).arg(destination).arg(from).arg(to))
    }

    /// `LPOS`: the index of the first match (or the one `RANK` picks);
    /// `None` if there is none.
    ///
    /// ```no_run
    /// # async fn demo(client: redwire::Client) -> redwire::Result<()> {
    /// use redwire::prelude::*;
    /// let last = client.lpos("l", "x", LposOptions::new().rank(-1)).await?;
    /// # Ok(()) }
    /// ```
    fn lpos(
        self,
        key: impl ToArg,
        element: impl ToArg,
        options: LposOptions,
    ) -> Self::Reply<Option<u64>> {
        self.command(cmd("LPOS").arg(key).arg(element).arg(options))
    }

    /// `LPOS … COUNT`: the indexes of up to `count` matches (0: all of
    /// them), in the order found.
    fn lpos_count(
        self,
        key: impl ToArg,
        element: impl ToArg,
        count: u64,
        options: LposOptions,
    ) -> Self::Reply<Vec<u64>> {
        self.command(
            cmd("LPOS")
                .arg(key)
                .arg(element)
                .arg(options)
                .arg("COUNT")
                .arg(count),
        )
    }

    /// `LMPOP`: pops up to `count` elements from one end of the first
    /// non-empty list among `keys`; gives that list's name and the elements,
    /// or `None` if every list is empty.
    ///
    /// ```no_run
    /// # async fn demo(client: redwire::Client) -> redwire::Result<()> {
    /// use redwire::prelude::*;
    /// if let Some((queue, jobs)) = client.lmpop::<String>(["urgent", "normal"], End::Left, 10).await? {
    ///     println!("{} jobs from {queue}", jobs.len());
    /// }
    /// # Ok(()) }
    /// ```
    fn lmpop<T: FromValue>(
        self,
        keys: impl ToArg,
        end: End,
        count: u64,
    ) -> Self::Reply<Option<(String, Vec<T>)>> {
        self.command(
            cmd("LMPOP")
                .arg_counted(keys)
                .arg(end)
                .arg("COUNT")
                .arg(count),
        )
    }

    /// `BLPOP`: pops the first element of the first non-empty list among
    /// `keys`, waiting up to `timeout` seconds (0: forever) for one; gives
    /// the list's name and the element, `None` on timeout.
    ///
    /// Blocking: runs on a dedicated `Connection` (or a pooled one); a shared
    /// `Client` refuses it. If its caller gives up, the connection is closed
    /// so that the server pops nothing for nobody.
    ///
    /// ```no_run
    /// # async fn demo(mut worker: redwire::Connection) -> redwire::Result<()> {
    /// use redwire::prelude::*;
    /// if let Some((queue, job)) = worker.blpop::<String>(["jobs"], 5.0).await? {
    ///     println!("{job} from {queue}");
    /// }
    /// # Ok(()) }
    /// ```
    fn blpop<T: FromValue>(
        self,
        keys: impl ToArg,
        timeout: f64,
    ) -> Self::Reply<Option<(String, T)>> {
        self.command(cmd("BLPOP").arg(keys).arg(timeout))
    }

    /// `BRPOP`: like [`blpop`](Self::blpop), from the tail.
    ///
    /// Blocking: runs on a dedicated `Connection` (or a pooled one); a shared
    /// `Client` refuses it. If its caller gives up, the connection is closed
    /// so that the server pops nothing for nobody.
    fn brpop<T: FromValue>(
        self,
        keys: impl ToArg,
        timeout: f64,
    ) -> Self::Reply<Option<(String, T)>> {
        self.command(cmd("BRPOP").arg(keys).arg(timeout))
    }

    /// `BLMOVE`: like [`lmove`](Self::lmove), waiting up to `timeout`
    /// seconds (0: forever) for `source` to have an element; `None` on
    /// timeout.
    ///
    /// Blocking: runs on a dedicated `Connection` (or a pooled one); a shared
    /// `Client` refuses it. If its caller gives up, the connection is closed
    /// so that the server pops nothing for nobody.
    fn blmove<T: FromValue>(
        self,
        source: impl ToArg,
        destination: impl ToArg,
        from: End,
        to: End,
        timeout: f64,
    ) -> Self::Reply<Option<T>> {
        self.command(
            cmd("BLMOVE")
                .arg(source)
                .arg(destination)
                .arg(from)
                .arg(to)
                .arg(timeout),
        )
    }

    /// `BLMPOP`: like [`lmpop`](Self::lmpop), waiting up to `timeout`
    /// seconds (0: forever) for one of the lists to have an element; `None`
    /// on timeout.
    ///
    /// Blocking: runs on a dedicated `Connection` (or a pooled one); a shared
    /// `Client` refuses it. If its caller gives up, the connection is closed
    /// so that the server pops nothing for nobody.
    fn blmpop<T: FromValue>(
        self,
        timeout: f64,
        keys: impl ToArg,
        end: End,
        count: u64,
    ) -> Self::Reply<Option<(String, Vec<T>)>> {
        self.command(
            cmd("BLMPOP")
                .arg(timeout)
                .arg_counted(keys)
                .arg(end)
                .arg("COUNT")
                .arg(count),
        )
    }
}

impl<C: Commands> ListCommands for C {}
