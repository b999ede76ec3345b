//! One direction of a simulated connection: a byte queue whose writes are cut
//! into pieces at random bytes, each delivered after a random delay in
//! simulated time, with the faults a socket can show (reset, black hole,
//! end of stream), and the two ends built from a pair of them.
//!
//! Pieces keep their order: a piece is never delivered before the one written
//! ahead of it, like TCP. The queue holds at most [`CAP`] bytes; a writer
//! beyond it waits, which is the backpressure a socket buffer gives.

use bytes::{Buf, Bytes};
use std::collections::VecDeque;
use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::{Instant, Sleep};

/// Bytes a pipe holds before its writer waits.
pub const CAP: usize = 64 * 1024;

/// How one connection's writes are cut and delayed (drawn from the seed).
#[derive(Debug, Clone, Copy)]
pub struct Shape {
    /// Chance that a write is cut into several pieces.
    pub split: f64,
    /// Chance that a write accepts only part of what was offered.
    pub short_write: f64,
    /// Largest delay of one piece.
    pub max_delay: Duration,
}

#[derive(Default)]
struct State {
    chunks: VecDeque<(Instant, Bytes)>,
    queued: usize,
    /// Bytes read so far.
    consumed: u64,
    last_at: Option<Instant>,
    /// The writer shut down: end of stream once drained.
    eof: bool,
    /// Reset: every read and write fails from now on, queued bytes are lost.
    reset: bool,
    /// Black hole: writes are taken and never delivered.
    blackhole: bool,
    reader: Option<Waker>,
    writer: Option<Waker>,
}

/// One direction of a connection.
pub struct Pipe {
    state: Mutex<State>,
    shape: Shape,
    rng: Mutex<fastrand::Rng>,
}

