//! Benchmarks of redwire against its peers; see README.md. What the benchmark
//! binaries share lives here: the runtimes, the throwaway server, CPU time and
//! latency histograms of a cell, the child-process protocol by which every
//! cell runs in a process of its own, and the `median (min–max)` of a figure
//! over repeated runs.

pub mod counting_alloc;
pub mod load;

use hdrhistogram::Histogram;
use std::process::Command;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A tokio runtime by its short name: `ct` (current_thread), `mt1` or `mt2`
/// (multi_thread with 1 or 2 workers).
///
/// ```
/// let rt = redwire_bench::runtime("mt1");
/// assert_eq!(rt.block_on(async { 1 + 1 }), 2);
/// ```
pub fn runtime(name: &str) -> tokio::runtime::Runtime {
    let builder = match name {
        "ct" => tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build(),
        "mt1" | "mt2" => tokio::runtime::Builder::new_multi_thread()
            .worker_threads(if name == "mt1" { 1 } else { 2 })
            .enable_all()
            .build(),
        other => panic!("unknown runtime {other} (expected ct, mt1 or mt2)"),
    };
    builder.expect("a tokio runtime")
}

/// The server to benchmark against: `url` if given, else a throwaway
/// redis-server started here, returned with its URL (keep it alive as long
/// as the URL is in use; dropping it stops the server).
pub fn server_url(url: Option<&str>) -> (Option<redwire_testkit::RedisServer>, String) {
    match url {
        Some(url) => (None, url.to_string()),
        None => {
            let server = redwire_testkit::RedisServer::start().expect("start redis-server");
            let url = server.url();
            (Some(server), url)
        }
    }
}

// ---- what a cell measures ----

fn rusage(who: libc::c_int) -> libc::rusage {
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: getrusage fills the struct we own.
    unsafe { libc::getrusage(who, &mut usage) };
    usage
}

fn user_plus_sys(usage: &libc::rusage) -> Duration {
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    tv(usage.ru_utime) + tv(usage.ru_stime)
}

/// CPU time (user + sys) of this whole process so far.
///
/// ```
/// let (a, b) = (redwire_bench::cpu_time(), redwire_bench::cpu_time());
/// assert!(b >= a);
/// ```
pub fn cpu_time() -> Duration {
    user_plus_sys(&rusage(libc::RUSAGE_SELF))
}

/// CPU time (user + sys) of the calling thread so far.
pub fn thread_cpu_time() -> Duration {
    user_plus_sys(&rusage(libc::RUSAGE_THREAD))
}

/// Peak resident set size of this process, in KiB.
pub fn peak_rss_kib() -> u64 {
    rusage(libc::RUSAGE_SELF).ru_maxrss as u64
}

/// An empty latency histogram in nanoseconds, from 100 ns to 100 s at 2
/// significant digits (1 %): small enough per task that 1,024 of them do not
/// dominate the peak RSS.
///
/// ```
/// let mut h = redwire_bench::latency_histogram();
/// h.saturating_record(25_000);
/// assert_eq!(h.len(), 1);
/// ```
pub fn latency_histogram() -> Histogram<u32> {
    Histogram::new_with_bounds(100, 100_000_000_000, 2).expect("histogram bounds")
}

/// The 1-, 5- and 15-minute load averages, as the kernel reports them
/// (`/proc/loadavg`); empty where it does not.
pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

// ---- a load of many tasks: warm-up, measured, stopped ----

const WARMUP: u8 = 0;
const MEASURE: u8 = 1;
const STOP: u8 = 2;

/// The phases of a load of many tasks (warm-up, measured, stopped) and the
/// latency histogram of the measured phase, merged from every task's.
///
/// Each task takes a [`Recorder`] and loops `while let Some(op) =
/// rec.start() { ...; rec.record(op) }`, then `rec.finish()`; [`Phases::run`]
/// moves the phases on and gathers the result.
#[derive(Clone)]
pub struct Phases {
    phase: Arc<AtomicU8>,
    merged: Arc<Mutex<Histogram<u32>>>,
}

impl Default for Phases {
    fn default() -> Phases {
        Phases::new()
    }
}

impl Phases {
    /// A load in its warm-up phase.
    pub fn new() -> Phases {
        Phases {
            phase: Arc::new(AtomicU8::new(WARMUP)),
            merged: Arc::new(Mutex::new(latency_histogram())),
        }
    }

    /// One task's recorder, with a histogram of its own.
    pub fn recorder(&self) -> Recorder {
        Recorder {
            phases: self.clone(),
            hist: latency_histogram(),
        }
    }

