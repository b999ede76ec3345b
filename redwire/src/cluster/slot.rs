//! Which of Redis Cluster's 16,384 hash slots a key belongs to: CRC16
//! (XMODEM) of the key, or of its hash tag — the part between the first `{`
//! and the next `}` when that part is not empty — modulo 16,384.

/// The number of hash slots in a Redis Cluster.
///
/// ```
/// assert!(redwire::cluster::key_slot(b"any key") < redwire::cluster::SLOTS);
/// ```
pub const SLOTS: u16 = 16_384;

/// The hash slot of `key`.
///
/// ```
/// use redwire::cluster::key_slot;
/// assert_eq!(key_slot(b"foo"), 12182);
/// // Keys with the same hash tag share a slot (and a node).
/// assert_eq!(key_slot(b"{user:1}:cart"), key_slot(b"{user:1}:orders"));
/// assert_eq!(key_slot(b"{user:1}:cart"), key_slot(b"user:1"));
/// ```
pub fn key_slot(key: &[u8]) -> u16 {
    crc16(hash_tag(key)) % SLOTS
}

/// The part of the key that is hashed.
fn hash_tag(key: &[u8]) -> &[u8] {
    let Some(open) = key.iter().position(|&b| b == b'{') else {
        return key;
    };
    match key[open + 1..].iter().position(|&b| b == b'}') {
        // `{}` (an empty tag) hashes the whole key.
        Some(0) | None => key,
        Some(len) => &key[open + 1..open + 1 + len],
    }
}

/// CRC16-CCITT (XMODEM): polynomial 0x1021, initial value 0, no reflection.
fn crc16(data: &[u8]) -> u16 {
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
    fn crc16_is_xmodem() {
        // The check value of CRC-16/XMODEM.
        assert_eq!(crc16(b"123456789"), 0x31C3);
        assert_eq!(crc16(b""), 0);
    }

    #[test]
    fn hash_tags_follow_the_cluster_specification() {
        assert_eq!(hash_tag(b"{user1000}.following"), b"user1000");
        assert_eq!(hash_tag(b"foo{}{bar}"), b"foo{}{bar}");
        assert_eq!(hash_tag(b"foo{{bar}}zap"), b"{bar");
        assert_eq!(hash_tag(b"foo{bar}{zap}"), b"bar");
        assert_eq!(hash_tag(b"no tag"), b"no tag");
        assert_eq!(hash_tag(b"open{only"), b"open{only");
        // Values CLUSTER KEYSLOT gives.
        assert_eq!(key_slot(b"foo"), 12182);
        assert_eq!(key_slot(b"bar"), 5061);
        assert_eq!(key_slot(b"somekey"), 11058);
        assert_eq!(key_slot(b"{user1000}.following"), 3443);
        assert_eq!(key_slot(b""), 0);
        assert!(key_slot(&[0xff; 100]) < SLOTS);
    }
}
