//! Finding the server through Sentinel, before each connect: the Sentinels
//! are asked in turn, each within a share of the connect timeout, and the
//! first answer wins. For the primary (`SENTINEL GET-MASTER-ADDR-BY-NAME`)
//! the handshake then checks with `ROLE` that the server there is one. For
//! reads from a replica ([`ConfigBuilder::sentinel_replica`]), one of the
//! replicas the Sentinel sees healthy (`SENTINEL REPLICAS`), in turn from
//! one connect to the next. When none is, the attempt fails and the backoff
//! tries again: a replica reader never falls back to the primary, whose load
//! it was asked to spare (a fallback would also stay there, with nothing to
//! say when a replica is healthy again).
//!
//! [`ConfigBuilder::sentinel_replica`]: crate::ConfigBuilder::sentinel_replica

use crate::config::{Addr, Config, Sentinel};
use crate::error::{Error, ErrorKind, Result};
use bytes::BytesMut;
use redwire_resp::{Decoder, Frame};
use std::sync::atomic::{AtomicUsize, Ordering};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Turns of the replicas, from one connect to the next (any client's).
static TURN: AtomicUsize = AtomicUsize::new(0);

/// The address to connect to, as the first Sentinel that knows it says:
/// the primary's, or a replica's when the configuration reads from one.
pub(crate) async fn server_addr(config: &Config, sentinel: &Sentinel) -> Result<Addr> {
    let share = config.connect_timeout / (sentinel.sentinels.len().max(1) as u32 + 1);
    let mut last = None;
    for addr in &sentinel.sentinels {
        let password = sentinel.password.as_ref().map(|p| p.0.as_str());
        let found = async {
            if sentinel.replica {
                let reply = ask(
                    addr,
                    ["SENTINEL", "REPLICAS", &sentinel.master_name],
                    password,
                )
                .await?;
                return healthy_replica(reply, addr)?.ok_or_else(|| {
                    Error::new(
                        ErrorKind::Io,
                        format!(
                            "Sentinel {addr} sees no healthy replica of `{}`",
                            sentinel.master_name
                        ),
                    )
                });
            }
            let reply = ask(
                addr,
                ["SENTINEL", "GET-MASTER-ADDR-BY-NAME", &sentinel.master_name],
                password,
            )
            .await?;
            primary_of(reply, addr, &sentinel.master_name)
        };
        match tokio::time::timeout(share, found).await {
            Ok(Ok(server)) => return Ok(server),
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
                "no Sentinel told where the {} of `{}` is; last: {}",
                if sentinel.replica {
                    "replica or primary"
                } else {
                    "primary"
                },
                sentinel.master_name,
                e.message()
            ),
        ),
        None => Error::config("a Sentinel configuration needs at least one Sentinel address"),
    })
}

/// Sends one command to a Sentinel (after `AUTH` when it has a password)
/// and returns its reply.
async fn ask<const N: usize>(
    addr: &Addr,
    command: [&str; N],
    password: Option<&str>,
) -> Result<Frame> {
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
    redwire_resp::encode_command(&mut out, command);
    stream
        .write_all(&out)
        .await
        .map_err(|e| Error::io(format_args!("Sentinel {addr}"), e))?;
    let mut buf = BytesMut::with_capacity(256);
    let mut decoder = Decoder::new();
    let mut replies = Vec::new();
    let wanted = 1 + usize::from(password.is_some());
    loop {
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
            return match replies.pop().expect("one at least") {
                Frame::Error(e) | Frame::BulkError(e) => {
                    Err(Error::server(String::from_utf8_lossy(&e)))
                }
                frame => Ok(frame),
            };
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
    }
}

fn text(f: &Frame) -> Option<String> {
    match f {
        Frame::Bulk(b) | Frame::Simple(b) => Some(String::from_utf8_lossy(b).into_owned()),
        Frame::Integer(n) => Some(n.to_string()),
        _ => None,
    }
}

