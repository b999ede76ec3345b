//! [`FakeServer`]: a scripted RESP server for what a real one will not do —
//! malformed or absurd replies, replies nobody asked for, closing mid-frame,
//! never answering, not knowing HELLO.

mod handshake;
mod script;

pub use handshake::{resp2_handshake, resp3_handshake};
pub use script::{Action, Request};

use crate::background::Background;
use bytes::{Bytes, BytesMut};
use redwire_resp::Decoder;
use std::collections::HashMap;
use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc as std_mpsc, Arc, Mutex, MutexGuard};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;

/// How long [`FakeServer::send_all`] waits for the connections to write.
const SEND_ALL_WAIT: Duration = Duration::from_secs(5);

type Handler = dyn Fn(&Request) -> Vec<Action> + Send + Sync + 'static;

/// A server on `127.0.0.1` that answers each command with what a script says.
///
/// The script (the handler) is called for every command a client sends, in the
/// order they arrive on each connection, and returns the [`Action`]s to take.
/// It runs on its own thread with its own tokio runtime, so any test can use it;
/// dropping it closes every connection.
///
/// ```no_run
/// use redwire_testkit::{resp3_handshake, Action, FakeServer, Request};
///
/// // A RESP3 server whose GET answers with a bulk string that claims 10 bytes
/// // and then hangs up after 3.
/// let fake = FakeServer::start(resp3_handshake(|req: &Request| match req.name.as_str() {
///     "GET" => vec![Action::send("$10\r\nabc"), Action::Close],
///     _ => vec![Action::ok()],
/// }))?;
/// println!("point the client at {}", fake.url());
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct FakeServer {
    addr: SocketAddr,
    shared: Arc<Shared>,
    _background: Background,
}

struct Shared {
    handler: Box<Handler>,
    total: AtomicUsize,
    open: AtomicUsize,
    received: Mutex<Vec<Request>>,
    /// Where `send_all` reaches each live connection; the sender inside is
    /// dropped once the bytes are written.
    conns: Mutex<HashMap<usize, Outbox>>,
}

/// Bytes to write on one connection, with the sender it drops once they are
/// written.
type Outbox = mpsc::UnboundedSender<(Bytes, std_mpsc::Sender<()>)>;

