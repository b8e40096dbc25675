//! Linearizability checking of client histories.
//!
//! A history is linearizable when every operation can be given one instant, between its invoke and its
//! completion, such that running the operations one at a time in the order of those instants, on a
//! sequential model ([`RegisterModel`], [`KvModel`], or your own [`Model`]), gives every answer the clients
//! saw.
//!
//! # Algorithm
//!
//! 1. **Pairing.** Each invoke is paired with its process's next completion. `Ok` gives the answer. `Fail`
//!    means the operation did not take effect: a failed write, put or append is dropped; a failed
//!    compare-and-set stays, as an answer ("the register did not hold FROM") that must be explained; a
//!    failed read says nothing and is dropped. `Info`, or no completion at all, means the outcome is
//!    unknown: the operation may take effect at any point after its invoke, or never.
//! 2. **P-compositionality** (Horn & Kroening, 2015). When the model says keys are independent, the
//!    history is split by key and each key is checked on its own; keys run in parallel with rayon.
//! 3. **Search** (Wing & Gong, with Lowe's memoisation of configurations, 2017) on each part: a
//!    depth-first search for an order that respects real time and the model, which never explores the
//!    same (set of placed operations, model state) twice. Operations of unknown outcome are never
//!    required: the search succeeds once every completed operation is placed. Operations that leave the
//!    state unchanged (reads) are placed as soon as they fit, without branching, which is sound (see the
//!    `search` module) and makes Jepsen's etcd histories cheap.
//!
//! # Promises
//!
//! - [`Verdict::Linearizable`] and [`Verdict::NotLinearizable`] are exact (the search is complete);
//!   [`Verdict::Unknown`] means a budget ran out, never a guess. The default budgets count explored
//!   configurations, steps and bytes (estimated from sizes, never asked of the allocator) per key, so the
//!   verdict, the witness and every count in the report are deterministic; running out of memory is an
//!   answer (`unknown`), never an abort. A wall-clock budget is opt-in ([`CheckOptions::budget_time_max`]).
//! - Memory follows the live window of the history: the memo keeps, per configuration, only the placed
//!   operations past the prefix that is entirely placed (see the `memo` module), so a history of bounded
//!   concurrency is checked in memory linear in its length.
//! - On a violation the report carries a [`Witness`]: the longest linearizable prefix the search found,
//!   the operation that cannot follow it, and the operations open at that point.
//! - The report's `Display` is deterministic; only [`CheckReport::elapsed_ns`] (printed by
//!   [`CheckReport::render`] on request) depends on the machine. Never feed it into a simulation.

mod memo;
pub mod models;
pub mod online;
mod partition;
mod search;
pub mod synth;
pub mod witness;

pub use crate::contract::model::{
    Completion, KvModel, KvOp, Model, RegisterModel, RegisterOp, Step,
};
pub use models::{BUILTIN_MODELS, ModelVisitor, with_model};
pub use online::{OnlineChecker, OnlineLinearizabilityChecker, check_online};
pub use synth::{SyntheticKv, SyntheticRegister, synthetic_kv_history, synthetic_register_history};
pub use witness::{Witness, WitnessOp, WitnessStep};

use crate::check::history_format::{self, Format, HistoryError, ParsedHistory};
use crate::contract::{Actor, EventKind, History, HistoryEvent};
use crate::contract::{Checker, Failure, Observation, RunEnd};
use crate::wall_clock::{self, Stopwatch};
use rayon::prelude::*;
use search::{Budget, Exhausted, Outcome, PartOp, SearchResult};
use std::collections::BTreeMap;
use std::fmt;
use std::io::Write;
use std::path::Path;
use std::time::Duration;

/// The default explored-states budget, for the whole check: seconds of search, and enough for a 300,000-operation
/// register history from ten clients (about 30 states an operation). The memory budget
/// ([`BUDGET_BYTES_MAX_DEFAULT`]) usually binds first for large states.
pub const BUDGET_STATES_MAX_DEFAULT: u64 = 10_000_000;

