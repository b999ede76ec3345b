//! The model Redis server, sans-IO: a store and a per-connection session that
//! turn one command (its arguments) into one reply frame, and the RESP2 form
//! of a reply. No sockets, no time: the world feeds it decoded commands.
//!
//! It knows what the workloads and the client's handshake send: `HELLO`
//! (RESP2 and RESP3, or refused as an old server would), `AUTH`, `CLIENT
//! SETNAME/SETINFO/ID`, `SELECT`, `PING`, `ECHO`, `QUIT`; strings (`GET`,
//! `SET` with `GET`/`NX`/`XX`, `DEL`, `EXISTS`), counters (`INCR`, `INCRBY`),
//! lists (`LPUSH`, `RPUSH`, `LPOP`, `LLEN`; `BLPOP`'s pop, whose blocking
//! the world does: [`Store::pop_first`]) and `MULTI`/`EXEC`/`DISCARD`/
//! `WATCH`/`UNWATCH`. What an `EXEC` ran is kept in its session
//! ([`Session::ran`]) for the world's log. One command is the simulator's
//! own: `SIM.WATCHING` answers how many keys the connection watches, which
//! a pool must have cleared before it hands a connection out again.
//!
//! **A counter's base.** A missing key `c:<n>` counts from `(n + 1) * 10^9`, not
//! from 0, so an `INCR` reply names the caller whose counter it is and the
//! oracle can tell one caller's reply handed to another (a real server would
//! start at 0; the difference is the point of a model).

use bytes::{BufMut, Bytes, BytesMut};
use redwire_resp::Frame;
use std::collections::{BTreeMap, VecDeque};

/// How far apart the callers' counters start (see the module doc).
pub const COUNTER_BASE: i64 = 1_000_000_000;

#[derive(Debug, Clone)]
enum Entry {
    Str(Bytes),
    List(VecDeque<Bytes>),
}

/// The server's data: lost on a restart.
#[derive(Debug, Default)]
pub struct Store {
    data: BTreeMap<Bytes, Entry>,
    /// Bumped on every write of a key, for `WATCH`.
    versions: BTreeMap<Bytes, u64>,
    next_version: u64,
}

/// One connection's state on the server.
#[derive(Debug)]
pub struct Session {
    /// 2 or 3.
    pub resp: u8,
    /// Commands queued after `MULTI`.
    multi: Option<Vec<Vec<Bytes>>>,
    /// A queued command was refused: `EXEC` aborts.
    multi_failed: bool,
    watched: Vec<(Bytes, u64)>,
    /// The server closes the connection after this reply (`QUIT`).
    pub quit: bool,
    /// The commands the last `EXEC` ran and their replies, in order, until
    /// the world takes them for its log.
    pub ran: Vec<(Vec<Bytes>, Frame)>,
    id: i64,
}

/// Whether the server answers `HELLO` (RESP3) or is an old RESP2-only one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// Redis 6 and later.
    Hello,
    /// An old server: `HELLO` is an unknown command.
    Resp2Only,
}

fn err(msg: &str) -> Frame {
    Frame::Error(Bytes::copy_from_slice(msg.as_bytes()))
}

fn ok() -> Frame {
    Frame::Simple(Bytes::from_static(b"OK"))
}

fn upper(arg: &[u8]) -> Vec<u8> {
    arg.to_ascii_uppercase()
}

fn int(arg: &[u8]) -> Option<i64> {
    std::str::from_utf8(arg).ok()?.parse().ok()
}

impl Session {
    /// A fresh connection speaking RESP2 until `HELLO 3`.
    pub fn new(id: i64) -> Session {
        Session {
            resp: 2,
            multi: None,
            multi_failed: false,
            watched: Vec::new(),
            quit: false,
            ran: Vec::new(),
            id,
        }
    }

    /// Inside `MULTI`: commands are queued, not run.
    pub fn in_multi(&self) -> bool {
        self.multi.is_some()
    }
}

/// Whether a command writes data (the oracle's log keeps those).
pub fn is_write(name: &[u8]) -> bool {
    matches!(
        name,
        b"SET" | b"INCR" | b"INCRBY" | b"DEL" | b"LPUSH" | b"RPUSH" | b"LPOP" | b"EXEC"
    )
}

impl Store {
    fn touch(&mut self, key: &Bytes) {
        self.next_version += 1;
        self.versions.insert(key.clone(), self.next_version);
    }

    fn version(&self, key: &[u8]) -> u64 {
        self.versions.get(key).copied().unwrap_or(0)
    }

