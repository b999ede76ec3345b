//! Where the subcommands connect: `-u URL`, else `REDIS_URL`, else a throwaway
//! `redis-server` started from the `PATH` (the embedded default), so the first
//! command of the README works on a machine with no Redis running.

use redwire::{Client, Config, Protocol};
use redwire_testkit::RedisServer;

/// A server to talk to, and the embedded one when we started it: it lives as
/// long as this value, so it must outlast every client.
pub struct Target {
    pub url: String,
    /// Kept for its `Drop`, which stops the server.
    server: Option<RedisServer>,
}

impl Target {
    /// Uses `url` (from `-u` or `REDIS_URL`), or starts a throwaway server and
    /// says so on stderr: a user must never mistake it for their own data.
    pub fn resolve(url: Option<String>) -> Result<Target, String> {
        if let Some(url) = url {
            return Ok(Target { url, server: None });
        }
        let server = RedisServer::start().map_err(|e| {
            format!(
                "no -u URL and no REDIS_URL given, and a throwaway redis-server could not be \
                 started ({e}); install redis-server or pass -u redis://HOST:PORT"
            )
        })?;
        eprintln!(
            "redwire: no -u URL and no REDIS_URL given: started a throwaway redis-server at {} \
             (it is stopped when redwire exits)",
            server.url()
        );
        Ok(Target {
            url: server.url(),
            server: Some(server),
        })
    }

    /// [`resolve`](Self::resolve) and [`config`](Self::config) in one step,
    /// as both subcommands start.
    pub fn resolve_with_config(
        url: Option<String>,
        resp2: bool,
    ) -> Result<(Target, Config), String> {
        let target = Target::resolve(url)?;
        let config = target.config(resp2)?;
        Ok((target, config))
    }

    /// True when the server is the throwaway one.
    pub fn is_embedded(&self) -> bool {
        self.server.is_some()
    }

    /// The client configuration for this target.
    pub fn config(&self, resp2: bool) -> Result<Config, String> {
        let config = Config::from_url(&self.url).map_err(|e| format!("bad URL: {e}"))?;
        let mut builder = config.into_builder();
        if resp2 {
            builder = builder.protocol(Protocol::Resp2);
        }
        // A command-line client has one user waiting at the prompt: a dropped
        // connection should fail the command now, not queue it behind a backoff,
        // and a blocking command (BLPOP 0) may legitimately wait forever.
        Ok(builder.fail_fast(true).response_timeout(None).build())
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
