//! Raft's safety checkers: the properties of Figure 3 of the paper, judged from ghost state the
//! checkers build out of the servers' notes, never by scanning whole logs.
//!
//! **Ghost logs.** The checkers that need logs read one mirror of every server's log, built from its
//! `Appended` and `Truncated` notes. A ghost entry keeps the entry's term, a running *prefix hash*
//! `h[i] = FNV-1a(h[i-1], term, command id)` (so equal hashes at an index mean equal logs up to it),
//! and whether the server accepted it while its own current term was the entry's term. The ghost log
//! survives crashes, as the disk does.
//!
//! **Commitment** is the checker's own record, not any server's counter. An entry `(i, t)` is
//! committed once a majority of servers *simultaneously* hold it having accepted it during term `t`,
//! i.e. it was replicated by the leader of term `t` during term `t`. That is the condition the safety
//! proof uses; an older-term entry that a later leader copies onto a majority is *not* committed by
//! that (Figure 8). Committing `(i, t)` commits the prefix before it, so the record is one committed
//! chain of prefix hashes, extended from the ghost log of the server that completed the majority.
//!
//! **One ghost, several properties.** `log_matching`, `leader_completeness` and `commit_safety` all
//! need the ghost logs, and the last two the same commitment record. One checker, [`GhostLogs`],
//! keeps them and judges the three properties: it updates the ghost from each event's notes, note by
//! note, judging each property at its own point in the notes, and names the property a violation
//! breaks. The ghost is kept whole past a violation (every note is applied).
//!
//! **Snapshots (§7).** A server's log may start with a snapshot: the ghost keeps it as O(1), its
//! last index, term and the prefix hash there. `SnapshotTaken` must compact entries of the server's
//! own ghost log that are committed; `SnapshotInstalled` must name a committed `(index, term)`, whose
//! prefix hash the ghost takes from the committed chain (a kept suffix must sit on that same entry;
//! a discarded log must not have held a committed entry past it). Everything the ghost records by
//! index (first holders, contents, the committed chain, holder counts) is pruned at or below the
//! *floor*, the lowest snapshot index over all servers: no server can append, truncate, commit or be
//! asked to hold an entry there again, and a server's snapshot holds every committed entry up to
//! its base. So the ghost's memory follows the live logs, not the length of the run (a server that
//! never snapshots, say one down for the whole run, holds the floor down).
//!
//! Every checker costs, per event, time proportional to the notes of that event (plus a logarithm),
//! except truncation, which is paid for by the appends it undoes, and pruning, paid for by the
//! records it drops.

use super::kv::Kv;
use super::liveness::RaftLiveness;
use super::message::{Command, EntryId, Index, Term};
use super::{RaftActor, RaftNote, RaftParams};
use crate::contract::{Checker, Cluster, Duration, Failure, NodeId, Observation};
use std::collections::BTreeMap;
use std::collections::btree_map::Entry as MapEntry;
use std::sync::Arc;

/// Every Raft checker, safety first; `raft_liveness` only when `liveness_catch_up_ms` is set.
///
/// `log_matching`, `leader_completeness` and `commit_safety` are the properties of one checker,
/// [`GhostLogs`] (see the module docs).
pub fn all(cluster: Cluster, params: &RaftParams) -> Vec<Box<dyn Checker<RaftActor>>> {
    let mut all: Vec<Box<dyn Checker<RaftActor>>> = vec![
        Box::new(ElectionSafety::new()),
        Box::new(GhostLogs::new(cluster)),
        Box::new(LeaderAppendOnly::new(cluster)),
        Box::new(StateMachineSafety::new(cluster)),
    ];
    if let Some(ms) = params.liveness_catch_up_ms {
        all.push(Box::new(RaftLiveness::new(
            cluster,
            Duration::from_millis(ms),
        )));
    }
    all
}

/// The prefix hash of the empty log.
pub const EMPTY_PREFIX: u64 = 0xcbf2_9ce4_8422_2325;

/// The prefix hash after appending an entry of `term` with command `id` to a prefix hashing to
/// `prev`: 64-bit FNV-1a over the little-endian bytes of `prev`, `term`, `id.origin`, `id.seq`.
pub fn prefix_hash(prev: u64, term: Term, id: EntryId) -> u64 {
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    // One flat buffer rather than chained iterators, so that the loop unrolls.
    let mut bytes = [0u8; 28];
    bytes[..8].copy_from_slice(&prev.to_le_bytes());
    bytes[8..16].copy_from_slice(&term.to_le_bytes());
    bytes[16..20].copy_from_slice(&id.origin.to_le_bytes());
    bytes[20..].copy_from_slice(&id.seq.to_le_bytes());
    let mut h = EMPTY_PREFIX;
    for b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(PRIME);
    }
    h
}

/// One entry of a ghost log.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct GhostEntry {
    term: Term,
    hash: u64,
    /// The server's current term was `term` when it accepted the entry.
    in_own_term: bool,
}

/// One server's ghost log: what its snapshot replaced, as O(1) (the last index, its term and the
/// prefix hash there), then one ghost entry per log entry after it.
#[derive(Clone, Debug)]
struct GhostLog {
    /// The snapshot's last index (0: none).
    base: Index,
    /// Its term.
    base_term: Term,
    /// The prefix hash of the log up to `base`.
    base_hash: u64,
    /// The entries at `base + 1..`.
    entries: Vec<GhostEntry>,
}

impl GhostLog {
    fn new() -> GhostLog {
        GhostLog {
            base: 0,
            base_term: 0,
            base_hash: EMPTY_PREFIX,
            entries: Vec::new(),
        }
    }

