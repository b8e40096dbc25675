//! Trace format 3: a file's compact lines expand, byte for byte, into the format-2 lines of the same
//! run (kept in memory); a Raft trace is a third of the size; a broadcast writes its body once
//! and reads it back whole; the fingerprint does not depend on the format.

use distsim::run::{RunOptions, run};
use distsim::scenario::parse;
use distsim::trace::TraceOutput;
use distsim::trace::scan::TraceScan;
use std::path::{Path, PathBuf};

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("distsim-format-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

struct Both {
    /// The file's lines, as written (format 3).
    file: Vec<String>,
    /// The file's lines after the header, as the scan expands them.
    expanded: Vec<String>,
    /// The same run's lines in memory (format 2).
    memory: Vec<String>,
    events: u64,
}

/// Runs `scenario` twice: to a file and to memory.
fn both(scenario: &Path, dir: &Path) -> Both {
    let text = std::fs::read(scenario).unwrap();
    let (s, src) = parse(&text, &scenario.display().to_string()).unwrap();
    let path = dir.join("run.jsonl");
    let to_file = RunOptions {
        seed: None,
        trace: TraceOutput::File(path.clone()),
    };
    let filed = run(&s, Some(&src), &to_file).unwrap();
    let to_memory = RunOptions {
        seed: None,
        trace: TraceOutput::Memory,
    };
    let kept = run(&s, Some(&src), &to_memory).unwrap();
    assert_eq!(
        filed.report.fingerprint,
        kept.report.fingerprint,
        "{}: the fingerprint is the run's, whatever the format",
        scenario.display()
    );
    let file: Vec<String> = std::fs::read_to_string(&path)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect();
    let mut scan = TraceScan::open(&path).unwrap();
    assert_eq!(scan.header().format, 3);
    let mut expanded = Vec::new();
    while let Some(line) = scan.next_raw().unwrap() {
        expanded.push(line.to_string());
    }
    Both {
        file,
        expanded,
        memory: kept.trace_lines.unwrap(),
        events: filed.report.counts.events,
    }
}

fn scenario(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("scenarios")
        .join(name)
}

#[test]
fn compact_lines_expand_to_the_format_2_lines_of_the_same_run() {
    let dir = scratch("expand");
    // Messages, drops, copies and faults; logical clocks; Byzantine tampering; a violation;
    // maps and nested enums in bodies.
    for name in [
        "pingpong_basic.json",
        "raft_lossy_network.json",
        "clocks_gossip.json",
        "pbft_equivocating_primary.json",
        "generals_n3_traitor.json",
        "paxos_forget_promise.json",
        "crdt_or_set_partition.json",
        "lock_clock_jump.json",
        "twopc_coordinator_crash.json",
    ] {
        let b = both(&scenario(name), &dir);
        let n = b.memory.len();
        assert_eq!(b.file.len(), n, "{name}: one file line per memory line");
        assert!(b.memory[0].contains("\"format\":2"), "{name}");
        assert!(b.file[0].contains("\"format\":3"), "{name}");
        // Every event line; the closing lines differ only in the digest of the lines before them.
        assert_eq!(b.expanded.len(), n - 1, "{name}");
        for (i, (got, want)) in b.expanded[..n - 2]
            .iter()
            .zip(&b.memory[1..n - 1])
            .enumerate()
        {
            assert_eq!(got, want, "{name}: line {}", i + 2);
        }
        let end = |l: &str| {
            let mut v: serde_json::Value = serde_json::from_str(l).unwrap();
            v["sha256"] = serde_json::Value::Null;
            v
        };
        assert_eq!(end(&b.expanded[n - 2]), end(&b.memory[n - 1]), "{name}");
        assert!(b.file[1..n - 1].iter().all(|l| l.starts_with("{\"k\":\"")));
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_raft_trace_takes_under_150_bytes_an_event_where_format_2_took_over_300() {
    let dir = scratch("size");
    let b = both(&scenario("raft_lossy_network.json"), &dir);
    let bytes = |lines: &[String]| lines.iter().map(|l| l.len() as u64 + 1).sum::<u64>();
    // Without the header, which holds the scenario and is the same size in both.
    let compact = bytes(&b.file[1..]) / b.events;
    let verbose = bytes(&b.memory[1..]) / b.events;
    assert!(b.events > 1000, "{} events", b.events);
    // 109 and 331 when this was written.
    assert!(compact < 150, "format 3: {compact} bytes/event");
    assert!(verbose > 300, "format 2: {verbose} bytes/event");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_broadcast_writes_its_body_once_and_reads_it_back_whole() {
    let dir = scratch("broadcast");
    let b = both(&scenario("raft_lossy_network.json"), &dir);
    // A send line without `b` repeats the body of the send before it in the same event.
    let (at, _) = b
        .file
        .iter()
        .enumerate()
        .find(|(_, l)| l.starts_with("{\"k\":\"s\"") && !l.contains("\"b\":") && l.len() < 40)
        .expect("a broadcast in a Raft run");
    let first = (1..at)
        .rev()
        .find(|&i| b.file[i].starts_with("{\"k\":\"s\"") && b.file[i].contains("\"b\":"))
        .unwrap();
    let json = |l: &str| serde_json::from_str::<serde_json::Value>(l).unwrap();
    let msg = |l: &str| {
        let v = json(l);
        assert_eq!(v["kind"], "send");
        v["msg"].clone()
    };
    // The expanded lines are one off the file's (the header is not among them).
    assert_eq!(
        json(&b.expanded[first - 1])["e"],
        json(&b.expanded[at - 1])["e"],
        "the two sends belong to one event"
    );
    let (one, two) = (msg(&b.expanded[first - 1]), msg(&b.expanded[at - 1]));
    assert_eq!(one, two);
    assert_eq!(two, msg(&b.memory[at]), "read back whole");
    assert!(
        one["type"].is_string() && one.as_object().unwrap().len() > 2,
        "{one}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

fn distsim(args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_distsim"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap()
}

#[test]
fn a_format_2_trace_is_still_replayed_viewed_diffed_exported_and_checked() {
    let dir = scratch("format2");
    let b = both(&scenario("raft_partition.json"), &dir);
    // The lines kept in memory are a whole format-2 file, closing digest included.
    let old = dir.join("old.jsonl");
    std::fs::write(&old, b.memory.join("\n") + "\n").unwrap();
    let new = dir.join("run.jsonl");
    let s = |p: &Path| p.to_str().unwrap().to_string();
    let replayed = distsim(&["replay", &s(&old)]);
    let stdout = String::from_utf8_lossy(&replayed.stdout);
    assert_eq!(replayed.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("reproduced all"), "{stdout}");
    // The same run in both formats draws the same page.
    let (page_old, page_new) = (dir.join("old.html"), dir.join("new.html"));
    for (trace, page) in [(&old, &page_old), (&new, &page_new)] {
        let out = distsim(&["view", &s(trace), "--out", &s(page)]);
        assert_eq!(out.status.code(), Some(0), "{out:?}");
    }
    assert_eq!(
        std::fs::read(&page_old).unwrap(),
        std::fs::read(&page_new).unwrap()
    );
    // Diff sees the same events; only the header's format and the closing digest differ.
    let diffed = distsim(&["diff", &s(&old), &s(&new)]);
    let text = String::from_utf8_lossy(&diffed.stdout);
    assert!(text.contains("format: 2 -> 3"), "{text}");
    let at = format!("first divergence at line {}", b.memory.len());
    assert!(text.contains(&at), "only the closing line differs: {text}");
    let (mermaid_old, mermaid_new) = (dir.join("old.mmd"), dir.join("new.mmd"));
    for (trace, out) in [(&old, &mermaid_old), (&new, &mermaid_new)] {
        let o = distsim(&["export", &s(trace), "--mermaid", &s(out)]);
        assert_eq!(o.status.code(), Some(0), "{o:?}");
    }
    assert_eq!(
        std::fs::read(&mermaid_old).unwrap(),
        std::fs::read(&mermaid_new).unwrap()
    );
    let checked = |trace: &Path| {
        let o = distsim(&["check-history", &s(trace), "--model", "kv"]);
        assert_eq!(o.status.code(), Some(0), "{o:?}");
        // Without the line that says how long the check took.
        let text = String::from_utf8_lossy(&o.stdout).into_owned();
        let lines: Vec<String> = text
            .lines()
            .filter(|l| !l.starts_with("checked in"))
            .map(str::to_string)
            .collect();
        assert!(
            lines.iter().any(|l| l.starts_with("linearizable")),
            "{text}"
        );
        lines
    };
    assert_eq!(checked(&old), checked(&new));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_damaged_compact_line_is_named_by_file_line_and_column() {
    let dir = scratch("damaged");
    let b = both(&scenario("raft_lossy_network.json"), &dir);
    let s = |p: &Path| p.to_str().unwrap().to_string();
    let view = |lines: &[String], name: &str| {
        let path = dir.join(name);
        std::fs::write(&path, lines.join("\n") + "\n").unwrap();
        let out = distsim(&["view", &s(&path), "--out", &s(&dir.join("v.html"))]);
        (path, out)
    };
    // A shaped body that names a shape never defined.
    let at = b.file.iter().position(|l| l.contains("\"b\":[")).unwrap();
    let mut lines = b.file.clone();
    let cut = lines[at].find("\"b\":[").unwrap() + 5;
    lines[at].insert_str(cut, "999");
    let (path, out) = view(&lines, "shape.jsonl");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(&format!("{}:{}:", path.display(), at + 1)),
        "{stderr}"
    );
    assert!(stderr.contains("is not defined"), "{stderr}");
    // The run's first send, leaving out its body: there is none to repeat.
    let at = b
        .file
        .iter()
        .position(|l| l.starts_with("{\"k\":\"s\""))
        .unwrap();
    let mut lines = b.file.clone();
    let body = lines[at].find(",\"b\":").unwrap();
    lines[at].truncate(body);
    lines[at].push('}');
    let (path, out) = view(&lines, "body.jsonl");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(&format!("{}:{}:", path.display(), at + 1)),
        "{stderr}"
    );
    assert!(stderr.contains("without a body"), "{stderr}");
    // A field of the wrong type: its column.
    let mut lines = b.file.clone();
    lines[3] = r#"{"k":"d","e":"soon"}"#.to_string();
    let (path, out) = view(&lines, "type.jsonl");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(&format!("{}:4:19:", path.display())),
        "{stderr}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