impl Shared {
    fn conns(&self) -> MutexGuard<'_, HashMap<usize, Outbox>> {
        self.conns.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn received(&self) -> MutexGuard<'_, Vec<Request>> {
        self.received.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl FakeServer {
    /// Starts a fake server on a free port with `handler` as its script.
    ///
    /// ```no_run
    /// use redwire_testkit::{Action, FakeServer, Request};
    ///
    /// // Answers every command with a reply of an impossible length.
    /// let fake = FakeServer::start(|_req: &Request| vec![Action::send("$99999999999999999999\r\n")])?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn start<F>(handler: F) -> io::Result<FakeServer>
    where
        F: Fn(&Request) -> Vec<Action> + Send + Sync + 'static,
    {
        let listener = std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            handler: Box::new(handler),
            total: AtomicUsize::new(0),
            open: AtomicUsize::new(0),
            received: Mutex::new(Vec::new()),
            conns: Mutex::new(HashMap::new()),
        });
        let for_thread = shared.clone();
        let background = Background::spawn("redwire-fake-server", move || async move {
            match TcpListener::from_std(listener) {
                Ok(listener) => accept_loop(listener, for_thread).await,
                Err(e) => eprintln!("redwire-testkit: fake server cannot listen: {e}"),
            }
        })?;
        Ok(FakeServer {
            addr,
            shared,
            _background: background,
        })
    }

    /// A server that accepts connections, reads everything and never answers:
    /// what a client sees from a hung server.
    ///
    /// ```no_run
    /// let fake = redwire_testkit::FakeServer::silent()?;
    /// // every request to fake.url() must time out
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn silent() -> io::Result<FakeServer> {
        FakeServer::start(|_: &Request| vec![Action::Hang])
    }

    /// A RESP3 server: the handshake is answered by [`resp3_handshake`], every
    /// other command by `rest`.
    ///
    /// ```no_run
    /// use redwire_testkit::{Action, FakeServer, Request};
    /// let fake = FakeServer::resp3(|_req: &Request| vec![Action::send(">2\r\n$7\r\nmessage\r\n$2\r\nhi\r\n")])?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn resp3<F>(rest: F) -> io::Result<FakeServer>
    where
        F: Fn(&Request) -> Vec<Action> + Send + Sync + 'static,
    {
        FakeServer::start(resp3_handshake(rest))
    }

    /// A RESP2-only server that does not know HELLO: the handshake is answered
    /// by [`resp2_handshake`], every other command by `rest`.
    ///
    /// ```no_run
    /// use redwire_testkit::{Action, FakeServer, Request};
    /// let fake = FakeServer::resp2(|_req: &Request| vec![Action::send(":1\r\n")])?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn resp2<F>(rest: F) -> io::Result<FakeServer>
    where
        F: Fn(&Request) -> Vec<Action> + Send + Sync + 'static,
    {
        FakeServer::start(resp2_handshake(rest))
    }

    /// The address clients connect to.
    ///
    /// ```no_run
    /// let fake = redwire_testkit::FakeServer::silent()?;
    /// let stream = std::net::TcpStream::connect(fake.addr())?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `redis://127.0.0.1:PORT`.
    ///
    /// ```no_run
    /// let fake = redwire_testkit::FakeServer::silent()?;
    /// assert!(fake.url().starts_with("redis://127.0.0.1:"));
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn url(&self) -> String {
        format!("redis://{}", self.addr)
    }

    /// Writes `bytes` to every open connection now, between replies: a push or
    /// a reply nobody asked for. Returns how many connections got them, once
    /// they are written.
    ///
    /// A connection busy in an [`Action::Sleep`] writes them after the sleep.
    ///
    /// ```no_run
    /// let fake = redwire_testkit::FakeServer::silent()?;
    /// // a RESP3 push out of the blue
    /// fake.send_all(">2\r\n$7\r\nmessage\r\n$2\r\nhi\r\n");
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn send_all(&self, bytes: impl AsRef<[u8]>) -> usize {
        let bytes = Bytes::copy_from_slice(bytes.as_ref());
        let (done, all_done) = std_mpsc::channel::<()>();
        let reached = self
            .shared
            .conns()
            .values()
            .filter(|conn| conn.send((bytes.clone(), done.clone())).is_ok())
            .count();
        drop(done);
        // Nothing is ever sent: recv returns once every connection dropped its
        // sender, i.e. wrote the bytes (or went away).
        let _ = all_done.recv_timeout(SEND_ALL_WAIT);
        reached
    }

    /// Connections accepted since start.
    ///
    /// ```no_run
    /// let fake = redwire_testkit::FakeServer::silent()?;
    /// assert_eq!(fake.connections_total(), 0);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn connections_total(&self) -> usize {
        self.shared.total.load(Ordering::SeqCst)
    }

    /// Connections open right now.
    ///
    /// ```no_run
    /// let fake = redwire_testkit::FakeServer::silent()?;
    /// assert_eq!(fake.connections_open(), 0);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn connections_open(&self) -> usize {
        self.shared.open.load(Ordering::SeqCst)
    }

    /// Every command received so far, on all connections, in arrival order.
    ///
    /// ```no_run
    /// let fake = redwire_testkit::FakeServer::silent()?;
    /// // ... a client sends HELLO 3 ...
    /// let hellos = fake.received().into_iter().filter(|r| r.is("HELLO")).count();
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn received(&self) -> Vec<Request> {
        self.shared.received().clone()
    }
}

impl std::fmt::Debug for FakeServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeServer")
            .field("addr", &self.addr)
            .field("connections_open", &self.connections_open())
            .finish_non_exhaustive()
    }
}

async fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    loop {
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            Err(_) => {
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
        };
        let index = shared.total.fetch_add(1, Ordering::SeqCst);
        let (control, controlled) = mpsc::unbounded_channel();
        shared.conns().insert(index, control);
        shared.open.fetch_add(1, Ordering::SeqCst);
        let guard = ConnGuard {
            shared: shared.clone(),
            index,
        };
        tokio::spawn(connection(guard, stream, controlled));
    }
}

