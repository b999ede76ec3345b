//! The bytes a request writes: inline when small, a shared [`Bytes`] when
//! large or already built (a pipeline, an internal request).
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

use bytes::Bytes;

/// The largest request carried inline: a `GET` or a `SET` of a short key
/// and value fits. Larger makes every request (and the channel's slots)
/// larger; a 16-byte value with a 40-byte key still fits.
pub(crate) const INLINE: usize = 56;

/// The bytes of one request.
#[derive(Clone)]
pub(crate) enum Wire {
    /// A small request, in place.
    Inline { len: u8, buf: [u8; INLINE] },
    /// A large or prebuilt request.
    Shared(Bytes),
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

    /// The bytes.
    #[inline]
    pub(crate) fn as_slice(&self) -> &[u8] {
        match self {
            Wire::Inline { len, buf } => &buf[..*len as usize],
            Wire::Shared(b) => b,
        }
    }

    #[inline]
    pub(crate) fn len(&self) -> usize {
        match self {
            Wire::Inline { len, .. } => *len as usize,
            Wire::Shared(b) => b.len(),
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
        assert_eq!(w.as_slice(), b"*1\r\n$4\r\nPING\r\n");
        assert_eq!(w.len(), 14);
        assert!(Wire::inline(&[&[b'x'; INLINE]]).is_some());
        assert!(Wire::inline(&[&[b'x'; INLINE], b"y"]).is_none());
        let big = Bytes::from(vec![1u8; 100]);
        let w = Wire::from(big.clone());
        assert_eq!(w.as_slice().as_ptr(), big.as_ptr(), "not copied");
    }
}
