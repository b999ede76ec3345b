//! Finding the primary through Sentinel, before each connect: the Sentinels
//! are asked in turn (`SENTINEL GET-MASTER-ADDR-BY-NAME`), each within a
//! share of the connect timeout, and the first answer wins. The handshake
//! then checks with `ROLE` that the server there is a primary.

use crate::config::{Addr, Config, Sentinel};
use crate::error::{Error, ErrorKind, Result};
use bytes::BytesMut;
use redwire_resp::{Decoder, Frame};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// The primary's address, as the first Sentinel that knows it says.
pub(crate) async fn primary_addr(config: &Config, sentinel: &Sentinel) -> Result<Addr> {
    let share = config.connect_timeout / (sentinel.sentinels.len().max(1) as u32 + 1);
    let mut last = None;
    for addr in &sentinel.sentinels {
        let password = sentinel.password.as_ref().map(|p| p.0.as_str());
        match tokio::time::timeout(share, ask(addr, &sentinel.master_name, password)).await {
            Ok(Ok(primary)) => return Ok(primary),
            Ok(Err(e)) => last = Some(e),
            Err(_) => {
                last = Some(Error::new(
                    ErrorKind::Timeout,
                    format!("{addr} did not answer within {share:?}"),
                ))
            }
        }
    }
    Err(match last {
        Some(e) => Error::new(
            e.kind(),
            format!(
                "no Sentinel told where the primary `{}` is; last: {}",
                sentinel.master_name,
                e.message()
            ),
        ),
        None => Error::config("a Sentinel configuration needs at least one Sentinel address"),
    })
}

async fn ask(addr: &Addr, name: &str, password: Option<&str>) -> Result<Addr> {
    let Addr::Tcp { host, port } = addr else {
        return Err(Error::config("Sentinels are reached over TCP"));
    };
    let mut stream = TcpStream::connect((host.as_str(), *port))
        .await
        .map_err(|e| Error::io(format_args!("cannot connect to Sentinel {addr}"), e))?;
    let mut out = BytesMut::new();
    if let Some(password) = password {
        redwire_resp::encode_command(&mut out, ["AUTH", password]);
    }
    redwire_resp::encode_command(&mut out, ["SENTINEL", "GET-MASTER-ADDR-BY-NAME", name]);
    stream
        .write_all(&out)
        .await
        .map_err(|e| Error::io(format_args!("Sentinel {addr}"), e))?;
    let mut buf = BytesMut::with_capacity(256);
    let mut decoder = Decoder::new();
    let mut replies = Vec::new();
    let wanted = 1 + usize::from(password.is_some());
    let frame = loop {
        if let Some(frame) = decoder.decode(&mut buf)? {
            replies.push(frame);
            if replies.len() < wanted {
                continue;
            }
            if let Some(Frame::Error(e)) = replies.first().filter(|_| wanted == 2) {
                return Err(Error::server(format!(
                    "{} (authenticating with Sentinel {addr})",
                    String::from_utf8_lossy(e)
                )));
            }
            break replies.pop().expect("one at least");
        }
        let n = stream
            .read_buf(&mut buf)
            .await
            .map_err(|e| Error::io(format_args!("Sentinel {addr}"), e))?;
        if n == 0 {
            return Err(Error::new(
                ErrorKind::ConnectionLost,
                format!("Sentinel {addr} closed the connection"),
            ));
        }
    };
    let text = |f: &Frame| match f {
        Frame::Bulk(b) | Frame::Simple(b) => Some(String::from_utf8_lossy(b).into_owned()),
        _ => None,
    };
    match frame {
        Frame::Array(items) if items.len() == 2 => {
            let host = text(&items[0]);
            let port = text(&items[1]).and_then(|p| p.parse().ok());
            match (host, port) {
                (Some(host), Some(port)) => Ok(Addr::Tcp { host, port }),
                _ => Err(Error::protocol(format!(
                    "Sentinel {addr} answered an address that cannot be read"
                ))),
            }
        }
        Frame::Null | Frame::Array(_) => Err(Error::new(
            ErrorKind::Io,
            format!("Sentinel {addr} does not know a primary named `{name}`"),
        )),
        Frame::Error(e) | Frame::BulkError(e) => Err(Error::server(String::from_utf8_lossy(&e))),
        other => Err(Error::protocol(format!(
            "Sentinel {addr} answered {other:?}"
        ))),
    }
}

/// Listens to the Sentinels' `+switch-master` announcements for our primary
/// and bumps `switched` on each, so that the actor replaces its connection
/// at once (without it, a client that only reads would stay on a demoted
/// primary: reads get no `READONLY`). Ends when the actor is gone.
pub(crate) async fn watch_switches(
    sentinel: Sentinel,
    connect_timeout: std::time::Duration,
    switched: tokio::sync::watch::Sender<u64>,
) {
    let password = sentinel.password.as_ref().map(|p| p.0.clone());
    loop {
        for addr in &sentinel.sentinels {
            if switched.is_closed() {
                return;
            }
            let listen = listen(
                addr,
                &sentinel.master_name,
                password.as_deref(),
                connect_timeout,
                &switched,
            );
            if let Err(e) = listen.await {
                tracing::debug!(%addr, %e, "listening to a Sentinel failed; trying the next");
            }
        }
        if switched.is_closed() {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    }
}

async fn listen(
    addr: &Addr,
    name: &str,
    password: Option<&str>,
    connect_timeout: std::time::Duration,
    switched: &tokio::sync::watch::Sender<u64>,
) -> Result<()> {
    let Addr::Tcp { host, port } = addr else {
        return Err(Error::config("Sentinels are reached over TCP"));
    };
    let mut stream =
        tokio::time::timeout(connect_timeout, TcpStream::connect((host.as_str(), *port)))
            .await
            .map_err(|_| {
                Error::new(
                    ErrorKind::Timeout,
                    format!("Sentinel {addr} did not answer"),
                )
            })?
            .map_err(|e| Error::io(format_args!("cannot connect to Sentinel {addr}"), e))?;
    let mut out = BytesMut::new();
    if let Some(password) = password {
        redwire_resp::encode_command(&mut out, ["AUTH", password]);
    }
    redwire_resp::encode_command(&mut out, ["SUBSCRIBE", "+switch-master"]);
    stream
        .write_all(&out)
        .await
        .map_err(|e| Error::io(format_args!("Sentinel {addr}"), e))?;
    let mut buf = BytesMut::with_capacity(1024);
    let mut decoder = Decoder::new();
    loop {
        while let Some(frame) = decoder.decode(&mut buf)? {
            // ["message", "+switch-master", "<name> <old ip> <old port> <new ip> <new port>"]
            if let Frame::Array(items) | Frame::Push(items) = frame {
                let is_switch =
                    matches!(items.first(), Some(Frame::Bulk(k)) if k.as_ref() == b"message");
                let ours = match items.get(2) {
                    Some(Frame::Bulk(text)) => {
                        text.split(|&b| b == b' ').next() == Some(name.as_bytes())
                    }
                    _ => false,
                };
                if is_switch && ours {
                    switched.send_modify(|n| *n += 1);
                }
            }
        }
        let read = tokio::select! {
            read = stream.read_buf(&mut buf) => read,
            () = switched.closed() => return Ok(()),
        };
        match read {
            Ok(0) => {
                return Err(Error::new(
                    ErrorKind::ConnectionLost,
                    format!("Sentinel {addr} closed the connection"),
                ))
            }
            Ok(_) => {}
            Err(e) => return Err(Error::io(format_args!("Sentinel {addr}"), e)),
        }
    }
}
