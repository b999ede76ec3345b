//! [`ClusterSubscriber`]: pub/sub on a Redis Cluster, one [`Subscriber`]
//! (its own connection actor) per node it needs, and one stream of
//! messages, [`ClusterMessages`].
//!
//! **Shard channels** (`SSUBSCRIBE`, Redis 7+) live on the primary that
//! serves their slot. Each is subscribed there, one `SSUBSCRIBE` per slot as
//! the server requires, and moved when its slot moves: the server says so
//! when a slot migrates away (it ends the subscription with a `sunsubscribe`
//! nobody asked for), a node's subscriber says so when it loses its
//! connection, and every [`CHECK_EVERY`] the homes are compared with the
//! client's slot map for what nobody said. The map read right after such an
//! event can still be behind it (nodes learn of a failover by gossip), so
//! for [`SETTLE_WINDOW`] after one the homes are checked again every
//! [`RECHECK_SOON`] with a fresh map, however settled they look. A
//! subscription whose node is down
//! waits there until the node comes back or the map names another owner (a
//! promoted replica). The stream lets a shard message through only from the
//! node its channel lives on now, so no message is heard twice (a demoted
//! primary goes on hearing its shard as a replica).
//!
//! **Channels and patterns** (`SUBSCRIBE`, `PSUBSCRIBE`): a cluster passes
//! every `PUBLISH` to every node, so they are subscribed on one node only,
//! and moved to another primary if that one goes down.
//!
//! **Deadlines.** Each step of a change (a node's confirmation) is bounded
//! by the configured `command_timeout`, 5 s without one, through the node's
//! [`Subscriber::with_timeout`]. A subscription not confirmed in time fails
//! with [`ErrorKind::Timeout`] and is not kept: not recorded here, and given
//! up by the node's subscriber, which undoes it if the node confirms it
//! late (see [`Subscriber::subscribe`]).
//!
//! **Lists.** As for one [`Subscriber`]: an empty list (un)subscribes from
//! nothing; everything of a kind is `unsubscribe_all`, `punsubscribe_all`,
//! `sunsubscribe_all`.
//!
//! **Gaps.** Messages published while a subscription moves are lost, as
//! during any reconnect: Redis pub/sub keeps nothing for an absent
//! subscriber (streams do).
//!
//! **Memory.** As for one [`Subscriber`]: the stream holds at most
//! [`MESSAGE_BUFFER`] messages; behind that, each node's subscriber stops
//! reading its socket and TCP pushes back on the server.

use super::client::ClusterClient;
use super::slot::key_slot;
use super::topology::NodeAddr;
use crate::cmd::{Cmd, ToArg};
use crate::connection::state::{ConnectionState, Event};
use crate::error::{Error, ErrorKind, Result};
use crate::pubsub::{Item, Message, Messages, Subscriber, SubscriptionKind, MESSAGE_BUFFER};
use bytes::Bytes;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::pin::Pin;
use std::sync::{Arc, Mutex, Weak};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::sync::{broadcast, mpsc};

/// How often the homes of the subscriptions are compared with the slot map
/// while nothing is known to be wrong.
///
/// ```
/// assert_eq!(redwire::cluster::CHECK_EVERY.as_secs(), 5);
/// ```
pub const CHECK_EVERY: Duration = Duration::from_secs(5);

/// How soon the homes are looked at again while one is wrong (its node down,
/// or a move that failed).
const RECHECK_SOON: Duration = Duration::from_millis(300);
/// How long after a node ended a subscription or dropped the homes are
/// rechecked every [`RECHECK_SOON`], although they looked settled: the slot
/// map read right after a failover can still name the old primary.
const SETTLE_WINDOW: Duration = Duration::from_secs(3);

/// Tries to place one slot's shard channels (redirections, `TRYAGAIN`)
/// before the next check takes over.
const MAX_ATTEMPTS: u32 = 16;

