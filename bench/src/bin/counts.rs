//! Counts per request that do not drift with the machine's load: CPU
//! instructions (valgrind's callgrind) and allocations and bytes allocated
//! (a counting global allocator in this binary), for redwire, redis-rs, fred
//! and rustis on the same workload, one connection shared by N tasks.
//!
//! Each figure is the difference of two run lengths over the difference of
//! their request counts, so connecting, spawning and warming up cancel out:
//! every cell runs as a child process (`counts --child`) that connects,
//! warms up, then runs exactly `--requests` requests spread over its tasks
//! and reports the allocations of that window; the instructions are
//! callgrind's total for the whole child, run twice with two lengths.
//!
//! ```text
//! cargo run --release -p redwire-bench --bin counts -- --out BENCHMARKS.md
//! ```
//!
//! The matrix (default): GET of a 16-byte value at 1, 16, 128 and 1,024
//! tasks under current_thread, multi_thread(1) and multi_thread(2); SET of
//! 1 KiB, 16 KiB and 1 MiB at 128 tasks on current_thread. `--cells` picks
//! some (`get:ct:128`, `set1048576:ct:128`...).

use clap::Parser;
use redwire_bench::counting_alloc::{allocated, CountingAlloc};
use redwire_bench::load::Load;
use redwire_bench::{child_command, run_cell, Figures};
use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc;

#[derive(Parser, Debug, Clone)]
#[command(
    about = "instructions and allocations per request: redwire vs redis-rs vs fred vs rustis"
)]
struct Args {
    /// Server URL; by default a throwaway redis-server is started.
    #[arg(long)]
    url: Option<String>,
    /// Clients (see bench/src/load.rs): redwire, redwire-typed,
    /// redwire-prebuilt, redis-rs, fred, rustis.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "redwire,redis-rs,fred,rustis"
    )]
    clients: Vec<String>,
    /// Cells as WORKLOAD:RUNTIME:TASKS, WORKLOAD `get` (16-byte value) or
    /// `setSIZE` (SIZE bytes); by default the whole matrix.
    #[arg(long, value_delimiter = ',')]
    cells: Vec<String>,
    /// Requests of the shorter run of a 16-byte GET cell; the longer runs
    /// three times as many. SET cells scale it down with the value's size.
    #[arg(long, default_value_t = 10_000)]
    requests: u64,
    /// Count allocations only (fast: no valgrind).
    #[arg(long)]
    no_instructions: bool,
    /// Markdown file to write the table into (between its count markers,
    /// or appended).
    #[arg(long)]
    out: Option<String>,
    /// Internal: run one cell in this process and print its result.
    #[arg(long, hide = true)]
    child: bool,
    #[arg(long, hide = true, default_value = "get:ct:128")]
    cell: String,
}

/// What a child reports: the measured window's requests, allocations and
/// bytes allocated.
#[derive(Debug, Clone, Copy)]
struct Window {
    requests: f64,
    allocs: f64,
    bytes: f64,
}

impl Figures for Window {
    const FIELDS: usize = 3;
    fn figures(&self) -> Vec<f64> {
        vec![self.requests, self.allocs, self.bytes]
    }
    fn from_figures(v: &[f64]) -> Window {
        Window {
            requests: v[0],
            allocs: v[1],
            bytes: v[2],
        }
    }
}

/// A cell: what each task does, the runtime, the tasks.
#[derive(Debug, Clone)]
struct Cell {
    size: Option<usize>,
    runtime: String,
    tasks: usize,
}

impl Cell {
    fn parse(s: &str) -> Cell {
        let mut parts = s.split(':');
        let (Some(work), Some(runtime), Some(tasks), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            panic!("a cell is WORKLOAD:RUNTIME:TASKS, not {s}")
        };
        let size = match work {
            "get" => None,
            _ => Some(
                work.strip_prefix("set")
                    .and_then(|n| n.parse().ok())
                    .unwrap_or_else(|| panic!("workload get or setSIZE, not {work}")),
            ),
        };
        Cell {
            size,
            runtime: runtime.into(),
            tasks: tasks.parse().expect("tasks"),
        }
    }

    fn name(&self) -> String {
        let work = match self.size {
            None => "get".into(),
            Some(n) => format!("set{n}"),
        };
        format!("{work}:{}:{}", self.runtime, self.tasks)
    }

