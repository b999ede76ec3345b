//! Server and connection commands: `PING`, `INFO`, `CONFIG`, `CLIENT`, `TIME`,
//! `MEMORY USAGE`, `SLOWLOG`, `WAIT`, `WAITAOF`…, and the typed replies they
//! read ([`Info`], [`ClientInfo`], [`Role`], [`AofAcks`]…).
//!
//! Commands that would change the connection for every caller of a shared
//! client (`SELECT`, `CLIENT SETNAME`, `CLIENT TRACKING`…, see
//! [`rules`](crate::rules)) have no typed method here.

use super::handle::Commands;
use crate::cmd::ToArg;
use crate::cmd::{cmd, Cmd};
use crate::error::{Error, Result};
use crate::value::convert::{elements, mismatch};
use crate::value::{FromValue, Value};
use std::collections::HashMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// How `FLUSHDB`/`FLUSHALL` free the memory of the keys they delete.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FlushMode {
    /// `ASYNC`: the keys are gone at once, their memory is freed by a
    /// background thread.
    Async,
    /// `SYNC`: the memory is freed before the command returns.
    Sync,
}

impl ToArg for FlushMode {
    fn write_args(&self, cmd: &mut Cmd) {
        cmd.push_arg(match self {
            FlushMode::Async => "ASYNC",
            FlushMode::Sync => "SYNC",
        });
    }
}

/// The reply of `INFO`: sections (`server`, `clients`, `memory`…) of
/// `field:value` lines.
///
/// Section names are kept in lower case and looked up without regard to
/// case. It reads the same from RESP2's bulk string and RESP3's verbatim
/// string.
///
/// ```
/// use redwire::commands::Info;
///
/// let info = Info::parse("# Server\r\nredis_version:7.0.15\r\nprocess_id:42\r\n");
/// assert_eq!(info.get("server", "redis_version"), Some("7.0.15"));
/// assert_eq!(info.get_parsed::<u32>("Server", "process_id"), Some(42));
/// assert_eq!(info.section("server").map(|s| s.len()), Some(2));
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Info {
    sections: Vec<(String, HashMap<String, String>)>,
}

impl Info {
    /// Reads `INFO`'s text: `# Section` headers, `field:value` lines (split
    /// at the first `:`), blank lines ignored. Lines before any header go in
    /// a section named `""`.
    pub fn parse(text: &str) -> Info {
        let mut sections: Vec<(String, HashMap<String, String>)> = Vec::new();
        for line in text.lines() {
            let line = line.trim_end_matches('\r');
            if line.trim().is_empty() {
                continue;
            }
            if let Some(name) = line.strip_prefix('#') {
                sections.push((name.trim().to_ascii_lowercase(), HashMap::new()));
                continue;
            }
            let Some((field, value)) = line.split_once(':') else {
                continue;
            };
            if sections.is_empty() {
                sections.push((String::new(), HashMap::new()));
            }
            if let Some((_, fields)) = sections.last_mut() {
                fields.insert(field.to_string(), value.to_string());
            }
        }
        Info { sections }
    }

    /// One field's text, `None` when the section or the field is missing.
    pub fn get(&self, section: &str, field: &str) -> Option<&str> {
        self.section(section)?.get(field).map(String::as_str)
    }

    /// One field parsed as a number (or anything [`FromStr`](std::str::FromStr)),
    /// `None` when it is missing or does not parse.
    pub fn get_parsed<T: std::str::FromStr>(&self, section: &str, field: &str) -> Option<T> {
        self.get(section, field)?.parse().ok()
    }

    /// All the fields of one section.
    pub fn section(&self, name: &str) -> Option<&HashMap<String, String>> {
        self.sections
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, fields)| fields)
    }

    /// The names of the sections, in the server's order, in lower case.
    pub fn sections(&self) -> impl Iterator<Item = &str> {
        self.sections.iter().map(|(n, _)| n.as_str())
    }
}

impl FromValue for Info {
    fn from_value(value: Value) -> Result<Self> {
        String::from_value(value).map(|text| Info::parse(&text))
    }
}