    fn len(&self) -> Index {
        self.base + self.entries.len() as Index
    }

    fn last_term(&self) -> Term {
        self.entries.last().map_or(self.base_term, |e| e.term)
    }

    fn last_hash(&self) -> u64 {
        self.entries.last().map_or(self.base_hash, |e| e.hash)
    }

    /// The ghost entry at `index`, if it is past the snapshot and in the log.
    fn get(&self, index: Index) -> Option<GhostEntry> {
        let i = index.checked_sub(self.base)?.checked_sub(1)?;
        self.entries.get(usize::try_from(i).ok()?).copied()
    }

    /// The prefix hash at `index`: the snapshot's at its base, an entry's above it.
    fn hash_at(&self, index: Index) -> Option<u64> {
        if index == self.base {
            return Some(self.base_hash);
        }
        self.get(index).map(|g| g.hash)
    }

    /// Replaces the log up to `index` (at or past the base) with a snapshot whose prefix hashes to
    /// `hash`; the entries after `index` stay.
    fn compact_through(&mut self, index: Index, term: Term, hash: u64) {
        let drop = usize::try_from(index.saturating_sub(self.base))
            .unwrap_or(usize::MAX)
            .min(self.entries.len());
        self.entries.drain(..drop);
        self.base = index;
        self.base_term = term;
        self.base_hash = hash;
    }
}

/// The servers' current terms after the event, for the ghost logs' "accepted in its own term".
fn current_term(obs: &Observation<'_, RaftActor>) -> Term {
    obs.durable.server.current_term
}

/// Keeps `first` if it is already a violation, else takes `next`.
fn keep_first(first: &mut Result<(), String>, next: Result<(), String>) {
    if first.is_ok() {
        *first = next;
    }
}

// ---------------------------------------------------------------------------------------------

/// The ghost state of `log_matching`, `leader_completeness` and `commit_safety` (see the module
/// docs), and the three verdicts on the last event.
///
/// Everything indexed by log index is kept only above the *floor*, the lowest snapshot index over
/// all servers: at or below it every server's log is a snapshot of committed entries, so no server
/// can append, truncate, commit or be asked to hold an entry there again.
#[derive(Debug)]
struct Ghost {
    /// Every server's log as the notes describe it.
    logs: Vec<GhostLog>,
    /// The lowest snapshot index over all servers; the records below are pruned up to it.
    floor: Index,
    /// Log Matching's record of every `(index, term)` appended above `seen_base`: the prefix hash
    /// and the first server that held it. `seen[i - seen_base - 1]` is the first term appended at
    /// index `i`, which is almost always the only one; the other terms at an index (conflicting
    /// entries) are in `seen_more`.
    seen: Vec<(Term, u64, NodeId)>,
    seen_base: Index,
    seen_more: BTreeMap<(Index, Term), (u64, NodeId)>,
    majority: u32,
    /// Uncommitted entries held in their own term, by (index, term, prefix hash): how many servers
    /// hold them now.
    holders: BTreeMap<(Index, Term, u64), u32>,
    /// The command of the first entry seen at each `(index, term)`, read from that server's real log:
    /// every later entry at the same place must carry an equal command. `contents[i - contents_base
    /// - 1]` holds the first term seen at index `i` (nearly every index only ever has one);
    /// `contents_more` the other terms, as `seen` and `seen_more` do.
    contents: Vec<Option<(Term, Arc<Command>, NodeId)>>,
    contents_base: Index,
    contents_more: BTreeMap<(Index, Term), (Arc<Command>, NodeId)>,
    /// The committed chain above `chain_base`: `chain[i - chain_base - 1]` is the committed entry at
    /// index `i` (term, prefix hash). Everything up to `chain_base` is committed too.
    chain: Vec<(Term, u64)>,
    chain_base: Index,
    /// How the chain grew: the term each extension was committed in (the own term of the entry whose
    /// majority committed it) and the chain's length after the last extension of that term. Terms
    /// increase along it.
    commits: Vec<(Term, Index)>,
}

impl Ghost {
    fn new(cluster: Cluster) -> Ghost {
        Ghost {
            logs: vec![GhostLog::new(); cluster.servers as usize],
            floor: 0,
            seen: Vec::new(),
            seen_base: 0,
            seen_more: BTreeMap::new(),
            contents: Vec::new(),
            contents_base: 0,
            contents_more: BTreeMap::new(),
            majority: cluster.majority(),
            holders: BTreeMap::new(),
            chain: Vec::new(),
            chain_base: 0,
            commits: Vec::new(),
        }
    }

