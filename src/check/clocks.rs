//! `clocks_consistent`: the engine's logical clocks judged against the run's true causal order.
//!
//! The engine (see `crate::sim::clocks`) stamps every event of a node with a Lamport time and a
//! vector clock. This checker is told each event as it happens: its node, the send event it
//! receives (if it is a delivery), and the clocks the engine gave it. It keeps its own record of the
//! event graph (program order on each node, and the real send→deliver edges) and never looks at how
//! the clocks were computed: whether `a` happened before `b` is decided by walking that graph back
//! from `b`. For every pair it checks it demands
//!
//! - `V(a) < V(b)` exactly when `a` happened before `b` (so concurrent events have incomparable
//!   vectors), and
//! - `L(a) < L(b)` whenever `a` happened before `b` (Lamport's clock condition).
//!
//! **Bounds.** The graph is kept for a sliding window of the latest events (at most
//! [`WINDOW_EVENTS_MAX`], and at most [`WINDOW_BYTES_MAX`] bytes of clocks), so memory does not grow
//! with the run. A path from `a` to `b` only passes through events recorded between them, so the walk
//! inside the window is exact for every pair in it. Each event chosen as a *target* is compared with
//! every earlier event still in the window. While the run is small every event is a target, so a run
//! of at most a window of events is checked on all pairs; past [`PAIRS_PER_LEVEL`] pairs the chance of
//! choosing a target halves (drawn from the run's own `clocks` stream, so it is deterministic), and
//! after [`PAIRS_MAX`] pairs checking stops. [`ClockCoverage`] says how much was checked.

use crate::contract::Rng;
use serde::Serialize;

/// The property's name, as reports and `expect` spell it.
pub const PROPERTY: &str = "clocks_consistent";

/// The most events the window keeps.
pub const WINDOW_EVENTS_MAX: usize = 2_048;
/// The most bytes of clocks the window keeps (it shrinks below [`WINDOW_EVENTS_MAX`] events for
/// wide vectors).
pub const WINDOW_BYTES_MAX: usize = 8 << 20;
/// Pairs checked at each sampling level before the chance of choosing a target halves.
pub const PAIRS_PER_LEVEL: u64 = (WINDOW_EVENTS_MAX * WINDOW_EVENTS_MAX / 2) as u64;
/// The most pairs checked in one run.
pub const PAIRS_MAX: u64 = 16 * PAIRS_PER_LEVEL;
/// The most halvings of the chance of choosing a target (one in 2^30 at the end).
const LEVEL_MAX: u32 = 30;

const NONE: u64 = u64::MAX;

/// How much of a run the check covered.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ClockCoverage {
    /// Events that carry clocks (starts, timers, sends and deliveries).
    pub events: u64,
    /// Events compared with every earlier event in the window.
    pub targets: u64,
    /// Ordered pairs of events checked.
    pub pairs: u64,
    /// Whether every pair of events of the run was checked (no sampling, nothing out of the window).
    pub exact: bool,
}

impl ClockCoverage {
    /// One line for the report: how many pairs of how many events, and whether that was all of them.
    pub fn describe(&self) -> String {
        if self.exact {
            format!("all {} pairs of {} events", self.pairs, self.events)
        } else {
            format!(
                "{} pairs sampled around {} of {} events",
                self.pairs, self.targets, self.events
            )
        }
    }
}

/// The checker's record of one run; see the module docs.
#[derive(Debug)]
pub struct CausalOrderCheck {
    /// The width of every vector (the number of nodes).
    width: usize,
    /// The window's capacity, in events.
    capacity: usize,
    // The window, as a ring indexed by event number modulo `capacity`.
    node: Vec<u32>,
    /// The engine's event index (the trace's `e`) of each event, to name it in a message.
    engine_event: Vec<u64>,
    /// The previous event of the same node, or `NONE`.
    prev: Vec<u64>,
    /// The send event a delivery receives, or `NONE`.
    cause: Vec<u64>,
    lamport: Vec<u64>,
    /// `capacity * width` entries.
    vector: Vec<u64>,
    /// The walk's marks: a slot is in the current target's past when it holds the target's number.
    mark: Vec<u64>,
    stack: Vec<u64>,
    /// The number the next event gets.
    next: u64,
    /// Each node's latest event, or `NONE`.
    last_of: Vec<u64>,
    rng: Rng,
    level: u32,
    level_pairs: u64,
    coverage: ClockCoverage,
    /// Whether some event was not a target.
    sampled: bool,
}

