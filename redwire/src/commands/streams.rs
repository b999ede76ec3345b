//! Stream commands: typed ids and entries, `XADD` and trimming, ranges,
//! `XREAD`, consumer groups (`XREADGROUP`, `XACK`, `XPENDING`, `XCLAIM`,
//! `XAUTOCLAIM`) and `XINFO`.

use super::handle::Commands;
use crate::cmd::ToArg;
use crate::cmd::{cmd, Cmd};
use crate::error::{Error, Result};
use crate::value::convert::{mismatch, pairs};
use crate::value::{FromValue, Value};
use std::fmt;
use std::str::FromStr;

/// A stream entry's id: milliseconds and a sequence number, `1700000000000-0`.
///
/// Ids order as the entries do. Arguments that take an id also take the
/// special ones as text: `"-"` and `"+"` (the ends of a range), `"$"` (the
/// last entry, for `XREAD` and `XGROUP`), `">"` (never delivered, for
/// `XREADGROUP`), `"(1-0"` (exclusive, in a range).
///
/// ```
/// use redwire::commands::StreamId;
/// let id: StreamId = "1700000000000-3".parse().unwrap();
/// assert_eq!(id, StreamId::new(1_700_000_000_000, 3));
/// assert_eq!(id.to_string(), "1700000000000-3");
/// assert!(StreamId::new(5, 0) < StreamId::new(5, 1));
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct StreamId {
    /// The milliseconds part (the time the entry was added, for automatic ids).
    pub ms: u64,
    /// The sequence number among entries of the same millisecond.
    pub seq: u64,
}

impl StreamId {
    /// The id `ms-seq`.
    pub fn new(ms: u64, seq: u64) -> Self {
        StreamId { ms, seq }
    }
}

impl fmt::Display for StreamId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.ms, self.seq)
    }
}

impl FromStr for StreamId {
    type Err = Error;

    /// Reads `ms-seq`, or `ms` alone (sequence 0).
    fn from_str(s: &str) -> Result<Self> {
        let (ms, seq) = s.split_once('-').unwrap_or((s, "0"));
        match (ms.parse(), seq.parse()) {
            (Ok(ms), Ok(seq)) => Ok(StreamId { ms, seq }),
            _ => Err(Error::type_error(format!(
                "expected a stream id (ms-seq), got {s:?}"
            ))),
        }
    }
}

impl ToArg for StreamId {
    fn write_args(&self, cmd: &mut Cmd) {
        cmd.write_arg(self.to_string().as_bytes())
    }
}

impl FromValue for StreamId {
    fn from_value(value: Value) -> Result<Self> {
        let text = match value {
            Value::Bulk(ref b) | Value::Simple(ref b) => std::str::from_utf8(b).ok(),
            _ => None,
        };
        match text.map(str::parse) {
            Some(Ok(id)) => Ok(id),
            _ => mismatch(&value, "a stream id (ms-seq)"),
        }
    }
}

/// One stream entry: its id and its fields, in the order they were added.
/// Field names are text; values are any [`FromValue`] type (`String` unless
/// asked otherwise, `bytes::Bytes` for binary data).
///
/// ```no_run
/// # async fn demo(client: redwire::Client) -> redwire::Result<()> {
/// use redwire::prelude::*;
/// let entries: Vec<StreamEntry> = client.xrange("events", "-", "+").await?;
/// for entry in &entries {
///     println!("{}: {:?}", entry.id, entry.get("kind"));
/// }
/// # Ok(()) }
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct StreamEntry<V = String> {
    /// The entry's id.
    pub id: StreamId,
    /// The field/value pairs, in order (empty for an entry deleted while
    /// still pending in a group).
    pub fields: Vec<(String, V)>,
}

impl<V> StreamEntry<V> {
    /// The value of the first field named `field`.
    pub fn get(&self, field: &str) -> Option<&V> {
        self.fields.iter().find(|(f, _)| f == field).map(|(_, v)| v)
    }
}

/// An entry is `[id, [field, value, …]]` in both protocols.
impl<V: FromValue> FromValue for StreamEntry<V> {
    fn from_value(value: Value) -> Result<Self> {
        let (id, fields) = <(StreamId, Value)>::from_value(value)?;
        let fields = pairs(fields, "the fields of a stream entry")?
            .into_iter()
            .map(|(f, v)| Ok((String::from_value(f)?, V::from_value(v)?)))
            .collect::<Result<_>>()?;
        Ok(StreamEntry { id, fields })
    }
}

/// How to trim a stream, for `XADD` and `XTRIM`: to at most a length
/// (`MAXLEN`) or to the entries from an id on (`MINID`); exactly (`=`, the
/// default) or roughly (`~`, cheaper, with an optional `LIMIT` on the
/// entries evicted at once).
///
/// ```
/// use redwire::commands::{StreamId, StreamTrim};
/// let last_thousand = StreamTrim::maxlen(1000);
/// let recent = StreamTrim::minid(StreamId::new(1_700_000_000_000, 0)).approx().limit(100);
/// # let _ = (last_thousand, recent);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StreamTrim {
    threshold: Threshold,
    approx: bool,
    limit: Option<u64>,
}