/// The default steps budget, for the whole check: a step is one candidate tried in the model, so this bounds the time
/// a search spends trying many open operations of unknown outcome at each configuration (seconds).
pub const BUDGET_STEPS_MAX_DEFAULT: u64 = 1 << 26;

/// The default memory budget: 1 GiB. It is about ten times what the hardest history we know that the
/// search decides needs, fits beside a simulation on a laptop or a CI runner (7 GiB on GitHub's), and
/// since its count is an estimate from sizes, the process's true peak stays within a small factor of it.
pub const BUDGET_BYTES_MAX_DEFAULT: u64 = 1 << 30;

/// The explored-states budget of the first round when a history is split into several keys (see
/// [`check`]); each round after multiplies it by [`ROUND_GROWTH`].
pub const ROUND_STATES_FIRST: u64 = 1 << 12;

/// How much each round's explored-states budget grows over the last one's.
pub const ROUND_GROWTH: u64 = 8;

/// How hard to try.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckOptions {
    /// The most configurations the search may explore, for the whole history: keys searched in rounds
    /// share it (see [`check`]). Past it the verdict is [`Verdict::Unknown`]. Deterministic.
    pub budget_states_max: u64,
    /// The most steps (candidate operations tried in the model) the search may take, for the whole
    /// history; each round's share grows with its share of `budget_states_max`. Past it the
    /// verdict is [`Verdict::Unknown`]. Deterministic.
    pub budget_steps_max: u64,
    /// The most bytes one key's search may hold (its memo of explored configurations, its stack, its
    /// lists), counted from sizes rather than asked of the allocator, so that the verdict stays
    /// deterministic. Past it the verdict is [`Verdict::Unknown`], never an abort. Keys searched in
    /// parallel share it in proportion to their operations, and a key that runs out of its share is
    /// searched again alone with the whole budget, so the whole check holds about this much at most.
    pub budget_bytes_max: u64,
    /// An optional wall-clock limit for the whole check. Past it the verdict is [`Verdict::Unknown`].
    /// Opt-in, because it makes the verdict depend on the machine.
    pub budget_time_max: Option<Duration>,
    /// Check keys in parallel (rayon). The answer is the same either way.
    pub parallel: bool,
}

impl Default for CheckOptions {
    fn default() -> Self {
        CheckOptions {
            budget_states_max: BUDGET_STATES_MAX_DEFAULT,
            budget_steps_max: BUDGET_STEPS_MAX_DEFAULT,
            budget_bytes_max: BUDGET_BYTES_MAX_DEFAULT,
            budget_time_max: None,
            parallel: true,
        }
    }
}

/// The answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Verdict {
    /// Some order of the operations explains every answer.
    Linearizable,
    /// No order does; the report's witness shows where it breaks.
    NotLinearizable,
    /// The budget ran out before an answer.
    Unknown,
}

impl Verdict {
    /// `linearizable`, `not linearizable` or `unknown`.
    pub fn label(self) -> &'static str {
        match self {
            Verdict::Linearizable => "linearizable",
            Verdict::NotLinearizable => "not linearizable",
            Verdict::Unknown => "unknown",
        }
    }

    /// The command line's exit code: 0 linearizable, 1 not, 3 unknown (2 is bad input,
    /// [`HistoryError::EXIT_CODE`]).
    pub fn exit_code(self) -> i32 {
        match self {
            Verdict::Linearizable => 0,
            Verdict::NotLinearizable => 1,
            Verdict::Unknown => 3,
        }
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// What the checker found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckReport {
    /// The answer.
    pub verdict: Verdict,
    /// The model's name.
    pub model: &'static str,
    /// On [`Verdict::NotLinearizable`]: why (for the first failing key, in key order).
    pub witness: Option<Witness>,
    /// On [`Verdict::Unknown`]: which budget ran out, and where.
    pub unknown_reason: Option<String>,
    /// Configurations explored, summed over keys.
    pub explored_states: u64,
    /// The most bytes one key's search held at once (memo, stack, lists), counted from sizes: the figure
    /// [`CheckOptions::budget_bytes_max`] bounds. Deterministic.
    pub memory_bytes_peak: u64,
    /// Operations checked (after dropping those that constrain nothing).
    pub operations: usize,
    /// Of those, operations of unknown outcome.
    pub unknown_operations: usize,
    /// Operations dropped: failed writes, failed or unanswered reads.
    pub dropped_operations: usize,
    /// How many parts (keys) the history was split into.
    pub keys: usize,
    /// Keys found not linearizable. The check stops as soon as one is (see [`check`]), so this
    /// counts the keys found by then: at least one when the verdict is [`Verdict::NotLinearizable`].
    pub keys_not_linearizable: usize,
    /// Wall-clock time the check took. Machine-dependent: not part of `Display`.
    pub elapsed_ns: u64,
}

