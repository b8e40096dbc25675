//! Two-phase commit (Gray, "Notes on Data Base Operating Systems", 1978; the failure handling and the
//! cooperative termination protocol as in Bernstein, Hadzilacos and Goodman, "Concurrency Control and
//! Recovery in Database Systems", ch. 7): one coordinator and a set of participants agree to commit or
//! abort each transaction, all alike.
//!
//! How it works: a client asks the coordinator to run a transaction over some participants. The
//! coordinator logs the participant list and sends each a `prepare` (phase one). A participant votes
//! no (and aborts at once), or logs that it is prepared and votes yes: from then on it is *uncertain*
//! and may neither commit nor abort on its own. The coordinator commits if every participant voted
//! yes, aborts on a no or when the votes do not all arrive in time; it logs the decision on its disk
//! *before* it sends it to anyone (phase two), and re-sends it until every participant acknowledges.
//! After a crash it aborts what it had not decided and re-sends what it had. An uncertain participant
//! that hears nothing asks the coordinator and the other participants (cooperative termination): one
//! that knows tells it; one that has not voted aborts and says so. When the coordinator is down and
//! every participant it can reach is uncertain, it can do nothing but wait: this is the *blocking* 2PC
//! is known for, reported by the notes `blocked` and `unblocked` (with how long) and in the
//! `twopc_liveness` verdict (which participants, how long, how much while the coordinator was down),
//! never as a violation.
//!
//! What the checkers promise (`checkers.rs`, from ghost records that survive crashes):
//! - `atomicity`: no participant commits a transaction that another participant aborts;
//! - `commit_validity`: a transaction commits (anywhere) only if every one of its participants voted
//!   yes;
//! - `decision_stability`: a node's decision on a transaction never changes, across crashes too;
//! - `twopc_liveness` (only when `liveness_decide_ms` is set): once the last fault has healed, every
//!   transaction is decided by the coordinator and every participant within that bound; a passing
//!   verdict carries the blocking remark, if anyone was blocked.
//!
//! Node ids: the coordinator (group `coordinator`, one node), the participants (group
//! `participants`), then the clients. Transactions are named `t<client>.<seq>`.

pub mod checkers;
pub mod client;
pub mod coordinator;
pub mod message;
pub mod mutants;
pub mod participant;

#[cfg(test)]
mod tests;

use crate::contract::{
    Actor, Checker, Cluster, Ctx, Duration, GroupSize, GroupSpec, Mutant, NoModel, NodeId,
    NoteLabel, Param, Protocol, Role, Setup,
};
use client::{Client, ClientConfig};
use coordinator::{CoordConfig, CoordRecord, Coordinator};
use message::{Decision, Msg, Timer, TxnId};
use mutants::Flags;
use participant::{PartConfig, PartRecord, Participant};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Two-phase commit's scenario parameters (`"params"`), all optional. Unknown fields are an error.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TwopcParams {
    /// Transactions each client runs (default 10).
    pub txns_per_client: u32,
    /// Chance that a participant votes no on a transaction, ppm (default 100000).
    pub no_vote_ppm: u32,
    /// How long the coordinator waits for all votes before aborting, ms (default 300).
    pub vote_timeout_ms: u64,
    /// How long a prepared participant waits for the decision before asking around, ms (default 400).
    pub decision_timeout_ms: u64,
    /// How often the coordinator re-sends unanswered prepares and decisions, ms (default 100).
    pub resend_ms: u64,
    /// Least think time between a client's transactions, ms (default 0).
    pub think_ms_min: u64,
    /// Most think time, ms (default 50).
    pub think_ms_max: u64,
    /// How long a client waits for an outcome before asking again, ms (default 500).
    pub client_retry_ms: u64,
    /// How many times a client asks before giving up (default 20).
    pub client_attempts_max: u32,
    /// Liveness: every transaction is decided everywhere within this long of the later of its start
    /// and the last fault (the `twopc_liveness` checker). Off unless set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub liveness_decide_ms: Option<u64>,
}