/// Pub/sub on a cluster: shard channels on their slot's node, followed when
/// slots move; channels and patterns on one node. Clone it to (un)subscribe
/// from several tasks; the messages come out of the [`ClusterMessages`]
/// returned with it.
///
/// ```no_run
/// # async fn demo(cluster: redwire::cluster::ClusterClient) -> redwire::Result<()> {
/// use redwire::prelude::*;
/// let (subscriber, mut messages) = cluster.subscriber().await?;
/// subscriber.ssubscribe(["orders:{eu}", "orders:{us}"]).await?;
/// cluster.spublish("orders:{eu}", "new order").await?;
/// while let Some(message) = messages.recv().await {
///     let message = message?;
///     println!("{:?}: {:?}", message.channel, message.payload);
/// }
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct ClusterSubscriber {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for ClusterSubscriber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let homes = self.inner.homes();
        f.debug_struct("ClusterSubscriber")
            .field("nodes", &homes.nodes.len())
            .field("shard_channels", &homes.shard.len())
            .finish_non_exhaustive()
    }
}

/// The messages of a [`ClusterSubscriber`], from every node, as one async
/// stream (`recv`, or [`Stream`](futures_core::Stream)) of at most
/// [`MESSAGE_BUFFER`] waiting messages.
///
/// ```no_run
/// # async fn demo(mut messages: redwire::cluster::ClusterMessages) -> redwire::Result<()> {
/// while let Some(message) = messages.recv().await {
///     println!("{:?}", message?.payload);
/// }
/// # Ok(()) }
/// ```
pub struct ClusterMessages {
    rx: mpsc::Receiver<Result<Message>>,
    /// The subscriptions live as long as their stream does.
    _inner: Arc<Inner>,
}

impl std::fmt::Debug for ClusterMessages {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClusterMessages")
            .field("waiting", &self.rx.len())
            .finish_non_exhaustive()
    }
}

impl ClusterMessages {
    /// The next message, from whichever node.
    ///
    /// ```no_run
    /// # async fn demo(mut messages: redwire::cluster::ClusterMessages) -> redwire::Result<()> {
    /// if let Some(message) = messages.recv().await {
    ///     let message = message?;
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn recv(&mut self) -> Option<Result<Message>> {
        self.rx.recv().await
    }

    /// How many messages wait now.
    pub fn len(&self) -> usize {
        self.rx.len()
    }

    /// True when no message waits.
    pub fn is_empty(&self) -> bool {
        self.rx.is_empty()
    }
}

impl futures_core::Stream for ClusterMessages {
    type Item = Result<Message>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Message>>> {
        self.get_mut().rx.poll_recv(cx)
    }
}

struct Inner {
    cluster: ClusterClient,
    tx: mpsc::Sender<Result<Message>>,
    homes: Mutex<Homes>,
    /// One change of the homes at a time: a user's (un)subscription or a check.
    changing: tokio::sync::Mutex<()>,
    /// Asks for a check now (a node dropped, the server ended a subscription).
    wake: mpsc::UnboundedSender<()>,
}

impl Inner {
    fn homes(&self) -> std::sync::MutexGuard<'_, Homes> {
        self.homes.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Where each subscription lives.
#[derive(Default)]
struct Homes {
    nodes: HashMap<NodeAddr, Node>,
    /// Each shard channel and the node it is subscribed on.
    shard: BTreeMap<Bytes, NodeAddr>,
    /// The node of the channels and patterns.
    global: Option<NodeAddr>,
    channels: BTreeSet<Bytes>,
    patterns: BTreeSet<Bytes>,
}

impl Homes {
    /// True when `message`, come from `from`, is for the user: its
    /// subscription lives on that node now.
    fn delivers(&self, from: &NodeAddr, message: &Message) -> bool {
        match message.kind {
            SubscriptionKind::Shard => self.shard.get(&message.channel) == Some(from),
            SubscriptionKind::Channel | SubscriptionKind::Pattern => {
                self.global.as_ref() == Some(from)
            }
        }
    }

    /// The record of the channels or of the patterns.
    fn global_set(&mut self, kind: SubscriptionKind) -> &mut BTreeSet<Bytes> {
        match kind {
            SubscriptionKind::Pattern => &mut self.patterns,
            _ => &mut self.channels,
        }
    }