impl CheckReport {
    /// The command line's exit code (see [`Verdict::exit_code`]).
    pub fn exit_code(&self) -> i32 {
        self.verdict.exit_code()
    }

    /// The verdict in the form end-of-run checkers give.
    pub fn checker_verdict(&self) -> crate::contract::Verdict {
        match self.verdict {
            Verdict::Linearizable => crate::contract::Verdict::Pass,
            Verdict::NotLinearizable => {
                let detail = match &self.witness {
                    Some(w) => {
                        let key = w
                            .key
                            .as_ref()
                            .map(|k| format!("key {k:?}: "))
                            .unwrap_or_default();
                        format!(
                            "not linearizable: {key}{} cannot follow a linearizable prefix of {} operation(s) ending in state {}",
                            w.blocked,
                            w.prefix_len(),
                            w.state
                        )
                    }
                    None => "not linearizable".to_string(),
                };
                crate::contract::Verdict::Fail(detail)
            }
            Verdict::Unknown => crate::contract::Verdict::Unknown(format!(
                "linearizability unknown: {}",
                self.unknown_reason.as_deref().unwrap_or("budget exhausted")
            )),
        }
    }

    /// The report as text; with `timing`, a last line gives the elapsed time.
    pub fn render(&self, timing: bool) -> String {
        let mut text = self.to_string();
        if timing {
            text.push_str(&format!(
                "checked in {:.3} ms; the search held {:.1} MB at most\n",
                self.elapsed_ns as f64 / 1e6,
                self.memory_bytes_peak as f64 / 1e6
            ));
        }
        text
    }
}

impl fmt::Display for CheckReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let verdict = match self.verdict {
            Verdict::NotLinearizable => "NOT linearizable",
            other => other.label(),
        };
        writeln!(
            f,
            "{verdict} ({} model): {} operation(s), {} of unknown outcome, {} dropped; {} key(s); {} state(s) explored",
            self.model,
            self.operations,
            self.unknown_operations,
            self.dropped_operations,
            self.keys,
            self.explored_states
        )?;
        if let Some(reason) = &self.unknown_reason {
            writeln!(f, "{reason}")?;
        }
        if self.keys_not_linearizable > 1 {
            writeln!(
                f,
                "{} keys are not linearizable; the first one:",
                self.keys_not_linearizable
            )?;
        }
        if let Some(witness) = &self.witness {
            write!(f, "{witness}")?;
        }
        Ok(())
    }
}

/// One operation, paired and translated by the model.
pub(crate) struct Prepared<O> {
    /// The model's form.
    pub(crate) op: O,
    /// Index of the invoke event.
    pub(crate) invoke: usize,
    /// Index of the completion event (an `Info` one included), if any.
    pub(crate) completion: Option<usize>,
    /// Whether the outcome is unknown.
    pub(crate) unknown: bool,
}

fn invalid(event_index: usize, field: Option<&str>, message: String) -> HistoryError {
    HistoryError::Invalid {
        at: None,
        event_index,
        field: field.map(str::to_string),
        message,
    }
}

