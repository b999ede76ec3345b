//! Observability: OpenTelemetry-shaped metrics and spans from every handle,
//! free when nobody listens.
//!
//! # Metrics
//!
//! With the `metrics` cargo feature (off by default), every handle reports
//! through the [`metrics`](https://docs.rs/metrics) facade: the application
//! installs a recorder (a Prometheus or OpenTelemetry exporter, or
//! `metrics-util`'s debugging recorder in tests) and sees the names below.
//! Without the feature redwire does not depend on `metrics` at all and the
//! instrumentation compiles to nothing. `metrics` is the ecosystem's facade
//! (the `log` of metrics): a library that calls it costs its users nothing
//! unless they install a recorder, and every exporter plugs into it, where
//! depending on `opentelemetry` itself would pin one exporter's versions on
//! every user. The names and attributes follow the OpenTelemetry semantic
//! conventions for database clients, so an OpenTelemetry bridge sees the
//! standard instruments.
//!
//! | metric | type | unit | attributes | what |
//! |---|---|---|---|---|
//! | `db.client.operation.duration` | histogram | s | `db.system.name`, `db.operation.name`, `server.address`, `server.port`, `error.type` (on failure) | one command or pipeline, from the call to its result, at the handle |
//! | `db.client.connection.count` | gauge | {connection} | `db.client.connection.pool.name`, `db.client.connection.state` (`used`, `idle`) | a handle's connection while it is up (`used`); a pool's idle and checked-out connections |
//! | `db.client.connection.pending_requests` | gauge | {request} | `db.client.connection.pool.name` | requests taken by the connection and not yet answered (written or queued) |
//! | `db.client.connection.create_time` | histogram | s | `db.client.connection.pool.name` | connecting and the handshake, per connection made |
//! | `db.client.connection.wait_time` | histogram | s | `db.client.connection.pool.name` | a pool checkout, until a connection is handed over |
//! | `db.client.connection.timeouts` | counter | {timeout} | `db.client.connection.pool.name` | pool checkouts that gave up at the checkout timeout |
//! | `redwire.connection.in_flight` | gauge | {request} | connection attributes | requests written and waiting for their replies |
//! | `redwire.connection.queued` | gauge | {request} | connection attributes | requests taken by the connection, not written yet |
//! | `redwire.connection.reconnects` | counter | {reconnect} | connection attributes, `error.type` (the cause) | connections lost and made again |
//! | `redwire.connection.batch.size` | histogram | {request} | connection attributes | requests written by one write to the socket (automatic pipelining) |
//! | `redwire.connection.discarded_replies` | counter | {reply} | connection attributes | replies read for callers that had given up (timed out, dropped their future) |
//! | `redwire.connection.io` | counter | By | connection attributes, `network.io.direction` (`transmit`, `receive`) | bytes written to and read from the socket |
//! | `redwire.pubsub.messages` | counter | {message} | connection attributes | pub/sub messages received by a subscriber |
//! | `redwire.pubsub.resubscriptions` | counter | {resubscription} | connection attributes | a subscriber's subscriptions made again on a new connection |
//! | `redwire.sentinel.failovers` | counter | {failover} | connection attributes | a Sentinel-discovered client leaving a demoted or replaced primary |
//! | `redwire.cluster.redirects` | counter | {redirect} | cluster attributes, `redwire.redirect.kind` (`moved`, `ask`) | redirections followed by the cluster router |
//! | `redwire.cluster.topology.refreshes` | counter | {refresh} | cluster attributes, `error.type` (on failure) | slot-map reads |
//! | `redwire.cluster.slot_holes` | counter | {wait} | cluster attributes | waits for a slot that no node served (a failover under way) |
//! | `redwire.cache.requests` | counter | {request} | connection attributes, `redwire.cache.result` (`hit`, `miss`, `coalesced`) | cacheable reads of a client with a client-side cache (feature `client-cache`) |
//! | `redwire.cache.evictions` | counter | {key} | connection attributes | keys dropped to stay within the cache's bound |
//! | `redwire.cache.invalidations` | counter | {key} | connection attributes | cached keys the server invalidated |
//! | `redwire.cache.flushes` | counter | {flush} | connection attributes | times the whole cache was emptied (a disconnect, `FLUSHALL`) |
//! | `redwire.cache.size` | gauge | By | connection attributes | bytes the cache holds, as weighed |
//! | `redwire.cache.entries` | gauge | {key} | connection attributes | keys the cache holds |
//!
//! The cache's figures are read from its counts (which a hit updates
//! anyway) and reported by the connection once per tick of its timer (at
//! most a second apart) and after each flush: a hit costs the recorder
//! nothing.
//!
//! Connection attributes: `db.system.name` (`redis`), `server.address`,
//! `server.port`, `db.client.connection.pool.name` (`<kind> <address>:<port>`,
//! `kind` one of `client`, `connection`, `subscriber`, `monitor`, `pool`).
//! Cluster attributes: `db.system.name` and the first seed's
//! `server.address` and `server.port`. A Sentinel-discovered client labels
//! its operations with the monitored name (`server.address` = `mymaster`,
//! as the primary behind it changes) and its connection metrics with the
//! primary it is connected to.
//!
//! **Bounded labels.** The command name is the only per-command label, from
//! a fixed table of Redis commands; any other name is folded into
//! [`OTHER`] (`other`). Keys and arguments are never labels.
//!
//! **No lock per request.** A connection looks its metric handles up once
//! (the operation histograms once per command name, the first time that
//! name is sent); a request then costs a clock read at each end, a look-up
//! of its name in a table the compiler builds, and the recorder's own
//! atomic update. A handle made while no recorder is installed (the
//! facade's no-op recorder, the only one of size zero, is in place) skips
//! the clock and the look-up: install the recorder first. The connection's gauges are set once per
//! pass of its actor, not per request. Only failures (an `error.type`
//! label) look their handle up by name, on the error path.
//!
//! # Traces
//!
//! One [`tracing`] span per command and per pipeline, made by the handle
//! (never per request inside the connection's actor), at level `DEBUG` and
//! target [`COMMAND_TARGET`]. It is made only when a subscriber enables
//! that level and target, so with none (or one at `INFO`) a request pays one
//! branch. The span is named [`COMMAND_SPAN`] or [`PIPELINE_SPAN`] and
//! carries `otel.name` (the operation name, which `tracing-opentelemetry`
//! makes the OpenTelemetry span's name), `otel.kind` = `client`,
//! `db.system.name`, `db.operation.name` (or `PIPELINE` / `MULTI` with
//! `db.operation.batch.size`), `db.namespace` (the database index),
//! `server.address`, `server.port`, and on failure `error.type` and
//! `otel.status_code` = `ERROR`. `db.query.text` is there only when the
//! configuration opts in ([`ConfigBuilder::trace_query_text`](crate::ConfigBuilder::trace_query_text)), with the
//! arguments replaced by `?` unless [`QueryText::Full`] asks for them, and
//! never for the commands that carry credentials (`AUTH`, `HELLO`, `ACL`,
//! `CONFIG`, `MIGRATE`): those show their name only.
//!
//! # Events
//!
//! Lifecycle events are `tracing` events at stable targets and levels:
//!
//! | target | level | message | fields |
//! |---|---|---|---|
//! | `redwire::connection` | INFO | `connected` | `server.address`, `resp` |
//! | `redwire::connection` | WARN | `disconnected` | `server.address`, `error.type`, `reason` |
//! | `redwire::connection` | DEBUG | `reconnecting` | `attempt`, `delay`, `error` |
//! | `redwire::connection` | DEBUG | `closed` | `reason` |
//! | `redwire::pubsub` | INFO | `resubscribed` | `channels`, `patterns`, `shard_channels` |
//! | `redwire::sentinel` | WARN | `failover followed` | `master`, `reason` |
//! | `redwire::cluster` | INFO (DEBUG when nothing changed) | `topology refreshed` | `primaries`, `replicas`, `slots_served`, `changed` |
//! | `redwire::cluster` | WARN | `topology refresh failed` | `error` |
//! | `redwire::cluster` | DEBUG | `slot moved` | `slot`, `to` |
//!
//! None of them shows a password: addresses come from the configuration
//! without its credentials, and errors never hold one.

