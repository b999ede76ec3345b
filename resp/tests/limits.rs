//! Bad input is an error, never a panic, a hang or a huge allocation: each limit
//! is hit and reported, and each malformation names what was expected and where.

use bytes::BytesMut;
use redwire_resp::{DecodeError, DecodeErrorKind as K, Decoder, Frame, Limits};

fn decode_with(limits: Limits, input: &[u8]) -> Result<Option<Frame>, DecodeError> {
    Decoder::with_limits(limits).decode(&mut BytesMut::from(input))
}

fn decode(input: &[u8]) -> Result<Option<Frame>, DecodeError> {
    decode_with(Limits::default(), input)
}

#[test]
fn absurd_bulk_length_fails_before_allocating() {
    // 2^62: a decoder that reserved the declared length would abort the process.
    let err = decode(b"$4611686018427387904\r\n").unwrap_err();
    assert_eq!(
        err.kind(),
        &K::BulkTooLong {
            len: 1 << 62,
            max: 512 * 1024 * 1024
        }
    );
    assert_eq!(err.offset(), 0);
    // Nested, the same, at the offset of the offending header.
    let err = decode(b"*2\r\n:1\r\n!4611686018427387904\r\n").unwrap_err();
    assert!(matches!(err.kind(), K::BulkTooLong { .. }));
    assert_eq!(err.offset(), 8);
}

#[test]
fn bulk_limit_is_configurable_and_exact() {
    let limits = Limits {
        max_bulk_len: 4,
        ..Limits::default()
    };
    assert_eq!(
        decode_with(limits, b"$4\r\nabcd\r\n").unwrap(),
        Some(Frame::Bulk("abcd".into()))
    );
    let err = decode_with(limits, b"$5\r\nabcde\r\n").unwrap_err();
    assert_eq!(err.kind(), &K::BulkTooLong { len: 5, max: 4 });
    // A simple string line with no end in sight is cut off at the same limit.
    let err = decode_with(limits, b"+abcdefgh").unwrap_err();
    assert!(matches!(err.kind(), K::BulkTooLong { max: 4, .. }), "{err}");
}

#[test]
fn absurd_element_count_fails_before_allocating() {
    let err = decode(b"*4611686018427387904\r\n").unwrap_err();
    assert!(matches!(err.kind(), K::TooManyElements { count, .. } if *count == 1 << 62));
    let limits = Limits {
        max_elements: 2,
        ..Limits::default()
    };
    assert!(decode_with(limits, b"*2\r\n:1\r\n:2\r\n")
        .unwrap()
        .is_some());
    for input in [&b"*3\r\n"[..], b"%3\r\n", b"~3\r\n", b">3\r\n", b"|3\r\n"] {
        let err = decode_with(limits, input).unwrap_err();
        assert_eq!(
            err.kind(),
            &K::TooManyElements { count: 3, max: 2 },
            "{input:?}"
        );
    }
}

#[test]
fn deep_nesting_fails_without_overflowing_the_stack() {
    // 100,000 nested arrays, complete and well formed.
    let mut input = b"*1\r\n".repeat(100_000);
    input.extend_from_slice(b":1\r\n");
    let err = decode(&input).unwrap_err();
    assert_eq!(err.kind(), &K::TooDeep { max: 128 });
    assert_eq!(err.offset(), 128 * 4);
    // Even with the limit asked for as 100,000 the decoder stays within its ceiling.
    let limits = Limits {
        max_depth: 100_000,
        ..Limits::default()
    };
    let err = decode_with(limits, &input).unwrap_err();
    assert_eq!(err.kind(), &K::TooDeep { max: 1024 });
}

#[test]
fn depth_limit_is_exact() {
    let limits = Limits {
        max_depth: 3,
        ..Limits::default()
    };
    let ok = b"*1\r\n%1\r\n~1\r\n:1\r\n:2\r\n";
    assert!(decode_with(limits, ok).unwrap().is_some());
    let too_deep = b"*1\r\n*1\r\n*1\r\n*1\r\n:1\r\n";
    assert_eq!(
        decode_with(limits, too_deep).unwrap_err().kind(),
        &K::TooDeep { max: 3 }
    );
}

#[test]
fn unknown_type_byte_is_reported_with_its_offset() {
    let err = decode(b"*2\r\n:1\r\n@x\r\n").unwrap_err();
    assert_eq!(err.kind(), &K::UnknownType(b'@'));
    assert_eq!(err.offset(), 8);
    assert!(err.to_string().contains("at byte 8"), "{err}");
    // Reported even before the line is complete.
    assert_eq!(decode(b"\x00").unwrap_err().kind(), &K::UnknownType(0));
}

