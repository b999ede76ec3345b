//! Redis Cluster: which slot a key belongs to ([`key_slot`]), which
//! arguments of a command are keys (`keys`: from the server's own `COMMAND`
//! key specifications), and who serves each slot (`topology`: from
//! `CLUSTER SHARDS` or `CLUSTER SLOTS`, changed one slot at a time by
//! `MOVED`). The cluster client that routes with them is being built on the
//! same connection actor, one per node.

// Used by the cluster client, which is being built on them.
#[cfg_attr(not(test), allow(dead_code))]
mod keys;
mod slot;
#[cfg_attr(not(test), allow(dead_code))]
mod topology;

pub use slot::{key_slot, SLOTS};
