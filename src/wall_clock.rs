//! The only wall clock in distsim: the linearizability checker's opt-in time budget and the elapsed
//! time it reports, and a sweep's progress, seeds per second and `--max-wall-s`.
//!
//! None of them reaches a simulation: a run's trace and verdicts never depend on them. The checker's
//! default budget is a count of explored states, `elapsed_ns` is left out of every deterministic
//! rendering of a report, and a sweep's clock only decides when it stops starting new batches.
// determinism-ok: timing and opt-in budgets outside any run (see above)
#![allow(clippy::disallowed_types, clippy::disallowed_methods)]

use std::time::{Duration, Instant};

/// Measures the time a check takes.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Stopwatch(Instant);

impl Stopwatch {
    /// Starts now.
    pub(crate) fn start() -> Self {
        Stopwatch(Instant::now()) // determinism-ok: timing outside any run
    }

    /// Time since the start.
    pub(crate) fn elapsed(&self) -> Duration {
        self.0.elapsed()
    }

    /// Nanoseconds since the start.
    pub(crate) fn elapsed_ns(&self) -> u64 {
        u64::try_from(self.0.elapsed().as_nanos()).unwrap_or(u64::MAX)
    }

    /// The instant `limit` after the start.
    pub(crate) fn deadline(&self, limit: Duration) -> Deadline {
        Deadline(self.0.checked_add(limit))
    }
}

/// A point in wall-clock time after which a search must stop.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Deadline(Option<Instant>);

impl Deadline {
    /// Whether it has passed (a deadline too far away to represent never passes).
    pub(crate) fn passed(&self) -> bool {
        self.0.is_some_and(|at| Instant::now() >= at) // determinism-ok: opt-in budget
    }
}
