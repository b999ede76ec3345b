//! [`Link`]: what a request needs of its client — the actor's channel, the
//! shared connection state and the configuration — and the errors a request
//! gets when the client is closed or the deadline passes.
//!
//! Kept apart from [`Client`](super::Client) so that the request future
//! (`sending`) depends on this alone, not on the handle that makes it.

use crate::config::Config;
use crate::connection::state::{ConnectionState, Shared};
use crate::connection::Msg;
use crate::error::{Error, ErrorKind};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

/// The part of a client every clone shares.
pub(crate) struct Link {
    pub(crate) tx: mpsc::Sender<Msg>,
    pub(crate) shared: Arc<Shared>,
    pub(crate) config: Arc<Config>,
}

impl Link {
    /// The error of a request whose deadline passed; says so when the
    /// connection was down, and why it was.
    pub(crate) fn timeout_error(&self, limit: Duration) -> Error {
        let mut message = format!("no reply within the deadline of {limit:?}");
        if *self.shared.state.borrow() != ConnectionState::Connected {
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
