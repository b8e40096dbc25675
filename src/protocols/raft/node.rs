//! The Raft server: a pure state machine following Figure 2 of the Raft paper (extended version),
//! with the client interaction of §8.
//!
//! State is split the way Figure 2 splits it:
//! - persistent state on all servers ([`ServerDisk`]: currentTerm, votedFor, log, and §7's snapshot)
//!   lives on the node's disk, `ctx.durable_mut().server`, and is written before any message of the
//!   same handler leaves;
//! - volatile state on all servers (commitIndex, lastApplied, the key-value state machine) lives in
//!   [`Node`] and is rebuilt after a restart from the snapshot, if any, and then by re-learning the
//!   commit index from the leader;
//! - volatile state per role ([`RoleState`]): the candidate's votes, the leader's nextIndex/matchIndex.
//!
//! The rules, and the invariants they keep:
//! - **Terms.** Any message carrying a higher term makes the server adopt it (clearing votedFor) and
//!   become a follower. Requests from lower terms are refused; replies from other terms are ignored, so
//!   stale, duplicated and reordered replies cannot change a later term's state.
//! - **Elections (§5.2, §5.4.1).** A follower that hears no leader within a randomized election timeout
//!   (drawn from its own random stream) becomes a candidate: it increments its term, votes for itself,
//!   and asks the others. A server grants at most one vote per term (votedFor is durable) and only to a
//!   candidate whose log is at least as up-to-date as its own (last term, then last index). A candidate
//!   wins with votes from a majority of *distinct* servers. Hence Election Safety: one leader per term.
//! - **Replication (§5.3).** The leader sends AppendEntries with the entry before the new ones; a follower
//!   accepts only if its log has that entry, removes conflicting entries (and only those: a stale,
//!   reordered AppendEntries never truncates entries it matches), and appends what it lacks. A failed
//!   check makes the leader back up nextIndex, using the follower's conflict hint to skip a whole term.
//!   Hence Log Matching. A leader never removes or overwrites its own entries (Leader Append-Only).
//! - **Commitment (§5.4.2).** The leader advances commitIndex to the highest index stored on a majority
//!   *only if that entry is from its current term*; earlier entries are then committed indirectly. This
//!   is what Figure 8 shows is necessary. Followers learn the commit index from AppendEntries, capped by
//!   what they know matches the leader. Entries are applied in index order, each once per incarnation.
//! - **Clients (§8).** Only the leader accepts client requests; others redirect with a leader hint. Reads
//!   go through the log like writes, so they are linearizable. The state machine's session table makes a
//!   retried request take effect at most once. A leader appends a no-op at the start of its term (on by
//!   default) so that it commits its predecessors' entries promptly.
//!
//! - **Compaction (§7).** Past `snapshot_log_entries_max` applied entries, a server snapshots its
//!   state machine at its applied index and drops that log prefix (only applied, so committed,
//!   entries). A leader whose nextIndex for a follower is at or below its snapshot sends the whole
//!   snapshot; the follower ignores one its commit index covers, else keeps the log after the
//!   snapshot's last entry if it holds that entry, or discards its log, and takes the snapshot's state
//!   machine. An AppendEntries that reaches below a follower's snapshot is matched from the
//!   snapshot on (committed entries match every later leader's log).
//!
//! Every entry that enters the log, every truncation, commit-index advance and application is reported
//! as a [`RaftNote`] so that the checkers can keep their ghost state without scanning logs.

use super::kv::{Kv, SessionState};
use super::log::Log;
use super::message::{
    ClientOutcome, Command, Entry, Index, KvOp, KvResult, Msg, RaftTimer, Request, Term,
};
use super::mutants::Flags;
use super::snapshot::Snapshot;
use super::{RaftActor, RaftNote};
use crate::contract::Duration;
use crate::contract::{Cluster, Ctx, NodeId};
use std::collections::BTreeMap;
use std::sync::Arc;

/// A server's disk: Figure 2's persistent state, and §7's snapshot.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ServerDisk {
    /// The latest term this server has seen (0 at first boot).
    pub current_term: Term,
    /// The candidate this server voted for in `current_term`, if any.
    pub voted_for: Option<NodeId>,
    /// The log, after the prefix the snapshot replaced.
    pub log: Log,
    /// The latest snapshot, if the server has taken or installed one: its last index and term are
    /// the log's `snapshot_index` and `snapshot_term`. Shared with the InstallSnapshot messages that
    /// carry it.
    pub snapshot: Option<Arc<Snapshot>>,
}

