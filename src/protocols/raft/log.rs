//! The replicated log, as one server stores it on its disk.
//!
//! Indices are 1-based, and index 0 is a sentinel with term 0 that every log "contains", so the
//! AppendEntries consistency check at `prev_log_index == 0` always passes. Keeping that convention in
//! one place (this file) is what avoids the 0/1-based mix-ups of the naive sketch.
//!
//! **Compaction (Raft paper §7).** A prefix of the log may be replaced by a snapshot of the state
//! machine: the log then starts after the snapshot's last included index, and remembers that index
//! and its term (for the AppendEntries consistency check right after it, and for the up-to-date
//! check of an empty log). Entry `i` lives at `entries[i - snapshot_index - 1]`; the entries at or
//! below `snapshot_index` are gone (`entry` and `term_at` answer `None` for them, except `term_at`
//! at the snapshot index itself). The snapshot's contents live on the disk beside the log
//! (`ServerDisk::snapshot`); without compaction `snapshot_index` is 0 and the sentinel is the base.
//!
//! Invariants (checked with `debug_assert!` where they are established):
//! - terms are non-decreasing along the log, the snapshot's term first (a leader only appends entries
//!   of its current term, and a follower only stores a prefix of some leader's log);
//! - only committed, applied entries are ever compacted (the caller's duty; the checkers hold it).

use super::message::{Entry, Index, Term};

/// A server's log of entries (durable), after the prefix its snapshot replaced.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Log {
    /// The last index the snapshot covers (0: no snapshot).
    snapshot_index: Index,
    /// The term of the entry at `snapshot_index` (0 with no snapshot).
    snapshot_term: Term,
    /// The entries after `snapshot_index`.
    entries: Vec<Entry>,
}

impl Log {
    /// An empty log.
    pub fn new() -> Log {
        Log::default()
    }

    /// The last index the snapshot covers (0 with no snapshot).
    pub fn snapshot_index(&self) -> Index {
        self.snapshot_index
    }

    /// The term of the entry at [`Log::snapshot_index`] (0 with no snapshot).
    pub fn snapshot_term(&self) -> Term {
        self.snapshot_term
    }

    /// Index of the last entry (the snapshot's last index if no entry follows it), 0 if empty.
    pub fn last_index(&self) -> Index {
        self.snapshot_index + self.entries.len() as Index
    }

    /// Term of the last entry (or of the snapshot's last one), 0 if empty.
    pub fn last_term(&self) -> Term {
        self.entries.last().map_or(self.snapshot_term, |e| e.term)
    }

    /// The term of the entry at `index`: `Some(0)` for the sentinel 0, the snapshot's term at its
    /// last index, `None` past the end and below the snapshot's last index (compacted).
    pub fn term_at(&self, index: Index) -> Option<Term> {
        if index == self.snapshot_index {
            return Some(self.snapshot_term);
        }
        self.entry(index).map(|e| e.term)
    }

    /// The entry at `index` (1-based), if the log holds it (not past the end, not compacted).
    pub fn entry(&self, index: Index) -> Option<&Entry> {
        let i = index.checked_sub(self.snapshot_index)?.checked_sub(1)?;
        self.entries.get(usize::try_from(i).ok()?)
    }

    /// The position of index `index` (above the snapshot) in `entries`.
    fn position(&self, index: Index) -> usize {
        debug_assert!(index > self.snapshot_index, "index {index} is compacted");
        usize::try_from(index - self.snapshot_index - 1).unwrap_or(usize::MAX)
    }

    /// Discards the entries up to and including `index`, which the caller has just put into a
    /// snapshot: `index` must be in the log, past the current snapshot.
    pub fn compact_through(&mut self, index: Index) {
        let term = self.term_at(index);
        debug_assert!(
            index > self.snapshot_index && term.is_some(),
            "compacting through {index}, outside the log {}..={}",
            self.snapshot_index,
            self.last_index()
        );
        let Some(term) = term else { return };
        let drop = self.position(index) + 1;
        self.entries.drain(..drop);
        self.snapshot_index = index;
        self.snapshot_term = term;
    }

    /// Replaces the whole log with a snapshot's base `(index, term)` (an installed snapshot that the
    /// log does not extend, §7): every entry is discarded.
    pub fn reset_to_snapshot(&mut self, index: Index, term: Term) {
        self.entries.clear();
        self.snapshot_index = index;
        self.snapshot_term = term;
    }

    /// Appends `entry` at `last_index() + 1` and returns that index.
    pub fn append(&mut self, entry: Entry) -> Index {
        debug_assert!(
            entry.term >= self.last_term(),
            "log terms must not decrease: appending term {} after {}",
            entry.term,
            self.last_term()
        );
        self.entries.push(entry);
        self.last_index()
    }

    /// Removes the entry at `index` and every entry after it. `index` must be past the snapshot
    /// (only committed entries are compacted, and those are never removed).
    pub fn truncate_from(&mut self, index: Index) {
        debug_assert!(
            index > self.snapshot_index,
            "the snapshot (through {}) cannot be truncated from {index}",
            self.snapshot_index
        );
        let keep =
            usize::try_from(index.saturating_sub(self.snapshot_index + 1)).unwrap_or(usize::MAX);
        self.entries.truncate(keep);
    }

    /// Up to `max` entries starting at index `from`, borrowed (clone them for an AppendEntries: that
    /// copies reference counts, not commands). `from` must be past the snapshot.
    pub fn slice(&self, from: Index, max: u64) -> &[Entry] {
        debug_assert!(from > self.snapshot_index);
        let start =
            usize::try_from(from.saturating_sub(self.snapshot_index + 1)).unwrap_or(usize::MAX);
        let start = start.min(self.entries.len());
        let end = start
            .saturating_add(usize::try_from(max).unwrap_or(usize::MAX))
            .min(self.entries.len());
        &self.entries[start..end]
    }

