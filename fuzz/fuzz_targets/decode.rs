//! Fuzz target: arbitrary bytes through the decoder, whole, in two pieces and in
//! small chunks.
//!
//! The first three bytes steer the run (limits, split point, chunk size); the
//! rest is the stream. The decoder must never panic, spin or allocate out of
//! proportion to its input, and however the stream is cut it must yield the same
//! frames and fail (or not) the same way: the connection actor sees arbitrary
//! cuts, and a frame that decoded differently across a cut would be a wrong reply.
#![no_main]

use libfuzzer_sys::fuzz_target;
use redwire_resp::{BytesMut, Decoder, Frame, Limits};

/// Small enough that every limit check is reachable from short inputs.
const TIGHT: Limits = Limits {
    max_bulk_len: 16,
    max_elements: 8,
    max_depth: 3,
};

/// What a stream decoded to: its frames, and whether it ended in an error. The
/// error itself may legitimately differ across cuts (a line may be too long
/// before its bad terminator arrives), so only its presence is compared.
#[derive(Debug, PartialEq)]
struct Outcome {
    frames: Vec<Frame>,
    failed: bool,
}

fn decode_pieces<'a>(limits: Limits, pieces: impl IntoIterator<Item = &'a [u8]>) -> Outcome {
    let mut dec = Decoder::with_limits(limits);
    let mut buf = BytesMut::new();
    let mut frames = Vec::new();
    for piece in pieces {
        buf.extend_from_slice(piece);
        loop {
            let before = buf.len();
            match dec.decode(&mut buf) {
                // Each frame must consume bytes, or the caller's loop never ends.
                Ok(Some(frame)) => {
                    assert!(buf.len() < before, "a frame consumed nothing");
                    frames.push(frame);
                }
                Ok(None) => {
                    assert_eq!(buf.len(), before, "an incomplete frame consumed bytes");
                    if let Some(need) = dec.needed_len() {
                        assert!(need > buf.len(), "needed_len {need} is already buffered");
                        assert!(
                            need <= before + limits.max_bulk_len + 64,
                            "needed_len {need} is out of bounds"
                        );
                    }
                    break;
                }
                Err(_) => {
                    return Outcome {
                        frames,
                        failed: true,
                    }
                }
            }
        }
    }
    Outcome {
        frames,
        failed: false,
    }
}

/// Top-level scalars take a quicker path than the same scalars inside an
/// aggregate; wrapped in a one-element array, each must decode to the same frame.
fn check_scalars_nested(limits: Limits, stream: &[u8]) {
    let mut dec = Decoder::with_limits(limits);
    let mut buf = BytesMut::from(stream);
    let mut at = 0;
    while let Ok(Some(frame)) = dec.decode(&mut buf) {
        let raw = &stream[at..stream.len() - buf.len()];
        at += raw.len();
        let aggregate = matches!(
            frame,
            Frame::Array(_)
                | Frame::Map(_)
                | Frame::Set(_)
                | Frame::Push(_)
                | Frame::Attribute { .. }
        );
        if aggregate {
            continue;
        }
        let mut nested = BytesMut::from(&b"*1\r\n"[..]);
        nested.extend_from_slice(raw);
        let got = Decoder::with_limits(limits).decode(&mut nested);
        assert_eq!(got, Ok(Some(Frame::Array(vec![frame]))), "{raw:?}");
        assert!(nested.is_empty());
    }
}

fuzz_target!(|data: &[u8]| {
    if data.len() < 3 {
        return;
    }
    let (ctl, stream) = data.split_at(3);
    let limits = if ctl[0] & 1 == 1 {
        TIGHT
    } else {
        Limits::default()
    };
    let chunk = 1 + (ctl[0] >> 4) as usize;
    let split = u16::from_le_bytes([ctl[1], ctl[2]]) as usize % (stream.len() + 1);

    let whole = decode_pieces(limits, [stream]);
    let (head, tail) = stream.split_at(split);
    assert_eq!(
        whole,
        decode_pieces(limits, [head, tail]),
        "split at {split}"
    );
    assert_eq!(
        whole,
        decode_pieces(limits, stream.chunks(chunk)),
        "chunks of {chunk}"
    );
    check_scalars_nested(limits, stream);
});
