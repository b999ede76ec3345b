//! The bytes waiting for the socket, in request order, and the count of bytes
//! written, which says for each request whether it fully reached the socket.
//!
//! Small requests are copied into one buffer, so a batch of them goes out in
//! one write. A large request (16 KiB or more) is not copied: its own buffer
//! joins the queue and goes out in the same vectored write as its neighbours.
//! Neither are the large arguments (4 KiB or more) of a split request (see
//! `wire`): its small parts are copied, each large payload joins the queue
//! as a buffer of its own.
//! The queue stops taking requests at 1 MiB unwritten, and a buffer that grew
//! past 64 KiB for a large batch is given back once it is drained, so a burst
//! does not pin memory for the life of the connection.

use crate::error::{Error, Result};
use crate::large::Large;
use crate::wire::Wire;
use bytes::{Buf, Bytes, BytesMut};
use std::collections::VecDeque;
use std::io::IoSlice;
use std::pin::Pin;
use std::task::{Context, Poll};
use tokio::io::AsyncWrite;

/// The buffer's size when new.
const INITIAL: usize = 16 * 1024;
/// A buffer that grew past this is replaced by a new one once drained.
const KEEP: usize = 64 * 1024;
/// Unwritten bytes at which the queue takes no more requests.
const FULL: u64 = 1 << 20;
/// Requests at least this large are written from their own buffer.
const LARGE: usize = 16 * 1024;
/// Most buffers handed to one vectored write.
const MAX_SLICES: usize = 64;

pub(super) struct WriteQueue {
    /// Large requests and frozen runs of small ones, in order; all of them
    /// come before `buf`.
    segments: VecDeque<Bytes>,
    /// Small requests, copied together; after every segment.
    buf: BytesMut,
    /// The most `buf` has held at the start of a write since it was made.
    peak: usize,
    /// Bytes queued and bytes written since the connection opened.
    queued: u64,
    written: u64,
    needs_flush: bool,
}

impl WriteQueue {
    pub(super) fn new() -> Self {
        WriteQueue {
            segments: VecDeque::new(),
            buf: BytesMut::with_capacity(INITIAL),
            peak: 0,
            queued: 0,
            written: 0,
            needs_flush: false,
        }
    }

    /// Nothing left to write.
    pub(super) fn is_empty(&self) -> bool {
        self.queued == self.written
    }

    /// Enough is waiting: take no more requests for now.
    pub(super) fn is_full(&self) -> bool {
        self.queued - self.written >= FULL
    }

    /// Bytes handed to the socket since the connection opened.
    pub(super) fn written(&self) -> u64 {
        self.written
    }

    /// Queues a request's bytes; returns where they end in the output stream.
    #[inline]
    pub(super) fn push(&mut self, wire: &Wire) -> u64 {
        let len = match wire {
            Wire::Inline { len, buf } => {
                let len = *len as usize;
                self.buf.extend_from_slice(&buf[..len]);
                len
            }
            Wire::Shared(bytes) if bytes.len() >= LARGE => {
                self.segment(bytes.clone());
                bytes.len()
            }
            Wire::Shared(bytes) => {
                self.buf.extend_from_slice(bytes);
                bytes.len()
            }
            Wire::Split(split) => self.push_split(&split.small, &split.large),
        };
        self.queued += len as u64;
        self.queued
    }

    /// Queues a request with large arguments: the small parts are copied,
    /// each large payload is written from its own buffer, whatever its size
    /// (it has its own buffer already: copying it would be a second copy of
    /// the value). Returns its length.
    #[inline(never)]
    fn push_split(&mut self, small: &[u8], large: &[Large]) -> usize {
        let mut at = 0;
        let mut len = small.len();
        for part in large {
            self.buf.extend_from_slice(&small[at..part.at]);
            self.segment(part.bytes.clone());
            len += part.bytes.len();
            at = part.at;
        }
        self.buf.extend_from_slice(&small[at..]);
        len
    }

    /// Queues `bytes` as a segment of its own, behind what is buffered.
    fn segment(&mut self, bytes: Bytes) {
        if !self.buf.is_empty() {
            self.segments.push_back(self.buf.split().freeze());
        }
        self.segments.push_back(bytes);
    }

