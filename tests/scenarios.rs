//! Every shipped scenario: it meets its own expectation, its report is pinned by an insta snapshot
//! (outcome, verdicts, counts, timeline of faults and role changes, trace digest), and it is
//! deterministic: two runs, and runs on several threads at once, give the same trace digest.

use distsim::run::report::Outcome;
use distsim::run::{RunOptions, run};
use distsim::scenario::load;
use distsim::trace::TraceOutput;
use rayon::prelude::*;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn scenario_files() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    assert!(!files.is_empty());
    files
}

fn digest(path: &Path, trace: TraceOutput) -> String {
    let (s, src) = load(path).unwrap();
    let opts = RunOptions { seed: None, trace };
    run(&s, Some(&src), &opts)
        .unwrap()
        .report
        .fingerprint
        .unwrap()
}

#[test]
fn every_scenario_meets_its_expectation_and_matches_its_snapshot() {
    // Coverage: the protocol paths (note labels) each protocol's scenarios took, together.
    let mut took: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    insta::glob!("../scenarios", "*.json", |path| {
        let (s, src) = load(path).unwrap();
        let opts = RunOptions {
            seed: None,
            trace: TraceOutput::Digest,
        };
        let report = run(&s, Some(&src), &opts).unwrap().report;
        assert_eq!(
            report.outcome,
            Outcome::Pass,
            "{}:\n{}",
            path.display(),
            report.render_text(200)
        );
        took.entry(s.protocol.clone())
            .or_default()
            .extend(report.notes.keys().cloned());
        let stem = path.file_stem().unwrap().to_string_lossy().to_string();
        insta::assert_json_snapshot!(stem, report);
    });
    let raft = &took["raft"];
    let missed: Vec<&&str> = distsim::protocols::raft::PATHS
        .iter()
        .filter(|p| !raft.contains(**p))
        .collect();
    assert!(
        missed.is_empty(),
        "no shipped scenario takes Raft's paths {missed:?}; taken: {raft:?}"
    );
}

#[test]
fn every_scenario_is_deterministic() {
    let files = scenario_files();
    for path in &files {
        let first = digest(path, TraceOutput::Digest);
        assert_eq!(
            first,
            digest(path, TraceOutput::Digest),
            "{}",
            path.display()
        );
        // Keeping the lines in memory changes nothing about them.
        assert_eq!(
            first,
            digest(path, TraceOutput::Memory),
            "{}",
            path.display()
        );
    }
    // Runs on several threads at once do not disturb each other.
    let serial: Vec<String> = files
        .iter()
        .map(|p| digest(p, TraceOutput::Digest))
        .collect();
    let parallel: Vec<String> = files
        .par_iter()
        .chain(files.par_iter())
        .map(|p| digest(p, TraceOutput::Digest))
        .collect();
    assert_eq!(parallel[..files.len()], serial[..]);
    assert_eq!(parallel[files.len()..], serial[..]);
}

#[test]
fn every_mutant_scenario_passes_without_its_mutant() {
    // A scenario that plants a bug must be fair: the same schedule and seed, with the bug removed,
    // breaks nothing.
    let mut planted = 0;
    for path in scenario_files() {
        let (mut s, src) = load(&path).unwrap();
        if s.mutants.is_empty() {
            continue;
        }
        planted += 1;
        s.mutants.clear();
        s.expect = None;
        let opts = RunOptions {
            seed: None,
            trace: TraceOutput::Off,
        };
        let report = run(&s, Some(&src), &opts).unwrap().report;
        assert_eq!(
            report.outcome,
            Outcome::Pass,
            "{} without its mutant:\n{}",
            path.display(),
            report.render_text(200)
        );
    }
    assert!(planted >= 3, "the mutant scenarios are shipped");
}

#[test]
fn a_stale_follower_read_is_caught_by_linearizability_alone() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/raft_read_from_follower.json");
    let (s, src) = load(&path).unwrap();
    let opts = RunOptions {
        seed: None,
        trace: TraceOutput::Off,
    };
    let report = run(&s, Some(&src), &opts).unwrap().report;
    for c in &report.checkers {
        let failed = matches!(c.verdict, distsim::contract::Verdict::Fail(_));
        assert_eq!(
            failed,
            c.name == "linearizability",
            "{}: {:?}",
            c.name,
            c.verdict
        );
    }
}
