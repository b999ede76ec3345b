//! Key commands: deleting, expiring, renaming, copying, inspecting keys of any type.

use super::handle::Commands;
use crate::cmd::ToArg;
use crate::cmd::{cmd, Cmd};
use crate::value::convert::mismatch;
use crate::value::{FromValue, Value};
use bytes::Bytes;

/// When `EXPIRE` (and its siblings, and `HEXPIRE`) may change an expiry.
///
/// A key with no expiry counts as an infinite time to live: `Gt` never
/// applies to it, `Lt` always does.
///
/// ```no_run
/// # async fn demo(client: redwire::Client) -> redwire::Result<()> {
/// use redwire::prelude::*;
/// // Extend the session to 15 minutes, never shorten it.
/// let extended = client.expire("session", 900, Some(ExpireCondition::Gt)).await?;
/// # Ok(()) }
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExpireCondition {
    /// `NX`: only if the key has no expiry.
    Nx,
    /// `XX`: only if the key has an expiry.
    Xx,
    /// `GT`: only if the new expiry is later than the current one.
    Gt,
    /// `LT`: only if the new expiry is sooner than the current one.
    Lt,
}

impl ToArg for ExpireCondition {
    fn write_args(&self, cmd: &mut Cmd) {
        cmd.push_arg(match self {
            ExpireCondition::Nx => "NX",
            ExpireCondition::Xx => "XX",
            ExpireCondition::Gt => "GT",
            ExpireCondition::Lt => "LT",
        });
    }
}

/// The type of the value at a key, as `TYPE` names it.
///
/// Also an argument: what `SCAN … TYPE` filters by.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum KeyType {
    /// `string`.
    String,
    /// `list`.
    List,
    /// `set`.
    Set,
    /// `zset`: a sorted set.
    ZSet,
    /// `hash`.
    Hash,
    /// `stream`.
    Stream,
    /// `none`: the key does not exist.
    None,
    /// Any other name: a module's type (`ReJSON-RL`…).
    Other(String),
}

impl KeyType {
    /// The name Redis uses for the type.
    ///
    /// ```
    /// assert_eq!(redwire::commands::KeyType::ZSet.as_str(), "zset");
    /// ```
    pub fn as_str(&self) -> &str {
        match self {
            KeyType::String => "string",
            KeyType::List => "list",
            KeyType::Set => "set",
            KeyType::ZSet => "zset",
            KeyType::Hash => "hash",
            KeyType::Stream => "stream",
            KeyType::None => "none",
            KeyType::Other(name) => name,
        }
    }
}

impl FromValue for KeyType {
    fn from_value(value: Value) -> crate::error::Result<Self> {
        let name = match value {
            Value::Simple(_) | Value::Bulk(_) | Value::Verbatim { .. } => {
                String::from_value(value)?
            }
            other => return mismatch(&other, "a type name (KeyType)"),
        };
        Ok(match name.as_str() {
            "string" => KeyType::String,
            "list" => KeyType::List,
            "set" => KeyType::Set,
            "zset" => KeyType::ZSet,
            "hash" => KeyType::Hash,
            "stream" => KeyType::Stream,
            "none" => KeyType::None,
            _ => KeyType::Other(name),
        })
    }
}

impl ToArg for KeyType {
    fn write_args(&self, cmd: &mut Cmd) {
        cmd.push_arg(self.as_str());
    }
}

/// The options of `COPY`: the destination database (`DB`) and whether an
/// existing destination is replaced (`REPLACE`).
///
/// ```
/// use redwire::commands::CopyOptions;
/// let to_db_2_overwriting = CopyOptions::new().db(2).replace();
/// # let _ = to_db_2_overwriting;
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CopyOptions {
    db: Option<i64>,
    replace: bool,
}

impl CopyOptions {
    /// Into the current database, never over an existing key.
    pub fn new() -> Self {
        Self::default()
    }

    /// `DB`: copy into this database instead of the connection's.
    #[must_use]
    pub fn db(mut self, db: i64) -> Self {
        self.db = Some(db);
        self
    }

    /// `REPLACE`: overwrite the destination if it exists.
    #[must_use]
    pub fn replace(mut self) -> Self {
        self.replace = true;
        self
    }
}