    /// Applies the event's notes in order, judging each property where its checker did alone:
    /// leader completeness and commit safety before each note is applied, log matching as each entry
    /// is appended and, at the end, against the server's log. Each verdict is the first violation of
    /// its property: `[log_matching, leader_completeness, commit_safety]`.
    fn observe(&mut self, obs: &Observation<'_, RaftActor>) -> [Result<(), String>; 3] {
        let node = obs.node;
        let (mut matching, mut complete, mut commit) = (Ok(()), Ok(()), Ok(()));
        if obs.cluster.is_server(node) {
            let now_term = current_term(obs);
            // The lowest index this event's notes changed: from there on, the real log is compared
            // with the ghost entry by entry.
            let mut touched: Option<Index> = None;
            for note in obs.notes {
                if let RaftNote::Appended { index, .. }
                | RaftNote::Truncated { from_index: index } = *note
                {
                    touched = Some(touched.map_or(index, |t| t.min(index)));
                }
                if let RaftNote::BecameLeader { term } = *note
                    && complete.is_ok()
                {
                    complete = self.check_new_leader(node, term);
                }
                if commit.is_ok() {
                    commit = self.check_commit_note(node, note);
                }
                let (matched, recorded) = match *note {
                    RaftNote::Appended { index, term, id } => {
                        self.appended(node, index, term, id, now_term)
                    }
                    RaftNote::SnapshotTaken { index, term } => {
                        let (matched, committed) = self.snapshot_taken(node, index, term);
                        keep_first(&mut matching, matched);
                        keep_first(&mut commit, committed);
                        continue;
                    }
                    RaftNote::SnapshotInstalled {
                        index,
                        term,
                        kept_suffix,
                    } => {
                        let (matched, committed) =
                            self.snapshot_installed(node, index, term, kept_suffix);
                        keep_first(&mut matching, matched);
                        keep_first(&mut commit, committed);
                        continue;
                    }
                    RaftNote::Truncated { from_index } => {
                        let r = self.truncated(node, from_index);
                        (r.clone(), r)
                    }
                    _ => continue,
                };
                keep_first(&mut matching, matched);
                keep_first(&mut complete, recorded.clone());
                keep_first(&mut commit, recorded);
            }
            keep_first(&mut matching, self.check_log_end(node, obs));
            if let Some(from) = touched {
                keep_first(&mut matching, self.check_contents(node, from, obs));
            }
        }
        [matching, complete, commit]
    }

    fn len(&self, node: NodeId) -> Index {
        self.logs[node as usize].len()
    }

    fn get(&self, node: NodeId, index: Index) -> Option<GhostEntry> {
        self.logs[node as usize].get(index)
    }

    fn committed_len(&self) -> Index {
        self.chain_base + self.chain.len() as Index
    }

    /// The committed entry at `index`, if it is above the pruned part of the chain.
    fn committed_at(&self, index: Index) -> Option<(Term, u64)> {
        let i = index.checked_sub(self.chain_base)?.checked_sub(1)?;
        self.chain.get(usize::try_from(i).ok()?).copied()
    }

    /// Whether `node`'s log holds the committed entry at `index`. Its snapshot holds every entry up
    /// to its base, all of them committed (checked when the snapshot was taken or installed).
    fn holds_committed(&self, node: NodeId, index: Index) -> bool {
        let log = &self.logs[node as usize];
        if index <= log.base {
            return index <= self.committed_len();
        }
        match (self.committed_at(index), log.get(index)) {
            (Some((_, c)), Some(g)) => c == g.hash,
            _ => false,
        }
    }

    /// The highest index committed in a term below `term` (0 if none). Leader completeness is about
    /// the term an entry was committed in, not the entry's own term: an old-term entry that only
    /// became committed under a later leader need not be held by a leader of an earlier term.
    fn committed_before_term(&self, term: Term) -> Index {
        let k = self.commits.partition_point(|(t, _)| *t < term);
        k.checked_sub(1).map_or(0, |k| self.commits[k].1)
    }

    /// Applies an `Appended` note. Returns log matching's verdict and the commitment record's.
    fn appended(
        &mut self,
        node: NodeId,
        index: Index,
        term: Term,
        id: EntryId,
        current_term: Term,
    ) -> (Result<(), String>, Result<(), String>) {
        let log = &mut self.logs[node as usize];
        let len = log.len();
        if index != len + 1 {
            let e = format!(
                "node {node} noted an append at index {index}, but its log has {len} entries"
            );
            return (Err(e.clone()), Err(e));
        }
        let prev = log.last_hash();
        let entry = GhostEntry {
            term,
            hash: prefix_hash(prev, term, id),
            in_own_term: current_term == term,
        };
        log.entries.push(entry);
        (
            self.match_seen(node, index, entry),
            self.record_holder(node, index, entry),
        )
    }

    /// Log Matching: compares the entry `node` just appended at `index` with the first one of the
    /// same term seen there, or records it as that first one.
    fn match_seen(&mut self, node: NodeId, index: Index, entry: GhostEntry) -> Result<(), String> {
        // Appends only happen past the appender's snapshot, hence above the floor and `seen_base`.
        let Some(i) = index.checked_sub(self.seen_base + 1) else {
            return Ok(());
        };
        let (term, i) = (entry.term, i as usize);
        let (hash, first) = match self.seen.get(i) {
            Some(&(t, h, n)) if t == term => (h, n),
            None => {
                // A server appends index i only after i - 1, so a new index is always the next one.
                debug_assert_eq!(i, self.seen.len(), "indices are appended in order");
                self.seen.push((term, entry.hash, node));
                return Ok(());
            }
            _ => match self.seen_more.entry((index, term)) {
                MapEntry::Occupied(o) => *o.get(),
                MapEntry::Vacant(v) => {
                    v.insert((entry.hash, node));
                    return Ok(());
                }
            },
        };
        if hash != entry.hash {
            return Err(format!(
                "nodes {first} and {node} both hold an entry at index {index} of term {term}, \
                 but their logs differ at or before it"
            ));
        }
        Ok(())
    }

