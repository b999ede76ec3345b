//! [`Migration`]: moving one hash slot with its keys from its primary to
//! another, step by step, so a test can send traffic between the steps and see
//! `-ASK` and `-MOVED` redirects the way a resharding produces them.

use super::node::ClusterNode;
use super::topology::short;
use super::RedisCluster;
use redwire_resp::{Bytes, Frame};
use std::io;

/// How long one `MIGRATE` may take, in milliseconds.
const MIGRATE_TIMEOUT_MS: &str = "5000";
/// How many keys [`Migration::finish`] moves per `MIGRATE`.
const FINISH_BATCH: usize = 100;

/// A slot being moved from one primary to another; made by
/// [`RedisCluster::begin_migration`].
///
/// The steps are those of `redis-cli --cluster reshard`:
/// 1. [`set_importing_migrating`](Migration::set_importing_migrating): the
///    target imports, the source migrates. From here the source answers
///    `-ASK` for keys of the slot it no longer has.
/// 2. [`move_keys`](Migration::move_keys), as often as wanted: a batch of keys
///    goes over with `MIGRATE`.
/// 3. [`finish`](Migration::finish): the rest of the keys go, and every
///    primary is told the target owns the slot. The source now answers `-MOVED`.
///
/// ```no_run
/// use redwire_testkit::{key_slot, Frame, RedisCluster};
///
/// let cluster = RedisCluster::start()?;
/// let slot = key_slot(b"{user1}");
/// let source = cluster.slot_owner(slot);
/// let target = cluster.primaries().into_iter().find(|p| p.id() != source.id()).unwrap();
/// source.command(&["SET", "{user1}.name", "ada"])?;
///
/// let migration = cluster.begin_migration(slot, target)?;
/// migration.set_importing_migrating()?;
/// assert_eq!(migration.move_keys(10)?, 1);
/// let Frame::Error(ask) = source.command(&["GET", "{user1}.name"])? else { panic!() };
/// assert!(ask.starts_with(b"ASK "));
/// migration.finish()?;
/// assert_eq!(cluster.slot_owner(slot).id(), target.id());
/// # Ok::<(), std::io::Error>(())
/// ```
#[must_use = "a migration left unfinished leaves its slot importing and migrating"]
pub struct Migration<'a> {
    pub(crate) cluster: &'a RedisCluster,
    pub(crate) slot: u16,
    pub(crate) source: &'a ClusterNode,
    pub(crate) target: &'a ClusterNode,
}

