//! The bytes read from the socket and not yet decoded, and the rule for how
//! much memory a reply may keep alive.
//!
//! Replies are zero-copy: their strings are slices of the block they were read
//! into, so a value a caller keeps holds that whole block alive. Blocks are
//! normally 16 KiB. A reply larger than a read grows the block to hold it;
//! once that reply is complete the block is left to it alone: the bytes behind
//! it move to a fresh small block, and the strings inside it smaller than half
//! the block (the elements of a large array) are copied out. So a kept 4-byte
//! element never pins a 64 MiB block, and no reply keeps alive more than
//! 128 KiB or about twice its own size. The copies are made only for replies
//! over 128 KiB, never on the hot path of small replies.
//!
//! Small replies do not allocate: a read goes into the rest of the current
//! block while at least 4 KiB of it is free, and only then is room made
//! (the drained block reused in place when no reply holds it any more, else a
//! new one). Making room before every read would replace the block on every
//! reply, since the caller usually still holds the previous one.

use bytes::{Bytes, BytesMut};
use redwire_resp::{DecodeError, Decoder, Frame, Limits};
use std::pin::Pin;
use std::task::{Context, Poll};
use tokio::io::AsyncRead;

/// The size of an ordinary block, and the room made when there is too little.
pub(super) const READ_CHUNK: usize = 16 * 1024;
/// Less room than this left in the block: make room before reading. Reading
/// into the rest of a block until then is what spares a small reply its own
/// allocation: a block that still has replies alive in callers' hands
/// cannot be reused, only replaced, so the block is filled to near its end
/// first (hundreds of small replies) and replaced once.
const MIN_READ: usize = 4 * 1024;
/// A block this large was grown for one reply.
const LARGE_BLOCK: usize = 128 * 1024;

pub(super) struct ReadBuffer {
    buf: BytesMut,
    decoder: Decoder,
    /// The size of the large block the next reply completes in; 0 when the
    /// block is an ordinary one.
    large_block: usize,
}

impl ReadBuffer {
    pub(super) fn new(limits: Limits) -> Self {
        ReadBuffer {
            buf: BytesMut::with_capacity(READ_CHUNK),
            decoder: Decoder::with_limits(limits),
            large_block: 0,
        }
    }

    /// A new connection, with what the handshake read past its own replies.
    pub(super) fn start(&mut self, buf: BytesMut) {
        self.buf = buf;
        self.decoder.reset();
        self.large_block = 0;
    }

    /// Forgets everything read on a dropped connection.
    pub(super) fn reset(&mut self) {
        self.buf = BytesMut::with_capacity(READ_CHUNK);
        self.decoder.reset();
        self.large_block = 0;
    }

    /// Nothing read is waiting to be decoded.
    #[inline]
    pub(super) fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// The next complete frame, if the buffer holds one.
    #[inline]
    pub(super) fn next_frame(&mut self) -> Result<Option<Frame>, DecodeError> {
        let frame = self.decoder.decode(&mut self.buf)?;
        if self.large_block > 0 && frame.is_some() {
            return Ok(frame.map(|f| self.leave_large_block(f)));
        }
        Ok(frame)
    }

    /// The reply the large block grew for is complete: it keeps the block
    /// alone (its small strings copied out), the bytes behind it move to a
    /// new ordinary block.
    #[cold]
    #[inline(never)]
    fn leave_large_block(&mut self, mut frame: Frame) -> Frame {
        copy_small(&mut frame, self.large_block / 2);
        let mut fresh = BytesMut::with_capacity(READ_CHUNK.max(self.buf.len()));
        fresh.extend_from_slice(&self.buf);
        self.buf = fresh;
        self.large_block = 0;
        frame
    }

