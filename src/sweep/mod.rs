//! Seed sweeps: one scenario run over a range of seeds in parallel, the failures grouped, and each
//! group's shortest failing seed traced and shrunk.
//!
//! [`sweep`] is the library call behind `distsim sweep`. Seeds run in a local rayon pool of
//! [`SweepOptions::jobs`] threads, one run per task and never parallelism inside a run. Results are
//! gathered in fixed batches and consumed in seed order, so everything the sweep reports (the results
//! file, the groups, the counts, where `stop_after_failures` stops) is the same whatever the number of
//! threads; only the wall-clock bound `max_wall_s` depends on the machine, and it stops between
//! batches.
//!
//! With `--out DIR` a sweep writes `DIR/results.jsonl` (one line a seed, in seed order; see
//! [`results::SeedResult`]), `DIR/group-N.trace.jsonl` (the trace of group N's shortest failing seed)
//! and, when shrinking, `DIR/group-N.min.json` and its trace `DIR/group-N.min.trace.jsonl`. Every file
//! is created exclusively: a sweep never replaces an existing file.
//!
//! Under swarm testing ([`SweepOptions::swarm`]) each seed runs the scenario that [`swarm::draw`]
//! draws for it; that concrete scenario is what the trace header holds.

pub mod command;
pub mod fault_build;
pub mod merge;
pub mod out_file;
pub mod progress;
pub mod results;
pub mod seeds;
pub mod shrink;
pub mod swarm;
pub mod triage;

pub use progress::Progress;
pub use results::SeedResult;
pub use seeds::{SeedRange, Shard};
pub use shrink::{ShrinkOptions, Shrunk, shrink};
pub use triage::{Group, Signature, Triage};

use crate::run::{RunError, RunOptions, Runner};
use crate::scenario::{self, Scenario, ScenarioError};
use crate::trace::TraceOutput;
use out_file::Claim;
use rayon::prelude::*;
use results::ResultsWriter;
use sha2::{Digest, Sha256};
use std::borrow::Cow;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The most sweep threads.
pub const JOBS_MAX: usize = 1_024;

/// How to sweep.
#[derive(Clone, Debug, Default)]
pub struct SweepOptions {
    /// Threads running seeds; 0 means one per core. At most [`JOBS_MAX`].
    pub jobs: usize,
    /// Swarm testing: each seed draws its own fault profile.
    pub swarm: bool,
    /// Where to write the results file, traces and shrunk scenarios (nothing is written without it).
    pub out_dir: Option<PathBuf>,
    /// Stop once this many seeds have failed (the results end at the K-th failure).
    pub stop_after_failures: Option<u64>,
    /// Stop starting new batches of seeds after this many wall-clock seconds.
    pub max_wall_s: Option<u64>,
    /// How progress is shown.
    pub progress: Progress,
    /// Shrink each group's shortest failing seed with these budgets (no shrinking if `None`).
    pub shrink: Option<ShrinkOptions>,
    /// Keep every seed's result in the report (memory grows with the range).
    pub keep_results: bool,
    /// How each seed is run: by default with the protocol the scenario names (the registry's); with
    /// [`Runner::of`] a user's own protocol.
    pub runner: Runner,
}

/// Why a sweep stopped before the end of its range.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stop {
    /// `stop_after_failures` failures were found.
    Failures(u64),
    /// `max_wall_s` passed.
    WallTime(u64),
}

/// What a sweep found.
#[derive(Clone, Debug)]
pub struct SweepReport {
    /// The scenario's name.
    pub scenario: String,
    /// The seeds asked for.
    pub range: SeedRange,
    /// Whether swarm testing was on.
    pub swarm: bool,
    /// Seeds run (from `range.start`, in order).
    pub seeds_run: u64,
    /// Seeds that matched the scenario's expectation.
    pub passed: u64,
    /// Seeds that did not.
    pub failed: u64,
    /// Seeds where a checker could not decide.
    pub undecided: u64,
    /// Why the sweep stopped early, if it did.
    pub stopped: Option<Stop>,
    /// The failure groups.
    pub triage: Triage,
    /// SHA-256 of the results file's text (every line with its newline), as hex.
    pub results_sha256: String,
    /// Every seed's result, if [`SweepOptions::keep_results`].
    pub results: Vec<SeedResult>,
    /// The results file, if written.
    pub results_file: Option<PathBuf>,
    /// Wall-clock time the seeds took (for seeds per second; not part of the results).
    pub wall: Duration,
}

