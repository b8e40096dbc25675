//! The protocols, and the one registry that maps a scenario's `"protocol"` string to a constructor.
//!
//! A protocol never imports `sim`, `net` or another protocol: it implements [`Actor`] for its nodes and
//! [`Protocol`] for its setup (how to build a node, which checkers watch it, which mutants it has).

pub mod pingpong;
pub mod raft;
pub mod registry;

use crate::actor::{Actor, Cluster, NodeId};
use crate::check::Checker;

/// What a protocol is given to set itself up: the cluster's shape, its own parameters from the
/// scenario (`"params"`, parsed by the protocol with `deny_unknown_fields`), and the mutants switched on.
#[derive(Clone, Debug)]
pub struct Setup<'a> {
    /// Servers and clients.
    pub cluster: Cluster,
    /// The scenario's `"params"` object (`Null` when absent).
    pub params: &'a serde_json::Value,
    /// The scenario's `"mutants"`, already checked against [`Protocol::MUTANTS`].
    pub mutants: &'a [String],
}

/// A planted bug a protocol can switch on, for showing that its checkers catch it.
#[derive(Clone, Copy, Debug)]
pub struct Mutant {
    /// The name used in scenarios: `"raft.vote_ignores_log"`.
    pub name: &'static str,
    /// One line: what the bug does.
    pub about: &'static str,
}

/// Which sequential model a protocol's client history must be linearizable against.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HistoryModel {
    /// One register: read, write, compare-and-set.
    Register,
    /// Independent keys: get, put, append, compare-and-set per key.
    KeyValue,
}

/// A protocol: how to build its nodes and which checkers watch them.
pub trait Protocol: Sized {
    /// The node type (servers and clients).
    type Actor: Actor;

    /// The scenario name of the protocol (`"raft"`).
    const NAME: &'static str;
    /// One line for `distsim list`.
    const ABOUT: &'static str;
    /// The planted bugs this protocol offers.
    const MUTANTS: &'static [Mutant];
    /// Every role its actors may take (what `Actor::role` returns): a fault naming any other role is
    /// refused at validation, since it could never find its target.
    const ROLES: &'static [&'static str] = &[];
    /// Whether its actors corrupt messages under a Byzantine `forge` fault (they override
    /// `Actor::forge`); if not, such a fault is refused at validation, since it would change nothing.
    const FORGES: bool = false;

    /// Builds the protocol from a scenario. An `Err` names the offending parameter (with its path
    /// under `params`, e.g. `"params.election_timeout_ms_min: must be below ..._max"`).
    fn setup(setup: &Setup<'_>) -> Result<Self, String>;

    /// Builds node `id` (a server or a client), at the start and again at every restart.
    fn new_actor(&self, id: NodeId) -> Self::Actor;

    /// The safety and liveness checkers for this run.
    fn checkers(&self) -> Vec<Box<dyn Checker<Self::Actor>>>;

    /// The role that liveness ("a leader within X ms of the last heal") waits for, if any.
    fn leader_role(&self) -> Option<&'static str> {
        None
    }

    /// The model the clients' history must be linearizable against, if the service promises that.
    fn history_model(&self) -> Option<HistoryModel> {
        None
    }
}
