//! Engine promises that the whole-run tests left unpinned, found by mutation testing
//! (`scripts/mutants.sh`): the faults still in force when a run ends, what the report says ended it,
//! and a world driven by hand (its clock, its end, its fault count, a message that is not there).

use distsim::contract::{Time, Verdict};
use distsim::fault::{FaultAction, Target};
use distsim::protocols::raft::Raft;
use distsim::run::{RunOptions, prepare_with_cluster, run};
use distsim::scenario::{Scenario, parse};
use distsim::sim::world::{EndReason, World};
use distsim::testing::Harness;

/// Three Raft servers and a client for `max_time_ms`, with `faults` and a leader_within check.
fn raft(max_time_ms: u64, faults: &str) -> Scenario {
    let text = format!(
        r#"{{"name": "world", "protocol": "raft", "seed": 3, "nodes": 3, "clients": 1,
            "max_time_ms": {max_time_ms}, "faults": {faults},
            "liveness": {{"leader_within_ms": 1500}}}}"#
    );
    parse(text.as_bytes(), "world.json")
        .expect("a valid scenario")
        .0
}

fn leader_within(faults: &str) -> Verdict {
    let out = run(&raft(4_000, faults), None, &RunOptions::default()).expect("runs");
    out.report
        .checkers
        .iter()
        .find(|c| c.name == "leader_within")
        .expect("judged")
        .verdict
        .clone()
}

#[test]
fn a_node_left_down_or_paused_is_a_fault_in_force() {
    for (left, undone) in [
        (
            r#"{"at_ms": 500, "crash": 2}"#,
            r#"{"at_ms": 900, "restart": 2}"#,
        ),
        (
            r#"{"at_ms": 500, "pause": 2}"#,
            r#"{"at_ms": 900, "resume": 2}"#,
        ),
    ] {
        let v = leader_within(&format!("[{left}]"));
        assert!(
            matches!(v, Verdict::Unknown(ref m) if m.contains("in force")),
            "{left}: {v:?}"
        );
        assert_eq!(leader_within(&format!("[{left}, {undone}]")), Verdict::Pass);
    }
}

#[test]
fn the_report_says_what_ended_the_run() {
    let out = run(&raft(2_000, "[]"), None, &RunOptions::default()).expect("runs");
    assert_eq!(out.report.end_reason, EndReason::TimeLimit);
    let text = out.report.render_text(10);
    assert!(text.contains("stopped by time limit"), "{text}");
}

#[test]
fn a_world_driven_by_hand_keeps_its_clock_and_knows_its_end() {
    let scenario = raft(2_000, "[]");
    let mut harness = Harness::<Raft>::new(&scenario).expect("a world");
    harness.command("run-until 400").expect("runs");
    let world = harness.world();
    let lines = world.trace_lines().to_vec();
    let last: serde_json::Value = serde_json::from_str(lines.last().expect("events")).unwrap();
    let now = world.now();
    assert!(now > Time::ZERO && now <= Time::from_millis(400), "{now}");
    assert_eq!(
        Some(now.0),
        last["t"].as_u64(),
        "now is the last event's time"
    );
    assert!(
        world
            .next_time()
            .is_some_and(|t| t > Time::from_millis(400))
    );
    assert!(!world.drop_message(u64::MAX), "no such message in flight");
    assert_eq!(world.end_reason(), None, "still running");
    while world.step() {}
    assert_eq!(world.end_reason(), Some(EndReason::TimeLimit));
}

#[test]
fn faults_injected_by_hand_are_counted() {
    let scenario = raft(2_000, "[]");
    let (protocol, cluster) = prepare_with_cluster::<Raft>(&scenario, None).expect("prepared");
    let mut world = World::new(&scenario, scenario.seed, protocol, cluster, None);
    while world.step_before(Time::from_millis(300)) {}
    world.inject(FaultAction::Crash(Target::Node(0)));
    world.inject(FaultAction::Restart(Target::Node(0)));
    let (state, _) = world.finish();
    assert_eq!(state.counts.faults, 2);
}

#[test]
fn a_role_target_hits_the_node_that_holds_the_role_now() {
    // After the election, the other servers restart, so their roles change after the leader's:
    // the fault must still pick the leader, not whoever changed role last.
    for seed in 1..=4 {
        let mut scenario = raft(2_000, "[]");
        scenario.seed = seed;
        let mut harness = Harness::<Raft>::new(&scenario).expect("a world");
        harness.command("run-until 800").expect("runs");
        let world = harness.world();
        let servers = world.cluster().server_ids();
        let leaders: Vec<u32> = servers
            .clone()
            .filter(|n| world.role(*n) == Some("leader"))
            .collect();
        let [leader] = leaders[..] else {
            panic!("seed {seed}: one leader by 800 ms, not {leaders:?}")
        };
        for n in servers.clone().filter(|n| *n != leader) {
            world.inject(FaultAction::Crash(Target::Node(n)));
            world.inject(FaultAction::Restart(Target::Node(n)));
        }
        world.inject(FaultAction::Crash(Target::Role("leader".into())));
        let down: Vec<u32> = servers.filter(|n| world.node(*n).is_none()).collect();
        assert_eq!(down, [leader], "seed {seed}");
    }
}

#[test]
fn a_violation_while_a_resumed_node_catches_up_stops_it_there() {
    use distsim::protocols::pingpong::PingPong;
    // Ping-pong whose pongs echo the wrong sequence number, driven by hand: node 0's ping is
    // answered, node 0 is paused, and the wrong pong then two of node 1's pings reach it. At the
    // resume the wrong pong is a violation: the run stops there, and the pings behind it are never
    // handed over.
    let text = r#"{"name": "pp", "protocol": "pingpong", "seed": 1, "nodes": 2, "max_time_ms": 200,
        "mutants": ["pingpong.pong_wrong_seq"]}"#;
    let (scenario, _) = parse(text.as_bytes(), "pp.json").expect("a valid scenario");
    let mut harness = Harness::<PingPong>::new(&scenario).expect("a world");
    for command in [
        "run-until 0",
        "fire 0 Tick",
        "deliver all",
        "pause 0",
        "deliver all",
        "fire 1 Tick",
        "fire 1 Tick",
        "deliver all",
        "resume 0",
    ] {
        let answer = harness.command(command);
        assert!(answer.is_ok(), "{command}: {answer:?}");
    }
    let world = harness.world();
    let violation = world.violation().expect("caught at the resume");
    assert_eq!(violation.checker, "pong_matches_ping");
    let lines: Vec<serde_json::Value> = world
        .trace_lines()
        .iter()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let at = lines
        .iter()
        .position(|l| l["kind"] == "violation")
        .expect("a violation line");
    let kinds: Vec<&serde_json::Value> = lines[at + 1..].iter().map(|l| &l["kind"]).collect();
    assert!(kinds.is_empty(), "after the violation: {kinds:?}");
    assert_eq!(world.end_reason(), Some(EndReason::Violation));
}
