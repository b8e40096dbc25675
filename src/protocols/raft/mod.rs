//! Raft (Ongaro & Ousterhout, "In Search of an Understandable Consensus Algorithm", extended
//! version): leader election, log replication and a linearizable key-value store on top, with clients
//! that retry through client sessions (§8).
//!
//! How it works, in one paragraph: time is divided into terms, each with at most one leader, elected
//! by a majority of votes from servers whose logs are no more up-to-date than the candidate's. The
//! leader appends client commands to its log and replicates them with AppendEntries, whose consistency
//! check (the entry before the new ones must match) keeps every follower's log a prefix of the
//! leader's. An entry of the leader's own term is committed once a majority stores it; committing it
//! commits every entry before it. Servers apply committed entries, in order, to the key-value state
//! machine; the leader answers the client. See `node.rs` for the rules in detail, `client.rs` for the
//! workload, and `kv.rs` for the sessions that make retries exactly-once.
//!
//! Log compaction (§7, `snapshot.rs`): once a server's log holds more than
//! `snapshot_log_entries_max` applied entries, it snapshots its state machine at its applied index
//! and drops that prefix of its log; a leader sends a follower whose next entry it has compacted its
//! snapshot (`InstallSnapshot`, in one message). The default threshold (10000) is past what any
//! shipped scenario reaches; a long run keeps its memory flat with it.
//!
//! What the checkers promise (Figure 3 of the paper, plus one that ties commitment to the paper's
//! definition; all judged from the checkers' own ghost records, see `checkers.rs`):
//! - `election_safety`: at most one leader per term over the whole run;
//! - `log_matching`: two logs with an entry of the same index and term are identical up to it;
//! - `leader_append_only`: a leader never removes or overwrites entries during its term;
//! - `leader_completeness`: a new leader holds every entry committed in earlier terms;
//! - `commit_safety`: a server's commitIndex only covers committed entries, no committed entry
//!   is ever removed from a log, and a snapshot (taken or installed) holds only committed entries;
//! - `state_machine_safety`: no two servers apply different entries at the same index, and every
//!   state machine (after applying, installing or restoring a snapshot) equals the others' at the
//!   same index; snapshots hold only applied state;
//! - `raft_liveness` (only when `liveness_catch_up_ms` is set): once the last fault has healed,
//!   every server applies every entry applied anywhere `liveness_catch_up_ms` before the end.
//!
//! The clients' history must also be linearizable against a key-value model
//! ([`KvModel`]), and the generic liveness promises (a leader, client progress after
//! the heal) come from the scenario's `"liveness"`; those checks are the engine's.
//!
//! Node ids `0..servers` are servers, `servers..servers + clients` clients; both are [`RaftActor`]s.

pub mod checkers;
pub mod client;
pub mod kv;
pub mod liveness;
pub mod log;
pub mod message;
pub mod mutants;
pub mod node;
pub mod snapshot;

#[cfg(test)]
mod tests;

use crate::contract::Checker;
use crate::contract::Duration;
use crate::contract::EventKind;
use crate::contract::{Actor, Cluster, Ctx, KvModel, NodeId, NoteLabel, Param, Role};
use crate::contract::{DurableInvariant, Mutant, Protocol, Setup};
use client::{Client, ClientConfig, ClientDisk};
use message::{EntryId, Index, Msg, RaftTimer, Term};
use mutants::Flags;
use node::{Node, ServerConfig, ServerDisk};
use serde::{Deserialize, Serialize};