/// The reply of `TIME`: the server's clock.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct ServerTime {
    /// Whole seconds since the Unix epoch.
    pub secs: u64,
    /// Microseconds within the second.
    pub micros: u32,
}

impl ServerTime {
    /// The time since the Unix epoch.
    pub fn since_epoch(&self) -> Duration {
        Duration::new(self.secs, self.micros.saturating_mul(1000))
    }

    /// The time as a [`SystemTime`].
    pub fn to_system_time(&self) -> SystemTime {
        UNIX_EPOCH + self.since_epoch()
    }
}

impl FromValue for ServerTime {
    fn from_value(value: Value) -> Result<Self> {
        let (secs, micros) = <(u64, u32)>::from_value(value)?;
        Ok(ServerTime { secs, micros })
    }
}

/// One connection as `CLIENT INFO` and `CLIENT LIST` describe it: the
/// common fields typed, every field in [`fields`](Self::fields).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ClientInfo {
    /// The connection's id (`id`).
    pub id: i64,
    /// The client's address, `ip:port` (`addr`).
    pub addr: String,
    /// The server's side of the connection, `ip:port` (`laddr`).
    pub laddr: String,
    /// The connection's name, `None` when it has none (`name`).
    pub name: Option<String>,
    /// The selected database (`db`).
    pub db: i64,
    /// The connection's flags, one letter each, `N` for none (`flags`).
    pub flags: String,
    /// The last command it ran (`cmd`, `client|info` for a subcommand).
    pub cmd: String,
    /// The user it is logged in as (`user`).
    pub user: String,
    /// Seconds since it connected (`age`).
    pub age: u64,
    /// Seconds since its last command (`idle`).
    pub idle: u64,
    /// Every `key=value` field of the line, the ones above included.
    pub fields: HashMap<String, String>,
}

impl ClientInfo {
    /// Reads one line of `key=value` fields separated by spaces.
    ///
    /// ```
    /// use redwire::commands::ClientInfo;
    ///
    /// let c = ClientInfo::parse("id=7 addr=127.0.0.1:5000 name=w db=0 flags=N cmd=get resp=3");
    /// assert_eq!((c.id, c.name.as_deref(), c.cmd.as_str()), (7, Some("w"), "get"));
    /// assert_eq!(c.fields["resp"], "3");
    /// ```
    pub fn parse(line: &str) -> ClientInfo {
        let fields: HashMap<String, String> = line
            .split_ascii_whitespace()
            .filter_map(|pair| pair.split_once('='))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let text = |key: &str| fields.get(key).cloned().unwrap_or_default();
        let number = |key: &str| fields.get(key).and_then(|v| v.parse().ok());
        ClientInfo {
            id: number("id").unwrap_or_default(),
            addr: text("addr"),
            laddr: text("laddr"),
            name: fields.get("name").filter(|n| !n.is_empty()).cloned(),
            db: number("db").unwrap_or_default(),
            flags: text("flags"),
            cmd: text("cmd"),
            user: text("user"),
            age: number("age").map_or(0, |n: i64| n as u64),
            idle: number("idle").map_or(0, |n: i64| n as u64),
            fields,
        }
    }

    /// One field's text by its name (`qbuf`, `resp`, `lib-name`…).
    pub fn get(&self, field: &str) -> Option<&str> {
        self.fields.get(field).map(String::as_str)
    }
}

impl FromValue for ClientInfo {
    fn from_value(value: Value) -> Result<Self> {
        String::from_value(value).map(|line| ClientInfo::parse(line.trim()))
    }
}

/// The reply of `CLIENT LIST`: one [`ClientInfo`] per connection, in the
/// server's order. Derefs to a slice; `into_iter` and `.0` give the `Vec`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ClientList(pub Vec<ClientInfo>);

impl FromValue for ClientList {
    fn from_value(value: Value) -> Result<Self> {
        let text = String::from_value(value)?;
        Ok(ClientList(
            text.lines()
                .filter(|l| !l.trim().is_empty())
                .map(|l| ClientInfo::parse(l.trim()))
                .collect(),
        ))
    }
}

impl std::ops::Deref for ClientList {
    type Target = [ClientInfo];
    fn deref(&self) -> &[ClientInfo] {
        &self.0
    }
}

