//! The memo of configurations already explored (Lowe's cache): a set of (placed operations, model state).
//!
//! # Keys that track the live window, not the history
//!
//! A configuration's placed completed operations are kept as a *retired prefix* and a *window*: every
//! operation below word `low` of the bitset (in invoke order) is placed, and the words from `low` up to the
//! last one with a bit set are stored as they are. The search only places an operation that began before
//! the first unplaced one returned, so the window spans the operations concurrent with that one: its size
//! follows the history's concurrency, not its length, and a sequential history of n operations is
//! remembered in O(n) words rather than O(n²/64).
//!
//! Operations of unknown outcome are placed rarely (only when a completed operation needs them), so their
//! sets are *hash-consed*: each distinct set is stored once in [`UnknownSets`] and a configuration holds
//! its 32-bit id.
//!
//! Besides exact repeats, a configuration is *covered* by one already seen with the same completed
//! operations, state and constraint and a subset of its unknown operations: unknown operations have no
//! return, so they constrain nothing, and everything the larger set can still do the smaller one can do
//! too. Exact repeats are always found (one chain per full hash); covering ones are looked for among the
//! most recent [`COVER_CHECKS_MAX`] of the same group (one chain per hash of completed operations and
//! state).
//!
//! # Bytes
//!
//! The memo counts the bytes it holds from sizes (entries, windows, sets, the model's estimate of each
//! state's heap bytes, and [`MAP_SLOT_BYTES`] per hash-table slot), never by asking the allocator: the
//! count, and so the verdict when a memory budget runs out, is the same on every machine.
// determinism-ok: membership only (the tables are probed by key and never iterated, so their order cannot
// leak)
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

// determinism-ok: membership only
type Heads = HashMap<u64, u32, BuildHasherDefault<IdentityHasher>>; // determinism-ok: membership

/// What one hash-table slot (a `u64` key and a `u32` value, padded, at the table's load factor of 7/8,
/// doubled for the growth that keeps it there) is counted as.
pub(crate) const MAP_SLOT_BYTES: u64 = 36;

/// How many configurations with the same completed operations and state an insertion compares against
/// for inclusion. Inclusion only prunes, so looking at fewer never makes an answer wrong; the bound keeps
/// an insertion's cost flat when many incomparable sets of unknown operations pile up.
const COVER_CHECKS_MAX: usize = 16;

/// The hash-consed sets of placed operations of unknown outcome: each distinct set once, named by id.
pub(crate) struct UnknownSets {
    words: usize,
    bits: Vec<u64>,
    next: Vec<u32>,
    heads: Heads,
    bytes: u64,
}

impl UnknownSets {
    /// An empty table for sets of `words` 64-bit words; the empty set is id 0.
    pub(crate) fn new(words: usize) -> Self {
        let mut sets = UnknownSets {
            words,
            bits: Vec::new(),
            next: Vec::new(),
            heads: Heads::default(),
            bytes: 0,
        };
        let empty = sets.intern(0, &vec![0; words]);
        debug_assert_eq!(empty, 0);
        sets
    }

    fn get(&self, id: u32) -> &[u64] {
        let at = id as usize * self.words;
        &self.bits[at..at + self.words]
    }

    /// The id of this set (`hash` is its hash), adding it if it is new.
    pub(crate) fn intern(&mut self, hash: u64, bits: &[u64]) -> u32 {
        debug_assert_eq!(bits.len(), self.words);
        let head = self.heads.get(&hash).copied().unwrap_or(NIL);
        let mut at = head;
        while at != NIL {
            if self.get(at) == bits {
                return at;
            }
            at = self.next[at as usize];
        }
        let id = self.next.len() as u32;
        self.bits.extend_from_slice(bits);
        self.next.push(head);
        self.heads.insert(hash, id);
        self.bytes += self.words as u64 * 8 + 4 + MAP_SLOT_BYTES;
        id
    }

    /// Whether set `a` is a subset of set `b`.
    fn subset(&self, a: u32, b: u32) -> bool {
        a == b
            || self
                .get(a)
                .iter()
                .zip(self.get(b))
                .all(|(x, y)| x & !y == 0)
    }

    /// The bytes held, counted from sizes.
    pub(crate) fn bytes(&self) -> u64 {
        self.bytes
    }
}

/// A configuration as the search describes it.
pub(crate) struct Config<'a, S> {
    /// Hash of the placed completed operations, the state and the constraint.
    pub(crate) group_hash: u64,
    /// Hash of the placed unknown operations.
    pub(crate) unknown_hash: u64,
    /// Every completed operation in a word below this one is placed.
    pub(crate) low: u32,
    /// The completed operations' words from `low` to the last non-zero one.
    pub(crate) window: &'a [u64],
    /// The id of the set of placed unknown operations in [`UnknownSets`].
    pub(crate) unknown: u32,
    /// The next operation placed must observe the state (see the search's blind-write rule).
    pub(crate) must_observe: bool,
    /// The model state.
    pub(crate) state: &'a S,
}

struct Entry<S> {
    state: S,
    low: u32,
    window_at: u32,
    window_len: u32,
    unknown: u32,
    must_observe: bool,
    exact_next: u32,
    group_next: u32,
}

