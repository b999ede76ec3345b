//! What a user can watch of a connection: its current state and a stream of
//! events (connected, disconnected with the reason, reconnecting with the
//! attempt and delay, closed).

use crate::error::Error;
#[cfg(feature = "client-cache")]
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{broadcast, watch};

/// Where the connection stands now.
///
/// ```
/// # async fn demo(client: redwire::Client) {
/// use redwire::ConnectionState;
/// if client.state() == ConnectionState::Connected {
///     println!("up");
/// }
/// # }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnectionState {
    /// Connecting (the first time, or again after a drop).
    Connecting,
    /// Connected and serving requests.
    Connected,
    /// Waiting out a backoff delay before the next attempt.
    Reconnecting,
    /// Closed for good: every handle dropped, or reconnect attempts ran out.
    Closed,
}

/// Something that happened to the connection.
///
/// ```
/// # async fn demo(client: redwire::Client) {
/// let mut events = client.events();
/// while let Ok(event) = events.recv().await {
///     if let redwire::Event::Reconnecting { attempt, delay, .. } = event {
///         eprintln!("reconnect attempt {attempt} in {delay:?}");
///     }
/// }
/// # }
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Event {
    /// A connection was made and its handshake succeeded.
    Connected {
        /// The server address.
        addr: String,
        /// The RESP version negotiated (2 or 3).
        resp: u8,
    },
    /// The connection dropped.
    Disconnected {
        /// Why.
        reason: Error,
    },
    /// An attempt failed; the next one comes after `delay`.
    Reconnecting {
        /// Failed attempts in a row so far (1 for the first).
        attempt: u32,
        /// The backoff delay before the next attempt.
        delay: Duration,
        /// Why the last attempt failed.
        error: Error,
    },
    /// A subscriber subscribed again to everything it had, on a new
    /// connection. Messages published while it was disconnected are lost;
    /// [`Messages::with_gaps`](crate::Messages::with_gaps) places the drop
    /// and this among the messages. Not emitted when nothing was on record.
    Resubscribed {
        /// The channels (`SUBSCRIBE`).
        channels: Vec<bytes::Bytes>,
        /// The patterns (`PSUBSCRIBE`).
        patterns: Vec<bytes::Bytes>,
        /// The shard channels (`SSUBSCRIBE`).
        shard_channels: Vec<bytes::Bytes>,
    },
    /// The client closed for good.
    Closed {
        /// Why.
        reason: String,
    },
}

/// The actor's side of state and events.
pub(crate) struct Shared {
    pub(crate) state: watch::Sender<ConnectionState>,
    pub(crate) events: broadcast::Sender<Event>,
    /// Why the connection is not up, for the message of a request's timeout.
    pub(crate) last_error: std::sync::Mutex<Option<Error>>,
    /// `Client::close` was called: heard while disconnected, when the close
    /// message may be stuck behind a full queue.
    pub(crate) close_requested: tokio::sync::Notify,
    /// A dedicated connection was told to close at once (its blocking
    /// command's caller gave up); seen before the actor has acted on it.
    pub(crate) aborted: std::sync::atomic::AtomicBool,
    /// The client-side cache, when the configuration asks for one.
    #[cfg(feature = "client-cache")]
    pub(crate) cache: Option<Arc<crate::cache::Cache>>,
}

impl Shared {
    pub(crate) fn new() -> Self {
        Shared {
            state: watch::Sender::new(ConnectionState::Connecting),
            events: broadcast::Sender::new(256),
            last_error: std::sync::Mutex::new(None),
            close_requested: tokio::sync::Notify::new(),
            aborted: std::sync::atomic::AtomicBool::new(false),
            #[cfg(feature = "client-cache")]
            cache: None,
        }
    }

    pub(crate) fn set(&self, state: ConnectionState) {
        self.state.send_replace(state);
    }

    pub(crate) fn emit(&self, event: Event) {
        let _ = self.events.send(event);
    }

    pub(crate) fn set_last_error(&self, error: Option<Error>) {
        if let Ok(mut slot) = self.last_error.lock() {
            *slot = error;
        }
    }

    pub(crate) fn last_error(&self) -> Option<Error> {
        self.last_error.lock().ok().and_then(|e| e.clone())
    }
}
