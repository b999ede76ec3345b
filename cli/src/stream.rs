//! SUBSCRIBE, PSUBSCRIBE, SSUBSCRIBE and MONITOR: commands after which the
//! server streams messages instead of answering once.
//!
//! They run on the library's own streams, [`redwire::Subscriber`] and
//! [`redwire::Monitor`] (so TLS, unix sockets, reconnects and resubscription
//! come with them), and print every confirmation and message as redis-cli
//! does, until Ctrl-C.

use crate::format::{render_error, reply, Mode};
use bytes::Bytes;
use redwire::{Config, Delivery, Message, Monitor, Subscriber, SubscriptionKind, Value};
use std::io::Write;

/// Commands that turn a connection into a stream of messages.
pub fn is_streaming(name: &[u8]) -> bool {
    ["SUBSCRIBE", "PSUBSCRIBE", "SSUBSCRIBE", "MONITOR"]
        .iter()
        .any(|s| s.as_bytes().eq_ignore_ascii_case(name))
}

/// Prints one value, flushed: whoever reads our stdout waits for each one.
fn print(value: &Value, mode: Mode) {
    let mut stdout = std::io::stdout().lock();
    let _ = stdout.write_all(&reply(value, mode, false));
    let _ = stdout.flush();
}

fn bulk(bytes: impl Into<Bytes>) -> Value {
    Value::Bulk(bytes.into())
}

/// A message as the server sends it, for printing.
fn as_value(message: Message) -> Value {
    match (message.kind, message.pattern) {
        (SubscriptionKind::Pattern, Some(pattern)) => Value::Array(vec![
            bulk("pmessage"),
            Value::Bulk(pattern),
            Value::Bulk(message.channel),
            Value::Bulk(message.payload),
        ]),
        (kind, _) => Value::Array(vec![
            bulk(if kind == SubscriptionKind::Shard {
                "smessage"
            } else {
                "message"
            }),
            Value::Bulk(message.channel),
            Value::Bulk(message.payload),
        ]),
    }
}

/// Runs a streaming command until Ctrl-C (returns `Ok(true)`), the end of
/// the stream (`Ok(true)`) or an error reply (`Ok(false)`).
pub async fn run(config: &Config, args: &[Vec<u8>], mode: Mode) -> Result<bool, String> {
    let name = String::from_utf8_lossy(&args[0]).to_ascii_uppercase();
    if name == "MONITOR" {
        return monitor(config, mode).await;
    }
    let kind = match name.as_str() {
        "PSUBSCRIBE" => SubscriptionKind::Pattern,
        "SSUBSCRIBE" => SubscriptionKind::Shard,
        _ => SubscriptionKind::Channel,
    };
    let names = &args[1..];
    if names.is_empty() {
        print(
            &Value::Error(redwire::Error::server(format!(
                "ERR wrong number of arguments for '{}' command",
                name.to_ascii_lowercase()
            ))),
            mode,
        );
        return Ok(false);
    }
    let (subscriber, messages) = Subscriber::connect(config.clone())
        .await
        .map_err(|e| format!("cannot connect to {}: {e}", config.addr()))?;
    let subscribed = match kind {
        SubscriptionKind::Channel => subscriber.subscribe(names).await,
        SubscriptionKind::Pattern => subscriber.psubscribe(names).await,
        SubscriptionKind::Shard => subscriber.ssubscribe(names).await,
    };
    if let Err(e) = subscribed {
        let _ = writeln!(std::io::stdout(), "{}", render_error(e.message(), mode));
        return Ok(false);
    }
    // The confirmations, as the server sent them.
    for (count, channel) in names.iter().enumerate() {
        print(
            &Value::Array(vec![
                bulk(name.to_ascii_lowercase()),
                bulk(channel.clone()),
                Value::Int(count as i64 + 1),
            ]),
            mode,
        );
    }
    eprintln!("Reading messages... (press Ctrl-C to quit)");
    // The drops come in order with the messages: a notice is printed after
    // every message received before it.
    let mut deliveries = messages.with_gaps();
    let ctrl_c = tokio::signal::ctrl_c();
    tokio::pin!(ctrl_c);
    loop {
        tokio::select! {
            _ = &mut ctrl_c => return Ok(true),
            delivery = deliveries.recv() => match delivery {
                None => return Ok(true),
                Some(Err(e)) => return Err(e.to_string()),
                Some(Ok(Delivery::Message(message))) => print(&as_value(message), mode),
                Some(Ok(Delivery::Disconnected { reason })) => {
                    eprintln!("redwire: disconnected ({reason}); reconnecting")
                }
                Some(Ok(Delivery::Resubscribed)) => {
                    eprintln!("redwire: subscribed again; messages published meanwhile were lost")
                }
                Some(Ok(_)) => {}
            },
        }
    }
}

async fn monitor(config: &Config, mode: Mode) -> Result<bool, String> {
    let mut feed = Monitor::connect(config.clone())
        .await
        .map_err(|e| format!("cannot connect to {}: {e}", config.addr()))?;
    print(&Value::Simple("OK".into()), mode);
    let ctrl_c = tokio::signal::ctrl_c();
    tokio::pin!(ctrl_c);
    loop {
        tokio::select! {
            _ = &mut ctrl_c => return Ok(true),
            line = feed.recv() => match line {
                None => return Ok(true),
                Some(Err(e)) => {
                    let _ = writeln!(std::io::stdout(), "{}", render_error(e.message(), mode));
                    return Ok(false);
                }
                Some(Ok(line)) => print(&Value::Simple(line), mode),
            },
        }
    }
}
