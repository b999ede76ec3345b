//! Redis Cluster: which slot a key belongs to ([`key_slot`]), which
//! arguments of a command are keys (`keys`: from the server's own `COMMAND`
//! key specifications), and who serves each slot (`topology`: from
//! `CLUSTER SHARDS` or `CLUSTER SLOTS`, changed one slot at a time by
//! `MOVED`). The cluster client that routes with them is being built on the
//! same connection actor, one per node.

mod client;
mod keys;
mod scan;
mod slot;
mod topology;

pub use client::{ClusterClient, ReadFrom, REFRESH_EVERY};
pub use scan::ClusterScan;
pub use slot::{key_slot, SLOTS};