/// Raft's scenario parameters (`"params"`), all optional. Unknown fields are an error.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RaftParams {
    /// Least election timeout (default 150).
    pub election_timeout_ms_min: u64,
    /// Most election timeout (default 300); must exceed the minimum.
    pub election_timeout_ms_max: u64,
    /// Leader heartbeat interval (default 50); must be below `election_timeout_ms_min`.
    pub heartbeat_ms: u64,
    /// Most entries in one AppendEntries (default 64).
    pub max_entries_per_append: u64,
    /// Whether a new leader appends a no-op to commit its predecessors' entries (default true).
    pub leader_noop: bool,
    /// CheckQuorum: a leader steps down when a majority has not answered it within the least election
    /// timeout (default false).
    pub check_quorum: bool,
    /// PreVote: a server whose election timer fires first asks whether a majority would vote for it,
    /// and raises its term only if so (default false).
    pub pre_vote: bool,
    /// Operations each client runs (default 20).
    pub ops_per_client: u32,
    /// Distinct keys the clients use (default 3).
    pub keys: u32,
    /// Relative weight of get in the workload (default 1).
    pub get_weight: u32,
    /// Relative weight of put (default 1).
    pub put_weight: u32,
    /// Relative weight of compare-and-set (default 1).
    pub cas_weight: u32,
    /// Least think time between a client's operations (default 0).
    pub think_ms_min: u64,
    /// Most think time (default 50).
    pub think_ms_max: u64,
    /// How long a client waits for one attempt before retrying at the next server (default 300).
    pub attempt_timeout_ms: u64,
    /// How long a client tries one operation before giving up, outcome unknown (default 5000).
    pub op_deadline_ms: u64,
    /// Liveness: once the last fault heals, every server applies every entry applied anywhere this
    /// long before the end of the run (the `raft_liveness` checker). Off unless set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub liveness_catch_up_ms: Option<u64>,
    /// Log compaction (§7): a server snapshots its state machine and discards its log prefix once
    /// its log holds more than this many applied entries past its last snapshot; `null` turns
    /// compaction off. Default 10000, which no shipped scenario reaches (their logs stay below a few
    /// thousand entries), so their traces are the same as without compaction, while a long run's
    /// memory stays flat.
    pub snapshot_log_entries_max: Option<u64>,
}

/// The default of [`RaftParams::snapshot_log_entries_max`].
pub const SNAPSHOT_LOG_ENTRIES_MAX_DEFAULT: u64 = 10_000;

impl Default for RaftParams {
    fn default() -> Self {
        RaftParams {
            election_timeout_ms_min: 150,
            election_timeout_ms_max: 300,
            heartbeat_ms: 50,
            max_entries_per_append: 64,
            leader_noop: true,
            check_quorum: false,
            pre_vote: false,
            ops_per_client: 20,
            keys: 3,
            get_weight: 1,
            put_weight: 1,
            cas_weight: 1,
            think_ms_min: 0,
            think_ms_max: 50,
            attempt_timeout_ms: 300,
            op_deadline_ms: 5000,
            liveness_catch_up_ms: None,
            snapshot_log_entries_max: Some(SNAPSHOT_LOG_ENTRIES_MAX_DEFAULT),
        }
    }
}

impl RaftParams {
    /// Parses `params` (`Null` means all defaults) and validates it. Errors name the field:
    /// `params.heartbeat_ms: must be below params.election_timeout_ms_min (150)`.
    pub fn parse(params: &serde_json::Value) -> Result<RaftParams, String> {
        let p: RaftParams = crate::contract::parse_params(params)?;
        p.validate()?;
        Ok(p)
    }

