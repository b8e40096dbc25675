//! Replay: re-run a trace from its own header and compare, line by line, what the run writes now with
//! what the file holds, in constant memory, stopping at the first difference.
//!
//! Two outcomes are told apart:
//! - the file is damaged (a line that is not JSON, no closing line, an unknown format version, or a
//!   closing sha256 that does not match the lines before it): an error naming the line (exit code 2);
//! - the file is intact but today's run writes something else: a [`Mismatch`] (exit code 1).

use super::report::RunReport;
use super::{RunError, RunOptions, run_keeping};
use crate::scenario::Source;
use crate::trace::TraceOutput;
use crate::trace::reader::{damaged, read_trace};
use std::path::Path;

pub use crate::trace::compare::Mismatch;

/// The result of replaying an intact trace.
#[derive(Clone, Debug)]
pub struct Replay {
    /// The re-run's report (of a run stopped at the first difference, if there was one).
    pub report: RunReport,
    /// Lines compared.
    pub lines: usize,
    /// The first difference, if any.
    pub mismatch: Option<Mismatch>,
}

impl Replay {
    /// Whether the replay reproduced the file exactly.
    pub fn matches(&self) -> bool {
        self.mismatch.is_none()
    }
}

/// Re-runs the trace at `path` and compares.
pub fn replay(path: &Path) -> Result<Replay, RunError> {
    let trace = read_trace(path)?;
    let file = crate::text::escaped(&path.display().to_string()).into_owned();
    // The file is read twice (checked, then compared as the run goes): a pipe would be empty the
    // second time and look like a divergence.
    if !std::fs::metadata(path).is_ok_and(|m| m.is_file()) {
        return Err(damaged(
            &file,
            1,
            "not a regular file: a replay reads the trace twice; save it to a file first",
        )
        .into());
    }
    let source = Source {
        file: file.clone(),
        text: trace.header_line.clone(),
    };
    let options = RunOptions {
        seed: Some(trace.header.seed),
        trace: TraceOutput::Compare(path.to_path_buf()),
    };
    // As `distsim run` without `--history` (what a run keeps counts towards its memory bound).
    let out = run_keeping(&trace.header.scenario, Some(&source), &options, false)?;
    let (lines, mismatch) = out.compared.unwrap_or_default();
    if !trace.intact() {
        // Where the run first differs is where the file was changed (or the change's first effect).
        let line = mismatch.as_ref().map_or(trace.lines, |m| m.line);
        return Err(damaged(
            &file,
            line,
            format!(
                "trace damaged at line {line}: the closing sha256 does not match the lines before it{}",
                match &mismatch {
                    Some(m) => format!("; the re-run writes there: {}", m.got),
                    None => String::new(),
                }
            ),
        )
        .into());
    }
    Ok(Replay {
        report: out.report,
        lines,
        mismatch,
    })
}

/// The commands that reproduce a run, with paths that work from any directory: `replay TRACE` when
/// a trace was written, and the `run SCENARIO --seed N` form always. `program` is how the user
/// invoked distsim (`argv[0]`): a bare name found on the PATH stays as it is, a path is made absolute.
/// `swarm` adds `--swarm` (the seed draws the fault profile).
pub fn replay_hint(
    program: &str,
    scenario: &Path,
    seed: u64,
    swarm: bool,
    trace: Option<&Path>,
) -> Vec<String> {
    let absolute = |p: &Path| -> String {
        std::path::absolute(p)
            .unwrap_or_else(|_| p.to_path_buf())
            .display()
            .to_string()
    };
    let program = if program.contains(std::path::MAIN_SEPARATOR) {
        absolute(Path::new(program))
    } else {
        program.to_string()
    };
    let swarm = if swarm { " --swarm" } else { "" };
    let run = format!("{program} run {} --seed {seed}{swarm}", absolute(scenario));
    match trace {
        Some(t) => vec![format!("{program} replay {}", absolute(t)), run],
        None => vec![format!("{run} --trace failing.trace.jsonl")],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hint_works_from_anywhere() {
        let here = std::env::current_dir().unwrap();
        let hint = replay_hint(
            "distsim",
            Path::new("s.json"),
            7,
            false,
            Some(Path::new("t.jsonl")),
        );
        assert_eq!(
            hint,
            [
                format!("distsim replay {}", here.join("t.jsonl").display()),
                format!("distsim run {} --seed 7", here.join("s.json").display()),
            ]
        );
        let hint = replay_hint(
            "./target/release/distsim",
            Path::new("/x/s.json"),
            1,
            true,
            None,
        );
        assert_eq!(
            hint,
            [format!(
                "{} run /x/s.json --seed 1 --swarm --trace failing.trace.jsonl",
                here.join("target/release/distsim").display()
            )]
        );
    }
}

/// What running one scenario twice in one process showed (`distsim run --check-determinism`).
#[derive(Clone, Debug)]
pub struct DeterminismCheck {
    /// The first run's report.
    pub report: RunReport,
    /// Lines compared.
    pub lines: usize,
    /// The first line where the second run differs from the first, with context.
    pub difference: Option<Mismatch>,
}

/// Runs `scenario` twice and compares every trace line, the way FoundationDB re-runs a share of its
/// simulations: the first run writes its trace to a scratch file, the second is compared with it as
/// it goes (constant memory), so any non-determinism shows as the first differing event.
pub fn check_determinism(
    runner: super::Runner,
    scenario: &crate::scenario::Scenario,
    source: Option<&Source>,
    seed: Option<u64>,
) -> Result<DeterminismCheck, RunError> {
    let scratch = tempfile::Builder::new()
        .prefix("distsim-determinism-")
        .suffix(".trace.jsonl")
        .tempfile()
        .map_err(|source| RunError::TraceIo {
            doing: "write",
            path: std::env::temp_dir().display().to_string(),
            source,
        })?
        .into_temp_path();
    let first = runner.run_keeping(
        scenario,
        source,
        &RunOptions {
            seed,
            trace: TraceOutput::File(scratch.to_path_buf()),
        },
        false,
    )?;
    let second = runner.run_keeping(
        scenario,
        source,
        &RunOptions {
            seed,
            trace: TraceOutput::Compare(scratch.to_path_buf()),
        },
        false,
    )?;
    let (lines, difference) = second.compared.unwrap_or((0, None));
    Ok(DeterminismCheck {
        report: first.report,
        lines,
        difference,
    })
}
