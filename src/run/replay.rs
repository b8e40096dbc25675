//! Replay: re-run a trace from its own header and compare, line by line, what the run writes now with
//! what the file holds. A mismatch names the first differing line; a file whose closing digest does
//! not match its own lines is reported as damaged.

use super::report::RunReport;
use super::{RunError, RunOptions, run};
use crate::scenario::Source;
use crate::trace::{TraceOutput, read_trace};
use std::path::Path;

/// The first line where the file and the re-run differ.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mismatch {
    /// 1-based line number in the file.
    pub line: usize,
    /// The file's line (`<end of file>` past its end).
    pub expected: String,
    /// The re-run's line (`<end of run>` past its end).
    pub got: String,
}

/// The result of a replay.
#[derive(Clone, Debug)]
pub struct Replay {
    /// The re-run's report.
    pub report: RunReport,
    /// Lines compared.
    pub lines: usize,
    /// The first difference, if any.
    pub mismatch: Option<Mismatch>,
    /// Whether the file's closing digest matches its own lines (`None`: the file has no closing line).
    pub file_intact: Option<bool>,
}

impl Replay {
    /// Whether the replay reproduced the file exactly.
    pub fn matches(&self) -> bool {
        self.mismatch.is_none() && self.file_intact == Some(true)
    }
}

/// Re-runs the trace at `path` and compares.
pub fn replay(path: &Path) -> Result<Replay, RunError> {
    let trace = read_trace(path)?;
    let source = Source {
        file: path.display().to_string(),
        text: trace.lines[0].clone(),
    };
    let options = RunOptions {
        seed: Some(trace.header.seed),
        trace: TraceOutput::Memory,
    };
    let out = run(&trace.header.scenario, Some(&source), &options)?;
    let got = out.trace_lines.unwrap_or_default();
    let n = trace.lines.len().max(got.len());
    let mismatch = (0..n).find_map(|i| {
        let want = trace.lines.get(i);
        let have = got.get(i);
        (want != have).then(|| Mismatch {
            line: i + 1,
            expected: want.cloned().unwrap_or_else(|| "<end of file>".into()),
            got: have.cloned().unwrap_or_else(|| "<end of run>".into()),
        })
    });
    Ok(Replay {
        report: out.report,
        lines: n,
        mismatch,
        file_intact: trace
            .recorded_sha256
            .as_ref()
            .map(|r| *r == trace.actual_sha256),
    })
}

/// The commands that reproduce a run, with paths that work from any directory: `replay TRACE` when
/// a trace was written, and the `run SCENARIO --seed N` form always. `program` is how the user
/// invoked distsim (`argv[0]`): a bare name found on the PATH stays as it is, a path is made absolute.
pub fn replay_hint(program: &str, scenario: &Path, seed: u64, trace: Option<&Path>) -> Vec<String> {
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
    let run = format!("{program} run {} --seed {seed}", absolute(scenario));
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
            Some(Path::new("t.jsonl")),
        );
        assert_eq!(
            hint,
            [
                format!("distsim replay {}", here.join("t.jsonl").display()),
                format!("distsim run {} --seed 7", here.join("s.json").display()),
            ]
        );
        let hint = replay_hint("./target/release/distsim", Path::new("/x/s.json"), 1, None);
        assert_eq!(
            hint,
            [format!(
                "{} run /x/s.json --seed 1 --trace failing.trace.jsonl",
                here.join("target/release/distsim").display()
            )]
        );
    }
}