    /// Lets go of the nodes that hold nothing any more.
    fn prune(&mut self) {
        let used: BTreeSet<NodeAddr> = self
            .shard
            .values()
            .cloned()
            .chain(self.global.clone())
            .collect();
        self.nodes.retain(|addr, _| used.contains(addr));
    }
}

/// One node's subscriber and the task that passes its messages on.
struct Node {
    subscriber: Subscriber,
    forwarder: tokio::task::JoinHandle<()>,
}

impl Drop for Node {
    fn drop(&mut self) {
        // The forwarder holds the node's message stream: ending it lets the
        // node's connection go.
        self.forwarder.abort();
    }
}

impl ClusterClient {
    /// A subscriber for this cluster and its stream of messages. Nothing is
    /// connected until something is subscribed.
    ///
    /// ```no_run
    /// # async fn demo(cluster: redwire::cluster::ClusterClient) -> redwire::Result<()> {
    /// let (subscriber, mut messages) = cluster.subscriber().await?;
    /// subscriber.subscribe("news").await?; // any node: PUBLISH reaches them all
    /// subscriber.ssubscribe("user:{42}:inbox").await?; // the node of its slot
    /// # Ok(()) }
    /// ```
    pub async fn subscriber(&self) -> Result<(ClusterSubscriber, ClusterMessages)> {
        let (tx, rx) = mpsc::channel(MESSAGE_BUFFER);
        let (wake, woken) = mpsc::unbounded_channel();
        let inner = Arc::new(Inner {
            cluster: self.clone(),
            tx,
            homes: Mutex::new(Homes::default()),
            changing: tokio::sync::Mutex::new(()),
            wake,
        });
        tokio::spawn(supervise(Arc::downgrade(&inner), woken));
        let messages = ClusterMessages {
            rx,
            _inner: inner.clone(),
        };
        Ok((ClusterSubscriber { inner }, messages))
    }
}

impl ClusterSubscriber {
    /// `SSUBSCRIBE`, each shard channel on the node of its slot (one
    /// `SSUBSCRIBE` per slot). Returns once every node confirmed; if one
    /// slot's node fails, its error is returned and the other slots stay
    /// subscribed.
    ///
    /// ```no_run
    /// # async fn demo(subscriber: redwire::cluster::ClusterSubscriber) -> redwire::Result<()> {
    /// subscriber.ssubscribe(["cart:{1}", "cart:{2}"]).await?;
    /// # Ok(()) }
    /// ```
    pub async fn ssubscribe(&self, channels: impl ToArg) -> Result<()> {
        let names = names(channels);
        let _one = self.inner.changing.lock().await;
        let mut result = Ok(());
        for (slot, names) in by_slot(names) {
            if let Err(e) = self.place_shard(slot, names).await {
                result = result.and(Err(e));
            }
        }
        result
    }

    /// `SUNSUBSCRIBE` these shard channels. Once it returns, no message of
    /// them comes out of the stream. An empty list (`()`, an empty `Vec`)
    /// unsubscribes from nothing; every shard channel is
    /// [`sunsubscribe_all`](Self::sunsubscribe_all).
    ///
    /// ```no_run
    /// # async fn demo(subscriber: redwire::cluster::ClusterSubscriber) -> redwire::Result<()> {
    /// subscriber.sunsubscribe("cart:{1}").await?;
    /// # Ok(()) }
    /// ```
    pub async fn sunsubscribe(&self, channels: impl ToArg) -> Result<()> {
        let names = names(channels);
        if names.is_empty() {
            return Ok(());
        }
        self.leave_shard(Some(names)).await
    }

    /// `SUNSUBSCRIBE` from every shard channel, on every node.
    ///
    /// ```no_run
    /// # async fn demo(subscriber: redwire::cluster::ClusterSubscriber) -> redwire::Result<()> {
    /// subscriber.sunsubscribe_all().await?;
    /// # Ok(()) }
    /// ```
    pub async fn sunsubscribe_all(&self) -> Result<()> {
        self.leave_shard(None).await
    }

