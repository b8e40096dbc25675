//! Planted bugs that show the checkers earn their keep. Each is one flag in [`Flags`] on the real code
//! path, switched on by name from a scenario's `"mutants"`.
//!
//! | mutant | what changes | what catches it |
//! |---|---|---|
//! | `twopc.abort_after_yes_on_timeout` | a participant that voted yes and hears nothing aborts on its own | `atomicity` |
//! | `twopc.decide_before_logging` | the coordinator sends its decision and writes it to its log later (at the next flush), so a crash in between forgets it | `decision_stability` |
//! | `twopc.count_yes_messages` | the coordinator counts yes messages, not distinct voters, so a duplicated or re-sent yes counts twice | `commit_validity` |

use crate::contract::Mutant;

/// The mutants two-phase commit offers.
pub const MUTANTS: &[Mutant] = &[
    Mutant {
        name: "twopc.abort_after_yes_on_timeout",
        about: "a participant that voted yes aborts on its own when the decision is late",
    },
    Mutant {
        name: "twopc.decide_before_logging",
        about: "the coordinator sends its decision before the decision is on its disk (logged at the next flush)",
    },
    Mutant {
        name: "twopc.count_yes_messages",
        about: "the coordinator counts yes messages instead of distinct yes voters",
    },
];

/// Which mutants are switched on. All off is correct two-phase commit.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Flags {
    /// `twopc.abort_after_yes_on_timeout`.
    pub abort_after_yes_on_timeout: bool,
    /// `twopc.decide_before_logging`.
    pub decide_before_logging: bool,
    /// `twopc.count_yes_messages`.
    pub count_yes_messages: bool,
}

impl Flags {
    /// The flags for a scenario's mutant names; an unknown name is an error.
    pub fn from_names(names: &[String]) -> Result<Flags, String> {
        crate::contract::mutant_flags(names, MUTANTS, Flags::flag)
    }

    /// The flag of `MUTANTS[i]`: the one place that ties a mutant's name to its field.
    fn flag(&mut self, i: usize) -> Option<&mut bool> {
        Some(match i {
            0 => &mut self.abort_after_yes_on_timeout,
            1 => &mut self.decide_before_logging,
            2 => &mut self.count_yes_messages,
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
        assert!(Flags::from_names(&["twopc.nope".into()]).is_err());
    }
}
