//! The streaming decoder: a growing read buffer in, complete frames out.
//!
//! Decoding one frame is two steps. The *scan* walks the frame at the front of the
//! buffer header by header (bulk payloads are skipped by their length), records
//! one small token per element (its kind and the byte range of its payload) and
//! keeps its place between calls: a frame that arrives in pieces is scanned once,
//! not once per piece. When the scan reaches the end of the frame, exactly those
//! bytes are split off the buffer and frozen, and the *build* turns the tokens
//! into a [`Frame`] whose strings are slices of that block, without parsing
//! anything twice. A top-level scalar (the usual reply: `+OK`, `:1`, a bulk
//! string) needs no tokens and no build step, and when it is complete and plainly
//! spelled it skips the general scan too.
//!
//! Tokens take 24 bytes per element and live only until their frame is built;
//! like the frame itself, they are bounded by the bytes the peer really sent.
//!
//! Both steps are loops over an explicit stack, so nesting depth costs heap, not
//! call stack, and is capped by [`Limits::max_depth`]. Every length is checked
//! against the limits when its header is read, before any memory is reserved.

use crate::error::{DecodeError, DecodeErrorKind as K};
use crate::Frame;
use bytes::{Buf, Bytes, BytesMut};
use std::ops::Range;

/// The most nesting the decoder accepts whatever [`Limits::max_depth`] says:
/// frames are dropped recursively, so depth must stay well within a thread's stack.
pub const MAX_DEPTH_CEILING: usize = 1024;

/// Bounds that protect the reader from a hostile or broken peer.
///
/// ```
/// use redwire_resp::{Decoder, Limits};
///
/// let limits = Limits { max_bulk_len: 1 << 20, ..Limits::default() };
/// let decoder = Decoder::with_limits(limits);
/// # let _ = decoder;
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Longest bulk string, bulk error, verbatim string or line (default 512 MiB,
    /// Redis's own `proto-max-bulk-len`).
    pub max_bulk_len: usize,
    /// Most elements in one aggregate; for maps and attributes, most entries
    /// (default 2^32 - 1, more than a Redis collection can hold).
    pub max_elements: usize,
    /// Deepest nesting of aggregates (default 128; never more than 1024).
    pub max_depth: usize,
    /// Longest frame in bytes, everything nested in it included (default 1 GiB).
    /// This bounds the memory one reply can take, even when a peer streams an
    /// endless aggregate of small elements that each pass the other limits.
    pub max_frame_len: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_bulk_len: 512 * 1024 * 1024,
            max_elements: u32::MAX as usize,
            max_depth: 128,
            max_frame_len: 1 << 30,
        }
    }
}

/// A number on a header line (`:`, `$`, `*`…) never needs more than this many bytes.
const MAX_NUMBER_LINE: usize = 32;

/// Decodes a stream of RESP2/RESP3 frames from a [`BytesMut`] read buffer.
///
/// Call [`decode`](Decoder::decode) after every read; it returns `Ok(None)` and
/// consumes nothing when the buffer does not yet hold a complete frame. After an
/// error the stream cannot be trusted any more: drop the connection (the decoder
/// itself is reset and may be reused on a new stream).
///
/// ```
/// use bytes::BytesMut;
/// use redwire_resp::{Decoder, Frame};
///
/// let mut dec = Decoder::new();
/// let mut buf = BytesMut::from(&b"*2\r\n$5\r\nhel"[..]);
/// assert_eq!(dec.decode(&mut buf).unwrap(), None);
/// assert_eq!(buf.len(), 11, "nothing consumed");
/// buf.extend_from_slice(b"lo\r\n:1\r\n");
/// let frame = dec.decode(&mut buf).unwrap().unwrap();
/// assert_eq!(frame, Frame::Array(vec![Frame::Bulk("hello".into()), Frame::Integer(1)]));
/// assert!(buf.is_empty());
/// ```
#[derive(Debug, Clone, Default)]
pub struct Decoder {
    limits: Limits,
    scan: Scan,
}

