//! The typed HyperLogLog commands against a real redis-server, over RESP2 and
//! RESP3: adding, counting one key and a union, merging.

mod support;

use redwire::prelude::*;
use redwire_testkit::RedisServer;
use support::{both_protocols, flush};

#[tokio::test]
async fn add_count_and_merge() {
    let server = RedisServer::start().unwrap();
    for client in both_protocols(&server).await {
        flush(&client).await;

        // PFADD is true when the estimate changed.
        assert!(client.pfadd("h1", ["a", "b", "c"]).await.unwrap());
        assert!(!client.pfadd("h1", ["a", "b"]).await.unwrap());
        assert!(client.pfadd("h2", ["c", "d"]).await.unwrap());
        assert_eq!(client.pfcount("h1").await.unwrap(), 3);
        assert_eq!(client.pfcount("missing").await.unwrap(), 0);
        // Several keys: the count of their union.
        assert_eq!(client.pfcount(["h1", "h2"]).await.unwrap(), 4);

        // PFMERGE stores the union, including what the destination held.
        client.pfmerge("u", ["h1", "h2"]).await.unwrap();
        assert_eq!(client.pfcount("u").await.unwrap(), 4);
        client.pfadd("z", "zed").await.unwrap();
        client.pfmerge("z", "h1").await.unwrap();
        assert_eq!(client.pfcount("z").await.unwrap(), 4);
        assert_eq!(
            client.pfcount("h1").await.unwrap(),
            3,
            "sources are unchanged"
        );
    }
}
