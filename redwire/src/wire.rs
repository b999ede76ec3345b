//! The bytes a request writes: inline when small, a shared [`Bytes`] when
//! large or already built (a pipeline, an internal request), or split when
//! it holds large arguments.
//!
//! A command of up to [`INLINE`] bytes travels inside the request itself, so
//! handing it to the actor allocates nothing: the channel's slot holds it,
//! and the actor copies it into the write queue as it would copy any small
//! request. This is what lets a command sent by reference
//! (`client.send(&cmd)`) or the same command sent again and again cost no
//! allocation beyond its reply slot. Larger requests are one `Bytes`: the
//! command's own buffer when it is handed over by value (no copy), and the
//! write queue writes large ones from it with a vectored write (no copy
//! either).
//!
//! A command or pipeline with arguments of 4 KiB or more keeps them out of
//! line (see `crate::large`), and so does its request ([`Wire::Split`]): the
//! small parts in one buffer, each large payload in its own, shared with the
//! command. The write queue copies the small parts and writes the large ones
//! from their own buffers, so a large value is never copied on its way to
//! the socket, whether the command was sent by reference or by value.

use crate::large::{self, Large};
use bytes::{Bytes, BytesMut};

/// The largest request carried inline: a `GET` or a `SET` of a short key
/// and value fits. Larger makes every request (and the channel's slots)
/// larger; a 16-byte value with a 40-byte key still fits.
pub(crate) const INLINE: usize = 56;

/// The bytes of one request.
pub(crate) enum Wire {
    /// A small request, in place.
    Inline { len: u8, buf: [u8; INLINE] },
    /// A large or prebuilt request.
    Shared(Bytes),
    /// A request with large arguments (see [`Split`]). Boxed: requests
    /// with large arguments are few, and a variant of one pointer keeps the
    /// moves and the drop of every other request as cheap as before.
    Split(Box<Split>),
}

/// A request's small parts, and the large payloads with where they go in
/// `small` (never empty; see [`Wire::split`]).
pub(crate) struct Split {
    pub(crate) small: BytesMut,
    pub(crate) large: Vec<Large>,
}

impl Wire {
    /// The concatenation of `parts`, inline, if it fits.
    #[inline]
    pub(crate) fn inline(parts: &[&[u8]]) -> Option<Wire> {
        let len: usize = parts.iter().map(|p| p.len()).sum();
        if len > INLINE {
            return None;
        }
        let mut buf = [0u8; INLINE];
        let mut at = 0;
        for p in parts {
            buf[at..at + p.len()].copy_from_slice(p);
            at += p.len();
        }
        Some(Wire::Inline {
            len: len as u8,
            buf,
        })
    }

    /// `head` then `body`, inline, if they fit: like [`inline`](Self::inline)
    /// of the two, with one copy of unknown length instead of two.
    #[inline]
    pub(crate) fn inline_after<const N: usize>(head: [u8; N], body: &[u8]) -> Option<Wire> {
        let len = N + body.len();
        if len > INLINE {
            return None;
        }
        let mut buf = [0u8; INLINE];
        buf[..N].copy_from_slice(&head);
        buf[N..len].copy_from_slice(body);
        Some(Wire::Inline {
            len: len as u8,
            buf,
        })
    }

    /// `small` with the `large` payloads put in: split when there are any,
    /// else one shared buffer.
    pub(crate) fn split(small: BytesMut, large: Vec<Large>) -> Wire {
        if large.is_empty() {
            Wire::Shared(small.freeze())
        } else {
            Wire::Split(Box::new(Split { small, large }))
        }
    }