/// A metering statement on the hot path, present only with the `metrics`
/// feature: without it there is not even an empty call left to change how
/// the code around it is inlined.
macro_rules! metered {
    ($($statement:tt)*) => {
        #[cfg(feature = "metrics")]
        {
            $($statement)*;
        }
    };
}
pub(crate) use metered;

#[cfg_attr(feature = "metrics", path = "meter.rs")]
#[cfg_attr(not(feature = "metrics"), path = "meter_off.rs")]
pub(crate) mod meter;
pub(crate) mod names;
pub(crate) mod span;

use crate::error::{Error, ErrorKind};

/// The histogram of operation durations, in seconds.
pub const OPERATION_DURATION: &str = "db.client.operation.duration";
/// The gauge of connections, by `db.client.connection.state`.
pub const CONNECTION_COUNT: &str = "db.client.connection.count";
/// The gauge of requests taken by a connection and not answered yet.
pub const PENDING_REQUESTS: &str = "db.client.connection.pending_requests";
/// The histogram of connection set-up times (connect and handshake), in seconds.
pub const CREATE_TIME: &str = "db.client.connection.create_time";
/// The histogram of pool checkout times, in seconds.
pub const WAIT_TIME: &str = "db.client.connection.wait_time";
/// The counter of pool checkouts that timed out.
pub const TIMEOUTS: &str = "db.client.connection.timeouts";
/// The gauge of requests written and waiting for replies, per connection.
pub const IN_FLIGHT: &str = "redwire.connection.in_flight";
/// The gauge of requests taken and not written yet, per connection.
pub const QUEUED: &str = "redwire.connection.queued";
/// The counter of reconnects, by cause (`error.type`).
pub const RECONNECTS: &str = "redwire.connection.reconnects";
/// The histogram of requests per write to the socket.
pub const BATCH_SIZE: &str = "redwire.connection.batch.size";
/// The counter of replies read for callers that had given up.
pub const DISCARDED_REPLIES: &str = "redwire.connection.discarded_replies";
/// The counter of bytes, by `network.io.direction`.
pub const IO: &str = "redwire.connection.io";
/// The counter of pub/sub messages received.
pub const PUBSUB_MESSAGES: &str = "redwire.pubsub.messages";
/// The counter of resubscriptions after a reconnect.
pub const RESUBSCRIPTIONS: &str = "redwire.pubsub.resubscriptions";
/// The counter of failovers a Sentinel-discovered client followed.
pub const FAILOVERS: &str = "redwire.sentinel.failovers";
/// The counter of cluster redirections, by `redwire.redirect.kind`.
pub const REDIRECTS: &str = "redwire.cluster.redirects";
/// The counter of cluster slot-map reads.
pub const REFRESHES: &str = "redwire.cluster.topology.refreshes";
/// The counter of waits for a slot no node served.
pub const SLOT_HOLES: &str = "redwire.cluster.slot_holes";
/// Cacheable reads, by result (`hit`, `miss`, `coalesced`).
pub const CACHE_REQUESTS: &str = "redwire.cache.requests";
/// Keys evicted from the client-side cache.
pub const CACHE_EVICTIONS: &str = "redwire.cache.evictions";
/// Cached keys the server invalidated.
pub const CACHE_INVALIDATIONS: &str = "redwire.cache.invalidations";
/// Times the client-side cache was emptied.
pub const CACHE_FLUSHES: &str = "redwire.cache.flushes";
/// Bytes the client-side cache holds.
pub const CACHE_SIZE: &str = "redwire.cache.size";
/// Keys the client-side cache holds.
pub const CACHE_ENTRIES: &str = "redwire.cache.entries";

