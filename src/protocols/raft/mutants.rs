//! Planted bugs ("mutants") that show the checkers earn their keep. Each is a small change in the real
//! code path, guarded by one flag in [`Flags`], and switched on by name from a scenario's `"mutants"`.
//!
//! | mutant | what changes | what catches it |
//! |---|---|---|
//! | `raft.vote_ignores_log` | a voter skips the §5.4.1 up-to-date check | `leader_completeness`, then `state_machine_safety` |
//! | `raft.commit_prior_term` | a leader advances commitIndex on replicas of earlier-term entries (Figure 8) | `commit_safety`, then `state_machine_safety` |
//! | `raft.forget_vote_on_restart` | votedFor is kept in memory only, so a restart forgets it | `election_safety` |
//! | `raft.count_duplicate_votes` | a candidate counts vote responses, not voters, so a duplicated reply counts twice | `election_safety` |
//! | `raft.read_from_follower` | a follower answers `get` from its own state machine | the linearizability check of the history |
//! | `raft.forget_term_on_restart` | currentTerm is kept in memory only: a restart boots in term 0 | `durable_state` (generic) |
//! | `raft.install_snapshot_keeps_state` | a follower installing a leader's snapshot (§7) takes its index but keeps its own stale state machine | `state_machine_safety` |

use crate::contract::Mutant;

/// The mutants Raft offers.
pub const MUTANTS: &[Mutant] = &[
    Mutant {
        name: "raft.vote_ignores_log",
        about: "a voter grants its vote without checking that the candidate's log is up to date (§5.4.1)",
    },
    Mutant {
        name: "raft.commit_prior_term",
        about: "a leader commits an earlier-term entry by counting its replicas (Figure 8, §5.4.2)",
    },
    Mutant {
        name: "raft.forget_vote_on_restart",
        about: "votedFor is not durable: a restarted server may vote twice in one term",
    },
    Mutant {
        name: "raft.count_duplicate_votes",
        about: "a candidate counts vote responses instead of voters: a duplicated reply counts twice",
    },
    Mutant {
        name: "raft.read_from_follower",
        about: "a follower answers get from its own, possibly stale, state machine",
    },
    Mutant {
        name: "raft.forget_term_on_restart",
        about: "currentTerm is not durable: a restarted server boots in term 0",
    },
    Mutant {
        name: "raft.install_snapshot_keeps_state",
        about: "a follower installing a snapshot (§7) keeps its own stale state machine instead of the snapshot's",
    },
];

/// Which mutants are switched on. All off is correct Raft.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Flags {
    /// `raft.vote_ignores_log`.
    pub vote_ignores_log: bool,
    /// `raft.commit_prior_term`.
    pub commit_prior_term: bool,
    /// `raft.forget_vote_on_restart`.
    pub forget_vote_on_restart: bool,
    /// `raft.count_duplicate_votes`.
    pub count_duplicate_votes: bool,
    /// `raft.read_from_follower`.
    pub read_from_follower: bool,
    /// `raft.forget_term_on_restart`.
    pub forget_term_on_restart: bool,
    /// `raft.install_snapshot_keeps_state`.
    pub install_snapshot_keeps_state: bool,
}

impl Flags {
    /// The flags for a scenario's mutant names. An unknown name is an error (the engine checks names
    /// against [`MUTANTS`] first, so this only fires when the two lists disagree).
    pub fn from_names(names: &[String]) -> Result<Flags, String> {
        crate::contract::mutant_flags(names, MUTANTS, Flags::flag)
    }

    /// The flag of `MUTANTS[i]`: the one place that ties a mutant's name to its field.
    fn flag(&mut self, i: usize) -> Option<&mut bool> {
        Some(match i {
            0 => &mut self.vote_ignores_log,
            1 => &mut self.commit_prior_term,
            2 => &mut self.forget_vote_on_restart,
            3 => &mut self.count_duplicate_votes,
            4 => &mut self.read_from_follower,
            5 => &mut self.forget_term_on_restart,
            6 => &mut self.install_snapshot_keeps_state,
            _ => return None,
        })
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
        assert!(Flags::from_names(&["raft.nope".into()]).is_err());
    }
}
