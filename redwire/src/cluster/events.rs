//! What a user can watch of a cluster client: its state now
//! ([`ClusterState`]: every node of the slot map with its role, its slots and
//! its connection) and a stream of [`ClusterEvent`]s (the map read again, a
//! slot moved, a node added or lost, and each node connection's own
//! events).

use crate::connection::state::{ConnectionState, Event};
use crate::error::Error;
use std::fmt;

/// What a node is in the slot map.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum NodeRole {
    /// It serves slots.
    Primary,
    /// It replicates a primary.
    Replica,
}

/// Something that happened to a cluster client.
///
/// ```no_run
/// # async fn demo(cluster: redwire::cluster::ClusterClient) {
/// use redwire::cluster::ClusterEvent;
/// let mut events = cluster.events();
/// while let Ok(event) = events.recv().await {
///     match event {
///         ClusterEvent::NodeRemoved { addr } => eprintln!("{addr} left the map"),
///         ClusterEvent::Node { addr, event: redwire::Event::Disconnected { reason } } => {
///             eprintln!("{addr} dropped: {reason}")
///         }
///         _ => {}
///     }
/// }
/// # }
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum ClusterEvent {
    /// The slot map was read again.
    Refreshed {
        /// Primaries in the new map.
        primaries: usize,
        /// Replicas in the new map.
        replicas: usize,
        /// Slots served (16,384 when every slot has an owner).
        slots_served: usize,
        /// False when the map is the same as before.
        changed: bool,
    },
    /// Reading the slot map failed at every node asked.
    RefreshFailed {
        /// The last node's error.
        error: Error,
    },
    /// A `MOVED` redirection: the slot is served by `to` from now on.
    SlotMoved {
        /// The slot.
        slot: u16,
        /// Its new owner, `host:port`.
        to: String,
    },
    /// A node appeared in the slot map.
    NodeAdded {
        /// `host:port`.
        addr: String,
        /// What it is.
        role: NodeRole,
    },
    /// A node is no longer in the slot map; its connections are closed.
    NodeRemoved {
        /// `host:port`.
        addr: String,
    },
    /// An event of one node's connection (connected, disconnected,
    /// reconnecting, closed).
    Node {
        /// `host:port`.
        addr: String,
        /// What happened.
        event: Event,
    },
}

/// One node of the slot map, as [`ClusterState`] shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct NodeState {
    /// `host:port`.
    pub addr: String,
    /// What it is.
    pub role: NodeRole,
    /// The slot ranges it serves (inclusive; none for a replica).
    pub slots: Vec<(u16, u16)>,
    /// For a replica, its primary's `host:port`.
    pub replica_of: Option<String>,
    /// Its connection's state, or `None` before one was made (connections
    /// are made on first use).
    pub connection: Option<ConnectionState>,
}

/// A cluster client's state now: the shape of its slot map and the state
/// of its node connections. Its `Debug` shows addresses and slot ranges,
/// never credentials.
///
/// ```no_run
/// # fn demo(cluster: redwire::cluster::ClusterClient) {
/// let state = cluster.state();
/// if state.slots_served < redwire::cluster::SLOTS as usize {
///     eprintln!("{} slots have no owner", redwire::cluster::SLOTS as usize - state.slots_served);
/// }
/// for node in &state.nodes {
///     println!("{} {:?} {:?} {:?}", node.addr, node.role, node.slots, node.connection);
/// }
/// # }
/// ```
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ClusterState {
    /// Every primary (in address order), each followed by its replicas.
    pub nodes: Vec<NodeState>,
    /// Slots with an owner in the map.
    pub slots_served: usize,
}

impl fmt::Debug for ClusterState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        struct Ranges<'a>(&'a [(u16, u16)]);
        impl fmt::Debug for Ranges<'_> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                let mut list = f.debug_list();
                for (a, b) in self.0 {
                    list.entry(&format_args!("{a}-{b}"));
                }
                list.finish()
            }
        }
        struct Node<'a>(&'a NodeState);
        impl fmt::Debug for Node<'_> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                let n = self.0;
                let mut s = f.debug_struct(match n.role {
                    NodeRole::Primary => "Primary",
                    NodeRole::Replica => "Replica",
                });
                s.field("addr", &format_args!("{}", n.addr));
                match &n.replica_of {
                    Some(of) => s.field("of", &format_args!("{of}")),
                    None => s.field("slots", &Ranges(&n.slots)),
                };
                s.field("connection", &n.connection).finish()
            }
        }
        f.debug_struct("ClusterState")
            .field("slots_served", &self.slots_served)
            .field("nodes", &self.nodes.iter().map(Node).collect::<Vec<_>>())
            .finish()
    }
}
