//! Hash commands: fields and their values, counters in fields, (Redis 7.4+)
//! field expiry, and (Redis 8.0+) reads and writes that set or end it
//! (`HGETEX`, `HSETEX`, `HGETDEL`).
//!
//! `HGETEX` takes the same expiry choice as `GETEX`, so it takes the same
//! [`Expiry`]; `HSETEX` has a condition and an expiry like `SET`, so its
//! [`HSetExOptions`] is a builder shaped like [`SetOptions`](super::SetOptions).
//! `HSETEX` counts its fields in pairs, not arguments: its method counts
//! what `fields` writes and halves it. An odd count (a field without its
//! value) is sent as it is, and the server refuses the command whole
//! (`wrong number of arguments`): nothing is set, nothing dropped silently.

use super::handle::Commands;
use super::keys::ExpireCondition;
use super::strings::Expiry;
use crate::cmd::ToArg;
use crate::cmd::{cmd, Cmd};
use crate::value::FromValue;

/// The options of `HSETEX` (Redis 8.0+): a condition on the fields
/// (`FNX`/`FXX`) and their expiry (`EX`/`PX`/`EXAT`/`PXAT`/`KEEPTTL`).
/// The last of each kind set wins; with neither, the fields are set and
/// lose any expiry they had.
///
/// ```
/// use redwire::commands::HSetExOptions;
/// let new_fields_for_a_minute = HSetExOptions::new().fnx().ex(60);
/// let update_keeping_ttl = HSetExOptions::new().fxx().keepttl();
/// # let _ = (new_fields_for_a_minute, update_keeping_ttl);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct HSetExOptions {
    condition: Option<&'static str>,
    expiry: Option<(&'static str, u64)>,
}

impl HSetExOptions {
    /// No condition, no expiry.
    pub fn new() -> Self {
        Self::default()
    }

    /// `FNX`: set the fields only if none of them exists.
    #[must_use]
    pub fn fnx(mut self) -> Self {
        self.condition = Some("FNX");
        self
    }

    /// `FXX`: set the fields only if all of them exist.
    #[must_use]
    pub fn fxx(mut self) -> Self {
        self.condition = Some("FXX");
        self
    }

    /// `EX`: the fields expire after `seconds`.
    #[must_use]
    pub fn ex(mut self, seconds: u64) -> Self {
        self.expiry = Some(("EX", seconds));
        self
    }

    /// `PX`: the fields expire after `milliseconds`.
    #[must_use]
    pub fn px(mut self, milliseconds: u64) -> Self {
        self.expiry = Some(("PX", milliseconds));
        self
    }

    /// `EXAT`: the fields expire at a Unix time in seconds.
    #[must_use]
    pub fn exat(mut self, unix_seconds: u64) -> Self {
        self.expiry = Some(("EXAT", unix_seconds));
        self
    }

    /// `PXAT`: the fields expire at a Unix time in milliseconds.
    #[must_use]
    pub fn pxat(mut self, unix_milliseconds: u64) -> Self {
        self.expiry = Some(("PXAT", unix_milliseconds));
        self
    }

    /// `KEEPTTL`: the fields keep the expiry they have.
    #[must_use]
    pub fn keepttl(mut self) -> Self {
        self.expiry = Some(("KEEPTTL", 0));
        self
    }
}

impl ToArg for HSetExOptions {
    fn write_args(&self, cmd: &mut Cmd) {
        super::strings::push_condition_and_expiry(cmd, self.condition, self.expiry);
    }
}

/// Commands on hashes.
///
/// Fields and values are anything [`ToArg`]: `[("name", "Ada")]`, a
/// `HashMap`, a `Vec` of pairs. Replies that are user data are generic:
/// `hgetall` over the whole map (`HashMap<String, i64>`, `BTreeMap`,
/// `Vec<(String, String)>`), the list replies over their element.
///
/// The field-expiry commands (`HEXPIRE`…) need Redis 7.4+; each answers one
/// code per field asked, in order. `HGETEX`, `HSETEX` and `HGETDEL` need
/// Redis 8.0+ (Valkey 8.0 has none of them).
pub trait HashCommands: Commands {
    /// `HSET`: sets fields (pairs of field and value); returns how many
    /// fields were new.
    ///
    /// ```no_run
    /// # async fn demo(client: redwire::Client) -> redwire::Result<()> {
    /// use redwire::prelude::*;
    /// let added = client.hset("user:1", [("name", "Ada"), ("lang", "en")]).await?;
    /// # Ok(()) }
    /// ```
    fn hset(self, key: impl ToArg, fields: impl ToArg) -> Self::Reply<u64> {
        self.command(cmd("HSET").arg(key).arg(fields))
    }

