//! Triage: failures grouped by signature, so that a thousand failing seeds read as the two or three
//! bugs behind them. The signature is the checker that failed plus the kind of event that broke it:
//! the kind of the last scheduled fault at or before the violation (`"commit_safety after isolate"`),
//! or `"no fault"` when none had fired. A run that missed its expected violation has the signature
//! `"missing CHECKER"`.

use super::fault_build as fb;
use super::results::SeedResult;
use crate::contract::NS_PER_MS;
use crate::run::report::RunReport;
use crate::scenario::Scenario;
use serde::Serialize;
use std::fmt;
use std::path::PathBuf;

/// The most distinct groups kept; failures of further signatures are only counted.
pub const GROUPS_MAX: usize = 256;

/// What a failure looks like, for grouping.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Signature {
    /// A checker reported a violation after a fault of this kind (or `"no fault"`).
    Violation {
        /// The checker.
        checker: String,
        /// The last fault kind at or before the violation.
        after: String,
    },
    /// The scenario expected a violation from this checker, and the run found none (or another).
    Missing {
        /// The expected checker.
        expected: String,
    },
}

impl Signature {
    /// The signature of a failed run of `scenario`.
    pub fn of(report: &RunReport, scenario: &Scenario) -> Signature {
        match (&report.violation, &report.expected_violation) {
            (Some(v), _) => {
                let after = scenario
                    .faults
                    .iter()
                    .take_while(|f| fb::at_ms(f).saturating_mul(NS_PER_MS) <= v.time_ns)
                    .last()
                    .map_or("no fault", fb::kind);
                Signature::Violation {
                    checker: v.checker.clone(),
                    after: after.to_string(),
                }
            }
            (None, Some(e)) => Signature::Missing {
                expected: e.clone(),
            },
            (None, None) => Signature::Missing {
                expected: "nothing".into(),
            },
        }
    }
}

impl fmt::Display for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Signature::Violation { checker, after } if after == "no fault" => {
                write!(f, "{checker} before any fault")
            }
            Signature::Violation { checker, after } => write!(f, "{checker} after {after}"),
            Signature::Missing { expected } => write!(f, "missing {expected}"),
        }
    }
}

/// One failure group.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Group {
    /// 1-based, in order of first appearance.
    pub number: usize,
    /// The signature, as text.
    pub signature: String,
    /// The checker whose verdict failed (absent for a missing expected violation).
    pub checker: Option<String>,
    /// Failing seeds in the group.
    pub count: u64,
    /// The lowest failing seed.
    pub first_seed: u64,
    /// The failing seed with the fewest events (the lowest such seed on a tie).
    pub shortest_seed: u64,
    /// Its event count.
    pub shortest_events: u64,
    /// The trace of the shortest seed, when the sweep wrote one.
    pub trace: Option<PathBuf>,
    /// The shrunk scenario, when the sweep shrank the shortest seed.
    pub shrunk: Option<PathBuf>,
    /// One line on the shrinking: sizes before and after, or why it stopped.
    pub shrink_summary: Option<String>,
}

/// Groups failures as results arrive in seed order.
#[derive(Clone, Debug, Default)]
pub struct Triage {
    /// The groups, in order of first appearance.
    pub groups: Vec<Group>,
    /// Failures whose signature found no room (past [`GROUPS_MAX`] groups).
    pub ungrouped: u64,
}

impl Triage {
    /// Counts one result (only failures are grouped).
    pub fn add(&mut self, r: &SeedResult) {
        let Some(sig) = r.signature.as_deref().filter(|_| r.failed()) else {
            return;
        };
        if let Some(g) = self.groups.iter_mut().find(|g| g.signature == sig) {
            g.count += 1;
            g.first_seed = g.first_seed.min(r.seed);
            if (r.events, r.seed) < (g.shortest_events, g.shortest_seed) {
                g.shortest_events = r.events;
                g.shortest_seed = r.seed;
            }
            return;
        }
        if self.groups.len() >= GROUPS_MAX {
            self.ungrouped += 1;
            return;
        }
        self.groups.push(Group {
            number: self.groups.len() + 1,
            signature: sig.to_string(),
            checker: r.violation.as_ref().map(|v| v.checker.clone()),
            count: 1,
            first_seed: r.seed,
            shortest_seed: r.seed,
            shortest_events: r.events,
            trace: None,
            shrunk: None,
            shrink_summary: None,
        });
    }

    /// The table: group, count, first seed, shortest seed, signature, and the commands that replay
    /// each group. `rerun(seed)` is the command that re-runs one seed from the scenario.
    pub fn render(&self, rerun: &dyn Fn(u64) -> String) -> String {
        use fmt::Write as _;
        let mut s = String::new();
        if self.groups.is_empty() {
            return s;
        }
        let _ = writeln!(
            s,
            "{:<6} {:>8} {:>12} {:>24}  signature",
            "group", "count", "first seed", "shortest seed (events)"
        );
        for g in &self.groups {
            let shortest = format!("{} ({})", g.shortest_seed, g.shortest_events);
            let _ = writeln!(
                s,
                "{:<6} {:>8} {:>12} {:>24}  {}",
                g.number, g.count, g.first_seed, shortest, g.signature
            );
            if let Some(t) = &g.trace {
                let _ = writeln!(s, "       replay  distsim replay {}", t.display());
            }
            let _ = writeln!(s, "       rerun   {}", rerun(g.shortest_seed));
            if let Some(summary) = &g.shrink_summary {
                let _ = writeln!(s, "       shrunk  {summary}");
            }
            if let Some(p) = &g.shrunk {
                let _ = writeln!(s, "       minimal distsim run {}", p.display());
            }
        }
        if self.ungrouped > 0 {
            let _ = writeln!(
                s,
                "{} more failures with further signatures (only {GROUPS_MAX} groups are kept)",
                self.ungrouped
            );
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failure(seed: u64, events: u64, sig: &str) -> SeedResult {
        SeedResult {
            seed,
            outcome: "fail".into(),
            violation: None,
            signature: Some(sig.into()),
            events,
            faults: 0,
            end_time_ns: 0,
        }
    }

    #[test]
    fn groups_count_and_keep_the_first_and_the_shortest_seed() {
        let mut t = Triage::default();
        t.add(&failure(3, 500, "a after crash"));
        t.add(&failure(4, 90, "b after heal"));
        t.add(&failure(5, 200, "a after crash"));
        t.add(&failure(6, 200, "a after crash"));
        let mut pass = failure(7, 1, "a after crash");
        pass.outcome = "pass".into();
        t.add(&pass);
        assert_eq!(t.groups.len(), 2);
        let a = &t.groups[0];
        assert_eq!((a.number, a.count, a.first_seed), (1, 3, 3));
        assert_eq!((a.shortest_seed, a.shortest_events), (5, 200));
        assert_eq!(t.groups[1].signature, "b after heal");
        let table = t.render(&|s| format!("distsim run x.json --seed {s}"));
        assert!(table.contains("distsim run x.json --seed 5"), "{table}");
        assert!(table.contains("5 (200)"), "{table}");
    }
}
