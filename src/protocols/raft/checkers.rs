//! Raft's safety checkers: the properties of Figure 3 of the paper, judged from ghost state the
//! checkers build out of the servers' notes, never by scanning whole logs.
//!
//! **Ghost logs.** Each checker that needs logs mirrors every server's log from its `Appended` and
//! `Truncated` notes. A ghost entry keeps the entry's term, a running *prefix hash*
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
//! Every checker costs, per event, time proportional to the notes of that event (plus a logarithm),
//! except truncation, which is paid for by the appends it undoes.

use super::liveness::RaftLiveness;
use super::message::{EntryId, Index, Term};
use super::{RaftActor, RaftNote, RaftParams};
use crate::actor::{Cluster, NodeId};
use crate::check::{Checker, Observation};
use crate::sim::time::Duration;
use std::collections::BTreeMap;
use std::collections::btree_map::Entry as MapEntry;

/// Every Raft checker, safety first; `raft_liveness` only when `liveness_catch_up_ms` is set.
pub fn all(cluster: Cluster, params: &RaftParams) -> Vec<Box<dyn Checker<RaftActor>>> {
    let mut all: Vec<Box<dyn Checker<RaftActor>>> = vec![
        Box::new(ElectionSafety::new()),
        Box::new(LogMatching::new(cluster)),
        Box::new(LeaderAppendOnly::new(cluster)),
        Box::new(LeaderCompleteness::new(cluster)),
        Box::new(CommitSafety::new(cluster)),
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
    let mut h = EMPTY_PREFIX;
    let bytes = prev
        .to_le_bytes()
        .into_iter()
        .chain(term.to_le_bytes())
        .chain(id.origin.to_le_bytes())
        .chain(id.seq.to_le_bytes());
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

/// Every server's log as the notes describe it.
#[derive(Clone, Debug)]
struct GhostLogs {
    logs: Vec<Vec<GhostEntry>>,
}

impl GhostLogs {
    fn new(servers: u32) -> GhostLogs {
        GhostLogs {
            logs: vec![Vec::new(); servers as usize],
        }
    }

    fn len(&self, node: NodeId) -> Index {
        self.logs[node as usize].len() as Index
    }

    fn get(&self, node: NodeId, index: Index) -> Option<GhostEntry> {
        let i = usize::try_from(index).ok()?.checked_sub(1)?;
        self.logs[node as usize].get(i).copied()
    }

    fn hash_at(&self, node: NodeId, index: Index) -> Option<u64> {
        if index == 0 {
            return Some(EMPTY_PREFIX);
        }
        self.get(node, index).map(|e| e.hash)
    }

    fn append(
        &mut self,
        node: NodeId,
        index: Index,
        term: Term,
        id: EntryId,
        current_term: Term,
    ) -> Result<GhostEntry, String> {
        let len = self.len(node);
        if index != len + 1 {
            return Err(format!(
                "node {node} noted an append at index {index}, but its log has {len} entries"
            ));
        }
        let prev = self.hash_at(node, len).unwrap_or(EMPTY_PREFIX);
        let entry = GhostEntry {
            term,
            hash: prefix_hash(prev, term, id),
            in_own_term: current_term == term,
        };
        self.logs[node as usize].push(entry);
        Ok(entry)
    }

    /// Removes `from_index..` and returns what was removed, in index order.
    fn truncate(&mut self, node: NodeId, from_index: Index) -> Result<Vec<GhostEntry>, String> {
        let len = self.len(node);
        if from_index == 0 || from_index > len {
            return Err(format!(
                "node {node} noted a truncation from index {from_index}, but its log has {len} entries"
            ));
        }
        Ok(self.logs[node as usize].split_off((from_index - 1) as usize))
    }
}

/// The servers' current terms after the event, for the ghost logs' "accepted in its own term".
fn current_term(obs: &Observation<'_, RaftActor>) -> Term {
    obs.durable.server.current_term
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

    fn observe(&mut self, obs: &Observation<'_, RaftActor>) -> Result<(), String> {
        for note in obs.notes {
            if let RaftNote::BecameLeader { term } = note {
                match self.leaders.entry(*term) {
                    MapEntry::Occupied(o) if *o.get() != obs.node => {
                        return Err(format!(
                            "term {term} has two leaders: node {} and node {}",
                            o.get(),
                            obs.node
                        ));
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

/// Log Matching: if two logs hold an entry with the same index and term, they are identical up to it.
///
/// Keeps every server's ghost log and, for every `(index, term)` ever appended, the prefix hash and
/// the first server that held it; an append whose prefix hash differs is a violation. After each
/// event it also checks that the notes account for the server's whole log (length and last term), so
/// a protocol that forgets a note cannot slip past the other checkers.
#[derive(Clone, Debug)]
pub struct LogMatching {
    ghosts: GhostLogs,
    seen: BTreeMap<(Index, Term), (u64, NodeId)>,
}

impl LogMatching {
    /// A fresh checker for `cluster`.
    pub fn new(cluster: Cluster) -> Self {
        LogMatching {
            ghosts: GhostLogs::new(cluster.servers),
            seen: BTreeMap::new(),
        }
    }
}

impl Checker<RaftActor> for LogMatching {
    fn name(&self) -> &'static str {
        "log_matching"
    }

    fn observe(&mut self, obs: &Observation<'_, RaftActor>) -> Result<(), String> {
        let node = obs.node;
        if !obs.cluster.is_server(node) {
            return Ok(());
        }
        for note in obs.notes {
            match *note {
                RaftNote::Appended { index, term, id } => {
                    let e = self
                        .ghosts
                        .append(node, index, term, id, current_term(obs))?;
                    match self.seen.entry((index, term)) {
                        MapEntry::Occupied(o) if o.get().0 != e.hash => {
                            return Err(format!(
                                "nodes {} and {node} both hold an entry at index {index} of term {term}, \
                                 but their logs differ at or before it",
                                o.get().1
                            ));
                        }
                        MapEntry::Occupied(_) => {}
                        MapEntry::Vacant(v) => {
                            v.insert((e.hash, node));
                        }
                    }
                }
                RaftNote::Truncated { from_index } => {
                    self.ghosts.truncate(node, from_index)?;
                }
                _ => {}
            }
        }
        let log = &obs.durable.server.log;
        let len = self.ghosts.len(node);
        let ghost_last_term = self.ghosts.get(node, len).map_or(0, |e| e.term);
        if log.last_index() != len || log.last_term() != ghost_last_term {
            return Err(format!(
                "node {node}'s log ends at index {} term {}, but its notes say index {len} term {ghost_last_term}",
                log.last_index(),
                log.last_term()
            ));
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

    fn observe(&mut self, obs: &Observation<'_, RaftActor>) -> Result<(), String> {
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
                        ));
                    }
                    self.len[n] = self.len[n].min(from_index.saturating_sub(1));
                }
                RaftNote::Appended { index, .. } => {
                    if let Some(term) = self.leading[n]
                        && index <= self.len[n]
                    {
                        return Err(format!(
                            "node {n}, leader of term {term}, overwrote its entry at index {index}"
                        ));
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

/// The checker-side record of commitment (see the module docs), shared by `leader_completeness` and
/// `commit_safety` (each keeps its own copy).
#[derive(Clone, Debug)]
struct Commitment {
    ghosts: GhostLogs,
    majority: u32,
    /// Uncommitted entries held in their own term, by (index, term, prefix hash): how many servers
    /// hold them now.
    holders: BTreeMap<(Index, Term, u64), u32>,
    /// The committed chain: `chain[i - 1]` is the committed entry at index `i` (term, prefix hash).
    chain: Vec<(Term, u64)>,
}

impl Commitment {
    fn new(cluster: Cluster) -> Commitment {
        Commitment {
            ghosts: GhostLogs::new(cluster.servers),
            majority: cluster.majority(),
            holders: BTreeMap::new(),
            chain: Vec::new(),
        }
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
        match (self.committed_at(index), self.ghosts.get(node, index)) {
            (Some((_, c)), Some(g)) => c == g.hash,
            _ => false,
        }
    }

    /// The highest committed index whose entry's term is below `term` (0 if none).
    fn committed_before_term(&self, term: Term) -> Index {
        // The chain is one log, so its terms never decrease.
        self.chain.partition_point(|(t, _)| *t < term) as Index
    }

    fn appended(
        &mut self,
        node: NodeId,
        index: Index,
        term: Term,
        id: EntryId,
        current_term: Term,
    ) -> Result<(), String> {
        let e = self.ghosts.append(node, index, term, id, current_term)?;
        if !e.in_own_term || self.holds_committed(node, index) {
            return Ok(());
        }
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
        for i in from + 1..=index {
            let g = self
                .ghosts
                .get(node, i)
                .expect("the ghost log holds the prefix of its last entry");
            self.chain.push((g.term, g.hash));
        }
        Ok(())
    }

    fn truncated(&mut self, node: NodeId, from_index: Index) -> Result<(), String> {
        let removed = self.ghosts.truncate(node, from_index)?;
        for (k, e) in removed.into_iter().enumerate() {
            let index = from_index + k as Index;
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
        Ok(())
    }

    fn observe_note(
        &mut self,
        node: NodeId,
        note: &RaftNote,
        current_term: Term,
    ) -> Result<(), String> {
        match *note {
            RaftNote::Appended { index, term, id } => {
                self.appended(node, index, term, id, current_term)
            }
            RaftNote::Truncated { from_index } => self.truncated(node, from_index),
            _ => Ok(()),
        }
    }
}

/// Leader Completeness: a server that becomes leader of term `T` holds every entry committed in
/// terms before `T`.
///
/// Checked when `BecameLeader` is noted: the new leader's ghost prefix hash at the highest committed
/// index of an earlier term must equal the committed chain's (which covers the whole prefix). Entries
/// committed only after the election are not re-checked against it. Also reports two different
/// entries committed at one index.
#[derive(Clone, Debug)]
pub struct LeaderCompleteness {
    commitment: Commitment,
}

impl LeaderCompleteness {
    /// A fresh checker for `cluster`.
    pub fn new(cluster: Cluster) -> Self {
        LeaderCompleteness {
            commitment: Commitment::new(cluster),
        }
    }
}

impl Checker<RaftActor> for LeaderCompleteness {
    fn name(&self) -> &'static str {
        "leader_completeness"
    }

    fn observe(&mut self, obs: &Observation<'_, RaftActor>) -> Result<(), String> {
        let node = obs.node;
        if !obs.cluster.is_server(node) {
            return Ok(());
        }
        // Keep the ghost state whole even past a violation, so later reports stay accurate.
        let mut found = Ok(());
        for note in obs.notes {
            if let RaftNote::BecameLeader { term } = *note
                && found.is_ok()
            {
                found = self.check_new_leader(node, term);
            }
            let updated = self.commitment.observe_note(node, note, current_term(obs));
            found = found.and(updated);
        }
        found
    }
}

impl LeaderCompleteness {
    fn check_new_leader(&self, node: NodeId, term: Term) -> Result<(), String> {
        let c = &self.commitment;
        let needed = c.committed_before_term(term);
        if needed == 0 || c.holds_committed(node, needed) {
            return Ok(());
        }
        let (t, _) = c.committed_at(needed).unwrap_or((0, 0));
        Err(format!(
            "node {node} became leader of term {term} without committed entry {needed} \
             (term {t}): its log has {} entries{}",
            c.ghosts.len(node),
            match c.ghosts.get(node, needed) {
                Some(g) => format!(", and a different one at {needed} (term {})", g.term),
                None => String::new(),
            }
        ))
    }
}

/// Commit safety: a server's commitIndex only ever covers committed entries (by the checker's
/// record), and no server ever removes a committed entry from its log.
///
/// This is where a leader that commits by counting replicas of an earlier-term entry (Figure 8) is
/// caught, at the moment it advances its commit index, before anything diverges.
#[derive(Clone, Debug)]
pub struct CommitSafety {
    commitment: Commitment,
}

impl CommitSafety {
    /// A fresh checker for `cluster`.
    pub fn new(cluster: Cluster) -> Self {
        CommitSafety {
            commitment: Commitment::new(cluster),
        }
    }
}

impl Checker<RaftActor> for CommitSafety {
    fn name(&self) -> &'static str {
        "commit_safety"
    }

    fn observe(&mut self, obs: &Observation<'_, RaftActor>) -> Result<(), String> {
        let node = obs.node;
        if !obs.cluster.is_server(node) {
            return Ok(());
        }
        // Keep the ghost state whole even past a violation, so later reports stay accurate.
        let mut found = Ok(());
        for note in obs.notes {
            if found.is_ok() {
                found = self.check_note(node, note);
            }
            let updated = self.commitment.observe_note(node, note, current_term(obs));
            found = found.and(updated);
        }
        found
    }
}

impl CommitSafety {
    fn check_note(&self, node: NodeId, note: &RaftNote) -> Result<(), String> {
        let c = &self.commitment;
        match *note {
            RaftNote::Committed { index } if !c.holds_committed(node, index) => {
                Err(match c.ghosts.get(node, index) {
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
            RaftNote::Truncated { from_index } if c.holds_committed(node, from_index) => Err(
                format!("node {node} removed committed entry {from_index} from its log"),
            ),
            _ => Ok(()),
        }
    }
}

// ---------------------------------------------------------------------------------------------

/// State Machine Safety: no two servers apply different entries at the same index. Also checks that
/// each server applies indices in order from 1 after every (re)start.
#[derive(Clone, Debug)]
pub struct StateMachineSafety {
    applied: BTreeMap<Index, (Term, EntryId, NodeId)>,
    next: Vec<Index>,
}

impl StateMachineSafety {
    /// A fresh checker for `cluster`.
    pub fn new(cluster: Cluster) -> Self {
        StateMachineSafety {
            applied: BTreeMap::new(),
            next: vec![1; cluster.servers as usize],
        }
    }
}

impl Checker<RaftActor> for StateMachineSafety {
    fn name(&self) -> &'static str {
        "state_machine_safety"
    }

    fn observe(&mut self, obs: &Observation<'_, RaftActor>) -> Result<(), String> {
        let node = obs.node;
        if !obs.cluster.is_server(node) {
            return Ok(());
        }
        for note in obs.notes {
            match *note {
                RaftNote::Started { .. } => self.next[node as usize] = 1,
                RaftNote::Applied { index, term, id } => {
                    let expected = self.next[node as usize];
                    if index != expected {
                        return Err(format!(
                            "node {node} applied index {index} out of order (next should be {expected})"
                        ));
                    }
                    self.next[node as usize] = index + 1;
                    match self.applied.entry(index) {
                        MapEntry::Occupied(o) if (o.get().0, o.get().1) != (term, id) => {
                            let (t, other_id, other) = *o.get();
                            return Err(format!(
                                "index {index}: node {other} applied {other_id:?} of term {t}, \
                                 node {node} applied {id:?} of term {term}"
                            ));
                        }
                        MapEntry::Occupied(_) => {}
                        MapEntry::Vacant(v) => {
                            v.insert((term, id, node));
                        }
                    }
                }
                _ => {}
            }
        }
        Ok(())
    }
}
