//! String commands: `GET`/`SET` and their options, counters, ranges.

use super::handle::Commands;
use crate::cmd::ToArg;
use crate::cmd::{cmd, Cmd};
use crate::error::{Error, Result};
use crate::value::convert::pairs;
use crate::value::{FromValue, Value};

/// The options of `SET`: a condition (`NX`/`XX`) and an expiry
/// (`EX`/`PX`/`EXAT`/`PXAT`/`KEEPTTL`). The last of each kind set wins.
///
/// ```
/// use redwire::commands::SetOptions;
/// let only_new_for_a_minute = SetOptions::new().nx().ex(60);
/// # let _ = only_new_for_a_minute;
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SetOptions {
    condition: Option<&'static str>,
    expiry: Option<(&'static str, u64)>,
}

impl SetOptions {
    /// No condition, no expiry: a plain `SET`.
    pub fn new() -> Self {
        Self::default()
    }

    /// `NX`: set only if the key does not exist.
    #[must_use]
    pub fn nx(mut self) -> Self {
        self.condition = Some("NX");
        self
    }

    /// `XX`: set only if the key exists.
    #[must_use]
    pub fn xx(mut self) -> Self {
        self.condition = Some("XX");
        self
    }

    /// `EX`: expire after `seconds`.
    #[must_use]
    pub fn ex(mut self, seconds: u64) -> Self {
        self.expiry = Some(("EX", seconds));
        self
    }

    /// `PX`: expire after `milliseconds`.
    #[must_use]
    pub fn px(mut self, milliseconds: u64) -> Self {
        self.expiry = Some(("PX", milliseconds));
        self
    }

    /// `EXAT`: expire at a Unix time in seconds.
    #[must_use]
    pub fn exat(mut self, unix_seconds: u64) -> Self {
        self.expiry = Some(("EXAT", unix_seconds));
        self
    }

    /// `PXAT`: expire at a Unix time in milliseconds.
    #[must_use]
    pub fn pxat(mut self, unix_milliseconds: u64) -> Self {
        self.expiry = Some(("PXAT", unix_milliseconds));
        self
    }

    /// `KEEPTTL`: keep the key's current time to live.
    #[must_use]
    pub fn keepttl(mut self) -> Self {
        self.expiry = Some(("KEEPTTL", 0));
        self
    }
}

/// The words of a `SET`-shaped command's options (`SET`, `HSETEX`): the
/// condition, then `EX n`/`PX n`/`EXAT n`/`PXAT n` or a lone `KEEPTTL`.
pub(super) fn push_condition_and_expiry(
    cmd: &mut Cmd,
    condition: Option<&'static str>,
    expiry: Option<(&'static str, u64)>,
) {
    cmd.push_arg(condition);
    match expiry {
        Some(("KEEPTTL", _)) => {
            cmd.push_arg("KEEPTTL");
        }
        Some((word, n)) => {
            cmd.push_arg(word).push_arg(n);
        }
        None => {}
    }
}

impl ToArg for SetOptions {
    fn write_args(&self, cmd: &mut Cmd) {
        push_condition_and_expiry(cmd, self.condition, self.expiry);
    }
}

/// A new expiry for `GETEX` (and the key commands that take one).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Expiry {
    /// `EX`: after this many seconds.
    Ex(u64),
    /// `PX`: after this many milliseconds.
    Px(u64),
    /// `EXAT`: at this Unix time in seconds.
    ExAt(u64),
    /// `PXAT`: at this Unix time in milliseconds.
    PxAt(u64),
    /// `PERSIST`: never; remove the expiry.
    Persist,
}

impl ToArg for Expiry {
    fn write_args(&self, cmd: &mut Cmd) {
        let (word, n) = match *self {
            Expiry::Ex(n) => ("EX", n),
            Expiry::Px(n) => ("PX", n),
            Expiry::ExAt(n) => ("EXAT", n),
            Expiry::PxAt(n) => ("PXAT", n),
            Expiry::Persist => {
                cmd.push_arg("PERSIST");
                return;
            }
        };
        cmd.push_arg(word).push_arg(n);
    }
}

/// Commands on string values.
pub trait StringCommands: Commands {
    /// `GET`: the value, `None` for a missing key (ask for `Option<T>`).
    ///
    /// ```no_run
    /// # async fn demo(client: redwire::Client) -> redwire::Result<()> {
    /// use redwire::prelude::*;
    /// let name: Option<String> = client.get("name").await?;
    /// let raw: Option<bytes::Bytes> = client.get("blob").await?;
    /// # Ok(()) }
    /// ```
    fn get<T: FromValue>(self, key: impl ToArg) -> Self::Reply<T> {
        self.read_key("GET", key)
    }

    /// `SET`: stores a value, replacing any value and expiry.
    ///
    /// ```no_run
    /// # async fn demo(client: redwire::Client) -> redwire::Result<()> {
    /// use redwire::prelude::*;
    /// client.set("name", "Ada").await?;
    /// # Ok(()) }
    /// ```
    fn set(self, key: impl ToArg, value: impl ToArg) -> Self::Reply<()> {
        self.command(cmd("SET").arg(key).arg(value))
    }

    /// `SET` with options: true when the value was stored, false when `NX`
    /// or `XX` held it back.
    ///
    /// ```no_run
    /// # async fn demo(client: redwire::Client) -> redwire::Result<()> {
    /// use redwire::prelude::*;
    /// let locked = client.set_with("lock", "me", SetOptions::new().nx().px(30_000)).await?;
    /// # Ok(()) }
    /// ```
    fn set_with(
        self,
        key: impl ToArg,
        value: impl ToArg,
        options: SetOptions,
    ) -> Self::Reply<bool> {
        self.command(cmd("SET").arg(key).arg(value).arg(options))
    }

    /// `SET … GET`: stores a value and returns the one it replaced (`None`
    /// if there was none), with options.
    fn set_get<T: FromValue>(
        self,
        key: impl ToArg,
        value: impl ToArg,
        options: SetOptions,
    ) -> Self::Reply<Option<T>> {
        self.command(cmd("SET").arg(key).arg(value).arg(options).arg("GET"))
    }

    /// `MGET`: the values of many keys, `None` where missing.
    ///
    /// ```no_run
    /// # async fn demo(client: redwire::Client) -> redwire::Result<()> {
    /// use redwire::prelude::*;
    /// let values: Vec<Option<i64>> = client.mget(["a", "b"]).await?;
    /// # Ok(()) }
    /// ```
    fn mget<T: FromValue>(self, keys: impl ToArg) -> Self::Reply<Vec<Option<T>>> {
        self.command(cmd("MGET").arg(keys))
    }

    /// `MSET`: stores many key/value pairs at once (a map, or a slice of pairs).
    fn mset(self, pairs: impl ToArg) -> Self::Reply<()> {
        self.command(cmd("MSET").arg(pairs))
    }

    /// `MSETNX`: stores the pairs only if none of the keys exists; true if stored.
    fn msetnx(self, pairs: impl ToArg) -> Self::Reply<bool> {
        self.command(cmd("MSETNX").arg(pairs))
    }

    /// `INCR`: adds one; returns the new value.
    fn incr(self, key: impl ToArg) -> Self::Reply<i64> {
        self.command(cmd("INCR").arg(key))
    }

    /// `INCRBY`: adds `by` (which may be negative); returns the new value.
    fn incr_by(self, key: impl ToArg, by: i64) -> Self::Reply<i64> {
        self.command(cmd("INCRBY").arg(key).arg(by))
    }

    /// `INCRBYFLOAT`: adds a float; returns the new value.
    fn incr_by_float(self, key: impl ToArg, by: f64) -> Self::Reply<f64> {
        self.command(cmd("INCRBYFLOAT").arg(key).arg(by))
    }

    /// `DECR`: subtracts one; returns the new value.
    fn decr(self, key: impl ToArg) -> Self::Reply<i64> {
        self.command(cmd("DECR").arg(key))
    }

    /// `DECRBY`: subtracts `by`; returns the new value.
    fn decr_by(self, key: impl ToArg, by: i64) -> Self::Reply<i64> {
        self.command(cmd("DECRBY").arg(key).arg(by))
    }

    /// `APPEND`: appends to the value; returns its new length.
    fn append(self, key: impl ToArg, value: impl ToArg) -> Self::Reply<u64> {
        self.command(cmd("APPEND").arg(key).arg(value))
    }

    /// `GETRANGE`: the bytes from `start` to `end` inclusive (negative counts
    /// from the end).
    fn getrange<T: FromValue>(self, key: impl ToArg, start: i64, end: i64) -> Self::Reply<T> {
        self.command(cmd("GETRANGE").arg(key).arg(start).arg(end))
    }

    /// `SETRANGE`: overwrites from `offset`; returns the new length.
    fn setrange(self, key: impl ToArg, offset: u64, value: impl ToArg) -> Self::Reply<u64> {
        self.command(cmd("SETRANGE").arg(key).arg(offset).arg(value))
    }

    /// `GETDEL`: the value, and the key deleted.
    fn getdel<T: FromValue>(self, key: impl ToArg) -> Self::Reply<Option<T>> {
        self.command(cmd("GETDEL").arg(key))
    }

    /// `GETEX`: the value, with its expiry changed.
    ///
    /// ```no_run
    /// # async fn demo(client: redwire::Client) -> redwire::Result<()> {
    /// use redwire::prelude::*;
    /// let v: Option<String> = client.getex("session", Expiry::Ex(900)).await?;
    /// # Ok(()) }
    /// ```
    fn getex<T: FromValue>(self, key: impl ToArg, expiry: Expiry) -> Self::Reply<Option<T>> {
        self.command(cmd("GETEX").arg(key).arg(expiry))
    }

    /// `STRLEN`: the value's length in bytes (0 for a missing key).
    fn strlen(self, key: impl ToArg) -> Self::Reply<u64> {
        self.read_key("STRLEN", key)
    }

    /// `LCS`: the longest common subsequence of two string values (a missing
    /// key reads as empty).
    ///
    /// ```no_run
    /// # async fn demo(client: redwire::Client) -> redwire::Result<()> {
    /// use redwire::prelude::*;
    /// client.mset([("a", "ohmytext"), ("b", "mynewtext")]).await?;
    /// assert_eq!(client.lcs::<String>("a", "b").await?, "mytext");
    /// # Ok(()) }
    /// ```
    fn lcs<T: FromValue>(self, key1: impl ToArg, key2: impl ToArg) -> Self::Reply<T> {
        self.command(cmd("LCS").arg(key1).arg(key2))
    }

    /// `LCS … LEN`: only the length of the longest common subsequence.
    fn lcs_len(self, key1: impl ToArg, key2: impl ToArg) -> Self::Reply<u64> {
        self.command(cmd("LCS").arg(key1).arg(key2).arg("LEN"))
    }

    /// `LCS … IDX WITHMATCHLEN [MINMATCHLEN n]`: where the common
    /// subsequence lies in each value, as ranges, longest match first;
    /// matches shorter than `min_match_len` are left out (the total length
    /// counts them all).
    ///
    /// ```no_run
    /// # async fn demo(client: redwire::Client) -> redwire::Result<()> {
    /// use redwire::prelude::*;
    /// client.mset([("a", "ohmytext"), ("b", "mynewtext")]).await?;
    /// let found = client.lcs_idx("a", "b", 0).await?;
    /// assert_eq!(found.len, 6);
    /// assert_eq!(found.matches[0].first, (4, 7)); // "text" in a
    /// assert_eq!(found.matches[0].second, (5, 8)); // and in b
    /// # Ok(()) }
    /// ```
    fn lcs_idx(
        self,
        key1: impl ToArg,
        key2: impl ToArg,
        min_match_len: u64,
    ) -> Self::Reply<LcsMatches> {
        let mut c = cmd("LCS").arg(key1).arg(key2).arg("IDX");
        if min_match_len > 0 {
            c = c.arg("MINMATCHLEN").arg(min_match_len);
        }
        self.command(c.arg("WITHMATCHLEN"))
    }
}

/// The reply of [`lcs_idx`](StringCommands::lcs_idx): the matches of the
/// longest common subsequence and its total length.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LcsMatches {
    /// Each match: its byte range (inclusive) in the first and the second
    /// value, and its length; longest first, as the server sends them.
    pub matches: Vec<LcsMatch>,
    /// The length of the whole common subsequence.
    pub len: u64,
}

