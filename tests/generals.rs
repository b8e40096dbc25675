//! The Byzantine generals under the whole engine: OM(m) keeps IC1 and IC2 with more than 3m
//! generals whatever the traitors say, fails with three generals and one traitor, and the checkers
//! catch a disagreement (OM(0) under a lying commander) and stay silent on OM(1) in the same run.

use distsim::contract::Verdict;
use distsim::protocols::generals::Generals;
use distsim::run::report::{Outcome, RunReport};
use distsim::run::{RunOptions, run_protocol};
use serde_json::{Value, json};

fn scenario(file: &str) -> Value {
    let text = std::fs::read(format!("scenarios/{file}.json")).expect("the scenario");
    serde_json::from_slice(&text).expect("json")
}

fn run(scenario: &Value, seed: u64) -> RunReport {
    let text = serde_json::to_vec(scenario).expect("json");
    let (scenario, source) = distsim::scenario::parse(&text, "generals.json").expect("valid");
    let options = RunOptions {
        seed: Some(seed),
        ..RunOptions::default()
    };
    run_protocol::<Generals>(&scenario, Some(&source), &options)
        .expect("runs")
        .report
}

fn verdict<'a>(r: &'a RunReport, property: &str) -> &'a Verdict {
    &r.checkers
        .iter()
        .find(|c| c.name == property)
        .unwrap_or_else(|| panic!("{property} is judged"))
        .verdict
}

fn decided(r: &RunReport) -> u64 {
    r.notes.get("decided").copied().unwrap_or(0)
}

#[test]
fn one_traitor_among_four_changes_nothing() {
    let s = scenario("generals_n4_m1");
    for seed in 0..20 {
        let r = run(&s, seed);
        assert_eq!(r.outcome, Outcome::Pass, "seed {seed}: {:?}", r.checkers);
        assert_eq!(decided(&r), 3, "seed {seed}");
        // The commander is loyal, so IC2 is judged, not waived.
        assert_eq!(verdict(&r, "ic1"), &Verdict::Pass, "seed {seed}");
        assert_eq!(verdict(&r, "ic2"), &Verdict::Pass, "seed {seed}");
    }
}

#[test]
fn three_generals_cannot_survive_one_traitor() {
    let s = scenario("generals_n3_traitor");
    for seed in 0..20 {
        let r = run(&s, seed);
        assert_eq!(
            r.outcome,
            Outcome::Pass,
            "seed {seed}: expected ic2 to fail"
        );
        let v = r.violation.as_ref().expect("a violation");
        assert_eq!(v.checker, "ic2", "seed {seed}");
        assert!(matches!(verdict(&r, "ic2"), Verdict::Fail(m) if m.contains("1: retreat")));
    }
}

#[test]
fn two_traitors_among_seven_with_two_rounds_agree() {
    let s = scenario("generals_n7_m2");
    for seed in 0..10 {
        let r = run(&s, seed);
        assert_eq!(r.outcome, Outcome::Pass, "seed {seed}: {:?}", r.checkers);
        assert_eq!(decided(&r), 6, "seed {seed}");
        assert_eq!(verdict(&r, "ic1"), &Verdict::Pass, "seed {seed}");
        // The commander lied, and the checker knows it.
        assert!(
            matches!(verdict(&r, "ic2"), Verdict::PassNoted(m) if m.contains("traitor")),
            "seed {seed}"
        );
    }
}

/// Four generals, the commander telling lieutenants of one parity the opposite of the others.
fn lying_commander(m: u32) -> Value {
    let mut s = scenario("generals_n4_m1");
    s["params"]["m"] = json!(m);
    s["faults"] = json!([{ "at_ms": 0, "byzantine": { "node": 0, "mode": "equivocate" } }]);
    s
}

#[test]
fn ic1_catches_om0_under_a_lying_commander_and_om1_survives_it() {
    for seed in 0..20 {
        // OM(0): each lieutenant takes what it heard, so lieutenants 1 and 2 disagree.
        let r = run(&lying_commander(0), seed);
        assert!(
            matches!(verdict(&r, "ic1"), Verdict::Fail(m) if m.contains("differently")),
            "seed {seed}: {:?}",
            r.checkers
        );
        assert_eq!(r.outcome, Outcome::Fail, "seed {seed}");
        // OM(1): the relays outvote the lie.
        let r = run(&lying_commander(1), seed);
        assert_eq!(verdict(&r, "ic1"), &Verdict::Pass, "seed {seed}");
        assert_eq!(r.outcome, Outcome::Pass, "seed {seed}");
    }
}

#[test]
fn a_forging_lieutenant_is_outvoted_whatever_the_seeded_order() {
    let mut s = scenario("generals_n4_m1");
    s["faults"] = json!([{ "at_ms": 0, "byzantine": { "node": 3, "mode": "forge" } }]);
    for seed in 0..20 {
        let r = run(&s, seed);
        assert_eq!(r.outcome, Outcome::Pass, "seed {seed}: {:?}", r.checkers);
        assert_eq!(verdict(&r, "ic2"), &Verdict::Pass, "seed {seed}");
    }
}

#[test]
fn bad_params_are_refused_with_their_field() {
    for (params, field) in [
        (json!({ "m": 1, "rounds": 2 }), "rounds"),
        (json!({ "order": "charge" }), "params.order"),
        (json!({ "round_ms": 0 }), "params.round_ms"),
        (json!({ "m": 5 }), "params.m"),
    ] {
        let mut s = scenario("generals_n7_m2");
        // OM(5) over eleven lieutenants would send about 400000 messages.
        s["nodes"] = json!(12);
        s["params"] = params;
        let text = serde_json::to_vec(&s).expect("json");
        let err = match distsim::scenario::parse(&text, "generals.json") {
            Err(e) => e.to_string(),
            Ok((scenario, source)) => {
                match run_protocol::<Generals>(&scenario, Some(&source), &RunOptions::default()) {
                    Err(e) => e.to_string(),
                    Ok(_) => panic!("{field}: accepted"),
                }
            }
        };
        assert!(err.contains(field), "{field}: {err}");
    }
}

#[test]
fn lost_loyal_messages_leave_the_verdict_unknown_not_failed() {
    // No traitor, but the network loses messages: OM's assumption that every message arrives is
    // broken, so a disagreement is the network's doing, and the checkers say so.
    let mut s = scenario("generals_n4_m1");
    s["faults"] = json!([]);
    s["params"]["order"] = json!("attack");
    s["network"]["loss_ppm"] = json!(300_000);
    let mut unknown = 0;
    for seed in 0..20 {
        let r = run(&s, seed);
        for p in ["ic1", "ic2"] {
            match verdict(&r, p) {
                Verdict::Fail(m) => panic!("seed {seed}: {p} failed: {m}"),
                Verdict::Unknown(m) => {
                    assert!(m.contains("arrives within a round"), "{m}");
                    unknown += 1;
                }
                _ => {}
            }
        }
    }
    assert!(
        unknown > 0,
        "loss of 30% caused a disagreement on some seed"
    );
}
