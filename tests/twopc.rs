//! Two-phase commit under the whole engine: the correct protocol keeps atomicity, commit validity and
//! decision stability through crashes, loss and duplication, reports the blocking while the
//! coordinator is down, and decides everything once it is back; each planted bug is caught by the
//! property meant to catch it, on a scenario built to give it the chance.

use distsim::contract::Verdict;
use distsim::protocols::twopc::TwoPc;
use distsim::run::report::{Outcome, RunReport};
use distsim::run::{RunOptions, run_protocol};
use serde_json::{Value, json};

fn scenario(file: &str) -> Value {
    let text = std::fs::read(format!("scenarios/{file}.json")).expect("the scenario");
    serde_json::from_slice(&text).expect("json")
}

fn run(scenario: &Value, seed: u64) -> RunReport {
    let text = serde_json::to_vec(scenario).expect("json");
    let (scenario, source) = distsim::scenario::parse(&text, "twopc.json").expect("valid");
    let options = RunOptions {
        seed: Some(seed),
        ..RunOptions::default()
    };
    run_protocol::<TwoPc>(&scenario, Some(&source), &options)
        .expect("runs")
        .report
}

fn summary(r: &RunReport) -> String {
    format!(
        "seed {} outcome {:?} violation {:?} ops {:?} notes {:?} checkers {:?}",
        r.seed, r.outcome, r.violation, r.operations, r.notes, r.checkers
    )
}

fn note(r: &RunReport, label: &str) -> u64 {
    r.notes.get(label).copied().unwrap_or(0)
}

/// The liveness checker's verdict.
fn liveness(r: &RunReport) -> &Verdict {
    &r.checkers
        .iter()
        .find(|c| c.name == "twopc_liveness")
        .expect("twopc_liveness runs")
        .verdict
}

/// Every checker passed, the liveness checker included (it judged, not `unknown`); the blocking
/// remark, if any.
fn assert_clean(r: &RunReport) -> Option<String> {
    assert_eq!(r.outcome, Outcome::Pass, "{}", summary(r));
    assert!(r.violation.is_none(), "{}", summary(r));
    match liveness(r) {
        Verdict::Pass => None,
        Verdict::PassNoted(remark) => Some(remark.clone()),
        other => panic!("liveness {other:?}: {}", summary(r)),
    }
}

#[test]
fn no_votes_abort_and_yes_votes_commit() {
    let s = scenario("twopc_participant_no");
    for seed in 1..=3 {
        let r = run(&s, seed);
        // Nobody crashed, nothing was lost: nobody was blocked.
        assert_eq!(assert_clean(&r), None, "{}", summary(&r));
        // Both outcomes happen, and the clients hear them: commit is ok, abort is fail.
        assert!(
            r.operations.ok > 5 && r.operations.fail > 5,
            "{}",
            summary(&r)
        );
        assert!(note(&r, "voted_no") > 5, "{}", summary(&r));
        assert_eq!(r.operations.info + r.operations.open, 0, "{}", summary(&r));
    }
}

#[test]
fn a_coordinator_crash_blocks_participants_until_it_recovers() {
    let s = scenario("twopc_coordinator_crash");
    let r = run(&s, 1);
    let remark = assert_clean(&r).expect("blocking is reported");
    assert!(
        remark.starts_with("blocking: participants [1, 2, 3] asked around in 5 episodes (5 while the coordinator was down), longest"),
        "{remark}"
    );
    assert_eq!(note(&r, "recovered"), 1, "{}", summary(&r));
    // Participants that voted yes waited for the coordinator: blocked, then unblocked by it.
    assert!(note(&r, "blocked") > 0, "{}", summary(&r));
    assert_eq!(
        note(&r, "blocked"),
        note(&r, "unblocked"),
        "{}",
        summary(&r)
    );
    for seed in 2..=4 {
        assert_clean(&run(&s, seed));
    }
}

