//! Benchmarks of redwire against its peers; see README.md. What the benchmark
//! binaries share lives here.

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
