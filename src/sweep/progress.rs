//! How a sweep shows its progress on stderr: a bar on a terminal (seeds done, failures so far, seeds
//! per second, time left), a plain line every few seconds otherwise, or nothing. Progress reads the
//! wall clock, which is fine: it never feeds back into a run or into the results.

use crate::wall_clock::Stopwatch;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::time::Duration;

/// How progress is shown.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Progress {
    /// Nothing (`--quiet`, and the default for library calls).
    #[default]
    Off,
    /// An indicatif bar (on a terminal).
    Bar,
    /// A plain line every few seconds (logs, CI).
    Lines,
}

/// The live display of one sweep.
pub struct Reporter {
    mode: Progress,
    bar: Option<ProgressBar>,
    total: u64,
    clock: Stopwatch,
    last_line: Duration,
}

/// How often the plain lines come.
const LINE_EVERY: Duration = Duration::from_secs(5);

impl Reporter {
    /// Starts showing a sweep of `total` seeds.
    pub fn start(mode: Progress, total: u64) -> Reporter {
        let bar = (mode == Progress::Bar).then(|| {
            let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
            if let Ok(style) =
                ProgressStyle::with_template("{bar:30} {pos}/{len} seeds, {msg}, {eta} left")
            {
                bar.set_style(style);
            }
            bar.set_message("0 failures");
            bar
        });
        Reporter {
            mode,
            bar,
            total,
            clock: Stopwatch::start(),
            last_line: Duration::ZERO,
        }
    }

    /// A handle that worker threads tick once per finished seed.
    pub fn ticker(&self) -> Option<ProgressBar> {
        self.bar.clone()
    }

    /// The seeds done and failures so far, after a batch.
    pub fn update(&mut self, done: u64, failures: u64) {
        match self.mode {
            Progress::Off => {}
            Progress::Bar => {
                if let Some(bar) = &self.bar {
                    let rate = done as f64 / self.clock.elapsed().as_secs_f64().max(1e-9);
                    bar.set_position(done);
                    bar.set_message(format!("{failures} failures, {rate:.1} seeds/s"));
                }
            }
            Progress::Lines => {
                let now = self.clock.elapsed();
                if now - self.last_line >= LINE_EVERY {
                    self.last_line = now;
                    let rate = done as f64 / now.as_secs_f64().max(1e-9);
                    eprintln!(
                        "sweep: {done}/{} seeds, {failures} failures, {rate:.1} seeds/s",
                        self.total
                    );
                }
            }
        }
    }

    /// Clears the bar.
    pub fn finish(self) {
        if let Some(bar) = self.bar {
            bar.finish_and_clear();
        }
    }
}
