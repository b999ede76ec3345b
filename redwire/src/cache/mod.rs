//! Server-assisted client-side caching (feature `client-cache`): replies of
//! reads kept in memory and served without a round trip, removed when the
//! server says their key changed (`CLIENT TRACKING`, RESP3).
//!
//! The files, one job each: `config` (what the user sets), `table` (which
//! commands are cached), `store` (the bounded map of replies), `flight`
//! (concurrent misses become one request).
//!
//! # Where the cache sits
//!
//! One cache per connection actor, shared by every clone of its
//! [`Client`](crate::Client): the callers look it up (a hit never reaches the
//! actor), the actor alone writes it. A cluster client has one per node, so
//! an entry belongs to the node that served it and goes when that node's
//! connection drops.
//!
//! # Why the actor writes it, and why that is never stale
//!
//! The server sends a connection's replies and its invalidation pushes in
//! one stream, in the order it produced them. The actor reads that stream
//! in order and does everything for a frame before it looks at the next:
//!
//! - an invalidation removes its keys (a null list: everything) before any
//!   later frame is handed out;
//! - a read's reply is stored (and its flight landed) in the same step that
//!   hands it to its caller.
//!
//! Take a read R of key k and a write W of k by anyone, on any connection.
//! If the server ran W after R, R registered k's tracking first, so the
//! invalidation I that W causes comes after R's reply on this stream: R's
//! value is stored, then removed by I. If the server ran W before R, R's
//! reply holds W's value or a later one, and it is fresh whatever came
//! before it: storing it is right, even when an invalidation of k came just
//! before it (that invalidation was of an older read). So the cache holds a
//! stale value only between W and the moment I is read. A read sent before
//! an invalidation and answered after it is of the second kind: the reply
//! follows I on the stream, so the server read k after W.
//!
//! Had the callers stored their own replies, a reply could be stored after
//! the actor had already read and applied the invalidation behind it, and
//! the older value would stay until the next change of k; that is why
//! insertion is the actor's.
//!
//! **The promise**, which the barrier test holds to: once this client has
//! received any reply that the server produced after a write was
//! acknowledged (a `PING` sent after the writer's `OK`, say), a cached read
//! of the written key returns the new value or a newer one.
//!
//! **One's own writes.** The server sends the invalidations that a
//! connection's own command causes right after that command's reply (Redis
//! 7 holds them back until the reply is written). A caller woken by its
//! `SET`'s `OK` could look up the key before the actor has read the
//! invalidation right behind it. So after handing out the reply of anything
//! but a cacheable read, the actor marks the cache *settling*, and lookups
//! go to the server until the next reply has been handed out (every
//! invalidation the write caused was read before it). A write therefore
//! costs the next lookups a round trip when the connection is idle, not
//! when replies stream. `NOLOOP` is not offered: it would stop exactly the
//! invalidations that make a client read its own writes.
//!
//! **Disconnects.** Tracking lives with the socket: when the connection
//! drops, the whole cache is emptied before anything else happens, so the
//! new connection (which asks for tracking again in its handshake) starts
//! empty. A Sentinel failover and a cluster node's loss are such drops;
//! after a slot moves, the node that lost it invalidates the keys it hands
//! over (a migrated key is deleted there).
//!
//! **Opt-in and broadcast.** In [`CacheMode::OptIn`] the server tracks only
//! reads sent right behind `CLIENT CACHING YES`; the two go in one request,
//! written contiguously, so no other caller's command can come between them.
//! In [`CacheMode::Broadcast`] the server invalidates every key under the
//! prefixes whoever read it; keys outside them are never cached.
//!
//! **Bounded.** The store weighs each entry by its key, the commands and
//! the bytes of the replies, and evicts to stay within `max_bytes`. A hit
//! hands out the stored `Bytes`, shared, not copied. What is stored is a
//! copy for strings under 8 KiB: a reply's strings are slices of the 16 KiB
//! block they were read into (see `connection::read_buffer`), and a kept
//! 16-byte value would keep that whole block alive, a thousand times its
//! weight. Larger strings are kept as read (their block is theirs alone, or
//! about twice their size).
//!
//! **A hit's path.** A hit makes no syscall, no allocation and wakes no
//! actor: the caller's task looks the reply up and converts it. The typed
//! reads of one key and nothing else (`get`, `strlen`, `hgetall`, `hlen`…,
//! through `Commands::read_key`) and of one member of a key (`hget`,
//! `sismember`, `zscore`…, through `Commands::read_member`) look up before
//! any command is built: the key's entry is found by the key's bytes, its
//! kept commands matched against the parts (`table::is_read`), so a hit skips
//! building and encoding the command (about a third of a hit's cost when
//! it was built). When a span or a metrics recorder observes the request,
//! the command is built for them and looked up the usual way. Every other
//! cacheable read is looked up by its encoded body ([`Cache::plan`]). A
//! hit spends the task's tokio budget, so a loop of hits still yields.

