//! Bad input: every broken scenario in `tests/bad_scenarios/` is refused with exit code 2 and a message
//! that names the file, line, column and field; and a refused run creates no trace file and leaves an
//! existing one untouched.

// determinism-ok: these tests supervise distsim processes (time limits, a reader for a FIFO);
// no simulated run sees the clock or the threads.
#![allow(clippy::disallowed_types, clippy::disallowed_methods)]

use std::path::Path;
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_distsim");

/// (file, line, column, field, words the message must contain)
const CASES: &[(&str, usize, usize, &str, &str)] = &[
    ("bad_json.json", 4, 13, "", "key must be a string"),
    (
        "unknown_field.json",
        7,
        48,
        "network.dealy_ms_max",
        "unknown field",
    ),
    (
        "wrong_type.json",
        5,
        17,
        "nodes",
        "invalid type: string \"five\"",
    ),
    (
        "node_out_of_range.json",
        9,
        29,
        "faults[1].crash",
        "node 7 is out of range: servers are 0 to 2, and there are no clients",
    ),
    (
        "negative_time.json",
        8,
        17,
        "faults[0].at_ms",
        "integer `-5`",
    ),
    ("empty.json", 1, 1, "", "empty file"),
    ("binary_garbage.json", 1, 1, "", "not UTF-8"),
    (
        "times_out_of_order.json",
        9,
        16,
        "faults[1].at_ms",
        "time order",
    ),
    (
        "probability_out_of_range.json",
        7,
        28,
        "network.loss_ppm",
        "parts per million",
    ),
    (
        "unknown_protocol.json",
        3,
        15,
        "protocol",
        "unknown protocol \"rafft\"",
    ),
    (
        "unknown_mutant.json",
        7,
        42,
        "mutants[1]",
        "unknown mutant \"pingpong.nope\"",
    ),
    ("bad_param.json", 7, 30, "params.interval_ms", "at least 1"),
    (
        "forge_without_adversary.json",
        8,
        54,
        "faults[0].byzantine.mode",
        "no Byzantine adversary",
    ),
    (
        "schema_from_the_future.json",
        2,
        13,
        "schema",
        "scenario schema 2 is newer than this build of distsim reads (1)",
    ),
    (
        "two_actions.json",
        8,
        38,
        "faults[0]",
        "exactly one action; this one has crash and then `pause`",
    ),
    (
        "fault_after_end.json",
        8,
        16,
        "faults[0].at_ms",
        "after max_time_ms",
    ),
    ("top_level_array.json", 1, 1, "", "expected a JSON object"),
    ("duplicate_mutant.json", 7, 42, "mutants[1]", "listed twice"),
    (
        "unknown_checker.json",
        8,
        28,
        "expect.violation",
        "no checker \"no_such_checker\" in a raft run",
    ),
    (
        "checker_of_another_protocol.json",
        7,
        28,
        "expect.violation",
        "its checkers are pong_matches_ping",
    ),
    (
        "leader_within_without_leader.json",
        7,
        37,
        "liveness.leader_within_ms",
        "has no leader role",
    ),
    (
        "unknown_role.json",
        10,
        32,
        "faults[1].isolate",
        "the role \"boss\": its roles are leader, candidate, follower",
    ),
    (
        "role_in_wrong_case.json",
        8,
        40,
        "faults[0].crash",
        "the role \"Leader\"",
    ),
    (
        "misspelt_role.json",
        8,
        50,
        "faults[0].clock.node",
        "the role \"leadr\"",
    ),
    (
        "role_on_roleless_protocol.json",
        7,
        40,
        "faults[0].pause",
        "protocol pingpong has no roles",
    ),
    (
        "forge_without_forging.json",
        8,
        65,
        "faults[0].byzantine.mode",
        "has no Byzantine adversary",
    ),
    (
        "memory_bound_zero.json",
        7,
        20,
        "max_memory_mb",
        "must be between 1 and",
    ),
    (
        "client_out_of_range.json",
        8,
        40,
        "faults[0].crash",
        "node 5 is out of range: servers are 0 to 2, clients are 3 to 4",
    ),
    (
        "swarm_unknown_kind.json",
        7,
        37,
        "swarm.kinds[1]",
        "unknown swarm kind \"meteor\"",
    ),
    (
        "swarm_quiet_too_long.json",
        9,
        17,
        "swarm.quiet_ms",
        "shorter than max_time_ms",
    ),
];

