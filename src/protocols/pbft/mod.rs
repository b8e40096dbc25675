//! PBFT (Castro & Liskov, "Practical Byzantine Fault Tolerance", OSDI 1999): state-machine
//! replication that stays safe with up to f Byzantine replicas out of n >= 3f + 1.
//!
//! A client sends its request to every replica. The primary of the current view assigns it a
//! sequence number in a pre-prepare; backups that accept it send prepares; a replica that holds the
//! pre-prepare and 2f matching prepares is *prepared* and sends a commit; with 2f + 1 matching
//! commits it executes the request in sequence order and replies. The client takes a result once
//! f + 1 replicas agree on it. A backup whose waiting request does not execute in time asks for the
//! next view with its prepared certificates; the new primary gathers 2f + 1 such messages and
//! re-proposes, for each sequence number, the request of the highest-view certificate (or the null
//! request), and every backup recomputes that set before accepting the NEW-VIEW. f = (n - 1) / 3 and
//! quorums are 2f + 1 when n = 3f + 1; in general ceil((n + f + 1) / 2), so that any two quorums
//! share f + 1 replicas: at n = 5 that is 4, where both 2f + 1 and the source document's
//! `2*(n/3)+1` give 3, which one equivocating primary defeats.
//!
//! Every `checkpoint_interval` requests the replicas agree on a checkpoint of the state (2f + 1
//! matching CHECKPOINT messages); the log below it is discarded, only sequence numbers in the window
//! (h, h + `log_window`] are accepted, a replica left behind fetches the checkpoint's state, and a
//! new view starts after the latest stable checkpoint its view-change messages prove (see
//! [`replica`]). Replicas keep their state on disk, so a crash loses nothing.
//!
//! Node ids `0..n` are replicas, then clients; both are [`PbftActor`]s.

pub mod adversary;
pub mod checkers;
pub mod client;
pub mod digest;
pub mod message;
pub mod mutants;
pub mod replica;

use crate::contract::{
    Actor, Adversary, Checker, Ctx, Duration, KvModel, Mutant, NodeId, NoteLabel, Param, Protocol,
    Role, Setup,
};
use adversary::PbftAdversary;
use client::{Client, ClientConfig, ClientDisk};
use digest::DigestKind;
use message::{Digest, Msg, PbftTimer, Seq, View};
use mutants::Flags;
use replica::{Replica, ReplicaConfig};
use serde::{Deserialize, Serialize};

/// The largest `log_window`: it bounds every replica's log.
pub const LOG_WINDOW_MAX: u64 = 100_000;

/// PBFT's scenario parameters, all optional. Unknown fields are an error.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PbftParams {
    /// Operations each client runs (default 20).
    pub ops_per_client: u32,
    /// Distinct keys (default 3).
    pub keys: u32,
    /// Request digest: `"md5"` (default) or `"sha256"`.
    pub digest: DigestKind,
    /// First view-change timeout (default 300); doubles with each view change that does not complete.
    pub view_change_timeout_ms: u64,
    /// Client retransmission interval (default 200).
    pub client_retry_ms: u64,
    /// How long a client tries one operation before giving up (default 5000).
    pub client_deadline_ms: u64,
    /// Most client think time (default 50).
    pub think_ms_max: u64,
    /// Take a checkpoint every this many sequence numbers (default 10).
    pub checkpoint_interval: u64,
    /// The log window: sequence numbers accepted lie in (h, h + this] (default 20).
    pub log_window: u64,
    /// Liveness: operations invoked after the last fault complete within this (off unless set).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub liveness_ms: Option<u64>,
}

impl Default for PbftParams {
    fn default() -> Self {
        PbftParams {
            ops_per_client: 20,
            keys: 3,
            digest: DigestKind::Md5,
            view_change_timeout_ms: 300,
            client_retry_ms: 200,
            client_deadline_ms: 5000,
            think_ms_max: 50,
            checkpoint_interval: 10,
            log_window: 20,
            liveness_ms: None,
        }
    }
}