impl<'a> Migration<'a> {
    /// The slot being moved.
    ///
    /// ```no_run
    /// let cluster = redwire_testkit::RedisCluster::start()?;
    /// let migration = cluster.begin_migration(42, cluster.primaries()[2])?;
    /// assert_eq!(migration.slot(), 42);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn slot(&self) -> u16 {
        self.slot
    }

    /// The primary that owned the slot when the migration began.
    ///
    /// ```no_run
    /// let cluster = redwire_testkit::RedisCluster::start()?;
    /// let migration = cluster.begin_migration(42, cluster.primaries()[2])?;
    /// assert_eq!(migration.source().id(), cluster.primaries()[0].id());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn source(&self) -> &'a ClusterNode {
        self.source
    }

    /// The primary the slot moves to.
    ///
    /// ```no_run
    /// let cluster = redwire_testkit::RedisCluster::start()?;
    /// let migration = cluster.begin_migration(42, cluster.primaries()[2])?;
    /// assert_eq!(migration.target().id(), cluster.primaries()[2].id());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn target(&self) -> &'a ClusterNode {
        self.target
    }

    /// `CLUSTER SETSLOT slot IMPORTING source` on the target, then
    /// `CLUSTER SETSLOT slot MIGRATING target` on the source (in that order, so
    /// no moment exists where the source sends clients to a target that refuses
    /// them).
    ///
    /// ```no_run
    /// let cluster = redwire_testkit::RedisCluster::start()?;
    /// let migration = cluster.begin_migration(42, cluster.primaries()[2])?;
    /// migration.set_importing_migrating()?;
    /// // a GET of a missing key of slot 42 on the source now answers -ASK
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn set_importing_migrating(&self) -> io::Result<()> {
        let slot = self.slot.to_string();
        self.target
            .checked(&["CLUSTER", "SETSLOT", &slot, "IMPORTING", self.source.id()])?;
        self.source
            .checked(&["CLUSTER", "SETSLOT", &slot, "MIGRATING", self.target.id()])?;
        Ok(())
    }

    /// Moves up to `batch` keys of the slot from the source to the target
    /// (`CLUSTER GETKEYSINSLOT`, then one `MIGRATE ... KEYS`) and returns how
    /// many it moved; 0 means the source has none left. Needs
    /// [`set_importing_migrating`](Self::set_importing_migrating) first: the
    /// target refuses keys of a slot it is not importing.
    ///
    /// ```no_run
    /// let cluster = redwire_testkit::RedisCluster::start()?;
    /// let migration = cluster.begin_migration(42, cluster.primaries()[2])?;
    /// migration.set_importing_migrating()?;
    /// while migration.move_keys(2)? > 0 {
    ///     // send traffic between the batches
    /// }
    /// migration.finish()?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn move_keys(&self, batch: usize) -> io::Result<usize> {
        if batch == 0 {
            return Ok(0);
        }
        let (slot, batch) = (self.slot.to_string(), batch.to_string());
        let keys = match self
            .source
            .checked(&["CLUSTER", "GETKEYSINSLOT", &slot, &batch])?
        {
            Frame::Array(keys) | Frame::Set(keys) => keys,
            other => {
                return Err(io::Error::other(format!(
                    "CLUSTER GETKEYSINSLOT on {} answered {other:?}",
                    self.source.addr()
                )))
            }
        };
        if keys.is_empty() {
            return Ok(0);
        }
        let mut args: Vec<Bytes> = [
            "MIGRATE",
            "127.0.0.1",
            // A TLS cluster migrates over TLS (`tls-cluster yes`).
            &self.target.client_port_for_nodes().to_string(),
            "",
            "0",
            MIGRATE_TIMEOUT_MS,
        ]
        .iter()
        .map(|a| Bytes::copy_from_slice(a.as_bytes()))
        .collect();
        if let Some(password) = &self.cluster.settings.password {
            args.push(Bytes::from_static(b"AUTH"));
            args.push(Bytes::copy_from_slice(password.as_bytes()));
        }
        args.push(Bytes::from_static(b"KEYS"));
        let count = keys.len();
        for key in keys {
            match key {
                Frame::Bulk(key) | Frame::Simple(key) => args.push(key),
                other => {
                    return Err(io::Error::other(format!(
                        "CLUSTER GETKEYSINSLOT on {} listed {other:?} as a key",
                        self.source.addr()
                    )))
                }
            }
        }
        self.source.checked(&args)?;
        Ok(count)
    }

    /// Moves the keys that are left, then sends `CLUSTER SETSLOT slot NODE
    /// target` to the target, the source and every other running primary, and
    /// waits until the whole cluster agrees the target owns the slot.
    ///
    /// ```no_run
    /// let cluster = redwire_testkit::RedisCluster::start()?;
    /// let target = cluster.primaries()[2];
    /// let migration = cluster.begin_migration(42, target)?;
    /// migration.set_importing_migrating()?;
    /// migration.finish()?;
    /// assert_eq!(cluster.slot_owner(42).id(), target.id());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn finish(self) -> io::Result<()> {
        while self.move_keys(FINISH_BATCH)? > 0 {}
        let slot = self.slot.to_string();
        let assign = ["CLUSTER", "SETSLOT", &slot, "NODE", self.target.id()];
        self.target.checked(&assign)?;
        self.source.checked(&assign)?;
        for primary in self.cluster.primaries() {
            if primary.id() != self.target.id()
                && primary.id() != self.source.id()
                && primary.is_running()
            {
                primary.checked(&assign)?;
            }
        }
        let target_id = self.target.id();
        self.cluster.wait_until(
            &format!(
                "every node to agree that slot {} moved from {} to {}",
                self.slot,
                short(self.source.id()),
                short(target_id)
            ),
            |layout| match layout.owner(self.slot) {
                Some(owner) if owner == target_id => Ok(()),
                owner => Err(format!(
                    "slot {} is still owned by {}",
                    self.slot,
                    owner.map(short).unwrap_or("nobody")
                )),
            },
        )
    }
}

impl std::fmt::Debug for Migration<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Migration")
            .field("slot", &self.slot)
            .field("source", &self.source.addr())
            .field("target", &self.target.addr())
            .finish()
    }
}
