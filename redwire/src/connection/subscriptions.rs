//! A subscriber's subscriptions, kept by its actor: the one record of what
//! the connection is subscribed to, from which every reconnect subscribes
//! again, and which the message stream reads to drop what arrived for a
//! channel already unsubscribed.
//!
//! **What is on record.** A subscription goes on record when the server
//! confirms it *and* its caller is still there to hear it: the actor and the
//! caller race for the request's [`Claim`], once, so exactly one of them
//! decides. A caller that gave up first (its deadline passed, or its future
//! was dropped) lost the subscription: it is not recorded, its messages are
//! dropped by the stream, and the actor follows the confirmation with the
//! matching unsubscription (unless another caller wants the name, on record
//! or in a request behind it). A subscription given up before it was written
//! is never written. An unsubscription leaves the record when the actor takes
//! it (no message of it comes out from then on) and again when the server
//! confirms it (in case a subscription before it was confirmed meanwhile);
//! it is written even if its caller gave up. So the record follows the
//! server's confirmations in order, less what nobody waited for.
//!
//! (Un)subscribing is idempotent, so a request cut off by a drop is simply
//! written again after the reconnect (if its caller still waits), never
//! failed as "may have executed".

use super::state::Event;
use super::{Actor, Reply, ReplySender, Request};
use bytes::Bytes;
use redwire_resp::Frame;
use std::collections::{BTreeSet, HashSet};
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// The three kinds of subscription.
///
/// ```no_run
/// # async fn demo(subscriber: redwire::Subscriber) {
/// use redwire::SubscriptionKind;
/// let patterns = subscriber.subscriptions(SubscriptionKind::Pattern);
/// # }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SubscriptionKind {
    /// `SUBSCRIBE`: a channel by name.
    Channel,
    /// `PSUBSCRIBE`: channels matching a glob-style pattern.
    Pattern,
    /// `SSUBSCRIBE`: a shard channel (Redis 7+).
    Shard,
}

impl SubscriptionKind {
    const ALL: [SubscriptionKind; 3] = [
        SubscriptionKind::Channel,
        SubscriptionKind::Pattern,
        SubscriptionKind::Shard,
    ];

    fn index(self) -> usize {
        self as usize
    }

    /// What `n` names of this kind are, in an error message.
    pub(crate) fn noun(self, n: usize) -> &'static str {
        match (self, n == 1) {
            (SubscriptionKind::Channel, true) => "channel",
            (SubscriptionKind::Channel, false) => "channels",
            (SubscriptionKind::Pattern, true) => "pattern",
            (SubscriptionKind::Pattern, false) => "patterns",
            (SubscriptionKind::Shard, true) => "shard channel",
            (SubscriptionKind::Shard, false) => "shard channels",
        }
    }

    /// The command that subscribes (or unsubscribes).
    pub(crate) fn command(self, subscribe: bool) -> &'static str {
        match (self, subscribe) {
            (SubscriptionKind::Channel, true) => "SUBSCRIBE",
            (SubscriptionKind::Pattern, true) => "PSUBSCRIBE",
            (SubscriptionKind::Shard, true) => "SSUBSCRIBE",
            (SubscriptionKind::Channel, false) => "UNSUBSCRIBE",
            (SubscriptionKind::Pattern, false) => "PUNSUBSCRIBE",
            (SubscriptionKind::Shard, false) => "SUNSUBSCRIBE",
        }
    }
}

/// A (un)subscription asked for by a handle. No names means every name of
/// that kind (an unsubscription only: the handle answers an empty list
/// itself).
pub(crate) struct Subscription {
    pub(crate) kind: SubscriptionKind,
    pub(crate) subscribe: bool,
    pub(crate) names: Vec<Bytes>,
    pub(crate) tx: ReplySender,
    /// Who decides a subscription's fate: the actor (confirmed) or the
    /// caller (given up).
    pub(crate) claim: Arc<Claim>,
}