impl PbftParams {
    /// Parses and validates `params`; errors name the field.
    pub fn parse(params: &serde_json::Value) -> Result<PbftParams, String> {
        if params.get("byzantine").is_some() {
            return Err(
                "params.byzantine: no longer read: the checkers judge every replica that the \
                        scenario's faults do not make Byzantine; remove it"
                    .into(),
            );
        }
        let p: PbftParams = if params.is_null() {
            PbftParams::default()
        } else {
            serde_path_to_error::deserialize(params).map_err(|e| {
                let path = e.path().to_string();
                let inner = e.into_inner();
                if path.is_empty() || path == "." {
                    format!("params: {inner}")
                } else {
                    format!("params.{path}: {inner}")
                }
            })?
        };
        let err = |field: &str, why: &str| Err(format!("params.{field}: {why}"));
        if p.keys == 0 {
            return err("keys", "must be at least 1");
        }
        if p.view_change_timeout_ms == 0 {
            return err("view_change_timeout_ms", "must be at least 1");
        }
        if p.client_retry_ms == 0 {
            return err("client_retry_ms", "must be at least 1");
        }
        if p.client_deadline_ms < p.client_retry_ms {
            return err(
                "client_deadline_ms",
                "must be at least params.client_retry_ms",
            );
        }
        if p.checkpoint_interval == 0 {
            return err("checkpoint_interval", "must be at least 1");
        }
        if p.log_window < p.checkpoint_interval {
            return err(
                "log_window",
                "must be at least params.checkpoint_interval, or the primary stops before the next checkpoint",
            );
        }
        if p.log_window > LOG_WINDOW_MAX {
            return Err(format!(
                "params.log_window: must be at most {LOG_WINDOW_MAX}"
            ));
        }
        if p.liveness_ms == Some(0) {
            return err("liveness_ms", "must be at least 1");
        }
        Ok(p)
    }
}

/// A node's disk. A replica writes its whole state there after every event (synchronously, before
/// its messages leave), so a crash loses nothing: a replica that forgot what it prepared or
/// committed would be one more Byzantine replica.
#[derive(Clone, Debug, Default)]
pub struct PbftDisk {
    /// The replica's state (replicas).
    pub replica: Option<Box<Replica>>,
    /// The client's timestamps and process generations (clients).
    pub client: ClientDisk,
}

/// What PBFT nodes report to checkers and traces.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "note", rename_all = "snake_case")]
pub enum PbftNote {
    /// The primary ordered a request.
    PrePrepared {
        /// View.
        view: View,
        /// Sequence number.
        seq: Seq,
        /// Digest.
        digest: Digest,
    },
    /// A replica became prepared.
    Prepared {
        /// View.
        view: View,
        /// Sequence number.
        seq: Seq,
        /// Digest.
        digest: Digest,
    },
    /// A replica became committed-local.
    Committed {
        /// View.
        view: View,
        /// Sequence number.
        seq: Seq,
        /// Digest.
        digest: Digest,
    },
    /// A replica executed a sequence number.
    Executed {
        /// The replica's view.
        view: View,
        /// Sequence number.
        seq: Seq,
        /// Digest of what it executed.
        digest: Digest,
    },
    /// A replica took a checkpoint of its state after executing `seq`.
    CheckpointTaken {
        /// Sequence number.
        seq: Seq,
        /// The state digest.
        digest: Digest,
    },
    /// A checkpoint became stable at a replica (its low water mark moved there).
    CheckpointStable {
        /// Sequence number.
        seq: Seq,
        /// The state digest.
        digest: Digest,
    },
    /// A replica discarded its log up to checkpoint `seq`.
    LogTruncated {
        /// Sequence number.
        seq: Seq,
        /// The checkpoint's state digest.
        digest: Digest,
    },
    /// A replica behind a stable checkpoint installed its state from another replica.
    StateTransferred {
        /// The checkpoint's sequence number.
        seq: Seq,
    },
    /// A replica asked for a new view.
    ViewChangeStarted {
        /// The view asked for.
        view: View,
    },
    /// A replica entered a new view.
    NewView {
        /// The view.
        view: View,
        /// Pre-prepares re-proposed.
        reproposals: u64,
    },
    /// A backup refused a NEW-VIEW that did not validate.
    NewViewRejected {
        /// The view.
        view: View,
        /// Its sender.
        from: NodeId,
    },
    /// A client accepted a result.
    OpCompleted {
        /// The request's timestamp.
        timestamp: u64,
        /// Replies heard.
        replies: u64,
    },
    /// A client gave up.
    OpGaveUp {
        /// The request's timestamp.
        timestamp: u64,
    },
}

