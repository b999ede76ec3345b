//! The one table of commands that a shared (multiplexed) connection refuses,
//! and why. (This module holds no public items: it is the documentation of
//! the rule, next to the code that applies it.)
//!
//! A shared [`Client`](crate::Client) works because every request gets exactly
//! one reply, in order, and no request changes the connection under the other
//! callers. A command that breaks either rule would hand replies to the wrong
//! callers or silently change what their commands do, so it is refused before
//! anything is written, with an error that says where it belongs:
//!
//! | command | why it cannot share a connection | where it belongs |
//! |---|---|---|
//! | an empty command | Redis sends no reply at all | nowhere |
//! | `SUBSCRIBE` `PSUBSCRIBE` `SSUBSCRIBE` and their `UN…` forms | replies come as pushes, or several per request | a dedicated connection |
//! | `MONITOR` `SYNC` `PSYNC` `REPLCONF` | the connection becomes a stream | a dedicated connection |
//! | `CLIENT REPLY` | suppresses replies: later callers would get each other's | nowhere |
//! | `MULTI` `EXEC` `DISCARD` | other callers' commands would join the transaction | [`Pipeline::atomic`](crate::Pipeline::atomic) |
//! | `WATCH` `UNWATCH` | watches are per connection, shared by every caller | a dedicated connection |
//! | `SELECT` | changes the database for every caller, undone by a reconnect | [`ConfigBuilder::database`](crate::ConfigBuilder::database) |
//! | `HELLO` `AUTH` | change protocol or user for every caller, undone by a reconnect | the [`Config`](crate::Config) |
//! | `RESET` `QUIT` | reset or close the connection of every caller | drop the client or [`Client::close`](crate::Client::close) |
//! | `CLIENT SETNAME` `CLIENT SETINFO` | connection identity, undone by a reconnect | [`ConfigBuilder::client_name`](crate::ConfigBuilder::client_name) |
//! | `CLIENT TRACKING` `CLIENT CACHING` `CLIENT NO-EVICT` `CLIENT NO-TOUCH` `CLIENT CAPA` `READONLY` `READWRITE` | per-connection modes for every caller, undone by a reconnect | a dedicated connection |
//! | `ASKING` | applies to whatever command comes next, possibly another caller's | in one [`Pipeline`](crate::Pipeline) with its command |
//! | `BLPOP` `BRPOP` `BLMOVE` `BLMPOP` `BRPOPLPUSH` `BZPOPMIN` `BZPOPMAX` `BZMPOP` `WAIT` `WAITAOF`, `XREAD`/`XREADGROUP` with `BLOCK` | it holds every caller behind it until it returns, and a caller that gives up cannot stop it: the element it pops would be lost | a [`Connection`](crate::Connection) (or one from the pool) |
//!
//! Everything else is allowed.
//!
//! A dedicated [`Connection`](crate::Connection) has one user, so it allows
//! the transaction, `WATCH`, `SELECT`, mode and identity commands and the
//! blocking ones; it still refuses what breaks one-reply-per-request (an empty
//! command, the subscriptions, `MONITOR`, `CLIENT REPLY`) and what the
//! configuration owns (`HELLO`, `AUTH`, `RESET`, `QUIT`). A blocking command
//! there gets its own patience: the response timeout and the
//! `command_timeout` are counted from the end of its timeout (neither
//! applies for timeout 0), and if its caller gives up, the connection is
//! closed at once, so that the server unblocks it without popping anything.
//!
//! The check is made once per command while it is built (its name, and the
//! subcommand for `CLIENT`), so sending costs one comparison. Pipelines are
//! checked entry by entry.

/// What the rules say about a command, decided from its name (and subcommand).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum Rule {
    /// No name yet: an empty command.
    #[default]
    Empty,
    /// Fine on a shared connection.
    Shared,
    /// `CLIENT`: the subcommand decides.
    Client,
    /// Only inside a non-atomic pipeline, right before the command it is for.
    PipelineOnly,
    /// `XREAD`/`XREADGROUP`: blocking (so refused on a shared connection)
    /// only with a `BLOCK` argument.
    StreamRead,
    /// Refused on a shared connection.
    Refused(Why),
}

/// Why a command cannot share a connection, which also says where it belongs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Why {
    NoReply,
    Subscription,
    Stream,
    SuppressesReplies,
    Transaction,
    Watch,
    Select,
    Credentials,
    Reset,
    Identity,
    Mode,
    Asking,
    Blocking,
}