/// The one decision about a subscription request: the actor settles it when
/// the server answered, the caller abandons it when it gives up; whichever
/// comes first wins, and the other learns it.
#[derive(Debug, Default)]
pub(crate) struct Claim(AtomicU8);

const WAITING: u8 = 0;
const SETTLED: u8 = 1;
const ABANDONED: u8 = 2;

impl Claim {
    /// The actor: true if the caller still waits (and will hear the answer).
    pub(crate) fn settle(&self) -> bool {
        self.decide(SETTLED)
    }

    /// The caller: true if it gave up before the answer came (the
    /// subscription is not recorded, and undone if the server made it).
    pub(crate) fn abandon(&self) -> bool {
        self.decide(ABANDONED)
    }

    /// The caller gave up first.
    pub(crate) fn abandoned(&self) -> bool {
        self.0.load(Ordering::Acquire) == ABANDONED
    }

    fn decide(&self, to: u8) -> bool {
        self.0
            .compare_exchange(WAITING, to, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
    }
}

/// What the connection is subscribed to.
#[derive(Debug, Default)]
pub(crate) struct Registry {
    sets: [BTreeSet<Bytes>; 3],
}

impl Registry {
    /// True while `name` is subscribed as `kind`.
    pub(crate) fn contains(&self, kind: SubscriptionKind, name: &[u8]) -> bool {
        self.sets[kind.index()].contains(name)
    }

    /// The names of one kind.
    pub(crate) fn names(&self, kind: SubscriptionKind) -> Vec<Bytes> {
        self.sets[kind.index()].iter().cloned().collect()
    }

    /// Drops names from the record (refused by the server, or ended by it).
    pub(crate) fn forget(&mut self, kind: SubscriptionKind, names: &[Bytes]) {
        for name in names {
            self.sets[kind.index()].remove(name);
        }
    }

    /// True when nothing is subscribed.
    #[cfg(test)]
    pub(crate) fn is_empty(&self) -> bool {
        self.sets.iter().all(BTreeSet::is_empty)
    }

    /// Takes a handle's (un)subscription and makes its request. A
    /// subscription goes on record only when confirmed (see
    /// [`confirmed`](Self::confirmed)); an unsubscription leaves it now.
    /// Unsubscribing with no names means from everything of that kind on
    /// record: the names are spelled out, so that the replies can be counted.
    pub(crate) fn take(&mut self, sub: Subscription) -> Request {
        let set = &mut self.sets[sub.kind.index()];
        let names = if sub.subscribe {
            sub.names
        } else if sub.names.is_empty() {
            std::mem::take(set).into_iter().collect()
        } else {
            for name in &sub.names {
                set.remove(name);
            }
            sub.names
        };
        let mut request = request(sub.kind, sub.subscribe, &names);
        if let Some(awaited) = &mut request.confirms {
            awaited.claim = Some(sub.claim);
        }
        request.tx = sub.tx;
        request
    }

    /// The server answered `awaited` (`refused`: with an error). Returns the
    /// names a subscription nobody waited for any more made on the server,
    /// which are not on record: to be unsubscribed, unless a later request
    /// wants them.
    pub(crate) fn confirmed(&mut self, awaited: &Awaited, refused: bool) -> Vec<Bytes> {
        let set = &mut self.sets[awaited.kind.index()];
        if !awaited.subscribe {
            // Off the record already; its caller, if still there, hears
            // the answer rather than a timeout.
            if let Some(claim) = &awaited.claim {
                claim.settle();
            }
            if !refused {
                for name in &awaited.names {
                    set.remove(name);
                }
            }
            return Vec::new();
        }
        // A resubscription (no claim) is of names on record already.
        let Some(claim) = &awaited.claim else {
            return Vec::new();
        };
        if claim.settle() {
            if !refused {
                set.extend(awaited.names.iter().cloned());
            }
            return Vec::new();
        }
        if refused {
            return Vec::new();
        }
        awaited
            .names
            .iter()
            .filter(|name| !set.contains(*name))
            .cloned()
            .collect()
    }

