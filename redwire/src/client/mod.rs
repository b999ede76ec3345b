//! [`Client`]: the cheap, cloneable handle callers use. Every clone talks to the
//! same connection actor; dropping the last clone ends it.
//!
//! The round trip of a request is the named future in `sending`; the typed
//! commands reach it through `impl Commands for &Client` (below).

#[cfg(feature = "client-cache")]
mod cached;
pub(crate) mod link;
pub(crate) mod sending;

use link::Link;

#[cfg(feature = "client-cache")]
pub use cached::Cached;
pub use link::Pushes;
pub use sending::Sending;

use crate::cmd::{Cmd, ToArg};
use crate::commands::{Commands, ScriptCall};
use crate::config::Config;
use crate::connection::state::{ConnectionState, Event};
use crate::connection::{Msg, Request};
use crate::error::{Error, Result};
use crate::pipeline::Pipeline;
use crate::telemetry::span::Observed;
use crate::value::{FromValue, Value};
use sending::Exchange;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{broadcast, mpsc};

/// A handle to one multiplexed connection. Clone it to share the connection:
/// requests from all clones are pipelined onto one socket, each caller waits only
/// for its own reply.
///
/// Because the connection is shared, a command that would break
/// one-reply-per-request or change the connection for every caller (`MULTI`,
/// `WATCH`, `SUBSCRIBE`, `SELECT`, `CLIENT REPLY`, an empty command…) is refused
/// before anything is written, with an [`ErrorKind::Unsupported`](crate::ErrorKind::Unsupported) error that
/// says where it belongs; the table is in [`rules`](crate::rules).
///
/// ```no_run
/// # async fn demo() -> redwire::Result<()> {
/// let client = redwire::Client::connect("redis://127.0.0.1:6379".parse()?).await?;
/// client.send(&redwire::cmd("SET").arg("greeting").arg("hello")).await?;
/// let greeting: String = client.query(&redwire::cmd("GET").arg("greeting")).await?;
/// assert_eq!(greeting, "hello");
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Client {
    inner: Arc<Link>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("url", &self.inner.config.redacted_url())
            .field("state", &self.state())
            .finish()
    }
}

impl Client {
    /// Creates a client and returns at once; it connects in the background and
    /// requests wait (within their deadline) until the connection is up.
    /// Must be called inside a tokio runtime.
    ///
    /// ```no_run
    /// # async fn demo() {
    /// let client = redwire::Client::new(redwire::Config::default());
    /// // Not connected yet, but usable: this waits for the connection.
    /// let _ = client.send(&redwire::cmd("PING")).await;
    /// # }
    /// ```
    pub fn new(config: Config) -> Client {
        Client {
            inner: Arc::new(Link::shared_client(config, None)),
        }
    }

    /// Connects first and returns the first error (refused, unknown host, wrong
    /// password, a server that never answers...), bounded by the connect timeout.
    /// After that the client reconnects by itself like one made with [`new`](Self::new).
    ///
    /// ```no_run
    /// # async fn demo() {
    /// match redwire::Client::connect("redis://:wrong@127.0.0.1".parse().unwrap()).await {
    ///     Err(e) if e.code() == Some("WRONGPASS") => eprintln!("bad password"),
    ///     Err(e) => eprintln!("cannot connect: {e}"),
    ///     Ok(client) => drop(client),
    /// }
    /// # }
    /// ```
    pub async fn connect(config: Config) -> Result<Client> {
        let (sink, pushes) = link::lossy_pushes();
        let link =
            Link::connect(config, crate::connection::Kind::Shared(sink), Some(pushes)).await?;
        Ok(Client {
            inner: Arc::new(link),
        })
    }

    /// The reader of the pushes this connection receives (in RESP3:
    /// `CLIENT TRACKING` invalidations redirected here, anything else the
    /// server sends on its own), never mistaken for replies. At most 1,024
    /// wait; beyond that they are dropped and counted. The first call takes
    /// it; later calls get `None`.
    ///
    /// ```no_run
    /// # async fn demo(client: redwire::Client) {
    /// let mut pushes = client.pushes().expect("first call");
    /// while let Some(push) = pushes.recv().await {
    ///     println!("{push:?}");
    /// }
    /// # }
    /// ```
    pub fn pushes(&self) -> Option<Pushes> {
        self.inner.take_pushes()
    }

