//! Seeded random streams. One master seed; every consumer (network, faults, workload, each node, each
//! Byzantine adversary) draws from its own ChaCha8 stream, derived from the seed by name, so that one
//! more draw in one place never shifts the draws of another.
//!
//! [`Rng`] is opaque: a protocol gets the draws it needs (a bounded integer, a duration, a coin in parts
//! per million, a pick, a shuffle) and never the generator, so the algorithm behind it can change without
//! touching a protocol.

use crate::contract::time::Duration;
use rand_chacha::ChaCha8Rng;
use rand_core::{RngCore, SeedableRng};
use sha2::{Digest, Sha256};

/// A deterministic random stream.
#[derive(Clone, Debug)]
pub struct Rng(ChaCha8Rng);

impl Rng {
    /// The stream called `name` (e.g. `"net"`, `"node/3"`) of the master seed `seed`.
    ///
    /// The key is SHA-256 of the seed and the name, so streams are independent and adding a new stream
    /// name never changes an existing one.
    pub fn stream(seed: u64, name: &str) -> Rng {
        let mut h = Sha256::new();
        h.update(b"distsim-stream-v1\0");
        h.update(seed.to_le_bytes());
        h.update(name.as_bytes());
        let key: [u8; 32] = h.finalize().into();
        Rng(ChaCha8Rng::from_seed(key))
    }

    /// A uniform 64-bit draw.
    pub fn next_u64(&mut self) -> u64 {
        self.0.next_u64()
    }

    /// A uniform draw in `0..n` without modulo bias (Lemire's multiply-and-reject). `n == 0` gives 0.
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            return 0;
        }
        // Reject the low products that would over-represent some results. The threshold needs a
        // division, so it is only computed in the rare case that the low half could be below it.
        let mut m = u128::from(self.0.next_u64()) * u128::from(n);
        if (m as u64) < n {
            let threshold = n.wrapping_neg() % n;
            while (m as u64) < threshold {
                m = u128::from(self.0.next_u64()) * u128::from(n);
            }
        }
        (m >> 64) as u64
    }

    /// A uniform draw in `lo..=hi` (inclusive). If `hi < lo` the result is `lo`.
    pub fn between(&mut self, lo: u64, hi: u64) -> u64 {
        if hi <= lo {
            return lo;
        }
        let span = hi - lo;
        if span == u64::MAX {
            return self.0.next_u64();
        }
        lo + self.below(span + 1)
    }

    /// A uniform duration in `lo..=hi`.
    pub fn duration_between(&mut self, lo: Duration, hi: Duration) -> Duration {
        Duration(self.between(lo.0, hi.0))
    }

    /// True with probability `ppm / 1_000_000`, decided with an integer comparison.
    pub fn chance_ppm(&mut self, ppm: u32) -> bool {
        if ppm == 0 {
            return false;
        }
        if ppm >= 1_000_000 {
            return true;
        }
        self.below(1_000_000) < u64::from(ppm)
    }

    /// A uniform index into a slice of `len` items; `None` when it is empty.
    pub fn index(&mut self, len: usize) -> Option<usize> {
        (len > 0).then(|| self.below(len as u64) as usize)
    }

    /// A uniformly chosen item; `None` when the slice is empty.
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> Option<&'a T> {
        self.index(items.len()).map(|i| &items[i])
    }

    /// Shuffles `items` in place (Fisher-Yates).
    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.below(i as u64 + 1) as usize;
            items.swap(i, j);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_are_independent_and_stable() {
        let mut a = Rng::stream(7, "net");
        let mut b = Rng::stream(7, "net");
        let mut c = Rng::stream(7, "node/0");
        let xa: Vec<u64> = (0..4).map(|_| a.next_u64()).collect();
        let xb: Vec<u64> = (0..4).map(|_| b.next_u64()).collect();
        let xc: Vec<u64> = (0..4).map(|_| c.next_u64()).collect();
        assert_eq!(xa, xb);
        assert_ne!(xa, xc);
    }

    #[test]
    fn draws_stay_in_range_and_cover_it() {
        let mut r = Rng::stream(1, "t");
        let mut seen = [false; 7];
        for _ in 0..1000 {
            let x = r.below(7);
            assert!(x < 7);
            seen[x as usize] = true;
        }
        assert!(seen.iter().all(|s| *s));
        assert_eq!(r.between(5, 5), 5);
        assert_eq!(r.between(9, 3), 9);
        assert!(!r.chance_ppm(0));
        assert!(r.chance_ppm(1_000_000));
        assert_eq!(r.index(0), None);
        let mut v: Vec<u32> = (0..20).collect();
        r.shuffle(&mut v);
        let mut sorted = v.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, (0..20).collect::<Vec<_>>());
        assert_ne!(v, sorted, "a shuffle of 20 items moved something");
    }
}
