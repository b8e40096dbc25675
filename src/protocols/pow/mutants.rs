//! Proof-of-work's planted bugs, each one flag in [`Flags`].
//!
//! | mutant | what changes | what catches it |
//! |---|---|---|
//! | `pow.skip_proof_check` | a node stores a received block without checking its hash, work or payload | `valid_blocks` (with a forging miner: `pow_skip_proof_check`) |
//! | `pow.no_reorg` | a node never leaves its chain for a longer one that forks below its tip | `k_deep_agreement` (after a partition heals: `pow_no_reorg`) |

use crate::contract::{Mutant, mutant_flags};

/// The mutants.
pub const MUTANTS: &[Mutant] = &[
    Mutant {
        name: "pow.skip_proof_check",
        about: "a node accepts a received block without verifying its proof of work (hash, leading zeros, payload digest)",
    },
    Mutant {
        name: "pow.no_reorg",
        about: "a node keeps its first chain: it never switches to a longer chain that forks below its tip",
    },
];

/// Which mutants are on; all off is the correct protocol.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Flags {
    /// `pow.skip_proof_check`.
    pub skip_proof_check: bool,
    /// `pow.no_reorg`.
    pub no_reorg: bool,
}

impl Flags {
    /// The flags a scenario's mutant names switch on.
    pub fn from_names(names: &[String]) -> Result<Flags, String> {
        mutant_flags(names, MUTANTS, |f: &mut Flags, i| match i {
            0 => Some(&mut f.skip_proof_check),
            1 => Some(&mut f.no_reorg),
            _ => None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_mutant_has_its_own_flag() {
        let mut seen = Vec::new();
        for m in MUTANTS {
            let f = Flags::from_names(&[m.name.to_string()]).expect(m.name);
            assert_ne!(f, Flags::default(), "{}", m.name);
            assert!(!seen.contains(&f), "{}", m.name);
            seen.push(f);
        }
        assert!(Flags::from_names(&["pow.nope".into()]).is_err());
    }
}