    /// The handle whose reads are cached in [`CacheMode::OptIn`](crate::CacheMode::OptIn)
    /// (feature `client-cache`): each of its cacheable reads is sent right
    /// behind `CLIENT CACHING YES`, so the server tracks it, and served from
    /// memory while the key is unchanged. In the other modes every
    /// cacheable read is cached, through this handle or not.
    ///
    /// ```no_run
    /// # async fn demo() -> redwire::Result<()> {
    /// use redwire::prelude::*;
    /// let cache = redwire::CacheConfig::new().mode(redwire::CacheMode::OptIn);
    /// let config = redwire::Config::builder().client_cache(cache).build();
    /// let client = redwire::Client::connect(config).await?;
    /// let hot: Option<String> = client.cached().get("config:flags").await?; // cached
    /// let cold: Option<String> = client.get("report:today").await?; // not cached
    /// # Ok(()) }
    /// ```
    #[cfg(feature = "client-cache")]
    pub fn cached(&self) -> Cached<'_> {
        Cached { client: self }
    }

    /// What the client-side cache has done and holds; `None` without one.
    ///
    /// ```no_run
    /// # async fn demo(client: redwire::Client) {
    /// if let Some(stats) = client.cache_stats() {
    ///     println!("{:.0} % hits, {} bytes", stats.hit_ratio() * 100.0, stats.bytes);
    /// }
    /// # }
    /// ```
    #[cfg(feature = "client-cache")]
    pub fn cache_stats(&self) -> Option<crate::CacheStats> {
        self.inner.shared.cache.as_ref().map(|c| c.stats())
    }

    /// Opt-in reads of [`Cached`].
    #[cfg(feature = "client-cache")]
    pub(crate) fn cached_read<T>(&self, cmd: &Cmd) -> Sending<'_, T> {
        self.sending_marked(cmd, self.inner.config.command_timeout, None, true)
    }

    /// The configuration this client was made with.
    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    /// The connection's state now.
    pub fn state(&self) -> ConnectionState {
        self.inner.state()
    }

    /// A receiver of connection events from now on.
    ///
    /// ```no_run
    /// # async fn demo(client: redwire::Client) {
    /// let mut events = client.events();
    /// if let Ok(redwire::Event::Disconnected { reason }) = events.recv().await {
    ///     eprintln!("lost the connection: {reason}");
    /// }
    /// # }
    /// ```
    pub fn events(&self) -> broadcast::Receiver<Event> {
        self.inner.shared.events.subscribe()
    }

    /// Waits until the connection is up (or the client is closed).
    ///
    /// ```no_run
    /// # async fn demo(client: redwire::Client) {
    /// client.wait_connected().await.expect("client closed");
    /// # }
    /// ```
    pub async fn wait_connected(&self) -> Result<()> {
        let mut rx = self.inner.shared.state.subscribe();
        let state = rx
            .wait_for(|s| matches!(s, ConnectionState::Connected | ConnectionState::Closed))
            .await
            .map(|s| *s)
            .unwrap_or(ConnectionState::Closed);
        match state {
            ConnectionState::Closed => Err(self.closed_error()),
            _ => Ok(()),
        }
    }

    /// Sends a command and returns its reply; a server error reply is an `Err`
    /// of kind [`ErrorKind::Server`](crate::ErrorKind::Server).
    ///
    /// ```no_run
    /// # async fn demo(client: redwire::Client) -> redwire::Result<()> {
    /// let reply = client.send(&redwire::cmd("INCR").arg("visits")).await?;
    /// assert!(matches!(reply, redwire::Value::Int(_)));
    /// # Ok(()) }
    /// ```
    ///
    /// The command is borrowed, so it can be sent again; a small one travels
    /// inline, a larger one is copied, except its arguments of 4 KiB or more:
    /// those live in buffers of their own, which the request shares, so a
    /// large value is not copied again. Handing the command over by value
    /// ([`Commands::command`], what the typed methods do:
    /// `(&client).command::<Value>(cmd)`) copies nothing at all.
    pub fn send(&self, cmd: &Cmd) -> Sending<'_, Value> {
        self.send_timeout(cmd, self.inner.config.command_timeout)
    }

    /// Like [`send`](Self::send) with a deadline of its own (or none), which
    /// covers queueing, reconnecting and the reply.
    ///
    /// ```no_run
    /// # async fn demo(client: redwire::Client) {
    /// use std::time::Duration;
    /// let r = client.send_timeout(&redwire::cmd("PING"), Some(Duration::from_millis(50))).await;
    /// # }
    /// ```
    pub fn send_timeout(&self, cmd: &Cmd, timeout: Option<Duration>) -> Sending<'_, Value> {
        self.sending(cmd, timeout, None)
    }

    /// The future of `cmd` (refused at once if a shared connection may not
    /// carry it), with a fallback for a script's `NOSCRIPT`.
    fn sending<T>(
        &self,
        cmd: &Cmd,
        timeout: Option<Duration>,
        fallback: Option<ScriptCall>,
    ) -> Sending<'_, T> {
        self.sending_marked(cmd, timeout, fallback, false)
    }

    /// Like `sending`; `marked`: a read made through [`cached`](Self::cached).
    #[inline]
    #[cfg_attr(not(feature = "client-cache"), allow(unused_variables))]
    fn sending_marked<T>(
        &self,
        cmd: &Cmd,
        timeout: Option<Duration>,
        fallback: Option<ScriptCall>,
        marked: bool,
    ) -> Sending<'_, T> {
        #[cfg(feature = "client-cache")]
        if let Some(cache) = &self.inner.shared.cache {
            return self.sending_cached(cache, cmd, timeout, fallback, marked, false);
        }
        let bytes = cmd.check_shared(false).map(|()| cmd.to_wire());
        let observed = Observed::command(&self.inner, cmd);
        Sending::new(&self.inner, bytes, timeout, fallback, observed)
    }

    /// `sending` on a client with a cache (out of line: a client without
    /// one pays a branch for it, not the code).
    #[cfg(feature = "client-cache")]
    #[inline(never)]
    fn sending_cached<T>(
        &self,
        cache: &Arc<crate::cache::Cache>,
        cmd: &Cmd,
        timeout: Option<Duration>,
        fallback: Option<ScriptCall>,
        marked: bool,
        looked: bool,
    ) -> Sending<'_, T> {
        let observed = Observed::command(&self.inner, cmd);
        if let Err(refused) = cmd.check_shared(false) {
            return Sending::new(
                &self.inner,
                Err::<crate::wire::Wire, _>(refused),
                timeout,
                fallback,
                observed,
            );
        }
        // A hit needs no bytes, no deadline, no actor.
        let plan = match cache.plan(cmd, marked, looked) {
            crate::cache::Plan::Hit(frame) => return Sending::hit(&self.inner, frame, observed),
            plan => plan,
        };
        let bytes = Ok(cmd.to_wire());
        Sending::new(&self.inner, bytes, timeout, fallback, observed).planned(plan, cmd)
    }

    /// A read of one key, or of one member of it, on a client with a cache:
    /// looked up before the command is built, when nobody observes the
    /// request (a span or a recorder describes the command, so it is built
    /// then).
    #[cfg(feature = "client-cache")]
    #[inline(never)]
    pub(crate) fn read_cached<T, M: ToArg + ?Sized>(
        &self,
        cache: &Arc<crate::cache::Cache>,
        name: &'static str,
        key: &impl ToArg,
        member: Option<&M>,
        marked: bool,
    ) -> Sending<'_, T> {
        let mut looked = false;
        let member_bytes = match member {
            None => Some(None),
            Some(m) => m.as_one_arg().map(Some),
        };
        if let (Some(key_bytes), Some(member_bytes), Some(observed)) =
            (key.as_one_arg(), member_bytes, Observed::quiet(&self.inner))
        {
            let read = crate::cache::table::Read {
                name: name.as_bytes(),
                key: key_bytes,
                member: member_bytes,
            };
            if let Some(frame) = cache.hit(read, marked) {
                return Sending::hit(&self.inner, frame, observed);
            }
            looked = true;
        }
        let mut cmd = crate::cmd::cmd(name).arg(key);
        if let Some(member) = member {
            cmd = cmd.arg(member);
        }
        let limit = self.inner.config.command_timeout;
        self.sending_cached(cache, &cmd, limit, None, marked, looked)
    }

    /// Sends a command and converts its reply.
    ///
    /// ```no_run
    /// # async fn demo(client: redwire::Client) -> redwire::Result<()> {
    /// let value: Option<String> = client.query(&redwire::cmd("GET").arg("maybe")).await?;
    /// # Ok(()) }
    /// ```
    pub fn query<T: FromValue>(&self, cmd: &Cmd) -> Sending<'_, T> {
        self.sending(cmd, self.inner.config.command_timeout, None)
    }

    /// Sends a command without waiting for its reply, which is read and
    /// dropped. Returns once the request is queued.
    ///
    /// ```no_run
    /// # async fn demo(client: redwire::Client) -> redwire::Result<()> {
    /// client.send_and_forget(&redwire::cmd("INCR").arg("hits")).await?;
    /// # Ok(()) }
    /// ```
    pub async fn send_and_forget(&self, cmd: &Cmd) -> Result<()> {
        cmd.check_shared(false)?;
        let req = Request {
            bytes: cmd.to_wire(),
            replies: 1,
            tx: crate::connection::ReplySender::none(),
            patience: Duration::ZERO,
            confirms: None,
            announce: None,
            fill: None,
        };
        self.enqueue(req).await
    }

    /// Hands a request to the actor, waiting while its channel is full.
    async fn enqueue(&self, req: Request) -> Result<()> {
        // The common case, a channel with room, needs no future at all.
        match self.inner.tx.try_send(Msg::Request(req)) {
            Ok(()) => Ok(()),
            Err(mpsc::error::TrySendError::Full(req)) => self
                .inner
                .tx
                .send(req)
                .await
                .map_err(|_| self.closed_error()),
            Err(mpsc::error::TrySendError::Closed(_)) => Err(self.closed_error()),
        }
    }

    /// Sends a pipeline as one contiguous write and returns one result per
    /// command: an error reply in one entry does not fail the others. For an
    /// [`atomic`](Pipeline::atomic) pipeline the results are those of `EXEC`.
    ///
    /// ```no_run
    /// # async fn demo(client: redwire::Client) -> redwire::Result<()> {
    /// let mut p = redwire::Pipeline::new();
    /// p.add(redwire::cmd("SET").arg("n").arg(1)).add(redwire::cmd("INCR").arg("n"));
    /// let results = client.pipeline(&p).await?;
    /// assert_eq!(results[1].as_ref().ok(), Some(&redwire::Value::Int(2)));
    /// # Ok(()) }
    /// ```
    pub async fn pipeline(&self, pipeline: &Pipeline) -> Result<Vec<Result<Value>>> {
        if pipeline.is_empty() {
            return Ok(Vec::new());
        }
        pipeline.check_shared()?;
        let observed = Observed::pipeline(&self.inner, pipeline);
        let results = self.run_pipeline(pipeline).await;
        observed.finish(&self.inner, &results);
        results
    }

    /// A pipeline's round trip, and the second one of entries whose
    /// script the server lacked.
    async fn run_pipeline(&self, pipeline: &Pipeline) -> Result<Vec<Result<Value>>> {
        let timeout = self.inner.config.command_timeout;
        let frames = Exchange::new(&self.inner, Ok(pipeline.wire()), timeout).await?;
        let mut results = pipeline.results(frames.into_frames())?;
        // Entries whose script the server lacked did not run: run them again
        // with the source, which loads it.
        if let Some((indices, again)) = pipeline.noscript_retries(&results) {
            let frames = Exchange::new(&self.inner, Ok(again.wire()), timeout).await?;
            for (index, result) in indices
                .into_iter()
                .zip(again.results(frames.into_frames())?)
            {
                results[index] = result;
            }
        }
        Ok(results)
    }

    fn closed_error(&self) -> Error {
        self.inner.closed_error()
    }

    /// Closes the connection gracefully for every clone of this client: no
    /// request is taken any more (they fail with [`ErrorKind::Closed`](crate::ErrorKind::Closed)), the
    /// requests already taken are written and answered, and then the socket is
    /// closed and the connection task ends. Waits at most the response timeout
    /// (30 s by default) for the answers; see [`close_within`](Self::close_within).
    ///
    /// ```no_run
    /// # async fn demo(client: redwire::Client) {
    /// client.close().await;
    /// assert_eq!(client.state(), redwire::ConnectionState::Closed);
    /// # }
    /// ```
    pub async fn close(&self) {
        let grace = self
            .inner
            .config
            .response_timeout
            .unwrap_or(Duration::from_secs(30));
        self.close_within(grace).await
    }

    /// Like [`close`](Self::close), giving the answers at most `grace`;
    /// requests still unanswered then fail with [`ErrorKind::Closed`](crate::ErrorKind::Closed) (and
    /// [`may_have_executed`](Error::may_have_executed) when they were sent).
    ///
    /// ```no_run
    /// # async fn demo(client: redwire::Client) {
    /// client.close_within(std::time::Duration::from_secs(1)).await;
    /// # }
    /// ```
    pub async fn close_within(&self, grace: Duration) {
        // Heard at once while disconnected, where a full queue would hold the
        // message below until a connection drained it.
        self.inner.shared.close_requested.notify_one();
        // Connected, a full channel is waited on: what is in it is answered first.
        let _ = self.inner.tx.send(Msg::Close { grace }).await;
        if crate::connection::bugs::on(crate::connection::bugs::Bug::CloseReturnsEarly) {
            return;
        }
        let mut state = self.inner.shared.state.subscribe();
        let _ = state.wait_for(|s| *s == ConnectionState::Closed).await;
    }
}