mod config;
pub(crate) mod flight;
mod store;
pub(crate) mod table;

pub use config::{CacheConfig, CacheMode};

use crate::cmd::Cmd;
use crate::connection::reply::Reply;
use bytes::{Bytes, BytesMut};
use flight::{Fill, Flight};
use redwire_resp::Frame;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use store::Store;
use table::Cacheable;

/// What a read does with the cache.
pub(crate) enum Plan {
    /// Not a cached read: sent as it is.
    Pass,
    /// Served from memory.
    Hit(Frame),
    /// A miss: sent, and its reply stored (`CLIENT CACHING YES` first, in
    /// opt-in mode).
    Lead(Box<Fill>),
    /// The same read is on its way: wait for its reply.
    Follow(Arc<Flight>),
}

/// A client's cache (see the module doc).
pub(crate) struct Cache {
    store: Store,
    flights: Mutex<HashMap<Bytes, Arc<Flight>>>,
    /// A reply of something other than a cached read was handed out and
    /// no reply since: lookups go to the server (see "One's own writes").
    settling: AtomicBool,
    opt_in: bool,
    prefixes: Option<Vec<Bytes>>,
    config: CacheConfig,
    counts: Counts,
}

#[derive(Default)]
struct Counts {
    hits: AtomicU64,
    misses: AtomicU64,
    coalesced: AtomicU64,
    invalidations: AtomicU64,
    flushes: AtomicU64,
}

/// What a client's cache has done, from [`Client::cache_stats`](crate::Client::cache_stats).
///
/// ```
/// let stats = redwire::CacheStats::default();
/// assert_eq!(stats.hit_ratio(), 0.0);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq)]
#[non_exhaustive]
pub struct CacheStats {
    /// Reads served from memory.
    pub hits: u64,
    /// Cacheable reads sent to the server (followers not counted).
    pub misses: u64,
    /// Misses that waited for the same read already on its way.
    pub coalesced: u64,
    /// Keys dropped to stay within the bound.
    pub evictions: u64,
    /// Keys the server invalidated that were cached.
    pub invalidations: u64,
    /// Times the whole cache was emptied (a disconnect, a flush of the
    /// server's data).
    pub flushes: u64,
    /// Keys held now.
    pub entries: u64,
    /// Bytes held now, as weighed (keys, commands, replies).
    pub bytes: u64,
    /// The bound in bytes.
    pub max_bytes: u64,
}

impl CacheStats {
    /// Hits over hits and misses (0 before any read).
    pub fn hit_ratio(&self) -> f64 {
        let reads = self.hits + self.misses + self.coalesced;
        if reads == 0 {
            0.0
        } else {
            self.hits as f64 / reads as f64
        }
    }

    /// Adds another cache's counts (a cluster's nodes).
    pub(crate) fn add(&mut self, other: CacheStats) {
        self.hits += other.hits;
        self.misses += other.misses;
        self.coalesced += other.coalesced;
        self.evictions += other.evictions;
        self.invalidations += other.invalidations;
        self.flushes += other.flushes;
        self.entries += other.entries;
        self.bytes += other.bytes;
        self.max_bytes += other.max_bytes;
    }
}

/// `CLIENT CACHING YES`, written right before an opt-in read.
const CACHING_YES: &[u8] = b"*3\r\n$6\r\nCLIENT\r\n$7\r\nCACHING\r\n$3\r\nYES\r\n";

impl Cache {
    pub(crate) fn new(config: &CacheConfig) -> Cache {
        let (opt_in, prefixes) = match &config.mode {
            CacheMode::Tracking => (false, None),
            CacheMode::OptIn => (true, None),
            CacheMode::Broadcast { prefixes } if prefixes.is_empty() => (false, None),
            CacheMode::Broadcast { prefixes } => (
                false,
                Some(
                    prefixes
                        .iter()
                        .map(|p| Bytes::copy_from_slice(p.as_bytes()))
                        .collect(),
                ),
            ),
        };
        Cache {
            store: Store::new(config.max_bytes),
            flights: Mutex::new(HashMap::new()),
            settling: AtomicBool::new(false),
            opt_in,
            prefixes,
            config: config.clone(),
            counts: Counts::default(),
        }
    }