impl Pipe {
    /// An empty pipe with the given shape and its own random stream.
    pub fn new(shape: Shape, seed: u64) -> Arc<Pipe> {
        Arc::new(Pipe {
            state: Mutex::default(),
            shape,
            rng: Mutex::new(fastrand::Rng::with_seed(seed)),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Fails both ends from now on; what was queued is lost.
    pub fn reset(&self) {
        let mut s = self.lock();
        s.reset = true;
        s.chunks.clear();
        s.queued = 0;
        wake(&mut s);
    }

    /// Takes writes and delivers nothing more.
    pub fn blackhole(&self) {
        self.lock().blackhole = true;
    }

    /// The writer is done: the reader sees the end of the stream after the
    /// queued bytes.
    pub fn shut(&self) {
        let mut s = self.lock();
        s.eof = true;
        wake(&mut s);
    }

    /// Whether nothing is queued (and the pipe is usable).
    pub fn is_idle(&self) -> bool {
        let s = self.lock();
        s.chunks.is_empty() && !s.reset && !s.eof && !s.blackhole
    }

    /// Bytes read from it so far.
    pub fn consumed(&self) -> u64 {
        self.lock().consumed
    }

    /// Queues bytes the simulator itself injects (an unsolicited frame),
    /// bypassing backpressure.
    pub fn inject(&self, bytes: Bytes) {
        let mut s = self.lock();
        if s.reset || s.eof {
            return;
        }
        let at = Instant::now().max(s.last_at.unwrap_or_else(Instant::now));
        s.last_at = Some(at);
        s.queued += bytes.len();
        s.chunks.push_back((at, bytes));
        if let Some(w) = s.reader.take() {
            w.wake();
        }
    }

    fn poll_write(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let mut s = self.lock();
        if s.reset {
            return Poll::Ready(Err(io::ErrorKind::ConnectionReset.into()));
        }
        if s.eof {
            return Poll::Ready(Err(io::ErrorKind::BrokenPipe.into()));
        }
        if buf.is_empty() {
            return Poll::Ready(Ok(0));
        }
        if s.queued >= CAP {
            s.writer = Some(cx.waker().clone());
            return Poll::Pending;
        }
        let mut rng = self.rng.lock().unwrap_or_else(|e| e.into_inner());
        let mut n = buf.len().min(CAP - s.queued);
        if n > 1 && rng.f64() < self.shape.short_write {
            n = rng.usize(1..n);
        }
        if s.blackhole {
            return Poll::Ready(Ok(n));
        }
        let mut rest = Bytes::copy_from_slice(&buf[..n]);
        let now = Instant::now();
        while !rest.is_empty() {
            let cut = if rest.len() > 1 && rng.f64() < self.shape.split {
                rng.usize(1..rest.len())
            } else {
                rest.len()
            };
            let piece = rest.split_to(cut);
            let max = self.shape.max_delay.as_micros() as u64;
            let delay = Duration::from_micros(if max == 0 { 0 } else { rng.u64(0..=max) });
            let at = (now + delay).max(s.last_at.unwrap_or(now));
            s.last_at = Some(at);
            s.queued += piece.len();
            s.chunks.push_back((at, piece));
        }
        if let Some(w) = s.reader.take() {
            w.wake();
        }
        Poll::Ready(Ok(n))
    }

    fn poll_read(
        &self,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
        sleep: &mut Option<Pin<Box<Sleep>>>,
    ) -> Poll<io::Result<()>> {
        loop {
            let mut s = self.lock();
            if s.reset {
                return Poll::Ready(Err(io::ErrorKind::ConnectionReset.into()));
            }
            let Some((at, _)) = s.chunks.front() else {
                if s.eof {
                    return Poll::Ready(Ok(()));
                }
                s.reader = Some(cx.waker().clone());
                return Poll::Pending;
            };
            let at = *at;
            if at > Instant::now() {
                drop(s);
                match sleep {
                    Some(timer) => timer.as_mut().reset(at),
                    None => *sleep = Some(Box::pin(tokio::time::sleep_until(at))),
                }
                let timer = sleep.as_mut().expect("set above");
                if timer.as_mut().poll(cx).is_pending() {
                    return Poll::Pending;
                }
                continue;
            }
            // Everything due, as far as it fits: one read may end in the
            // middle of a frame or hold many, as a socket's does.
            let now = Instant::now();
            let mut n = 0;
            while let Some((at, chunk)) = s.chunks.front_mut() {
                if *at > now || buf.remaining() == 0 {
                    break;
                }
                let take = chunk.len().min(buf.remaining());
                buf.put_slice(&chunk[..take]);
                chunk.advance(take);
                n += take;
                if chunk.is_empty() {
                    s.chunks.pop_front();
                }
            }
            s.queued -= n;
            s.consumed += n as u64;
            if let Some(w) = s.writer.take() {
                w.wake();
            }
            return Poll::Ready(Ok(()));
        }
    }
}

fn wake(s: &mut State) {
    if let Some(w) = s.reader.take() {
        w.wake();
    }
    if let Some(w) = s.writer.take() {
        w.wake();
    }
}

use std::future::Future;

/// One end of a connection: reads one pipe, writes the other. Dropping it
/// ends the stream it writes (as closing a socket sends FIN).
pub struct End {
    read: Arc<Pipe>,
    write: Arc<Pipe>,
    sleep: Option<Pin<Box<Sleep>>>,
}

impl End {
    /// The two ends over a pair of pipes: (client, server).
    pub fn pair(up: Arc<Pipe>, down: Arc<Pipe>) -> (End, End) {
        let client = End {
            read: down.clone(),
            write: up.clone(),
            sleep: None,
        };
        let server = End {
            read: up,
            write: down,
            sleep: None,
        };
        (client, server)
    }
}

impl Drop for End {
    fn drop(&mut self) {
        self.write.shut();
        // Nobody reads any more: a writer waiting for room would wait forever.
        let mut s = self.read.lock();
        if let Some(w) = s.writer.take() {
            w.wake();
        }
        s.eof = true;
    }
}

impl AsyncRead for End {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        this.read.poll_read(cx, buf, &mut this.sleep)
    }
}

impl AsyncWrite for End {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.write.poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.write.shut();
        Poll::Ready(Ok(()))
    }
}