impl SweepReport {
    /// The process exit code: 1 if any seed failed, else 3 if any was undecided or none ran (a
    /// wall-clock bound that stopped the sweep before its first seed decides nothing), else 0.
    pub fn exit_code(&self) -> i32 {
        if self.failed > 0 {
            1
        } else if self.undecided > 0 || self.seeds_run == 0 {
            3
        } else {
            0
        }
    }

    /// Seeds per second of wall-clock time.
    pub fn seeds_per_s(&self) -> f64 {
        self.seeds_run as f64 / self.wall.as_secs_f64().max(1e-9)
    }

    /// The summary and the triage table. `scenario_path` is how the user named the scenario file,
    /// for the commands that re-run a seed.
    pub fn render_text(&self, scenario_path: &str) -> String {
        use std::fmt::Write as _;
        let mut s = String::new();
        let _ = writeln!(
            s,
            "sweep     {} over seeds {}{}: {} run, {} passed, {} failed, {} undecided ({:.1} seeds/s)",
            self.scenario,
            self.range,
            if self.swarm { " (swarm)" } else { "" },
            self.seeds_run,
            self.passed,
            self.failed,
            self.undecided,
            self.seeds_per_s()
        );
        match self.stopped {
            Some(Stop::Failures(k)) => {
                let _ = writeln!(s, "stopped   after {k} failures (--stop-after)");
            }
            Some(Stop::WallTime(secs)) => {
                let _ = writeln!(
                    s,
                    "stopped   after {secs} s of wall time (--max-wall-s): seeds {}..{} were not run",
                    self.range.start + self.seeds_run,
                    self.range.end
                );
            }
            None => {}
        }
        if let Some(f) = &self.results_file {
            let _ = writeln!(
                s,
                "results   {} (sha256 {})",
                f.display(),
                self.results_sha256
            );
        }
        if !self.triage.groups.is_empty() {
            let swarm = if self.swarm { " --swarm" } else { "" };
            let rerun = |seed: u64| format!("distsim run {scenario_path} --seed {seed}{swarm}");
            let _ = writeln!(s, "failure groups");
            s.push_str(&self.triage.render(&rerun));
        }
        let _ = writeln!(
            s,
            "outcome   {}",
            match self.exit_code() {
                0 => "PASS",
                1 => "FAIL",
                _ => "UNDECIDED",
            }
        );
        s
    }
}

/// Why a sweep could not be done.
#[derive(Debug, thiserror::Error)]
pub enum SweepError {
    /// The scenario is not usable (exit code 2).
    #[error("{0}")]
    Scenario(#[from] ScenarioError),
    /// A seed's run could not be done.
    #[error("seed {seed}: {source}")]
    Run {
        /// The seed.
        seed: u64,
        /// The cause.
        source: RunError,
    },
    /// An output file could not be written (nothing existing was replaced).
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// The thread pool could not start.
    #[error("cannot start {jobs} sweep threads: {message}")]
    Pool {
        /// Threads asked for.
        jobs: usize,
        /// The cause.
        message: String,
    },
    /// Two runs of one seed disagreed: a determinism bug.
    #[error("seed {seed} ran differently the second time ({first} vs {second}): a determinism bug")]
    Diverged {
        /// The seed.
        seed: u64,
        /// The first run's result.
        first: String,
        /// The second's.
        second: String,
    },
}

/// The scenario that `seed` runs: `base` itself, or under swarm testing the profile drawn for it.
pub fn scenario_for(base: &Scenario, seed: u64, swarm: bool) -> Cow<'_, Scenario> {
    if swarm {
        Cow::Owned(swarm::draw(base, seed))
    } else {
        Cow::Borrowed(base)
    }
}

