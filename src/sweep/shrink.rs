//! Shrinking: delta debugging of a failing scenario, with its seed and its violated checker held
//! fixed. A reduction is kept only when a fresh run of the smaller scenario, with the same seed, is
//! still stopped by a violation of the same checker; otherwise it is rejected.
//!
//! Reductions, tried in rounds until a round keeps none or the budget runs out:
//! - drop the liveness promises (unless a liveness checker is the one failing);
//! - end the run just after the violation (`max_time_ms`), dropping faults scheduled later, and for
//!   a violation found only at the end (linearizability) try ending at half the time, repeatedly;
//! - drop scheduled faults (ddmin over the list: halves, quarters, ..., single faults);
//! - drop clients, and halve `params.ops_per_client` where the protocol has it;
//! - drop servers, the highest id first, where the protocol accepts the smaller cluster (faults naming
//!   the dropped server lose it, client ids move down);
//! - simplify the network: no latency tail, no loss, no duplication, a narrower latency range, and no
//!   loss or duplication in link faults.
//!
//! Dropping clients, operations or servers changes what the seed's streams feed, so for those a
//! reduction whose seed now passes is also tried with a few further seeds (`reseeds`); the result
//! records the seed it fails with.
//!
//! Every run draws from per-consumer streams (`contract::Rng::stream`), so dropping one fault leaves the
//! network's and the nodes' draws alone as far as the schedule allows. The order of attempts is fixed,
//! so shrinking is deterministic. The budget counts runs (`steps_max`) and the events they handle
//! (`events_total_max`); running out is an outcome (`exhausted`), and the best scenario found so far
//! is still returned.

use super::fault_build as fb;
use crate::contract::NS_PER_MS;
use crate::run::report::RunReport;
use crate::run::{RunError, RunOptions, Runner};
use crate::scenario::{self, Scenario};
use crate::trace::TraceOutput;
use serde::Serialize;

/// Liveness checkers: their violations are judged at the end of the run, so the run must go on to
/// its end and the promises must stay.
const LIVENESS_CHECKERS: &[&str] = &["leader_within", "ops_complete_within"];

/// Budgets for one shrink.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ShrinkOptions {
    /// The most runs.
    pub steps_max: u64,
    /// The most events handled by all runs together.
    pub events_total_max: u64,
    /// When dropping clients, operations or servers makes the seed pass, how many further seeds
    /// (the seed plus 1, 2, ...) are tried with the smaller scenario before the reduction is rejected.
    pub reseeds: u64,
}

impl Default for ShrinkOptions {
    fn default() -> Self {
        ShrinkOptions {
            steps_max: 1_000,
            events_total_max: 200_000_000,
            reseeds: 3,
        }
    }
}

/// The size of a scenario and of its run, before and after shrinking.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Sizes {
    /// Servers.
    pub nodes: u32,
    /// Clients.
    pub clients: u32,
    /// Scheduled faults.
    pub faults: u64,
    /// Client operations invoked.
    pub operations: u64,
    /// Events handled.
    pub events: u64,
    /// Virtual time at the end, ns.
    pub end_time_ns: u64,
}

impl Sizes {
    fn of(s: &Scenario, r: &RunReport) -> Sizes {
        Sizes {
            nodes: s.nodes,
            clients: s.clients,
            faults: s.faults.len() as u64,
            operations: r.operations.invoked,
            events: r.counts.events,
            end_time_ns: r.end_time_ns,
        }
    }
}

impl std::fmt::Display for Sizes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} nodes + {} clients, {} faults, {} operations, {} events, {}",
            self.nodes,
            self.clients,
            self.faults,
            self.operations,
            self.events,
            crate::contract::Time(self.end_time_ns)
        )
    }
}

/// What a shrink found.
#[derive(Clone, Debug)]
pub struct Shrunk {
    /// The smallest failing scenario found; its `seed` is the failing seed.
    pub scenario: Scenario,
    /// The checker that fails, in the original and in the result.
    pub checker: String,
    /// Sizes of the original.
    pub before: Sizes,
    /// Sizes of the result.
    pub after: Sizes,
    /// Runs made.
    pub steps: u64,
    /// Reductions kept.
    pub kept: u64,
    /// Whether a budget ran out before no reduction was left to try.
    pub exhausted: bool,
    /// The report of the result's run.
    pub report: RunReport,
}

