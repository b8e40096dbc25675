//! Checkers: safety checkers watch every event as it happens; liveness and history checkers judge the
//! run at its end.
//!
//! A protocol's checkers are typed: after each event they see that event's notes and read-only state of
//! the node it touched, and keep their own ghost records (every leader per term, every committed entry).
//! Their cost per event is proportional to what the event touched, never to the size of the cluster or
//! of the history.
//!
//! One checker may judge several properties that share one ghost record (Raft's log matching, leader
//! completeness and commit safety read the same ghost log): it lists them in
//! [`Checker::properties`] and names the one a violation breaks in its [`Failure`].

use crate::contract::actor::{Actor, Cluster, NodeId, Role};
use crate::contract::history::{History, HistoryEvent};
use crate::contract::time::Time;
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
    /// The cluster's shape (borrowed: the engine builds an observation per event).
    pub cluster: &'a Cluster,
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

/// One node as the run left it.
pub struct FinalNode<'a, A: Actor> {
    /// Its state, or `None` if it was down at the end.
    pub state: Option<&'a A>,
    /// Its disk.
    pub durable: &'a A::Durable,
}

/// What end-of-run checkers see.
pub struct RunEnd<'a, A: Actor> {
    /// True time at which the run ended.
    pub now: Time,
    /// True time of the last fault (the one after which the system must make progress again), if any
    /// fired.
    pub last_fault: Option<Time>,
    /// Whether faults were still in force at the end (a partition never healed, a node still down, a
    /// slowed link, a drifting clock).
    pub faults_in_force: bool,
    /// The clients' history: complete when the run kept it, which it does for library runs by default
    /// and whenever a checker [`Checker::needs_history`]; empty otherwise.
    pub history: &'a History,
    /// Every role change in the run, in order.
    pub roles: &'a [RoleChange],
    /// The cluster's shape.
    pub cluster: Cluster,
    /// Whether the run was cut short by a safety violation or a bound.
    pub ended_early: bool,
    /// Every node's final state and disk, by node id: for convergence checks (CRDTs, the AP store,
    /// a ring).
    pub nodes: &'a [FinalNode<'a, A>],
}

/// A checker's verdict on a whole run.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "verdict", content = "detail", rename_all = "snake_case")]
pub enum Verdict {
    /// No violation found.
    Pass,
    /// No violation found, with a remark worth reading that is not a violation (two-phase commit:
    /// how long which participants were blocked while the coordinator was down). Written as a pass
    /// with a detail.
    #[serde(rename = "pass")]
    PassNoted(String),
    /// A violation, explained in one line.
    Fail(String),
    /// The checker could not decide (budget exhausted, or nothing to judge).
    Unknown(String),
}

/// A safety violation found while observing an event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    /// The property broken; `None` for the checker's own name.
    pub property: Option<&'static str>,
    /// One line of explanation.
    pub message: String,
}

impl Failure {
    /// A violation of `property` (one of the checker's [`Checker::properties`]).
    pub fn of(property: &'static str, message: impl Into<String>) -> Failure {
        Failure {
            property: Some(property),
            message: message.into(),
        }
    }
}

/// A message alone is a violation of the checker's own (single) property.
impl From<String> for Failure {
    fn from(message: String) -> Failure {
        Failure {
            property: None,
            message,
        }
    }
}

/// A checker of one protocol's actors.
pub trait Checker<A: Actor> {
    /// The checker's stable name (`"election_safety"`), used in reports, traces and `expect` when it
    /// judges one property.
    fn name(&self) -> &'static str;

    /// The properties this checker judges, each reported on its own line and usable in `expect`. By
    /// default, one: the checker's name.
    fn properties(&self) -> Vec<&'static str> {
        vec![self.name()]
    }

    /// Sees one handled event. An `Err` is a safety violation: the run stops there.
    fn observe(&mut self, obs: &Observation<'_, A>) -> Result<(), Failure>;

    /// Judges the run once it has ended: a verdict for some of its properties; those left out pass.
    /// Safety checkers that found nothing keep the default.
    fn finish(&mut self, end: &RunEnd<'_, A>) -> Vec<(&'static str, Verdict)> {
        let _ = end;
        Vec::new()
    }

    /// Sees one event of the clients' history as it is recorded, in history order (the online
    /// linearizability check consumes the history this way, so that the run need not keep it). An
    /// `Err` is a safety violation: the run stops there (should the same event also fail in
    /// [`Checker::observe`], that violation is the one reported). By default, nothing.
    fn history(&mut self, event: &HistoryEvent) -> Result<(), Failure> {
        let _ = event;
        Ok(())
    }

    /// Whether this checker reads the whole history at the end ([`RunEnd::history`]). A run that
    /// nobody asked for the history (`distsim run` without `--history`) keeps it only when some
    /// checker says so; otherwise [`RunEnd::history`] is empty, and the run's memory follows what is
    /// live. By default `true`, so that a checker that reads the history can never be handed an empty
    /// one by mistake; a checker that judges only states, notes or the history as it is recorded
    /// ([`Checker::history`]) returns `false` to let long runs drop it.
    fn needs_history(&self) -> bool {
        true
    }
}