/// Checks a scenario drawn by the swarm sampler as if a user had written it.
fn check_drawn(s: &Scenario) -> Result<(), ScenarioError> {
    let text = serde_json::to_vec_pretty(s).unwrap_or_default();
    scenario::parse(&text, &format!("<swarm profile of seed {}>", s.seed)).map(|_| ())
}

/// Runs one seed without a trace.
fn run_seed(
    runner: Runner,
    base: &Scenario,
    seed: u64,
    swarm: bool,
) -> Result<SeedResult, SweepError> {
    let s = scenario_for(base, seed, swarm);
    if swarm {
        check_drawn(&s)?;
    }
    let options = RunOptions {
        seed: Some(seed),
        trace: TraceOutput::Off,
    };
    let out = runner
        .run_keeping(&s, None, &options, false)
        .map_err(|source| SweepError::Run { seed, source })?;
    Ok(SeedResult::from_report(&out.report, &s))
}

/// The files a sweep into `dir` may create; any of them already there stops the sweep before it runs.
fn check_out_dir(dir: &Path) -> Result<(), SweepError> {
    std::fs::create_dir_all(dir)?;
    for entry in std::fs::read_dir(dir)? {
        let name = entry?.file_name();
        let name = name.to_string_lossy();
        if name == "results.jsonl" || (name.starts_with("group-") && name.contains(".json")) {
            return Err(SweepError::Io(std::io::Error::new(
                std::io::ErrorKind::AlreadyExists,
                format!(
                    "{}: already holds {name} from an earlier sweep; choose another --out or move it away",
                    dir.display()
                ),
            )));
        }
    }
    Ok(())
}