    /// Checks the relations between fields.
    pub fn validate(&self) -> Result<(), String> {
        let err = |field: &str, why: String| Err(format!("params.{field}: {why}"));
        if self.election_timeout_ms_min == 0 {
            return err("election_timeout_ms_min", "must be at least 1".into());
        }
        if self.election_timeout_ms_min >= self.election_timeout_ms_max {
            return err(
                "election_timeout_ms_min",
                format!(
                    "must be below params.election_timeout_ms_max ({}), or elections keep splitting",
                    self.election_timeout_ms_max
                ),
            );
        }
        if self.heartbeat_ms == 0 {
            return err("heartbeat_ms", "must be at least 1".into());
        }
        if self.heartbeat_ms >= self.election_timeout_ms_min {
            return err(
                "heartbeat_ms",
                format!(
                    "must be below params.election_timeout_ms_min ({}), or followers time out on a live leader",
                    self.election_timeout_ms_min
                ),
            );
        }
        if self.max_entries_per_append == 0 {
            return err("max_entries_per_append", "must be at least 1".into());
        }
        if self.keys == 0 {
            return err("keys", "must be at least 1".into());
        }
        if u64::from(self.get_weight) + u64::from(self.put_weight) + u64::from(self.cas_weight) == 0
        {
            return err(
                "get_weight",
                "get_weight, put_weight and cas_weight cannot all be 0".into(),
            );
        }
        if self.think_ms_min > self.think_ms_max {
            return err(
                "think_ms_min",
                format!(
                    "must not exceed params.think_ms_max ({})",
                    self.think_ms_max
                ),
            );
        }
        if self.attempt_timeout_ms == 0 {
            return err("attempt_timeout_ms", "must be at least 1".into());
        }
        if self.op_deadline_ms < self.attempt_timeout_ms {
            return err(
                "op_deadline_ms",
                format!(
                    "must be at least params.attempt_timeout_ms ({})",
                    self.attempt_timeout_ms
                ),
            );
        }
        if self.liveness_catch_up_ms == Some(0) {
            return err("liveness_catch_up_ms", "must be at least 1".into());
        }
        if self.snapshot_log_entries_max == Some(0) {
            return err(
                "snapshot_log_entries_max",
                "must be at least 1 (or null for no compaction)".into(),
            );
        }
        Ok(())
    }

    /// The server configuration these parameters give, with `flags` switched on.
    pub fn server_config(&self, flags: Flags) -> ServerConfig {
        ServerConfig {
            election_timeout_min: Duration::from_millis(self.election_timeout_ms_min),
            election_timeout_max: Duration::from_millis(self.election_timeout_ms_max),
            heartbeat: Duration::from_millis(self.heartbeat_ms),
            max_entries_per_append: self.max_entries_per_append,
            leader_noop: self.leader_noop,
            check_quorum: self.check_quorum,
            pre_vote: self.pre_vote,
            snapshot_log_entries_max: self.snapshot_log_entries_max,
            flags,
        }
    }

    /// The client configuration these parameters give.
    pub fn client_config(&self) -> ClientConfig {
        ClientConfig {
            ops_per_client: self.ops_per_client,
            keys: self.keys,
            get_weight: self.get_weight,
            put_weight: self.put_weight,
            cas_weight: self.cas_weight,
            think_min: Duration::from_millis(self.think_ms_min),
            think_max: Duration::from_millis(self.think_ms_max),
            attempt_timeout: Duration::from_millis(self.attempt_timeout_ms),
            op_deadline: Duration::from_millis(self.op_deadline_ms),
        }
    }
}

/// A node's disk. Servers use `server`, clients `client`; the other half stays empty.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RaftDisk {
    /// Figure 2's persistent state (servers).
    pub server: ServerDisk,
    /// Sequence numbers and process generations (clients).
    pub client: ClientDisk,
}

