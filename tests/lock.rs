//! The distributed lock under the whole engine: each planted bug is caught by the checker meant to
//! catch it on the scenario built for it (on every seed tried), the same scenarios pass without it,
//! Redlock's delayed restart repairs the restart scenario, and the liveness checker fails a run where
//! nobody can take the lock after its holder crashed.

use distsim::protocols::lock::Lock;
use distsim::run::report::{Outcome, RunReport};
use distsim::run::{RunOptions, run_protocol};
use serde_json::{Value, json};

const SEEDS: std::ops::RangeInclusive<u64> = 1..=4;

fn scenario(name: &str) -> Value {
    let path = format!("{}/scenarios/{name}.json", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read(&path).expect("scenario file");
    serde_json::from_slice(&text).expect("json")
}

fn run(scenario: &Value, seed: u64) -> RunReport {
    let text = serde_json::to_vec(scenario).expect("json");
    let (scenario, source) = distsim::scenario::parse(&text, "lock.json").expect("valid");
    let options = RunOptions {
        seed: Some(seed),
        ..RunOptions::default()
    };
    run_protocol::<Lock>(&scenario, Some(&source), &options)
        .expect("runs")
        .report
}

fn summary(r: &RunReport) -> String {
    format!(
        "seed {} outcome {:?} violation {:?} ops {:?} notes {:?}",
        r.seed, r.outcome, r.violation, r.operations, r.notes
    )
}

/// The checker that caught `mutant` on `scenario`, for every seed.
fn caught_by(mut scenario: Value, mutant: &str) -> Vec<String> {
    scenario["mutants"] = json!([mutant]);
    scenario["expect"] = json!({ "violation": "any" });
    SEEDS
        .map(|seed| {
            let r = run(&scenario, seed);
            let v = r
                .violation
                .as_ref()
                .unwrap_or_else(|| panic!("{mutant} missed: {}", summary(&r)));
            v.checker.clone()
        })
        .collect()
}

fn passes(scenario: &Value) {
    for seed in SEEDS {
        let r = run(scenario, seed);
        assert_eq!(r.outcome, Outcome::Pass, "{}", summary(&r));
        assert!(r.violation.is_none(), "{}", summary(&r));
        assert!(
            r.notes.get("acquired").copied().unwrap_or(0) >= 3,
            "{}",
            summary(&r)
        );
    }
}

#[test]
fn fencing_scenario_passes_and_rejects_the_woken_holder() {
    let s = scenario("lock_fencing");
    passes(&s);
    for seed in SEEDS {
        let r = run(&s, seed);
        assert!(
            r.notes.get("write_rejected").copied().unwrap_or(0) >= 1,
            "{}",
            summary(&r)
        );
    }
}

#[test]
fn no_drift_allowance_is_caught_by_belief_exclusion() {
    // The lock servers' clocks run 3% fast: their TTLs end 29 ms early in true time, which the 5%
    // allowance covers; without it the holder still believes when the next client wins.
    let checkers = caught_by(scenario("lock_fencing"), "lock.no_drift_allowance");
    assert!(
        checkers.iter().all(|c| c == "belief_exclusion"),
        "{checkers:?}"
    );
}

#[test]
fn unlock_any_token_is_caught_by_belief_exclusion() {
    // The woken holder's unlock frees its successor's lock, and the third client takes it.
    let checkers = caught_by(scenario("lock_fencing"), "lock.unlock_any_token");
    assert!(
        checkers.iter().all(|c| c == "belief_exclusion"),
        "{checkers:?}"
    );
}

#[test]
fn delayed_restart_repairs_the_restart_scenario() {
    let mut s = scenario("lock_server_restart");
    s.as_object_mut().expect("object").remove("expect");
    s["params"]["delayed_restart"] = json!(true);
    passes(&s);
}

#[test]
fn gc_pause_without_fencing_breaks_effect_exclusion_only() {
    let s = scenario("lock_gc_pause");
    for seed in SEEDS {
        let r = run(&s, seed);
        assert_eq!(r.outcome, Outcome::Pass, "{}", summary(&r));
        let v = r.violation.as_ref().expect("a violation");
        assert_eq!(v.checker, "effect_exclusion", "{}", summary(&r));
    }
}

#[test]
fn liveness_fails_when_nobody_can_take_the_lock_after_the_holder_crashed() {
    let mut s = scenario("lock_holder_crash");
    passes(&s);
    // Cut every client off from the lock servers before the holder crashes: the others keep trying
    // and nobody ever takes the lock again.
    let faults = s["faults"].as_array_mut().expect("faults");
    let before_crash = faults.len() - 1;
    faults.insert(
        before_crash,
        json!({ "at_ms": 200, "cut": { "from": [6, 7, 8], "to": [0, 1, 2, 3, 4] } }),
    );
    s["expect"] = json!({ "violation": "lock_liveness" });
    for seed in SEEDS {
        let r = run(&s, seed);
        let failed: Vec<_> = r
            .checkers
            .iter()
            .filter(|c| matches!(c.verdict, distsim::contract::Verdict::Fail(_)))
            .map(|c| c.name.clone())
            .collect();
        assert_eq!(failed, vec!["lock_liveness".to_string()], "{}", summary(&r));
    }
}