/// Event `i` invokes while its process's operation invoked at event `earlier` is still open.
pub(crate) fn invoked_again(i: usize, event: &HistoryEvent, earlier: usize) -> HistoryError {
    invalid(
        i,
        Some("process"),
        format!(
            "process {} invokes again while its operation invoked at event {} is still open",
            event.process,
            earlier + 1
        ),
    )
}

/// Event `i` completes an operation its process never invoked.
pub(crate) fn never_invoked(i: usize, event: &HistoryEvent) -> HistoryError {
    invalid(
        i,
        Some("process"),
        format!(
            "process {} completes an operation it never invoked",
            event.process
        ),
    )
}

/// Why completion `i` cannot end the operation `inv` invoked at event `invoke`, if it cannot: a
/// different function, or a different key.
pub(crate) fn mismatched(
    i: usize,
    event: &HistoryEvent,
    inv: &HistoryEvent,
    invoke: usize,
) -> Option<HistoryError> {
    if inv.f != event.f {
        return Some(invalid(
            i,
            Some("f"),
            format!(
                "completes {:?} but process {} invoked {:?} at event {}",
                event.f,
                event.process,
                inv.f,
                invoke + 1
            ),
        ));
    }
    if event.key.is_some() && event.key != inv.key {
        return Some(invalid(
            i,
            Some("key"),
            format!(
                "key {:?} differs from the invoke's {:?}",
                event.key, inv.key
            ),
        ));
    }
    None
}

/// The operations a history holds, in invoke order, and how many were dropped.
type PreparedOps<O> = (Vec<Prepared<O>>, usize);

/// Pairs invokes with completions and translates each operation.
fn prepare<M: Model>(model: &M, history: &History) -> Result<PreparedOps<M::Op>, HistoryError> {
    let events = &history.events;
    // Each process's open invoke. A BTreeMap: the leftovers are visited below, in a fixed order.
    let mut open: BTreeMap<u64, usize> = BTreeMap::new();
    let mut pairs: Vec<(usize, Option<usize>)> = Vec::with_capacity(events.len() / 2 + 1);
    for (i, event) in events.iter().enumerate() {
        if event.kind == EventKind::Invoke {
            if let Some(&earlier) = open.get(&event.process) {
                return Err(invoked_again(i, event, earlier));
            }
            open.insert(event.process, i);
            continue;
        }
        let Some(invoke) = open.remove(&event.process) else {
            return Err(never_invoked(i, event));
        };
        if let Some(err) = mismatched(i, event, &events[invoke], invoke) {
            return Err(err);
        }
        pairs.push((invoke, Some(i)));
    }
    pairs.extend(open.values().map(|&invoke| (invoke, None)));
    pairs.sort_unstable();

    let mut ops = Vec::with_capacity(pairs.len());
    let mut dropped = 0;
    for (invoke, completion) in pairs {
        let done = completion.map(|c| &events[c]);
        let how = match done {
            Some(e) if e.kind == EventKind::Ok => Completion::Ok(e),
            Some(e) if e.kind == EventKind::Fail => Completion::Fail(e),
            other => Completion::Unknown(other),
        };
        let unknown = matches!(how, Completion::Unknown(_));
        match model.op(&events[invoke], how) {
            Ok(Some(op)) => ops.push(Prepared {
                op,
                invoke,
                completion,
                unknown,
            }),
            Ok(None) => dropped += 1,
            // The invoke defines the operation (its function and arguments): point there.
            Err(message) => return Err(invalid(invoke, None, message)),
        }
    }
    Ok((ops, dropped))
}

