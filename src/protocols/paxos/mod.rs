//! Paxos (Lamport, *Paxos Made Simple*, 2001): single-decree Paxos with proposers, acceptors and
//! learners, and Multi-Paxos over a log of slots with a distinguished leader serving a linearizable
//! key-value store. One protocol, `"paxos"`, with `params.mode`: `"single"` or `"multi"` (default).
//!
//! How it works, in one paragraph: a proposer picks a ballot `(round, node)` no one else can pick and
//! asks the acceptors to promise it (phase 1); an acceptor promises if it has promised nothing higher,
//! and reports the highest-numbered proposal it has accepted. With a majority of promises, the
//! proposer proposes the value of the highest-numbered proposal reported, or its own if none was
//! (phase 2); an acceptor accepts unless it has promised a higher ballot. A value accepted by a majority
//! in one ballot is chosen, and learners hear of it. Acceptors write promises and accepted proposals to
//! disk before replying. Duelling proposers back off for a random time. Multi-Paxos runs phase 1 once
//! for all slots from the leader's first unlearned one, then phase 2 per client request; see
//! `node.rs` for the rules, `kv.rs` for the store and its sessions, `client.rs` for the clients.
//!
//! What the checkers promise (`checkers.rs`, judged from ghost records of the acceptors' disks):
//! - `agreement`: at most one value is chosen per slot (chosen: a majority of acceptors accepted it
//!   in one ballot), and every value a learner learns is the chosen one;
//! - `validity`: a chosen value was proposed (a proposer's own value, a client request or a no-op);
//! - `paxos_liveness` (single-decree): once faults have healed, every server learns every instance.
//!
//! In Multi-Paxos mode the clients' history must also be linearizable against [`KvModel`], and the
//! scenario's `"liveness"` (a leader within X ms of the heal, client operations completing) is judged
//! by the engine with the role `leader`.

pub mod checkers;
pub mod client;
pub mod kv;
pub mod message;
pub mod mutants;
pub mod node;

#[cfg(test)]
mod tests;

use crate::contract::{Actor, Checker, Cluster, Ctx, Duration, EventKind, KvModel, NodeId};
use crate::contract::{Mutant, NoteLabel, Param, Protocol, Role, Setup};
use client::{Client, ClientConfig, ClientDisk};
use message::{Ballot, CommandId, Msg, PaxosTimer, Slot};
use mutants::Flags;
use node::{Mode, Node, ServerConfig, ServerDisk};
use serde::{Deserialize, Serialize};

/// Paxos's scenario parameters (`"params"`), all optional. Unknown fields are an error.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PaxosParams {
    /// `"single"` (single-decree, no clients) or `"multi"` (Multi-Paxos key-value store; default).
    pub mode: String,
    /// Single-decree: instances to decide, one after the other (default 10).
    pub instances: u64,
    /// Least random backoff before a single-decree proposer tries again (default 5).
    pub backoff_ms_min: u64,
    /// Most random backoff (default 60).
    pub backoff_ms_max: u64,
    /// How long a single-decree proposal may take before its proposer gives it up (default 100).
    pub proposal_timeout_ms: u64,
    /// Multi-Paxos: least election timeout (default 150).
    pub election_timeout_ms_min: u64,
    /// Multi-Paxos: most election timeout (default 300).
    pub election_timeout_ms_max: u64,
    /// Multi-Paxos: leader heartbeat interval (default 50), below the least election timeout.
    pub heartbeat_ms: u64,
    /// Most chosen slots sent in answer to one catch-up request (default 64).
    pub catch_up_batch: u64,
    /// Operations each client runs (default 20).
    pub ops_per_client: u32,
    /// Distinct keys (default 3).
    pub keys: u32,
    /// Relative weight of get (default 1).
    pub get_weight: u32,
    /// Relative weight of put (default 1).
    pub put_weight: u32,
    /// Relative weight of compare-and-set (default 1).
    pub cas_weight: u32,
    /// Least think time between a client's operations (default 0).
    pub think_ms_min: u64,
    /// Most think time (default 50).
    pub think_ms_max: u64,
    /// How long a client waits for one attempt (default 300).
    pub attempt_timeout_ms: u64,
    /// How long a client tries one operation before giving up, outcome unknown (default 5000).
    pub op_deadline_ms: u64,
}

