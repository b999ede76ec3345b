//! [`Pool`]: a pool of dedicated [`Connection`]s, each its own connection
//! actor, for the work a shared `Client` refuses (blocking
//! commands, `WATCH` transactions, connection modes). Needs the `pool`
//! feature.
//!
//! Built on bb8, which does the pool's bookkeeping (size, idle and lifetime
//! limits, waiting with a timeout, replacing broken connections in the
//! background). redwire decides what a connection coming back may carry:
//!
//! - **On return** (synchronous): a connection that was closed, aborted (a
//!   blocking command's caller gave up: the socket is closed so the server
//!   pops nothing for nobody), or whose mode or name changed, is discarded.
//! - **On checkout**: its session is cleared if it is not clean (`DISCARD` an
//!   open `MULTI`, `UNWATCH`, `SELECT` back), and a connection that sat in
//!   the pool longer than [`check_idle_after`](PoolBuilder::check_idle_after)
//!   (1 s by default) proves itself alive with a `PING` first. One back
//!   sooner is handed out at once if its socket is still up: a `PING` on
//!   every checkout would double the round trips of a busy pool (the peers
//!   do that). Replies the previous user left unread never reach the next
//!   one: the actor reads and drops them.
//!
//! Connections are never re-made under a user: a dedicated connection ends
//! with its socket, and the pool makes a new one.
//!
//! **A checkout that fails says why.** bb8 makes connections in tasks of its
//! own, retrying a failed connect (400 ms, doubling, up to half the checkout
//! timeout) until the checkout timeout, and its `get` only ever times out:
//! the connect error would be lost. So the manager keeps the error of the
//! latest attempt (a `watch`, cleared by the next success), and
//! [`Pool::get`] reads it:
//!
//! - an error that waiting does not cure fails the checkout as soon as it
//!   happens, with that error: a wrong password or missing permission
//!   (`WRONGPASS`, `NOAUTH`, `NOPERM`), an invalid configuration, a TLS
//!   failure. A checkout that starts while the latest attempt failed so, and
//!   no connection is idle, fails at once too, after starting a new attempt
//!   (a fixed server is found by the next checkout); one that finds an idle
//!   connection (logged in before a password changed, say) gets it;
//! - any other (refused, reset, unknown host, connect timeout) is retried,
//!   so a server that comes back within the checkout timeout serves the
//!   checkout; when the timeout passes, its [`ErrorKind::Timeout`] error
//!   names the last connect error and carries it as its `source()`.
//!
//! bb8's `error_sink` would see the same errors but not which checkout they
//! concern, and `retry_connection(false)` would fail a checkout on nothing:
//! bb8 then just stops making connections until the timeout. The pool counts
//! the checkouts under way itself ([`PoolState::waiting`]): bb8's count keeps
//! one that was given up or dropped.

use crate::client::sending::Sending;
use crate::cmd::{cmd, Cmd, ToArg};
use crate::commands::{Commands, ScriptCall};
use crate::config::Config;
use crate::dedicated::{Attempt, Connection, TransactionRetry};
use crate::error::{Error, ErrorKind, Result};
use crate::telemetry::meter::PoolMeter;
use crate::value::{FromValue, Value};
use std::ops::{Deref, DerefMut};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// What the pool knows how to make and check.
struct Manager {
    config: Config,
    /// A connection idle longer than this is checked with a `PING`.
    check_idle_after: Duration,
    /// The error of the latest attempt to connect, `None` once one
    /// succeeded: what a checkout that cannot get a connection reports.
    connect_errors: watch::Sender<Option<Error>>,
    /// The pool's metrics (nothing without the `metrics` feature).
    meter: Arc<PoolMeter>,
}

impl bb8::ManageConnection for Manager {
    type Connection = Connection;
    type Error = Error;

    async fn connect(&self) -> Result<Connection> {
        let began = std::time::Instant::now();
        match Connection::connect(self.config.clone()).await {
            Ok(conn) => {
                self.meter.created(began.elapsed());
                self.connect_errors
                    .send_if_modified(|last| last.take().is_some());
                Ok(conn)
            }
            Err(e) => {
                self.connect_errors.send_replace(Some(e.clone()));
                Err(e)
            }
        }
    }