    /// Unsubscribes shard channels (`None`: all of them) on their nodes.
    async fn leave_shard(&self, names: Option<Vec<Bytes>>) -> Result<()> {
        let _one = self.inner.changing.lock().await;
        let leaving: Vec<(NodeAddr, Bytes)> = {
            let mut homes = self.inner.homes();
            let names = names.unwrap_or_else(|| homes.shard.keys().cloned().collect());
            names
                .into_iter()
                .filter_map(|n| homes.shard.remove(&n).map(|addr| (addr, n)))
                .collect()
        };
        let mut groups: BTreeMap<(NodeAddr, u16), Vec<Bytes>> = BTreeMap::new();
        for (addr, name) in leaving {
            groups
                .entry((addr, key_slot(&name)))
                .or_default()
                .push(name);
        }
        let mut result = Ok(());
        for ((addr, _), names) in groups {
            let Some(subscriber) = self.subscriber_on(&addr) else {
                continue;
            };
            let step = self.inner.cluster.step_timeout();
            match subscriber
                .with_timeout(Some(step))
                .sunsubscribe(names)
                .await
            {
                // Not confirmed in time: the node is down, and its
                // connection goes with the prune.
                Err(e) if e.kind() == ErrorKind::Timeout => {}
                Err(e) => result = result.and(Err(e)),
                Ok(()) => {}
            }
        }
        self.inner.homes().prune();
        result
    }

    /// `SUBSCRIBE`, on one node (a cluster passes every `PUBLISH` to every
    /// node).
    ///
    /// ```no_run
    /// # async fn demo(subscriber: redwire::cluster::ClusterSubscriber) -> redwire::Result<()> {
    /// subscriber.subscribe(["news", "alerts"]).await?;
    /// # Ok(()) }
    /// ```
    pub async fn subscribe(&self, channels: impl ToArg) -> Result<()> {
        self.change_global(SubscriptionKind::Channel, true, Some(names(channels)))
            .await
    }

    /// `PSUBSCRIBE`, on the same node as the channels.
    ///
    /// ```no_run
    /// # async fn demo(subscriber: redwire::cluster::ClusterSubscriber) -> redwire::Result<()> {
    /// subscriber.psubscribe("user.*").await?;
    /// # Ok(()) }
    /// ```
    pub async fn psubscribe(&self, patterns: impl ToArg) -> Result<()> {
        self.change_global(SubscriptionKind::Pattern, true, Some(names(patterns)))
            .await
    }

    /// `UNSUBSCRIBE` these channels; an empty list (`()`, an empty `Vec`)
    /// unsubscribes from nothing, every channel is
    /// [`unsubscribe_all`](Self::unsubscribe_all).
    ///
    /// ```no_run
    /// # async fn demo(subscriber: redwire::cluster::ClusterSubscriber) -> redwire::Result<()> {
    /// subscriber.unsubscribe("news").await?;
    /// # Ok(()) }
    /// ```
    pub async fn unsubscribe(&self, channels: impl ToArg) -> Result<()> {
        self.change_global(SubscriptionKind::Channel, false, Some(names(channels)))
            .await
    }

    /// `PUNSUBSCRIBE` these patterns; an empty list unsubscribes from
    /// nothing, every pattern is [`punsubscribe_all`](Self::punsubscribe_all).
    ///
    /// ```no_run
    /// # async fn demo(subscriber: redwire::cluster::ClusterSubscriber) -> redwire::Result<()> {
    /// subscriber.punsubscribe("user.*").await?;
    /// # Ok(()) }
    /// ```
    pub async fn punsubscribe(&self, patterns: impl ToArg) -> Result<()> {
        self.change_global(SubscriptionKind::Pattern, false, Some(names(patterns)))
            .await
    }

    /// `UNSUBSCRIBE` from every channel.
    ///
    /// ```no_run
    /// # async fn demo(subscriber: redwire::cluster::ClusterSubscriber) -> redwire::Result<()> {
    /// subscriber.unsubscribe_all().await?;
    /// # Ok(()) }
    /// ```
    pub async fn unsubscribe_all(&self) -> Result<()> {
        self.change_global(SubscriptionKind::Channel, false, None)
            .await
    }