impl ToArg for CopyOptions {
    fn write_args(&self, cmd: &mut Cmd) {
        if let Some(db) = self.db {
            cmd.push_arg("DB").push_arg(db);
        }
        if self.replace {
            cmd.push_arg("REPLACE");
        }
    }
}

/// The options of `SORT` and `SORT_RO`: `BY`, `LIMIT`, `GET`, `DESC`,
/// `ALPHA`. The default sorts the elements as numbers, ascending.
///
/// Patterns (`BY weight_*`, `GET object_*->field`, `GET #`) name other keys,
/// which Redis Cluster cannot reach from the sorted key's node; there, use
/// them only with keys of one hash slot.
///
/// ```
/// use redwire::commands::SortOptions;
/// let by_name = SortOptions::new().by("user:*->name").get("#").get("user:*->email").alpha().limit(0, 10);
/// # let _ = by_name;
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SortOptions {
    by: Option<String>,
    limit: Option<(i64, i64)>,
    get: Vec<String>,
    desc: bool,
    alpha: bool,
}

impl SortOptions {
    /// Numbers, ascending, every element, the elements themselves.
    pub fn new() -> Self {
        Self::default()
    }

    /// `BY pattern`: sort by the values of other keys (`*` is replaced by
    /// the element); a pattern with no `*` (`nosort`) skips sorting.
    #[must_use]
    pub fn by(mut self, pattern: impl Into<String>) -> Self {
        self.by = Some(pattern.into());
        self
    }

    /// `LIMIT offset count`: a page of the sorted result.
    #[must_use]
    pub fn limit(mut self, offset: i64, count: i64) -> Self {
        self.limit = Some((offset, count));
        self
    }

    /// `GET pattern` (repeatable): return these keys' values instead of the
    /// elements, in the order given; `#` is the element itself.
    #[must_use]
    pub fn get(mut self, pattern: impl Into<String>) -> Self {
        self.get.push(pattern.into());
        self
    }

    /// `DESC`: largest first.
    #[must_use]
    pub fn desc(mut self) -> Self {
        self.desc = true;
        self
    }

    /// `ALPHA`: compare as strings (byte order, or the locale's collation
    /// if the server was so built), not as numbers.
    #[must_use]
    pub fn alpha(mut self) -> Self {
        self.alpha = true;
        self
    }
}

impl ToArg for SortOptions {
    fn write_args(&self, cmd: &mut Cmd) {
        if let Some(by) = &self.by {
            cmd.push_arg("BY").push_arg(by.as_str());
        }
        if let Some((offset, count)) = self.limit {
            cmd.push_arg("LIMIT").push_arg(offset).push_arg(count);
        }
        for pattern in &self.get {
            cmd.push_arg("GET").push_arg(pattern.as_str());
        }
        if self.desc {
            cmd.push_arg("DESC");
        }
        if self.alpha {
            cmd.push_arg("ALPHA");
        }
    }
}

/// The options of `RESTORE`: `REPLACE`, `ABSTTL`, `IDLETIME`, `FREQ`.
///
/// ```
/// use redwire::commands::RestoreOptions;
/// let overwrite = RestoreOptions::new().replace();
/// # let _ = overwrite;
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RestoreOptions {
    replace: bool,
    absttl: bool,
    idletime: Option<u64>,
    freq: Option<u8>,
}

impl RestoreOptions {
    /// No option: refuse an existing key, the TTL is relative.
    pub fn new() -> Self {
        Self::default()
    }

    /// `REPLACE`: overwrite the key if it exists.
    #[must_use]
    pub fn replace(mut self) -> Self {
        self.replace = true;
        self
    }

    /// `ABSTTL`: the TTL is a Unix time in milliseconds, not a duration.
    #[must_use]
    pub fn absttl(mut self) -> Self {
        self.absttl = true;
        self
    }

    /// `IDLETIME`: the restored key's idle time in seconds (for LRU eviction).
    #[must_use]
    pub fn idletime(mut self, seconds: u64) -> Self {
        self.idletime = Some(seconds);
        self
    }

    /// `FREQ`: the restored key's access frequency (for LFU eviction).
    #[must_use]
    pub fn freq(mut self, frequency: u8) -> Self {
        self.freq = Some(frequency);
        self
    }
}