    async fn is_valid(&self, conn: &mut Connection) -> Result<()> {
        if conn.is_closed() {
            return Err(Error::closed("the pooled connection was lost"));
        }
        if !conn.is_clean()
            && !crate::connection::bugs::on(crate::connection::bugs::Bug::DirtyCheckout)
        {
            conn.reset().await?;
        }
        let fresh = conn
            .returned
            .is_some_and(|at| at.elapsed() < self.check_idle_after);
        if fresh {
            return Ok(());
        }
        let pong: Value = conn.send(&cmd("PING")).await?;
        match pong {
            Value::Simple(s) if s == "PONG" => Ok(()),
            other => Err(Error::new(
                ErrorKind::Protocol,
                format!("the health check's PING was answered {other:?}"),
            )),
        }
    }

    fn has_broken(&self, conn: &mut Connection) -> bool {
        conn.returned = Some(std::time::Instant::now());
        !conn.is_reusable()
    }
}

/// A pool of dedicated connections.
///
/// ```no_run
/// # async fn demo() -> redwire::Result<()> {
/// use redwire::prelude::*;
///
/// let pool = redwire::Pool::builder("redis://127.0.0.1".parse()?).max_size(8).build().await?;
/// let mut conn = pool.get().await?;
/// let job: Option<(String, String)> = conn.blpop(["jobs"], 1.0).await?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Pool {
    inner: bb8::Pool<Manager>,
    /// The manager's outcome of the latest attempt to connect.
    connect_errors: watch::Receiver<Option<Error>>,
    /// Checkouts under way (bb8's own count keeps one that was dropped).
    waiting: Arc<AtomicU64>,
    meter: Arc<PoolMeter>,
}

/// True for a connect error that waiting does not cure: a wrong password or
/// missing permission, an invalid configuration, a TLS failure (a
/// certificate that does not verify stays so). A refused or reset
/// connection, an unknown host or a timeout may pass, and are retried.
fn is_lasting(e: &Error) -> bool {
    e.is_auth_failure() || matches!(e.kind(), ErrorKind::Config | ErrorKind::Tls)
}

/// Counts a checkout in [`Pool::waiting`] for as long as it lives.
struct Waiting<'a>(&'a AtomicU64);

impl<'a> Waiting<'a> {
    fn new(count: &'a AtomicU64) -> Self {
        count.fetch_add(1, Ordering::Relaxed);
        Waiting(count)
    }
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

impl std::fmt::Debug for Pool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pool")
            .field("state", &self.state())
            .finish()
    }
}

/// How a [`Pool`] is sized and how long its connections live.
///
/// ```no_run
/// # async fn demo() -> redwire::Result<()> {
/// use std::time::Duration;
/// let pool = redwire::Pool::builder("redis://127.0.0.1".parse()?)
///     .max_size(32)
///     .min_idle(4)
///     .checkout_timeout(Duration::from_secs(2))
///     .idle_timeout(Some(Duration::from_secs(300)))
///     .max_lifetime(Some(Duration::from_secs(3600)))
///     .build()
///     .await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct PoolBuilder {
    config: Config,
    max_size: u32,
    min_idle: Option<u32>,
    checkout_timeout: Duration,
    idle_timeout: Option<Duration>,
    max_lifetime: Option<Duration>,
    check_idle_after: Duration,
}

impl PoolBuilder {
    /// Check a connection with a `PING` before handing it out when it sat
    /// in the pool longer than this (default 1 s; zero: every time).
    #[must_use]
    pub fn check_idle_after(mut self, idle: Duration) -> Self {
        self.check_idle_after = idle;
        self
    }

    /// At most this many connections, in use and idle (default 16).
    #[must_use]
    pub fn max_size(mut self, max_size: u32) -> Self {
        self.max_size = max_size;
        self
    }

    /// Keep at least this many idle connections, made in the background
    /// (default none).
    #[must_use]
    pub fn min_idle(mut self, min_idle: u32) -> Self {
        self.min_idle = Some(min_idle);
        self
    }

    /// How long [`Pool::get`] waits for a connection, making one included,
    /// before failing with [`ErrorKind::Timeout`] (default 5 s).
    #[must_use]
    pub fn checkout_timeout(mut self, timeout: Duration) -> Self {
        self.checkout_timeout = timeout;
        self
    }