impl CausalOrderCheck {
    /// A check for vectors of `width` entries, choosing targets from `rng`.
    pub fn new(width: usize, rng: Rng) -> CausalOrderCheck {
        assert!(width > 0, "a run has at least one node");
        let per_event = width * 8 + 48;
        let capacity = (WINDOW_BYTES_MAX / per_event).clamp(2, WINDOW_EVENTS_MAX);
        CausalOrderCheck {
            width,
            capacity,
            node: vec![0; capacity],
            engine_event: vec![0; capacity],
            prev: vec![NONE; capacity],
            cause: vec![NONE; capacity],
            lamport: vec![0; capacity],
            vector: vec![0; capacity * width],
            mark: vec![NONE; capacity],
            stack: Vec::with_capacity(capacity),
            next: 0,
            last_of: vec![NONE; width],
            rng,
            level: 0,
            level_pairs: 0,
            coverage: ClockCoverage::default(),
            sampled: false,
        }
    }

    /// What was checked so far.
    pub fn coverage(&self) -> ClockCoverage {
        let mut c = self.coverage.clone();
        c.exact = !self.sampled && self.next <= self.capacity as u64;
        c
    }

    /// Records one event of `node` (engine event index `engine_event`) that received the send event
    /// numbered `cause`, if any, and that the engine stamped with `lamport` and `vector`; checks it
    /// if it is chosen as a target. Returns the event's number (a delivery names its send by it),
    /// and a one-line description of an inconsistency the event exposed.
    pub fn record(
        &mut self,
        node: u32,
        engine_event: u64,
        cause: Option<u64>,
        lamport: u64,
        vector: &[u64],
    ) -> (u64, Result<(), String>) {
        assert_eq!(vector.len(), self.width, "one vector entry per node");
        let number = self.next;
        self.next += 1;
        let slot = self.slot(number);
        self.node[slot] = node;
        self.engine_event[slot] = engine_event;
        self.prev[slot] = self.last_of[node as usize];
        self.last_of[node as usize] = number;
        let cause = cause.unwrap_or(NONE);
        debug_assert!(
            cause == NONE || cause < number,
            "a send comes before its delivery"
        );
        self.cause[slot] = cause;
        self.lamport[slot] = lamport;
        self.vector[slot * self.width..(slot + 1) * self.width].copy_from_slice(vector);
        self.mark[slot] = NONE;
        self.coverage.events += 1;
        if self.is_target(number) {
            (number, self.check_target(number))
        } else {
            self.sampled = true;
            (number, Ok(()))
        }
    }

    fn slot(&self, number: u64) -> usize {
        (number % self.capacity as u64) as usize
    }

    /// The oldest event number still in the window.
    fn oldest(&self) -> u64 {
        self.next.saturating_sub(self.capacity as u64)
    }

    fn is_target(&mut self, number: u64) -> bool {
        let window = number - self.oldest();
        if self.coverage.pairs.saturating_add(window) > PAIRS_MAX {
            return false;
        }
        if self.level_pairs >= PAIRS_PER_LEVEL && self.level < LEVEL_MAX {
            self.level += 1;
            self.level_pairs = 0;
        }
        self.level == 0 || self.rng.below(1 << self.level) == 0
    }

    /// Marks the target's past inside the window (walking program order and send→deliver edges
    /// back), then compares the target with every earlier event in the window.
    fn check_target(&mut self, b: u64) -> Result<(), String> {
        let oldest = self.oldest();
        self.stack.clear();
        self.stack.push(b);
        while let Some(x) = self.stack.pop() {
            let sx = self.slot(x);
            for y in [self.prev[sx], self.cause[sx]] {
                if y != NONE && y >= oldest {
                    let sy = self.slot(y);
                    if self.mark[sy] != b {
                        self.mark[sy] = b;
                        self.stack.push(y);
                    }
                }
            }
        }
        let sb = self.slot(b);
        for a in oldest..b {
            let sa = self.slot(a);
            let before = self.mark[sa] == b;
            let (va, vb) = (self.vec_at(sa), self.vec_at(sb));
            if before != less(va, vb) {
                return Err(self.describe(
                    a,
                    b,
                    if before {
                        "happened before"
                    } else {
                        "is concurrent with"
                    },
                    if before {
                        "yet V(a) < V(b) is false"
                    } else {
                        "yet V(a) < V(b)"
                    },
                ));
            }
            if less(vb, va) {
                return Err(self.describe(a, b, "came before", "yet V(b) < V(a)"));
            }
            if before && self.lamport[sa] >= self.lamport[sb] {
                return Err(self.describe(a, b, "happened before", "yet L(a) >= L(b)"));
            }
        }
        let pairs = b - oldest;
        self.coverage.targets += 1;
        self.coverage.pairs += pairs;
        self.level_pairs += pairs;
        Ok(())
    }

