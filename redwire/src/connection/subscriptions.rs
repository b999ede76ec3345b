//! A subscriber's subscriptions, kept by its actor: the one record of what
//! the connection is subscribed to, from which every reconnect subscribes
//! again, and which the message stream reads to drop what arrived for a
//! channel already unsubscribed.
//!
//! The record changes when the actor takes a request, before it is written:
//! a subscription is wanted from then on (and made again after any drop), an
//! unsubscription is done from then on. (Un)subscribing is idempotent, so a
//! request cut off by a drop is simply written again after the reconnect,
//! never failed as "may have executed".

use super::state::Event;
use super::{ReplySender, Request};
use bytes::Bytes;
use redwire_resp::Frame;
use std::collections::{BTreeSet, HashSet};
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

/// A (un)subscription asked for by a handle.
pub(crate) struct Subscription {
    pub(crate) kind: SubscriptionKind,
    pub(crate) subscribe: bool,
    pub(crate) names: Vec<Bytes>,
    pub(crate) tx: ReplySender,
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

    /// Takes a handle's (un)subscription into the record and makes its
    /// request. Unsubscribing from nothing (no names) means from everything
    /// of that kind: the names are spelled out, so that the replies can be
    /// counted.
    pub(crate) fn take(&mut self, sub: Subscription) -> Request {
        let set = &mut self.sets[sub.kind.index()];
        let names = if sub.subscribe {
            set.extend(sub.names.iter().cloned());
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
        request.tx = sub.tx;
        request
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

/// What a subscription request waits for: confirmations of its command,
/// each for one of its names. Made once with the request, so that matching
/// a confirmation is one lookup: parsing the request's bytes again for every
/// confirmation made a `SUBSCRIBE` of 10,000 channels cost 10,000 parses of
/// 10,000 names.
#[derive(Debug)]
pub(crate) struct Awaited {
    command: &'static str,
    names: HashSet<Bytes>,
}

impl Awaited {
    fn new(command: &'static str, names: &[Bytes]) -> Awaited {
        Awaited {
            command,
            names: names.iter().cloned().collect(),
        }
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
fn request(kind: SubscriptionKind, subscribe: bool, names: &[Bytes]) -> Request {
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
        confirms: Some(Box::new(Awaited::new(kind.command(subscribe), names))),
        announce: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_record_follows_what_was_asked_and_spells_out_unsubscribe_all() {
        let mut r = Registry::default();
        let (tx, _rx) = crate::connection::slot::channel();
        let req = r.take(Subscription {
            kind: SubscriptionKind::Pattern,
            subscribe: true,
            names: vec!["a.*".into(), "b.*".into()],
            tx,
        });
        assert_eq!(req.replies, 2);
        assert!(r.contains(SubscriptionKind::Pattern, b"a.*"));
        assert!(!r.contains(SubscriptionKind::Channel, b"a.*"));
        let resub = r.resubscribe();
        assert_eq!(resub.len(), 1);
        assert!(resub[0].announce.is_some());
        let (tx, _rx) = crate::connection::slot::channel();
        let req = r.take(Subscription {
            kind: SubscriptionKind::Pattern,
            subscribe: false,
            names: vec![],
            tx,
        });
        assert_eq!(req.replies, 2, "every pattern, spelled out");
        assert!(r.is_empty());
        assert!(r.resubscribe().is_empty());
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
        let awaited = Awaited::new("SSUBSCRIBE", &names);
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
            Awaited::new("UNSUBSCRIBE", &[]).answered_by(&nothing),
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