impl Default for PaxosParams {
    fn default() -> Self {
        PaxosParams {
            mode: "multi".into(),
            instances: 10,
            backoff_ms_min: 5,
            backoff_ms_max: 60,
            proposal_timeout_ms: 100,
            election_timeout_ms_min: 150,
            election_timeout_ms_max: 300,
            heartbeat_ms: 50,
            catch_up_batch: 64,
            ops_per_client: 20,
            keys: 3,
            get_weight: 1,
            put_weight: 1,
            cas_weight: 1,
            think_ms_min: 0,
            think_ms_max: 50,
            attempt_timeout_ms: 300,
            op_deadline_ms: 5000,
        }
    }
}

/// The most single-decree instances a run may ask for (each is a slot on every disk).
pub const INSTANCES_MAX: u64 = 100_000;

impl PaxosParams {
    /// Parses `params` (`Null`: all defaults) and validates it; errors name the field.
    pub fn parse(params: &serde_json::Value) -> Result<PaxosParams, String> {
        let p: PaxosParams = crate::contract::parse_params(params)?;
        p.validate()?;
        Ok(p)
    }

    /// The mode named by `mode`.
    pub fn mode(&self) -> Result<Mode, String> {
        match self.mode.as_str() {
            "single" => Ok(Mode::Single),
            "multi" => Ok(Mode::Multi),
            other => Err(format!(
                "params.mode: {other:?} is not a mode; expected \"single\" or \"multi\""
            )),
        }
    }

