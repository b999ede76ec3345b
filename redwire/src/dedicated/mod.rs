//! [`Connection`]: a connection of one user, for what a shared [`Client`]
//! refuses — blocking commands, `WATCH` transactions, `SELECT`, connection
//! modes — built on the same connection actor.
//!
//! **One socket, no reconnect.** A dedicated connection carries a session
//! (an open transaction, watched keys, a database). A new socket would
//! silently lose it, and the commands after it would run outside the
//! transaction or in the wrong database, so the actor does not reconnect: the
//! first drop ends the connection, every later request fails with
//! [`ErrorKind::Closed`](crate::ErrorKind::Closed), and its owner (the
//! `Pool`, or you) makes a new one.
//!
//! **The session is tracked** ([`is_clean`](Connection::is_clean)) from the
//! commands sent, and [`reset`](Connection::reset) clears it (`DISCARD`,
//! `UNWATCH`, `SELECT` back); a mode or name no command undoes
//! (`CLIENT TRACKING`, `READONLY`, `CLIENT SETNAME`) makes it unusable for a
//! pool.
//!
//! **Blocking commands** get their own patience, from their block time as
//! `Cmd::patience` reads it (`BLPOP`, `BLMOVE`, `BZPOPMIN`, `BLMPOP`,
//! `XREAD`/`XREADGROUP … BLOCK`, `WAIT`, `WAITAOF`…; for a pipeline, the
//! block times of its entries added up, since the server runs them one after
//! the other). Both clocks count from the end of it: the response timeout
//! (so a `BLPOP` that waits minutes is not taken for a dead server) and the
//! deadline, which is the block time plus `command_timeout`. With
//! `command_timeout(1 s)`, `BLPOP k 3` answers nil after 3 s and the
//! connection stays up; a block time of 0 (for ever) has no deadline at all.
//! A deadline given for the one call ([`send_timeout`](Connection::send_timeout))
//! is the whole deadline instead: the caller said how long it will wait.
//!
//! If the caller gives up on a blocking command (its deadline passes or its
//! future is dropped) the connection is closed at once: the server then
//! unblocks the command without popping anything, and the element stays in
//! the list for someone else. (A push that reaches the server in the instant
//! before it has seen the close can still be taken by the dying command: the
//! window is the server's, between the close and its noticing it.) A
//! command that does not block is simply abandoned, as on a shared client:
//! its reply is read and dropped, and the connection stays usable.
//!
//! **What it still refuses**: what breaks one reply per request (an empty
//! command, `SUBSCRIBE` and friends, `MONITOR`, `CLIENT REPLY`) and what the
//! configuration owns (`HELLO`, `AUTH`, `RESET`, `QUIT`); see
//! [`rules`](crate::rules).
//!
//! [`Client`]: crate::Client

mod session;
mod transaction;

use crate::client::link::Link;
use crate::client::sending::{Exchange, Sending};
use crate::cmd::{Cmd, ToArg};
use crate::commands::{Commands, ScriptCall};
use crate::config::Config;
use crate::connection::state::{ConnectionState, Event};
use crate::connection::Kind;
use crate::error::{Error, ErrorKind, Result};
use crate::pipeline::Pipeline;
use crate::telemetry::span::Observed;
use crate::value::{FromValue, Value};
pub(crate) use session::Session;
use std::time::Duration;
pub use transaction::{Attempt, AttemptFuture, TransactionRetry};

/// A connection of its own: one user, one socket, every command that a shared
/// [`Client`](crate::Client) refuses for being stateful or blocking.
///
/// ```no_run
/// # async fn demo() -> redwire::Result<()> {
/// use redwire::prelude::*;
///
/// let mut conn = Connection::connect("redis://127.0.0.1".parse()?).await?;
/// // Blocks up to 5 s without holding anyone else up.
/// let job: Option<(String, String)> = conn.blpop(["jobs"], 5.0).await?;
/// conn.send(&cmd("SELECT").arg(2)).await?;
/// # Ok(()) }
/// ```
pub struct Connection {
    link: Link,
    session: Session,
    /// When a pool last took it back.
    #[cfg_attr(not(feature = "pool"), allow(dead_code))]
    pub(crate) returned: Option<std::time::Instant>,
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection")
            .field("url", &self.link.config.redacted_url())
            .field("state", &self.link.state())
            .field("session", &self.session)
            .finish()
    }
}

