//! The replicated log, as one server stores it on its disk.
//!
//! Indices are 1-based: entry `i` lives at `entries[i - 1]`, and index 0 is a sentinel with term 0
//! that every log "contains", so the AppendEntries consistency check at `prev_log_index == 0` always
//! passes. Keeping that convention in one place (this file) is what avoids the 0/1-based mix-ups of the
//! naive sketch.
//!
//! Invariants (checked with `debug_assert!` where they are established):
//! - terms are non-decreasing along the log (a leader only appends entries of its current term, and a
//!   follower only stores a prefix of some leader's log);
//! - there is no compaction: the run is bounded, so the whole log stays in memory.

use super::message::{Entry, Index, Term};

/// A server's log of entries (durable).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Log {
    entries: Vec<Entry>,
}

impl Log {
    /// An empty log.
    pub fn new() -> Log {
        Log::default()
    }

    /// Index of the last entry, 0 if empty.
    pub fn last_index(&self) -> Index {
        self.entries.len() as Index
    }

    /// Term of the last entry, 0 if empty.
    pub fn last_term(&self) -> Term {
        self.entries.last().map_or(0, |e| e.term)
    }

    /// The term of the entry at `index`: `Some(0)` for the sentinel 0, `None` past the end.
    pub fn term_at(&self, index: Index) -> Option<Term> {
        if index == 0 {
            return Some(0);
        }
        self.entry(index).map(|e| e.term)
    }

    /// The entry at `index` (1-based), if there is one.
    pub fn entry(&self, index: Index) -> Option<&Entry> {
        let i = usize::try_from(index).ok()?.checked_sub(1)?;
        self.entries.get(i)
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

    /// Removes the entry at `index` and every entry after it. `index` must be at least 1.
    pub fn truncate_from(&mut self, index: Index) {
        debug_assert!(index >= 1, "the sentinel at index 0 cannot be removed");
        let keep = usize::try_from(index.saturating_sub(1)).unwrap_or(usize::MAX);
        self.entries.truncate(keep);
    }

    /// Up to `max` entries starting at index `from`, borrowed (clone them for an AppendEntries: that
    /// copies reference counts, not commands).
    pub fn slice(&self, from: Index, max: u64) -> &[Entry] {
        debug_assert!(from >= 1);
        let start = usize::try_from(from.saturating_sub(1)).unwrap_or(usize::MAX);
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
    /// hint: the leader can skip that whole term in one round trip). `index` must be in the log.
    pub fn first_index_of_term_at(&self, index: Index) -> Index {
        let Some(term) = self.term_at(index) else {
            return self.last_index() + 1;
        };
        let mut first = index;
        while first > 1 && self.term_at(first - 1) == Some(term) {
            first -= 1;
        }
        first
    }

    /// The index of the last entry with term `term`, if the log has one.
    pub fn last_index_of_term(&self, term: Term) -> Option<Index> {
        // Terms are non-decreasing, so scan back only over the entries of later terms.
        let mut i = self.last_index();
        while i >= 1 {
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

    /// All entries, in order (index 1 first).
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
    fn up_to_date_compares_last_term_then_length() {
        let log = log_of(&[1, 2, 2]);
        assert!(log.candidate_is_up_to_date(3, 2));
        assert!(log.candidate_is_up_to_date(1, 3));
        assert!(!log.candidate_is_up_to_date(2, 2));
        assert!(!log.candidate_is_up_to_date(9, 1));
        assert!(Log::new().candidate_is_up_to_date(0, 0));
    }
}
