//! Checkers: safety checkers watch every event as it happens; liveness and history checkers judge the
//! run at its end.
//!
//! A protocol's checkers are typed: after each event they see that event's notes and read-only state of
//! the node it touched, and keep their own ghost records (every leader per term, every committed entry).
//! Their cost per event is proportional to what the event touched, never to the size of the cluster or
//! of the history.

pub mod history;
pub mod history_format;
pub mod linearizability;
pub mod liveness;

/// The checkers every protocol can use, with one line each.
pub const GENERIC_CHECKERS: &[(&str, &str)] = &[
    (
        "leader_within",
        "liveness: some server holds the leader role this long after the last fault",
    ),
    (
        "ops_complete_within",
        "liveness: client operations complete this long after the last fault",
    ),
    (
        "linearizability",
        "the clients' history, at the end, for every service that promises it",
    ),
];

use crate::actor::{Actor, Cluster, NodeId, Role};
use crate::sim::time::Time;
use history::History;
use serde::Serialize;

/// What a checker sees after one event that a node handled.
pub struct Observation<'a, A: Actor> {
    /// The engine's event index (0-based, counts every event taken off the queue).
    pub event_index: u64,
    /// True time of the event.
    pub now: Time,
    /// The node that handled it.
    pub node: NodeId,
    /// The node's state after the event.
    pub state: &'a A,
    /// The node's disk after the event.
    pub durable: &'a A::Durable,
    /// The notes the node wrote while handling the event, in order.
    pub notes: &'a [A::Note],
    /// The cluster's shape.
    pub cluster: Cluster,
}

/// A role change, as the engine saw it after some event.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RoleChange {
    /// True time.
    pub time: Time,
    /// The node.
    pub node: NodeId,
    /// The new role (`None`: no role, e.g. crashed).
    pub role: Role,
}

/// What end-of-run checkers see.
pub struct RunEnd<'a> {
    /// True time at which the run ended.
    pub now: Time,
    /// True time of the last fault that healed something (or of the last fault), if any fired.
    pub last_fault: Option<Time>,
    /// Whether faults were still in force at the end (a partition never healed, a node still down).
    pub faults_in_force: bool,
    /// The clients' history.
    pub history: &'a History,
    /// Every role change in the run, in order.
    pub roles: &'a [RoleChange],
    /// The cluster's shape.
    pub cluster: Cluster,
    /// Whether the run was cut short by a safety violation or a bound.
    pub ended_early: bool,
}

/// A checker's verdict on a whole run.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "verdict", content = "detail", rename_all = "snake_case")]
pub enum Verdict {
    /// No violation found.
    Pass,
    /// A violation, explained in one line.
    Fail(String),
    /// The checker could not decide (budget exhausted, or nothing to judge).
    Unknown(String),
}

/// A checker of one protocol's actors.
pub trait Checker<A: Actor> {
    /// The checker's stable name (`"election_safety"`), used in reports, traces and `expect`.
    fn name(&self) -> &'static str;

    /// Sees one handled event. An `Err` is a safety violation: the run stops there.
    fn observe(&mut self, obs: &Observation<'_, A>) -> Result<(), String>;

    /// Judges the run once it has ended. Safety checkers that found nothing keep the default.
    fn finish(&mut self, end: &RunEnd<'_>) -> Verdict {
        let _ = end;
        Verdict::Pass
    }
}
