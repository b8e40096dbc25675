//! What a person needs to see a linearizability violation: the longest order the search could build, the
//! operation that cannot follow it, and the operations that were open at that point.
//!
//! The search explores orders depth first; every order it gives up on ends at the return of an operation
//! it could not place. The witness is the deepest such dead end (the first one found at that depth, so it
//! is deterministic). For a stale read it reads: these writes happened, in this order, leaving the
//! register at 3; then this read returned 0.

use super::Prepared;
use super::search::DeadEnd;
use crate::contract::{EventKind, Func, History, HistoryEvent, Value};
use crate::contract::{Model, Step};
use std::fmt;

/// How many operations of the prefix the report prints (the last ones; the struct keeps them all).
pub(crate) const PREFIX_SHOWN_MAX: usize = 10;
/// How many open operations the report prints.
const CANDIDATES_SHOWN_MAX: usize = 10;

/// One operation as the history recorded it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WitnessOp {
    /// The client process.
    pub process: u64,
    /// The function.
    pub f: Func,
    /// The key, if any.
    pub key: Option<String>,
    /// The invoke's value (the argument).
    pub argument: Value,
    /// How it ended: `Ok`, `Fail`, or `Info` (also for an operation that never ended).
    pub outcome: EventKind,
    /// The completion's value, if it completed.
    pub result: Option<Value>,
    /// Index of the invoke in the history's events.
    pub invoke_index: usize,
    /// Time of the invoke (for parsed files without times: its line number).
    pub invoke_time_ns: u64,
    /// Index of the completion, if any.
    pub return_index: Option<usize>,
    /// Time of the completion, if any.
    pub return_time_ns: Option<u64>,
}

impl WitnessOp {
    pub(crate) fn from_history(
        history: &History,
        invoke: usize,
        completion: Option<usize>,
    ) -> Self {
        let inv = &history.events[invoke];
        let done = completion.map(|c| &history.events[c]);
        Self::from_events(invoke, inv, completion, done)
    }

    /// The operation invoked by `inv` (event `invoke` of the history) and ended by `done` (event
    /// `completion`), if it ended.
    pub(crate) fn from_events(
        invoke: usize,
        inv: &HistoryEvent,
        completion: Option<usize>,
        done: Option<&HistoryEvent>,
    ) -> Self {
        WitnessOp {
            process: inv.process,
            f: inv.f.clone(),
            key: inv.key.clone(),
            argument: inv.value.clone(),
            outcome: done.map_or(EventKind::Info, |d| d.kind),
            result: done.map(|d| d.value.clone()),
            invoke_index: invoke,
            invoke_time_ns: inv.time_ns,
            return_index: completion,
            return_time_ns: done.map(|d| d.time_ns),
        }
    }
}

impl fmt::Display for WitnessOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "process {}", self.process)?;
        if let Some(key) = &self.key {
            write!(f, ", key {key:?}")?;
        }
        write!(f, ": {}", self.f)?;
        let reads = matches!(self.f.as_str(), "read" | "get");
        if !reads || self.argument != Value::Nil {
            write!(f, " {}", self.argument)?;
        }
        match (self.outcome, &self.result) {
            (EventKind::Ok, Some(result)) if reads => write!(f, " -> {}", result)?,
            (EventKind::Ok, _) => write!(f, " -> ok")?,
            (EventKind::Fail, _) => write!(f, " -> fail")?,
            (_, Some(_)) => write!(f, " -> unknown (info)")?,
            (_, None) => write!(f, " -> never answered")?,
        }
        match (self.outcome, self.return_time_ns) {
            (EventKind::Ok | EventKind::Fail, Some(ret)) => {
                write!(f, "   [t={} .. t={ret}]", self.invoke_time_ns)
            }
            // An unknown outcome: the operation stays open for ever, whenever the client gave up.
            (_, Some(ret)) => write!(
                f,
                "   [t={} .. open; gave up at t={ret}]",
                self.invoke_time_ns
            ),
            (_, None) => write!(f, "   [t={} .. open]", self.invoke_time_ns),
        }
    }
}

/// One step of the prefix: an operation and the state it left.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WitnessStep {
    /// The operation.
    pub op: WitnessOp,
    /// The model's state after it, as the model describes it.
    pub state_after: String,
}

