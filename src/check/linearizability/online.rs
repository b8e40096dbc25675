//! The online check: history events fed one at a time, in order, with memory that follows the operations
//! still live rather than the length of the history.
//!
//! # Cuts
//!
//! Per key (P-compositionality, as in the offline check), the checker keeps the *window* of operations
//! since the last *cut*: a point where no operation on that key is open. Every operation before a cut
//! returned before every operation after it was invoked, so every linearization places the whole window
//! first, and the question splits exactly at the cut: the history up to and past the cut is
//! linearizable if and only if some linearization of the window, from some state the earlier windows
//! may have left, ends in a state from which the rest is linearizable. So at each cut the window is
//! searched from the *set* of states the earlier windows may end in (all of them: the search notes
//! every end state instead of stopping at the first linearization, see `search::search_ends`), the set
//! of states its linearizations end in is carried forward, and the window is dropped. An empty set means
//! the history is not linearizable, whatever follows.
//!
//! # Operations of unknown outcome
//!
//! An operation that ends in `info`, and one still open, may take effect at any later point or never:
//! it stays open for ever, so once a key has one that the model keeps (a timed-out write; a timed-out
//! read is dropped and constrains nothing, as offline), that key is never cut again and its window
//! grows to the end of the history, where it is searched as the offline check would search it (from
//! the carried states). Memory for such a key is what the offline check needs; every other key is
//! unaffected. A cheaper rule would need the end states of a window with an operation that might still
//! take effect later, which is not a set of states but a set of (state, operations still to place)
//! pairs; we keep the simple rule, which is exact.
//!
//! # Same answers as the offline check
//!
//! Within budgets, the verdict is the offline check's on every history, and so are the parts of the
//! witness a run reports (the blocked operation, the prefix's length, the state it ends in): the carried
//! states are kept in the order a depth-first search over the whole history first reaches them, each
//! window is searched from them in that order with one memo, and the offline search's deepest dead end
//! lies in the first window that fails (every earlier window is entirely placed before it). The
//! witness's `prefix` holds the steps of that window and the last 10 before it (the
//! rest of the prefix is gone with its windows: [`Witness::prefix_omitted`] counts it). A key that is
//! not linearizable explores the same configurations in both checks (all of them, up to its failing
//! window), so the round of growing budgets in which the offline check would find it is known, and with
//! several such keys the witness is the first key in key order of the earliest round, as offline. What
//! may differ is the work on linearizable keys: a window is searched for all its end states, where the
//! offline search may stop at the first linearization, so `explored_states` differ, and a budget can
//! run out in one check and not the other (the verdict is then `unknown` in that one).
//!
//! # Budgets
//!
//! The states and steps budgets ([`CheckOptions::budget_states_max`], `budget_steps_max`) are for the
//! whole history, spent window by window; each search may hold `budget_bytes_max`; a key may carry
//! [`CARRIED_STATES_MAX`] states at most. Running out makes that key `unknown`, never an abort.

use super::search::{self, Budget, DeadEnd, End, Outcome, PartOp, SearchResult};
use super::witness::{PREFIX_SHOWN_MAX, Witness, WitnessOp, WitnessStep};
use super::{
    CheckOptions, CheckReport, ROUND_GROWTH, ROUND_STATES_FIRST, Verdict, exhausted, invalid,
    invoked_again, mismatched, never_invoked, search_in_rounds,
};
use crate::check::history_format::HistoryError;
use crate::contract::{Actor, Checker, Failure, Observation, RunEnd};
use crate::contract::{Completion, EventKind, HistoryEvent, Model, Step};
use crate::wall_clock::{Deadline, Stopwatch};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

/// The most states a key may carry from one window to the next. Past it the key is `unknown`.
pub const CARRIED_STATES_MAX: usize = 1024;

/// One operation of a window, with the events it came from (for the witness).
struct WindowOp<O> {
    op: O,
    invoke: usize,
    completion: Option<usize>,
    unknown: bool,
    inv: HistoryEvent,
    done: Option<HistoryEvent>,
}

