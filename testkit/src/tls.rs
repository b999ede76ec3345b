//! Throwaway certificates for TLS tests: a test CA, a server certificate for
//! `localhost` / `127.0.0.1` and a client certificate, all made with rcgen
//! (only with the `tls-certs` feature, so that a binary using the kit's
//! process management does not ship test-only crypto).
//!
//! Every CA is freshly generated, so two of them never trust each other; a test
//! that wants "the wrong CA" simply generates another one.

use rcgen::{
    BasicConstraints, Certificate, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose,
};
use std::io;
use std::path::Path;

/// A certificate authority that exists only for one test run.
///
/// ```
/// use redwire_testkit::TestCa;
///
/// let ca = TestCa::generate()?;
/// assert!(ca.cert_pem().starts_with("-----BEGIN CERTIFICATE-----"));
/// let server = ca.issue_server(&["localhost", "127.0.0.1"])?;
/// assert!(server.key_pem().contains("PRIVATE KEY"));
/// // Another CA is a stranger: it shares nothing with the first.
/// assert_ne!(TestCa::generate()?.cert_der(), ca.cert_der());
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct TestCa {
    cert: Certificate,
    key: KeyPair,
}

/// A certificate signed by a [`TestCa`] and its private key, both PEM-encoded.
///
/// ```
/// let ca = redwire_testkit::TestCa::generate()?;
/// let client = ca.issue_client("redwire test client")?;
/// assert!(client.cert_pem().contains("BEGIN CERTIFICATE"));
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Clone)]
pub struct TestCert {
    cert_pem: String,
    cert_der: Vec<u8>,
    key_pem: String,
}

impl TestCa {
    /// Generates a new CA with a fresh key.
    ///
    /// ```
    /// let ca = redwire_testkit::TestCa::generate()?;
    /// assert!(!ca.cert_der().is_empty());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn generate() -> io::Result<TestCa> {
        let key = KeyPair::generate().map_err(tls_error)?;
        let mut params = CertificateParams::new(Vec::<String>::new()).map_err(tls_error)?;
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(DnType::CommonName, "redwire test CA");
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let cert = params.self_signed(&key).map_err(tls_error)?;
        Ok(TestCa { cert, key })
    }

    /// The CA certificate in PEM, what a client puts in its trust store.
    ///
    /// ```
    /// let ca = redwire_testkit::TestCa::generate()?;
    /// assert!(ca.cert_pem().contains("BEGIN CERTIFICATE"));
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn cert_pem(&self) -> String {
        self.cert.pem()
    }

    /// The CA certificate in DER.
    ///
    /// ```
    /// let ca = redwire_testkit::TestCa::generate()?;
    /// assert_eq!(ca.cert_der()[0], 0x30); // an ASN.1 SEQUENCE
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn cert_der(&self) -> Vec<u8> {
        self.cert.der().to_vec()
    }

    /// Writes the CA certificate as PEM to `path`.
    ///
    /// ```
    /// let dir = tempfile::tempdir()?;
    /// let ca = redwire_testkit::TestCa::generate()?;
    /// ca.write_cert(&dir.path().join("ca.crt"))?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn write_cert(&self, path: &Path) -> io::Result<()> {
        std::fs::write(path, self.cert_pem())
    }

    /// Issues a server certificate for the given DNS names and IP addresses.
    ///
    /// It is also good for client authentication, because Redis presents the same
    /// certificate when it connects to other nodes (replication, cluster bus).
    ///
    /// ```
    /// let ca = redwire_testkit::TestCa::generate()?;
    /// let cert = ca.issue_server(&["localhost", "127.0.0.1", "::1"])?;
    /// assert!(cert.cert_pem().contains("BEGIN CERTIFICATE"));
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn issue_server(&self, names: &[&str]) -> io::Result<TestCert> {
        let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
        let common_name = names.first().cloned().unwrap_or_else(|| "localhost".into());
        self.issue(
            names,
            &common_name,
            vec![
                ExtendedKeyUsagePurpose::ServerAuth,
                ExtendedKeyUsagePurpose::ClientAuth,
            ],
        )
    }

    /// Issues a client certificate with the given common name.
    ///
    /// ```
    /// let ca = redwire_testkit::TestCa::generate()?;
    /// let cert = ca.issue_client("alice")?;
    /// assert!(cert.key_pem().contains("PRIVATE KEY"));
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn issue_client(&self, common_name: &str) -> io::Result<TestCert> {
        self.issue(
            Vec::new(),
            common_name,
            vec![ExtendedKeyUsagePurpose::ClientAuth],
        )
    }

    fn issue(
        &self,
        names: Vec<String>,
        common_name: &str,
        usages: Vec<ExtendedKeyUsagePurpose>,
    ) -> io::Result<TestCert> {
        let key = KeyPair::generate().map_err(tls_error)?;
        let mut params = CertificateParams::new(names).map_err(tls_error)?;
        params
            .distinguished_name
            .push(DnType::CommonName, common_name);
        params.key_usages = vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyEncipherment,
        ];
        params.extended_key_usages = usages;
        params.use_authority_key_identifier_extension = true;
        let cert = params
            .signed_by(&key, &self.cert, &self.key)
            .map_err(tls_error)?;
        Ok(TestCert {
            cert_pem: cert.pem(),
            cert_der: cert.der().to_vec(),
            key_pem: key.serialize_pem(),
        })
    }
}

impl TestCert {
    /// The certificate in PEM.
    ///
    /// ```
    /// let ca = redwire_testkit::TestCa::generate()?;
    /// assert!(ca.issue_client("c")?.cert_pem().starts_with("-----BEGIN CERTIFICATE-----"));
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn cert_pem(&self) -> &str {
        &self.cert_pem
    }

    /// The certificate in DER.
    ///
    /// ```
    /// let ca = redwire_testkit::TestCa::generate()?;
    /// assert_eq!(ca.issue_client("c")?.cert_der()[0], 0x30);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn cert_der(&self) -> &[u8] {
        &self.cert_der
    }

    /// The private key in PEM (PKCS#8).
    ///
    /// ```
    /// let ca = redwire_testkit::TestCa::generate()?;
    /// assert!(ca.issue_client("c")?.key_pem().contains("BEGIN PRIVATE KEY"));
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn key_pem(&self) -> &str {
        &self.key_pem
    }

    /// Writes the certificate and the key as PEM files.
    ///
    /// ```
    /// let dir = tempfile::tempdir()?;
    /// let ca = redwire_testkit::TestCa::generate()?;
    /// let cert = ca.issue_client("c")?;
    /// cert.write(&dir.path().join("c.crt"), &dir.path().join("c.key"))?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn write(&self, cert_path: &Path, key_path: &Path) -> io::Result<()> {
        std::fs::write(cert_path, &self.cert_pem)?;
        std::fs::write(key_path, &self.key_pem)
    }
}

fn tls_error(e: rcgen::Error) -> io::Error {
    io::Error::other(format!("generating a test certificate failed: {e}"))
}