/// Checks `history` against a sequential [`Model`]: one of the built-in ones ([`RegisterModel`],
/// [`KvModel`]) or a protocol's own.
///
/// `Err` only for a history that does not make sense (a completion with no invoke, a compare-and-set
/// without `[from to]`, a function the model does not know).
///
/// A history split into several keys is searched in rounds: every key still undecided gets a states
/// budget of [`ROUND_STATES_FIRST`], then [`ROUND_GROWTH`] times more each round, up to
/// [`CheckOptions::budget_states_max`]. The check stops after the first round in which some key is found
/// not linearizable, so one hard key does not hold up the answer that an easy one already gives (the
/// witness is the first such key in key order). Since a search's path does not depend on its budget
/// until the budget runs out, every number in the report is the same on every machine and with or
/// without parallelism; rounds cost a linearizable history at most 1/7 more work.
pub fn check<M: Model>(
    history: &History,
    model: &M,
    options: &CheckOptions,
) -> Result<CheckReport, HistoryError> {
    let started = Stopwatch::start();
    let deadline = options.budget_time_max.map(|limit| started.deadline(limit));
    let (ops, dropped) = prepare(model, history)?;
    let parts = partition::split(history, &ops, model.independent_keys());
    let results = search_parts(model, &parts, ops.len(), options, deadline);

    let mut verdict = Verdict::Linearizable;
    let mut witness = None;
    let mut unknown_reason = None;
    let mut keys_not_linearizable = 0;
    for (part, result) in parts.iter().zip(&results) {
        match &result.outcome {
            Outcome::Linearizable => {}
            Outcome::NotLinearizable(dead_end) => {
                keys_not_linearizable += 1;
                if verdict != Verdict::NotLinearizable {
                    verdict = Verdict::NotLinearizable;
                    witness = Some(Witness::build(model, history, &part.ops, dead_end));
                }
            }
            Outcome::Unknown(why) => {
                if verdict == Verdict::Linearizable {
                    verdict = Verdict::Unknown;
                }
                if unknown_reason.is_none() {
                    unknown_reason = Some(exhausted(options, *why, &part.key, part.ops.len()));
                }
            }
        }
    }
    if verdict == Verdict::NotLinearizable {
        // The answer is known; that some other key ran out of budget does not matter.
        unknown_reason = None;
    }
    Ok(CheckReport {
        verdict,
        model: model.name(),
        witness,
        unknown_reason,
        explored_states: results.iter().map(|r| r.explored_states).sum(),
        memory_bytes_peak: results.iter().map(|r| r.peak_bytes).max().unwrap_or(0),
        operations: ops.len(),
        unknown_operations: ops.iter().filter(|o| o.unknown).count(),
        dropped_operations: dropped,
        keys: parts.len(),
        keys_not_linearizable,
        elapsed_ns: started.elapsed_ns(),
    })
}

/// One part's operations as the search takes them.
fn part_ops<'a, O>(part: &partition::Part<'a, O>) -> Vec<PartOp<'a, O>> {
    part.ops
        .iter()
        .map(|p| PartOp {
            op: &p.op,
            call: p.invoke,
            ret: if p.unknown { None } else { p.completion },
        })
        .collect()
}

