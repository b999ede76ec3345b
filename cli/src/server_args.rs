//! The connection flags a redis-cli or redis-benchmark user types (`-h`, `-p`,
//! `-s`, `-a`, `--user`, `--tls` and its files, `-2`/`-3`) beside redwire's
//! `-u URL`, and the client [`Config`] they make.
//!
//! `-u URL` (or `REDIS_URL`) is the base and every flag given overrides its
//! part of it; with none of them (and no database), the caller starts the
//! embedded throwaway server instead.

use redwire::{Config, Protocol, TlsConfig};
use std::path::PathBuf;

/// Where to connect and how, as redis-cli spells it.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct ServerArgs {
    /// Server URL: redis://user:password@host:port/db (user and password optional), rediss://…, unix:///path
    #[arg(short = 'u', long = "url", env = "REDIS_URL", value_name = "URL")]
    pub url: Option<String>,
    /// Server host name or IP [default: 127.0.0.1]
    #[arg(short = 'h', long = "host", value_name = "HOST")]
    pub host: Option<String>,
    /// Server port [default: 6379]
    #[arg(short = 'p', long = "port", value_name = "PORT")]
    pub port: Option<u16>,
    /// Server unix socket (overrides host and port)
    #[arg(short = 's', long = "socket", value_name = "SOCKET")]
    pub socket: Option<PathBuf>,
    /// Password (AUTH); also read from REDISCLI_AUTH
    #[arg(
        short = 'a',
        long = "pass",
        env = "REDISCLI_AUTH",
        hide_env_values = true,
        value_name = "PASSWORD"
    )]
    pub password: Option<String>,
    /// ACL user name (with -a)
    #[arg(long = "user", value_name = "USERNAME")]
    pub user: Option<String>,
    /// Do not warn that -a on the command line may not be safe
    #[arg(long)]
    pub no_auth_warning: bool,
    /// Connect with TLS
    #[arg(long)]
    pub tls: bool,
    /// CA certificate file (PEM) to verify the server with, instead of the system's roots
    #[arg(long, value_name = "FILE")]
    pub cacert: Option<PathBuf>,
    /// Client certificate (PEM) to present, with --key
    #[arg(long, value_name = "FILE", requires = "key")]
    pub cert: Option<PathBuf>,
    /// Private key (PEM) of the client certificate, with --cert
    #[arg(long, value_name = "FILE", requires = "cert")]
    pub key: Option<PathBuf>,
    /// Server name for SNI and verification, when it differs from the host
    #[arg(long, value_name = "HOST")]
    pub sni: Option<String>,
    /// Accept any server certificate (tests only: no protection against a man in the middle)
    #[arg(long)]
    pub insecure: bool,
    /// Speak RESP2 (no HELLO)
    #[arg(short = '2', long = "resp2", conflicts_with = "resp3")]
    pub resp2: bool,
    /// Require RESP3 (default: RESP3, falling back to RESP2 on servers without HELLO)
    #[arg(short = '3', long = "resp3")]
    pub resp3: bool,
}

impl ServerArgs {
    /// True when any flag says where or how to connect (the protocol aside):
    /// then the embedded server is not started.
    pub fn names_a_server(&self, db: Option<i64>) -> bool {
        self.url.is_some()
            || self.host.is_some()
            || self.port.is_some()
            || self.socket.is_some()
            || self.password.is_some()
            || self.user.is_some()
            || self.tls_wanted()
            || db.is_some()
    }

    fn tls_wanted(&self) -> bool {
        self.tls
            || self.cacert.is_some()
            || self.cert.is_some()
            || self.key.is_some()
            || self.sni.is_some()
            || self.insecure
    }

