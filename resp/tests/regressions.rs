//! Inputs the fuzzer (fuzz/, see its README) found mishandled, kept so that they
//! stay fixed. Each test names the property the input broke.

use bytes::BytesMut;
use redwire_resp::{DecodeErrorKind as K, Decoder};

/// A bad type byte must be reported whether or not the rest of its line has
/// arrived: before the fix, `6\r` waited for its LF while `6` alone failed, so the
/// same stream failed or stalled depending on where reads happened to cut it.
#[test]
fn unknown_type_byte_fails_even_when_its_line_is_nearly_complete() {
    for input in [&b"6\r"[..], b"6", b"\x03\x00\x00\x00\xfe\xff\xff|1\r"] {
        let err = Decoder::new()
            .decode(&mut BytesMut::from(input))
            .expect_err("a bad type byte must fail at once");
        assert_eq!(err.kind(), &K::UnknownType(input[0]), "{input:?}");
        assert_eq!(err.offset(), 0);
    }
    // Inside an aggregate it is reported where it stands.
    let err = Decoder::new()
        .decode(&mut BytesMut::from(&b"*2\r\n:1\r\n6\r"[..]))
        .unwrap_err();
    assert_eq!((err.kind(), err.offset()), (&K::UnknownType(b'6'), 8));
}

/// An over-long header line fails whether or not its CR has arrived: before the
/// fix, 56 bytes of `#` line ending in a lone CR waited for the LF, while the
/// same bytes without the CR failed as too long.
#[test]
fn over_long_line_fails_before_its_lf_arrives() {
    let mut line = b"#".to_vec();
    line.extend_from_slice(&[b'x'; 56]);
    for tail in [&b""[..], b"\r"] {
        let input = [&line[..], tail].concat();
        let err = Decoder::new()
            .decode(&mut BytesMut::from(&input[..]))
            .expect_err("a 56-byte boolean line is over the limit");
        assert_eq!(err.kind(), &K::InvalidInteger, "with tail {tail:?}");
    }
}