fn case_path(file: &str) -> String {
    format!("tests/bad_scenarios/{file}")
}

fn assert_refused(args: &[&str], file: &str, line: usize, col: usize, field: &str, words: &str) {
    let out = Command::new(BIN)
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{file}: {stderr}");
    let place = format!("{}:{line}:{col}: ", case_path(file));
    assert!(
        stderr.contains(&place),
        "{file}: wanted {place:?} in {stderr:?}"
    );
    if field.is_empty() {
        assert!(!stderr.contains("field `"), "{file}: {stderr}");
    } else {
        assert!(
            stderr.contains(&format!("field `{field}`")),
            "{file}: wanted field {field} in {stderr:?}"
        );
    }
    assert!(
        stderr.contains(words),
        "{file}: wanted {words:?} in {stderr:?}"
    );
    assert!(!stderr.contains("panicked"), "{file}: {stderr}");
}

#[test]
fn every_broken_scenario_is_refused_with_its_place() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/bad_scenarios");
    let on_disk = std::fs::read_dir(&dir).unwrap().count();
    assert_eq!(on_disk, CASES.len(), "every file in {dir:?} has a row here");
    for (file, line, col, field, words) in CASES {
        let path = case_path(file);
        assert_refused(&["validate", &path], file, *line, *col, field, words);
        assert_refused(&["run", &path], file, *line, *col, field, words);
        assert_refused(
            &["sweep", &path, "--seeds", "0..2", "--swarm", "--quiet"],
            file,
            *line,
            *col,
            field,
            words,
        );
    }
}

