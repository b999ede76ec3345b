//! Where the subcommands connect: the server the connection flags name, or,
//! when they name none, a throwaway `redis-server` started from the `PATH`
//! (the embedded default), so the first command of the README works on a
//! machine with no Redis running.

use crate::server_args::ServerArgs;
use redwire::{Client, Config};
use redwire_testkit::RedisServer;

/// A server to talk to, and the embedded one when we started it: it lives as
/// long as this value, so it must outlast every client.
pub struct Target {
    /// Kept for its `Drop`, which stops the server.
    server: Option<RedisServer>,
}

/// Why there is no target: the command line was wrong (exit 2), or the
/// embedded server could not start (exit 3).
pub enum TargetError {
    /// A bad URL or flag combination.
    Usage(String),
    /// The throwaway server did not start.
    Failure(String),
}

impl Target {
    /// The server the flags name, or a throwaway one, announced on stderr: a
    /// user must never mistake it for their own data. Returns the client
    /// configuration with it (fail-fast, no response timeout: a person waits
    /// at the prompt, and `BLPOP 0` may wait forever).
    pub fn resolve(args: &ServerArgs, db: Option<i64>) -> Result<(Target, Config), TargetError> {
        let (server, base) = if args.names_a_server(db) {
            (None, None)
        } else {
            let server = RedisServer::start().map_err(|e| {
                TargetError::Failure(format!(
                    "no server given (-h/-p/-s/-u or REDIS_URL), and a throwaway redis-server \
                     could not be started ({e}); install redis-server or pass -h HOST -p PORT"
                ))
            })?;
            eprintln!(
                "redwire: no server given (-h/-p/-s/-u or REDIS_URL): started a throwaway \
                 redis-server at {} (it is stopped when redwire exits)",
                server.url()
            );
            let url = server.url();
            (Some(server), Some(url))
        };
        let config = args
            .config(base.as_deref(), db)
            .map_err(TargetError::Usage)?;
        let config = config
            .into_builder()
            .fail_fast(true)
            .response_timeout(None)
            .build();
        Ok((Target { server }, config))
    }

    /// True when the server is the throwaway one.
    pub fn is_embedded(&self) -> bool {
        self.server.is_some()
    }
}

/// Connects and turns the first error into a message that names the server
/// (never its password).
pub async fn connect(config: Config) -> Result<Client, String> {
    let shown = config.redacted_url();
    Client::connect(config)
        .await
        .map_err(|e| format!("cannot connect to {shown}: {e}"))
}