impl Why {
    /// The sentence after "X cannot be sent on a shared client: ".
    pub(crate) fn explain(self) -> &'static str {
        match self {
            Why::NoReply => "an empty command gets no reply from Redis",
            Why::Subscription => {
                "its replies are pushes, or several per request; use a dedicated connection for pub/sub"
            }
            Why::Stream => {
                "it turns the connection into a stream of messages; use a dedicated connection"
            }
            Why::SuppressesReplies => {
                "it suppresses replies, so other callers would receive each other's; it is never allowed"
            }
            Why::Transaction => {
                "other callers' commands would run inside the transaction; use Pipeline::atomic()"
            }
            Why::Watch => {
                "watched keys belong to the connection, which every caller shares; use a dedicated connection"
            }
            Why::Select => {
                "it would change the database of every caller and a reconnect would undo it; \
                 set the database in the Config (ConfigBuilder::database or /N in the URL)"
            }
            Why::Credentials => {
                "protocol and credentials are set by the Config on every connect \
                 (ConfigBuilder::protocol, ::username, ::password or the URL)"
            }
            Why::Reset => {
                "it would reset or close the connection of every caller; drop the client or call Client::close"
            }
            Why::Identity => {
                "the connection's name is set on every connect from the Config (ConfigBuilder::client_name)"
            }
            Why::Mode => {
                "it changes the connection's mode for every caller and a reconnect would undo it; \
                 use a dedicated connection"
            }
            Why::Asking => {
                "it applies to whatever command comes next on the connection; \
                 send it in one Pipeline right before its command"
            }
            Why::Blocking => {
                "it blocks, holding every caller behind it, and if its caller gave up it would \
                 still take data for nobody; run it on a dedicated Connection (Connection::connect \
                 or Pool::get)"
            }
        }
    }

    /// True when a dedicated connection (one user) may carry the command.
    pub(crate) fn allowed_on_dedicated(self) -> bool {
        matches!(
            self,
            Why::Transaction | Why::Watch | Why::Select | Why::Identity | Why::Mode | Why::Blocking
        )
    }
}

/// Longest command name in the table (`PUNSUBSCRIBE`, `SUNSUBSCRIBE`).
const LONGEST: usize = 12;

/// Shortest command name in the table (`SYNC`, `EXEC`, `AUTH`, `QUIT`): the
/// busiest commands (`GET`, `SET`) are shorter and cost one comparison.
const SHORTEST: usize = 4;

/// The rule for a command name.
#[inline]
pub(crate) fn for_name(name: &[u8]) -> Rule {
    if name.len() < SHORTEST || name.len() > LONGEST {
        return Rule::Shared;
    }
    look_up(name)
}

/// The table itself, for names of a length that appears in it.
#[inline(never)]
fn look_up(name: &[u8]) -> Rule {
    let Some(upper) = uppercase::<LONGEST>(name) else {
        return Rule::Shared;
    };
    let why = match &upper[..name.len()] {
        b"SUBSCRIBE" | b"PSUBSCRIBE" | b"SSUBSCRIBE" | b"UNSUBSCRIBE" | b"PUNSUBSCRIBE"
        | b"SUNSUBSCRIBE" => Why::Subscription,
        b"MONITOR" | b"SYNC" | b"PSYNC" | b"REPLCONF" => Why::Stream,
        b"MULTI" | b"EXEC" | b"DISCARD" => Why::Transaction,
        b"WATCH" | b"UNWATCH" => Why::Watch,
        b"SELECT" => Why::Select,
        b"HELLO" | b"AUTH" => Why::Credentials,
        b"RESET" | b"QUIT" => Why::Reset,
        b"READONLY" | b"READWRITE" => Why::Mode,
        b"BLPOP" | b"BRPOP" | b"BLMOVE" | b"BLMPOP" | b"BRPOPLPUSH" | b"BZPOPMIN" | b"BZPOPMAX"
        | b"BZMPOP" | b"WAIT" | b"WAITAOF" => Why::Blocking,
        b"XREAD" | b"XREADGROUP" => return Rule::StreamRead,
        b"ASKING" => return Rule::PipelineOnly,
        b"CLIENT" => return Rule::Client,
        _ => return Rule::Shared,
    };
    Rule::Refused(why)
}

/// The rule for `CLIENT <subcommand>`.
pub(crate) fn for_client(sub: &[u8]) -> Rule {
    let Some(upper) = uppercase::<8>(sub) else {
        return Rule::Shared;
    };
    let why = match &upper[..sub.len()] {
        b"REPLY" => Why::SuppressesReplies,
        b"SETNAME" | b"SETINFO" => Why::Identity,
        b"TRACKING" | b"CACHING" | b"NO-EVICT" | b"NO-TOUCH" | b"CAPA" => Why::Mode,
        _ => return Rule::Shared,
    };
    Rule::Refused(why)
}

