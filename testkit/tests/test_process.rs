//! What a server does when its test fails or its test process dies: a panic
//! shows the server's log, and a test binary that dies without dropping its
//! servers (killed by a timeout, or holding a server in a static) leaves no
//! redis-server running and no temp dir behind. The tests re-run this binary as
//! a child that holds a server.

mod support;

use redwire_testkit::RedisServer;
use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;
use support::{process_alive, wait_until};

const CHILD_MODE: &str = "REDWIRE_TESTKIT_ORPHAN_CHILD";

#[test]
#[ignore = "a helper: run as a child process by the tests below"]
fn child_holds_a_server() {
    let Some(mode) = std::env::var_os(CHILD_MODE) else {
        return;
    };
    let server = RedisServer::start().unwrap();
    println!(
        "SERVER {} {}",
        server.pid().unwrap(),
        server.dir().display()
    );
    std::io::stdout().flush().unwrap();
    if mode == "forget" {
        // As if the server lived in a static: never dropped, the process exits.
        std::mem::forget(server);
    } else if mode == "panic" {
        panic!("a failing test");
    } else {
        std::thread::sleep(Duration::from_secs(60));
    }
}

fn child(mode: &str) -> Command {
    let mut child = Command::new(std::env::current_exe().unwrap());
    child
        .args([
            "--exact",
            "child_holds_a_server",
            "--ignored",
            "--nocapture",
        ])
        .env(CHILD_MODE, mode);
    child
}

/// Runs the child, returns the pid and dir of its server and the child itself.
fn run_child(mode: &str) -> (u32, PathBuf, std::process::Child) {
    let mut child = child(mode)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap()).lines();
    let line = stdout
        .by_ref()
        .map(Result::unwrap)
        .find(|line| line.starts_with("SERVER "))
        .expect("the child printed no SERVER line");
    // Keep reading, or the child's harness fails writing its summary.
    std::thread::spawn(move || stdout.for_each(drop));
    let (pid, dir) = line["SERVER ".len()..].split_once(' ').unwrap();
    (pid.parse().unwrap(), PathBuf::from(dir), child)
}

#[test]
fn a_killed_test_process_leaves_no_server_behind() {
    let (pid, dir, mut child) = run_child("kill");
    assert!(process_alive(pid));
    assert!(dir.exists());

    child.kill().unwrap(); // SIGKILL: no destructor runs
    child.wait().unwrap();
    assert!(
        wait_until(Duration::from_secs(5), || !process_alive(pid)),
        "redis-server {pid} outlived its killed test process"
    );
    assert!(
        wait_until(Duration::from_secs(5), || !dir.exists()),
        "{} outlived its killed test process",
        dir.display()
    );
}

#[test]
fn a_server_never_dropped_dies_with_its_test_process() {
    let (pid, dir, mut child) = run_child("forget");
    assert!(child.wait().unwrap().success());
    assert!(
        wait_until(Duration::from_secs(5), || !process_alive(pid)),
        "redis-server {pid} outlived its test process"
    );
    assert!(wait_until(Duration::from_secs(5), || !dir.exists()));
}

#[test]
fn a_panicking_test_prints_the_server_log() {
    let output = child("panic").output().unwrap();
    assert!(!output.status.success());
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("----- redis-server log (port "), "{stderr}");
    assert!(stderr.contains("Ready to accept connections"), "{stderr}");

    let line = stdout.lines().find(|l| l.starts_with("SERVER ")).unwrap();
    let (pid, dir) = line["SERVER ".len()..].split_once(' ').unwrap();
    assert!(!process_alive(pid.parse().unwrap()));
    assert!(!std::path::Path::new(dir).exists());
}
