//! Consistent hashing under churn: with the ring, every key that moves goes from the cache node that
//! left or to the one that joined, about 1/N of the keys per change, and the load stays even; with
//! the planted `hash mod N` placement, the movement checker catches the first change.

use distsim::contract::Verdict;
use distsim::protocols::consistent_hashing::ConsistentHashing;
use distsim::protocols::consistent_hashing::checker::moved_percent_in;
use distsim::run::report::{Outcome, RunReport};
use distsim::run::{RunOptions, run_protocol};

fn run(file: &str, seed: u64) -> RunReport {
    let text = std::fs::read(format!("scenarios/{file}.json")).expect("the scenario");
    let (scenario, source) = distsim::scenario::parse(&text, file).expect("valid");
    let options = RunOptions {
        seed: Some(seed),
        ..RunOptions::default()
    };
    run_protocol::<ConsistentHashing>(&scenario, Some(&source), &options)
        .expect("runs")
        .report
}

#[test]
fn the_ring_moves_about_one_in_n_keys_and_only_to_or_from_the_changed_node() {
    for seed in 0..4 {
        let r = run("consistent_hashing_churn", seed);
        assert_eq!(r.outcome, Outcome::Pass, "seed {seed}: {:?}", r.checkers);
        let verdict = &r
            .checkers
            .iter()
            .find(|c| c.name == "ch_minimal_movement")
            .expect("the checker runs")
            .verdict;
        let Verdict::PassNoted(detail) = verdict else {
            panic!("seed {seed}: a pass with the numbers, got {verdict:?}");
        };
        // Two clients, each sees six changes (a simultaneous double join may count once).
        assert!(
            r.notes.get("remapped").copied().unwrap_or(0) >= 10,
            "{detail}"
        );
        let moved = moved_percent_in(detail).expect("the fraction moved");
        // 1/N is 20% to 25% here; the ring lands near it.
        assert!((12.0..35.0).contains(&moved), "seed {seed}: {detail}");
        assert!(
            r.notes.get("hit").copied().unwrap_or(0) > 0,
            "the cache serves hits"
        );
    }
}

#[test]
fn modulo_placement_is_caught_by_the_movement_checker() {
    for seed in 0..4 {
        let r = run("consistent_hashing_modulo", seed);
        assert_eq!(r.outcome, Outcome::Pass, "the expected violation was found");
        let v = r.violation.as_ref().expect("a violation");
        assert_eq!(v.checker, "ch_minimal_movement");
        assert!(v.message.contains("moved key-"), "{}", v.message);
    }
}

#[test]
fn the_fraction_moved_reads_back_from_a_detail() {
    let d = "12 ring changes, keys moved per change 23.6% (min 19.8%, max 27.9%), 1/N 21.6%";
    assert_eq!(moved_percent_in(d), Some(23.6));
    assert_eq!(moved_percent_in("no ring changes"), None);
}
