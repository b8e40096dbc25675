//! Trace files: one small full trace pinned line by line; a written trace replays exactly; a tampered
//! one is caught at the first line that differs; the closing digest covers every line before it.

use distsim::run::replay::replay;
use distsim::run::{RunOptions, run};
use distsim::scenario::parse;
use distsim::trace::TraceOutput;
use sha2::{Digest, Sha256};
use std::process::Command;

const TINY: &str = r#"{
  "name": "tiny",
  "protocol": "pingpong",
  "seed": 11,
  "nodes": 3,
  "max_time_ms": 40,
  "network": { "delay_ms_min": 2, "delay_ms_max": 8, "loss_ppm": 100000, "duplicate_ppm": 100000 },
  "params": { "interval_ms": 15 },
  "faults": [ { "at_ms": 20, "crash": 2 }, { "at_ms": 30, "restart": 2 } ]
}"#;

fn tiny_lines() -> Vec<String> {
    let (s, src) = parse(TINY.as_bytes(), "tiny.json").unwrap();
    let opts = RunOptions {
        seed: None,
        trace: TraceOutput::Memory,
    };
    run(&s, Some(&src), &opts).unwrap().trace_lines.unwrap()
}

#[test]
fn a_small_full_trace() {
    insta::assert_snapshot!(tiny_lines().join("\n"));
}

#[test]
fn the_closing_digest_covers_every_line_before_it() {
    let lines = tiny_lines();
    let mut h = Sha256::new();
    for l in &lines[..lines.len() - 1] {
        h.update(l.as_bytes());
        h.update(b"\n");
    }
    let want: String = h.finalize().iter().map(|b| format!("{b:02x}")).collect();
    let end: serde_json::Value = serde_json::from_str(lines.last().unwrap()).unwrap();
    assert_eq!(end["kind"], "end");
    assert_eq!(end["sha256"], want);
}

#[test]
fn a_written_trace_replays_and_a_tampered_one_is_caught() {
    let dir = std::env::temp_dir().join(format!("distsim-trace-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("run.jsonl");
    let (s, src) = parse(TINY.as_bytes(), "tiny.json").unwrap();
    let opts = RunOptions {
        seed: Some(99),
        trace: TraceOutput::File(path.clone()),
    };
    let out = run(&s, Some(&src), &opts).unwrap();
    assert_eq!(
        std::fs::read_dir(&dir).unwrap().count(),
        1,
        "no temporary left"
    );

    let r = replay(&path).unwrap();
    assert!(r.matches(), "{:?}", r.mismatch);
    assert_eq!(r.report.seed, 99, "the header's seed, not the scenario's");
    assert_eq!(r.report.trace_sha256, out.report.trace_sha256);

    // Change one delivery time in line 10 and reseal the closing digest (as a different build would
    // have written it): the replay names that line as where the run diverges.
    let text = std::fs::read_to_string(&path).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let mut v: serde_json::Value = serde_json::from_str(&lines[9]).unwrap();
    // A compact line leaves out a time that did not change: then it gains one.
    v["t"] = serde_json::json!(v["t"].as_u64().map_or(1_000_000_007, |t| t + 1));
    lines[9] = v.to_string();
    let last = lines.len() - 1;
    let mut h = Sha256::new();
    for l in &lines[..last] {
        h.update(l.as_bytes());
        h.update(b"\n");
    }
    let mut end: serde_json::Value = serde_json::from_str(&lines[last]).unwrap();
    end["sha256"] = h
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<String>()
        .into();
    lines[last] = end.to_string();
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    let r = replay(&path).unwrap();
    let m = r.mismatch.clone().unwrap();
    assert_eq!(m.line, 10);
    assert_eq!(m.expected, lines[9]);
    assert_ne!(m.got, m.expected);
    // A few lines of context on both sides: the shared lines before, then each side after.
    assert_eq!(m.before, lines[6..9]);
    assert_eq!(m.expected_after, lines[10..13]);
    assert_eq!(m.got_after, lines[10..13], "only line 10 was tampered with");

    let cli = Command::new(env!("CARGO_BIN_EXE_distsim"))
        .args(["replay", path.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(cli.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&cli.stdout);
    assert!(stdout.contains("DIVERGED at line 10"), "{stdout}");
    assert!(
        stdout.contains(&format!("         9  {}", lines[8])),
        "{stdout}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