    /// The requests that subscribe everything again on a new connection; the
    /// last one announces it.
    pub(crate) fn resubscribe(&self) -> Vec<Request> {
        let mut requests: Vec<Request> = SubscriptionKind::ALL
            .into_iter()
            .filter(|kind| !self.sets[kind.index()].is_empty())
            .map(|kind| request(kind, true, &self.names(kind)))
            .collect();
        if let Some(last) = requests.last_mut() {
            last.announce = Some(Box::new(Event::Resubscribed {
                channels: self.names(SubscriptionKind::Channel),
                patterns: self.names(SubscriptionKind::Pattern),
                shard_channels: self.names(SubscriptionKind::Shard),
            }));
        }
        requests
    }
}

impl Actor {
    /// A subscription request of this subscriber was answered: the record
    /// follows it, and what the server made for a caller who gave up is
    /// undone (see the module doc). Runs only for subscription requests.
    pub(super) fn settle_subscription(&mut self, awaited: &Awaited, reply: &Reply) {
        let Some(registry) = &self.subscriptions else {
            return;
        };
        let refused = match reply {
            Reply::One(frame) => is_error(frame),
            Reply::Many(frames) => frames.iter().any(is_error),
        };
        let given_up = registry
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .confirmed(awaited, refused);
        if given_up.is_empty() {
            return;
        }
        let kind = awaited.kind();
        let undo: Vec<Bytes> = given_up
            .into_iter()
            .filter(|name| !self.wanted_later(kind, name))
            .collect();
        if !undo.is_empty() {
            // Next to be written: before anything taken from now on, behind
            // everything already written.
            self.pending.push_front(request(kind, false, &undo));
        }
    }

    /// A subscription request still waited for, behind the one answered,
    /// wants `name`: the server must keep it.
    fn wanted_later(&self, kind: SubscriptionKind, name: &[u8]) -> bool {
        self.in_flight
            .iter()
            .map(|w| &w.request)
            .chain(self.pending.iter())
            .filter_map(|r| r.confirms.as_deref())
            .any(|awaited| awaited.wants(kind, name))
    }
}

fn is_error(frame: &Frame) -> bool {
    matches!(frame, Frame::Error(_) | Frame::BulkError(_))
}

/// What a subscription request waits for: confirmations of its command,
/// each for one of its names. Made once with the request, so that matching
/// a confirmation is one lookup: parsing the request's bytes again for every
/// confirmation made a `SUBSCRIBE` of 10,000 channels cost 10,000 parses of
/// 10,000 names.
#[derive(Debug)]
pub(crate) struct Awaited {
    command: &'static str,
    kind: SubscriptionKind,
    subscribe: bool,
    names: HashSet<Bytes>,
    /// A handle's request: its caller may give up. `None`: the actor's own
    /// (a resubscription, an undo).
    claim: Option<Arc<Claim>>,
}

impl Awaited {
    fn new(kind: SubscriptionKind, subscribe: bool, names: &[Bytes]) -> Awaited {
        Awaited {
            command: kind.command(subscribe),
            kind,
            subscribe,
            names: names.iter().cloned().collect(),
            claim: None,
        }
    }

    /// A subscription whose caller still waits for it and wants `name` of
    /// `kind`: undoing `name` would undo it.
    pub(crate) fn wants(&self, kind: SubscriptionKind, name: &[u8]) -> bool {
        self.subscribe
            && self.kind == kind
            && self.claim.as_ref().is_some_and(|c| !c.abandoned())
            && self.names.contains(name)
    }

    /// An unsubscription: written even if its caller gave up (it is off the
    /// record already, and the server should stop sending it).
    pub(crate) fn unsubscribes(&self) -> bool {
        !self.subscribe
    }

