//! The typed bitmap commands against a real redis-server, over RESP2 and
//! RESP3: single bits, counts and searches in byte and bit ranges, each
//! `BITOP`, and `BITFIELD`'s subcommands, offsets and overflow modes.

mod support;

use redwire::prelude::*;
use redwire_testkit::RedisServer;
use support::{both_protocols, flush};

#[tokio::test]
async fn bits_counts_and_positions() {
    let server = RedisServer::start().unwrap();
    for client in both_protocols(&server).await {
        flush(&client).await;

        // SETBIT answers the old bit.
        assert!(!client.setbit("b", 7, true).await.unwrap());
        assert!(client.setbit("b", 7, true).await.unwrap());
        assert!(client.getbit("b", 7).await.unwrap());
        assert!(!client.getbit("b", 6).await.unwrap());
        assert!(!client.getbit("b", 1_000).await.unwrap());
        assert!(client.setbit("b", 7, false).await.unwrap());
        assert_eq!(client.get::<Vec<u8>>("b").await.unwrap(), [0]);

        // BITCOUNT over everything, a byte range, a bit range.
        client.set("s", "foobar").await.unwrap();
        assert_eq!(client.bitcount("s").await.unwrap(), 26);
        assert_eq!(client.bitcount("missing").await.unwrap(), 0);
        assert_eq!(
            client
                .bitcount_range("s", BitRange::bytes(0, 0))
                .await
                .unwrap(),
            4
        );
        assert_eq!(
            client
                .bitcount_range("s", BitRange::bytes(1, 1))
                .await
                .unwrap(),
            6
        );
        assert_eq!(
            client
                .bitcount_range("s", BitRange::bytes(-2, -1))
                .await
                .unwrap(),
            7
        );
        assert_eq!(
            client
                .bitcount_range("s", BitRange::bits(5, 30))
                .await
                .unwrap(),
            17
        );
        assert_eq!(
            client
                .bitcount_range("s", BitRange::bits(0, 0))
                .await
                .unwrap(),
            0
        );

        // BITPOS: first set or clear bit, in byte and bit ranges.
        client.set("p", &b"\x00\xff\xf0"[..]).await.unwrap();
        assert_eq!(client.bitpos("p", true).await.unwrap(), 8);
        assert_eq!(client.bitpos("p", false).await.unwrap(), 0);
        assert_eq!(
            client
                .bitpos_range("p", true, BitRange::bytes(2, -1))
                .await
                .unwrap(),
            16
        );
        assert_eq!(
            client
                .bitpos_range("p", false, BitRange::bytes(1, -1))
                .await
                .unwrap(),
            20
        );
        assert_eq!(
            client
                .bitpos_range("p", true, BitRange::bits(7, 15))
                .await
                .unwrap(),
            8
        );
        assert_eq!(
            client
                .bitpos_range("p", true, BitRange::bytes(7, 15))
                .await
                .unwrap(),
            -1
        );
        client.set("ones", &b"\xff\xff"[..]).await.unwrap();
        assert_eq!(client.bitpos("ones", false).await.unwrap(), 16);
        client.set("zero", &b"\x00"[..]).await.unwrap();
        assert_eq!(client.bitpos("zero", true).await.unwrap(), -1);
    }
}

#[tokio::test]
async fn bitop_each_operation() {
    let server = RedisServer::start().unwrap();
    for client in both_protocols(&server).await {
        flush(&client).await;
        client.set("a", &b"\xff\x0f"[..]).await.unwrap();
        client.set("b", &b"\x0f"[..]).await.unwrap();

        let cases: [(BitOp, &[&str], &[u8]); 4] = [
            (BitOp::And, &["a", "b"], b"\x0f\x00"),
            (BitOp::Or, &["a", "b"], b"\xff\x0f"),
            (BitOp::Xor, &["a", "b"], b"\xf0\x0f"),
            (BitOp::Not, &["a"], b"\x00\xf0"),
        ];
        for (op, sources, want) in cases {
            assert_eq!(
                client.bitop(op, "dest", sources).await.unwrap(),
                2,
                "{op:?}"
            );
            assert_eq!(client.get::<Vec<u8>>("dest").await.unwrap(), want, "{op:?}");
        }
    }
}

#[tokio::test]
async fn bitfield_subcommands_offsets_and_overflow() {
    let server = RedisServer::start().unwrap();
    let u8_ = BitType::unsigned(8);
    let i8_ = BitType::signed(8);
    for client in both_protocols(&server).await {
        flush(&client).await;

        // SET answers the old value, GET the value, INCRBY the new one
        // (wrapping by default).
        let ops = BitField::new()
            .set(u8_, 0, 200)
            .get(u8_, 0)
            .incr_by(u8_, 0, 100);
        assert_eq!(
            client.bitfield("f", &ops).await.unwrap(),
            [Some(0), Some(200), Some(44)]
        );

        // The type's sign: the byte 0xff is 255 unsigned, -1 signed.
        let ops = BitField::new()
            .set(u8_, 0, 255)
            .get(i8_, 0)
            .get(BitType::unsigned(4), 4);
        assert_eq!(
            client.bitfield("f", &ops).await.unwrap(),
            [Some(44), Some(-1), Some(15)]
        );

        // `#N` counts in integers of the type; a plain offset in bits.
        let ops = BitField::new()
            .set(u8_, BitOffset::Index(2), 7)
            .get(u8_, 16);
        assert_eq!(
            client.bitfield("f", &ops).await.unwrap(),
            [Some(0), Some(7)]
        );
        assert_eq!(client.get::<Vec<u8>>("f").await.unwrap(), [255, 0, 7]);

        // WRAP wraps, SAT stops at the maximum, FAIL changes nothing and answers None.
        let ops = BitField::new()
            .set(u8_, 0, 250)
            .overflow(Overflow::Wrap)
            .incr_by(u8_, 0, 10)
            .set(u8_, 0, 250)
            .overflow(Overflow::Sat)
            .incr_by(u8_, 0, 10)
            .overflow(Overflow::Fail)
            .incr_by(u8_, 0, 10)
            .get(u8_, 0);
        let got = client.bitfield("f", &ops).await.unwrap();
        assert_eq!(
            got,
            [Some(255), Some(4), Some(4), Some(255), None, Some(255)]
        );
        // SAT also holds a signed integer at its minimum.
        let ops = BitField::new()
            .overflow(Overflow::Sat)
            .incr_by(i8_, 8, -200);
        assert_eq!(client.bitfield("f", &ops).await.unwrap(), [Some(-128)]);

        // BITFIELD_RO reads.
        let reads = BitFieldRo::new()
            .get(u8_, 0)
            .get(i8_, BitOffset::Index(1))
            .get(u8_, 16);
        assert_eq!(
            client.bitfield_ro("f", &reads).await.unwrap(),
            [255, -128, 7]
        );
        let reads = BitFieldRo::new().get(u8_, 0);
        assert_eq!(client.bitfield_ro("missing", &reads).await.unwrap(), [0]);
    }
}
