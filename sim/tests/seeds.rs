//! The simulator in the workspace's tests: a fixed range of seeds and a few
//! hundred random ones (printed, to replay with `scripts/simulate --seed S`)
//! pass the oracle, and one seed run twice gives the same trace.

use redwire_sim::{run, Workload};

fn failures(seeds: impl IntoIterator<Item = u64>) -> Vec<String> {
    let mut failed = Vec::new();
    for seed in seeds {
        for workload in Workload::ALL {
            let report = run(seed, workload);
            if !report.violations.is_empty() {
                failed.push(format!(
                    "seed={seed} workload={}: {}\n  replay: scripts/simulate --seed {seed} --workload {} --trace",
                    workload.name(),
                    report.violations.join("; "),
                    workload.name()
                ));
            }
        }
    }
    failed
}

#[test]
fn a_fixed_range_of_seeds_passes() {
    let failed = failures(0..300);
    assert!(failed.is_empty(), "{}", failed.join("\n"));
}

#[test]
fn random_seeds_pass() {
    let mut rng = fastrand::Rng::new();
    let seeds: Vec<u64> = (0..200).map(|_| rng.u64(..)).collect();
    println!("random seeds: {seeds:?}");
    let failed = failures(seeds);
    assert!(failed.is_empty(), "{}", failed.join("\n"));
}

#[test]
fn a_seed_replays_bit_for_bit() {
    for seed in [1, 42, 4242, u64::MAX] {
        for workload in Workload::ALL {
            let (a, b) = (run(seed, workload), run(seed, workload));
            assert!(
                a.trace.lines().len() > 20,
                "seed {seed}: the trace holds a run"
            );
            assert_eq!(
                a.trace.lines(),
                b.trace.lines(),
                "seed {seed}: two runs differ"
            );
            assert_eq!(a.trace.hash(), b.trace.hash());
        }
    }
    assert_ne!(
        run(1, Workload::SharedClient).trace.hash(),
        run(2, Workload::SharedClient).trace.hash()
    );
}

#[test]
fn every_injected_bug_is_caught_by_a_seed_of_the_default_range() {
    for bug in redwire_sim::Bug::ALL {
        let caught = redwire_sim::catch(bug, 0..2000);
        println!("{bug:?}: {caught:?}");
        assert!(caught.is_some(), "{bug:?} is not caught");
    }
}

/// Found by the first long run: an idle subscriber on a black-holed
/// connection hears of it only through the health check, which the
/// simulator's recovery bound had left out (the simulator's mistake, not the
/// client's; kept as a regression seed for the bound).
#[test]
fn an_idle_subscriber_on_a_black_hole_recovers_through_the_health_check() {
    let report = run(18408, Workload::PubSub);
    assert!(report
        .trace
        .lines()
        .iter()
        .any(|l| l.contains("black hole")));
    assert!(report.violations.is_empty(), "{:?}", report.violations);
}

/// Found by the transaction workload: a plain pipeline of 70 KB, more than
/// the connection took at once, was cut off by a drop after its first
/// command (`SET k:2 2:14 GET`) had reached the server whole and run. The
/// client counted it unwritten and wrote it all again on the next
/// connection, so the `SET` ran twice and the caller got the second run's
/// replies (seed 13); failing fast, it said the pipeline had not run
/// (seed 483). Now such a pipeline fails as may have executed.
#[test]
fn a_pipeline_cut_off_after_its_first_command_ran_is_not_written_again() {
    for (seed, who) in [(13, "caller2 tx14: err"), (483, "caller1 tx13: err")] {
        let report = run(seed, Workload::Transaction);
        assert!(report.violations.is_empty(), "{:?}", report.violations);
        let ended = report
            .trace
            .lines()
            .iter()
            .find(|l| l.contains(who))
            .cloned()
            .unwrap_or_default();
        assert!(
            ended.contains("may_have_executed=true"),
            "seed {seed}: {ended}"
        );
    }
}

/// Found by the cluster workload: a fail-fast `ClusterClient` (no periodic
/// refresh) whose primary was lost and failed over to its replica never
/// read the slot map again: the lost node answers nothing, not even
/// `MOVED`, and failing fast skipped the re-read that waiting does, so
/// every request for its slots failed `NotConnected` long after the
/// cluster had healed (seed 88: 499 probes over 2.5 s). Now failing fast
/// reads the map again in the background.
#[test]
fn a_fail_fast_cluster_client_finds_the_replica_that_took_a_lost_primarys_place() {
    let report = run(88, Workload::Cluster);
    let lines = report.trace.lines();
    assert!(lines.iter().any(|l| l.contains("fail_fast=true")));
    assert!(lines
        .iter()
        .any(|l| l.contains("takes the place of lost node0")));
    assert!(report.violations.is_empty(), "{:?}", report.violations);
}

/// Found by the cluster workload: a slot migrating to a node that was down
/// (restarting, then lost and replaced by its replica, also slow to take
/// connections). Every `ASK` the source gave sent the request to the
/// target, which could not be reached: a pause, then the source again, and
/// `ASK` again. Each round counted as a redirection, so after 16 of them
/// the request failed "redirected more than 16 times; the cluster keeps
/// moving its slot" (kind `Cluster`) 337 ms into its 1.3 s deadline,
/// instead of waiting the outage out as an unreachable node is. Now a pause
/// starts the count again (the pauses themselves are bounded).
#[test]
fn an_ask_to_a_node_that_is_down_is_waited_out_not_counted_as_a_redirect_loop() {
    let report = run(3859, Workload::Cluster);
    let lines = report.trace.lines();
    let asks = lines
        .iter()
        .filter(|l| l.contains("-ASK 3607 127.0.0.1:7004"))
        .count();
    assert!(asks > 16, "{asks} ASKs");
    assert!(report.violations.is_empty(), "{:?}", report.violations);
}