/// What Raft nodes report to checkers and traces.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "note", rename_all = "snake_case")]
pub enum RaftNote {
    /// A server (re)started with this disk.
    Started {
        /// Its current term.
        term: Term,
        /// Its last log index.
        last_index: Index,
    },
    /// A server started an election for `term`.
    BecameCandidate {
        /// The new term.
        term: Term,
    },
    /// A server won the election for `term`.
    BecameLeader {
        /// The term it leads.
        term: Term,
    },
    /// A leader stopped leading (it saw a higher term, or another leader of its own).
    SteppedDown {
        /// The term it led.
        term: Term,
    },
    /// An entry entered the server's log at `index`.
    Appended {
        /// Where.
        index: Index,
        /// The entry's term.
        term: Term,
        /// The entry's command identity.
        id: EntryId,
    },
    /// The server removed its entries from `from_index` on (a conflict with the leader's log).
    Truncated {
        /// The first index removed.
        from_index: Index,
    },
    /// The server's commitIndex advanced to `index`.
    Committed {
        /// The new commit index.
        index: Index,
    },
    /// The server applied the entry at `index` to its state machine.
    Applied {
        /// Where.
        index: Index,
        /// The entry's term.
        term: Term,
        /// The entry's command identity.
        id: EntryId,
    },
    /// A client finished an operation (`Info`: it gave up).
    OpCompleted {
        /// The history process it ran under.
        process: u64,
        /// The request's sequence number.
        seq: u64,
        /// Ok, Fail (compare-and-set mismatch) or Info.
        outcome: EventKind,
        /// How many times it was sent.
        attempts: u32,
    },
    /// The server took one of the protocol's rarer paths (one of [`PATHS`]): the report counts each,
    /// so that a path no scenario takes is visible.
    Took {
        /// The path's name.
        path: &'static str,
    },
    /// The server snapshotted its state machine at its applied index `index` and discarded its log
    /// up to it (§7).
    SnapshotTaken {
        /// The snapshot's last included index.
        index: Index,
        /// The term of that entry.
        term: Term,
    },
    /// The server installed a leader's snapshot through `index` (§7): its state machine is now the
    /// snapshot's, its commit and applied indices `index`. `kept_suffix`: its log held the
    /// snapshot's last entry, so it kept the entries after it; otherwise it discarded its whole log.
    SnapshotInstalled {
        /// The snapshot's last included index.
        index: Index,
        /// The term of that entry.
        term: Term,
        /// Whether the entries after `index` were kept.
        kept_suffix: bool,
    },
    /// A restarting server found a snapshot on its disk and restored its state machine from it; it
    /// then applies only the entries after `index` (noted right after `Started`).
    SnapshotRestored {
        /// The snapshot's last included index.
        index: Index,
        /// The term of that entry.
        term: Term,
    },
}

/// The protocol paths a run can take, as the report's note counts name them: the coverage test holds
/// the shipped scenarios, together, to taking every one.
pub const PATHS: &[&str] = &[
    "stepped_down",
    "truncated",
    VOTE_REJECTED_STALE_TERM,
    VOTE_REJECTED_ALREADY_VOTED,
    VOTE_REJECTED_LOG_BEHIND,
    APPEND_REJECTED_STALE_TERM,
    APPEND_REJECTED_LOG_SHORT,
    APPEND_REJECTED_TERM_MISMATCH,
    DUPLICATE_SUPPRESSED,
    CHECK_QUORUM_STEP_DOWN,
];

/// A vote refused: the candidate's term is older than the voter's.
pub const VOTE_REJECTED_STALE_TERM: &str = "vote_rejected_stale_term";
/// A vote refused: the voter already voted for another candidate in this term.
pub const VOTE_REJECTED_ALREADY_VOTED: &str = "vote_rejected_already_voted";
/// A vote refused: the candidate's log is not up to date (§5.4.1).
pub const VOTE_REJECTED_LOG_BEHIND: &str = "vote_rejected_log_behind";
/// An AppendEntries refused: it came from a deposed leader.
pub const APPEND_REJECTED_STALE_TERM: &str = "append_rejected_stale_term";
/// An AppendEntries refused: the follower's log ends before the previous entry.
pub const APPEND_REJECTED_LOG_SHORT: &str = "append_rejected_log_short";
/// An AppendEntries refused: the previous entry's term differs (the consistency check).
pub const APPEND_REJECTED_TERM_MISMATCH: &str = "append_rejected_term_mismatch";
/// A leader stepped down because a majority had not answered it within an election timeout
/// (`check_quorum`).
pub const CHECK_QUORUM_STEP_DOWN: &str = "check_quorum_step_down";
/// A committed request that the state machine had already applied (a client retry), not applied again.
pub const DUPLICATE_SUPPRESSED: &str = "duplicate_suppressed";

impl NoteLabel for RaftNote {
    fn label(&self) -> &'static str {
        match self {
            RaftNote::Started { .. } => "started",
            RaftNote::BecameCandidate { .. } => "became_candidate",
            RaftNote::BecameLeader { .. } => "became_leader",
            RaftNote::SteppedDown { .. } => "stepped_down",
            RaftNote::Appended { .. } => "appended",
            RaftNote::Truncated { .. } => "truncated",
            RaftNote::Committed { .. } => "committed",
            RaftNote::Applied { .. } => "applied",
            RaftNote::OpCompleted { .. } => "op_completed",
            RaftNote::Took { path } => path,
            RaftNote::SnapshotTaken { .. } => "snapshot_taken",
            RaftNote::SnapshotInstalled { .. } => "snapshot_installed",
            RaftNote::SnapshotRestored { .. } => "snapshot_restored",
        }
    }
}