    fn label(&self) -> String {
        let work = match self.size {
            None => "GET 16 B".into(),
            Some(n) if n >= 1 << 20 => format!("SET {} MiB", n >> 20),
            Some(n) if n >= 1 << 10 => format!("SET {} KiB", n >> 10),
            Some(n) => format!("SET {n} B"),
        };
        format!(
            "{work}, {} task{}, {}",
            self.tasks,
            if self.tasks == 1 { "" } else { "s" },
            self.runtime
        )
    }

    /// The shorter run's requests: fewer for large values, so a cell takes
    /// seconds under valgrind, not minutes.
    fn requests(&self, base: u64) -> u64 {
        match self.size {
            None => base,
            Some(n) => (base * 64 / (64 + n as u64 / 256)).max(2 * self.tasks as u64),
        }
    }
}

fn matrix() -> Vec<String> {
    let mut cells = Vec::new();
    for rt in ["ct", "mt1", "mt2"] {
        for tasks in [1, 16, 128, 1024] {
            cells.push(format!("get:{rt}:{tasks}"));
        }
    }
    for size in [1 << 10, 16 << 10, 1 << 20] {
        cells.push(format!("set{size}:ct:128"));
    }
    cells
}

fn main() {
    let args = Args::parse();
    redwire_bench::child_or_parent(args.child, args, run_child, run_parent);
}

// ---- the parent: the matrix ----

/// Per request: instructions (if counted), allocations, bytes allocated.
#[derive(Debug, Clone, Copy)]
struct Counts {
    instructions: Option<f64>,
    allocs: f64,
    bytes: f64,
}

fn run_parent(args: Args) {
    let (_server, url) = redwire_bench::server_url(args.url.as_deref());
    let cells: Vec<Cell> = if args.cells.is_empty() {
        matrix()
    } else {
        args.cells.clone()
    }
    .iter()
    .map(|c| Cell::parse(c))
    .collect();
    let mut rows = Vec::new();
    for cell in &cells {
        let mut per_client = Vec::new();
        for client in &args.clients {
            let counts = count(&args, &url, cell, client);
            match counts {
                Some(c) => eprintln!(
                    "{:<28} {client:<16} {:>8} instr/req {:>6.2} allocs/req {:>9.0} bytes/req",
                    cell.label(),
                    c.instructions.map_or("-".into(), |i| format!("{i:.0}")),
                    c.allocs,
                    c.bytes
                ),
                None => eprintln!("{:<28} {client:<16} failed", cell.label()),
            }
            per_client.push(counts);
        }
        rows.push((cell.clone(), per_client));
    }
    let table = table(&args, &rows);
    println!("{table}");
    if let Some(path) = &args.out {
        write_between_markers(path, &table);
        eprintln!("wrote {path}");
    }
}

/// One cell for one client: two run lengths, natively for the allocations
/// and under callgrind for the instructions.
fn count(args: &Args, url: &str, cell: &Cell, client: &str) -> Option<Counts> {
    let short = cell.requests(args.requests);
    let long = 3 * short;
    let child = |n: u64| {
        let mut c = child_command();
        c.args(["--url", url, "--clients", client, "--cell", &cell.name()])
            .args(["--requests", &n.to_string()]);
        c
    };
    let label = format!("{client} {}", cell.name());
    let a = run_cell::<Window>(&label, &mut child(short))?;
    let b = run_cell::<Window>(&label, &mut child(long))?;
    let dr = b.requests - a.requests;
    let instructions = if args.no_instructions {
        None
    } else {
        let ia = callgrind(child(short))?;
        let ib = callgrind(child(long))?;
        Some((ib - ia) / dr)
    };
    Some(Counts {
        instructions,
        allocs: (b.allocs - a.allocs) / dr,
        bytes: (b.bytes - a.bytes) / dr,
    })
}

/// The instructions callgrind counted in a whole run of `child`.
fn callgrind(child: Command) -> Option<f64> {
    let out_file = std::env::temp_dir().join(format!("counts-callgrind.{}", std::process::id()));
    let mut vg = Command::new("valgrind");
    vg.arg("--tool=callgrind")
        .arg(format!("--callgrind-out-file={}", out_file.display()))
        .arg(child.get_program())
        .args(child.get_args());
    let out = vg
        .output()
        .expect("run valgrind (apt-get install valgrind)");
    let _ = std::fs::remove_file(&out_file);
    let stderr = String::from_utf8_lossy(&out.stderr);
    // "==123== Collected : 123456789"
    let total = stderr
        .lines()
        .find_map(|l| l.split("Collected :").nth(1))
        .and_then(|n| n.trim().parse::<f64>().ok());
    if total.is_none() || !out.status.success() {
        eprintln!("callgrind run failed: {stderr}");
        return None;
    }
    total
}