#[test]
fn a_refused_run_creates_no_trace_and_keeps_an_existing_one() {
    let tmp = std::env::temp_dir().join(format!("distsim-bad-input-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).unwrap();
    let existing = tmp.join("existing.jsonl");
    std::fs::write(&existing, "precious\n").unwrap();
    let fresh = tmp.join("fresh.jsonl");
    for (file, line, col, field, words) in CASES {
        let path = case_path(file);
        for dest in [&existing, &fresh] {
            let dest = dest.to_str().unwrap();
            assert_refused(
                &["run", &path, "--trace", dest],
                file,
                *line,
                *col,
                field,
                words,
            );
        }
    }
    assert_eq!(std::fs::read_to_string(&existing).unwrap(), "precious\n");
    assert!(!fresh.exists());
    let left: Vec<_> = std::fs::read_dir(&tmp).unwrap().collect();
    assert_eq!(left.len(), 1, "no partial files left behind: {left:?}");
    std::fs::remove_dir_all(&tmp).unwrap();
}

#[test]
fn a_trace_never_overwrites_its_own_scenario() {
    let tmp = std::env::temp_dir().join(format!("distsim-self-{}.json", std::process::id()));
    let text =
        std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/pingpong_basic.json"))
            .unwrap();
    std::fs::write(&tmp, &text).unwrap();
    let p = tmp.to_str().unwrap();
    let out = Command::new(BIN)
        .args(["run", p, "--trace", p])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(std::fs::read(&tmp).unwrap(), text);
    std::fs::remove_file(&tmp).unwrap();
}

#[test]
fn a_damaged_trace_is_refused_with_its_place() {
    let tmp = std::env::temp_dir().join(format!("distsim-bad-trace-{}.jsonl", std::process::id()));
    std::fs::write(&tmp, "{\"kind\": \"header\", \"format\": 2, \"distsim\": \"0\", \"seed\": 1, \"scenario\": {\"name\": \"x\", \"protocol\": \"pingpong\", \"seed\": 1, \"nodes\": 0, \"max_time_ms\": 5}}\n").unwrap();
    let out = Command::new(BIN)
        .args(["replay", tmp.to_str().unwrap()])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains(":1:"), "{stderr}");
    assert!(stderr.contains("field `scenario.nodes`"), "{stderr}");
    std::fs::write(&tmp, b"\xff\xfe garbage").unwrap();
    let out = Command::new(BIN)
        .args(["replay", tmp.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    std::fs::remove_file(&tmp).unwrap();
}

/// Runs distsim, killing it (and failing) if it takes longer than `limit`.
fn distsim_within(limit: std::time::Duration, args: &[&str]) -> std::process::Output {
    use std::process::Stdio;
    let mut child = Command::new(BIN)
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let start = std::time::Instant::now();
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("distsim {args:?} ran past {limit:?}");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

#[test]
fn endless_devices_are_refused_quickly_by_every_reader() {
    for device in ["/dev/zero", "/dev/urandom"] {
        for args in [
            vec!["run", device],
            vec!["validate", device],
            vec!["replay", device],
            vec!["check-history", device, "--model", "kv"],
            vec![
                "check-history",
                device,
                "--model",
                "kv",
                "--format",
                "jepsen-log",
            ],
        ] {
            let out = distsim_within(std::time::Duration::from_secs(30), &args);
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
            assert!(
                stderr.starts_with(&format!("error: {device}")),
                "{args:?}: {stderr}"
            );
            assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        }
    }
    // The caps are named.
    let out = distsim_within(std::time::Duration::from_secs(30), &["run", "/dev/zero"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("the limit for scenario files"), "{stderr}");
    let out = distsim_within(std::time::Duration::from_secs(30), &["replay", "/dev/zero"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("the limit for a line of trace files"),
        "{stderr}"
    );
}

#[test]
fn a_byte_order_mark_is_accepted() {
    let tmp = std::env::temp_dir().join(format!("distsim-bom-{}.json", std::process::id()));
    let text =
        std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/pingpong_basic.json"))
            .unwrap();
    let mut bom = b"\xEF\xBB\xBF".to_vec();
    bom.extend(&text);
    std::fs::write(&tmp, &bom).unwrap();
    let out = Command::new(BIN)
        .args(["validate", tmp.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    std::fs::remove_file(&tmp).unwrap();
}

#[test]
fn control_characters_from_a_scenario_are_printed_escaped() {
    let tmp = std::env::temp_dir().join(format!("distsim-ansi-{}.json", std::process::id()));
    let text = r#"{"name": "x\u001b[2K\routcome   PASS\nreally", "protocol": "pingpong", "seed": 1,
        "nodes": 3, "max_time_ms": 100, "mutants": ["pingpong.pong_wrong_seq"]}"#;
    std::fs::write(&tmp, text).unwrap();
    let out = Command::new(BIN)
        .args(["run", tmp.to_str().unwrap()])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "the mutant is caught: {stdout}");
    assert!(
        !stdout.contains('\u{1b}') && !stdout.contains('\r'),
        "{stdout:?}"
    );
    let outcome_lines: Vec<&str> = stdout
        .lines()
        .filter(|l| l.starts_with("outcome"))
        .collect();
    assert_eq!(outcome_lines.len(), 1, "{stdout}");
    assert!(outcome_lines[0].contains("FAIL"), "{stdout}");
    assert!(
        stdout.contains("x\\u{1b}[2K\\routcome   PASS\\nreally"),
        "{stdout}"
    );
    // In errors too: a field name with an escape sequence.
    std::fs::write(&tmp, "{\"name\": \"x\", \"\\u001b[31mevil\": 1}").unwrap();
    let out = Command::new(BIN)
        .args(["validate", tmp.to_str().unwrap()])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2));
    assert!(!stderr.contains('\u{1b}'), "{stderr:?}");
    assert!(stderr.contains("\\u{1b}[31mevil"), "{stderr}");
    std::fs::remove_file(&tmp).unwrap();
}