impl<O> WindowOp<O> {
    fn witness(&self) -> WitnessOp {
        WitnessOp::from_events(self.invoke, &self.inv, self.completion, self.done.as_ref())
    }
}

/// The last operations of the linearization that first reached a carried state, and the state before
/// them: what the witness shows of the windows already dropped.
struct Tail<S, O> {
    base: S,
    ops: Vec<Arc<WindowOp<O>>>,
}

impl<S: Clone, O> Clone for Tail<S, O> {
    fn clone(&self) -> Self {
        Tail {
            base: self.base.clone(),
            ops: self.ops.clone(),
        }
    }
}

/// Where a key stands.
enum Status {
    /// Linearizable so far.
    Live,
    /// Not linearizable.
    Failed(Box<Witness>),
    /// A budget ran out.
    Unknown(String),
}

/// One key.
struct KeyState<S, O> {
    /// The operations since the last cut that completed (or, at the end, never did), and were kept.
    window: Vec<Arc<WindowOp<O>>>,
    /// Operations invoked and not yet completed.
    open: usize,
    /// An operation of unknown outcome was kept: no cut ever again.
    uncut: bool,
    /// Whether any operation was kept (the key is one of the report's parts).
    has_ops: bool,
    /// The states the closed windows may have left, in the order a search would reach them.
    states: Vec<S>,
    /// For each state, the end of the linearization that first reached it.
    tails: Vec<Tail<S, O>>,
    /// Operations in the closed windows.
    closed_ops: usize,
    /// Configurations explored for this key.
    explored_states: u64,
    status: Status,
}

/// An invoke whose completion has not come yet.
struct OpenInvoke {
    index: usize,
    event: HistoryEvent,
}

/// A linearizability check fed one history event at a time (see the module's docs).
///
/// [`OnlineChecker::push`] each event in history order, then [`OnlineChecker::finish`]: the report is
/// the one [`super::check`] gives on the whole history, within budgets.
pub struct OnlineChecker<M: Model> {
    model: M,
    options: CheckOptions,
    deadline: Option<Deadline>,
    /// Events seen.
    events: usize,
    open: BTreeMap<u64, OpenInvoke>,
    keys: BTreeMap<Option<String>, KeyState<M::State, M::Op>>,
    /// The first pairing error: the answer, whatever else happens.
    pairing_error: Option<HistoryError>,
    /// The model's error for the earliest invoke: the answer unless a pairing error comes.
    model_error: Option<(usize, String)>,
    operations: usize,
    unknown_operations: usize,
    dropped: usize,
    explored_states: u64,
    steps: u64,
    peak_bytes: u64,
    elapsed_ns: u64,
}

impl<M: Model> OnlineChecker<M> {
    /// A checker of histories against `model`, within `options`' budgets.
    pub fn new(model: M, options: CheckOptions) -> Self {
        let deadline = options
            .budget_time_max
            .map(|limit| Stopwatch::start().deadline(limit));
        OnlineChecker {
            model,
            options,
            deadline,
            events: 0,
            open: BTreeMap::new(),
            keys: BTreeMap::new(),
            pairing_error: None,
            model_error: None,
            operations: 0,
            unknown_operations: 0,
            dropped: 0,
            explored_states: 0,
            steps: 0,
            peak_bytes: 0,
            elapsed_ns: 0,
        }
    }

    /// Events pushed so far.
    pub fn events(&self) -> usize {
        self.events
    }

    /// Operations held in windows now, over every key: what the checker's memory follows.
    pub fn window_ops(&self) -> usize {
        self.keys.values().map(|k| k.window.len()).sum()
    }