#[test]
fn bad_numbers_are_reported() {
    let cases: &[(&[u8], K, usize)] = &[
        (b":12a\r\n", K::InvalidInteger, 1),
        (b":\r\n", K::InvalidInteger, 1),
        (b":9223372036854775808\r\n", K::InvalidInteger, 1),
        (b"$x\r\n", K::InvalidInteger, 1),
        (b"$-2\r\n", K::InvalidLength(-2), 1),
        (b"!-1\r\n", K::InvalidLength(-1), 1),
        (b"%-1\r\n", K::InvalidLength(-1), 1),
        (b",1.2.3x\r\n", K::InvalidDouble, 1),
        (b",\r\n", K::InvalidDouble, 1),
        (b"#x\r\n", K::InvalidBoolean, 1),
        (b"(12a\r\n", K::InvalidBigNumber, 1),
        (b"=3\r\ntxt\r\n", K::InvalidVerbatim, 4),
        (b"=5\r\ntxtxx\r\n", K::InvalidVerbatim, 4),
    ];
    for (input, kind, offset) in cases {
        let err = decode(input).unwrap_err();
        assert_eq!(err.kind(), kind, "{:?}", String::from_utf8_lossy(input));
        assert_eq!(
            err.offset(),
            *offset,
            "{:?}",
            String::from_utf8_lossy(input)
        );
    }
    // A header line that never ends is cut off early instead of buffered forever.
    let err = decode(&[b":".as_slice(), &[b'1'; 40]].concat()).unwrap_err();
    assert_eq!(err.kind(), &K::InvalidInteger);
}

#[test]
fn missing_crlf_is_reported_where_it_was_expected() {
    // The payload of a bulk string must be followed by CRLF.
    let err = decode(b"$3\r\nabcXY").unwrap_err();
    assert_eq!(err.kind(), &K::MissingCrlf);
    assert_eq!(err.offset(), 7);
    assert!(err.to_string().contains("expected CRLF at byte 7"), "{err}");
    // A bare LF, or a CR followed by something else, ends no line.
    assert_eq!(decode(b"+OK\n").unwrap_err().offset(), 3);
    assert_eq!(decode(b"+O\rK\r\n").unwrap_err().kind(), &K::MissingCrlf);
    assert_eq!(decode(b"_x\r\n").unwrap_err().kind(), &K::MissingCrlf);
}

#[test]
fn decoder_is_reset_after_an_error() {
    let mut dec = Decoder::new();
    let mut buf = BytesMut::from(&b"*2\r\n:1\r\n?"[..]);
    assert!(dec.decode(&mut buf).is_err());
    // A new stream on the same decoder starts from scratch.
    let mut buf = BytesMut::from(&b":5\r\n"[..]);
    assert_eq!(dec.decode(&mut buf).unwrap(), Some(Frame::Integer(5)));
}

#[test]
fn needed_len_reports_a_bulk_in_flight() {
    let mut dec = Decoder::new();
    let mut buf = BytesMut::from(&b"*2\r\n:1\r\n$100\r\nab"[..]);
    assert_eq!(dec.decode(&mut buf).unwrap(), None);
    assert_eq!(dec.needed_len(), Some(8 + 6 + 100 + 2));
}

#[test]
fn frame_limit_bounds_one_whole_reply() {
    let limits = Limits {
        max_frame_len: 32,
        ..Limits::default()
    };
    // 32 bytes in all: allowed, however it is made up.
    let exact = b"*3\r\n$4\r\nabcd\r\n:12345\r\n+OK\r\n\r\n";
    let exact = &exact[..exact.len() - 2];
    assert_eq!(exact.len(), 27);
    assert!(decode_with(limits, exact).unwrap().is_some());
    let bulk = b"$22\r\n0123456789012345678901\r\n";
    assert_eq!(bulk.len(), 29);
    assert!(decode_with(limits, bulk).unwrap().is_some());
    // A bulk of 26 bytes passes the bulk limit but not the frame limit, quick
    // path or not, whole or announced by its header alone.
    for input in [
        &b"$26\r\n01234567890123456789012345\r\n"[..],
        b"$26\r\n0123",
    ] {
        let err = decode_with(limits, input).unwrap_err();
        assert!(
            matches!(err.kind(), K::FrameTooLong { max: 32, .. }),
            "{err}"
        );
    }
    // An endless aggregate of small elements, each within every other limit,
    // fails once it passes the frame limit, fed in pieces as a socket would.
    let mut dec = Decoder::with_limits(limits);
    let mut buf = BytesMut::from(&b"*1000000\r\n"[..]);
    let mut result = dec.decode(&mut buf);
    let mut fed = 0;
    while let Ok(None) = result {
        buf.extend_from_slice(b":1\r\n");
        fed += 1;
        assert!(fed < 100, "the stream was never cut off");
        result = dec.decode(&mut buf);
    }
    let err = result.unwrap_err();
    assert!(
        matches!(err.kind(), K::FrameTooLong { max: 32, .. }),
        "{err}"
    );
    assert!(
        err.to_string().contains("over the limit of 32 bytes"),
        "{err}"
    );
}