impl NoteLabel for PbftNote {
    fn label(&self) -> &'static str {
        match self {
            PbftNote::PrePrepared { .. } => "pre_prepared",
            PbftNote::Prepared { .. } => "prepared",
            PbftNote::Committed { .. } => "committed",
            PbftNote::Executed { .. } => "executed",
            PbftNote::CheckpointTaken { .. } => "checkpoint_taken",
            PbftNote::CheckpointStable { .. } => "checkpoint_stable",
            PbftNote::LogTruncated { .. } => "log_truncated",
            PbftNote::StateTransferred { .. } => "state_transferred",
            PbftNote::ViewChangeStarted { .. } => "view_change_started",
            PbftNote::NewView { .. } => "new_view",
            PbftNote::NewViewRejected { .. } => "new_view_rejected",
            PbftNote::OpCompleted { .. } => "op_completed",
            PbftNote::OpGaveUp { .. } => "op_gave_up",
        }
    }
}

/// A PBFT node: a replica or a client.
#[derive(Clone, Debug)]
pub enum PbftActor {
    /// A replica.
    Replica(Box<Replica>),
    /// A client.
    Client(Client),
}

impl PbftActor {
    /// The replica, if this is one.
    pub fn as_replica(&self) -> Option<&Replica> {
        match self {
            PbftActor::Replica(r) => Some(r),
            PbftActor::Client(_) => None,
        }
    }
}

impl Actor for PbftActor {
    type Msg = Msg;
    type Timer = PbftTimer;
    type Durable = PbftDisk;
    type Note = PbftNote;

    fn on_start(&mut self, ctx: &mut Ctx<'_, Self>) {
        match self {
            PbftActor::Client(c) => c.on_start(ctx),
            PbftActor::Replica(r) => {
                if let Some(saved) = ctx.durable().replica.clone() {
                    *r = saved;
                    r.recovered(ctx);
                }
            }
        }
    }

    fn on_msg(&mut self, ctx: &mut Ctx<'_, Self>, from: NodeId, msg: Msg) {
        match self {
            PbftActor::Replica(r) => {
                r.on_msg(ctx, from, msg);
                ctx.durable_mut().replica = Some(r.clone());
            }
            PbftActor::Client(c) => c.on_msg(ctx, from, msg),
        }
    }

    fn on_timer(&mut self, ctx: &mut Ctx<'_, Self>, timer: PbftTimer) {
        match self {
            PbftActor::Replica(r) if timer == PbftTimer::ViewChange => {
                r.on_timer(ctx);
                ctx.durable_mut().replica = Some(r.clone());
            }
            PbftActor::Replica(_) => {}
            PbftActor::Client(c) => c.on_timer(ctx, timer),
        }
    }

    fn role(&self) -> Role {
        match self {
            PbftActor::Replica(r) if r.in_view_change => Some("view_changing"),
            PbftActor::Replica(r) if r.is_primary() => Some("primary"),
            PbftActor::Replica(_) => Some("backup"),
            PbftActor::Client(_) => None,
        }
    }
}

/// The PBFT protocol for one run.
pub struct Pbft {
    params: PbftParams,
    replica: ReplicaConfig,
    client: ClientConfig,
    /// The nodes the scenario's faults make Byzantine: the checkers judge the others.
    byzantine: Vec<NodeId>,
}

impl Protocol for Pbft {
    type Actor = PbftActor;
    type Model = KvModel;

