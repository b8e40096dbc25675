//! Bad histories given to `check-history`: each file in `tests/bad_histories/` is refused with exit code
//! 2 and its place; a Jepsen log written with spaces and mixed with other log output is read, saying
//! how many lines it skipped; a distsim trace is read as the history it records.

use std::path::Path;
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_distsim");

fn check_history(args: &[&str]) -> Output {
    Command::new(BIN)
        .arg("check-history")
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap()
}

/// (file, model, place the message starts with, words it must contain)
const CASES: &[(&str, &str, &str, &str)] = &[
    ("empty.edn", "register", ":1:1", "no operations"),
    ("blank.jsonl", "register", ":1:1", "no operations"),
    (
        "no_operations.log",
        "register",
        ":1:1",
        "none of its 2 non-blank lines",
    ),
    (
        "complete_before_invoke.jsonl",
        "register",
        ":2:1",
        "before its invoke",
    ),
    (
        "complete_before_invoke.edn",
        "register",
        ":2:1",
        "before its invoke",
    ),
    (
        "contradicting_write.edn",
        "register",
        ":2:1",
        "completes write with 4, but its invoke (line 1) has 3",
    ),
    (
        "contradicting_put.jsonl",
        "kv",
        ":2:1",
        "completes put with \"b\", but its invoke (line 1) has \"a\"",
    ),
];

#[test]
fn every_bad_history_is_refused_with_its_place() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/bad_histories");
    assert_eq!(
        std::fs::read_dir(&dir).unwrap().count(),
        CASES.len(),
        "every file in {dir:?} has a row here"
    );
    for (file, model, place, words) in CASES {
        let path = format!("tests/bad_histories/{file}");
        let out = check_history(&[&path, "--model", model]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{file}: {stderr}");
        assert!(
            stderr.starts_with(&format!("error: {path}{place}")),
            "{file}: {stderr}"
        );
        assert!(
            stderr.contains(words),
            "{file}: wanted {words:?} in {stderr}"
        );
        assert!(!String::from_utf8_lossy(&out.stdout).contains("linearizable"));
    }
}

#[test]
fn a_jepsen_log_with_spaces_and_other_output_is_read() {
    let out = check_history(&[
        "tests/data/jepsen_spaces_and_noise.log",
        "--model",
        "register",
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("skipped 4 lines that are not operations"),
        "{stdout}"
    );
    assert!(stdout.contains("3 operation(s)"), "{stdout}");
    // The same log with the read changed to a value never written is caught: the lines are really read.
    let text = std::fs::read_to_string("tests/data/jepsen_spaces_and_noise.log").unwrap();
    let bad = std::env::temp_dir().join(format!("distsim-noisy-{}.log", std::process::id()));
    std::fs::write(&bad, text.replace(":ok :read 4", ":ok :read 7")).unwrap();
    let out = check_history(&[bad.to_str().unwrap(), "--model", "register"]);
    assert_eq!(out.status.code(), Some(1));
    std::fs::remove_file(&bad).unwrap();
}

#[test]
fn a_distsim_trace_is_read_as_its_history() {
    let dir = std::env::temp_dir().join(format!("distsim-trace-history-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let trace = dir.join("t.jsonl");
    let history = dir.join("h.jsonl");
    let run = Command::new(BIN)
        .args(["run", "scenarios/raft_partition.json", "--trace"])
        .arg(&trace)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(0));
    let out = check_history(&[trace.to_str().unwrap(), "--model", "kv"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("linearizable (kv model)"), "{stdout}");
    // The trace's history lines (expanded from format 3), as distsim JSONL, give the same
    // operations.
    let mut scan = distsim::trace::scan::TraceScan::open(&trace).unwrap();
    let mut events: Vec<String> = Vec::new();
    while let Some(line) = scan.next_raw().unwrap() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        if v["kind"] == "history" {
            events.push(v["event"].to_string());
        }
    }
    assert!(events.len() > 100);
    std::fs::write(&history, events.join("\n")).unwrap();
    let direct = check_history(&[history.to_str().unwrap(), "--model", "kv"]);
    let ops = |o: &Output| {
        let s = String::from_utf8_lossy(&o.stdout).into_owned();
        s.lines()
            .find(|l| l.contains("operation(s)"))
            .map(str::to_string)
            .unwrap()
    };
    assert_eq!(ops(&out), ops(&direct));
    std::fs::remove_dir_all(&dir).unwrap();
}