    /// The configuration: the URL (or `base`, the embedded server's, or
    /// 127.0.0.1:6379), then each flag given. An error is a usage error.
    pub fn config(&self, base: Option<&str>, db: Option<i64>) -> Result<Config, String> {
        let url = self.url.as_deref().or(base);
        let mut b = match url {
            Some(url) => Config::from_url(url)
                .map_err(|e| format!("bad URL: {}", e.message()))?
                .into_builder(),
            None => Config::builder().host("127.0.0.1").port(6379),
        };
        if let Some(host) = &self.host {
            b = b.host(host.clone());
        }
        if let Some(port) = self.port {
            // A port after a unix:// URL means TCP on the URL's… nothing: TCP on localhost.
            if self.host.is_none() && url.is_some_and(|u| u.starts_with("unix:")) {
                b = b.host("127.0.0.1");
            }
            b = b.port(port);
        }
        if let Some(socket) = &self.socket {
            b = b.unix_socket(socket);
        }
        if let Some(user) = &self.user {
            if self.password.is_none() {
                return Err("--user needs a password (-a PASSWORD)".into());
            }
            b = b.username(user.clone());
        }
        if let Some(password) = &self.password {
            if !self.no_auth_warning && std::env::var_os("REDISCLI_AUTH").is_none() {
                eprintln!(
                    "Warning: Using a password with '-a' option on the command line interface \
                     may not be safe."
                );
            }
            b = b.password(password.clone());
        }
        if let Some(db) = db {
            b = b.database(db);
        }
        if self.tls_wanted() {
            if self.socket.is_some() {
                return Err("--tls does not apply to a unix socket (-s)".into());
            }
            let mut tls = TlsConfig::default().insecure_skip_verify(self.insecure);
            if let Some(ca) = &self.cacert {
                tls = tls.ca_file(ca);
            }
            if let (Some(cert), Some(key)) = (&self.cert, &self.key) {
                tls = tls.client_cert(cert, key);
            }
            if let Some(sni) = &self.sni {
                tls = tls.server_name(sni.clone());
            }
            b = b.tls(tls);
        }
        if self.resp2 {
            b = b.protocol(Protocol::Resp2);
        } else if self.resp3 {
            b = b.protocol(Protocol::Resp3);
        }
        Ok(b.build())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use redwire::Addr;

    #[test]
    fn flags_override_the_url_part_by_part() {
        let args = ServerArgs {
            url: Some("redis://example.com:7000/1".into()),
            port: Some(7001),
            ..ServerArgs::default()
        };
        let c = args.config(None, Some(4)).unwrap();
        assert_eq!(
            c.addr(),
            &Addr::Tcp {
                host: "example.com".into(),
                port: 7001
            }
        );
        assert_eq!(c.database(), 4);
        assert!(args.names_a_server(None));
    }

    #[test]
    fn without_a_url_the_default_is_redis_clis() {
        let args = ServerArgs {
            socket: Some("/tmp/r.sock".into()),
            ..ServerArgs::default()
        };
        let c = args.config(None, None).unwrap();
        assert_eq!(c.addr(), &Addr::Unix("/tmp/r.sock".into()));
        let none = ServerArgs::default();
        assert!(!none.names_a_server(None));
        assert!(
            none.names_a_server(Some(0)),
            "-n alone names 127.0.0.1:6379"
        );
        assert_eq!(
            none.config(None, None).unwrap().addr().to_string(),
            "127.0.0.1:6379"
        );
    }

    #[test]
    fn usage_errors_are_reported_not_guessed() {
        let bad = ServerArgs {
            url: Some("http://x".into()),
            ..ServerArgs::default()
        };
        assert!(bad.config(None, None).unwrap_err().starts_with("bad URL"));
        let user = ServerArgs {
            user: Some("bob".into()),
            ..ServerArgs::default()
        };
        assert!(user.config(None, None).is_err());
        let tls_socket = ServerArgs {
            socket: Some("/tmp/s".into()),
            tls: true,
            ..ServerArgs::default()
        };
        assert!(tls_socket.config(None, None).is_err());
    }
}
