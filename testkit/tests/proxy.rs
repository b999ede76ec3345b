//! FaultProxy: forwarding, counting, resets, black holes, chunking, latency,
//! refused connections, a moved upstream, and use from an async test.

mod support;

use redwire_testkit::{FaultProxy, RedisServer};
use std::io::{ErrorKind, Read, Write};
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::time::{Duration, Instant};
use support::{bulk, is_timeout, simple, wait_until, Client};

const WAIT: Duration = Duration::from_secs(5);

/// A plain listener to stand in for the server, so a test sees exactly what
/// the proxy writes and how.
fn plain_upstream() -> TcpListener {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap()
}

fn accept(listener: &TcpListener) -> TcpStream {
    let (stream, _) = listener.accept().unwrap();
    stream.set_read_timeout(Some(WAIT)).unwrap();
    stream
}

#[test]
fn forwards_both_ways_and_counts_connections() {
    let server = RedisServer::start().unwrap();
    let proxy = FaultProxy::start(server.addr()).unwrap();
    assert_eq!(
        proxy.url(),
        format!("redis://127.0.0.1:{}", proxy.addr().port())
    );
    assert_eq!(
        (proxy.connections_total(), proxy.connections_open()),
        (0, 0)
    );

    let mut a = Client::connect(proxy.addr());
    let mut b = Client::connect(proxy.addr());
    assert_eq!(a.call(&["SET", "k", "through the proxy"]), simple("OK"));
    assert_eq!(b.call(&["GET", "k"]), bulk("through the proxy"));
    assert_eq!(
        server.command(&["GET", "k"]).unwrap(),
        bulk("through the proxy")
    );
    assert_eq!(proxy.connections_total(), 2);
    assert_eq!(proxy.connections_open(), 2);

    drop(a);
    assert!(wait_until(WAIT, || proxy.connections_open() == 1));
    assert_eq!(proxy.connections_total(), 2);
    assert_eq!(b.call(&["PING"]), simple("PONG"));
}

#[test]
fn a_server_side_close_reaches_the_client_as_end_of_stream() {
    let upstream = plain_upstream();
    let proxy = FaultProxy::start(upstream.local_addr().unwrap()).unwrap();
    let mut client = TcpStream::connect(proxy.addr()).unwrap();
    client.set_read_timeout(Some(WAIT)).unwrap();
    let mut server_side = accept(&upstream);
    server_side.write_all(b"+bye\r\n").unwrap();
    drop(server_side);

    let mut got = Vec::new();
    client.read_to_end(&mut got).unwrap();
    assert_eq!(got, b"+bye\r\n");
    // Half-closed, as TCP allows, until the client closes too.
    assert_eq!(proxy.connections_open(), 1);
    drop(client);
    assert!(wait_until(WAIT, || proxy.connections_open() == 0));
}

#[test]
fn reset_all_resets_live_connections_on_both_sides() {
    let upstream = plain_upstream();
    let proxy = FaultProxy::start(upstream.local_addr().unwrap()).unwrap();
    let mut client = TcpStream::connect(proxy.addr()).unwrap();
    client.set_read_timeout(Some(WAIT)).unwrap();
    let mut server_side = accept(&upstream);
    client.write_all(b"ping").unwrap();
    let mut buf = [0u8; 4];
    server_side.read_exact(&mut buf).unwrap();

    proxy.reset_all();
    assert_eq!(proxy.connections_open(), 0);
    let err = client.read(&mut [0u8; 16]).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ConnectionReset, "client side: {err}");
    let err = server_side.read(&mut [0u8; 16]).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ConnectionReset, "server side: {err}");

    // The proxy itself goes on.
    let server = RedisServer::start().unwrap();
    proxy.set_upstream(server.addr());
    assert_eq!(
        Client::connect(proxy.addr()).call(&["PING"]),
        simple("PONG")
    );
}

#[test]
fn a_black_hole_holds_bytes_until_resume() {
    let server = RedisServer::start().unwrap();
    let proxy = FaultProxy::start(server.addr()).unwrap();
    let mut client = Client::connect(proxy.addr());
    assert_eq!(client.call(&["PING"]), simple("PONG"));

    proxy.black_hole();
    client.send(&["SET", "held", "1"]);
    client.set_read_timeout(Duration::from_millis(300));
    let err = client.read_frame().unwrap_err();
    assert!(is_timeout(&err), "{err}");
    // Nothing reached the server either.
    assert_eq!(
        server.command(&["EXISTS", "held"]).unwrap(),
        support::int(0)
    );
    assert_eq!(proxy.connections_open(), 1);

    proxy.resume();
    client.set_read_timeout(WAIT);
    assert_eq!(client.read_frame().unwrap(), simple("OK"));
    assert_eq!(
        server.command(&["EXISTS", "held"]).unwrap(),
        support::int(1)
    );
    assert_eq!(client.call(&["PING"]), simple("PONG"));
}