/// The operation label of a command outside the bounded table.
pub const OTHER: &str = "other";
/// The operation name of a pipeline.
pub const PIPELINE: &str = "PIPELINE";
/// The operation name of an atomic pipeline (`MULTI` … `EXEC`).
pub const TRANSACTION: &str = "MULTI";

/// The target of the command and pipeline spans.
pub const COMMAND_TARGET: &str = "redwire::command";
/// The name of a command's span (its operation name is in `otel.name`).
pub const COMMAND_SPAN: &str = "redis.command";
/// The name of a pipeline's span.
pub const PIPELINE_SPAN: &str = "redis.pipeline";
/// The target of connection lifecycle events.
pub const CONNECTION_TARGET: &str = "redwire::connection";
/// The target of a subscriber's lifecycle events.
pub const PUBSUB_TARGET: &str = "redwire::pubsub";
/// The target of Sentinel failover events.
pub const SENTINEL_TARGET: &str = "redwire::sentinel";
/// The target of cluster topology events.
pub const CLUSTER_TARGET: &str = "redwire::cluster";

/// Whether a command's span carries `db.query.text`
/// ([`ConfigBuilder::trace_query_text`](crate::ConfigBuilder::trace_query_text)).
///
/// ```
/// use redwire::telemetry::QueryText;
/// let config = redwire::Config::builder().trace_query_text(QueryText::Redacted).build();
/// assert_eq!(config.query_text(), QueryText::Redacted);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum QueryText {
    /// No `db.query.text` (the default).
    #[default]
    Off,
    /// The command with every argument shown as `?`: `SET ? ?`.
    Redacted,
    /// The command and its arguments (up to 256 bytes), except for the
    /// commands that carry credentials, which stay redacted.
    Full,
}