/// Typed commands on the shared connection: each returns a [`Sending`]
/// future, bounded by the configured `command_timeout`.
///
/// ```no_run
/// # async fn demo(client: redwire::Client) -> redwire::Result<()> {
/// use redwire::prelude::*;
/// let n = client.incr("visits").await?;
/// # Ok(()) }
/// ```
impl<'a> Commands for &'a Client {
    type Reply<T: FromValue> = Sending<'a, T>;

    fn command<T: FromValue>(self, cmd: Cmd) -> Sending<'a, T> {
        #[cfg(feature = "client-cache")]
        if self.inner.shared.cache.is_some() {
            return self.sending(&cmd, self.inner.config.command_timeout, None);
        }
        let observed = Observed::command(&self.inner, &cmd);
        // Owned: a large one goes out of its own buffer, not copied.
        let bytes = cmd.check_shared(false).map(|()| cmd.into_wire());
        let limit = self.inner.config.command_timeout;
        Sending::new(&self.inner, bytes, limit, None, observed)
    }

    fn script<T: FromValue>(self, call: ScriptCall) -> Sending<'a, T> {
        let limit = self.inner.config.command_timeout;
        self.sending(&call.evalsha(), limit, Some(call))
    }

    #[inline]
    fn read_key<T: FromValue>(self, name: &'static str, key: impl ToArg) -> Sending<'a, T> {
        #[cfg(feature = "client-cache")]
        if let Some(cache) = &self.inner.shared.cache {
            return self.read_cached(cache, name, &key, None::<&str>, false);
        }
        self.command(crate::cmd::cmd(name).arg(key))
    }

    #[inline]
    fn read_member<T: FromValue>(
        self,
        name: &'static str,
        key: impl ToArg,
        member: impl ToArg,
    ) -> Sending<'a, T> {
        #[cfg(feature = "client-cache")]
        if let Some(cache) = &self.inner.shared.cache {
            return self.read_cached(cache, name, &key, Some(&member), false);
        }
        self.command(crate::cmd::cmd(name).arg(key).arg(member))
    }
}
