//! Views of a trace: the Mermaid and Perfetto exports of a small hand-written trace (pinned, and
//! checked for what they draw), the HTML page (self-contained, the violation in it, bounded on a big
//! trace), the diff, and bad input.

use distsim::trace::diff::{diff_files, diff_files_to};
use distsim::trace::export::html::{page_bytes_max, render, view_file};
use distsim::trace::export::mermaid::diagram;
use distsim::trace::export::timeline::{Timeline, TimelineOptions};
use distsim::trace::export::{TimeWindow, perfetto};
use distsim::trace::scan::TraceScan;
use serde_json::Value;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

const SMALL: &str = "tests/data/views/small.trace.jsonl";

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("distsim-views-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn distsim(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_distsim"))
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn mermaid_of(path: &str, window: TimeWindow, items_max: usize) -> String {
    let mut scan = TraceScan::open(Path::new(path)).unwrap();
    diagram(&mut scan, window, items_max).unwrap()
}

fn perfetto_of(path: &str, window: TimeWindow) -> (String, perfetto::PerfettoStats) {
    let mut scan = TraceScan::open(Path::new(path)).unwrap();
    let mut out = Vec::new();
    let stats = perfetto::export(&mut scan, window, &mut out, "memory").unwrap();
    (String::from_utf8(out).unwrap(), stats)
}

#[test]
fn mermaid_of_a_small_trace() {
    let text = mermaid_of(SMALL, TimeWindow::ALL, 200);
    insta::assert_snapshot!(text);
    // What it must draw, independently of the pinned text.
    assert!(text.starts_with("sequenceDiagram\n"));
    for line in [
        "participant n0",
        "actor c3",
        "n0->>n1: request_vote",
        "n0-xn2: request_vote last_log_index=0 term=1 (dropped: loss)",
        "n0->>n2: request_vote last_log_index=0 term=1 (duplicate copy)",
        "n0-xn1: append_entries",
        "Note over n0,c3: fault at 40.000 ms - crash node 1",
        "Note over n0,c3: VIOLATION at 55.000 ms - election_safety",
    ] {
        assert!(text.contains(line), "missing {line:?} in\n{text}");
    }
    assert!(!text.contains(';') && !text.contains('#'), "{text}");
}

#[test]
fn mermaid_keeps_to_its_window_and_bound() {
    let window = TimeWindow::from_ms(Some(20), Some(45));
    let text = mermaid_of(SMALL, window, 200);
    assert!(text.contains("c3->>n0: client_request"), "{text}");
    assert!(!text.contains("request_vote"), "{text}");
    assert!(!text.contains("VIOLATION"), "{text}");
    let short = mermaid_of(SMALL, TimeWindow::ALL, 3);
    let items = short
        .lines()
        .filter(|l| l.contains("->>") || l.contains("-x") || l.contains("Note over"))
        .count();
    assert_eq!(items, 4, "three items and the closing note:\n{short}");
    assert!(short.contains("stopped after 3 items"), "{short}");
}

