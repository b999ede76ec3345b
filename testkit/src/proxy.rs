//! [`FaultProxy`]: a TCP proxy between the client under test and a server that
//! injects the faults networks produce: resets, stalls (black holes), latency,
//! tiny chunks, refused connections and a moved upstream.

use crate::background::Background;
use bytes::{Bytes, BytesMut};
use std::collections::HashMap;
use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{mpsc as std_mpsc, Arc, Mutex, MutexGuard};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{ReadHalf, WriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, oneshot, watch};
use tokio::time::Instant;

/// How long [`FaultProxy::reset_all`] waits for the connections to go.
const RESET_WAIT: Duration = Duration::from_secs(5);
/// Bytes read in one go; also how much a chunk holds when chunking is off.
const READ_SIZE: usize = 64 * 1024;
/// Chunks in flight per direction while latency delays them; the reader stops
/// (and TCP pushes back) beyond this, so memory stays bounded.
const IN_FLIGHT: usize = 64;

/// A TCP proxy on `127.0.0.1` that forwards to an upstream server and breaks the
/// traffic on command.
///
/// It runs on its own thread with its own tokio runtime, so any test (sync,
/// async, any runtime) drives it with plain methods that take effect at once.
/// Dropping it stops it and closes all its connections.
///
/// ```no_run
/// use redwire_testkit::{FaultProxy, RedisServer};
/// use std::time::Duration;
///
/// let server = RedisServer::start()?;
/// let proxy = FaultProxy::start(server.addr())?;
/// // point the client under test at proxy.url(), then:
/// proxy.set_latency(Duration::from_millis(20));
/// proxy.set_chunk_size(Some(1));
/// proxy.black_hole();
/// proxy.resume();
/// proxy.reset_all();
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct FaultProxy {
    addr: SocketAddr,
    shared: Arc<Shared>,
    // Dropped last: stopping the runtime closes the sockets.
    _background: Background,
}

struct Shared {
    upstream: Mutex<SocketAddr>,
    /// `true` while black-holed; a watch so stalled pumps wake on resume.
    paused: watch::Sender<bool>,
    latency_nanos: AtomicU64,
    /// 0 means "no chunking".
    chunk_size: AtomicUsize,
    /// Pause about a millisecond after each piece (the default) or not at all.
    chunk_pause: AtomicBool,
    refuse_new: AtomicBool,
    total: AtomicUsize,
    open: AtomicUsize,
    next_id: AtomicU64,
    /// Kill switches of the live connections. A switch carries a sender that the
    /// connection drops once its sockets are gone, which is how `reset_all`
    /// knows it is done.
    conns: Mutex<HashMap<u64, KillSwitch>>,
}

/// Tells a connection to reset; it drops the sender inside when it is gone.
type KillSwitch = oneshot::Sender<std_mpsc::Sender<()>>;

impl Shared {
    fn conns(&self) -> MutexGuard<'_, HashMap<u64, KillSwitch>> {
        self.conns.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn latency(&self) -> Duration {
        Duration::from_nanos(self.latency_nanos.load(Ordering::Relaxed))
    }

    fn chunk_pause(&self) -> bool {
        self.chunk_pause.load(Ordering::Relaxed)
    }

    fn chunk_size(&self) -> Option<usize> {
        match self.chunk_size.load(Ordering::Relaxed) {
            0 => None,
            n => Some(n),
        }
    }

    async fn wait_resumed(&self) {
        let mut paused = self.paused.subscribe();
        // The sender lives in `self`, so the channel cannot close under us.
        let _ = paused.wait_for(|paused| !paused).await;
    }
}