    /// `PUNSUBSCRIBE` from every pattern.
    ///
    /// ```no_run
    /// # async fn demo(subscriber: redwire::cluster::ClusterSubscriber) -> redwire::Result<()> {
    /// subscriber.punsubscribe_all().await?;
    /// # Ok(()) }
    /// ```
    pub async fn punsubscribe_all(&self) -> Result<()> {
        self.change_global(SubscriptionKind::Pattern, false, None)
            .await
    }

    /// What is subscribed now, of one kind.
    ///
    /// ```no_run
    /// # fn demo(subscriber: redwire::cluster::ClusterSubscriber) {
    /// use redwire::SubscriptionKind;
    /// println!("{:?}", subscriber.subscriptions(SubscriptionKind::Shard));
    /// # }
    /// ```
    pub fn subscriptions(&self, kind: SubscriptionKind) -> Vec<Bytes> {
        let homes = self.inner.homes();
        match kind {
            SubscriptionKind::Shard => homes.shard.keys().cloned().collect(),
            SubscriptionKind::Channel => homes.channels.iter().cloned().collect(),
            SubscriptionKind::Pattern => homes.patterns.iter().cloned().collect(),
        }
    }

    /// The node (`host:port`) a shard channel is subscribed on now.
    ///
    /// ```no_run
    /// # fn demo(subscriber: redwire::cluster::ClusterSubscriber) {
    /// if let Some(node) = subscriber.node_of("cart:{1}") {
    ///     println!("listening on {node}");
    /// }
    /// # }
    /// ```
    pub fn node_of(&self, shard_channel: impl AsRef<[u8]>) -> Option<String> {
        self.inner
            .homes()
            .shard
            .get(shard_channel.as_ref())
            .map(|a| a.to_string())
    }

    fn subscriber_on(&self, addr: &NodeAddr) -> Option<Subscriber> {
        self.inner
            .homes()
            .nodes
            .get(addr)
            .map(|n| n.subscriber.clone())
    }

    /// The subscriber on `addr`, connected now if there is none yet.
    async fn node(&self, addr: &NodeAddr) -> Result<Subscriber> {
        if let Some(subscriber) = self.subscriber_on(addr) {
            return Ok(subscriber);
        }
        let config = self.inner.cluster.subscriber_config(addr);
        let step = self.inner.cluster.step_timeout();
        let (subscriber, messages) = tokio::time::timeout(step, Subscriber::connect(config))
            .await
            .map_err(|_| {
                Error::new(
                    ErrorKind::Timeout,
                    format!("no connection to {addr} within {step:?}"),
                )
            })??;
        let forwarder = tokio::spawn(forward(
            addr.clone(),
            messages,
            subscriber.events(),
            Arc::downgrade(&self.inner),
            self.inner.tx.clone(),
            self.inner.wake.clone(),
        ));
        let node = Node {
            subscriber: subscriber.clone(),
            forwarder,
        };
        self.inner.homes().nodes.insert(addr.clone(), node);
        Ok(subscriber)
    }

    /// Subscribes one slot's shard channels on the slot's owner (following
    /// `MOVED`, waiting out a migration), and leaves the node they lived on
    /// before. The caller holds `changing`.
    async fn place_shard(&self, slot: u16, names: Vec<Bytes>) -> Result<()> {
        let cluster = &self.inner.cluster;
        let step = cluster.step_timeout();
        let mut target = cluster.owner(slot).await?;
        let mut backoff = Duration::from_millis(10);
        let mut last = None;
        for _ in 0..MAX_ATTEMPTS {
            let subscriber = self.node(&target).await?.with_timeout(Some(step));
            let err = match subscriber.ssubscribe(names.clone()).await {
                Ok(()) => {
                    self.settle_shard(&names, &target);
                    return Ok(());
                }
                // Not confirmed in time (the node is down): given up by the
                // node's subscriber, not made again there when it comes back.
                Err(e) if e.kind() == ErrorKind::Timeout => {
                    return Err(Error::new(
                        ErrorKind::Timeout,
                        format!("{target}: {}", e.message()),
                    ));
                }
                Err(e) => e,
            };
            if let Some(owner) = cluster.follow_moved(&err, &target) {
                target = owner;
            } else if matches!(err.code(), Some("TRYAGAIN" | "ASK" | "CLUSTERDOWN")) {
                // The slot is migrating: it settles on one node soon.
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_millis(500));
                let _ = cluster.refresh_map().await;
                target = cluster.owner(slot).await?;
            } else {
                return Err(err);
            }
            last = Some(err);
        }
        Err(last.unwrap_or_else(|| Error::protocol("no attempt was made")))
    }