/// A Raft node: a server or a client (they share the message type).
#[derive(Clone, Debug)]
pub enum RaftActor {
    /// A server, ids `0..servers`.
    Server(Node),
    /// A client, ids `servers..servers + clients`.
    Client(Client),
}

impl RaftActor {
    /// The server, if this is one.
    pub fn as_server(&self) -> Option<&Node> {
        match self {
            RaftActor::Server(n) => Some(n),
            RaftActor::Client(_) => None,
        }
    }

    /// The client, if this is one.
    pub fn as_client(&self) -> Option<&Client> {
        match self {
            RaftActor::Client(c) => Some(c),
            RaftActor::Server(_) => None,
        }
    }
}

impl Actor for RaftActor {
    type Msg = Msg;
    type Timer = RaftTimer;
    type Durable = RaftDisk;
    type Note = RaftNote;

    fn on_start(&mut self, ctx: &mut Ctx<'_, Self>) {
        match self {
            RaftActor::Server(n) => n.on_start(ctx),
            RaftActor::Client(c) => c.on_start(ctx),
        }
    }

    fn on_msg(&mut self, ctx: &mut Ctx<'_, Self>, from: NodeId, msg: Msg) {
        match self {
            RaftActor::Server(n) => n.on_msg(ctx, from, msg),
            RaftActor::Client(c) => c.handle_msg(ctx, from, msg),
        }
    }

    fn on_timer(&mut self, ctx: &mut Ctx<'_, Self>, timer: RaftTimer) {
        match self {
            RaftActor::Server(n) => n.on_timer(ctx, timer),
            RaftActor::Client(c) => c.handle_timer(ctx, timer),
        }
    }

    fn role(&self) -> Role {
        self.as_server().map(Node::role_name)
    }
}

/// The Raft protocol: its setup, nodes and checkers.
#[derive(Clone, Debug)]
pub struct Raft {
    cluster: Cluster,
    params: RaftParams,
    flags: Flags,
}

impl Raft {
    /// The parsed parameters.
    pub fn params(&self) -> &RaftParams {
        &self.params
    }

    /// The mutants switched on.
    pub fn flags(&self) -> Flags {
        self.flags
    }
}

impl Protocol for Raft {
    type Actor = RaftActor;
    type Model = KvModel;

