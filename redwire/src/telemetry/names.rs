//! The bounded set of operation names a metric or span may carry: the
//! commands redwire knows, each once, and one label for everything else.
//!
//! A command's name is the only per-command label (never a key or an
//! argument), and a name outside this table is folded into
//! [`OTHER`](super::OTHER), so that a caller sending made-up or module
//! commands cannot grow the number of series without end. Container
//! commands count under their own name (`CONFIG`, `CLIENT`, `XINFO`), not
//! per subcommand. A name is found through a hash table the compiler
//! builds, in any case.

/// The commands, sorted (a unit test keeps them so).
pub(crate) const NAMES: &[&str] = &[
    "ACL",
    "APPEND",
    "ASKING",
    "AUTH",
    "BGREWRITEAOF",
    "BGSAVE",
    "BITCOUNT",
    "BITFIELD",
    "BITFIELD_RO",
    "BITOP",
    "BITPOS",
    "BLMOVE",
    "BLMPOP",
    "BLPOP",
    "BRPOP",
    "BRPOPLPUSH",
    "BZMPOP",
    "BZPOPMAX",
    "BZPOPMIN",
    "CLIENT",
    "CLUSTER",
    "COMMAND",
    "CONFIG",
    "COPY",
    "DBSIZE",
    "DEBUG",
    "DECR",
    "DECRBY",
    "DEL",
    "DISCARD",
    "DUMP",
    "ECHO",
    "EVAL",
    "EVALSHA",
    "EVALSHA_RO",
    "EVAL_RO",
    "EXEC",
    "EXISTS",
    "EXPIRE",
    "EXPIREAT",
    "EXPIRETIME",
    "FAILOVER",
    "FCALL",
    "FCALL_RO",
    "FLUSHALL",
    "FLUSHDB",
    "FUNCTION",
    "GEOADD",
    "GEODIST",
    "GEOHASH",
    "GEOPOS",
    "GEORADIUS",
    "GEORADIUSBYMEMBER",
    "GEORADIUSBYMEMBER_RO",
    "GEORADIUS_RO",
    "GEOSEARCH",
    "GEOSEARCHSTORE",
    "GET",
    "GETBIT",
    "GETDEL",
    "GETEX",
    "GETRANGE",
    "GETSET",
    "HDEL",
    "HELLO",
    "HEXISTS",
    "HEXPIRE",
    "HEXPIREAT",
    "HEXPIRETIME",
    "HGET",
    "HGETALL",
    "HGETDEL",
    "HGETEX",
    "HINCRBY",
    "HINCRBYFLOAT",
    "HKEYS",
    "HLEN",
    "HMGET",
    "HMSET",
    "HPERSIST",
    "HPEXPIRE",
    "HPEXPIREAT",
    "HPEXPIRETIME",
    "HPTTL",
    "HRANDFIELD",
    "HSCAN",
    "HSET",
    "HSETEX",
    "HSETNX",
    "HSTRLEN",
    "HTTL",
    "HVALS",
    "INCR",
    "INCRBY",
    "INCRBYFLOAT",
    "INFO",
    "KEYS",
    "LASTSAVE",
    "LATENCY",
    "LCS",
    "LINDEX",
    "LINSERT",
    "LLEN",
    "LMOVE",
    "LMPOP",
    "LOLWUT",
    "LPOP",
    "LPOS",
    "LPUSH",
    "LPUSHX",
    "LRANGE",
    "LREM",
    "LSET",
    "LTRIM",
    "MEMORY",
    "MGET",
    "MIGRATE",
    "MODULE",
    "MONITOR",
    "MOVE",
    "MSET",
    "MSETNX",
    "MULTI",
    "OBJECT",
    "PERSIST",
    "PEXPIRE",
    "PEXPIREAT",
    "PEXPIRETIME",
    "PFADD",
    "PFCOUNT",
    "PFDEBUG",
    "PFMERGE",
    "PFSELFTEST",
    "PING",
    "PSETEX",
    "PSUBSCRIBE",
    "PSYNC",
    "PTTL",
    "PUBLISH",
    "PUBSUB",
    "PUNSUBSCRIBE",
    "QUIT",
    "RANDOMKEY",
    "READONLY",
    "READWRITE",
    "RENAME",
    "RENAMENX",
    "REPLCONF",
    "REPLICAOF",
    "RESET",
    "RESTORE",
    "ROLE",
    "RPOP",
    "RPOPLPUSH",
    "RPUSH",
    "RPUSHX",
    "SADD",
    "SAVE",
    "SCAN",
    "SCARD",
    "SCRIPT",
    "SDIFF",
    "SDIFFSTORE",
    "SELECT",
    "SET",
    "SETBIT",
    "SETEX",
    "SETNX",
    "SETRANGE",
    "SHUTDOWN",
    "SINTER",
    "SINTERCARD",
    "SINTERSTORE",
    "SISMEMBER",
    "SLAVEOF",
    "SLOWLOG",
    "SMEMBERS",
    "SMISMEMBER",
    "SMOVE",
    "SORT",
    "SORT_RO",
    "SPOP",
    "SPUBLISH",
    "SRANDMEMBER",
    "SREM",
    "SSCAN",
    "SSUBSCRIBE",
    "STRLEN",
    "SUBSCRIBE",
    "SUBSTR",
    "SUNION",
    "SUNIONSTORE",
    "SUNSUBSCRIBE",
    "SWAPDB",
    "SYNC",
    "TIME",
    "TOUCH",
    "TTL",
    "TYPE",
    "UNLINK",
    "UNSUBSCRIBE",
    "UNWATCH",
    "VADD",
    "VCARD",
    "VDIM",
    "VEMB",
    "VGETATTR",
    "VINFO",
    "VLINKS",
    "VRANDMEMBER",
    "VREM",
    "VSETATTR",
    "VSIM",
    "WAIT",
    "WAITAOF",
    "WATCH",
    "XACK",
    "XACKDEL",
    "XADD",
    "XAUTOCLAIM",
    "XCLAIM",
    "XDEL",
    "XDELEX",
    "XGROUP",
    "XINFO",
    "XLEN",
    "XPENDING",
    "XRANGE",
    "XREAD",
    "XREADGROUP",
    "XREVRANGE",
    "XSETID",
    "XTRIM",
    "ZADD",
    "ZCARD",
    "ZCOUNT",
    "ZDIFF",
    "ZDIFFSTORE",
    "ZINCRBY",
    "ZINTER",
    "ZINTERCARD",
    "ZINTERSTORE",
    "ZLEXCOUNT",
    "ZMPOP",
    "ZMSCORE",
    "ZPOPMAX",
    "ZPOPMIN",
    "ZRANDMEMBER",
    "ZRANGE",
    "ZRANGEBYLEX",
    "ZRANGEBYSCORE",
    "ZRANGESTORE",
    "ZRANK",
    "ZREM",
    "ZREMRANGEBYLEX",
    "ZREMRANGEBYRANK",
    "ZREMRANGEBYSCORE",
    "ZREVRANGE",
    "ZREVRANGEBYLEX",
    "ZREVRANGEBYSCORE",
    "ZREVRANK",
    "ZSCAN",
    "ZSCORE",
    "ZUNION",
    "ZUNIONSTORE",
];