    /// Checks each field and the relations between them.
    pub fn validate(&self) -> Result<(), String> {
        let err = |field: &str, why: String| Err(format!("params.{field}: {why}"));
        self.mode()?;
        if self.instances == 0 || self.instances > INSTANCES_MAX {
            return err("instances", format!("must be in 1..={INSTANCES_MAX}"));
        }
        let positive = [
            ("backoff_ms_max", self.backoff_ms_max),
            ("proposal_timeout_ms", self.proposal_timeout_ms),
            ("election_timeout_ms_min", self.election_timeout_ms_min),
            ("heartbeat_ms", self.heartbeat_ms),
            ("catch_up_batch", self.catch_up_batch),
            ("attempt_timeout_ms", self.attempt_timeout_ms),
            ("keys", u64::from(self.keys)),
        ];
        for (field, v) in positive {
            if v == 0 {
                return err(field, "must be at least 1".into());
            }
        }
        let ordered = [
            (
                "backoff_ms_min",
                self.backoff_ms_min,
                "backoff_ms_max",
                self.backoff_ms_max,
            ),
            (
                "election_timeout_ms_min",
                self.election_timeout_ms_min,
                "election_timeout_ms_max",
                self.election_timeout_ms_max,
            ),
            (
                "think_ms_min",
                self.think_ms_min,
                "think_ms_max",
                self.think_ms_max,
            ),
            (
                "attempt_timeout_ms",
                self.attempt_timeout_ms,
                "op_deadline_ms",
                self.op_deadline_ms,
            ),
        ];
        for (lo, lo_v, hi, hi_v) in ordered {
            if lo_v > hi_v {
                return err(lo, format!("must not exceed params.{hi} ({hi_v})"));
            }
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
        if u64::from(self.get_weight) + u64::from(self.put_weight) + u64::from(self.cas_weight) == 0
        {
            return err(
                "get_weight",
                "get_weight, put_weight and cas_weight cannot all be 0".into(),
            );
        }
        Ok(())
    }

    fn server_config(&self, flags: Flags) -> ServerConfig {
        ServerConfig {
            mode: self.mode().unwrap_or(Mode::Multi),
            instances: self.instances,
            backoff_min: Duration::from_millis(self.backoff_ms_min),
            backoff_max: Duration::from_millis(self.backoff_ms_max),
            proposal_timeout: Duration::from_millis(self.proposal_timeout_ms),
            election_timeout_min: Duration::from_millis(self.election_timeout_ms_min),
            election_timeout_max: Duration::from_millis(self.election_timeout_ms_max),
            heartbeat: Duration::from_millis(self.heartbeat_ms),
            catch_up_batch: self.catch_up_batch,
            flags,
        }
    }

    fn client_config(&self) -> ClientConfig {
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

/// A node's disk: servers use `server`, clients `client`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PaxosDisk {
    /// The acceptor's, proposer's and learner's durable state (servers).
    pub server: ServerDisk,
    /// Sequence numbers and process generations (clients).
    pub client: ClientDisk,
}

/// What Paxos nodes report to checkers and traces.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "note", rename_all = "snake_case")]
pub enum PaxosNote {
    /// A server (re)started with this disk.
    Started {
        /// The promise it read back.
        promised: Ballot,
        /// Its first slot not learned.
        learned_below: Slot,
    },
    /// A proposer started phase 1.
    Preparing {
        /// Its ballot.
        ballot: Ballot,
        /// The first slot covered.
        from_slot: Slot,
    },
    /// An acceptor promised `ballot` (on disk).
    Promised {
        /// The ballot.
        ballot: Ballot,
    },
    /// An acceptor accepted a proposal in `slot` (on disk).
    Accepted {
        /// The slot.
        slot: Slot,
        /// The ballot.
        ballot: Ballot,
        /// The value.
        cmd: CommandId,
    },
    /// A proposer introduced a value of its own (not adopted from a promise) for `slot`.
    Proposed {
        /// The slot.
        slot: Slot,
        /// The value.
        cmd: CommandId,
    },
    /// Multi-Paxos: phase 1 succeeded; this server leads.
    BecameLeader {
        /// Its ballot.
        ballot: Ballot,
    },
    /// A proposer gave up its ballot (outranked or out of time).
    SteppedDown {
        /// The ballot.
        ballot: Ballot,
    },
    /// A learner learned that `cmd` is chosen in `slot`.
    Learned {
        /// The slot.
        slot: Slot,
        /// The value.
        cmd: CommandId,
    },
    /// A client finished an operation (`Info`: it gave up).
    OpCompleted {
        /// The history process.
        process: u64,
        /// The request's sequence number.
        seq: u64,
        /// Ok, Fail or Info.
        outcome: EventKind,
    },
}

impl NoteLabel for PaxosNote {
    fn label(&self) -> &'static str {
        match self {
            PaxosNote::Started { .. } => "started",
            PaxosNote::Preparing { .. } => "preparing",
            PaxosNote::Promised { .. } => "promised",
            PaxosNote::Accepted { .. } => "accepted",
            PaxosNote::Proposed { .. } => "proposed",
            PaxosNote::BecameLeader { .. } => "became_leader",
            PaxosNote::SteppedDown { .. } => "stepped_down",
            PaxosNote::Learned { .. } => "learned",
            PaxosNote::OpCompleted { .. } => "op_completed",
        }
    }
}

/// A Paxos node: a server or a client.
#[derive(Clone, Debug)]
pub enum PaxosActor {
    /// A server, ids `0..servers`.
    Server(Node),
    /// A Multi-Paxos client.
    Client(Client),
}

impl PaxosActor {
    /// The server, if this is one.
    pub fn as_server(&self) -> Option<&Node> {
        match self {
            PaxosActor::Server(n) => Some(n),
            PaxosActor::Client(_) => None,
        }
    }
}

impl Actor for PaxosActor {
    type Msg = Msg;
    type Timer = PaxosTimer;
    type Durable = PaxosDisk;
    type Note = PaxosNote;

    fn on_start(&mut self, ctx: &mut Ctx<'_, Self>) {
        match self {
            PaxosActor::Server(n) => n.on_start(ctx),
            PaxosActor::Client(c) => c.on_start(ctx),
        }
    }

    fn on_msg(&mut self, ctx: &mut Ctx<'_, Self>, from: NodeId, msg: Msg) {
        match self {
            PaxosActor::Server(n) => n.on_msg(ctx, from, msg),
            PaxosActor::Client(c) => c.handle_msg(ctx, from, msg),
        }
    }

    fn on_timer(&mut self, ctx: &mut Ctx<'_, Self>, timer: PaxosTimer) {
        match self {
            PaxosActor::Server(n) => n.on_timer(ctx, timer),
            PaxosActor::Client(c) => c.handle_timer(ctx, timer),
        }
    }