impl Connection {
    /// Connects and returns the first error (refused, unknown host, wrong
    /// password…), bounded by the connect timeout. The connection is not
    /// re-made after a drop (see the module docs).
    ///
    /// ```no_run
    /// # async fn demo() -> redwire::Result<()> {
    /// let conn = redwire::Connection::connect("redis://127.0.0.1/3".parse()?).await?;
    /// # Ok(()) }
    /// ```
    pub async fn connect(config: Config) -> Result<Connection> {
        Ok(Connection {
            link: {
                let (sink, pushes) = crate::client::link::lossy_pushes();
                Link::connect(config, Kind::Dedicated(sink), Some(pushes)).await?
            },
            session: Session::default(),
            returned: None,
        })
    }

    /// The reader of the pushes this connection receives (in RESP3, the
    /// invalidations of `CLIENT TRACKING`), never mistaken for replies; at
    /// most 1,024 wait, beyond that they are dropped and counted. The first
    /// call takes it.
    ///
    /// ```no_run
    /// # async fn demo(mut conn: redwire::Connection) -> redwire::Result<()> {
    /// let mut pushes = conn.pushes().expect("first call");
    /// conn.send(&redwire::cmd("CLIENT").arg("TRACKING").arg("ON")).await?;
    /// # Ok(()) }
    /// ```
    pub fn pushes(&self) -> Option<crate::client::link::Pushes> {
        self.link.take_pushes()
    }

    /// The configuration it was made with.
    pub fn config(&self) -> &Config {
        &self.link.config
    }

    /// The connection's state now: `Connected` until its one socket ends,
    /// then `Closed` (it is never re-made).
    ///
    /// ```no_run
    /// # fn demo(conn: redwire::Connection) {
    /// println!("{:?}", conn.state());
    /// # }
    /// ```
    pub fn state(&self) -> ConnectionState {
        self.link.state()
    }

    /// A receiver of the connection's events from now on (`Disconnected`
    /// with the reason, then `Closed`).
    ///
    /// ```no_run
    /// # async fn demo(conn: redwire::Connection) {
    /// let mut events = conn.events();
    /// if let Ok(redwire::Event::Disconnected { reason }) = events.recv().await {
    ///     eprintln!("the connection ended: {reason}");
    /// }
    /// # }
    /// ```
    pub fn events(&self) -> tokio::sync::broadcast::Receiver<Event> {
        self.link.shared.events.subscribe()
    }

    /// True once the connection has ended (dropped by the server, closed, or
    /// aborted because a blocking command's caller gave up); every request
    /// then fails.
    ///
    /// ```no_run
    /// # async fn demo(conn: redwire::Connection) {
    /// if conn.is_closed() {
    ///     eprintln!("make a new one");
    /// }
    /// # }
    /// ```
    pub fn is_closed(&self) -> bool {
        self.link.is_closed()
    }

    /// True when the connection carries no session state: no open `MULTI`,
    /// no watched key, the configured database, no mode or name changed.
    ///
    /// ```no_run
    /// # async fn demo(mut conn: redwire::Connection) -> redwire::Result<()> {
    /// conn.send(&redwire::cmd("WATCH").arg("k")).await?;
    /// assert!(!conn.is_clean());
    /// conn.reset().await?;
    /// assert!(conn.is_clean());
    /// # Ok(()) }
    /// ```
    pub fn is_clean(&self) -> bool {
        self.session.is_clean()
    }

    /// Clears the session: `DISCARD` an open transaction, `UNWATCH`, `SELECT`
    /// the configured database. A mode or name that no command undoes is an
    /// [`ErrorKind::Unsupported`] error: drop the connection instead.
    pub async fn reset(&mut self) -> Result<()> {
        let Some(commands) = self.session.clearing(self.link.config.database) else {
            return Err(Error::new(
                ErrorKind::Unsupported,
                "the connection's mode or name was changed (CLIENT TRACKING, READONLY, \
                 CLIENT SETNAME…), which no command undoes simply: drop it and make a new one",
            ));
        };
        for c in &commands {
            self.send(c).await?;
        }
        self.session = Session::default();
        Ok(())
    }