/// One match of [`LcsMatches`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LcsMatch {
    /// First and last byte of the match in the first value.
    pub first: (u64, u64),
    /// First and last byte of the match in the second value.
    pub second: (u64, u64),
    /// Its length in bytes.
    pub len: u64,
}

impl FromValue for LcsMatches {
    fn from_value(value: Value) -> Result<Self> {
        let mut out = LcsMatches::default();
        for (key, value) in pairs(value, "an LCS IDX reply")? {
            match String::from_value(key)?.as_str() {
                "len" => out.len = u64::from_value(value)?,
                "matches" => {
                    out.matches = Vec::<Value>::from_value(value)?
                        .into_iter()
                        .map(LcsMatch::from_value)
                        .collect::<Result<_>>()?
                }
                _ => {}
            }
        }
        Ok(out)
    }
}

impl FromValue for LcsMatch {
    fn from_value(value: Value) -> Result<Self> {
        let parts = Vec::<Value>::from_value(value)?;
        let [first, second, len] = <[Value; 3]>::try_from(parts).map_err(|parts| {
            Error::type_error(format!(
                "expected an LCS match of [range, range, length], got {} parts",
                parts.len()
            ))
        })?;
        Ok(LcsMatch {
            first: <(u64, u64)>::from_value(first)?,
            second: <(u64, u64)>::from_value(second)?,
            len: u64::from_value(len)?,
        })
    }
}

impl<C: Commands> StringCommands for C {}
