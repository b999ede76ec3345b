//! The end of a bench: a table for people, JSON for machines.

use super::runner::TestResult;
use serde_json::json;

/// The percentiles every report shows.
pub const PERCENTILES: [(&str, f64); 4] =
    [("p50", 50.0), ("p90", 90.0), ("p99", 99.0), ("p99.9", 99.9)];

fn ms(us: u64) -> f64 {
    us as f64 / 1000.0
}

/// The share of the target rate a test achieved, in percent.
pub fn achieved_pct(result: &TestResult, rate: f64) -> f64 {
    100.0 * result.ops_per_sec() / rate
}

/// A test that fell short of `--rate` by more than this many percent gets a
/// warning: its latencies describe a lighter load than was asked for.
pub const SHORTFALL_PCT: f64 = 5.0;

/// The warning for a test that did not reach the target rate, if it did not.
pub fn shortfall(result: &TestResult, rate: f64) -> Option<String> {
    let pct = achieved_pct(result, rate);
    (pct < 100.0 - SHORTFALL_PCT).then(|| {
        format!(
            "warning: {} achieved {:.0} requests/s, {pct:.1}% of the --rate {rate:.0}: the \
             server or this machine could not keep up, so the test ran lighter than asked",
            result.test,
            result.ops_per_sec()
        )
    })
}

/// One row per test: throughput and latency percentiles in milliseconds;
/// with a target rate, the share of it achieved.
pub fn table(header: &str, results: &[TestResult], rate: Option<f64>) -> String {
    let mut out = format!("{header}\n\n");
    out.push_str(&format!(
        "{:<6} {:>10} {:>7} {:>12} {:>9} {:>9} {:>9} {:>9} {:>9}",
        "test", "requests", "errors", "ops/s", "p50 ms", "p90 ms", "p99 ms", "p99.9 ms", "max ms"
    ));
    if rate.is_some() {
        out.push_str(&format!(" {:>9}", "of rate"));
    }
    out.push('\n');
    for r in results {
        let h = &r.latency;
        let p: Vec<String> = PERCENTILES
            .iter()
            .map(|(_, q)| format!("{:>9.3}", ms(h.value_at_percentile(*q))))
            .collect();
        out.push_str(&format!(
            "{:<6} {:>10} {:>7} {:>12.0} {} {:>9.3}",
            r.test.to_string(),
            r.requests,
            r.errors,
            r.ops_per_sec(),
            p.join(" "),
            ms(h.max())
        ));
        if let Some(rate) = rate {
            out.push_str(&format!(" {:>8.1}%", achieved_pct(r, rate)));
        }
        out.push('\n');
    }
    out
}

/// The whole run as one JSON document.
pub fn json(
    settings: serde_json::Value,
    results: &[TestResult],
    rate: Option<f64>,
) -> serde_json::Value {
    let tests: Vec<serde_json::Value> = results
        .iter()
        .map(|r| {
            let h = &r.latency;
            let mut latency = serde_json::Map::new();
            latency.insert("min".into(), json!(ms(h.min())));
            latency.insert("mean".into(), json!(h.mean() / 1000.0));
            for (name, q) in PERCENTILES {
                latency.insert(name.into(), json!(ms(h.value_at_percentile(q))));
            }
            latency.insert("max".into(), json!(ms(h.max())));
            json!({
                "test": r.test.to_string(),
                "requests": r.requests,
                "errors": r.errors,
                "elapsed_s": r.elapsed.as_secs_f64(),
                "ops_per_sec": r.ops_per_sec(),
                "rate_achieved_pct": rate.map(|rate| achieved_pct(r, rate)),
                "latency_ms": latency,
                "throughput": r.timeline.iter()
                    .map(|(t, ops)| json!({ "t_s": t, "ops_per_sec": ops }))
                    .collect::<Vec<_>>(),
            })
        })
        .collect();
    json!({ "settings": settings, "tests": tests })
}
