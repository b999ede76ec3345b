//! The handshake run on every (re)connect before the connection serves callers:
//! `HELLO 3` with `AUTH` and `SETNAME` where the server speaks RESP3, else `AUTH`
//! and `CLIENT SETNAME` on RESP2; then `SELECT` and `CLIENT SETINFO`.
//!
//! Each step is pipelined with the next where that is safe, so a handshake costs
//! one round trip on a current server. Failures are reported with what the server
//! said: a wrong password is a server error with code `WRONGPASS`.

use super::io::Transport;
use crate::cmd::{cmd, Cmd};
use crate::config::{Config, Protocol};
use crate::error::{Error, Result};
use bytes::BytesMut;
use redwire_resp::{Decoder, Frame};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// What the handshake settled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Negotiated {
    /// 2 or 3.
    pub(crate) resp: u8,
}

pub(crate) async fn handshake(
    t: &mut Transport,
    config: &Config,
    rbuf: &mut BytesMut,
    decoder: &mut Decoder,
) -> Result<Negotiated> {
    if config.username.is_some() && config.password.is_none() {
        return Err(Error::config(
            "a user name needs a password: Redis logs users in with both",
        ));
    }
    if caches(config) && config.protocol == Protocol::Resp2 {
        return Err(Error::config(
            "client-side caching needs RESP3 (the server's invalidations are pushes): \
             leave the protocol on auto or RESP3, or turn the cache off",
        ));
    }
    let mut io = Exchange { t, rbuf, decoder };
    let tail = tail_commands(config);
    if config.protocol != Protocol::Resp2 {
        let mut hello = cmd("HELLO").arg(3);
        if let Some(password) = &config.password {
            hello.push_arg("AUTH");
            hello.push_arg(config.username.as_deref().unwrap_or("default"));
            hello.push_arg(&password.0);
        }
        if let Some(name) = &config.client_name {
            hello.push_arg("SETNAME").push_arg(name);
        }
        let mut batch = vec![hello];
        batch.extend(tail.iter().cloned());
        let replies = io.round_trip(&batch).await?;
        match server_error(&replies[0]) {
            None => {
                check_tail(&replies[1..], config)?;
                return Ok(Negotiated { resp: 3 });
            }
            Some(err) if err.is_auth_failure() => return Err(err),
            Some(err) if config.protocol == Protocol::Resp3 => {
                return Err(Error::protocol(format!(
                    "the server cannot speak RESP3, which this client requires (HELLO 3 answered: {})",
                    err.message()
                )))
            }
            // A server from before HELLO: carry on in RESP2.
            Some(_) => {}
        }
    }
    if caches(config) {
        return Err(Error::config(
            "client-side caching needs RESP3, and this server does not speak it \
             (HELLO 3 was refused): turn the cache off for this server",
        ));
    }
    let mut batch = Vec::new();
    if let Some(password) = &config.password {
        let mut auth = cmd("AUTH");
        if let Some(user) = &config.username {
            auth.push_arg(user);
        }
        batch.push(auth.arg(&password.0));
    }
    if let Some(name) = &config.client_name {
        batch.push(cmd("CLIENT").arg("SETNAME").arg(name));
    }
    let setup = batch.len();
    batch.extend(tail);
    let replies = io.round_trip(&batch).await?;
    if let Some(err) = replies[..setup].iter().find_map(server_error) {
        return Err(err);
    }
    check_tail(&replies[setup..], config)?;
    Ok(Negotiated { resp: 2 })
}

