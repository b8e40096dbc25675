//! The mining race: how long a miner takes to find its next block.
//!
//! Finding a block is a Poisson process: a miner with share `s` of the hash power finds blocks at
//! rate `s / block_interval`, so its time to the next one is exponential with mean
//! `block_interval / s`, and memorylessness lets it draw afresh whenever its tip changes. The draw
//! is done in integers only, so that it is the same on every machine: with `u` uniform in
//! `(0, 1]` (a 64-bit draw from the node's stream), the delay is `mean * -ln(u)`, and `-ln(u)` is
//! `-log2(u) * ln 2`, where `log2` is computed bit by bit by repeated squaring (32 fraction bits)
//! and `ln 2` is a 32-bit fixed-point constant. No float is involved; the largest delay is about
//! 44 times the mean (`u = 2^-64`).

use crate::contract::Rng;

/// `ln 2` in Q32 fixed point: round(0.693147180559945 * 2^32).
const LN2_Q32: u128 = 2_977_044_472;

/// `-log2(x / 2^64)` in Q32 fixed point, for `x >= 1`.
pub fn neg_log2_q32(x: u64) -> u64 {
    let x = x.max(1);
    let lz = x.leading_zeros();
    // x = 2^(63 - lz) * m with m in [1, 2), held as Q63.
    let mut m = u128::from(x << lz);
    let mut frac: u64 = 0;
    for bit in (0..32).rev() {
        m = (m * m) >> 63;
        if m >= 1u128 << 64 {
            m >>= 1;
            frac |= 1 << bit;
        }
    }
    // log2(x / 2^64) = (63 - lz) + log2(m) - 64, negated.
    ((u64::from(lz) + 1) << 32) - frac
}

/// `mean_ns * -ln(u)` for `u = x / 2^64`, in ns.
pub fn exponential_ns(mean_ns: u64, x: u64) -> u64 {
    let scaled = u128::from(mean_ns) * u128::from(neg_log2_q32(x)) * LN2_Q32;
    u64::try_from(scaled >> 64).unwrap_or(u64::MAX)
}

/// Draws the time to a miner's next block, in ns, from its stream.
pub fn draw_ns(rng: &mut Rng, mean_ns: u64) -> u64 {
    exponential_ns(mean_ns, rng.between(1, u64::MAX)).max(1)
}

/// The mean time between a miner's blocks, in ns: `block_interval * total / weight`, or `None`
/// for a miner with no hash power.
pub fn mean_ns(block_interval_ns: u64, weight: u64, total: u64) -> Option<u64> {
    if weight == 0 || total == 0 {
        return None;
    }
    let mean = u128::from(block_interval_ns) * u128::from(total) / u128::from(weight);
    Some(u64::try_from(mean).unwrap_or(u64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log2_is_exact_at_powers_of_two_and_close_elsewhere() {
        assert_eq!(neg_log2_q32(1 << 63), 1 << 32);
        assert_eq!(neg_log2_q32(1 << 62), 2 << 32);
        assert_eq!(neg_log2_q32(1), 64 << 32);
        // u = 3/4: -log2 = 0.415037...
        let q = neg_log2_q32(3 << 62);
        let want = (0.415_037_499_278_843_8_f64 * 4_294_967_296.0) as u64;
        assert!(q.abs_diff(want) <= 2, "{q} vs {want}");
    }

    #[test]
    fn the_draws_have_the_mean_asked_for() {
        let mut rng = Rng::stream(3, "race");
        let mean = 100_000_000;
        let n = 20_000u64;
        let sum: u64 = (0..n).map(|_| draw_ns(&mut rng, mean)).sum();
        let got = sum / n;
        // The standard error of the mean of 20 000 exponentials is 0.7% of the mean.
        assert!(got.abs_diff(mean) < mean / 25, "mean {got}");
        // Median = mean * ln 2.
        let mut rng = Rng::stream(4, "race");
        let below = (0..n)
            .filter(|_| draw_ns(&mut rng, mean) < mean * 693 / 1000)
            .count() as u64;
        assert!(below.abs_diff(n / 2) < n / 40, "{below} of {n}");
    }

    #[test]
    fn shares_scale_the_mean() {
        assert_eq!(mean_ns(100, 1, 4), Some(400));
        assert_eq!(mean_ns(100, 0, 4), None);
        assert_eq!(mean_ns(100, 2, 2), Some(100));
    }
}
