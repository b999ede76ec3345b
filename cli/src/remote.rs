//! What the cli talks to: one server through a shared [`Client`], or a
//! cluster through a [`ClusterClient`] (`-c`) that routes each command to the
//! node of its keys, follows redirections and fans out whole-cluster
//! commands. The one-shot, file and prompt modes use it alike.

use redwire::cluster::ClusterClient;
use redwire::{Client, Cmd, Config, ConnectionState, Pipeline, Value};

#[derive(Clone)]
pub enum Remote {
    Single(Client),
    Cluster(ClusterClient),
}

impl Remote {
    /// Connects to the server, or (with `cluster`) to the cluster whose seed
    /// node `config` names.
    pub async fn connect(config: Config, cluster: bool) -> Result<Remote, String> {
        if !cluster {
            return crate::target::connect(config).await.map(Remote::Single);
        }
        let shown = config.redacted_url();
        ClusterClient::connect(config)
            .await
            .map(Remote::Cluster)
            .map_err(|e| format!("cannot reach the cluster at {shown}: {e}"))
    }

    /// Sends a command as the user typed it (a blocking one on a
    /// connection of its own).
    pub async fn send(&self, cmd: &Cmd) -> redwire::Result<Value> {
        match self {
            Remote::Single(client) => send(client, cmd).await,
            Remote::Cluster(cluster) => cluster.send(cmd).await,
        }
    }

    /// Sends a pipeline (a cluster splits it by node and answers in order).
    pub async fn pipeline(&self, p: &Pipeline) -> redwire::Result<Vec<redwire::Result<Value>>> {
        match self {
            Remote::Single(client) => client.pipeline(p).await,
            Remote::Cluster(cluster) => cluster.pipeline(p).await,
        }
    }

    /// False while the connection is down (a cluster's nodes each reconnect
    /// on their own: it counts as connected).
    pub fn connected(&self) -> bool {
        match self {
            Remote::Single(client) => client.state() == ConnectionState::Connected,
            Remote::Cluster(_) => true,
        }
    }

    pub fn is_cluster(&self) -> bool {
        matches!(self, Remote::Cluster(_))
    }
}

/// Sends a command as the user typed it: on the shared client, or, for a
/// blocking one (which a shared client refuses), on a connection of its own
/// made for it.
async fn send(client: &Client, cmd: &Cmd) -> redwire::Result<Value> {
    if !cmd.is_blocking() {
        return client.send(cmd).await;
    }
    let mut conn = redwire::Connection::connect(client.config().clone()).await?;
    conn.send(cmd).await
}

/// A command from its words, the name first.
pub fn command(words: &[Vec<u8>]) -> Cmd {
    let mut c = Cmd::new();
    for w in words {
        c.write_arg(w);
    }
    c
}
