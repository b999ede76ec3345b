//! Property tests of the codec: whatever is encoded decodes to the same frames,
//! whether the stream arrives whole, split at any byte, or in random pieces; and
//! random bytes never panic the decoder.

use bytes::{Bytes, BytesMut};
use proptest::prelude::*;
use redwire_resp::{Decoder, Frame};

fn text() -> impl Strategy<Value = Bytes> {
    // Simple strings and errors may hold anything but CR and LF.
    proptest::collection::vec(
        any::<u8>().prop_filter("no CR/LF", |b| *b != b'\r' && *b != b'\n'),
        0..20,
    )
    .prop_map(Bytes::from)
}

fn blob() -> impl Strategy<Value = Bytes> {
    proptest::collection::vec(any::<u8>(), 0..40).prop_map(Bytes::from)
}

fn leaf() -> impl Strategy<Value = Frame> {
    prop_oneof![
        text().prop_map(Frame::Simple),
        text().prop_map(Frame::Error),
        any::<i64>().prop_map(Frame::Integer),
        blob().prop_map(Frame::Bulk),
        Just(Frame::Null),
        any::<bool>().prop_map(Frame::Boolean),
        any::<f64>().prop_map(Frame::Double),
        prop_oneof![Just(f64::INFINITY), Just(f64::NEG_INFINITY), Just(f64::NAN)]
            .prop_map(Frame::Double),
        ("-?[0-9]{1,60}").prop_map(|s| Frame::BigNumber(Bytes::from(s))),
        blob().prop_map(Frame::BulkError),
        (any::<[u8; 3]>(), blob()).prop_map(|(format, data)| Frame::Verbatim { format, data }),
    ]
}

fn frame() -> impl Strategy<Value = Frame> {
    leaf().prop_recursive(5, 64, 6, |inner| {
        let list = proptest::collection::vec(inner.clone(), 0..6);
        let pairs = proptest::collection::vec((inner.clone(), inner.clone()), 0..4);
        prop_oneof![
            list.clone().prop_map(Frame::Array),
            list.clone().prop_map(Frame::Set),
            list.prop_map(Frame::Push),
            pairs.clone().prop_map(Frame::Map),
            (pairs, inner).prop_map(|(attributes, frame)| Frame::Attribute {
                attributes,
                frame: Box::new(frame)
            }),
        ]
    })
}

fn encode_all(frames: &[Frame]) -> Vec<u8> {
    let mut buf = BytesMut::new();
    for f in frames {
        f.encode(&mut buf);
    }
    buf.to_vec()
}

/// Feeds `pieces` one at a time, decoding everything available after each.
fn decode_pieces<'a>(pieces: impl IntoIterator<Item = &'a [u8]>) -> Vec<Frame> {
    let mut dec = Decoder::new();
    let mut buf = BytesMut::new();
    let mut out = Vec::new();
    for piece in pieces {
        buf.extend_from_slice(piece);
        while let Some(f) = dec.decode(&mut buf).expect("valid stream") {
            out.push(f);
        }
    }
    assert!(buf.is_empty(), "bytes left over: {:?}", buf);
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn whole_stream_round_trips(frames in proptest::collection::vec(frame(), 1..8)) {
        let wire = encode_all(&frames);
        prop_assert_eq!(decode_pieces([&wire[..]]), frames);
    }

    #[test]
    fn random_pieces_round_trip(
        frames in proptest::collection::vec(frame(), 1..8),
        cuts in proptest::collection::vec(any::<prop::sample::Index>(), 0..12),
    ) {
        let wire = encode_all(&frames);
        let mut at: Vec<usize> = cuts.iter().map(|i| i.index(wire.len() + 1)).collect();
        at.push(0);
        at.push(wire.len());
        at.sort_unstable();
        let pieces = at.windows(2).map(|w| &wire[w[0]..w[1]]);
        prop_assert_eq!(decode_pieces(pieces), frames);
    }

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
        let mut dec = Decoder::new();
        let mut buf = BytesMut::from(&bytes[..]);
        // Ok frames, Ok(None) or an error: any of them, but it must return.
        while let Ok(Some(_)) = dec.decode(&mut buf) {}
    }

    #[test]
    fn random_bytes_after_a_type_byte_never_panic(
        kind in prop::sample::select(b"+-:$*_#,(!=%~|>".to_vec()),
        bytes in proptest::collection::vec(prop::sample::select(b"0123456789-+\r\n:tfinae.*$%".to_vec()), 0..64),
    ) {
        let mut input = vec![kind];
        input.extend_from_slice(&bytes);
        let mut dec = Decoder::new();
        let mut buf = BytesMut::from(&input[..]);
        while let Ok(Some(_)) = dec.decode(&mut buf) {}
    }
}

/// A fixed stream with every type, split at every single byte position: each split
/// decodes to exactly the frames that were encoded, and nothing is consumed early.
#[test]
fn every_split_point_decodes_the_same() {
    let frames = vec![
        Frame::Simple("OK".into()),
        Frame::Error("ERR bad".into()),
        Frame::Integer(-42),
        Frame::Bulk("hello\r\nworld".into()),
        Frame::Null,
        Frame::Array(vec![
            Frame::Bulk("a".into()),
            Frame::Array(vec![]),
            Frame::Null,
        ]),
        Frame::Boolean(false),
        Frame::Double(3.25),
        Frame::Double(f64::NEG_INFINITY),
        Frame::BigNumber("-3492890328409238509324850943850943825024385".into()),
        Frame::BulkError("SYNTAX invalid".into()),
        Frame::Verbatim {
            format: *b"txt",
            data: "Some string".into(),
        },
        Frame::Map(vec![(
            Frame::Simple("k".into()),
            Frame::Set(vec![Frame::Integer(1)]),
        )]),
        Frame::Attribute {
            attributes: vec![(Frame::Simple("ttl".into()), Frame::Integer(3600))],
            frame: Box::new(Frame::Array(vec![Frame::Integer(2)])),
        },
        Frame::Push(vec![
            Frame::Bulk("message".into()),
            Frame::Bulk("ch".into()),
        ]),
    ];
    let wire = encode_all(&frames);
    for cut in 0..=wire.len() {
        let got = decode_pieces([&wire[..cut], &wire[cut..]]);
        assert_eq!(got, frames, "split at byte {cut}");
    }
    // And one byte at a time.
    assert_eq!(decode_pieces(wire.chunks(1)), frames);
}

