//! PBFT under the whole engine: correct PBFT keeps agreement with one equivocating, forging or
//! silent replica out of four (and out of five), moving to a new view when the primary lies; two
//! colluding Byzantine replicas out of four break agreement, as n >= 3f + 1 says they may; and each
//! planted bug is caught on the equivocating-primary scenario, which passes without it.

use distsim::protocols::pbft::Pbft;
use distsim::run::report::{Outcome, RunReport};
use distsim::run::{RunOptions, run_protocol};
use serde_json::{Value, json};

fn run(scenario: &Value, seed: u64) -> RunReport {
    let text = serde_json::to_vec(scenario).expect("json");
    let (scenario, source) = distsim::scenario::parse(&text, "pbft.json").expect("valid");
    let options = RunOptions {
        seed: Some(seed),
        ..RunOptions::default()
    };
    run_protocol::<Pbft>(&scenario, Some(&source), &options)
        .expect("runs")
        .report
}

fn file(name: &str) -> Value {
    let path = format!("{}/scenarios/{name}.json", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_slice(&std::fs::read(path).expect("scenario")).expect("json")
}

fn violated(r: &RunReport) -> Option<String> {
    r.violation.as_ref().map(|v| v.checker.clone())
}

fn verdicts(r: &RunReport) -> String {
    let all: Vec<String> = r
        .checkers
        .iter()
        .map(|c| format!("{}={:?}", c.name, c.verdict))
        .collect();
    format!("seed {} {:?} {all:?}", r.seed, r.outcome)
}

#[test]
fn an_equivocating_primary_is_replaced_and_the_correct_replicas_agree() {
    for name in ["pbft_equivocating_primary", "pbft_n5"] {
        let scenario = file(name);
        for seed in 0..4 {
            let r = run(&scenario, seed);
            assert_eq!(r.outcome, Outcome::Pass, "{name} {}", verdicts(&r));
            let views = r.notes.get("new_view").copied();
            assert!(views.unwrap_or(0) > 0, "{name} seed {seed}: no view change");
        }
    }
}

#[test]
fn a_silent_or_forging_replica_changes_nothing_for_clients() {
    let mut scenario = file("pbft_silent_replica");
    for seed in 0..3 {
        let r = run(&scenario, seed);
        assert_eq!(r.outcome, Outcome::Pass, "{}", verdicts(&r));
    }
    scenario["faults"][0]["byzantine"]["mode"] = json!("forge");
    for seed in 0..3 {
        let r = run(&scenario, seed);
        assert_eq!(r.outcome, Outcome::Pass, "{}", verdicts(&r));
    }
}

#[test]
fn two_colluding_byzantine_replicas_of_four_break_agreement() {
    let scenario = file("pbft_too_many_faults");
    // The scenario's own seed breaks agreement outright; on others the split may show first as a
    // sequence number committed to different requests in two views.
    assert_eq!(violated(&run(&scenario, 1)).as_deref(), Some("agreement"));
    for seed in 0..6 {
        let r = run(&scenario, seed);
        let broken = violated(&r);
        assert!(
            matches!(
                broken.as_deref(),
                Some("agreement" | "committed_seq_stable")
            ),
            "{}",
            verdicts(&r)
        );
        let why = &r.violation.as_ref().expect("violation").message;
        assert!(why.contains("n >= 3f + 1"), "{why}");
    }
    // One liar alone cannot do it.
    let mut one = scenario.clone();
    one["faults"] = json!([one["faults"][0].clone()]);
    one.as_object_mut().expect("object").remove("expect");
    assert_eq!(run(&one, 1).outcome, Outcome::Pass);
}

#[test]
fn each_mutant_is_caught_and_the_scenario_passes_without_it() {
    let base = file("pbft_equivocating_primary");
    for (mutant, property) in [
        ("pbft.quorum_2f", "agreement"),
        ("pbft.no_digest_match", "agreement"),
        ("pbft.view_change_drops_prepared", "committed_seq_stable"),
    ] {
        let mut scenario = base.clone();
        scenario["mutants"] = json!([mutant]);
        for seed in 0..3 {
            let r = run(&scenario, seed);
            assert_eq!(
                violated(&r).as_deref(),
                Some(property),
                "{mutant} {}",
                verdicts(&r)
            );
        }
    }
    // Quorums of 2f + 1 = 3 out of 5 (what 2*(n/3)+1 gives too) are also defeated at n = 5.
    let mut n5 = file("pbft_n5");
    n5["mutants"] = json!(["pbft.quorum_2f"]);
    assert!(violated(&run(&n5, 1)).is_some());
}

#[test]
fn sha256_and_md5_runs_both_pass() {
    let mut scenario = file("pbft_silent_replica");
    scenario["faults"] = json!([]);
    for digest in ["md5", "sha256"] {
        scenario["params"]["digest"] = json!(digest);
        assert_eq!(run(&scenario, 2).outcome, Outcome::Pass, "{digest}");
    }
    scenario["params"]["digest"] = json!("crc32");
    let text = serde_json::to_vec(&scenario).expect("json");
    let (parsed, source) = distsim::scenario::parse(&text, "pbft.json").expect("valid json");
    let err = run_protocol::<Pbft>(&parsed, Some(&source), &RunOptions::default()).err();
    assert!(format!("{err:?}").contains("params.digest"), "{err:?}");
}

#[test]
fn checkpoints_discard_the_log_and_a_replica_left_behind_fetches_the_state() {
    let scenario = file("pbft_checkpoints");
    for seed in 0..4 {
        let r = run(&scenario, seed);
        assert!(r.violation.is_none(), "{}", verdicts(&r));
        let note = |n: &str| r.notes.get(n).copied().unwrap_or(0);
        // 80 requests, a checkpoint every 10: eight stable checkpoints at each of three replicas.
        assert!(note("checkpoint_stable") >= 24, "{}: {:?}", seed, r.notes);
        assert_eq!(note("log_truncated"), note("checkpoint_stable"));
        assert!(
            note("state_transferred") > 0,
            "replica 3 caught up: {:?}",
            r.notes
        );
        assert_eq!(r.operations.ok, 80, "{}", verdicts(&r));
    }
}

#[test]
fn checkpoint_mutants_are_caught_by_checkpoint_stable() {
    let base = file("pbft_checkpoints");
    for mutant in ["pbft.checkpoint_quorum_f", "pbft.gc_unstable"] {
        let mut scenario = base.clone();
        scenario["mutants"] = json!([mutant]);
        for seed in 0..4 {
            let r = run(&scenario, seed);
            assert_eq!(
                violated(&r).as_deref(),
                Some("checkpoint_stable"),
                "{mutant} {}",
                verdicts(&r)
            );
        }
    }
}

#[test]
fn the_log_window_must_hold_a_checkpoint_interval() {
    let mut scenario = file("pbft_checkpoints");
    scenario["params"]["log_window"] = json!(5);
    let text = serde_json::to_vec(&scenario).expect("json");
    let (parsed, source) = distsim::scenario::parse(&text, "pbft.json").expect("valid json");
    let err = run_protocol::<Pbft>(&parsed, Some(&source), &RunOptions::default()).err();
    assert!(format!("{err:?}").contains("params.log_window"), "{err:?}");
}

#[test]
fn the_checkers_take_the_byzantine_replicas_from_the_faults() {
    // Replica 3 forges from the start: its checkpoint digests are made up, and it is not judged.
    let mut scenario = file("pbft_silent_replica");
    scenario["faults"] = json!([{ "at_ms": 0, "byzantine": { "node": 3, "mode": "forge" } }]);
    let r = run(&scenario, 1);
    assert_eq!(r.outcome, Outcome::Pass, "{}", verdicts(&r));
    // The two colluders are named in the explanation, read from the faults alone.
    let r = run(&file("pbft_too_many_faults"), 1);
    let why = &r.violation.as_ref().expect("violation").message;
    assert!(why.contains("2 Byzantine replicas [0, 1]"), "{why}");
    // The old list is refused, with its field.
    scenario["params"]["byzantine"] = json!([3]);
    let text = serde_json::to_vec(&scenario).expect("json");
    let (parsed, source) = distsim::scenario::parse(&text, "pbft.json").expect("valid json");
    let err = run_protocol::<Pbft>(&parsed, Some(&source), &RunOptions::default()).err();
    assert!(format!("{err:?}").contains("params.byzantine"), "{err:?}");
}

#[test]
fn colluders_break_agreement_only_when_they_share_what_they_send() {
    let scenario = file("pbft_too_many_faults");
    // Without a collusion group the backup never hears the primary's honest pre-prepares, so it
    // cannot tell even replicas the story the primary told them: no request gathers a quorum
    // at one correct replica and a different one at the other.
    let mut alone = scenario.clone();
    for f in alone["faults"].as_array_mut().expect("faults") {
        f["byzantine"]
            .as_object_mut()
            .expect("byzantine")
            .remove("collude");
    }
    alone.as_object_mut().expect("object").remove("expect");
    for seed in 0..6 {
        assert_eq!(
            violated(&run(&scenario, seed)).as_deref(),
            Some("agreement")
        );
        let r = run(&alone, seed);
        assert!(
            !matches!(
                violated(&r).as_deref(),
                Some("agreement" | "committed_seq_stable")
            ),
            "{}",
            verdicts(&r)
        );
    }
    // A collusion group needs a name.
    let mut unnamed = scenario.clone();
    unnamed["faults"][0]["byzantine"]["collude"] = json!("");
    let text = serde_json::to_vec(&unnamed).expect("json");
    let err = distsim::scenario::parse(&text, "pbft.json").err();
    assert!(format!("{err:?}").contains("collude"), "{err:?}");
}
