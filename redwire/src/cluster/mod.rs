//! Redis Cluster: which slot a key belongs to. (The cluster client that
//! routes by it is being built on the same connection actor.)

mod slot;

pub use slot::{key_slot, SLOTS};
