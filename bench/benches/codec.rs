//! Codec benchmarks: redwire-resp's decoder against redis-protocol's zero-copy
//! decoders on the same bytes, redwire alone on large replies arriving in pieces,
//! and command encoding. Figures and the command that produces them: README.md.

use bytes::{Bytes, BytesMut};
use criterion::measurement::WallTime;
use criterion::{
    black_box, criterion_group, criterion_main, BatchSize, BenchmarkGroup, Criterion, Throughput,
};
use redis_protocol::{resp2, resp3};
use redwire_resp::{encode_command, Decoder};

/// What a socket read typically hands over: a 64 KiB chunk.
const PIECE: usize = 64 * 1024;

const VALUE_16: &[u8] = b"0123456789abcdef";

fn bulk(out: &mut Vec<u8>, payload: &[u8]) {
    out.extend_from_slice(format!("${}\r\n", payload.len()).as_bytes());
    out.extend_from_slice(payload);
    out.extend_from_slice(b"\r\n");
}

/// 10,000 pipelined replies: `+OK`, `:1` and 16-byte bulks in turn.
fn small_replies() -> (Bytes, usize) {
    let mut out = Vec::new();
    for i in 0..10_000 {
        match i % 3 {
            0 => out.extend_from_slice(b"+OK\r\n"),
            1 => out.extend_from_slice(b":1\r\n"),
            _ => bulk(&mut out, VALUE_16),
        }
    }
    (out.into(), 10_000)
}

/// One array of `n` 16-byte bulks, as LRANGE or MGET answers.
fn array_of_bulks(n: usize) -> Bytes {
    let mut out = format!("*{n}\r\n").into_bytes();
    for _ in 0..n {
        bulk(&mut out, VALUE_16);
    }
    out.into()
}

/// `count` bulk strings of `len` bytes each.
fn big_bulks(count: usize, len: usize) -> Bytes {
    let payload = vec![b'x'; len];
    let mut out = Vec::with_capacity(count * (len + 32));
    for _ in 0..count {
        bulk(&mut out, &payload);
    }
    out.into()
}

fn redwire_all(mut buf: BytesMut) -> (usize, BytesMut) {
    let mut dec = Decoder::new();
    let mut n = 0;
    while let Some(frame) = dec.decode(&mut buf).expect("valid input") {
        black_box(&frame);
        n += 1;
    }
    (n, buf)
}

fn resp2_all(mut buf: BytesMut) -> (usize, BytesMut) {
    let mut n = 0;
    while let Some((frame, _, _)) = resp2::decode::decode_bytes_mut(&mut buf).expect("valid input")
    {
        black_box(&frame);
        n += 1;
    }
    (n, buf)
}

fn resp3_all(mut buf: BytesMut) -> (usize, BytesMut) {
    let mut n = 0;
    while let Some((frame, _, _)) =
        resp3::decode::complete::decode_bytes_mut(&mut buf).expect("valid input")
    {
        black_box(&frame);
        n += 1;
    }
    (n, buf)
}

/// Decodes a whole buffer; says how many frames it held and gives the emptied
/// buffer back, so that the input's memory is freed outside the timing (the
/// frames, dropped inside it, no longer hold on to it).
type DecodeAll = fn(BytesMut) -> (usize, BytesMut);

/// The three decoders on one input. Each iteration gets a fresh copy of the
/// input (made outside the timing), decodes it to the end and drops the frames.
fn compare(c: &mut Criterion, name: &str, input: Bytes, frames: usize) {
    let decoders: [(&str, DecodeAll); 3] = [
        ("redwire", redwire_all),
        ("redis-protocol-resp2", resp2_all),
        ("redis-protocol-resp3", resp3_all),
    ];
    // A benchmark that measured an error path would measure nothing.
    for (who, decode) in decoders {
        let (n, rest) = decode(BytesMut::from(&input[..]));
        assert_eq!((n, rest.len()), (frames, 0), "{who} on {name}");
    }
    let mut group = c.benchmark_group(format!("decode/{name}"));
    group.throughput(Throughput::Bytes(input.len() as u64));
    let size = if input.len() > PIECE {
        BatchSize::LargeInput
    } else {
        BatchSize::SmallInput
    };
    for (who, decode) in decoders {
        group.bench_function(who, |b| {
            b.iter_batched(|| BytesMut::from(&input[..]), decode, size)
        });
    }
    group.finish();
}

/// Feeds `input` the way a reader would, `piece` bytes at a time, trying to
/// decode after each. The buffer is sized for the whole input up front in every
/// case, so that whole and pieces differ only in what the decoder does: how a
/// reader grows its buffer is its own business, and regrowth copies would
/// otherwise swamp the comparison.
fn redwire_in_pieces(input: &Bytes, piece: usize) -> usize {
    let mut dec = Decoder::new();
    let mut buf = BytesMut::with_capacity(input.len());
    let mut n = 0;
    for chunk in input.chunks(piece) {
        buf.extend_from_slice(chunk);
        if let Some(frame) = dec.decode(&mut buf).expect("valid input") {
            black_box(&frame);
            n += 1;
        }
    }
    n
}

/// The same reply whole and in 64 KiB pieces: equal per-byte cost means the
/// decoder does O(total bytes) work, not a re-parse per piece.
fn streamed(group: &mut BenchmarkGroup<'_, WallTime>, input: &Bytes) {
    assert_eq!(redwire_in_pieces(input, input.len()), 1);
    assert_eq!(redwire_in_pieces(input, PIECE), 1);
    group.throughput(Throughput::Bytes(input.len() as u64));
    group.bench_function("one_piece", |b| {
        b.iter(|| redwire_in_pieces(input, input.len()))
    });
    group.bench_function("64k_pieces", |b| b.iter(|| redwire_in_pieces(input, PIECE)));
}

fn decode_benches(c: &mut Criterion) {
    let (small, frames) = small_replies();
    compare(c, "small_replies_10k", small, frames);
    compare(c, "array_1000_bulks", array_of_bulks(1000), 1);
    // Several, so that the fixed cost of one zero-copy frame is not lost in noise.
    compare(c, "bulks_8x1mib", big_bulks(8, 1 << 20), 8);

    let mut group = c.benchmark_group("stream/bulk_100mib");
    group.sample_size(10);
    streamed(&mut group, &big_bulks(1, 100 << 20));
    group.finish();

    let mut group = c.benchmark_group("stream/array_100k_bulks");
    group.sample_size(20);
    streamed(&mut group, &array_of_bulks(100_000));
    group.finish();
}

fn encode_benches(c: &mut Criterion) {
    let mut group = c.benchmark_group("encode");
    group.throughput(Throughput::Elements(1));
    let mut buf = BytesMut::with_capacity(256);
    group.bench_function("set_key_16b", |b| {
        b.iter(|| {
            buf.clear();
            encode_command(&mut buf, [&b"SET"[..], b"key", black_box(VALUE_16)]);
            black_box(&buf);
        })
    });
    group.finish();
}

criterion_group!(benches, decode_benches, encode_benches);
criterion_main!(benches);