/// `ROLE` (found through Sentinel: it must be the primary), `SELECT` (when
/// not database 0), and the library's name and version.
fn tail_commands(config: &Config) -> Vec<Cmd> {
    let mut tail = Vec::new();
    if config.sentinel.as_ref().is_some_and(|s| !s.replica) {
        tail.push(cmd("ROLE"));
    }
    if config.database != 0 {
        tail.push(cmd("SELECT").arg(config.database));
    }
    if config.replica_reads {
        tail.push(cmd("READONLY"));
    }
    #[cfg(feature = "client-cache")]
    if let Some(cache) = &config.client_cache {
        tail.push(cache.tracking_command());
    }
    tail.push(cmd("CLIENT").arg("SETINFO").arg("LIB-NAME").arg("redwire"));
    tail.push(
        cmd("CLIENT")
            .arg("SETINFO")
            .arg("LIB-VER")
            .arg(env!("CARGO_PKG_VERSION")),
    );
    tail
}

/// The server found through Sentinel must be a primary; `SELECT` must
/// succeed; `CLIENT SETINFO` is new in Redis 7.2 and may be unknown.
fn check_tail(replies: &[Frame], config: &Config) -> Result<()> {
    let mut replies = replies;
    if config.sentinel.as_ref().is_some_and(|s| !s.replica) {
        let role = match replies.first() {
            Some(Frame::Array(items)) => match items.first() {
                Some(Frame::Bulk(b) | Frame::Simple(b)) => String::from_utf8_lossy(b).into_owned(),
                _ => String::new(),
            },
            _ => String::new(),
        };
        if role != "master" {
            return Err(Error::new(
                crate::error::ErrorKind::Io,
                format!(
                    "the Sentinels pointed at a server that is not the primary (its role: {role}); \
                     a failover is under way"
                ),
            ));
        }
        replies = &replies[1..];
    }
    if config.database != 0 {
        if let Some(err) = server_error(&replies[0]) {
            return Err(Error::server(format!(
                "{} (while selecting database {})",
                err.message(),
                config.database
            )));
        }
        replies = &replies[1..];
    }
    if config.replica_reads {
        if let Some(err) = replies.first().and_then(server_error) {
            return Err(Error::server(format!(
                "{} (while asking a replica to serve reads: READONLY)",
                err.message()
            )));
        }
        replies = &replies[1..];
    }
    if caches(config) {
        if let Some(err) = replies.first().and_then(server_error) {
            return Err(Error::config(format!(
                "the server refused client-side caching (CLIENT TRACKING answered: {}); \
                 turn the cache off for this server",
                err.message()
            )));
        }
    }
    Ok(())
}

/// The configuration asks for client-side caching.
fn caches(config: &Config) -> bool {
    #[cfg(feature = "client-cache")]
    return config.client_cache.is_some();
    #[cfg(not(feature = "client-cache"))]
    {
        let _ = config;
        false
    }
}

fn server_error(frame: &Frame) -> Option<Error> {
    match frame {
        Frame::Error(e) | Frame::BulkError(e) => Some(Error::server(String::from_utf8_lossy(e))),
        _ => None,
    }
}

/// Plain write-then-read on a stream that has no callers yet.
struct Exchange<'a> {
    t: &'a mut Transport,
    rbuf: &'a mut BytesMut,
    decoder: &'a mut Decoder,
}

impl Exchange<'_> {
    async fn round_trip(&mut self, cmds: &[Cmd]) -> Result<Vec<Frame>> {
        let mut out = BytesMut::new();
        for c in cmds {
            c.encode(&mut out);
        }
        let lost = |e| Error::io("connection lost during the handshake", e);
        self.t.write_all(&out).await.map_err(lost)?;
        self.t.flush().await.map_err(lost)?;
        let mut replies = Vec::with_capacity(cmds.len());
        while replies.len() < cmds.len() {
            match self.decoder.decode(self.rbuf)? {
                Some(frame) if frame.is_push() => {}
                Some(frame) => replies.push(frame),
                None => {
                    self.rbuf.reserve(4096);
                    let n = self.t.read_buf(self.rbuf).await.map_err(lost)?;
                    if n == 0 {
                        return Err(Error::io(
                            "connection lost during the handshake",
                            std::io::ErrorKind::UnexpectedEof.into(),
                        ));
                    }
                }
            }
        }
        Ok(replies)
    }
}
