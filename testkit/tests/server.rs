//! RedisServer against the real redis-server: start-up, auth, ACL users, config,
//! unix socket, stop/restart on the same port, and clean-up on drop.

mod support;

use redwire_testkit::{Frame, RedisServer};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::net::UnixStream;
use std::time::Duration;
use support::{bulk, simple, wait_until, Client};

#[test]
fn a_started_server_answers_ping_on_its_port() {
    let server = RedisServer::start().unwrap();
    assert!(server.is_running());
    assert_eq!(server.addr().port(), server.port());
    assert_eq!(server.url(), format!("redis://127.0.0.1:{}", server.port()));

    let mut client = Client::connect(server.addr());
    assert_eq!(client.call(&["PING"]), simple("PONG"));
    assert_eq!(server.command(&["PING"]).unwrap(), simple("PONG"));
    assert!(server.log().contains("Ready to accept connections"));
}

#[test]
fn the_server_keeps_nothing_on_disk() {
    let server = RedisServer::start().unwrap();
    let get = |name: &str| server.command(&["CONFIG", "GET", name]).unwrap();
    assert_eq!(get("save"), Frame::Array(vec![bulk("save"), bulk("")]));
    assert_eq!(
        get("appendonly"),
        Frame::Array(vec![bulk("appendonly"), bulk("no")])
    );
    let dir = server.dir().canonicalize().unwrap();
    assert_eq!(
        get("dir"),
        Frame::Array(vec![bulk("dir"), bulk(dir.to_str().unwrap())])
    );
}

#[test]
fn a_password_is_required_when_set() {
    let server = RedisServer::builder()
        .password("s3cret pw")
        .start()
        .unwrap();
    assert_eq!(
        server.url(),
        format!("redis://:s3cret%20pw@127.0.0.1:{}", server.port())
    );

    let mut anonymous = Client::connect(server.addr());
    let Frame::Error(e) = anonymous.call(&["PING"]) else {
        panic!("PING without AUTH must fail");
    };
    assert!(e.starts_with(b"NOAUTH"), "{e:?}");
    assert_eq!(anonymous.call(&["AUTH", "s3cret pw"]), simple("OK"));
    assert_eq!(anonymous.call(&["PING"]), simple("PONG"));

    // command() logs in by itself.
    assert_eq!(server.command(&["PING"]).unwrap(), simple("PONG"));
}

#[test]
fn acl_users_log_in_with_their_password_and_rules() {
    let server = RedisServer::builder()
        .user("alice", "secret", "on ~* &* +@all")
        .user("reader", "r-pw", "on ~app:* +get +auth +ping")
        .start()
        .unwrap();
    assert_eq!(
        server.user_url("alice").unwrap(),
        format!("redis://alice:secret@127.0.0.1:{}", server.port())
    );

    let mut alice = Client::connect(server.addr());
    assert_eq!(alice.call(&["AUTH", "alice", "secret"]), simple("OK"));
    assert_eq!(alice.call(&["ACL", "WHOAMI"]), bulk("alice"));
    assert_eq!(alice.call(&["SET", "app:1", "x"]), simple("OK"));

    let mut wrong = Client::connect(server.addr());
    let Frame::Error(e) = wrong.call(&["AUTH", "alice", "nope"]) else {
        panic!("a wrong password must fail");
    };
    assert!(e.starts_with(b"WRONGPASS"), "{e:?}");

    let mut reader = Client::connect(server.addr());
    assert_eq!(reader.call(&["AUTH", "reader", "r-pw"]), simple("OK"));
    assert_eq!(reader.call(&["GET", "app:1"]), bulk("x"));
    let Frame::Error(e) = reader.call(&["SET", "app:1", "y"]) else {
        panic!("the reader's rules do not allow SET");
    };
    assert!(e.starts_with(b"NOPERM"), "{e:?}");
}

#[test]
fn extra_config_lines_are_applied() {
    let server = RedisServer::builder()
        .config("maxmemory 10mb")
        .config("maxmemory-policy allkeys-lru")
        .start()
        .unwrap();
    assert_eq!(
        server.command(&["CONFIG", "GET", "maxmemory"]).unwrap(),
        Frame::Array(vec![bulk("maxmemory"), bulk("10485760")])
    );
    assert_eq!(
        server
            .command(&["CONFIG", "GET", "maxmemory-policy"])
            .unwrap(),
        Frame::Array(vec![bulk("maxmemory-policy"), bulk("allkeys-lru")])
    );
}

#[test]
fn a_bad_config_line_fails_with_the_servers_log() {
    let err = RedisServer::builder()
        .config("no-such-directive 1")
        .start()
        .unwrap_err();
    let text = err.to_string();
    assert!(text.contains("exited during start-up"), "{text}");
    assert!(text.contains("no-such-directive"), "{text}");
}