/// How far the frame at the front of the buffer has been scanned.
#[derive(Debug, Clone, Default)]
struct Scan {
    /// Bytes of the frame already scanned: the next element starts here.
    pos: usize,
    /// For each open aggregate, how many elements it still waits for.
    open: Vec<u64>,
    /// Where to resume looking for the CRLF of the line at `pos` (0: from the start).
    line_from: usize,
    /// The buffer length at which the element at `pos` can complete, when known.
    need: usize,
    /// What the scan found so far, in wire order, for the build to assemble
    /// without parsing the frame a second time.
    tokens: Vec<Token>,
}

/// Most tokens a decoder keeps room for between frames (24 bytes each): enough
/// for everyday replies without holding on to the memory of a rare huge one.
const KEEP_TOKENS: usize = 4096;

impl Scan {
    fn reset(&mut self) {
        self.pos = 0;
        self.open.clear();
        self.line_from = 0;
        self.need = 0;
        self.tokens.clear();
        if self.tokens.capacity() > KEEP_TOKENS {
            self.tokens.shrink_to(KEEP_TOKENS);
        }
    }
}

/// One element of an aggregate frame as the scan found it.
#[derive(Debug, Clone)]
enum Token {
    Leaf(Leaf),
    Open(Agg, u64),
}

impl Decoder {
    /// A decoder with the default [`Limits`].
    pub fn new() -> Self {
        Self::default()
    }

    /// A decoder with the given limits (`max_depth` is capped at 1024).
    pub fn with_limits(mut limits: Limits) -> Self {
        limits.max_depth = limits.max_depth.min(MAX_DEPTH_CEILING);
        Decoder {
            limits,
            scan: Scan::default(),
        }
    }

    /// The limits in force.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// When the decoder knows it, the buffer length at which the next call can
    /// make progress (for a bulk string in flight: its header, payload and CRLF).
    /// A reader may reserve that much room at once instead of growing step by step.
    ///
    /// ```
    /// use bytes::BytesMut;
    /// use redwire_resp::Decoder;
    ///
    /// let mut dec = Decoder::new();
    /// let mut buf = BytesMut::from(&b"$1000\r\nabc"[..]);
    /// assert_eq!(dec.decode(&mut buf).unwrap(), None);
    /// assert_eq!(dec.needed_len(), Some(7 + 1000 + 2));
    /// ```
    pub fn needed_len(&self) -> Option<usize> {
        (self.scan.need > 0).then_some(self.scan.need)
    }

    /// Forgets any partly scanned frame, for reuse on a new stream.
    pub fn reset(&mut self) {
        self.scan.reset();
    }

    /// Takes the next complete frame off the front of `buf`.
    ///
    /// Returns `Ok(None)` without consuming anything when more bytes are needed.
    /// Bulk strings in the result are zero-copy slices of `buf`'s memory.
    pub fn decode(&mut self, buf: &mut BytesMut) -> Result<Option<Frame>, DecodeError> {
        // The usual call after the last complete frame was taken: nothing to
        // scan (a partly scanned frame always leaves its bytes in `buf`).
        if buf.is_empty() {
            return Ok(None);
        }
        if self.scan.open.is_empty() {
            if let Some(frame) = quick_scalar(buf, &self.limits) {
                self.scan.reset();
                return Ok(Some(frame));
            }
        }
        let result = self.decode_inner(buf);
        if result.is_err() {
            self.scan.reset();
        }
        result
    }