    /// Reads once into the buffer, making room first: for a reply whose size
    /// the decoder knows, room for all of it at once.
    pub(super) fn poll_fill<R: AsyncRead + Unpin>(
        &mut self,
        cx: &mut Context<'_>,
        r: &mut R,
    ) -> Poll<std::io::Result<usize>> {
        if self.buf.capacity() - self.buf.len() < MIN_READ {
            let want = match self.decoder.needed_len() {
                Some(total) if total > self.buf.len() + READ_CHUNK => total - self.buf.len(),
                _ => READ_CHUNK,
            };
            self.buf.reserve(want);
            // Only the incomplete reply at the front is in the buffer now: a
            // large block was grown for it.
            if self.buf.capacity() >= LARGE_BLOCK {
                self.large_block = self.large_block.max(self.buf.capacity());
            }
        }
        tokio_util::io::poll_read_buf(Pin::new(r), cx, &mut self.buf)
    }
}

/// Replaces every string in `frame` shorter than `keep` with a copy of its own.
fn copy_small(frame: &mut Frame, keep: usize) {
    let copy = |b: &mut Bytes| {
        if b.len() < keep {
            *b = Bytes::copy_from_slice(b);
        }
    };
    match frame {
        Frame::Simple(b)
        | Frame::Error(b)
        | Frame::Bulk(b)
        | Frame::BigNumber(b)
        | Frame::BulkError(b)
        | Frame::Verbatim { data: b, .. } => copy(b),
        Frame::Array(items) | Frame::Set(items) | Frame::Push(items) => {
            items.iter_mut().for_each(|f| copy_small(f, keep))
        }
        Frame::Map(entries) => entries.iter_mut().for_each(|(k, v)| {
            copy_small(k, keep);
            copy_small(v, keep);
        }),
        Frame::Attribute { attributes, frame } => {
            attributes.iter_mut().for_each(|(k, v)| {
                copy_small(k, keep);
                copy_small(v, keep);
            });
            copy_small(frame, keep);
        }
        Frame::Integer(_) | Frame::Null | Frame::Boolean(_) | Frame::Double(_) => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A socket that hands out `data` in pieces of at most `piece` bytes.
    struct Source {
        data: Vec<u8>,
        at: usize,
        piece: usize,
    }

    impl AsyncRead for Source {
        fn poll_read(
            mut self: Pin<&mut Self>,
            _: &mut Context<'_>,
            buf: &mut tokio::io::ReadBuf<'_>,
        ) -> Poll<std::io::Result<()>> {
            let n = (self.data.len() - self.at)
                .min(self.piece)
                .min(buf.remaining());
            let at = self.at;
            buf.put_slice(&self.data[at..at + n]);
            self.at += n;
            Poll::Ready(Ok(()))
        }
    }

    fn read_all(data: Vec<u8>, piece: usize) -> Vec<Frame> {
        let mut rb = ReadBuffer::new(Limits::default());
        let mut src = Source { data, at: 0, piece };
        let waker = super::super::noop_waker();
        let mut cx = Context::from_waker(&waker);
        let mut frames = Vec::new();
        loop {
            while let Some(f) = rb.next_frame().unwrap() {
                frames.push(f);
            }
            match rb.poll_fill(&mut cx, &mut src) {
                Poll::Ready(Ok(0)) => return frames,
                Poll::Ready(Ok(_)) => {}
                other => panic!("{other:?}"),
            }
        }
    }

    /// True when `b` sits exactly `offset` bytes after `a`: both are slices of
    /// one block, as they were on the wire.
    fn wire_neighbours(a: &Bytes, b: &Bytes, offset: usize) -> bool {
        b.as_ptr() as usize == a.as_ptr() as usize + offset
    }

    #[test]
    fn small_elements_of_a_large_array_do_not_pin_its_block() {
        // 20,000 elements of 10 bytes, then a small reply behind it.
        let mut wire = b"*20000\r\n".to_vec();
        for i in 0..20_000 {
            wire.extend_from_slice(format!("$10\r\n{i:010}\r\n").as_bytes());
        }
        wire.extend_from_slice(b"$5\r\nafter\r\n");
        let frames = read_all(wire, 64 * 1024);
        let Frame::Array(items) = &frames[0] else {
            panic!("{:?}", frames[0])
        };
        assert_eq!(items.len(), 20_000);
        let (Frame::Bulk(first), Frame::Bulk(last)) = (&items[0], &items[19_999]) else {
            panic!()
        };
        assert_eq!(&last[..], b"0000019999");
        assert!(
            !wire_neighbours(first, last, 19_999 * 17),
            "elements are copies of their own, not slices of one block"
        );
        let Frame::Bulk(after) = &frames[1] else {
            panic!()
        };
        assert_eq!(&after[..], b"after");
        assert!(!wire_neighbours(last, after, 17));
    }

    #[test]
    fn a_large_bulk_stays_zero_copy_and_what_follows_gets_a_new_block() {
        let big = vec![b'x'; 1 << 20];
        let mut wire = format!("${}\r\n", big.len()).into_bytes();
        wire.extend_from_slice(&big);
        wire.extend_from_slice(b"\r\n:1\r\n$3\r\nabc\r\n");
        let frames = read_all(wire, 256 * 1024);
        assert_eq!(frames.len(), 3);
        let (Frame::Bulk(b), Frame::Bulk(small)) = (&frames[0], &frames[2]) else {
            panic!()
        };
        assert_eq!(b.len(), 1 << 20);
        assert_eq!(&small[..], b"abc");
        assert!(
            !wire_neighbours(b, small, (1 << 20) + 2 + 4 + 4),
            "a small reply read with a large one lives in a block of its own"
        );
    }

    #[test]
    fn the_value_a_large_block_grew_for_is_not_copied() {
        let mut wire = format!("${}\r\n", 1 << 20).into_bytes();
        let header = wire.len();
        wire.extend_from_slice(&vec![b'y'; 1 << 20]);
        wire.extend_from_slice(b"\r\n");
        let mut rb = ReadBuffer::new(Limits::default());
        let mut src = Source {
            data: wire,
            at: 0,
            piece: 256 * 1024,
        };
        let waker = super::super::noop_waker();
        let mut cx = Context::from_waker(&waker);
        let mut block_start = 0;
        let frame = loop {
            if let Some(f) = rb.next_frame().unwrap() {
                break f;
            }
            // The frame starts at the front of the buffer until it is taken.
            block_start = rb.buf.as_ptr() as usize;
            assert!(matches!(rb.poll_fill(&mut cx, &mut src), Poll::Ready(Ok(n)) if n > 0));
        };
        let Frame::Bulk(b) = frame else { panic!() };
        assert_eq!(b.len(), 1 << 20);
        assert_eq!(
            b.as_ptr() as usize,
            block_start + header,
            "the large value is a slice of the block it was read into"
        );
    }

    #[test]
    fn ordinary_replies_share_the_ordinary_block() {
        let frames = read_all(b"$3\r\nabc\r\n$3\r\ndef\r\n".to_vec(), 1024);
        let (Frame::Bulk(a), Frame::Bulk(b)) = (&frames[0], &frames[1]) else {
            panic!()
        };
        assert!(wire_neighbours(a, b, 9), "zero-copy slices of one block");
    }

    #[test]
    fn small_replies_share_a_block_while_earlier_ones_are_still_held() {
        // One reply per read, each kept (as a caller keeps its reply while
        // the actor reads the next): they are still slices of one block,
        // read in turn into its free room, not each in a block of its own.
        let mut rb = ReadBuffer::new(Limits::default());
        let waker = super::super::noop_waker();
        let mut cx = Context::from_waker(&waker);
        let mut kept = Vec::new();
        for i in 0..200u32 {
            let mut src = Source {
                data: format!("$4\r\n{i:04}\r\n").into_bytes(),
                at: 0,
                piece: 1024,
            };
            assert!(matches!(
                rb.poll_fill(&mut cx, &mut src),
                Poll::Ready(Ok(10))
            ));
            let Some(Frame::Bulk(b)) = rb.next_frame().unwrap() else {
                panic!()
            };
            assert_eq!(b, format!("{i:04}").as_bytes());
            kept.push(b);
        }
        for pair in kept.windows(2) {
            assert!(
                wire_neighbours(&pair[0], &pair[1], 10),
                "each reply read into a block of its own"
            );
        }
    }
}