#[test]
fn the_unix_socket_answers() {
    let server = RedisServer::builder().unix_socket(true).start().unwrap();
    let path = server.unix_socket_path().unwrap();
    assert!(path.starts_with(server.dir()));

    let mut stream = UnixStream::connect(path).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    stream.write_all(b"*1\r\n$4\r\nPING\r\n").unwrap();
    let mut reply = [0u8; 7];
    stream.read_exact(&mut reply).unwrap();
    assert_eq!(&reply, b"+PONG\r\n");

    assert!(RedisServer::start().unwrap().unix_socket_path().is_none());
}

#[test]
fn stop_refuses_connections_and_restart_comes_back_empty_on_the_same_port() {
    let server = RedisServer::start().unwrap();
    let port = server.port();
    let first_pid = server.pid().unwrap();
    assert_eq!(server.command(&["SET", "k", "v"]).unwrap(), simple("OK"));
    let mut live = Client::connect(server.addr());
    assert_eq!(live.call(&["PING"]), simple("PONG"));

    server.stop();
    assert!(!server.is_running());
    assert_eq!(server.pid(), None);
    let err = TcpStream::connect(server.addr()).unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::ConnectionRefused);
    // A connection open at the crash is broken.
    live.send(&["PING"]);
    assert!(live.read_frame().is_err());

    server.restart().unwrap();
    assert!(server.is_running());
    assert_eq!(server.port(), port);
    assert_ne!(server.pid().unwrap(), first_pid);
    assert_eq!(server.command(&["GET", "k"]).unwrap(), Frame::Null);
    assert_eq!(server.command(&["DBSIZE"]).unwrap(), Frame::Integer(0));
}

#[test]
fn restart_kills_a_running_server_first() {
    let server = RedisServer::builder().password("pw").start().unwrap();
    let first_pid = server.pid().unwrap();
    server.command(&["SET", "k", "v"]).unwrap();
    server.restart().unwrap();
    assert!(!support::process_alive(first_pid));
    assert_eq!(server.command(&["GET", "k"]).unwrap(), Frame::Null);
}

#[test]
fn restart_waits_until_its_port_is_free_again() {
    let server = RedisServer::start().unwrap();
    server.stop();
    let squatter = TcpListener::bind(server.addr()).unwrap();
    std::thread::scope(|s| {
        let restart = s.spawn(|| server.restart());
        std::thread::sleep(Duration::from_millis(300));
        // The restart is still waiting: the port is not its own yet.
        assert!(!restart.is_finished());
        drop(squatter);
        restart.join().unwrap().unwrap();
    });
    assert_eq!(server.command(&["PING"]).unwrap(), simple("PONG"));
}

#[test]
fn drop_kills_the_process_and_removes_the_temp_dir() {
    let server = RedisServer::builder().unix_socket(true).start().unwrap();
    let pid = server.pid().unwrap();
    let dir = server.dir().to_path_buf();
    let addr = server.addr();
    assert!(support::process_alive(pid));
    assert!(dir.join("redis.conf").exists());

    drop(server);
    assert!(
        !support::process_alive(pid),
        "redis-server {pid} survived drop"
    );
    assert!(!dir.exists(), "{} survived drop", dir.display());
    assert!(TcpStream::connect(addr).is_err());
}

#[test]
fn servers_started_in_parallel_each_get_their_own_port() {
    let servers: Vec<RedisServer> = std::thread::scope(|s| {
        let starts: Vec<_> = (0..6).map(|_| s.spawn(RedisServer::start)).collect();
        starts
            .into_iter()
            .map(|h| h.join().unwrap().unwrap())
            .collect()
    });
    let mut ports: Vec<u16> = servers.iter().map(RedisServer::port).collect();
    ports.sort_unstable();
    ports.dedup();
    assert_eq!(ports.len(), servers.len());
    for server in &servers {
        // Each answers as itself.
        server
            .command(&["SET", "port", &server.port().to_string()])
            .unwrap();
    }
    for server in &servers {
        assert_eq!(
            server.command(&["GET", "port"]).unwrap(),
            bulk(&server.port().to_string())
        );
    }
}

#[test]
fn command_returns_server_errors_as_frames() {
    let server = RedisServer::start().unwrap();
    server.command(&["SET", "s", "x"]).unwrap();
    let reply = server.command(&["LPUSH", "s", "y"]).unwrap();
    assert!(
        matches!(reply, Frame::Error(ref e) if e.starts_with(b"WRONGTYPE")),
        "{reply:?}"
    );
}

#[test]
fn debug_output_hides_the_password() {
    let builder = RedisServer::builder().password("hunter2");
    assert!(!format!("{builder:?}").contains("hunter2"));
    let server = builder.start().unwrap();
    let shown = format!("{server:?}");
    assert!(!shown.contains("hunter2"), "{shown}");
    assert!(shown.contains(&server.port().to_string()), "{shown}");
    assert!(wait_until(Duration::from_secs(1), || server.is_running()));
}

#[test]
fn the_kit_can_be_shared_between_threads_and_tasks() {
    fn shareable<T: Send + Sync + 'static>() {}
    shareable::<RedisServer>();
    shareable::<redwire_testkit::FaultProxy>();
    shareable::<redwire_testkit::FakeServer>();
    #[cfg(feature = "tls-certs")]
    shareable::<redwire_testkit::TestCa>();
}
