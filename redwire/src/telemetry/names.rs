//! The bounded set of operation names a metric or span may carry: the
//! commands redwire knows, each once, and one label for everything else.
//!
//! A command's name is the only per-command label (never a key or an
//! argument), and a name outside this table is folded into
//! [`OTHER`](super::OTHER), so that a caller sending made-up or module
//! commands cannot grow the number of series without end. Container
//! commands count under their own name (`CONFIG`, `CLIENT`, `XINFO`), not
//! per subcommand. The table is sorted, so a name is found by binary search;
//! a lower-case name is upper-cased on the stack first.

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

/// The index of `name` (any case) in the table, or [`OTHER_INDEX`].
#[inline]
pub(crate) fn index(name: &[u8]) -> u16 {
    if let Ok(i) = NAMES.binary_search_by(|probe| probe.as_bytes().cmp(name)) {
        return i as u16;
    }
    let mut upper = [0u8; 24];
    if name.len() > upper.len() || !name.iter().any(u8::is_ascii_lowercase) {
        return OTHER_INDEX;
    }
    let upper = &mut upper[..name.len()];
    upper.copy_from_slice(name);
    upper.make_ascii_uppercase();
    match NAMES.binary_search_by(|probe| probe.as_bytes().cmp(upper)) {
        Ok(i) => i as u16,
        Err(_) => OTHER_INDEX,
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
