//! `distsim sweep` and `distsim shrink`: their arguments and what they print. `main.rs` only parses
//! and calls [`sweep_main`] or [`shrink_main`], which return the exit code.

use super::seeds::{SeedRange, Shard};
use super::shrink::{self, ShrinkOptions};
use super::{Progress, SweepError, SweepOptions, sweep};
use crate::run::RunError;
use crate::scenario::{self, Scenario, ScenarioError};
use crate::trace::reader::Header;
use std::io::{IsTerminal, Read};
use std::path::{Path, PathBuf};

const EXIT_BAD_INPUT: i32 = 2;

/// The most bytes read to find a trace's header line (headers hold one scenario, and scenario files
/// are capped at 16 MiB).
const HEADER_BYTES_MAX: u64 = 17 * 1024 * 1024;

/// The environment variables a cluster scheduler sets to an array task's index, read in this order.
pub const SHARD_INDEX_VARS: &[&str] = &["JOB_COMPLETION_INDEX", "SLURM_ARRAY_TASK_ID"];

/// Arguments of `distsim sweep`.
#[derive(Clone, Debug, clap::Args)]
pub struct SweepArgs {
    /// The scenario file (JSON).
    pub scenario: PathBuf,
    /// The seeds: `A..B` (B excluded), `A..=B`, or one seed.
    #[arg(long)]
    pub seeds: SeedRange,
    /// Threads running seeds (default: one per core). The results do not depend on it.
    #[arg(long, default_value_t = 0)]
    pub jobs: usize,
    /// Swarm testing: each seed draws its own fault profile from the scenario's "swarm" ranges.
    #[arg(long)]
    pub swarm: bool,
    /// Write DIR/results.jsonl, each failure group's trace and its shrunk scenario here.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Stop after this many failing seeds.
    #[arg(long, value_name = "K")]
    pub stop_after: Option<u64>,
    /// Start no new seeds after this many seconds of wall time.
    #[arg(long, value_name = "S")]
    pub max_wall_s: Option<u64>,
    /// Run only the I-th (from 0) of N contiguous slices of the seeds. With `--shards N` instead, the
    /// index comes from JOB_COMPLETION_INDEX (Kubernetes) or SLURM_ARRAY_TASK_ID (Slurm).
    #[arg(long, value_name = "I/N", conflicts_with = "shards")]
    pub shard: Option<Shard>,
    /// The number of shards, the index read from the scheduler's environment.
    #[arg(long, value_name = "N")]
    pub shards: Option<u64>,
    /// Do not shrink each failure group's shortest seed.
    #[arg(long)]
    pub no_shrink: bool,
    /// The most runs one shrink may make.
    #[arg(long, default_value_t = ShrinkOptions::default().steps_max)]
    pub shrink_steps: u64,
    /// Print nothing while sweeping.
    #[arg(long)]
    pub quiet: bool,
}

/// Arguments of `distsim shrink`.
#[derive(Clone, Debug, clap::Args)]
pub struct ShrinkArgs {
    /// A failing trace (its header holds the scenario and the seed) or a scenario file.
    pub input: PathBuf,
    /// The seed (default: the trace's, or the scenario's).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Where to write the minimal scenario (its trace goes next to it, as NAME.trace.jsonl).
    /// Default: SCENARIO-seedN.min.json in the current directory.
    #[arg(short = 'o', long = "output", value_name = "OUT.json")]
    pub output: Option<PathBuf>,
    /// Replace the output files if they exist.
    #[arg(long)]
    pub force: bool,
    /// The most runs the shrink may make.
    #[arg(long, default_value_t = ShrinkOptions::default().steps_max)]
    pub steps: u64,
}

/// Arguments of `distsim merge`.
#[derive(Clone, Debug, clap::Args)]
pub struct MergeArgs {
    /// The sweep output folders (`--out` of each shard), each holding a results.jsonl.
    #[arg(required = true)]
    pub dirs: Vec<PathBuf>,
    /// The scenario the shards swept, for the commands that re-run a seed.
    #[arg(long)]
    pub scenario: Option<PathBuf>,
    /// The shards ran with --swarm.
    #[arg(long)]
    pub swarm: bool,
}

