//! Damaged, tampered and foreign trace files given to `replay`: damage is bad input (exit 2, naming the
//! line), a genuine difference between an intact file and today's run is a divergence (exit 1, echoing
//! a bounded excerpt), and a replay stops at the first difference instead of re-running all it can.

// determinism-ok: these tests supervise distsim processes (time limits, a reader for a FIFO);
// no simulated run sees the clock or the threads.
#![allow(clippy::disallowed_types, clippy::disallowed_methods)]

use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_distsim");

fn scratch(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("distsim-traces-{}-{test}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Runs distsim, killing it (and failing) if it takes longer than `limit`.
fn distsim_within(limit: Duration, args: &[&str]) -> Output {
    let mut child = Command::new(BIN)
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("distsim {args:?} ran past {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

fn replay(path: &Path) -> Output {
    distsim_within(Duration::from_secs(60), &["replay", path.to_str().unwrap()])
}

/// The lines of a fresh pingpong trace.
fn trace_lines(dir: &Path) -> Vec<String> {
    let path = dir.join("fresh.jsonl");
    let scenario = format!(
        "{}/scenarios/pingpong_basic.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let out = distsim_within(
        Duration::from_secs(60),
        &["run", &scenario, "--trace", path.to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(0));
    let text = std::fs::read_to_string(&path).unwrap();
    text.lines().map(str::to_string).collect()
}

/// Writes `lines` with a closing line whose sha256 is recomputed: a consistent file, as a different
/// build of distsim would have written it.
fn write_resealed(path: &Path, lines: &[String]) {
    let (body, end) = lines.split_at(lines.len() - 1);
    let mut h = Sha256::new();
    for l in body {
        h.update(l.as_bytes());
        h.update(b"\n");
    }
    let sha: String = h.finalize().iter().map(|b| format!("{b:02x}")).collect();
    let mut end: serde_json::Value = serde_json::from_str(&end[0]).unwrap();
    end["sha256"] = sha.into();
    let mut text = body.join("\n");
    text.push('\n');
    text.push_str(&end.to_string());
    text.push('\n');
    std::fs::write(path, text).unwrap();
}

fn assert_damaged(out: &Output, file: &Path, line: usize, words: &str) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    let place = format!("{}:{line}:", file.display());
    assert!(stderr.contains(&place), "wanted {place} in {stderr}");
    assert!(stderr.contains(words), "wanted {words:?} in {stderr}");
    assert!(!String::from_utf8_lossy(&out.stdout).contains("DIVERGED"));
}

#[test]
fn a_truncated_trace_is_damaged_not_diverged() {
    let dir = scratch("truncated");
    let lines = trace_lines(&dir);
    let path = dir.join("cut.jsonl");
    std::fs::write(&path, lines[..100].join("\n") + "\n").unwrap();
    assert_damaged(&replay(&path), &path, 101, "trace damaged at line 101");
    // Cut in the middle of a line.
    let mut text = lines[..50].join("\n");
    text.push('\n');
    text.push_str(&lines[50][..10]);
    std::fs::write(&path, text).unwrap();
    assert_damaged(&replay(&path), &path, 51, "trace damaged at line 51");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_tampered_trace_is_damaged_at_the_changed_line() {
    let dir = scratch("tampered");
    let mut lines = trace_lines(&dir);
    let path = dir.join("tampered.jsonl");
    let mut v: serde_json::Value = serde_json::from_str(&lines[9]).unwrap();
    // A compact line leaves out a time that did not change: then it gains one.
    v["t"] = v["t"].as_u64().map_or(1_000_000_007, |t| t + 1).into();
    lines[9] = v.to_string();
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    assert_damaged(&replay(&path), &path, 10, "trace damaged at line 10");
    // Garbage in place of a line.
    lines[20] = "\u{0}\u{0}garbage".into();
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    assert_damaged(&replay(&path), &path, 21, "not a JSON object");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn an_intact_trace_that_differs_diverges_with_a_bounded_excerpt() {
    let dir = scratch("diverged");
    let mut lines = trace_lines(&dir);
    let path = dir.join("other.jsonl");
    let mut v: serde_json::Value = serde_json::from_str(&lines[9]).unwrap();
    v["padding"] = "x".repeat(1_000_000).into();
    lines[9] = v.to_string();
    write_resealed(&path, &lines);
    let out = replay(&path);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("DIVERGED at line 10"), "{stdout}");
    assert!(stdout.contains("more bytes"), "the excerpt says it was cut");
    assert!(stdout.len() < 10_000, "a huge line is not echoed whole");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn an_unknown_format_version_is_named() {
    let dir = scratch("format");
    let mut lines = trace_lines(&dir);
    let path = dir.join("f9.jsonl");
    lines[0] = lines[0].replacen("\"format\":3", "\"format\":9", 1);
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    assert_damaged(
        &replay(&path),
        &path,
        1,
        "format 9 not supported (this build reads 2 and 3)",
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_header_edited_to_run_for_a_week_stops_at_the_first_difference() {
    let dir = scratch("week");
    let mut lines = trace_lines(&dir);
    let path = dir.join("week.jsonl");
    let mut header: serde_json::Value = serde_json::from_str(&lines[0]).unwrap();
    header["scenario"]["max_time_ms"] = 604_800_000u64.into();
    header["scenario"]["max_events"] = 1_000_000_000u64.into();
    lines[0] = header.to_string();
    write_resealed(&path, &lines);
    let out = distsim_within(Duration::from_secs(20), &["replay", path.to_str().unwrap()]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("DIVERGED at line"), "{stdout}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn garbage_after_a_valid_header_fails_at_line_2_without_a_run() {
    let dir = scratch("garbage");
    let lines = trace_lines(&dir);
    let path = dir.join("garbage.jsonl");
    let mut text = lines[0].clone();
    text.push('\n');
    for _ in 0..40 {
        text.push_str(&"garbage ".repeat(100_000));
        text.push('\n');
    }
    std::fs::write(&path, text).unwrap();
    assert_damaged(&replay(&path), &path, 2, "not a JSON object");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_piped_trace_is_refused_rather_than_called_diverged() {
    use std::io::Write;
    let dir = scratch("pipe");
    let text = trace_lines(&dir).join("\n") + "\n";
    let mut child = Command::new(BIN)
        .args(["replay", "/dev/stdin"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || {
        // The reader may stop early; a broken pipe is fine here.
        let _ = stdin.write_all(text.as_bytes());
    });
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("not a regular file"), "{stderr}");
    std::fs::remove_dir_all(&dir).unwrap();
}