/// Unregisters a connection however its task ends.
struct ConnGuard {
    shared: Arc<Shared>,
    index: usize,
}

impl Drop for ConnGuard {
    fn drop(&mut self) {
        self.shared.conns().remove(&self.index);
        self.shared.open.fetch_sub(1, Ordering::SeqCst);
    }
}

/// What a connection does after running a request's actions.
enum Next {
    Continue,
    Hang,
    Close,
    Reset,
}

async fn connection(
    guard: ConnGuard,
    mut stream: TcpStream,
    mut control: mpsc::UnboundedReceiver<(Bytes, std_mpsc::Sender<()>)>,
) {
    let shared = guard.shared.clone();
    let _ = stream.set_nodelay(true);
    let mut decoder = Decoder::new();
    let mut buf = BytesMut::with_capacity(16 * 1024);
    let mut hung = false;
    loop {
        tokio::select! {
            read = stream.read_buf(&mut buf) => {
                match read {
                    Ok(0) | Err(_) => break,
                    Ok(_) => {}
                }
                match serve_buffered(&shared, guard.index, &mut decoder, &mut buf, &mut stream, &mut hung).await {
                    Next::Continue | Next::Hang => {}
                    Next::Close => {
                        close_politely(&mut stream).await;
                        break;
                    }
                    Next::Reset => {
                        let _ = socket2::SockRef::from(&stream).set_linger(Some(Duration::ZERO));
                        break;
                    }
                }
            }
            Some((bytes, _done)) = control.recv() => {
                if stream.write_all(&bytes).await.is_err() {
                    break;
                }
            }
        }
    }
    drop(stream);
    drop(guard);
}

/// Runs the script for every complete command in `buf`.
async fn serve_buffered(
    shared: &Shared,
    index: usize,
    decoder: &mut Decoder,
    buf: &mut BytesMut,
    stream: &mut TcpStream,
    hung: &mut bool,
) -> Next {
    loop {
        let frame = match decoder.decode(buf) {
            Ok(Some(frame)) => frame,
            Ok(None) => return Next::Continue,
            Err(e) => {
                // What Redis does with garbage: say so, then hang up.
                let message = format!("-ERR Protocol error: {e}\r\n");
                let _ = stream.write_all(message.as_bytes()).await;
                return Next::Close;
            }
        };
        let Some(request) = Request::from_frame(index, frame) else {
            let _ = stream
                .write_all(b"-ERR Protocol error: a command must be an array of bulk strings\r\n")
                .await;
            return Next::Close;
        };
        shared.received().push(request.clone());
        if *hung {
            continue;
        }
        match run(&(shared.handler)(&request), stream).await {
            Next::Continue => {}
            Next::Hang => *hung = true,
            other => return other,
        }
    }
}

async fn run(actions: &[Action], stream: &mut TcpStream) -> Next {
    let mut out = BytesMut::new();
    for action in actions {
        let written = match action {
            Action::Send(bytes) => stream.write_all(bytes).await,
            Action::Frame(frame) => {
                out.clear();
                frame.encode(&mut out);
                stream.write_all(&out).await
            }
            Action::Close => return Next::Close,
            Action::Reset => return Next::Reset,
            Action::Sleep(pause) => {
                tokio::time::sleep(*pause).await;
                Ok(())
            }
            Action::Hang => return Next::Hang,
        };
        if written.is_err() {
            return Next::Close;
        }
    }
    Next::Continue
}

/// Closes with a FIN that the client reads as end of stream. Closing a socket
/// with unread input makes the kernel send an RST instead, which can overtake
/// the bytes already sent; so input is read and dropped until the client closes
/// too (or a short while passes).
async fn close_politely(stream: &mut TcpStream) {
    let _ = stream.shutdown().await;
    let mut sink = [0u8; 4096];
    let drain = async {
        while let Ok(n) = stream.read(&mut sink).await {
            if n == 0 {
                break;
            }
        }
    };
    let _ = tokio::time::timeout(Duration::from_secs(2), drain).await;
}
