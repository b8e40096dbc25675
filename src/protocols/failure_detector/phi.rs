//! The phi-accrual detector of one peer (Hayashibara, Défago, Yared and Katayama, 2004).
//!
//! The detector keeps a bounded window of the peer's heartbeat inter-arrival times and models them as
//! a normal distribution of that mean and variance. Given the time `t` since the last heartbeat, phi is
//! `-log10(P_later(t))`, where `P_later(t)` is the probability that a heartbeat arrives later than `t`.
//! A peer is suspected when phi exceeds a threshold. We use the logistic approximation of the normal
//! tail, `P_later = 1 / (1 + exp(y (1.5976 + 0.070566 y^2)))` with `y = (t - mean) / std`, which is
//! monotone in `y`: so `phi > threshold` is the same as `y > y_threshold`, with `y_threshold` solved
//! once at setup. Each check then needs only exact integer sums and one square root, so decisions
//! never depend on how a platform rounds `exp` or `log10`.

use std::collections::VecDeque;

/// The `y` above which phi exceeds `phi_threshold` (solved by bisection; phi is increasing in `y`).
pub fn y_threshold(phi_threshold: f64) -> f64 {
    let (mut lo, mut hi) = (-10.0_f64, 100.0_f64);
    for _ in 0..200 {
        let mid = (lo + hi) / 2.0;
        if phi_of_y(mid) > phi_threshold {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    hi
}

/// Phi for a standardised delay `y` (for reports and tests; decisions use [`y_threshold`]).
pub fn phi_of_y(y: f64) -> f64 {
    let e = (y * (1.5976 + 0.070566 * y * y)).exp();
    // -log10(1 / (1 + e)) = log10(1 + e), written so a large `e` does not overflow.
    if e.is_infinite() {
        (y * (1.5976 + 0.070566 * y * y)) / std::f64::consts::LN_10
    } else {
        (1.0 + e).log10()
    }
}

/// A bounded window of inter-arrival times, in nanoseconds, with exact running sums.
#[derive(Clone, Debug)]
pub struct ArrivalWindow {
    samples: VecDeque<u64>,
    capacity: usize,
    sum: u128,
    sum_sq: u128,
}

impl ArrivalWindow {
    /// An empty window of `capacity` samples, seeded with `seed_ns` twice (as if two heartbeats had
    /// come exactly on time) so a peer that has not been heard from yet has an expectation.
    pub fn new(capacity: usize, seed_ns: u64) -> ArrivalWindow {
        assert!(capacity >= 1, "a window holds at least one sample");
        let mut w = ArrivalWindow {
            samples: VecDeque::with_capacity(capacity.min(1024)),
            capacity,
            sum: 0,
            sum_sq: 0,
        };
        w.push(seed_ns);
        w.push(seed_ns);
        w
    }

    /// Adds one inter-arrival time, dropping the oldest beyond capacity.
    pub fn push(&mut self, gap_ns: u64) {
        if self.samples.len() == self.capacity
            && let Some(old) = self.samples.pop_front()
        {
            self.sum -= u128::from(old);
            self.sum_sq -= u128::from(old) * u128::from(old);
        }
        self.samples.push_back(gap_ns);
        self.sum += u128::from(gap_ns);
        self.sum_sq += u128::from(gap_ns) * u128::from(gap_ns);
    }

    /// The mean inter-arrival time, ns.
    pub fn mean_ns(&self) -> f64 {
        self.sum as f64 / self.samples.len() as f64
    }

    /// The standard deviation, ns (population variance, computed exactly in integers first).
    pub fn std_ns(&self) -> f64 {
        let n = self.samples.len() as u128;
        // n * sum_sq >= sum^2 (Cauchy-Schwarz), so this never underflows.
        let var_n2 = n * self.sum_sq - self.sum * self.sum;
        (var_n2 as f64).sqrt() / n as f64
    }

    /// Whether a silence of `silent_ns` makes phi exceed the threshold that `y_threshold` stands for,
    /// with the standard deviation taken as at least `min_std_ns`.
    pub fn suspects(&self, silent_ns: u64, y_threshold: f64, min_std_ns: u64) -> bool {
        let std = self.std_ns().max(min_std_ns as f64);
        silent_ns as f64 > self.mean_ns() + y_threshold * std
    }

    /// Phi for a silence of `silent_ns` (for notes and tests).
    pub fn phi(&self, silent_ns: u64, min_std_ns: u64) -> f64 {
        let std = self.std_ns().max(min_std_ns as f64);
        phi_of_y((silent_ns as f64 - self.mean_ns()) / std)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_threshold_is_where_phi_crosses_it() {
        for threshold in [1.0, 3.0, 8.0, 16.0] {
            let y = y_threshold(threshold);
            assert!(phi_of_y(y - 1e-6) <= threshold && phi_of_y(y + 1e-6) > threshold);
        }
        // phi 8 is a little over five standard deviations late.
        let y8 = y_threshold(8.0);
        assert!((5.0..5.5).contains(&y8), "{y8}");
    }

    #[test]
    fn sums_stay_exact_as_the_window_slides() {
        let mut w = ArrivalWindow::new(3, 100);
        for g in [100, 200, 300, 400] {
            w.push(g);
        }
        // The window holds 200, 300, 400.
        assert_eq!(w.mean_ns(), 300.0);
        let expected = ((100.0_f64 * 100.0 * 2.0) / 3.0).sqrt();
        assert!((w.std_ns() - expected).abs() < 1e-9);
    }

    #[test]
    fn a_jittery_history_tolerates_a_longer_silence() {
        let y = y_threshold(8.0);
        let ms = 1_000_000;
        let mut calm = ArrivalWindow::new(50, 100 * ms);
        let mut jittery = ArrivalWindow::new(50, 100 * ms);
        for i in 0..50 {
            calm.push(100 * ms);
            jittery.push(if i % 2 == 0 { 20 * ms } else { 380 * ms });
        }
        let silence = 400 * ms;
        assert!(calm.suspects(silence, y, 20 * ms));
        assert!(!jittery.suspects(silence, y, 20 * ms));
        assert!(calm.phi(silence, 20 * ms) > jittery.phi(silence, 20 * ms));
    }
}