impl IntoIterator for ClientList {
    type Item = ClientInfo;
    type IntoIter = std::vec::IntoIter<ClientInfo>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

/// A replica as its master's `ROLE` reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReplicaLink {
    /// The replica's IP address.
    pub ip: String,
    /// The replica's listening port.
    pub port: u16,
    /// The replication offset it has acknowledged.
    pub offset: i64,
}

/// The reply of `ROLE`: what this server is in replication.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Role {
    /// A master and its connected replicas.
    Master {
        /// The master's replication offset.
        offset: i64,
        /// The connected replicas.
        replicas: Vec<ReplicaLink>,
    },
    /// A replica of `master_host:master_port`.
    Replica {
        /// The master's host.
        master_host: String,
        /// The master's port.
        master_port: u16,
        /// The link's state: `connect`, `connecting`, `sync`, `connected`…
        state: String,
        /// The data received from the master so far, `-1` before the first sync.
        offset: i64,
    },
    /// A Sentinel, and the masters it monitors.
    Sentinel {
        /// The names of the monitored masters.
        masters: Vec<String>,
    },
}

impl FromValue for Role {
    fn from_value(value: Value) -> Result<Self> {
        let wanted = "a ROLE reply";
        let described = value.describe();
        let mut items = elements(value, wanted)?.into_iter();
        let bad = || Error::type_error(format!("expected {wanted}, got {described}"));
        let kind = String::from_value(items.next().unwrap_or(Value::Nil))?;
        let mut next = || items.next().ok_or_else(bad);
        match kind.as_str() {
            "master" => {
                let offset = i64::from_value(next()?)?;
                let replicas = Vec::<(String, u16, i64)>::from_value(next()?)?
                    .into_iter()
                    .map(|(ip, port, offset)| ReplicaLink { ip, port, offset })
                    .collect();
                Ok(Role::Master { offset, replicas })
            }
            "slave" | "replica" => Ok(Role::Replica {
                master_host: String::from_value(next()?)?,
                master_port: u16::from_value(next()?)?,
                state: String::from_value(next()?)?,
                offset: i64::from_value(next()?)?,
            }),
            "sentinel" => Ok(Role::Sentinel {
                masters: Vec::from_value(next()?)?,
            }),
            _ => Err(bad()),
        }
    }
}

/// One entry of `SLOWLOG GET`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SlowlogEntry {
    /// The entry's id, increasing.
    pub id: i64,
    /// When the command ran, Unix time in seconds.
    pub timestamp: i64,
    /// How long it ran, in microseconds.
    pub duration_micros: u64,
    /// The command and its arguments (long ones cut short by the server).
    pub args: Vec<bytes::Bytes>,
    /// The client's address, `ip:port`.
    pub client_addr: String,
    /// The client's name, empty when it has none.
    pub client_name: String,
}

impl FromValue for SlowlogEntry {
    fn from_value(value: Value) -> Result<Self> {
        let described = value.describe();
        let items = elements(value, "a SLOWLOG entry")?;
        if items.len() < 4 {
            return Err(Error::type_error(format!(
                "expected a SLOWLOG entry, got {described}"
            )));
        }
        let mut it = items.into_iter();
        let mut next = || it.next().unwrap_or(Value::Nil);
        Ok(SlowlogEntry {
            id: i64::from_value(next())?,
            timestamp: i64::from_value(next())?,
            duration_micros: u64::from_value(next())?,
            args: Vec::from_value(next())?,
            client_addr: Option::<String>::from_value(next())?.unwrap_or_default(),
            client_name: Option::<String>::from_value(next())?.unwrap_or_default(),
        })
    }
}

/// The reply of `WAITAOF`: how many servers wrote this connection's writes
/// to their append-only file (and fsynced it) in time.
///
/// ```
/// use redwire::{commands::AofAcks, FromValue, Value};
/// let acks = AofAcks::from_value(Value::Array(vec![Value::Int(1), Value::Int(2)])).unwrap();
/// assert_eq!(acks, AofAcks { local: 1, replicas: 2 });
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AofAcks {
    /// `1` when this server fsynced them to its own AOF, else `0`.
    pub local: u64,
    /// How many replicas acknowledged fsyncing them to theirs.
    pub replicas: u64,
}