    /// `HSETNX`: sets the field only if it does not exist; true if set.
    fn hsetnx(self, key: impl ToArg, field: impl ToArg, value: impl ToArg) -> Self::Reply<bool> {
        self.command(cmd("HSETNX").arg(key).arg(field).arg(value))
    }

    /// `HGET`: a field's value; `None` if the field or the key is missing.
    ///
    /// ```no_run
    /// # async fn demo(client: redwire::Client) -> redwire::Result<()> {
    /// use redwire::prelude::*;
    /// let name: Option<String> = client.hget("user:1", "name").await?;
    /// # Ok(()) }
    /// ```
    fn hget<T: FromValue>(self, key: impl ToArg, field: impl ToArg) -> Self::Reply<Option<T>> {
        self.read_member("HGET", key, field)
    }

    /// `HMGET`: the values of many fields, `None` where missing.
    fn hmget<T: FromValue>(
        self,
        key: impl ToArg,
        fields: impl ToArg,
    ) -> Self::Reply<Vec<Option<T>>> {
        self.command(cmd("HMGET").arg(key).arg(fields))
    }

    /// `HGETALL`: every field and value, into a map or a list of pairs
    /// (empty for a missing key).
    ///
    /// ```no_run
    /// # async fn demo(client: redwire::Client) -> redwire::Result<()> {
    /// use redwire::prelude::*;
    /// use std::collections::HashMap;
    /// let user: HashMap<String, String> = client.hgetall("user:1").await?;
    /// # Ok(()) }
    /// ```
    fn hgetall<T: FromValue>(self, key: impl ToArg) -> Self::Reply<T> {
        self.read_key("HGETALL", key)
    }

    /// `HDEL`: deletes fields; returns how many existed.
    fn hdel(self, key: impl ToArg, fields: impl ToArg) -> Self::Reply<u64> {
        self.command(cmd("HDEL").arg(key).arg(fields))
    }

    /// `HEXISTS`: whether the field exists.
    fn hexists(self, key: impl ToArg, field: impl ToArg) -> Self::Reply<bool> {
        self.read_member("HEXISTS", key, field)
    }

    /// `HLEN`: the number of fields (0 for a missing key).
    fn hlen(self, key: impl ToArg) -> Self::Reply<u64> {
        self.read_key("HLEN", key)
    }

    /// `HKEYS`: the field names.
    fn hkeys<T: FromValue>(self, key: impl ToArg) -> Self::Reply<Vec<T>> {
        self.read_key("HKEYS", key)
    }

    /// `HVALS`: the values.
    fn hvals<T: FromValue>(self, key: impl ToArg) -> Self::Reply<Vec<T>> {
        self.read_key("HVALS", key)
    }

    /// `HINCRBY`: adds `by` (which may be negative) to an integer field;
    /// returns the new value.
    fn hincr_by(self, key: impl ToArg, field: impl ToArg, by: i64) -> Self::Reply<i64> {
        self.command(cmd("HINCRBY").arg(key).arg(field).arg(by))
    }

    /// `HINCRBYFLOAT`: adds a float to a field; returns the new value.
    fn hincr_by_float(self, key: impl ToArg, field: impl ToArg, by: f64) -> Self::Reply<f64> {
        self.command(cmd("HINCRBYFLOAT").arg(key).arg(field).arg(by))
    }

    /// `HSTRLEN`: the length in bytes of a field's value (0 if missing).
    fn hstrlen(self, key: impl ToArg, field: impl ToArg) -> Self::Reply<u64> {
        self.read_member("HSTRLEN", key, field)
    }

    /// `HRANDFIELD`: one field picked at random; `None` for a missing key.
    fn hrandfield<T: FromValue>(self, key: impl ToArg) -> Self::Reply<Option<T>> {
        self.command(cmd("HRANDFIELD").arg(key))
    }