/// What a trim keeps.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Threshold {
    MaxLen(u64),
    MinId(StreamId),
}

impl StreamTrim {
    /// `MAXLEN`: keep at most `len` entries, the newest.
    pub fn maxlen(len: u64) -> Self {
        Self::of(Threshold::MaxLen(len))
    }

    /// `MINID`: keep the entries whose ids are `id` or greater.
    pub fn minid(id: StreamId) -> Self {
        Self::of(Threshold::MinId(id))
    }

    fn of(threshold: Threshold) -> Self {
        StreamTrim {
            threshold,
            approx: false,
            limit: None,
        }
    }

    /// `~`: trim only whole internal nodes, so possibly fewer entries than
    /// asked (never more); cheaper than exact.
    #[must_use]
    pub fn approx(mut self) -> Self {
        self.approx = true;
        self
    }

    /// `LIMIT`: evict at most `count` entries this time (with `approx`
    /// only; Redis refuses it with an exact trim).
    #[must_use]
    pub fn limit(mut self, count: u64) -> Self {
        self.limit = Some(count);
        self
    }
}

impl ToArg for StreamTrim {
    fn write_args(&self, cmd: &mut Cmd) {
        let exactness = if self.approx { "~" } else { "=" };
        match self.threshold {
            Threshold::MaxLen(len) => cmd.push_arg("MAXLEN").push_arg(exactness).push_arg(len),
            Threshold::MinId(id) => cmd.push_arg("MINID").push_arg(exactness).push_arg(id),
        };
        if let Some(count) = self.limit {
            cmd.push_arg("LIMIT").push_arg(count);
        }
    }
}

/// The options of `XADD`: an explicit id (else the server makes one, `*`),
/// `NOMKSTREAM` (do not create a missing stream) and a trim.
///
/// ```
/// use redwire::commands::{StreamTrim, XAddOptions};
/// let capped = XAddOptions::new().nomkstream().trim(StreamTrim::maxlen(10_000).approx());
/// # let _ = capped;
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct XAddOptions {
    id: Option<StreamId>,
    nomkstream: bool,
    trim: Option<StreamTrim>,
}

impl XAddOptions {
    /// An automatic id, the stream created if missing, no trim.
    pub fn new() -> Self {
        Self::default()
    }

    /// This id instead of an automatic one; it must be greater than the
    /// stream's last.
    #[must_use]
    pub fn id(mut self, id: StreamId) -> Self {
        self.id = Some(id);
        self
    }

    /// `NOMKSTREAM`: add nothing (and answer `None`) if the stream does not
    /// exist.
    #[must_use]
    pub fn nomkstream(mut self) -> Self {
        self.nomkstream = true;
        self
    }

    /// Trims the stream as the entry is added.
    #[must_use]
    pub fn trim(mut self, trim: StreamTrim) -> Self {
        self.trim = Some(trim);
        self
    }
}

impl ToArg for XAddOptions {
    fn write_args(&self, cmd: &mut Cmd) {
        if self.nomkstream {
            cmd.push_arg("NOMKSTREAM");
        }
        cmd.push_arg(self.trim);
        match self.id {
            Some(id) => cmd.push_arg(id),
            None => cmd.push_arg("*"),
        };
    }
}

/// The options of `XREAD`: at most `COUNT` entries per stream, and `BLOCK`
/// (wait up to so many milliseconds for entries when there are none).
///
/// ```
/// use redwire::commands::XReadOptions;
/// let wait_a_second = XReadOptions::new().count(100).block(1000);
/// # let _ = wait_a_second;
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct XReadOptions {
    count: Option<u64>,
    block: Option<u64>,
}

impl XReadOptions {
    /// Every new entry, no waiting.
    pub fn new() -> Self {
        Self::default()
    }

    /// `COUNT`: at most `count` entries per stream.
    #[must_use]
    pub fn count(mut self, count: u64) -> Self {
        self.count = Some(count);
        self
    }

    /// `BLOCK`: when no stream has entries, wait up to `milliseconds` for
    /// some (0: forever).
    #[must_use]
    pub fn block(mut self, milliseconds: u64) -> Self {
        self.block = Some(milliseconds);
        self
    }
}

impl ToArg for XReadOptions {
    fn write_args(&self, cmd: &mut Cmd) {
        if let Some(count) = self.count {
            cmd.push_arg("COUNT").push_arg(count);
        }
        if let Some(ms) = self.block {
            cmd.push_arg("BLOCK").push_arg(ms);
        }
    }
}

/// The options of `XREADGROUP`: those of `XREAD`, and `NOACK` (entries
/// delivered are not kept pending, as if acknowledged at once).
///
/// ```
/// use redwire::commands::XReadGroupOptions;
/// let fire_and_forget = XReadGroupOptions::new().count(10).noack();
/// # let _ = fire_and_forget;
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct XReadGroupOptions {
    read: XReadOptions,
    noack: bool,
}