/// The configurations explored so far.
pub(crate) struct Memo<S> {
    /// Whether configurations are chained by group for the inclusion check (only worth it when there
    /// are operations of unknown outcome).
    covering: bool,
    entries: Vec<Entry<S>>,
    windows: Vec<u64>,
    exact_heads: Heads,
    group_heads: Heads,
    bytes: u64,
}

impl<S: Clone + Eq> Memo<S> {
    /// An empty memo; `covering` when some operations are of unknown outcome.
    pub(crate) fn new(covering: bool) -> Self {
        Memo {
            covering,
            entries: Vec::new(),
            windows: Vec::new(),
            exact_heads: Heads::default(),
            group_heads: Heads::default(),
            bytes: 0,
        }
    }

    fn same_group(&self, e: &Entry<S>, c: &Config<'_, S>) -> bool {
        e.low == c.low
            && e.must_observe == c.must_observe
            && e.window_len as usize == c.window.len()
            && e.state == *c.state
            && self.windows[e.window_at as usize..(e.window_at + e.window_len) as usize]
                == *c.window
    }

    /// Whether the configuration was seen, or is covered by one seen.
    pub(crate) fn contains(&self, c: &Config<'_, S>, sets: &UnknownSets) -> bool {
        let exact_hash = c.group_hash ^ c.unknown_hash;
        let mut at = self.exact_heads.get(&exact_hash).copied().unwrap_or(NIL);
        while at != NIL {
            let e = &self.entries[at as usize];
            if e.unknown == c.unknown && self.same_group(e, c) {
                return true;
            }
            at = e.exact_next;
        }
        if !self.covering || c.unknown == 0 {
            // Nothing is a proper subset of the empty set.
            return false;
        }
        let mut at = self.group_heads.get(&c.group_hash).copied().unwrap_or(NIL);
        let mut checks = 0;
        while at != NIL && checks < COVER_CHECKS_MAX {
            checks += 1;
            let e = &self.entries[at as usize];
            if sets.subset(e.unknown, c.unknown) && self.same_group(e, c) {
                return true;
            }
            at = e.group_next;
        }
        false
    }

    /// Adds a configuration that [`Memo::contains`] refused; `state_heap_bytes` is the model's estimate
    /// for its state.
    pub(crate) fn insert(&mut self, c: &Config<'_, S>, state_heap_bytes: usize) {
        let id = self.entries.len() as u32;
        let exact_hash = c.group_hash ^ c.unknown_hash;
        let exact_next = self.exact_heads.insert(exact_hash, id).unwrap_or(NIL);
        let group_next = if self.covering {
            self.bytes += MAP_SLOT_BYTES;
            self.group_heads.insert(c.group_hash, id).unwrap_or(NIL)
        } else {
            NIL
        };
        let window_at = self.windows.len() as u32;
        self.windows.extend_from_slice(c.window);
        self.entries.push(Entry {
            state: c.state.clone(),
            low: c.low,
            window_at,
            window_len: c.window.len() as u32,
            unknown: c.unknown,
            must_observe: c.must_observe,
            exact_next,
            group_next,
        });
        self.bytes += Self::entry_bytes(c.window.len(), state_heap_bytes);
    }

    /// The bytes one entry is counted as (besides its slot in the group table, when covering).
    pub(crate) fn entry_bytes(window_words: usize, state_heap_bytes: usize) -> u64 {
        (std::mem::size_of::<Entry<S>>() + window_words * 8 + state_heap_bytes) as u64
            + MAP_SLOT_BYTES
    }

    /// The bytes held, counted from sizes.
    pub(crate) fn bytes(&self) -> u64 {
        self.bytes
    }
}

#[cfg(test)]
mod tests {
    use super::{Config, Memo, UnknownSets};

    fn config<'a>(
        window: &'a [u64],
        unknown: u32,
        unknown_hash: u64,
        state: &'a i64,
    ) -> Config<'a, i64> {
        Config {
            group_hash: 7 ^ window[0] ^ (*state as u64) << 8,
            unknown_hash,
            low: 0,
            window,
            unknown,
            must_observe: false,
            state,
        }
    }

    #[test]
    fn repeats_and_covered_configurations_are_refused() {
        let mut sets = UnknownSets::new(1);
        let one = sets.intern(1, &[0b001]);
        let two = sets.intern(3, &[0b011]);
        assert_eq!(sets.intern(1, &[0b001]), one, "a set is stored once");
        let mut memo: Memo<i64> = Memo::new(true);
        let first = config(&[0b01], one, 1, &5);
        assert!(!memo.contains(&first, &sets));
        memo.insert(&first, 0);
        // The same configuration again.
        assert!(memo.contains(&config(&[0b01], one, 1, &5), &sets));
        // More unknown operations placed, same completed ones and state: covered.
        assert!(memo.contains(&config(&[0b01], two, 3, &5), &sets));
        // Fewer unknown operations placed: not covered (it can do more).
        assert!(!memo.contains(&config(&[0b01], 0, 0, &5), &sets));
        // Another state, other completed operations, or another constraint: not covered.
        assert!(!memo.contains(&config(&[0b01], two, 3, &6), &sets));
        assert!(!memo.contains(&config(&[0b11], two, 3, &5), &sets));
        let mut constrained = config(&[0b01], one, 1, &5);
        constrained.must_observe = true;
        assert!(!memo.contains(&constrained, &sets));
        assert!(memo.bytes() > 0 && sets.bytes() > 0);
    }
}
