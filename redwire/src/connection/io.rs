//! The byte stream under a connection: TCP, a unix socket or TLS over TCP, and
//! how one is opened.

use crate::config::{Addr, Config};
use crate::error::{Error, Result};
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::time::Instant;

/// An open stream to the server.
pub(crate) enum Transport {
    Tcp(TcpStream),
    #[cfg(unix)]
    Unix(tokio::net::UnixStream),
    #[cfg(feature = "tls")]
    Tls(Box<tokio_rustls::client::TlsStream<TcpStream>>),
    #[cfg(feature = "sim")]
    Memory(Box<dyn super::memory::MemoryStream>),
}

/// Opens streams to the configured address; cheap to clone. The TLS
/// configuration (certificates and keys read from disk) is built once, on a
/// blocking thread, and reused by every reconnect.
#[derive(Clone)]
pub(crate) struct Connector {
    config: Arc<Config>,
    #[cfg(feature = "tls")]
    tls: Arc<tokio::sync::OnceCell<Arc<rustls::ClientConfig>>>,
}

impl Connector {
    pub(crate) fn new(config: Arc<Config>) -> Self {
        Connector {
            config,
            #[cfg(feature = "tls")]
            tls: Arc::default(),
        }
    }

    pub(crate) fn config(&self) -> &Config {
        &self.config
    }

    /// Opens a stream (no handshake yet). Several addresses for one host name
    /// are tried in turn, each with an equal share of what is left of the
    /// connect timeout, so one that never answers cannot use up all of it.
    pub(crate) async fn open(&self) -> Result<Transport> {
        let config = &*self.config;
        let deadline = Instant::now() + config.connect_timeout;
        let primary;
        let addr = match &config.sentinel {
            Some(sentinel) => {
                primary = super::sentinel::server_addr(config, sentinel).await?;
                &primary
            }
            None => &config.addr,
        };
        #[cfg(feature = "sim")]
        if let Some(dialer) = &config.sim_dialer {
            return dialer
                .dial(addr)
                .await
                .map(Transport::Memory)
                .map_err(|e| Error::io(format_args!("cannot connect to {addr}"), e));
        }
        match addr {
            Addr::Tcp { host, port } => {
                let addrs: Vec<_> = tokio::net::lookup_host((host.as_str(), *port))
                    .await
                    .map_err(|e| Error::io(format_args!("cannot resolve host `{host}`"), e))?
                    .collect();
                let mut last = None;
                let mut stream = None;
                for (i, addr) in addrs.iter().enumerate() {
                    let share = deadline.saturating_duration_since(Instant::now())
                        / (addrs.len() - i) as u32;
                    match tokio::time::timeout(share, TcpStream::connect(addr)).await {
                        Ok(Ok(s)) => {
                            stream = Some(s);
                            break;
                        }
                        Ok(Err(e)) => last = Some(e),
                        Err(_) => {
                            last = Some(io::Error::new(
                                io::ErrorKind::TimedOut,
                                format!("{addr} did not answer within {share:?}"),
                            ))
                        }
                    }
                }
                let stream = stream.ok_or_else(|| {
                    let e = last.unwrap_or_else(|| io::Error::other("no address found"));
                    Error::io(format_args!("cannot connect to {addr}"), e)
                })?;
                if config.tcp_nodelay {
                    let _ = stream.set_nodelay(true);
                }
                if let Some(idle) = config.tcp_keepalive {
                    let keepalive = socket2::TcpKeepalive::new().with_time(idle);
                    let _ = socket2::SockRef::from(&stream).set_tcp_keepalive(&keepalive);
                }
                match &config.tls {
                    None => Ok(Transport::Tcp(stream)),
                    #[cfg(feature = "tls")]
                    Some(tls) => {
                        let client_config = self
                            .tls
                            .get_or_try_init(|| tls::load(tls.clone()))
                            .await?
                            .clone();
                        tls::wrap(stream, host, tls, client_config).await
                    }
                    #[cfg(not(feature = "tls"))]
                    Some(_) => Err(Error::config(
                        "rediss:// (TLS) needs redwire's `tls` feature to be enabled",
                    )),
                }
            }
            #[cfg(unix)]
            Addr::Unix(path) => tokio::net::UnixStream::connect(path)
                .await
                .map(Transport::Unix)
                .map_err(|e| Error::io(format_args!("cannot connect to {}", config.addr), e)),
            #[cfg(not(unix))]
            Addr::Unix(_) => Err(Error::config("unix sockets are not supported here")),
        }
    }
}

macro_rules! delegate {
    ($self:ident, $s:ident => $e:expr) => {
        match $self.get_mut() {
            Transport::Tcp($s) => {
                let $s = Pin::new($s);
                $e
            }
            #[cfg(unix)]
            Transport::Unix($s) => {
                let $s = Pin::new($s);
                $e
            }
            #[cfg(feature = "tls")]
            Transport::Tls($s) => {
                let $s = Pin::new(&mut **$s);
                $e
            }
            #[cfg(feature = "sim")]
            Transport::Memory($s) => {
                let $s = Pin::new(&mut **$s);
                $e
            }
        }
    };
}

impl AsyncRead for Transport {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        delegate!(self, s => s.poll_read(cx, buf))
    }
}

