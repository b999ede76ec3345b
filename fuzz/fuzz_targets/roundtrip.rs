//! Fuzz target: every frame the decoder accepts must survive encode → decode.
//!
//! Bytes are compared only through frames: RESP2 nulls (`$-1`, `*-1`) re-encode
//! as `_`, `:+1` as `:1`, and a double keeps its value but not its spelling.
#![no_main]

use libfuzzer_sys::fuzz_target;
use redwire_resp::{BytesMut, Decoder};

fuzz_target!(|data: &[u8]| {
    let mut dec = Decoder::new();
    let mut buf = BytesMut::from(data);
    let mut frames = Vec::new();
    while let Ok(Some(frame)) = dec.decode(&mut buf) {
        frames.push(frame);
    }

    let mut stream = BytesMut::new();
    for frame in &frames {
        let mut one = BytesMut::new();
        frame.encode(&mut one);
        stream.extend_from_slice(&one);
        let again = Decoder::new().decode(&mut one);
        assert_eq!(
            again.as_ref().ok().and_then(|f| f.as_ref()),
            Some(frame),
            "{again:?}"
        );
        assert!(one.is_empty(), "re-encoded frame left {} bytes", one.len());
    }

    // The re-encoded frames as one stream: the same frames, nothing left over.
    let mut dec = Decoder::new();
    for frame in &frames {
        assert_eq!(dec.decode(&mut stream).ok().flatten().as_ref(), Some(frame));
    }
    assert!(stream.is_empty());
});
