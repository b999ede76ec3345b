//! Encoding: commands as arrays of bulk strings, and any [`Frame`], straight into
//! a [`BytesMut`] with no intermediate allocation.

use crate::Frame;
use bytes::{BufMut, BytesMut};
use std::fmt::Write as _;

/// Writes `*<n>\r\n`, the header of an array of `n` elements.
///
/// ```
/// use bytes::BytesMut;
/// let mut buf = BytesMut::new();
/// redwire_resp::encode_array_header(&mut buf, 2);
/// assert_eq!(&buf[..], b"*2\r\n");
/// ```
pub fn encode_array_header(buf: &mut BytesMut, n: usize) {
    header(buf, b'*', n as u64);
}

/// Writes one bulk string: `$<len>\r\n<bytes>\r\n`.
///
/// ```
/// use bytes::BytesMut;
/// let mut buf = BytesMut::new();
/// redwire_resp::encode_bulk(&mut buf, b"hi");
/// assert_eq!(&buf[..], b"$2\r\nhi\r\n");
/// ```
pub fn encode_bulk(buf: &mut BytesMut, bytes: &[u8]) {
    buf.reserve(bytes.len() + 16);
    header(buf, b'$', bytes.len() as u64);
    buf.put_slice(bytes);
    buf.put_slice(b"\r\n");
}

/// Writes a whole command, an array of bulk strings, as a server expects it.
///
/// ```
/// use bytes::BytesMut;
/// let mut buf = BytesMut::new();
/// redwire_resp::encode_command(&mut buf, ["GET", "k"]);
/// assert_eq!(&buf[..], b"*2\r\n$3\r\nGET\r\n$1\r\nk\r\n");
/// ```
pub fn encode_command<I, A>(buf: &mut BytesMut, args: I)
where
    I: IntoIterator<Item = A>,
    I::IntoIter: ExactSizeIterator,
    A: AsRef<[u8]>,
{
    let args = args.into_iter();
    encode_array_header(buf, args.len());
    for arg in args {
        encode_bulk(buf, arg.as_ref());
    }
}

fn header(buf: &mut BytesMut, kind: u8, n: u64) {
    // Command arguments and their counts are mostly under 100: a fixed-size write
    // compiles to a few stores, where the general case pays for formatting and
    // for copies of unknown length.
    if n < 10 {
        buf.put_slice(&[kind, b'0' + n as u8, b'\r', b'\n']);
    } else if n < 100 {
        buf.put_slice(&[
            kind,
            b'0' + (n / 10) as u8,
            b'0' + (n % 10) as u8,
            b'\r',
            b'\n',
        ]);
    } else {
        let mut digits = itoa::Buffer::new();
        let digits = digits.format(n).as_bytes();
        buf.reserve(digits.len() + 3);
        buf.put_u8(kind);
        buf.put_slice(digits);
        buf.put_slice(b"\r\n");
    }
}

fn line(buf: &mut BytesMut, kind: u8, text: &[u8]) {
    buf.reserve(text.len() + 3);
    buf.put_u8(kind);
    buf.put_slice(text);
    buf.put_slice(b"\r\n");
}

fn blob(buf: &mut BytesMut, kind: u8, bytes: &[u8]) {
    header(buf, kind, bytes.len() as u64);
    buf.put_slice(bytes);
    buf.put_slice(b"\r\n");
}

fn pairs(buf: &mut BytesMut, kind: u8, pairs: &[(Frame, Frame)]) {
    header(buf, kind, pairs.len() as u64);
    for (k, v) in pairs {
        encode_frame(k, buf);
        encode_frame(v, buf);
    }
}

fn list(buf: &mut BytesMut, kind: u8, items: &[Frame]) {
    header(buf, kind, items.len() as u64);
    for item in items {
        encode_frame(item, buf);
    }
}

pub(crate) fn encode_frame(frame: &Frame, buf: &mut BytesMut) {
    match frame {
        Frame::Simple(s) => line(buf, b'+', s),
        Frame::Error(s) => line(buf, b'-', s),
        Frame::Integer(i) => line(buf, b':', itoa::Buffer::new().format(*i).as_bytes()),
        Frame::Bulk(b) => blob(buf, b'$', b),
        Frame::Null => buf.put_slice(b"_\r\n"),
        Frame::Array(items) => list(buf, b'*', items),
        Frame::Boolean(b) => buf.put_slice(if *b { b"#t\r\n" } else { b"#f\r\n" }),
        Frame::Double(d) => {
            buf.put_u8(b',');
            if d.is_nan() {
                buf.put_slice(b"nan");
            } else if d.is_infinite() {
                buf.put_slice(if *d > 0.0 { &b"inf"[..] } else { &b"-inf"[..] });
            } else {
                // `{:?}` is the shortest text that parses back to the same f64.
                let _ = write!(buf, "{d:?}");
            }
            buf.put_slice(b"\r\n");
        }
        Frame::BigNumber(n) => line(buf, b'(', n),
        Frame::BulkError(e) => blob(buf, b'!', e),
        Frame::Verbatim { format, data } => {
            header(buf, b'=', data.len() as u64 + 4);
            buf.put_slice(format);
            buf.put_u8(b':');
            buf.put_slice(data);
            buf.put_slice(b"\r\n");
        }
        Frame::Map(entries) => pairs(buf, b'%', entries),
        Frame::Set(items) => list(buf, b'~', items),
        Frame::Attribute { attributes, frame } => {
            pairs(buf, b'|', attributes);
            encode_frame(frame, buf);
        }
        Frame::Push(items) => list(buf, b'>', items),
    }
}
