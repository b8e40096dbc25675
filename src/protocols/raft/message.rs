//! The wire vocabulary of Raft: the three RPCs of the paper (RequestVote, AppendEntries and
//! InstallSnapshot, with their replies), the client request and reply, the log entry, and the timer tags.
//!
//! Indices are 1-based everywhere: index 0 is the empty-log sentinel whose term is 0, so
//! `prev_log_index == 0` means "before the first entry" and always matches. Terms start at 0 (no
//! election yet) and the first elected leader has term 1 or more.
//!
//! Messages may be lost, duplicated, reordered and delayed by the network: every reply carries the
//! replier's term, and receivers ignore replies from terms other than their own (see `node.rs`).
//!
//! **Shared payloads.** A command is written once by its client and then copied into every server's
//! log, every AppendEntries that carries it, and every reply that reads it back. So strings are
//! `Arc<str>` and a log entry holds its command behind an `Arc`: those copies cost a reference count,
//! not an allocation. Both serialise exactly as the owned `String` and `Command` would (serde's `rc`
//! feature), so traces do not change. `Arc` rather than `Rc` keeps messages `Send`.

use super::snapshot::Snapshot;
use crate::contract::NodeId;
pub use crate::contract::client::{ClientOutcome, KvOp, KvResult};
use serde::Serialize;
use std::sync::Arc;

/// A Raft term: a logical clock of elections. 0 means "no election has happened yet".
pub type Term = u64;

/// A 1-based log index. 0 is the empty-log sentinel (term 0).
pub type Index = u64;

/// A client request: the operation and its session identity (client, sequence number), which lets the
/// state machine apply a retried request at most once (Raft paper §8).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Request {
    /// The client node that issued it (and gets the reply).
    pub client: NodeId,
    /// The client's sequence number, from 1, increasing by one per operation; retries reuse it.
    pub seq: u64,
    /// What to do.
    pub op: KvOp,
}

/// What a log entry carries.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Command {
    /// The no-op a new leader appends at the start of its term (§8), so that it commits an entry of its
    /// own term, and with it every earlier entry, without waiting for a client.
    Noop {
        /// The leader that appended it.
        leader: NodeId,
    },
    /// A client request.
    Client(Request),
}

/// A command's identity: enough to tell any two different entries of the same term apart.
///
/// A no-op is `(leader, 0)`; a client request is `(client, seq)` with `seq >= 1`. Clients have ids at
/// or above the number of servers, so the two kinds never collide.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct EntryId {
    /// The leader (no-op) or client (request) that originated the command.
    pub origin: NodeId,
    /// 0 for a no-op, the client's sequence number otherwise.
    pub seq: u64,
}

/// One log entry: a command and the term of the leader that created it.
///
/// Cloning an entry is cheap: the command is shared, not copied (see the module docs).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Entry {
    /// The term in which a leader created this entry.
    pub term: Term,
    /// The command, shared by every log and message that holds this entry.
    pub command: Arc<Command>,
}

impl Entry {
    /// An entry of `term` carrying `command`.
    pub fn new(term: Term, command: Command) -> Entry {
        Entry {
            term,
            command: Arc::new(command),
        }
    }

    /// The command's identity.
    pub fn id(&self) -> EntryId {
        match &*self.command {
            Command::Noop { leader } => EntryId {
                origin: *leader,
                seq: 0,
            },
            Command::Client(r) => EntryId {
                origin: r.client,
                seq: r.seq,
            },
        }
    }
}

/// Everything servers and clients send each other.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Msg {
    /// Candidate to server: vote for me in `term` (Figure 2, RequestVote RPC).
    RequestVote {
        /// The candidate's term.
        term: Term,
        /// Index of the candidate's last log entry (0 if empty).
        last_log_index: Index,
        /// Term of the candidate's last log entry (0 if empty).
        last_log_term: Term,
    },
    /// Server to candidate: the vote.
    RequestVoteReply {
        /// The voter's current term, for the candidate to update itself.
        term: Term,
        /// Whether the vote was granted.
        vote_granted: bool,
    },
    /// Pre-candidate to server (PreVote, Raft thesis §9.6): would you vote for me in `term` (one past
    /// mine)? Changes no one's term or vote.
    PreVote {
        /// The term the sender would campaign in.
        term: Term,
        /// Index of the sender's last log entry (0 if empty).
        last_log_index: Index,
        /// Term of the sender's last log entry (0 if empty).
        last_log_term: Term,
    },
    /// Server to pre-candidate: the answer.
    PreVoteReply {
        /// Granted: the term asked about; refused: the voter's current term.
        term: Term,
        /// Whether the voter would vote.
        granted: bool,
    },
    /// Leader to server: replicate `entries` after `prev_log_index`, and learn the commit index
    /// (Figure 2, AppendEntries RPC). With no entries it is a heartbeat.
    AppendEntries {
        /// The leader's term.
        term: Term,
        /// Index of the entry just before `entries`.
        prev_log_index: Index,
        /// Term of that entry.
        prev_log_term: Term,
        /// The entries to store (at most `max_entries_per_append`), shared by every follower that
        /// is sent the same ones.
        entries: Arc<[Entry]>,
        /// The leader's commit index.
        leader_commit: Index,
    },
    /// Server to leader: the outcome of an AppendEntries.
    AppendEntriesReply {
        /// The follower's current term, for the leader to update itself.
        term: Term,
        /// Whether the follower's log matched at `prev_log_index` and now holds the entries.
        success: bool,
        /// On success: the index of the last entry the request covered (the follower's log matches the
        /// leader's up to it). 0 on failure.
        match_index: Index,
        /// On failure: the first index the leader should try next (a hint, §5.3's optimisation), at
        /// least 1. 0 when the request was refused for its stale term, not for the log.
        conflict_index: Index,
        /// On failure because of a term mismatch: the follower's term at `prev_log_index`.
        conflict_term: Option<Term>,
    },
    /// Client to server: please apply this.
    ClientRequest(Request),
    /// Server to client: the answer to the request with sequence number `seq`.
    ClientReply {
        /// The request's sequence number.
        seq: u64,
        /// What happened.
        outcome: ClientOutcome,
    },
    /// Leader to server (§7, Figure 13's InstallSnapshot RPC): the entries you need next are
    /// compacted; here is my snapshot instead. The whole snapshot travels in one message (no
    /// `offset`/`done` chunking), shared by every follower it is sent to.
    InstallSnapshot {
        /// The leader's term.
        term: Term,
        /// The snapshot: its last included index and term, and the state machine.
        snapshot: Arc<Snapshot>,
    },
    /// Server to leader: the outcome of an InstallSnapshot.
    InstallSnapshotReply {
        /// The follower's current term, for the leader to update itself.
        term: Term,
        /// The snapshot's last index when the follower now holds it (installed, or already covered
        /// by its commit index): its log matches the leader's up to there. 0 when the request was
        /// refused for its stale term.
        match_index: Index,
    },
}

/// Timer tags for servers and clients. Setting a tag again replaces the earlier timer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RaftTimer {
    /// Follower or candidate: no leader heard from in time, start an election.
    Election,
    /// Leader: send AppendEntries (heartbeats) to every follower.
    Heartbeat,
    /// Leader with `check_quorum`: step down unless a majority answered since the last check.
    CheckQuorum,
    /// Client: think time is over, start the next operation.
    ClientThink,
    /// Client: the current attempt timed out, retry (same sequence number) elsewhere.
    ClientAttempt,
    /// Client: the operation's deadline passed, give up on it (outcome unknown).
    ClientDeadline,
}
