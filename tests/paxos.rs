//! Paxos under the whole engine: the shipped scenarios pass with correct Paxos on several seeds,
//! and each planted bug is caught by `agreement` on its shipped scenario, on the scenario's own seed
//! and on other seeds too, while the same scenario without the mutant passes.
//!
//! Runs are a few virtual seconds of a handful of servers, so the file runs in seconds in debug.

use distsim::protocols::paxos::Paxos;
use distsim::run::report::{Outcome, RunReport};
use distsim::run::{RunOptions, run_protocol};
use serde_json::Value;

fn load(name: &str) -> Value {
    let path = format!("{}/scenarios/{name}.json", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_slice(&std::fs::read(&path).expect("the scenario")).expect("json")
}

fn run(scenario: &Value, seed: u64) -> RunReport {
    let text = serde_json::to_vec(scenario).expect("json");
    let (scenario, source) = distsim::scenario::parse(&text, "paxos_test.json").expect("valid");
    let options = RunOptions {
        seed: Some(seed),
        ..RunOptions::default()
    };
    run_protocol::<Paxos>(&scenario, Some(&source), &options)
        .expect("runs")
        .report
}

fn summary(r: &RunReport) -> String {
    let checkers: Vec<String> = r
        .checkers
        .iter()
        .map(|c| format!("{}={:?}", c.name, c.verdict))
        .collect();
    format!(
        "seed {} outcome {:?} violation {:?} ops {:?} notes {:?} checkers {checkers:?}",
        r.seed, r.outcome, r.violation, r.operations, r.notes
    )
}

/// The scenario with its mutant and expectation taken out: correct Paxos on the same schedule.
fn without_mutant(mut scenario: Value) -> Value {
    let map = scenario.as_object_mut().expect("an object");
    map.remove("mutants");
    map.remove("expect");
    scenario
}

#[test]
fn correct_paxos_passes_its_scenarios() {
    for name in [
        "paxos_duelling_proposers",
        "paxos_acceptor_crash",
        "multipaxos_partition",
    ] {
        let scenario = load(name);
        for seed in 1..=3 {
            let r = run(&scenario, seed);
            assert_eq!(r.outcome, Outcome::Pass, "{name}: {}", summary(&r));
            // Every run decides something: the verdicts are not vacuous.
            assert!(
                r.notes.get("learned").copied().unwrap_or(0) > 20,
                "{name}: {}",
                summary(&r)
            );
            let judged: Vec<&str> = r.checkers.iter().map(|c| c.name.as_str()).collect();
            assert!(
                judged.contains(&"agreement") && judged.contains(&"validity"),
                "{judged:?}"
            );
            if name.starts_with("multipaxos") {
                assert!(r.operations.ok > 100, "{name}: {}", summary(&r));
                assert!(judged.contains(&"linearizability"), "{judged:?}");
                assert!(
                    r.notes.get("became_leader").copied().unwrap_or(0) >= 2,
                    "{}",
                    summary(&r)
                );
            } else {
                assert!(judged.contains(&"paxos_liveness"), "{judged:?}");
            }
        }
    }
}

/// Runs the shipped mutant scenario `name` on its own seed and on `seeds`; it must be caught by
/// `agreement` on its seed and on at least `min_caught` of the others, and the same scenario without
/// the mutant must pass on all of them.
fn caught(name: &str, mutant: &str, seeds: std::ops::Range<u64>, min_caught: usize) {
    let scenario = load(name);
    assert_eq!(scenario["mutants"], serde_json::json!([mutant]));
    let own_seed = scenario["seed"].as_u64().expect("a seed");
    let r = run(&scenario, own_seed);
    assert_eq!(r.outcome, Outcome::Pass, "{name}: {}", summary(&r));
    let v = r.violation.as_ref().expect("a violation");
    assert_eq!(v.checker, "agreement", "{}", summary(&r));
    let mut hits = 0;
    for seed in seeds.clone() {
        let r = run(&scenario, seed);
        if r.violation
            .as_ref()
            .is_some_and(|v| v.checker == "agreement")
        {
            hits += 1;
        }
    }
    assert!(
        hits >= min_caught,
        "{mutant}: caught on {hits} of {seeds:?}"
    );
    let correct = without_mutant(scenario);
    for seed in std::iter::once(own_seed).chain(seeds) {
        let r = run(&correct, seed);
        assert_eq!(
            r.outcome,
            Outcome::Pass,
            "{name} without {mutant}: {}",
            summary(&r)
        );
    }
}

#[test]
fn forget_promise_on_restart_is_caught() {
    caught(
        "paxos_forget_promise",
        "paxos.forget_promise_on_restart",
        0..10,
        1,
    );
}

#[test]
fn ignore_accepted_in_promise_is_caught() {
    caught(
        "paxos_ignore_accepted_in_promise",
        "paxos.ignore_accepted_in_promise",
        0..4,
        4,
    );
}

#[test]
fn adopt_any_accepted_is_caught() {
    caught(
        "paxos_adopt_any_accepted",
        "paxos.adopt_any_accepted",
        0..6,
        2,
    );
}

#[test]
fn non_unique_ballots_is_caught() {
    caught(
        "paxos_non_unique_ballots",
        "paxos.non_unique_ballots",
        0..4,
        4,
    );
}

#[test]
fn single_decree_refuses_clients_and_bad_modes() {
    let mut scenario = load("paxos_duelling_proposers");
    scenario["clients"] = serde_json::json!(2);
    let text = serde_json::to_vec(&scenario).unwrap();
    let (s, source) = distsim::scenario::parse(&text, "paxos_test.json").expect("valid shape");
    let Err(err) = run_protocol::<Paxos>(&s, Some(&source), &RunOptions::default()) else {
        panic!("refused");
    };
    assert!(
        format!("{err:?}").contains("single-decree paxos has no clients"),
        "{err:?}"
    );
    let mut scenario = load("paxos_duelling_proposers");
    scenario["params"]["mode"] = serde_json::json!("double");
    let text = serde_json::to_vec(&scenario).unwrap();
    let (s, source) = distsim::scenario::parse(&text, "paxos_test.json").expect("valid shape");
    let Err(err) = run_protocol::<Paxos>(&s, Some(&source), &RunOptions::default()) else {
        panic!("refused");
    };
    assert!(format!("{err:?}").contains("params.mode"), "{err:?}");
}

#[test]
fn the_forgetful_acceptor_script_breaks_agreement_and_the_durable_one_does_not() {
    let dir = format!("{}/tests/golden/paxos", env!("CARGO_MANIFEST_DIR"));
    let script = |name: &str| {
        let file = format!("{dir}/{name}.script");
        let text = std::fs::read_to_string(&file).expect("the script");
        distsim::testing::run_script_file(&text, &file).expect("runs")
    };
    let forgetful = script("forget_promise_on_restart");
    assert!(
        forgetful.contains("VIOLATION agreement: slot 0"),
        "{forgetful}"
    );
    let durable = script("restart_keeps_promise");
    assert!(!durable.contains("VIOLATION"), "{durable}");
    // The durable acceptor refuses the lower ballot, and everyone learns node 2's value.
    assert!(durable.contains(r#""type":"nack""#), "{durable}");
    assert_eq!(
        durable.matches(r#""note":"learned""#).count(),
        3,
        "{durable}"
    );
}
