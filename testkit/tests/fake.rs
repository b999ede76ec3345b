//! FakeServer: scripted replies byte for byte, closes mid-frame, resets, hangs,
//! sleeps, unasked-for bytes, the request log and the handshake helpers.

mod support;

use redwire_testkit::{Action, FakeServer, Frame, Request};
use std::io::{ErrorKind, Read};
use std::time::{Duration, Instant};
use support::{bulk, is_timeout, simple, wait_until, Client};

const WAIT: Duration = Duration::from_secs(5);

#[test]
fn scripted_replies_arrive_byte_for_byte() {
    let fake = FakeServer::start(|req| match req.name.as_str() {
        "GET" => vec![Action::send("$3\r\nbar\r\n")],
        // Not valid RESP at all: it must arrive untouched anyway.
        "BAD" => vec![Action::send("$-5\r\n?!\r\n")],
        "INCR" => vec![Action::Frame(Frame::Integer(42))],
        _ => vec![Action::error("ERR unexpected")],
    })
    .unwrap();
    assert_eq!(fake.url(), format!("redis://{}", fake.addr()));
    let mut client = Client::connect(fake.addr());
    // Pipelined: answers come back in order, each exactly as scripted.
    client.send(&["GET", "foo"]);
    client.send(&["BAD"]);
    client.send(&["INCR", "n"]);
    client.send(&["NOPE"]);
    let expected = b"$3\r\nbar\r\n$-5\r\n?!\r\n:42\r\n-ERR unexpected\r\n";
    assert_eq!(client.read_raw(expected.len()), expected);
}

#[test]
fn close_mid_frame_sends_the_half_frame_then_end_of_stream() {
    let fake =
        FakeServer::start(|_: &Request| vec![Action::send("$10\r\nabc"), Action::Close]).unwrap();
    let mut client = Client::connect(fake.addr());
    client.send(&["GET", "k"]);
    let mut got = Vec::new();
    client.stream.read_to_end(&mut got).unwrap();
    assert_eq!(got, b"$10\r\nabc");
    drop(client);
    assert!(wait_until(WAIT, || fake.connections_open() == 0));
}

#[test]
fn reset_closes_with_a_tcp_reset() {
    let fake = FakeServer::start(|_: &Request| vec![Action::Reset]).unwrap();
    let mut client = Client::connect(fake.addr());
    client.send(&["PING"]);
    let err = client.stream.read(&mut [0u8; 16]).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ConnectionReset, "{err}");
}

#[test]
fn hang_never_answers_again_but_still_logs() {
    let fake = FakeServer::start(|req: &Request| match req.name.as_str() {
        "STALL" => vec![Action::Hang],
        _ => vec![Action::send("+PONG\r\n")],
    })
    .unwrap();
    let mut client = Client::connect(fake.addr());
    assert_eq!(client.call(&["PING"]), simple("PONG"));
    client.send(&["STALL"]);
    client.send(&["PING"]);
    client.set_read_timeout(Duration::from_millis(300));
    let err = client.read_frame().unwrap_err();
    assert!(is_timeout(&err), "{err}");
    assert!(wait_until(WAIT, || fake.received().len() == 3));
    assert_eq!(fake.connections_open(), 1);

    // Other connections are not affected.
    assert_eq!(Client::connect(fake.addr()).call(&["PING"]), simple("PONG"));
}

#[test]
fn a_silent_server_accepts_and_never_answers() {
    let fake = FakeServer::silent().unwrap();
    let mut client = Client::connect(fake.addr());
    client.send(&["PING"]);
    client.set_read_timeout(Duration::from_millis(300));
    let err = client.read_frame().unwrap_err();
    assert!(is_timeout(&err), "{err}");
    assert_eq!(
        fake.received(),
        vec![Request::new(0, "PING", Vec::<&str>::new())]
    );
}

#[test]
fn sleep_delays_the_reply() {
    let pause = Duration::from_millis(150);
    let fake =
        FakeServer::start(move |_: &Request| vec![Action::Sleep(pause), Action::ok()]).unwrap();
    let mut client = Client::connect(fake.addr());
    let started = Instant::now();
    assert_eq!(client.call(&["SET", "k", "v"]), simple("OK"));
    assert!(started.elapsed() >= pause);
}

#[test]
fn send_all_reaches_every_open_connection() {
    let fake = FakeServer::start(|_: &Request| vec![Action::ok()]).unwrap();
    let mut a = Client::connect(fake.addr());
    let mut b = Client::connect(fake.addr());
    assert!(wait_until(WAIT, || fake.connections_open() == 2));

    let push = b">2\r\n$7\r\nmessage\r\n$2\r\nhi\r\n";
    assert_eq!(fake.send_all(push), 2);
    assert_eq!(a.read_raw(push.len()), push);
    assert_eq!(b.read_raw(push.len()), push);
    // Replies still follow as usual.
    assert_eq!(a.call(&["SET", "k", "v"]), simple("OK"));
}