    /// The part `event` belongs to: its key, or `None` for a model whose keys are not independent.
    fn key_of<'e>(&self, event: &'e HistoryEvent) -> &'e Option<String> {
        const WHOLE: &Option<String> = &None;
        if self.model.independent_keys() {
            &event.key
        } else {
            WHOLE
        }
    }

    /// The state of `key`'s part, created on its first operation (the only time the key is copied:
    /// this runs for every history event).
    fn key_state(&mut self, key: &Option<String>) -> &mut KeyState<M::State, M::Op> {
        if self.keys.contains_key(key) {
            return self.keys.get_mut(key).expect("just found");
        }
        let init = || self.model.init();
        self.keys.entry(key.clone()).or_insert_with(|| KeyState {
            window: Vec::new(),
            open: 0,
            uncut: false,
            has_ops: false,
            states: vec![init()],
            tails: vec![Tail {
                base: init(),
                ops: Vec::new(),
            }],
            closed_ops: 0,
            explored_states: 0,
            status: Status::Live,
        })
    }

    /// Takes the next event of the history.
    pub fn push(&mut self, event: &HistoryEvent) {
        let i = self.events;
        self.events += 1;
        if self.pairing_error.is_some() {
            // The first pairing error is the answer; nothing after it matters.
            return;
        }
        if event.kind == EventKind::Invoke {
            if let Some(earlier) = self.open.get(&event.process) {
                self.pairing_error = Some(invoked_again(i, event, earlier.index));
                return;
            }
            let key = self.key_of(event);
            self.key_state(key).open += 1;
            self.open.insert(
                event.process,
                OpenInvoke {
                    index: i,
                    event: event.clone(),
                },
            );
            return;
        }
        let Some(invoke) = self.open.remove(&event.process) else {
            self.pairing_error = Some(never_invoked(i, event));
            return;
        };
        let inv = &invoke.event;
        if let Some(err) = mismatched(i, event, inv, invoke.index) {
            self.pairing_error = Some(err);
            return;
        }
        let key = self.key_of(inv).clone();
        self.take(invoke, Some((i, event)), &key);
        let ks = self.key_state(&key);
        ks.open -= 1;
        if ks.open == 0 && !ks.uncut && !ks.window.is_empty() {
            self.close_window(&key);
        }
    }

    /// Translates a paired operation and adds it to its key's window.
    fn take(
        &mut self,
        invoke: OpenInvoke,
        done: Option<(usize, &HistoryEvent)>,
        key: &Option<String>,
    ) {
        let how = match done {
            Some((_, e)) if e.kind == EventKind::Ok => Completion::Ok(e),
            Some((_, e)) if e.kind == EventKind::Fail => Completion::Fail(e),
            other => Completion::Unknown(other.map(|(_, e)| e)),
        };
        let unknown = matches!(how, Completion::Unknown(_));
        let op = match self.model.op(&invoke.event, how) {
            Ok(Some(op)) => op,
            Ok(None) => {
                self.dropped += 1;
                return;
            }
            Err(message) => {
                // The offline check reports the model's error for the earliest invoke.
                if self
                    .model_error
                    .as_ref()
                    .is_none_or(|(at, _)| invoke.index < *at)
                {
                    self.model_error = Some((invoke.index, message));
                }
                return;
            }
        };
        self.operations += 1;
        if unknown {
            self.unknown_operations += 1;
        }
        let malformed = self.model_error.is_some();
        let ks = self.key_state(key);
        ks.has_ops = true;
        ks.uncut |= unknown;
        if malformed || !matches!(ks.status, Status::Live) {
            // The answer for this key (or the whole history) is known: keep nothing more.
            ks.window.clear();
            return;
        }
        ks.window.push(Arc::new(WindowOp {
            op,
            invoke: invoke.index,
            completion: done.map(|(c, _)| c),
            unknown,
            inv: invoke.event,
            done: done.map(|(_, e)| e.clone()),
        }));
    }

    /// What is left of the budgets, as one search's budget.
    fn budget(&self) -> Budget {
        Budget {
            states_max: self
                .options
                .budget_states_max
                .saturating_sub(self.explored_states),
            steps_max: self.options.budget_steps_max.saturating_sub(self.steps),
            bytes_max: self.options.budget_bytes_max,
            deadline: self.deadline,
        }
    }

    fn account(&mut self, result: &SearchResult) {
        self.explored_states += result.explored_states;
        self.steps += result.steps;
        self.peak_bytes = self.peak_bytes.max(result.peak_bytes);
    }

    /// Checks the window of `key` at a cut, carries its end states forward and drops it.
    fn close_window(&mut self, key: &Option<String>) {
        let watch = Stopwatch::start();
        let budget = self.budget();
        let ks = self
            .keys
            .get_mut(key)
            .expect("the key of a completed operation");
        let mut window = std::mem::take(&mut ks.window);
        window.sort_unstable_by_key(|w| w.invoke);
        let ops: Vec<PartOp<'_, M::Op>> = window
            .iter()
            .map(|w| PartOp {
                op: &w.op,
                call: w.invoke,
                ret: w.completion,
            })
            .collect();
        let (result, ends) =
            search::search_ends(&self.model, &ops, &ks.states, ks.closed_ops > 0, &budget);
        drop(ops);
        let status = match &result.outcome {
            Outcome::Linearizable if ends.len() > CARRIED_STATES_MAX => {
                Some(Status::Unknown(format!(
                    "more than {CARRIED_STATES_MAX} states to carry past a window of {} operations on {}",
                    window.len(),
                    place(key)
                )))
            }
            Outcome::Linearizable => {
                let tails = ends
                    .iter()
                    .map(|end| next_tail(&self.model, &ks.states, &ks.tails, &window, end))
                    .collect();
                ks.tails = tails;
                ks.states = ends.into_iter().map(|end| end.state).collect();
                ks.closed_ops += window.len();
                None
            }
            Outcome::NotLinearizable(dead_end) => Some(Status::Failed(Box::new(build_witness(
                &self.model,
                ks,
                &window,
                dead_end,
            )))),
            Outcome::Unknown(why) => Some(Status::Unknown(exhausted(
                &self.options,
                *why,
                key,
                window.len(),
            ))),
        };
        ks.explored_states += result.explored_states;
        if let Some(status) = status {
            ks.status = status;
            ks.states.clear();
            ks.tails.clear();
        }
        self.account(&result);
        self.elapsed_ns += watch.elapsed_ns();
    }

    /// Ends the history: searches what is left open, and reports as [`super::check`] would. `Err` for a
    /// history that does not make sense, the same error the offline check gives.
    pub fn finish(mut self) -> Result<CheckReport, HistoryError> {
        let watch = Stopwatch::start();
        if let Some(err) = self.pairing_error.take() {
            return Err(err);
        }
        // Operations never completed: of unknown outcome, in invoke order (as offline).
        let mut leftovers: Vec<OpenInvoke> = std::mem::take(&mut self.open).into_values().collect();
        leftovers.sort_unstable_by_key(|o| o.index);
        for invoke in leftovers {
            let key = self.key_of(&invoke.event).clone();
            self.take(invoke, None, &key);
        }
        if let Some((at, message)) = self.model_error.take() {
            return Err(invalid(at, None, message));
        }
        // The windows still open, searched in rounds as the offline check searches its parts.
        let last: Vec<Option<String>> = self
            .keys
            .iter()
            .filter(|(_, ks)| matches!(ks.status, Status::Live) && !ks.window.is_empty())
            .map(|(key, _)| key.clone())
            .collect();
        let mut windows: Vec<Vec<Arc<WindowOp<M::Op>>>> = Vec::with_capacity(last.len());
        for key in &last {
            let ks = self.keys.get_mut(key).expect("listed above");
            let mut window = std::mem::take(&mut ks.window);
            window.sort_unstable_by_key(|w| w.invoke);
            windows.push(window);
        }
        let sizes: Vec<usize> = windows.iter().map(Vec::len).collect();
        let remaining = CheckOptions {
            budget_states_max: self
                .options
                .budget_states_max
                .saturating_sub(self.explored_states),
            budget_steps_max: self.options.budget_steps_max.saturating_sub(self.steps),
            ..self.options.clone()
        };
        let results = {
            // States need not be `Sync`: each key's go behind a lock of their own, taken by the one
            // search of that key running at a time.
            let starts: Vec<Mutex<Vec<M::State>>> = last
                .iter()
                .map(|k| Mutex::new(self.keys[k].states.clone()))
                .collect();
            let after_cut: Vec<bool> = last.iter().map(|k| self.keys[k].closed_ops > 0).collect();
            let (model, windows) = (&self.model, &windows);
            search_in_rounds(
                &sizes,
                sizes.iter().sum(),
                &remaining,
                self.deadline,
                |k, budget| {
                    let ops: Vec<PartOp<'_, M::Op>> = windows[k]
                        .iter()
                        .map(|w| PartOp {
                            op: &w.op,
                            call: w.invoke,
                            ret: if w.unknown { None } else { w.completion },
                        })
                        .collect();
                    let starts = starts[k]
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner);
                    search::search_from(model, &ops, &starts, after_cut[k], budget)
                },
            )
        };
        for ((key, window), result) in last.iter().zip(&windows).zip(&results) {
            self.account(result);
            let ks = self.keys.get_mut(key).expect("listed above");
            ks.explored_states += result.explored_states;
            match &result.outcome {
                Outcome::Linearizable => {}
                Outcome::NotLinearizable(dead_end) => {
                    let witness = build_witness(&self.model, ks, window, dead_end);
                    ks.status = Status::Failed(Box::new(witness));
                }
                Outcome::Unknown(why) => {
                    ks.status = Status::Unknown(exhausted(&self.options, *why, key, window.len()));
                }
            }
        }

        // The offline check stops after the first round in which a key fails, and reports the first such
        // key: find that round. A key that fails explores the same configurations in both checks (the
        // whole space up to its failing window), so its round is the same.
        let parts = self.keys.values().filter(|k| k.has_ops).count();
        let round_of = |explored: u64| -> u32 {
            let full = self.options.budget_states_max;
            if parts <= 1 {
                return 0;
            }
            let (mut cap, mut round) = (ROUND_STATES_FIRST.min(full), 0);
            while explored > cap && cap < full {
                cap = cap.saturating_mul(ROUND_GROWTH).min(full);
                round += 1;
            }
            round
        };
        let first_round = self
            .keys
            .values()
            .filter(|k| matches!(k.status, Status::Failed(_)))
            .map(|k| round_of(k.explored_states))
            .min();
        let mut verdict = Verdict::Linearizable;
        let mut witness = None;
        let mut unknown_reason = None;
        let mut keys_not_linearizable = 0;
        for ks in self.keys.values_mut() {
            let round = round_of(ks.explored_states);
            match std::mem::replace(&mut ks.status, Status::Live) {
                Status::Live => {}
                Status::Failed(w) => {
                    if Some(round) != first_round {
                        // The offline check would have stopped before finding it.
                        continue;
                    }
                    keys_not_linearizable += 1;
                    if witness.is_none() {
                        verdict = Verdict::NotLinearizable;
                        witness = Some(*w);
                    }
                }
                Status::Unknown(why) => {
                    if verdict == Verdict::Linearizable {
                        verdict = Verdict::Unknown;
                    }
                    unknown_reason.get_or_insert(why);
                }
            }
        }
        if verdict == Verdict::NotLinearizable {
            unknown_reason = None;
        }
        Ok(CheckReport {
            verdict,
            model: self.model.name(),
            witness,
            unknown_reason,
            explored_states: self.explored_states,
            memory_bytes_peak: self.peak_bytes,
            operations: self.operations,
            unknown_operations: self.unknown_operations,
            dropped_operations: self.dropped,
            keys: self.keys.values().filter(|k| k.has_ops).count(),
            keys_not_linearizable,
            elapsed_ns: self.elapsed_ns + watch.elapsed_ns(),
        })
    }
}

