//! No false alarms: correct protocols under a fixed set of generated fault schedules (swarm testing,
//! `distsim::sweep::sweep`) raise no violation at all, safety or liveness.
//!
//! Kept to tens of seeds so that it runs in seconds in a debug build; the release sweeps of 10,000
//! seeds per scenario are `distsim sweep scenarios/X.json --seeds 0..10000 --swarm`. Seeds that once
//! raised a false alarm are pinned here by number.

use distsim::scenario::{self, Scenario};
use distsim::sweep::{SeedRange, SweepOptions, SweepReport, sweep};
use std::path::Path;

fn load(path: &str) -> Scenario {
    scenario::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join(path))
        .expect("valid")
        .0
}

fn swarm_sweep(path: &str, start: u64, end: u64) -> SweepReport {
    let s = load(path);
    assert!(s.expect.is_none(), "{path} runs correct code");
    let options = SweepOptions {
        jobs: 2,
        swarm: true,
        keep_results: true,
        ..SweepOptions::default()
    };
    sweep(&s, SeedRange { start, end }, &options).expect("sweeps")
}

/// No seed failed, and enough seeds were judged (passed, not undecided) for that to mean something.
fn assert_no_false_alarm(report: &SweepReport, passed_min: u64) {
    let failures: Vec<_> = report
        .results
        .iter()
        .filter(|r| r.outcome == "fail")
        .map(|r| (r.seed, r.violation.clone()))
        .collect();
    assert!(failures.is_empty(), "{}: {failures:?}", report.scenario);
    assert_eq!(report.failed, 0);
    assert!(
        report.passed >= passed_min,
        "{}: only {} of {} seeds judged",
        report.scenario,
        report.passed,
        report.seeds_run
    );
}

#[test]
fn raft_partition_swarm_raises_no_false_alarm() {
    let report = swarm_sweep("scenarios/raft_partition.json", 0, 24);
    assert_no_false_alarm(&report, 10);
}

#[test]
fn raft_crash_restart_swarm_raises_no_false_alarm() {
    let report = swarm_sweep("scenarios/raft_crash_restart.json", 100, 124);
    assert_no_false_alarm(&report, 10);
}

#[test]
fn pingpong_swarm_raises_no_false_alarm() {
    // Crashes and flapping restart nodes while their pongs are in flight: the checker's ghost record
    // of every ping ever sent keeps those pongs legitimate.
    let report = swarm_sweep("scenarios/pingpong_basic.json", 0, 60);
    assert_no_false_alarm(&report, 50);
}

/// Seeds on which an earlier checker raised a false alarm on correct code.
#[test]
fn seeds_that_once_raised_false_alarms_pass() {
    // A client gave up on an operation at its own deadline, 2 s after the heal, before
    // ops_complete_within's window (heal + 4 s) had passed.
    let report = swarm_sweep("scenarios/raft_partition.json", 6525, 6526);
    assert_no_false_alarm(&report, 1);
}
