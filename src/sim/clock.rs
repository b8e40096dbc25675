//! Per-node local clocks: true time skewed by an offset and a drift.
//!
//! A node reads only its local clock. `local(t) = anchor_local + (t - anchor_true) * (1 + drift)`, with
//! drift in parts per million. Changing the offset or the drift re-anchors the clock at the moment of the
//! change, so the clock is continuous except for an explicit offset jump. Timers are set in local time
//! and converted to true time at the drift in force when they are set, which is what a node whose
//! oscillator runs fast or slow experiences: its "150 ms" is not 150 ms of true time.

use crate::contract::{Duration, Time};
pub use crate::scenario::{DRIFT_PPM_MAX, DRIFT_PPM_MIN};

/// One node's clock.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LocalClock {
    anchor_true: u64,
    anchor_local: i128,
    drift_ppm: i64,
}

impl LocalClock {
    /// The local reading at true time `t` (never below zero).
    pub fn local(&self, t: Time) -> Time {
        // Most clocks are never skewed: skip the wide arithmetic for them (it is on every event).
        if self.drift_ppm == 0 && self.anchor_local == i128::from(self.anchor_true) {
            return t;
        }
        let elapsed = i128::from(t.0.saturating_sub(self.anchor_true));
        let skewed = elapsed + elapsed * i128::from(self.drift_ppm) / 1_000_000;
        let v = self.anchor_local + skewed;
        Time(v.clamp(0, i128::from(u64::MAX)) as u64)
    }

    /// Jumps the clock by `offset_ns` (positive: ahead) at true time `now`.
    pub fn jump(&mut self, now: Time, offset_ns: i64) {
        let local = i128::from(self.local(now).0);
        self.anchor_true = now.0;
        self.anchor_local = local + i128::from(offset_ns);
    }

    /// Sets the drift from true time `now` on.
    pub fn set_drift(&mut self, now: Time, drift_ppm: i64) {
        debug_assert!((DRIFT_PPM_MIN..=DRIFT_PPM_MAX).contains(&drift_ppm));
        let local = i128::from(self.local(now).0);
        self.anchor_true = now.0;
        self.anchor_local = local;
        self.drift_ppm = drift_ppm.clamp(DRIFT_PPM_MIN, DRIFT_PPM_MAX);
    }

    /// The drift in force.
    pub fn drift_ppm(&self) -> i64 {
        self.drift_ppm
    }

    /// The true-time span that lasts `local` on this clock (rounded up, so a timer never fires early
    /// by its own clock).
    pub fn true_span(&self, local: Duration) -> Duration {
        if self.drift_ppm == 0 {
            return local;
        }
        let rate = 1_000_000i128 + i128::from(self.drift_ppm);
        let span = (i128::from(local.0) * 1_000_000 + rate - 1) / rate;
        Duration(span.clamp(0, i128::from(u64::MAX)) as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offset_and_drift() {
        let mut c = LocalClock::default();
        assert_eq!(c.local(Time(1_000)), Time(1_000));
        c.jump(Time(1_000), 500);
        assert_eq!(c.local(Time(1_000)), Time(1_500));
        c.set_drift(Time(2_000), 100_000); // 10% fast
        assert_eq!(c.local(Time(2_000)), Time(2_500));
        assert_eq!(c.local(Time(12_000)), Time(2_500 + 11_000));
        // A 11 us local timer on a 10%-fast clock lasts 10 us of true time.
        assert_eq!(c.true_span(Duration(11_000)), Duration(10_000));
        c.jump(Time(0), -1_000_000);
        assert_eq!(c.local(Time(0)), Time(0), "clamped at zero");
    }
}
