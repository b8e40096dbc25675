//! Seeded random streams. One master seed; every consumer (network, faults, workload, each node) draws
//! from its own ChaCha8 stream, so that one more draw in one place never shifts the draws of another.

use rand_chacha::ChaCha8Rng;
use rand_core::{RngCore, SeedableRng};
use sha2::{Digest, Sha256};

/// The random stream type used everywhere in a run.
pub type Rng = ChaCha8Rng;

/// Derives the stream called `name` (e.g. `"net"`, `"node/3"`) from the master seed.
///
/// The key is SHA-256 of the seed and the name, so streams are independent and adding a new stream
/// name never changes an existing one.
pub fn stream(seed: u64, name: &str) -> Rng {
    let mut h = Sha256::new();
    h.update(b"distsim-stream-v1\0");
    h.update(seed.to_le_bytes());
    h.update(name.as_bytes());
    let key: [u8; 32] = h.finalize().into();
    ChaCha8Rng::from_seed(key)
}

/// A uniform draw in `0..n` without modulo bias (Lemire's multiply-and-reject). `n == 0` gives 0.
pub fn below(rng: &mut Rng, n: u64) -> u64 {
    if n == 0 {
        return 0;
    }
    // Reject the low products that would over-represent some results. The threshold needs a
    // division, so it is only computed in the rare case that the low half could be below it.
    let mut m = u128::from(rng.next_u64()) * u128::from(n);
    if (m as u64) < n {
        let threshold = n.wrapping_neg() % n;
        while (m as u64) < threshold {
            m = u128::from(rng.next_u64()) * u128::from(n);
        }
    }
    (m >> 64) as u64
}

/// A uniform draw in `lo..=hi` (inclusive). If `hi < lo` the result is `lo`.
pub fn between(rng: &mut Rng, lo: u64, hi: u64) -> u64 {
    if hi <= lo {
        return lo;
    }
    let span = hi - lo;
    if span == u64::MAX {
        return rng.next_u64();
    }
    lo + below(rng, span + 1)
}

/// True with probability `ppm / 1_000_000`, decided with an integer comparison.
pub fn chance_ppm(rng: &mut Rng, ppm: u32) -> bool {
    if ppm == 0 {
        return false;
    }
    if ppm >= 1_000_000 {
        return true;
    }
    below(rng, 1_000_000) < u64::from(ppm)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_are_independent_and_stable() {
        let mut a = stream(7, "net");
        let mut b = stream(7, "net");
        let mut c = stream(7, "node/0");
        let xa: Vec<u64> = (0..4).map(|_| a.next_u64()).collect();
        let xb: Vec<u64> = (0..4).map(|_| b.next_u64()).collect();
        let xc: Vec<u64> = (0..4).map(|_| c.next_u64()).collect();
        assert_eq!(xa, xb);
        assert_ne!(xa, xc);
    }

    #[test]
    fn below_stays_in_range_and_covers_it() {
        let mut r = stream(1, "t");
        let mut seen = [false; 7];
        for _ in 0..1000 {
            let x = below(&mut r, 7);
            assert!(x < 7);
            seen[x as usize] = true;
        }
        assert!(seen.iter().all(|s| *s));
        assert_eq!(between(&mut r, 5, 5), 5);
        assert!(!chance_ppm(&mut r, 0));
        assert!(chance_ppm(&mut r, 1_000_000));
    }
}