    /// Sends a command and returns its reply. Refused before anything is
    /// written: what a dedicated connection cannot carry either (see the
    /// module docs).
    ///
    /// ```no_run
    /// # async fn demo(mut conn: redwire::Connection) -> redwire::Result<()> {
    /// conn.send(&redwire::cmd("WATCH").arg("balance")).await?;
    /// # Ok(()) }
    /// ```
    pub fn send(&mut self, cmd: &Cmd) -> Sending<'_, Value> {
        self.sending(cmd, None, None)
    }

    /// Like [`send`](Self::send) with a deadline of its own (or none), which
    /// covers queueing and the reply, as
    /// [`Client::send_timeout`](crate::Client::send_timeout) does. For a
    /// blocking command it is the whole deadline, in place of its block
    /// time plus `command_timeout`; when it passes while the command is
    /// blocked, the connection is closed (see the module docs), so nothing
    /// is popped for nobody.
    ///
    /// ```no_run
    /// # async fn demo(mut conn: redwire::Connection) -> redwire::Result<()> {
    /// use redwire::{cmd, ErrorKind};
    /// use std::time::Duration;
    ///
    /// // A report that may take long: no deadline, whatever the config says.
    /// conn.send_timeout(&cmd("DEBUG").arg("SLEEP").arg(2), None).await?;
    /// // Wait for a job at most 100 ms, though BLPOP itself would wait 10 s.
    /// let pop = cmd("BLPOP").arg("jobs").arg(10);
    /// match conn.send_timeout(&pop, Some(Duration::from_millis(100))).await {
    ///     Err(e) if e.kind() == ErrorKind::Timeout => assert!(conn.is_closed()),
    ///     other => println!("{other:?}"),
    /// }
    /// # Ok(()) }
    /// ```
    pub fn send_timeout(&mut self, cmd: &Cmd, timeout: Option<Duration>) -> Sending<'_, Value> {
        self.sending(cmd, Some(timeout), None)
    }

    /// Sends a command and converts its reply.
    ///
    /// ```no_run
    /// # async fn demo(mut conn: redwire::Connection) -> redwire::Result<()> {
    /// let n: i64 = conn.query(&redwire::cmd("INCR").arg("n")).await?;
    /// # Ok(()) }
    /// ```
    pub fn query<T: FromValue>(&mut self, cmd: &Cmd) -> Sending<'_, T> {
        self.sending(cmd, None, None)
    }

    /// The future of `cmd`, within `deadline` when the caller gave one
    /// (`Some(None)`: none at all), else within [`default_deadline`].
    fn sending<T>(
        &mut self,
        cmd: &Cmd,
        deadline: Option<Option<Duration>>,
        fallback: Option<ScriptCall>,
    ) -> Sending<'_, T> {
        let bytes = cmd.check_dedicated(false).map(|()| {
            self.session.apply(cmd.effect(), self.link.config.database);
            cmd.to_wire()
        });
        let patience = cmd.patience();
        let limit = deadline
            .unwrap_or_else(|| default_deadline(self.link.config.command_timeout, patience));
        let observed = Observed::command(&self.link, cmd);
        Sending::new(&self.link, bytes, limit, fallback, observed).blocking(patience)
    }

    /// Sends a pipeline as one write; one result per command, or for an
    /// [`atomic`](Pipeline::atomic) one the results of `EXEC` (an
    /// [`ErrorKind::Aborted`] error when a `WATCH`ed key changed).
    ///
    /// ```no_run
    /// # async fn demo(mut conn: redwire::Connection) -> redwire::Result<()> {
    /// let mut p = redwire::Pipeline::new();
    /// p.add(redwire::cmd("INCR").arg("a")).add(redwire::cmd("INCR").arg("b"));
    /// let results = conn.pipeline(&p).await?;
    /// # Ok(()) }
    /// ```
    pub async fn pipeline(&mut self, pipeline: &Pipeline) -> Result<Vec<Result<Value>>> {
        if pipeline.is_empty() {
            return Ok(Vec::new());
        }
        pipeline.check_dedicated()?;
        let observed = Observed::pipeline(&self.link, pipeline);
        let results = self.run_pipeline(pipeline).await;
        observed.finish(&self.link, &results);
        results
    }

    /// A pipeline's round trip (see [`pipeline`](Self::pipeline)).
    async fn run_pipeline(&mut self, pipeline: &Pipeline) -> Result<Vec<Result<Value>>> {
        let database = self.link.config.database;
        for effect in pipeline.effects() {
            self.session.apply(*effect, database);
        }
        let limit = self.link.config.command_timeout;
        let frames = Exchange::new(
            &self.link,
            Ok(pipeline.wire()),
            default_deadline(limit, pipeline.patience()),
        )
        .blocking(pipeline.patience())
        .await?;
        if pipeline.is_atomic() {
            self.session.transaction_ran();
        }
        let mut results = pipeline.results(frames.into_frames())?;
        if let Some((indices, again)) = pipeline.noscript_retries(&results) {
            let frames = Exchange::new(&self.link, Ok(again.wire()), limit).await?;
            for (index, result) in indices
                .into_iter()
                .zip(again.results(frames.into_frames())?)
            {
                results[index] = result;
            }
        }
        Ok(results)
    }

    /// Closes the connection after the requests sent are answered.
    ///
    /// ```no_run
    /// # async fn demo(conn: redwire::Connection) {
    /// conn.close().await;
    /// # }
    /// ```
    pub async fn close(self) {
        let grace = self
            .link
            .config
            .response_timeout
            .unwrap_or(std::time::Duration::from_secs(30));
        let _ = self
            .link
            .tx
            .send(crate::connection::Msg::Close { grace })
            .await;
        let mut state = self.link.shared.state.subscribe();
        let _ = state.wait_for(|s| *s == ConnectionState::Closed).await;
    }

    /// Whether the session holds nothing a new connection could not rebuild
    /// by commands: for the pool's return check.
    #[cfg(feature = "pool")]
    pub(crate) fn is_reusable(&self) -> bool {
        !self.is_closed() && !self.session.is_tainted()
    }

    /// `WATCH` of `keys` (for [`transaction`](Self::transaction)).
    fn watch(&mut self, keys: &impl ToArg) -> Sending<'_, ()> {
        self.query(&crate::cmd::cmd("WATCH").arg(keys))
    }
}

