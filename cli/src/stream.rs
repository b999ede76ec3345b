//! SUBSCRIBE, PSUBSCRIBE, SSUBSCRIBE and MONITOR: commands after which the
//! server streams messages instead of answering once.
//!
//! The shared `redwire::Client` refuses them (its connection is multiplexed and
//! drops RESP3 pushes until the library has pub/sub), so they get a connection
//! of their own here: the same handshake the client does, then every frame is
//! printed as it arrives until Ctrl-C or the server closes the connection.

use crate::format::{render, render_error, Mode};
use bytes::BytesMut;
use redwire::{Addr, Config, Protocol, Value};
use redwire_resp::{encode_command, Decoder, Frame};
use std::io::Write;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// Commands that turn a connection into a stream of messages.
pub fn is_streaming(name: &[u8]) -> bool {
    ["SUBSCRIBE", "PSUBSCRIBE", "SSUBSCRIBE", "MONITOR"]
        .iter()
        .any(|s| s.as_bytes().eq_ignore_ascii_case(name))
}

trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

struct Conn {
    io: Box<dyn Io>,
    buf: BytesMut,
    decoder: Decoder,
}

impl Conn {
    async fn open(config: &Config) -> Result<Conn, String> {
        if config.is_tls() {
            return Err(
                "SUBSCRIBE and MONITOR over TLS (rediss://) are not supported by redwire cli yet"
                    .into(),
            );
        }
        let io: Box<dyn Io> = match config.addr() {
            Addr::Tcp { host, port } => {
                let s = tokio::net::TcpStream::connect((host.as_str(), *port))
                    .await
                    .map_err(|e| format!("cannot connect to {}: {e}", config.addr()))?;
                let _ = s.set_nodelay(true);
                Box::new(s)
            }
            Addr::Unix(path) => Box::new(
                tokio::net::UnixStream::connect(path)
                    .await
                    .map_err(|e| format!("cannot connect to {}: {e}", config.addr()))?,
            ),
        };
        Ok(Conn {
            io,
            buf: BytesMut::with_capacity(16 * 1024),
            decoder: Decoder::new(),
        })
    }

    async fn send<A: AsRef<[u8]>>(&mut self, args: &[A]) -> Result<(), String> {
        let mut out = BytesMut::new();
        encode_command(&mut out, args.iter().map(|a| a.as_ref()));
        self.io
            .write_all(&out)
            .await
            .map_err(|e| format!("write failed: {e}"))
    }

    /// The next frame, or `None` when the server closed the connection.
    async fn next(&mut self) -> Result<Option<Frame>, String> {
        loop {
            if let Some(frame) = self
                .decoder
                .decode(&mut self.buf)
                .map_err(|e| format!("malformed reply: {e}"))?
            {
                return Ok(Some(frame));
            }
            let n = self
                .io
                .read_buf(&mut self.buf)
                .await
                .map_err(|e| format!("read failed: {e}"))?;
            if n == 0 {
                return Ok(None);
            }
        }
    }

    async fn call<A: AsRef<[u8]>>(&mut self, args: &[A]) -> Result<Frame, String> {
        self.send(args).await?;
        self.next()
            .await?
            .ok_or_else(|| "the server closed the connection".to_string())
    }
}

/// User name and password from the URL: `Config` keeps them to itself.
fn credentials(url: &str) -> (Option<String>, Option<String>) {
    let Ok(parsed) = url::Url::parse(url) else {
        return (None, None);
    };
    let decode = |s: &str| {
        percent_decode(s)
            .filter(|s| !s.is_empty())
            .map(|s| s.to_string())
    };
    let user = decode(parsed.username());
    let pass = parsed.password().and_then(decode);
    (user, pass)
}

fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// HELLO 3 (or AUTH on RESP2), SELECT: what the client does on every connect.
async fn handshake(conn: &mut Conn, config: &Config, url: &str) -> Result<(), String> {
    let (user, pass) = credentials(url);
    let mut resp2 = config.protocol() == Protocol::Resp2;
    if !resp2 {
        let mut hello: Vec<String> = vec!["HELLO".into(), "3".into()];
        if let Some(pass) = &pass {
            hello.extend([
                "AUTH".into(),
                user.clone().unwrap_or_else(|| "default".into()),
                pass.clone(),
            ]);
        }
        match conn.call(&hello).await? {
            Frame::Error(e) | Frame::BulkError(e) => {
                let text = String::from_utf8_lossy(&e).into_owned();
                let unknown = text.contains("unknown command") || text.starts_with("NOPROTO");
                if config.protocol() == Protocol::Auto && unknown {
                    resp2 = true;
                } else {
                    return Err(format!("handshake failed: {text}"));
                }
            }
            _ => {}
        }
    }
    if resp2 {
        if let Some(pass) = &pass {
            let mut auth = vec!["AUTH".to_string()];
            auth.extend(user.clone());
            auth.push(pass.clone());
            if let Frame::Error(e) | Frame::BulkError(e) = conn.call(&auth).await? {
                return Err(format!("AUTH failed: {}", String::from_utf8_lossy(&e)));
            }
        }
    }
    if config.database() != 0 {
        let db = config.database().to_string();
        if let Frame::Error(e) | Frame::BulkError(e) = conn.call(&["SELECT", &db]).await? {
            return Err(format!("SELECT failed: {}", String::from_utf8_lossy(&e)));
        }
    }
    Ok(())
}

/// Sends `args` on a connection of its own and prints every frame until
/// Ctrl-C (returns `Ok(true)`), the server closing the connection (`Ok(true)`)
/// or an error reply (`Ok(false)`).
pub async fn run(config: &Config, url: &str, args: &[Vec<u8>], mode: Mode) -> Result<bool, String> {
    let mut conn = Conn::open(config).await?;
    handshake(&mut conn, config, url).await?;
    conn.send(args).await?;
    eprintln!("Reading messages... (press Ctrl-C to quit)");
    let ctrl_c = tokio::signal::ctrl_c();
    tokio::pin!(ctrl_c);
    loop {
        let frame = tokio::select! {
            _ = &mut ctrl_c => return Ok(true),
            frame = conn.next() => frame?,
        };
        let Some(frame) = frame else {
            return Ok(true);
        };
        let mut stdout = std::io::stdout().lock();
        let ok = match Value::from(frame) {
            Value::Error(e) => {
                let _ = writeln!(stdout, "{}", render_error(e.message(), mode));
                false
            }
            value => {
                let _ = writeln!(stdout, "{}", render(&value, mode));
                true
            }
        };
        // Flush per message: whoever reads our stdout is waiting for each one.
        let _ = stdout.flush();
        if !ok {
            return Ok(false);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_come_from_the_url_decoded() {
        assert_eq!(
            credentials("redis://al%40x:p%3Aw@h:1/0"),
            (Some("al@x".into()), Some("p:w".into()))
        );
        assert_eq!(credentials("redis://h:1"), (None, None));
        assert_eq!(credentials("redis://:pw@h"), (None, Some("pw".into())));
    }
}
