//! The typed publishing and `PUBSUB` commands against a real redis-server,
//! over RESP2 and RESP3, with subscribers on raw TCP connections (a shared
//! client refuses `SUBSCRIBE`): receiver counts, the messages arriving, and
//! what the introspection commands list.

mod support;

use redwire::prelude::*;
use redwire_testkit::RedisServer;
use support::both_protocols;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// A raw connection that sent `command channel…` (`SUBSCRIBE`, `PSUBSCRIBE`,
/// `SSUBSCRIBE`) and read every confirmation, so the server has registered
/// the subscriptions when it returns.
async fn subscriber(server: &RedisServer, command: &str, channels: &[&str]) -> TcpStream {
    let mut stream = TcpStream::connect(server.addr()).await.unwrap();
    let mut request = format!(
        "*{}\r\n${}\r\n{command}\r\n",
        channels.len() + 1,
        command.len()
    );
    for channel in channels {
        request += &format!("${}\r\n{channel}\r\n", channel.len());
    }
    stream.write_all(request.as_bytes()).await.unwrap();
    // The last confirmation ends with the connection's subscription count.
    let last = format!(":{}\r\n", channels.len());
    read_until(&mut stream, |seen| seen.ends_with(last.as_bytes())).await;
    stream
}

/// Reads from `stream` until what was read satisfies `done`.
async fn read_until(stream: &mut TcpStream, done: impl Fn(&[u8]) -> bool) -> Vec<u8> {
    let mut seen = Vec::new();
    while !done(&seen) {
        let mut chunk = [0u8; 1024];
        let n = stream.read(&mut chunk).await.unwrap();
        assert!(n > 0, "the subscriber's connection closed");
        seen.extend_from_slice(&chunk[..n]);
    }
    seen
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

#[tokio::test]
async fn publish_and_introspect() {
    let server = RedisServer::start().unwrap();
    for client in both_protocols(&server).await {
        assert!(client.pubsub_channels::<String>().await.unwrap().is_empty());
        assert_eq!(client.pubsub_numpat().await.unwrap(), 0);
        assert_eq!(client.publish("news.a", "unheard").await.unwrap(), 0);
    }

    let mut first = subscriber(&server, "SUBSCRIBE", &["news.a", "news.b"]).await;
    let _second = subscriber(&server, "SUBSCRIBE", &["news.a", "sport"]).await;
    let mut pattern = subscriber(&server, "PSUBSCRIBE", &["news.*"]).await;
    let mut shard = subscriber(&server, "SSUBSCRIBE", &["s1", "s2"]).await;

    for (round, client) in both_protocols(&server).await.into_iter().enumerate() {
        // Two channel subscribers and one pattern subscriber receive it.
        let message = format!("hello{round}");
        assert_eq!(client.publish("news.a", &message).await.unwrap(), 3);
        let got = read_until(&mut first, |seen| contains(seen, &message)).await;
        assert!(contains(&got, "$6\r\nnews.a\r\n"));
        let got = read_until(&mut pattern, |seen| contains(seen, &message)).await;
        assert!(contains(&got, "pmessage"));
        assert_eq!(client.publish("sport", "goal").await.unwrap(), 1);
        assert_eq!(client.publish("nobody", "x").await.unwrap(), 0);

        let mut channels: Vec<String> = client.pubsub_channels().await.unwrap();
        channels.sort();
        assert_eq!(channels, ["news.a", "news.b", "sport"]);
        let mut news: Vec<String> = client.pubsub_channels_matching("news.*").await.unwrap();
        news.sort();
        assert_eq!(news, ["news.a", "news.b"]);

        let counts: Vec<(String, u64)> = client
            .pubsub_numsub(["news.a", "sport", "nobody"])
            .await
            .unwrap();
        let want = [("news.a", 2), ("sport", 1), ("nobody", 0)].map(|(c, n)| (c.to_string(), n));
        assert_eq!(counts, want);
        assert_eq!(client.pubsub_numpat().await.unwrap(), 1);

        // Shard channels: SPUBLISH reaches the shard subscriber only.
        let message = format!("shard{round}");
        assert_eq!(client.spublish("s1", &message).await.unwrap(), 1);
        let got = read_until(&mut shard, |seen| contains(seen, &message)).await;
        assert!(contains(&got, "smessage"));
        assert_eq!(client.spublish("news.a", "x").await.unwrap(), 0);
        assert_eq!(client.publish("s1", "x").await.unwrap(), 0);

        let mut shards: Vec<String> = client.pubsub_shardchannels().await.unwrap();
        shards.sort();
        assert_eq!(shards, ["s1", "s2"]);
        let matching: Vec<String> = client.pubsub_shardchannels_matching("*1").await.unwrap();
        assert_eq!(matching, ["s1"]);
        let counts: Vec<(String, u64)> = client.pubsub_shardnumsub(["s2", "news.a"]).await.unwrap();
        assert_eq!(counts, [("s2".to_string(), 1), ("news.a".to_string(), 0)]);
    }
}
