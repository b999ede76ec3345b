//! Deterministic simulation of redwire: a seeded world of a model Redis
//! server, faulty in-memory connections and many callers, and an oracle that
//! holds what the callers saw against what the server executed. One `u64`
//! seed decides everything, so a failure replays bit for bit from its seed.
//!
//! **Why not turmoil.** turmoil simulates hosts and a network of messages
//! with latency and partitions; what redwire's promises depend on is finer:
//! a write cut at any byte, a short write, a reset that loses what the
//! server had not read, a black hole, a half-closed stream, a frame injected
//! between two replies. Those live in the byte pipe itself ([`pipe`]), which
//! the client reaches through its `sim` seam (an in-memory dialer in the
//! `Config`), so the world needs nothing beyond tokio: a current-thread
//! runtime on paused time (`start_paused`), which runs tasks in a fixed order
//! and advances the clock only when every task waits.
//!
//! **Nondeterminism, and what removes it.** Threads: one, the runtime's.
//! Time: tokio's paused clock only; the trace stamps simulated time. Random
//! draws: the world's and each caller's generators are seeded from the seed;
//! the client's backoff jitter draws from `fastrand`'s thread-local
//! generator, which [`run`] seeds before every run. Maps: the simulator uses
//! ordered maps only, and so does the cluster client where a map's order
//! reaches the wire (a pipeline's shares, one per node). `tokio::select!` without `biased;` draws from tokio's
//! own generator, seeded per runtime at random (seeding it needs
//! `tokio_unstable`): the client's only such select on a shared client's path
//! (`while_disconnected`) is `biased;`, and the world's server loop is too.
//! The replay test holds two runs of a seed to the same trace hash.

pub mod blocking;
pub mod blocking_oracle;
pub mod closing;
pub mod cluster;
pub mod cluster_model;
pub mod dedicated;
pub mod model;
pub mod op;
pub mod oracle;
pub mod pipe;
pub mod pool;
pub mod pool_oracle;
pub mod pubsub;
pub mod pubsub_oracle;
pub mod setting;
pub mod trace;
pub mod transaction;
pub mod transaction_oracle;
pub mod workload;
pub mod world;

pub use redwire::connection::bugs::Bug;
use trace::Trace;

/// The workloads a seed can run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Workload {
    /// Many callers on one shared `Client`.
    SharedClient,
    /// A `Subscriber` and a publishing `Client`.
    PubSub,
    /// Callers each on a dedicated `Connection`.
    Connection,
    /// `MULTI`/`EXEC` transactions on a shared `Client` and on dedicated
    /// `Connection`s.
    Transaction,
    /// A producer pushing and consumers popping with `BLPOP` on dedicated
    /// `Connection`s.
    Blocking,
    /// Callers on connections checked out of a `Pool`.
    Pool,
    /// Callers on one `ClusterClient` while slots move between model nodes.
    Cluster,
}

impl Workload {
    /// Every workload.
    pub const ALL: [Workload; 7] = [
        Workload::SharedClient,
        Workload::PubSub,
        Workload::Connection,
        Workload::Transaction,
        Workload::Blocking,
        Workload::Pool,
        Workload::Cluster,
    ];

    /// Its name on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Workload::SharedClient => "client",
            Workload::PubSub => "pubsub",
            Workload::Connection => "connection",
            Workload::Transaction => "transaction",
            Workload::Blocking => "blocking",
            Workload::Pool => "pool",
            Workload::Cluster => "cluster",
        }
    }

    /// The workload of a name.
    pub fn parse(name: &str) -> Option<Workload> {
        Workload::ALL.into_iter().find(|w| w.name() == name)
    }
}

/// The invariant whose detector a bug must trip: `(n)` of the oracle.
pub fn detector(bug: Bug) -> &'static str {
    match bug {
        Bug::WrongWaiter => "(1)",
        Bug::SentNotExecuted => "(2)",
        Bug::ReplayWritten => "(3)",
        Bug::SkipDeadline => "(4)",
        Bug::DropRequeued => "(7)",
        Bug::ForgetResubscribe => "(6)",
        Bug::UnboundedInFlight | Bug::UnboundedMessages => "(5)",
        Bug::NotAtomic => "(8)",
        Bug::KeepGivenUp => "(9)",
        Bug::CloseReturnsEarly => "(10)",
        Bug::DirtyCheckout => "(11)",
        Bug::ClusterResendWritten => "(3)",
        Bug::AskWithoutAsking => "(7)",
    }
}

/// The first seed of `seeds` whose run with `bug` trips the bug's detector
/// (see [`detector`]), and that violation: what the self-test looks for.
pub fn catch(bug: Bug, seeds: impl IntoIterator<Item = u64>) -> Option<(u64, Workload, String)> {
    for seed in seeds {
        for workload in Workload::ALL {
            let report = run_with(seed, workload, Some(bug));
            let tripped = report
                .violations
                .into_iter()
                .find(|v| v.starts_with(detector(bug)));
            if let Some(v) = tripped {
                return Some((seed, workload, v));
            }
        }
    }
    None
}

/// What one seed's run came to.
pub struct Report {
    /// The seed.
    pub seed: u64,
    /// The workload.
    pub workload: Workload,
    /// Everything that happened, in order.
    pub trace: Trace,
    /// The broken promises (empty: the run passed).
    pub violations: Vec<String>,
}

/// Runs one seed of one workload on a fresh paused runtime.
pub fn run(seed: u64, workload: Workload) -> Report {
    run_with(seed, workload, None)
}

/// Like [`run`], with one of the client's self-test bugs switched on.
pub fn run_with(seed: u64, workload: Workload, bug: Option<Bug>) -> Report {
    redwire::connection::bugs::set(bug);
    fastrand::seed(seed);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .expect("a current-thread runtime");
    let (trace, violations) = runtime.block_on(async {
        match workload {
            Workload::SharedClient => {
                let run = workload::shared_client(seed).await;
                let violations = oracle::check(&run);
                (run.world.trace(), violations)
            }
            Workload::Connection => {
                let run = dedicated::dedicated(seed).await;
                let violations = oracle::check(&run);
                (run.world.trace(), violations)
            }
            Workload::Transaction => {
                let run = transaction::transaction(seed).await;
                let violations = transaction_oracle::check(&run);
                (run.world.trace(), violations)
            }
            Workload::Pool => {
                let run = pool::pool(seed).await;
                let violations = pool_oracle::check(&run);
                (run.run.world.trace(), violations)
            }
            Workload::Blocking => {
                let run = blocking::blocking(seed).await;
                let violations = blocking_oracle::check(&run);
                (run.world.trace(), violations)
            }
            Workload::Cluster => {
                let run = cluster::cluster(seed).await;
                let violations = oracle::check(&run);
                (run.world.trace(), violations)
            }
            Workload::PubSub => {
                let run = pubsub::pubsub(seed).await;
                let violations = pubsub_oracle::check(&run);
                (run.world.trace(), violations)
            }
        }
    });
    redwire::connection::bugs::set(None);
    Report {
        seed,
        workload,
        trace,
        violations,
    }
}
