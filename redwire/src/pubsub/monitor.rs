//! [`Monitor`]: the server's `MONITOR` feed (every command it runs, one
//! line each) on a connection of its own, made again after a drop, with the
//! same bounded buffer and backpressure as a subscriber's messages.

use crate::client::link::Link;
use crate::config::Config;
use crate::connection::push::Sink;
use crate::connection::state::Event;
use crate::connection::Kind;
use crate::error::{Error, Result};
use bytes::Bytes;
use redwire_resp::Frame;
use tokio::sync::{broadcast, mpsc};

/// The lines of `MONITOR`, as the server writes them
/// (`1700000000.123456 [0 127.0.0.1:52814] "SET" "k" "v"`).
///
/// ```no_run
/// # async fn demo() -> redwire::Result<()> {
/// let mut monitor = redwire::Monitor::connect("redis://127.0.0.1".parse()?).await?;
/// while let Some(line) = monitor.recv().await {
///     println!("{}", String::from_utf8_lossy(&line?));
/// }
/// # Ok(()) }
/// ```
pub struct Monitor {
    rx: mpsc::Receiver<Frame>,
    link: Link,
}

impl std::fmt::Debug for Monitor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Monitor")
            .field("url", &self.link.config.redacted_url())
            .finish_non_exhaustive()
    }
}

impl Monitor {
    /// Connects (returning the first connection's error) and starts the feed.
    pub async fn connect(config: Config) -> Result<Monitor> {
        let (sink, rx) = Sink::backpressure(super::MESSAGE_BUFFER);
        let link = Link::connect(config, Kind::Monitor(sink), None).await?;
        Ok(Monitor { rx, link })
    }

    /// The next line; `None` once the connection has ended.
    pub async fn recv(&mut self) -> Option<Result<Bytes>> {
        loop {
            let frame = self.rx.recv().await?;
            match frame {
                Frame::Simple(line) | Frame::Bulk(line) => return Some(Ok(line)),
                Frame::Verbatim { data, .. } => return Some(Ok(data)),
                Frame::Error(e) | Frame::BulkError(e) => return Some(Err(Error::server_bytes(&e))),
                _ => {}
            }
        }
    }

    /// Connection events from now on (a reconnect restarts the feed; the
    /// commands run in between are not in it).
    pub fn events(&self) -> broadcast::Receiver<Event> {
        self.link.shared.events.subscribe()
    }
}
