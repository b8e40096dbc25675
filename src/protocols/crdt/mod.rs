//! Conflict-free replicated data types (Shapiro, Preguiça, Baquero and Zawirski, 2011), state-based,
//! replicated by gossip. The parameter `type` picks one of four:
//!
//! - `"g_counter"`: a grow-only counter, one entry per replica, merge = maximum per entry;
//! - `"pn_counter"`: increments minus decrements, two G-Counters;
//! - `"lww_set"`: a last-writer-wins element set, add and remove timestamps `(Lamport time, node)`
//!   per element; an element is in when its latest add is later than its latest remove;
//! - `"or_set"`: an observed-remove set for contrast: an add carries a unique tag, a remove
//!   tombstones only the tags its replica had seen, so an add concurrent with a remove wins.
//!
//! Every server is a replica. Each makes `updates_per_node` local updates, one every
//! `update_ms_min..=update_ms_max` drawn from its own random stream, and every `gossip_ms` sends its
//! whole state to one random peer, which merges it (a join). Gossip may be lost, duplicated or cut
//! by a partition: merges are idempotent, commutative and associative, so none of that matters once
//! enough gossip gets through. Checkers are in `checkers.rs`; the one planted bug in
//! [`MUTANTS`].

pub mod checkers;
pub mod lattice;
pub mod replica;

use crate::contract::{
    Checker, Duration, Mutant, NoModel, NodeId, NoteLabel, Param, Protocol, Setup,
};
use checkers::CrdtChecker;
use lattice::{Crdt, CrdtType, Op};
use replica::{Replica, ReplicaConfig};
use serde::{Deserialize, Serialize};

/// The planted bugs.
pub const MUTANTS: &[Mutant] = &[Mutant {
    name: "crdt.gcounter_sum_merge",
    about: "a G-Counter merge adds the entries instead of taking their maximum: a state merged twice counts twice",
}];

/// The scenario parameters (`"params"`), all optional. Unknown fields are an error.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CrdtParams {
    /// The data type (default `"g_counter"`).
    #[serde(rename = "type")]
    pub kind: CrdtType,
    /// Local updates each replica makes (default 20).
    pub updates_per_node: u64,
    /// Least wait before a local update (default 20).
    pub update_ms_min: u64,
    /// Most wait before a local update (default 100).
    pub update_ms_max: u64,
    /// Gossip interval (default 50).
    pub gossip_ms: u64,
    /// Distinct set elements (default 4).
    pub elements: u32,
    /// How long after the last fault and update every replica must hold every update (default 2000).
    pub converge_within_ms: u64,
}

impl Default for CrdtParams {
    fn default() -> Self {
        CrdtParams {
            kind: CrdtType::GCounter,
            updates_per_node: 20,
            update_ms_min: 20,
            update_ms_max: 100,
            gossip_ms: 50,
            elements: 4,
            converge_within_ms: 2000,
        }
    }
}

impl CrdtParams {
    /// Parses `params` (`Null`: all defaults) and validates it; errors name the field.
    pub fn parse(params: &serde_json::Value) -> Result<CrdtParams, String> {
        let p: CrdtParams = if params.is_null() {
            CrdtParams::default()
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
        for (field, v) in [
            ("update_ms_max", p.update_ms_max),
            ("gossip_ms", p.gossip_ms),
            ("elements", u64::from(p.elements)),
            ("converge_within_ms", p.converge_within_ms),
        ] {
            if v == 0 {
                return Err(format!("params.{field}: must be at least 1"));
            }
        }
        if p.update_ms_min > p.update_ms_max {
            return Err("params.update_ms_min: must not exceed params.update_ms_max".into());
        }
        // Bounds the state and the checker's memory: every update is kept in every replica.
        if p.updates_per_node > 100_000 {
            return Err("params.updates_per_node: at most 100000".into());
        }
        Ok(p)
    }
}

/// Gossip.
#[derive(Clone, Debug, Serialize)]
pub enum Msg {
    /// A replica's whole state and the updates it holds.
    State {
        /// The value.
        crdt: Crdt,
        /// Updates held per replica.
        seen: Vec<u64>,
    },
}

/// Timers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub enum Timer {
    /// Make the next local update.
    Update,
    /// Send the state to a random peer.
    Gossip,
}

