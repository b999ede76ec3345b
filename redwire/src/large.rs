//! Large arguments, kept out of line: how a [`Cmd`](crate::Cmd), a
//! [`Pipeline`](crate::Pipeline) and a request hold a payload of
//! [`LARGE_ARG`] (4 KiB) or more.
//!
//! A command's small parts (every argument's `$len\r\n`, the small
//! arguments, the CRLF after each payload) are encoded into one buffer as
//! they are added. A payload of 4 KiB or more is not copied into
//! it: it stays a [`Bytes`] of its own ([`Large`]), with the offset in that
//! buffer where it belongs. Adding a `&[u8]` copies it once into its own
//! `Bytes`, which is the one copy of the value the client makes; a `Bytes`
//! argument is shared (a reference count), not copied at all.
//!
//! This is what lets a command sent by reference (`client.send(&cmd)`,
//! which leaves the command to its caller) cost one copy of a large value,
//! not two (the command's and its request's): the request copies the small
//! parts and shares the large ones, and the write queue writes each large payload from its own buffer
//! in the vectored write of its batch. A command handed over by value gives
//! the request its buffers without any copy. A pipeline keeps its entries'
//! large payloads out of line the same way.
//!
//! Why 4 KiB: below it, copying a payload into the buffer it is encoded in
//! costs less than an allocation of its own and a slice of its own in the
//! vectored write; above it the copies saved dominate. The write queue's own
//! threshold for whole requests (16 KiB) would leave values of 4 to 16 KiB
//! copied into the command, into the request and into the queue's buffer. A
//! split request's large parts are never copied into that buffer, whatever
//! their size. Commands without a large argument, the common case, keep an
//! empty `Vec` (no allocation) and pay one length check.
//!
//! Whether a payload is out of line depends on its length only, so the same
//! arguments always make the same parts: equality stays structural, and
//! [`Reader`] reads the arguments back without a marker (a length of
//! [`LARGE_ARG`] or more means "the next large part").

use bytes::{BufMut, Bytes};

/// The size from which an argument's payload is kept in its own buffer.
pub(crate) const LARGE_ARG: usize = 4 * 1024;

/// A payload kept out of line, and where it belongs in the buffer of small
/// parts: right after its `$len\r\n`, before its CRLF.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Large {
    pub(crate) at: usize,
    pub(crate) bytes: Bytes,
}

impl Large {
    /// The same payload (shared, not copied), `by` bytes further on.
    #[inline]
    pub(crate) fn shifted(&self, by: usize) -> Large {
        Large {
            at: self.at + by,
            bytes: self.bytes.clone(),
        }
    }
}

/// A command's large payloads, in order: nothing but a null pointer for the
/// commands that have none (nearly all), so that a `Cmd` stays small and is
/// cheap to move, build and drop on the hot path.
// A thin pointer is the point: `Option<Vec>` is three words in every `Cmd`.
#[allow(clippy::box_collection)]
#[derive(Clone, Default)]
pub(crate) struct Parts(Option<Box<Vec<Large>>>);

impl Parts {
    #[inline]
    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_none()
    }

    pub(crate) fn push(&mut self, part: Large) {
        self.0.get_or_insert_with(Box::default).push(part);
    }

    /// Appends `parts`, `by` bytes further on (shared, not copied).
    pub(crate) fn extend_shifted(&mut self, parts: &[Large], by: usize) {
        if !parts.is_empty() {
            let mine = self.0.get_or_insert_with(Box::default);
            mine.extend(parts.iter().map(|part| part.shifted(by)));
        }
    }

    /// The parts, moved `by` bytes further on.
    pub(crate) fn into_shifted(self, by: usize) -> Vec<Large> {
        let mut parts = self.0.map(|b| *b).unwrap_or_default();
        for part in &mut parts {
            part.at += by;
        }
        parts
    }
}

impl std::ops::Deref for Parts {
    type Target = [Large];

    #[inline]
    fn deref(&self) -> &[Large] {
        self.0.as_deref().map_or(&[], |v| v.as_slice())
    }
}

impl PartialEq for Parts {
    fn eq(&self, other: &Parts) -> bool {
        **self == **other
    }
}

impl Eq for Parts {}

/// Only the size: a payload may be megabytes, or a secret.
impl std::fmt::Debug for Large {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Large({} bytes at {})", self.bytes.len(), self.at)
    }
}

/// The bytes of `small` with the `large` payloads put back: the plain
/// encoding.
pub(crate) fn write_plain(out: &mut impl BufMut, small: &[u8], large: &[Large]) {
    let mut at = 0;
    for part in large {
        out.put_slice(&small[at..part.at]);
        out.put_slice(&part.bytes);
        at = part.at;
    }
    out.put_slice(&small[at..]);
}

/// The length of the plain encoding.
pub(crate) fn plain_len(small: &[u8], large: &[Large]) -> usize {
    small.len() + large.iter().map(|l| l.bytes.len()).sum::<usize>()
}

