//! Ready-made answers to the commands every client sends while connecting, so a
//! fake server's script only has to say what is special about its test.

use super::script::{Action, Request};
use bytes::Bytes;
use redwire_resp::Frame;

/// A handler that answers the connection handshake like a Redis 7 server that
/// speaks RESP3, and passes every other command to `rest`.
///
/// - `HELLO 3` gets a RESP3 map (`server`, `version`, `proto`, `id`, `mode`,
///   `role`, `modules`); `HELLO` or `HELLO 2` the same as a flat RESP2 array;
///   any other version `-NOPROTO`. Credentials in HELLO are accepted as given
///   (they are in [`FakeServer::received`](super::FakeServer::received)).
/// - `PING` → `+PONG` (or its argument as a bulk string), `AUTH`, `SELECT` and
///   `CLIENT ...` → `+OK` (`CLIENT ID` → the connection's id), `QUIT` → `+OK`
///   and close.
///
/// ```
/// use redwire_testkit::{resp3_handshake, Action, Request};
///
/// let handler = resp3_handshake(|req: &Request| match req.name.as_str() {
///     "GET" => vec![Action::send("$3\r\nbar\r\n")],
///     _ => vec![Action::error("ERR not in this script")],
/// });
/// assert!(matches!(handler(&Request::new(0, "PING", Vec::<&str>::new()))[..], [Action::Frame(_)]));
/// assert!(matches!(handler(&Request::new(0, "GET", ["foo"]))[..], [Action::Send(_)]));
/// ```
pub fn resp3_handshake<F>(rest: F) -> impl Fn(&Request) -> Vec<Action> + Send + Sync + 'static
where
    F: Fn(&Request) -> Vec<Action> + Send + Sync + 'static,
{
    move |req: &Request| {
        if req.is("HELLO") {
            return hello(req);
        }
        common(req).unwrap_or_else(|| rest(req))
    }
}

/// A handler that answers the connection handshake like a RESP2-only server
/// (Redis before 6): `HELLO` is an unknown command, `AUTH`, `SELECT` and
/// `CLIENT ...` get `+OK`, `PING` gets `+PONG`; every other command goes to
/// `rest`.
///
/// ```
/// use redwire_testkit::{resp2_handshake, Action, Frame, Request};
///
/// let handler = resp2_handshake(|_req: &Request| vec![Action::ok()]);
/// let answer = handler(&Request::new(0, "HELLO", ["3"]));
/// let [Action::Frame(Frame::Error(message))] = &answer[..] else { panic!() };
/// assert!(message.starts_with(b"ERR unknown command 'HELLO'"));
/// ```
pub fn resp2_handshake<F>(rest: F) -> impl Fn(&Request) -> Vec<Action> + Send + Sync + 'static
where
    F: Fn(&Request) -> Vec<Action> + Send + Sync + 'static,
{
    move |req: &Request| {
        if req.is("HELLO") {
            return vec![unknown_command(req)];
        }
        common(req).unwrap_or_else(|| rest(req))
    }
}

fn common(req: &Request) -> Option<Vec<Action>> {
    let answer = match req.name.as_str() {
        "PING" => match req.args.first() {
            Some(arg) => vec![Action::Frame(Frame::Bulk(arg.clone()))],
            None => vec![Action::Frame(simple("PONG"))],
        },
        "AUTH" | "SELECT" => vec![Action::ok()],
        "CLIENT" if req.arg_str(0).is_some_and(|s| s.eq_ignore_ascii_case("ID")) => {
            vec![Action::Frame(Frame::Integer(client_id(req)))]
        }
        "CLIENT" => vec![Action::ok()],
        "QUIT" => vec![Action::ok(), Action::Close],
        _ => return None,
    };
    Some(answer)
}

fn hello(req: &Request) -> Vec<Action> {
    let version = req.arg_str(0).unwrap_or("2");
    let proto = match version {
        "2" => 2,
        "3" => 3,
        _ => return vec![Action::error("NOPROTO unsupported protocol version")],
    };
    let fields = vec![
        (bulk("server"), bulk("redis")),
        (bulk("version"), bulk("7.0.15")),
        (bulk("proto"), Frame::Integer(proto)),
        (bulk("id"), Frame::Integer(client_id(req))),
        (bulk("mode"), bulk("standalone")),
        (bulk("role"), bulk("master")),
        (bulk("modules"), Frame::Array(Vec::new())),
    ];
    let reply = if proto == 3 {
        Frame::Map(fields)
    } else {
        Frame::Array(fields.into_iter().flat_map(|(k, v)| [k, v]).collect())
    };
    vec![Action::Frame(reply)]
}

fn unknown_command(req: &Request) -> Action {
    let mut message = format!(
        "ERR unknown command '{}', with args beginning with: ",
        req.name
    );
    for arg in &req.args {
        message.push_str(&format!("'{}' ", String::from_utf8_lossy(arg)));
    }
    Action::error(&message)
}

/// Redis numbers clients from 1.
fn client_id(req: &Request) -> i64 {
    req.connection as i64 + 1
}

fn bulk(text: &'static str) -> Frame {
    Frame::Bulk(Bytes::from_static(text.as_bytes()))
}

fn simple(text: &'static str) -> Frame {
    Frame::Simple(Bytes::from_static(text.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn only_frame(actions: Vec<Action>) -> Frame {
        match &actions[..] {
            [Action::Frame(f)] => f.clone(),
            other => panic!("expected one frame, got {other:?}"),
        }
    }

    fn unreachable_rest(req: &Request) -> Vec<Action> {
        panic!("{} should have been answered by the handshake", req.name)
    }

    #[test]
    fn hello_3_is_a_map_that_says_proto_3() {
        let handler = resp3_handshake(unreachable_rest);
        let Frame::Map(fields) = only_frame(handler(&Request::new(4, "HELLO", ["3"]))) else {
            panic!("HELLO 3 must answer a map");
        };
        assert!(fields.contains(&(bulk("proto"), Frame::Integer(3))));
        assert!(fields.contains(&(bulk("id"), Frame::Integer(5))));
    }

    #[test]
    fn hello_2_is_a_flat_array() {
        let handler = resp3_handshake(unreachable_rest);
        let Frame::Array(items) = only_frame(handler(&Request::new(0, "HELLO", ["2"]))) else {
            panic!("HELLO 2 must answer an array");
        };
        assert_eq!(items.len(), 14);
        assert_eq!(items[4..6], [bulk("proto"), Frame::Integer(2)]);
    }

    #[test]
    fn a_resp2_server_does_not_know_hello() {
        let handler = resp2_handshake(unreachable_rest);
        let frame = only_frame(handler(&Request::new(0, "HELLO", ["3", "AUTH", "u", "p"])));
        let Frame::Error(message) = frame else {
            panic!("HELLO must fail on a RESP2 server");
        };
        assert!(message.starts_with(b"ERR unknown command 'HELLO'"));
    }

    #[test]
    fn other_commands_reach_the_script() {
        let handler = resp2_handshake(|req: &Request| vec![Action::send(req.name.as_bytes())]);
        let answer = handler(&Request::new(0, "get", ["k"]));
        assert!(matches!(&answer[..], [Action::Send(b)] if &b[..] == b"GET"));
        assert_eq!(
            only_frame(handler(&Request::new(0, "PING", ["x"]))),
            Frame::Bulk("x".into())
        );
        assert_eq!(
            only_frame(handler(&Request::new(0, "SELECT", ["2"]))),
            simple("OK")
        );
    }
}