impl Default for TwopcParams {
    fn default() -> Self {
        TwopcParams {
            txns_per_client: 10,
            no_vote_ppm: 100_000,
            vote_timeout_ms: 300,
            decision_timeout_ms: 400,
            resend_ms: 100,
            think_ms_min: 0,
            think_ms_max: 50,
            client_retry_ms: 500,
            client_attempts_max: 20,
            liveness_decide_ms: None,
        }
    }
}

/// The most transactions one client may run (ids and disks stay small).
pub const TXNS_PER_CLIENT_MAX: u32 = 100_000;

impl TwopcParams {
    /// Parses `params` (`Null` means all defaults) and validates it; errors name the field.
    pub fn parse(params: &serde_json::Value) -> Result<TwopcParams, String> {
        let p: TwopcParams = crate::contract::parse_params(params)?;
        p.validate()?;
        Ok(p)
    }

    /// Checks each field and the relations between them.
    pub fn validate(&self) -> Result<(), String> {
        let err = |field: &str, why: String| Err(format!("params.{field}: {why}"));
        if self.txns_per_client > TXNS_PER_CLIENT_MAX {
            return err(
                "txns_per_client",
                format!("must be at most {TXNS_PER_CLIENT_MAX}"),
            );
        }
        if self.no_vote_ppm > 1_000_000 {
            return err("no_vote_ppm", "must be at most 1000000".into());
        }
        for (field, v) in [
            ("vote_timeout_ms", self.vote_timeout_ms),
            ("decision_timeout_ms", self.decision_timeout_ms),
            ("resend_ms", self.resend_ms),
            ("client_retry_ms", self.client_retry_ms),
        ] {
            if v == 0 {
                return err(field, "must be at least 1".into());
            }
        }
        if self.client_attempts_max == 0 {
            return err("client_attempts_max", "must be at least 1".into());
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
        if self.liveness_decide_ms == Some(0) {
            return err("liveness_decide_ms", "must be at least 1".into());
        }
        Ok(())
    }
}

/// A node's disk; each kind of node uses its own part.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TwopcDisk {
    /// The coordinator's log: participants and decision per transaction.
    pub coordinator: BTreeMap<TxnId, CoordRecord>,
    /// A participant's log: prepared, or the decision, per transaction.
    pub participant: BTreeMap<TxnId, PartRecord>,
    /// A client's next transaction sequence number (0 means 1: none used yet).
    pub client_next_seq: u32,
}

/// What two-phase commit nodes report to checkers and traces.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "note", rename_all = "snake_case")]
pub enum TwopcNote {
    /// The coordinator logged a new transaction and sent its prepares.
    Began {
        /// The transaction.
        txn: TxnId,
        /// Its participants.
        participants: Vec<NodeId>,
    },
    /// A participant voted (a yes is on its disk).
    Voted {
        /// The transaction.
        txn: TxnId,
        /// Its vote.
        yes: bool,
    },
    /// A node decided, or learned the decision: the coordinator when it decides, a participant when it
    /// applies it (or aborts on its own before voting yes).
    Decided {
        /// The transaction.
        txn: TxnId,
        /// Commit or abort.
        decision: Decision,
    },
    /// The coordinator restarted from its log: it aborted what was undecided and re-sent the rest.
    Recovered {
        /// Undecided transactions it aborted.
        aborted: u32,
        /// Decisions it re-sends.
        resent: u32,
    },
    /// A prepared participant heard no decision in time and asks around (it may be blocked).
    Blocked {
        /// The transaction.
        txn: TxnId,
        /// Whom it asks: the coordinator and the other participants.
        asked: Vec<NodeId>,
    },
    /// A participant that was asking around learned the decision.
    Unblocked {
        /// The transaction.
        txn: TxnId,
        /// How long it had been asking, by its own clock, ms.
        blocked_ms: u64,
    },
    /// A client's transaction ended (`outcome` `None`: it gave up).
    TxnEnded {
        /// The transaction.
        txn: TxnId,
        /// What the coordinator said, if anything.
        outcome: Option<Decision>,
        /// How many times the client asked.
        attempts: u32,
    },
}

