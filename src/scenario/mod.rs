//! The scenario file: one JSON object that, with a seed, fixes a whole run.
//!
//! Every struct denies unknown fields, so a typo is an error, not a silently ignored setting. Times are
//! in milliseconds (`at_ms`, `delay_ms_min`), probabilities in parts per million (`loss_ppm`).
//! [`load`] reads a file and reports any problem with the file name, line, column and field path.
//!
//! ```json
//! {
//!   "name": "raft_partition",
//!   "protocol": "raft",
//!   "seed": 1,
//!   "nodes": 5,
//!   "clients": 3,
//!   "max_time_ms": 20000,
//!   "network": { "delay_ms_min": 1, "delay_ms_max": 10 },
//!   "faults": [
//!     { "at_ms": 3000, "isolate": "leader" },
//!     { "at_ms": 8000, "heal": true }
//!   ],
//!   "liveness": { "leader_within_ms": 3000 }
//! }
//! ```

mod load;
mod locate;
pub mod swarm;
mod validate;

pub use load::{ScenarioError, Source, load, parse, validate_in};
pub use locate::{Seg, position};
pub use swarm::SwarmSpec;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// A whole scenario.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// A short name, shown in reports.
    pub name: String,
    /// What the scenario shows, in a sentence or two.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// The protocol to run (`distsim list` shows them).
    pub protocol: String,
    /// The master seed; `--seed` overrides it.
    pub seed: u64,
    /// Servers: node ids `0..nodes`.
    pub nodes: u32,
    /// Clients: node ids `nodes..nodes + clients`.
    #[serde(default)]
    pub clients: u32,
    /// The run stops at this virtual time.
    pub max_time_ms: u64,
    /// The run stops after this many events (a bound, so that no scenario can run for ever).
    #[serde(default = "default_max_events")]
    pub max_events: u64,
    /// The network between all nodes at the start.
    #[serde(default)]
    pub network: NetworkSpec,
    /// The protocol's own parameters (see the protocol's docs).
    #[serde(default, skip_serializing_if = "serde_json::Value::is_null")]
    pub params: serde_json::Value,
    /// Planted bugs to switch on, such as `"raft.vote_ignores_log"`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mutants: Vec<String>,
    /// The fault schedule, in time order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub faults: Vec<FaultSpec>,
    /// Liveness promises checked after the last fault.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub liveness: Option<LivenessSpec>,
    /// What the run must find; by default, no violation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expect: Option<Expect>,
    /// Ranges for swarm testing (`distsim sweep --swarm`); defaults where absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub swarm: Option<SwarmSpec>,
}

/// The default event bound.
pub const MAX_EVENTS_DEFAULT: u64 = 10_000_000;
/// The largest event bound a scenario may ask for.
pub const MAX_EVENTS_LIMIT: u64 = 1_000_000_000;
/// The most nodes (servers and clients) in one run.
pub const NODES_MAX: u32 = 1_024;
/// The longest run, in virtual milliseconds (a week).
pub const MAX_TIME_MS_LIMIT: u64 = 7 * 24 * 3600 * 1000;

fn default_max_events() -> u64 {
    MAX_EVENTS_DEFAULT
}

/// Link behaviour: latency, loss and duplication.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NetworkSpec {
    /// Smallest one-way latency.
    #[serde(default = "default_delay_ms_min")]
    pub delay_ms_min: u64,
    /// Largest one-way latency (uniform between min and max).
    #[serde(default = "default_delay_ms_max")]
    pub delay_ms_max: u64,
    /// A long tail: with probability `ppm`, a message instead takes up to `delay_ms_max`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tail: Option<TailSpec>,
    /// Probability that a message is lost, in parts per million.
    #[serde(default)]
    pub loss_ppm: u32,
    /// Probability that a message is delivered twice, in parts per million.
    #[serde(default)]
    pub duplicate_ppm: u32,
    /// Most messages in flight at once; past it, new messages are dropped (and counted).
    #[serde(default = "default_in_flight_max")]
    pub in_flight_max: u32,
}

fn default_delay_ms_min() -> u64 {
    1
}
fn default_delay_ms_max() -> u64 {
    10
}
fn default_in_flight_max() -> u32 {
    1_000_000
}

impl Default for NetworkSpec {
    fn default() -> Self {
        NetworkSpec {
            delay_ms_min: default_delay_ms_min(),
            delay_ms_max: default_delay_ms_max(),
            tail: None,
            loss_ppm: 0,
            duplicate_ppm: 0,
            in_flight_max: default_in_flight_max(),
        }
    }
}

/// A latency tail.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TailSpec {
    /// How often a message takes the tail, in parts per million.
    pub ppm: u32,
    /// The tail's largest latency (uniform from the link's `delay_ms_max` up to this).
    pub delay_ms_max: u64,
}

