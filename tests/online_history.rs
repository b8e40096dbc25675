//! Runs that do not keep the clients' history: the history check is fed as events are recorded, so a
//! run that keeps nothing reports exactly what a run that keeps everything reports (verdicts, witness,
//! counts, fingerprint), while its memory follows what is live.

use distsim::run::report::RunReport;
use distsim::run::{RunOptions, run, run_keeping};
use distsim::scenario::{load, parse};
use distsim::trace::TraceOutput;
use rayon::prelude::*;
use std::path::{Path, PathBuf};

fn scenario_files() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    files
}

fn digest() -> RunOptions {
    RunOptions {
        seed: None,
        trace: TraceOutput::Digest,
    }
}

#[test]
fn every_scenario_reports_the_same_whether_or_not_it_keeps_its_history() {
    let files = scenario_files();
    assert!(files.len() > 50);
    let results: Vec<(PathBuf, RunReport, RunReport, usize, usize)> = files
        .par_iter()
        .map(|path| {
            let (s, src) = load(path).unwrap();
            let kept = run(&s, Some(&src), &digest()).unwrap();
            let dropped = run_keeping(&s, Some(&src), &digest(), false).unwrap();
            (
                path.clone(),
                kept.report,
                dropped.report,
                kept.history.events.len(),
                dropped.history.events.len(),
            )
        })
        .collect();
    let mut dropped_somewhere = 0;
    for (path, kept, dropped, kept_events, dropped_events) in results {
        assert_eq!(kept, dropped, "{}", path.display());
        assert_eq!(kept_events as u64, kept.counts.history_events);
        // Either nothing is kept, or a checker needed all of it.
        assert!(
            dropped_events == 0 || dropped_events == kept_events,
            "{}",
            path.display()
        );
        if dropped_events == 0 && kept_events > 0 {
            dropped_somewhere += 1;
        }
    }
    assert!(
        dropped_somewhere > 10,
        "{dropped_somewhere} scenarios ran without their history"
    );
}

#[test]
fn a_violation_of_linearizability_is_found_without_the_history() {
    // Reads served by followers: stale reads, a linearizability violation the scenario expects.
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/raft_read_from_follower.json");
    let (s, src) = load(&path).unwrap();
    let out = run_keeping(&s, Some(&src), &digest(), false).unwrap();
    assert!(out.history.events.is_empty(), "nothing kept");
    let v = out
        .report
        .violation
        .as_ref()
        .expect("the violation is found");
    assert_eq!(v.checker, "linearizability");
    assert!(v.message.contains("not linearizable"), "{}", v.message);
}

/// Raft clients that write about 1 MiB of history in well under the event bound.
const BUSY: &str = r#"{"name": "busy", "protocol": "raft", "seed": 1, "nodes": 3, "clients": 3,
  "max_time_ms": 600000, "max_memory_mb": 1, "max_events": 150000,
  "params": {"ops_per_client": 100000, "keys": 3, "think_ms_min": 1, "think_ms_max": 2}}"#;

#[test]
fn the_memory_bound_stops_a_run_at_the_same_event_whether_or_not_the_history_is_kept() {
    let (s, src) = parse(BUSY.as_bytes(), "busy.json").unwrap();
    let kept = run(&s, Some(&src), &digest()).unwrap();
    assert_eq!(kept.report.end_reason.as_str(), "memory_limit");
    let dropped = run_keeping(&s, Some(&src), &digest(), false).unwrap();
    assert_eq!(
        dropped.report, kept.report,
        "asking for the history changes nothing in the run"
    );
    assert!(dropped.history.events.is_empty());
    assert_eq!(
        kept.history.events.len() as u64,
        kept.report.counts.history_events
    );
    // The whole run's history is still judged, online.
    assert!(
        dropped
            .report
            .checkers
            .iter()
            .any(|c| c.name == "linearizability" && c.verdict == distsim::contract::Verdict::Pass),
        "{:?}",
        dropped.report.checkers
    );
    let again = run_keeping(&s, Some(&src), &digest(), false).unwrap();
    assert_eq!(again.report, dropped.report, "deterministic");
}
