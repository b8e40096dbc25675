//! Planted bugs that show the checkers earn their keep, each one flag in [`Flags`].
//!
//! | mutant | what changes | what catches it |
//! |---|---|---|
//! | `kv.cp_read_without_writeback` | an ABD read returns after phase 1, skipping the write-back | linearizability (a new-old inversion after a partial write) |
//! | `kv.quorum_n_div_2` | the CP quorum is n/2 instead of n/2+1 | linearizability, under a partition that splits the servers evenly |

use crate::contract::Mutant;

/// The mutants the store offers.
pub const MUTANTS: &[Mutant] = &[
    Mutant {
        name: "kv.cp_read_without_writeback",
        about: "an ABD read returns the highest version it saw without writing it back to a quorum",
    },
    Mutant {
        name: "kv.quorum_n_div_2",
        about: "CP quorums are n/2 servers, not n/2+1: two halves of an even split both serve",
    },
];

/// Which mutants are on. All off is the correct store.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Flags {
    /// `kv.cp_read_without_writeback`.
    pub read_without_writeback: bool,
    /// `kv.quorum_n_div_2`.
    pub quorum_n_div_2: bool,
}

impl Flags {
    /// The flags for a scenario's mutant names.
    pub fn from_names(names: &[String]) -> Result<Flags, String> {
        crate::contract::mutant_flags(names, MUTANTS, Flags::flag)
    }

    /// The flag of `MUTANTS[i]`: the one place that ties a name to its field.
    fn flag(&mut self, i: usize) -> Option<&mut bool> {
        Some(match i {
            0 => &mut self.read_without_writeback,
            1 => &mut self.quorum_n_div_2,
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
        assert!(Flags::from_names(&["kv.nope".into()]).is_err());
    }
}