impl XReadGroupOptions {
    /// Every entry asked for, kept pending, no waiting.
    pub fn new() -> Self {
        Self::default()
    }

    /// `COUNT`: at most `count` entries per stream.
    #[must_use]
    pub fn count(mut self, count: u64) -> Self {
        self.read = self.read.count(count);
        self
    }

    /// `BLOCK`: when no stream has entries, wait up to `milliseconds` for
    /// some (0: forever).
    #[must_use]
    pub fn block(mut self, milliseconds: u64) -> Self {
        self.read = self.read.block(milliseconds);
        self
    }

    /// `NOACK`: do not add the entries to the group's pending list.
    #[must_use]
    pub fn noack(mut self) -> Self {
        self.noack = true;
        self
    }
}

impl ToArg for XReadGroupOptions {
    fn write_args(&self, cmd: &mut Cmd) {
        cmd.push_arg(self.read);
        if self.noack {
            cmd.push_arg("NOACK");
        }
    }
}

/// The options of `XGROUP CREATE`: `MKSTREAM` (create the stream if
/// missing) and `ENTRIESREAD` (how many entries the group has read, for its
/// lag).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct XGroupCreateOptions {
    mkstream: bool,
    entries_read: Option<u64>,
}

impl XGroupCreateOptions {
    /// The stream must exist; the group's lag is unknown until it reads.
    pub fn new() -> Self {
        Self::default()
    }

    /// `MKSTREAM`: create an empty stream if there is none.
    #[must_use]
    pub fn mkstream(mut self) -> Self {
        self.mkstream = true;
        self
    }

    /// `ENTRIESREAD`: the number of entries the group is taken to have read
    /// (Redis 7.0+).
    #[must_use]
    pub fn entries_read(mut self, count: u64) -> Self {
        self.entries_read = Some(count);
        self
    }
}

impl ToArg for XGroupCreateOptions {
    fn write_args(&self, cmd: &mut Cmd) {
        if self.mkstream {
            cmd.push_arg("MKSTREAM");
        }
        if let Some(count) = self.entries_read {
            cmd.push_arg("ENTRIESREAD").push_arg(count);
        }
    }
}

/// The options of `XCLAIM`: the claimed entries' idle time (`IDLE`, or
/// `TIME` of last delivery; the last set wins), their delivery count
/// (`RETRYCOUNT`), and `FORCE` (claim ids that no consumer has pending).
///
/// ```
/// use redwire::commands::XClaimOptions;
/// let as_if_new = XClaimOptions::new().idle(0).retrycount(0);
/// # let _ = as_if_new;
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct XClaimOptions {
    last_delivery: Option<(&'static str, u64)>,
    retrycount: Option<u64>,
    force: bool,
}

impl XClaimOptions {
    /// Idle time reset to 0, delivery count incremented, pending ids only.
    pub fn new() -> Self {
        Self::default()
    }

    /// `IDLE`: set the entries' idle time to `milliseconds`.
    #[must_use]
    pub fn idle(mut self, milliseconds: u64) -> Self {
        self.last_delivery = Some(("IDLE", milliseconds));
        self
    }

    /// `TIME`: set the entries' last delivery to this Unix time in
    /// milliseconds.
    #[must_use]
    pub fn time(mut self, unix_milliseconds: u64) -> Self {
        self.last_delivery = Some(("TIME", unix_milliseconds));
        self
    }

    /// `RETRYCOUNT`: set the entries' delivery count.
    #[must_use]
    pub fn retrycount(mut self, count: u64) -> Self {
        self.retrycount = Some(count);
        self
    }

    /// `FORCE`: also claim ids that are in the stream but pending for no
    /// consumer.
    #[must_use]
    pub fn force(mut self) -> Self {
        self.force = true;
        self
    }
}

impl ToArg for XClaimOptions {
    fn write_args(&self, cmd: &mut Cmd) {
        if let Some((word, n)) = self.last_delivery {
            cmd.push_arg(word).push_arg(n);
        }
        if let Some(count) = self.retrycount {
            cmd.push_arg("RETRYCOUNT").push_arg(count);
        }
        if self.force {
            cmd.push_arg("FORCE");
        }
    }
}

/// The filters of the extended `XPENDING`: entries idle at least so long
/// (`IDLE`), and of one consumer only.
///
/// ```
/// use redwire::commands::XPendingOptions;
/// let stuck = XPendingOptions::new().idle(60_000).consumer("worker-1");
/// # let _ = stuck;
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct XPendingOptions {
    idle: Option<u64>,
    consumer: Option<String>,
}

impl XPendingOptions {
    /// Every pending entry of every consumer.
    pub fn new() -> Self {
        Self::default()
    }

    /// `IDLE`: only entries not delivered for at least `milliseconds`.
    #[must_use]
    pub fn idle(mut self, milliseconds: u64) -> Self {
        self.idle = Some(milliseconds);
        self
    }

    /// Only the entries pending for this consumer.
    #[must_use]
    pub fn consumer(mut self, consumer: impl Into<String>) -> Self {
        self.consumer = Some(consumer.into());
        self
    }
}

/// The summary form of `XPENDING`: how much a group has pending, and for
/// whom.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PendingSummary {
    /// The number of entries delivered and not acknowledged.
    pub count: u64,
    /// The smallest pending id, `None` when nothing is pending.
    pub min_id: Option<StreamId>,
    /// The greatest pending id, `None` when nothing is pending.
    pub max_id: Option<StreamId>,
    /// Each consumer with pending entries, and how many.
    pub consumers: Vec<(String, u64)>,
}

