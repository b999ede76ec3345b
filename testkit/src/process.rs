//! One redis-server process: spawning it from a config file, waiting until it
//! answers, killing it, and making sure it cannot outlive the test process.
//!
//! This is the part every launcher shares. A standalone server uses one; replica,
//! cluster and sentinel launchers are meant to hold several, each with its own
//! config file, and add only what differs (the config lines and the checks that
//! the topology has formed).

use crate::blocking::BlockingConn;
use redwire_resp::Frame;
use std::ffi::OsString;
use std::fs::{File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// How long a restart waits for the process's old ports to come free.
const RESTART_PORT_WAIT: Duration = Duration::from_secs(15);

/// How to run the process: which binary, which config file, where its output goes.
pub(crate) struct Launch {
    pub(crate) binary: PathBuf,
    pub(crate) config_path: PathBuf,
    pub(crate) log_path: PathBuf,
    /// The directory the process works in; the watchdog removes it if the test
    /// process dies without dropping the server.
    pub(crate) dir: PathBuf,
    /// Arguments after the config file, such as `--sentinel`.
    pub(crate) extra_args: Vec<OsString>,
}

/// How to check that the process is up: where it listens and how to log in.
pub(crate) struct Probe {
    pub(crate) addr: SocketAddr,
    pub(crate) password: Option<String>,
}

/// Why a start did not succeed.
pub(crate) enum StartError {
    /// Another socket holds one of the ports: pick others (or wait) and retry.
    PortTaken,
    /// Anything else; the message already carries the server's log.
    Failed(io::Error),
}

struct Running {
    child: Child,
    /// A `sh` that kills the server and removes its directory when its stdin
    /// closes, which happens when the test process exits in any way. The kernel
    /// closes the pipe even on SIGKILL, so no redis-server is left behind by a
    /// test binary that was killed or that kept a server in a static.
    watchdog: Option<Child>,
}

pub(crate) struct RedisProcess {
    launch: Launch,
    running: Mutex<Option<Running>>,
}

impl RedisProcess {
    pub(crate) fn new(launch: Launch) -> RedisProcess {
        RedisProcess {
            launch,
            running: Mutex::new(None),
        }
    }

    fn running(&self) -> MutexGuard<'_, Option<Running>> {
        // A panic while holding the lock leaves nothing half-done that matters.
        self.running.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Starts the process and waits until it answers `probe`, or fails.
    pub(crate) fn start(&self, probe: &Probe, timeout: Duration) -> Result<(), StartError> {
        let log_offset = self.log_len();
        let pid = self.spawn().map_err(StartError::Failed)?;
        let result = self.wait_ready(pid, probe, log_offset, timeout);
        if result.is_err() {
            self.kill();
        }
        result
    }

    fn spawn(&self) -> io::Result<u32> {
        let mut running = self.running();
        if running.is_some() {
            return Err(io::Error::other("the server is already running"));
        }
        let log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.launch.log_path)?;
        let child = Command::new(&self.launch.binary)
            .arg(&self.launch.config_path)
            .args(&self.launch.extra_args)
            .current_dir(&self.launch.dir)
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()
            .map_err(|e| {
                io::Error::new(
                    e.kind(),
                    format!("could not run {}: {e}", self.launch.binary.display()),
                )
            })?;
        let pid = child.id();
        // Without sh there is no watchdog; the server still dies with its handle.
        let watchdog = Command::new("sh")
            .args(["-c", r#"read _; kill -9 "$1" 2>/dev/null; rm -rf "$2""#])
            .arg("redwire-testkit-watchdog")
            .arg(pid.to_string())
            .arg(&self.launch.dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .ok();
        *running = Some(Running { child, watchdog });
        Ok(pid)
    }

    fn wait_ready(
        &self,
        pid: u32,
        probe: &Probe,
        log_offset: u64,
        timeout: Duration,
    ) -> Result<(), StartError> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.exit_status() {
                let log = self.log_since(log_offset);
                if log.contains("Address already in use") {
                    return Err(StartError::PortTaken);
                }
                return Err(StartError::Failed(io::Error::other(format!(
                    "redis-server exited during start-up ({status}); its log:\n{log}"
                ))));
            }
            let last_problem = match probe_pid(probe) {
                Ok(found) if found == pid => return Ok(()),
                // Someone else's server holds our port; ours will fail to bind
                // and exit, which the next round reports as PortTaken.
                Ok(found) => format!("the port is answered by another process ({found})"),
                Err(e) => e.to_string(),
            };
            if Instant::now() >= deadline {
                return Err(StartError::Failed(io::Error::new(
                    io::ErrorKind::TimedOut,
                    format!(
                        "redis-server did not answer PING on {} within {timeout:?} \
                         (last problem: {last_problem}); its log:\n{}",
                        probe.addr,
                        self.log_since(log_offset)
                    ),
                )));
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    fn exit_status(&self) -> Option<std::process::ExitStatus> {
        let mut running = self.running();
        let child = &mut running.as_mut()?.child;
        child.try_wait().ok().flatten()
    }

    /// Kills the process (if it runs) and starts it again on the same ports,
    /// waiting up to [`RESTART_PORT_WAIT`] for them to come free; `ports`
    /// names them for the error (`"port 6379"`).
    pub(crate) fn restart(&self, probe: &Probe, timeout: Duration, ports: &str) -> io::Result<()> {
        self.kill();
        let deadline = Instant::now() + RESTART_PORT_WAIT;
        loop {
            match self.start(probe, timeout) {
                Ok(()) => return Ok(()),
                Err(StartError::PortTaken) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(50));
                }
                Err(StartError::PortTaken) => {
                    return Err(io::Error::new(
                        io::ErrorKind::AddrInUse,
                        format!(
                            "{ports} stayed taken for {RESTART_PORT_WAIT:?}; cannot restart \
                             redis-server there"
                        ),
                    ))
                }
                Err(StartError::Failed(e)) => return Err(e),
            }
        }
    }

    /// Kills the process with SIGKILL (no shutdown, no save: what a crash looks
    /// like) and reaps it. Does nothing when it is not running.
    pub(crate) fn kill(&self) {
        let Some(mut running) = self.running().take() else {
            return;
        };
        // The watchdog goes first so it can never act on a reaped (and perhaps
        // reused) pid.
        if let Some(mut watchdog) = running.watchdog.take() {
            let _ = watchdog.kill();
            let _ = watchdog.wait();
        }
        let _ = running.child.kill();
        let _ = running.child.wait();
    }

    pub(crate) fn pid(&self) -> Option<u32> {
        self.is_running()
            .then(|| self.running().as_ref().map(|r| r.child.id()))
            .flatten()
    }

    pub(crate) fn is_running(&self) -> bool {
        let mut running = self.running();
        match running.as_mut() {
            Some(r) => matches!(r.child.try_wait(), Ok(None)),
            None => false,
        }
    }

    pub(crate) fn log(&self) -> String {
        self.log_since(0)
    }

    fn log_len(&self) -> u64 {
        std::fs::metadata(&self.launch.log_path)
            .map(|m| m.len())
            .unwrap_or(0)
    }

    fn log_since(&self, offset: u64) -> String {
        let mut text = Vec::new();
        if let Ok(mut file) = File::open(&self.launch.log_path) {
            if file.seek(SeekFrom::Start(offset)).is_ok() {
                let _ = file.read_to_end(&mut text);
            }
        }
        String::from_utf8_lossy(&text).into_owned()
    }
}

impl Drop for RedisProcess {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Connects, logs in, PINGs and reads the server's pid from INFO, so a start can
/// tell its own server from another one that happens to hold the port.
fn probe_pid(probe: &Probe) -> io::Result<u32> {
    let mut conn = BlockingConn::connect(probe.addr, Duration::from_millis(500))?;
    if let Some(password) = &probe.password {
        conn.auth(password)?;
    }
    match conn.command(&["PING"])? {
        Frame::Simple(s) if &s[..] == b"PONG" => {}
        other => return Err(io::Error::other(format!("PING answered {other:?}"))),
    }
    let info = match conn.command(&["INFO", "server"])? {
        Frame::Bulk(b) | Frame::Verbatim { data: b, .. } => b,
        other => return Err(io::Error::other(format!("INFO answered {other:?}"))),
    };
    String::from_utf8_lossy(&info)
        .lines()
        .find_map(|line| line.strip_prefix("process_id:"))
        .and_then(|pid| pid.trim().parse().ok())
        .ok_or_else(|| io::Error::other("INFO server has no process_id"))
}
