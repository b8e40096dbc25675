//! The Byzantine generals (Lamport, Shostak and Pease, "The Byzantine Generals Problem", TOPLAS
//! 1982): the oral-messages algorithm OM(m), which reaches interactive consistency with up to `m`
//! traitors among more than `3m` generals over a synchronous network that loses nothing.
//!
//! How it works: the commander (group `commander`, one node) sends its order to every lieutenant
//! (group `lieutenants`). In OM(m) each lieutenant then acts as commander of OM(m - 1) over the
//! others to pass on the value it received, and so on down to OM(0). Here every message carries
//! the path of generals it went through (`[commander, l1, l2, ...]`); a lieutenant relays each new
//! path of length at most `m` to the lieutenants not on it at once, and after `m + 1` rounds
//! (`round_ms` each) computes the nested majorities bottom up. A missing order counts as retreat, and
//! so does a tie. Loyal generals check that a path ends with its true sender (oral messages: the
//! receiver knows who sent a message, nothing more) and names no general twice.
//!
//! Traitors are nodes a scenario makes Byzantine (`{"byzantine": {"node": 1, "mode": ...}}`):
//! `forge` flips every order they pass on, `equivocate` tells receivers of one id parity the
//! opposite of what it tells the others, `silent` says nothing (heard as retreat).
//!
//! What the checkers promise (`checkers.rs`): `ic1` (every loyal lieutenant decides the same order)
//! and `ic2` (if the commander is loyal, every loyal lieutenant decides its order), both judged at
//! the end. With `n <= 3m` (three generals, one traitor) the scenario `generals_n3_traitor` shows
//! them fail.

pub mod checkers;
pub mod general;
pub mod message;
pub mod traitor;

#[cfg(test)]
mod tests;

use crate::contract::{
    Adversary, Checker, GroupSize, GroupSpec, Mutant, NoModel, NodeId, Param, Protocol, Setup,
};
use general::{General, Plan};
use message::Order;
use serde::{Deserialize, Serialize};
use traitor::{Traitor, Traitors};

/// The most messages one run of OM(m) may send (its count grows as `(n - 1)^(m + 1)`).
pub const MESSAGES_MAX: u64 = 200_000;

/// The generals' scenario parameters (`"params"`), all optional. Unknown fields are an error.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct GeneralsParams {
    /// Rounds of relaying, `m` of OM(m): the traitors it tolerates (default 1).
    pub m: u32,
    /// The commander's order, `"attack"` or `"retreat"`; `null` draws it from the commander's
    /// stream (default `null`).
    pub order: Option<Order>,
    /// When the commander gives its order, ms after the start: after the faults scheduled at
    /// time 0, which the engine applies once every node has started (default 1).
    pub start_ms: u64,
    /// One round's length, ms: must be at least the network's largest delay (default 50).
    pub round_ms: u64,
}

impl Default for GeneralsParams {
    fn default() -> Self {
        GeneralsParams {
            m: 1,
            order: None,
            start_ms: 1,
            round_ms: 50,
        }
    }
}

impl GeneralsParams {
    /// Parses `params` (`Null` means all defaults); errors name the field.
    pub fn parse(params: &serde_json::Value) -> Result<GeneralsParams, String> {
        let p: GeneralsParams = if params.is_null() {
            GeneralsParams::default()
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
        if p.round_ms == 0 {
            return Err("params.round_ms: must be at least 1".into());
        }
        if p.start_ms > 3_600_000 {
            return Err("params.start_ms: must be at most 3600000 (an hour)".into());
        }
        if p.round_ms > 3_600_000 {
            return Err("params.round_ms: must be at most 3600000 (an hour)".into());
        }
        Ok(p)
    }
}

/// How many messages OM(m) sends with `lieutenants` lieutenants: `L + L(L-1) + ...` over `m + 1`
/// rounds, saturating.
pub fn messages(lieutenants: u64, m: u32) -> u64 {
    let (mut total, mut layer) = (0u64, 1u64);
    for k in 0..=u64::from(m) {
        if k >= lieutenants {
            break;
        }
        layer = layer.saturating_mul(lieutenants - k);
        total = total.saturating_add(layer);
    }
    total
}

/// The Byzantine generals protocol.
#[derive(Debug)]
pub struct Generals {
    plan: Plan,
    traitors: Traitors,
}

impl Protocol for Generals {
    type Actor = General;
    type Model = NoModel;

    const NAME: &'static str = "generals";
    const ABOUT: &'static str =
        "the Byzantine generals: oral messages OM(m), traitors that forge and equivocate";
    const MUTANTS: &'static [Mutant] = &[];
    const ROLES: &'static [&'static str] = &["commander", "lieutenant"];
    const GROUPS: &'static [GroupSpec] = &[
        GroupSpec {
            name: "commander",
            about: "gives the order (exactly one)",
            size: GroupSize::Default(1),
        },
        GroupSpec {
            name: "lieutenants",
            about: "relay what they hear for m rounds, then decide by majority",
            size: GroupSize::Rest,
        },
    ];
    const PARAMS: &'static [Param] = &[
        Param {
            name: "m",
            default: "1",
            about: "rounds of relaying in OM(m): the traitors tolerated (needs more than 3m generals)",
        },
        Param {
            name: "order",
            default: "null",
            about: "the commander's order, \"attack\" or \"retreat\"; null draws it from the seed",
        },
        Param {
            name: "start_ms",
            default: "1",
            about: "when the commander gives its order, ms (after faults scheduled at time 0)",
        },
        Param {
            name: "round_ms",
            default: "50",
            about: "one round's length, ms (at least the network's largest delay)",
        },
    ];
    const ATTACKS: &'static [(&'static str, &'static str)] = &[
        ("forge", "a traitor flips every order it passes on"),
        (
            "equivocate",
            "a traitor tells receivers of one id parity (drawn per traitor) the opposite order",
        ),
    ];
    const CHECKERS: &'static [(&'static str, &'static str)] = &[
        ("ic1", "every loyal lieutenant decides the same order"),
        (
            "ic2",
            "if the commander is loyal, every loyal lieutenant decides its order",
        ),
    ];

    fn setup(setup: &Setup<'_>) -> Result<Self, String> {
        let params = GeneralsParams::parse(setup.params)?;
        let cluster = setup.cluster;
        let commander = cluster.group("commander").map_or(0, |r| r.start);
        let lieutenants: Vec<NodeId> = cluster
            .group("lieutenants")
            .map_or_else(|| cluster.server_ids().skip(1).collect(), Iterator::collect);
        let sent = messages(lieutenants.len() as u64, params.m);
        if sent > MESSAGES_MAX {
            return Err(format!(
                "params.m: OM({}) with {} lieutenants sends {sent} messages, more than {MESSAGES_MAX}",
                params.m,
                lieutenants.len()
            ));
        }
        Ok(Generals {
            plan: Plan {
                m: params.m,
                commander,
                lieutenants,
                start_ms: params.start_ms,
                round_ms: params.round_ms,
                order: params.order,
            },
            traitors: Traitors::default(),
        })
    }

    fn new_actor(&self, id: NodeId) -> General {
        General::new(id, self.plan.clone())
    }

    fn checkers(&self) -> Vec<Box<dyn Checker<General>>> {
        vec![Box::new(checkers::Consistency::new(
            self.plan.commander,
            self.plan.lieutenants.clone(),
            self.traitors.clone(),
        ))]
    }

    fn adversary(&self, _node: NodeId) -> Option<Box<dyn Adversary<General>>> {
        Some(Box::new(Traitor::new(self.traitors.clone())))
    }
}
