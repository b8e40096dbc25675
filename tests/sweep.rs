//! Seed sweeps, swarm testing, triage and shrinking, through the library and the command line: the
//! results do not depend on the number of threads, shards cover the range exactly, a swarm trace
//! replays alone, and shrinking keeps the violation while dropping faults.
//!
//! Every sweep here is a handful of seeds of a scenario of a few virtual seconds, so the file runs in
//! seconds in a debug build.

use distsim::run::{RunOptions, run};
use distsim::scenario::{self, Scenario};
use distsim::sweep::{
    SeedRange, Shard, ShrinkOptions, Stop, SweepOptions, SweepReport, shrink, swarm, sweep,
};
use distsim::trace::TraceOutput;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn load(path: &str) -> Scenario {
    scenario::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join(path))
        .expect("valid")
        .0
}

/// The earlier figure-8 scenario (it catches its mutant on about half the seeds) as a plain sweep
/// target: the Raft mutant on, no expectation, so that a violation is a failure.
fn figure8_unexpected() -> Scenario {
    let mut s = load("tests/data/sweep/raft_figure8_sometimes.json");
    s.expect = None;
    s.max_time_ms = 5_200;
    s
}

fn tmp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("distsim-sweep-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

fn sweep_with(s: &Scenario, seeds: SeedRange, jobs: usize, swarm: bool) -> SweepReport {
    let options = SweepOptions {
        jobs,
        swarm,
        keep_results: true,
        ..SweepOptions::default()
    };
    sweep(s, seeds, &options).expect("sweeps")
}

fn range(start: u64, end: u64) -> SeedRange {
    SeedRange { start, end }
}

#[test]
fn results_are_the_same_with_one_thread_and_with_two() {
    let s = figure8_unexpected();
    for swarm in [false, true] {
        let one = sweep_with(&s, range(0, 8), 1, swarm);
        let two = sweep_with(&s, range(0, 8), 2, swarm);
        assert_eq!(one.results, two.results, "swarm {swarm}");
        assert_eq!(one.results_sha256, two.results_sha256);
        assert_eq!(one.triage.groups, two.triage.groups);
        assert_eq!(one.results.len(), 8);
        let seeds: Vec<u64> = one.results.iter().map(|r| r.seed).collect();
        assert_eq!(seeds, (0..8).collect::<Vec<_>>(), "seed order");
        assert_eq!(one.passed + one.failed + one.undecided, 8);
        // The mutant breaks commit safety on some of these seeds and not on others.
        assert!(one.failed > 0 && one.passed > 0, "swarm {swarm}: {one:?}");
        assert_eq!(one.exit_code(), 1);
    }
}

#[test]
fn every_seed_result_is_what_a_single_run_of_that_seed_reports() {
    let s = figure8_unexpected();
    let report = sweep_with(&s, range(10, 14), 2, true);
    for r in &report.results {
        let drawn = swarm::draw(&s, r.seed);
        let out = run(
            &drawn,
            None,
            &RunOptions {
                seed: Some(r.seed),
                trace: TraceOutput::Off,
            },
        )
        .unwrap();
        assert_eq!(r.events, out.report.counts.events, "seed {}", r.seed);
        assert_eq!(r.outcome, out.report.outcome.as_str());
        assert_eq!(r.faults, drawn.faults.len() as u64);
    }
}

#[test]
fn stop_after_ends_the_results_at_the_kth_failure_whatever_the_threads() {
    let s = figure8_unexpected();
    let mut reports = Vec::new();
    for jobs in [1, 2] {
        let options = SweepOptions {
            jobs,
            stop_after_failures: Some(2),
            keep_results: true,
            ..SweepOptions::default()
        };
        reports.push(sweep(&s, range(0, 40), &options).unwrap());
    }
    let r = &reports[0];
    assert_eq!(r.failed, 2);
    assert_eq!(r.stopped, Some(Stop::Failures(2)));
    assert!(r.results.last().unwrap().failed(), "ends at a failure");
    assert!(r.seeds_run < 40);
    assert_eq!(reports[0].results, reports[1].results);
}

#[test]
fn shards_cover_the_range_once_and_their_results_concatenate_to_the_whole() {
    let s = figure8_unexpected();
    let whole = sweep_with(&s, range(3, 12), 2, true);
    let mut joined = Vec::new();
    for index in 0..3 {
        let part = range(3, 12).shard(Shard { index, count: 3 });
        joined.extend(sweep_with(&s, part, 1, true).results);
    }
    assert_eq!(joined, whole.results);
}

#[test]
fn a_sweep_writes_results_and_group_traces_that_replay_and_never_overwrites() {
    let s = figure8_unexpected();
    let dir = tmp_dir("out");
    let options = SweepOptions {
        jobs: 2,
        swarm: true,
        out_dir: Some(dir.clone()),
        shrink: Some(ShrinkOptions {
            steps_max: 40,
            ..ShrinkOptions::default()
        }),
        keep_results: true,
        ..SweepOptions::default()
    };
    let report = sweep(&s, range(0, 6), &options).unwrap();
    let text = std::fs::read_to_string(dir.join("results.jsonl")).unwrap();
    assert_eq!(text.lines().count(), 6);
    for (line, r) in text.lines().zip(&report.results) {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        assert_eq!(v["seed"], r.seed);
        for k in ["outcome", "violation", "events", "end_time_ns"] {
            assert!(v.get(k).is_some(), "{k} missing from {line}");
        }
    }
    assert!(!report.triage.groups.is_empty(), "{report:?}");
    for g in &report.triage.groups {
        let trace = g.trace.as_ref().expect("a trace per group");
        let replayed = distsim::run::replay::replay(trace).unwrap();
        assert!(replayed.matches(), "{}", trace.display());
        assert_eq!(replayed.report.seed, g.shortest_seed);
        assert_eq!(replayed.report.counts.events, g.shortest_events);
        // The header holds the drawn profile, not the scenario's own schedule.
        assert_eq!(
            replayed.report.timeline.is_empty(),
            swarm::draw(&s, g.shortest_seed).faults.is_empty()
        );
        let min = g.shrunk.as_ref().expect("shrunk");
        let (m, _) = scenario::load(min).unwrap();
        let out = run(&m, None, &RunOptions::default()).unwrap();
        assert_eq!(
            out.report.violation.map(|v| v.checker),
            g.checker.clone(),
            "{}",
            min.display()
        );
    }
    // A second sweep into the same folder is refused and leaves the first one's files alone.
    let again = sweep(&s, range(0, 6), &options);
    assert!(again.is_err());
    assert_eq!(
        std::fs::read_to_string(dir.join("results.jsonl")).unwrap(),
        text
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn shrinking_the_figure8_mutant_drops_faults_and_keeps_the_violation() {
    let s = load("tests/data/sweep/raft_figure8_sometimes.json");
    let budget = ShrinkOptions {
        steps_max: 120,
        ..ShrinkOptions::default()
    };
    let shrunk = shrink(&s, s.seed, &budget).unwrap();
    assert_eq!(shrunk.checker, "commit_safety");
    assert!(
        shrunk.after.faults < shrunk.before.faults,
        "{}",
        shrunk.summary()
    );
    assert!(shrunk.scenario.max_time_ms < s.max_time_ms);
    assert!(shrunk.steps <= 120);
    // A fresh run of the minimal scenario, from its JSON text, still breaks commit safety.
    let text = serde_json::to_vec(&shrunk.scenario).unwrap();
    let (m, src) = scenario::parse(&text, "min.json").unwrap();
    let out = run(&m, Some(&src), &RunOptions::default()).unwrap();
    assert_eq!(out.report.violation.unwrap().checker, "commit_safety");
    assert_eq!(out.report.counts.events, shrunk.after.events);
    // Deterministic: the same input shrinks to the same scenario.
    let twice = shrink(&s, s.seed, &budget).unwrap();
    assert_eq!(twice.scenario, shrunk.scenario);
}

#[test]
fn shrinking_a_run_without_a_violation_is_refused() {
    let mut s = load("tests/data/sweep/raft_figure8_sometimes.json");
    s.mutants.clear();
    let err = shrink(&s, s.seed, &ShrinkOptions::default()).unwrap_err();
    assert!(err.to_string().contains("nothing to shrink"), "{err}");
}

fn distsim(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_distsim"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap()
}

#[test]
fn the_sweep_command_exits_0_1_or_2_and_prints_the_triage_table() {
    let out = distsim(&[
        "sweep",
        "scenarios/raft_vote_ignores_log.json",
        "--seeds",
        "1..=2",
        "--quiet",
    ]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("2 passed, 0 failed"));

    let dir = tmp_dir("cli");
    std::fs::create_dir_all(&dir).unwrap();
    let scen = dir.join("fig8.json");
    std::fs::write(&scen, serde_json::to_vec(&figure8_unexpected()).unwrap()).unwrap();
    let out_dir = dir.join("out");
    let out = distsim(&[
        "sweep",
        scen.to_str().unwrap(),
        "--seeds",
        "0..4",
        "--jobs",
        "2",
        "--out",
        out_dir.to_str().unwrap(),
        "--shrink-steps",
        "30",
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    for want in [
        "failure groups",
        "commit_safety after",
        "distsim replay",
        "group-1.trace.jsonl",
        &format!("distsim run {} --seed", scen.display()),
        "group-1.min.json",
    ] {
        assert!(stdout.contains(want), "{want} missing from:\n{stdout}");
    }
    for bad in [
        &[
            "sweep",
            "tests/data/sweep/raft_figure8_sometimes.json",
            "--seeds",
            "5..5",
        ][..],
        &[
            "sweep",
            "tests/data/sweep/raft_figure8_sometimes.json",
            "--seeds",
            "0..2",
            "--shard",
            "2/2",
        ],
        &["sweep", "scenarios/nope.json", "--seeds", "0..2"],
    ] {
        let out = distsim(bad);
        assert_eq!(out.status.code(), Some(2), "{bad:?}: {out:?}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_shrink_command_writes_a_minimal_scenario_and_never_overwrites_one() {
    let dir = tmp_dir("shrink");
    std::fs::create_dir_all(&dir).unwrap();
    let trace = dir.join("fig8.trace.jsonl");
    let out = distsim(&[
        "run",
        "tests/data/sweep/raft_figure8_sometimes.json",
        "--trace",
        trace.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0));
    let min = dir.join("min.json");
    let out = distsim(&[
        "shrink",
        trace.to_str().unwrap(),
        "-o",
        min.to_str().unwrap(),
        "--steps",
        "60",
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    for want in [
        "keeping the commit_safety violation",
        "before",
        "after",
        "distsim replay",
    ] {
        assert!(stdout.contains(want), "{want} missing from:\n{stdout}");
    }
    let written = std::fs::read_to_string(&min).unwrap();
    let replay = distsim(&["replay", dir.join("min.trace.jsonl").to_str().unwrap()]);
    assert_eq!(replay.status.code(), Some(0), "{replay:?}");
    // Again without --force: refused before any work, the first result untouched.
    let out = distsim(&[
        "shrink",
        trace.to_str().unwrap(),
        "-o",
        min.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--force"));
    assert_eq!(std::fs::read_to_string(&min).unwrap(), written);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn shards_from_the_scheduler_environment_merge_into_the_whole_sweep() {
    let dir = tmp_dir("shards");
    std::fs::create_dir_all(&dir).unwrap();
    let scen = dir.join("fig8.json");
    std::fs::write(&scen, serde_json::to_vec(&figure8_unexpected()).unwrap()).unwrap();
    let sweep_args = |out: &Path| {
        vec![
            "sweep".to_string(),
            scen.display().to_string(),
            "--seeds".into(),
            "0..5".into(),
            "--quiet".into(),
            "--no-shrink".into(),
            "--out".into(),
            out.display().to_string(),
        ]
    };
    let mut shard_dirs = Vec::new();
    let mut joined = String::new();
    for (var, index) in [("JOB_COMPLETION_INDEX", "0"), ("SLURM_ARRAY_TASK_ID", "1")] {
        let out_dir = dir.join(format!("shard{index}"));
        let mut args = sweep_args(&out_dir);
        args.extend(["--shards".into(), "2".into()]);
        let out = Command::new(env!("CARGO_BIN_EXE_distsim"))
            .args(&args)
            .env_remove("JOB_COMPLETION_INDEX")
            .env_remove("SLURM_ARRAY_TASK_ID")
            .env(var, index)
            .output()
            .unwrap();
        assert!(matches!(out.status.code(), Some(0 | 1)), "{out:?}");
        assert!(String::from_utf8_lossy(&out.stdout).contains(&format!("shard     {index}/2")));
        joined.push_str(&std::fs::read_to_string(out_dir.join("results.jsonl")).unwrap());
        shard_dirs.push(out_dir);
    }
    let whole_dir = dir.join("whole");
    let whole = distsim(
        &sweep_args(&whole_dir)
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>(),
    );
    assert_eq!(
        joined,
        std::fs::read_to_string(whole_dir.join("results.jsonl")).unwrap()
    );
    let merged = distsim(&[
        "merge",
        shard_dirs[0].to_str().unwrap(),
        shard_dirs[1].to_str().unwrap(),
    ]);
    assert_eq!(merged.status.code(), whole.status.code());
    let text = String::from_utf8_lossy(&merged.stdout);
    assert!(text.contains("5 seeds"), "{text}");
    // Overlapping shards are refused.
    let twice = distsim(&[
        "merge",
        shard_dirs[0].to_str().unwrap(),
        shard_dirs[0].to_str().unwrap(),
    ]);
    assert_eq!(twice.status.code(), Some(2));
    // --shards without a scheduler index is a usage error.
    let mut args = sweep_args(&dir.join("none"));
    args.extend(["--shards".into(), "2".into()]);
    let out = Command::new(env!("CARGO_BIN_EXE_distsim"))
        .args(&args)
        .env_remove("JOB_COMPLETION_INDEX")
        .env_remove("SLURM_ARRAY_TASK_ID")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_paused_candidate_that_wins_an_old_term_is_not_a_leader_completeness_violation() {
    // Found by `sweep --swarm` on correct Raft (raft_partition, seed 491) and shrunk: node 0 asks for
    // votes in term 8 and is paused; the votes arrive while it sleeps and the others elect a leader
    // of term 9, which commits old entries of term 2. Resumed, node 0 counts its term-8 votes and
    // leads term 8 without those entries. Raft allows it: they were committed in term 9, not before
    // term 8. The checker once compared the entries' own term and called this a violation.
    let text = br#"{"name": "paused_candidate", "protocol": "raft", "seed": 491, "nodes": 5,
        "clients": 3, "max_time_ms": 9000,
        "network": {"delay_ms_min": 88, "delay_ms_max": 88},
        "params": {"keys": 3, "liveness_catch_up_ms": 3000, "ops_per_client": 9,
                   "think_ms_max": 60, "think_ms_min": 20},
        "faults": [{"at_ms": 2360, "pause": 1}, {"at_ms": 3830, "pause": 2},
                   {"at_ms": 5083, "resume": "all"}, {"at_ms": 5218, "pause": 0},
                   {"at_ms": 6000, "resume": "all"}]}"#;
    let (s, src) = scenario::parse(text, "paused_candidate.json").unwrap();
    let out = run(&s, Some(&src), &RunOptions::default()).unwrap();
    let r = &out.report;
    assert_eq!(r.violation, None, "{}", r.render_text(60));
    assert_eq!(r.outcome, distsim::run::report::Outcome::Pass);
    // The schedule does what the comment says: node 0 leads an old term after the pause.
    assert!(
        r.timeline
            .iter()
            .any(|e| e.time_ns == 6_000_000_000 && e.what == "node 0 is leader"),
        "{}",
        r.render_text(60)
    );
}