/// What replicas report.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "note", rename_all = "snake_case")]
pub enum CrdtNote {
    /// A local update, the replica's `seq`-th.
    Updated {
        /// Its sequence number at this replica (from 1).
        seq: u64,
        /// What it did.
        op: Op,
    },
    /// A peer's state was merged.
    Merged {
        /// The peer.
        from: NodeId,
    },
}

impl NoteLabel for CrdtNote {
    fn label(&self) -> &'static str {
        match self {
            CrdtNote::Updated { .. } => "updated",
            CrdtNote::Merged { .. } => "merged",
        }
    }
}

/// The CRDT protocol.
#[derive(Clone, Debug)]
pub struct CrdtProtocol {
    servers: u32,
    params: CrdtParams,
    sum_merge: bool,
}

impl Protocol for CrdtProtocol {
    type Actor = Replica;
    type Model = NoModel;

    const NAME: &'static str = "crdt";
    const ABOUT: &'static str = "state-based CRDTs (G-Counter, PN-Counter, LWW-Set, OR-Set) replicated by gossip; replicas converge after heal";
    const MUTANTS: &'static [Mutant] = MUTANTS;
    const PARAMS: &'static [Param] = &[
        Param {
            name: "type",
            default: "\"g_counter\"",
            about: "\"g_counter\", \"pn_counter\", \"lww_set\" or \"or_set\"",
        },
        Param {
            name: "updates_per_node",
            default: "20",
            about: "local updates each replica makes",
        },
        Param {
            name: "update_ms_min",
            default: "20",
            about: "least wait before a local update, ms",
        },
        Param {
            name: "update_ms_max",
            default: "100",
            about: "most wait before a local update, ms",
        },
        Param {
            name: "gossip_ms",
            default: "50",
            about: "interval at which a replica sends its state to a random peer, ms",
        },
        Param {
            name: "elements",
            default: "4",
            about: "distinct elements the set types add and remove",
        },
        Param {
            name: "converge_within_ms",
            default: "2000",
            about: "every replica must hold every update this long after the last fault and update, ms",
        },
    ];
    const CHECKERS: &'static [(&'static str, &'static str)] = &[
        (
            "same_updates_equal",
            "replicas that have merged the same set of updates hold equal states",
        ),
        (
            "counter_bounded",
            "a counter replica never counts more of a replica's updates than it has merged",
        ),
        (
            "converges",
            "converge_within_ms after the last fault and update, every live replica holds every update and the value they make",
        ),
    ];

    fn setup(setup: &Setup<'_>) -> Result<Self, String> {
        if setup.cluster.servers == 0 {
            return Err("servers: crdt needs at least one server".into());
        }
        let params = CrdtParams::parse(setup.params)?;
        let mut sum_merge = false;
        for name in setup.mutants {
            match name.as_str() {
                "crdt.gcounter_sum_merge" => sum_merge = true,
                _ => return Err(format!("mutants: unknown crdt mutant {name:?}")),
            }
        }
        Ok(CrdtProtocol {
            servers: setup.cluster.servers,
            params,
            sum_merge,
        })
    }

    fn new_actor(&self, _id: NodeId) -> Replica {
        let p = &self.params;
        Replica::new(ReplicaConfig {
            kind: p.kind,
            updates_per_node: p.updates_per_node,
            update_min: Duration::from_millis(p.update_ms_min),
            update_max: Duration::from_millis(p.update_ms_max),
            gossip: Duration::from_millis(p.gossip_ms),
            elements: p.elements,
            sum_merge: self.sum_merge,
        })
    }

    fn checkers(&self) -> Vec<Box<dyn Checker<Replica>>> {
        vec![Box::new(CrdtChecker::new(
            Crdt::new(self.params.kind, self.servers),
            self.servers,
            Duration::from_millis(self.params.converge_within_ms),
        ))]
    }
}
