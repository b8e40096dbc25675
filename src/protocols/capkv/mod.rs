//! The CAP key-value store: one replicated store of string keys, three ways to behave when the
//! network splits, chosen by the parameter `mode`. It shows what Brewer's theorem forces: during a
//! partition a store gives up consistency (C) or availability (A).
//!
//! - **CP** (`"cp"`, the default) runs ABD (Attiya, Bar-Noy and Dolev, "Sharing memory robustly in
//!   message-passing systems", in its multi-writer form). Every value carries a version
//!   `(sequence, writer)`. A put asks a majority for their versions of the key (phase 1), picks a
//!   version above the highest, and stores it on a majority (phase 2). A get asks a majority, takes the
//!   highest version, and writes it back to a majority before it returns (so no later read can see an
//!   older one). Any two majorities intersect, so every operation sees every operation that finished
//!   before it began: the history is linearizable. A coordinator that cannot gather its majority within
//!   `quorum_timeout_ms` refuses the operation (note `refused`, reason `no_quorum`): the minority side
//!   of a partition refuses or times out, and never answers stale.
//! - **AP** (`"ap"`): any replica the client reaches answers at once from its own copy. A put takes a
//!   version `(Lamport time, node)`, is stored locally and pushed to every peer (best effort); every
//!   `gossip_ms` a replica exchanges its whole store with the next peer, round robin (push-pull
//!   anti-entropy), and keeps the higher version of each key (last writer wins). Replicas converge
//!   once the network heals, but during a partition each side reads and writes its own copies, so
//!   reads are stale and the history is not linearizable.
//! - **CA** (`"ca"`): ABD with quorum *all* servers (read all, write all), so it is linearizable, and
//!   it refuses every operation while the network is split. The servers detect a partition with
//!   heartbeats: every server pings every peer each `heartbeat_ms`, and a server that has not heard
//!   from some peer within `partition_timeout_ms` refuses at once (note `refused`, reason
//!   `partition_detected`); an operation that began before the detector noticed waits for all
//!   servers and is refused after `quorum_timeout_ms` (`no_quorum`).
//!
//! What each mode gave up is counted in the run report's notes: `refused` counts operations refused
//! (availability given up: CP on the minority side, CA everywhere); `read_while_partitioned` and
//! `write_while_partitioned` count AP operations answered by a replica that could not reach every
//! peer (consistency at risk: such a read may miss writes made on the other side), and the
//! linearizability checker shows the stale read itself.
//!
//! Clients are the contract's `KvClient`, with put and get only (compare-and-set needs consensus,
//! which none of the modes runs). Each operation is sent once: a server dedupes requests per client,
//! and a client never resends an operation to another server (a resent ABD put could take effect
//! twice, with two versions). A refused or unanswered operation ends unknown at its deadline, and the
//! client moves to the next server after a refusal.
//!
//! Checkers (`checkers.rs`): the clients' history is linearizable against `KvModel` (the engine's
//! check; AP fails it under a partition, by design); `ap_convergence`: after the last heal, AP replicas
//! agree within `converge_within_ms`; `reads_written`: every read returns nil or a value some put wrote.

pub mod checkers;
pub mod client;
pub mod message;
pub mod mutants;
pub mod server;

use crate::contract::client::{ClientConfig, ClientDisk};
use crate::contract::{
    Actor, Checker, Cluster, Ctx, Duration, EventKind, KvModel, Mutant, NodeId, NoteLabel, Param,
    Protocol, Setup,
};
use client::Client;
use message::{CapTimer, Msg, Version};
use mutants::Flags;
use serde::{Deserialize, Serialize};
use server::{Server, ServerConfig, ServerDisk};
use std::sync::Arc;

/// Which of C and A the store keeps during a partition.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// Consistent: majority quorums (ABD); the minority side refuses.
    Cp,
    /// Available: any replica answers; last writer wins; anti-entropy after the heal.
    Ap,
    /// Consistent while whole: all-server quorums; refuses everything during a partition.
    Ca,
}

