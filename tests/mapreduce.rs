//! MapReduce under the whole engine: the correct protocol counts every word exactly through worker
//! crashes, restarts and pauses, and finishes; each planted bug is caught by the property meant to
//! catch it on its scenario, and that scenario passes without the bug; a short swarm sweep raises no
//! false alarm.

use distsim::contract::Verdict;
use distsim::protocols::mapreduce::MapReduce;
use distsim::run::report::{Outcome, RunReport};
use distsim::run::{RunOptions, run_protocol};
use distsim::scenario::{self, Scenario};
use distsim::sweep::{SeedRange, SweepOptions, sweep};
use serde_json::Value;
use std::path::Path;

fn scenario(file: &str) -> Value {
    let text = std::fs::read(format!("scenarios/{file}.json")).expect("the scenario");
    serde_json::from_slice(&text).expect("json")
}

fn run(scenario: &Value, seed: u64) -> RunReport {
    let text = serde_json::to_vec(scenario).expect("json");
    let (scenario, source) = distsim::scenario::parse(&text, "mapreduce.json").expect("valid");
    let options = RunOptions {
        seed: Some(seed),
        ..RunOptions::default()
    };
    run_protocol::<MapReduce>(&scenario, Some(&source), &options)
        .expect("runs")
        .report
}

fn summary(r: &RunReport) -> String {
    format!(
        "seed {} outcome {:?} violation {:?} notes {:?} checkers {:?}",
        r.seed, r.outcome, r.violation, r.notes, r.checkers
    )
}

fn verdict<'a>(r: &'a RunReport, property: &str) -> &'a Verdict {
    &r.checkers
        .iter()
        .find(|c| c.name == property)
        .expect("the property is judged")
        .verdict
}

/// The run passed, the output was judged exact and the job judged complete (not unknown); the
/// completion detail.
fn assert_clean(r: &RunReport) -> String {
    assert_eq!(r.outcome, Outcome::Pass, "{}", summary(r));
    assert!(r.violation.is_none(), "{}", summary(r));
    assert_eq!(
        verdict(r, "word_count_exact"),
        &Verdict::Pass,
        "{}",
        summary(r)
    );
    match verdict(r, "job_completes") {
        Verdict::PassNoted(detail) => detail.clone(),
        other => panic!("job_completes {other:?}: {}", summary(r)),
    }
}

/// The count after `label` in a `job_completes` detail.
fn count_after(detail: &str, label: &str) -> u64 {
    let rest = &detail[detail.find(label).expect(label) + label.len()..];
    let digits: String = rest
        .trim_start()
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().expect("a number")
}

#[test]
fn crashed_restarted_and_paused_workers_cost_re_execution_not_correctness() {
    let s = scenario("mapreduce_wordcount");
    for seed in 1..=3 {
        let r = run(&s, seed);
        let detail = assert_clean(&r);
        assert!(detail.contains("1920 words in 8 partitions"), "{detail}");
        // Worker 1 crashed after completing map tasks: they were run again elsewhere.
        assert!(count_after(&detail, "tasks re-executed:") >= 1, "{detail}");
        assert!(
            count_after(&detail, "workers marked failed:") >= 2,
            "{detail}"
        );
        assert!(r.notes.get("worker_failed").copied().unwrap_or(0) >= 2);
    }
}

/// Runs `file` (with its mutant) on `seeds`; every seed finds the expected violation.
fn assert_caught_on_every_seed(file: &str, property: &str, seeds: std::ops::Range<u64>) {
    let s = scenario(file);
    assert_eq!(s["expect"]["violation"], property);
    for seed in seeds {
        let r = run(&s, seed);
        assert_eq!(r.outcome, Outcome::Pass, "{}", summary(&r));
        let v = r.violation.as_ref().expect("a violation");
        assert_eq!(v.checker, property, "{}", summary(&r));
    }
}

/// The same scenario without its mutant passes on `seeds`, judged.
fn assert_clean_without_mutant(file: &str, seeds: std::ops::Range<u64>) -> Vec<String> {
    let mut s = scenario(file);
    let map = s.as_object_mut().expect("an object");
    map.remove("mutants").expect("a mutant scenario");
    map.remove("expect");
    seeds.map(|seed| assert_clean(&run(&s, seed))).collect()
}

#[test]
fn counting_duplicate_completions_is_caught_by_word_count_exact() {
    assert_caught_on_every_seed(
        "mapreduce_count_duplicate_completions",
        "word_count_exact",
        0..6,
    );
    for detail in assert_clean_without_mutant("mapreduce_count_duplicate_completions", 0..3) {
        // The correct master saw duplicates, and ignored them.
        assert!(
            count_after(&detail, "duplicate completions ignored:") >= 1,
            "{detail}"
        );
    }
}

#[test]
fn not_re_executing_completed_maps_is_caught_by_job_completes() {
    assert_caught_on_every_seed(
        "mapreduce_no_reexecute_completed_maps",
        "job_completes",
        0..3,
    );
    for detail in assert_clean_without_mutant("mapreduce_no_reexecute_completed_maps", 0..3) {
        assert!(count_after(&detail, "tasks re-executed:") >= 1, "{detail}");
    }
}

#[test]
fn a_swarm_sweep_of_the_correct_protocol_raises_no_false_alarm() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/mapreduce_wordcount.json");
    let s: Scenario = scenario::load(&path).expect("valid").0;
    let options = SweepOptions {
        jobs: 2,
        swarm: true,
        keep_results: true,
        ..SweepOptions::default()
    };
    let report = sweep(&s, SeedRange { start: 0, end: 30 }, &options).expect("sweeps");
    let failures: Vec<_> = report
        .results
        .iter()
        .filter(|r| r.outcome != "pass")
        .map(|r| (r.seed, r.violation.clone()))
        .collect();
    assert!(failures.is_empty(), "{failures:?}");
    assert_eq!(report.passed, 30);
}

#[test]
fn a_master_crash_loses_no_task_its_table_is_on_disk() {
    let mut s = scenario("mapreduce_wordcount");
    s["faults"] = serde_json::json!([
        { "at_ms": 500, "crash": { "group": "master", "member": 0 } },
        { "at_ms": 900, "restart": { "group": "master", "member": 0 } },
    ]);
    for seed in 1..=3 {
        let r = run(&s, seed);
        let detail = assert_clean(&r);
        // The restarted master carried on: no map task ran twice for its sake.
        assert!(
            detail.contains("tasks re-executed: 0 map, 0 reduce"),
            "{detail}"
        );
        let at: u64 = count_after(&detail, "job done at");
        assert!(at > 900, "{detail}");
    }
}
