//! The one table of commands whose replies the client-side cache keeps.
//!
//! A reply may be kept only if it depends on nothing but the value of one
//! key (and the command's own arguments): then the server's invalidation of
//! that key is exactly the event that makes it stale. So the table holds the
//! read-only commands of one key that the server tracks (it remembers the
//! keys of commands flagged `readonly`), and leaves out:
//!
//! - anything that writes (`GETEX`, `GETDEL`, `HGETEX`, and `PFCOUNT`, which
//!   stores its estimate in the key);
//! - replies that depend on the clock (`TTL`, `PTTL`, `EXPIRETIME`…), on chance
//!   (`SRANDMEMBER`, `HRANDFIELD`, `ZRANDMEMBER`, `RANDOMKEY`) or on a cursor
//!   (`SCAN` and its kin);
//! - commands of several keys (`SINTER`, `LCS`, `SORT_RO … BY/GET`, `EXISTS`
//!   of more than one key), whose reply no single invalidation covers; `MGET`
//!   is the exception: it is served key by key, each key as its `GET`;
//! - blocking commands, and anything inside a pipeline or a transaction
//!   (those are sent as they are: their replies are not taken apart).
//!
//! | group | commands |
//! |---|---|
//! | strings | `GET` `GETRANGE` `SUBSTR` `STRLEN` `GETBIT` `BITCOUNT` `BITPOS` `BITFIELD_RO` (`MGET`, key by key) |
//! | hashes | `HGET` `HMGET` `HGETALL` `HLEN` `HEXISTS` `HKEYS` `HVALS` `HSTRLEN` |
//! | lists | `LRANGE` `LLEN` `LINDEX` `LPOS` |
//! | sets | `SMEMBERS` `SISMEMBER` `SMISMEMBER` `SCARD` |
//! | sorted sets | `ZRANGE` `ZRANGEBYSCORE` `ZRANGEBYLEX` `ZREVRANGE` `ZREVRANGEBYSCORE` `ZREVRANGEBYLEX` `ZSCORE` `ZMSCORE` `ZCARD` `ZCOUNT` `ZLEXCOUNT` `ZRANK` `ZREVRANK` |
//! | streams | `XRANGE` `XREVRANGE` `XLEN` |
//! | geo | `GEOPOS` `GEODIST` `GEOHASH` |
//! | keys | `EXISTS` (of one key) `TYPE` |

/// What the cache may do with a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Cacheable {
    /// Its reply is kept under its key (the first argument).
    One,
    /// `MGET`: served key by key, each as that key's `GET`.
    Keys,
    /// Sent as it is.
    No,
}

/// What the cache may do with a command named `name` that has `argc`
/// arguments (the name included).
pub(crate) fn cacheable(name: &[u8], argc: usize) -> Cacheable {
    if argc < 2 || name.len() > 16 {
        return Cacheable::No;
    }
    let mut upper = [0u8; 16];
    let upper = &mut upper[..name.len()];
    upper.copy_from_slice(name);
    upper.make_ascii_uppercase();
    match &*upper {
        b"GET" | b"GETRANGE" | b"SUBSTR" | b"STRLEN" | b"GETBIT" | b"BITCOUNT" | b"BITPOS"
        | b"BITFIELD_RO" | b"HGET" | b"HMGET" | b"HGETALL" | b"HLEN" | b"HEXISTS" | b"HKEYS"
        | b"HVALS" | b"HSTRLEN" | b"LRANGE" | b"LLEN" | b"LINDEX" | b"LPOS" | b"SMEMBERS"
        | b"SISMEMBER" | b"SMISMEMBER" | b"SCARD" | b"ZRANGE" | b"ZRANGEBYSCORE"
        | b"ZRANGEBYLEX" | b"ZREVRANGE" | b"ZREVRANGEBYSCORE" | b"ZREVRANGEBYLEX" | b"ZSCORE"
        | b"ZMSCORE" | b"ZCARD" | b"ZCOUNT" | b"ZLEXCOUNT" | b"ZRANK" | b"ZREVRANK" | b"XRANGE"
        | b"XREVRANGE" | b"XLEN" | b"GEOPOS" | b"GEODIST" | b"GEOHASH" | b"TYPE" => {
            Cacheable::One
        }
        b"EXISTS" if argc == 2 => Cacheable::One,
        b"MGET" => Cacheable::Keys,
        _ => Cacheable::No,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_of_one_key_are_kept_and_nothing_else() {
        assert_eq!(cacheable(b"get", 2), Cacheable::One);
        assert_eq!(cacheable(b"HgetAll", 2), Cacheable::One);
        assert_eq!(cacheable(b"EXISTS", 2), Cacheable::One);
        assert_eq!(cacheable(b"EXISTS", 3), Cacheable::No, "two keys");
        assert_eq!(cacheable(b"MGET", 4), Cacheable::Keys);
        assert_eq!(cacheable(b"GET", 1), Cacheable::No, "no key");
        for name in [
            "SET", "GETEX", "GETDEL", "HGETEX", "PFCOUNT", "TTL", "PTTL", "SRANDMEMBER",
            "RANDOMKEY", "SCAN", "HSCAN", "SINTER", "LCS", "SORT_RO", "BLPOP", "OBJECT",
            "A-NAME-LONGER-THAN-SIXTEEN",
        ] {
            assert_eq!(cacheable(name.as_bytes(), 3), Cacheable::No, "{name}");
        }
    }
}
