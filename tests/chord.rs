//! Chord under the whole engine: the churn scenario heals and every judged lookup finds the true
//! successor in about log2(N)/2 hops; each planted bug is caught by its property (and the same
//! scenario passes without it); without the ring check a partition leaves the ring broken and
//! `chord_ring` says so; the hop limit turns a lookup that needs too many steps into a judged
//! failure; a run that stops before the ring had its rounds is undecided, never failed; swarm
//! schedules raise no false alarm; bad parameters are refused with the field named.

use distsim::contract::Verdict;
use distsim::protocols::chord::Chord;
use distsim::run::report::{Outcome, RunReport};
use distsim::run::{RunOptions, run_protocol};
use serde_json::{Value, json};

fn run(scenario: &Value) -> RunReport {
    let text = serde_json::to_vec(scenario).expect("json");
    let (scenario, source) = distsim::scenario::parse(&text, "chord.json").expect("valid");
    run_protocol::<Chord>(&scenario, Some(&source), &RunOptions::default())
        .expect("runs")
        .report
}

fn file(name: &str) -> Value {
    let path = format!("{}/scenarios/{name}.json", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(path).expect("scenario file")).expect("json")
}

fn verdict<'a>(r: &'a RunReport, property: &str) -> &'a Verdict {
    &r.checkers
        .iter()
        .find(|c| c.name == property)
        .unwrap_or_else(|| panic!("no property {property}"))
        .verdict
}

fn noted<'a>(r: &'a RunReport, property: &str) -> &'a str {
    match verdict(r, property) {
        Verdict::PassNoted(detail) => detail,
        other => panic!("{property}: {other:?}"),
    }
}

/// The number after `label` in `detail`.
fn number_after(detail: &str, label: &str) -> f64 {
    let rest = detail
        .split(label)
        .nth(1)
        .unwrap_or_else(|| panic!("no {label:?} in {detail}"));
    rest.split(|c: char| !(c.is_ascii_digit() || c == '.'))
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no number after {label:?} in {detail}"))
}

#[test]
fn the_churned_ring_heals_and_lookups_find_the_true_successor() {
    let r = run(&file("chord_churn"));
    assert_eq!(r.outcome, Outcome::Pass, "{:?}", r.violation);
    let ring = noted(&r, "chord_ring");
    assert!(ring.contains("the ring of 16 live servers"), "{ring}");
    assert!(number_after(ring, "(") <= 40.0, "within the bound: {ring}");
    let lookups = noted(&r, "chord_lookups");
    let judged: u64 = lookups
        .split(' ')
        .next()
        .and_then(|n| n.parse().ok())
        .expect("count");
    assert!(judged >= 300, "enough judged: {lookups}");
    let mean = number_after(lookups, "hops mean ");
    let max = number_after(lookups, "max ");
    // log2(16) / 2 = 2: about that on average, and far below the hop limit at worst.
    assert!((1.0..=3.0).contains(&mean), "{lookups}");
    assert!(max <= 8.0, "{lookups}");
    // The churn really happened: joins after crashes, successors dropped, rings merged.
    for note in ["successor_failed", "merged"] {
        assert!(
            r.notes.get(note).copied().unwrap_or(0) > 0,
            "{note}: {:?}",
            r.notes
        );
    }
    assert!(r.notes["joined"] > 16, "{:?}", r.notes);
}

#[test]
fn stabilize_no_adopt_is_caught_by_the_ring_check_on_every_seed() {
    let mut s = file("chord_stabilize_no_adopt");
    for seed in 1..=4 {
        s["seed"] = json!(seed);
        let r = run(&s);
        assert_eq!(r.outcome, Outcome::Pass, "seed {seed}: not caught");
        assert_eq!(
            r.violation.as_ref().expect("violation").checker,
            "chord_ring"
        );
        let Verdict::Fail(why) = verdict(&r, "chord_ring") else {
            panic!("seed {seed}: {:?}", verdict(&r, "chord_ring"));
        };
        assert!(why.contains("successor is"), "{why}");
    }
    let obj = s.as_object_mut().expect("object");
    obj.remove("mutants");
    obj.remove("expect");
    let r = run(&s);
    assert_eq!(r.outcome, Outcome::Pass, "{:?}", r.violation);
    noted(&r, "chord_ring");
    let servers_only = noted(&r, "chord_lookups").to_string();
    // Client nodes never join; their lookups start at a random server and are judged alike.
    s["clients"] = json!(2);
    let r = run(&s);
    assert_eq!(r.outcome, Outcome::Pass, "{:?}", r.violation);
    noted(&r, "chord_ring");
    let with_clients = noted(&r, "chord_lookups");
    let count = |d: &str| {
        d.split(' ')
            .next()
            .and_then(|n| n.parse::<u64>().ok())
            .expect("count")
    };
    assert!(
        count(with_clients) > count(&servers_only),
        "{with_clients} / {servers_only}"
    );
}

