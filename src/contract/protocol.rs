//! How a protocol is built from a scenario: its name, mutants, parameters, nodes, checkers and the
//! sequential model its clients' history must satisfy.

use crate::contract::actor::{Actor, Cluster, NodeId};
use crate::contract::byzantine::Adversary;
use crate::contract::checker::Checker;
use crate::contract::durable::DurableInvariant;
use crate::contract::model::Model;

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

/// How many servers a group has.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GroupSize {
    /// This many unless the scenario's `"groups"` says otherwise.
    Default(u32),
    /// Every server the other groups leave (at most one group per protocol). The scenario's
    /// `"nodes"` is the number of servers in all groups together.
    Rest,
}

/// A named group of servers a protocol declares: a coordinator and participants; lock servers and a
/// storage service; a master and workers. Faults and reports can name it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GroupSpec {
    /// Its name in scenarios (`{"crash": {"group": "participants", "member": 2}}`) and reports.
    pub name: &'static str,
    /// One line: what its members do.
    pub about: &'static str,
    /// How many members it has.
    pub size: GroupSize,
}

impl GroupSpec {
    /// The one group of a protocol whose servers are all alike.
    pub const SERVERS: GroupSpec = GroupSpec {
        name: "servers",
        about: "the servers",
        size: GroupSize::Rest,
    };
}

/// One of a protocol's `"params"`, for `distsim list --params`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Param {
    /// Its key under `"params"`.
    pub name: &'static str,
    /// Its default, as JSON (`"150"`, `"true"`, `"null"` for off).
    pub default: &'static str,
    /// One line: what it sets, with its unit.
    pub about: &'static str,
}

/// A planted bug a protocol can switch on, for showing that its checkers catch it.
#[derive(Clone, Copy, Debug)]
pub struct Mutant {
    /// The name used in scenarios: `"raft.vote_ignores_log"`.
    pub name: &'static str,
    /// One line: what the bug does.
    pub about: &'static str,
}

/// A protocol: how to build its nodes and which checkers watch them.
pub trait Protocol: Sized {
    /// The node type (servers and clients).
    type Actor: Actor;
    /// The sequential model of the service the clients use ([`crate::contract::NoModel`] for none).
    type Model: Model + 'static;

    /// The scenario name of the protocol (`"raft"`).
    const NAME: &'static str;
    /// One line for `distsim list`.
    const ABOUT: &'static str;
    /// The planted bugs this protocol offers.
    const MUTANTS: &'static [Mutant];
    /// Every role its actors may take (what `Actor::role` returns): a fault naming any other role is
    /// refused at validation, since it could never find its target.
    const ROLES: &'static [&'static str] = &[];
    /// Every parameter the protocol reads from `"params"`, with its default and meaning. A test checks
    /// the list against what the protocol accepts.
    const PARAMS: &'static [Param] = &[];
    /// Every property its checkers may judge (with some parameters only, too), with one line each.
    /// A test checks that the checkers never judge one that is not listed.
    const CHECKERS: &'static [(&'static str, &'static str)] = &[];
    /// What this protocol's adversary does, one line each, for `distsim list`: under a Byzantine
    /// mode it implements (`"forge"`, `"equivocate"`) or as an attack of its own (the name of the
    /// mode that triggers it first). Empty for a protocol with no adversary; a test checks that a
    /// protocol lists attacks exactly when [`Protocol::adversary`] gives one, each under a mode.
    const ATTACKS: &'static [(&'static str, &'static str)] = &[];
    /// The server groups, in the order their node ids are laid out (clients come after them).
    const GROUPS: &'static [GroupSpec] = &[GroupSpec::SERVERS];

    /// Builds the protocol from a scenario. An `Err` names the offending parameter (with its path
    /// under `params`, e.g. `"params.election_timeout_ms_min: must be below ..._max"`).
    fn setup(setup: &Setup<'_>) -> Result<Self, String>;

    /// Builds node `id` (a server or a client), at the start and again at every restart.
    fn new_actor(&self, id: NodeId) -> Self::Actor;

    /// The safety and liveness checkers for this run.
    fn checkers(&self) -> Vec<Box<dyn Checker<Self::Actor>>>;

    /// The adversary of node `node` when a scenario makes it Byzantine (see
    /// [`crate::contract::Adversary`]); the default has none, so `forge` and `equivocate` change
    /// nothing and a scenario asking for them on this protocol is refused.
    fn adversary(&self, node: NodeId) -> Option<Box<dyn Adversary<Self::Actor>>> {
        let _ = node;
        None
    }

    /// Told once, after [`Protocol::setup`] and before any checker is built, the nodes that the
    /// scenario's faults make Byzantine (any mode but `honest`) at some time in the run, in id order,
    /// so that checkers can judge the others as correct. A fault targeting a role counts every node
    /// (who holds the role is known only when it fires). Faults a test harness injects by hand are
    /// not in it. The default ignores it.
    fn byzantine_nodes(&mut self, nodes: &[NodeId]) {
        let _ = nodes;
    }

    /// The role that liveness ("a leader within X ms of the last heal") waits for, if any.
    fn leader_role(&self) -> Option<&'static str> {
        None
    }

    /// The promises about the disk that the generic `durable_state` checker holds every run to: fields
    /// that never go back (a term), choices made once per epoch (a vote per term). The default
    /// declares none, and the checker then judges nothing.
    fn durable_invariants(&self) -> Vec<DurableInvariant<<Self::Actor as Actor>::Durable>> {
        Vec::new()
    }

    /// The model the clients' history must be linearizable against, if the service promises that.
    /// The default, `None`, checks nothing.
    fn history_model(&self) -> Option<Self::Model> {
        None
    }
}

/// Reads a protocol's `"params"` into `T` (a struct with `#[serde(deny_unknown_fields)]` and serde
/// defaults): `Null` gives every default; an error names the field as `params.a.b: why`, which
/// `distsim` places at its line and column in the scenario file.
pub fn parse_params<T: serde::de::DeserializeOwned + Default>(
    params: &serde_json::Value,
) -> Result<T, String> {
    if params.is_null() {
        return Ok(T::default());
    }
    serde_path_to_error::deserialize(params).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        if path.is_empty() || path == "." {
            format!("params: {inner}")
        } else {
            format!("params.{path}: {inner}")
        }
    })
}

/// The flags of the mutants `names` switches on: `flag(&mut flags, i)` is the field of `mutants[i]`,
/// the one place a protocol ties a mutant's name to its flag. An unknown name is an error (the engine
/// checks names against [`Protocol::MUTANTS`] first, so this fires only when the two disagree).
pub fn mutant_flags<F: Default>(
    names: &[String],
    mutants: &[Mutant],
    flag: fn(&mut F, usize) -> Option<&mut bool>,
) -> Result<F, String> {
    let mut flags = F::default();
    for name in names {
        let on = mutants
            .iter()
            .position(|m| m.name == name)
            .and_then(|i| flag(&mut flags, i))
            .ok_or_else(|| format!("mutants: unknown mutant {name:?}"))?;
        *on = true;
    }
    Ok(flags)
}
