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
//! Every checker costs, per event, time proportional to the notes of that event (plus a logarithm),
//! except truncation, which is paid for by the appends it undoes.

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
#[derive(Debug)]
struct Ghost {
    /// Every server's log as the notes describe it.
    logs: Vec<Vec<GhostEntry>>,
    /// Log Matching's record of every `(index, term)` ever appended: the prefix hash and the first
    /// server that held it. `seen[i - 1]` is the first term appended at index `i`, which is almost
    /// always the only one; the other terms at an index (conflicting entries) are in `seen_more`.
    seen: Vec<(Term, u64, NodeId)>,
    seen_more: BTreeMap<(Index, Term), (u64, NodeId)>,
    majority: u32,
    /// Uncommitted entries held in their own term, by (index, term, prefix hash): how many servers
    /// hold them now.
    holders: BTreeMap<(Index, Term, u64), u32>,
    /// The command of the first entry seen at each `(index, term)`, read from that server's real log:
    /// every later entry at the same place must carry an equal command.
    contents: BTreeMap<(Index, Term), (Arc<Command>, NodeId)>,
    /// The committed chain: `chain[i - 1]` is the committed entry at index `i` (term, prefix hash).
    chain: Vec<(Term, u64)>,
    /// How the chain grew: the term each extension was committed in (the own term of the entry whose
    /// majority committed it) and the chain's length after it. Terms never decrease along it.
    commits: Vec<(Term, Index)>,
}

