//! Planted bugs that show the checkers earn their keep. Each is one flag in [`Flags`], a small change
//! on the real code path.
//!
//! | mutant | what changes | what catches it |
//! |---|---|---|
//! | `chord.stabilize_no_adopt` | stabilize never adopts its successor's predecessor `x ∈ (n, successor)` | `chord_ring`: a node that joins behind a linked pair is never linked from behind (and the ring's creator never leaves itself) |
//! | `chord.returns_predecessor` | find_successor answers with the node whose interval holds the key instead of that node's successor | `chord_lookups`: every lookup names the key's predecessor (under partitions `chord_ring` too: the ring check runs on lookups, so separate rings stop merging) |

use crate::contract::Mutant;

/// The mutants Chord offers.
pub const MUTANTS: &[Mutant] = &[
    Mutant {
        name: "chord.stabilize_no_adopt",
        about: "stabilize never adopts its successor's predecessor, so a node that joined in between is never linked from behind",
    },
    Mutant {
        name: "chord.returns_predecessor",
        about: "find_successor returns the key's predecessor (find_predecessor(id)) instead of its successor",
    },
];

/// Which mutants are on. All off is correct Chord.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Flags {
    /// `chord.stabilize_no_adopt`.
    pub stabilize_no_adopt: bool,
    /// `chord.returns_predecessor`.
    pub returns_predecessor: bool,
}

impl Flags {
    /// The flags for a scenario's mutant names.
    pub fn from_names(names: &[String]) -> Result<Flags, String> {
        crate::contract::mutant_flags(names, MUTANTS, Flags::flag)
    }

    /// The flag of `MUTANTS[i]`: the one place that ties a mutant's name to its field.
    fn flag(&mut self, i: usize) -> Option<&mut bool> {
        Some(match i {
            0 => &mut self.stabilize_no_adopt,
            1 => &mut self.returns_predecessor,
            _ => return None,
        })
    }
}