/// `[count, min, max, [[consumer, count], …]]` in both protocols.
impl FromValue for PendingSummary {
    fn from_value(value: Value) -> Result<Self> {
        let (count, min_id, max_id, consumers): (_, _, _, Option<_>) =
            FromValue::from_value(value)?;
        Ok(PendingSummary {
            count,
            min_id,
            max_id,
            consumers: consumers.unwrap_or_default(),
        })
    }
}

/// One entry of the extended `XPENDING`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PendingEntry {
    /// The entry's id.
    pub id: StreamId,
    /// The consumer it was delivered to.
    pub consumer: String,
    /// Milliseconds since it was last delivered.
    pub idle_ms: u64,
    /// How many times it was delivered.
    pub deliveries: u64,
}

/// `[id, consumer, idle, deliveries]` in both protocols.
impl FromValue for PendingEntry {
    fn from_value(value: Value) -> Result<Self> {
        let (id, consumer, idle_ms, deliveries) = FromValue::from_value(value)?;
        Ok(PendingEntry {
            id,
            consumer,
            idle_ms,
            deliveries,
        })
    }
}

/// The reply of `XAUTOCLAIM`: a page of claimed entries and where the next
/// page starts.
#[derive(Clone, Debug, PartialEq)]
pub struct AutoClaimed<V = String> {
    /// The id to start the next call from; `0-0` when the scan is complete.
    pub next: StreamId,
    /// The entries now pending for the claiming consumer.
    pub entries: Vec<StreamEntry<V>>,
    /// Pending ids whose entries no longer exist (removed from the pending
    /// list by this call).
    pub deleted: Vec<StreamId>,
}

/// `[next, entries, deleted]` in both protocols.
impl<V: FromValue> FromValue for AutoClaimed<V> {
    fn from_value(value: Value) -> Result<Self> {
        let (next, entries, deleted) = FromValue::from_value(value)?;
        Ok(AutoClaimed {
            next,
            entries,
            deleted,
        })
    }
}

/// The named fields of an `XINFO` reply (a RESP3 map, a RESP2 flat array),
/// by name.
fn named_fields(value: Value, wanted: &str) -> Result<Vec<(String, Value)>> {
    pairs(value, wanted)?
        .into_iter()
        .map(|(name, v)| Ok((String::from_value(name)?, v)))
        .collect()
}

/// A field that every supported server sends, or an error naming it.
fn required<T>(field: Option<T>, name: &str, wanted: &str) -> Result<T> {
    field.ok_or_else(|| Error::type_error(format!("expected {wanted}, got no `{name}` field")))
}

/// `XINFO STREAM`: the main facts about a stream. Fields added by newer
/// servers than the one answering are `None`.
#[derive(Clone, Debug, PartialEq)]
pub struct StreamInfo<V = String> {
    /// The number of entries.
    pub length: u64,
    /// The number of consumer groups.
    pub groups: u64,
    /// The id of the last entry added (the greatest the stream ever had).
    pub last_generated_id: StreamId,
    /// The greatest id deleted from the stream (Redis 7.0+).
    pub max_deleted_entry_id: Option<StreamId>,
    /// How many entries were ever added (Redis 7.0+).
    pub entries_added: Option<u64>,
    /// The id of the first entry still in the stream (Redis 7.0+).
    pub recorded_first_entry_id: Option<StreamId>,
    /// The first entry, `None` when the stream is empty.
    pub first_entry: Option<StreamEntry<V>>,
    /// The last entry, `None` when the stream is empty.
    pub last_entry: Option<StreamEntry<V>>,
    /// The number of keys in the stream's radix tree.
    pub radix_tree_keys: u64,
    /// The number of nodes in the stream's radix tree.
    pub radix_tree_nodes: u64,
}

