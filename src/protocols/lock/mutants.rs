//! Planted bugs in the lock, each guarded by one flag and switched on by name from a scenario.
//!
//! | mutant | what changes | what catches it |
//! |---|---|---|
//! | `lock.no_drift_allowance` | a client trusts its lock until `TTL - elapsed`, with no allowance for lock servers whose clocks run fast | `belief_exclusion` on `lock_fencing.json` (its lock servers run 3% fast) |
//! | `lock.unlock_any_token` | a lock server deletes its lock on any unlock, whoever holds it | `belief_exclusion` on `lock_fencing.json` (the woken client's unlock frees the next holder's lock) |

use crate::contract::Mutant;

/// The mutants the lock offers.
pub const MUTANTS: &[Mutant] = &[
    Mutant {
        name: "lock.no_drift_allowance",
        about: "a client's validity is TTL minus elapsed time, with no allowance for clock drift",
    },
    Mutant {
        name: "lock.unlock_any_token",
        about: "a lock server releases its lock on any unlock, without comparing the holder's token",
    },
];

/// Which mutants are switched on. All off is correct Redlock.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Flags {
    /// `lock.no_drift_allowance`.
    pub no_drift_allowance: bool,
    /// `lock.unlock_any_token`.
    pub unlock_any_token: bool,
}

impl Flags {
    /// The flags for a scenario's mutant names; an unknown name is an error.
    pub fn from_names(names: &[String]) -> Result<Flags, String> {
        crate::contract::mutant_flags(names, MUTANTS, Flags::flag)
    }

    /// The flag of `MUTANTS[i]`: the one place that ties a name to its field.
    fn flag(&mut self, i: usize) -> Option<&mut bool> {
        Some(match i {
            0 => &mut self.no_drift_allowance,
            1 => &mut self.unlock_any_token,
            _ => return None,
        })
    }
}