    /// Close connections idle for this long, down to the minimum (default
    /// 10 minutes; `None`: never).
    #[must_use]
    pub fn idle_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.idle_timeout = timeout;
        self
    }

    /// Close connections this old when they come back (default 30 minutes;
    /// `None`: never).
    #[must_use]
    pub fn max_lifetime(mut self, lifetime: Option<Duration>) -> Self {
        self.max_lifetime = lifetime;
        self
    }

    /// Makes the pool and its minimum of idle connections; fails with the
    /// first connection's error (wrong password, refused…) if there is a
    /// minimum.
    pub async fn build(self) -> Result<Pool> {
        let (builder, manager) = self.into_parts();
        let connect_errors = manager.connect_errors.subscribe();
        let meter = manager.meter.clone();
        let inner = builder.build(manager).await?;
        Ok(Pool::from_parts(inner, connect_errors, meter))
    }

    /// bb8's builder and the manager. Expired and long-idle connections are
    /// looked for four times per the shorter of the two limits (bb8 checks
    /// the lifetime only when a connection comes back, and otherwise every
    /// 30 s).
    fn into_parts(self) -> (bb8::Builder<Manager>, Manager) {
        let shortest = [self.idle_timeout, self.max_lifetime]
            .into_iter()
            .flatten()
            .min()
            .unwrap_or(Duration::from_secs(120));
        let reaper = (shortest / 4).clamp(Duration::from_millis(10), Duration::from_secs(30));
        let builder = bb8::Pool::builder()
            .max_size(self.max_size.max(1))
            .min_idle(self.min_idle)
            .connection_timeout(self.checkout_timeout)
            .idle_timeout(self.idle_timeout)
            .max_lifetime(self.max_lifetime)
            .reaper_rate(reaper)
            .test_on_check_out(true);
        let manager = Manager {
            meter: Arc::new(PoolMeter::new(&self.config)),
            config: self.config,
            check_idle_after: self.check_idle_after,
            connect_errors: watch::Sender::new(None),
        };
        (builder, manager)
    }
}

/// The pool's figures at one moment.
///
/// ```no_run
/// # fn demo(pool: redwire::Pool) {
/// let state = pool.state();
/// if state.waiting > 0 {
///     eprintln!("{} callers wait for one of {} connections", state.waiting, state.in_use);
/// }
/// # }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct PoolState {
    /// Connections checked out now.
    pub in_use: u32,
    /// Connections waiting in the pool now.
    pub idle: u32,
    /// Callers waiting for a connection now.
    pub waiting: u64,
    /// Connections made since the pool started.
    pub created: u64,
    /// Connections closed since the pool started: broken, dirty beyond
    /// repair, failed their check, too old or idle too long.
    pub discarded: u64,
    /// Checkouts that gave up at the checkout timeout.
    pub timed_out: u64,
}

impl Pool {
    /// A pool with the defaults (see [`PoolBuilder`]); connections are made
    /// when first asked for.
    ///
    /// ```no_run
    /// # async fn demo() -> redwire::Result<()> {
    /// let pool = redwire::Pool::new("redis://127.0.0.1".parse()?);
    /// # Ok(()) }
    /// ```
    pub fn new(config: Config) -> Pool {
        let (builder, manager) = Pool::builder(config).into_parts();
        let connect_errors = manager.connect_errors.subscribe();
        let meter = manager.meter.clone();
        Pool::from_parts(builder.build_unchecked(manager), connect_errors, meter)
    }

    fn from_parts(
        inner: bb8::Pool<Manager>,
        connect_errors: watch::Receiver<Option<Error>>,
        meter: Arc<PoolMeter>,
    ) -> Pool {
        Pool {
            inner,
            connect_errors,
            waiting: Arc::new(AtomicU64::new(0)),
            meter,
        }
    }

    /// A builder with the defaults: 16 connections at most, none kept idle,
    /// 5 s to check one out, a `PING` for one idle over 1 s, idle ones closed
    /// after 10 minutes, every one after 30.
    pub fn builder(config: Config) -> PoolBuilder {
        PoolBuilder {
            config,
            max_size: 16,
            min_idle: None,
            checkout_timeout: Duration::from_secs(5),
            idle_timeout: Some(Duration::from_secs(600)),
            max_lifetime: Some(Duration::from_secs(1800)),
            check_idle_after: Duration::from_secs(1),
        }
    }

    /// A connection for as long as the returned handle lives; waits for one
    /// to be free (within the checkout timeout). The connection comes clean
    /// and checked (see the module docs).
    ///
    /// When the pool cannot make a connection, the error says why: a wrong
    /// password (`WRONGPASS`…), an invalid configuration or a TLS failure
    /// fails the checkout at once with the connect error itself; a refused
    /// connection is tried again until the checkout timeout, and then the
    /// [`ErrorKind::Timeout`] error names the last connect error (in its
    /// message, and as its [`source`](std::error::Error::source)).
    ///
    /// ```no_run
    /// # async fn demo(pool: redwire::Pool) -> redwire::Result<()> {
    /// use redwire::ErrorKind;
    /// match pool.get().await {
    ///     Ok(mut conn) => {
    ///         conn.send(&redwire::cmd("SELECT").arg(1)).await?; // cleared before the next user
    ///     }
    ///     Err(e) if e.code() == Some("WRONGPASS") => eprintln!("fix the password: {e}"),
    ///     Err(e) if e.kind() == ErrorKind::Timeout => eprintln!("busy or down: {e}"),
    ///     Err(e) => return Err(e),
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn get(&self) -> Result<PooledConnection> {
        let began = std::time::Instant::now();
        let got = self.checkout().await;
        self.meter.checkout(began.elapsed(), &got);
        report_levels(&self.inner, &self.meter);
        got
    }