/// A server's configuration, fixed for the run.
#[derive(Clone, Debug)]
pub struct ServerConfig {
    /// Lower bound of the randomized election timeout.
    pub election_timeout_min: Duration,
    /// Upper bound of the randomized election timeout.
    pub election_timeout_max: Duration,
    /// Interval between a leader's heartbeats.
    pub heartbeat: Duration,
    /// Most entries in one AppendEntries.
    pub max_entries_per_append: u64,
    /// CheckQuorum: a leader that has not heard from a majority within an election timeout steps down.
    pub check_quorum: bool,
    /// PreVote: a server first asks whether it could win, without raising its term.
    pub pre_vote: bool,
    /// Whether a new leader appends a no-op entry (§8).
    pub leader_noop: bool,
    /// Log compaction (§7): snapshot once the log holds more than this many applied entries past
    /// the last snapshot; `None`: never.
    pub snapshot_log_entries_max: Option<u64>,
    /// The planted bugs switched on.
    pub flags: Flags,
}

/// Follower state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FollowerState {
    /// The leader of the current term, once heard from (for redirecting clients).
    pub leader: Option<NodeId>,
}

/// Candidate state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CandidateState {
    /// `voters[s]`: server `s` granted its vote in this term (self included).
    pub voters: Vec<bool>,
    /// Granting replies received, duplicates included (only the `count_duplicate_votes` mutant uses it).
    pub granted_replies: u32,
}

/// Leader state (Figure 2's volatile state on leaders), reinitialized after each election.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LeaderState {
    /// For each server, the index of the next entry to send it (the leader's own slot: last + 1).
    pub next_index: Vec<Index>,
    /// For each server, the highest index known to match the leader's log (own slot: last index).
    pub match_index: Vec<Index>,
    /// Per client, the request (seq, index) this leader appended in its term, so a retry of a request
    /// still in flight is not appended twice.
    pub proposed: BTreeMap<NodeId, (u64, Index)>,
    /// CheckQuorum: for each server, whether it answered an AppendEntries of this term since the last
    /// check (the leader's own slot is always true).
    pub heard: Vec<bool>,
}

/// A server's role and the state only that role has.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RoleState {
    /// Follows a leader (or waits for one).
    Follower(FollowerState),
    /// Asks for votes.
    Candidate(CandidateState),
    /// Replicates its log.
    Leader(LeaderState),
}

/// A Raft server.
#[derive(Clone, Debug)]
pub struct Node {
    // Identity and configuration.
    id: NodeId,
    cluster: Cluster,
    cfg: ServerConfig,
    // Volatile state on all servers (Figure 2), lost in a crash.
    commit_index: Index,
    last_applied: Index,
    kv: Kv,
    // The role, with the volatile state specific to it.
    role: RoleState,
    // Scratch space for `advance_commit`, kept so that counting replicas allocates nothing.
    scratch: Vec<Index>,
    /// PreVote: the term this server asks about and who said yes, while it asks.
    pre_votes: Option<(Term, Vec<bool>)>,
    /// Local time this server last heard an AppendEntries from its term's leader.
    leader_contact: Option<crate::contract::Time>,
    // The empty entry list that every heartbeat carries (an empty `Arc<[_]>` still allocates).
    no_entries: Arc<[Entry]>,
}

type RaftCtx<'a> = Ctx<'a, RaftActor>;

fn disk<'c>(ctx: &'c RaftCtx<'_>) -> &'c ServerDisk {
    &ctx.durable().server
}

fn disk_mut<'c>(ctx: &'c mut RaftCtx<'_>) -> &'c mut ServerDisk {
    &mut ctx.durable_mut().server
}

impl Node {
    /// A server as it boots: a follower that knows no leader. Its persistent state is on its disk.
    pub fn new(id: NodeId, cluster: Cluster, cfg: ServerConfig) -> Node {
        debug_assert!(cluster.is_server(id));
        Node {
            id,
            cluster,
            cfg,
            commit_index: 0,
            last_applied: 0,
            kv: Kv::new(),
            role: RoleState::Follower(FollowerState { leader: None }),
            scratch: Vec::new(),
            pre_votes: None,
            leader_contact: None,
            no_entries: Arc::new([]),
        }
    }

    /// The server's id.
    pub fn id(&self) -> NodeId {
        self.id
    }

    /// The role and its state.
    pub fn role_state(&self) -> &RoleState {
        &self.role
    }