    const NAME: &'static str = "pbft";
    const ABOUT: &'static str =
        "PBFT (Castro & Liskov 1999): Byzantine-tolerant replication, n >= 3f + 1, view changes";
    const MUTANTS: &'static [Mutant] = mutants::MUTANTS;
    const ROLES: &'static [&'static str] = &["primary", "backup", "view_changing"];
    const ATTACKS: &'static [(&'static str, &'static str)] = &[
        (
            "equivocate",
            "a primary pre-prepares the null request for odd replicas and the client's for even ones; \
             prepares and commits tell each receiver the matching story, shared by colluders",
        ),
        (
            "forge",
            "replies carry a made-up result; prepares, commits and checkpoints a made-up digest",
        ),
    ];
    const PARAMS: &'static [Param] = &[
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
            name: "digest",
            default: "\"md5\"",
            about: "request digest: \"md5\" or \"sha256\"",
        },
        Param {
            name: "view_change_timeout_ms",
            default: "300",
            about: "first view-change timeout; doubles with each view change that does not complete",
        },
        Param {
            name: "client_retry_ms",
            default: "200",
            about: "client retransmission interval",
        },
        Param {
            name: "client_deadline_ms",
            default: "5000",
            about: "how long a client tries one operation before giving up",
        },
        Param {
            name: "think_ms_max",
            default: "50",
            about: "most client think time",
        },
        Param {
            name: "checkpoint_interval",
            default: "10",
            about: "take a checkpoint every this many sequence numbers (K)",
        },
        Param {
            name: "log_window",
            default: "20",
            about: "sequence numbers accepted lie in (h, h + this], h the stable checkpoint (L)",
        },
        Param {
            name: "liveness_ms",
            default: "null",
            about: "operations invoked after the last fault complete within this (pbft_liveness)",
        },
    ];
    const CHECKERS: &'static [(&'static str, &'static str)] = &[
        (
            "agreement",
            "no two correct replicas execute different requests at one sequence number",
        ),
        (
            "committed_seq_stable",
            "a request committed at a correct replica keeps its sequence number in later views",
        ),
        (
            "checkpoint_stable",
            "a correct replica makes a checkpoint stable (and discards its log up to it) only once 2f + 1 replicas may hold it, and correct replicas' stable checkpoints agree on the state digest",
        ),
        (
            "log_bounded",
            "a correct replica's log holds only sequence numbers in (h, h + log_window], at most log_window * (VIEWS_AHEAD + 2) entries",
        ),
        (
            "pbft_liveness",
            "with liveness_ms: operations invoked after the last fault complete within it",
        ),
    ];

    fn setup(setup: &Setup<'_>) -> Result<Self, String> {
        let n = setup.cluster.servers;
        if n == 0 {
            return Err("nodes: PBFT needs at least one replica".into());
        }
        let params = PbftParams::parse(setup.params)?;
        let flags = Flags::from_names(setup.mutants)?;
        let f = (n - 1) / 3;
        Ok(Pbft {
            replica: ReplicaConfig {
                n,
                f,
                digest_kind: params.digest,
                view_change_timeout: Duration::from_millis(params.view_change_timeout_ms),
                checkpoint_interval: params.checkpoint_interval,
                log_window: params.log_window,
                flags,
            },
            client: ClientConfig {
                f,
                ops: params.ops_per_client,
                keys: params.keys,
                retry: Duration::from_millis(params.client_retry_ms),
                deadline: Duration::from_millis(params.client_deadline_ms),
                think_max: Duration::from_millis(params.think_ms_max),
            },
            params,
            byzantine: Vec::new(),
        })
    }

    fn new_actor(&self, id: NodeId) -> PbftActor {
        if id < self.replica.n {
            PbftActor::Replica(Box::new(Replica::new(self.replica, id)))
        } else {
            PbftActor::Client(Client::new(self.client))
        }
    }

    fn checkers(&self) -> Vec<Box<dyn Checker<PbftActor>>> {
        let mut all: Vec<Box<dyn Checker<PbftActor>>> = vec![Box::new(checkers::Safety::new(
            self.replica.n,
            self.byzantine.clone(),
            self.params.log_window,
        ))];
        if let Some(ms) = self.params.liveness_ms {
            all.push(Box::new(checkers::Liveness {
                within_ns: Duration::from_millis(ms).as_nanos(),
                byzantine: !self.byzantine.is_empty(),
            }));
        }
        all
    }

    fn adversary(&self, _node: NodeId) -> Option<Box<dyn Adversary<PbftActor>>> {
        Some(Box::new(PbftAdversary::new(self.replica.digest_kind)))
    }

    fn byzantine_nodes(&mut self, nodes: &[NodeId]) {
        self.byzantine = nodes.to_vec();
    }

    fn leader_role(&self) -> Option<&'static str> {
        Some("primary")
    }

    fn history_model(&self) -> Option<KvModel> {
        Some(KvModel)
    }
}