/// What a command does to the session of a dedicated connection: state that
/// outlives the command and that a pool must clear before the connection's
/// next user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Effect {
    None,
    /// `MULTI`: a transaction is open.
    Multi,
    /// `EXEC` or `DISCARD`: the transaction and the watches are over.
    EndTransaction,
    /// `WATCH`: keys are watched.
    Watch,
    /// `UNWATCH`.
    Unwatch,
    /// `SELECT n`.
    Select(i64),
    /// A mode or identity (`CLIENT TRACKING`, `READONLY`, `CLIENT SETNAME`…)
    /// that no command undoes simply: the connection is not reused.
    Taint,
}

/// The session effect of a command allowed on a dedicated connection only,
/// from its name and (for `SELECT`) its argument.
pub(crate) fn effect<'a>(why: Why, mut args: impl Iterator<Item = &'a [u8]>) -> Effect {
    let Some(name) = args.next() else {
        return Effect::None;
    };
    let upper = uppercase::<LONGEST>(name);
    let name = upper.as_ref().map_or(&b""[..], |u| &u[..name.len()]);
    match (why, name) {
        (Why::Transaction, b"MULTI") => Effect::Multi,
        (Why::Transaction, _) => Effect::EndTransaction,
        (Why::Watch, b"WATCH") => Effect::Watch,
        (Why::Watch, _) => Effect::Unwatch,
        (Why::Select, _) => args
            .next()
            .and_then(|db| std::str::from_utf8(db).ok()?.parse().ok())
            .map_or(Effect::Taint, Effect::Select),
        (Why::Identity | Why::Mode, _) => Effect::Taint,
        _ => Effect::None,
    }
}

/// How long a blocking command may wait on the server (`Some(None)`: for
/// ever, timeout 0), from its arguments (the name first); `None` when the
/// command does not block. Seconds for the list and sorted set pops,
/// milliseconds for `WAIT`, `WAITAOF` and `XREAD … BLOCK`.
pub(crate) fn blocking_timeout<'a>(
    mut args: impl DoubleEndedIterator<Item = &'a [u8]> + Clone,
) -> Option<Option<std::time::Duration>> {
    let raw = args.next()?;
    let upper = uppercase::<LONGEST>(raw)?;
    let (text, millis) = match &upper[..raw.len()] {
        b"BLPOP" | b"BRPOP" | b"BLMOVE" | b"BRPOPLPUSH" | b"BZPOPMIN" | b"BZPOPMAX" => {
            (args.next_back()?, false)
        }
        b"BLMPOP" | b"BZMPOP" => (args.next()?, false),
        b"WAIT" | b"WAITAOF" => (args.next_back()?, true),
        b"XREAD" | b"XREADGROUP" => {
            let mut rest = args.skip_while(|a| !a.eq_ignore_ascii_case(b"BLOCK"));
            rest.next()?;
            (rest.next()?, true)
        }
        _ => return None,
    };
    let value: f64 = std::str::from_utf8(text).ok()?.parse().ok()?;
    if value.is_nan() || value <= 0.0 || value.is_infinite() {
        return Some(None);
    }
    let seconds = if millis { value / 1000.0 } else { value };
    Some(std::time::Duration::try_from_secs_f64(seconds).ok())
}

