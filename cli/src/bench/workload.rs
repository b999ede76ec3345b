//! The tests a bench can run and the command each sends: the names and shapes
//! of redis-benchmark's tests (`key:000000001234` keys drawn from the keyspace,
//! values of `x`), so that the two tools can be run on the same workload.

use redwire::{cmd, Cmd};
use std::fmt;
use std::str::FromStr;

/// One kind of request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Test {
    Ping,
    Set,
    Get,
    Incr,
    Lpush,
    Rpush,
    Lpop,
    Rpop,
    Sadd,
    Hset,
    Spop,
    Zadd,
    Mset,
}

const ALL: [(&str, Test); 13] = [
    ("ping", Test::Ping),
    ("set", Test::Set),
    ("get", Test::Get),
    ("incr", Test::Incr),
    ("lpush", Test::Lpush),
    ("rpush", Test::Rpush),
    ("lpop", Test::Lpop),
    ("rpop", Test::Rpop),
    ("sadd", Test::Sadd),
    ("hset", Test::Hset),
    ("spop", Test::Spop),
    ("zadd", Test::Zadd),
    ("mset", Test::Mset),
];

impl FromStr for Test {
    type Err = String;
    fn from_str(s: &str) -> Result<Test, String> {
        ALL.iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(s.trim()))
            .map(|(_, t)| *t)
            .ok_or_else(|| {
                let names: Vec<&str> = ALL.iter().map(|(n, _)| *n).collect();
                format!("unknown test {s:?}; known: {}", names.join(","))
            })
    }
}

impl fmt::Display for Test {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = ALL.iter().find(|(_, t)| t == self).map_or("?", |(n, _)| n);
        f.write_str(&name.to_ascii_uppercase())
    }
}

/// What every request of a run shares: the value and the keyspace. The
/// value is one `Bytes`, which a command shares rather than copies from
/// 4 KiB up, as redis-benchmark writes one buffer again and again.
pub struct Workload {
    pub value: bytes::Bytes,
    pub keyspace: u64,
}

impl Workload {
    pub fn new(data_size: usize, keyspace: u64) -> Workload {
        Workload {
            value: bytes::Bytes::from(vec![b'x'; data_size]),
            keyspace: keyspace.max(1),
        }
    }

    fn key(&self, prefix: &str, rng: &mut fastrand::Rng) -> String {
        format!("{prefix}{:012}", rng.u64(0..self.keyspace))
    }

    /// The next command of `test`.
    pub fn command(&self, test: Test, rng: &mut fastrand::Rng) -> Cmd {
        let v = &self.value;
        match test {
            Test::Ping => cmd("PING"),
            Test::Set => cmd("SET").arg(self.key("key:", rng)).arg(v),
            Test::Get => cmd("GET").arg(self.key("key:", rng)),
            Test::Incr => cmd("INCR").arg(self.key("counter:", rng)),
            Test::Lpush => cmd("LPUSH").arg("mylist").arg(v),
            Test::Rpush => cmd("RPUSH").arg("mylist").arg(v),
            Test::Lpop => cmd("LPOP").arg("mylist"),
            Test::Rpop => cmd("RPOP").arg("mylist"),
            Test::Sadd => cmd("SADD").arg("myset").arg(self.key("element:", rng)),
            Test::Hset => cmd("HSET")
                .arg("myhash")
                .arg(self.key("element:", rng))
                .arg(v),
            Test::Spop => cmd("SPOP").arg("myset"),
            Test::Zadd => cmd("ZADD")
                .arg("myzset")
                .arg(rng.u64(0..self.keyspace))
                .arg(self.key("element:", rng)),
            Test::Mset => {
                let mut c = cmd("MSET");
                for _ in 0..10 {
                    c.push_arg(self.key("key:", rng)).push_arg(v);
                }
                c
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_commands_have_their_shape() {
        for (name, test) in ALL {
            assert_eq!(name.parse::<Test>().unwrap(), test);
            assert_eq!(test.to_string(), name.to_ascii_uppercase());
        }
        assert!("nope".parse::<Test>().is_err());
        let w = Workload::new(16, 10);
        let mut rng = fastrand::Rng::with_seed(1);
        let set = w.command(Test::Set, &mut rng);
        let args: Vec<&[u8]> = set.args_iter().collect();
        assert_eq!(args[0], b"SET");
        assert!(args[1].starts_with(b"key:00000000000"));
        assert_eq!(args[2], &[b'x'; 16][..]);
        assert_eq!(w.command(Test::Mset, &mut rng).arg_count(), 21);
    }
}
