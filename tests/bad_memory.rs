//! Memory: what a run records as it goes (the clients' history above all) is bounded by the scenario's
//! `max_memory_mb`, and reaching the bound ends the run with an outcome, like `max_events`, never an
//! abort; the bound stops every machine at the same event.

use distsim::run::{RunOptions, run};
use distsim::scenario::parse;
use distsim::trace::TraceOutput;

/// Raft clients that would write far more history than 1 MiB before the time limit.
const BUSY: &str = r#"{"name": "busy", "protocol": "raft", "seed": 1, "nodes": 3, "clients": 3,
  "max_time_ms": 600000, "max_memory_mb": 1,
  "params": {"ops_per_client": 100000, "keys": 3, "think_ms_min": 1, "think_ms_max": 2}}"#;

#[test]
fn a_run_that_records_too_much_ends_at_its_memory_bound_with_an_outcome() {
    let (s, src) = parse(BUSY.as_bytes(), "busy.json").unwrap();
    let options = RunOptions {
        seed: None,
        trace: TraceOutput::Digest,
    };
    let a = run(&s, Some(&src), &options).unwrap();
    assert_eq!(a.report.end_reason.as_str(), "memory_limit");
    assert!(a.report.end_time_ns < 600_000 * 1_000_000, "stopped early");
    // About 1 MiB of history: roughly a hundred bytes an event.
    let events = a.history.events.len() as u64;
    assert!((5_000..12_000).contains(&events), "{events} history events");
    // The history up to the bound is still judged.
    assert!(
        a.report
            .checkers
            .iter()
            .any(|c| c.name == "linearizability" && c.verdict == distsim::contract::Verdict::Pass),
        "{:?}",
        a.report.checkers
    );
    // Deterministic: the same run stops at the same event.
    let b = run(&s, Some(&src), &options).unwrap();
    assert_eq!(a.report.counts, b.report.counts);
    assert!(a.report.fingerprint.is_some());
    assert_eq!(a.report.fingerprint, b.report.fingerprint);
}