/// Sweeps `scenario` over `seeds`.
pub fn sweep(
    scenario: &Scenario,
    seeds: SeedRange,
    options: &SweepOptions,
) -> Result<SweepReport, SweepError> {
    options.runner.validate(scenario, None)?;
    if options.swarm {
        check_drawn(&swarm::draw(scenario, seeds.start))?;
    }
    let jobs = if options.jobs == 0 {
        std::thread::available_parallelism().map_or(1, |n| n.get())
    } else {
        options.jobs
    };
    if jobs > JOBS_MAX {
        return Err(SweepError::Pool {
            jobs,
            message: format!("at most {JOBS_MAX} threads"),
        });
    }
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(jobs)
        .build()
        .map_err(|e| SweepError::Pool {
            jobs,
            message: e.to_string(),
        })?;
    let mut writer = None;
    let mut results_file = None;
    if let Some(dir) = &options.out_dir {
        check_out_dir(dir)?;
        let path = dir.join("results.jsonl");
        writer = Some(ResultsWriter::create(&path)?);
        results_file = Some(path);
    }

    let clock = crate::wall_clock::Stopwatch::start();
    let mut reporter = progress::Reporter::start(options.progress, seeds.len());
    let ticker = reporter.ticker();
    // Batches bound the memory held for results not yet consumed, and are where the sweep may stop.
    let batch = (jobs as u64 * 16).max(64);
    let mut report = SweepReport {
        scenario: scenario.name.clone(),
        range: seeds,
        swarm: options.swarm,
        seeds_run: 0,
        passed: 0,
        failed: 0,
        undecided: 0,
        stopped: None,
        triage: Triage::default(),
        results_sha256: String::new(),
        results: Vec::new(),
        results_file,
        wall: Duration::ZERO,
    };
    let mut digest = Sha256::new();
    let mut next = seeds.start;
    'batches: while next < seeds.end {
        if let Some(limit) = options.max_wall_s
            && clock.elapsed() >= Duration::from_secs(limit)
        {
            report.stopped = Some(Stop::WallTime(limit));
            break;
        }
        let end = next.saturating_add(batch).min(seeds.end);
        let batch_seeds: Vec<u64> = (next..end).collect();
        let done: Vec<Result<SeedResult, SweepError>> = pool.install(|| {
            batch_seeds
                .par_iter()
                .with_max_len(1)
                .map(|&seed| {
                    let r = run_seed(options.runner, scenario, seed, options.swarm);
                    if let Some(t) = &ticker {
                        t.inc(1);
                    }
                    r
                })
                .collect()
        });
        for r in done {
            let r = r?;
            let mut text = results::line_text(&r);
            text.push('\n');
            digest.update(text.as_bytes());
            if let Some(w) = &mut writer {
                w.write(&r)?;
            }
            report.seeds_run += 1;
            if r.failed() {
                report.failed += 1;
            } else if r.undecided() {
                report.undecided += 1;
            } else {
                report.passed += 1;
            }
            report.triage.add(&r);
            if options.keep_results {
                report.results.push(r);
            }
            if let Some(k) = options.stop_after_failures
                && report.failed >= k
            {
                report.stopped = Some(Stop::Failures(k));
                break 'batches;
            }
        }
        next = end;
        reporter.update(report.seeds_run, report.failed);
    }
    reporter.finish();
    report.wall = clock.elapsed();
    report.results_sha256 = format!("{:x}", digest.finalize());
    if let Some(w) = writer {
        w.finish()?;
    }
    if let Some(dir) = &options.out_dir {
        for g in &mut report.triage.groups {
            let path = dir.join(format!("group-{}.trace.jsonl", g.number));
            trace_seed(
                options.runner,
                scenario,
                g.shortest_seed,
                options.swarm,
                &path,
                g,
            )?;
            g.trace = Some(path);
        }
    }
    if let Some(budget) = &options.shrink {
        for g in &mut report.triage.groups {
            if g.checker.is_none() {
                g.shrink_summary = Some("not shrunk: no violation to keep".into());
                continue;
            }
            let s = scenario_for(scenario, g.shortest_seed, options.swarm);
            let shrunk = match shrink::shrink_with(options.runner, &s, g.shortest_seed, budget) {
                Ok(x) => x,
                Err(shrink::ShrinkError::Run(source)) => {
                    return Err(SweepError::Run {
                        seed: g.shortest_seed,
                        source,
                    });
                }
                Err(e) => {
                    return Err(SweepError::Diverged {
                        seed: g.shortest_seed,
                        first: g.signature.clone(),
                        second: e.to_string(),
                    });
                }
            };
            g.shrink_summary = Some(shrunk.summary());
            if let Some(dir) = &options.out_dir {
                let json = dir.join(format!("group-{}.min.json", g.number));
                let trace = dir.join(format!("group-{}.min.trace.jsonl", g.number));
                shrink::write_minimal(&shrunk, &json, &trace, false)?;
                g.shrunk = Some(json);
            }
        }
    }
    Ok(report)
}

/// Re-runs a group's shortest seed with its trace written to `path`, and checks that it ran as it did
/// in the sweep.
fn trace_seed(
    runner: Runner,
    base: &Scenario,
    seed: u64,
    swarm: bool,
    path: &Path,
    group: &Group,
) -> Result<(), SweepError> {
    let claim = Claim::new(path)?;
    let s = scenario_for(base, seed, swarm);
    let options = RunOptions {
        seed: Some(seed),
        trace: TraceOutput::File(claim.path().to_path_buf()),
    };
    let out = runner
        .run_keeping(&s, None, &options, false)
        .map_err(|source| SweepError::Run { seed, source })?;
    let again = SeedResult::from_report(&out.report, &s);
    if again.signature.as_deref() != Some(group.signature.as_str())
        || again.events != group.shortest_events
    {
        return Err(SweepError::Diverged {
            seed,
            first: format!("{} in {} events", group.signature, group.shortest_events),
            second: format!(
                "{} in {} events",
                again.signature.unwrap_or_else(|| again.outcome.clone()),
                again.events
            ),
        });
    }
    claim.keep();
    Ok(())
}