impl FromValue for AofAcks {
    fn from_value(value: Value) -> Result<Self> {
        let (local, replicas) = <(u64, u64)>::from_value(value)?;
        Ok(AofAcks { local, replicas })
    }
}

/// The reply of a plain `PING`: `PONG`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pong;

impl FromValue for Pong {
    fn from_value(value: Value) -> Result<Self> {
        match &value {
            Value::Simple(s) | Value::Bulk(s) if s == "PONG" => Ok(Pong),
            _ => mismatch(&value, "PONG"),
        }
    }
}

/// Commands on the server and the connections: health, `INFO`, `CONFIG`,
/// `CLIENT`, statistics.
pub trait ServerCommands: Commands {
    /// `PING`: answers [`Pong`]; the reply is an error if it is anything
    /// but `PONG`.
    ///
    /// ```no_run
    /// # async fn demo(client: redwire::Client) -> redwire::Result<()> {
    /// use redwire::prelude::*;
    /// client.ping().await?;
    /// # Ok(()) }
    /// ```
    fn ping(self) -> Self::Reply<Pong> {
        self.command(cmd("PING"))
    }

    /// `PING message`: answers the message.
    fn ping_message<T: FromValue>(self, message: impl ToArg) -> Self::Reply<T> {
        self.command(cmd("PING").arg(message))
    }

    /// `ECHO`: answers the message.
    fn echo<T: FromValue>(self, message: impl ToArg) -> Self::Reply<T> {
        self.command(cmd("ECHO").arg(message))
    }

    /// `INFO`: the default sections, parsed.
    ///
    /// ```no_run
    /// # async fn demo(client: redwire::Client) -> redwire::Result<()> {
    /// use redwire::prelude::*;
    /// let info = client.info().await?;
    /// let version = info.get("server", "redis_version");
    /// let clients: Option<u64> = info.get_parsed("clients", "connected_clients");
    /// # Ok(()) }
    /// ```
    fn info(self) -> Self::Reply<Info> {
        self.command(cmd("INFO"))
    }

    /// `INFO section…`: the named sections (`"server"`, `["memory",
    /// "stats"]`, `"all"`, `"everything"`); several at once need Redis 7.0+.
    fn info_sections(self, sections: impl ToArg) -> Self::Reply<Info> {
        self.command(cmd("INFO").arg(sections))
    }

    /// `DBSIZE`: the number of keys in the database.
    fn dbsize(self) -> Self::Reply<u64> {
        self.command(cmd("DBSIZE"))
    }

    /// `FLUSHDB`: deletes every key of the current database, freeing memory
    /// as the server's `lazyfree-lazy-user-flush` says.
    fn flushdb(self) -> Self::Reply<()> {
        self.command(cmd("FLUSHDB"))
    }

    /// `FLUSHDB ASYNC|SYNC`: deletes every key of the current database,
    /// freeing memory as `mode` says.
    fn flushdb_with(self, mode: FlushMode) -> Self::Reply<()> {
        self.command(cmd("FLUSHDB").arg(mode))
    }

    /// `FLUSHALL`: deletes every key of every database.
    fn flushall(self) -> Self::Reply<()> {
        self.command(cmd("FLUSHALL"))
    }

    /// `FLUSHALL ASYNC|SYNC`: deletes every key of every database, freeing
    /// memory as `mode` says.
    ///
    /// ```no_run
    /// # async fn demo(client: redwire::Client) -> redwire::Result<()> {
    /// use redwire::prelude::*;
    /// client.flushall_with(FlushMode::Async).await?;
    /// # Ok(()) }
    /// ```
    fn flushall_with(self, mode: FlushMode) -> Self::Reply<()> {
        self.command(cmd("FLUSHALL").arg(mode))
    }

    /// `CONFIG GET`: the parameters matching a glob pattern (or several
    /// patterns, Redis 7.0+), by name.
    ///
    /// ```no_run
    /// # async fn demo(client: redwire::Client) -> redwire::Result<()> {
    /// use redwire::prelude::*;
    /// let memory = client.config_get("maxmemory*").await?;
    /// let limit = memory.get("maxmemory");
    /// # Ok(()) }
    /// ```
    fn config_get(self, pattern: impl ToArg) -> Self::Reply<HashMap<String, String>> {
        self.command(cmd("CONFIG").arg("GET").arg(pattern))
    }