    fn decode_inner(&mut self, buf: &mut BytesMut) -> Result<Option<Frame>, DecodeError> {
        let limits = self.limits;
        let s = &mut self.scan;
        loop {
            let step = scan_one(buf, s.pos, &limits, &mut s.line_from)?;
            let reached = match step {
                // Whatever is buffered belongs to this incomplete frame.
                Step::Incomplete(need) => need.max(buf.len()),
                Step::Leaf(_, end) | Step::Open(_, _, end) => end,
            };
            if reached > limits.max_frame_len {
                return Err(DecodeError::new(
                    K::FrameTooLong {
                        len: reached as u64,
                        max: limits.max_frame_len,
                    },
                    s.pos,
                ));
            }
            match step {
                Step::Incomplete(need) => {
                    s.need = need;
                    return Ok(None);
                }
                Step::Leaf(leaf, end) if s.open.is_empty() => {
                    // The common reply: one scalar, no build step.
                    s.reset();
                    return Ok(Some(leaf.take(buf, end)));
                }
                Step::Leaf(leaf, end) => {
                    s.tokens.push(Token::Leaf(leaf));
                    s.pos = end;
                }
                Step::Open(agg, count, end) => {
                    if s.open.len() >= limits.max_depth {
                        return Err(DecodeError::new(
                            K::TooDeep {
                                max: limits.max_depth,
                            },
                            s.pos,
                        ));
                    }
                    s.pos = end;
                    s.tokens.push(Token::Open(agg, count));
                    let elements = agg.elements(count);
                    if elements > 0 {
                        s.open.push(elements);
                        s.line_from = 0;
                        s.need = 0;
                        continue;
                    }
                }
            }
            s.line_from = 0;
            s.need = 0;
            // An element ended: close every aggregate it completes.
            while let Some(remaining) = s.open.last_mut() {
                *remaining -= 1;
                if *remaining > 0 {
                    break;
                }
                s.open.pop();
            }
            if s.open.is_empty() {
                let bytes = buf.split_to(s.pos).freeze();
                let frame = build(&bytes, s.tokens.drain(..));
                s.reset();
                return Ok(Some(frame));
            }
        }
    }
}

/// The replies that make up most of a pipelined stream (`+OK`, `:1`, a short
/// error, a bulk string) when they are complete and plainly spelled, taken off
/// the buffer without the general machinery. `None` means "not that easy": the
/// general path then decodes it, or reports it incomplete or wrong.
#[inline]
fn quick_scalar(buf: &mut BytesMut, limits: &Limits) -> Option<Frame> {
    let bytes = &buf[..];
    match *bytes.first()? {
        kind @ (b'+' | b'-') => {
            let line = &bytes[1..bytes.len().min(SHORT_LINE + 1)];
            let len = line.iter().position(|&b| b == b'\r' || b == b'\n')?;
            if line[len] != b'\r'
                || bytes.get(len + 2) != Some(&b'\n')
                || len > limits.max_bulk_len
                || len + 3 > limits.max_frame_len
            {
                return None;
            }
            let text = match well_known(kind, &line[..len]) {
                Some(text) => {
                    buf.advance(len + 3);
                    text
                }
                None => take(buf, 1, len, 2),
            };
            Some(if kind == b'+' {
                Frame::Simple(text)
            } else {
                Frame::Error(text)
            })
        }
        b':' => {
            let (n, cr) = quick_number(bytes, 1)?;
            buf.advance(cr + 2);
            Some(Frame::Integer(n))
        }
        b'$' => {
            let (len, cr) = quick_number(bytes, 1)?;
            let len = usize::try_from(len)
                .ok()
                .filter(|&len| len <= limits.max_bulk_len)?;
            let total = cr + 2 + len + 2;
            if total > limits.max_frame_len || bytes.get(total - 2..total)? != b"\r\n" {
                return None;
            }
            Some(Frame::Bulk(take(buf, cr + 2, len, 2)))
        }
        _ => None,
    }
}

/// Simple replies so common that they are handed out as static bytes: equal to a
/// slice of the buffer, but with no reference count to touch when taken or
/// dropped, and they do not keep the read buffer's memory alive.
fn well_known(kind: u8, text: &[u8]) -> Option<Bytes> {
    let text: &'static [u8] = match (kind, text) {
        (b'+', b"OK") => b"OK",
        (b'+', b"PONG") => b"PONG",
        (b'+', b"QUEUED") => b"QUEUED",
        _ => return None,
    };
    Some(Bytes::from_static(text))
}