    /// Records that `names` live on `target` now, and leaves the nodes they
    /// lived on before.
    fn settle_shard(&self, names: &[Bytes], target: &NodeAddr) {
        let mut homes = self.inner.homes();
        let mut before: HashMap<NodeAddr, Vec<Bytes>> = HashMap::new();
        for name in names {
            if let Some(previous) = homes.shard.insert(name.clone(), target.clone()) {
                if previous != *target {
                    before.entry(previous).or_default().push(name.clone());
                }
            }
        }
        let step = self.inner.cluster.step_timeout();
        for (addr, names) in before {
            if let Some(node) = homes.nodes.get(&addr) {
                leave_in_background(node.subscriber.clone(), names, step);
            }
        }
        homes.prune();
    }

    /// (Un)subscribes channels or patterns on the node that holds them
    /// (`None`: unsubscribes all of them; an empty list is nothing).
    async fn change_global(
        &self,
        kind: SubscriptionKind,
        subscribe: bool,
        names: Option<Vec<Bytes>>,
    ) -> Result<()> {
        if names.as_ref().is_some_and(Vec::is_empty) {
            return Ok(());
        }
        let _one = self.inner.changing.lock().await;
        let step = self.inner.cluster.step_timeout();
        let home = self.inner.homes().global.clone();
        if subscribe {
            let names = names.unwrap_or_default();
            let addr = match home {
                Some(addr) => addr,
                None => self.inner.cluster.any_primary().await?,
            };
            let subscriber = self.node(&addr).await?.with_timeout(Some(step));
            self.inner.homes().global = Some(addr.clone());
            let done = match kind {
                SubscriptionKind::Pattern => subscriber.psubscribe(names.clone()).await,
                _ => subscriber.subscribe(names.clone()).await,
            };
            let mut homes = self.inner.homes();
            match done {
                Ok(()) => {
                    let set = homes.global_set(kind);
                    set.extend(names);
                    Ok(())
                }
                // Refused, or given up at its deadline (the node's
                // subscriber undoes it if the server makes it after all):
                // not kept either way.
                Err(e) => {
                    if homes.channels.is_empty() && homes.patterns.is_empty() {
                        homes.global = None;
                        homes.prune();
                    }
                    drop(homes);
                    if e.kind() != ErrorKind::Timeout {
                        return Err(e);
                    }
                    // The node may be down: the check moves what lives there.
                    let _ = self.inner.wake.send(());
                    Err(Error::new(
                        ErrorKind::Timeout,
                        format!("{addr}: {}", e.message()),
                    ))
                }
            }
        } else {
            {
                let mut homes = self.inner.homes();
                let set = homes.global_set(kind);
                match &names {
                    None => set.clear(),
                    Some(names) => {
                        for name in names {
                            set.remove(name);
                        }
                    }
                }
            }
            let Some(addr) = home else { return Ok(()) };
            let mut result = Ok(());
            if let Some(subscriber) = self.subscriber_on(&addr) {
                let subscriber = subscriber.with_timeout(Some(step));
                let done = match (kind, names) {
                    (SubscriptionKind::Pattern, None) => subscriber.punsubscribe_all().await,
                    (SubscriptionKind::Pattern, Some(names)) => {
                        subscriber.punsubscribe(names).await
                    }
                    (_, None) => subscriber.unsubscribe_all().await,
                    (_, Some(names)) => subscriber.unsubscribe(names).await,
                };
                match done {
                    // Not confirmed in time: the node is down, and what it
                    // held is off its record all the same.
                    Err(e) if e.kind() == ErrorKind::Timeout => {}
                    Err(e) => result = Err(e),
                    Ok(()) => {}
                }
            }
            let mut homes = self.inner.homes();
            if homes.channels.is_empty() && homes.patterns.is_empty() {
                homes.global = None;
                homes.prune();
            }
            result
        }
    }