    /// `CONFIG SET`: sets one parameter.
    fn config_set(self, parameter: impl ToArg, value: impl ToArg) -> Self::Reply<()> {
        self.command(cmd("CONFIG").arg("SET").arg(parameter).arg(value))
    }

    /// `CONFIG SET` of several parameters at once, all or none (Redis 7.0+):
    /// a map, or a slice of pairs.
    ///
    /// ```no_run
    /// # async fn demo(client: redwire::Client) -> redwire::Result<()> {
    /// use redwire::prelude::*;
    /// client.config_set_many([("maxmemory", "100mb"), ("maxmemory-policy", "allkeys-lru")]).await?;
    /// # Ok(()) }
    /// ```
    fn config_set_many(self, pairs: impl ToArg) -> Self::Reply<()> {
        self.command(cmd("CONFIG").arg("SET").arg(pairs))
    }

    /// `CONFIG RESETSTAT`: zeroes the statistics of `INFO` and the
    /// command statistics.
    fn config_resetstat(self) -> Self::Reply<()> {
        self.command(cmd("CONFIG").arg("RESETSTAT"))
    }

    /// `TIME`: the server's clock.
    ///
    /// ```no_run
    /// # async fn demo(client: redwire::Client) -> redwire::Result<()> {
    /// use redwire::prelude::*;
    /// let now: std::time::SystemTime = client.time().await?.to_system_time();
    /// # Ok(()) }
    /// ```
    fn time(self) -> Self::Reply<ServerTime> {
        self.command(cmd("TIME"))
    }

    /// `LASTSAVE`: when the last successful save to disk happened, Unix time
    /// in seconds.
    fn lastsave(self) -> Self::Reply<u64> {
        self.command(cmd("LASTSAVE"))
    }

    /// `CLIENT ID`: this connection's id. (On a shared client, the id of the
    /// connection of the moment: a reconnect changes it.)
    fn client_id(self) -> Self::Reply<i64> {
        self.command(cmd("CLIENT").arg("ID"))
    }

    /// `CLIENT INFO`: this connection, as the server sees it.
    ///
    /// ```no_run
    /// # async fn demo(client: redwire::Client) -> redwire::Result<()> {
    /// use redwire::prelude::*;
    /// let me = client.client_info().await?;
    /// println!("connection {} from {} in db {}", me.id, me.addr, me.db);
    /// # Ok(()) }
    /// ```
    fn client_info(self) -> Self::Reply<ClientInfo> {
        self.command(cmd("CLIENT").arg("INFO"))
    }

    /// `CLIENT LIST`: every connection to the server.
    fn client_list(self) -> Self::Reply<ClientList> {
        self.command(cmd("CLIENT").arg("LIST"))
    }

    /// `CLIENT LIST ID id…`: the connections with these ids (missing ones
    /// are left out).
    fn client_list_ids(self, ids: impl ToArg) -> Self::Reply<ClientList> {
        self.command(cmd("CLIENT").arg("LIST").arg("ID").arg(ids))
    }

    /// `CLIENT GETNAME`: this connection's name (set by
    /// [`ConfigBuilder::client_name`](crate::ConfigBuilder::client_name)),
    /// `None` when it has none.
    fn client_getname(self) -> Self::Reply<Option<String>> {
        self.command(cmd("CLIENT").arg("GETNAME"))
    }

    /// `CLIENT KILL ID id`: closes the connection with this id; the number
    /// closed (0 or 1). This connection itself is never closed (`SKIPME yes`).
    fn client_kill_id(self, id: i64) -> Self::Reply<u64> {
        self.command(cmd("CLIENT").arg("KILL").arg("ID").arg(id))
    }

    /// `CLIENT KILL ADDR ip:port`: closes the connection from this address;
    /// the number closed.
    fn client_kill_addr(self, addr: impl ToArg) -> Self::Reply<u64> {
        self.command(cmd("CLIENT").arg("KILL").arg("ADDR").arg(addr))
    }