    /// What `cmd` does with the cache; `marked`: sent through
    /// [`Client::cached`](crate::Client::cached) (opt-in mode caches only those).
    /// `looked`: the store was just looked up for it (a [`hit`](Self::hit)
    /// that missed), so only the flights are.
    pub(crate) fn plan(self: &Arc<Self>, cmd: &Cmd, marked: bool, looked: bool) -> Plan {
        if (self.opt_in && !marked) || cmd.has_large() {
            return Plan::Pass;
        }
        // No large argument: the body holds every byte, so the name and
        // the key are read from it directly.
        let body = cmd.body();
        let Some((name, rest)) = table::next_arg(body) else {
            return Plan::Pass;
        };
        match table::cacheable(name, cmd.arg_count()) {
            Cacheable::No => Plan::Pass,
            Cacheable::One => match table::next_arg(rest) {
                Some((key, _)) => self.plan_one(key, body, looked),
                None => Plan::Pass,
            },
            Cacheable::Keys => self.plan_keys(cmd.args_iter().skip(1)),
        }
    }

    fn plan_one(self: &Arc<Self>, key: &[u8], command: &[u8], looked: bool) -> Plan {
        if !self.covers(key) {
            return Plan::Pass;
        }
        if !looked && !self.settling.load(Ordering::Acquire) {
            if let Some(reply) = self.store.get(key, command) {
                self.counts.hits.fetch_add(1, Ordering::Relaxed);
                return Plan::Hit(reply);
            }
        }
        let mut flights = self.flights.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(flight) = flights.get(command) {
            self.counts.coalesced.fetch_add(1, Ordering::Relaxed);
            return Plan::Follow(flight.clone());
        }
        self.counts.misses.fetch_add(1, Ordering::Relaxed);
        let command = Bytes::copy_from_slice(command);
        let flight = Arc::new(Flight::default());
        flights.insert(command.clone(), flight.clone());
        drop(flights);
        Plan::Lead(Box::new(Fill {
            cache: self.clone(),
            targets: vec![(Bytes::copy_from_slice(key), command.clone())],
            split: false,
            opt_in: self.opt_in,
            flight: Some((command, flight)),
        }))
    }