#[test]
fn perfetto_of_a_small_trace() {
    let (text, stats) = perfetto_of(SMALL, TimeWindow::ALL);
    insta::assert_snapshot!(text);
    let doc: Value = serde_json::from_str(&text).expect("valid JSON");
    let events = doc["traceEvents"].as_array().unwrap();
    assert_eq!(events.len() as u64, stats.events);
    // A named track per node and client.
    let names: Vec<&str> = events
        .iter()
        .filter(|e| e["name"] == "thread_name")
        .map(|e| e["args"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["n0", "n1", "n2", "c3"]);
    // Every flow ends where one started: five sends and one duplicate copy.
    let ids = |ph: &str| -> Vec<u64> {
        let mut v: Vec<u64> = events
            .iter()
            .filter(|e| e["ph"] == ph)
            .map(|e| e["id"].as_u64().unwrap())
            .collect();
        v.sort();
        v
    };
    assert_eq!(ids("s"), [0, 2, 3, 4, 6, 8]);
    assert_eq!(ids("f"), ids("s"));
    // Every flow end lies inside a slice on the receiver's track at that moment.
    let slices: Vec<&Value> = events.iter().filter(|e| e["ph"] == "X").collect();
    for f in events.iter().filter(|e| e["ph"] == "f") {
        let ts = f["ts"].as_f64().unwrap();
        assert!(
            slices.iter().any(|s| s["tid"] == f["tid"]
                && s["ts"].as_f64().unwrap() <= ts
                && ts <= s["ts"].as_f64().unwrap() + s["dur"].as_f64().unwrap()),
            "flow end without a slice: {f}"
        );
    }
    // Slices on one track never overlap.
    let mut by_track: BTreeMap<u64, Vec<(f64, f64)>> = BTreeMap::new();
    for s in &slices {
        let ts = s["ts"].as_f64().unwrap();
        by_track
            .entry(s["tid"].as_u64().unwrap())
            .or_default()
            .push((ts, ts + s["dur"].as_f64().unwrap()));
    }
    for spans in by_track.values_mut() {
        spans.sort_by(|a, b| a.0.total_cmp(&b.0));
        assert!(spans.windows(2).all(|w| w[0].1 <= w[1].0), "{spans:?}");
    }
    let global: Vec<&str> = events
        .iter()
        .filter(|e| e["ph"] == "i" && e["s"] == "g")
        .map(|e| e["name"].as_str().unwrap())
        .collect();
    assert!(global.contains(&"fault: crash node 1"), "{global:?}");
    assert!(
        global
            .iter()
            .any(|n| n.starts_with("VIOLATION election_safety")),
        "{global:?}"
    );
    let delivered = slices
        .iter()
        .find(|s| s["name"] == "append_entries from n0")
        .is_none();
    assert!(delivered, "the append_entries was dropped, not delivered");
    assert!(
        slices
            .iter()
            .any(|s| s["name"] == "dropped append_entries from n0")
    );
}

/// The JSON embedded in a page.
fn page_data(page: &str) -> Value {
    let start = page
        .find("<script id=\"data\" type=\"application/json\">")
        .unwrap();
    let body = &page[start..];
    let open = body.find('>').unwrap() + 1;
    let close = body.find("</script>").unwrap();
    serde_json::from_str(&body[open..close]).unwrap()
}

fn assert_self_contained(page: &str) {
    let lower = page.to_lowercase();
    for bad in [
        "http://", "https://", " src=", "<link", "@import", "url(", "<iframe",
    ] {
        assert!(
            !lower.contains(bad),
            "the page refers outside itself: {bad}"
        );
    }
    assert!(lower.starts_with("<!doctype html>"));
}

#[test]
fn the_page_is_self_contained_and_shows_the_violation() {
    let timeline = Timeline::from_file(Path::new(SMALL), &TimelineOptions::default()).unwrap();
    let page = render(&timeline);
    assert_self_contained(&page);
    let data = page_data(&page);
    let lanes = data["lanes"].as_array().unwrap();
    assert_eq!(lanes.len(), 4);
    assert_eq!(
        lanes[1]["group"], "voters",
        "groups named in the scenario label lanes"
    );
    assert_eq!(lanes[3]["group"], Value::Null);
    assert_eq!(data["violation"]["checker"], "election_safety");
    assert_eq!(
        data["violation"]["message"],
        "two leaders in term 1: nodes 0 and 2"
    );
    let msgs = data["msgs"].as_array().unwrap();
    assert_eq!(msgs.len(), 6, "five sends and one duplicate copy");
    let fates: Vec<u64> = msgs.iter().map(|m| m[4].as_u64().unwrap()).collect();
    assert_eq!(fates.iter().filter(|&&f| f == 1).count(), 2, "two drops");
    assert_eq!(fates.iter().filter(|&&f| f == 2).count(), 0);
    assert_eq!(
        msgs.iter().filter(|m| m[7] == 1).count(),
        1,
        "one duplicate"
    );
    let faults = data["faults"].as_array().unwrap();
    let band = |action: &str| faults.iter().find(|f| f["action"] == action).unwrap();
    assert_eq!(band("partition")["to_ns"], 50_000_000, "healed at 50 ms");
    assert_eq!(band("crash")["to_ns"], Value::Null, "never restarted");
    assert_eq!(band("heal")["instant"], true);
    let ops = data["ops"].as_array().unwrap();
    assert_eq!(ops.len(), 1);
    assert_eq!(ops[0][3], "info");
    assert_eq!(data["roles"].as_array().unwrap().len(), 7);
    // The unknown line kind and fields were read past, not refused.
    assert_eq!(data["meta"]["counts"]["other"], 1);
}

#[test]
fn a_script_end_tag_in_a_message_cannot_break_out_of_the_page_data() {
    let dir = temp_dir("escape");
    let path = dir.join("t.jsonl");
    let text = std::fs::read_to_string(SMALL)
        .unwrap()
        .replace("\"put k1 v1\"", "\"</script><script>alert(1)</script>\"");
    std::fs::write(&path, text).unwrap();
    let page = render(&Timeline::from_file(&path, &TimelineOptions::default()).unwrap());
    assert_eq!(
        page.matches("</script>").count(),
        3,
        "only the page's own scripts end"
    );
    let data = page_data(&page);
    assert!(
        data["msgs"]
            .to_string()
            .contains("</script><script>alert(1)")
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A synthetic trace: `messages` request/reply pairs between three nodes, 1 ms apart, a crash in the
/// middle, and a violation at the end.
fn write_big_trace(path: &Path, messages: u64) {
    let mut f = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    writeln!(f, r#"{{"kind":"header","format":1,"distsim":"0.1.0","seed":5,"scenario":{{"name":"big","protocol":"synthetic","nodes":3,"clients":0,"max_time_ms":{}}}}}"#, messages + 10).unwrap();
    for i in 0..messages {
        let t = i * 1_000_000;
        let (from, to) = (i % 3, (i + 1) % 3);
        writeln!(f, r#"{{"kind":"send","e":{i},"t":{t},"id":{i},"from":{from},"to":{to},"msg":{{"type":"ping","n":{i},"pad":"{}"}}}}"#, "x".repeat(40)).unwrap();
        writeln!(
            f,
            r#"{{"kind":"deliver","e":{i},"t":{},"id":{i},"from":{from},"to":{to}}}"#,
            t + 400_000
        )
        .unwrap();
        if i == messages / 2 {
            writeln!(f, r#"{{"kind":"fault","e":{i},"t":{t},"fault":{{"at_ms":{i},"crash":2}},"nodes":[2],"effect":"crash node 2"}}"#).unwrap();
        }
    }
    let t = messages * 1_000_000;
    writeln!(f, r#"{{"kind":"violation","e":{messages},"t":{t},"checker":"synthetic","node":1,"message":"the end"}}"#).unwrap();
    writeln!(f, r#"{{"kind":"end","outcome":"fail","end_reason":"violation","violation":"synthetic: the end","end_time_ns":{t},"counts":{{}},"sha256":""}}"#).unwrap();
}

#[test]
fn the_page_size_is_bounded_by_what_is_shown_not_by_the_run() {
    let dir = temp_dir("big");
    let options = TimelineOptions {
        detail_items_max: 1500,
        buckets: 400,
        ..TimelineOptions::default()
    };
    let mut sizes = Vec::new();
    for messages in [6_000u64, 24_000] {
        let trace = dir.join(format!("big{messages}.jsonl"));
        let out = dir.join(format!("big{messages}.html"));
        write_big_trace(&trace, messages);
        let t = view_file(&trace, &out, &options).unwrap();
        let page = std::fs::read_to_string(&out).unwrap();
        assert_self_contained(&page);
        let items = t.detail_items();
        assert!(
            (1400..=1500).contains(&items),
            "most of the budget is used, and not passed: {items}"
        );
        assert!(page.len() <= page_bytes_max(&options, 3), "{}", page.len());
        // The detail window leads up to the violation, which is in it.
        let v = t.violation.as_ref().unwrap();
        assert_eq!(v.message, "the end");
        assert!(t.meta.detail_from_ns > 0 && t.meta.detail_to_ns >= v.t);
        // Elsewhere, the densities account for every message: a send and a delivery each.
        let counted: u64 = t.agg.lanes.iter().flatten().map(|&c| u64::from(c)).sum();
        assert_eq!(counted, 2 * messages);
        assert!(t.faults.iter().any(|f| f.action == "crash"));
        sizes.push(page.len());
    }
    // Four times the run, about the same page.
    let growth = sizes[1] as f64 / sizes[0] as f64;
    assert!(growth < 1.1, "page grew {growth:.2}x: {sizes:?}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_window_asked_for_is_the_one_shown() {
    let options = TimelineOptions {
        window: TimeWindow::from_ms(Some(20), Some(30)),
        ..TimelineOptions::default()
    };
    let t = Timeline::from_file(Path::new(SMALL), &options).unwrap();
    assert!(
        t.msgs
            .iter()
            .all(|m| (20_000_000..=30_000_000).contains(&m.0))
    );
    assert_eq!(t.msgs.len(), 2, "the client request and the append");
    assert_eq!(
        (t.meta.detail_from_ns, t.meta.detail_to_ns),
        (20_000_000, 30_000_000)
    );
    // Faults, roles and the violation are kept whatever the window.
    assert!(t.violation.is_some());
    assert_eq!(t.faults.len(), 3);
}

#[test]
fn view_and_export_from_the_command_line() {
    let dir = temp_dir("cli");
    let html = dir.join("run.html");
    let (code, out, err) = distsim(&["view", SMALL, "-o", html.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("violation marked"), "{out}");
    assert!(
        std::fs::read_to_string(&html)
            .unwrap()
            .contains("election_safety")
    );
    let json = dir.join("out.json");
    let mmd = dir.join("out.mmd");
    let (code, out, err) = distsim(&[
        "export",
        SMALL,
        "--perfetto",
        json.to_str().unwrap(),
        "--mermaid",
        mmd.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{out}{err}");
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert!(doc["traceEvents"].as_array().unwrap().len() > 20);
    assert!(
        std::fs::read_to_string(&mmd)
            .unwrap()
            .starts_with("sequenceDiagram")
    );
    let md = dir.join("out.md");
    let (code, _, _) = distsim(&["export", SMALL, "--mermaid", md.to_str().unwrap()]);
    assert_eq!(code, 0);
    let fenced = std::fs::read_to_string(&md).unwrap();
    assert!(fenced.starts_with("```mermaid\nsequenceDiagram\n") && fenced.ends_with("\n```\n"));
    std::fs::remove_file(&md).unwrap();
    let (code, _, err) = distsim(&["export", SMALL]);
    assert_eq!(code, 2, "no output named");
    assert!(err.contains("--perfetto"), "{err}");
    // `run --html` draws the run it just made, and leaves no scratch trace behind.
    let run_html = dir.join("pingpong.html");
    let (code, out, err) = distsim(&[
        "run",
        "scenarios/pingpong_basic.json",
        "--html",
        run_html.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{out}{err}");
    let page = std::fs::read_to_string(&run_html).unwrap();
    assert_eq!(page_data(&page)["meta"]["name"], "pingpong_basic");
    let files = std::fs::read_dir(&dir).unwrap().count();
    assert_eq!(files, 4, "run.html, out.json, out.mmd, pingpong.html");
    let (code, _, err) = distsim(&["view", SMALL, "-o", SMALL]);
    assert_eq!(code, 2);
    assert!(err.contains("overwrite"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_bad_trace_is_refused_with_its_place_and_nothing_is_written() {
    let dir = temp_dir("bad");
    let trace = dir.join("bad.jsonl");
    let mut text = std::fs::read_to_string(SMALL).unwrap();
    text = text.replacen(
        r#"{"kind":"deliver","e":5,"t":12500000,"id":0,"from":0,"to":1}"#,
        r#"{"kind":"deliver","e":5,"t":"soon","id":0,"from":0,"to":1}"#,
        1,
    );
    std::fs::write(&trace, &text).unwrap();
    let out = dir.join("keep.html");
    std::fs::write(&out, "precious").unwrap();
    let (code, _, err) = distsim(&["view", trace.to_str().unwrap(), "-o", out.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(err.contains("bad.jsonl:15:"), "{err}");
    assert!(err.contains('t'), "{err}");
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "precious");
    let mmd = dir.join("x.mmd");
    let (code, _, err) = distsim(&[
        "export",
        trace.to_str().unwrap(),
        "--mermaid",
        mmd.to_str().unwrap(),
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(!mmd.exists());
    let leftovers: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(leftovers.len(), 2, "no temporary files left: {leftovers:?}");
    std::fs::remove_dir_all(&dir).unwrap();
}

fn edit_line(src: &str, line_no: usize, edit: impl Fn(&str) -> String) -> String {
    src.lines()
        .enumerate()
        .map(|(i, l)| {
            if i + 1 == line_no {
                edit(l)
            } else {
                l.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
        + "\n"
}

#[test]
fn diff_finds_the_first_divergence_and_summarises() {
    let dir = temp_dir("diff");
    let src = std::fs::read_to_string(SMALL).unwrap();
    let same = dir.join("same.jsonl");
    std::fs::write(&same, &src).unwrap();
    let d = diff_files(Path::new(SMALL), &same).unwrap();
    assert!(d.same(), "{d:?}");

    // Line 17: the vote to n2 is delivered instead of dropped.
    let changed = dir.join("changed.jsonl");
    let text = edit_line(&src, 17, |_| {
        r#"{"kind":"deliver","e":6,"t":13000000,"id":1,"from":0,"to":2}"#.to_string()
    });
    let text = edit_line(&text, 1, |l| l.replace("\"seed\":42", "\"seed\":43"));
    std::fs::write(&changed, text).unwrap();
    let d = diff_files(Path::new(SMALL), &changed).unwrap();
    assert!(!d.same());
    let first = d.first.as_ref().unwrap();
    assert_eq!(first.line, 17);
    assert_eq!((first.event_a, first.event_b), (Some(6), Some(6)));
    assert!(first.a.as_deref().unwrap().contains("\"drop\""));
    assert!(first.b.as_deref().unwrap().contains("\"deliver\""));
    assert_eq!(first.before.len(), 12);
    assert!(
        d.header
            .iter()
            .any(|h| h == &("seed".into(), "42".into(), "43".into()))
    );
    assert!(d.header.iter().any(|h| h.0 == "scenario.seed"));
    assert!(d.counts.contains(&("lines".into(), "drop".into(), 2, 1)));
    assert!(d.counts.contains(&("lines".into(), "deliver".into(), 4, 5)));
    let text = d.render_text("A", "B");
    assert!(
        text.contains("first divergence at line 17 (event 6 in A, 6 in B)"),
        "{text}"
    );

    // A shorter B: it ends where A goes on.
    let short = dir.join("short.jsonl");
    std::fs::write(&short, src.lines().take(20).collect::<Vec<_>>().join("\n")).unwrap();
    let html = dir.join("diff.html");
    let d = diff_files_to(Path::new(SMALL), &short, Some(&html)).unwrap();
    let first = d.first.as_ref().unwrap();
    assert_eq!((first.line, first.b.as_deref()), (21, None));
    let page = std::fs::read_to_string(&html).unwrap();
    assert_self_contained(&page);
    assert!(page.contains("First divergence: line 21") && page.contains("(end of file)"));

    // The command line: 0 same, 1 different, 2 bad input.
    let s = |p: &Path| p.to_str().unwrap().to_string();
    assert_eq!(distsim(&["diff", SMALL, &s(&same)]).0, 0);
    let (code, out, _) = distsim(&["diff", SMALL, &s(&changed)]);
    assert_eq!(code, 1);
    assert!(out.contains("seed: 42 -> 43"), "{out}");
    let garbage = dir.join("garbage.jsonl");
    std::fs::write(&garbage, "hello\n").unwrap();
    let (code, _, err) = distsim(&["diff", SMALL, &s(&garbage)]);
    assert_eq!(code, 2);
    assert!(err.contains("garbage.jsonl:1:1"), "{err}");
    let broken = dir.join("broken.jsonl");
    std::fs::write(&broken, edit_line(&src, 30, |_| "{not json".into())).unwrap();
    let (code, _, err) = distsim(&["diff", SMALL, &s(&broken)]);
    assert_eq!(code, 2);
    assert!(err.contains("broken.jsonl:30:"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_real_run_with_a_violation_is_drawn_around_it() {
    use distsim::run::{RunOptions, run};
    use distsim::trace::TraceOutput;
    let dir = temp_dir("real");
    let trace = dir.join("vote.jsonl");
    let (s, src) =
        distsim::scenario::load(Path::new("scenarios/raft_vote_ignores_log.json")).unwrap();
    let options = RunOptions {
        seed: None,
        trace: TraceOutput::File(trace.clone()),
    };
    let report = run(&s, Some(&src), &options).unwrap().report;
    let options = TimelineOptions {
        detail_items_max: 800,
        ..TimelineOptions::default()
    };
    let t = Timeline::from_file(&trace, &options).unwrap();
    let v = t
        .violation
        .as_ref()
        .expect("this scenario ends in a violation");
    assert!(report.render_text(5).contains(&v.checker));
    assert!(t.meta.detail_from_ns <= v.t && v.t <= t.meta.detail_to_ns);
    assert_eq!(t.lanes.len() as u32, s.nodes + s.clients);
    assert!(t.msgs.len() > 100);
    let from_ms = v.t / 1_000_000 - 20;
    let text = mermaid_of(
        trace.to_str().unwrap(),
        TimeWindow::from_ms(Some(from_ms), None),
        500,
    );
    assert!(text.contains("VIOLATION"), "{text}");
    std::fs::remove_dir_all(&dir).unwrap();
}