    /// `MEMORY USAGE`: the bytes a key and its value take, estimated from a
    /// sample of 5 elements for collections; `None` for a missing key.
    fn memory_usage(self, key: impl ToArg) -> Self::Reply<Option<u64>> {
        self.command(cmd("MEMORY").arg("USAGE").arg(key))
    }

    /// `MEMORY USAGE … SAMPLES n`: estimated from `samples` elements of a
    /// collection; 0 counts every element.
    fn memory_usage_samples(self, key: impl ToArg, samples: u64) -> Self::Reply<Option<u64>> {
        self.command(
            cmd("MEMORY")
                .arg("USAGE")
                .arg(key)
                .arg("SAMPLES")
                .arg(samples),
        )
    }

    /// `ROLE`: what the server is in replication.
    ///
    /// ```no_run
    /// # async fn demo(client: redwire::Client) -> redwire::Result<()> {
    /// use redwire::prelude::*;
    /// if let Role::Master { replicas, .. } = client.role().await? {
    ///     println!("{} replicas", replicas.len());
    /// }
    /// # Ok(()) }
    /// ```
    fn role(self) -> Self::Reply<Role> {
        self.command(cmd("ROLE"))
    }

    /// `COMMAND COUNT`: how many commands the server knows.
    fn command_count(self) -> Self::Reply<u64> {
        self.command(cmd("COMMAND").arg("COUNT"))
    }

    /// `WAIT`: waits until the writes made on this connection so far reach
    /// `numreplicas` replicas, or `timeout_ms` milliseconds pass (0 = forever);
    /// the number of replicas that acknowledged them.
    ///
    /// Blocking: runs on a dedicated `Connection` (or a pooled one); a shared
    /// `Client` refuses it.
    fn wait(self, numreplicas: u64, timeout_ms: u64) -> Self::Reply<u64> {
        self.command(cmd("WAIT").arg(numreplicas).arg(timeout_ms))
    }

    /// `WAITAOF` (Redis 7.2+): waits until the writes made on this
    /// connection so far are fsynced to the append-only file of this server
    /// (when `numlocal` is 1) and of `numreplicas` replicas, or `timeout_ms`
    /// milliseconds pass (0 = forever); how many did, in time.
    ///
    /// A `numlocal` of 1 on a server without `appendonly yes` is a server
    /// error (`ERR WAITAOF cannot be used when numlocal is set but
    /// appendonly is disabled`), not a count of 0.
    ///
    /// Blocking: runs on a dedicated `Connection` (or a pooled one); a shared
    /// `Client` refuses it.
    ///
    /// ```no_run
    /// # async fn demo(mut conn: redwire::Connection) -> redwire::Result<()> {
    /// use redwire::prelude::*;
    /// conn.set("order:1", "paid").await?;
    /// let acks = conn.waitaof(1, 1, 100).await?;
    /// if acks.local == 1 && acks.replicas >= 1 {
    ///     println!("on two disks");
    /// }
    /// # Ok(()) }
    /// ```
    fn waitaof(self, numlocal: u64, numreplicas: u64, timeout_ms: u64) -> Self::Reply<AofAcks> {
        self.command(
            cmd("WAITAOF")
                .arg(numlocal)
                .arg(numreplicas)
                .arg(timeout_ms),
        )
    }

    /// `SLOWLOG GET count`: the `count` most recent slow commands, newest
    /// first (`-1` for all of them).
    fn slowlog_get(self, count: i64) -> Self::Reply<Vec<SlowlogEntry>> {
        self.command(cmd("SLOWLOG").arg("GET").arg(count))
    }

    /// `SLOWLOG LEN`: how many entries the slow log holds.
    fn slowlog_len(self) -> Self::Reply<u64> {
        self.command(cmd("SLOWLOG").arg("LEN"))
    }

    /// `SLOWLOG RESET`: empties the slow log.
    fn slowlog_reset(self) -> Self::Reply<()> {
        self.command(cmd("SLOWLOG").arg("RESET"))
    }
}

impl<C: Commands> ServerCommands for C {}