/// Takes `skip + len + trailer` bytes off `buf` and returns the middle `len` as a
/// zero-copy [`Bytes`]. One split of the `BytesMut` and then trimming the frozen
/// `Bytes`, because each `BytesMut` adjustment costs far more than a `Bytes` one.
#[inline]
fn take(buf: &mut BytesMut, skip: usize, len: usize, trailer: usize) -> Bytes {
    let mut out = buf.split_to(skip + len + trailer).freeze();
    out.truncate(skip + len);
    out.advance(skip);
    out
}

/// The kinds of aggregate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Agg {
    Array,
    Map,
    Set,
    Attribute,
    Push,
}

impl Agg {
    /// How many frames follow a header declaring `count`.
    fn elements(self, count: u64) -> u64 {
        match self {
            Agg::Array | Agg::Set | Agg::Push => count,
            Agg::Map => count * 2,
            // The entries, then the frame they annotate.
            Agg::Attribute => count * 2 + 1,
        }
    }
}

/// A scalar found by the scan, with its payload as a range of the frame's bytes.
#[derive(Debug, Clone)]
enum Leaf {
    Simple(Range<usize>),
    Error(Range<usize>),
    Integer(i64),
    Bulk(Range<usize>),
    Null,
    Boolean(bool),
    Double(f64),
    BigNumber(Range<usize>),
    BulkError(Range<usize>),
    Verbatim([u8; 3], Range<usize>),
}

impl Leaf {
    /// Builds the frame from a slice of a complete, frozen frame.
    fn frame(self, bytes: &Bytes) -> Frame {
        match self {
            Leaf::Simple(r) => Frame::Simple(bytes.slice(r)),
            Leaf::Error(r) => Frame::Error(bytes.slice(r)),
            Leaf::Integer(i) => Frame::Integer(i),
            Leaf::Bulk(r) => Frame::Bulk(bytes.slice(r)),
            Leaf::Null => Frame::Null,
            Leaf::Boolean(b) => Frame::Boolean(b),
            Leaf::Double(d) => Frame::Double(d),
            Leaf::BigNumber(r) => Frame::BigNumber(bytes.slice(r)),
            Leaf::BulkError(r) => Frame::BulkError(bytes.slice(r)),
            Leaf::Verbatim(format, r) => Frame::Verbatim {
                format,
                data: bytes.slice(r),
            },
        }
    }

    /// Takes a top-level scalar of `end` bytes off the front of the read buffer,
    /// without the reference-count traffic of slicing a frozen copy.
    fn take(self, buf: &mut BytesMut, end: usize) -> Frame {
        let mut payload = |r: Range<usize>| take(buf, r.start, r.len(), end - r.end);
        match self {
            Leaf::Simple(r) => Frame::Simple(payload(r)),
            Leaf::Error(r) => Frame::Error(payload(r)),
            Leaf::Bulk(r) => Frame::Bulk(payload(r)),
            Leaf::BigNumber(r) => Frame::BigNumber(payload(r)),
            Leaf::BulkError(r) => Frame::BulkError(payload(r)),
            Leaf::Verbatim(format, r) => Frame::Verbatim {
                format,
                data: payload(r),
            },
            other => {
                buf.advance(end);
                other.frame(&Bytes::new())
            }
        }
    }
}

/// What the scan found at one position.
#[derive(Debug)]
enum Step {
    /// More bytes are needed; the buffer length that would help, if known.
    Incomplete(usize),
    /// A scalar ending at the given offset.
    Leaf(Leaf, usize),
    /// An aggregate header with its declared count, ending at the given offset.
    Open(Agg, u64, usize),
}