#[test]
fn received_logs_every_command_with_its_connection() {
    let fake = FakeServer::start(|_: &Request| vec![Action::ok()]).unwrap();
    let mut first = Client::connect(fake.addr());
    assert_eq!(first.call(&["set", "k", "v"]), simple("OK"));
    let mut second = Client::connect(fake.addr());
    assert_eq!(second.call(&["GET", "k"]), simple("OK"));
    assert_eq!(first.call(&["DEL", "k"]), simple("OK"));

    assert_eq!(
        fake.received(),
        vec![
            Request::new(0, "SET", ["k", "v"]),
            Request::new(1, "GET", ["k"]),
            Request::new(0, "DEL", ["k"]),
        ]
    );
    assert_eq!(fake.connections_total(), 2);
}

#[test]
fn garbage_gets_a_protocol_error_and_a_close() {
    let fake = FakeServer::start(|_: &Request| vec![Action::ok()]).unwrap();
    let mut client = Client::connect(fake.addr());
    std::io::Write::write_all(&mut client.stream, b"?what\r\n").unwrap();
    let mut got = Vec::new();
    client.stream.read_to_end(&mut got).unwrap();
    assert!(got.starts_with(b"-ERR Protocol error"), "{got:?}");
    assert!(fake.received().is_empty());
}

#[test]
fn a_resp3_fake_answers_the_handshake_and_leaves_the_rest_to_the_script() {
    let fake = FakeServer::resp3(|req: &Request| match req.name.as_str() {
        "GET" => vec![Action::send("$6\r\nscript\r\n")],
        _ => vec![Action::error("ERR not scripted")],
    })
    .unwrap();
    let mut client = Client::connect(fake.addr());
    let Frame::Map(fields) = client.call(&["HELLO", "3", "AUTH", "u", "p", "SETNAME", "t"]) else {
        panic!("HELLO 3 must answer a map");
    };
    assert!(fields.contains(&(bulk("proto"), Frame::Integer(3))));
    assert_eq!(client.call(&["SELECT", "2"]), simple("OK"));
    assert_eq!(
        client.call(&["CLIENT", "SETINFO", "LIB-NAME", "x"]),
        simple("OK")
    );
    assert_eq!(client.call(&["PING"]), simple("PONG"));
    assert_eq!(client.call(&["GET", "k"]), bulk("script"));
    assert_eq!(
        fake.received()[0].args.last().map(|a| a.to_vec()),
        Some(b"t".to_vec())
    );
}

#[test]
fn a_resp2_fake_does_not_know_hello() {
    let fake = FakeServer::resp2(|_: &Request| vec![Action::send(":7\r\n")]).unwrap();
    let mut client = Client::connect(fake.addr());
    let Frame::Error(e) = client.call(&["HELLO", "3"]) else {
        panic!("HELLO must fail");
    };
    assert!(e.starts_with(b"ERR unknown command 'HELLO'"), "{e:?}");
    assert_eq!(client.call(&["AUTH", "pw"]), simple("OK"));
    assert_eq!(client.call(&["INCR", "n"]), Frame::Integer(7));
}

#[test]
fn dropping_the_fake_closes_its_connections() {
    let fake = FakeServer::silent().unwrap();
    let addr = fake.addr();
    let mut client = Client::connect(addr);
    assert!(wait_until(WAIT, || fake.connections_open() == 1));
    drop(fake);
    let mut buf = [0u8; 8];
    match client.stream.read(&mut buf) {
        Ok(n) => assert_eq!(n, 0),
        Err(e) => assert_eq!(e.kind(), ErrorKind::ConnectionReset),
    }
    assert!(std::net::TcpStream::connect(addr).is_err());
}

#[tokio::test]
async fn works_from_a_current_thread_async_test() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let fake = FakeServer::resp3(|_: &Request| vec![Action::Hang]).unwrap();
    let mut client = tokio::net::TcpStream::connect(fake.addr()).await.unwrap();
    client.write_all(b"*1\r\n$4\r\nPING\r\n").await.unwrap();
    let mut pong = [0u8; 7];
    client.read_exact(&mut pong).await.unwrap();
    assert_eq!(&pong, b"+PONG\r\n");
    // send_all blocks until written; the fake's own runtime does the writing.
    assert_eq!(fake.send_all("+surprise\r\n"), 1);
    let mut surprise = [0u8; 11];
    tokio::time::timeout(WAIT, client.read_exact(&mut surprise))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(&surprise, b"+surprise\r\n");
}
