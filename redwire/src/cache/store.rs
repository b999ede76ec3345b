//! Where cached replies live: a `quick_cache` map from a key to the replies
//! of the commands read of it, bounded by their weight in bytes.
//!
//! One entry per key, not per command: an invalidation names keys, so
//! removing a key's entry removes every reply read of it (`GET k`, `STRLEN k`,
//! `HGET k f`…) in one step. An entry is never changed in place: a new reply
//! of the same key replaces the entry with a copy that has it (the replies
//! are `Bytes`, so the copy shares their memory), which keeps the weight the
//! map was given true. At most [`REPLIES_PER_KEY`] replies are kept per key.
//!
//! Why `quick_cache`: it takes a weigher (the bound is in bytes, not
//! entries), its reads are a sharded lock and a hash probe with no
//! background thread or epoch to drain (a hit must cost a few hundred
//! instructions), and its eviction (CLOCK-Pro) resists a scan of cold keys
//! washing out hot ones. `moka` would also bound by weight, but each read
//! costs several times more and it keeps a housekeeping thread pool. The
//! map hashes keys with `foldhash` (its fast variant, seeded per process),
//! cheaper on short keys than quick_cache's default `ahash`, and without
//! its dependencies.

use bytes::Bytes;
use redwire_resp::Frame;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use tokio::time::Instant;

/// The most replies kept for one key: a hash read field by field must not
/// make every insert copy hundreds of them.
pub(crate) const REPLIES_PER_KEY: usize = 16;

/// What an entry costs beyond its bytes (the map's slot, the entry and its
/// vector), so that many tiny entries are bounded too.
const ENTRY_OVERHEAD: u64 = 96;
/// What each kept reply costs beyond its bytes.
const REPLY_OVERHEAD: u64 = 64;

/// The replies read of one key.
#[derive(Debug)]
pub(crate) struct Entry {
    replies: Vec<Kept>,
    weight: u64,
}

#[derive(Debug)]
struct Kept {
    /// The command that read it, as encoded (its name and arguments): a hit
    /// must be the very same command.
    command: Bytes,
    reply: Frame,
    /// When the TTL cap ends it, if one is set.
    expires: Option<Instant>,
}

impl Entry {
    fn find(&self, matches: impl Fn(&[u8]) -> bool) -> Option<&Kept> {
        self.replies.iter().find(|k| matches(&k.command))
    }
}

/// Weighs an entry by the bytes it keeps alive.
#[derive(Clone)]
struct Weigher;

impl quick_cache::Weighter<Bytes, Arc<Entry>> for Weigher {
    fn weight(&self, key: &Bytes, entry: &Arc<Entry>) -> u64 {
        key.len() as u64 + entry.weight
    }
}

/// Counts evictions (a replacement of the same key is not one).
#[derive(Clone)]
struct Evictions(Arc<AtomicU64>);

impl quick_cache::Lifecycle<Bytes, Arc<Entry>> for Evictions {
    type RequestState = ();

    fn begin_request(&self) {}

    fn on_evict(&self, _: &mut (), _key: Bytes, _entry: Arc<Entry>) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }
}

type Map =
    quick_cache::sync::Cache<Bytes, Arc<Entry>, Weigher, foldhash::fast::RandomState, Evictions>;

/// The cached replies of one connection.
pub(crate) struct Store {
    map: Map,
    evictions: Arc<AtomicU64>,
}

impl Store {
    pub(crate) fn new(max_bytes: u64) -> Store {
        let evictions = Arc::new(AtomicU64::new(0));
        let map = Map::with(
            (max_bytes / 512).clamp(16, 1 << 20) as usize,
            max_bytes,
            Weigher,
            Default::default(),
            Evictions(evictions.clone()),
        );
        Store { map, evictions }
    }

    /// The reply `command` got when it read `key`, if it is still kept.
    #[inline]
    pub(crate) fn get(&self, key: &[u8], command: &[u8]) -> Option<Frame> {
        self.get_by(key, |kept| kept == command)
    }

    /// The reply of the command read of `key` that `matches`, if kept.
    #[inline]
    pub(crate) fn get_by(&self, key: &[u8], matches: impl Fn(&[u8]) -> bool) -> Option<Frame> {
        let entry = self.map.get(key)?;
        let kept = entry.find(matches)?;
        if kept.expires.is_some_and(|at| Instant::now() >= at) {
            return None;
        }
        Some(kept.reply.clone())
    }