    /// `BLPOP`'s pop: the first of `keys` holding a non-empty list loses its
    /// head, answered `[key, value]`; `None` when all are empty (the caller
    /// blocks), or a `WRONGTYPE` error.
    pub fn pop_first(&mut self, keys: &[Bytes]) -> Option<Frame> {
        for key in keys {
            match self.data.get_mut(key) {
                None => continue,
                Some(Entry::Str(_)) => return Some(wrongtype()),
                Some(Entry::List(list)) => {
                    let v = list.pop_front()?;
                    if list.is_empty() {
                        self.data.remove(key);
                    }
                    self.touch(key);
                    return Some(Frame::Array(vec![Frame::Bulk(key.clone()), Frame::Bulk(v)]));
                }
            }
        }
        None
    }

    /// The list at `key` now (empty if none), for the oracle's final look.
    pub fn list(&self, key: &[u8]) -> Vec<Bytes> {
        match self.data.get(key) {
            Some(Entry::List(l)) => l.iter().cloned().collect(),
            _ => Vec::new(),
        }
    }

    /// Whether `key` holds anything (a cluster node asks before it
    /// redirects a key of a migrating slot).
    pub fn contains(&self, key: &[u8]) -> bool {
        self.data.contains_key(key)
    }

    /// Every key, in order.
    pub fn keys(&self) -> impl Iterator<Item = &Bytes> {
        self.data.keys()
    }

    /// Drops every key `lose` says (a cluster node's restart loses the keys
    /// it held).
    pub fn lose(&mut self, mut lose: impl FnMut(&Bytes) -> bool) -> usize {
        let before = self.data.len();
        self.data.retain(|k, _| !lose(k));
        before - self.data.len()
    }

    /// The string at `key`, for the oracle's final look.
    pub fn get(&self, key: &[u8]) -> Option<Bytes> {
        match self.data.get(key) {
            Some(Entry::Str(v)) => Some(v.clone()),
            _ => None,
        }
    }

    /// Runs one command of a session; the reply in RESP3 terms (see
    /// [`encode`] for RESP2).
    pub fn execute(&mut self, session: &mut Session, dialect: Dialect, args: &[Bytes]) -> Frame {
        let Some(first) = args.first() else {
            return err("ERR empty command");
        };
        let name = upper(first);
        if let Some(queued) = &mut session.multi {
            match &name[..] {
                b"EXEC" | b"DISCARD" | b"MULTI" | b"WATCH" => {}
                _ if !known(&name) => {
                    session.multi_failed = true;
                    return err("ERR unknown command");
                }
                _ => {
                    queued.push(args.to_vec());
                    return Frame::Simple(Bytes::from_static(b"QUEUED"));
                }
            }
        }
        match &name[..] {
            b"MULTI" => {
                if session.multi.is_some() {
                    return err("ERR MULTI calls can not be nested");
                }
                session.multi = Some(Vec::new());
                session.multi_failed = false;
                ok()
            }
            b"DISCARD" => match session.multi.take() {
                None => err("ERR DISCARD without MULTI"),
                Some(_) => {
                    session.watched.clear();
                    ok()
                }
            },
            b"EXEC" => {
                let Some(queued) = session.multi.take() else {
                    return err("ERR EXEC without MULTI");
                };
                let watched = std::mem::take(&mut session.watched);
                if session.multi_failed {
                    return err("EXECABORT Transaction discarded because of previous errors.");
                }
                if watched.iter().any(|(k, v)| self.version(k) != *v) {
                    return Frame::Null;
                }
                Frame::Array(
                    queued
                        .iter()
                        .map(|cmd| {
                            let reply = self.execute(session, dialect, cmd);
                            session.ran.push((cmd.clone(), reply.clone()));
                            reply
                        })
                        .collect(),
                )
            }
            b"WATCH" => {
                if session.multi.is_some() {
                    return err("ERR WATCH inside MULTI is not allowed");
                }
                for key in &args[1..] {
                    let v = self.version(key);
                    session.watched.push((key.clone(), v));
                }
                ok()
            }
            b"UNWATCH" => {
                session.watched.clear();
                ok()
            }
            _ => self.simple(session, dialect, &name, args),
        }
    }