/// `distsim merge`: one set of counts and one triage table over the shards' results.
pub fn merge_main(args: &MergeArgs) -> i32 {
    let m = match super::merge::merge(&args.dirs) {
        Ok(m) => m,
        Err(e) => return bad_input(e),
    };
    println!(
        "merged    {} folders: {} seeds, {} passed, {} failed, {} undecided",
        m.dirs.len(),
        m.seeds,
        m.passed,
        m.failed,
        m.undecided
    );
    let scenario = args
        .scenario
        .as_ref()
        .map_or_else(|| "SCENARIO".to_string(), |p| p.display().to_string());
    let swarm = if args.swarm { " --swarm" } else { "" };
    if !m.triage.groups.is_empty() {
        println!("failure groups");
        print!(
            "{}",
            m.triage
                .render(&|seed| format!("distsim run {scenario} --seed {seed}{swarm}"))
        );
    }
    m.exit_code()
}

fn bad_input(err: impl std::fmt::Display) -> i32 {
    eprintln!("error: {err}");
    EXIT_BAD_INPUT
}

/// The shard from `--shard`, or from `--shards N` and the scheduler's environment (`lookup` reads a
/// variable).
pub fn resolve_shard(
    shard: Option<Shard>,
    shards: Option<u64>,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<Option<Shard>, String> {
    let Some(count) = shards else {
        return Ok(shard);
    };
    let (var, value) = SHARD_INDEX_VARS
        .iter()
        .find_map(|v| lookup(v).map(|x| (*v, x)))
        .ok_or_else(|| {
            format!(
                "--shards {count} takes the shard index from {}, and none is set; use --shard I/{count}",
                SHARD_INDEX_VARS.join(" or ")
            )
        })?;
    format!("{}/{count}", value.trim())
        .parse::<Shard>()
        .map(Some)
        .map_err(|e| format!("{var}={value}: {e}"))
}

/// `distsim sweep`: runs the sweep, prints the summary and the triage table, returns the exit code.
pub fn sweep_main(args: &SweepArgs) -> i32 {
    let checked = scenario::load(&args.scenario)
        .and_then(|(s, src)| crate::run::validate(&s, Some(&src)).map(|()| s));
    let scenario = match checked {
        Ok(s) => s,
        Err(e) => return bad_input(e),
    };
    let shard = match resolve_shard(args.shard, args.shards, &|v| std::env::var(v).ok()) {
        Ok(s) => s,
        Err(e) => return bad_input(e),
    };
    let seeds = shard.map_or(args.seeds, |s| args.seeds.shard(s));
    if seeds.is_empty() {
        return bad_input(format!(
            "shard {} of seeds {} holds no seed",
            shard.map(|s| s.to_string()).unwrap_or_default(),
            args.seeds
        ));
    }
    let progress = if args.quiet {
        Progress::Off
    } else if std::io::stderr().is_terminal() {
        Progress::Bar
    } else {
        Progress::Lines
    };
    let options = SweepOptions {
        jobs: args.jobs,
        swarm: args.swarm,
        out_dir: args.out.clone(),
        stop_after_failures: args.stop_after,
        max_wall_s: args.max_wall_s,
        progress,
        shrink: (!args.no_shrink).then(|| ShrinkOptions {
            steps_max: args.shrink_steps,
            ..ShrinkOptions::default()
        }),
        keep_results: false,
        runner: crate::run::Runner::by_name(),
    };
    match sweep(&scenario, seeds, &options) {
        Ok(report) => {
            if let Some(s) = shard {
                println!("shard     {s} of seeds {}: seeds {seeds}", args.seeds);
            }
            print!(
                "{}",
                report.render_text(&args.scenario.display().to_string())
            );
            report.exit_code()
        }
        Err(SweepError::Scenario(e)) => bad_input(e),
        Err(SweepError::Run {
            source: RunError::Scenario(e),
            seed,
        }) => bad_input(format!("seed {seed}: {e}")),
        Err(e) => bad_input(e),
    }
}

/// Reads a shrink input: a trace (its header's scenario and seed) or a scenario file.
pub fn load_failing(path: &Path) -> Result<(Scenario, Option<u64>), ScenarioError> {
    let file = path.display().to_string();
    let whole = |message: String| ScenarioError {
        file: file.clone(),
        line: 1,
        column: 1,
        field: String::new(),
        message,
    };
    let mut first = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(HEADER_BYTES_MAX).read_to_end(&mut first))
        .map_err(|e| whole(format!("cannot read: {e}")))?;
    let line = first.split(|b| *b == b'\n').next().unwrap_or_default();
    let is_trace = serde_json::from_slice::<serde_json::Value>(line)
        .ok()
        .is_some_and(|v| v.get("kind").and_then(|k| k.as_str()) == Some("header"));
    if !is_trace {
        return scenario::load(path).map(|(s, _)| (s, None));
    }
    let text = String::from_utf8_lossy(line).into_owned();
    let header: Header = serde_json::from_str(&text).map_err(|e| ScenarioError {
        file: file.clone(),
        line: 1,
        column: e.column().max(1),
        field: String::new(),
        message: format!("not a distsim trace header: {e}"),
    })?;
    let source = scenario::Source { file, text };
    scenario::validate_in(&header.scenario, &source, "scenario")?;
    Ok((header.scenario, Some(header.seed)))
}