const BEGIN: &str = "<!-- counts:begin (written by bench/src/bin/counts.rs) -->";
const END: &str = "<!-- counts:end -->";

fn write_between_markers(path: &str, table: &str) {
    let old = std::fs::read_to_string(path).unwrap_or_default();
    let block = format!("{BEGIN}\n{table}{END}");
    let new = match (old.find(BEGIN), old.find(END)) {
        (Some(b), Some(e)) if b < e => format!("{}{block}{}", &old[..b], &old[e + END.len()..]),
        _ => format!("{old}\n{block}\n"),
    };
    std::fs::write(path, new).expect("write the table");
}

/// One figure of a cell's [`Counts`], formatted (`None`: not counted).
type Column = fn(&Counts) -> Option<String>;

fn table(args: &Args, rows: &[(Cell, Vec<Option<Counts>>)]) -> String {
    use std::fmt::Write;
    let mut s = String::new();
    let clients = &args.clients;
    let _ = writeln!(
        s,
        "Command: `scripts/bench-counts{}{}`{}\n",
        if args.requests == 10_000 {
            String::new()
        } else {
            format!(" --requests {}", args.requests)
        },
        if args.cells.is_empty() {
            String::new()
        } else {
            format!(" --cells {}", args.cells.join(","))
        },
        if args.no_instructions {
            " (allocations only)"
        } else {
            ""
        }
    );
    // One row per (cell, figure), one column per client.
    let mut header = String::from("| cell | per request |");
    let mut rule = String::from("|---|---|");
    for c in clients {
        let _ = write!(header, " {c} |");
        rule.push_str("---:|");
    }
    let _ = writeln!(s, "{header}\n{rule}");
    let figures: [(&str, Column); 3] = [
        ("instructions", |c| {
            c.instructions.map(|i| group(i.round() as u64))
        }),
        ("allocations", |c| Some(format!("{:.2}", c.allocs))),
        ("bytes allocated", |c| {
            Some(group(c.bytes.round().max(0.0) as u64))
        }),
    ];
    for (cell, counts) in rows {
        for (i, (name, col)) in figures.iter().enumerate() {
            if i == 0 && args.no_instructions {
                continue;
            }
            let mut line = format!("| {} | {name} |", cell.label());
            for c in counts {
                let v = c.as_ref().and_then(col).unwrap_or_else(|| "–".into());
                let _ = write!(line, " {v} |");
            }
            let _ = writeln!(s, "{line}");
        }
    }
    s
}

/// 12345 as "12,345".
fn group(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

// ---- the child: one cell, one run length ----

fn run_child(args: &Args) -> Window {
    let cell = Cell::parse(&args.cell);
    let client = args.clients[0].clone();
    let url = args.url.clone().expect("url");
    let requests = args.requests;
    let runtime = redwire_bench::runtime(&cell.runtime);
    runtime.block_on(async move {
        let load = Arc::new(Load::connect(&client, &url).await);
        let value: Arc<[u8]> = match cell.size {
            None => Arc::from(&b"0123456789abcdef"[..]),
            Some(n) => Arc::from(vec![b'v'; n]),
        };
        let keys = cell.tasks.min(1000);
        for k in 0..keys {
            load.set(&format!("bench:{k}"), &value).await;
        }
        // Warm up (buffers grown, the runtime's queues sized), then measure.
        run(&load, &cell, &value, requests / 5 + 1).await;
        let (a0, b0) = allocated();
        run(&load, &cell, &value, requests).await;
        let (a1, b1) = allocated();
        Window {
            requests: requests as f64,
            allocs: (a1 - a0) as f64,
            bytes: (b1 - b0) as f64,
        }
    })
}

/// Exactly `requests` requests, spread over the cell's tasks.
async fn run(load: &Arc<Load>, cell: &Cell, value: &Arc<[u8]>, requests: u64) {
    let issued = Arc::new(AtomicU64::new(0));
    let tasks: Vec<_> = (0..cell.tasks)
        .map(|t| {
            let (load, value, issued) = (load.clone(), value.clone(), issued.clone());
            let get = cell.size.is_none();
            tokio::spawn(async move {
                let key = format!("bench:{}", t % 1000);
                let prebuilt = Load::prebuilt_get(&key);
                while issued.fetch_add(1, Ordering::Relaxed) < requests {
                    if get {
                        load.get(&key, &prebuilt).await;
                    } else {
                        load.set(&key, &value).await;
                    }
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.expect("task");
    }
}