#[test]
fn a_black_hole_holds_replies_too() {
    let upstream = plain_upstream();
    let proxy = FaultProxy::start(upstream.local_addr().unwrap()).unwrap();
    let mut client = TcpStream::connect(proxy.addr()).unwrap();
    let mut server_side = accept(&upstream);
    // Make sure the connection is fully set up before the hole opens.
    server_side.write_all(b"+hi\r\n").unwrap();
    let mut hi = [0u8; 5];
    client.set_read_timeout(Some(WAIT)).unwrap();
    client.read_exact(&mut hi).unwrap();

    proxy.black_hole();
    server_side.write_all(b"+late\r\n").unwrap();
    client
        .set_read_timeout(Some(Duration::from_millis(300)))
        .unwrap();
    let err = client.read(&mut [0u8; 16]).unwrap_err();
    assert!(is_timeout(&err), "{err}");

    proxy.resume();
    client.set_read_timeout(Some(WAIT)).unwrap();
    let mut late = [0u8; 7];
    client.read_exact(&mut late).unwrap();
    assert_eq!(&late, b"+late\r\n");
}

/// What the far side of a chunking proxy saw of one write.
struct Received {
    data: Vec<u8>,
    /// The size of every read.
    reads: Vec<usize>,
    /// From just before the write to the read that completed the data.
    took: Duration,
}

/// Sends `data` through a proxy cutting `chunk`-byte pieces in one write, and
/// records every read on the far side.
fn through_chunking_proxy(chunk: usize, data: &[u8], towards_server: bool) -> Received {
    let upstream = plain_upstream();
    let proxy = FaultProxy::start(upstream.local_addr().unwrap()).unwrap();
    proxy.set_chunk_size(Some(chunk));
    let client = TcpStream::connect(proxy.addr()).unwrap();
    let server_side = accept(&upstream);
    client.set_read_timeout(Some(WAIT)).unwrap();
    let (mut writer, mut reader) = if towards_server {
        (client, server_side)
    } else {
        (server_side, client)
    };
    let started = Instant::now();
    writer.write_all(data).unwrap();
    let mut received = Vec::new();
    let mut reads = Vec::new();
    let mut buf = vec![0u8; 64 * 1024];
    while received.len() < data.len() {
        let n = reader.read(&mut buf).unwrap();
        assert_ne!(n, 0, "early end of stream");
        reads.push(n);
        received.extend_from_slice(&buf[..n]);
    }
    Received {
        data: received,
        reads,
        took: started.elapsed(),
    }
}

/// Checks that the far side saw `chunk`-byte pieces travel apart.
///
/// Each piece is its own segment, but a reader that is slow to run (a loaded
/// machine) can find two waiting and read them together; so this asserts that
/// every read holds whole pieces, that most reads hold exactly one, and that
/// the pieces were spread out in time as only a chunking proxy spreads them.
fn assert_pieces(got: &Received, sent: &[u8], chunk: usize) {
    assert!(got.data == sent, "the data arrived changed");
    let pieces = sent.len().div_ceil(chunk);
    let mut offset = 0;
    for &n in &got.reads {
        offset += n;
        assert!(
            offset % chunk == 0 || offset == sent.len(),
            "a read ended inside a piece: {:?}",
            got.reads
        );
    }
    let single = got.reads.iter().filter(|&&n| n <= chunk).count();
    assert!(
        single * 2 >= pieces,
        "most reads held more than one {chunk}-byte piece: {:?}",
        got.reads
    );
    // The proxy pauses about a millisecond between pieces.
    let least = Duration::from_millis(pieces as u64 - 1);
    assert!(
        got.took >= least,
        "{pieces} pieces arrived in {:?}",
        got.took
    );
}

#[test]
fn chunking_delivers_a_large_value_in_pieces_of_at_most_n_bytes() {
    let value: Vec<u8> = (0..20_000u32).map(|i| (i % 251) as u8).collect();
    for towards_server in [true, false] {
        let got = through_chunking_proxy(1000, &value, towards_server);
        assert_pieces(&got, &value, 1000);
    }
}

#[test]
fn one_byte_chunks_split_every_frame() {
    let frames = b"+OK\r\n:42\r\n$3\r\nabc\r\n";
    let got = through_chunking_proxy(1, frames, false);
    assert_pieces(&got, frames, 1);
}

#[test]
fn chunking_off_forwards_a_write_whole() {
    let upstream = plain_upstream();
    let proxy = FaultProxy::start(upstream.local_addr().unwrap()).unwrap();
    proxy.set_chunk_size(Some(1));
    proxy.set_chunk_size(None);
    let mut client = TcpStream::connect(proxy.addr()).unwrap();
    let mut server_side = accept(&upstream);
    let started = Instant::now();
    client.write_all(&[7u8; 5000]).unwrap();
    let mut got = [0u8; 5000];
    server_side.read_exact(&mut got).unwrap();
    // Cut into single bytes, 5000 pieces would take five seconds.
    assert!(started.elapsed() < Duration::from_secs(2));
}

