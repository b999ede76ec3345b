//! Redis Cluster's key-to-slot mapping: CRC16-XMODEM of the key (or of its
//! `{hash tag}`) modulo 16384, so tests can pick keys for a slot or a node.
//!
//! The client has its own (`redwire::cluster::key_slot`): the test kit does
//! not depend on the client it tests, and its tests check this one against
//! the server's `CLUSTER KEYSLOT`, so the two are checked independently.

/// The number of hash slots in a Redis Cluster.
pub(crate) const SLOTS: u16 = 16384;

/// The hash slot Redis Cluster puts `key` in, as `CLUSTER KEYSLOT` computes it.
///
/// Only the part between the first `{` and the first `}` after it is hashed when
/// that part is not empty (the hash tag), so `{user1}.name` and `{user1}.age`
/// share a slot.
///
/// ```
/// use redwire_testkit::key_slot;
///
/// assert_eq!(key_slot(b"foo"), 12182);
/// assert_eq!(key_slot(b"{user1}.name"), key_slot(b"{user1}.age"));
/// assert_eq!(key_slot(b"{user1}.name"), key_slot(b"user1"));
/// assert_eq!(key_slot(b"foo{}{bar}"), key_slot(b"foo{}{bar}")); // empty tag: whole key
/// ```
pub fn key_slot(key: &[u8]) -> u16 {
    crc16_xmodem(hash_tag(key)) % SLOTS
}

/// The bytes that are hashed: the first non-empty `{...}`, else the whole key.
fn hash_tag(key: &[u8]) -> &[u8] {
    let Some(open) = key.iter().position(|&b| b == b'{') else {
        return key;
    };
    let rest = &key[open + 1..];
    match rest.iter().position(|&b| b == b'}') {
        Some(len) if len > 0 => &rest[..len],
        _ => key,
    }
}

/// CRC16 with polynomial 0x1021, initial value 0, no reflection (XMODEM).
fn crc16_xmodem(data: &[u8]) -> u16 {
    let mut crc: u16 = 0;
    for &byte in data {
        crc ^= u16::from(byte) << 8;
        for _ in 0..8 {
            crc = if crc & 0x8000 != 0 {
                (crc << 1) ^ 0x1021
            } else {
                crc << 1
            };
        }
    }
    crc
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc16_matches_the_xmodem_check_value() {
        assert_eq!(crc16_xmodem(b"123456789"), 0x31C3);
    }

    #[test]
    fn hash_tags_follow_the_cluster_spec() {
        assert_eq!(hash_tag(b"{user1000}.following"), b"user1000");
        assert_eq!(hash_tag(b"foo{}{bar}"), b"foo{}{bar}");
        assert_eq!(hash_tag(b"foo{{bar}}zap"), b"{bar");
        assert_eq!(hash_tag(b"foo{bar}{zap}"), b"bar");
        assert_eq!(hash_tag(b"no-brace}"), b"no-brace}");
        assert_eq!(hash_tag(b"open{only"), b"open{only");
    }

    #[test]
    fn slots_stay_in_range() {
        assert_eq!(key_slot(b""), 0);
        assert!((0..1000).all(|i| key_slot(format!("key:{i}").as_bytes()) < SLOTS));
    }
}
