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
//!
//! Everything else is allowed, blocking commands included (they hold up the
//! callers behind them, and must finish within the response timeout).
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
        }
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
    }
}