/// `text` in upper case in a fixed-size buffer, or `None` when it is longer.
#[inline]
fn uppercase<const N: usize>(text: &[u8]) -> Option<[u8; N]> {
    if text.len() > N {
        return None;
    }
    let mut out = [0u8; N];
    for (o, b) in out.iter_mut().zip(text) {
        *o = b.to_ascii_uppercase();
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_matched_without_case_and_exactly() {
        assert_eq!(for_name(b"get"), Rule::Shared);
        assert_eq!(for_name(b"multi"), Rule::Refused(Why::Transaction));
        assert_eq!(for_name(b"MuLtI"), Rule::Refused(Why::Transaction));
        assert_eq!(for_name(b"MULTIX"), Rule::Shared);
        assert_eq!(for_name(b"MULT"), Rule::Shared);
        assert_eq!(for_name(b"sunsubscribe"), Rule::Refused(Why::Subscription));
        assert_eq!(for_name(b"a-name-longer-than-the-table"), Rule::Shared);
        assert_eq!(for_name(b""), Rule::Shared);
        assert_eq!(for_name(b"set"), Rule::Shared);
        assert_eq!(for_name(b"quit"), Rule::Refused(Why::Reset));
        assert_eq!(for_name(b"punsubscribe"), Rule::Refused(Why::Subscription));
        assert_eq!(for_name(b"client"), Rule::Client);
        assert_eq!(for_name(b"asking"), Rule::PipelineOnly);
        assert_eq!(for_client(b"reply"), Rule::Refused(Why::SuppressesReplies));
        assert_eq!(for_client(b"no-touch"), Rule::Refused(Why::Mode));
        assert_eq!(for_client(b"list"), Rule::Shared);
        assert_eq!(for_client(b"getname"), Rule::Shared);
        assert_eq!(for_client(b"trackinginfo"), Rule::Shared);
        assert_eq!(for_name(b"blpop"), Rule::Refused(Why::Blocking));
        assert_eq!(for_name(b"WAIT"), Rule::Refused(Why::Blocking));
        assert_eq!(for_name(b"xreadgroup"), Rule::StreamRead);
        assert_eq!(for_name(b"xrange"), Rule::Shared);
    }

    #[test]
    fn every_refused_group_is_named_and_explained() {
        assert_eq!(for_name(b"monitor"), Rule::Refused(Why::Stream));
        assert_eq!(for_name(b"SYNC"), Rule::Refused(Why::Stream));
        assert_eq!(for_name(b"select"), Rule::Refused(Why::Select));
        assert_eq!(for_name(b"HELLO"), Rule::Refused(Why::Credentials));
        assert_eq!(for_name(b"auth"), Rule::Refused(Why::Credentials));
        assert_eq!(for_name(b"READONLY"), Rule::Refused(Why::Mode));
        assert_eq!(for_name(b"watch"), Rule::Refused(Why::Watch));
        assert_eq!(for_client(b"setname"), Rule::Refused(Why::Identity));
        assert_eq!(for_client(b"tracking"), Rule::Refused(Why::Mode));
        let all = [
            Why::NoReply,
            Why::Subscription,
            Why::Stream,
            Why::SuppressesReplies,
            Why::Transaction,
            Why::Watch,
            Why::Select,
            Why::Credentials,
            Why::Reset,
            Why::Identity,
            Why::Mode,
            Why::Asking,
            Why::Blocking,
        ];
        let explained: std::collections::HashSet<&str> = all.iter().map(|w| w.explain()).collect();
        assert_eq!(
            explained.len(),
            all.len(),
            "each reason has its own explanation"
        );
        assert!(Why::Blocking.explain().contains("Connection"));
        let dedicated: Vec<Why> = all
            .into_iter()
            .filter(|w| w.allowed_on_dedicated())
            .collect();
        assert_eq!(
            dedicated,
            [
                Why::Transaction,
                Why::Watch,
                Why::Select,
                Why::Identity,
                Why::Mode,
                Why::Blocking
            ]
        );
    }

    #[test]
    fn session_effects_follow_the_command() {
        let e = |why: Why, words: &[&str]| effect(why, words.iter().map(|w| w.as_bytes()));
        assert_eq!(e(Why::Transaction, &["multi"]), Effect::Multi);
        assert_eq!(e(Why::Transaction, &["EXEC"]), Effect::EndTransaction);
        assert_eq!(e(Why::Transaction, &["DISCARD"]), Effect::EndTransaction);
        assert_eq!(e(Why::Watch, &["WATCH", "k"]), Effect::Watch);
        assert_eq!(e(Why::Watch, &["unwatch"]), Effect::Unwatch);
        assert_eq!(e(Why::Select, &["SELECT", "3"]), Effect::Select(3));
        assert_eq!(e(Why::Select, &["SELECT", "x"]), Effect::Taint);
        assert_eq!(e(Why::Identity, &["CLIENT", "SETNAME", "n"]), Effect::Taint);
        assert_eq!(e(Why::Mode, &["READONLY"]), Effect::Taint);
        assert_eq!(e(Why::Blocking, &["BLPOP", "q", "0"]), Effect::None);
        assert_eq!(e(Why::Transaction, &[]), Effect::None);
    }

    #[test]
    fn blocking_timeouts_are_read_where_each_command_puts_them() {
        use std::time::Duration;
        let t = |args: &[&str]| blocking_timeout(args.iter().map(|a| a.as_bytes()));
        assert_eq!(
            t(&["BLPOP", "a", "b", "1.5"]),
            Some(Some(Duration::from_millis(1500)))
        );
        assert_eq!(t(&["blmove", "a", "b", "LEFT", "RIGHT", "0"]), Some(None));
        assert_eq!(
            t(&["BZMPOP", "2", "1", "z", "MIN"]),
            Some(Some(Duration::from_secs(2)))
        );
        assert_eq!(
            t(&["WAIT", "1", "250"]),
            Some(Some(Duration::from_millis(250)))
        );
        assert_eq!(
            t(&["XREAD", "COUNT", "2", "block", "100", "STREAMS", "s", "$"]),
            Some(Some(Duration::from_millis(100)))
        );
        assert_eq!(t(&["XREAD", "STREAMS", "s", "$"]), None);
        assert_eq!(t(&["GET", "k"]), None);
        assert_eq!(t(&["BLPOP", "k", "nonsense"]), None);
    }
}
