//! The sweep's wall clock: seeds per second, progress lines and `--max-wall-s`. It never reaches a
//! run or the results; it only decides when the sweep stops starting new batches and what progress
//! shows.

// determinism-ok: wall time for progress and the sweep's time bound only, never inside a run
#![allow(clippy::disallowed_types, clippy::disallowed_methods)]

use std::time::{Duration, Instant};

/// Time since the sweep started.
#[derive(Clone, Copy, Debug)]
pub struct Stopwatch(Instant);

impl Stopwatch {
    /// Starts now.
    pub fn start() -> Stopwatch {
        Stopwatch(Instant::now())
    }

    /// Time since the start.
    pub fn elapsed(&self) -> Duration {
        self.0.elapsed()
    }
}