    /// Lets the tasks warm up for `warmup`, measures for `duration`, stops
    /// them and waits for every one of `tasks`. `sample` is taken just
    /// before the measured phase begins and just after it ends (CPU time,
    /// counters, ...).
    pub async fn run<S>(
        &self,
        warmup: Duration,
        duration: Duration,
        tasks: Vec<tokio::task::JoinHandle<()>>,
        mut sample: impl FnMut() -> S,
    ) -> Measured<S> {
        tokio::time::sleep(warmup).await;
        let before = sample();
        self.phase.store(MEASURE, Ordering::Relaxed);
        let t0 = Instant::now();
        tokio::time::sleep(duration).await;
        self.phase.store(STOP, Ordering::Relaxed);
        let elapsed = t0.elapsed();
        let after = sample();
        for t in tasks {
            t.await.unwrap();
        }
        let hist = self.merged.lock().unwrap().clone();
        Measured {
            hist,
            elapsed,
            before,
            after,
        }
    }
}

/// One task's side of [`Phases`]: times its operations, and keeps those
/// that began and ended within the measured phase.
pub struct Recorder {
    phases: Phases,
    hist: Histogram<u32>,
}

/// An operation under way, from [`Recorder::start`].
pub struct Op {
    measured: bool,
    started: Instant,
}

impl Recorder {
    /// The next operation begins; `None` once the load is stopped.
    pub fn start(&self) -> Option<Op> {
        let p = self.phases.phase.load(Ordering::Relaxed);
        (p != STOP).then(|| Op {
            measured: p == MEASURE,
            started: Instant::now(),
        })
    }

    /// The operation is done: its latency counts if the measured phase
    /// lasted from its start to now.
    pub fn record(&mut self, op: Op) {
        if op.measured && self.phases.phase.load(Ordering::Relaxed) == MEASURE {
            self.hist
                .saturating_record(op.started.elapsed().as_nanos() as u64);
        }
    }

    /// The task is done: its latencies go into the load's histogram.
    pub fn finish(self) {
        self.phases.merged.lock().unwrap().add(&self.hist).unwrap();
    }
}

/// What [`Phases::run`] measured.
pub struct Measured<S> {
    /// Latency of every measured operation, in ns.
    pub hist: Histogram<u32>,
    /// How long the measured phase lasted.
    pub elapsed: Duration,
    /// The sample taken as the measured phase began.
    pub before: S,
    /// The sample taken as it ended.
    pub after: S,
}

impl<S> Measured<S> {
    /// Operations measured.
    pub fn ops(&self) -> f64 {
        self.hist.len() as f64
    }

    /// Operations measured per second.
    pub fn ops_per_sec(&self) -> f64 {
        self.ops() / self.elapsed.as_secs_f64()
    }

    /// The latency at quantile `q`, in µs.
    pub fn quantile_us(&self, q: f64) -> f64 {
        self.hist.value_at_quantile(q) as f64 / 1000.0
    }

    /// `total` (of the measured phase) per operation measured, or per one
    /// operation when there were none.
    pub fn per_op(&self, total: f64) -> f64 {
        total / self.ops().max(1.0)
    }
}

// ---- the child-process protocol ----
//
// The parent runs every cell as `current_exe --child ...`; the child prints
// one line `RESULT f1 f2 ...` of figures on its stdout, which the parent
// reads back.

/// A cell's figures as a `RESULT f1 f2 ...` line.
///
/// ```
/// assert_eq!(redwire_bench::result_line(&[1.5, 2.0]), "RESULT 1.5 2");
/// ```
pub fn result_line(figures: &[f64]) -> String {
    let mut line = String::from("RESULT");
    for f in figures {
        line.push(' ');
        line.push_str(&f.to_string());
    }
    line
}

/// The figures of a line written by [`result_line`], if it is one with
/// exactly `fields` figures.
///
/// ```
/// use redwire_bench::parse_result_line;
/// assert_eq!(parse_result_line("RESULT 1.5 2", 2), Some(vec![1.5, 2.0]));
/// assert_eq!(parse_result_line("RESULT 1.5 2", 3), None);
/// assert_eq!(parse_result_line("something else", 2), None);
/// ```
pub fn parse_result_line(line: &str, fields: usize) -> Option<Vec<f64>> {
    let v: Vec<f64> = line
        .strip_prefix("RESULT ")?
        .split(' ')
        .map(|x| x.parse().ok())
        .collect::<Option<_>>()?;
    (v.len() == fields).then_some(v)
}

/// A cell's result: a fixed number of figures, sent from the child to the
/// parent as a [`result_line`].
pub trait Figures: Sized {
    /// How many figures a result has.
    const FIELDS: usize;
    /// The figures, in the order of the line.
    fn figures(&self) -> Vec<f64>;
    /// The result back from its figures (exactly [`Self::FIELDS`] of them).
    fn from_figures(v: &[f64]) -> Self;

    /// The `RESULT ...` line of this result.
    fn to_line(&self) -> String {
        result_line(&self.figures())
    }

    /// The result of a `RESULT ...` line, if it is one.
    fn from_line(line: &str) -> Option<Self> {
        parse_result_line(line, Self::FIELDS).map(|v| Self::from_figures(&v))
    }
}

/// `main` of a benchmark whose cells each run in a child process: as the
/// child (`child`, from its hidden `--child` flag) runs `run_child` and
/// prints the cell's `RESULT` line, the child's half of the protocol; as the
/// parent, runs `run_parent`.
pub fn child_or_parent<A, C: Figures>(
    child: bool,
    args: A,
    run_child: impl FnOnce(&A) -> C,
    run_parent: impl FnOnce(A),
) {
    if child {
        println!("{}", run_child(&args).to_line());
    } else {
        run_parent(args);
    }
}