    /// `HRANDFIELD key count`: up to `count` distinct fields; with a negative
    /// `count`, exactly `-count` fields, possibly repeated.
    fn hrandfield_count<T: FromValue>(self, key: impl ToArg, count: i64) -> Self::Reply<Vec<T>> {
        self.command(cmd("HRANDFIELD").arg(key).arg(count))
    }

    /// `HRANDFIELD key count WITHVALUES`: like
    /// [`hrandfield_count`](Self::hrandfield_count), each field with its value.
    ///
    /// ```no_run
    /// # async fn demo(client: redwire::Client) -> redwire::Result<()> {
    /// use redwire::prelude::*;
    /// let sample: Vec<(String, i64)> = client.hrandfield_withvalues("scores", 3).await?;
    /// # Ok(()) }
    /// ```
    fn hrandfield_withvalues<K: FromValue, V: FromValue>(
        self,
        key: impl ToArg,
        count: i64,
    ) -> Self::Reply<Vec<(K, V)>> {
        self.command(cmd("HRANDFIELD").arg(key).arg(count).arg("WITHVALUES"))
    }

    /// `HEXPIRE` (Redis 7.4+): the fields expire after `seconds`. One code
    /// per field: `1` set, `0` the condition held it back, `2` deleted at once
    /// (a time in the past), `-2` no such field.
    ///
    /// ```no_run
    /// # async fn demo(client: redwire::Client) -> redwire::Result<()> {
    /// use redwire::prelude::*;
    /// let codes = client.hexpire("session", 60, None, ["token"]).await?;
    /// # Ok(()) }
    /// ```
    fn hexpire(
        self,
        key: impl ToArg,
        seconds: u64,
        condition: Option<ExpireCondition>,
        fields: impl ToArg,
    ) -> Self::Reply<Vec<i64>> {
        self.command(
            cmd("HEXPIRE")
                .arg(key)
                .arg(seconds)
                .arg(condition)
                .arg("FIELDS")
                .arg_counted(fields),
        )
    }

    /// `HPEXPIRE` (Redis 7.4+): the fields expire after `milliseconds`;
    /// codes as [`hexpire`](Self::hexpire).
    fn hpexpire(
        self,
        key: impl ToArg,
        milliseconds: u64,
        condition: Option<ExpireCondition>,
        fields: impl ToArg,
    ) -> Self::Reply<Vec<i64>> {
        self.command(
            cmd("HPEXPIRE")
                .arg(key)
                .arg(milliseconds)
                .arg(condition)
                .arg("FIELDS")
                .arg_counted(fields),
        )
    }

    /// `HEXPIREAT` (Redis 7.4+): the fields expire at a Unix time in
    /// seconds; codes as [`hexpire`](Self::hexpire).
    fn hexpireat(
        self,
        key: impl ToArg,
        unix_seconds: u64,
        condition: Option<ExpireCondition>,
        fields: impl ToArg,
    ) -> Self::Reply<Vec<i64>> {
        self.command(
            cmd("HEXPIREAT")
                .arg(key)
                .arg(unix_seconds)
                .arg(condition)
                .arg("FIELDS")
                .arg_counted(fields),
        )
    }

    /// `HPEXPIREAT` (Redis 7.4+): the fields expire at a Unix time in
    /// milliseconds; codes as [`hexpire`](Self::hexpire).
    fn hpexpireat(
        self,
        key: impl ToArg,
        unix_milliseconds: u64,
        condition: Option<ExpireCondition>,
        fields: impl ToArg,
    ) -> Self::Reply<Vec<i64>> {
        self.command(
            cmd("HPEXPIREAT")
                .arg(key)
                .arg(unix_milliseconds)
                .arg(condition)
                .arg("FIELDS")
                .arg_counted(fields),
        )
    }

    /// `HTTL` (Redis 7.4+): each field's seconds left to live; `-1` no
    /// expiry, `-2` no such field.
    fn httl(self, key: impl ToArg, fields: impl ToArg) -> Self::Reply<Vec<i64>> {
        self.command(cmd("HTTL").arg(key).arg("FIELDS").arg_counted(fields))
    }

    /// `HPTTL` (Redis 7.4+): each field's milliseconds left to live; `-1` no
    /// expiry, `-2` no such field.
    fn hpttl(self, key: impl ToArg, fields: impl ToArg) -> Self::Reply<Vec<i64>> {
        self.command(cmd("HPTTL").arg(key).arg("FIELDS").arg_counted(fields))
    }