/// A readable explanation of why a history is not linearizable.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Witness {
    /// The key whose operations are not linearizable, when the history was split by key.
    pub key: Option<String>,
    /// The operation that cannot follow the prefix: it returned before every operation still unplaced
    /// began, yet no placement of it works.
    pub blocked: WitnessOp,
    /// Whether the model accepts `blocked` right after the prefix (if so, every continuation from there
    /// failed later; if not, its answer is impossible in `state`).
    pub blocked_fits_state: bool,
    /// The longest linearizable prefix the search found, in order: all of it from the offline check
    /// ([`super::check`]); from the online one ([`super::OnlineChecker`]), its last steps only, after
    /// `prefix_omitted` operations it no longer holds.
    pub prefix: Vec<WitnessStep>,
    /// How many operations of the prefix come before `prefix` and are not kept (0 from the offline
    /// check). The prefix is `prefix_omitted + prefix.len()` operations long.
    pub prefix_omitted: usize,
    /// The model's state after the prefix.
    pub state: String,
    /// Other operations that had begun by then and were still unplaced: the search tried each of them next.
    pub candidates: Vec<WitnessOp>,
}

impl Witness {
    /// Builds the witness of one part from the search's dead end (indices into `part`).
    pub(crate) fn build<M: Model>(
        model: &M,
        history: &History,
        part: &[&Prepared<M::Op>],
        dead_end: &DeadEnd,
    ) -> Self {
        let op_of = |i: u32| {
            let p = part[i as usize];
            WitnessOp::from_history(history, p.invoke, p.completion)
        };
        let mut state = model.init();
        let mut prefix = Vec::with_capacity(dead_end.prefix.len());
        for &i in &dead_end.prefix {
            // The search placed these in this order, so each step is legal; replaying recovers the states.
            if let Step::Changed(next) = model.step(&state, &part[i as usize].op) {
                state = next;
            }
            prefix.push(WitnessStep {
                op: op_of(i),
                state_after: model.describe_state(&state),
            });
        }
        let blocked_part = part.get(dead_end.blocked as usize);
        let blocked_fits_state =
            blocked_part.is_some_and(|p| model.step(&state, &p.op) != Step::Illegal);
        Witness {
            key: blocked_part.and_then(|p| history.events[p.invoke].key.clone()),
            blocked: op_of(dead_end.blocked),
            blocked_fits_state,
            prefix,
            prefix_omitted: 0,
            state: model.describe_state(&state),
            candidates: dead_end.candidates.iter().map(|&i| op_of(i)).collect(),
        }
    }
}

impl Witness {
    /// How many operations the longest linearizable prefix holds (kept or not).
    pub fn prefix_len(&self) -> usize {
        self.prefix_omitted + self.prefix.len()
    }
}

impl fmt::Display for Witness {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(key) = &self.key {
            writeln!(f, "key {key:?}: no linearization explains this operation:")?;
        } else {
            writeln!(f, "no linearization explains this operation:")?;
        }
        writeln!(f, "    {}", self.blocked)?;
        if self.blocked_fits_state {
            writeln!(
                f,
                "  it could take effect in state {} after the prefix below, but no order of the rest works from there",
                self.state
            )?;
        } else {
            writeln!(
                f,
                "  its answer is impossible in state {}, reached by the prefix below",
                self.state
            )?;
        }
        let shown = self.prefix.len().min(PREFIX_SHOWN_MAX);
        write!(
            f,
            "longest linearizable prefix: {} operation(s)",
            self.prefix_len()
        )?;
        if shown < self.prefix_len() {
            write!(f, ", the last {shown}")?;
        }
        writeln!(f, " (=> state after each):")?;
        if self.prefix_len() == 0 {
            writeln!(f, "    (none: from the initial state {})", self.state)?;
        }
        for step in &self.prefix[self.prefix.len() - shown..] {
            writeln!(f, "    {}   => {}", step.op, step.state_after)?;
        }
        if !self.candidates.is_empty() {
            writeln!(
                f,
                "operations open at that point (each was tried next, none leads to a linearization):"
            )?;
            for op in self.candidates.iter().take(CANDIDATES_SHOWN_MAX) {
                writeln!(f, "    {op}")?;
            }
            if self.candidates.len() > CANDIDATES_SHOWN_MAX {
                writeln!(
                    f,
                    "    ... and {} more",
                    self.candidates.len() - CANDIDATES_SHOWN_MAX
                )?;
            }
        }
        Ok(())
    }
}