impl<V: FromValue> FromValue for StreamInfo<V> {
    fn from_value(value: Value) -> Result<Self> {
        const WANTED: &str = "stream info (XINFO STREAM)";
        let (mut length, mut groups, mut last_generated_id) = (None, None, None);
        let (mut radix_tree_keys, mut radix_tree_nodes) = (None, None);
        let mut info = StreamInfo {
            length: 0,
            groups: 0,
            last_generated_id: StreamId::default(),
            max_deleted_entry_id: None,
            entries_added: None,
            recorded_first_entry_id: None,
            first_entry: None,
            last_entry: None,
            radix_tree_keys: 0,
            radix_tree_nodes: 0,
        };
        for (name, v) in named_fields(value, WANTED)? {
            match name.as_str() {
                "length" => length = Some(u64::from_value(v)?),
                "groups" => groups = Some(u64::from_value(v)?),
                "last-generated-id" => last_generated_id = Some(StreamId::from_value(v)?),
                "max-deleted-entry-id" => info.max_deleted_entry_id = FromValue::from_value(v)?,
                "entries-added" => info.entries_added = FromValue::from_value(v)?,
                "recorded-first-entry-id" => {
                    info.recorded_first_entry_id = FromValue::from_value(v)?
                }
                "first-entry" => info.first_entry = FromValue::from_value(v)?,
                "last-entry" => info.last_entry = FromValue::from_value(v)?,
                "radix-tree-keys" => radix_tree_keys = Some(u64::from_value(v)?),
                "radix-tree-nodes" => radix_tree_nodes = Some(u64::from_value(v)?),
                _ => {}
            }
        }
        info.length = required(length, "length", WANTED)?;
        info.groups = required(groups, "groups", WANTED)?;
        info.last_generated_id = required(last_generated_id, "last-generated-id", WANTED)?;
        info.radix_tree_keys = radix_tree_keys.unwrap_or_default();
        info.radix_tree_nodes = radix_tree_nodes.unwrap_or_default();
        Ok(info)
    }
}

/// One consumer group, from `XINFO GROUPS`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StreamGroupInfo {
    /// The group's name.
    pub name: String,
    /// The number of consumers in the group.
    pub consumers: u64,
    /// The number of entries delivered and not acknowledged.
    pub pending: u64,
    /// The id of the last entry delivered to the group.
    pub last_delivered_id: StreamId,
    /// How many entries the group has read, when the server knows
    /// (Redis 7.0+).
    pub entries_read: Option<u64>,
    /// How many entries are still to be delivered to the group, when the
    /// server knows (Redis 7.0+).
    pub lag: Option<u64>,
}

impl FromValue for StreamGroupInfo {
    fn from_value(value: Value) -> Result<Self> {
        const WANTED: &str = "group info (XINFO GROUPS)";
        let (mut name, mut consumers, mut pending, mut last_delivered_id) =
            (None, None, None, None);
        let (mut entries_read, mut lag) = (None, None);
        for (field, v) in named_fields(value, WANTED)? {
            match field.as_str() {
                "name" => name = Some(String::from_value(v)?),
                "consumers" => consumers = Some(u64::from_value(v)?),
                "pending" => pending = Some(u64::from_value(v)?),
                "last-delivered-id" => last_delivered_id = Some(StreamId::from_value(v)?),
                "entries-read" => entries_read = FromValue::from_value(v)?,
                "lag" => lag = FromValue::from_value(v)?,
                _ => {}
            }
        }
        Ok(StreamGroupInfo {
            name: required(name, "name", WANTED)?,
            consumers: required(consumers, "consumers", WANTED)?,
            pending: required(pending, "pending", WANTED)?,
            last_delivered_id: required(last_delivered_id, "last-delivered-id", WANTED)?,
            entries_read,
            lag,
        })
    }
}

/// One consumer of a group, from `XINFO CONSUMERS`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StreamConsumerInfo {
    /// The consumer's name.
    pub name: String,
    /// The number of entries delivered to it and not acknowledged.
    pub pending: u64,
    /// Milliseconds since it last read or claimed.
    pub idle_ms: u64,
    /// Milliseconds since it last read or claimed something new
    /// (Redis 7.2+).
    pub inactive_ms: Option<i64>,
}

impl FromValue for StreamConsumerInfo {
    fn from_value(value: Value) -> Result<Self> {
        const WANTED: &str = "consumer info (XINFO CONSUMERS)";
        let (mut name, mut pending, mut idle_ms, mut inactive_ms) = (None, None, None, None);
        for (field, v) in named_fields(value, WANTED)? {
            match field.as_str() {
                "name" => name = Some(String::from_value(v)?),
                "pending" => pending = Some(u64::from_value(v)?),
                "idle" => idle_ms = Some(u64::from_value(v)?),
                "inactive" => inactive_ms = FromValue::from_value(v)?,
                _ => {}
            }
        }
        Ok(StreamConsumerInfo {
            name: required(name, "name", WANTED)?,
            pending: required(pending, "pending", WANTED)?,
            idle_ms: required(idle_ms, "idle", WANTED)?,
            inactive_ms,
        })
    }
}

/// What `XREAD` and `XREADGROUP` answer: per stream that had entries, its
/// key and the entries, in the order the keys were given. Empty when there
/// was nothing (a `BLOCK` that timed out). A RESP2 array of `[key, entries]`
/// and a RESP3 map read the same.
pub type StreamReads<V = String> = Vec<(String, Vec<StreamEntry<V>>)>;