impl Ghost {
    fn new(cluster: Cluster) -> Ghost {
        Ghost {
            logs: vec![Vec::new(); cluster.servers as usize],
            seen: Vec::new(),
            seen_more: BTreeMap::new(),
            contents: BTreeMap::new(),
            majority: cluster.majority(),
            holders: BTreeMap::new(),
            chain: Vec::new(),
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
        self.logs[node as usize].len() as Index
    }

    fn get(&self, node: NodeId, index: Index) -> Option<GhostEntry> {
        let i = usize::try_from(index).ok()?.checked_sub(1)?;
        self.logs[node as usize].get(i).copied()
    }

    fn committed_len(&self) -> Index {
        self.chain.len() as Index
    }

    fn committed_at(&self, index: Index) -> Option<(Term, u64)> {
        let i = usize::try_from(index).ok()?.checked_sub(1)?;
        self.chain.get(i).copied()
    }

    /// Whether `node`'s log holds the committed entry at `index`.
    fn holds_committed(&self, node: NodeId, index: Index) -> bool {
        match (self.committed_at(index), self.get(node, index)) {
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
        let len = log.len() as Index;
        if index != len + 1 {
            let e = format!(
                "node {node} noted an append at index {index}, but its log has {len} entries"
            );
            return (Err(e.clone()), Err(e));
        }
        let prev = log.last().map_or(EMPTY_PREFIX, |e| e.hash);
        let entry = GhostEntry {
            term,
            hash: prefix_hash(prev, term, id),
            in_own_term: current_term == term,
        };
        log.push(entry);
        (
            self.match_seen(node, index, entry),
            self.record_holder(node, index, entry),
        )
    }

    /// Log Matching: compares the entry `node` just appended at `index` with the first one of the
    /// same term seen there, or records it as that first one.
    fn match_seen(&mut self, node: NodeId, index: Index, entry: GhostEntry) -> Result<(), String> {
        let (term, i) = (entry.term, (index - 1) as usize);
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
        if let Some((t, h)) = self.committed_at(index) {
            if h != e.hash {
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
        let log = &self.logs[node as usize];
        self.chain.extend(
            log[from as usize..index as usize]
                .iter()
                .map(|g| (g.term, g.hash)),
        );
        // Log matching keeps a later commitment's term at or above an earlier one's: an entry of an
        // older term can only sit above the chain if the chain ends in that term or an older one.
        debug_assert!(self.commits.last().is_none_or(|(t, _)| *t <= term));
        self.commits.push((term, index));
        Ok(())
    }

    /// Applies a `Truncated` note: removes `from_index..` from the ghost log and from the holders.
    fn truncated(&mut self, node: NodeId, from_index: Index) -> Result<(), String> {
        let log = &mut self.logs[node as usize];
        let len = log.len() as Index;
        if from_index == 0 || from_index > len {
            return Err(format!(
                "node {node} noted a truncation from index {from_index}, but its log has {len} entries"
            ));
        }
        let keep = (from_index - 1) as usize;
        for (index, e) in (from_index..).zip(&log[keep..]) {
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
        log.truncate(keep);
        Ok(())
    }

    /// Log Matching: the notes account for the server's whole log (length and last term), so a
    /// protocol that forgets a note cannot slip past the other checkers.
    fn check_log_end(&self, node: NodeId, obs: &Observation<'_, RaftActor>) -> Result<(), String> {
        let log = &obs.durable.server.log;
        let len = self.len(node);
        let ghost_last_term = self.logs[node as usize].last().map_or(0, |e| e.term);
        if log.last_index() != len || log.last_term() != ghost_last_term {
            return Err(format!(
                "node {node}'s log ends at index {} term {}, but its notes say index {len} term {ghost_last_term}",
                log.last_index(),
                log.last_term()
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
        let mut prev = match from.checked_sub(1) {
            Some(0) | None => EMPTY_PREFIX,
            Some(i) => self.get(node, i).map_or(EMPTY_PREFIX, |g| g.hash),
        };
        for index in from.max(1)..=len {
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
            match self.contents.entry((index, real.term)) {
                MapEntry::Vacant(v) => {
                    v.insert((Arc::clone(&real.command), node));
                }
                MapEntry::Occupied(o) => {
                    let (first, other) = o.get();
                    if !Arc::ptr_eq(first, &real.command) && **first != *real.command {
                        return Err(format!(
                            "nodes {other} and {node} both hold an entry at index {index} of term \
                             {}, with different commands",
                            real.term
                        ));
                    }
                }
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

impl Checker<RaftActor> for GhostLogs {
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
/// leading, or an `Appended` at or below the log's end while leading, is a violation.
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
/// key-value state (its keys and values, read from the state machine itself, not from any note) and
/// compares it with the digest the first server to reach the same applied index had: equal entries
/// applied to diverging state machines (a bug in apply, in duplicate suppression, in a rebuild after a
/// restart) show here. The digest costs time proportional to the store's size, once per applying
/// event.
#[derive(Clone, Debug)]
pub struct StateMachineSafety {
    /// `applied[i - 1]`: the first entry applied at index `i`, and by whom. Every server applies from
    /// 1 in order (checked first), so the indices applied anywhere are always `1..=applied.len()`.
    applied: Vec<(Term, EntryId, NodeId)>,
    /// By index `i`: the digest of the first state machine seen right after applying `i` (as the last
    /// entry of an event), and whose it was.
    digests: BTreeMap<Index, (u64, NodeId)>,
    next: Vec<Index>,
}

/// 64-bit FNV-1a over a state machine's keys and values, each followed by a separator byte that no
/// UTF-8 text contains (so `("ab", "c")` and `("a", "bc")` differ).
pub fn kv_digest<'a>(entries: impl Iterator<Item = (&'a str, &'a str)>) -> u64 {
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    let mut h = EMPTY_PREFIX;
    for (k, v) in entries {
        for b in k.bytes().chain([0xff]).chain(v.bytes()).chain([0xfe]) {
            h ^= u64::from(b);
            h = h.wrapping_mul(PRIME);
        }
    }
    h
}

impl StateMachineSafety {
    /// A fresh checker for `cluster`.
    pub fn new(cluster: Cluster) -> Self {
        StateMachineSafety {
            applied: Vec::new(),
            digests: BTreeMap::new(),
            next: vec![1; cluster.servers as usize],
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
        let digest = kv_digest(server.kv().entries());
        match self.digests.entry(index) {
            MapEntry::Vacant(v) => {
                v.insert((digest, node));
                Ok(())
            }
            MapEntry::Occupied(o) if o.get().0 != digest => Err(format!(
                "after applying index {index}, node {node}'s key-value state differs from node {}'s",
                o.get().1
            )),
            MapEntry::Occupied(_) => Ok(()),
        }
    }
}

impl Checker<RaftActor> for StateMachineSafety {
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
                RaftNote::Applied { index, term, id } => {
                    let expected = self.next[node as usize];
                    if index != expected {
                        return Err(format!(
                            "node {node} applied index {index} out of order (next should be {expected})"
                        ).into());
                    }
                    self.next[node as usize] = index + 1;
                    last_applied = Some(index);
                    let i = (index - 1) as usize;
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