impl NoteLabel for TwopcNote {
    fn label(&self) -> &'static str {
        match self {
            TwopcNote::Began { .. } => "began",
            TwopcNote::Voted { yes: true, .. } => "voted_yes",
            TwopcNote::Voted { yes: false, .. } => "voted_no",
            TwopcNote::Decided {
                decision: Decision::Commit,
                ..
            } => "decided_commit",
            TwopcNote::Decided {
                decision: Decision::Abort,
                ..
            } => "decided_abort",
            TwopcNote::Recovered { .. } => "recovered",
            TwopcNote::Blocked { .. } => "blocked",
            TwopcNote::Unblocked { .. } => "unblocked",
            TwopcNote::TxnEnded { .. } => "txn_ended",
        }
    }
}

/// A two-phase commit node.
#[derive(Clone, Debug)]
pub enum TwopcActor {
    /// The coordinator.
    Coordinator(Coordinator),
    /// A participant.
    Participant(Participant),
    /// A client.
    Client(Client),
}

impl Actor for TwopcActor {
    type Msg = Msg;
    type Timer = Timer;
    type Durable = TwopcDisk;
    type Note = TwopcNote;

    fn on_start(&mut self, ctx: &mut Ctx<'_, Self>) {
        match self {
            TwopcActor::Coordinator(c) => c.on_start(ctx),
            TwopcActor::Participant(p) => p.on_start(ctx),
            TwopcActor::Client(c) => c.on_start(ctx),
        }
    }

    fn on_msg(&mut self, ctx: &mut Ctx<'_, Self>, from: NodeId, msg: Msg) {
        match self {
            TwopcActor::Coordinator(c) => c.on_msg(ctx, from, msg),
            TwopcActor::Participant(p) => p.on_msg(ctx, from, msg),
            TwopcActor::Client(c) => c.on_msg(ctx, msg),
        }
    }

    fn on_timer(&mut self, ctx: &mut Ctx<'_, Self>, timer: Timer) {
        match self {
            TwopcActor::Coordinator(c) => c.on_timer(ctx, timer),
            TwopcActor::Participant(p) => p.on_timer(ctx, timer),
            TwopcActor::Client(c) => c.on_timer(ctx, timer),
        }
    }

    fn role(&self) -> Role {
        match self {
            TwopcActor::Coordinator(_) => Some("coordinator"),
            TwopcActor::Participant(_) => Some("participant"),
            TwopcActor::Client(_) => None,
        }
    }
}

/// The two-phase commit protocol.
#[derive(Clone, Debug)]
pub struct TwoPc {
    cluster: Cluster,
    params: TwopcParams,
    flags: Flags,
    coordinator: NodeId,
    participants: (NodeId, NodeId),
}

impl TwoPc {
    /// The parsed parameters.
    pub fn params(&self) -> &TwopcParams {
        &self.params
    }
}

impl Protocol for TwoPc {
    type Actor = TwopcActor;
    type Model = NoModel;