    const NAME: &'static str = "raft";
    const ABOUT: &'static str =
        "Raft consensus with a linearizable key-value store and exactly-once client sessions";
    const MUTANTS: &'static [Mutant] = mutants::MUTANTS;
    const ROLES: &'static [&'static str] = &["leader", "candidate", "follower"];
    const PARAMS: &'static [Param] = &[
        Param {
            name: "election_timeout_ms_min",
            default: "150",
            about: "least election timeout, ms",
        },
        Param {
            name: "election_timeout_ms_max",
            default: "300",
            about: "most election timeout, ms (above the least)",
        },
        Param {
            name: "heartbeat_ms",
            default: "50",
            about: "leader heartbeat interval, ms (below the least election timeout)",
        },
        Param {
            name: "max_entries_per_append",
            default: "64",
            about: "most entries in one AppendEntries",
        },
        Param {
            name: "leader_noop",
            default: "true",
            about: "a new leader appends a no-op to commit its predecessors' entries",
        },
        Param {
            name: "check_quorum",
            default: "false",
            about: "a leader steps down when a majority has not answered it within the least election timeout",
        },
        Param {
            name: "pre_vote",
            default: "false",
            about: "a server asks whether a majority would vote for it before raising its term",
        },
        Param {
            name: "ops_per_client",
            default: "20",
            about: "operations each client runs",
        },
        Param {
            name: "keys",
            default: "3",
            about: "distinct keys the clients use",
        },
        Param {
            name: "get_weight",
            default: "1",
            about: "relative weight of get in the workload",
        },
        Param {
            name: "put_weight",
            default: "1",
            about: "relative weight of put",
        },
        Param {
            name: "cas_weight",
            default: "1",
            about: "relative weight of compare-and-set",
        },
        Param {
            name: "think_ms_min",
            default: "0",
            about: "least think time between a client's operations, ms",
        },
        Param {
            name: "think_ms_max",
            default: "50",
            about: "most think time, ms",
        },
        Param {
            name: "attempt_timeout_ms",
            default: "300",
            about: "how long a client waits for one attempt before retrying elsewhere, ms",
        },
        Param {
            name: "op_deadline_ms",
            default: "5000",
            about: "how long a client tries one operation before giving up (outcome unknown), ms",
        },
        Param {
            name: "snapshot_log_entries_max",
            default: "10000",
            about: "log compaction (§7): snapshot the state machine once the log holds more applied entries than this; null: never",
        },
        Param {
            name: "liveness_catch_up_ms",
            default: "null",
            about: "turns on raft_liveness: after the last fault, every server applies what any applied this long before the end, ms",
        },
    ];
    const CHECKERS: &'static [(&'static str, &'static str)] = &[
        ("election_safety", "at most one leader per term"),
        (
            "log_matching",
            "logs that share an entry (index, term) are identical up to it",
        ),
        (
            "leader_completeness",
            "a new leader holds every entry committed in earlier terms",
        ),
        (
            "commit_safety",
            "commit indices cover only committed entries; none is ever removed",
        ),
        (
            "leader_append_only",
            "a leader never overwrites or removes its own entries",
        ),
        (
            "state_machine_safety",
            "no two servers apply different entries at one index",
        ),
        (
            "raft_liveness",
            "with params.liveness_catch_up_ms: every server catches up after the last fault",
        ),
    ];

    fn setup(setup: &Setup<'_>) -> Result<Self, String> {
        if setup.cluster.servers == 0 {
            return Err("servers: raft needs at least one server".into());
        }
        let params = RaftParams::parse(setup.params)?;
        let flags = Flags::from_names(setup.mutants)?;
        Ok(Raft {
            cluster: setup.cluster,
            params,
            flags,
        })
    }

    fn new_actor(&self, id: NodeId) -> RaftActor {
        if self.cluster.is_server(id) {
            RaftActor::Server(Node::new(
                id,
                self.cluster,
                self.params.server_config(self.flags),
            ))
        } else {
            RaftActor::Client(Client::new(id, self.cluster, self.params.client_config()))
        }
    }

    fn checkers(&self) -> Vec<Box<dyn Checker<RaftActor>>> {
        checkers::all(self.cluster, &self.params)
    }

    fn leader_role(&self) -> Option<&'static str> {
        Some("leader")
    }

    fn history_model(&self) -> Option<KvModel> {
        Some(KvModel)
    }

    fn durable_invariants(&self) -> Vec<DurableInvariant<RaftDisk>> {
        vec![
            // Figure 2: currentTerm "increases monotonically"; votedFor is one candidate per term.
            DurableInvariant::Monotonic {
                name: "current_term",
                get: |d| Some(d.server.current_term),
            },
            DurableInvariant::OncePerEpoch {
                name: "voted_for",
                epoch: |d| Some(d.server.current_term),
                value: |d| d.server.voted_for.map(u64::from),
            },
            // A client never reuses a process id or a sequence number.
            // §7: a snapshot only ever replaces a longer prefix (committed entries are never undone).
            DurableInvariant::Monotonic {
                name: "snapshot_index",
                get: |d| Some(d.server.log.snapshot_index()),
            },
            DurableInvariant::Monotonic {
                name: "client generation",
                get: |d| Some(d.client.generation),
            },
            DurableInvariant::Monotonic {
                name: "client last_seq",
                get: |d| Some(d.client.last_seq),
            },
        ]
    }
}
