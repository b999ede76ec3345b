//! Sans-IO RESP2 and RESP3 for redwire: one [`Frame`] type for every wire type, an
//! encoder that writes straight into a [`BytesMut`], and a streaming [`Decoder`]
//! that turns a growing read buffer into frames.
//!
//! Nothing here knows there is a network. The connection actor feeds the decoder
//! whatever bytes a read produced; the decoder answers with a complete frame or
//! "need more" and then consumes nothing. Many frames in one buffer and one frame
//! split at any byte are the normal case.
//!
//! Design decisions the next engineer should know:
//! - **Zero copy.** A complete frame is split off the read buffer and frozen; bulk
//!   strings, simple strings and errors are [`Bytes`] slices of that one block
//!   (except `OK`, `PONG` and `QUEUED`, handed out as static bytes: no copy and
//!   no reference count either).
//! - **Resumable scan, then build.** Aggregates are first *scanned* (headers only,
//!   bulk payloads skipped by length) with state kept between calls, so a large
//!   reply arriving in small pieces costs O(total bytes), not a re-parse per piece.
//!   Only once the whole frame is buffered is it built, iteratively (no recursion,
//!   so deep nesting cannot overflow the stack).
//! - **Limits before allocation.** Bulk length, element count and nesting depth are
//!   checked when their header is read, before anything is reserved; see [`Limits`].
//! - **Attributes** (`|`) are never a reply of their own: the decoder attaches them
//!   to the frame they annotate as [`Frame::Attribute`].
//!
//! ```
//! use bytes::BytesMut;
//! use redwire_resp::{encode_command, Decoder, Frame};
//!
//! let mut out = BytesMut::new();
//! encode_command(&mut out, ["SET", "key", "value"]);
//! assert_eq!(&out[..], b"*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nvalue\r\n");
//!
//! let mut dec = Decoder::new();
//! let mut buf = BytesMut::from(&b"+OK\r\n:4"[..]);
//! assert_eq!(dec.decode(&mut buf).unwrap(), Some(Frame::Simple("OK".into())));
//! assert_eq!(dec.decode(&mut buf).unwrap(), None); // `:4` needs its CRLF
//! buf.extend_from_slice(b"2\r\n");
//! assert_eq!(dec.decode(&mut buf).unwrap(), Some(Frame::Integer(42)));
//! ```

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod decode;
mod encode;
mod error;
mod frame;

pub use bytes::{Bytes, BytesMut};
pub use decode::{Decoder, Limits};
pub use encode::{encode_array_header, encode_bulk, encode_command};
pub use error::{DecodeError, DecodeErrorKind};
pub use frame::Frame;