    /// A checkout (see [`get`](Self::get)).
    async fn checkout(&self) -> Result<PooledConnection> {
        let _waiting = Waiting::new(&self.waiting);
        let mut errors = self.connect_errors.clone();
        let last = errors.borrow_and_update().clone();
        let checkout = self.inner.get_owned();
        tokio::pin!(checkout);
        if let Some(e) = last.filter(is_lasting) {
            // The latest attempt failed for good. An idle connection (made
            // before, still logged in) may serve; with none, one poll starts
            // bb8 making a new one (the server may have been fixed since),
            // and that error it is.
            let idle = self.inner.state().idle_connections;
            tokio::select! {
                biased;
                got = &mut checkout => return self.checked_out(got),
                () = std::future::ready(()) => {}
            }
            if idle == 0 {
                return Err(e);
            }
        }
        tokio::select! {
            biased;
            got = &mut checkout => self.checked_out(got),
            e = lasting_error(&mut errors) => Err(e),
        }
    }

    /// bb8's answer as the pool's: a timeout says why no connection came.
    fn checked_out(
        &self,
        got: std::result::Result<bb8::PooledConnection<'static, Manager>, bb8::RunError<Error>>,
    ) -> Result<PooledConnection> {
        match got {
            Ok(conn) => Ok(PooledConnection {
                conn: Some(conn),
                #[cfg(feature = "metrics")]
                report: (self.inner.clone(), self.meter.clone()),
            }),
            Err(bb8::RunError::User(e)) => Err(e),
            Err(bb8::RunError::TimedOut) => {
                let state = self.state();
                let mut message = format!(
                    "no pooled connection within the checkout timeout of {:?} \
                     ({} in use, {} waiting)",
                    self.inner.config().connection_timeout,
                    state.in_use,
                    state.waiting.saturating_sub(1)
                );
                match self.connect_errors.borrow().clone() {
                    Some(why) => {
                        message.push_str(&format!(": the pool could not connect ({why})"));
                        Err(Error::with_source(ErrorKind::Timeout, message, why))
                    }
                    None => Err(Error::new(ErrorKind::Timeout, message)),
                }
            }
        }
    }

    /// Runs an optimistic transaction on one of the pool's connections; see
    /// [`Connection::transaction`]. The future is `Send` and the body may
    /// borrow the caller's data.
    ///
    /// ```no_run
    /// # async fn demo(pool: redwire::Pool) -> redwire::Result<()> {
    /// use redwire::prelude::*;
    /// let item = String::from("stock:42");
    /// pool.transaction(&item, |conn| {
    ///     Box::pin(async {
    ///         let stock: i64 = conn.get::<Option<i64>>(&item).await?.unwrap_or(0);
    ///         let mut writes = Pipeline::new();
    ///         if stock > 0 {
    ///             writes.decr(&item);
    ///         }
    ///         Ok(writes)
    ///     })
    /// })
    /// .await?;
    /// # Ok(()) }
    /// ```
    pub async fn transaction<'data, F>(
        &self,
        keys: impl ToArg,
        body: F,
    ) -> Result<Vec<Result<Value>>>
    where
        F: for<'c> FnMut(&'c mut Connection) -> Attempt<'c, 'data>,
    {
        self.transaction_with(keys, TransactionRetry::DEFAULT, body)
            .await
    }

    /// Like [`transaction`](Self::transaction) with a retry policy of your
    /// own; see [`Connection::transaction_with`].
    ///
    /// ```no_run
    /// # async fn demo(pool: redwire::Pool) -> redwire::Result<()> {
    /// use redwire::prelude::*;
    /// let once = redwire::TransactionRetry::default().attempts(1);
    /// let outcome = pool
    ///     .transaction_with("seat:12", once, |conn| {
    ///         Box::pin(async move {
    ///             let taken: bool = conn.exists(["seat:12"]).await? > 0;
    ///             let mut writes = Pipeline::new();
    ///             if !taken {
    ///                 writes.set("seat:12", "ada");
    ///             }
    ///             Ok(writes)
    ///         })
    ///     })
    ///     .await;
    /// if matches!(&outcome, Err(e) if e.kind() == ErrorKind::Aborted) {
    ///     println!("someone else was quicker");
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn transaction_with<'data, F>(
        &self,
        keys: impl ToArg,
        retry: TransactionRetry,
        body: F,
    ) -> Result<Vec<Result<Value>>>
    where
        F: for<'c> FnMut(&'c mut Connection) -> Attempt<'c, 'data>,
    {
        self.get().await?.transaction_with(keys, retry, body).await
    }

    /// The pool's figures now.
    ///
    /// ```no_run
    /// # fn demo(pool: redwire::Pool) {
    /// let s = pool.state();
    /// println!("{} in use, {} idle, {} waiting", s.in_use, s.idle, s.waiting);
    /// # }
    /// ```
    pub fn state(&self) -> PoolState {
        let state = self.inner.state();
        let stats = &state.statistics;
        PoolState {
            in_use: state.connections - state.idle_connections,
            idle: state.idle_connections,
            waiting: self.waiting.load(Ordering::Relaxed),
            created: stats.connections_created,
            // Every connection made is alive or gone. (bb8's own counters
            // count a connection that failed its check twice.)
            discarded: stats
                .connections_created
                .saturating_sub(u64::from(state.connections)),
            timed_out: stats.get_timed_out,
        }
    }
}