impl ToArg for RestoreOptions {
    fn write_args(&self, cmd: &mut Cmd) {
        if self.replace {
            cmd.push_arg("REPLACE");
        }
        if self.absttl {
            cmd.push_arg("ABSTTL");
        }
        if let Some(seconds) = self.idletime {
            cmd.push_arg("IDLETIME").push_arg(seconds);
        }
        if let Some(freq) = self.freq {
            cmd.push_arg("FREQ").push_arg(u16::from(freq));
        }
    }
}

/// Commands on keys, whatever their type.
///
/// Times to live are `i64` as the server gives them: `-2` when the key does
/// not exist, `-1` when it has no expiry.
pub trait KeyCommands: Commands {
    /// `DEL`: deletes keys (one, a slice, a `Vec`…); returns how many existed.
    ///
    /// ```no_run
    /// # async fn demo(client: redwire::Client) -> redwire::Result<()> {
    /// use redwire::prelude::*;
    /// let deleted = client.del(["a", "b"]).await?;
    /// # Ok(()) }
    /// ```
    fn del(self, keys: impl ToArg) -> Self::Reply<u64> {
        self.command(cmd("DEL").arg(keys))
    }

    /// `UNLINK`: like `DEL`, but the memory is reclaimed in the background;
    /// returns how many existed.
    fn unlink(self, keys: impl ToArg) -> Self::Reply<u64> {
        self.command(cmd("UNLINK").arg(keys))
    }

    /// `EXISTS`: how many of the keys exist (a key named twice counts twice).
    fn exists(self, keys: impl ToArg) -> Self::Reply<u64> {
        self.command(cmd("EXISTS").arg(keys))
    }

    /// `EXPIRE`: the key expires after `seconds`; true if set, false if the
    /// key does not exist or the condition held it back.
    ///
    /// ```no_run
    /// # async fn demo(client: redwire::Client) -> redwire::Result<()> {
    /// use redwire::prelude::*;
    /// client.expire("session", 900, None).await?;
    /// let only_if_none = client.expire("session", 60, Some(ExpireCondition::Nx)).await?;
    /// # Ok(()) }
    /// ```
    fn expire(
        self,
        key: impl ToArg,
        seconds: u64,
        condition: Option<ExpireCondition>,
    ) -> Self::Reply<bool> {
        self.command(cmd("EXPIRE").arg(key).arg(seconds).arg(condition))
    }

    /// `PEXPIRE`: the key expires after `milliseconds`; true if set.
    fn pexpire(
        self,
        key: impl ToArg,
        milliseconds: u64,
        condition: Option<ExpireCondition>,
    ) -> Self::Reply<bool> {
        self.command(cmd("PEXPIRE").arg(key).arg(milliseconds).arg(condition))
    }

    /// `EXPIREAT`: the key expires at a Unix time in seconds; true if set.
    fn expireat(
        self,
        key: impl ToArg,
        unix_seconds: u64,
        condition: Option<ExpireCondition>,
    ) -> Self::Reply<bool> {
        self.command(cmd("EXPIREAT").arg(key).arg(unix_seconds).arg(condition))
    }

    /// `PEXPIREAT`: the key expires at a Unix time in milliseconds; true if set.
    fn pexpireat(
        self,
        key: impl ToArg,
        unix_milliseconds: u64,
        condition: Option<ExpireCondition>,
    ) -> Self::Reply<bool> {
        self.command(
            cmd("PEXPIREAT")
                .arg(key)
                .arg(unix_milliseconds)
                .arg(condition),
        )
    }

    /// `EXPIRETIME`: the Unix time in seconds at which the key expires;
    /// `-1` if it has no expiry, `-2` if it does not exist.
    fn expiretime(self, key: impl ToArg) -> Self::Reply<i64> {
        self.command(cmd("EXPIRETIME").arg(key))
    }

    /// `PEXPIRETIME`: the Unix time in milliseconds at which the key expires;
    /// `-1` if it has no expiry, `-2` if it does not exist.
    fn pexpiretime(self, key: impl ToArg) -> Self::Reply<i64> {
        self.command(cmd("PEXPIRETIME").arg(key))
    }