/// Commands on streams. Ids are [`StreamId`]s in replies; arguments that
/// take an id take a `StreamId` or the special ids as text (`"-"`, `"+"`,
/// `"$"`, `">"`, `"(1-0"`).
pub trait StreamCommands: Commands {
    /// `XADD`: appends an entry with the given fields (a slice of pairs, a
    /// map) under an automatic id; returns the id.
    ///
    /// ```no_run
    /// # async fn demo(client: redwire::Client) -> redwire::Result<()> {
    /// use redwire::prelude::*;
    /// let id = client.xadd("events", [("kind", "login"), ("user", "ada")]).await?;
    /// # Ok(()) }
    /// ```
    fn xadd(self, key: impl ToArg, fields: impl ToArg) -> Self::Reply<StreamId> {
        self.command(cmd("XADD").arg(key).arg("*").arg(fields))
    }

    /// `XADD` with options: the new entry's id, `None` when `NOMKSTREAM`
    /// found no stream.
    ///
    /// ```no_run
    /// # async fn demo(client: redwire::Client) -> redwire::Result<()> {
    /// use redwire::prelude::*;
    /// let options = XAddOptions::new().trim(StreamTrim::maxlen(1000).approx());
    /// let id = client.xadd_with("events", [("kind", "logout")], options).await?;
    /// # Ok(()) }
    /// ```
    fn xadd_with(
        self,
        key: impl ToArg,
        fields: impl ToArg,
        options: XAddOptions,
    ) -> Self::Reply<Option<StreamId>> {
        self.command(cmd("XADD").arg(key).arg(options).arg(fields))
    }

    /// `XLEN`: the number of entries (0 for a missing key).
    fn xlen(self, key: impl ToArg) -> Self::Reply<u64> {
        self.command(cmd("XLEN").arg(key))
    }

    /// `XDEL`: removes entries by id; returns how many existed.
    fn xdel(self, key: impl ToArg, ids: impl ToArg) -> Self::Reply<u64> {
        self.command(cmd("XDEL").arg(key).arg(ids))
    }

    /// `XTRIM`: trims the stream; returns how many entries were removed.
    ///
    /// ```no_run
    /// # async fn demo(client: redwire::Client) -> redwire::Result<()> {
    /// use redwire::prelude::*;
    /// let removed = client.xtrim("events", StreamTrim::maxlen(1000)).await?;
    /// # Ok(()) }
    /// ```
    fn xtrim(self, key: impl ToArg, trim: StreamTrim) -> Self::Reply<u64> {
        self.command(cmd("XTRIM").arg(key).arg(trim))
    }

    /// `XRANGE`: the entries from `start` to `end` (ids; `"-"` and `"+"` for
    /// the ends, `"(id"` to exclude one), oldest first.
    fn xrange<V: FromValue>(
        self,
        key: impl ToArg,
        start: impl ToArg,
        end: impl ToArg,
    ) -> Self::Reply<Vec<StreamEntry<V>>> {
        self.command(cmd("XRANGE").arg(key).arg(start).arg(end))
    }

    /// `XRANGE … COUNT`: at most `count` entries from `start` to `end`.
    ///
    /// ```no_run
    /// # async fn demo(client: redwire::Client) -> redwire::Result<()> {
    /// use redwire::prelude::*;
    /// let page: Vec<StreamEntry> = client.xrange_count("events", "-", "+", 100).await?;
    /// if let Some(last) = page.last() {
    ///     let next: Vec<StreamEntry> =
    ///         client.xrange_count("events", format!("({}", last.id), "+", 100).await?;
    /// }
    /// # Ok(()) }
    /// ```
    fn xrange_count<V: FromValue>(
        self,
        key: impl ToArg,
        start: impl ToArg,
        end: impl ToArg,
        count: u64,
    ) -> Self::Reply<Vec<StreamEntry<V>>> {
        self.command(
            cmd("XRANGE")
                .arg(key)
                .arg(start)
                .arg(end)
                .arg("COUNT")
                .arg(count),
        )
    }

    /// `XREVRANGE`: the entries from `end` down to `start`, newest first
    /// (the greater id comes first, as in Redis).
    fn xrevrange<V: FromValue>(
        self,
        key: impl ToArg,
        end: impl ToArg,
        start: impl ToArg,
    ) -> Self::Reply<Vec<StreamEntry<V>>> {
        self.command(cmd("XREVRANGE").arg(key).arg(end).arg(start))
    }

    /// `XREVRANGE … COUNT`: at most `count` entries from `end` down to
    /// `start`.
    fn xrevrange_count<V: FromValue>(
        self,
        key: impl ToArg,
        end: impl ToArg,
        start: impl ToArg,
        count: u64,
    ) -> Self::Reply<Vec<StreamEntry<V>>> {
        self.command(
            cmd("XREVRANGE")
                .arg(key)
                .arg(end)
                .arg(start)
                .arg("COUNT")
                .arg(count),
        )
    }

