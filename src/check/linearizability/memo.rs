//! The memo of configurations already explored (Lowe's cache): a set of (placed operations, model state).
//!
//! Bitsets live in one flat arena and configurations whose hashes collide are chained through indices, so a
//! lookup allocates nothing and stores nothing until a configuration is new. The search supplies the hash
//! (maintained incrementally), so the table's own hasher passes it through.
// determinism-ok: membership only (the table is probed by key and never iterated, so its order cannot leak)
#![allow(clippy::disallowed_types)]

use super::search::NIL;
use std::collections::HashMap; // determinism-ok: probed by key, never iterated
use std::hash::{BuildHasherDefault, Hasher};

/// Passes an already well-mixed `u64` key through untouched.
#[derive(Default)]
pub(crate) struct IdentityHasher(u64);

impl Hasher for IdentityHasher {
    fn write(&mut self, bytes: &[u8]) {
        // Only `u64` keys are hashed here; fold anything else in anyway rather than panic.
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }

    fn write_u64(&mut self, i: u64) {
        self.0 = i;
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// How many configurations with the same completed operations and state an insertion compares against
/// for inclusion. Inclusion only prunes, so looking at fewer never makes an answer wrong; the bound keeps
/// an insertion's cost flat when many incomparable sets of unknown operations pile up.
const COVER_CHECKS_MAX: usize = 16;

/// The configurations (placed operations, state) explored so far. Bitsets live in flat arenas and
/// configurations are chained through indices, so a lookup allocates nothing.
///
/// Placed operations come as two bitsets: the completed ones and the ones of unknown outcome. Besides
/// exact repeats, a configuration is *covered* by one already seen with the same completed operations and
/// state and a subset of its unknown operations: unknown operations have no return, so they constrain
/// nothing, and everything the larger set can still do the smaller one can do too. Covered
/// configurations need no exploring. Exact repeats are always found (one chain per full hash); covering
/// ones are looked for among the most recent [`COVER_CHECKS_MAX`] of the same group (one chain per hash of
/// completed operations and state).
pub(crate) struct Memo<S> {
    completed_words: usize,
    unknown_words: usize,
    completed: Vec<u64>,
    unknown: Vec<u64>,
    states: Vec<S>,
    exact_next: Vec<u32>,
    group_next: Vec<u32>,
    // determinism-ok: membership only
    exact_heads: HashMap<u64, u32, BuildHasherDefault<IdentityHasher>>, // determinism-ok: membership
    // determinism-ok: membership only
    group_heads: HashMap<u64, u32, BuildHasherDefault<IdentityHasher>>, // determinism-ok: membership
}

impl<S: Clone + Eq> Memo<S> {
    /// An empty memo for bitsets of these sizes, in 64-bit words.
    pub(crate) fn new(completed_words: usize, unknown_words: usize) -> Self {
        Memo {
            completed_words,
            unknown_words,
            completed: Vec::new(),
            unknown: Vec::new(),
            states: Vec::new(),
            exact_next: Vec::new(),
            group_next: Vec::new(),
            exact_heads: HashMap::default(), // determinism-ok: membership
            group_heads: HashMap::default(), // determinism-ok: membership
        }
    }

    fn same_group(&self, i: usize, completed: &[u64], state: &S) -> bool {
        let cw = self.completed_words;
        self.states[i] == *state && self.completed[i * cw..(i + 1) * cw] == *completed
    }

    /// Adds the configuration; false if it is already there or covered. `group_hash` hashes the completed
    /// operations and the state, `unknown_hash` the unknown operations.
    #[inline]
    pub(crate) fn insert(
        &mut self,
        group_hash: u64,
        unknown_hash: u64,
        completed: &[u64],
        unknown: &[u64],
        state: &S,
    ) -> bool {
        let uw = self.unknown_words;
        let new = self.states.len() as u32;
        let exact_hash = group_hash ^ unknown_hash;
        let exact_head = self.exact_heads.get(&exact_hash).copied().unwrap_or(NIL);
        let mut at = exact_head;
        while at != NIL {
            let i = at as usize;
            if self.same_group(i, completed, state)
                && self.unknown[i * uw..(i + 1) * uw] == *unknown
            {
                return false;
            }
            at = self.exact_next[i];
        }
        let group_head = if uw == 0 {
            NIL
        } else {
            let head = self.group_heads.get(&group_hash).copied().unwrap_or(NIL);
            let mut at = head;
            let mut checks = 0;
            while at != NIL && checks < COVER_CHECKS_MAX {
                let i = at as usize;
                checks += 1;
                let covered = self.same_group(i, completed, state)
                    && self.unknown[i * uw..(i + 1) * uw]
                        .iter()
                        .zip(unknown)
                        .all(|(seen, now)| seen & !now == 0);
                if covered {
                    return false;
                }
                at = self.group_next[i];
            }
            self.group_heads.insert(group_hash, new);
            head
        };
        self.exact_heads.insert(exact_hash, new);
        self.exact_next.push(exact_head);
        self.group_next.push(group_head);
        self.completed.extend_from_slice(completed);
        self.unknown.extend_from_slice(unknown);
        self.states.push(state.clone());
        true
    }
}

#[cfg(test)]
mod tests {
    use super::Memo;

    #[test]
    fn repeats_and_covered_configurations_are_refused() {
        let mut memo: Memo<i64> = Memo::new(1, 1);
        assert!(memo.insert(7, 1, &[0b01], &[0b001], &5));
        // The same configuration again.
        assert!(!memo.insert(7, 1, &[0b01], &[0b001], &5));
        // More unknown operations placed, same completed ones and state: covered.
        assert!(!memo.insert(7, 3, &[0b01], &[0b011], &5));
        // Fewer unknown operations placed: not covered (it can do more).
        assert!(memo.insert(7, 0, &[0b01], &[0b000], &5));
        // Another state, or other completed operations: not covered.
        assert!(memo.insert(7, 3, &[0b01], &[0b011], &6));
        assert!(memo.insert(7, 3, &[0b11], &[0b011], &5));
    }
}
