//! Redis Cluster: which slot a key belongs to ([`key_slot`]), which
//! arguments of a command are keys (`keys`: from the server's own `COMMAND`
//! key specifications), and who serves each slot (`topology`: from
//! `CLUSTER SHARDS` or `CLUSTER SLOTS`, changed one slot at a time by
//! `MOVED`). [`ClusterClient`] routes with them, one connection actor per
//! node, configured by one [`ClusterConfig`] (`config`) and kept up to date
//! by `refresh`, which also gives its [`ClusterState`] and
//! [`ClusterEvent`]s (`events`); [`ClusterSubscriber`] keeps pub/sub
//! subscriptions on the nodes that serve them.

mod client;
mod config;
mod events;
mod keys;
mod pubsub;
mod refresh;
mod scan;
mod slot;
mod topology;

pub use client::{ClusterClient, REFRESH_EVERY};
pub use config::{ClusterConfig, ClusterConfigBuilder, ClusterRetry, ReadFrom};
pub use events::{ClusterEvent, ClusterState, NodeRole, NodeState};
pub use pubsub::{ClusterMessages, ClusterSubscriber, CHECK_EVERY};
pub use scan::ClusterScan;
pub use slot::{key_slot, SLOTS};
