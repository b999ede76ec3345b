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
//!
//! A second list says which commands change no key at all (every command
//! of the table, and `PING`, `ECHO`, `INFO`, `TTL`, `SCAN`, `PUBLISH`, the
//! read-only scripts…): their replies do not make the cache *settle* (see
//! "One's own writes" in the module doc of `cache`). Anything not listed
//! counts as a write, which is the safe mistake.

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
    // The common read, without the table's copy.
    if name.eq_ignore_ascii_case(b"GET") {
        return Cacheable::One;
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
        | b"XREVRANGE" | b"XLEN" | b"GEOPOS" | b"GEODIST" | b"GEOHASH" | b"TYPE" => Cacheable::One,
        b"EXISTS" if argc == 2 => Cacheable::One,
        b"MGET" => Cacheable::Keys,
        _ => Cacheable::No,
    }
}

/// The command that `head` (a request's first bytes) starts with changes
/// no key: the server sends no invalidation because of it.
pub(crate) fn writes_nothing(head: &[u8]) -> bool {
    let Some(name) = first_name(head) else {
        return false;
    };
    if cacheable(name, 2) != Cacheable::No {
        return true;
    }
    if name.len() > 24 {
        return false;
    }
    let mut upper = [0u8; 24];
    let upper = &mut upper[..name.len()];
    upper.copy_from_slice(name);
    upper.make_ascii_uppercase();
    matches!(
        &*upper,
        b"PING"
            | b"ECHO"
            | b"TIME"
            | b"INFO"
            | b"DBSIZE"
            | b"LASTSAVE"
            | b"TTL"
            | b"PTTL"
            | b"EXPIRETIME"
            | b"PEXPIRETIME"
            | b"EXISTS"
            | b"SCAN"
            | b"HSCAN"
            | b"SSCAN"
            | b"ZSCAN"
            | b"RANDOMKEY"
            | b"SRANDMEMBER"
            | b"HRANDFIELD"
            | b"ZRANDMEMBER"
            | b"OBJECT"
            | b"LCS"
            | b"SINTER"
            | b"SUNION"
            | b"SDIFF"
            | b"SINTERCARD"
            | b"ZINTER"
            | b"ZUNION"
            | b"ZDIFF"
            | b"ZINTERCARD"
            | b"GEOSEARCH"
            | b"GEORADIUS_RO"
            | b"GEORADIUSBYMEMBER_RO"
            | b"XREAD"
            | b"XINFO"
            | b"XPENDING"
            | b"PUBLISH"
            | b"SPUBLISH"
            | b"EVAL_RO"
            | b"EVALSHA_RO"
            | b"FCALL_RO"
            | b"SORT_RO"
    )
}

/// The name at the start of an encoded command (`*n\r\n$len\r\nNAME`).
fn first_name(head: &[u8]) -> Option<&[u8]> {
    let rest = head.strip_prefix(b"*")?;
    let rest = &rest[rest.iter().position(|&b| b == b'\n')? + 1..];
    next_arg(rest).map(|(name, _)| name)
}

/// The first of encoded arguments (`$len\r\nBYTES\r\n…`) and what
/// follows it.
#[inline]
pub(crate) fn next_arg(args: &[u8]) -> Option<(&[u8], &[u8])> {
    let rest = args.strip_prefix(b"$")?;
    let mut len = 0usize;
    let mut digits = 0;
    for &b in rest {
        if !b.is_ascii_digit() {
            break;
        }
        len = len.checked_mul(10)?.checked_add(usize::from(b - b'0'))?;
        digits += 1;
    }
    let start = digits + 2;
    if digits == 0 || rest.get(digits..start)? != b"\r\n" {
        return None;
    }
    let arg = rest.get(start..start.checked_add(len)?)?;
    Some((arg, rest.get(start + len + 2..).unwrap_or_default()))
}

/// A typed read of one key, or of one member of it (`GET k`, `HGET k f`),
/// by its parts: what a hit is matched against without building the
/// command.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Read<'a> {
    pub(crate) name: &'a [u8],
    pub(crate) key: &'a [u8],
    pub(crate) member: Option<&'a [u8]>,
}