impl FaultProxy {
    /// Starts a proxy on a free port of `127.0.0.1` that forwards every new
    /// connection to `upstream`.
    ///
    /// ```no_run
    /// let server = redwire_testkit::RedisServer::start()?;
    /// let proxy = redwire_testkit::FaultProxy::start(server.addr())?;
    /// assert_ne!(proxy.addr(), server.addr());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn start(upstream: SocketAddr) -> io::Result<FaultProxy> {
        let listener = std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            upstream: Mutex::new(upstream),
            paused: watch::Sender::new(false),
            latency_nanos: AtomicU64::new(0),
            chunk_size: AtomicUsize::new(0),
            chunk_pause: AtomicBool::new(true),
            refuse_new: AtomicBool::new(false),
            total: AtomicUsize::new(0),
            open: AtomicUsize::new(0),
            next_id: AtomicU64::new(0),
            conns: Mutex::new(HashMap::new()),
        });
        let for_thread = shared.clone();
        let background = Background::spawn("redwire-fault-proxy", move || async move {
            match TcpListener::from_std(listener) {
                Ok(listener) => accept_loop(listener, for_thread).await,
                Err(e) => eprintln!("redwire-testkit: fault proxy cannot listen: {e}"),
            }
        })?;
        Ok(FaultProxy {
            addr,
            shared,
            _background: background,
        })
    }

    /// The address clients connect to.
    ///
    /// ```no_run
    /// # let server = redwire_testkit::RedisServer::start()?;
    /// let proxy = redwire_testkit::FaultProxy::start(server.addr())?;
    /// let stream = std::net::TcpStream::connect(proxy.addr())?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `redis://127.0.0.1:PORT` of the proxy (without credentials: the proxy does
    /// not know them).
    ///
    /// ```no_run
    /// # let server = redwire_testkit::RedisServer::start()?;
    /// let proxy = redwire_testkit::FaultProxy::start(server.addr())?;
    /// assert_eq!(proxy.url(), format!("redis://127.0.0.1:{}", proxy.addr().port()));
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn url(&self) -> String {
        format!("redis://{}", self.addr)
    }

    /// Resets every current connection on both sides: the client and the server
    /// each see a TCP RST (SO_LINGER 0), not a polite close. Returns once the
    /// sockets are gone. New connections are still accepted.
    ///
    /// ```no_run
    /// # let server = redwire_testkit::RedisServer::start()?;
    /// let proxy = redwire_testkit::FaultProxy::start(server.addr())?;
    /// proxy.reset_all();
    /// assert_eq!(proxy.connections_open(), 0);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn reset_all(&self) {
        let switches: Vec<_> = self.shared.conns().drain().map(|(_, s)| s).collect();
        let (done, all_done) = std_mpsc::channel::<()>();
        for switch in switches {
            let _ = switch.send(done.clone());
        }
        drop(done);
        // Nothing is ever sent: recv returns when every connection dropped its
        // sender, i.e. when every socket is closed.
        let _ = all_done.recv_timeout(RESET_WAIT);
    }

    /// Stops forwarding in both directions: connections stay open, bytes already
    /// read are held and no more are read, so senders stall as on a dead network
    /// path. [`resume`](Self::resume) delivers what was held and goes on.
    ///
    /// ```no_run
    /// # let server = redwire_testkit::RedisServer::start()?;
    /// let proxy = redwire_testkit::FaultProxy::start(server.addr())?;
    /// proxy.black_hole();
    /// // ... the client's requests now time out ...
    /// proxy.resume();
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn black_hole(&self) {
        self.shared.paused.send_replace(true);
    }

    /// Ends a [`black_hole`](Self::black_hole): held bytes are delivered and
    /// forwarding goes on.
    ///
    /// ```no_run
    /// # let server = redwire_testkit::RedisServer::start()?;
    /// let proxy = redwire_testkit::FaultProxy::start(server.addr())?;
    /// proxy.black_hole();
    /// proxy.resume();
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn resume(&self) {
        self.shared.paused.send_replace(false);
    }

    /// Delays every forwarded chunk by `latency` (in both directions) without
    /// limiting throughput: a chunk read at `t` is written at `t + latency`.
    /// `Duration::ZERO` turns it off. Applies to bytes read from now on.
    ///
    /// ```no_run
    /// # let server = redwire_testkit::RedisServer::start()?;
    /// let proxy = redwire_testkit::FaultProxy::start(server.addr())?;
    /// proxy.set_latency(std::time::Duration::from_millis(50));
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn set_latency(&self, latency: Duration) {
        let nanos = u64::try_from(latency.as_nanos()).unwrap_or(u64::MAX);
        self.shared.latency_nanos.store(nanos, Ordering::Relaxed);
    }

    /// Cuts everything forwarded (both directions) into pieces of at most `size`
    /// bytes, each written on its own with TCP_NODELAY and a pause of about a
    /// millisecond before the next, so the far side reads them apart and frames
    /// arrive split at every possible byte. `None` forwards what was read as it
    /// came.
    ///
    /// Each piece travels as its own segment, but a far side that is slow to read
    /// (a loaded machine) can find two waiting and read them together: a test
    /// gets split frames, not a promise about every single read. The pause makes
    /// big payloads slow (a millisecond per piece): keep the piece count in the
    /// thousands at most.
    ///
    /// ```no_run
    /// # let server = redwire_testkit::RedisServer::start()?;
    /// let proxy = redwire_testkit::FaultProxy::start(server.addr())?;
    /// proxy.set_chunk_size(Some(1)); // one byte at a time
    /// proxy.set_chunk_size(None);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn set_chunk_size(&self, size: Option<usize>) {
        let size = size.map_or(0, |n| n.max(1));
        self.shared.chunk_size.store(size, Ordering::Relaxed);
    }

    /// Whether to pause about a millisecond after each piece (default `true`).
    /// Without the pause, pieces are still written one by one (one syscall and
    /// one TCP segment each) but may pile up at the far side; that makes
    /// megabytes in one-byte pieces take seconds rather than hours.
    ///
    /// ```no_run
    /// # let server = redwire_testkit::RedisServer::start()?;
    /// let proxy = redwire_testkit::FaultProxy::start(server.addr())?;
    /// proxy.set_chunk_size(Some(1));
    /// proxy.set_chunk_pause(false);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn set_chunk_pause(&self, pause: bool) {
        self.shared.chunk_pause.store(pause, Ordering::Relaxed);
    }

    /// When `true`, new connections are accepted and reset at once (the client
    /// sees a connection reset); existing connections are unaffected.
    ///
    /// ```no_run
    /// # let server = redwire_testkit::RedisServer::start()?;
    /// let proxy = redwire_testkit::FaultProxy::start(server.addr())?;
    /// proxy.refuse_new(true);
    /// // ... reconnect attempts fail ...
    /// proxy.refuse_new(false);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn refuse_new(&self, refuse: bool) {
        self.shared.refuse_new.store(refuse, Ordering::Relaxed);
    }

    /// Sends new connections to another server (existing ones stay where they
    /// are), as after a failover.
    ///
    /// ```no_run
    /// # let old = redwire_testkit::RedisServer::start()?;
    /// # let new = redwire_testkit::RedisServer::start()?;
    /// let proxy = redwire_testkit::FaultProxy::start(old.addr())?;
    /// proxy.set_upstream(new.addr());
    /// proxy.reset_all(); // move the existing connections too
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn set_upstream(&self, upstream: SocketAddr) {
        *self
            .shared
            .upstream
            .lock()
            .unwrap_or_else(|e| e.into_inner()) = upstream;
    }

    /// Where new connections go.
    ///
    /// ```no_run
    /// # let server = redwire_testkit::RedisServer::start()?;
    /// let proxy = redwire_testkit::FaultProxy::start(server.addr())?;
    /// assert_eq!(proxy.upstream(), server.addr());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn upstream(&self) -> SocketAddr {
        *self
            .shared
            .upstream
            .lock()
            .unwrap_or_else(|e| e.into_inner())
    }

    /// Connections accepted since start, refused ones included, so a test can
    /// count a client's connection attempts.
    ///
    /// ```no_run
    /// # let server = redwire_testkit::RedisServer::start()?;
    /// let proxy = redwire_testkit::FaultProxy::start(server.addr())?;
    /// assert_eq!(proxy.connections_total(), 0);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn connections_total(&self) -> usize {
        self.shared.total.load(Ordering::SeqCst)
    }

    /// Connections being forwarded right now.
    ///
    /// ```no_run
    /// # let server = redwire_testkit::RedisServer::start()?;
    /// let proxy = redwire_testkit::FaultProxy::start(server.addr())?;
    /// assert_eq!(proxy.connections_open(), 0);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn connections_open(&self) -> usize {
        self.shared.open.load(Ordering::SeqCst)
    }
}

