//! Redis Cluster: which slot a key belongs to ([`key_slot`]), which
//! arguments of a command are keys (`keys`: from the server's own `COMMAND`
//! key specifications), and who serves each slot (`topology`: from
//! `CLUSTER SHARDS` or `CLUSTER SLOTS`, changed one slot at a time by
//! `MOVED`). [`ClusterClient`] routes with them, one connection actor per
//! node; [`ClusterSubscriber`] keeps pub/sub subscriptions on the nodes that
//! serve them.

mod client;
mod keys;
mod pubsub;
mod scan;
mod slot;
mod topology;

pub use client::{ClusterClient, ReadFrom, REFRESH_EVERY};
pub use pubsub::{ClusterMessages, ClusterSubscriber, CHECK_EVERY};
pub use scan::ClusterScan;
pub use slot::{key_slot, SLOTS};