/// Checks a whole history through the online checker: the same report as [`super::check`], within
/// budgets (see the module's docs).
pub fn check_online<M: Model + Clone>(
    history: &crate::contract::History,
    model: &M,
    options: &CheckOptions,
) -> Result<CheckReport, HistoryError> {
    let mut online = OnlineChecker::new(model.clone(), options.clone());
    for event in &history.events {
        online.push(event);
    }
    online.finish()
}

fn place(key: &Option<String>) -> String {
    match key {
        Some(key) => format!("key {key:?}"),
        None => "the history".to_string(),
    }
}

/// Applies `ops` to `state` in order (they were placed in this order, so each is legal).
fn replay<M: Model>(model: &M, mut state: M::State, ops: &[Arc<WindowOp<M::Op>>]) -> M::State {
    for w in ops {
        if let Step::Changed(next) = model.step(&state, &w.op) {
            state = next;
        }
    }
    state
}

/// The tail of the linearization that reached `end`: the last [`PREFIX_SHOWN_MAX`] operations of the
/// start's tail followed by the window's path.
fn next_tail<M: Model>(
    model: &M,
    states: &[M::State],
    tails: &[Tail<M::State, M::Op>],
    window: &[Arc<WindowOp<M::Op>>],
    end: &End<M::State>,
) -> Tail<M::State, M::Op> {
    let start = end.start as usize;
    let path: Vec<Arc<WindowOp<M::Op>>> = end
        .path
        .iter()
        .map(|&i| Arc::clone(&window[i as usize]))
        .collect();
    if path.len() >= PREFIX_SHOWN_MAX {
        let cut = path.len() - PREFIX_SHOWN_MAX;
        return Tail {
            base: replay(model, states[start].clone(), &path[..cut]),
            ops: path[cut..].to_vec(),
        };
    }
    let before = &tails[start];
    let drop = (before.ops.len() + path.len()).saturating_sub(PREFIX_SHOWN_MAX);
    let mut ops = before.ops[drop..].to_vec();
    ops.extend(path);
    Tail {
        base: replay(model, before.base.clone(), &before.ops[..drop]),
        ops,
    }
}

