//! How a [`ClusterClient`] keeps its slot map and its node connections up to
//! date: reading the map again (one refresh at a time, through the nodes'
//! existing connections, the seeds only when no node answers), making a
//! node's connection on first use and forwarding its events, closing the
//! connections of nodes that left the map, and the state a user can read.
//!
//! A refresh asks the nodes in turn (primaries, then replicas, then the
//! seeds), each within the connect timeout, and keeps the first map that
//! serves every slot; when none does (a failover under way), the one that
//! serves the most. Callers that waited for a refresh while another ran do
//! not start one of their own: the map they wanted is already read.

use super::client::{ClusterClient, Inner};
use super::events::{ClusterEvent, ClusterState, NodeRole, NodeState};
use super::keys::CommandTable;
use super::topology::{NodeAddr, SlotMap};
use crate::client::Client;
use crate::cmd::cmd;
use crate::error::{Error, ErrorKind, Result};
use std::collections::BTreeMap;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Weak};
use std::time::Duration;

impl ClusterClient {
    /// Reads the slot map again now (one refresh at a time); `commands`:
    /// also the command table.
    pub(super) async fn refresh(&self, commands: bool) -> Result<()> {
        let seen = self.inner.generation.load(Ordering::Acquire);
        self.refresh_after(seen, commands).await
    }

    /// Reads the slot map again, unless a refresh finished since the caller
    /// saw generation `seen` (then the map it wanted is already read).
    pub(super) async fn refresh_after(&self, seen: u64, commands: bool) -> Result<()> {
        let _one_at_a_time = self.inner.refreshing.lock().await;
        if !commands && self.inner.generation.load(Ordering::Acquire) != seen {
            return Ok(());
        }
        let outcome = self.read_map(commands).await;
        self.inner.generation.fetch_add(1, Ordering::AcqRel);
        self.inner.meter.refreshed(&outcome);
        if let Err(error) = &outcome {
            tracing::warn!(target: "redwire::cluster", %error, "topology refresh failed");
            let _ = self.inner.events.send(ClusterEvent::RefreshFailed {
                error: error.clone(),
            });
        }
        outcome
    }

    /// Reads the map again in the background, unless a refresh is running.
    pub(super) fn refresh_in_background(&self) {
        if self.inner.refreshing.try_lock().is_err() {
            return;
        }
        let me = self.clone();
        tokio::spawn(async move {
            let _ = me.refresh(false).await;
        });
    }

