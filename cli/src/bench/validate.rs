//! Everything `redwire bench` can check before it connects: a run that is
//! going to fail must fail in the first millisecond, with redwire's own
//! words, not after minutes of load (an unwritable `--plot` path) or with
//! clap's range text.

use super::runner::Amount;
use super::workload::Test;
use super::BenchArgs;
use std::path::Path;
use std::time::Duration;

/// What a valid command line asks for.
pub struct Checked {
    pub tests: Vec<Test>,
    pub amount: Amount,
}

/// Checks the options; the error is a usage message.
pub fn check(args: &BenchArgs) -> Result<Checked, String> {
    let tests = args
        .tests
        .iter()
        .map(|t| t.parse())
        .collect::<Result<Vec<Test>, String>>()?;
    if tests.is_empty() {
        return Err("no test given (-t set,get,…)".into());
    }
    let at_least_one = |value: u64, what: &str| {
        if value == 0 {
            Err(format!("{what} must be at least 1"))
        } else {
            Ok(())
        }
    };
    at_least_one(args.connections, "-c/--connections (connections to open)")?;
    at_least_one(args.tasks, "--tasks (tasks per connection)")?;
    at_least_one(args.pipeline, "-P/--pipeline (requests per pipeline)")?;
    at_least_one(
        args.keyspace,
        "-r/--keyspace (keys are drawn from this many)",
    )?;
    let amount = match args.duration {
        Some(s) if s > 0.0 && s.is_finite() => Amount::Duration(Duration::from_secs_f64(s)),
        Some(_) => return Err("--duration must be a positive number of seconds".into()),
        None if args.requests == 0 => return Err("-n/--requests must be at least 1".into()),
        None => Amount::Requests(args.requests),
    };
    if args.rate.is_some_and(|r| !(r > 0.0 && r.is_finite())) {
        return Err("--rate must be a positive number of requests per second".into());
    }
    if let Some(path) = &args.plot {
        writable(path)?;
    }
    Ok(Checked { tests, amount })
}

/// The plot's file must be `.svg` or `.png` and writable now: finding out
/// after the run would throw the run away.
fn writable(path: &Path) -> Result<(), String> {
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
    if !ext.eq_ignore_ascii_case("svg") && !ext.eq_ignore_ascii_case("png") {
        return Err("--plot takes a file name ending in .svg or .png".into());
    }
    let existed = path.exists();
    std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .open(path)
        .map_err(|e| format!("--plot {}: cannot write there: {e}", path.display()))?;
    if !existed {
        // Leave no empty file behind if the run fails.
        let _ = std::fs::remove_file(path);
    }
    Ok(())
}
