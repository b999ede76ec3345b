//! The simulator's seam (feature `sim`, hidden): a connection over an
//! in-memory stream that a dialer in the [`Config`](crate::Config) opens
//! instead of a socket.
//!
//! The deterministic simulator (`sim/` in the workspace) builds a world of
//! model servers and faulty pipes and hands the client a [`Dialer`]; every
//! connect then goes through it, the handshake and everything after it
//! unchanged. Without the feature none of this exists: the transport enum
//! has no such variant and the hot path is the one of TCP, unix and TLS.
//!
//! ```
//! use redwire::connection::memory::Dialer;
//! let dialer = Dialer::new(|_addr| {
//!     Box::pin(async {
//!         let (client, _server) = tokio::io::duplex(1024);
//!         Ok(Box::new(client) as Box<dyn redwire::connection::memory::MemoryStream>)
//!     })
//! });
//! let config = redwire::Config::builder().sim_dialer(dialer).build();
//! # let _ = config;
//! ```

use crate::config::Addr;
use std::fmt;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use tokio::io::{AsyncRead, AsyncWrite};

/// A byte stream the simulator provides in place of a socket.
pub trait MemoryStream: AsyncRead + AsyncWrite + Unpin + Send + 'static {}

impl<T: AsyncRead + AsyncWrite + Unpin + Send + 'static> MemoryStream for T {}

/// What a dial returns: a stream, or the error a socket connect would give
/// (refused, reset, timed out).
pub type Dialed = Pin<Box<dyn Future<Output = io::Result<Box<dyn MemoryStream>>> + Send>>;

/// Opens in-memory streams for the configured address. Two dialers are
/// equal when they are the same one.
#[derive(Clone)]
pub struct Dialer(Arc<dyn Fn(&Addr) -> Dialed + Send + Sync>);

impl Dialer {
    /// A dialer calling `dial` on every connect.
    pub fn new(dial: impl Fn(&Addr) -> Dialed + Send + Sync + 'static) -> Self {
        Dialer(Arc::new(dial))
    }

    pub(crate) fn dial(&self, addr: &Addr) -> Dialed {
        (self.0)(addr)
    }
}

impl fmt::Debug for Dialer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Dialer")
    }
}

impl PartialEq for Dialer {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}