/// Searches every part, in rounds (see [`check`]); the results come in the parts' order.
fn search_parts<M: Model>(
    model: &M,
    parts: &[partition::Part<'_, M::Op>],
    operations: usize,
    options: &CheckOptions,
    deadline: Option<wall_clock::Deadline>,
) -> Vec<SearchResult> {
    let sizes: Vec<usize> = parts.iter().map(|p| p.ops.len()).collect();
    search_in_rounds(&sizes, operations, options, deadline, |k, budget| {
        search::search(model, &part_ops(&parts[k]), budget)
    })
}

/// Runs `search(k, budget)` for every part `k` (of `sizes[k]` operations, `operations` in all) in rounds
/// of growing states budgets (see [`check`]); the results come in the parts' order.
pub(crate) fn search_in_rounds<F>(
    sizes: &[usize],
    operations: usize,
    options: &CheckOptions,
    deadline: Option<wall_clock::Deadline>,
    search: F,
) -> Vec<SearchResult>
where
    F: Fn(usize, &Budget) -> SearchResult + Sync,
{
    let parallel = options.parallel && sizes.len() > 1;
    let bytes_max = options.budget_bytes_max;
    // A part's share of the memory budget while parts run side by side: in proportion to its operations,
    // so that the shares add up to the budget.
    let share = |k: usize| -> u64 {
        if !parallel {
            return bytes_max;
        }
        let share = u128::from(bytes_max) * sizes[k] as u128 / operations.max(1) as u128;
        share as u64
    };
    // A round's steps budget grows with its states budget.
    let steps_for = |states_max: u64| -> u64 {
        let steps = u128::from(options.budget_steps_max) * u128::from(states_max)
            / u128::from(options.budget_states_max.max(1));
        u64::try_from(steps).unwrap_or(u64::MAX)
    };
    let run = |k: usize, states_max: u64, bytes_max: u64| {
        let budget = Budget {
            states_max,
            steps_max: steps_for(states_max),
            bytes_max,
            deadline,
        };
        search(k, &budget)
    };
    let full = options.budget_states_max;
    let undecided = |r: &Option<SearchResult>| match r {
        None => true,
        Some(r) => matches!(
            r.outcome,
            Outcome::Unknown(Exhausted::States | Exhausted::Steps)
        ),
    };
    let mut round_cap = if sizes.len() > 1 {
        ROUND_STATES_FIRST.min(full)
    } else {
        full
    };
    let mut last_cap = 0;
    let mut results: Vec<Option<SearchResult>> = vec![None; sizes.len()];
    loop {
        let pending: Vec<usize> = (0..sizes.len())
            .filter(|&k| undecided(&results[k]))
            .collect();
        // The states budget is for the whole check: what the decided parts used is spent, and the rest
        // is shared evenly by the parts still searching.
        let spent: u64 = results
            .iter()
            .filter(|r| !undecided(r))
            .flatten()
            .map(|r| r.explored_states)
            .sum();
        let even = full.saturating_sub(spent) / pending.len().max(1) as u64;
        let states_max = round_cap.min(even);
        if pending.is_empty() || states_max <= last_cap {
            break;
        }
        let attempt = |&k: &usize| (k, run(k, states_max, share(k)));
        let round: Vec<(usize, SearchResult)> = if parallel {
            pending.par_iter().map(attempt).collect()
        } else {
            pending.iter().map(attempt).collect()
        };
        for (k, mut result) in round {
            if result.outcome == Outcome::Unknown(Exhausted::Bytes) && share(k) < bytes_max {
                // Alone now, with the whole budget: the answer is the one a run alone would give.
                result = run(k, states_max, bytes_max);
            }
            results[k] = Some(result);
        }
        let violation = results
            .iter()
            .flatten()
            .any(|r| matches!(r.outcome, Outcome::NotLinearizable(_)));
        if violation || states_max >= full {
            break;
        }
        last_cap = states_max;
        round_cap = round_cap.saturating_mul(ROUND_GROWTH).min(full);
    }
    results
        .into_iter()
        .map(|r| r.expect("every part searched in the first round"))
        .collect()
}

/// Checks a parsed history, placing history errors at their line in the file.
pub fn check_parsed<M: Model>(
    parsed: &ParsedHistory,
    model: &M,
    options: &CheckOptions,
) -> Result<CheckReport, HistoryError> {
    check(&parsed.history, model, options).map_err(|err| match err {
        HistoryError::Invalid {
            at: None,
            event_index,
            field,
            message,
        } => HistoryError::Invalid {
            at: parsed.location(event_index),
            event_index,
            field,
            message,
        },
        other => other,
    })
}

/// Reads, parses (detecting the format when `format` is `None`) and checks a history file. The elapsed
/// time in the report covers the check, not the reading.
pub fn check_file<M: Model>(
    path: &Path,
    model: &M,
    format: Option<Format>,
    options: &CheckOptions,
) -> Result<CheckReport, HistoryError> {
    let parsed = history_format::read_file(path, format)?;
    check_parsed(&parsed, model, options)
}

/// The command line in one call: checks the file against the built-in model called `model` (see
/// [`BUILTIN_MODELS`]), prints the report (verdict, witness, elapsed time) to `out` or the error to
/// `err`, and returns the exit code (0 linearizable, 1 not, 3 unknown, 2 bad input or unknown model).
pub fn check_file_and_print(
    path: &Path,
    model: &str,
    format: Option<Format>,
    options: &CheckOptions,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> i32 {
    struct CheckFile<'a>(&'a Path, Option<Format>, &'a CheckOptions);
    impl ModelVisitor for CheckFile<'_> {
        type Output = Result<(CheckReport, u64), HistoryError>;
        fn visit<M: Model>(self, model: &M) -> Self::Output {
            let parsed = history_format::read_file(self.0, self.1)?;
            Ok((check_parsed(&parsed, model, self.2)?, parsed.skipped_lines))
        }
    }
    let Some(checked) = with_model(model, CheckFile(path, format, options)) else {
        let known: Vec<&str> = BUILTIN_MODELS.iter().map(|(name, _)| *name).collect();
        let _ = writeln!(
            err,
            "error: unknown model `{model}`: expected one of {}",
            known.join(", ")
        );
        return HistoryError::EXIT_CODE;
    };
    match checked {
        Ok((report, skipped)) => {
            // A closed pipe must not turn a verdict into a panic; the exit code still says it.
            if skipped > 0 {
                let _ = writeln!(out, "skipped {skipped} lines that are not operations");
            }
            let _ = write!(out, "{}", report.render(true));
            report.exit_code()
        }
        Err(error) => {
            let _ = writeln!(err, "error: {}", crate::text::escaped(&error.to_string()));
            HistoryError::EXIT_CODE
        }
    }
}

/// The end-of-run checker: judges the clients' history against the protocol's model when the run ends.
#[derive(Clone, Debug)]
pub struct LinearizabilityChecker<M> {
    /// The model.
    pub model: M,
    /// The budget (keep the default, deterministic one in simulations).
    pub options: CheckOptions,
}

impl<M: Model> LinearizabilityChecker<M> {
    /// A checker with the default options.
    pub fn new(model: M) -> Self {
        LinearizabilityChecker {
            model,
            options: CheckOptions::default(),
        }
    }
}

impl<A: Actor, M: Model> Checker<A> for LinearizabilityChecker<M> {
    fn name(&self) -> &'static str {
        "linearizability"
    }

    fn observe(&mut self, _obs: &Observation<'_, A>) -> Result<(), Failure> {
        Ok(())
    }

    fn finish(&mut self, end: &RunEnd<'_, A>) -> Vec<(&'static str, crate::contract::Verdict)> {
        let verdict = match check(end.history, &self.model, &self.options) {
            Ok(report) => report.checker_verdict(),
            Err(err) => {
                crate::contract::Verdict::Fail(format!("the clients' history is malformed: {err}"))
            }
        };
        vec![("linearizability", verdict)]
    }
}

/// Why a key's search stopped, in words (the same from the offline and the online check).
pub(crate) fn exhausted(
    options: &CheckOptions,
    why: Exhausted,
    key: &Option<String>,
    ops: usize,
) -> String {
    let place = match key {
        Some(key) => format!("key {key:?} ({ops} operations)"),
        None => format!("{ops} operations"),
    };
    match why {
        Exhausted::States => format!(
            "the budget of {} explored states ran out on {place}",
            options.budget_states_max
        ),
        Exhausted::Steps => format!(
            "the budget of {} steps ran out on {place}",
            options.budget_steps_max
        ),
        Exhausted::Bytes => format!(
            "the memory budget of {} bytes ran out on {place}",
            options.budget_bytes_max
        ),
        Exhausted::Deadline => format!(
            "the time budget of {:?} ran out on {place}",
            options.budget_time_max.unwrap_or_default()
        ),
    }
}