    fn role(&self) -> Role {
        self.as_server().map(Node::role_name)
    }
}

/// The Paxos protocol.
#[derive(Clone, Debug)]
pub struct Paxos {
    cluster: Cluster,
    params: PaxosParams,
    mode: Mode,
    flags: Flags,
}

impl Protocol for Paxos {
    type Actor = PaxosActor;
    type Model = KvModel;

    const NAME: &'static str = "paxos";
    const ABOUT: &'static str = "Paxos: single-decree (params.mode \"single\") and Multi-Paxos with a leader serving a linearizable key-value store (\"multi\")";
    const MUTANTS: &'static [Mutant] = mutants::MUTANTS;
    const ROLES: &'static [&'static str] =
        &["leader", "candidate", "follower", "proposer", "acceptor"];
    const PARAMS: &'static [Param] = &[
        Param {
            name: "mode",
            default: "\"multi\"",
            about: "\"single\": single-decree Paxos, every server proposing, no clients; \"multi\": Multi-Paxos key-value store",
        },
        Param {
            name: "instances",
            default: "10",
            about: "single-decree: instances decided one after the other",
        },
        Param {
            name: "backoff_ms_min",
            default: "5",
            about: "least random backoff before a single-decree proposer tries again, ms",
        },
        Param {
            name: "backoff_ms_max",
            default: "60",
            about: "most random backoff, ms",
        },
        Param {
            name: "proposal_timeout_ms",
            default: "100",
            about: "single-decree: a proposal taking longer is given up, ms",
        },
        Param {
            name: "election_timeout_ms_min",
            default: "150",
            about: "multi: least election timeout, ms",
        },
        Param {
            name: "election_timeout_ms_max",
            default: "300",
            about: "multi: most election timeout, ms",
        },
        Param {
            name: "heartbeat_ms",
            default: "50",
            about: "multi: leader heartbeat interval, ms (below the least election timeout)",
        },
        Param {
            name: "catch_up_batch",
            default: "64",
            about: "most chosen slots sent in answer to one catch-up request",
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
            about: "relative weight of get",
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
            about: "how long a client waits for one attempt, ms",
        },
        Param {
            name: "op_deadline_ms",
            default: "5000",
            about: "how long a client tries one operation before giving up (outcome unknown), ms",
        },
    ];
    const CHECKERS: &'static [(&'static str, &'static str)] = &[
        (
            "agreement",
            "at most one value chosen (accepted by a majority in one ballot) per slot; learners learn only it",
        ),
        ("validity", "a chosen value was proposed"),
        (
            "paxos_liveness",
            "single-decree: once faults heal, every server learns every instance",
        ),
    ];

    fn setup(setup: &Setup<'_>) -> Result<Self, String> {
        if setup.cluster.servers == 0 {
            return Err("servers: paxos needs at least one server".into());
        }
        let params = PaxosParams::parse(setup.params)?;
        let mode = params.mode()?;
        if mode == Mode::Single && setup.cluster.clients > 0 {
            return Err(format!(
                "clients: single-decree paxos has no clients (got {}); set \"clients\": 0 or params.mode \"multi\"",
                setup.cluster.clients
            ));
        }
        let flags = Flags::from_names(setup.mutants)?;
        Ok(Paxos {
            cluster: setup.cluster,
            params,
            mode,
            flags,
        })
    }

    fn new_actor(&self, id: NodeId) -> PaxosActor {
        if self.cluster.is_server(id) {
            PaxosActor::Server(Node::new(
                id,
                self.cluster,
                self.params.server_config(self.flags),
            ))
        } else {
            PaxosActor::Client(Client::new(id, self.cluster, self.params.client_config()))
        }
    }

    fn checkers(&self) -> Vec<Box<dyn Checker<PaxosActor>>> {
        checkers::all(self.cluster, self.mode, self.params.instances)
    }

    fn leader_role(&self) -> Option<&'static str> {
        (self.mode == Mode::Multi).then_some("leader")
    }

    fn history_model(&self) -> Option<KvModel> {
        (self.mode == Mode::Multi).then_some(KvModel)
    }
}