    fn simple(
        &mut self,
        session: &mut Session,
        dialect: Dialect,
        name: &[u8],
        args: &[Bytes],
    ) -> Frame {
        let arity = |n: usize| args.len() >= n;
        match name {
            b"HELLO" if dialect == Dialect::Resp2Only => {
                err("ERR unknown command 'HELLO', with args beginning with: ")
            }
            b"HELLO" => {
                let ver = args.get(1).and_then(|a| int(a)).unwrap_or(2);
                if ver != 2 && ver != 3 {
                    return err("NOPROTO unsupported protocol version");
                }
                session.resp = ver as u8;
                let s = |x: &'static str| Frame::Bulk(Bytes::from_static(x.as_bytes()));
                Frame::Map(vec![
                    (s("server"), s("redis")),
                    (s("version"), s("7.0.0")),
                    (s("proto"), Frame::Integer(ver)),
                    (s("id"), Frame::Integer(session.id)),
                    (s("mode"), s("standalone")),
                    (s("role"), s("master")),
                    (s("modules"), Frame::Array(Vec::new())),
                ])
            }
            b"AUTH" | b"SELECT" => ok(),
            b"CLIENT" => match args.get(1).map(|a| upper(a)).as_deref() {
                Some(b"ID") => Frame::Integer(session.id),
                Some(b"SETNAME") | Some(b"SETINFO") => ok(),
                _ => err("ERR unknown CLIENT subcommand"),
            },
            b"PING" => match args.get(1) {
                Some(msg) => Frame::Bulk(msg.clone()),
                None => Frame::Simple(Bytes::from_static(b"PONG")),
            },
            b"ECHO" if arity(2) => Frame::Bulk(args[1].clone()),
            b"SIM.WATCHING" => Frame::Integer(session.watched.len() as i64),
            b"QUIT" => {
                session.quit = true;
                ok()
            }
            b"GET" if arity(2) => match self.data.get(&args[1]) {
                None => Frame::Null,
                Some(Entry::Str(v)) => Frame::Bulk(v.clone()),
                Some(_) => wrongtype(),
            },
            b"EXISTS" => Frame::Integer(
                args[1..]
                    .iter()
                    .filter(|k| self.data.contains_key(*k))
                    .count() as i64,
            ),
            b"SET" if arity(3) => {
                let (mut nx, mut xx, mut get) = (false, false, false);
                for opt in &args[3..] {
                    match &upper(opt)[..] {
                        b"NX" => nx = true,
                        b"XX" => xx = true,
                        b"GET" => get = true,
                        _ => return err("ERR syntax error"),
                    }
                }
                let old = match self.data.get(&args[1]) {
                    None => None,
                    Some(Entry::Str(v)) => Some(v.clone()),
                    Some(_) if get => return wrongtype(),
                    Some(_) => None,
                };
                let exists = self.data.contains_key(&args[1]);
                let write = !(nx && exists || xx && !exists);
                if write {
                    self.data
                        .insert(args[1].clone(), Entry::Str(args[2].clone()));
                    self.touch(&args[1]);
                }
                match (get, write) {
                    (true, _) => old.map_or(Frame::Null, Frame::Bulk),
                    (false, true) => ok(),
                    (false, false) => Frame::Null,
                }
            }
            b"INCR" | b"INCRBY" if arity(2) => {
                let by = if name == b"INCR" {
                    1
                } else {
                    match args.get(2).and_then(|a| int(a)) {
                        Some(n) => n,
                        None => return err("ERR value is not an integer or out of range"),
                    }
                };
                let current = match self.data.get(&args[1]) {
                    None => base(&args[1]),
                    Some(Entry::Str(v)) => match int(v) {
                        Some(n) => n,
                        None => return err("ERR value is not an integer or out of range"),
                    },
                    Some(_) => return wrongtype(),
                };
                let Some(next) = current.checked_add(by) else {
                    return err("ERR increment or decrement would overflow");
                };
                self.data
                    .insert(args[1].clone(), Entry::Str(next.to_string().into()));
                self.touch(&args[1]);
                Frame::Integer(next)
            }
            b"DEL" => {
                let mut n = 0;
                for key in &args[1..] {
                    if self.data.remove(key).is_some() {
                        self.touch(key);
                        n += 1;
                    }
                }
                Frame::Integer(n)
            }
            b"LPUSH" | b"RPUSH" if arity(3) => {
                let entry = self
                    .data
                    .entry(args[1].clone())
                    .or_insert_with(|| Entry::List(VecDeque::new()));
                let Entry::List(list) = entry else {
                    return wrongtype();
                };
                for v in &args[2..] {
                    if name == b"LPUSH" {
                        list.push_front(v.clone());
                    } else {
                        list.push_back(v.clone());
                    }
                }
                let n = list.len() as i64;
                self.touch(&args[1]);
                Frame::Integer(n)
            }
            b"LPOP" if arity(2) => {
                let Some(entry) = self.data.get_mut(&args[1]) else {
                    return Frame::Null;
                };
                let Entry::List(list) = entry else {
                    return wrongtype();
                };
                let v = list.pop_front();
                if list.is_empty() {
                    self.data.remove(&args[1]);
                }
                self.touch(&args[1]);
                v.map_or(Frame::Null, Frame::Bulk)
            }
            // Outside `MULTI` the world blocks it; inside, it does not block.
            b"BLPOP" if arity(3) => self
                .pop_first(&args[1..args.len() - 1])
                .unwrap_or(Frame::Null),
            b"LLEN" if arity(2) => match self.data.get(&args[1]) {
                None => Frame::Integer(0),
                Some(Entry::List(l)) => Frame::Integer(l.len() as i64),
                Some(_) => wrongtype(),
            },
            _ if known(name) => err("ERR wrong number of arguments"),
            _ => err("ERR unknown command"),
        }
    }
}