/// The store's scenario parameters (`"params"`), all optional. Unknown fields are an error.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CapParams {
    /// `"cp"`, `"ap"` or `"ca"` (default `"cp"`).
    pub mode: Mode,
    /// Operations each client runs (default 20).
    pub ops_per_client: u32,
    /// Distinct keys (default 3).
    pub keys: u32,
    /// Relative weight of get (default 1).
    pub get_weight: u32,
    /// Relative weight of put (default 1).
    pub put_weight: u32,
    /// Least think time between a client's operations (default 0).
    pub think_ms_min: u64,
    /// Most think time (default 50).
    pub think_ms_max: u64,
    /// How long a client waits for an operation before giving up, outcome unknown (default 1000).
    pub op_deadline_ms: u64,
    /// How long an ABD coordinator waits for its quorums before refusing (default 300).
    pub quorum_timeout_ms: u64,
    /// Failure-detector heartbeat interval, CA and AP (default 50).
    pub heartbeat_ms: u64,
    /// A peer unheard for longer counts as cut off, CA and AP (default 200).
    pub partition_timeout_ms: u64,
    /// AP anti-entropy interval (default 100).
    pub gossip_ms: u64,
    /// AP: how long after the last heal (and after a write) every replica must hold it (default 2000).
    pub converge_within_ms: u64,
}

impl Default for CapParams {
    fn default() -> Self {
        CapParams {
            mode: Mode::Cp,
            ops_per_client: 20,
            keys: 3,
            get_weight: 1,
            put_weight: 1,
            think_ms_min: 0,
            think_ms_max: 50,
            op_deadline_ms: 1000,
            quorum_timeout_ms: 300,
            heartbeat_ms: 50,
            partition_timeout_ms: 200,
            gossip_ms: 100,
            converge_within_ms: 2000,
        }
    }
}

impl CapParams {
    /// Parses `params` (`Null`: all defaults) and validates it; errors name the field.
    pub fn parse(params: &serde_json::Value) -> Result<CapParams, String> {
        let p: CapParams = crate::contract::parse_params(params)?;
        p.validate()?;
        Ok(p)
    }

    /// Checks the relations between fields.
    pub fn validate(&self) -> Result<(), String> {
        let err = |field: &str, why: &str| Err(format!("params.{field}: {why}"));
        let positive = [
            ("keys", u64::from(self.keys)),
            ("op_deadline_ms", self.op_deadline_ms),
            ("quorum_timeout_ms", self.quorum_timeout_ms),
            ("heartbeat_ms", self.heartbeat_ms),
            ("partition_timeout_ms", self.partition_timeout_ms),
            ("gossip_ms", self.gossip_ms),
            ("converge_within_ms", self.converge_within_ms),
        ];
        for (field, v) in positive {
            if v == 0 {
                return err(field, "must be at least 1");
            }
        }
        if self.get_weight == 0 && self.put_weight == 0 {
            return err("get_weight", "get_weight and put_weight cannot both be 0");
        }
        if self.think_ms_min > self.think_ms_max {
            return err("think_ms_min", "must not exceed params.think_ms_max");
        }
        if self.quorum_timeout_ms >= self.op_deadline_ms {
            return err(
                "quorum_timeout_ms",
                "must be below params.op_deadline_ms, or clients give up before servers refuse",
            );
        }
        if self.heartbeat_ms >= self.partition_timeout_ms {
            return err(
                "heartbeat_ms",
                "must be below params.partition_timeout_ms, or a whole network looks split",
            );
        }
        Ok(())
    }

    fn client_config(&self) -> ClientConfig {
        ClientConfig {
            ops_per_client: self.ops_per_client,
            keys: self.keys,
            get_weight: self.get_weight,
            put_weight: self.put_weight,
            cas_weight: 0,
            think_min: Duration::from_millis(self.think_ms_min),
            think_max: Duration::from_millis(self.think_ms_max),
            // Past the deadline: a client sends each operation once (see the module doc).
            attempt_timeout: Duration::from_millis(self.op_deadline_ms.saturating_add(1)),
            op_deadline: Duration::from_millis(self.op_deadline_ms),
        }
    }
}

/// A node's disk: servers use `server`, clients `client`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CapDisk {
    /// The replica (servers).
    pub server: ServerDisk,
    /// Sequence numbers and process generations (clients).
    pub client: ClientDisk,
}