/// The witness of a window that failed from the key's carried states (see the module's docs).
fn build_witness<M: Model>(
    model: &M,
    ks: &KeyState<M::State, M::Op>,
    window: &[Arc<WindowOp<M::Op>>],
    dead_end: &DeadEnd,
) -> Witness {
    let start = dead_end.start as usize;
    let tail = &ks.tails[start];
    let mut state = tail.base.clone();
    let mut prefix = Vec::with_capacity(tail.ops.len() + dead_end.prefix.len());
    let steps = tail
        .ops
        .iter()
        .chain(dead_end.prefix.iter().map(|&i| &window[i as usize]));
    for w in steps {
        if let Step::Changed(next) = model.step(&state, &w.op) {
            state = next;
        }
        prefix.push(WitnessStep {
            op: w.witness(),
            state_after: model.describe_state(&state),
        });
    }
    let blocked = window.get(dead_end.blocked as usize);
    let blocked_fits_state = blocked.is_some_and(|w| model.step(&state, &w.op) != Step::Illegal);
    Witness {
        key: blocked.and_then(|w| w.inv.key.clone()),
        blocked: blocked.map_or_else(|| window[0].witness(), |w| w.witness()),
        blocked_fits_state,
        prefix,
        prefix_omitted: ks.closed_ops - tail.ops.len(),
        state: model.describe_state(&state),
        candidates: dead_end
            .candidates
            .iter()
            .map(|&i| window[i as usize].witness())
            .collect(),
    }
}

