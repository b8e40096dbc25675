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
//!   [`Verdict::Unknown`] means the budget ran out, never a guess. The default budget is a count of
//!   explored configurations per key, so the verdict, the witness and every count in the report are
//!   deterministic; a wall-clock budget is opt-in ([`CheckOptions::budget_time_max`]).
//! - On a violation the report carries a [`Witness`]: the longest linearizable prefix the search found,
//!   the operation that cannot follow it, and the operations open at that point.
//! - The report's `Display` is deterministic; only [`CheckReport::elapsed_ns`] (printed by
//!   [`CheckReport::render`] on request) depends on the machine. Never feed it into a simulation.

mod memo;
pub mod models;
mod partition;
mod search;
pub mod synth;
mod wall_clock;
pub mod witness;

pub use crate::contract::model::{
    Completion, KvModel, KvOp, Model, RegisterModel, RegisterOp, Step,
};
pub use models::{BUILTIN_MODELS, ModelVisitor, with_model};
pub use synth::{SyntheticKv, synthetic_kv_history};
pub use witness::{Witness, WitnessOp, WitnessStep};

use crate::check::history_format::{self, Format, HistoryError, ParsedHistory};
use crate::contract::{Actor, EventKind, History};
use crate::contract::{Checker, Failure, Observation, RunEnd};
use rayon::prelude::*;
use search::{Budget, Exhausted, Outcome, PartOp, SearchResult};
use std::collections::BTreeMap;
use std::fmt;
use std::io::Write;
use std::path::Path;
use std::time::Duration;
use wall_clock::Stopwatch;

/// The default explored-states budget, per key: about a thousand times what the hardest reference
/// history needs (Jepsen's etcd logs need a few hundred, a synthetic 10,000-operation key-value history
/// about 10,000 in all), a few seconds of search at most, and a memo of a few hundred megabytes at most for
/// small states.
pub const BUDGET_STATES_MAX_DEFAULT: u64 = 2_000_000;

/// How hard to try.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckOptions {
    /// The most configurations the search may explore for one key (or for the whole history when it is
    /// not split). Past it the verdict is [`Verdict::Unknown`]. Deterministic.
    pub budget_states_max: u64,
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
    /// Operations checked (after dropping those that constrain nothing).
    pub operations: usize,
    /// Of those, operations of unknown outcome.
    pub unknown_operations: usize,
    /// Operations dropped: failed writes, failed or unanswered reads.
    pub dropped_operations: usize,
    /// How many parts (keys) the history was split into.
    pub keys: usize,
    /// Keys found not linearizable.
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
                            w.prefix.len(),
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
                "checked in {:.3} ms\n",
                self.elapsed_ns as f64 / 1e6
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
                return Err(invalid(
                    i,
                    Some("process"),
                    format!(
                        "process {} invokes again while its operation invoked at event {} is still open",
                        event.process,
                        earlier + 1
                    ),
                ));
            }
            open.insert(event.process, i);
            continue;
        }
        let Some(invoke) = open.remove(&event.process) else {
            return Err(invalid(
                i,
                Some("process"),
                format!(
                    "process {} completes an operation it never invoked",
                    event.process
                ),
            ));
        };
        let inv = &events[invoke];
        if inv.f != event.f {
            return Err(invalid(
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
            return Err(invalid(
                i,
                Some("key"),
                format!(
                    "key {:?} differs from the invoke's {:?}",
                    event.key, inv.key
                ),
            ));
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
pub fn check<M: Model>(
    history: &History,
    model: &M,
    options: &CheckOptions,
) -> Result<CheckReport, HistoryError> {
    let started = Stopwatch::start();
    let deadline = options.budget_time_max.map(|limit| started.deadline(limit));
    let budget = Budget {
        states_max: options.budget_states_max,
        deadline,
    };
    let (ops, dropped) = prepare(model, history)?;
    let parts = partition::split(history, &ops, model.independent_keys());

    let run = |part: &partition::Part<'_, M::Op>| -> SearchResult {
        let part_ops: Vec<PartOp<'_, M::Op>> = part
            .ops
            .iter()
            .map(|p| PartOp {
                op: &p.op,
                call: p.invoke,
                ret: if p.unknown { None } else { p.completion },
            })
            .collect();
        search::search(model, &part_ops, &budget)
    };
    let results: Vec<SearchResult> = if options.parallel && parts.len() > 1 {
        parts.par_iter().map(run).collect()
    } else {
        parts.iter().map(run).collect()
    };

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
                    let place = match &part.key {
                        Some(key) => format!("key {key:?} ({} operations)", part.ops.len()),
                        None => format!("{} operations", part.ops.len()),
                    };
                    unknown_reason = Some(match why {
                        Exhausted::States => {
                            format!(
                                "the budget of {} explored states ran out on {place}",
                                options.budget_states_max
                            )
                        }
                        Exhausted::Deadline => format!(
                            "the time budget of {:?} ran out on {place}",
                            options.budget_time_max.unwrap_or_default()
                        ),
                    });
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
        operations: ops.len(),
        unknown_operations: ops.iter().filter(|o| o.unknown).count(),
        dropped_operations: dropped,
        keys: parts.len(),
        keys_not_linearizable,
        elapsed_ns: started.elapsed_ns(),
    })
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
