//! TLS against `redis-server --tls-port` with a CA that testkit generates.

#![cfg(feature = "tls")]

mod support;

use redwire::{cmd, Client, Config, ErrorKind, TlsConfig, Value};
use redwire_testkit::{RedisServer, TestCa};
use support::config;

fn tls_config(server: &RedisServer, tls: TlsConfig) -> Config {
    config(&server.tls_url().unwrap())
        .into_builder()
        .tls(tls)
        .build()
}

#[tokio::test]
async fn connects_with_the_right_ca() {
    let server = RedisServer::builder().tls(true).start().unwrap();
    let tls = TlsConfig::default().ca_file(server.tls_ca_cert_path().unwrap());
    let client = Client::connect(tls_config(&server, tls)).await.unwrap();
    assert_eq!(
        client.send(&cmd("PING")).await.unwrap(),
        Value::Simple("PONG".into())
    );
    client
        .send(&cmd("SET").arg("k").arg("over tls"))
        .await
        .unwrap();
    let v: String = client.query(&cmd("GET").arg("k")).await.unwrap();
    assert_eq!(v, "over tls");
    assert!(client.config().is_tls());
}

#[tokio::test]
async fn presents_a_client_certificate() {
    let server = RedisServer::builder()
        .tls(true)
        .config("tls-auth-clients yes")
        .start()
        .unwrap();
    let ca = server.tls_ca_cert_path().unwrap();
    // Without a client certificate the server refuses us.
    let without = TlsConfig::default().ca_file(ca);
    assert!(Client::connect(tls_config(&server, without)).await.is_err());
    let with = TlsConfig::default().ca_file(ca).client_cert(
        server.tls_client_cert_path().unwrap(),
        server.tls_client_key_path().unwrap(),
    );
    let client = Client::connect(tls_config(&server, with)).await.unwrap();
    assert_eq!(
        client.send(&cmd("PING")).await.unwrap(),
        Value::Simple("PONG".into())
    );
}

#[tokio::test]
async fn a_wrong_ca_is_refused_with_a_tls_error() {
    let server = RedisServer::builder().tls(true).start().unwrap();
    let other = TestCa::generate().unwrap();
    let path = server.dir().join("other-ca.pem");
    other.write_cert(&path).unwrap();
    let err = Client::connect(tls_config(&server, TlsConfig::default().ca_file(&path)))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Tls, "{err}");
    assert!(err.message().contains("TLS handshake failed"), "{err}");
    // Only the clearly named insecure switch gets past verification.
    let insecure = TlsConfig::default().insecure_skip_verify(true);
    let client = Client::connect(tls_config(&server, insecure))
        .await
        .unwrap();
    assert!(client.send(&cmd("PING")).await.is_ok());
}

#[tokio::test]
async fn a_missing_ca_file_is_a_clear_error() {
    let server = RedisServer::builder().tls(true).start().unwrap();
    let tls = TlsConfig::default().ca_file("/nonexistent/ca.pem");
    let err = Client::connect(tls_config(&server, tls)).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Tls);
    assert!(err.message().contains("/nonexistent/ca.pem"), "{err}");
}

/// Certificates and keys are read once, not on every reconnect (which would
/// block the runtime on file reads): removed from disk after the first
/// connection, they are not needed by the next.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn certificates_are_read_once() {
    let server = RedisServer::builder()
        .tls(true)
        .config("tls-auth-clients yes")
        .start()
        .unwrap();
    let dir = server.dir().join("client-copies");
    std::fs::create_dir_all(&dir).unwrap();
    let copy = |from: &std::path::Path, name: &str| {
        let to = dir.join(name);
        std::fs::copy(from, &to).unwrap();
        to
    };
    let ca = copy(server.tls_ca_cert_path().unwrap(), "ca.pem");
    let cert = copy(server.tls_client_cert_path().unwrap(), "cert.pem");
    let key = copy(server.tls_client_key_path().unwrap(), "key.pem");
    let tls = TlsConfig::default().ca_file(&ca).client_cert(&cert, &key);
    let client = Client::connect(tls_config(&server, tls)).await.unwrap();
    let mut events = client.events();
    for file in [&ca, &cert, &key] {
        std::fs::remove_file(file).unwrap();
    }
    server
        .command(&["CLIENT", "KILL", "TYPE", "normal"])
        .unwrap();
    support::wait_event(&mut events, std::time::Duration::from_secs(5), |e| {
        matches!(e, redwire::Event::Connected { .. }).then_some(())
    })
    .await;
    assert_eq!(
        client.send(&cmd("PING")).await.unwrap(),
        Value::Simple("PONG".into())
    );
}

#[tokio::test]
async fn subscribers_monitors_and_dedicated_connections_speak_tls_too() {
    let server = RedisServer::builder().tls(true).start().unwrap();
    let tls = TlsConfig::default().ca_file(server.tls_ca_cert_path().unwrap());
    let config = tls_config(&server, tls);
    let client = Client::connect(config.clone()).await.unwrap();
    let (subscriber, mut messages) = redwire::Subscriber::connect(config.clone()).await.unwrap();
    subscriber.subscribe("secure").await.unwrap();
    let receivers: i64 = client
        .query(&cmd("PUBLISH").arg("secure").arg("hi"))
        .await
        .unwrap();
    assert_eq!(receivers, 1);
    let message = messages.recv().await.unwrap().unwrap();
    assert_eq!(message.payload, "hi");

    let mut monitor = redwire::Monitor::connect(config.clone()).await.unwrap();
    let mut conn = redwire::Connection::connect(config).await.unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        assert!(std::time::Instant::now() < deadline, "no SET in the feed");
        conn.send(&cmd("SET").arg("seen").arg(1)).await.unwrap();
        let line =
            tokio::time::timeout(std::time::Duration::from_millis(200), monitor.recv()).await;
        if let Ok(Some(Ok(line))) = line {
            if String::from_utf8_lossy(&line).contains("\"SET\" \"seen\"") {
                break;
            }
        }
    }
}
