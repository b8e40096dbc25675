//! Golden scripts: each file under `tests/golden/` drives a real world by hand (see
//! `distsim::testing`) and its transcript is pinned with insta. A changed transcript fails CI; to
//! accept a change on purpose, run `INSTA_UPDATE=always cargo test --test golden` and read the diff.

#[test]
fn golden_scripts_tell_the_same_story() {
    insta::glob!("golden/**/*.script", |path| {
        let text = std::fs::read_to_string(path).expect("a readable script");
        let file = path.display().to_string();
        let transcript = distsim::testing::run_script_file(&text, &file)
            .unwrap_or_else(|e| panic!("{file}: {e}"));
        assert!(
            !transcript.contains("\nerror: "),
            "{file}: a command failed:\n{transcript}"
        );
        insta::assert_snapshot!(transcript);
    });
}

#[test]
fn a_bad_command_is_reported_not_ignored() {
    let text = r#"{"name": "g", "protocol": "raft", "seed": 1, "nodes": 3, "max_time_ms": 1000}
---
run-until 0
fire 0 heartbeat
deliver #99
teleport 1
"#;
    let transcript = distsim::testing::run_script_file(text, "inline").expect("runs");
    assert!(transcript.contains("error: node 0 has no timer heartbeat set"));
    assert!(transcript.contains("error: no message #99 in flight"));
    assert!(transcript.contains("error: unknown command `teleport`"));
}

#[test]
fn stepping_by_hand_is_the_same_run() {
    use distsim::protocols::raft::Raft;
    use distsim::run::{RunOptions, run};
    use distsim::trace::TraceOutput;
    let text = std::fs::read("scenarios/raft_partition.json").expect("the scenario");
    let (scenario, source) = distsim::scenario::parse(&text, "raft_partition.json").unwrap();
    let options = RunOptions {
        seed: None,
        trace: TraceOutput::Memory,
    };
    let whole = run(&scenario, Some(&source), &options).unwrap();
    let whole = whole.trace_lines.unwrap();
    let mut harness = distsim::testing::Harness::<Raft>::new(&scenario).unwrap();
    let mut steps = 0;
    while harness.world().step() {
        steps += 1;
    }
    let by_hand = harness.world().trace_lines().to_vec();
    assert!(steps > 1000, "a real run: {steps} steps");
    // Every line but the closing one (written by `run` after the end-of-run checks).
    assert_eq!(by_hand.len(), whole.len() - 1);
    assert_eq!(by_hand, whole[..whole.len() - 1]);
}

#[test]
fn time_stays_monotonic_when_a_script_runs_ahead() {
    // Node 0's vote request to node 1 is delivered by hand at its arrival time, later than node 2's
    // own election timer: `run-until` then handles that timer at the current time (time never goes
    // back), and never past the time it was given.
    let text = r#"{"name": "g", "protocol": "raft", "seed": 1, "nodes": 3, "max_time_ms": 100000}
---
run-until 0
fire 0 election
deliver 0
run-until 270
pending
"#;
    let transcript = distsim::testing::run_script_file(text, "inline").expect("runs");
    assert!(!transcript.contains("error:"), "{transcript}");
    let times: Vec<f64> = transcript
        .lines()
        .filter_map(|l| l.trim_start().split_once("ms ").map(|(t, _)| t))
        .filter_map(|t| t.trim().parse().ok())
        .collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "{transcript}");
    assert!(
        times.iter().all(|t| *t <= 270.0 || *t == 0.0),
        "{transcript}"
    );
}
