//! Planted bugs that show the checkers earn their keep. Each is one flag in [`Flags`] on the real code
//! path, switched on by name from a scenario's `"mutants"`.
//!
//! | mutant | what changes | what catches it |
//! |---|---|---|
//! | `pregel.no_barrier` | a worker that finished superstep s starts s+1 at once, without waiting for the master (so before the others finished s), reading whatever messages have arrived | `barrier` (and `vertex_values`) |
//! | `pregel.skip_rollback` | on a rollback only a worker that lost its state loads the checkpoint; the others acknowledge and keep their newer state | `rollback` (and `vertex_values`) |

use crate::contract::Mutant;

/// The mutants Pregel offers.
pub const MUTANTS: &[Mutant] = &[
    Mutant {
        name: "pregel.no_barrier",
        about: "a worker starts superstep s+1 as soon as its own part of s is done, reading partial messages",
    },
    Mutant {
        name: "pregel.skip_rollback",
        about: "on a rollback, workers that kept their state acknowledge the checkpoint but keep their newer state",
    },
];

/// Which mutants are switched on. All off is correct Pregel.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Flags {
    /// `pregel.no_barrier`.
    pub no_barrier: bool,
    /// `pregel.skip_rollback`.
    pub skip_rollback: bool,
}

impl Flags {
    /// The flags for a scenario's mutant names; an unknown name is an error.
    pub fn from_names(names: &[String]) -> Result<Flags, String> {
        crate::contract::mutant_flags(names, MUTANTS, Flags::flag)
    }

    /// The flag of `MUTANTS[i]`: the one place that ties a mutant's name to its field.
    fn flag(&mut self, i: usize) -> Option<&mut bool> {
        Some(match i {
            0 => &mut self.no_barrier,
            1 => &mut self.skip_rollback,
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
        assert!(Flags::from_names(&["pregel.nope".into()]).is_err());
    }
}