    /// Commitment: counts `node` among the holders of the entry it just appended at `index`, and
    /// extends the committed chain when that makes a majority.
    fn record_holder(&mut self, node: NodeId, index: Index, e: GhostEntry) -> Result<(), String> {
        if !e.in_own_term || self.holds_committed(node, index) {
            return Ok(());
        }
        let term = e.term;
        let key = (index, term, e.hash);
        let count = self.holders.entry(key).or_insert(0);
        *count += 1;
        if *count < self.majority {
            return Ok(());
        }
        self.holders.remove(&key);
        if index <= self.committed_len() {
            if let Some((t, h)) = self.committed_at(index)
                && h != e.hash
            {
                return Err(format!(
                    "two different entries committed at index {index}: one of term {t}, and node {node}'s of term {term}"
                ));
            }
            return Ok(());
        }
        // Committing (index, term) commits node's whole prefix: extend the chain from its ghost log,
        // which must agree with what is already committed.
        let from = self.committed_len();
        if from > 0 && !self.holds_committed(node, from) {
            return Err(format!(
                "entry {index} of term {term} is committed, but node {node}'s log under it differs from the committed entry at index {from}"
            ));
        }
        // The chain reaches every server's snapshot (checked when it was taken or installed), so
        // `from` is at or past node's base unless a snapshot was already reported uncommitted.
        let log = &self.logs[node as usize];
        if from < log.base {
            return Err(format!(
                "entry {index} of term {term} is committed, but node {node}'s snapshot through {} \
                 reaches past the committed entries (up to {from})",
                log.base
            ));
        }
        let (lo, hi) = ((from - log.base) as usize, (index - log.base) as usize);
        for (at, g) in (from + 1..).zip(&log.entries[lo..hi]) {
            self.chain.push((g.term, g.hash));
            // The holders of a committed entry no longer count (`holds_committed` answers first).
            self.holders.remove(&(at, g.term, g.hash));
        }
        // Log matching keeps a later commitment's term at or above an earlier one's: an entry of an
        // older term can only sit above the chain if the chain ends in that term or an older one.
        debug_assert!(self.commits.last().is_none_or(|(t, _)| *t <= term));
        match self.commits.last_mut() {
            // Only the last extension of each term is ever asked for (`committed_before_term`).
            Some((t, len)) if *t == term => *len = index,
            _ => self.commits.push((term, index)),
        }
        Ok(())
    }

    /// Removes `node`'s ghost entries from `from_index` on from the holders' counts.
    fn release_holders(&mut self, node: NodeId, from_index: Index) {
        let log = &self.logs[node as usize];
        let keep = (from_index.saturating_sub(log.base + 1) as usize).min(log.entries.len());
        for (index, e) in (log.base + 1 + keep as Index..).zip(&log.entries[keep..]) {
            if !e.in_own_term {
                continue;
            }
            let key = (index, e.term, e.hash);
            if let Some(count) = self.holders.get_mut(&key) {
                *count -= 1;
                if *count == 0 {
                    self.holders.remove(&key);
                }
            }
        }
    }

    /// Applies a `SnapshotTaken` note: the snapshot must replace entries of the server's own log,
    /// all committed. Returns log matching's verdict and commit safety's.
    fn snapshot_taken(
        &mut self,
        node: NodeId,
        index: Index,
        term: Term,
    ) -> (Result<(), String>, Result<(), String>) {
        let log = &self.logs[node as usize];
        let Some(g) = log.get(index).filter(|g| g.term == term) else {
            return (
                Err(format!(
                    "node {node} noted a snapshot through index {index} of term {term}, but its log \
                     after its last snapshot ({}) holds no such entry (it ends at {})",
                    log.base,
                    log.len()
                )),
                Ok(()),
            );
        };
        let committed = if self.holds_committed(node, index) {
            Ok(())
        } else {
            Err(format!(
                "node {node} compacted its log through index {index} (term {term}) into a \
                 snapshot, but that entry is not committed"
            ))
        };
        // Applied even past a violation, so that the ghost keeps mirroring the log.
        self.logs[node as usize].compact_through(index, term, g.hash);
        self.raise_floor();
        (Ok(()), committed)
    }

    /// Applies a `SnapshotInstalled` note: the snapshot must be of committed entries, past the
    /// server's own snapshot; a kept suffix must follow the snapshot's entry in the server's log, and
    /// a discarded log must not have held a committed entry past the snapshot. Returns log matching's
    /// verdict and commit safety's.
    fn snapshot_installed(
        &mut self,
        node: NodeId,
        index: Index,
        term: Term,
        kept_suffix: bool,
    ) -> (Result<(), String>, Result<(), String>) {
        let log = &self.logs[node as usize];
        if index <= log.base {
            return (
                Err(format!(
                    "node {node} installed a snapshot through index {index}, at or below its own \
                     snapshot through {}",
                    log.base
                )),
                Ok(()),
            );
        }
        let (hash, mut committed) = match self.committed_at(index) {
            Some((t, h)) if t == term => (h, Ok(())),
            // Applied anyway (the ghost keeps mirroring the log), with the server's own prefix
            // hash there if it has one.
            _ => (
                log.hash_at(index).unwrap_or(EMPTY_PREFIX),
                Err(format!(
                    "node {node} installed a snapshot through index {index} (term {term}), but \
                     that entry is not committed"
                )),
            ),
        };
        if kept_suffix {
            if log.get(index).map(|g| g.hash) != Some(hash) {
                return (
                    Err(format!(
                        "node {node} installed a snapshot through index {index} and kept its log \
                         after it, but its log up to {index} is not the snapshot's"
                    )),
                    Ok(()),
                );
            }
        } else {
            let (base, len) = (log.base, log.len());
            if index < len && self.holds_committed(node, index + 1) {
                keep_first(
                    &mut committed,
                    Err(format!(
                        "node {node} installed a snapshot through index {index} and discarded its \
                         log, with committed entry {} after it",
                        index + 1
                    )),
                );
            }
            // The whole log goes, as in a truncation after the old snapshot.
            self.release_holders(node, base + 1);
            self.logs[node as usize].entries.clear();
        }
        self.logs[node as usize].compact_through(index, term, hash);
        self.raise_floor();
        (Ok(()), committed)
    }

