//! The report of one run: what the CLI prints, what `--json` emits, and what snapshot tests pin.
//! It holds virtual times and counts only, never wall-clock time, so it is as deterministic as the run.

use crate::contract::Time;
use crate::contract::Verdict;
pub use crate::sim::operations::OperationCounts;
use crate::sim::world::{EndReason, TimelineEntry, Violation};
use crate::trace::Counts;
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// Did the run match its expectation?
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// As expected (no violation, or the expected one).
    Pass,
    /// A violation, or an expected violation that did not show.
    Fail,
    /// A checker could not decide.
    Undecided,
}

impl Outcome {
    /// The process exit code: 0 pass, 1 fail, 3 undecided.
    pub fn exit_code(self) -> i32 {
        match self {
            Outcome::Pass => 0,
            Outcome::Fail => 1,
            Outcome::Undecided => 3,
        }
    }

    /// The snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Pass => "pass",
            Outcome::Fail => "fail",
            Outcome::Undecided => "undecided",
        }
    }
}

/// One checker's verdict.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CheckerVerdict {
    /// The checker's name.
    pub name: String,
    /// Its verdict.
    #[serde(flatten)]
    pub verdict: Verdict,
}

/// Everything a run reports.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RunReport {
    /// The scenario's name.
    pub scenario: String,
    /// The protocol.
    pub protocol: String,
    /// The seed used.
    pub seed: u64,
    /// The mutants switched on.
    pub mutants: Vec<String>,
    /// Pass, fail or undecided.
    pub outcome: Outcome,
    /// The violation the scenario expects, if any.
    pub expected_violation: Option<String>,
    /// Why the run stopped.
    pub end_reason: EndReason,
    /// True time at the end, ns.
    pub end_time_ns: u64,
    /// The first violation found (during the run or at its end).
    pub violation: Option<Violation>,
    /// Every checker's verdict.
    pub checkers: Vec<CheckerVerdict>,
    /// Counts of events, messages and more.
    pub counts: Counts,
    /// Client operations.
    pub operations: OperationCounts,
    /// Protocol notes by kind.
    pub notes: BTreeMap<String, u64>,
    /// Faults and role changes, in order: the first
    /// [`TIMELINE_ENTRIES_MAX`](crate::sim::world::TIMELINE_ENTRIES_MAX).
    pub timeline: Vec<TimelineEntry>,
    /// Timeline entries past those, counted only (the trace has them all); absent when none.
    #[serde(skip_serializing_if = "is_zero")]
    pub timeline_omitted: u64,
    /// The run's fingerprint ([`crate::trace::fingerprint`]; absent when tracing was off): two runs
    /// with the same fingerprint took the same events.
    pub fingerprint: Option<String>,
    /// SHA-256 of the trace file's lines (absent unless JSON lines were written).
    pub trace_sha256: Option<String>,
}

impl RunReport {
    /// The human-readable report.
    pub fn render_text(&self, timeline_lines_max: usize) -> String {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "scenario  {} (protocol {}, seed {}{})",
            crate::text::escaped(&self.scenario),
            self.protocol,
            self.seed,
            if self.mutants.is_empty() {
                String::new()
            } else {
                format!(", mutants: {}", self.mutants.join(", "))
            }
        );
        let _ = writeln!(
            s,
            "ran       {} of virtual time, {} events, stopped by {}",
            Time(self.end_time_ns),
            self.counts.events,
            self.end_reason.as_str().replace('_', " ")
        );
        let c = &self.counts;
        let tampered = if c.messages_tampered > 0 {
            format!(", {} tampered", c.messages_tampered)
        } else {
            String::new()
        };
        let _ = writeln!(
            s,
            "messages  {} sent, {} delivered, {} dropped, {} duplicated{tampered}",
            c.messages_sent, c.messages_delivered, c.messages_dropped, c.messages_duplicated
        );
        let o = &self.operations;
        if o.invoked > 0 {
            let _ = writeln!(
                s,
                "clients   {} operations: {} ok, {} failed, {} unknown, {} open",
                o.invoked, o.ok, o.fail, o.info, o.open
            );
        }
        if !self.notes.is_empty() {
            let notes: Vec<String> = self.notes.iter().map(|(k, v)| format!("{k} {v}")).collect();
            let _ = writeln!(s, "notes     {}", notes.join(", "));
        }
        if !self.timeline.is_empty() {
            let _ = writeln!(s, "timeline");
            let shown = self.timeline.len().min(timeline_lines_max);
            for entry in &self.timeline[..shown] {
                let _ = writeln!(
                    s,
                    "  {:>12}  {}",
                    Time(entry.time_ns).to_string(),
                    entry.what
                );
            }
            let more = (self.timeline.len() - shown) as u64 + self.timeline_omitted;
            if more > 0 {
                let _ = writeln!(s, "  ... {more} more (see --json or the trace)");
            }
        }
        let _ = writeln!(s, "checkers");
        for cv in &self.checkers {
            let (word, detail) = match &cv.verdict {
                Verdict::Pass => ("pass", String::new()),
                Verdict::PassNoted(d) => ("pass", format!(": {d}")),
                Verdict::Fail(d) => ("FAIL", format!(": {d}")),
                Verdict::Unknown(d) => ("unknown", format!(": {d}")),
            };
            let _ = writeln!(s, "  {:<24} {word}{detail}", cv.name);
        }
        if let Some(v) = &self.violation {
            let _ = writeln!(
                s,
                "violation {} at event {}, {}{}: {}",
                v.checker,
                v.event_index,
                Time(v.time_ns),
                v.node.map(|n| format!(", node {n}")).unwrap_or_default(),
                v.message
            );
        }
        if let Some(e) = &self.expected_violation {
            let _ = writeln!(s, "expected  violation of {e}");
        }
        if let Some(f) = &self.fingerprint {
            let _ = writeln!(s, "run       fingerprint {f}");
        }
        if let Some(d) = &self.trace_sha256 {
            let _ = writeln!(s, "trace     sha256 {d}");
        }
        let _ = writeln!(s, "outcome   {}", self.outcome.as_str().to_uppercase());
        s
    }
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}
