//! `redwire bench` run as a user runs it: small runs against a real
//! redis-server, checking the table, the JSON, the plots, the open-loop rate
//! and the embedded default.

use redwire_testkit::{Frame, RedisServer};
use std::process::{Command, Output};

fn bench(url: Option<&str>, args: &[&str]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_redwire"));
    c.env_remove("REDIS_URL").arg("bench");
    if let Some(url) = url {
        c.args(["-u", url]);
    }
    c.args(args).output().expect("spawn redwire")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn a_small_run_prints_a_table_per_test_and_does_the_work() {
    let server = RedisServer::start().unwrap();
    let out = bench(
        Some(&server.url()),
        &["-n", "2000", "-c", "4", "-t", "set,get,incr", "-r", "100"],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let table = text(&out.stdout);
    assert!(
        table.contains("4 connections x 1 task(s), pipeline 1"),
        "{table}"
    );
    let header = table.lines().find(|l| l.starts_with("test")).expect(&table);
    for col in ["ops/s", "p50 ms", "p90 ms", "p99 ms", "p99.9 ms", "max ms"] {
        assert!(header.contains(col), "{header}");
    }
    for name in ["SET", "GET", "INCR"] {
        let row = table
            .lines()
            .find(|l| l.starts_with(name))
            .unwrap_or_else(|| panic!("no {name} row in {table}"));
        let cols: Vec<&str> = row.split_whitespace().collect();
        assert_eq!(cols[1], "2000", "{row}");
        assert_eq!(cols[2], "0", "{row}");
        assert!(cols[3].parse::<f64>().unwrap() > 0.0, "{row}");
    }
    // The SETs reached the server: keys of the keyspace exist.
    match server.command(&["DBSIZE"]).unwrap() {
        Frame::Integer(n) => assert!(n > 50, "{n} keys"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn json_holds_the_numbers_and_a_pipeline_counts_each_request() {
    let server = RedisServer::start().unwrap();
    let out = bench(
        Some(&server.url()),
        &["-n", "3000", "-c", "3", "-P", "16", "-t", "lpush", "--json"],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["settings"]["pipeline"], 16);
    let t = &doc["tests"][0];
    assert_eq!(t["test"], "LPUSH");
    assert_eq!(t["requests"], 3000);
    let l = &t["latency_ms"];
    let get = |k: &str| l[k].as_f64().unwrap();
    assert!(get("min") <= get("p50") && get("p50") <= get("p99") && get("p99") <= get("max"));
    assert!(t["ops_per_sec"].as_f64().unwrap() > 0.0);
    assert_eq!(
        server.command(&["LLEN", "mylist"]).unwrap(),
        Frame::Integer(3000)
    );
}

#[test]
fn plots_are_written_as_svg_and_png() {
    let server = RedisServer::start().unwrap();
    let dir = tempfile::tempdir().unwrap();
    for name in ["p.svg", "p.png"] {
        let path = dir.path().join(name);
        let out = bench(
            Some(&server.url()),
            &["-n", "1000", "-c", "2", "--plot", path.to_str().unwrap()],
        );
        assert!(out.status.success(), "{}", text(&out.stderr));
        let bytes = std::fs::read(&path).unwrap();
        assert!(bytes.len() > 1000, "{name} is {} bytes", bytes.len());
        if name.ends_with("svg") {
            let svg = text(&bytes);
            assert!(svg.contains("Latency by percentile") && svg.contains("99%"));
            // The title names the server, the date and the version.
            let title = format!("redwire bench of {}/0", server.url());
            assert!(svg.contains(&title), "{title} in the title");
            assert!(svg.contains(" UTC") && svg.contains(env!("CARGO_PKG_VERSION")));
        } else {
            assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
        }
    }
    let out = bench(Some(&server.url()), &["--plot", "p.gif"]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "an unknown plot format is a usage error"
    );
}

#[test]
fn rate_sends_at_the_fixed_arrival_rate() {
    let server = RedisServer::start().unwrap();
    let out = bench(
        Some(&server.url()),
        &[
            "--rate",
            "2000",
            "--duration",
            "1",
            "-c",
            "4",
            "-t",
            "ping",
            "--json",
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let sent = doc["tests"][0]["requests"].as_u64().unwrap();
    // Paced, never more than the rate allows (closed loop would send tens
    // of thousands in a second); fewer when this shared machine is slow,
    // which the shortfall warning reports (tested apart).
    assert!((1..=2100).contains(&sent), "{sent} requests");
}

#[test]
fn without_a_url_the_bench_runs_on_a_throwaway_server() {
    let out = bench(None, &["-n", "500", "-c", "2", "-t", "ping"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("started a throwaway redis-server"));
    let table = text(&out.stdout);
    assert!(
        table.contains("(throwaway server)") && table.contains("PING"),
        "{table}"
    );
}

#[test]
fn cluster_mode_spreads_the_load_over_every_primary() {
    let cluster = redwire_testkit::RedisCluster::start().unwrap();
    let out = bench(
        Some(&cluster.url()),
        &[
            "--cluster",
            "-n",
            "3000",
            "-c",
            "2",
            "-P",
            "4",
            "-t",
            "set",
            "-r",
            "1000",
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    // Keys were written on every primary, none refused or redirected away.
    for node in cluster.primaries() {
        let keys = match node.command(&["DBSIZE"]).unwrap() {
            Frame::Integer(n) => n,
            other => panic!("DBSIZE answered {other:?}"),
        };
        assert!(keys > 100, "a primary got {keys} keys");
    }
    let table = text(&out.stdout);
    assert!(table.contains("SET"), "{table}");
}

#[test]
fn invalid_options_are_refused_before_anything_connects() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let url = format!("redis://{}", listener.local_addr().unwrap());
    let dir = tempfile::tempdir().unwrap();
    let unwritable = dir.path().join("no such dir").join("p.png");
    let unwritable = unwritable.to_str().unwrap();
    let cases: [(&[&str], &str); 7] = [
        (
            &["-c", "0"],
            "-c/--connections (connections to open) must be at least 1",
        ),
        (
            &["--tasks", "0"],
            "--tasks (tasks per connection) must be at least 1",
        ),
        (
            &["-P", "0"],
            "-P/--pipeline (requests per pipeline) must be at least 1",
        ),
        (
            &["-r", "0"],
            "-r/--keyspace (keys are drawn from this many) must be at least 1",
        ),
        (&["-n", "0"], "-n/--requests must be at least 1"),
        (&["--plot", unwritable], "cannot write there"),
        (&["-t", "set,nope"], "unknown test \"nope\""),
    ];
    for (args, want) in cases {
        let out = bench(Some(&url), args);
        assert_eq!(
            out.status.code(),
            Some(2),
            "{args:?}: {}",
            text(&out.stderr)
        );
        let err = text(&out.stderr);
        assert!(err.contains(want), "{args:?}: {err}");
        assert!(err.starts_with("redwire bench: "), "redwire's words: {err}");
    }
    assert!(!std::path::Path::new(unwritable).exists());
    assert_eq!(
        listener.accept().unwrap_err().kind(),
        std::io::ErrorKind::WouldBlock,
        "nothing connected"
    );
}

#[test]
fn the_throughput_timeline_holds_only_full_intervals() {
    let server = RedisServer::start().unwrap();
    let out = bench(
        Some(&server.url()),
        &["--duration", "0.6", "-c", "2", "-t", "ping", "--json"],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let test = &doc["tests"][0];
    let elapsed = test["elapsed_s"].as_f64().unwrap();
    let times: Vec<f64> = test["throughput"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["t_s"].as_f64().unwrap())
        .collect();
    assert!(times.len() >= 2, "{times:?}");
    // Every sample covers a sampling interval (100 ms; never under 50 ms)…
    let mut before = 0.0;
    for t in &times {
        assert!(t - before >= 0.05, "a sliver of an interval: {times:?}");
        before = *t;
    }
    // …and the stretch after the last tick, shorter than one, is not a sample.
    assert!(*times.last().unwrap() < elapsed, "{times:?} vs {elapsed}");
}

#[test]
fn a_rate_the_run_cannot_reach_is_warned_about_and_reported() {
    let server = RedisServer::start().unwrap();
    let out = bench(
        Some(&server.url()),
        &[
            "--rate",
            "100000000",
            "--duration",
            "0.3",
            "-c",
            "1",
            "-t",
            "ping",
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let err = text(&out.stderr);
    assert!(
        err.contains("warning: PING achieved") && err.contains("of the --rate 100000000"),
        "{err}"
    );
    let table = text(&out.stdout);
    let header = table.lines().find(|l| l.starts_with("test")).expect(&table);
    assert!(header.ends_with("of rate"), "{header}");
    let row = table.lines().find(|l| l.starts_with("PING")).expect(&table);
    let pct: f64 = row
        .split_whitespace()
        .last()
        .unwrap()
        .trim_end_matches('%')
        .parse()
        .unwrap();
    assert!(pct < 95.0, "{row}");
}

#[test]
fn the_bench_takes_redis_benchmarks_connection_flags() {
    let server = RedisServer::builder().password("pw").start().unwrap();
    let port = server.port().to_string();
    let out = Command::new(env!("CARGO_BIN_EXE_redwire"))
        .env_remove("REDIS_URL")
        .args([
            "bench",
            "-h",
            "127.0.0.1",
            "-p",
            &port,
            "-a",
            "pw",
            "--no-auth-warning",
        ])
        .args([
            "--dbnum", "2", "-n", "200", "-c", "1", "-t", "set", "-r", "1",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    server.command(&["SWAPDB", "0", "2"]).unwrap();
    assert_eq!(
        server.command(&["EXISTS", "key:000000000000"]).unwrap(),
        Frame::Integer(1),
        "the SETs went to database 2"
    );
}