    /// `TTL`: the seconds left to live; `-1` if the key has no expiry, `-2`
    /// if it does not exist.
    ///
    /// ```no_run
    /// # async fn demo(client: redwire::Client) -> redwire::Result<()> {
    /// use redwire::prelude::*;
    /// match client.ttl("session").await? {
    ///     -2 => println!("gone"),
    ///     -1 => println!("never expires"),
    ///     secs => println!("{secs} s left"),
    /// }
    /// # Ok(()) }
    /// ```
    fn ttl(self, key: impl ToArg) -> Self::Reply<i64> {
        self.command(cmd("TTL").arg(key))
    }

    /// `PTTL`: the milliseconds left to live; `-1` if the key has no expiry,
    /// `-2` if it does not exist.
    fn pttl(self, key: impl ToArg) -> Self::Reply<i64> {
        self.command(cmd("PTTL").arg(key))
    }

    /// `PERSIST`: removes the expiry; true if there was one.
    fn persist(self, key: impl ToArg) -> Self::Reply<bool> {
        self.command(cmd("PERSIST").arg(key))
    }

    /// `TYPE`: the type of the value at the key ([`KeyType::None`] if missing).
    ///
    /// ```no_run
    /// # async fn demo(client: redwire::Client) -> redwire::Result<()> {
    /// use redwire::prelude::*;
    /// if client.key_type("queue").await? == KeyType::List {
    ///     // ...
    /// }
    /// # Ok(()) }
    /// ```
    fn key_type(self, key: impl ToArg) -> Self::Reply<KeyType> {
        self.read_key("TYPE", key)
    }

    /// `RENAME`: renames the key, replacing any key of the new name; an error
    /// if the key does not exist.
    fn rename(self, key: impl ToArg, new_key: impl ToArg) -> Self::Reply<()> {
        self.command(cmd("RENAME").arg(key).arg(new_key))
    }

    /// `RENAMENX`: renames the key only if the new name is free; true if renamed.
    fn renamenx(self, key: impl ToArg, new_key: impl ToArg) -> Self::Reply<bool> {
        self.command(cmd("RENAMENX").arg(key).arg(new_key))
    }

    /// `COPY`: copies the value (and its expiry) to another key; true if
    /// copied, false if the source is missing or the destination exists
    /// (without `REPLACE`).
    ///
    /// ```no_run
    /// # async fn demo(client: redwire::Client) -> redwire::Result<()> {
    /// use redwire::prelude::*;
    /// client.copy("config", "config:backup", CopyOptions::new().replace()).await?;
    /// # Ok(()) }
    /// ```
    fn copy(
        self,
        source: impl ToArg,
        destination: impl ToArg,
        options: CopyOptions,
    ) -> Self::Reply<bool> {
        self.command(cmd("COPY").arg(source).arg(destination).arg(options))
    }

    /// `MOVE`: moves the key to another database; true if moved, false if it
    /// is missing here or already exists there.
    fn move_to_db(self, key: impl ToArg, db: i64) -> Self::Reply<bool> {
        self.command(cmd("MOVE").arg(key).arg(db))
    }

    /// `DUMP`: the value serialized in Redis's own format, for `RESTORE`;
    /// `None` if the key does not exist.
    fn dump(self, key: impl ToArg) -> Self::Reply<Option<Bytes>> {
        self.command(cmd("DUMP").arg(key))
    }

    /// `RESTORE`: creates a key from what `DUMP` gave. `ttl` is in
    /// milliseconds (0: no expiry), or a Unix time in milliseconds with
    /// [`RestoreOptions::absttl`]. An error if the key exists, unless
    /// [`RestoreOptions::replace`].
    ///
    /// ```no_run
    /// # async fn demo(client: redwire::Client) -> redwire::Result<()> {
    /// use redwire::prelude::*;
    /// if let Some(blob) = client.dump("a").await? {
    ///     client.restore("b", 0, blob, RestoreOptions::new().replace()).await?;
    /// }
    /// # Ok(()) }
    /// ```
    fn restore(
        self,
        key: impl ToArg,
        ttl: u64,
        serialized: impl ToArg,
        options: RestoreOptions,
    ) -> Self::Reply<()> {
        self.command(
            cmd("RESTORE")
                .arg(key)
                .arg(ttl)
                .arg(serialized)
                .arg(options),
        )
    }

