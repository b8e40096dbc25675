//! One result line per seed, and the `results.jsonl` file that holds them in seed order.
//!
//! A line holds only what the run decides (no wall-clock time), so a sweep's results file is the same
//! byte for byte whatever the number of threads, and shard files concatenate into the whole range's.

use crate::run::report::{Outcome, RunReport};
use crate::scenario::Scenario;
use serde::{Deserialize, Serialize};
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;

use super::triage::Signature;

/// The violation part of a result line.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ViolationSummary {
    /// The checker that reported it.
    pub checker: String,
    /// The engine's event index.
    pub event: u64,
    /// Virtual time, ns.
    pub time_ns: u64,
    /// One line of explanation.
    pub message: String,
}

/// What one seed did.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedResult {
    /// The seed.
    pub seed: u64,
    /// Pass, fail or undecided, against the scenario's expectation.
    pub outcome: String,
    /// The first violation, if any (expected or not).
    pub violation: Option<ViolationSummary>,
    /// The failure group's signature (failures only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature: Option<String>,
    /// Events handled.
    pub events: u64,
    /// Scheduled faults in the run (the drawn ones under swarm testing).
    pub faults: u64,
    /// Virtual time at the end, ns.
    pub end_time_ns: u64,
}

impl SeedResult {
    /// The result line for `report`, a run of `scenario` (the one the seed actually ran).
    pub fn from_report(report: &RunReport, scenario: &Scenario) -> SeedResult {
        let signature =
            (report.outcome == Outcome::Fail).then(|| Signature::of(report, scenario).to_string());
        SeedResult {
            seed: report.seed,
            outcome: report.outcome.as_str().to_string(),
            violation: report.violation.as_ref().map(|v| ViolationSummary {
                checker: v.checker.clone(),
                event: v.event_index,
                time_ns: v.time_ns,
                message: v.message.clone(),
            }),
            signature,
            events: report.counts.events,
            faults: scenario.faults.len() as u64,
            end_time_ns: report.end_time_ns,
        }
    }

    /// Whether the seed failed its expectation.
    pub fn failed(&self) -> bool {
        self.outcome == Outcome::Fail.as_str()
    }

    /// Whether a checker could not decide.
    pub fn undecided(&self) -> bool {
        self.outcome == Outcome::Undecided.as_str()
    }
}

/// Writes `results.jsonl` line by line, to a file that must not exist yet.
pub struct ResultsWriter {
    out: BufWriter<File>,
}

impl ResultsWriter {
    /// Creates `path` exclusively: an existing file is never truncated.
    pub fn create(path: &Path) -> io::Result<ResultsWriter> {
        let file = File::options().write(true).create_new(true).open(path)?;
        Ok(ResultsWriter {
            out: BufWriter::new(file),
        })
    }

    /// Appends one line.
    pub fn write(&mut self, line: &SeedResult) -> io::Result<()> {
        serde_json::to_writer(&mut self.out, line)?;
        self.out.write_all(b"\n")
    }

    /// Flushes everything to the file.
    pub fn finish(mut self) -> io::Result<()> {
        self.out.flush()?;
        self.out.get_ref().sync_all()
    }
}

/// The JSON text of one result line, as the file holds it (without the newline).
pub fn line_text(line: &SeedResult) -> String {
    serde_json::to_string(line).unwrap_or_default()
}
