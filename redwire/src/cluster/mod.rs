//! Redis Cluster: which slot a key belongs to. (The cluster client that
//! routes by it is being built on the same connection actor.)

// Used by the cluster client, which is being built on them.
#[cfg_attr(not(test), allow(dead_code))]
mod keys;
mod slot;

pub use slot::{key_slot, SLOTS};