/// The primary's address from `SENTINEL GET-MASTER-ADDR-BY-NAME`.
fn primary_of(frame: Frame, sentinel: &Addr, name: &str) -> Result<Addr> {
    match frame {
        Frame::Array(items) if items.len() == 2 => {
            let host = text(&items[0]);
            let port = text(&items[1]).and_then(|p| p.parse().ok());
            match (host, port) {
                (Some(host), Some(port)) => Ok(Addr::Tcp { host, port }),
                _ => Err(Error::protocol(format!(
                    "Sentinel {sentinel} answered an address that cannot be read"
                ))),
            }
        }
        Frame::Null | Frame::Array(_) => Err(Error::new(
            ErrorKind::Io,
            format!("Sentinel {sentinel} does not know a primary named `{name}`"),
        )),
        other => Err(Error::protocol(format!(
            "Sentinel {sentinel} answered {other:?}"
        ))),
    }
}

/// One healthy replica from `SENTINEL REPLICAS` (each a list of field and
/// value, or a map in RESP3): not down, not disconnected, its link to the
/// primary up. `None` when there is none.
fn healthy_replica(frame: Frame, sentinel: &Addr) -> Result<Option<Addr>> {
    let Frame::Array(replicas) = frame else {
        return Err(Error::protocol(format!(
            "Sentinel {sentinel} answered SENTINEL REPLICAS with {frame:?}"
        )));
    };
    let mut healthy = Vec::new();
    for replica in replicas {
        let pairs: Vec<Frame> = match replica {
            Frame::Array(items) => items,
            Frame::Map(pairs) => pairs.into_iter().flat_map(|(k, v)| [k, v]).collect(),
            _ => continue,
        };
        let field = |name: &str| {
            pairs
                .chunks(2)
                .find(|kv| text(&kv[0]).as_deref() == Some(name))
                .and_then(|kv| kv.get(1).and_then(text))
        };
        let flags = field("flags").unwrap_or_default();
        let down = flags
            .split(',')
            .any(|f| matches!(f, "s_down" | "o_down" | "disconnected"));
        let link_up = field("master-link-status").as_deref() == Some("ok");
        let port = field("port").and_then(|p| p.parse().ok());
        if let (false, true, Some(host), Some(port)) = (down, link_up, field("ip"), port) {
            healthy.push(Addr::Tcp { host, port });
        }
    }
    if healthy.is_empty() {
        return Ok(None);
    }
    let turn = TURN.fetch_add(1, Ordering::Relaxed);
    Ok(Some(healthy.swap_remove(turn % healthy.len())))
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
            if is_switch_of(&frame, name) {
                switched.send_modify(|n| *n += 1);
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

/// True for a `+switch-master` message about `name`:
/// `["message", "+switch-master", "<name> <old ip> <old port> <new ip> <new port>"]`
/// (not its subscription's confirmation, nor a switch of another name the
/// Sentinels watch).
fn is_switch_of(frame: &Frame, name: &str) -> bool {
    let (Frame::Array(items) | Frame::Push(items)) = frame else {
        return false;
    };
    let is_message = matches!(items.first(), Some(Frame::Bulk(k)) if k.as_ref() == b"message");
    let ours = match items.get(2) {
        Some(Frame::Bulk(text)) => text.split(|&b| b == b' ').next() == Some(name.as_bytes()),
        _ => false,
    };
    is_message && ours
}

#[cfg(test)]
mod tests {
    use super::*;

    fn replica(ip: &str, port: &str, flags: &str, link: &str) -> Frame {
        let bulk = |s: &str| Frame::Bulk(bytes::Bytes::copy_from_slice(s.as_bytes()));
        Frame::Array(vec![
            bulk("name"),
            bulk(&format!("{ip}:{port}")),
            bulk("ip"),
            bulk(ip),
            bulk("port"),
            bulk(port),
            bulk("flags"),
            bulk(flags),
            bulk("master-link-status"),
            bulk(link),
        ])
    }

    #[test]
    fn the_primary_is_read_from_an_address_pair_and_nothing_else() {
        let sentinel = Addr::Tcp {
            host: "s".into(),
            port: 26379,
        };
        let bulk = |s: &str| Frame::Bulk(bytes::Bytes::copy_from_slice(s.as_bytes()));
        let pair = Frame::Array(vec![bulk("10.0.0.9"), bulk("6380")]);
        assert_eq!(
            primary_of(pair, &sentinel, "m").unwrap(),
            Addr::Tcp {
                host: "10.0.0.9".into(),
                port: 6380
            }
        );
        // A port sent as an integer reads the same.
        let pair = Frame::Array(vec![bulk("10.0.0.9"), Frame::Integer(6380)]);
        assert!(primary_of(pair, &sentinel, "m").is_ok());
        // An unknown name: nil (RESP2 null array) or an empty array.
        for unknown in [Frame::Null, Frame::Array(vec![])] {
            let err = primary_of(unknown, &sentinel, "m").unwrap_err();
            assert!(
                err.message().contains("does not know a primary named `m`"),
                "{err}"
            );
        }
        let three = Frame::Array(vec![bulk("10.0.0.9"), bulk("6380"), bulk("x")]);
        assert!(primary_of(three, &sentinel, "m").is_err());
        let bad_port = Frame::Array(vec![bulk("10.0.0.9"), bulk("port")]);
        let err = primary_of(bad_port, &sentinel, "m").unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Protocol);
        assert_eq!(
            primary_of(bulk("?"), &sentinel, "m").unwrap_err().kind(),
            ErrorKind::Protocol
        );
    }

    #[test]
    fn only_a_switch_of_our_name_counts() {
        let bulk = |s: &str| Frame::Bulk(bytes::Bytes::copy_from_slice(s.as_bytes()));
        let switch =
            |text: &str| Frame::Array(vec![bulk("message"), bulk("+switch-master"), bulk(text)]);
        assert!(is_switch_of(
            &switch("mymaster 10.0.0.1 6379 10.0.0.2 6379"),
            "mymaster"
        ));
        assert!(is_switch_of(
            &Frame::Push(vec![
                bulk("message"),
                bulk("+switch-master"),
                bulk("mymaster 10.0.0.1 6379 10.0.0.2 6379")
            ]),
            "mymaster"
        ));
        // Another name the Sentinels watch, and one that only starts alike.
        assert!(!is_switch_of(
            &switch("other 10.0.0.1 6379 10.0.0.2 6379"),
            "mymaster"
        ));
        assert!(!is_switch_of(
            &switch("mymaster2 10.0.0.1 6379 10.0.0.2 6379"),
            "mymaster"
        ));
        // The subscription's confirmation.
        let confirmation = Frame::Array(vec![
            bulk("subscribe"),
            bulk("+switch-master"),
            Frame::Integer(1),
        ]);
        assert!(!is_switch_of(&confirmation, "mymaster"));
        assert!(!is_switch_of(&Frame::Null, "mymaster"));
    }

    #[test]
    fn only_a_replica_that_is_up_with_its_link_up_is_picked() {
        let sentinel = Addr::Tcp {
            host: "s".into(),
            port: 26379,
        };
        let unfit = Frame::Array(vec![
            replica("10.0.0.1", "6379", "slave,s_down", "ok"),
            replica("10.0.0.2", "6379", "slave,disconnected", "ok"),
            replica("10.0.0.3", "6379", "slave", "err"),
            replica("10.0.0.4", "6379", "slave,o_down", "ok"),
        ]);
        assert_eq!(healthy_replica(unfit, &sentinel).unwrap(), None);
        let one = Frame::Array(vec![
            replica("10.0.0.1", "6379", "slave,s_down", "ok"),
            replica("10.0.0.5", "6380", "slave", "ok"),
        ]);
        for _ in 0..3 {
            assert_eq!(
                healthy_replica(one.clone(), &sentinel).unwrap(),
                Some(Addr::Tcp {
                    host: "10.0.0.5".into(),
                    port: 6380
                })
            );
        }
        // In turn when there are several.
        let two = Frame::Array(vec![
            replica("10.0.0.5", "1", "slave", "ok"),
            replica("10.0.0.6", "2", "slave", "ok"),
        ]);
        let picked: std::collections::BTreeSet<String> = (0..4)
            .map(|_| {
                healthy_replica(two.clone(), &sentinel)
                    .unwrap()
                    .unwrap()
                    .to_string()
            })
            .collect();
        assert_eq!(picked.len(), 2, "{picked:?}");
        assert!(healthy_replica(Frame::Null, &sentinel).is_err());
        // The RESP3 shape: a map per replica.
        let Frame::Array(fields) = replica("10.0.0.7", "7", "slave", "ok") else {
            unreachable!()
        };
        let map = Frame::Map(
            fields
                .chunks(2)
                .map(|kv| (kv[0].clone(), kv[1].clone()))
                .collect(),
        );
        assert_eq!(
            healthy_replica(Frame::Array(vec![map]), &sentinel).unwrap(),
            Some(Addr::Tcp {
                host: "10.0.0.7".into(),
                port: 7
            })
        );
    }
}
