//! Planted bugs that show the checkers earn their keep. Each is one flag in [`Flags`] guarding a
//! small change in the real code path, switched on by name from a scenario's `"mutants"`.
//!
//! | mutant | what changes | what catches it |
//! |---|---|---|
//! | `paxos.forget_promise_on_restart` | an acceptor's promise is not durable: a restart forgets it | `agreement` |
//! | `paxos.ignore_accepted_in_promise` | a proposer ignores the accepted values in the promises and proposes its own | `agreement` |
//! | `paxos.adopt_any_accepted` | a proposer adopts the lowest-numbered accepted value, not the highest | `agreement` |
//! | `paxos.non_unique_ballots` | ballots leave out the proposer's id, so two proposers share one | `agreement` |

use crate::contract::Mutant;

/// The mutants Paxos offers.
pub const MUTANTS: &[Mutant] = &[
    Mutant {
        name: "paxos.forget_promise_on_restart",
        about: "an acceptor keeps its promise in memory only: after a restart it accepts ballots below the one it promised",
    },
    Mutant {
        name: "paxos.ignore_accepted_in_promise",
        about: "a proposer ignores the values reported in promises and proposes its own value",
    },
    Mutant {
        name: "paxos.adopt_any_accepted",
        about: "a proposer adopts an accepted value that is not the highest-numbered one (the lowest)",
    },
    Mutant {
        name: "paxos.non_unique_ballots",
        about: "ballots are rounds alone: two proposers may use the same ballot for different values",
    },
];

/// Which mutants are on. All off is correct Paxos.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Flags {
    /// `paxos.forget_promise_on_restart`.
    pub forget_promise_on_restart: bool,
    /// `paxos.ignore_accepted_in_promise`.
    pub ignore_accepted_in_promise: bool,
    /// `paxos.adopt_any_accepted`.
    pub adopt_any_accepted: bool,
    /// `paxos.non_unique_ballots`.
    pub non_unique_ballots: bool,
}

impl Flags {
    /// The flags for a scenario's mutant names; an unknown name is an error.
    pub fn from_names(names: &[String]) -> Result<Flags, String> {
        crate::contract::mutant_flags(names, MUTANTS, Flags::flag)
    }

    /// The flag of `MUTANTS[i]`: the one place that ties a name to its field.
    fn flag(&mut self, i: usize) -> Option<&mut bool> {
        Some(match i {
            0 => &mut self.forget_promise_on_restart,
            1 => &mut self.ignore_accepted_in_promise,
            2 => &mut self.adopt_any_accepted,
            3 => &mut self.non_unique_ballots,
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
        assert!(Flags::from_names(&["paxos.nope".into()]).is_err());
    }
}
