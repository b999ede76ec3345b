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