impl Shrunk {
    /// One line: sizes before and after.
    pub fn summary(&self) -> String {
        format!(
            "keeping {}: {} faults -> {}, {} events -> {}, {} -> {}, {} runs{}",
            self.checker,
            self.before.faults,
            self.after.faults,
            self.before.events,
            self.after.events,
            crate::contract::Time(self.before.end_time_ns),
            crate::contract::Time(self.after.end_time_ns),
            self.steps,
            if self.exhausted {
                " (budget ran out: smaller may exist)"
            } else {
                ""
            }
        )
    }
}

/// Why a shrink could not start.
#[derive(Debug, thiserror::Error)]
pub enum ShrinkError {
    /// The scenario cannot run.
    #[error("{0}")]
    Run(#[from] RunError),
    /// The run with this seed has no violation to keep.
    #[error(
        "nothing to shrink: scenario {scenario} with seed {seed} runs without a violation (outcome {outcome})"
    )]
    NoViolation {
        /// The scenario's name.
        scenario: String,
        /// The seed.
        seed: u64,
        /// The run's outcome.
        outcome: String,
    },
}

struct Search {
    runner: Runner,
    checker: String,
    seed: u64,
    best: Scenario,
    best_report: RunReport,
    steps: u64,
    kept: u64,
    events_total: u64,
    options: ShrinkOptions,
}

impl Search {
    fn out_of_budget(&self) -> bool {
        self.steps >= self.options.steps_max || self.events_total >= self.options.events_total_max
    }

    /// Like [`Search::accept`], but when the current seed no longer fails, tries the next
    /// [`ShrinkOptions::reseeds`] seeds too, and keeps the first that fails the same checker.
    fn accept_reseeding(&mut self, candidate: Scenario) -> bool {
        if self.accept(candidate.clone()) {
            return true;
        }
        let seed = self.seed;
        for k in 1..=self.options.reseeds {
            self.seed = seed.wrapping_add(k);
            if self.accept(candidate.clone()) {
                return true;
            }
        }
        self.seed = seed;
        false
    }

    /// Runs `candidate` with the current seed; keeps it if it is valid and still fails the same
    /// checker.
    fn accept(&mut self, mut candidate: Scenario) -> bool {
        if self.out_of_budget() || (candidate == self.best && self.seed == self.best.seed) {
            return false;
        }
        candidate.seed = self.seed;
        // A candidate must be a scenario a user could load: serialise it and parse it back.
        let Ok(text) = serde_json::to_vec(&candidate) else {
            return false;
        };
        let Ok((candidate, source)) = scenario::parse(&text, "<candidate>") else {
            return false;
        };
        self.steps += 1;
        let options = RunOptions {
            seed: Some(self.seed),
            trace: TraceOutput::Off,
        };
        let Ok(out) = self
            .runner
            .run_keeping(&candidate, Some(&source), &options, false)
        else {
            return false;
        };
        self.events_total = self.events_total.saturating_add(out.report.counts.events);
        let same = out
            .report
            .violation
            .as_ref()
            .is_some_and(|v| v.checker == self.checker);
        if same {
            self.best = candidate;
            self.best_report = out.report;
            self.kept += 1;
        }
        same
    }

    fn is_liveness(&self) -> bool {
        LIVENESS_CHECKERS.contains(&self.checker.as_str())
    }

    /// One round of every reduction; whether any was kept.
    fn round(&mut self) -> bool {
        let mut changed = false;
        if !self.is_liveness() && self.best.liveness.is_some() {
            let mut c = self.best.clone();
            c.liveness = None;
            changed |= self.accept(c);
        }
        changed |= self.shorten();
        changed |= self.drop_faults();
        changed |= self.drop_clients();
        changed |= self.fewer_operations();
        changed |= self.drop_servers();
        changed |= self.simplify_network();
        changed
    }

    /// The scenario ending at `end_ms`, without the faults scheduled after it.
    fn ending_at(&self, end_ms: u64) -> Scenario {
        let mut c = self.best.clone();
        c.max_time_ms = end_ms;
        c.faults.retain(|f| fb::at_ms(f) <= end_ms);
        c
    }

    /// Ends the run just after a safety violation; then, for violations found only at the end (the
    /// history's linearizability), tries ending at half the time, again and again.
    fn shorten(&mut self) -> bool {
        if self.is_liveness() {
            return false;
        }
        let Some(v) = &self.best_report.violation else {
            return false;
        };
        let mut changed = false;
        let end_ms = v.time_ns.div_ceil(NS_PER_MS) + 1;
        if end_ms < self.best.max_time_ms {
            changed |= self.accept(self.ending_at(end_ms));
        }
        while self.best.max_time_ms > 1 && !self.out_of_budget() {
            let half_ms = self.best.max_time_ms / 2;
            if !self.accept(self.ending_at(half_ms)) {
                break;
            }
            changed = true;
        }
        changed
    }

