//! Scenarios in code and in JSON are the same value, checked by the same validation.

use distsim::fault::{FaultAction, Target};
use distsim::scenario::{ScenarioBuilder, load};
use std::path::Path;

#[test]
fn code_builds_what_the_file_says() {
    let (from_file, _) = load(Path::new("scenarios/raft_partition.json")).unwrap();
    let in_code = ScenarioBuilder::new("raft_partition", "raft")
        .description(&from_file.description)
        .seed(1)
        .nodes(5)
        .clients(3)
        .max_time_ms(10_000)
        .delay_ms(1, 10)
        .params(serde_json::json!({
            "ops_per_client": 150, "keys": 3, "think_ms_min": 20, "think_ms_max": 60,
            "liveness_catch_up_ms": 3000
        }))
        .fault(2_000, FaultAction::Isolate(Target::Role("leader".into())))
        .fault(5_000, FaultAction::Heal(true))
        .leader_within_ms(2_000)
        .ops_complete_within_ms(4_000)
        .build()
        .unwrap();
    assert_eq!(in_code, from_file);
}

#[test]
fn code_is_refused_where_a_file_would_be() {
    let err = ScenarioBuilder::new("bad", "raft")
        .nodes(3)
        .fault(10, FaultAction::Crash(Target::Node(9)))
        .build()
        .expect_err("node 9 does not exist");
    assert_eq!(err.field, "faults[0].crash");
    assert!(err.message.contains("out of range"), "{err}");
    let err = ScenarioBuilder::new("bad", "raft")
        .loss_ppm(2_000_000)
        .build()
        .expect_err("a probability above 1");
    assert_eq!(err.field, "network.loss_ppm");
}