    /// Writes as much as the socket takes, then flushes. True on progress.
    #[inline]
    pub(super) fn poll_write<W: AsyncWrite + Unpin>(
        &mut self,
        cx: &mut Context<'_>,
        w: &mut W,
    ) -> Result<bool> {
        let mut progress = false;
        self.peak = self.peak.max(self.buf.len());
        while !self.is_empty() {
            let poll = if self.segments.is_empty() {
                Pin::new(&mut *w).poll_write(cx, &self.buf)
            } else {
                self.poll_write_segments(cx, w)
            };
            match poll {
                Poll::Ready(Ok(0)) => {
                    return Err(Error::socket(
                        "write failed",
                        std::io::ErrorKind::WriteZero.into(),
                    ))
                }
                Poll::Ready(Ok(n)) => {
                    self.consume(n);
                    self.needs_flush = true;
                    progress = true;
                }
                Poll::Ready(Err(e)) => return Err(Error::socket("write failed", e)),
                Poll::Pending => break,
            }
        }
        if self.needs_flush {
            match Pin::new(&mut *w).poll_flush(cx) {
                Poll::Ready(Ok(())) => self.needs_flush = false,
                Poll::Ready(Err(e)) => return Err(Error::socket("write failed", e)),
                Poll::Pending => {}
            }
        }
        if self.is_empty() {
            self.shrink();
        }
        Ok(progress)
    }

    /// One vectored write of the segments and the buffer behind them: only
    /// when a large request is queued, so kept off the path of small ones.
    #[inline(never)]
    fn poll_write_segments<W: AsyncWrite + Unpin>(
        &self,
        cx: &mut Context<'_>,
        w: &mut W,
    ) -> Poll<std::io::Result<usize>> {
        let mut slices = [IoSlice::new(&[]); MAX_SLICES];
        let mut count = 0;
        let tail = (!self.buf.is_empty()).then_some(&self.buf[..]);
        for chunk in self.segments.iter().map(|s| &s[..]).chain(tail) {
            if count == MAX_SLICES {
                break;
            }
            slices[count] = IoSlice::new(chunk);
            count += 1;
        }
        Pin::new(&mut *w).poll_write_vectored(cx, &slices[..count])
    }

    /// Drops `n` written bytes off the front.
    #[inline]
    fn consume(&mut self, mut n: usize) {
        self.written += n as u64;
        if self.segments.is_empty() {
            self.buf.advance(n);
            return;
        }
        while n > 0 {
            match self.segments.front_mut() {
                Some(segment) => {
                    let k = n.min(segment.len());
                    segment.advance(k);
                    n -= k;
                    if segment.is_empty() {
                        self.segments.pop_front();
                    }
                }
                None => {
                    self.buf.advance(n);
                    n = 0;
                }
            }
        }
    }

    /// Gives back a buffer that grew for a large batch.
    fn shrink(&mut self) {
        if self.peak > KEEP {
            self.buf = BytesMut::with_capacity(INITIAL);
            self.peak = 0;
        }
    }

    /// A new connection: nothing queued, nothing written.
    pub(super) fn reset(&mut self) {
        self.segments.clear();
        self.buf.clear();
        self.shrink();
        self.queued = 0;
        self.written = 0;
        self.needs_flush = false;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A socket that takes at most `limit` bytes per write.
    struct Sink {
        got: Vec<u8>,
        limit: usize,
        writes: usize,
    }

    impl AsyncWrite for Sink {
        fn poll_write(
            mut self: Pin<&mut Self>,
            _: &mut Context<'_>,
            buf: &[u8],
        ) -> Poll<std::io::Result<usize>> {
            let n = buf.len().min(self.limit);
            self.got.extend_from_slice(&buf[..n]);
            self.writes += 1;
            Poll::Ready(Ok(n))
        }
        fn poll_write_vectored(
            mut self: Pin<&mut Self>,
            _: &mut Context<'_>,
            bufs: &[IoSlice<'_>],
        ) -> Poll<std::io::Result<usize>> {
            let mut left = self.limit;
            for b in bufs {
                let n = b.len().min(left);
                self.got.extend_from_slice(&b[..n]);
                left -= n;
            }
            self.writes += 1;
            Poll::Ready(Ok(self.limit - left))
        }
        fn is_write_vectored(&self) -> bool {
            true
        }
        fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
            Poll::Ready(Ok(()))
        }
        fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
            Poll::Ready(Ok(()))
        }
    }

