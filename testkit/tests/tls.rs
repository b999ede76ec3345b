//! TLS: a server built with `.tls(true)` answers on its TLS port to a client that
//! trusts the generated CA (with or without a client certificate), and a client
//! that trusts another CA is refused in the handshake.

use redwire_testkit::{RedisServer, TestCa};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use rustls::{ClientConfig, ClientConnection, RootCertStore, StreamOwned};
use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

fn roots(ca_pem: &[u8]) -> RootCertStore {
    let mut roots = RootCertStore::empty();
    roots
        .add(CertificateDer::from_pem_slice(ca_pem).unwrap())
        .unwrap();
    roots
}

fn config(roots: RootCertStore, client_cert: Option<(&Path, &Path)>) -> Arc<ClientConfig> {
    // The provider is named, so the test does not depend on which rustls
    // crypto features other crates of the workspace switch on.
    let builder =
        ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots);
    let config = match client_cert {
        Some((cert, key)) => builder
            .with_client_auth_cert(
                vec![CertificateDer::from_pem_file(cert).unwrap()],
                PrivateKeyDer::from_pem_file(key).unwrap(),
            )
            .unwrap(),
        None => builder.with_no_client_auth(),
    };
    Arc::new(config)
}

/// Sends PING over TLS and returns the raw reply.
fn tls_ping(port: u16, name: &str, config: Arc<ClientConfig>) -> io::Result<Vec<u8>> {
    let tcp = TcpStream::connect(("127.0.0.1", port))?;
    tcp.set_read_timeout(Some(Duration::from_secs(5)))?;
    let server_name = ServerName::try_from(name.to_string()).unwrap();
    let conn = ClientConnection::new(config, server_name).map_err(io::Error::other)?;
    let mut tls = StreamOwned::new(conn, tcp);
    tls.write_all(b"*1\r\n$4\r\nPING\r\n")?;
    let mut reply = [0u8; 7];
    tls.read_exact(&mut reply)?;
    Ok(reply.to_vec())
}

#[test]
fn a_client_trusting_the_test_ca_gets_pong_over_tls() {
    let server = RedisServer::builder().tls(true).start().unwrap();
    let tls_port = server.tls_port().unwrap();
    assert_ne!(tls_port, server.port());
    assert_eq!(
        server.tls_url().unwrap(),
        format!("rediss://127.0.0.1:{tls_port}")
    );

    let ca = std::fs::read(server.tls_ca_cert_path().unwrap()).unwrap();
    // The certificate is good for the name and for the address.
    for name in ["localhost", "127.0.0.1"] {
        let reply = tls_ping(tls_port, name, config(roots(&ca), None)).unwrap();
        assert_eq!(reply, b"+PONG\r\n", "as {name}");
    }
    // The plain port stays open.
    assert_eq!(
        server.command(&["PING"]).unwrap(),
        redwire_testkit::Frame::Simple("PONG".into())
    );
}

#[test]
fn the_generated_client_certificate_is_accepted() {
    let server = RedisServer::builder()
        .tls(true)
        .password("pw")
        .start()
        .unwrap();
    assert!(server
        .tls_url()
        .unwrap()
        .starts_with("rediss://:pw@127.0.0.1:"));
    let ca = std::fs::read(server.tls_ca_cert_path().unwrap()).unwrap();
    let client = (
        server.tls_client_cert_path().unwrap(),
        server.tls_client_key_path().unwrap(),
    );
    let reply = tls_ping(
        server.tls_port().unwrap(),
        "localhost",
        config(roots(&ca), Some(client)),
    )
    .unwrap();
    // Past the TLS handshake, the password is still required.
    assert!(
        reply.starts_with(b"-NOAUTH"),
        "{:?}",
        String::from_utf8_lossy(&reply)
    );
}

#[test]
fn a_client_certificate_from_another_ca_is_refused() {
    let server = RedisServer::builder().tls(true).start().unwrap();
    let ca = std::fs::read(server.tls_ca_cert_path().unwrap()).unwrap();
    let stranger = TestCa::generate().unwrap().issue_client("mallory").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = (dir.path().join("m.crt"), dir.path().join("m.key"));
    stranger.write(&cert, &key).unwrap();
    let result = tls_ping(
        server.tls_port().unwrap(),
        "localhost",
        config(roots(&ca), Some((&cert, &key))),
    );
    let err = result.expect_err("a foreign client certificate was accepted");
    // The server says why in a TLS alert.
    assert!(err.to_string().contains("UnknownCA"), "{err}");
}

#[test]
fn a_client_trusting_another_ca_fails_the_handshake() {
    let server = RedisServer::builder().tls(true).start().unwrap();
    let wrong_ca = TestCa::generate().unwrap();
    let err = tls_ping(
        server.tls_port().unwrap(),
        "localhost",
        config(roots(wrong_ca.cert_pem().as_bytes()), None),
    )
    .unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("UnknownIssuer") || text.contains("invalid peer certificate"),
        "{text}"
    );
}

#[test]
fn the_server_ca_can_issue_more_trusted_certificates() {
    let server = RedisServer::builder().tls(true).start().unwrap();
    let ca = server.tls_ca().unwrap();
    let bob = ca.issue_client("bob").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = (dir.path().join("bob.crt"), dir.path().join("bob.key"));
    bob.write(&cert, &key).unwrap();
    let reply = tls_ping(
        server.tls_port().unwrap(),
        "localhost",
        config(roots(ca.cert_pem().as_bytes()), Some((&cert, &key))),
    )
    .unwrap();
    assert_eq!(reply, b"+PONG\r\n");
}