/// Which node a fault hits: a node id, whoever holds a role when the fault fires, or every server.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// One node by id.
    Node(u32),
    /// The node holding this role when the fault fires (the one that took it most recently).
    Role(String),
    /// Every server (for `restart` and `resume`: every server that is down or paused).
    All,
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::Node(n) => write!(f, "node {n}"),
            Target::Role(r) => write!(f, "the {r}"),
            Target::All => write!(f, "all"),
        }
    }
}

impl Serialize for Target {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Target::Node(n) => s.serialize_u32(*n),
            Target::Role(r) => s.serialize_str(r),
            Target::All => s.serialize_str("all"),
        }
    }
}

impl<'de> Deserialize<'de> for Target {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = Target;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a node id, a role name such as \"leader\", or \"all\"")
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Target, E> {
                u32::try_from(v)
                    .map(Target::Node)
                    .map_err(|_| E::custom("node id too large"))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Target, E> {
                Err(E::custom(format!("node id must not be negative, got {v}")))
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Target, E> {
                if v == "all" {
                    Ok(Target::All)
                } else if v.is_empty() {
                    Err(E::custom("empty role name"))
                } else {
                    Ok(Target::Role(v.to_string()))
                }
            }
        }
        d.deserialize_any(V)
    }
}

/// One scheduled fault: `at_ms` and exactly one action.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultSpec {
    /// When the fault fires.
    pub at_ms: u64,
    /// Split the servers into groups that cannot reach each other. Nodes in no group (usually the
    /// clients) still reach everyone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partition: Option<Vec<Vec<u32>>>,
    /// Cut messages one way only: from every node in `from` to every node in `to`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cut: Option<CutSpec>,
    /// Cut one node (or the holder of a role) off from every other node, clients included.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub isolate: Option<Target>,
    /// Remove every partition, cut and isolation (`"heal": true`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub heal: Option<bool>,
    /// Crash a node: its volatile state is lost, its disk is kept, messages to it are lost.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crash: Option<Target>,
    /// Restart a crashed node (or `"all"` crashed servers) from its disk.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restart: Option<Target>,
    /// Stop-the-world pause: the node handles nothing until resumed, then catches up.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pause: Option<Target>,
    /// Resume a paused node (or `"all"` paused nodes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resume: Option<Target>,
    /// Skew a node's clock.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clock: Option<ClockSpec>,
    /// Change latency, loss or duplication on some links.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link: Option<LinkSpec>,
    /// Make a node Byzantine.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub byzantine: Option<ByzantineSpec>,
}

/// A one-way cut.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CutSpec {
    /// Senders.
    pub from: Vec<u32>,
    /// Receivers.
    pub to: Vec<u32>,
}

/// A clock skew.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClockSpec {
    /// The node.
    pub node: Target,
    /// Jump the clock by this much (negative: back).
    #[serde(default)]
    pub offset_ms: i64,
    /// From now on, run fast (positive) or slow (negative) by this many parts per million.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub drift_ppm: Option<i64>,
}

/// New link parameters for the links from `from` to `to` (every node where omitted).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LinkSpec {
    /// Senders (all nodes if omitted).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<Vec<u32>>,
    /// Receivers (all nodes if omitted).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<Vec<u32>>,
    /// New smallest latency.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delay_ms_min: Option<u64>,
    /// New largest latency.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delay_ms_max: Option<u64>,
    /// New loss probability.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub loss_ppm: Option<u32>,
    /// New duplication probability.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duplicate_ppm: Option<u32>,
}

/// How a Byzantine node misbehaves.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ByzantineMode {
    /// Sends nothing at all (but keeps receiving).
    Silent,
    /// Corrupts its outgoing messages with the protocol's `Actor::forge`.
    Forge,
    /// Behaves correctly again.
    Honest,
}

/// A Byzantine fault.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ByzantineSpec {
    /// The node.
    pub node: Target,
    /// The behaviour.
    pub mode: ByzantineMode,
}

/// Liveness promises, judged after the last fault.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LivenessSpec {
    /// Some server holds the protocol's leader role this long after the last fault.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub leader_within_ms: Option<u64>,
    /// Every client operation open at the last fault, or invoked after it, completes (ok or fail,
    /// not unknown) within this long of the later of its invoke and the last fault.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ops_complete_within_ms: Option<u64>,
}

/// What a run must find.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    /// The checker that must report a violation (`"any"` for whichever).
    pub violation: String,
}

impl FaultSpec {
    /// The names of the actions set in this fault (a valid fault has exactly one).
    pub fn actions(&self) -> Vec<&'static str> {
        [
            ("partition", self.partition.is_some()),
            ("cut", self.cut.is_some()),
            ("isolate", self.isolate.is_some()),
            ("heal", self.heal.is_some()),
            ("crash", self.crash.is_some()),
            ("restart", self.restart.is_some()),
            ("pause", self.pause.is_some()),
            ("resume", self.resume.is_some()),
            ("clock", self.clock.is_some()),
            ("link", self.link.is_some()),
            ("byzantine", self.byzantine.is_some()),
        ]
        .into_iter()
        .filter_map(|(name, set)| set.then_some(name))
        .collect()
    }
}
