//! [`Link`]: what a request needs of its client — the actor's channel, the
//! shared connection state and the configuration — and the errors a request
//! gets when the client is closed or the deadline passes.
//!
//! Kept apart from [`Client`](super::Client) so that the request future
//! (`sending`) depends on this alone, not on the handle that makes it.

use crate::config::Config;
use crate::connection::state::{ConnectionState, Shared};
use crate::connection::{push, Actor, Kind, Msg};
use crate::error::{Error, ErrorKind, Result};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};

/// A lossy push sink, and where its pushes are read.
pub(crate) fn lossy_pushes() -> (push::Sink, Pushes) {
    let (sink, rx, dropped) = push::Sink::lossy(PUSH_BUFFER);
    (sink, Pushes { rx, dropped })
}

/// The pushes of a shared client or dedicated connection: invalidations and
/// anything else the server sends on its own, at most 1,024 waiting; beyond
/// that they are dropped and counted.
///
/// ```no_run
/// # async fn demo(client: redwire::Client) {
/// if let Some(mut pushes) = client.pushes() {
///     while let Some(push) = pushes.recv().await {
///         println!("{push:?} ({} dropped so far)", pushes.dropped());
///     }
/// }
/// # }
/// ```
#[derive(Debug)]
pub struct Pushes {
    rx: mpsc::Receiver<redwire_resp::Frame>,
    dropped: Arc<std::sync::atomic::AtomicU64>,
}

impl Pushes {
    /// The next push, as a [`Value`](crate::Value) (`Value::Push`); `None`
    /// once the connection has ended.
    pub async fn recv(&mut self) -> Option<crate::Value> {
        self.rx.recv().await.map(crate::Value::from)
    }

    /// Pushes dropped so far because nobody read them in time.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(std::sync::atomic::Ordering::Relaxed)
    }
}

/// The part of a client every clone shares.
pub(crate) struct Link {
    pub(crate) tx: mpsc::Sender<Msg>,
    pub(crate) shared: Arc<Shared>,
    pub(crate) config: Arc<Config>,
    /// The handle's operation metrics (nothing without the `metrics` feature).
    pub(crate) meter: crate::telemetry::meter::OpMeter,
    /// The pushes' reader, until someone takes it.
    pushes: std::sync::Mutex<Option<Pushes>>,
}

/// How many pushes a shared client or a dedicated connection keeps for a
/// reader before dropping them.
pub(crate) const PUSH_BUFFER: usize = 1024;

impl Link {
    /// Starts a connection actor for `config` and returns the link to it.
    /// With `first`, the first connection's outcome is reported there;
    /// `kind` says what it serves (see `connection::Kind`).
    pub(crate) fn spawn(
        config: Config,
        first: Option<oneshot::Sender<Result<()>>>,
        kind: Kind,
        pushes: Option<Pushes>,
    ) -> Link {
        #[cfg_attr(not(feature = "client-cache"), allow(unused_mut))]
        let mut config = config;
        #[cfg_attr(not(feature = "client-cache"), allow(unused_mut))]
        let mut shared = Shared::new();
        #[cfg(feature = "client-cache")]
        {
            // Only a shared client caches: a dedicated connection, a
            // subscriber or a feed does not ask for tracking at all.
            if !matches!(kind, Kind::Shared(_)) {
                config.client_cache = None;
            }
            shared.cache = config
                .client_cache
                .as_ref()
                .map(|c| Arc::new(crate::cache::Cache::new(c)));
        }
        let config = Arc::new(config);
        let shared = Arc::new(shared);
        let (tx, rx) = mpsc::channel(config.channel_capacity);
        let meter = crate::telemetry::meter::OpMeter::new(&config, kind.handle());
        let actor = Actor::new(config.clone(), shared.clone(), rx, kind);
        // The actor keeps its own budget (see `poll_serve`); tokio's would cut
        // every intake at 128 requests and split batches for no reason.
        tokio::spawn(tokio::task::unconstrained(actor.run(first)));
        Link {
            tx,
            shared,
            config,
            meter,
            pushes: std::sync::Mutex::new(pushes),
        }
    }

    /// A shared client's link: reconnects; pushes kept for a reader.
    pub(crate) fn shared_client(
        config: Config,
        first: Option<oneshot::Sender<Result<()>>>,
    ) -> Link {
        let (sink, pushes) = lossy_pushes();
        Link::spawn(config, first, Kind::Shared(sink), Some(pushes))
    }

    /// The reader of this connection's pushes; `None` after the first call.
    pub(crate) fn take_pushes(&self) -> Option<Pushes> {
        self.pushes.lock().unwrap_or_else(|e| e.into_inner()).take()
    }

    /// Like [`spawn`](Self::spawn), waiting for the first connection and
    /// returning its error.
    pub(crate) async fn connect(
        config: Config,
        kind: Kind,
        pushes: Option<Pushes>,
    ) -> Result<Link> {
        let (tx, rx) = oneshot::channel();
        let link = Link::spawn(config, Some(tx), kind, pushes);
        match rx.await {
            Ok(Ok(())) => Ok(link),
            Ok(Err(e)) => Err(e),
            Err(_) => Err(Error::closed("the connection task ended while connecting")),
        }
    }

    /// Closes the connection now, without waiting for what is in flight:
    /// the server sees the socket close (and unblocks a blocking command
    /// without popping anything).
    pub(crate) fn abort(&self) {
        self.shared
            .aborted
            .store(true, std::sync::atomic::Ordering::SeqCst);
        let _ = self.tx.try_send(Msg::Close {
            grace: Duration::ZERO,
        });
    }

    /// The connection's state now.
    pub(crate) fn state(&self) -> ConnectionState {
        *self.shared.state.borrow()
    }

    /// Closed, or being closed at once by [`abort`](Self::abort).
    pub(crate) fn is_closed(&self) -> bool {
        self.shared
            .aborted
            .load(std::sync::atomic::Ordering::SeqCst)
            || self.state() == ConnectionState::Closed
    }

    /// The error of a request whose deadline passed; says so when the
    /// connection was down, and why it was.
    pub(crate) fn timeout_error(&self, limit: Duration) -> Error {
        let mut message = format!("no reply within the deadline of {limit:?}");
        if self.state() != ConnectionState::Connected {
            message.push_str(" while not connected");
            if let Some(why) = self.shared.last_error() {
                message.push_str(&format!(" (last error: {why})"));
            }
        }
        Error::deadline(message)
    }

    /// The error of a request the closed client cannot take, with the cause.
    pub(crate) fn closed_error(&self) -> Error {
        match self.shared.last_error() {
            Some(why) if why.kind() == ErrorKind::Closed => why,
            Some(why) => Error::closed(why),
            None => Error::closed("the connection task has stopped"),
        }
    }
}