    /// ddmin over the fault list: try removing each of n chunks, n doubling up to single faults.
    fn drop_faults(&mut self) -> bool {
        let mut changed = false;
        let mut n = 2usize;
        while !self.best.faults.is_empty() && !self.out_of_budget() {
            let len = self.best.faults.len();
            n = n.min(len);
            let chunk = len.div_ceil(n);
            let mut kept = false;
            for i in 0..n {
                let (lo, hi) = (i * chunk, ((i + 1) * chunk).min(len));
                if lo >= hi {
                    break;
                }
                let mut c = self.best.clone();
                c.faults.drain(lo..hi);
                if self.accept(c) {
                    kept = true;
                    changed = true;
                    n = (n - 1).max(2);
                    break;
                }
            }
            if !kept {
                if n >= len {
                    break;
                }
                n = (n * 2).min(len);
            }
        }
        changed
    }

    fn drop_clients(&mut self) -> bool {
        let mut changed = false;
        while self.best.clients > 0 && !self.out_of_budget() {
            let servers = self.best.nodes;
            let last = servers + self.best.clients - 1;
            let mut c = self.best.clone();
            c.clients -= 1;
            c.faults = self
                .best
                .faults
                .iter()
                .filter_map(|f| fb::remap_nodes(f, &|n| (n != last).then_some(n)))
                .collect();
            if !self.accept_reseeding(c) {
                break;
            }
            changed = true;
        }
        changed
    }

    fn fewer_operations(&mut self) -> bool {
        let mut changed = false;
        loop {
            let Some(ops) = self
                .best
                .params
                .get("ops_per_client")
                .and_then(serde_json::Value::as_u64)
            else {
                return changed;
            };
            if ops <= 1 || self.out_of_budget() {
                return changed;
            }
            let mut c = self.best.clone();
            c.params["ops_per_client"] = (ops / 2).into();
            if !self.accept_reseeding(c) {
                return changed;
            }
            changed = true;
        }
    }

    fn drop_servers(&mut self) -> bool {
        let mut changed = false;
        while self.best.nodes > 1 && !self.out_of_budget() {
            let gone = self.best.nodes - 1;
            let mut c = self.best.clone();
            c.nodes -= 1;
            c.faults = self
                .best
                .faults
                .iter()
                .filter_map(|f| {
                    fb::remap_nodes(f, &|n| match n.cmp(&gone) {
                        std::cmp::Ordering::Less => Some(n),
                        std::cmp::Ordering::Equal => None,
                        std::cmp::Ordering::Greater => Some(n - 1),
                    })
                })
                .collect();
            if !self.accept_reseeding(c) {
                break;
            }
            changed = true;
        }
        changed
    }

    fn simplify_network(&mut self) -> bool {
        let mut changed = false;
        let net = self.best.network.clone();
        if net.tail.is_some() {
            let mut c = self.best.clone();
            c.network.tail = None;
            changed |= self.accept(c);
        }
        let lowerings: [fn(&mut Scenario); 5] = [
            |c: &mut Scenario| c.network.loss_ppm = 0,
            |c: &mut Scenario| c.network.loss_ppm /= 2,
            |c: &mut Scenario| c.network.duplicate_ppm = 0,
            |c: &mut Scenario| c.network.duplicate_ppm /= 2,
            |c: &mut Scenario| {
                let n = &mut c.network;
                n.delay_ms_max = n.delay_ms_min.max(n.delay_ms_max / 2);
            },
        ];
        for lower in lowerings {
            let mut c = self.best.clone();
            lower(&mut c);
            changed |= self.accept(c);
        }
        for i in 0..self.best.faults.len() {
            if let Some(f) = self
                .best
                .faults
                .get(i)
                .and_then(|f| fb::with_rates_at_most(f, 0, 0))
            {
                let mut c = self.best.clone();
                c.faults[i] = f;
                changed |= self.accept(c);
            }
        }
        changed
    }
}

/// Shrinks `scenario` run with `seed`, keeping the checker that its run violates, with the protocol
/// the scenario names.
pub fn shrink(
    scenario: &Scenario,
    seed: u64,
    options: &ShrinkOptions,
) -> Result<Shrunk, ShrinkError> {
    shrink_with(Runner::by_name(), scenario, seed, options)
}