    /// `HEXPIRETIME` (Redis 7.4+): the Unix time in seconds at which each
    /// field expires; `-1` no expiry, `-2` no such field.
    fn hexpiretime(self, key: impl ToArg, fields: impl ToArg) -> Self::Reply<Vec<i64>> {
        self.command(
            cmd("HEXPIRETIME")
                .arg(key)
                .arg("FIELDS")
                .arg_counted(fields),
        )
    }

    /// `HPEXPIRETIME` (Redis 7.4+): the Unix time in milliseconds at which
    /// each field expires; `-1` no expiry, `-2` no such field.
    fn hpexpiretime(self, key: impl ToArg, fields: impl ToArg) -> Self::Reply<Vec<i64>> {
        self.command(
            cmd("HPEXPIRETIME")
                .arg(key)
                .arg("FIELDS")
                .arg_counted(fields),
        )
    }

    /// `HPERSIST` (Redis 7.4+): removes the fields' expiry. One code per
    /// field: `1` removed, `-1` it had none, `-2` no such field.
    fn hpersist(self, key: impl ToArg, fields: impl ToArg) -> Self::Reply<Vec<i64>> {
        self.command(cmd("HPERSIST").arg(key).arg("FIELDS").arg_counted(fields))
    }

    /// `HGETEX` (Redis 8.0+): the fields' values, `None` where missing, as
    /// [`hmget`](Self::hmget) does, and their expiry changed: `EX`/`PX`/
    /// `EXAT`/`PXAT` set it, [`Expiry::Persist`] removes it, `None` leaves
    /// it. A time in the past deletes the fields (their values are still
    /// answered).
    ///
    /// ```no_run
    /// # async fn demo(client: redwire::Client) -> redwire::Result<()> {
    /// use redwire::prelude::*;
    /// let token: Vec<Option<String>> =
    ///     client.hgetex("session", Some(Expiry::Ex(900)), ["token"]).await?;
    /// # Ok(()) }
    /// ```
    fn hgetex<T: FromValue>(
        self,
        key: impl ToArg,
        expiry: Option<Expiry>,
        fields: impl ToArg,
    ) -> Self::Reply<Vec<Option<T>>> {
        self.command(
            cmd("HGETEX")
                .arg(key)
                .arg(expiry)
                .arg("FIELDS")
                .arg_counted(fields),
        )
    }

    /// `HSETEX` (Redis 8.0+): sets fields (pairs of field and value) with
    /// a condition and an expiry; true when they were set, false when the
    /// condition (`FNX`/`FXX`) held all of them back.
    ///
    /// ```no_run
    /// # async fn demo(client: redwire::Client) -> redwire::Result<()> {
    /// use redwire::prelude::*;
    /// let options = HSetExOptions::new().fnx().px(30_000);
    /// let locked = client.hsetex("locks", options, [("door", "me")]).await?;
    /// # Ok(()) }
    /// ```
    fn hsetex(
        self,
        key: impl ToArg,
        options: HSetExOptions,
        fields: impl ToArg,
    ) -> Self::Reply<bool> {
        let mut pairs = Cmd::new();
        fields.write_args(&mut pairs);
        let mut c = cmd("HSETEX").arg(key).arg(options).arg("FIELDS");
        c.push_arg(pairs.arg_count().div_ceil(2));
        c.append(&pairs);
        self.command(c)
    }

    /// `HGETDEL` (Redis 8.0+): the fields' values, `None` where missing,
    /// and the fields deleted (the key too, once it has none left).
    ///
    /// ```no_run
    /// # async fn demo(client: redwire::Client) -> redwire::Result<()> {
    /// use redwire::prelude::*;
    /// let taken: Vec<Option<String>> = client.hgetdel("inbox", ["msg:1", "msg:2"]).await?;
    /// # Ok(()) }
    /// ```
    fn hgetdel<T: FromValue>(
        self,
        key: impl ToArg,
        fields: impl ToArg,
    ) -> Self::Reply<Vec<Option<T>>> {
        self.command(cmd("HGETDEL").arg(key).arg("FIELDS").arg_counted(fields))
    }
}

impl<C: Commands> HashCommands for C {}