/// RESP2's two null forms and RESP3's are one frame.
#[test]
fn resp2_nulls_decode_to_null() {
    let got = decode_pieces([&b"$-1\r\n*-1\r\n_\r\n"[..]]);
    assert_eq!(got, vec![Frame::Null, Frame::Null, Frame::Null]);
}

/// Wire text that a server really sends, decoded to the documented frames.
#[test]
fn decodes_server_spellings() {
    let got =
        decode_pieces([&b",1.5e3\r\n,nan\r\n,inf\r\n#t\r\n:+7\r\n:-9223372036854775808\r\n"[..]]);
    assert_eq!(got[0], Frame::Double(1500.0));
    assert!(matches!(got[1], Frame::Double(d) if d.is_nan()));
    assert_eq!(got[2], Frame::Double(f64::INFINITY));
    assert_eq!(got[3], Frame::Boolean(true));
    assert_eq!(got[4], Frame::Integer(7));
    assert_eq!(got[5], Frame::Integer(i64::MIN));
}

/// Bulk strings are slices of the read buffer's memory, not copies.
#[test]
fn bulk_strings_are_zero_copy() {
    let mut buf = BytesMut::with_capacity(64);
    buf.extend_from_slice(b"*2\r\n$5\r\nhello\r\n$5\r\nworld\r\n");
    let base = buf.as_ptr() as usize;
    let range = base..base + buf.len();
    let frame = Decoder::new().decode(&mut buf).unwrap().unwrap();
    let Frame::Array(items) = frame else {
        panic!("not an array")
    };
    for item in items {
        let Frame::Bulk(b) = item else {
            panic!("not a bulk")
        };
        assert!(range.contains(&(b.as_ptr() as usize)), "bulk was copied");
    }
    let mut buf = BytesMut::from(&b"$3\r\nabc\r\n"[..]);
    let base = buf.as_ptr() as usize;
    let Some(Frame::Bulk(b)) = Decoder::new().decode(&mut buf).unwrap() else {
        panic!()
    };
    assert_eq!(b.as_ptr() as usize, base + 4, "top-level bulk was copied");
}

/// A frame split across reads consumes nothing until it is complete.
#[test]
fn incomplete_frames_consume_nothing() {
    let mut dec = Decoder::new();
    let wire = b"*3\r\n$3\r\nfoo\r\n%1\r\n+a\r\n:1\r\n~1\r\n#t\r\n";
    let mut buf = BytesMut::new();
    for (i, byte) in wire.iter().enumerate() {
        buf.extend_from_slice(&[*byte]);
        let got = dec.decode(&mut buf).unwrap();
        if i + 1 < wire.len() {
            assert_eq!(got, None, "after {} bytes", i + 1);
            assert_eq!(buf.len(), i + 1, "consumed early after {} bytes", i + 1);
        } else {
            assert!(got.is_some());
            assert!(buf.is_empty());
        }
    }
}

/// Lengths and counts are written through different paths by digit count
/// (one, two, more); each boundary encodes to the exact wire text and back.
#[test]
fn headers_at_digit_boundaries() {
    use redwire_resp::{encode_array_header, encode_bulk};
    for n in [0usize, 1, 9, 10, 11, 99, 100, 101, 999, 1000, 65_536] {
        let mut buf = BytesMut::new();
        encode_bulk(&mut buf, &vec![b'x'; n]);
        let header = format!("${n}\r\n");
        assert_eq!(&buf[..header.len()], header.as_bytes(), "bulk of {n}");
        assert_eq!(buf.len(), header.len() + n + 2);
        let got = Decoder::new().decode(&mut buf).unwrap();
        assert_eq!(got, Some(Frame::Bulk(Bytes::from(vec![b'x'; n]))));

        let mut buf = BytesMut::new();
        encode_array_header(&mut buf, n);
        assert_eq!(&buf[..], format!("*{n}\r\n").as_bytes(), "array of {n}");
    }
}

/// The commonest simple replies come out as static bytes, not slices of the
/// read buffer, yet compare equal to any other spelling of the same text; a
/// longer line that merely starts the same way is still a slice.
#[test]
fn common_simple_replies_do_not_hold_the_buffer() {
    let mut buf = BytesMut::from(&b"+OK\r\n+PONG\r\n+QUEUED\r\n+OKAY\r\n"[..]);
    let range = buf.as_ptr() as usize..buf.as_ptr() as usize + buf.len();
    let mut dec = Decoder::new();
    for (text, in_buffer) in [
        ("OK", false),
        ("PONG", false),
        ("QUEUED", false),
        ("OKAY", true),
    ] {
        let Some(Frame::Simple(got)) = dec.decode(&mut buf).unwrap() else {
            panic!("not a simple string")
        };
        assert_eq!(got, text.as_bytes());
        assert_eq!(
            range.contains(&(got.as_ptr() as usize)),
            in_buffer,
            "{text}"
        );
    }
    assert!(buf.is_empty());
}