/// Why a server refused an operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RefuseReason {
    /// Its ABD quorum did not answer within `quorum_timeout_ms`.
    NoQuorum,
    /// CA: the failure detector saw a peer cut off.
    PartitionDetected,
}

/// What the store's nodes report.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "note", rename_all = "snake_case")]
pub enum CapNote {
    /// A server refused a client's operation: availability given up.
    Refused {
        /// The client.
        client: NodeId,
        /// Its request.
        seq: u64,
        /// Why.
        reason: RefuseReason,
    },
    /// A put's new version was made (ABD phase 2 begins, or an AP replica wrote it).
    Wrote {
        /// The key.
        key: Arc<str>,
        /// The version.
        version: Version,
    },
    /// AP: a read answered while the replica could not reach every peer (it may be stale).
    ReadWhilePartitioned {
        /// The key.
        key: Arc<str>,
    },
    /// AP: a write accepted while the replica could not reach every peer (it may conflict).
    WriteWhilePartitioned {
        /// The key.
        key: Arc<str>,
    },
    /// A client finished an operation (`Info`: it gave up).
    OpCompleted {
        /// The history process.
        process: u64,
        /// The request's sequence number.
        seq: u64,
        /// Ok or Info.
        outcome: EventKind,
    },
}

impl NoteLabel for CapNote {
    fn label(&self) -> &'static str {
        match self {
            CapNote::Refused { .. } => "refused",
            CapNote::Wrote { .. } => "wrote",
            CapNote::ReadWhilePartitioned { .. } => "read_while_partitioned",
            CapNote::WriteWhilePartitioned { .. } => "write_while_partitioned",
            CapNote::OpCompleted { .. } => "op_completed",
        }
    }
}

/// A node of the store: a replica or a client.
#[derive(Clone, Debug)]
pub enum CapActor {
    /// A replica, ids `0..servers`.
    Server(Server),
    /// A client.
    Client(Client),
}

impl Actor for CapActor {
    type Msg = Msg;
    type Timer = CapTimer;
    type Durable = CapDisk;
    type Note = CapNote;

    fn on_start(&mut self, ctx: &mut Ctx<'_, Self>) {
        match self {
            CapActor::Server(s) => s.on_start(ctx),
            CapActor::Client(c) => c.on_start(ctx),
        }
    }

    fn on_msg(&mut self, ctx: &mut Ctx<'_, Self>, from: NodeId, msg: Msg) {
        match self {
            CapActor::Server(s) => s.on_msg(ctx, from, msg),
            CapActor::Client(c) => c.handle_msg(ctx, from, msg),
        }
    }

    fn on_timer(&mut self, ctx: &mut Ctx<'_, Self>, timer: CapTimer) {
        match self {
            CapActor::Server(s) => s.on_timer(ctx, timer),
            CapActor::Client(c) => c.handle_timer(ctx, timer),
        }
    }
}

/// The CAP key-value store.
#[derive(Clone, Debug)]
pub struct CapKv {
    cluster: Cluster,
    params: CapParams,
    flags: Flags,
}

impl CapKv {
    /// How many servers an ABD phase waits for, coordinator included.
    pub fn quorum(&self) -> u32 {
        let n = self.cluster.servers;
        match self.params.mode {
            Mode::Ca => n,
            _ if self.flags.quorum_n_div_2 => (n / 2).max(1),
            _ => n / 2 + 1,
        }
    }
}

impl Protocol for CapKv {
    type Actor = CapActor;
    type Model = KvModel;