    /// Reads the map again every `every`, for changes nobody was told about
    /// (no request hit a moved slot); ends with the last handle.
    pub(super) fn refresh_periodically(&self, every: Duration) {
        let weak = Arc::downgrade(&self.inner);
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(every).await;
                let Some(inner) = weak.upgrade() else { return };
                let _ = ClusterClient { inner }.refresh(false).await;
            }
        });
    }

    /// Asks the nodes, then the seeds, for the map; installs the best one.
    async fn read_map(&self, commands: bool) -> Result<()> {
        let mut sources: Vec<NodeAddr> = {
            let state = self.inner.state.read().unwrap_or_else(|e| e.into_inner());
            let shape = state.map.shape();
            let primaries = shape.iter().map(|s| s.primary.clone());
            let replicas = shape.iter().flat_map(|s| s.replicas.iter().cloned());
            primaries.chain(replicas).collect()
        };
        sources.extend(self.inner.seeds.iter().cloned());
        let mut seen = std::collections::HashSet::new();
        sources.retain(|a| seen.insert(a.clone()));
        let tls = self.inner.config.node.is_tls();
        let bound = self.inner.config.node.connect_timeout;
        let mut best: Option<(SlotMap, Option<CommandTable>)> = None;
        let mut last_error = None;
        for addr in sources {
            let attempt = async {
                let client = match self.existing(&addr) {
                    Some(client) => client,
                    // The first connection to it: its own error (refused,
                    // wrong password) is the one to report.
                    None => {
                        let client = Client::connect(self.node_config(&addr)).await?;
                        self.adopt((addr.clone(), false), client)
                    }
                };
                let map = match client.send(&cmd("CLUSTER").arg("SHARDS")).await {
                    Ok(reply) => SlotMap::from_shards(reply, &addr.host, tls)?,
                    Err(e) if e.kind() == ErrorKind::Server => {
                        // Before Redis 7.
                        SlotMap::from_slots(
                            client.send(&cmd("CLUSTER").arg("SLOTS")).await?,
                            &addr.host,
                        )?
                    }
                    Err(e) => return Err(e),
                };
                let table = if commands {
                    Some(CommandTable::from_command_reply(
                        client.send(&cmd("COMMAND")).await?,
                    )?)
                } else {
                    None
                };
                Ok((map, table))
            };
            let answer = tokio::time::timeout(bound, attempt)
                .await
                .unwrap_or_else(|_| {
                    Err(Error::new(
                        ErrorKind::Timeout,
                        format!("{addr} did not give the slot map within {bound:?}"),
                    ))
                });
            match answer {
                Ok((map, table)) => {
                    let complete = map.is_complete();
                    if best.as_ref().is_none_or(|(b, _)| map.served() > b.served()) {
                        best = Some((map, table));
                    }
                    if complete {
                        break;
                    }
                }
                Err(e) => last_error = Some(e),
            }
        }
        match best {
            Some((map, table)) => {
                self.install(map, table);
                Ok(())
            }
            None => {
                Err(last_error
                    .unwrap_or_else(|| Error::new(ErrorKind::Io, "no cluster node answered")))
            }
        }
    }

    /// Makes `map` the map: the nodes that joined and left are announced,
    /// and the connections of those that left are closed.
    fn install(&self, map: SlotMap, table: Option<CommandTable>) {
        let mut events = Vec::new();
        let mut dropped = Vec::new();
        {
            let mut state = self.inner.state.write().unwrap_or_else(|e| e.into_inner());
            let before = members(&state.map);
            let after = members(&map);
            for (addr, role) in &after {
                if !before.contains_key(addr) {
                    events.push(ClusterEvent::NodeAdded {
                        addr: addr.to_string(),
                        role: *role,
                    });
                }
            }
            for addr in before.keys() {
                if !after.contains_key(addr) {
                    events.push(ClusterEvent::NodeRemoved {
                        addr: addr.to_string(),
                    });
                }
            }
            // Connections to nodes out of the map go (a seed that is no
            // node under its own name included); in-flight requests keep
            // theirs until they are answered.
            state.nodes.retain(|(addr, _), client| {
                let keep = after.contains_key(addr);
                if !keep {
                    dropped.push(client.clone());
                }
                keep
            });
            let changed = state.map != map;
            let shape = map.shape();
            let (primaries, slots_served) = (shape.len(), map.served());
            let replicas = shape.iter().map(|s| s.replicas.len()).sum::<usize>();
            // A change is news; the periodic read that finds none is not.
            if changed {
                tracing::info!(target: "redwire::cluster", primaries, replicas, slots_served, changed, "topology refreshed");
            } else {
                tracing::debug!(target: "redwire::cluster", primaries, replicas, slots_served, changed, "topology refreshed");
            }
            events.push(ClusterEvent::Refreshed {
                primaries: shape.len(),
                replicas: shape.iter().map(|s| s.replicas.len()).sum(),
                slots_served: map.served(),
                changed,
            });
            state.map = map;
            if let Some(table) = table {
                state.commands = Arc::new(table);
            }
        }
        drop(dropped);
        for event in events {
            let _ = self.inner.events.send(event);
        }
    }

    /// The primary's client of a node, if one was made.
    fn existing(&self, addr: &NodeAddr) -> Option<Client> {
        let state = self.inner.state.read().unwrap_or_else(|e| e.into_inner());
        state.nodes.get(&(addr.clone(), false)).cloned()
    }

    /// Keeps `client` as the node's connection (unless one was made
    /// meanwhile) and forwards its events; the one kept.
    fn adopt(&self, key: (NodeAddr, bool), client: Client) -> Client {
        let mut state = self.inner.state.write().unwrap_or_else(|e| e.into_inner());
        if let Some(existing) = state.nodes.get(&key) {
            return existing.clone();
        }
        forward_events(&client, &key.0, Arc::downgrade(&self.inner));
        state.nodes.insert(key, client.clone());
        client
    }

    /// The shared client of a node, made on first use (connecting in the
    /// background); `replica_reads`: one that has asked a replica to serve
    /// reads.
    pub(super) fn node_for(&self, addr: &NodeAddr, replica_reads: bool) -> Client {
        let key = (addr.clone(), replica_reads);
        if let Some(c) = self
            .inner
            .state
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .nodes
            .get(&key)
        {
            return c.clone();
        }
        let mut config = self.node_config(addr);
        config.replica_reads = replica_reads;
        self.adopt(key, Client::new(config))
    }

    /// The map's shape and the node connections' states.
    pub(super) fn snapshot(&self) -> ClusterState {
        let state = self.inner.state.read().unwrap_or_else(|e| e.into_inner());
        let connection = |addr: &NodeAddr| {
            state
                .nodes
                .get(&(addr.clone(), false))
                .or_else(|| state.nodes.get(&(addr.clone(), true)))
                .map(Client::state)
        };
        let mut nodes = Vec::new();
        for shard in state.map.shape() {
            nodes.push(NodeState {
                addr: shard.primary.to_string(),
                role: NodeRole::Primary,
                slots: shard.slots.clone(),
                replica_of: None,
                connection: connection(&shard.primary),
            });
            for replica in &shard.replicas {
                nodes.push(NodeState {
                    addr: replica.to_string(),
                    role: NodeRole::Replica,
                    slots: Vec::new(),
                    replica_of: Some(shard.primary.to_string()),
                    connection: connection(replica),
                });
            }
        }
        ClusterState {
            nodes,
            slots_served: state.map.served(),
        }
    }
}

/// Every node of a map and its role.
fn members(map: &SlotMap) -> BTreeMap<NodeAddr, NodeRole> {
    let mut all = BTreeMap::new();
    for shard in map.shape() {
        for replica in shard.replicas {
            all.insert(replica, NodeRole::Replica);
        }
        all.insert(shard.primary, NodeRole::Primary);
    }
    all
}

/// Passes a node connection's events on as the cluster's, until the
/// connection or the cluster client is gone.
fn forward_events(client: &Client, addr: &NodeAddr, cluster: Weak<Inner>) {
    let mut events = client.events();
    let addr = addr.to_string();
    tokio::spawn(async move {
        loop {
            let event = match events.recv().await {
                Ok(event) => event,
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
                Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
            };
            let Some(inner) = cluster.upgrade() else {
                return;
            };
            let _ = inner.events.send(ClusterEvent::Node {
                addr: addr.clone(),
                event,
            });
        }
    });
}