/// [`shrink`], running every candidate with `runner` (a user's own protocol: [`Runner::of`]).
pub fn shrink_with(
    runner: Runner,
    scenario: &Scenario,
    seed: u64,
    options: &ShrinkOptions,
) -> Result<Shrunk, ShrinkError> {
    let mut original = scenario.clone();
    original.seed = seed;
    let out = runner.run_keeping(
        &original,
        None,
        &RunOptions {
            seed: Some(seed),
            trace: TraceOutput::Off,
        },
        false,
    )?;
    let Some(v) = &out.report.violation else {
        return Err(ShrinkError::NoViolation {
            scenario: scenario.name.clone(),
            seed,
            outcome: out.report.outcome.as_str().into(),
        });
    };
    let before = Sizes::of(&original, &out.report);
    let mut search = Search {
        runner,
        checker: v.checker.clone(),
        seed,
        events_total: out.report.counts.events,
        best: original,
        best_report: out.report,
        steps: 1,
        kept: 0,
        options: *options,
    };
    while !search.out_of_budget() && search.round() {}
    let exhausted = search.out_of_budget();
    Ok(Shrunk {
        after: Sizes::of(&search.best, &search.best_report),
        scenario: search.best,
        checker: search.checker,
        before,
        steps: search.steps,
        kept: search.kept,
        exhausted,
        report: search.best_report,
    })
}

/// Why the minimal scenario could not be written.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// A file could not be written (nothing existing was replaced unless asked).
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// The fresh run of the written scenario did not fail as the shrink's did.
    #[error("the minimal scenario did not reproduce on a fresh run: {0}")]
    NotReproduced(String),
}

impl From<WriteError> for super::SweepError {
    fn from(e: WriteError) -> Self {
        match e {
            WriteError::Io(e) => super::SweepError::Io(e),
            WriteError::NotReproduced(m) => super::SweepError::Io(std::io::Error::other(m)),
        }
    }
}

/// The trace file that goes with a minimal scenario at `json`: `x.json` gives `x.trace.jsonl`.
pub fn trace_path_for(json: &std::path::Path) -> std::path::PathBuf {
    let stem = json.file_stem().unwrap_or_default().to_string_lossy();
    json.with_file_name(format!("{stem}.trace.jsonl"))
}

/// Writes the minimal scenario to `json` and the trace of a fresh run of it to `trace`, checking that
/// the fresh run still fails the same checker in the same number of events. Both files are created
/// exclusively unless `replace` (the user asked to overwrite).
pub fn write_minimal(
    shrunk: &Shrunk,
    json: &std::path::Path,
    trace: &std::path::Path,
    replace: bool,
) -> Result<(), WriteError> {
    use super::out_file;
    let mut text = serde_json::to_string_pretty(&shrunk.scenario)
        .map_err(|e| WriteError::Io(std::io::Error::other(e)))?;
    text.push('\n');
    let claims = if replace {
        None
    } else {
        Some((out_file::Claim::new(json)?, out_file::Claim::new(trace)?))
    };
    // Re-verify from the text that is written, as a user loading the file would get it.
    let (scenario, source) = scenario::parse(text.as_bytes(), &json.display().to_string())
        .map_err(|e| WriteError::NotReproduced(e.to_string()))?;
    let out = Runner::by_name()
        .run_keeping(
            &scenario,
            Some(&source),
            &RunOptions {
                seed: Some(scenario.seed),
                trace: TraceOutput::File(trace.to_path_buf()),
            },
            false,
        )
        .map_err(|e| WriteError::NotReproduced(e.to_string()))?;
    let got = out.report.violation.as_ref().map(|v| v.checker.as_str());
    if got != Some(shrunk.checker.as_str()) || out.report.counts.events != shrunk.after.events {
        let _ = std::fs::remove_file(trace);
        return Err(WriteError::NotReproduced(format!(
            "expected {} in {} events, got {:?} in {} events",
            shrunk.checker, shrunk.after.events, got, out.report.counts.events
        )));
    }
    match claims {
        None => out_file::write_replacing(json, &text)?,
        Some((json_claim, trace_claim)) => {
            // Filling our own, freshly created, empty file.
            std::fs::write(json_claim.path(), &text)?;
            json_claim.keep();
            trace_claim.keep();
        }
    }
    Ok(())
}