/// The end-of-run linearizability checker of a run, fed online: it sees the clients' history as it is
/// recorded ([`Checker::history`]) and needs none of it kept, and gives at the end the verdict the
/// offline [`super::LinearizabilityChecker`] would give on the whole history (see the module's docs).
pub struct OnlineLinearizabilityChecker<M: Model> {
    online: Option<OnlineChecker<M>>,
}

impl<M: Model> OnlineLinearizabilityChecker<M> {
    /// A checker against `model` with the default (deterministic) budgets.
    pub fn new(model: M) -> Self {
        Self::with_options(model, CheckOptions::default())
    }

    /// A checker against `model` within `options`.
    pub fn with_options(model: M, options: CheckOptions) -> Self {
        OnlineLinearizabilityChecker {
            online: Some(OnlineChecker::new(model, options)),
        }
    }
}

impl<A: Actor, M: Model> Checker<A> for OnlineLinearizabilityChecker<M> {
    fn name(&self) -> &'static str {
        "linearizability"
    }

    fn observe(&mut self, _obs: &Observation<'_, A>) -> Result<(), Failure> {
        Ok(())
    }

    fn history(&mut self, event: &HistoryEvent) -> Result<(), Failure> {
        if let Some(online) = &mut self.online {
            online.push(event);
        }
        Ok(())
    }

    fn needs_history(&self) -> bool {
        false
    }

    fn finish(&mut self, _end: &RunEnd<'_, A>) -> Vec<(&'static str, crate::contract::Verdict)> {
        let verdict = match self.online.take().map(OnlineChecker::finish) {
            Some(Ok(report)) => report.checker_verdict(),
            Some(Err(err)) => {
                crate::contract::Verdict::Fail(format!("the clients' history is malformed: {err}"))
            }
            None => crate::contract::Verdict::Unknown("the history was already judged".into()),
        };
        vec![("linearizability", verdict)]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::linearizability::{KvModel, SyntheticKv, check, synthetic_kv_history};
    use crate::contract::{Func, History, Value};

    /// Pushes every event, noting the most operations held in windows at once.
    fn feed(h: &History) -> (CheckReport, usize) {
        let mut online = OnlineChecker::new(KvModel, CheckOptions::default());
        let mut held_max = 0;
        for e in &h.events {
            online.push(e);
            held_max = held_max.max(online.window_ops());
        }
        (online.finish().expect("well formed"), held_max)
    }

    #[test]
    fn windows_follow_concurrency_not_length() {
        let h = synthetic_kv_history(&SyntheticKv {
            operations: 20_000,
            clients: 4,
            keys: 3,
            unknown_per_mille: 0,
            ..SyntheticKv::default()
        });
        let (report, held_max) = feed(&h);
        assert_eq!(report.verdict, Verdict::Linearizable, "{report}");
        assert_eq!(report.operations, 20_000);
        assert!(held_max < 200, "{held_max} operations held at once");
    }

    #[test]
    fn a_kept_unknown_operation_stops_cuts_on_its_key_only() {
        let h = synthetic_kv_history(&SyntheticKv {
            operations: 4_000,
            clients: 3,
            keys: 2,
            unknown_per_mille: 0,
            ..SyntheticKv::default()
        });
        // Turn the first completed put on key "0" into a timeout: its key is never cut again.
        let mut h = h;
        let at = h
            .events
            .iter()
            .position(|e| {
                e.kind == EventKind::Ok && e.f == Func::PUT && e.key.as_deref() == Some("0")
            })
            .expect("a put on key 0");
        h.events[at].kind = EventKind::Info;
        // The client goes on under the same process: give its later events a process of their own.
        let process = h.events[at].process;
        for e in &mut h.events[at + 1..] {
            if e.process == process {
                e.process += 1_000_000;
            }
        }
        let mut online = OnlineChecker::new(KvModel, CheckOptions::default());
        for e in &h.events {
            online.push(e);
        }
        let held: BTreeMap<&Option<String>, usize> = online
            .keys
            .iter()
            .map(|(k, ks)| (k, ks.window.len()))
            .collect();
        assert!(held[&Some("0".to_string())] > 1_000, "{held:?}");
        assert!(held[&Some("1".to_string())] < 100, "{held:?}");
        let report = online.finish().expect("well formed");
        let offline = check(&h, &KvModel, &CheckOptions::default()).expect("well formed");
        assert_eq!(report.verdict, offline.verdict);
        assert_eq!(report.verdict, Verdict::Linearizable);
        assert_eq!(report.unknown_operations, 1);
    }

    #[test]
    fn a_stale_read_after_many_cuts_is_caught_with_the_offline_witness() {
        let mut h = synthetic_kv_history(&SyntheticKv {
            operations: 3_000,
            clients: 2,
            keys: 2,
            unknown_per_mille: 0,
            ..SyntheticKv::default()
        });
        // A late read that saw a value never written.
        let at = h
            .events
            .iter()
            .rposition(|e| e.kind == EventKind::Ok && e.f == Func::GET)
            .expect("a read");
        h.events[at].value = Value::Str("never written".into());
        let (report, _) = feed(&h);
        let offline = check(&h, &KvModel, &CheckOptions::default()).expect("well formed");
        assert_eq!(report.verdict, Verdict::NotLinearizable);
        assert_eq!(report.checker_verdict(), offline.checker_verdict());
        let (a, b) = (offline.witness.unwrap(), report.witness.unwrap());
        assert_eq!(a.to_string(), b.to_string());
        assert!(
            b.prefix_omitted > 0,
            "the prefix reaches back past dropped windows"
        );
    }

    fn ev(process: u64, kind: EventKind, f: Func, value: &str) -> HistoryEvent {
        HistoryEvent {
            time_ns: 0,
            process,
            kind,
            f,
            key: Some("k".into()),
            value: if value.is_empty() {
                Value::Nil
            } else {
                Value::Str(value.into())
            },
        }
    }

    #[test]
    fn a_window_of_concurrent_writes_carries_every_state_it_may_leave() {
        use EventKind::{Invoke, Ok};
        // Two concurrent puts, then a cut, then a read of either value: both are linearizable.
        let puts = [
            ev(0, Invoke, Func::PUT, "a"),
            ev(1, Invoke, Func::PUT, "b"),
            ev(0, Ok, Func::PUT, "a"),
            ev(1, Ok, Func::PUT, "b"),
        ];
        for (read, linearizable) in [("a", true), ("b", true), ("c", false)] {
            let mut online = OnlineChecker::new(KvModel, CheckOptions::default());
            for e in &puts {
                online.push(e);
            }
            let carried = &online.keys[&Some("k".to_string())];
            assert!(carried.window.is_empty(), "the window closed at the cut");
            assert_eq!(carried.states.len(), 2, "either put may have been last");
            online.push(&ev(2, Invoke, Func::GET, ""));
            online.push(&ev(2, Ok, Func::GET, read));
            let report = online.finish().expect("well formed");
            let want = if linearizable {
                Verdict::Linearizable
            } else {
                Verdict::NotLinearizable
            };
            assert_eq!(report.verdict, want, "read {read}: {report}");
            if !linearizable {
                let w = report.witness.expect("a witness");
                assert_eq!(w.prefix_len(), 2, "both puts precede the read");
                assert_eq!(w.prefix_omitted, 0, "both kept in the tail");
            }
        }
    }

    #[test]
    fn the_states_budget_gives_unknown() {
        let h = synthetic_kv_history(&SyntheticKv {
            operations: 2_000,
            clients: 4,
            keys: 2,
            unknown_per_mille: 0,
            ..SyntheticKv::default()
        });
        let options = CheckOptions {
            budget_states_max: 100,
            ..CheckOptions::default()
        };
        let report = check_online(&h, &KvModel, &options).expect("well formed");
        assert_eq!(report.verdict, Verdict::Unknown, "{report}");
        assert!(
            report
                .unknown_reason
                .unwrap()
                .contains("100 explored states")
        );
    }
}
