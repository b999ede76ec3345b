//! A tokio runtime on its own thread, for the proxy and the fake server.
//!
//! They must work the same whatever the test is: a plain `#[test]`, a
//! `#[tokio::test]` on a current-thread runtime (which a nested runtime or a
//! blocked worker would deadlock), or another runtime altogether. Owning a thread
//! and a runtime makes them independent of the caller; the caller drives them
//! with plain synchronous methods.

use std::future::Future;
use std::io;
use std::thread::JoinHandle;
use tokio::sync::oneshot;

/// The thread running a service; dropping it stops the service and waits.
pub(crate) struct Background {
    shutdown: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Background {
    /// Runs `service` on a new thread until it ends or the handle is dropped.
    ///
    /// `service` is built inside the runtime, so it may create tokio sockets.
    pub(crate) fn spawn<F, Fut>(name: &str, service: F) -> io::Result<Background>
    where
        F: FnOnce() -> Fut + Send + 'static,
        Fut: Future<Output = ()>,
    {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let (shutdown, stop) = oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name(name.to_string())
            .spawn(move || {
                runtime.block_on(async move {
                    tokio::select! {
                        _ = service() => {}
                        _ = stop => {}
                    }
                });
                // Dropping the runtime here cancels every task it spawned, which
                // drops (and so closes) every socket they held.
                drop(runtime);
            })?;
        Ok(Background {
            shutdown: Some(shutdown),
            thread: Some(thread),
        })
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