/// Scans the element starting at `pos`.
fn scan_one(
    buf: &[u8],
    pos: usize,
    limits: &Limits,
    line_from: &mut usize,
) -> Result<Step, DecodeError> {
    let Some(&kind) = buf.get(pos) else {
        return Ok(Step::Incomplete(0));
    };
    let start = pos + 1;
    // The type byte is judged at once: whether a bad one is reported must not
    // depend on how much of its line has arrived.
    let max_line = match kind {
        b'+' | b'-' | b',' | b'(' => limits.max_bulk_len,
        b':' | b'$' | b'*' | b'_' | b'#' | b'!' | b'=' | b'%' | b'~' | b'|' | b'>' => {
            MAX_NUMBER_LINE
        }
        other => return err_at(K::UnknownType(other), pos),
    };
    // Header numbers are parsed in the same pass that finds their CRLF; anything
    // unusual (a sign, a long number, a partial line, bad bytes) takes the careful
    // way below, which gives the same answer or the precise error.
    let quick = match kind {
        b':' | b'$' | b'*' | b'!' | b'=' | b'%' | b'~' | b'|' | b'>' => quick_number(buf, start),
        _ => None,
    };
    let cr = match quick {
        Some((_, cr)) => cr,
        None => match find_line(buf, pos, max_line, line_from)? {
            Some(cr) => cr,
            None => return Ok(Step::Incomplete(0)),
        },
    };
    let line = &buf[start..cr];
    let int = || quick.map(|(n, _)| n).or_else(|| parse_int(line));
    let end = cr + 2;
    let err = |kind| Err(DecodeError::new(kind, start));
    let leaf = |leaf| Ok(Step::Leaf(leaf, end));
    match kind {
        b'+' => leaf(Leaf::Simple(start..cr)),
        b'-' => leaf(Leaf::Error(start..cr)),
        b':' => match int() {
            Some(i) => leaf(Leaf::Integer(i)),
            None => err(K::InvalidInteger),
        },
        b'_' if line.is_empty() => leaf(Leaf::Null),
        b'_' => Err(DecodeError::new(K::MissingCrlf, start)),
        b'#' => match line {
            b"t" => leaf(Leaf::Boolean(true)),
            b"f" => leaf(Leaf::Boolean(false)),
            _ => err(K::InvalidBoolean),
        },
        b',' => match parse_double(line) {
            Some(d) => leaf(Leaf::Double(d)),
            None => err(K::InvalidDouble),
        },
        b'(' => {
            let digits = line.strip_prefix(b"-").or(line.strip_prefix(b"+"));
            let digits = digits.unwrap_or(line);
            if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
                return err(K::InvalidBigNumber);
            }
            leaf(Leaf::BigNumber(start..cr))
        }
        b'$' | b'!' | b'=' => {
            let len = parse_len(int(), start, kind == b'$')?;
            let Some(len) = len else {
                return leaf(Leaf::Null);
            };
            if len > limits.max_bulk_len as u64 {
                return err_at(
                    K::BulkTooLong {
                        len,
                        max: limits.max_bulk_len,
                    },
                    pos,
                );
            }
            let len = len as usize;
            let data = end..end + len;
            let total = data.end + 2;
            if buf.len() < total {
                return Ok(Step::Incomplete(total));
            }
            if &buf[data.end..total] != b"\r\n" {
                return err_at(K::MissingCrlf, data.end);
            }
            match kind {
                b'$' => Ok(Step::Leaf(Leaf::Bulk(data), total)),
                b'!' => Ok(Step::Leaf(Leaf::BulkError(data), total)),
                _ => {
                    let text = &buf[data.clone()];
                    if text.len() < 4 || text[3] != b':' {
                        return err_at(K::InvalidVerbatim, data.start);
                    }
                    let format = [text[0], text[1], text[2]];
                    Ok(Step::Leaf(
                        Leaf::Verbatim(format, data.start + 4..data.end),
                        total,
                    ))
                }
            }
        }
        b'*' | b'%' | b'~' | b'|' | b'>' => {
            let Some(count) = parse_len(int(), start, kind == b'*')? else {
                return leaf(Leaf::Null);
            };
            if count > limits.max_elements as u64 {
                return err_at(
                    K::TooManyElements {
                        count,
                        max: limits.max_elements,
                    },
                    pos,
                );
            }
            let agg = match kind {
                b'*' => Agg::Array,
                b'%' => Agg::Map,
                b'~' => Agg::Set,
                b'|' => Agg::Attribute,
                _ => Agg::Push,
            };
            Ok(Step::Open(agg, count, end))
        }
        // Already rejected above; kept so that no byte can reach a panic.
        other => err_at(K::UnknownType(other), pos),
    }
}