    /// Keeps `reply`, which `command` read of `key`.
    pub(crate) fn insert(
        &self,
        key: Bytes,
        command: Bytes,
        reply: Frame,
        expires: Option<Instant>,
    ) {
        let mut replies: Vec<Kept> = Vec::new();
        if let Some(old) = self.map.peek(&key[..]) {
            let others = old.replies.iter().filter(|k| k.command != command);
            let keep = others.take(REPLIES_PER_KEY - 1);
            replies.extend(keep.map(|k| Kept {
                command: k.command.clone(),
                reply: k.reply.clone(),
                expires: k.expires,
            }));
        }
        replies.push(Kept {
            command,
            reply,
            expires,
        });
        let weight = ENTRY_OVERHEAD
            + replies
                .iter()
                .map(|k| REPLY_OVERHEAD + k.command.len() as u64 + weigh(&k.reply))
                .sum::<u64>();
        self.map.insert(key, Arc::new(Entry { replies, weight }));
    }

    /// Forgets every reply read of `key`; true if there was one.
    pub(crate) fn remove(&self, key: &[u8]) -> bool {
        self.map.remove(key).is_some()
    }

    /// Forgets everything.
    pub(crate) fn clear(&self) {
        self.map.clear();
    }

    /// Keys held.
    pub(crate) fn len(&self) -> usize {
        self.map.len()
    }

    /// Bytes held, as weighed.
    pub(crate) fn weight(&self) -> u64 {
        self.map.weight()
    }

    /// Entries evicted to stay within the bound.
    pub(crate) fn evictions(&self) -> u64 {
        self.evictions.load(Ordering::Relaxed)
    }
}

/// Strings shorter than this are copied when stored (see the module doc of
/// `cache`, "Bounded").
const DETACH_BELOW: usize = 8 * 1024;

/// `frame` for keeping: its short strings copied out of the read block
/// they are slices of, the long ones shared.
pub(crate) fn detach(frame: &Frame) -> Frame {
    let own = |b: &Bytes| {
        if b.len() < DETACH_BELOW {
            Bytes::copy_from_slice(b)
        } else {
            b.clone()
        }
    };
    match frame {
        Frame::Simple(b) => Frame::Simple(own(b)),
        Frame::Error(b) => Frame::Error(own(b)),
        Frame::Bulk(b) => Frame::Bulk(own(b)),
        Frame::BigNumber(b) => Frame::BigNumber(own(b)),
        Frame::BulkError(b) => Frame::BulkError(own(b)),
        Frame::Verbatim { format, data } => Frame::Verbatim {
            format: *format,
            data: own(data),
        },
        Frame::Array(items) => Frame::Array(items.iter().map(detach).collect()),
        Frame::Set(items) => Frame::Set(items.iter().map(detach).collect()),
        Frame::Push(items) => Frame::Push(items.iter().map(detach).collect()),
        Frame::Map(pairs) => {
            Frame::Map(pairs.iter().map(|(k, v)| (detach(k), detach(v))).collect())
        }
        Frame::Attribute { attributes, frame } => Frame::Attribute {
            attributes: attributes
                .iter()
                .map(|(k, v)| (detach(k), detach(v)))
                .collect(),
            frame: Box::new(detach(frame)),
        },
        other => other.clone(),
    }
}

