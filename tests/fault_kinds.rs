//! Fault kinds: one enum lists them all; every kind parses from its scenario form and prints back
//! the same; a change a fault makes counts as in force until it is undone, so liveness is not judged
//! while a link is still degraded or a clock still drifts.

use distsim::contract::Verdict;
use distsim::fault::{FaultAction, FaultSpec};
use distsim::run::{RunOptions, run};
use distsim::scenario::parse;

/// One example of every kind, in `FaultAction::KINDS` order.
const EXAMPLES: &[&str] = &[
    r#"{"at_ms":1,"partition":[[0,1],[2]]}"#,
    r#"{"at_ms":1,"cut":{"from":[0],"to":[1,2]}}"#,
    r#"{"at_ms":1,"isolate":"leader"}"#,
    r#"{"at_ms":1,"heal":true}"#,
    r#"{"at_ms":1,"crash":2}"#,
    r#"{"at_ms":1,"restart":"all"}"#,
    r#"{"at_ms":1,"pause":1}"#,
    r#"{"at_ms":1,"resume":"all"}"#,
    r#"{"at_ms":1,"clock":{"node":0,"offset_ms":-5,"drift_ppm":100}}"#,
    r#"{"at_ms":1,"link":{"from":[0],"loss_ppm":5}}"#,
    r#"{"at_ms":1,"byzantine":{"node":0,"mode":"silent"}}"#,
];

#[test]
fn every_kind_parses_prints_back_and_names_itself() {
    assert_eq!(EXAMPLES.len(), FaultAction::KINDS.len());
    for (text, (name, _)) in EXAMPLES.iter().zip(FaultAction::KINDS) {
        let fault: FaultSpec = serde_json::from_str(text).expect(text);
        assert_eq!(fault.action.name(), *name, "{text}");
        assert_eq!(&serde_json::to_string(&fault).expect("prints"), text);
    }
}

#[test]
fn a_fault_has_one_known_action() {
    for (text, want) in [
        (r#"{"at_ms":1}"#, "a fault needs one action"),
        (r#"{"at_ms":1,"crash":1,"pause":2}"#, "exactly one action"),
        (r#"{"at_ms":1,"explode":1}"#, "unknown variant `explode`"),
        (r#"{"crash":1}"#, "missing field `at_ms`"),
        (
            r#"{"at_ms":1,"crash":"all","at_ms":2}"#,
            "duplicate field `at_ms`",
        ),
    ] {
        let err = serde_json::from_str::<FaultSpec>(text).expect_err(text);
        assert!(err.to_string().contains(want), "{text}: {err}");
    }
}

fn leader_within_verdict(faults: &str) -> Verdict {
    let text = format!(
        r#"{{"name": "in_force", "protocol": "raft", "seed": 3, "nodes": 3, "clients": 1,
            "max_time_ms": 4000, "faults": {faults},
            "liveness": {{"leader_within_ms": 1500}}}}"#
    );
    let (scenario, source) = parse(text.as_bytes(), "in_force.json").expect("a valid scenario");
    let out = run(&scenario, Some(&source), &RunOptions::default()).expect("runs");
    out.report
        .checkers
        .iter()
        .find(|c| c.name == "leader_within")
        .expect("judged")
        .verdict
        .clone()
}

#[test]
fn a_link_fault_or_a_drifting_clock_is_in_force_until_undone() {
    let lossy = r#"[{"at_ms": 500, "link": {"loss_ppm": 100000}}]"#;
    assert!(
        matches!(leader_within_verdict(lossy), Verdict::Unknown(ref m) if m.contains("in force")),
        "a link left lossy is still a fault"
    );
    let undone = r#"[{"at_ms": 500, "link": {"loss_ppm": 100000}},
                     {"at_ms": 1000, "link": {"loss_ppm": 0}}]"#;
    assert_eq!(leader_within_verdict(undone), Verdict::Pass);
    let drifting = r#"[{"at_ms": 500, "clock": {"node": 0, "drift_ppm": 20000}}]"#;
    assert!(matches!(
        leader_within_verdict(drifting),
        Verdict::Unknown(_)
    ));
    let reset = r#"[{"at_ms": 500, "clock": {"node": 0, "drift_ppm": 20000}},
                    {"at_ms": 900, "clock": {"node": 0, "drift_ppm": 0}}]"#;
    assert_eq!(leader_within_verdict(reset), Verdict::Pass);
}