    /// "leader", "candidate" or "follower".
    pub fn role_name(&self) -> &'static str {
        match self.role {
            RoleState::Follower(_) => "follower",
            RoleState::Candidate(_) => "candidate",
            RoleState::Leader(_) => "leader",
        }
    }

    /// Whether this server believes it is the leader.
    pub fn is_leader(&self) -> bool {
        matches!(self.role, RoleState::Leader(_))
    }

    /// The highest index this server knows to be committed.
    pub fn commit_index(&self) -> Index {
        self.commit_index
    }

    /// The highest index applied to the state machine.
    pub fn last_applied(&self) -> Index {
        self.last_applied
    }

    /// The key-value state machine.
    pub fn kv(&self) -> &Kv {
        &self.kv
    }

    /// The state machine, writable: for tests that plant a diverged one.
    #[cfg(test)]
    pub fn kv_mut(&mut self) -> &mut Kv {
        &mut self.kv
    }

    /// Boot or reboot: read the disk back and wait for a leader.
    pub fn on_start(&mut self, ctx: &mut RaftCtx<'_>) {
        if self.cfg.flags.forget_vote_on_restart {
            // The mutant keeps votedFor in memory only, as if it were never written to disk: after a
            // restart the server no longer knows whom it voted for in its current term.
            disk_mut(ctx).voted_for = None;
        }
        if self.cfg.flags.forget_term_on_restart {
            // The mutant keeps currentTerm in memory only: the server boots in term 0 (and, having
            // no term, no vote either).
            let d = disk_mut(ctx);
            d.current_term = 0;
            d.voted_for = None;
        }
        let d = disk(ctx);
        let (term, last_index) = (d.current_term, d.log.last_index());
        let snapshot = d.snapshot.clone();
        ctx.note(RaftNote::Started { term, last_index });
        if let Some(snap) = snapshot {
            // §7: the state machine restarts from the snapshot; only the entries after it are
            // applied again (once the commit index is re-learned). The snapshot holds only applied,
            // hence committed, entries.
            debug_assert_eq!(
                (snap.last_index, snap.last_term),
                (
                    disk(ctx).log.snapshot_index(),
                    disk(ctx).log.snapshot_term()
                )
            );
            self.kv = snap.state.clone();
            self.commit_index = snap.last_index;
            self.last_applied = snap.last_index;
            ctx.note(RaftNote::SnapshotRestored {
                index: snap.last_index,
                term: snap.last_term,
            });
        }
        self.reset_election_timer(ctx);
    }

    /// A message from a server or a client.
    pub fn on_msg(&mut self, ctx: &mut RaftCtx<'_>, from: NodeId, msg: Msg) {
        if let Msg::ClientRequest(req) = msg {
            if !self.cluster.is_server(req.client) {
                self.on_client_request(ctx, req);
            }
            return;
        }
        if !self.cluster.is_server(from) || from == self.id {
            return; // Raft RPCs come from other servers only.
        }
        match msg {
            Msg::RequestVote {
                term,
                last_log_index,
                last_log_term,
            } => self.on_request_vote(ctx, from, term, last_log_index, last_log_term),
            Msg::RequestVoteReply { term, vote_granted } => {
                self.on_vote_reply(ctx, from, term, vote_granted)
            }
            Msg::PreVote {
                term,
                last_log_index,
                last_log_term,
            } => self.on_pre_vote(ctx, from, term, last_log_index, last_log_term),
            Msg::PreVoteReply { term, granted } => self.on_pre_vote_reply(ctx, from, term, granted),
            Msg::AppendEntries {
                term,
                prev_log_index,
                prev_log_term,
                entries,
                leader_commit,
            } => self.on_append(
                ctx,
                from,
                term,
                prev_log_index,
                prev_log_term,
                entries,
                leader_commit,
            ),
            Msg::AppendEntriesReply {
                term,
                success,
                match_index,
                conflict_index,
                conflict_term,
            } => self.on_append_reply(
                ctx,
                from,
                term,
                success,
                match_index,
                conflict_index,
                conflict_term,
            ),
            Msg::InstallSnapshot { term, snapshot } => {
                self.on_install_snapshot(ctx, from, term, snapshot)
            }
            // The leader treats it as an AppendEntries success up to the snapshot (or, with 0, as a
            // refusal of a stale-term request).
            Msg::InstallSnapshotReply { term, match_index } => {
                self.on_append_reply(ctx, from, term, match_index > 0, match_index, 0, None)
            }
            Msg::ClientRequest(_) | Msg::ClientReply { .. } => {}
        }
    }

    /// A timer fired.
    pub fn on_timer(&mut self, ctx: &mut RaftCtx<'_>, timer: RaftTimer) {
        match timer {
            RaftTimer::Election if !self.is_leader() && self.cfg.pre_vote => {
                self.start_pre_vote(ctx)
            }
            RaftTimer::Election if !self.is_leader() => self.start_election(ctx),
            RaftTimer::Heartbeat if self.is_leader() => {
                self.broadcast_append(ctx);
                ctx.set_timer(RaftTimer::Heartbeat, self.cfg.heartbeat);
            }
            RaftTimer::CheckQuorum => self.check_quorum(ctx),
            _ => {}
        }
    }

    /// CheckQuorum (etcd's raft, Raft thesis §6.2): a leader that has not heard from a majority
    /// (itself included) within the last election timeout steps down, so that clients stop waiting
    /// on a leader cut off from its cluster.
    fn check_quorum(&mut self, ctx: &mut RaftCtx<'_>) {
        let RoleState::Leader(l) = &mut self.role else {
            return;
        };
        let heard = l.heard.iter().filter(|h| **h).count() as u32;
        for (i, h) in l.heard.iter_mut().enumerate() {
            *h = i == self.id as usize;
        }
        if heard >= self.cluster.majority() {
            ctx.set_timer(RaftTimer::CheckQuorum, self.cfg.election_timeout_min);
            return;
        }
        ctx.note(RaftNote::Took {
            path: super::CHECK_QUORUM_STEP_DOWN,
        });
        self.become_follower(ctx, None);
    }

    // ---- terms and roles ----

    fn reset_election_timer(&mut self, ctx: &mut RaftCtx<'_>) {
        let after =
            ctx.random_duration(self.cfg.election_timeout_min, self.cfg.election_timeout_max);
        ctx.set_timer(RaftTimer::Election, after);
    }

    /// Becomes a follower of the current term (which the caller has already set).
    fn become_follower(&mut self, ctx: &mut RaftCtx<'_>, leader: Option<NodeId>) {
        let was_leader = self.is_leader();
        self.pre_votes = None;
        self.role = RoleState::Follower(FollowerState { leader });
        if was_leader {
            let term = disk(ctx).current_term;
            ctx.note(RaftNote::SteppedDown { term });
            ctx.cancel_timer(RaftTimer::Heartbeat);
            ctx.cancel_timer(RaftTimer::CheckQuorum);
            // A leader runs no election timer; a follower must.
            self.reset_election_timer(ctx);
        }
    }

    /// Figure 2, all servers: if a message carries a term above ours, adopt it and follow.
    fn observe_term(&mut self, ctx: &mut RaftCtx<'_>, term: Term) {
        if term > disk(ctx).current_term {
            self.become_follower(ctx, None);
            let d = disk_mut(ctx);
            d.current_term = term;
            d.voted_for = None;
        }
    }

    // ---- elections ----

    /// PreVote: ask the others whether they would vote for this server in the next term, raising
    /// nothing; only a majority of yes starts the real election. A server cut off from the majority
    /// thus never raises its term, and cannot depose a healthy leader when it comes back.
    fn start_pre_vote(&mut self, ctx: &mut RaftCtx<'_>) {
        let d = disk(ctx);
        let (term, last_log_index, last_log_term) =
            (d.current_term + 1, d.log.last_index(), d.log.last_term());
        let mut granted = vec![false; self.cluster.servers as usize];
        granted[self.id as usize] = true;
        self.pre_votes = Some((term, granted));
        self.reset_election_timer(ctx);
        ctx.broadcast(Msg::PreVote {
            term,
            last_log_index,
            last_log_term,
        });
        self.maybe_win_pre_vote(ctx); // a one-server cluster
    }

    /// Would vote for `candidate` in `term`: a later term than this server's, a log at least as up to
    /// date, and no leader heard from within the least election timeout (a live leader keeps its
    /// followers from helping a disruptive server). Nothing is persisted.
    fn on_pre_vote(
        &mut self,
        ctx: &mut RaftCtx<'_>,
        candidate: NodeId,
        term: Term,
        last_log_index: Index,
        last_log_term: Term,
    ) {
        let d = disk(ctx);
        let leader_alive = self.is_leader()
            || self
                .leader_contact
                .is_some_and(|t| ctx.now() < t + self.cfg.election_timeout_min);
        let granted = term > d.current_term
            && !leader_alive
            && d.log.candidate_is_up_to_date(last_log_index, last_log_term);
        let reply_term = if granted { term } else { d.current_term };
        ctx.send(
            candidate,
            Msg::PreVoteReply {
                term: reply_term,
                granted,
            },
        );
    }

    fn on_pre_vote_reply(
        &mut self,
        ctx: &mut RaftCtx<'_>,
        from: NodeId,
        term: Term,
        granted: bool,
    ) {
        if !granted {
            // A refusal carries the voter's term: a newer one is news like any other.
            self.observe_term(ctx, term);
            return;
        }
        let Some((asked, votes)) = &mut self.pre_votes else {
            return;
        };
        if *asked != term || *asked != disk(ctx).current_term + 1 {
            return; // an answer to an earlier round
        }
        votes[from as usize] = true;
        self.maybe_win_pre_vote(ctx);
    }

    fn maybe_win_pre_vote(&mut self, ctx: &mut RaftCtx<'_>) {
        let Some((_, votes)) = &self.pre_votes else {
            return;
        };
        if votes.iter().filter(|v| **v).count() as u32 >= self.cluster.majority() {
            self.pre_votes = None;
            self.start_election(ctx);
        }
    }

    fn start_election(&mut self, ctx: &mut RaftCtx<'_>) {
        self.pre_votes = None;
        let d = disk_mut(ctx);
        d.current_term += 1;
        d.voted_for = Some(self.id);
        let (term, last_log_index, last_log_term) =
            (d.current_term, d.log.last_index(), d.log.last_term());
        let mut voters = vec![false; self.cluster.servers as usize];
        voters[self.id as usize] = true;
        self.role = RoleState::Candidate(CandidateState {
            voters,
            granted_replies: 1,
        });
        ctx.note(RaftNote::BecameCandidate { term });
        self.reset_election_timer(ctx);
        ctx.broadcast(Msg::RequestVote {
            term,
            last_log_index,
            last_log_term,
        });
        self.maybe_win(ctx); // a one-server cluster elects itself
    }

    fn on_request_vote(
        &mut self,
        ctx: &mut RaftCtx<'_>,
        candidate: NodeId,
        term: Term,
        last_log_index: Index,
        last_log_term: Term,
    ) {
        self.observe_term(ctx, term);
        let d = disk(ctx);
        let log_ok = self.cfg.flags.vote_ignores_log
            || d.log.candidate_is_up_to_date(last_log_index, last_log_term);
        let voted_other = d.voted_for.is_some_and(|v| v != candidate);
        let grant = term == d.current_term && !voted_other && log_ok;
        let current = d.current_term;
        let refusal = if term < current {
            Some(super::VOTE_REJECTED_STALE_TERM)
        } else if voted_other {
            Some(super::VOTE_REJECTED_ALREADY_VOTED)
        } else if !log_ok {
            Some(super::VOTE_REJECTED_LOG_BEHIND)
        } else {
            None
        };
        debug_assert_eq!(
            grant,
            refusal.is_none(),
            "a vote is granted or refused for a reason"
        );
        if let Some(path) = refusal {
            ctx.note(RaftNote::Took { path });
        }
        if grant {
            disk_mut(ctx).voted_for = Some(candidate);
            // §5.2: granting a vote counts as hearing from a would-be leader.
            self.reset_election_timer(ctx);
        }
        ctx.send(
            candidate,
            Msg::RequestVoteReply {
                term: current,
                vote_granted: grant,
            },
        );
    }

    fn on_vote_reply(&mut self, ctx: &mut RaftCtx<'_>, voter: NodeId, term: Term, granted: bool) {
        self.observe_term(ctx, term);
        if term != disk(ctx).current_term || !granted {
            return; // a stale reply from an earlier election, or a refusal
        }
        if let RoleState::Candidate(c) = &mut self.role {
            c.voters[voter as usize] = true;
            c.granted_replies += 1;
        }
        self.maybe_win(ctx);
    }

    fn maybe_win(&mut self, ctx: &mut RaftCtx<'_>) {
        let RoleState::Candidate(c) = &self.role else {
            return;
        };
        let votes = if self.cfg.flags.count_duplicate_votes {
            // The mutant counts replies, so a duplicated reply counts twice.
            c.granted_replies
        } else {
            c.voters.iter().filter(|v| **v).count() as u32
        };
        if votes >= self.cluster.majority() {
            self.become_leader(ctx);
        }
    }

    fn become_leader(&mut self, ctx: &mut RaftCtx<'_>) {
        let d = disk(ctx);
        let (term, last) = (d.current_term, d.log.last_index());
        let n = self.cluster.servers as usize;
        let mut match_index = vec![0; n];
        match_index[self.id as usize] = last;
        let mut heard = vec![false; n];
        heard[self.id as usize] = true;
        self.role = RoleState::Leader(LeaderState {
            next_index: vec![last + 1; n],
            match_index,
            proposed: BTreeMap::new(),
            heard,
        });
        ctx.note(RaftNote::BecameLeader { term });
        ctx.cancel_timer(RaftTimer::Election);
        if self.cfg.leader_noop {
            self.append_as_leader(ctx, Command::Noop { leader: self.id });
        }
        self.broadcast_append(ctx);
        ctx.set_timer(RaftTimer::Heartbeat, self.cfg.heartbeat);
        if self.cfg.check_quorum {
            ctx.set_timer(RaftTimer::CheckQuorum, self.cfg.election_timeout_min);
        }
        self.advance_commit(ctx); // a one-server cluster commits alone
    }

    // ---- replication: leader side ----

    fn append_as_leader(&mut self, ctx: &mut RaftCtx<'_>, command: Command) -> Index {
        let d = disk_mut(ctx);
        let term = d.current_term;
        let entry = Entry::new(term, command);
        let id = entry.id();
        let index = d.log.append(entry);
        ctx.note(RaftNote::Appended { index, term, id });
        if let RoleState::Leader(l) = &mut self.role {
            l.match_index[self.id as usize] = index;
            l.next_index[self.id as usize] = index + 1;
        }
        index
    }

    fn broadcast_append(&self, ctx: &mut RaftCtx<'_>) {
        // Followers that keep up all wait for the same next index: they share one copy of the entries.
        let mut shared = None;
        for peer in self.cluster.server_ids() {
            if peer != self.id {
                self.send_append_sharing(ctx, peer, &mut shared);
            }
        }
    }

    fn send_append(&self, ctx: &mut RaftCtx<'_>, peer: NodeId) {
        self.send_append_sharing(ctx, peer, &mut None);
    }

    /// Sends `peer` an AppendEntries from its next index. `shared` holds the entries last sent from
    /// some next index, reused (and replaced) here when the index matches.
    fn send_append_sharing(
        &self,
        ctx: &mut RaftCtx<'_>,
        peer: NodeId,
        shared: &mut Option<(Index, Arc<[Entry]>)>,
    ) {
        let RoleState::Leader(l) = &self.role else {
            return;
        };
        let next = l.next_index[peer as usize];
        let d = disk(ctx);
        debug_assert!(
            next >= 1 && next <= d.log.last_index() + 1,
            "nextIndex {next}"
        );
        if next <= d.log.snapshot_index() {
            // §7: the entries the follower needs next are compacted; send the snapshot instead.
            if let Some(snapshot) = &d.snapshot {
                let msg = Msg::InstallSnapshot {
                    term: d.current_term,
                    snapshot: Arc::clone(snapshot),
                };
                ctx.send(peer, msg);
            }
            return;
        }
        let prev_log_index = next - 1;
        let prev_log_term = d.log.term_at(prev_log_index).unwrap_or(0);
        let entries = match shared {
            Some((from, entries)) if *from == next => entries.clone(),
            _ => {
                let slice = d.log.slice(next, self.cfg.max_entries_per_append);
                // A heartbeat shares the node's one empty list rather than allocating its own.
                let entries: Arc<[Entry]> = if slice.is_empty() {
                    self.no_entries.clone()
                } else {
                    slice.into()
                };
                *shared = Some((next, entries.clone()));
                entries
            }
        };
        let msg = Msg::AppendEntries {
            term: d.current_term,
            prev_log_index,
            prev_log_term,
            entries,
            leader_commit: self.commit_index,
        };
        ctx.send(peer, msg);
    }

    #[allow(clippy::too_many_arguments)]
    fn on_append_reply(
        &mut self,
        ctx: &mut RaftCtx<'_>,
        from: NodeId,
        term: Term,
        success: bool,
        match_index: Index,
        conflict_index: Index,
        conflict_term: Option<Term>,
    ) {
        self.observe_term(ctx, term);
        let d = disk(ctx);
        let last = d.log.last_index();
        if term != d.current_term {
            return; // a reply to an earlier term's request
        }
        if let RoleState::Leader(l) = &mut self.role {
            // Any answer of this term, success or not, shows the follower is reachable.
            l.heard[from as usize] = true;
        }
        if !success && conflict_index == 0 {
            // A refusal of a stale-term request (one this server sent as leader of an earlier term):
            // it says nothing about the follower's log. Real consistency failures hint at index >= 1.
            return;
        }
        // The leader's next try after a failure: skip the follower's conflicting term if we have
        // entries of it, else jump to where the follower's log ends or that term begins.
        let hint = match conflict_term {
            Some(ct) => d
                .log
                .last_index_of_term(ct)
                .map_or(conflict_index, |i| i + 1),
            None => conflict_index,
        };
        let RoleState::Leader(l) = &mut self.role else {
            return;
        };
        let p = from as usize;
        if success {
            // Replies may come late, twice or out of order: matchIndex only grows.
            let m = match_index.min(last);
            let advanced = m > l.match_index[p];
            if advanced {
                l.match_index[p] = m;
            }
            if l.next_index[p] <= m {
                l.next_index[p] = m + 1;
            }
            let behind = l.next_index[p] <= last;
            if advanced {
                // Only a matchIndex that grew can commit more: every other change to the inputs of
                // `advance_commit` (the leader's own appends, its election) calls it there.
                self.advance_commit(ctx);
                if behind {
                    self.send_append(ctx, from); // keep a lagging follower catching up
                }
            }
        } else {
            let floor = l.match_index[p] + 1;
            let old = l.next_index[p];
            let mut next = hint.min(old);
            if next >= old {
                next = old.saturating_sub(1); // the hint did not help: back up by one (§5.3)
            }
            let next = next.max(floor).min(last + 1);
            if next != old {
                l.next_index[p] = next;
                self.send_append(ctx, from);
            }
        }
    }

    /// §5.4.2: commit the highest index stored on a majority, if it is from the current term.
    fn advance_commit(&mut self, ctx: &mut RaftCtx<'_>) {
        let RoleState::Leader(l) = &self.role else {
            return;
        };
        // The majority-th highest matchIndex is stored on a majority.
        let matched = &mut self.scratch;
        matched.clear();
        matched.extend_from_slice(&l.match_index);
        matched.sort_unstable_by(|a, b| b.cmp(a));
        let n = matched[self.cluster.majority() as usize - 1];
        if n <= self.commit_index {
            return;
        }
        let d = disk(ctx);
        // Figure 8: counting replicas proves nothing for an entry of an earlier term. The mutant counts
        // them anyway.
        if d.log.term_at(n) != Some(d.current_term) && !self.cfg.flags.commit_prior_term {
            return;
        }
        self.commit_index = n;
        ctx.note(RaftNote::Committed { index: n });
        self.apply_committed(ctx);
    }

    // ---- replication: follower side ----

    #[allow(clippy::too_many_arguments)]
    fn on_append(
        &mut self,
        ctx: &mut RaftCtx<'_>,
        leader: NodeId,
        term: Term,
        prev_log_index: Index,
        prev_log_term: Term,
        entries: Arc<[Entry]>,
        leader_commit: Index,
    ) {
        self.observe_term(ctx, term);
        let current = disk(ctx).current_term;
        let fail = |conflict_index, conflict_term| Msg::AppendEntriesReply {
            term: current,
            success: false,
            match_index: 0,
            conflict_index,
            conflict_term,
        };
        if term < current {
            // Tells a deposed leader the newer term; conflict index 0 marks it as a stale refusal.
            ctx.note(RaftNote::Took {
                path: super::APPEND_REJECTED_STALE_TERM,
            });
            ctx.send(leader, fail(0, None));
            return;
        }
        // term == current: `leader` is this term's one leader.
        self.become_follower(ctx, Some(leader));
        self.leader_contact = Some(ctx.now());
        self.reset_election_timer(ctx);

        let log = &disk(ctx).log;
        let base = log.snapshot_index();
        if prev_log_index > log.last_index() {
            let hint = log.last_index() + 1;
            ctx.note(RaftNote::Took {
                path: super::APPEND_REJECTED_LOG_SHORT,
            });
            ctx.send(leader, fail(hint, None));
            return;
        }
        // Below the snapshot there is nothing to compare: those entries are committed, so they match
        // this term's leader's (Leader Completeness), and the loop below skips them.
        let here = log.term_at(prev_log_index).unwrap_or(0);
        if prev_log_index >= base && here != prev_log_term {
            let hint = log.first_index_of_term_at(prev_log_index);
            ctx.note(RaftNote::Took {
                path: super::APPEND_REJECTED_TERM_MISMATCH,
            });
            ctx.send(leader, fail(hint, Some(here)));
            return;
        }

        // The logs match up to prev_log_index. Store what we lack; remove only real conflicts, so a
        // stale AppendEntries that we already hold (and more) changes nothing.
        let mut index = prev_log_index;
        for entry in entries.iter() {
            index += 1;
            if index <= base {
                continue; // in the snapshot, committed: the leader's entry is this one
            }
            match disk(ctx).log.term_at(index) {
                Some(t) if t == entry.term => continue,
                Some(_) => {
                    disk_mut(ctx).log.truncate_from(index);
                    ctx.note(RaftNote::Truncated { from_index: index });
                }
                None => {}
            }
            let (t, id) = (entry.term, entry.id());
            let at = disk_mut(ctx).log.append(entry.clone());
            debug_assert_eq!(at, index);
            ctx.note(RaftNote::Appended { index, term: t, id });
        }
        // Everything up to `index` now matches the leader's log, and so does the snapshot.
        let index = index.max(base);
        if leader_commit > self.commit_index {
            let new_commit = leader_commit.min(index);
            if new_commit > self.commit_index {
                self.commit_index = new_commit;
                ctx.note(RaftNote::Committed { index: new_commit });
                self.apply_committed(ctx);
            }
        }
        ctx.send(
            leader,
            Msg::AppendEntriesReply {
                term: current,
                success: true,
                match_index: index,
                conflict_index: 0,
                conflict_term: None,
            },
        );
    }

    // ---- the state machine and clients ----

    fn apply_committed(&mut self, ctx: &mut RaftCtx<'_>) {
        while self.last_applied < self.commit_index {
            let index = self.last_applied + 1;
            // Only a planted bug can commit past the end of a log (then truncated); stop there. The
            // clone shares the command: it only frees `ctx` for the effects below.
            let Some(entry) = disk(ctx).log.entry(index).cloned() else {
                break;
            };
            self.last_applied = index;
            ctx.note(RaftNote::Applied {
                index,
                term: entry.term,
                id: entry.id(),
            });
            if let Command::Client(req) = &*entry.command {
                if matches!(
                    self.kv.session(req.client, req.seq),
                    SessionState::Applied(_)
                ) {
                    ctx.note(RaftNote::Took {
                        path: super::DUPLICATE_SUPPRESSED,
                    });
                }
                let result = self.kv.apply(req);
                // The leader answers; followers apply silently.
                if let (RoleState::Leader(_), Some(result)) = (&self.role, result) {
                    ctx.send(
                        req.client,
                        Msg::ClientReply {
                            seq: req.seq,
                            outcome: ClientOutcome::Done(result),
                        },
                    );
                }
            }
        }
        self.maybe_compact(ctx);
    }

    // ---- log compaction (§7) ----

    /// Snapshots the state machine at the applied index and discards the log up to it, once the
    /// log holds more than `snapshot_log_entries_max` applied entries past the last snapshot. Only
    /// applied (hence committed) entries are ever compacted.
    fn maybe_compact(&mut self, ctx: &mut RaftCtx<'_>) {
        let Some(max) = self.cfg.snapshot_log_entries_max else {
            return;
        };
        let d = disk(ctx);
        let base = d.log.snapshot_index();
        if self.last_applied.saturating_sub(base) <= max {
            return;
        }
        let index = self.last_applied;
        debug_assert!(index <= self.commit_index && index <= d.log.last_index());
        let Some(term) = d.log.term_at(index) else {
            return;
        };
        let snapshot = Arc::new(Snapshot {
            last_index: index,
            last_term: term,
            state: self.kv.clone(),
        });
        let d = disk_mut(ctx);
        d.log.compact_through(index);
        d.snapshot = Some(snapshot);
        ctx.note(RaftNote::SnapshotTaken { index, term });
    }

    /// Figure 13, receiver: install the leader's snapshot unless the commit index already covers
    /// it. A log that holds the snapshot's last entry keeps the entries after it; any other log is
    /// discarded whole. The state machine becomes the snapshot's.
    fn on_install_snapshot(
        &mut self,
        ctx: &mut RaftCtx<'_>,
        leader: NodeId,
        term: Term,
        snapshot: Arc<Snapshot>,
    ) {
        self.observe_term(ctx, term);
        let current = disk(ctx).current_term;
        let reply = |match_index| Msg::InstallSnapshotReply {
            term: current,
            match_index,
        };
        if term < current {
            ctx.send(leader, reply(0)); // tells a deposed leader the newer term
            return;
        }
        self.become_follower(ctx, Some(leader));
        self.leader_contact = Some(ctx.now());
        self.reset_election_timer(ctx);
        let (index, last_term) = (snapshot.last_index, snapshot.last_term);
        if index <= self.commit_index {
            // Already covered (a duplicate, or a delayed one): the committed prefix matches the
            // leader's log up to `index`; nothing to install.
            ctx.send(leader, reply(index));
            return;
        }
        let d = disk_mut(ctx);
        let kept_suffix = d.log.term_at(index) == Some(last_term);
        if kept_suffix {
            d.log.compact_through(index);
        } else {
            d.log.reset_to_snapshot(index, last_term);
        }
        d.snapshot = Some(Arc::clone(&snapshot));
        if !self.cfg.flags.install_snapshot_keeps_state {
            self.kv = snapshot.state.clone();
        }
        // The mutant keeps its old state machine yet takes the snapshot's applied index.
        self.commit_index = index;
        self.last_applied = index;
        ctx.note(RaftNote::SnapshotInstalled {
            index,
            term: last_term,
            kept_suffix,
        });
        ctx.send(leader, reply(index));
    }

    fn on_client_request(&mut self, ctx: &mut RaftCtx<'_>, req: Request) {
        let (client, seq) = (req.client, req.seq);
        let reply = |outcome| Msg::ClientReply { seq, outcome };
        let RoleState::Leader(l) = &self.role else {
            if self.cfg.flags.read_from_follower
                && let KvOp::Get { key } = &req.op
            {
                // The mutant: answer from this server's own state machine, which may lag.
                let value = self.kv.get(key).cloned();
                ctx.send(client, reply(ClientOutcome::Done(KvResult::Read { value })));
                return;
            }
            let leader_hint = match &self.role {
                RoleState::Follower(f) => f.leader,
                _ => None,
            };
            ctx.send(client, reply(ClientOutcome::NotLeader { leader_hint }));
            return;
        };
        match self.kv.session(client, seq) {
            // A retry of a request already applied: answer from the session, apply nothing.
            SessionState::Applied(result) => {
                ctx.send(client, reply(ClientOutcome::Done(result)));
                return;
            }
            SessionState::Stale => return,
            SessionState::New => {}
        }
        if l.proposed.get(&client).is_some_and(|(s, _)| *s == seq) {
            return; // already in our log this term; the reply comes when it is applied
        }
        let index = self.append_as_leader(ctx, Command::Client(req));
        if let RoleState::Leader(l) = &mut self.role {
            l.proposed.insert(client, (seq, index));
        }
        self.broadcast_append(ctx);
        self.advance_commit(ctx);
    }
}