impl std::fmt::Debug for FaultProxy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FaultProxy")
            .field("addr", &self.addr)
            .field("upstream", &self.upstream())
            .field("connections_open", &self.connections_open())
            .finish_non_exhaustive()
    }
}

async fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    loop {
        let client = match listener.accept().await {
            Ok((client, _)) => client,
            Err(_) => {
                // Out of descriptors and the like: back off instead of spinning.
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
        };
        shared.total.fetch_add(1, Ordering::SeqCst);
        if shared.refuse_new.load(Ordering::Relaxed) {
            reset(&client);
            continue;
        }
        let id = shared.next_id.fetch_add(1, Ordering::Relaxed);
        let (switch, kill) = oneshot::channel();
        shared.conns().insert(id, switch);
        shared.open.fetch_add(1, Ordering::SeqCst);
        let guard = ConnGuard {
            shared: shared.clone(),
            id,
        };
        tokio::spawn(connection(guard, client, kill));
    }
}

/// Unregisters a connection however its task ends, including cancellation when
/// the proxy is dropped.
struct ConnGuard {
    shared: Arc<Shared>,
    id: u64,
}

impl Drop for ConnGuard {
    fn drop(&mut self) {
        self.shared.conns().remove(&self.id);
        self.shared.open.fetch_sub(1, Ordering::SeqCst);
    }
}

