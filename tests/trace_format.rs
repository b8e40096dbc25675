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
        filed.report.fingerprint, kept.report.fingerprint,
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
        for (i, (got, want)) in b.expanded[..n - 2].iter().zip(&b.memory[1..n - 1]).enumerate() {
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
        .find(|(_, l)| {
            l.starts_with("{\"k\":\"s\"")
                && !l.contains("\"b\":")
                && l.len() < 40
        })
        .expect("a broadcast in a Raft run");
    let first = (1..at)
        .rev()
        .find(|&i| b.file[i].starts_with("{\"k\":\"s\"") && b.file[i].contains("\"b\":"))
        .unwrap();
    assert!(
        b.file[first..at].iter().all(|l| !l.contains("\"e\":")) || !b.file[at].contains("\"e\":"),
        "the two sends belong to one event"
    );
    let msg = |l: &str| {
        let v: serde_json::Value = serde_json::from_str(l).unwrap();
        assert_eq!(v["kind"], "send");
        v["msg"].clone()
    };
    // The expanded lines are one off the file's (the header is not among them).
    let (one, two) = (msg(&b.expanded[first - 1]), msg(&b.expanded[at - 1]));
    assert_eq!(one, two);
    assert_eq!(two, msg(&b.memory[at]), "read back whole");
    assert!(one["type"].is_string() && one.as_object().unwrap().len() > 2, "{one}");
    std::fs::remove_dir_all(&dir).unwrap();
}
