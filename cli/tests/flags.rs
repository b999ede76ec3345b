//! redis-cli's connection flags on `redwire cli`, each against a real
//! redis-server started by testkit: host and port, password and ACL user,
//! database, unix socket, TLS with its files, the protocol, repeat; and the
//! usage errors, which exit 2 before anything connects.

mod support;

use redwire_testkit::{Frame, RedisServer};
use support::{cli_port, run, silent_listener, stderr, stdout};

#[test]
fn host_and_port_name_the_server_and_no_throwaway_one_starts() {
    let server = RedisServer::start().unwrap();
    let port = server.port().to_string();
    let out = run(
        &["cli", "-h", "127.0.0.1", "-p", &port, "SET", "k", "v"],
        b"",
    );
    assert_eq!(stdout(&out), "OK\n", "{}", stderr(&out));
    assert!(!stderr(&out).contains("throwaway"), "{}", stderr(&out));
    assert_eq!(
        server.command(&["GET", "k"]).unwrap(),
        Frame::Bulk("v".into())
    );
    // Long forms too.
    let out = run(
        &["cli", "--host", "127.0.0.1", "--port", &port, "GET", "k"],
        b"",
    );
    assert_eq!(stdout(&out), "v\n");
}

#[test]
fn a_port_with_no_server_is_a_connection_failure_not_a_throwaway_server() {
    let listener = silent_listener();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let out = cli_port(port, &["PING"]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(stderr(&out).contains("cannot connect"), "{}", stderr(&out));
    assert!(!stderr(&out).contains("throwaway"));
}

#[test]
fn a_password_with_a_and_a_user_with_user() {
    let server = RedisServer::builder()
        .password("s3cret")
        .user("reader", "rpw", "on ~* &* +@read +ping +hello +auth")
        .start()
        .unwrap();
    server.command(&["SET", "k", "v"]).unwrap();
    let port = server.port();
    let out = cli_port(port, &["-a", "s3cret", "GET", "k"]);
    assert_eq!(stdout(&out), "v\n", "{}", stderr(&out));
    assert!(
        stderr(&out).contains("Using a password with '-a'"),
        "redis-cli's warning: {}",
        stderr(&out)
    );
    let out = cli_port(port, &["-a", "s3cret", "--no-auth-warning", "GET", "k"]);
    assert_eq!((stdout(&out).as_str(), stderr(&out).as_str()), ("v\n", ""));
    // REDISCLI_AUTH, as redis-cli reads it, without the warning.
    let out = support::redwire()
        .args(["cli", "-p", &port.to_string(), "GET", "k"])
        .env("REDISCLI_AUTH", "s3cret")
        .output()
        .unwrap();
    assert_eq!((stdout(&out).as_str(), stderr(&out).as_str()), ("v\n", ""));
    // The ACL user reads, and may not write.
    let out = cli_port(
        port,
        &[
            "--user",
            "reader",
            "-a",
            "rpw",
            "--no-auth-warning",
            "GET",
            "k",
        ],
    );
    assert_eq!(stdout(&out), "v\n", "{}", stderr(&out));
    let out = cli_port(
        port,
        &[
            "--user",
            "reader",
            "-a",
            "rpw",
            "--no-auth-warning",
            "SET",
            "k",
            "w",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("NOPERM"), "{}", stderr(&out));
    // A wrong password does not get in.
    let out = cli_port(port, &["-a", "wrong", "--no-auth-warning", "GET", "k"]);
    assert_ne!(out.status.code(), Some(0));
    assert_eq!(stdout(&out), "");
}

#[test]
fn n_selects_the_database() {
    let server = RedisServer::start().unwrap();
    let out = cli_port(server.port(), &["-n", "3", "SET", "k", "in three"]);
    assert_eq!(stdout(&out), "OK\n", "{}", stderr(&out));
    assert_eq!(
        server.command(&["GET", "k"]).unwrap(),
        Frame::Null,
        "not in 0"
    );
    server.command(&["SWAPDB", "0", "3"]).unwrap();
    assert_eq!(
        server.command(&["GET", "k"]).unwrap(),
        Frame::Bulk("in three".into())
    );
}

#[test]
fn s_connects_through_the_unix_socket() {
    let server = RedisServer::builder().unix_socket(true).start().unwrap();
    let socket = server
        .unix_socket_path()
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    let out = run(&["cli", "-s", &socket, "SET", "k", "by socket"], b"");
    assert_eq!(stdout(&out), "OK\n", "{}", stderr(&out));
    assert_eq!(
        server.command(&["GET", "k"]).unwrap(),
        Frame::Bulk("by socket".into())
    );
    // The server saw a unix client: its address is the socket's path.
    let out = run(&["cli", "-s", &socket, "CLIENT", "INFO"], b"");
    assert!(
        stdout(&out).contains(&format!("laddr={socket}")),
        "{}",
        stdout(&out)
    );
}

#[test]
fn tls_with_the_ca_a_client_certificate_and_sni() {
    let server = RedisServer::builder().tls(true).start().unwrap();
    let port = server.tls_port().unwrap().to_string();
    let path = |p: Option<&std::path::Path>| p.unwrap().to_str().unwrap().to_string();
    let (ca, cert, key) = (
        path(server.tls_ca_cert_path()),
        path(server.tls_client_cert_path()),
        path(server.tls_client_key_path()),
    );
    let out = run(&["cli", "-p", &port, "--tls", "--cacert", &ca, "PING"], b"");
    assert_eq!(stdout(&out), "PONG\n", "{}", stderr(&out));
    // The client certificate is presented: the server names its subject.
    let out = run(
        &[
            "cli",
            "-h",
            "localhost",
            "-p",
            &port,
            "--tls",
            "--cacert",
            &ca,
            "--cert",
            &cert,
            "--key",
            &key,
            "--sni",
            "localhost",
            "SET",
            "k",
            "over tls",
        ],
        b"",
    );
    assert_eq!(stdout(&out), "OK\n", "{}", stderr(&out));
    assert_eq!(
        server.command(&["GET", "k"]).unwrap(),
        Frame::Bulk("over tls".into())
    );
    // Without the CA, the server's certificate is not trusted: exit 3.
    let out = run(&["cli", "-p", &port, "--tls", "PING"], b"");
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert_eq!(stdout(&out), "");
    // A --cert without --key is a usage error.
    let out = run(&["cli", "-p", &port, "--tls", "--cert", &cert, "PING"], b"");
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
}

#[test]
fn two_and_three_choose_the_protocol() {
    let server = RedisServer::start().unwrap();
    server.command(&["HSET", "h", "f", "v"]).unwrap();
    let port = server.port();
    let out = cli_port(port, &["-2", "--no-raw", "HGETALL", "h"]);
    assert_eq!(stdout(&out), "1) \"f\"\n2) \"v\"\n");
    let out = cli_port(port, &["-3", "--no-raw", "HGETALL", "h"]);
    assert_eq!(stdout(&out), "1# \"f\" => \"v\"\n");
    let out = cli_port(port, &["-2", "-3", "PING"]);
    assert_eq!(out.status.code(), Some(2), "-2 and -3 conflict");
}

#[test]
fn r_repeats_a_command_and_i_spaces_the_runs() {
    let server = RedisServer::start().unwrap();
    let out = cli_port(server.port(), &["-r", "3", "-i", "0.01", "INCR", "c"]);
    assert_eq!(stdout(&out), "1\n2\n3\n", "{}", stderr(&out));
    assert!(out.status.success());
    // An error reply in any run makes the exit code 1.
    server.command(&["SET", "s", "x"]).unwrap();
    let out = cli_port(server.port(), &["-r", "2", "INCR", "s"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(stderr(&out).matches("not an integer").count(), 2);
}

#[test]
fn unknown_options_and_bad_values_exit_2_without_connecting() {
    let listener = silent_listener();
    let port = listener.local_addr().unwrap().port().to_string();
    let cases: [&[&str]; 8] = [
        &["cli", "-p", &port, "--bogus", "PING"],
        &["cli", "-p", &port, "-Z", "PING"],
        &["cli", "-p", "notaport", "PING"],
        &["cli", "-u", "http://127.0.0.1/", "PING"],
        &["cli", "-p", &port, "-r", "0", "PING"],
        &["cli", "-p", &port, "-i", "-1", "-r", "2", "PING"],
        &["cli", "-p", &port, "--user", "bob", "PING"],
        &["cli", "-s", "/tmp/x.sock", "--tls", "PING"],
    ];
    for args in cases {
        let out = run(args, b"");
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        assert_eq!(stdout(&out), "", "{args:?}");
        assert!(!stderr(&out).is_empty(), "{args:?} says why");
    }
    // Nothing ever connected to the port the flags named.
    assert_eq!(
        listener.accept().unwrap_err().kind(),
        std::io::ErrorKind::WouldBlock
    );
}

#[test]
fn arguments_after_the_command_are_the_commands_even_with_a_dash() {
    let server = RedisServer::start().unwrap();
    server.command(&["RPUSH", "l", "a", "b"]).unwrap();
    let out = cli_port(server.port(), &["LRANGE", "l", "0", "-1"]);
    assert_eq!(stdout(&out), "a\nb\n");
    let out = cli_port(server.port(), &["SET", "k", "-p"]);
    assert_eq!(stdout(&out), "OK\n");
    assert_eq!(
        server.command(&["GET", "k"]).unwrap(),
        Frame::Bulk("-p".into())
    );
}