    /// Raises the floor to the lowest snapshot index over all servers, and prunes every record at
    /// or below it: no server can append, hold or be asked for an entry there again.
    fn raise_floor(&mut self) {
        let floor = self.logs.iter().map(|l| l.base).min().unwrap_or(0);
        if floor <= self.floor {
            return;
        }
        self.floor = floor;
        let drop = |v_len: usize, base: Index| {
            (usize::try_from(floor.saturating_sub(base)).unwrap_or(usize::MAX)).min(v_len)
        };
        let n = drop(self.seen.len(), self.seen_base);
        self.seen.drain(..n);
        self.seen_base += n as Index;
        let n = drop(self.chain.len(), self.chain_base);
        self.chain.drain(..n);
        self.chain_base += n as Index;
        self.seen_more = self.seen_more.split_off(&(floor + 1, 0));
        let n = drop(self.contents.len(), self.contents_base);
        self.contents.drain(..n);
        // Either the drained part reached the floor, or the vector is empty: both start there now.
        self.contents_base = floor;
        self.contents_more = self.contents_more.split_off(&(floor + 1, 0));
        self.holders = self.holders.split_off(&(floor + 1, 0, 0));
        // Of the extensions at or below the floor, only the last can still answer a question (any
        // index it gives is held by every server's snapshot).
        let k = self.commits.partition_point(|(_, len)| *len <= floor);
        if k > 1 {
            self.commits.drain(..k - 1);
        }
    }

    /// Applies a `Truncated` note: removes `from_index..` from the ghost log and from the holders.
    fn truncated(&mut self, node: NodeId, from_index: Index) -> Result<(), String> {
        let log = &self.logs[node as usize];
        let len = log.len();
        if from_index <= log.base || from_index > len {
            return Err(format!(
                "node {node} noted a truncation from index {from_index}, but its log holds entries \
                 {}..={len} after its snapshot",
                log.base + 1
            ));
        }
        self.release_holders(node, from_index);
        let log = &mut self.logs[node as usize];
        let keep = (from_index - log.base - 1) as usize;
        log.entries.truncate(keep);
        Ok(())
    }

    /// Log Matching: the notes account for the server's whole log (length and last term), so a
    /// protocol that forgets a note cannot slip past the other checkers.
    fn check_log_end(&self, node: NodeId, obs: &Observation<'_, RaftActor>) -> Result<(), String> {
        let log = &obs.durable.server.log;
        let ghost = &self.logs[node as usize];
        let (len, ghost_last_term) = (ghost.len(), ghost.last_term());
        if log.last_index() != len || log.last_term() != ghost_last_term {
            return Err(format!(
                "node {node}'s log ends at index {} term {}, but its notes say index {len} term {ghost_last_term}",
                log.last_index(),
                log.last_term()
            ));
        }
        if (log.snapshot_index(), log.snapshot_term()) != (ghost.base, ghost.base_term) {
            return Err(format!(
                "node {node}'s log starts after a snapshot through index {} term {}, but its notes \
                 say index {} term {}",
                log.snapshot_index(),
                log.snapshot_term(),
                ghost.base,
                ghost.base_term
            ));
        }
        Ok(())
    }

    /// Log Matching on the real log: from `from` to its end, each entry of `node`'s log has the term
    /// and command identity its notes gave (the prefix hash recomputed from the real entries equals
    /// the ghost's), and carries the same command as the first entry seen at its index and term.
    fn check_contents(
        &mut self,
        node: NodeId,
        from: Index,
        obs: &Observation<'_, RaftActor>,
    ) -> Result<(), String> {
        let log = &obs.durable.server.log;
        let len = self.len(node).min(log.last_index());
        let ghost = &self.logs[node as usize];
        let from = from.max(ghost.base + 1);
        let mut prev = ghost.hash_at(from - 1).unwrap_or(EMPTY_PREFIX);
        for index in from..=len {
            let (Some(real), Some(ghost)) = (log.entry(index), self.get(node, index)) else {
                break;
            };
            let hash = prefix_hash(prev, real.term, real.id());
            if real.term != ghost.term || hash != ghost.hash {
                return Err(format!(
                    "node {node}'s log at index {index} holds {:?} of term {}, which its notes do \
                     not account for",
                    real.id(),
                    real.term
                ));
            }
            prev = hash;
            // Entries at or below the floor are never checked (`from` is above every snapshot).
            let Some(slot) = index.checked_sub(self.contents_base + 1) else {
                continue;
            };
            let slot = usize::try_from(slot).unwrap_or(usize::MAX);
            if slot >= self.contents.len() {
                // Indices arrive nearly in order: this grows by the entries of one event.
                self.contents.resize(slot + 1, None);
            }
            let first = match &self.contents[slot] {
                None => {
                    self.contents[slot] = Some((real.term, Arc::clone(&real.command), node));
                    continue;
                }
                Some((term, first, other)) if *term == real.term => (first, *other),
                Some(_) => match self.contents_more.entry((index, real.term)) {
                    MapEntry::Vacant(v) => {
                        v.insert((Arc::clone(&real.command), node));
                        continue;
                    }
                    MapEntry::Occupied(o) => {
                        let (first, other) = o.into_mut();
                        (&*first, *other)
                    }
                },
            };
            let (first, other) = first;
            if !Arc::ptr_eq(first, &real.command) && **first != *real.command {
                return Err(format!(
                    "nodes {other} and {node} both hold an entry at index {index} of term {}, \
                     with different commands",
                    real.term
                ));
            }
        }
        Ok(())
    }

