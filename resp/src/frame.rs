//! The one frame type that every RESP2 and RESP3 wire type decodes into.

use bytes::{Bytes, BytesMut};

/// One RESP value as it travels on the wire.
///
/// RESP2's null bulk (`$-1`) and null array (`*-1`) and RESP3's null (`_`) all
/// decode to [`Frame::Null`]; the encoder writes RESP3's `_`.
///
/// ```
/// use redwire_resp::Frame;
///
/// let reply = Frame::Array(vec![Frame::Bulk("a".into()), Frame::Null, Frame::Integer(7)]);
/// assert_eq!(reply.to_bytes(), &b"*3\r\n$1\r\na\r\n_\r\n:7\r\n"[..]);
/// ```
#[derive(Debug, Clone)]
pub enum Frame {
    /// `+OK` — a simple string (no CR or LF inside).
    Simple(Bytes),
    /// `-ERR message` — a simple error; the first word is its code.
    Error(Bytes),
    /// `:42` — a signed 64-bit integer.
    Integer(i64),
    /// `$5 hello` — a binary-safe bulk string.
    Bulk(Bytes),
    /// `_`, `$-1` or `*-1` — the absence of a value.
    Null,
    /// `*n` — an ordered list of frames.
    Array(Vec<Frame>),
    /// `#t` / `#f` — a RESP3 boolean.
    Boolean(bool),
    /// `,3.14` — a RESP3 double, including `inf`, `-inf` and `nan`.
    Double(f64),
    /// `(12345678901234567890` — a RESP3 big number, kept as its decimal digits.
    BigNumber(Bytes),
    /// `!n` — a RESP3 binary-safe error.
    BulkError(Bytes),
    /// `=n txt:...` — a RESP3 verbatim string with its three-letter format.
    Verbatim {
        /// The format, such as `txt` or `mkd`.
        format: [u8; 3],
        /// The text after the `xxx:` prefix.
        data: Bytes,
    },
    /// `%n` — a RESP3 map, in wire order.
    Map(Vec<(Frame, Frame)>),
    /// `~n` — a RESP3 set, in wire order.
    Set(Vec<Frame>),
    /// `|n` — RESP3 attributes and the frame they annotate. Attributes are never a
    /// reply of their own; the decoder attaches them to the frame that follows.
    Attribute {
        /// The attribute map.
        attributes: Vec<(Frame, Frame)>,
        /// The annotated frame.
        frame: Box<Frame>,
    },
    /// `>n` — a RESP3 out-of-band push (pub/sub messages, invalidations).
    Push(Vec<Frame>),
}

impl Frame {
    /// Encodes this frame into `buf` (RESP3 for RESP3 types, `_` for null).
    ///
    /// ```
    /// use bytes::BytesMut;
    /// use redwire_resp::Frame;
    ///
    /// let mut buf = BytesMut::new();
    /// Frame::Boolean(true).encode(&mut buf);
    /// assert_eq!(&buf[..], b"#t\r\n");
    /// ```
    pub fn encode(&self, buf: &mut BytesMut) {
        crate::encode::encode_frame(self, buf)
    }

    /// Encodes this frame into a new buffer.
    ///
    /// ```
    /// use redwire_resp::Frame;
    /// assert_eq!(Frame::Integer(-3).to_bytes(), &b":-3\r\n"[..]);
    /// ```
    pub fn to_bytes(&self) -> Bytes {
        let mut buf = BytesMut::new();
        self.encode(&mut buf);
        buf.freeze()
    }

    /// True for a RESP3 push frame, which never answers a request, also when
    /// attributes annotate it.
    ///
    /// ```
    /// use redwire_resp::Frame;
    /// assert!(Frame::Push(vec![]).is_push());
    /// assert!(!Frame::Array(vec![]).is_push());
    /// let annotated = Frame::Attribute { attributes: vec![], frame: Box::new(Frame::Push(vec![])) };
    /// assert!(annotated.is_push());
    /// ```
    pub fn is_push(&self) -> bool {
        match self {
            Frame::Push(_) => true,
            Frame::Attribute { frame, .. } => frame.is_push(),
            _ => false,
        }
    }

    /// True for a simple or bulk error reply.
    ///
    /// ```
    /// use redwire_resp::Frame;
    /// assert!(Frame::Error("ERR no".into()).is_error());
    /// ```
    pub fn is_error(&self) -> bool {
        matches!(self, Frame::Error(_) | Frame::BulkError(_))
    }
}

/// Frames compare structurally; two `nan` doubles are equal, so a decoded frame
/// always equals the frame that was encoded.
impl PartialEq for Frame {
    fn eq(&self, other: &Self) -> bool {
        use Frame::*;
        match (self, other) {
            (Simple(a), Simple(b)) | (Error(a), Error(b)) | (Bulk(a), Bulk(b)) => a == b,
            (BigNumber(a), BigNumber(b)) | (BulkError(a), BulkError(b)) => a == b,
            (Integer(a), Integer(b)) => a == b,
            (Null, Null) => true,
            (Boolean(a), Boolean(b)) => a == b,
            (Double(a), Double(b)) => a == b || (a.is_nan() && b.is_nan()),
            (
                Verbatim {
                    format: f1,
                    data: d1,
                },
                Verbatim {
                    format: f2,
                    data: d2,
                },
            ) => f1 == f2 && d1 == d2,
            (Array(a), Array(b)) | (Set(a), Set(b)) | (Push(a), Push(b)) => a == b,
            (Map(a), Map(b)) => a == b,
            (
                Attribute {
                    attributes: a1,
                    frame: f1,
                },
                Attribute {
                    attributes: a2,
                    frame: f2,
                },
            ) => a1 == a2 && f1 == f2,
            _ => false,
        }
    }
}