    /// `XREAD`: the entries after the given id of each stream (`keys` and
    /// `ids` in the same order; `"$"` for only what comes next).
    ///
    /// Blocking (with [`XReadOptions::block`]): then it runs on a dedicated
    /// `Connection` (or a pooled one); a shared `Client` refuses it.
    ///
    /// ```no_run
    /// # async fn demo(mut conn: redwire::Connection) -> redwire::Result<()> {
    /// use redwire::prelude::*;
    /// let reads: StreamReads = conn
    ///     .xread(["events", "audit"], ["0", "0"], XReadOptions::new().count(10).block(500))
    ///     .await?;
    /// for (stream, entries) in reads {
    ///     println!("{stream}: {} new", entries.len());
    /// }
    /// # Ok(()) }
    /// ```
    fn xread<V: FromValue>(
        self,
        keys: impl ToArg,
        ids: impl ToArg,
        options: XReadOptions,
    ) -> Self::Reply<StreamReads<V>> {
        self.command(cmd("XREAD").arg(options).arg("STREAMS").arg(keys).arg(ids))
    }

    /// `XREADGROUP`: reads as `consumer` of `group`: with id `">"`, entries
    /// never delivered to the group (they become pending for `consumer`);
    /// with an id, the consumer's own pending entries after it.
    ///
    /// Blocking (with [`XReadGroupOptions::block`]): then it runs on a
    /// dedicated `Connection` (or a pooled one); a shared `Client` refuses it.
    ///
    /// ```no_run
    /// # async fn demo(mut conn: redwire::Connection) -> redwire::Result<()> {
    /// use redwire::prelude::*;
    /// let reads: StreamReads = conn
    ///     .xreadgroup("mailers", "worker-1", ["mail"], [">"], XReadGroupOptions::new().count(10))
    ///     .await?;
    /// for (stream, entries) in reads {
    ///     for entry in entries {
    ///         // … send it, then:
    ///         conn.xack(&stream, "mailers", [entry.id]).await?;
    ///     }
    /// }
    /// # Ok(()) }
    /// ```
    fn xreadgroup<V: FromValue>(
        self,
        group: impl ToArg,
        consumer: impl ToArg,
        keys: impl ToArg,
        ids: impl ToArg,
        options: XReadGroupOptions,
    ) -> Self::Reply<StreamReads<V>> {
        self.command(
            cmd("XREADGROUP")
                .arg("GROUP")
                .arg(group)
                .arg(consumer)
                .arg(options)
                .arg("STREAMS")
                .arg(keys)
                .arg(ids),
        )
    }

    /// `XGROUP CREATE`: creates a consumer group that will deliver the
    /// entries after `id` (`"$"`: only new ones; `"0"`: all).
    ///
    /// ```no_run
    /// # async fn demo(client: redwire::Client) -> redwire::Result<()> {
    /// use redwire::prelude::*;
    /// client.xgroup_create("mail", "mailers", "$", XGroupCreateOptions::new().mkstream()).await?;
    /// # Ok(()) }
    /// ```
    fn xgroup_create(
        self,
        key: impl ToArg,
        group: impl ToArg,
        id: impl ToArg,
        options: XGroupCreateOptions,
    ) -> Self::Reply<()> {
        self.command(
            cmd("XGROUP")
                .arg("CREATE")
                .arg(key)
                .arg(group)
                .arg(id)
                .arg(options),
        )
    }

    /// `XGROUP DESTROY`: deletes a group and its pending lists; true if it
    /// existed.
    fn xgroup_destroy(self, key: impl ToArg, group: impl ToArg) -> Self::Reply<bool> {
        self.command(cmd("XGROUP").arg("DESTROY").arg(key).arg(group))
    }

    /// `XGROUP CREATECONSUMER`: adds a consumer to a group; true if it is
    /// new.
    fn xgroup_createconsumer(
        self,
        key: impl ToArg,
        group: impl ToArg,
        consumer: impl ToArg,
    ) -> Self::Reply<bool> {
        self.command(
            cmd("XGROUP")
                .arg("CREATECONSUMER")
                .arg(key)
                .arg(group)
                .arg(consumer),
        )
    }

    /// `XGROUP DELCONSUMER`: removes a consumer from a group; returns how
    /// many entries it had pending (they are no longer pending for anyone).
    fn xgroup_delconsumer(
        self,
        key: impl ToArg,
        group: impl ToArg,
        consumer: impl ToArg,
    ) -> Self::Reply<u64> {
        self.command(
            cmd("XGROUP")
                .arg("DELCONSUMER")
                .arg(key)
                .arg(group)
                .arg(consumer),
        )
    }

    /// `XGROUP SETID`: makes the group deliver the entries after `id` next
    /// (`"$"`: only new ones).
    fn xgroup_setid(self, key: impl ToArg, group: impl ToArg, id: impl ToArg) -> Self::Reply<()> {
        self.command(cmd("XGROUP").arg("SETID").arg(key).arg(group).arg(id))
    }

    /// `XACK`: acknowledges entries (removes them from the group's pending
    /// list); returns how many were pending.
    fn xack(self, key: impl ToArg, group: impl ToArg, ids: impl ToArg) -> Self::Reply<u64> {
        self.command(cmd("XACK").arg(key).arg(group).arg(ids))
    }

    /// `XPENDING` (summary): how many entries the group has pending, their
    /// id range, and per consumer.
    fn xpending(self, key: impl ToArg, group: impl ToArg) -> Self::Reply<PendingSummary> {
        self.command(cmd("XPENDING").arg(key).arg(group))
    }