    /// Leader Completeness, when `node` becomes leader of `term`.
    fn check_new_leader(&self, node: NodeId, term: Term) -> Result<(), String> {
        let needed = self.committed_before_term(term);
        if needed == 0 || self.holds_committed(node, needed) {
            return Ok(());
        }
        let (t, _) = self.committed_at(needed).unwrap_or((0, 0));
        Err(format!(
            "node {node} became leader of term {term} without committed entry {needed} \
             (term {t}): its log has {} entries{}",
            self.len(node),
            match self.get(node, needed) {
                Some(g) => format!(", and a different one at {needed} (term {})", g.term),
                None => String::new(),
            }
        ))
    }

    /// Commit safety, before `note` is applied.
    fn check_commit_note(&self, node: NodeId, note: &RaftNote) -> Result<(), String> {
        match *note {
            RaftNote::Committed { index } if !self.holds_committed(node, index) => {
                Err(match self.get(node, index) {
                    Some(g) => format!(
                        "node {node} advanced its commit index to {index}, but its entry there (term {t}) \
                         was never held by a majority during term {t}",
                        t = g.term
                    ),
                    None => format!(
                        "node {node} advanced its commit index to {index}, past the end of its log"
                    ),
                })
            }
            // Only the first removed entry needs checking: if it is not the committed one, no later
            // one can be (the prefix hashes differ from there on).
            RaftNote::Truncated { from_index } if self.holds_committed(node, from_index) => Err(
                format!("node {node} removed committed entry {from_index} from its log"),
            ),
            _ => Ok(()),
        }
    }
}

/// Log Matching, Leader Completeness and Commit Safety, judged from one ghost (see the module docs).
///
/// - `log_matching`: if two logs hold an entry with the same index and term, they are identical up to
///   it. Every `(index, term)` ever appended keeps its prefix hash and first holder; an append whose
///   prefix hash differs is a violation. After each event the notes must also account for the
///   server's whole log (length and last term), so a protocol that forgets a note cannot slip past,
///   and every entry the event changed is read back from the real log: its term and command identity
///   must be what the notes said, and its command must equal the first one seen at its index and
///   term (the contents, not only the identities, match).
/// - `leader_completeness`: a server that becomes leader of term `T` holds every entry committed in
///   terms before `T` (its ghost prefix hash at the highest index committed in an earlier term equals
///   the committed chain's). An entry is committed in the own term of the entry whose majority
///   committed it, so an old-term entry committed only under a later leader is not required of a
///   leader of an earlier term (a paused candidate may win its term after the others moved on).
///   Also reports two different entries committed at one index.
/// - `commit_safety`: a server's commitIndex only ever covers committed entries (by the checker's
///   record), and no server ever removes a committed entry. This is where a leader that commits by
///   counting replicas of an earlier-term entry (Figure 8) is caught, at the moment it advances its
///   commit index.
#[derive(Debug)]
pub struct GhostLogs {
    ghost: Ghost,
}

impl GhostLogs {
    /// The properties, in the order a violation of several at one event is reported.
    pub const PROPERTIES: [&'static str; 3] =
        ["log_matching", "leader_completeness", "commit_safety"];

    /// A fresh checker for `cluster`.
    pub fn new(cluster: Cluster) -> Self {
        GhostLogs {
            ghost: Ghost::new(cluster),
        }
    }
}

impl GhostLogs {
    /// How many records the ghost keeps (entries, seen, contents, holders, chain, commits): what its
    /// memory grows with.
    pub fn retained_records(&self) -> usize {
        let g = &self.ghost;
        g.logs.iter().map(|l| l.entries.len()).sum::<usize>()
            + g.seen.len()
            + g.seen_more.len()
            + g.contents.iter().filter(|c| c.is_some()).count()
            + g.contents_more.len()
            + g.holders.len()
            + g.chain.len()
            + g.commits.len()
    }
}

impl Checker<RaftActor> for GhostLogs {
    fn needs_history(&self) -> bool {
        false
    }

    // Never shown: every failure names its property, and `properties` lists the three, so any
    // other name here changes nothing a run reports (cargo-mutants' "xyzzy" survives, equivalent).
    fn name(&self) -> &'static str {
        "ghost_logs"
    }

