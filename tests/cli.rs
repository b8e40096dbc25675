//! The command line as a user meets it: exit codes, `--json`, `--history`, `check-history`, `list`,
//! and the replay command a failing run prints.

use std::process::{Command, Output};

fn distsim(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_distsim"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap()
}

fn tmp(name: &str) -> std::path::PathBuf {
    std::env::temp_dir().join(format!("distsim-cli-{}-{name}", std::process::id()))
}

#[test]
fn run_prints_a_report_and_json_has_the_counts() {
    let out = distsim(&["run", "scenarios/raft_partition.json"]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    for want in [
        "raft_partition",
        "seed 1",
        "is leader",
        "isolate node",
        "election_safety",
        "linearizability",
        "fingerprint",
        "PASS",
    ] {
        assert!(text.contains(want), "{want} missing from:\n{text}");
    }
    let out = distsim(&[
        "run",
        "scenarios/raft_partition.json",
        "--json",
        "--seed",
        "5",
    ]);
    assert_eq!(out.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["seed"], 5);
    assert_eq!(v["outcome"], "pass");
    for k in [
        "events",
        "messages_sent",
        "messages_delivered",
        "messages_dropped",
        "messages_duplicated",
    ] {
        assert!(v["counts"][k].is_u64(), "{k}");
    }
    assert!(v["end_time_ns"].is_u64());
    assert!(v["checkers"].as_array().unwrap().len() >= 6);
}

#[test]
fn a_failing_run_exits_1_and_prints_the_command_that_replays_it() {
    // The figure-8 scenario expects its mutant to be caught; asking for a different violation makes
    // the same run a failure.
    let text = std::fs::read_to_string("scenarios/raft_figure8.json").unwrap();
    let path = tmp("fig8.json");
    std::fs::write(
        &path,
        text.replace(
            "\"violation\": \"commit_safety\"",
            "\"violation\": \"election_safety\"",
        ),
    )
    .unwrap();
    let trace = tmp("fig8.jsonl");
    let out = distsim(&[
        "run",
        path.to_str().unwrap(),
        "--trace",
        trace.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    let replay = format!(
        "replay    {} replay {}",
        env!("CARGO_BIN_EXE_distsim"),
        trace.display()
    );
    assert!(text.contains(&replay), "{text}");
    // And that command does replay it, from any directory.
    let line = text.lines().find(|l| l.starts_with("replay")).unwrap();
    let words: Vec<&str> = line.split_whitespace().skip(1).collect();
    let again = std::process::Command::new(words[0])
        .args(&words[1..])
        .current_dir("/")
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&again.stdout).contains("reproduced all"),
        "{again:?}"
    );
    let out = distsim(&["run", path.to_str().unwrap(), "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(v["replay"].as_str().unwrap().contains("--seed 3"));
    std::fs::remove_file(&path).unwrap();
    std::fs::remove_file(&trace).unwrap();
}

#[test]
fn check_history_answers_with_its_exit_code() {
    let ok = distsim(&[
        "check-history",
        "tests/data/jepsen-etcd/etcd_002.log",
        "--model",
        "register",
    ]);
    assert_eq!(ok.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&ok.stdout).starts_with("linearizable"));
    let bad = distsim(&[
        "check-history",
        "tests/data/porcupine-kv/c01-bad.txt",
        "--model",
        "kv",
        "--format",
        "edn",
    ]);
    assert_eq!(bad.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&bad.stdout).contains("NOT linearizable"));
    let unknown = distsim(&[
        "check-history",
        "tests/data/jepsen-etcd/etcd_002.log",
        "--model",
        "register",
        "--budget-states-max",
        "3",
    ]);
    assert_eq!(unknown.status.code(), Some(3));
    let garbage = distsim(&[
        "check-history",
        "tests/bad_scenarios/binary_garbage.json",
        "--model",
        "kv",
    ]);
    assert_eq!(garbage.status.code(), Some(2));
    let usage = distsim(&["check-history", "x", "--model", "queue"]);
    assert_eq!(usage.status.code(), Some(2));
}

#[test]
fn a_run_exports_its_history_for_other_checkers() {
    let edn = tmp("history.edn");
    let out = distsim(&[
        "run",
        "scenarios/raft_crash_restart.json",
        "--history",
        edn.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0));
    let text = std::fs::read_to_string(&edn).unwrap();
    // The jepsen.independent layout: `[key value]` tuples, and `:index` and `:time` on every operation.
    for (i, line) in text.lines().enumerate() {
        assert!(line.starts_with(&format!("{{:index {i}, :time ")), "{line}");
        assert!(!line.contains(":key"), "{line}");
    }
    assert!(
        text.lines()
            .any(|l| l.contains(":f :put, :value [\"") && l.ends_with("\"]}")),
        "{text:.400}"
    );
    let check = distsim(&["check-history", edn.to_str().unwrap(), "--model", "kv"]);
    assert_eq!(
        check.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&check.stdout)
    );
    std::fs::remove_file(&edn).unwrap();
}

#[test]
fn list_names_protocols_mutants_faults_and_checkers() {
    let out = distsim(&["list"]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    for want in [
        "raft",
        "raft.vote_ignores_log",
        "raft.commit_prior_term",
        "raft.forget_vote_on_restart",
        "raft.count_duplicate_votes",
        "raft.read_from_follower",
        "raft.forget_term_on_restart",
        "durable_state",
        "partition",
        "isolate",
        "pause",
        "clock",
        "leader_within",
        "linearizability",
    ] {
        assert!(text.contains(want), "{want} missing from:\n{text}");
    }
}

#[test]
fn validate_accepts_every_shipped_scenario() {
    let mut args = vec!["validate".to_string()];
    for e in std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios")).unwrap() {
        args.push(e.unwrap().path().display().to_string());
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = distsim(&args);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn run_can_check_its_own_determinism() {
    let out = distsim(&[
        "run",
        "scenarios/pingpong_basic.json",
        "--check-determinism",
    ]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("determinism  the second run wrote the same"),
        "{text}"
    );
}

#[test]
fn list_shows_the_byzantine_modes_and_each_protocols_attacks() {
    let out = distsim(&["list"]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    let modes = text
        .split("byzantine modes")
        .nth(1)
        .expect("a byzantine modes section");
    for mode in ["silent", "forge", "equivocate", "replay", "delay", "honest"] {
        assert!(modes.contains(&format!("  {mode} ")), "{mode}:\n{text}");
    }
    assert!(text.contains("collude"), "{text}");
    // A protocol's block: its line and the indented lines below it.
    let block = |name: &str| -> String {
        text.lines()
            .skip_while(|l| !l.starts_with(&format!("  {name} ")))
            .enumerate()
            .take_while(|(i, l)| *i == 0 || l.starts_with("    "))
            .map(|(_, l)| format!("{l}\n"))
            .collect()
    };
    let pbft = block("pbft");
    assert!(pbft.contains("attack equivocate"), "{pbft}");
    assert!(pbft.contains("attack forge"), "{pbft}");
    let raft = block("raft");
    assert!(raft.contains("mutant"), "{raft}");
    assert!(!raft.contains("attack"), "raft has no adversary: {raft}");
}