#[test]
fn latency_delays_both_directions() {
    let server = RedisServer::start().unwrap();
    let proxy = FaultProxy::start(server.addr()).unwrap();
    let mut client = Client::connect(proxy.addr());
    assert_eq!(client.call(&["PING"]), simple("PONG"));

    let latency = Duration::from_millis(100);
    proxy.set_latency(latency);
    let started = Instant::now();
    assert_eq!(client.call(&["PING"]), simple("PONG"));
    let round_trip = started.elapsed();
    assert!(
        round_trip >= 2 * latency,
        "round trip took only {round_trip:?}"
    );

    proxy.set_latency(Duration::ZERO);
    assert_eq!(client.call(&["PING"]), simple("PONG"));
}

#[test]
fn latency_does_not_serialize_chunks() {
    let upstream = plain_upstream();
    let proxy = FaultProxy::start(upstream.local_addr().unwrap()).unwrap();
    let latency = Duration::from_millis(100);
    proxy.set_latency(latency);
    let mut client = TcpStream::connect(proxy.addr()).unwrap();
    let mut server_side = accept(&upstream);
    let started = Instant::now();
    // Ten separate writes, each read separately by the proxy (most likely): if
    // delays added up this would take a second.
    for _ in 0..10 {
        client.write_all(b"x").unwrap();
        std::thread::sleep(Duration::from_millis(5));
    }
    let mut got = [0u8; 10];
    server_side.read_exact(&mut got).unwrap();
    let took = started.elapsed();
    assert!(took >= latency, "arrived after only {took:?}");
    assert!(
        took < Duration::from_millis(600),
        "delays were added up: {took:?}"
    );
}

#[test]
fn refuse_new_resets_new_connections_and_spares_old_ones() {
    let server = RedisServer::start().unwrap();
    let proxy = FaultProxy::start(server.addr()).unwrap();
    let mut old = Client::connect(proxy.addr());
    assert_eq!(old.call(&["PING"]), simple("PONG"));

    proxy.refuse_new(true);
    let mut refused = TcpStream::connect(proxy.addr()).unwrap();
    refused.set_read_timeout(Some(WAIT)).unwrap();
    let _ = refused.write_all(b"*1\r\n$4\r\nPING\r\n");
    match refused.read(&mut [0u8; 16]) {
        Err(e) => assert_eq!(e.kind(), ErrorKind::ConnectionReset, "{e}"),
        Ok(n) => assert_eq!(n, 0, "a refused connection got an answer"),
    }
    assert_eq!(old.call(&["PING"]), simple("PONG"));
    assert_eq!(proxy.connections_total(), 2);
    assert_eq!(proxy.connections_open(), 1);

    proxy.refuse_new(false);
    assert_eq!(
        Client::connect(proxy.addr()).call(&["PING"]),
        simple("PONG")
    );
}

#[test]
fn set_upstream_moves_new_connections_only() {
    let first = RedisServer::start().unwrap();
    let second = RedisServer::start().unwrap();
    first.command(&["SET", "who", "first"]).unwrap();
    second.command(&["SET", "who", "second"]).unwrap();
    let proxy = FaultProxy::start(first.addr()).unwrap();
    let mut old = Client::connect(proxy.addr());
    assert_eq!(old.call(&["GET", "who"]), bulk("first"));

    proxy.set_upstream(second.addr());
    assert_eq!(proxy.upstream(), second.addr());
    assert_eq!(
        Client::connect(proxy.addr()).call(&["GET", "who"]),
        bulk("second")
    );
    assert_eq!(old.call(&["GET", "who"]), bulk("first"));
}

#[test]
fn an_unreachable_upstream_resets_the_client() {
    let gone = plain_upstream().local_addr().unwrap(); // closed again at once
    let proxy = FaultProxy::start(gone).unwrap();
    let mut client = TcpStream::connect(proxy.addr()).unwrap();
    client.set_read_timeout(Some(WAIT)).unwrap();
    let err = client.read(&mut [0u8; 16]).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ConnectionReset, "{err}");
}

#[test]
fn dropping_the_proxy_closes_its_connections() {
    let server = RedisServer::start().unwrap();
    let proxy = FaultProxy::start(server.addr()).unwrap();
    let addr = proxy.addr();
    let mut client = Client::connect(addr);
    assert_eq!(client.call(&["PING"]), simple("PONG"));

    drop(proxy);
    client.send(&["PING"]);
    assert!(client.read_frame().is_err());
    assert!(TcpStream::connect(addr).is_err());
}

#[tokio::test]
async fn works_from_a_current_thread_async_test() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let server = RedisServer::start().unwrap();
    let proxy = FaultProxy::start(server.addr()).unwrap();
    let mut client = tokio::net::TcpStream::connect(proxy.addr()).await.unwrap();
    proxy.black_hole();
    client.write_all(b"*1\r\n$4\r\nPING\r\n").await.unwrap();
    let mut reply = [0u8; 7];
    let held =
        tokio::time::timeout(Duration::from_millis(200), client.read_exact(&mut reply)).await;
    assert!(held.is_err(), "a reply came through the black hole");

    proxy.resume();
    tokio::time::timeout(WAIT, client.read_exact(&mut reply))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(&reply, b"+PONG\r\n");

    proxy.reset_all();
    let after = tokio::time::timeout(WAIT, client.read(&mut reply))
        .await
        .unwrap();
    assert!(after.is_err() || after.unwrap() == 0);
}