#[test]
fn returns_predecessor_is_caught_by_the_lookup_check_on_every_seed() {
    // Joins only: the ring still forms (a joiner handed its predecessor walks back to its true
    // successor by stabilize), but every lookup names the key's predecessor.
    let mut s = file("chord_stabilize_no_adopt");
    s["mutants"] = json!(["chord.returns_predecessor"]);
    s.as_object_mut().expect("object").remove("expect");
    for seed in 1..=4 {
        s["seed"] = json!(seed);
        let r = run(&s);
        assert_eq!(r.outcome, Outcome::Fail, "seed {seed}: not caught");
        noted(&r, "chord_ring");
        let Verdict::Fail(why) = verdict(&r, "chord_lookups") else {
            panic!("seed {seed}: {:?}", verdict(&r, "chord_lookups"));
        };
        assert!(why.contains("but its successor is server"), "{why}");
    }
    // Under churn it breaks the ring too: the ring check's lookups, which merge the rings a
    // partition leaves, answer with the wrong node. The lookups are still caught.
    let mut s = file("chord_churn");
    s["mutants"] = json!(["chord.returns_predecessor"]);
    let r = run(&s);
    assert!(matches!(verdict(&r, "chord_lookups"), Verdict::Fail(_)));
}

#[test]
fn without_the_ring_check_the_partition_leaves_the_ring_broken() {
    // The paper's stabilize alone never merges what a partition split (nor unlinks a node left
    // outside the ring): with the ring check pushed past the end, chord_ring fails.
    let mut s = file("chord_churn");
    s["params"]["merge_ms"] = json!(3_600_000);
    let r = run(&s);
    assert_eq!(r.outcome, Outcome::Fail);
    let Verdict::Fail(why) = verdict(&r, "chord_ring") else {
        panic!("{:?}", verdict(&r, "chord_ring"));
    };
    assert!(why.contains("after churn stopped"), "{why}");
}

#[test]
fn a_lookup_past_the_hop_limit_is_a_judged_failure() {
    let mut s = file("chord_churn");
    s["params"]["hop_limit"] = json!(2);
    let r = run(&s);
    assert_eq!(r.outcome, Outcome::Fail);
    let Verdict::Fail(why) = verdict(&r, "chord_lookups") else {
        panic!("{:?}", verdict(&r, "chord_lookups"));
    };
    assert!(why.contains("exceeded the hop limit"), "{why}");
    // The ring itself does not depend on lookups past the join: it still heals.
    noted(&r, "chord_ring");
}

#[test]
fn a_run_that_ends_before_the_rounds_are_up_is_undecided() {
    let mut s = file("chord_churn");
    // Healed 100 ms before the end: two rounds, not forty.
    s["faults"][7]["at_ms"] = json!(13_900);
    let r = run(&s);
    assert_eq!(r.outcome, Outcome::Undecided, "{:?}", r.checkers);
    let Verdict::Unknown(why) = verdict(&r, "chord_lookups") else {
        panic!("{:?}", verdict(&r, "chord_lookups"));
    };
    assert!(why.contains("no lookup judged"), "{why}");
    // A partition never healed: churn never stopped.
    let faults = s["faults"].as_array_mut().expect("faults");
    faults.pop();
    let r = run(&s);
    assert!(matches!(verdict(&r, "chord_ring"), Verdict::Unknown(w) if w.contains("in force")));
}

#[test]
fn swarm_schedules_raise_no_false_alarm() {
    let (scenario, _) = distsim::scenario::load(std::path::Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/scenarios/chord_churn.json"
    )))
    .expect("valid");
    distsim::testing::sweep::<Chord>(&scenario, 0..6)
        .swarm()
        .assert_ok();
}

#[test]
fn bad_parameters_are_refused_with_the_field_named() {
    let prepare = |s: &Value| {
        let text = serde_json::to_vec(s).expect("json");
        let (scenario, source) = distsim::scenario::parse(&text, "chord.json").expect("valid");
        run_protocol::<Chord>(&scenario, Some(&source), &RunOptions::default())
            .err()
            .map(|e| e.to_string())
            .expect("refused")
    };
    let mut s = file("chord_stabilize_no_adopt");
    s["params"] = json!({"id_bits": 3});
    let why = prepare(&s);
    assert!(
        why.contains("id_bits") && why.contains("same 3-bit id"),
        "{why}"
    );
    s["params"] = json!({"successors": 0});
    assert!(prepare(&s).contains("successors"));
    s["params"] = json!({"join_at_ms": vec![0; 9]});
    assert!(prepare(&s).contains("lists 9 join times for 8 servers"));
}
