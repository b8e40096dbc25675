//! Planted bugs that show the checkers earn their keep. Each is one flag in [`Flags`] on the real code
//! path, switched on by name from a scenario's `"mutants"`.
//!
//! | mutant | what changes | what catches it |
//! |---|---|---|
//! | `mapreduce.count_duplicate_completions` | a second completion of a reduce task is added to the partition's committed output instead of being ignored | `word_count_exact` |
//! | `mapreduce.no_reexecute_completed_maps` | completed map tasks are never re-executed: not when their worker fails or restarts, not when a reducer cannot fetch their output; the output is lost and no reduce that needs it can finish | `job_completes` |

use crate::contract::Mutant;

/// The mutants MapReduce offers.
pub const MUTANTS: &[Mutant] = &[
    Mutant {
        name: "mapreduce.count_duplicate_completions",
        about: "a duplicate reduce completion is counted: its counts are added to the committed output",
    },
    Mutant {
        name: "mapreduce.no_reexecute_completed_maps",
        about: "completed map tasks of a failed worker (or of a failed fetch) are not re-executed, so their output is lost",
    },
];

/// Which mutants are switched on. All off is the correct protocol.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Flags {
    /// `mapreduce.count_duplicate_completions`.
    pub count_duplicate_completions: bool,
    /// `mapreduce.no_reexecute_completed_maps`.
    pub no_reexecute_completed_maps: bool,
}

impl Flags {
    /// The flags for a scenario's mutant names; an unknown name is an error.
    pub fn from_names(names: &[String]) -> Result<Flags, String> {
        crate::contract::mutant_flags(names, MUTANTS, Flags::flag)
    }

    /// The flag of `MUTANTS[i]`: the one place that ties a mutant's name to its field.
    fn flag(&mut self, i: usize) -> Option<&mut bool> {
        Some(match i {
            0 => &mut self.count_duplicate_completions,
            1 => &mut self.no_reexecute_completed_maps,
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
        assert!(Flags::from_names(&["mapreduce.nope".into()]).is_err());
    }
}