    fn run(q: &mut WriteQueue, sink: &mut Sink) {
        let waker = super::super::noop_waker();
        let mut cx = Context::from_waker(&waker);
        while !q.is_empty() {
            q.poll_write(&mut cx, sink).unwrap();
        }
    }

    #[test]
    fn order_and_offsets_survive_mixed_sizes_and_short_writes() {
        for limit in [1, 7, 1000, usize::MAX] {
            let mut q = WriteQueue::new();
            let mut expected = Vec::new();
            let mut ends = Vec::new();
            for (i, size) in [10, 20_000, 5, 3, 70_000, 16_383, 16_384, 1]
                .iter()
                .enumerate()
            {
                let bytes = Bytes::from(vec![i as u8; *size]);
                expected.extend_from_slice(&bytes);
                ends.push(q.push(&bytes.clone().into()));
            }
            assert_eq!(*ends.last().unwrap(), expected.len() as u64);
            assert_eq!(ends[1], 20_010);
            let mut sink = Sink {
                got: Vec::new(),
                limit,
                writes: 0,
            };
            run(&mut q, &mut sink);
            assert_eq!(sink.got, expected, "limit {limit}");
            assert_eq!(q.written(), expected.len() as u64);
        }
    }

    #[test]
    fn a_split_request_goes_out_whole_through_short_writes_and_its_large_parts_uncopied() {
        let value = bytes::Bytes::from(vec![b'v'; 20_000]);
        let other = bytes::Bytes::from(vec![b'w'; crate::large::LARGE_ARG]);
        let split = crate::cmd("MSET")
            .arg("a")
            .arg(&value)
            .arg("b")
            .arg(&other)
            .arg("c")
            .arg("small");
        let get = crate::cmd("GET").arg("k");
        for limit in [1, 3, 7, 4096, usize::MAX] {
            let mut q = WriteQueue::new();
            q.push(&get.to_wire());
            let end = q.push(&split.to_wire());
            q.push(&get.to_wire());
            let end_by_value = q.push(&split.clone().into_wire());
            // Large parts are segments of their own: the value's buffer.
            let large: Vec<_> = q
                .segments
                .iter()
                .filter(|s| s.len() >= crate::large::LARGE_ARG)
                .map(|s| s.as_ptr())
                .collect();
            assert_eq!(
                large,
                [
                    value.as_ptr(),
                    other.as_ptr(),
                    value.as_ptr(),
                    other.as_ptr()
                ]
            );
            assert!(q.buf.capacity() < 20_000, "a large part was copied");
            let mut expected = get.to_bytes().to_vec();
            expected.extend_from_slice(&split.to_bytes());
            assert_eq!(end, expected.len() as u64);
            expected.extend_from_slice(&get.to_bytes());
            expected.extend_from_slice(&split.to_bytes());
            assert_eq!(end_by_value, expected.len() as u64);
            let mut sink = Sink {
                got: Vec::new(),
                limit,
                writes: 0,
            };
            run(&mut q, &mut sink);
            assert!(sink.got == expected, "limit {limit}: other bytes written");
            assert_eq!(q.written(), expected.len() as u64);
            if limit == usize::MAX {
                assert_eq!(sink.writes, 1, "one vectored write for the batch");
            }
        }
    }

    #[test]
    fn a_large_request_is_not_copied_and_memory_is_given_back() {
        let mut q = WriteQueue::new();
        let big = Bytes::from(vec![7u8; 1 << 20]);
        q.push(&Bytes::from_static(b"small").into());
        q.push(&big.clone().into());
        assert!(q.buf.capacity() < 1 << 20, "the large request was copied");
        assert_eq!(q.segments.back().map(|s| s.as_ptr()), Some(big.as_ptr()));
        let mut sink = Sink {
            got: Vec::new(),
            limit: usize::MAX,
            writes: 0,
        };
        run(&mut q, &mut sink);
        assert_eq!(sink.writes, 1, "one vectored write for the batch");
        // Many small requests grow the buffer; once drained it is replaced.
        for _ in 0..10_000 {
            q.push(&Bytes::from_static(b"*1\r\n$4\r\nPING\r\n").into());
        }
        assert!(q.buf.capacity() > KEEP);
        run(&mut q, &mut sink);
        assert!(q.buf.capacity() <= INITIAL, "{}", q.buf.capacity());
        assert!(!q.is_full());
        q.push(&Bytes::from(vec![0u8; FULL as usize]).into());
        assert!(q.is_full());
    }
}