    fn vec_at(&self, slot: usize) -> &[u64] {
        &self.vector[slot * self.width..(slot + 1) * self.width]
    }

    fn describe(&self, a: u64, b: u64, relation: &str, wrong: &str) -> String {
        let (sa, sb) = (self.slot(a), self.slot(b));
        format!(
            "event a (e {}, node {}, L {}, V {:?}) {relation} event b (e {}, node {}, L {}, V {:?}), \
             {wrong}",
            self.engine_event[sa],
            self.node[sa],
            self.lamport[sa],
            self.vec_at(sa),
            self.engine_event[sb],
            self.node[sb],
            self.lamport[sb],
            self.vec_at(sb),
        )
    }
}

/// `a < b` for vector clocks: every entry at most, and the vectors differ.
fn less(a: &[u64], b: &[u64]) -> bool {
    a.iter().zip(b).all(|(x, y)| x <= y) && a != b
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(width: usize) -> CausalOrderCheck {
        CausalOrderCheck::new(width, Rng::stream(0, "clocks"))
    }

    /// Records an event that must pass, and returns its number.
    fn ok(c: &mut CausalOrderCheck, node: u32, cause: Option<u64>, l: u64, v: &[u64]) -> u64 {
        let (number, verdict) = c.record(node, 0, cause, l, v);
        verdict.unwrap();
        number
    }

    /// Records an event that must fail, and returns why.
    fn fails(c: &mut CausalOrderCheck, node: u32, cause: Option<u64>, l: u64, v: &[u64]) -> String {
        c.record(node, 0, cause, l, v).1.unwrap_err()
    }

    #[test]
    fn correct_clocks_of_a_message_pass_on_every_pair() {
        let mut c = check(2);
        let s = ok(&mut c, 0, None, 1, &[1, 0]);
        ok(&mut c, 1, None, 1, &[0, 1]);
        ok(&mut c, 1, Some(s), 2, &[1, 2]);
        ok(&mut c, 0, None, 2, &[2, 0]);
        let cov = c.coverage();
        assert_eq!((cov.events, cov.targets, cov.pairs), (4, 4, 6));
        assert!(cov.exact);
    }

    #[test]
    fn a_delivery_that_forgot_to_merge_is_caught() {
        let mut c = check(2);
        let s = ok(&mut c, 0, None, 1, &[1, 0]);
        let err = fails(&mut c, 1, Some(s), 2, &[0, 1]);
        assert!(err.contains("happened before"), "{err}");
    }

    #[test]
    fn concurrent_events_with_ordered_vectors_are_caught() {
        let mut c = check(2);
        ok(&mut c, 0, None, 1, &[1, 0]);
        // Node 1 never heard from node 0, but its vector claims it did.
        let err = fails(&mut c, 1, None, 1, &[1, 1]);
        assert!(err.contains("concurrent"), "{err}");
    }

    #[test]
    fn a_lamport_time_that_does_not_grow_along_a_message_is_caught() {
        let mut c = check(2);
        let s = ok(&mut c, 0, None, 5, &[1, 0]);
        let err = fails(&mut c, 1, Some(s), 1, &[1, 1]);
        assert!(err.contains("L(a) >= L(b)"), "{err}");
    }

    #[test]
    fn long_runs_are_sampled_within_the_pair_budget_and_say_so() {
        let mut c = check(1);
        for i in 0..(3 * WINDOW_EVENTS_MAX as u64) {
            ok(&mut c, 0, None, i + 1, &[i + 1]);
        }
        let cov = c.coverage();
        assert!(!cov.exact);
        assert!(cov.pairs <= PAIRS_MAX);
        assert!(cov.targets < cov.events);
        assert!(cov.pairs > PAIRS_PER_LEVEL);
    }
}