    /// `OBJECT ENCODING`: how the value is stored (`listpack`, `hashtable`,
    /// `int`…); `None` if the key does not exist.
    fn object_encoding(self, key: impl ToArg) -> Self::Reply<Option<String>> {
        self.command(cmd("OBJECT").arg("ENCODING").arg(key))
    }

    /// `OBJECT FREQ`: the key's access frequency counter; `None` if the key
    /// does not exist. An error unless the server's `maxmemory-policy` is an
    /// LFU one.
    fn object_freq(self, key: impl ToArg) -> Self::Reply<Option<u64>> {
        self.command(cmd("OBJECT").arg("FREQ").arg(key))
    }

    /// `OBJECT IDLETIME`: seconds since the key was last read or written;
    /// `None` if the key does not exist. An error when the server's
    /// `maxmemory-policy` is an LFU one.
    fn object_idletime(self, key: impl ToArg) -> Self::Reply<Option<u64>> {
        self.command(cmd("OBJECT").arg("IDLETIME").arg(key))
    }

    /// `OBJECT REFCOUNT`: how many references the server holds to the value;
    /// `None` if the key does not exist.
    fn object_refcount(self, key: impl ToArg) -> Self::Reply<Option<u64>> {
        self.command(cmd("OBJECT").arg("REFCOUNT").arg(key))
    }

    /// `TOUCH`: marks the keys as just accessed; returns how many exist.
    fn touch(self, keys: impl ToArg) -> Self::Reply<u64> {
        self.command(cmd("TOUCH").arg(keys))
    }

    /// `RANDOMKEY`: a key picked at random; `None` if the database is empty.
    fn randomkey<T: FromValue>(self) -> Self::Reply<Option<T>> {
        self.command(cmd("RANDOMKEY"))
    }

    /// `KEYS`: every key matching a glob pattern.
    ///
    /// It walks the whole keyspace in one go and blocks the server meanwhile:
    /// keep it for tests and small databases, and iterate with `SCAN`
    /// elsewhere.
    ///
    /// ```no_run
    /// # async fn demo(client: redwire::Client) -> redwire::Result<()> {
    /// use redwire::prelude::*;
    /// let users: Vec<String> = client.keys("user:*").await?;
    /// # Ok(()) }
    /// ```
    fn keys<T: FromValue>(self, pattern: impl ToArg) -> Self::Reply<Vec<T>> {
        self.command(cmd("KEYS").arg(pattern))
    }

    /// `SORT`: the elements of a list, set or sorted set, sorted (or, with
    /// [`SortOptions::get`], the values they point at; a missing one is nil,
    /// so ask for `Vec<Option<T>>` then).
    ///
    /// ```no_run
    /// # async fn demo(client: redwire::Client) -> redwire::Result<()> {
    /// use redwire::prelude::*;
    /// client.rpush("ids", [3, 1, 2]).await?;
    /// let sorted: Vec<i64> = client.sort("ids", SortOptions::new()).await?;
    /// assert_eq!(sorted, [1, 2, 3]);
    /// # Ok(()) }
    /// ```
    fn sort<T: FromValue>(self, key: impl ToArg, options: SortOptions) -> Self::Reply<Vec<T>> {
        self.command(cmd("SORT").arg(key).arg(options))
    }

    /// `SORT_RO`: [`sort`](Self::sort) as a read-only command (it may run on
    /// a replica; it cannot store).
    fn sort_ro<T: FromValue>(self, key: impl ToArg, options: SortOptions) -> Self::Reply<Vec<T>> {
        self.command(cmd("SORT_RO").arg(key).arg(options))
    }

    /// `SORT … STORE destination`: the result stored as a list at
    /// `destination` (replacing it); returns its length.
    ///
    /// ```no_run
    /// # async fn demo(client: redwire::Client) -> redwire::Result<()> {
    /// use redwire::prelude::*;
    /// let n = client.sort_store("ids", SortOptions::new().desc(), "ids:sorted").await?;
    /// # Ok(()) }
    /// ```
    fn sort_store(
        self,
        key: impl ToArg,
        options: SortOptions,
        destination: impl ToArg,
    ) -> Self::Reply<u64> {
        self.command(
            cmd("SORT")
                .arg(key)
                .arg(options)
                .arg("STORE")
                .arg(destination),
        )
    }
}

impl<C: Commands> KeyCommands for C {}