impl AsyncWrite for Transport {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        delegate!(self, s => s.poll_write(cx, buf))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        delegate!(self, s => s.poll_flush(cx))
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        delegate!(self, s => s.poll_shutdown(cx))
    }
}

#[cfg(feature = "tls")]
mod tls {
    //! rustls over TCP: roots from the configured CA file or the system store,
    //! an optional client certificate, verification always on unless the
    //! clearly named insecure option is set.

    use super::Transport;
    use crate::config::TlsConfig;
    use crate::error::{Error, ErrorKind, Result};
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
    use std::sync::Arc;
    use tokio::net::TcpStream;

    /// Builds the rustls configuration on a blocking thread: it reads
    /// certificate and key files, and maybe the system's root store.
    pub(super) async fn load(tls: TlsConfig) -> Result<Arc<rustls::ClientConfig>> {
        tokio::task::spawn_blocking(move || client_config(&tls).map(Arc::new))
            .await
            .map_err(|e| Error::new(ErrorKind::Tls, format!("loading the TLS setup failed: {e}")))?
    }

    pub(super) async fn wrap(
        stream: TcpStream,
        host: &str,
        tls: &TlsConfig,
        config: Arc<rustls::ClientConfig>,
    ) -> Result<Transport> {
        let name = tls.server_name.as_deref().unwrap_or(host);
        let name = ServerName::try_from(name.to_owned())
            .map_err(|e| Error::config(format!("invalid TLS server name `{name}`: {e}")))?;
        let stream = tokio_rustls::TlsConnector::from(config)
            .connect(name, stream)
            .await
            .map_err(|e| {
                Error::with_source(ErrorKind::Tls, format!("TLS handshake failed: {e}"), e)
            })?;
        Ok(Transport::Tls(Box::new(stream)))
    }

    fn provider() -> Arc<rustls::crypto::CryptoProvider> {
        Arc::new(rustls::crypto::ring::default_provider())
    }

    fn client_config(tls: &TlsConfig) -> Result<rustls::ClientConfig> {
        let tls_err = |what: String| Error::new(ErrorKind::Tls, what);
        let builder = rustls::ClientConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .map_err(|e| tls_err(format!("TLS setup failed: {e}")))?;
        let builder = if tls.insecure_skip_verify {
            builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(NoVerify(provider())))
        } else {
            let mut roots = rustls::RootCertStore::empty();
            match &tls.ca_file {
                Some(path) => {
                    let certs = CertificateDer::pem_file_iter(path).map_err(|e| {
                        tls_err(format!("cannot read CA file {}: {e}", path.display()))
                    })?;
                    for cert in certs {
                        let cert = cert.map_err(|e| {
                            tls_err(format!("bad certificate in {}: {e}", path.display()))
                        })?;
                        roots.add(cert).map_err(|e| {
                            tls_err(format!("bad CA certificate in {}: {e}", path.display()))
                        })?;
                    }
                }
                None => {
                    for cert in rustls_native_certs::load_native_certs().certs {
                        let _ = roots.add(cert);
                    }
                }
            }
            builder.with_root_certificates(roots)
        };
        match &tls.client_cert {
            None => Ok(builder.with_no_client_auth()),
            Some((cert, key)) => {
                let chain = CertificateDer::pem_file_iter(cert)
                    .and_then(|it| it.collect::<std::result::Result<Vec<_>, _>>())
                    .map_err(|e| {
                        tls_err(format!(
                            "cannot read client certificate {}: {e}",
                            cert.display()
                        ))
                    })?;
                let key = PrivateKeyDer::from_pem_file(key).map_err(|e| {
                    tls_err(format!("cannot read client key {}: {e}", key.display()))
                })?;
                builder
                    .with_client_auth_cert(chain, key)
                    .map_err(|e| tls_err(format!("bad client certificate or key: {e}")))
            }
        }
    }

    /// Accepts every certificate: what `insecure_skip_verify` asks for.
    #[derive(Debug)]
    struct NoVerify(Arc<rustls::crypto::CryptoProvider>);

    impl rustls::client::danger::ServerCertVerifier for NoVerify {
        fn verify_server_cert(
            &self,
            _: &CertificateDer<'_>,
            _: &[CertificateDer<'_>],
            _: &ServerName<'_>,
            _: &[u8],
            _: rustls::pki_types::UnixTime,
        ) -> std::result::Result<rustls::client::danger::ServerCertVerified, rustls::Error>
        {
            Ok(rustls::client::danger::ServerCertVerified::assertion())
        }

        fn verify_tls12_signature(
            &self,
            message: &[u8],
            cert: &CertificateDer<'_>,
            dss: &rustls::DigitallySignedStruct,
        ) -> std::result::Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error>
        {
            rustls::crypto::verify_tls12_signature(
                message,
                cert,
                dss,
                &self.0.signature_verification_algorithms,
            )
        }

        fn verify_tls13_signature(
            &self,
            message: &[u8],
            cert: &CertificateDer<'_>,
            dss: &rustls::DigitallySignedStruct,
        ) -> std::result::Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error>
        {
            rustls::crypto::verify_tls13_signature(
                message,
                cert,
                dss,
                &self.0.signature_verification_algorithms,
            )
        }

        fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
            self.0.signature_verification_algorithms.supported_schemes()
        }
    }
}
