//! PBFT's planted bugs, each one flag in [`Flags`].
//!
//! | mutant | what changes | what catches it |
//! |---|---|---|
//! | `pbft.quorum_2f` | quorums of 2f instead of 2f + 1 | `agreement` (an equivocating primary splits the backups) |
//! | `pbft.no_digest_match` | prepares and commits are matched on view and sequence number only | `agreement` |
//! | `pbft.view_change_drops_prepared` | view-change messages carry no prepared certificates | `committed_seq_stable` (a new view reuses committed sequence numbers) |
//! | `pbft.checkpoint_quorum_f` | a checkpoint is stable with f + 1 matching CHECKPOINT messages instead of 2f + 1 | `checkpoint_stable` (`pbft_checkpoints`: a replica discards its log before 2f + 1 replicas hold the state) |
//! | `pbft.gc_unstable` | a replica discards its log up to its own checkpoint at once, before it is stable | `checkpoint_stable` |

use crate::contract::Mutant;

/// The mutants PBFT offers.
pub const MUTANTS: &[Mutant] = &[
    Mutant {
        name: "pbft.quorum_2f",
        about: "quorums of 2f replicas instead of 2f + 1: two quorums may share no correct replica",
    },
    Mutant {
        name: "pbft.no_digest_match",
        about: "prepares (and commits) are matched on view and sequence number only, not on the request digest",
    },
    Mutant {
        name: "pbft.view_change_drops_prepared",
        about: "view-change messages carry no prepared certificates, so a new view forgets committed requests",
    },
    Mutant {
        name: "pbft.checkpoint_quorum_f",
        about: "a checkpoint becomes stable (and the log is discarded up to it) with f + 1 matching CHECKPOINT messages instead of 2f + 1",
    },
    Mutant {
        name: "pbft.gc_unstable",
        about: "a replica discards its log up to its own checkpoint as soon as it takes it, before the checkpoint is stable",
    },
];

/// Which mutants are on. All off is correct PBFT.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Flags {
    /// `pbft.quorum_2f`.
    pub quorum_2f: bool,
    /// `pbft.no_digest_match`.
    pub no_digest_match: bool,
    /// `pbft.view_change_drops_prepared`.
    pub view_change_drops_prepared: bool,
    /// `pbft.checkpoint_quorum_f`.
    pub checkpoint_quorum_f: bool,
    /// `pbft.gc_unstable`.
    pub gc_unstable: bool,
}

impl Flags {
    /// The flags for a scenario's mutant names.
    pub fn from_names(names: &[String]) -> Result<Flags, String> {
        let mut f = Flags::default();
        for name in names {
            match name.as_str() {
                "pbft.quorum_2f" => f.quorum_2f = true,
                "pbft.no_digest_match" => f.no_digest_match = true,
                "pbft.view_change_drops_prepared" => f.view_change_drops_prepared = true,
                "pbft.checkpoint_quorum_f" => f.checkpoint_quorum_f = true,
                "pbft.gc_unstable" => f.gc_unstable = true,
                other => return Err(format!("mutants: unknown pbft mutant {other:?}")),
            }
        }
        Ok(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_listed_mutant_has_a_flag_of_its_own() {
        let mut seen = Vec::new();
        for m in MUTANTS {
            let f = Flags::from_names(&[m.name.to_string()]).expect(m.name);
            assert_ne!(f, Flags::default(), "{}", m.name);
            assert!(!seen.contains(&f), "{} shares a flag", m.name);
            seen.push(f);
        }
        assert!(Flags::from_names(&["pbft.nope".into()]).is_err());
    }
}