    /// Compares every home with the slot map and the nodes' states, and
    /// moves what is wrong; true when everything is where it belongs.
    /// `refresh`: read the map again first.
    async fn check(&self, refresh: bool) -> bool {
        let _one = self.inner.changing.lock().await;
        let cluster = &self.inner.cluster;
        if refresh {
            let _ = cluster.refresh_map().await;
        }
        let mut settled = true;
        let shards: Vec<(Bytes, NodeAddr)> = self
            .inner
            .homes()
            .shard
            .iter()
            .map(|(n, a)| (n.clone(), a.clone()))
            .collect();
        let mut misplaced: BTreeMap<u16, Vec<Bytes>> = BTreeMap::new();
        for (name, home) in shards {
            let slot = key_slot(&name);
            let Ok(owner) = cluster.owner(slot).await else {
                settled = false;
                continue;
            };
            let state = self.subscriber_on(&home).map(|s| {
                (
                    s.state(),
                    s.subscriptions(SubscriptionKind::Shard).contains(&name),
                )
            });
            match state {
                // Where it belongs, and subscribed there.
                Some((ConnectionState::Connected, true)) if owner == home => {}
                // Its node is down and still its owner: it comes back, or
                // a replica takes over and the map says so.
                Some((ConnectionState::Connecting | ConnectionState::Reconnecting, true))
                    if owner == home =>
                {
                    settled = false
                }
                _ => misplaced.entry(slot).or_default().push(name),
            }
        }
        for (slot, names) in misplaced {
            if self.place_shard(slot, names).await.is_err() {
                settled = false;
            }
        }
        if !self.check_global().await {
            settled = false;
        }
        settled
    }

    /// Moves the channels and patterns to another primary when their node
    /// is down; true when they are where they belong.
    async fn check_global(&self) -> bool {
        let (home, channels, patterns) = {
            let homes = self.inner.homes();
            (
                homes.global.clone(),
                homes.channels.iter().cloned().collect::<Vec<_>>(),
                homes.patterns.iter().cloned().collect::<Vec<_>>(),
            )
        };
        let Some(home) = home else { return true };
        let up = self
            .subscriber_on(&home)
            .is_some_and(|s| s.state() == ConnectionState::Connected);
        if up {
            return true;
        }
        let step = self.inner.cluster.step_timeout();
        for candidate in self.inner.cluster.primaries() {
            if candidate == home {
                continue;
            }
            let Ok(subscriber) = self.node(&candidate).await else {
                continue;
            };
            let moved = tokio::time::timeout(step, async {
                subscriber.subscribe(channels.clone()).await?;
                subscriber.psubscribe(patterns.clone()).await
            })
            .await;
            if let Ok(Ok(())) = moved {
                let mut homes = self.inner.homes();
                homes.global = Some(candidate);
                homes.prune();
                return true;
            }
        }
        self.inner.homes().prune();
        false
    }
}

/// Unsubscribes `names` from a node's subscriber in the background, giving
/// up after `step` (the node may be down: its connection goes once nothing
/// lives on it).
fn leave_in_background(subscriber: Subscriber, names: Vec<Bytes>, step: Duration) {
    tokio::spawn(async move {
        let _ = subscriber
            .with_timeout(Some(step))
            .sunsubscribe(names)
            .await;
    });
}

