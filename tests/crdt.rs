//! The CRDTs under the whole engine: every type converges after its partition or isolation on a
//! lossy, duplicating network; the planted summing merge is caught by `counter_bounded` (and the
//! same scenario passes without it); `converges` fails a run whose gossip never arrives; and
//! `same_updates_equal` fails two states that hold the same updates but differ.

use distsim::contract::{Checker, Cluster, Duration, Observation, Time, Verdict};
use distsim::protocols::crdt::CrdtProtocol;
use distsim::protocols::crdt::checkers::CrdtChecker;
use distsim::protocols::crdt::lattice::{Crdt, CrdtType, Op};
use distsim::protocols::crdt::replica::{Replica, ReplicaConfig, ReplicaDisk};
use distsim::run::report::{Outcome, RunReport};
use distsim::run::{RunOptions, run_protocol};
use serde_json::{Value, json};

fn run(scenario: &Value) -> RunReport {
    let text = serde_json::to_vec(scenario).expect("json");
    let (scenario, source) = distsim::scenario::parse(&text, "crdt.json").expect("valid");
    run_protocol::<CrdtProtocol>(&scenario, Some(&source), &RunOptions::default())
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

#[test]
fn every_type_converges_after_its_faults_heal() {
    for (name, updates) in [
        ("crdt_gcounter_partition", "100"),
        ("crdt_pn_counter_partition", "100"),
        ("crdt_lww_set_lossy", "100"),
        ("crdt_or_set_partition", "100"),
    ] {
        let r = run(&file(name));
        assert_eq!(r.outcome, Outcome::Pass, "{name}: {:?}", r.violation);
        let Verdict::PassNoted(detail) = verdict(&r, "converges") else {
            panic!(
                "{name}: converges was not judged: {:?}",
                verdict(&r, "converges")
            );
        };
        assert!(
            detail.contains(&format!("all {updates} updates")),
            "{name}: {detail}"
        );
        assert!(
            r.counts.messages_dropped > 0 && r.counts.messages_duplicated > 0,
            "{name}: a clean network"
        );
    }
    // The counter ends at exactly the increments made.
    let r = run(&file("crdt_gcounter_partition"));
    assert_eq!(
        verdict(&r, "converges"),
        &Verdict::PassNoted("every replica holds all 100 updates, value 100".into())
    );
}

#[test]
fn the_summing_merge_is_caught_and_the_scenario_passes_without_it() {
    let mut s = file("crdt_gcounter_sum_merge");
    let r = run(&s);
    assert_eq!(
        r.outcome,
        Outcome::Pass,
        "the expected violation was not found"
    );
    let v = r.violation.as_ref().expect("a violation");
    assert_eq!(v.checker, "counter_bounded");
    assert!(matches!(verdict(&r, "counter_bounded"), Verdict::Fail(_)));

    let obj = s.as_object_mut().expect("object");
    obj.remove("mutants");
    obj.remove("expect");
    let r = run(&s);
    assert_eq!(r.outcome, Outcome::Pass, "{:?}", r.violation);
    assert!(r.violation.is_none());
    assert_eq!(
        verdict(&r, "converges"),
        &Verdict::PassNoted("every replica holds all 60 updates, value 60".into())
    );
}

#[test]
fn converges_fails_when_no_gossip_arrives() {
    let mut s = file("crdt_gcounter_partition");
    s["network"]["loss_ppm"] = json!(1_000_000);
    s["faults"] = json!([]);
    let r = run(&s);
    assert_eq!(r.outcome, Outcome::Fail);
    let Verdict::Fail(why) = verdict(&r, "converges") else {
        panic!("{:?}", verdict(&r, "converges"));
    };
    assert!(why.contains("value 100"), "{why}");
    assert_eq!(verdict(&r, "same_updates_equal"), &Verdict::Pass);
}

#[test]
fn converges_is_unknown_when_replicas_still_differ_too_soon_after_the_heal() {
    let mut s = file("crdt_gcounter_partition");
    // Healed 10 ms before the end: too soon for gossip to cross, and too soon to blame it.
    s["faults"][1]["at_ms"] = json!(4990);
    let r = run(&s);
    assert_eq!(r.outcome, Outcome::Undecided, "{:?}", r.checkers);
    let Verdict::Unknown(why) = verdict(&r, "converges") else {
        panic!("{:?}", verdict(&r, "converges"));
    };
    assert!(why.contains("before converge_within_ms"), "{why}");
    // Healed early enough, the same run converges well within the bound.
    s["faults"][1]["at_ms"] = json!(3000);
    assert!(matches!(
        verdict(&run(&s), "converges"),
        Verdict::PassNoted(_)
    ));
}

#[test]
fn same_updates_equal_fails_two_different_states_with_the_same_updates() {
    let cluster = Cluster::new(2, 0);
    let mut checker = CrdtChecker::new(
        Crdt::new(CrdtType::LwwSet, 2),
        2,
        Duration::from_millis(100),
    );
    let actor = Replica::new(ReplicaConfig {
        kind: CrdtType::LwwSet,
        updates_per_node: 1,
        update_min: Duration::from_millis(1),
        update_max: Duration::from_millis(1),
        gossip: Duration::from_millis(1),
        elements: 1,
        sum_merge: false,
    });
    let mut crdt = Crdt::new(CrdtType::LwwSet, 2);
    crdt.apply(&Op::LwwAdd {
        elem: 0,
        stamp: (1, 0),
    });
    let first = Some(ReplicaDisk {
        crdt: crdt.clone(),
        seen: vec![1, 0],
        clock: 1,
    });
    let mut observe = |node, durable: &Option<ReplicaDisk>| {
        checker.observe(&Observation {
            event_index: 0,
            now: Time::ZERO,
            node,
            state: &actor,
            durable,
            notes: &[],
            cluster: &cluster,
        })
    };
    assert!(observe(0, &first).is_ok());
    assert!(
        observe(1, &first).is_ok(),
        "an equal state with the same updates"
    );
    crdt.apply(&Op::LwwRemove {
        elem: 0,
        stamp: (2, 1),
    });
    let other = Some(ReplicaDisk {
        crdt,
        seen: vec![1, 0],
        clock: 2,
    });
    let failure = observe(1, &other).expect_err("same updates, different states");
    assert_eq!(failure.property, Some("same_updates_equal"));
}