/// Finds the CR ending the line of the element at `pos`, or `None` if the line is
/// still incomplete; fails on a bare CR or LF and on an over-long line.
fn find_line(
    buf: &[u8],
    pos: usize,
    max_line: usize,
    line_from: &mut usize,
) -> Result<Option<usize>, DecodeError> {
    let kind = buf[pos];
    let start = pos + 1;
    let from = (*line_from).max(start);
    let cr = match find_cr_or_lf(&buf[from..]) {
        Some(i) => from + i,
        None => {
            check_line_len(buf.len() - start, max_line, kind, pos)?;
            *line_from = buf.len();
            return Ok(None);
        }
    };
    if buf[cr] != b'\r' {
        return err_at(K::MissingCrlf, cr);
    }
    // Before waiting for the LF: an over-long line must fail however it was cut.
    check_line_len(cr - start, max_line, kind, pos)?;
    match buf.get(cr + 1) {
        None => {
            *line_from = cr;
            Ok(None)
        }
        Some(b'\n') => Ok(Some(cr)),
        Some(_) => err_at(K::MissingCrlf, cr),
    }
}

/// How many bytes to check one by one before handing a line to memchr: most
/// lines are a few bytes, and for those a plain loop beats memchr's set-up.
const SHORT_LINE: usize = 16;

fn find_cr_or_lf(hay: &[u8]) -> Option<usize> {
    for (i, &b) in hay.iter().take(SHORT_LINE).enumerate() {
        if b == b'\r' || b == b'\n' {
            return Some(i);
        }
    }
    let rest = hay.get(SHORT_LINE..)?;
    memchr::memchr2(b'\r', b'\n', rest).map(|i| i + SHORT_LINE)
}

/// The common header line, `-?[0-9]{1,18}\r\n` at `start`, parsed in one pass:
/// its value and the offset of its CR. `None` for anything else, complete or not
/// (18 digits cannot overflow an i64; the careful parser handles the rest).
#[inline]
fn quick_number(buf: &[u8], start: usize) -> Option<(i64, usize)> {
    let rest = buf.get(start..)?;
    let negative = rest.first() == Some(&b'-');
    let first = negative as usize;
    let mut n: i64 = 0;
    let mut i = first;
    loop {
        let d = rest.get(i)?.wrapping_sub(b'0');
        if d > 9 {
            break;
        }
        if i - first == 18 {
            return None;
        }
        n = n * 10 + d as i64;
        i += 1;
    }
    if i == first || rest[i] != b'\r' || rest.get(i + 1) != Some(&b'\n') {
        return None;
    }
    Some((if negative { -n } else { n }, start + i))
}

fn err_at<T>(kind: K, offset: usize) -> Result<T, DecodeError> {
    Err(DecodeError::new(kind, offset))
}

fn check_line_len(len: usize, max: usize, kind: u8, pos: usize) -> Result<(), DecodeError> {
    if len <= max {
        return Ok(());
    }
    let kind = match kind {
        b'+' | b'-' | b',' | b'(' => K::BulkTooLong {
            len: len as u64,
            max,
        },
        _ => K::InvalidInteger,
    };
    err_at(kind, if max == MAX_NUMBER_LINE { pos + 1 } else { pos })
}

/// A length: `None` for -1 where null is allowed.
fn parse_len(int: Option<i64>, at: usize, null_ok: bool) -> Result<Option<u64>, DecodeError> {
    match int {
        Some(-1) if null_ok => Ok(None),
        Some(n) if n >= 0 => Ok(Some(n as u64)),
        Some(n) => err_at(K::InvalidLength(n), at),
        None => err_at(K::InvalidInteger, at),
    }
}