    /// `XPENDING` (extended): up to `count` pending entries with ids from
    /// `start` to `end`, each with its consumer, idle time and deliveries.
    ///
    /// ```no_run
    /// # async fn demo(client: redwire::Client) -> redwire::Result<()> {
    /// use redwire::prelude::*;
    /// let stuck = client
    ///     .xpending_range("mail", "mailers", "-", "+", 100, XPendingOptions::new().idle(60_000))
    ///     .await?;
    /// # Ok(()) }
    /// ```
    fn xpending_range(
        self,
        key: impl ToArg,
        group: impl ToArg,
        start: impl ToArg,
        end: impl ToArg,
        count: u64,
        options: XPendingOptions,
    ) -> Self::Reply<Vec<PendingEntry>> {
        let mut c = cmd("XPENDING").arg(key).arg(group);
        if let Some(ms) = options.idle {
            c.push_arg("IDLE").push_arg(ms);
        }
        c.push_arg(start)
            .push_arg(end)
            .push_arg(count)
            .push_arg(options.consumer);
        self.command(c)
    }

    /// `XCLAIM`: makes pending entries idle at least `min_idle_ms` pending
    /// for `consumer` instead; returns the entries claimed.
    ///
    /// ```no_run
    /// # async fn demo(client: redwire::Client) -> redwire::Result<()> {
    /// use redwire::prelude::*;
    /// let id: StreamId = "1700000000000-0".parse()?;
    /// let taken: Vec<StreamEntry> = client
    ///     .xclaim("mail", "mailers", "worker-2", 60_000, [id], XClaimOptions::new())
    ///     .await?;
    /// # Ok(()) }
    /// ```
    fn xclaim<V: FromValue>(
        self,
        key: impl ToArg,
        group: impl ToArg,
        consumer: impl ToArg,
        min_idle_ms: u64,
        ids: impl ToArg,
        options: XClaimOptions,
    ) -> Self::Reply<Vec<StreamEntry<V>>> {
        self.command(
            cmd("XCLAIM")
                .arg(key)
                .arg(group)
                .arg(consumer)
                .arg(min_idle_ms)
                .arg(ids)
                .arg(options),
        )
    }

    /// `XCLAIM … JUSTID`: claims as [`xclaim`](Self::xclaim) but returns
    /// only the ids, and leaves the delivery counts as they were.
    fn xclaim_justid(
        self,
        key: impl ToArg,
        group: impl ToArg,
        consumer: impl ToArg,
        min_idle_ms: u64,
        ids: impl ToArg,
        options: XClaimOptions,
    ) -> Self::Reply<Vec<StreamId>> {
        self.command(
            cmd("XCLAIM")
                .arg(key)
                .arg(group)
                .arg(consumer)
                .arg(min_idle_ms)
                .arg(ids)
                .arg(options)
                .arg("JUSTID"),
        )
    }

    /// `XAUTOCLAIM`: claims for `consumer` up to `count` pending entries
    /// idle at least `min_idle_ms`, scanning from `start` (`"0"` at
    /// first, then the reply's `next`).
    ///
    /// ```no_run
    /// # async fn demo(client: redwire::Client) -> redwire::Result<()> {
    /// use redwire::prelude::*;
    /// let page: AutoClaimed = client.xautoclaim("mail", "mailers", "worker-2", 60_000, "0", 10).await?;
    /// let more = page.next != StreamId::new(0, 0);
    /// # Ok(()) }
    /// ```
    fn xautoclaim<V: FromValue>(
        self,
        key: impl ToArg,
        group: impl ToArg,
        consumer: impl ToArg,
        min_idle_ms: u64,
        start: impl ToArg,
        count: u64,
    ) -> Self::Reply<AutoClaimed<V>> {
        self.command(
            cmd("XAUTOCLAIM")
                .arg(key)
                .arg(group)
                .arg(consumer)
                .arg(min_idle_ms)
                .arg(start)
                .arg("COUNT")
                .arg(count),
        )
    }

    /// `XINFO STREAM`: the stream's length, ends, groups and ids.
    fn xinfo_stream<V: FromValue>(self, key: impl ToArg) -> Self::Reply<StreamInfo<V>> {
        self.command(cmd("XINFO").arg("STREAM").arg(key))
    }

    /// `XINFO GROUPS`: the stream's consumer groups.
    fn xinfo_groups(self, key: impl ToArg) -> Self::Reply<Vec<StreamGroupInfo>> {
        self.command(cmd("XINFO").arg("GROUPS").arg(key))
    }

    /// `XINFO CONSUMERS`: the consumers of a group.
    fn xinfo_consumers(
        self,
        key: impl ToArg,
        group: impl ToArg,
    ) -> Self::Reply<Vec<StreamConsumerInfo>> {
        self.command(cmd("XINFO").arg("CONSUMERS").arg(key).arg(group))
    }
}

impl<C: Commands> StreamCommands for C {}