    /// `MGET`: served from memory if every key is there, else sent whole
    /// and stored key by key (as each key's `GET`).
    fn plan_keys<'a>(self: &Arc<Self>, keys: impl Iterator<Item = &'a [u8]>) -> Plan {
        let mut targets = Vec::new();
        let mut replies = Vec::new();
        for key in keys {
            if !self.covers(key) {
                return Plan::Pass;
            }
            let mut get = BytesMut::with_capacity(key.len() + 24);
            redwire_resp::encode_bulk(&mut get, b"GET");
            redwire_resp::encode_bulk(&mut get, key);
            let get = get.freeze();
            if targets.is_empty() || !replies.is_empty() {
                if let Some(reply) = self.lookup(key, &get) {
                    replies.push(reply);
                } else {
                    replies.clear();
                }
            }
            targets.push((Bytes::copy_from_slice(key), get));
        }
        if !replies.is_empty() && replies.len() == targets.len() {
            self.counts.hits.fetch_add(1, Ordering::Relaxed);
            return Plan::Hit(Frame::Array(replies));
        }
        self.counts.misses.fetch_add(1, Ordering::Relaxed);
        Plan::Lead(Box::new(Fill {
            cache: self.clone(),
            targets,
            split: true,
            opt_in: self.opt_in,
            flight: None,
        }))
    }

    /// The kept reply of `read`, a read of one key (`GET k`) or of one of
    /// its members (`HGET k f`), looked up without building the command
    /// (the kept commands are matched against its parts). `None`, a miss,
    /// sends the read through [`plan`](Self::plan).
    pub(crate) fn hit(&self, read: table::Read<'_>, marked: bool) -> Option<Frame> {
        debug_assert_eq!(
            table::cacheable(read.name, 2 + usize::from(read.member.is_some())),
            Cacheable::One,
            "{read:?}"
        );
        if (self.opt_in && !marked) || !self.covers(read.key) {
            return None;
        }
        if self.settling.load(Ordering::Acquire) {
            return None;
        }
        let reply = self
            .store
            .get_by(read.key, |body| table::is_read(body, read))?;
        self.counts.hits.fetch_add(1, Ordering::Relaxed);
        Some(reply)
    }

    fn lookup(&self, key: &[u8], command: &[u8]) -> Option<Frame> {
        if self.settling.load(Ordering::Acquire) {
            return None;
        }
        self.store.get(key, command)
    }

    /// Broadcast mode caches only keys under its prefixes.
    fn covers(&self, key: &[u8]) -> bool {
        self.prefixes
            .as_ref()
            .is_none_or(|prefixes| prefixes.iter().any(|p| key.starts_with(p)))
    }

    /// The bytes of an opt-in read: `CLIENT CACHING YES` and the command.
    pub(crate) fn opt_in_wire(cmd: &Cmd) -> Bytes {
        let mut bytes = BytesMut::with_capacity(CACHING_YES.len() + 64);
        bytes.extend_from_slice(CACHING_YES);
        cmd.encode(&mut bytes);
        bytes.freeze()
    }

    /// The actor hands out `reply` of a request with `fill` (a miss) or
    /// without; `waited`: a caller waits for it. Stores what the fill asks
    /// for and lands its flight; returns what the caller gets.
    /// `head`: the request's first bytes, whose command says whether it
    /// may have written.
    pub(crate) fn on_reply(
        &self,
        fill: Option<Box<Fill>>,
        waited: bool,
        head: &[u8],
        reply: Reply,
    ) -> Reply {
        let Some(mut fill) = fill else {
            // See "One's own writes" in the module doc.
            let write = waited && (matches!(reply, Reply::Many(_)) || !table::writes_nothing(head));
            self.settling.store(write, Ordering::Release);
            return reply;
        };
        self.settling.store(false, Ordering::Release);
        let reply = match reply {
            // `CLIENT CACHING YES`'s answer, then the read's.
            Reply::Many(mut frames) if fill.opt_in && frames.len() == 2 => {
                let read = frames.pop().expect("two frames");
                let caching = frames.pop().expect("two frames");
                if is_error(&caching) {
                    return Reply::One(caching);
                }
                Reply::One(read)
            }
            reply => reply,
        };
        let Reply::One(frame) = &reply else {
            return reply;
        };
        if is_error(frame) {
            return reply;
        }
        let expires = self
            .config
            .max_ttl
            .map(|ttl| tokio::time::Instant::now() + ttl);
        match (fill.split, frame) {
            (false, _) => {
                let (key, command) = fill.targets.pop().expect("one target");
                self.store
                    .insert(key, command, store::detach(frame), expires);
            }
            (true, Frame::Array(items)) if items.len() == fill.targets.len() => {
                for ((key, command), item) in fill.targets.drain(..).zip(items) {
                    self.store
                        .insert(key, command, store::detach(item), expires);
                }
            }
            (true, _) => {}
        }
        fill.land(Some(frame.clone()));
        reply
    }

    /// Applies an invalidation push; false if `frame` is not one.
    pub(crate) fn invalidated(&self, frame: &Frame) -> bool {
        let Frame::Push(items) = frame else {
            return false;
        };
        let [Frame::Bulk(kind) | Frame::Simple(kind), keys] = &items[..] else {
            return false;
        };
        if !kind.eq_ignore_ascii_case(b"invalidate") {
            return false;
        }
        match keys {
            Frame::Array(keys) | Frame::Set(keys) => {
                for key in keys {
                    if let Frame::Bulk(key) | Frame::Simple(key) = key {
                        if self.store.remove(key) {
                            self.counts.invalidations.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                }
            }
            // `FLUSHALL`/`FLUSHDB`, or the server dropped its tracking table.
            _ => self.flush(),
        }
        true
    }

    /// Empties the cache (a disconnect: tracking went with the socket).
    pub(crate) fn flush(&self) {
        self.store.clear();
        self.settling.store(false, Ordering::Release);
        self.counts.flushes.fetch_add(1, Ordering::Relaxed);
    }

    /// The client is closed: empty, and empty it stays (only its actor,
    /// which ends here, stores replies).
    pub(crate) fn close(&self) {
        self.flush();
    }

    /// Takes a landed flight off the table (a newer one of the same
    /// command stays).
    pub(crate) fn end_flight(&self, command: &Bytes, flight: &Arc<Flight>) {
        let mut flights = self.flights.lock().unwrap_or_else(|e| e.into_inner());
        if flights.get(command).is_some_and(|f| Arc::ptr_eq(f, flight)) {
            flights.remove(command);
        }
    }

    pub(crate) fn stats(&self) -> CacheStats {
        let c = &self.counts;
        CacheStats {
            hits: c.hits.load(Ordering::Relaxed),
            misses: c.misses.load(Ordering::Relaxed),
            coalesced: c.coalesced.load(Ordering::Relaxed),
            evictions: self.store.evictions(),
            invalidations: c.invalidations.load(Ordering::Relaxed),
            flushes: c.flushes.load(Ordering::Relaxed),
            entries: self.store.len() as u64,
            bytes: self.store.weight(),
            max_bytes: self.config.max_bytes,
        }
    }
}

fn is_error(frame: &Frame) -> bool {
    matches!(frame, Frame::Error(_) | Frame::BulkError(_))
}