    /// Whether a candidate whose last entry is `(last_log_index, last_log_term)` has a log at least as
    /// up-to-date as this one (§5.4.1): a later last term wins; with equal last terms, the longer log.
    pub fn candidate_is_up_to_date(&self, last_log_index: Index, last_log_term: Term) -> bool {
        let (my_index, my_term) = (self.last_index(), self.last_term());
        last_log_term > my_term || (last_log_term == my_term && last_log_index >= my_index)
    }

    /// The first index of the run of entries with the same term as the entry at `index` (a conflict
    /// hint: the leader can skip that whole term in one round trip), never at or below the snapshot
    /// (those entries are committed, so they match any leader's). `index` must be in the log.
    pub fn first_index_of_term_at(&self, index: Index) -> Index {
        let Some(term) = self.term_at(index) else {
            return self.last_index() + 1;
        };
        let mut first = index;
        while first > self.snapshot_index + 1 && self.term_at(first - 1) == Some(term) {
            first -= 1;
        }
        first.max(self.snapshot_index + 1)
    }

    /// The index of the last entry with term `term`, if the log still holds one (not compacted).
    pub fn last_index_of_term(&self, term: Term) -> Option<Index> {
        // Terms are non-decreasing, so scan back only over the entries of later terms.
        let mut i = self.last_index();
        while i > self.snapshot_index {
            let t = self.term_at(i)?;
            if t == term {
                return Some(i);
            }
            if t < term {
                return None;
            }
            i -= 1;
        }
        None
    }

    /// The entries after the snapshot, in order (index `snapshot_index() + 1` first).
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }
}

#[cfg(test)]
mod tests {
    use super::super::message::Command;
    use super::*;

    fn log_of(terms: &[Term]) -> Log {
        let mut log = Log::new();
        for t in terms {
            log.append(Entry::new(*t, Command::Noop { leader: 0 }));
        }
        log
    }

    #[test]
    fn indices_are_one_based_with_a_sentinel() {
        let log = log_of(&[1, 1, 2]);
        assert_eq!(log.last_index(), 3);
        assert_eq!(log.last_term(), 2);
        assert_eq!(log.term_at(0), Some(0));
        assert_eq!(log.term_at(1), Some(1));
        assert_eq!(log.term_at(3), Some(2));
        assert_eq!(log.term_at(4), None);
        assert_eq!(Log::new().last_term(), 0);
        assert!(log.entry(0).is_none());
    }

    #[test]
    fn slice_truncate_and_hints() {
        let mut log = log_of(&[1, 1, 2, 2, 2, 3]);
        assert_eq!(log.slice(2, 3).len(), 3);
        assert_eq!(log.slice(6, 10).len(), 1);
        assert_eq!(log.slice(7, 10).len(), 0);
        assert_eq!(log.first_index_of_term_at(5), 3);
        assert_eq!(log.first_index_of_term_at(1), 1);
        assert_eq!(log.last_index_of_term(2), Some(5));
        assert_eq!(log.last_index_of_term(4), None);
        assert_eq!(log.last_index_of_term(0), None);
        log.truncate_from(4);
        assert_eq!(log.last_index(), 3);
        log.truncate_from(1);
        assert_eq!(log.last_index(), 0);
    }

    #[test]
    fn a_compacted_log_keeps_its_indices_and_the_snapshot_term() {
        let mut log = log_of(&[1, 1, 2, 2, 3]);
        log.compact_through(3);
        assert_eq!((log.snapshot_index(), log.snapshot_term()), (3, 2));
        assert_eq!((log.last_index(), log.last_term()), (5, 3));
        assert_eq!(log.term_at(2), None, "compacted");
        assert_eq!(
            log.term_at(3),
            Some(2),
            "the snapshot's last entry keeps its term"
        );
        assert_eq!(log.term_at(4), Some(2));
        assert!(log.entry(3).is_none());
        assert_eq!(log.entry(5).map(|e| e.term), Some(3));
        assert_eq!(log.slice(4, 10).len(), 2);
        // The run of term 2 starts at 3, but 3 is in the snapshot: the hint stays above it.
        assert_eq!(log.first_index_of_term_at(4), 4);
        assert_eq!(log.last_index_of_term(2), Some(4));
        assert_eq!(log.last_index_of_term(1), None);
        log.truncate_from(5);
        assert_eq!((log.last_index(), log.last_term()), (4, 2));
        log.compact_through(4);
        assert_eq!((log.last_index(), log.last_term()), (4, 2));
        assert!(log.entries().is_empty());
        assert!(log.candidate_is_up_to_date(4, 2));
        assert!(!log.candidate_is_up_to_date(3, 2));
        log.append(Entry::new(4, Command::Noop { leader: 0 }));
        assert_eq!(log.entry(5).map(|e| e.term), Some(4));
        log.reset_to_snapshot(9, 5);
        assert_eq!((log.last_index(), log.last_term()), (9, 5));
        assert_eq!(log.term_at(9), Some(5));
        assert_eq!(log.term_at(0), None);
    }

    #[test]
    fn up_to_date_compares_last_term_then_length() {
        let log = log_of(&[1, 2, 2]);
        assert!(log.candidate_is_up_to_date(3, 2));
        assert!(log.candidate_is_up_to_date(1, 3));
        assert!(!log.candidate_is_up_to_date(2, 2));
        assert!(!log.candidate_is_up_to_date(9, 1));
        assert!(Log::new().candidate_is_up_to_date(0, 0));
    }
}