    /// The kind of subscription it changes.
    pub(crate) fn kind(&self) -> SubscriptionKind {
        self.kind
    }

    /// True when `confirmation` (`ssubscribe`, `unsubscribe`… pushed by the
    /// server) answers this request: the same command, for one of its names.
    /// A confirmation that does not is one the server sent on its own (a
    /// shard channel whose slot moved away ends with a `sunsubscribe` nobody
    /// asked for), and goes to the message stream: counted as a reply it
    /// would answer the waiting request early and leave the request's own
    /// confirmation to be taken for something else.
    pub(crate) fn answered_by(&self, confirmation: &Frame) -> bool {
        let items = match confirmation {
            Frame::Push(items) | Frame::Array(items) => items,
            Frame::Attribute { frame, .. } => return self.answered_by(frame),
            _ => return false,
        };
        let word = |i: usize| match items.get(i) {
            Some(Frame::Bulk(b) | Frame::Simple(b)) => Some(b),
            _ => None,
        };
        if !word(0).is_some_and(|kind| kind.eq_ignore_ascii_case(self.command.as_bytes())) {
            return false;
        }
        // An unsubscription from nothing answers `UNSUBSCRIBE` of everything
        // (a nil name, or none).
        match word(1) {
            Some(name) => self.names.contains(name),
            None => true,
        }
    }
}

/// The request of one (un)subscription: one confirmation per name, or one
/// error for all. An empty list needs no request: it is answered at once.
/// Nobody waits for it yet (the actor's own: a resubscription, an undo).
pub(crate) fn request(kind: SubscriptionKind, subscribe: bool, names: &[Bytes]) -> Request {
    let mut bytes = bytes::BytesMut::new();
    if !names.is_empty() {
        let mut words: Vec<&[u8]> = Vec::with_capacity(names.len() + 1);
        words.push(kind.command(subscribe).as_bytes());
        words.extend(names.iter().map(|n| n.as_ref()));
        redwire_resp::encode_command(&mut bytes, words);
    }
    Request {
        bytes: bytes.freeze().into(),
        replies: names.len(),
        tx: ReplySender::none(),
        patience: Duration::ZERO,
        confirms: Some(Box::new(Awaited::new(kind, subscribe, names))),
        announce: None,
        fill: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn take(r: &mut Registry, kind: SubscriptionKind, subscribe: bool, names: &[&str]) -> Request {
        let (tx, _rx) = crate::connection::slot::channel();
        r.take(Subscription {
            kind,
            subscribe,
            names: names
                .iter()
                .map(|n| Bytes::copy_from_slice(n.as_bytes()))
                .collect(),
            tx,
            claim: Arc::default(),
        })
    }

    fn awaited(req: &Request) -> &Awaited {
        req.confirms.as_deref().unwrap()
    }

    #[test]
    fn the_record_follows_confirmations_and_spells_out_unsubscribe_all() {
        let mut r = Registry::default();
        let req = take(&mut r, SubscriptionKind::Pattern, true, &["a.*", "b.*"]);
        assert_eq!(req.replies, 2);
        assert!(r.is_empty(), "on record before it was confirmed");
        assert!(r.confirmed(awaited(&req), false).is_empty());
        assert!(r.contains(SubscriptionKind::Pattern, b"a.*"));
        assert!(!r.contains(SubscriptionKind::Channel, b"a.*"));
        let resub = r.resubscribe();
        assert_eq!(resub.len(), 1);
        assert!(resub[0].announce.is_some());
        // A resubscription's confirmation changes nothing.
        assert!(r.confirmed(awaited(&resub[0]), false).is_empty());
        let req = take(&mut r, SubscriptionKind::Pattern, false, &[]);
        assert_eq!(req.replies, 2, "every pattern, spelled out");
        assert!(r.is_empty(), "off the record when taken");
        assert!(r.resubscribe().is_empty());
        // Refused: nothing on record.
        let req = take(&mut r, SubscriptionKind::Channel, true, &["c"]);
        assert!(r.confirmed(awaited(&req), true).is_empty());
        assert!(r.is_empty());
    }

    #[test]
    fn a_subscription_given_up_is_not_recorded_and_is_undone() {
        let mut r = Registry::default();
        let kept = take(&mut r, SubscriptionKind::Channel, true, &["kept"]);
        r.confirmed(awaited(&kept), false);
        let req = take(&mut r, SubscriptionKind::Channel, true, &["kept", "lost"]);
        assert!(awaited(&req).wants(SubscriptionKind::Channel, b"lost"));
        assert!(!awaited(&req).wants(SubscriptionKind::Pattern, b"lost"));
        assert!(awaited(&req).claim.as_ref().unwrap().abandon());
        assert!(!awaited(&req).wants(SubscriptionKind::Channel, b"lost"));
        let undo = r.confirmed(awaited(&req), false);
        assert_eq!(undo, ["lost"], "what was on record before stays");
        assert_eq!(r.names(SubscriptionKind::Channel), ["kept"]);
        // Abandoned and refused: nothing to undo.
        let req = take(&mut r, SubscriptionKind::Channel, true, &["x"]);
        awaited(&req).claim.as_ref().unwrap().abandon();
        assert!(r.confirmed(awaited(&req), true).is_empty());
        // Settled first: the caller cannot give it up any more.
        let req = take(&mut r, SubscriptionKind::Channel, true, &["late"]);
        r.confirmed(awaited(&req), false);
        assert!(!awaited(&req).claim.as_ref().unwrap().abandon());
        assert!(r.contains(SubscriptionKind::Channel, b"late"));
        // An unsubscription confirmed removes again what a subscription
        // confirmed between its taking and its confirmation.
        let again = take(&mut r, SubscriptionKind::Channel, true, &["kept"]);
        let unsub = take(&mut r, SubscriptionKind::Channel, false, &["kept"]);
        assert!(awaited(&unsub).unsubscribes());
        assert!(r.confirmed(awaited(&again), false).is_empty());
        assert!(r.contains(SubscriptionKind::Channel, b"kept"));
        r.confirmed(awaited(&unsub), false);
        assert_eq!(r.names(SubscriptionKind::Channel), ["late"]);
    }

    fn push(words: &[&str]) -> Frame {
        Frame::Push(
            words
                .iter()
                .map(|w| Frame::Bulk(Bytes::copy_from_slice(w.as_bytes())))
                .collect(),
        )
    }

    #[test]
    fn a_confirmation_answers_only_its_own_command_and_names() {
        let names: Vec<Bytes> = (0..10_000).map(|i| Bytes::from(format!("c{i}"))).collect();
        let awaited = Awaited::new(SubscriptionKind::Shard, true, &names);
        assert!(awaited.answered_by(&push(&["ssubscribe", "c9999"])));
        assert!(awaited.answered_by(&push(&["SSUBSCRIBE", "c0"])));
        assert!(
            !awaited.answered_by(&push(&["ssubscribe", "other"])),
            "not one of its names"
        );
        assert!(
            !awaited.answered_by(&push(&["sunsubscribe", "c1"])),
            "not its command"
        );
        assert!(!awaited.answered_by(&Frame::Integer(1)));
        let nothing = Frame::Push(vec![
            Frame::Bulk(Bytes::from_static(b"unsubscribe")),
            Frame::Null,
        ]);
        assert!(
            Awaited::new(SubscriptionKind::Channel, false, &[]).answered_by(&nothing),
            "from nothing"
        );
        let resp2 = Frame::Array(vec![
            Frame::Bulk(Bytes::from_static(b"ssubscribe")),
            Frame::Bulk(Bytes::from_static(b"c5")),
            Frame::Integer(1),
        ]);
        assert!(awaited.answered_by(&resp2));
    }
}