/// Typed commands on a dedicated connection: each returns a [`Sending`]
/// future, bounded by the configured `command_timeout`, plus its block time
/// for a blocking one (see the module docs).
///
/// ```no_run
/// # async fn demo(mut conn: redwire::Connection) -> redwire::Result<()> {
/// use redwire::prelude::*;
/// let moved: Option<String> = conn.blmove("todo", "doing", End::Left, End::Right, 0.0).await?;
/// # Ok(()) }
/// ```
impl<'a> Commands for &'a mut Connection {
    type Reply<T: FromValue> = Sending<'a, T>;

    fn command<T: FromValue>(self, cmd: Cmd) -> Sending<'a, T> {
        self.sending(&cmd, None, None)
    }

    fn script<T: FromValue>(self, call: ScriptCall) -> Sending<'a, T> {
        let evalsha = call.evalsha();
        self.sending(&evalsha, None, Some(call))
    }
}

/// The deadline of a request on a dedicated connection that has none of its
/// own: `command_timeout`, plus the block time of a blocking command
/// (`patience`), the rule its response timeout follows too; none for one
/// that blocks for ever (`Duration::MAX`) or when `command_timeout` is none.
fn default_deadline(command_timeout: Option<Duration>, patience: Duration) -> Option<Duration> {
    if patience == Duration::MAX {
        return None;
    }
    command_timeout.map(|limit| limit.saturating_add(patience))
}

#[cfg(test)]
mod tests {
    use super::default_deadline;
    use std::time::Duration;

    #[test]
    fn a_blocking_command_gets_its_block_time_on_top_of_the_command_timeout() {
        let s = Duration::from_secs;
        assert_eq!(default_deadline(Some(s(1)), Duration::ZERO), Some(s(1)));
        assert_eq!(default_deadline(Some(s(1)), s(3)), Some(s(4)));
        assert_eq!(default_deadline(Some(s(1)), Duration::MAX), None);
        assert_eq!(default_deadline(None, s(3)), None);
        assert_eq!(default_deadline(None, Duration::ZERO), None);
        assert_eq!(
            default_deadline(Some(s(u64::MAX)), s(3)),
            Some(Duration::MAX)
        );
    }
}