async fn connection(
    guard: ConnGuard,
    mut client: TcpStream,
    mut kill: oneshot::Receiver<std_mpsc::Sender<()>>,
) {
    let shared = guard.shared.clone();
    let upstream_addr = *shared.upstream.lock().unwrap_or_else(|e| e.into_inner());
    let upstream = tokio::select! {
        upstream = TcpStream::connect(upstream_addr) => upstream,
        done = &mut kill => {
            reset(&client);
            drop(client);
            drop(guard);
            // reset_all learns it is done only once the count is right.
            drop(done);
            return;
        }
    };
    let Ok(mut upstream) = upstream else {
        // The client must learn that its server is gone, as it would directly.
        reset(&client);
        return;
    };
    // Without NODELAY, Nagle would glue the pieces of a chunked write together.
    let _ = client.set_nodelay(true);
    let _ = upstream.set_nodelay(true);

    let (outcome, _done) = {
        let (client_read, client_write) = client.split();
        let (upstream_read, upstream_write) = upstream.split();
        let both = async {
            tokio::try_join!(
                pump(&shared, client_read, upstream_write),
                pump(&shared, upstream_read, client_write),
            )
        };
        tokio::select! {
            result = both => (result.map(|_| ()), None),
            done = &mut kill => (Err(io::ErrorKind::ConnectionReset.into()), done.ok()),
        }
    };
    if outcome.is_err() {
        // A reset on one side (or by reset_all) becomes a reset on both.
        reset(&client);
        reset(&upstream);
    }
    drop(client);
    drop(upstream);
    drop(guard);
    // `_done` (reset_all's sender) is dropped last, after the sockets.
}

/// Forwards one direction until EOF, which it passes on as a FIN.
///
/// Reading and writing are two halves joined by a bounded queue, so latency
/// delays each chunk without serializing the delays.
async fn pump(shared: &Shared, mut from: ReadHalf<'_>, mut to: WriteHalf<'_>) -> io::Result<()> {
    let (queue, mut queued) = mpsc::channel::<(Instant, Bytes)>(IN_FLIGHT);
    let read_side = async move {
        let mut buf = BytesMut::with_capacity(READ_SIZE);
        loop {
            // Not reading while black-holed lets TCP stall the sender, as a dead
            // path would.
            shared.wait_resumed().await;
            buf.reserve(READ_SIZE);
            if from.read_buf(&mut buf).await? == 0 {
                return Ok::<(), io::Error>(());
            }
            let due = Instant::now() + shared.latency();
            if queue.send((due, buf.split().freeze())).await.is_err() {
                return Ok(());
            }
        }
    };
    let write_side = async move {
        while let Some((due, data)) = queued.recv().await {
            tokio::time::sleep_until(due).await;
            let mut rest = data;
            while !rest.is_empty() {
                shared.wait_resumed().await;
                let piece = match shared.chunk_size() {
                    Some(n) if n < rest.len() => rest.split_to(n),
                    _ => rest.split_off(0),
                };
                to.write_all(&piece).await?;
                if shared.chunk_size().is_some() && shared.chunk_pause() {
                    // A pause lets the far side read this piece before the next
                    // lands; without it the pieces pile up in its socket buffer
                    // and it reads them as one.
                    tokio::time::sleep(Duration::from_millis(1)).await;
                }
            }
        }
        to.shutdown().await
    };
    tokio::try_join!(read_side, write_side).map(|_| ())
}

/// Closes with an RST instead of a FIN: SO_LINGER 0 makes close() abort.
fn reset(stream: &TcpStream) {
    let _ = socket2::SockRef::from(stream).set_linger(Some(Duration::ZERO));
}