/// A command that runs this same executable as a child, `current_exe
/// --child`, for the caller to add the cell's arguments to.
pub fn child_command() -> Command {
    let mut command = Command::new(std::env::current_exe().expect("own path"));
    command.arg("--child");
    command
}

/// The parent's half of the protocol: runs the child to the end and reads
/// back the first `RESULT` line of its stdout; without one, prints `{label}:
/// failed: ` and the child's stderr on stderr, and gives `None`.
pub fn run_cell<C: Figures>(label: &str, child: &mut Command) -> Option<C> {
    let out = child.output().expect("run child");
    let cell = String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(C::from_line);
    if cell.is_none() {
        eprintln!("{label}: failed: {}", String::from_utf8_lossy(&out.stderr));
    }
    cell
}

/// Every (runtime, client) pair, runtime by runtime: the cells of a
/// benchmark that crosses the two.
pub fn runtime_client_cells(runtimes: &[String], clients: &[String]) -> Vec<(String, String)> {
    runtimes
        .iter()
        .flat_map(|rt| clients.iter().map(move |c| (rt.clone(), c.clone())))
        .collect()
}

/// Runs every cell `repeat` times, interleaved (each run goes over all the
/// cells once), and gives each cell's results in the order of `cells`.
/// `run_one(run, cell)` runs one cell in run number `run`; `None` (a failed
/// run) is left out.
///
/// ```
/// let runs = redwire_bench::interleaved(&["a", "b"], 2, |run, cell| {
///     (*cell != "b" || run > 0).then(|| format!("{cell}{run}"))
/// });
/// assert_eq!(runs, vec![vec!["a0", "a1"], vec!["b1"]]);
/// ```
pub fn interleaved<K, C>(
    cells: &[K],
    repeat: usize,
    mut run_one: impl FnMut(usize, &K) -> Option<C>,
) -> Vec<Vec<C>> {
    let mut runs: Vec<Vec<C>> = cells.iter().map(|_| Vec::new()).collect();
    for run in 0..repeat {
        for (cell, results) in cells.iter().zip(&mut runs) {
            results.extend(run_one(run, cell));
        }
    }
    runs
}

/// Ops/s, p50 and p99 latency in µs, and CPU µs per op: the cell of the
/// benchmarks that load one client with many tasks for a while.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct LoadCell {
    pub ops: f64,
    pub p50_us: f64,
    pub p99_us: f64,
    pub cpu_us: f64,
}

impl LoadCell {
    /// The cell of a load whose sample was the [`cpu_time`].
    pub fn from_measured(m: &Measured<Duration>) -> LoadCell {
        LoadCell {
            ops: m.ops_per_sec(),
            p50_us: m.quantile_us(0.5),
            p99_us: m.quantile_us(0.99),
            cpu_us: m.per_op((m.after - m.before).as_secs_f64() * 1e6),
        }
    }
}

impl Figures for LoadCell {
    const FIELDS: usize = 4;

    fn figures(&self) -> Vec<f64> {
        vec![self.ops, self.p50_us, self.p99_us, self.cpu_us]
    }

    fn from_figures(v: &[f64]) -> LoadCell {
        LoadCell {
            ops: v[0],
            p50_us: v[1],
            p99_us: v[2],
            cpu_us: v[3],
        }
    }
}

// ---- figures over repeated runs ----

/// The median (the upper one of an even count), min and max of `values`;
/// `None` if there are none.
///
/// ```
/// use redwire_bench::median_min_max;
/// assert_eq!(median_min_max(&[3.0, 1.0, 2.0]), Some((2.0, 1.0, 3.0)));
/// assert_eq!(median_min_max(&[4.0, 1.0]), Some((4.0, 1.0, 4.0)));
/// assert_eq!(median_min_max(&[]), None);
/// ```
pub fn median_min_max(values: &[f64]) -> Option<(f64, f64, f64)> {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    Some((v.get(v.len() / 2).copied()?, v[0], v[v.len() - 1]))
}

/// `median (min–max)` of one figure over the runs, with `decimals` decimals;
/// `–` if there are no runs.
///
/// ```
/// use redwire_bench::spread;
/// assert_eq!(spread(&[1.0, 3.0, 2.5], 1), "2.5 (1.0–3.0)");
/// assert_eq!(spread(&[], 1), "–");
/// ```
pub fn spread(values: &[f64], decimals: usize) -> String {
    match median_min_max(values) {
        Some((mid, lo, hi)) => format!("{mid:.decimals$} ({lo:.decimals$}–{hi:.decimals$})"),
        None => "–".into(),
    }
}

/// [`spread`] of the figure `f` of each run.
pub fn spread_of<T>(runs: &[T], f: impl Fn(&T) -> f64, decimals: usize) -> String {
    spread(&runs.iter().map(f).collect::<Vec<_>>(), decimals)
}