/// The first connect error that waiting does not cure, from now on.
async fn lasting_error(errors: &mut watch::Receiver<Option<Error>>) -> Error {
    loop {
        if errors.changed().await.is_err() {
            // The manager is gone with the pool: only the checkout can end.
            return std::future::pending().await;
        }
        if let Some(e) = errors.borrow_and_update().clone().filter(is_lasting) {
            return e;
        }
    }
}

/// A connection checked out of a [`Pool`]; it goes back when dropped. It
/// derefs to [`Connection`], so it has the raw `send`/`pipeline` and (with
/// `use redwire::prelude::*`) every typed command.
///
/// ```no_run
/// # async fn demo(pool: redwire::Pool) -> redwire::Result<()> {
/// use redwire::prelude::*;
/// let mut conn: redwire::PooledConnection = pool.get().await?;
/// conn.set("k", "v").await?;
/// drop(conn); // back to the pool, clean
/// # Ok(()) }
/// ```
pub struct PooledConnection {
    /// Always there but in `drop`, which gives it back before it reports
    /// the pool's levels.
    conn: Option<bb8::PooledConnection<'static, Manager>>,
    /// Where to report the levels once it is back.
    #[cfg(feature = "metrics")]
    report: (bb8::Pool<Manager>, Arc<PoolMeter>),
}

impl PooledConnection {
    fn conn(&self) -> &bb8::PooledConnection<'static, Manager> {
        self.conn.as_ref().expect("taken only by drop")
    }
}

impl Drop for PooledConnection {
    fn drop(&mut self) {
        // Back in the pool first, so that the levels count it there.
        drop(self.conn.take());
        #[cfg(feature = "metrics")]
        report_levels(&self.report.0, &self.report.1);
    }
}

/// Tells the pool's meter its idle and used connections now.
#[inline]
fn report_levels(pool: &bb8::Pool<Manager>, meter: &PoolMeter) {
    #[cfg(feature = "metrics")]
    {
        let state = pool.state();
        let used = state.connections - state.idle_connections;
        meter.levels(state.idle_connections, used);
    }
    #[cfg(not(feature = "metrics"))]
    let _ = (pool, meter);
}

impl Deref for PooledConnection {
    type Target = Connection;

    fn deref(&self) -> &Connection {
        self.conn()
    }
}

impl DerefMut for PooledConnection {
    fn deref_mut(&mut self) -> &mut Connection {
        self.conn.as_mut().expect("taken only by drop")
    }
}

impl std::fmt::Debug for PooledConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("PooledConnection")
            .field(&**self.conn())
            .finish()
    }
}

/// Typed commands on a pooled connection, as on a [`Connection`].
impl<'a> Commands for &'a mut PooledConnection {
    type Reply<T: FromValue> = Sending<'a, T>;

    fn command<T: FromValue>(self, cmd: Cmd) -> Sending<'a, T> {
        (&mut **self).command(cmd)
    }

    fn script<T: FromValue>(self, call: ScriptCall) -> Sending<'a, T> {
        (&mut **self).script(call)
    }
}