    /// The bytes, in one slice: borrowed, except for a split request, whose
    /// parts are copied together (for tests, and for a request cut off by a
    /// drop, see `connection::lifecycle`).
    pub(crate) fn contiguous(&self) -> std::borrow::Cow<'_, [u8]> {
        use std::borrow::Cow;
        match self {
            Wire::Inline { len, buf } => Cow::Borrowed(&buf[..*len as usize]),
            Wire::Shared(b) => Cow::Borrowed(b),
            Wire::Split(split) => {
                let (small, large) = (&split.small, &split.large);
                let mut out = Vec::with_capacity(large::plain_len(small, large));
                large::write_plain(&mut out, small, large);
                Cow::Owned(out)
            }
        }
    }

    /// The first bytes: all of them, or a split request's small parts
    /// (which hold at least the header and the command's name).
    #[cfg(feature = "client-cache")]
    #[inline]
    pub(crate) fn head(&self) -> &[u8] {
        match self {
            Wire::Inline { len, buf } => &buf[..*len as usize],
            Wire::Shared(b) => b,
            Wire::Split(split) => &split.small,
        }
    }

    #[inline]
    pub(crate) fn len(&self) -> usize {
        match self {
            Wire::Inline { len, .. } => *len as usize,
            Wire::Shared(b) => b.len(),
            Wire::Split(split) => large::plain_len(&split.small, &split.large),
        }
    }
}

impl From<Bytes> for Wire {
    #[inline]
    fn from(b: Bytes) -> Wire {
        Wire::Shared(b)
    }
}

impl std::fmt::Debug for Wire {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Wire({} bytes)", self.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_requests_are_inline_and_large_ones_are_not() {
        let w = Wire::inline(&[b"*1\r\n", b"$4\r\nPING\r\n"]).expect("fits");
        assert!(matches!(w, Wire::Inline { .. }));
        assert_eq!(&w.contiguous()[..], b"*1\r\n$4\r\nPING\r\n");
        assert_eq!(w.len(), 14);
        assert!(Wire::inline(&[&[b'x'; INLINE]]).is_some());
        let w = Wire::inline_after(*b"*1\r\n", b"$4\r\nPING\r\n").expect("fits");
        assert_eq!(&w.contiguous()[..], b"*1\r\n$4\r\nPING\r\n");
        assert!(Wire::inline_after(*b"ab", &[b'x'; INLINE - 2]).is_some());
        assert!(Wire::inline_after(*b"ab", &[b'x'; INLINE - 1]).is_none());
        assert!(Wire::inline(&[&[b'x'; INLINE], b"y"]).is_none());
        let big = Bytes::from(vec![1u8; 100]);
        let w = Wire::from(big.clone());
        assert_eq!(w.contiguous().as_ptr(), big.as_ptr(), "not copied");
    }

    #[test]
    fn a_split_request_is_its_small_parts_with_the_large_ones_put_in() {
        let value = Bytes::from(vec![b'v'; 5000]);
        let small = BytesMut::from(&b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5000\r\n\r\n"[..]);
        let at = small.len() - 2;
        let w = Wire::split(
            small,
            vec![Large {
                at,
                bytes: value.clone(),
            }],
        );
        let Wire::Split(split) = &w else {
            panic!("a request with a large part is split")
        };
        let large = &split.large;
        assert_eq!(large[0].bytes.as_ptr(), value.as_ptr(), "not copied");
        let mut expected = b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5000\r\n".to_vec();
        expected.extend_from_slice(&value);
        expected.extend_from_slice(b"\r\n");
        assert_eq!(w.contiguous(), expected);
        assert_eq!(w.len(), expected.len());
        // Without large parts, one buffer.
        let w = Wire::split(BytesMut::from(&b"*1\r\n$4\r\nPING\r\n"[..]), Vec::new());
        assert!(matches!(w, Wire::Shared(_)));
        assert_eq!(&w.contiguous()[..], b"*1\r\n$4\r\nPING\r\n");
    }

    /// A request shows as its length only, never its bytes (they may be
    /// megabytes, or a secret): a split one with its large parts counted.
    #[test]
    fn a_request_shows_its_length_not_its_bytes() {
        let small = BytesMut::from(&b"*2\r\n$4\r\nAUTH\r\n$5000\r\n\r\n"[..]);
        let at = small.len() - 2;
        let secret = Bytes::from(vec![b's'; 5000]);
        let w = Wire::split(small, vec![Large { at, bytes: secret }]);
        assert_eq!(format!("{w:?}"), format!("Wire({} bytes)", w.len()));
        assert_eq!(w.len(), 5023);
    }
}
