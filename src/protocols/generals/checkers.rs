//! IC1 and IC2, judged at the end from the generals' disks.
//!
//! - `ic1`: every loyal lieutenant decides the same order;
//! - `ic2`: if the commander is loyal, every loyal lieutenant decides the commander's order.
//!
//! Loyal means never sent anything while Byzantine (see [`Traitors`]). A loyal lieutenant that never
//! decided (crashed before its decision, or the run ended first) leaves both `unknown`. So does a
//! loyal lieutenant that never heard a message a *loyal* general owed it (lost, partitioned, or late
//! past the round): OM(m) assumes every message arrives within a round (the paper's A1), so a
//! violation the network caused says nothing about the algorithm; only a run where every loyal
//! message arrived can fail.

use super::general::General;
use super::traitor::Traitors;
use crate::contract::{Checker, Failure, NodeId, Observation, RunEnd, Verdict};

/// The interactive-consistency checker.
pub struct Consistency {
    commander: NodeId,
    lieutenants: Vec<NodeId>,
    traitors: Traitors,
}

impl Consistency {
    /// A checker for this army.
    pub fn new(commander: NodeId, lieutenants: Vec<NodeId>, traitors: Traitors) -> Consistency {
        Consistency {
            commander,
            lieutenants,
            traitors,
        }
    }
}

impl Checker<General> for Consistency {
    fn name(&self) -> &'static str {
        "interactive_consistency"
    }

    fn properties(&self) -> Vec<&'static str> {
        vec!["ic1", "ic2"]
    }

    fn observe(&mut self, _obs: &Observation<'_, General>) -> Result<(), Failure> {
        Ok(())
    }

    fn finish(&mut self, end: &RunEnd<'_, General>) -> Vec<(&'static str, Verdict)> {
        let traitors = self.traitors.borrow().clone();
        let mut decided = Vec::new();
        for &l in &self.lieutenants {
            if traitors.contains(&l) {
                continue;
            }
            let Some(node) = end.nodes.get(l as usize) else {
                continue;
            };
            match node.durable.decision {
                Some(d) => decided.push((l, d)),
                None => {
                    let why = format!("loyal lieutenant {l} never decided");
                    return vec![
                        ("ic1", Verdict::Unknown(why.clone())),
                        ("ic2", Verdict::Unknown(why)),
                    ];
                }
            }
        }
        let broken: Vec<String> = self
            .lieutenants
            .iter()
            .filter(|l| !traitors.contains(l))
            .filter_map(|&l| {
                let node = end.nodes.get(l as usize)?;
                let loyal_missed: Vec<String> = node
                    .durable
                    .missed_from
                    .iter()
                    .filter(|g| !traitors.contains(g))
                    .map(ToString::to_string)
                    .collect();
                (!loyal_missed.is_empty())
                    .then(|| format!("{l} missed {}", loyal_missed.join(", ")))
            })
            .collect();
        let said = |ds: &[(NodeId, super::message::Order)]| {
            ds.iter()
                .map(|(l, d)| format!("{l}: {}", d.as_str()))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let ic1 = match decided.split_first() {
            Some((first, rest)) if rest.iter().any(|(_, d)| *d != first.1) => Verdict::Fail(
                format!("loyal lieutenants decided differently ({})", said(&decided)),
            ),
            _ => Verdict::Pass,
        };
        let ic2 = if traitors.contains(&self.commander) {
            Verdict::PassNoted("the commander is a traitor: IC2 asks nothing".into())
        } else {
            match end
                .nodes
                .get(self.commander as usize)
                .and_then(|n| n.durable.order)
            {
                None => Verdict::Unknown("the loyal commander never gave its order".into()),
                Some(order) => {
                    if decided.iter().any(|(_, d)| *d != order) {
                        Verdict::Fail(format!(
                            "the loyal commander {} ordered {}, but loyal lieutenants decided {}",
                            self.commander,
                            order.as_str(),
                            said(&decided)
                        ))
                    } else {
                        Verdict::Pass
                    }
                }
            }
        };
        let outside_the_model = |v: Verdict| match v {
            Verdict::Fail(why) if !broken.is_empty() => Verdict::Unknown(format!(
                "{why}; but OM(m) assumes every message arrives within a round, and loyal \
                 generals' messages went missing (lieutenant {})",
                broken.join("; lieutenant ")
            )),
            other => other,
        };
        vec![
            ("ic1", outside_the_model(ic1)),
            ("ic2", outside_the_model(ic2)),
        ]
    }
}
