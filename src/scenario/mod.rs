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

mod builder;
mod load;
mod locate;
pub mod swarm;
mod validate;

pub use builder::ScenarioBuilder;
pub use load::{SCENARIO_BYTES_MAX, ScenarioError, Source, load, parse, validate_in};
pub use locate::{Seg, position};
pub use swarm::SwarmSpec;

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A whole scenario.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// The version of the scenario schema the file is written for; this build reads
    /// [`SCHEMA_VERSION`] and refuses a newer one. Absent means the current one.
    #[serde(
        default = "schema_version_current",
        skip_serializing_if = "is_schema_version_current"
    )]
    pub schema: u32,
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
    /// Sizes of the protocol's named server groups (`{"coordinator": 1}`), where it has several;
    /// the group that takes "the rest" gets what `nodes` leaves.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub groups: BTreeMap<String, u32>,
    /// The run stops at this virtual time.
    pub max_time_ms: u64,
    /// The run stops after this many events (a bound, so that no scenario can run for ever).
    #[serde(default = "default_max_events")]
    pub max_events: u64,
    /// The run stops once what it records as it goes (the clients' history, role changes, the
    /// timeline) is estimated to take this many MiB; absent: [`MAX_MEMORY_MB_DEFAULT`]. The estimate
    /// is a fixed formula over the records, so the stop is deterministic on every machine. The live
    /// state (nodes, messages in flight) is bounded by the node count and the network's in-flight bound.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_memory_mb: Option<u64>,
    /// The network between all nodes at the start.
    #[serde(default)]
    pub network: NetworkSpec,
    /// The protocol's own parameters (see the protocol's docs).
    #[serde(default, skip_serializing_if = "serde_json::Value::is_null")]
    pub params: serde_json::Value,
    /// Whether the engine keeps a Lamport clock and a vector clock per node (servers and clients),
    /// stamps every trace line of a node with them (`"lc"`, `"vc"`), and checks them against the
    /// true causal order (`clocks_consistent`). At most [`CLOCKS_NODES_MAX`] nodes.
    #[serde(default, skip_serializing_if = "is_false")]
    pub clocks: bool,
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

/// The most nodes (servers and clients) in a run with `"clocks": true`: every message carries a
/// vector of one entry per node, so the bound keeps messages in flight small.
pub const CLOCKS_NODES_MAX: u32 = 64;

/// The smallest clock drift allowed: a clock that runs at a tenth of true speed. Bounded so that a
/// timer's true delay stays finite.
pub const DRIFT_PPM_MIN: i64 = -900_000;
/// The largest clock drift allowed: ten times true speed.
pub const DRIFT_PPM_MAX: i64 = 9_000_000;

/// The memory bound when a scenario names none (see [`Scenario::max_memory_mb`]).
pub const MAX_MEMORY_MB_DEFAULT: u64 = 2_048;
/// The largest memory bound a scenario may ask for.
pub const MAX_MEMORY_MB_LIMIT: u64 = 1 << 20;

impl Scenario {
    /// The memory bound in bytes (see [`Scenario::max_memory_mb`]).
    pub fn memory_bytes_max(&self) -> u64 {
        self.max_memory_mb.unwrap_or(MAX_MEMORY_MB_DEFAULT) << 20
    }
}

/// The scenario schema this build reads.
pub const SCHEMA_VERSION: u32 = 1;

fn schema_version_current() -> u32 {
    SCHEMA_VERSION
}

fn is_schema_version_current(v: &u32) -> bool {
    *v == SCHEMA_VERSION
}

fn is_false(b: &bool) -> bool {
    !*b
}

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

pub use crate::fault::{
    ByzantineMode, ByzantineSpec, ClockSpec, CutSpec, FaultAction, FaultSpec, LinkSpec, Target,
};

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