fn known(name: &[u8]) -> bool {
    matches!(
        name,
        b"HELLO"
            | b"AUTH"
            | b"SELECT"
            | b"CLIENT"
            | b"PING"
            | b"ECHO"
            | b"SIM.WATCHING"
            | b"QUIT"
            | b"GET"
            | b"EXISTS"
            | b"SET"
            | b"INCR"
            | b"INCRBY"
            | b"DEL"
            | b"LPUSH"
            | b"RPUSH"
            | b"LPOP"
            | b"BLPOP"
            | b"LLEN"
            | b"MULTI"
            | b"EXEC"
            | b"DISCARD"
            | b"WATCH"
            | b"UNWATCH"
    )
}

fn wrongtype() -> Frame {
    err("WRONGTYPE Operation against a key holding the wrong kind of value")
}

/// Where a missing counter starts (see the module doc).
pub fn base(key: &[u8]) -> i64 {
    key.strip_prefix(b"c:")
        .and_then(int)
        .map_or(0, |n: i64| n.saturating_add(1).saturating_mul(COUNTER_BASE))
}

/// Encodes a reply for a session: as is in RESP3; in RESP2, maps flattened,
/// null as `$-1`, booleans as integers, doubles as bulk strings.
pub fn encode(frame: &Frame, resp: u8, buf: &mut BytesMut) {
    if resp == 3 {
        frame.encode(buf);
        return;
    }
    match frame {
        Frame::Null => buf.put_slice(b"$-1\r\n"),
        Frame::Array(items) | Frame::Set(items) | Frame::Push(items) => {
            redwire_resp::encode_array_header(buf, items.len());
            for item in items {
                encode(item, resp, buf);
            }
        }
        Frame::Map(pairs) => {
            redwire_resp::encode_array_header(buf, pairs.len() * 2);
            for (k, v) in pairs {
                encode(k, resp, buf);
                encode(v, resp, buf);
            }
        }
        Frame::Boolean(b) => Frame::Integer(*b as i64).encode(buf),
        Frame::Double(d) => redwire_resp::encode_bulk(buf, d.to_string().as_bytes()),
        other => other.encode(buf),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(store: &mut Store, s: &mut Session, args: &[&str]) -> Frame {
        let args: Vec<Bytes> = args
            .iter()
            .map(|a| Bytes::copy_from_slice(a.as_bytes()))
            .collect();
        store.execute(s, Dialect::Hello, &args)
    }

    #[test]
    fn counters_start_at_their_callers_base_and_set_get_returns_the_old_value() {
        let (mut st, mut s) = (Store::default(), Session::new(1));
        assert_eq!(
            run(&mut st, &mut s, &["INCR", "c:3"]),
            Frame::Integer(4 * COUNTER_BASE + 1)
        );
        assert_eq!(run(&mut st, &mut s, &["SET", "k", "a", "GET"]), Frame::Null);
        assert_eq!(
            run(&mut st, &mut s, &["SET", "k", "b", "GET"]),
            Frame::Bulk("a".into())
        );
        assert_eq!(run(&mut st, &mut s, &["GET", "k"]), Frame::Bulk("b".into()));
    }

    #[test]
    fn exec_aborts_when_a_watched_key_changed() {
        let (mut st, mut a, mut b) = (Store::default(), Session::new(1), Session::new(2));
        run(&mut st, &mut a, &["WATCH", "k"]);
        run(&mut st, &mut b, &["SET", "k", "x"]);
        run(&mut st, &mut a, &["MULTI"]);
        assert_eq!(
            run(&mut st, &mut a, &["SET", "k", "y"]),
            Frame::Simple("QUEUED".into())
        );
        assert_eq!(run(&mut st, &mut a, &["EXEC"]), Frame::Null);
        assert_eq!(st.get(b"k").unwrap(), "x");
    }

    #[test]
    fn resp2_flattens_maps_and_spells_null_the_old_way() {
        let mut buf = BytesMut::new();
        encode(
            &Frame::Map(vec![(Frame::Null, Frame::Integer(1))]),
            2,
            &mut buf,
        );
        assert_eq!(&buf[..], b"*2\r\n$-1\r\n:1\r\n");
    }
}