/// A decimal i64 with an optional sign, rejecting overflow and empty input.
fn parse_int(line: &[u8]) -> Option<i64> {
    let (negative, digits) = match line.split_first()? {
        (b'-', rest) => (true, rest),
        (b'+', rest) => (false, rest),
        _ => (false, line),
    };
    if digits.is_empty() {
        return None;
    }
    let mut n: i64 = 0;
    for &d in digits {
        let d = d.wrapping_sub(b'0');
        if d > 9 {
            return None;
        }
        // Accumulate towards the sign so that i64::MIN parses.
        n = n.checked_mul(10)?;
        n = if negative {
            n.checked_sub(d as i64)?
        } else {
            n.checked_add(d as i64)?
        };
    }
    Some(n)
}

fn parse_double(line: &[u8]) -> Option<f64> {
    match line {
        b"inf" | b"+inf" => Some(f64::INFINITY),
        b"-inf" => Some(f64::NEG_INFINITY),
        b"nan" | b"-nan" => Some(f64::NAN),
        _ => {
            // Only the characters of a decimal number; std's parser does the rest.
            let ok = !line.is_empty()
                && line
                    .iter()
                    .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'-' | b'+' | b'e' | b'E'));
            if !ok {
                return None;
            }
            std::str::from_utf8(line).ok()?.parse().ok()
        }
    }
}

/// An aggregate being built.
struct Building {
    agg: Agg,
    /// Elements of arrays, sets and pushes.
    items: Vec<Frame>,
    /// Entries of maps and attributes, and the key waiting for its value.
    pairs: Vec<(Frame, Frame)>,
    key: Option<Frame>,
    /// Declared count: elements, or entries for maps and attributes.
    count: usize,
}

impl Building {
    fn new(agg: Agg, count: u64) -> Self {
        // The frame is complete and each element takes at least 3 bytes, so the
        // declared count is bounded by the bytes really received.
        let count = count as usize;
        let (items, pairs) = match agg {
            Agg::Map | Agg::Attribute => (Vec::new(), Vec::with_capacity(count)),
            _ => (Vec::with_capacity(count), Vec::new()),
        };
        Building {
            agg,
            items,
            pairs,
            key: None,
            count,
        }
    }

    /// Adds a child; returns the finished aggregate once it is complete.
    fn push(&mut self, child: Frame) -> Option<Frame> {
        match self.agg {
            Agg::Array | Agg::Set | Agg::Push => {
                self.items.push(child);
                if self.items.len() < self.count {
                    return None;
                }
                let items = std::mem::take(&mut self.items);
                Some(match self.agg {
                    Agg::Array => Frame::Array(items),
                    Agg::Set => Frame::Set(items),
                    _ => Frame::Push(items),
                })
            }
            Agg::Map | Agg::Attribute if self.pairs.len() < self.count => {
                match self.key.take() {
                    None => self.key = Some(child),
                    Some(key) => self.pairs.push((key, child)),
                }
                (self.agg == Agg::Map && self.pairs.len() == self.count)
                    .then(|| Frame::Map(std::mem::take(&mut self.pairs)))
            }
            // An attribute with all its entries: this child is the annotated frame.
            _ => Some(Frame::Attribute {
                attributes: std::mem::take(&mut self.pairs),
                frame: Box::new(child),
            }),
        }
    }
}

/// Builds the one complete frame that `bytes` holds from the scan's tokens.
fn build(bytes: &Bytes, tokens: impl Iterator<Item = Token>) -> Frame {
    let mut open: Vec<Building> = Vec::new();
    let mut last = Frame::Null;
    for token in tokens {
        let mut done = match token {
            Token::Leaf(leaf) => leaf.frame(bytes),
            Token::Open(agg, count) if agg.elements(count) > 0 => {
                open.push(Building::new(agg, count));
                continue;
            }
            Token::Open(agg, _) => match agg {
                Agg::Array => Frame::Array(Vec::new()),
                Agg::Map => Frame::Map(Vec::new()),
                Agg::Set => Frame::Set(Vec::new()),
                _ => Frame::Push(Vec::new()),
            },
        };
        // Hand the finished element up through every aggregate it completes.
        loop {
            let Some(parent) = open.last_mut() else {
                last = done;
                break;
            };
            match parent.push(done) {
                Some(finished) => {
                    open.pop();
                    done = finished;
                }
                None => break,
            }
        }
    }
    last
}