    const NAME: &'static str = "capkv";
    const ABOUT: &'static str = "a replicated key-value store in three modes (CP: ABD quorums; AP: last writer wins and anti-entropy; CA: refuses while split)";
    const MUTANTS: &'static [Mutant] = mutants::MUTANTS;
    const PARAMS: &'static [Param] = &[
        Param {
            name: "mode",
            default: "\"cp\"",
            about: "\"cp\" (ABD majority quorums), \"ap\" (any replica answers, last writer wins) or \"ca\" (all-server quorums, refuses while split)",
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
            name: "op_deadline_ms",
            default: "1000",
            about: "how long a client waits for an operation before giving up (outcome unknown), ms",
        },
        Param {
            name: "quorum_timeout_ms",
            default: "300",
            about: "how long an ABD coordinator waits for its quorums before refusing, ms (below op_deadline_ms)",
        },
        Param {
            name: "heartbeat_ms",
            default: "50",
            about: "failure-detector heartbeat interval (CA, AP), ms",
        },
        Param {
            name: "partition_timeout_ms",
            default: "200",
            about: "a peer unheard for longer counts as cut off (CA refuses, AP notes it), ms",
        },
        Param {
            name: "gossip_ms",
            default: "100",
            about: "AP anti-entropy interval: push-pull with the next peer, round robin, ms",
        },
        Param {
            name: "converge_within_ms",
            default: "2000",
            about: "AP: every replica holds each write this long after it and after the last heal, ms",
        },
    ];
    const CHECKERS: &'static [(&'static str, &'static str)] = &[
        (
            "ap_convergence",
            "AP mode: after the last heal, every replica holds every write older than converge_within_ms",
        ),
        (
            "reads_written",
            "every read returns nil or a value some put on that key wrote",
        ),
    ];

    fn setup(setup: &Setup<'_>) -> Result<Self, String> {
        if setup.cluster.servers == 0 {
            return Err("servers: capkv needs at least one server".into());
        }
        let params = CapParams::parse(setup.params)?;
        let flags = Flags::from_names(setup.mutants)?;
        Ok(CapKv {
            cluster: setup.cluster,
            params,
            flags,
        })
    }

    fn new_actor(&self, id: NodeId) -> CapActor {
        if self.cluster.is_server(id) {
            let p = &self.params;
            CapActor::Server(Server::new(
                id,
                self.cluster,
                ServerConfig {
                    mode: p.mode,
                    quorum: self.quorum(),
                    quorum_timeout: Duration::from_millis(p.quorum_timeout_ms),
                    heartbeat: Duration::from_millis(p.heartbeat_ms),
                    partition_timeout: Duration::from_millis(p.partition_timeout_ms),
                    gossip: Duration::from_millis(p.gossip_ms),
                    flags: self.flags,
                },
            ))
        } else {
            CapActor::Client(Client::new(id, self.cluster, self.params.client_config()))
        }
    }

    fn checkers(&self) -> Vec<Box<dyn Checker<CapActor>>> {
        checkers::all(
            self.params.mode,
            Duration::from_millis(self.params.converge_within_ms),
        )
    }

    fn history_model(&self) -> Option<KvModel> {
        Some(KvModel)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn setup(servers: u32, params: serde_json::Value, mutants: &[&str]) -> Result<CapKv, String> {
        let mutants: Vec<String> = mutants.iter().map(|m| m.to_string()).collect();
        CapKv::setup(&Setup {
            cluster: Cluster::new(servers, 1),
            params: &params,
            mutants: &mutants,
        })
    }

    #[test]
    fn params_name_the_field_they_refuse() {
        let err = |p| setup(3, p, &[]).unwrap_err();
        assert!(err(json!({"mode": "ac"})).starts_with("params.mode: unknown variant"));
        assert!(err(json!({"cas_weight": 1})).contains("cas_weight"));
        assert!(err(json!({"quorum_timeout_ms": 1000})).starts_with("params.quorum_timeout_ms:"));
        assert!(err(json!({"heartbeat_ms": 200})).starts_with("params.heartbeat_ms:"));
        assert!(err(json!({"gossip_ms": 0})).starts_with("params.gossip_ms:"));
        assert!(setup(0, json!(null), &[]).is_err());
    }

    #[test]
    fn quorums_are_majorities_all_servers_or_the_planted_half() {
        let q = |n, mode: &str, m: &[&str]| setup(n, json!({"mode": mode}), m).unwrap().quorum();
        assert_eq!((q(4, "cp", &[]), q(5, "cp", &[])), (3, 3));
        assert_eq!((q(4, "ca", &[]), q(5, "ca", &[])), (4, 5));
        let bug = &["kv.quorum_n_div_2"];
        assert_eq!(
            (q(4, "cp", bug), q(5, "cp", bug), q(1, "cp", bug)),
            (2, 2, 1)
        );
    }
}
