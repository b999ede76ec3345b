//! The certificate files of a TLS-enabled [`RedisServer`](crate::RedisServer),
//! made by [`TestCa`](crate::TestCa) when the `tls-certs` feature is on, and
//! a clear error when it is off.

use std::io;
use std::path::{Path, PathBuf};

/// The PEM files a TLS-enabled server was started with, all inside its temp dir.
pub(crate) struct TlsFiles {
    #[cfg(feature = "tls-certs")]
    pub(crate) ca: crate::tls::TestCa,
    pub(crate) ca_cert: PathBuf,
    pub(crate) server_cert: PathBuf,
    pub(crate) server_key: PathBuf,
    pub(crate) client_cert: PathBuf,
    pub(crate) client_key: PathBuf,
}

impl TlsFiles {
    /// Generates a CA, a server and a client certificate and writes them to `dir`.
    #[cfg(feature = "tls-certs")]
    pub(crate) fn create(dir: &Path) -> io::Result<TlsFiles> {
        let ca = crate::tls::TestCa::generate()?;
        let files = TlsFiles {
            ca_cert: dir.join("ca.crt"),
            server_cert: dir.join("server.crt"),
            server_key: dir.join("server.key"),
            client_cert: dir.join("client.crt"),
            client_key: dir.join("client.key"),
            ca,
        };
        files.ca.write_cert(&files.ca_cert)?;
        files
            .ca
            .issue_server(&["localhost", "127.0.0.1"])?
            .write(&files.server_cert, &files.server_key)?;
        files
            .ca
            .issue_client("redwire test client")?
            .write(&files.client_cert, &files.client_key)?;
        Ok(files)
    }

    /// Without the `tls-certs` feature there is nothing to make certificates with.
    #[cfg(not(feature = "tls-certs"))]
    pub(crate) fn create(_dir: &Path) -> io::Result<TlsFiles> {
        Err(io::Error::other(
            "a TLS test server needs redwire-testkit's `tls-certs` feature \
             (redwire-testkit = { features = [\"tls-certs\"] })",
        ))
    }
}