/// Whether `body` (a command's, as `Cmd::body` encodes it) is `read` and
/// nothing else.
#[inline]
pub(crate) fn is_read(body: &[u8], read: Read<'_>) -> bool {
    let Some((first, rest)) = next_arg(body) else {
        return false;
    };
    let Some((second, rest)) = next_arg(rest).filter(|_| first == read.name) else {
        return false;
    };
    if second != read.key {
        return false;
    }
    match read.member {
        None => rest.is_empty(),
        Some(member) => {
            matches!(next_arg(rest), Some((third, tail)) if third == member && tail.is_empty())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A read of one key is recognised in the body the typed API builds,
    /// for keys of every length, and nothing else is.
    #[test]
    fn a_read_of_one_key_is_recognised_in_its_body() {
        let read = |name: &'static str, key: &'static [u8], member| Read {
            name: name.as_bytes(),
            key,
            member,
        };
        for len in [0, 1, 9, 10, 99, 100, 1000] {
            let key: &'static [u8] = Vec::leak(vec![b'k'; len]);
            for name in ["GET", "HGETALL", "BITCOUNT"] {
                let body = crate::cmd::cmd(name).arg(key);
                assert!(is_read(body.body(), read(name, key, None)), "{name} {len}");
                assert!(!is_read(body.body(), read("STRLEN", key, None)));
                assert!(!is_read(body.body(), read(name, b"other", None)));
                assert!(
                    !is_read(body.body(), read(name, key, Some(b"x"))),
                    "a member less"
                );
                let more = crate::cmd::cmd(name).arg(key).arg("x");
                assert!(
                    !is_read(more.body(), read(name, key, None)),
                    "an argument more"
                );
                assert!(
                    is_read(more.body(), read(name, key, Some(b"x"))),
                    "{name} {len} x"
                );
                assert!(
                    !is_read(more.body(), read(name, key, Some(b"y"))),
                    "another member"
                );
                let three = crate::cmd::cmd(name).arg(key).arg("x").arg("y");
                assert!(
                    !is_read(three.body(), read(name, key, Some(b"x"))),
                    "one more"
                );
                let lower = crate::cmd::cmd(&name.to_lowercase()).arg(key);
                assert!(!is_read(lower.body(), read(name, key, None)), "as sent");
            }
        }
    }

    #[test]
    fn reads_of_one_key_are_kept_and_nothing_else() {
        assert_eq!(cacheable(b"get", 2), Cacheable::One);
        assert_eq!(
            cacheable(b"ZREVRANGEBYSCORE", 4),
            Cacheable::One,
            "16 letters"
        );
        assert_eq!(cacheable(b"ZREVRANGEBYSCOREX", 4), Cacheable::No);
        assert_eq!(cacheable(b"HgetAll", 2), Cacheable::One);
        assert_eq!(cacheable(b"EXISTS", 2), Cacheable::One);
        assert_eq!(cacheable(b"EXISTS", 3), Cacheable::No, "two keys");
        assert_eq!(cacheable(b"MGET", 4), Cacheable::Keys);
        assert_eq!(cacheable(b"GET", 1), Cacheable::No, "no key");
        for name in [
            "SET",
            "GETEX",
            "GETDEL",
            "HGETEX",
            "PFCOUNT",
            "TTL",
            "PTTL",
            "SRANDMEMBER",
            "RANDOMKEY",
            "SCAN",
            "HSCAN",
            "SINTER",
            "LCS",
            "SORT_RO",
            "BLPOP",
            "OBJECT",
            "A-NAME-LONGER-THAN-SIXTEEN",
        ] {
            assert_eq!(cacheable(name.as_bytes(), 3), Cacheable::No, "{name}");
        }
    }

    #[test]
    fn reads_and_pings_write_nothing_and_the_rest_counts_as_a_write() {
        let encoded = |args: &[&str]| crate::cmd::Cmd::new().arg(args).to_bytes();
        assert!(writes_nothing(&encoded(&["PING"])));
        assert!(writes_nothing(&encoded(&["get", "k"])));
        assert!(writes_nothing(&encoded(&["TTL", "k"])));
        assert!(!writes_nothing(&encoded(&["SET", "k", "v"])));
        assert!(!writes_nothing(&encoded(&["INCR", "k"])));
        assert!(!writes_nothing(&encoded(&["FLUSHALL"])));
        assert!(!writes_nothing(b"*1\r\n$4\r\nPI"), "cut short");
        assert!(!writes_nothing(b"garbage"));
        let long = "X".repeat(40);
        assert!(!writes_nothing(&encoded(&[&long])), "a long unknown name");
        let longest = "CLIENT_NO_EVICT_ANYTHING"; // 24 letters, not a read
        assert!(!writes_nothing(&encoded(&[longest])));
    }

    #[test]
    fn encoded_arguments_are_read_one_by_one() {
        let c = crate::cmd::Cmd::new().arg(["GET", "key", ""]);
        let (name, rest) = next_arg(c.body()).unwrap();
        let (key, rest) = next_arg(rest).unwrap();
        let (empty, rest) = next_arg(rest).unwrap();
        assert_eq!(
            (name, key, empty, rest),
            (&b"GET"[..], &b"key"[..], &b""[..], &b""[..])
        );
        assert_eq!(next_arg(b"$3\r\nGE"), None, "cut short");
        assert_eq!(next_arg(b"$\r\n"), None);
        assert_eq!(next_arg(b"$99999999999999999999999\r\n"), None);
        assert_eq!(next_arg(b"*1\r\n"), None);
    }
}
