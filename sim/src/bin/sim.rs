//! The simulator's runner: `sim [--seeds N] [--seed S] [--first F]
//! [--workload W] [--random N] [--trace]`. Runs seeds, prints each failure
//! with its seed, workload, broken promises and trace, and `seeds=N
//! failures=K` last.

use redwire_sim::{catch, run, Bug, Workload};
use std::process::ExitCode;

const USAGE: &str =
    "usage: sim [--seeds N] [--first F] [--seed S] [--random N] [--workload W] [--trace] [--self-test]
  --seeds N     run seeds F..F+N of each workload (default 8000: about a minute;
                F from --first, default 0)
  --seed S      run the one seed S (and print its trace with --trace)
  --random N    also run N seeds drawn at random (printed, to replay)
  --workload W  only this workload (default: every one): client, pubsub,
                connection, transaction, blocking, pool, cluster
  --trace       print every run's trace, not only a failure's
  --self-test   with each known bug switched on in the client, find a seed
                of the range that catches it";

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let (mut seeds, mut first, mut one, mut random, mut trace) =
        (8_000u64, 0u64, None, 0u64, false);
    let mut self_test = false;
    let mut workloads = Workload::ALL.to_vec();
    while let Some(arg) = args.next() {
        let mut value = |name: &str| -> Option<String> {
            let v = args.next();
            if v.is_none() {
                eprintln!("{name} needs a value\n{USAGE}");
            }
            v
        };
        let num = |v: Option<String>| v.and_then(|v| v.parse::<u64>().ok());
        let parsed = match arg.as_str() {
            "--seeds" => num(value("--seeds")).map(|n| seeds = n),
            "--first" => num(value("--first")).map(|n| first = n),
            "--seed" => num(value("--seed")).map(|n| one = Some(n)),
            "--random" => num(value("--random")).map(|n| random = n),
            "--workload" => value("--workload")
                .and_then(|w| Workload::parse(&w))
                .map(|w| workloads = vec![w]),
            "--trace" => {
                trace = true;
                Some(())
            }
            "--self-test" => {
                self_test = true;
                Some(())
            }
            "-h" | "--help" => {
                println!("{USAGE}");
                return ExitCode::SUCCESS;
            }
            _ => None,
        };
        if parsed.is_none() {
            eprintln!("bad argument `{arg}`\n{USAGE}");
            return ExitCode::from(2);
        }
    }
    if self_test {
        // Every injected bug must be caught by some seed of the default range.
        let mut uncaught = 0;
        for bug in Bug::ALL {
            match catch(bug, first..first + seeds) {
                Some((seed, w, violation)) => println!(
                    "bug {bug:?}: caught by seed {seed} (workload {}): {violation}",
                    w.name()
                ),
                None => {
                    uncaught += 1;
                    println!(
                        "bug {bug:?}: NOT CAUGHT by seeds {first}..{}",
                        first + seeds
                    );
                }
            }
        }
        println!("bugs={} uncaught={uncaught}", Bug::ALL.len());
        return if uncaught == 0 {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        };
    }
    let mut list: Vec<u64> = match one {
        Some(s) => vec![s],
        None => (first..first + seeds).collect(),
    };
    if random > 0 {
        let mut rng = fastrand::Rng::new();
        let drawn: Vec<u64> = (0..random).map(|_| rng.u64(..)).collect();
        println!("random seeds: {drawn:?}");
        list.extend(drawn);
    }
    let (mut ran, mut failures) = (0, 0);
    for &seed in &list {
        for &workload in &workloads {
            let report = run(seed, workload);
            ran += 1;
            if !report.violations.is_empty() || trace {
                let status = if report.violations.is_empty() {
                    "PASS"
                } else {
                    "FAIL"
                };
                println!(
                    "== {status} seed={seed} workload={} (trace hash {:016x})",
                    workload.name(),
                    report.trace.hash()
                );
                for v in &report.violations {
                    println!("   violated {v}");
                }
                for line in report.trace.lines() {
                    println!("   | {line}");
                }
                println!(
                    "   replay: scripts/simulate --seed {seed} --workload {} --trace",
                    workload.name()
                );
            }
            if !report.violations.is_empty() {
                failures += 1;
            }
        }
    }
    println!("seeds={ran} failures={failures}");
    if failures == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