/// The index of [`OTHER`](super::OTHER): past the named commands.
pub(crate) const OTHER_INDEX: u16 = NAMES.len() as u16;
/// The index of a pipeline (`PIPELINE`).
pub(crate) const PIPELINE_INDEX: u16 = OTHER_INDEX + 1;
/// The index of a transaction sent as one atomic pipeline (`MULTI`).
pub(crate) const TRANSACTION_INDEX: u16 = OTHER_INDEX + 2;
/// How many indices there are: the size of a table with one entry per label.
#[cfg_attr(not(feature = "metrics"), allow(dead_code))]
pub(crate) const LABELS: usize = NAMES.len() + 3;

/// Slots of the hash table: a power of two, about four per name, so that
/// a probe rarely goes past its first slot.
const SLOTS: usize = 1024;

/// The hash of a name, the same for any case of its letters (FNV-1a over
/// the bytes with bit 5 cleared: `a` and `A` hash alike; other bytes may
/// collide, which the comparison after the probe settles).
const fn hash(name: &[u8]) -> usize {
    let mut h: u32 = 0x811c_9dc5;
    let mut i = 0;
    while i < name.len() {
        h = (h ^ (name[i] & 0xDF) as u32).wrapping_mul(0x0100_0193);
        i += 1;
    }
    h as usize
}

/// Open addressing: each slot holds a name's index plus one, 0 when empty.
/// Built by the compiler.
const TABLE: [u16; SLOTS] = {
    let mut table = [0u16; SLOTS];
    let mut i = 0;
    while i < NAMES.len() {
        let mut slot = hash(NAMES[i].as_bytes()) & (SLOTS - 1);
        while table[slot] != 0 {
            slot = (slot + 1) & (SLOTS - 1);
        }
        table[slot] = i as u16 + 1;
        i += 1;
    }
    table
};

/// The index of `name` (any case) in the table, or [`OTHER_INDEX`]: one
/// hash over its bytes, usually one probe and one comparison (a binary
/// search cost some 300 instructions per request in `memcmp` calls).
#[inline]
pub(crate) fn index(name: &[u8]) -> u16 {
    let mut slot = hash(name) & (SLOTS - 1);
    loop {
        match TABLE[slot] {
            0 => return OTHER_INDEX,
            entry => {
                let i = entry - 1;
                if NAMES[i as usize].as_bytes().eq_ignore_ascii_case(name) {
                    return i;
                }
            }
        }
        slot = (slot + 1) & (SLOTS - 1);
    }
}

/// The label of an index.
pub(crate) fn label(index: u16) -> &'static str {
    match index {
        OTHER_INDEX => super::OTHER,
        PIPELINE_INDEX => super::PIPELINE,
        TRANSACTION_INDEX => super::TRANSACTION,
        i => NAMES.get(i as usize).copied().unwrap_or(super::OTHER),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_is_sorted_and_unique_so_binary_search_finds_every_name() {
        assert!(NAMES.windows(2).all(|w| w[0] < w[1]));
        for (i, name) in NAMES.iter().enumerate() {
            assert_eq!(index(name.as_bytes()), i as u16);
        }
    }

    #[test]
    fn any_case_is_found_and_an_unknown_name_is_folded_into_other() {
        assert_eq!(label(index(b"get")), "GET");
        assert_eq!(label(index(b"HgetAll")), "HGETALL");
        assert_eq!(label(index(b"MY.MODULE.CMD")), "other");
        assert_eq!(label(index(b"")), "other");
        assert_eq!(label(index(&[b'a'; 100])), "other");
        assert_eq!(label(PIPELINE_INDEX), "PIPELINE");
    }
}