/// The bytes a reply keeps alive, with a little for each part.
pub(crate) fn weigh(frame: &Frame) -> u64 {
    const PART: u64 = 16;
    PART + match frame {
        Frame::Simple(b)
        | Frame::Error(b)
        | Frame::Bulk(b)
        | Frame::BigNumber(b)
        | Frame::BulkError(b) => b.len() as u64,
        Frame::Verbatim { data, .. } => data.len() as u64,
        Frame::Array(items) | Frame::Set(items) | Frame::Push(items) => {
            items.iter().map(weigh).sum()
        }
        Frame::Map(pairs) => pairs.iter().map(|(k, v)| weigh(k) + weigh(v)).sum(),
        Frame::Attribute { attributes, frame } => {
            attributes
                .iter()
                .map(|(k, v)| weigh(k) + weigh(v))
                .sum::<u64>()
                + weigh(frame)
        }
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bulk(s: &str) -> Frame {
        Frame::Bulk(Bytes::copy_from_slice(s.as_bytes()))
    }

    #[test]
    fn every_command_of_a_key_goes_with_its_invalidation() {
        let store = Store::new(1 << 20);
        let key = Bytes::from_static(b"k");
        store.insert(key.clone(), Bytes::from_static(b"GET k"), bulk("v"), None);
        store.insert(
            key.clone(),
            Bytes::from_static(b"STRLEN k"),
            Frame::Integer(1),
            None,
        );
        assert_eq!(store.get(b"k", b"GET k"), Some(bulk("v")));
        assert_eq!(store.get(b"k", b"STRLEN k"), Some(Frame::Integer(1)));
        assert_eq!(store.get(b"k", b"GETRANGE k 0 1"), None);
        store.insert(key, Bytes::from_static(b"GET k"), bulk("w"), None);
        assert_eq!(
            store.get(b"k", b"GET k"),
            Some(bulk("w")),
            "replaced, not added"
        );
        assert_eq!(store.len(), 1);
        assert!(store.remove(b"k"));
        assert_eq!(store.get(b"k", b"STRLEN k"), None);
        assert!(!store.remove(b"k"));
    }

    #[test]
    fn a_key_keeps_a_bounded_number_of_replies() {
        let store = Store::new(1 << 20);
        for field in 0..100 {
            let command = Bytes::from(format!("HGET h f{field}"));
            store.insert(Bytes::from_static(b"h"), command, bulk("v"), None);
        }
        let entry = store.map.peek(&b"h"[..]).unwrap();
        assert_eq!(entry.replies.len(), REPLIES_PER_KEY);
        assert!(
            store.get(b"h", b"HGET h f99").is_some(),
            "the newest is kept"
        );
    }

    #[test]
    fn the_weight_stays_under_the_bound() {
        let store = Store::new(64 * 1024);
        for i in 0..1000 {
            let value = "x".repeat(1000);
            store.insert(
                Bytes::from(format!("key:{i}")),
                Bytes::from(format!("GET key:{i}")),
                bulk(&value),
                None,
            );
            assert!(store.weight() <= 64 * 1024);
        }
        assert!(store.evictions() > 900);
        assert!(
            store.weight() > 32 * 1024,
            "the bound is used, not left empty"
        );
    }

    #[test]
    fn an_expired_reply_is_not_served() {
        let store = Store::new(1 << 20);
        let past = Instant::now() - std::time::Duration::from_millis(1);
        store.insert(
            Bytes::from_static(b"k"),
            Bytes::from_static(b"GET k"),
            bulk("v"),
            Some(past),
        );
        assert_eq!(store.get(b"k", b"GET k"), None);
    }

    #[test]
    fn short_strings_are_copied_out_of_their_read_block_and_long_ones_shared() {
        let block = Bytes::from(vec![b'x'; 64 * 1024]);
        let short = Frame::Array(vec![Frame::Bulk(block.slice(0..16)), Frame::Integer(1)]);
        let Frame::Array(items) = detach(&short) else {
            panic!()
        };
        let Frame::Bulk(kept) = &items[0] else {
            panic!()
        };
        assert_eq!(&kept[..], &block[..16]);
        assert!(
            !std::ptr::eq(kept.as_ptr(), block.as_ptr()),
            "a 16-byte value pins 64 KiB"
        );
        let long = Frame::Bulk(block.slice(0..DETACH_BELOW));
        let Frame::Bulk(kept) = detach(&long) else {
            panic!()
        };
        assert!(
            std::ptr::eq(kept.as_ptr(), block.as_ptr()),
            "a long value is shared"
        );
    }

    #[test]
    fn replies_are_weighed_by_their_bytes() {
        assert_eq!(weigh(&bulk("abcd")), 20);
        let nested = Frame::Array(vec![
            bulk("ab"),
            Frame::Map(vec![(bulk("k"), Frame::Integer(1))]),
        ]);
        assert_eq!(weigh(&nested), 16 + 18 + 16 + 17 + 16);
    }
}
