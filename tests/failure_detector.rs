//! Failure detection under the whole engine: both detectors find every crash within the bound, phi
//! accrual suspects live peers less than the fixed timeout under the same latency spikes, and the
//! planted bug that never suspects is caught by the completeness checker.

use distsim::contract::Verdict;
use distsim::protocols::failure_detector::FailureDetector;
use distsim::protocols::failure_detector::checker::false_suspicions_in;
use distsim::run::report::{Outcome, RunReport};
use distsim::run::{RunOptions, run_protocol};

fn run(file: &str, seed: u64) -> RunReport {
    let text = std::fs::read(format!("scenarios/{file}.json")).expect("the scenario");
    let (scenario, source) = distsim::scenario::parse(&text, file).expect("valid");
    let options = RunOptions {
        seed: Some(seed),
        ..RunOptions::default()
    };
    run_protocol::<FailureDetector>(&scenario, Some(&source), &options)
        .expect("runs")
        .report
}

fn verdict(r: &RunReport) -> &Verdict {
    &r.checkers
        .iter()
        .find(|c| c.name == "fd_completeness")
        .expect("fd_completeness runs")
        .verdict
}

#[test]
fn phi_accrual_suspects_less_than_the_fixed_timeout_under_the_same_spikes() {
    for seed in 0..6 {
        let r = run("failure_detector", seed);
        assert_eq!(r.outcome, Outcome::Pass, "seed {seed}: {:?}", r.checkers);
        let Verdict::PassNoted(detail) = verdict(&r) else {
            panic!(
                "seed {seed}: a pass with the numbers, got {:?}",
                verdict(&r)
            );
        };
        // Two crashes, four surviving observers each, both detectors detected every one.
        assert!(
            detail.starts_with("fixed: 8 detections") && detail.contains("phi: 8 detections"),
            "seed {seed}: {detail}"
        );
        let fixed = false_suspicions_in(detail, "fixed").expect("fixed count");
        let phi = false_suspicions_in(detail, "phi").expect("phi count");
        // Both suspect the paused node (four observers); beyond that, phi adapts to the jitter.
        assert!(phi >= 4 && fixed >= 4, "seed {seed}: {detail}");
        assert!(
            2 * phi < fixed,
            "seed {seed}: phi {phi} fixed {fixed}: {detail}"
        );
    }
}

#[test]
fn never_suspect_is_caught_by_completeness() {
    for seed in 0..4 {
        let r = run("failure_detector_never_suspect", seed);
        assert_eq!(r.outcome, Outcome::Pass, "expected violation found");
        let v = r.violation.as_ref().expect("a violation");
        assert_eq!(v.checker, "fd_completeness");
        assert!(v.message.contains("did not suspect"), "{}", v.message);
        assert_eq!(r.notes.get("suspect_fixed"), None);
        assert_eq!(r.notes.get("suspect_phi"), None);
    }
}

#[test]
fn a_paused_node_notices_its_own_pause() {
    let r = run("failure_detector", 1);
    assert_eq!(r.notes.get("self_paused").copied(), Some(1));
}

#[test]
fn false_suspicion_counts_read_back_from_a_detail() {
    let d = "fixed: 8 detections (mean 265 ms, max 280 ms), 19 false suspicions; phi: 8 detections (mean 346 ms, max 440 ms), 5 false suspicions";
    assert_eq!(false_suspicions_in(d, "fixed"), Some(19));
    assert_eq!(false_suspicions_in(d, "phi"), Some(5));
    assert_eq!(false_suspicions_in(d, "other"), None);
}