/// One argument read back: in the buffer of small parts, or out of line.
pub(crate) enum Arg<'a> {
    Small(&'a [u8]),
    Large(&'a Bytes),
}

/// Reads back what was encoded into small parts and large ones: array
/// headers ([`array`](Self::array), for a pipeline's entries) and bulk
/// strings (as an iterator, or [`arg`](Self::arg)). It reads only what this
/// crate wrote; anything else ends it.
pub(crate) struct Reader<'a> {
    rest: &'a [u8],
    large: std::slice::Iter<'a, Large>,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(small: &'a [u8], large: &'a [Large]) -> Self {
        Reader {
            rest: small,
            large: large.iter(),
        }
    }

    /// The `n` of the `*n\r\n` next in line.
    pub(crate) fn array(&mut self) -> Option<usize> {
        self.header(b'*')
    }

    /// The next bulk string.
    #[inline]
    pub(crate) fn arg(&mut self) -> Option<Arg<'a>> {
        let len = self.header(b'$')?;
        if len >= LARGE_ARG {
            let part = self.large.next()?;
            debug_assert_eq!(part.bytes.len(), len);
            self.rest = self.rest.get(2..)?;
            return Some(Arg::Large(&part.bytes));
        }
        let arg = self.rest.get(..len)?;
        self.rest = self.rest.get(len + 2..)?;
        Some(Arg::Small(arg))
    }

    /// A `<prefix><digits>\r\n` header: the number.
    #[inline]
    fn header(&mut self, prefix: u8) -> Option<usize> {
        let (&first, rest) = self.rest.split_first()?;
        if first != prefix {
            return None;
        }
        let mut n = 0usize;
        let mut digits = 0;
        for &d in rest {
            if d == b'\r' {
                break;
            }
            n = n * 10 + usize::from(d.wrapping_sub(b'0'));
            digits += 1;
        }
        self.rest = rest.get(digits + 2..)?;
        Some(n)
    }
}

impl<'a> Iterator for Reader<'a> {
    type Item = &'a [u8];

    #[inline]
    fn next(&mut self) -> Option<&'a [u8]> {
        match self.arg()? {
            Arg::Small(arg) => Some(arg),
            Arg::Large(bytes) => Some(bytes),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::Wire;

    /// An argument is kept out of line from 4 KiB exactly, as `write_bytes`
    /// documents: a `Bytes` of 4095 bytes is copied into the command's
    /// buffer, one of 4096 is shared, and only the latter makes the request
    /// split. (The literal, not `LARGE_ARG`, so that the constant is checked.)
    #[test]
    fn arguments_are_kept_out_of_line_from_4_kib_exactly() {
        let below = Bytes::from(vec![b'b'; 4095]);
        let from = Bytes::from(vec![b'f'; 4096]);
        let c = crate::cmd("MSET").arg("k").arg(&below).arg("l").arg(&from);
        let args: Vec<&[u8]> = c.args_iter().collect();
        assert_eq!(args[2], &below[..]);
        assert_ne!(args[2].as_ptr(), below.as_ptr(), "4095 bytes: copied");
        assert_eq!(args[4].as_ptr(), from.as_ptr(), "4096 bytes: shared");
        let Wire::Split(split) = c.to_wire() else {
            panic!("a command with an argument of 4 KiB is split")
        };
        let large = &split.large;
        assert_eq!(large.len(), 1, "only the argument of 4 KiB is out of line");
        assert_eq!(large[0].bytes.as_ptr(), from.as_ptr());
        let small = crate::cmd("SET").arg("k").arg(&below);
        assert!(
            !matches!(small.to_wire(), Wire::Split(_)),
            "nothing out of line below 4 KiB"
        );
    }

    /// Commands that differ only in the bytes of a large payload (same
    /// length, so the same small parts) are not equal: equality looks at the
    /// payloads, not only at their lengths and places.
    #[test]
    fn commands_differing_only_inside_a_large_payload_are_not_equal() {
        let mut other = vec![b'v'; 5000];
        let c = crate::cmd("SET").arg("k").arg(&other[..]);
        assert_eq!(c, crate::cmd("SET").arg("k").arg(&other[..]));
        other[4999] = b'w';
        assert_ne!(c, crate::cmd("SET").arg("k").arg(&other[..]));
        let mut parts = Parts::default();
        parts.push(Large {
            at: 3,
            bytes: Bytes::from(vec![1u8; 4096]),
        });
        let mut changed = Parts::default();
        changed.push(Large {
            at: 3,
            bytes: Bytes::from(vec![2u8; 4096]),
        });
        assert!(parts == parts.clone());
        assert!(parts != changed, "same place and length, other bytes");
    }

    /// A large payload shows as its size and place only, never its bytes
    /// (it may be megabytes, or a secret); a pipeline's `Debug` counts it
    /// in its size and shows nothing of it.
    #[test]
    fn a_large_payload_shows_its_size_and_place_not_its_bytes() {
        let part = Large {
            at: 12,
            bytes: Bytes::from(vec![b's'; 5000]),
        };
        assert_eq!(format!("{part:?}"), "Large(5000 bytes at 12)");
        let mut p = crate::Pipeline::new();
        p.add(crate::cmd("SET").arg("k").arg(vec![b's'; 5000]));
        let shown = format!("{p:?}");
        assert!(shown.contains("bytes: 5029"), "{shown}");
        assert!(!shown.contains("sssss"), "the payload was shown");
    }
}