/// A scenario name made safe as a file name in the current directory: anything but letters, digits,
/// `-` and `_` becomes `_`, so a name can never point into another directory.
fn file_stem(name: &str) -> String {
    let stem: String = name
        .chars()
        .take(100)
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if stem.is_empty() {
        "scenario".into()
    } else {
        stem
    }
}

/// `distsim shrink`: shrinks, writes the minimal scenario and its trace, prints the sizes and the
/// commands that replay it, returns the exit code.
pub fn shrink_main(args: &ShrinkArgs) -> i32 {
    let (scenario, trace_seed) = match load_failing(&args.input) {
        Ok(x) => x,
        Err(e) => return bad_input(e),
    };
    let seed = args.seed.or(trace_seed).unwrap_or(scenario.seed);
    let json = args.output.clone().unwrap_or_else(|| {
        PathBuf::from(format!("{}-seed{seed}.min.json", file_stem(&scenario.name)))
    });
    let trace = shrink::trace_path_for(&json);
    for out in [&json, &trace] {
        if super::out_file::same_file(out, &args.input) {
            return bad_input(format!(
                "{}: this would overwrite the input itself",
                out.display()
            ));
        }
        if !args.force && std::fs::symlink_metadata(out).is_ok() {
            return bad_input(format!(
                "{} exists; choose another -o, or add --force to replace it",
                out.display()
            ));
        }
    }
    let options = ShrinkOptions {
        steps_max: args.steps,
        ..ShrinkOptions::default()
    };
    let shrunk = match shrink::shrink(&scenario, seed, &options) {
        Ok(s) => s,
        Err(e) => return bad_input(e),
    };
    if let Err(e) = shrink::write_minimal(&shrunk, &json, &trace, args.force) {
        return bad_input(e);
    }
    println!(
        "shrink    {} with seed {seed}, keeping the {} violation",
        scenario.name, shrunk.checker
    );
    println!("before    {}", shrunk.before);
    println!("after     {}", shrunk.after);
    if shrunk.scenario.seed != seed {
        println!(
            "seed      the smaller scenario fails with seed {} (recorded in its file)",
            shrunk.scenario.seed
        );
    }
    println!(
        "runs      {} ({} reductions kept){}",
        shrunk.steps,
        shrunk.kept,
        if shrunk.exhausted {
            "; the budget ran out, a smaller scenario may exist (raise --steps)"
        } else {
            ""
        }
    );
    println!("wrote     {} and {}", json.display(), trace.display());
    println!("replay    distsim replay {}", trace.display());
    println!("run       distsim run {}", json.display());
    0
}
