//! The library example (`examples/primary_backup/`) as a user's test would drive it: a sweep of its
//! correct version passes, and a sweep of its planted bug fails with the property, the seed, the
//! command that re-runs it and the shrunk scenario.

#[path = "../examples/primary_backup/protocol.rs"]
#[allow(dead_code)]
mod protocol;

use distsim::scenario::{Scenario, parse};
use protocol::PrimaryBackup;

fn scenario(mutants: &str) -> Scenario {
    let text = format!(
        r#"{{"name": "pb", "protocol": "primary_backup", "seed": 1, "nodes": 3, "clients": 2,
            "max_time_ms": 2000, "network": {{"delay_ms_min": 1, "delay_ms_max": 20}},
            "params": {{"ops_per_client": 8}}, "mutants": [{mutants}]}}"#
    );
    parse(text.as_bytes(), "pb.json")
        .expect("a valid scenario")
        .0
}

#[test]
fn the_correct_protocol_survives_a_sweep() {
    distsim::testing::sweep::<PrimaryBackup>(&scenario(""), 0..40).assert_ok();
}

#[test]
fn the_planted_bug_is_found_explained_and_shrunk() {
    let buggy = scenario(r#""pb.apply_out_of_order""#);
    let failed = std::panic::catch_unwind(|| {
        distsim::testing::sweep::<PrimaryBackup>(&buggy, 0..20).assert_ok();
    })
    .expect_err("the sweep finds the bug");
    let message = failed.downcast_ref::<String>().cloned().unwrap_or_default();
    assert!(message.contains("same_order"), "{message}");
    assert!(message.contains("DISTSIM_SEED="), "{message}");
    assert!(message.contains("violation: same_order: node"), "{message}");
    assert!(
        message.contains("\"pb.apply_out_of_order\""),
        "the shrunk scenario: {message}"
    );
    // The shrunk scenario is smaller and still fails the same way.
    assert!(message.contains("shrunk: "), "{message}");
}

#[test]
fn the_example_describes_itself_truly() {
    distsim::protocols::registry::check_description::<PrimaryBackup>()
        .expect("PARAMS and CHECKERS");
}
