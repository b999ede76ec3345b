//! What the binary's tests share: spawning `redwire` with arguments and
//! stdin, and its output as text.

#![allow(dead_code)]

use std::io::Write;
use std::process::{Command, Output, Stdio};

/// The built binary, with no `REDIS_URL` or `REDISCLI_AUTH` from the
/// environment: the embedded default and passwords only when a test means them.
pub fn redwire() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_redwire"));
    c.env_remove("REDIS_URL").env_remove("REDISCLI_AUTH");
    c
}

/// Runs `redwire ARGS` with `stdin` and waits for it.
pub fn run(args: &[&str], stdin: &[u8]) -> Output {
    let mut child = redwire()
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn redwire");
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    child.wait_with_output().unwrap()
}

/// `redwire cli -p PORT ARGS`: the server by redis-cli's flags.
pub fn cli_port(port: u16, args: &[&str]) -> Output {
    let port = port.to_string();
    let mut all = vec!["cli", "-p", port.as_str()];
    all.extend_from_slice(args);
    run(&all, b"")
}

/// Stdout as text.
pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Stderr as text.
pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A TCP port with a listener on it that nothing accepts from: a test can
/// check afterwards that no connection came.
pub fn silent_listener() -> std::net::TcpListener {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.set_nonblocking(true).unwrap();
    l
}