/// Passes a node's messages on to the stream, those whose subscription
/// lives on this node now; asks for a check when the node drops or the
/// server ends a subscription.
async fn forward(
    addr: NodeAddr,
    mut messages: Messages,
    mut events: broadcast::Receiver<Event>,
    inner: Weak<Inner>,
    tx: mpsc::Sender<Result<Message>>,
    wake: mpsc::UnboundedSender<()>,
) {
    loop {
        tokio::select! {
            item = messages.recv_item() => match item {
                Some(Ok(Item::Message(message))) => {
                    let wanted = match inner.upgrade() {
                        Some(inner) => inner.homes().delivers(&addr, &message),
                        None => return,
                    };
                    if wanted && tx.send(Ok(message)).await.is_err() {
                        return;
                    }
                }
                // The server ended a subscription (its slot moved), or the
                // node's subscriber gave up: the check moves what lived here.
                Some(Ok(Item::Ended)) | Some(Err(_)) => {
                    let _ = wake.send(());
                }
                // A drop is heard of as an event, below.
                Some(Ok(Item::Gap(_))) => {}
                None => {
                    let _ = wake.send(());
                    return;
                }
            },
            event = events.recv() => match event {
                Ok(Event::Disconnected { .. }) | Err(broadcast::error::RecvError::Lagged(_)) => {
                    let _ = wake.send(());
                }
                Ok(_) => {}
                Err(broadcast::error::RecvError::Closed) => {
                    let _ = wake.send(());
                    return;
                }
            },
            _ = tx.closed() => return,
        }
    }
}

/// Checks the homes when asked, and every [`CHECK_EVERY`] (sooner while
/// something is wrong); ends with the subscriber.
async fn supervise(inner: Weak<Inner>, mut woken: mpsc::UnboundedReceiver<()>) {
    let mut pause = CHECK_EVERY;
    let mut last_event: Option<tokio::time::Instant> = None;
    loop {
        let asked = match tokio::time::timeout(pause, woken.recv()).await {
            Ok(Some(())) => true,
            Ok(None) => return,
            Err(_) => false,
        };
        while woken.try_recv().is_ok() {}
        if asked {
            last_event = Some(tokio::time::Instant::now());
        }
        let Some(inner) = inner.upgrade() else { return };
        let subscriber = ClusterSubscriber { inner };
        // The map is read again when something happened or was wrong.
        let settled = subscriber.check(asked || pause == RECHECK_SOON).await;
        // Soon after an event the map read may still be behind it (the
        // nodes learn of a failover by gossip): what looked settled is
        // checked again, with a fresh map, until the event is old enough.
        let recent = last_event.is_some_and(|at| at.elapsed() < SETTLE_WINDOW);
        pause = if settled && !recent {
            CHECK_EVERY
        } else {
            RECHECK_SOON
        };
    }
}

/// The names in `args`.
fn names(args: impl ToArg) -> Vec<Bytes> {
    let mut list = Cmd::new();
    args.write_args(&mut list);
    list.args_iter().map(Bytes::copy_from_slice).collect()
}

/// Names grouped by slot: one `SSUBSCRIBE` per slot.
fn by_slot(names: Vec<Bytes>) -> BTreeMap<u16, Vec<Bytes>> {
    let mut groups: BTreeMap<u16, Vec<Bytes>> = BTreeMap::new();
    for name in names {
        groups.entry(key_slot(&name)).or_default().push(name);
    }
    groups
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(port: u16) -> NodeAddr {
        NodeAddr {
            host: "127.0.0.1".into(),
            port,
        }
    }

    fn message(kind: SubscriptionKind, channel: &'static str) -> Message {
        Message {
            kind,
            channel: Bytes::from_static(channel.as_bytes()),
            pattern: (kind == SubscriptionKind::Pattern).then(|| Bytes::from_static(b"c*")),
            payload: Bytes::new(),
        }
    }

    #[test]
    fn a_message_passes_only_from_the_node_its_subscription_lives_on() {
        let mut homes = Homes::default();
        homes.shard.insert(Bytes::from_static(b"s"), addr(1));
        homes.global = Some(addr(2));
        let shard = message(SubscriptionKind::Shard, "s");
        assert!(homes.delivers(&addr(1), &shard));
        // Still on its way from the node it moved away from.
        assert!(!homes.delivers(&addr(2), &shard));
        assert!(!homes.delivers(&addr(1), &message(SubscriptionKind::Shard, "other")));
        for kind in [SubscriptionKind::Channel, SubscriptionKind::Pattern] {
            assert!(homes.delivers(&addr(2), &message(kind, "c")));
            assert!(!homes.delivers(&addr(1), &message(kind, "c")));
        }
        homes.global = None;
        assert!(!homes.delivers(&addr(2), &message(SubscriptionKind::Channel, "c")));
    }
}
