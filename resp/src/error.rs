//! Decode errors: what was wrong, and at which byte of the frame it was found.

use std::fmt;

/// What the decoder found wrong. A stream that produced one of these cannot be
/// resynchronised: the connection that carried it must be dropped.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DecodeErrorKind {
    /// A frame started with a byte that is no RESP2 or RESP3 type.
    UnknownType(u8),
    /// A line that should have held an integer or a length did not.
    InvalidInteger,
    /// A `,` double that is not a number, `inf`, `-inf` or `nan`.
    InvalidDouble,
    /// A `#` boolean other than `t` or `f`.
    InvalidBoolean,
    /// A `(` big number that is not an optionally signed run of digits.
    InvalidBigNumber,
    /// A `=` verbatim string without its `xxx:` format prefix.
    InvalidVerbatim,
    /// A length below -1, or -1 where null is not allowed.
    InvalidLength(i64),
    /// A CR or LF inside a simple string, or a payload not followed by CRLF.
    MissingCrlf,
    /// A bulk payload (or a line) longer than [`Limits::max_bulk_len`](crate::Limits).
    BulkTooLong {
        /// The declared (or so far seen) length.
        len: u64,
        /// The configured limit.
        max: usize,
    },
    /// An aggregate declaring more elements than [`Limits::max_elements`](crate::Limits).
    TooManyElements {
        /// The declared number of elements.
        count: u64,
        /// The configured limit.
        max: usize,
    },
    /// Aggregates nested deeper than [`Limits::max_depth`](crate::Limits).
    TooDeep {
        /// The configured limit.
        max: usize,
    },
    /// One frame (a reply with everything nested in it) longer than
    /// [`Limits::max_frame_len`](crate::Limits).
    FrameTooLong {
        /// The length known so far (at least this many bytes).
        len: u64,
        /// The configured limit.
        max: usize,
    },
}

/// A malformed or over-limit RESP stream, with the byte offset (from the start of
/// the frame being decoded) where the problem was found.
///
/// ```
/// use bytes::BytesMut;
/// use redwire_resp::{Decoder, DecodeErrorKind};
///
/// let err = Decoder::new().decode(&mut BytesMut::from(&b"?oops\r\n"[..])).unwrap_err();
/// assert_eq!(err.kind(), &DecodeErrorKind::UnknownType(b'?'));
/// assert_eq!(err.offset(), 0);
/// assert!(err.to_string().contains("byte 0"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError {
    kind: DecodeErrorKind,
    offset: usize,
}

impl DecodeError {
    pub(crate) fn new(kind: DecodeErrorKind, offset: usize) -> Self {
        DecodeError { kind, offset }
    }

    /// What was wrong.
    pub fn kind(&self) -> &DecodeErrorKind {
        &self.kind
    }

    /// Where, counted in bytes from the start of the frame being decoded.
    pub fn offset(&self) -> usize {
        self.offset
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use DecodeErrorKind::*;
        let at = self.offset;
        match &self.kind {
            UnknownType(b) => write!(
                f,
                "expected a RESP type byte (one of +-:$*_#,(!=%~|>) at byte {at}, found {}",
                show_byte(*b)
            ),
            InvalidInteger => write!(f, "expected a decimal integer at byte {at}"),
            InvalidDouble => write!(
                f,
                "expected a double (digits, inf, -inf or nan) at byte {at}"
            ),
            InvalidBoolean => write!(f, "expected `t` or `f` for a boolean at byte {at}"),
            InvalidBigNumber => write!(f, "expected the digits of a big number at byte {at}"),
            InvalidVerbatim => write!(
                f,
                "expected a 3-letter format and `:` at the start of a verbatim string at byte {at}"
            ),
            InvalidLength(n) => {
                write!(f, "expected a length of -1 or more at byte {at}, found {n}")
            }
            MissingCrlf => write!(f, "expected CRLF at byte {at}"),
            BulkTooLong { len, max } => write!(
                f,
                "a string of {len} bytes at byte {at} is over the limit of {max} bytes"
            ),
            TooManyElements { count, max } => write!(
                f,
                "an aggregate of {count} elements at byte {at} is over the limit of {max}"
            ),
            TooDeep { max } => write!(
                f,
                "aggregates nested deeper than the limit of {max} levels at byte {at}"
            ),
            FrameTooLong { len, max } => write!(
                f,
                "a reply of at least {len} bytes (found at byte {at}) is over the limit of {max} bytes"
            ),
        }
    }
}

fn show_byte(b: u8) -> String {
    if b.is_ascii_graphic() {
        format!("`{}`", b as char)
    } else {
        format!("0x{b:02x}")
    }
}

impl std::error::Error for DecodeError {}