/// Which handle a connection serves: part of its
/// `db.client.connection.pool.name`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum HandleKind {
    /// A shared [`Client`](crate::Client) (a cluster node's too).
    Client,
    /// A dedicated [`Connection`](crate::Connection) (a pool's too).
    Connection,
    /// A [`Subscriber`](crate::Subscriber).
    Subscriber,
    /// A [`Monitor`](crate::Monitor).
    Monitor,
}

impl HandleKind {
    /// Its name in `db.client.connection.pool.name`.
    #[cfg_attr(not(feature = "metrics"), allow(dead_code))]
    pub(crate) fn name(self) -> &'static str {
        match self {
            HandleKind::Client => "client",
            HandleKind::Connection => "connection",
            HandleKind::Subscriber => "subscriber",
            HandleKind::Monitor => "monitor",
        }
    }
}

/// The `error.type` of an error: a server error's code when it is one of
/// the well-known ones, else the kind's name (`timeout`,
/// `connection_lost`…); bounded either way.
pub(crate) fn error_type(error: &Error) -> &'static str {
    if error.kind() == ErrorKind::Server {
        const CODES: &[&str] = &[
            "ASK",
            "BUSY",
            "BUSYGROUP",
            "BUSYKEY",
            "CLUSTERDOWN",
            "CROSSSLOT",
            "ERR",
            "EXECABORT",
            "LOADING",
            "MASTERDOWN",
            "MOVED",
            "NOAUTH",
            "NOGROUP",
            "NOPERM",
            "NOPROTO",
            "NOREPLICAS",
            "NOSCRIPT",
            "NOTBUSY",
            "OOM",
            "READONLY",
            "TRYAGAIN",
            "UNBLOCKED",
            "UNKILLABLE",
            "WRONGPASS",
            "WRONGTYPE",
        ];
        return error
            .code()
            .and_then(|code| CODES.iter().find(|c| **c == code).copied())
            .unwrap_or("server_error");
    }
    kind_name(error.kind())
}

/// A kind's name in `snake_case`.
pub(crate) fn kind_name(kind: ErrorKind) -> &'static str {
    match kind {
        ErrorKind::Server => "server_error",
        ErrorKind::Io => "io",
        ErrorKind::Protocol => "protocol",
        ErrorKind::Timeout => "timeout",
        ErrorKind::ConnectionLost => "connection_lost",
        ErrorKind::NotConnected => "not_connected",
        ErrorKind::Closed => "closed",
        ErrorKind::Config => "config",
        ErrorKind::Tls => "tls",
        ErrorKind::Type => "type",
        ErrorKind::Aborted => "aborted",
        ErrorKind::Unsupported => "unsupported",
        ErrorKind::Cluster => "cluster",
    }
}

/// The `server.address` and `server.port` of a configuration: its host and
/// port, a unix socket's path (port 0), or for Sentinel the monitored name.
pub(crate) fn endpoint(config: &crate::Config) -> (String, u16) {
    if let Some(sentinel) = &config.sentinel {
        return (sentinel.master_name.clone(), 0);
    }
    addr_endpoint(&config.addr)
}

/// The `server.address` and `server.port` of an address.
pub(crate) fn addr_endpoint(addr: &crate::Addr) -> (String, u16) {
    match addr {
        crate::Addr::Tcp { host, port } => (host.clone(), *port),
        crate::Addr::Unix(path) => (path.display().to_string(), 0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_types_are_bounded_codes_or_kind_names() {
        let wrongtype = Error::new(ErrorKind::Server, "WRONGTYPE Operation against a key");
        assert_eq!(error_type(&wrongtype), "WRONGTYPE");
        let made_up = Error::new(ErrorKind::Server, "SOMETHINGNEW happened");
        assert_eq!(error_type(&made_up), "server_error");
        assert_eq!(
            error_type(&Error::new(ErrorKind::Timeout, "late")),
            "timeout"
        );
    }
}