#[test]
fn the_liveness_checker_fails_when_decisions_are_never_resent() {
    // Loss until 1 s, and nobody re-sends or asks within the run: lost decisions leave participants
    // undecided long after the network recovered.
    let mut s = scenario("twopc_lossy");
    s["network"]["tail"] = json!(null);
    s["network"]["loss_ppm"] = json!(300_000);
    s["faults"][0]["at_ms"] = json!(1000);
    s["max_time_ms"] = json!(4000);
    s["params"]["resend_ms"] = json!(1_000_000);
    s["params"]["decision_timeout_ms"] = json!(1_000_000);
    s["params"]["liveness_decide_ms"] = json!(1000);
    let r = run(&s, 1);
    assert!(
        matches!(liveness(&r), Verdict::Fail(m) if m.contains("undecided at nodes")),
        "{}",
        summary(&r)
    );
    assert_eq!(r.outcome, Outcome::Fail, "{}", summary(&r));
}

#[test]
fn lossy_network_with_duplicates_keeps_every_promise() {
    let s = scenario("twopc_lossy");
    for seed in 1..=3 {
        let r = run(&s, seed);
        assert_clean(&r);
        assert!(r.counts.messages_duplicated > 0, "{}", summary(&r));
        assert!(r.operations.ok > 10, "{}", summary(&r));
    }
}

/// Runs `scenario` with `mutant` on seeds `1..=seeds`; the first violation's (seed, property).
fn first_catch(scenario: &Value, mutant: &str, seeds: u64) -> Option<(u64, String)> {
    let mut s = scenario.clone();
    s["mutants"] = json!([mutant]);
    (1..=seeds).find_map(|seed| {
        let r = run(&s, seed);
        r.violation.map(|v| (seed, v.checker))
    })
}

#[test]
fn decide_before_logging_is_caught_by_decision_stability() {
    let s = scenario("twopc_coordinator_crash");
    let caught = first_catch(&s, "twopc.decide_before_logging", 3);
    assert_eq!(caught.map(|c| c.1).as_deref(), Some("decision_stability"));
}

#[test]
fn count_yes_messages_is_caught_under_duplication() {
    let s = scenario("twopc_lossy");
    let caught = first_catch(&s, "twopc.count_yes_messages", 3);
    assert_eq!(caught.map(|c| c.1).as_deref(), Some("commit_validity"));
}

#[test]
fn abort_after_yes_on_timeout_is_caught_by_atomicity() {
    // One participant is cut off for a second: what it voted yes on just before, the others commit;
    // the correct participant waits and learns the commit after the heal, the mutant aborts.
    let mut s = scenario("twopc_coordinator_crash");
    s["faults"] = json!([
        { "at_ms": 1000, "isolate": { "group": "participants", "member": 0 } },
        { "at_ms": 2000, "heal": true },
    ]);
    for seed in 1..=3 {
        assert_clean(&run(&s, seed));
    }
    let caught = first_catch(&s, "twopc.abort_after_yes_on_timeout", 6);
    assert_eq!(caught.map(|c| c.1).as_deref(), Some("atomicity"));
}

#[test]
fn the_scenarios_pass_without_mutants() {
    for file in [
        "twopc_participant_no",
        "twopc_coordinator_crash",
        "twopc_lossy",
    ] {
        let s = scenario(file);
        assert!(s.get("mutants").is_none(), "{file}");
        assert_clean(&run(&s, s["seed"].as_u64().expect("a seed")));
    }
}

#[test]
fn a_cluster_2pc_cannot_run_is_refused_where_it_is_written() {
    for (extra, field) in [
        (
            r#""nodes": 5, "groups": {"coordinator": 2}"#,
            "groups.coordinator",
        ),
        (r#""nodes": 1"#, "nodes"),
        (
            r#""nodes": 4, "params": {"decision_timeout_ms": 0}"#,
            "params.decision_timeout_ms",
        ),
    ] {
        let text = format!(
            r#"{{"name": "x", "protocol": "twopc", "seed": 1, "max_time_ms": 100, {extra}}}"#
        );
        let (s, source) = distsim::scenario::parse(text.as_bytes(), "x.json").expect("parses");
        let err = distsim::run::validate(&s, Some(&source)).expect_err("refused");
        assert!(
            err.to_string().contains(&format!("field `{field}`")),
            "{err}"
        );
    }
}