    const NAME: &'static str = "twopc";
    const ABOUT: &'static str = "two-phase commit: a coordinator, participants that vote, durable decisions, cooperative termination";
    const MUTANTS: &'static [Mutant] = mutants::MUTANTS;
    const ROLES: &'static [&'static str] = &["coordinator", "participant"];
    const GROUPS: &'static [GroupSpec] = &[
        GroupSpec {
            name: "coordinator",
            about: "runs each transaction's two phases and logs the decision (exactly one)",
            size: GroupSize::Default(1),
        },
        GroupSpec {
            name: "participants",
            about: "vote on each transaction and apply the decision",
            size: GroupSize::Rest,
        },
    ];
    const PARAMS: &'static [Param] = &[
        Param {
            name: "txns_per_client",
            default: "10",
            about: "transactions each client runs",
        },
        Param {
            name: "no_vote_ppm",
            default: "100000",
            about: "chance that a participant votes no on a transaction, ppm",
        },
        Param {
            name: "vote_timeout_ms",
            default: "300",
            about: "how long the coordinator waits for all votes before aborting, ms",
        },
        Param {
            name: "decision_timeout_ms",
            default: "400",
            about: "how long a prepared participant waits for the decision before asking around, ms",
        },
        Param {
            name: "resend_ms",
            default: "100",
            about: "how often the coordinator re-sends unanswered prepares and decisions, ms",
        },
        Param {
            name: "think_ms_min",
            default: "0",
            about: "least think time between a client's transactions, ms",
        },
        Param {
            name: "think_ms_max",
            default: "50",
            about: "most think time between a client's transactions, ms",
        },
        Param {
            name: "client_retry_ms",
            default: "500",
            about: "how long a client waits for an outcome before asking again, ms",
        },
        Param {
            name: "client_attempts_max",
            default: "20",
            about: "how many times a client asks before giving up (outcome unknown)",
        },
        Param {
            name: "liveness_decide_ms",
            default: "null",
            about: "turns on twopc_liveness: every transaction decided everywhere this long after the later of its start and the last fault, ms",
        },
    ];
    const CHECKERS: &'static [(&'static str, &'static str)] = &[
        (
            "atomicity",
            "no participant commits a transaction another participant aborts",
        ),
        (
            "commit_validity",
            "a transaction commits only if every participant voted yes",
        ),
        (
            "decision_stability",
            "a node's decision on a transaction never changes, across crashes too",
        ),
        (
            "twopc_liveness",
            "with params.liveness_decide_ms: every transaction is decided everywhere after the last fault",
        ),
    ];

    fn setup(setup: &Setup<'_>) -> Result<Self, String> {
        let params = TwopcParams::parse(setup.params)?;
        let flags = Flags::from_names(setup.mutants)?;
        let cluster = setup.cluster;
        let coordinator = cluster
            .group("coordinator")
            .unwrap_or(0..cluster.servers.min(1));
        let participants = cluster
            .group("participants")
            .unwrap_or(coordinator.end..cluster.servers);
        if coordinator.len() != 1 {
            return Err(format!(
                "groups.coordinator: two-phase commit has exactly one coordinator, not {}",
                coordinator.len()
            ));
        }
        if participants.is_empty() {
            return Err("nodes: two-phase commit needs at least one participant".into());
        }
        Ok(TwoPc {
            cluster,
            params,
            flags,
            coordinator: coordinator.start,
            participants: (participants.start, participants.end),
        })
    }

    fn new_actor(&self, id: NodeId) -> TwopcActor {
        let p = &self.params;
        if id == self.coordinator {
            TwopcActor::Coordinator(Coordinator::new(CoordConfig {
                participants: self.participants,
                vote_timeout: Duration::from_millis(p.vote_timeout_ms),
                resend: Duration::from_millis(p.resend_ms),
                flags: self.flags,
            }))
        } else if self.cluster.is_server(id) {
            TwopcActor::Participant(Participant::new(PartConfig {
                coordinator: self.coordinator,
                no_vote_ppm: p.no_vote_ppm,
                decision_timeout: Duration::from_millis(p.decision_timeout_ms),
                flags: self.flags,
            }))
        } else {
            TwopcActor::Client(Client::new(ClientConfig {
                coordinator: self.coordinator,
                participants: self.participants,
                txns_per_client: p.txns_per_client,
                think_min: Duration::from_millis(p.think_ms_min),
                think_max: Duration::from_millis(p.think_ms_max),
                retry: Duration::from_millis(p.client_retry_ms),
                attempts_max: p.client_attempts_max,
            }))
        }
    }

    fn checkers(&self) -> Vec<Box<dyn Checker<TwopcActor>>> {
        checkers::all(self.coordinator, &self.params)
    }
}
