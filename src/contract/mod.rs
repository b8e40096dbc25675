//! The protocol contract: everything a protocol is written against, and nothing else.
//!
//! A protocol (under `src/protocols/`, or in a user's own crate) imports this module only: never the
//! engine (`sim`), the network, traces or another protocol. A test (`tests/architecture.rs`) fails if a
//! file under `src/protocols/` does. What is here:
//!
//! - [`Actor`] and its [`Ctx`]: the sans-IO node, its inputs and the effects it writes;
//! - [`Protocol`], [`Setup`] and [`Mutant`]: how a protocol is built from a scenario;
//! - [`Checker`] and what it sees: each event ([`Observation`]) and the run's end ([`RunEnd`]);
//! - virtual [`Time`] and [`Duration`];
//! - [`Rng`]: a node's own random stream, opaque, with the draws a protocol needs;
//! - history records ([`HistoryEvent`], [`Value`], [`Func`]) and sequential [`Model`]s for the
//!   linearizability checker, with the built-in [`RegisterModel`] and [`KvModel`].

pub mod actor;
pub mod byzantine;
pub mod checker;
pub mod client;
pub mod durable;
pub mod history;
pub mod model;
pub mod protocol;
pub mod rng;
pub mod time;

pub use actor::{Actor, Cluster, Ctx, Effect, GroupRange, NodeId, NoteLabel, Record, Role};
pub use byzantine::{Adversary, Tamper};
pub use checker::{Checker, Failure, FinalNode, Observation, RoleChange, RunEnd, Verdict};
pub use durable::DurableInvariant;
pub use history::{EventKind, Func, History, HistoryEvent, Value};
pub use model::{Completion, KvModel, KvOp, Model, NoModel, RegisterModel, RegisterOp, Step};
pub use protocol::{
    GroupSize, GroupSpec, Mutant, Param, Protocol, Setup, mutant_flags, parse_params,
};
pub use rng::Rng;
pub use time::{Duration, NS_PER_MS, Time};