    fn properties(&self) -> Vec<&'static str> {
        Self::PROPERTIES.to_vec()
    }

    fn observe(&mut self, obs: &Observation<'_, RaftActor>) -> Result<(), Failure> {
        let verdicts = self.ghost.observe(obs);
        for (property, verdict) in Self::PROPERTIES.into_iter().zip(verdicts) {
            verdict.map_err(|message| Failure::of(property, message))?;
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------

/// Election Safety: at most one leader per term, over the whole run.
#[derive(Clone, Debug, Default)]
pub struct ElectionSafety {
    leaders: BTreeMap<Term, NodeId>,
}

impl ElectionSafety {
    /// A fresh checker.
    pub fn new() -> Self {
        Self::default()
    }
}

impl Checker<RaftActor> for ElectionSafety {
    fn needs_history(&self) -> bool {
        false
    }

    fn name(&self) -> &'static str {
        "election_safety"
    }

    fn observe(&mut self, obs: &Observation<'_, RaftActor>) -> Result<(), Failure> {
        for note in obs.notes {
            if let RaftNote::BecameLeader { term } = note {
                match self.leaders.entry(*term) {
                    MapEntry::Occupied(o) if *o.get() != obs.node => {
                        return Err(format!(
                            "term {term} has two leaders: node {} and node {}",
                            o.get(),
                            obs.node
                        )
                        .into());
                    }
                    MapEntry::Occupied(_) => {}
                    MapEntry::Vacant(v) => {
                        v.insert(obs.node);
                    }
                }
            }
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------

/// Leader Append-Only: a leader never removes or overwrites entries in its log during its term.
///
/// Follows each server's leadership through its notes, in order (`BecameLeader` starts it;
/// `SteppedDown`, `BecameCandidate` and a restart end it), and its log length; a `Truncated` while
/// leading, an `Appended` at or below the log's end while leading, or a `SnapshotInstalled` while
/// leading, is a violation. A snapshot the leader takes of its own log changes neither its length
/// nor its entries. O(1) per server.
#[derive(Clone, Debug)]
pub struct LeaderAppendOnly {
    leading: Vec<Option<Term>>,
    len: Vec<Index>,
}

impl LeaderAppendOnly {
    /// A fresh checker for `cluster`.
    pub fn new(cluster: Cluster) -> Self {
        let n = cluster.servers as usize;
        LeaderAppendOnly {
            leading: vec![None; n],
            len: vec![0; n],
        }
    }
}

impl Checker<RaftActor> for LeaderAppendOnly {
    fn needs_history(&self) -> bool {
        false
    }

    fn name(&self) -> &'static str {
        "leader_append_only"
    }

    fn observe(&mut self, obs: &Observation<'_, RaftActor>) -> Result<(), Failure> {
        let n = obs.node as usize;
        if !obs.cluster.is_server(obs.node) {
            return Ok(());
        }
        for note in obs.notes {
            match *note {
                RaftNote::Started { last_index, .. } => {
                    self.leading[n] = None;
                    self.len[n] = last_index;
                }
                RaftNote::BecameCandidate { .. } | RaftNote::SteppedDown { .. } => {
                    self.leading[n] = None;
                }
                RaftNote::BecameLeader { term } => self.leading[n] = Some(term),
                RaftNote::Truncated { from_index } => {
                    if let Some(term) = self.leading[n] {
                        return Err(format!(
                            "node {n}, leader of term {term}, removed its entries from index {from_index}"
                        ).into());
                    }
                    self.len[n] = self.len[n].min(from_index.saturating_sub(1));
                }
                RaftNote::Appended { index, .. } => {
                    if let Some(term) = self.leading[n]
                        && index <= self.len[n]
                    {
                        return Err(format!(
                            "node {n}, leader of term {term}, overwrote its entry at index {index}"
                        )
                        .into());
                    }
                    self.len[n] = index;
                }
                // Taking a snapshot removes nothing from the log's content; installing one replaces
                // the log, which a leader must never do.
                RaftNote::SnapshotInstalled {
                    index, kept_suffix, ..
                } => {
                    if let Some(term) = self.leading[n] {
                        return Err(format!(
                            "node {n}, leader of term {term}, replaced its log with a snapshot through index {index}"
                        )
                        .into());
                    }
                    if !kept_suffix {
                        self.len[n] = index;
                    }
                }
                _ => {}
            }
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------

/// State Machine Safety: no two servers apply different entries at the same index, and no two
/// servers' state machines differ after applying the same prefix. Also checks that each server applies
/// indices in order from 1 after every (re)start.
///
/// After an event in which a server applied entries, the checker digests that server's whole
/// key-value state (its keys and values and its session table, read from the state machine itself,
/// not from any note, see [`state_digest`]) and
/// compares it with the digest the first server to reach the same applied index had: equal entries
/// applied to diverging state machines (a bug in apply, in duplicate suppression, in a rebuild after a
/// restart) show here. The digest costs constant time: the state machine keeps it as it changes.
///
/// Snapshots (§7): a server's state machine after it installs a snapshot through `i`, or restores
/// one at a restart, must be the one every server had after applying `i` (it then applies from
/// `i + 1`); a snapshot it takes must be of what it has applied, and its contents (read from the
/// disk) must be that same state. Records below the lowest snapshot index over all servers are
/// pruned: no server applies, installs or restores there again.
#[derive(Clone, Debug)]
pub struct StateMachineSafety {
    /// `applied[i - applied_base - 1]`: the first entry applied at index `i`, and by whom. Every
    /// server applies in order from its snapshot (checked first), so the indices applied anywhere
    /// above the pruned ones are always `applied_base + 1..=applied_base + applied.len()`.
    applied: Vec<(Term, EntryId, NodeId)>,
    applied_base: Index,
    /// `digests[i - applied_base - 1]`: the digest of the first state machine seen right after
    /// applying `i` (as the last entry of an event), and whose it was.
    digests: Vec<Option<(u64, NodeId)>>,
    next: Vec<Index>,
    /// Each server's snapshot index (0: none); the records are pruned up to their minimum.
    snapshot: Vec<Index>,
}

/// The digest of a whole state machine, its map and its session table ([`Kv::digest`], kept up to
/// date by the state machine as it changes, and checked against a recomputation in debug builds).
/// The session table is part of what `apply` depends on (and of every snapshot), so two servers
/// that agree on the map but not on which requests they applied differ here.
pub fn state_digest(kv: &Kv) -> u64 {
    kv.digest()
}

impl StateMachineSafety {
    /// A fresh checker for `cluster`.
    pub fn new(cluster: Cluster) -> Self {
        StateMachineSafety {
            applied: Vec::new(),
            applied_base: 0,
            digests: Vec::new(),
            next: vec![1; cluster.servers as usize],
            snapshot: vec![0; cluster.servers as usize],
        }
    }

    /// Compares `node`'s state machine, which has applied `1..=index`, with the first one seen there.
    fn check_digest(
        &mut self,
        node: NodeId,
        index: Index,
        state: &RaftActor,
    ) -> Result<(), String> {
        let Some(server) = state.as_server() else {
            return Ok(());
        };
        let digest = state_digest(server.kv());
        self.check_digest_of(node, index, digest, "key-value state")
    }

    /// Compares `digest`, `node`'s state (`what`) after applying `1..=index`, with the first one
    /// seen there.
    fn check_digest_of(
        &mut self,
        node: NodeId,
        index: Index,
        digest: u64,
        what: &str,
    ) -> Result<(), String> {
        if index <= self.applied_base {
            return Ok(()); // pruned: no server can be there any more
        }
        let i = usize::try_from(index - self.applied_base - 1).unwrap_or(usize::MAX);
        if i >= self.digests.len() {
            // Indices are recorded nearly in order: this grows by the few indices of one event.
            self.digests.resize(i + 1, None);
        }
        match self.digests[i] {
            None => {
                self.digests[i] = Some((digest, node));
                Ok(())
            }
            Some((first, other)) if first != digest => Err(format!(
                "after applying index {index}, node {node}'s {what} differs from node {other}'s"
            )),
            Some(_) => Ok(()),
        }
    }

    /// The first entry applied at `index`, if recorded (not pruned, applied somewhere).
    fn applied_at(&self, index: Index) -> Option<(Term, EntryId, NodeId)> {
        let i = index.checked_sub(self.applied_base)?.checked_sub(1)?;
        self.applied.get(usize::try_from(i).ok()?).copied()
    }

    /// Records `node`'s new snapshot index and prunes what no server can reach again: everything
    /// below the lowest snapshot index (the records *at* it are kept: the install or restore that
    /// raised it is judged against them at the end of the event).
    fn snapshot_at(&mut self, node: NodeId, index: Index) {
        self.snapshot[node as usize] = index;
        let floor = self
            .snapshot
            .iter()
            .copied()
            .min()
            .unwrap_or(0)
            .saturating_sub(1);
        if floor <= self.applied_base {
            return;
        }
        let n = usize::try_from(floor - self.applied_base)
            .unwrap_or(usize::MAX)
            .min(self.applied.len());
        self.applied.drain(..n);
        self.digests.drain(..n.min(self.digests.len()));
        self.applied_base += n as Index;
    }

    /// A snapshot `node` took through `index`: of applied entries only, with the state they give.
    fn check_snapshot_taken(
        &mut self,
        node: NodeId,
        index: Index,
        obs: &Observation<'_, RaftActor>,
    ) -> Result<(), String> {
        let applied = self.next[node as usize] - 1;
        if index > applied {
            return Err(format!(
                "node {node} took a snapshot through index {index}, but has applied only up to {applied}"
            ));
        }
        if let Some(snap) = &obs.durable.server.snapshot
            && snap.last_index == index
        {
            let digest = state_digest(&snap.state);
            self.check_digest_of(node, index, digest, "snapshot")?;
        }
        self.snapshot_at(node, index);
        Ok(())
    }

    /// A snapshot `node` installed or restored through `index` (term `term`): it resumes applying
    /// after it; its state machine is checked at the end of the event.
    fn resume_from_snapshot(
        &mut self,
        node: NodeId,
        index: Index,
        term: Term,
    ) -> Result<(), String> {
        if let Some((t, id, other)) = self.applied_at(index)
            && t != term
        {
            return Err(format!(
                "node {node} resumed from a snapshot through index {index} of term {term}, but node \
                 {other} applied {id:?} of term {t} there"
            ));
        }
        self.next[node as usize] = index + 1;
        self.snapshot_at(node, index);
        Ok(())
    }
}

impl StateMachineSafety {
    /// How many records it keeps (applied entries and digests): what its memory grows with.
    pub fn retained_records(&self) -> usize {
        self.applied.len() + self.digests.iter().filter(|d| d.is_some()).count()
    }
}

impl Checker<RaftActor> for StateMachineSafety {
    fn needs_history(&self) -> bool {
        false
    }

    fn name(&self) -> &'static str {
        "state_machine_safety"
    }

    fn observe(&mut self, obs: &Observation<'_, RaftActor>) -> Result<(), Failure> {
        let node = obs.node;
        if !obs.cluster.is_server(node) {
            return Ok(());
        }
        let mut last_applied = None;
        for note in obs.notes {
            match *note {
                RaftNote::Started { .. } => self.next[node as usize] = 1,
                RaftNote::SnapshotTaken { index, .. } => {
                    self.check_snapshot_taken(node, index, obs)?;
                }
                RaftNote::SnapshotInstalled { index, term, .. }
                | RaftNote::SnapshotRestored { index, term } => {
                    self.resume_from_snapshot(node, index, term)?;
                    last_applied = Some(index);
                }
                RaftNote::Applied { index, term, id } => {
                    let expected = self.next[node as usize];
                    if index != expected {
                        return Err(format!(
                            "node {node} applied index {index} out of order (next should be {expected})"
                        ).into());
                    }
                    self.next[node as usize] = index + 1;
                    last_applied = Some(index);
                    // Applying happens past the server's snapshot, hence above the pruned records.
                    let Some(i) = index.checked_sub(self.applied_base + 1) else {
                        continue;
                    };
                    let i = i as usize;
                    match self.applied.get(i) {
                        Some(&(t, other_id, other)) if (t, other_id) != (term, id) => {
                            return Err(format!(
                                "index {index}: node {other} applied {other_id:?} of term {t}, \
                                 node {node} applied {id:?} of term {term}"
                            )
                            .into());
                        }
                        Some(_) => {}
                        None => {
                            debug_assert_eq!(i, self.applied.len(), "applied indices are dense");
                            self.applied.push((term, id, node));
                        }
                    }
                }
                _ => {}
            }
        }
        if let Some(index) = last_applied {
            self.check_digest(node, index, obs.state)?;
        }
        Ok(())
    }
}
