//! The Chord checker: one checker, two properties, judged at the end of the run.
//!
//! Churn stops at the later of the last fault (`RunEnd::last_fault`, as the other protocols' "after
//! heal" checks use it) and the last time a server started joining. From then on the set of live
//! servers is fixed: the servers up at the end whose join time has come.
//!
//! - `chord_ring`: within `settle_rounds` stabilisation rounds after churn stops, every live server
//!   is a member whose successor is the next live server on the circle and whose predecessor is the
//!   previous one. The checker keeps, per server, the last time its pointers changed (a few words per
//!   server), so at the end it knows when the final, correct ring was reached, not only that it was.
//! - `chord_lookups`: every workload lookup issued after that deadline names the key's true
//!   successor among the live servers; a failed lookup (hop limit, no route) or one left unanswered
//!   for longer than a lookup can take is a violation. The detail gives the hop counts (mean and
//!   max) next to the paper's `log2(N) / 2`.
//!
//! A run that ends before the deadline, or with faults still in force, is `unknown` where the ring
//! is not yet correct, never a violation.

use super::message::{LookupFailure, Note};
use super::node::{ChordNode, RingView, Status};
use super::ring::successor_of;
use crate::contract::{Checker, Duration, Failure, NodeId, Observation, RunEnd, Time, Verdict};
use std::collections::{BTreeMap, VecDeque};

/// The ring property.
pub const CHORD_RING: &str = "chord_ring";
/// The lookup property.
pub const CHORD_LOOKUPS: &str = "chord_lookups";

/// The most finished lookups kept (the newest; the judged ones are the latest of the run).
pub const FINISHED_KEPT_MAX: usize = 200_000;
/// The most lookups in flight the checker follows.
pub const OPEN_MAX: usize = 100_000;

/// A finished workload lookup.
#[derive(Clone, Debug)]
struct Finished {
    node: NodeId,
    issued: Time,
    key: u64,
    outcome: Result<NodeId, LookupFailure>,
    hops: u32,
}

/// The checker.
pub struct ChordChecker {
    ids: Vec<u64>,
    round: Duration,
    settle_rounds: u32,
    lookup_budget: Duration,
    /// Per server: its last pointers and when they last changed.
    views: Vec<Option<(RingView, Time)>>,
    last_join: Option<Time>,
    open: BTreeMap<(NodeId, u64), (Time, u64)>,
    finished: VecDeque<Finished>,
    forgotten: u64,
}

impl ChordChecker {
    /// A checker for servers with ring ids `ids`, stabilisation rounds of `round`, a deadline of
    /// `settle_rounds` rounds, and lookups that take at most `lookup_budget`.
    pub fn new(
        ids: Vec<u64>,
        round: Duration,
        settle_rounds: u32,
        lookup_budget: Duration,
    ) -> ChordChecker {
        let servers = ids.len();
        ChordChecker {
            ids,
            round,
            settle_rounds,
            lookup_budget,
            views: vec![None; servers],
            last_join: None,
            open: BTreeMap::new(),
            finished: VecDeque::new(),
            forgotten: 0,
        }
    }

    fn finish_lookup(
        &mut self,
        node: NodeId,
        lookup: u64,
        outcome: Result<NodeId, LookupFailure>,
        hops: u32,
    ) {
        let Some((issued, key)) = self.open.remove(&(node, lookup)) else {
            return;
        };
        if self.finished.len() == FINISHED_KEPT_MAX {
            self.finished.pop_front();
            self.forgotten += 1;
        }
        self.finished.push_back(Finished {
            node,
            issued,
            key,
            outcome,
            hops,
        });
    }

    /// `chord_ring`, given the live members sorted by id.
    fn judge_ring(
        &self,
        end: &RunEnd<'_, ChordNode>,
        members: &[(u64, NodeId)],
        quiet: Time,
    ) -> Verdict {
        let deadline = quiet + self.deadline();
        let since_ms = (end.now - quiet).as_millis();
        let len = members.len();
        let mut problem = None;
        for (i, &(_, n)) in members.iter().enumerate() {
            let Some(view) = end.nodes[n as usize].state.map(ChordNode::ring_view) else {
                continue;
            };
            let want_succ = members[(i + 1) % len].1;
            let want_pred = members[(i + len - 1) % len].1;
            let pred_ok =
                view.predecessor == Some(want_pred) || (len == 1 && view.predecessor.is_none());
            problem = if view.status != Status::Member {
                Some(format!("server {n} has not joined"))
            } else if view.successor != Some(want_succ) {
                Some(format!(
                    "server {n}'s successor is {}, but the next live server is {want_succ}",
                    show(view.successor)
                ))
            } else if !pred_ok {
                Some(format!(
                    "server {n}'s predecessor is {}, but the previous live server is {want_pred}",
                    show(view.predecessor)
                ))
            } else {
                None
            };
            if problem.is_some() {
                break;
            }
        }
        let k = self.settle_rounds;
        if let Some(problem) = problem {
            return if end.now < deadline {
                Verdict::Unknown(format!(
                    "{problem} {since_ms} ms after churn stopped, before the {k} rounds are up"
                ))
            } else {
                Verdict::Fail(format!(
                    "{problem}, {since_ms} ms after churn stopped ({} rounds; the bound is {k})",
                    self.rounds(end.now - quiet)
                ))
            };
        }
        let settled = members
            .iter()
            .filter_map(|(_, n)| self.views[*n as usize].map(|(_, at)| at))
            .fold(quiet, Time::max);
        let took = settled - quiet;
        if settled > deadline {
            return Verdict::Fail(format!(
                "the ring became correct only {} ms ({} rounds) after churn stopped; the bound is {k} rounds",
                took.as_millis(),
                self.rounds(took)
            ));
        }
        Verdict::PassNoted(format!(
            "the ring of {len} live servers was correct {} ms ({} rounds, bound {k}) after churn stopped at {quiet}",
            took.as_millis(),
            self.rounds(took)
        ))
    }

    /// `chord_lookups`, given the live members sorted by id.
    fn judge_lookups(
        &self,
        end: &RunEnd<'_, ChordNode>,
        members: &[(u64, NodeId)],
        quiet: Time,
    ) -> Verdict {
        let deadline = quiet + self.deadline();
        if end.now < deadline {
            return Verdict::Unknown(format!(
                "the run ended {} ms after churn stopped, before the ring's {} rounds were up: no lookup judged",
                (end.now - quiet).as_millis(),
                self.settle_rounds
            ));
        }
        let (mut judged, mut hops_sum, mut hops_max) = (0u64, 0u64, 0u32);
        let (mut earlier, mut earlier_failed) = (0u64, 0u64);
        for l in &self.finished {
            if l.issued < deadline {
                earlier += 1;
                earlier_failed += u64::from(l.outcome.is_err());
                continue;
            }
            let truth = successor_of(members, l.key);
            match l.outcome {
                Ok(owner) if Some(owner) == truth => {
                    judged += 1;
                    hops_sum += u64::from(l.hops);
                    hops_max = hops_max.max(l.hops);
                }
                Ok(owner) => {
                    return Verdict::Fail(format!(
                        "server {}'s lookup of key {} issued at {} named server {owner}, but its successor is {}",
                        l.node,
                        l.key,
                        l.issued,
                        show(truth)
                    ));
                }
                Err(why) => {
                    return Verdict::Fail(format!(
                        "server {}'s lookup of key {} issued at {} {} after {} hops",
                        l.node,
                        l.key,
                        l.issued,
                        why.as_str(),
                        l.hops
                    ));
                }
            }
        }
        let overdue = end.now.0.saturating_sub(self.lookup_budget.0);
        if let Some(((node, _), (issued, key))) = self
            .open
            .iter()
            .find(|(_, (issued, _))| *issued >= deadline && issued.0 < overdue)
        {
            return Verdict::Fail(format!(
                "server {node}'s lookup of key {key} issued at {issued} was never answered"
            ));
        }
        if judged == 0 {
            return Verdict::Unknown(format!(
                "no lookup was issued after the ring's deadline {deadline}"
            ));
        }
        let n = members.len();
        let forgotten = if self.forgotten > 0 {
            format!(" ({} older ones not kept)", self.forgotten)
        } else {
            String::new()
        };
        // Floats only for the report: nothing is decided by them.
        Verdict::PassNoted(format!(
            "{judged} lookups issued after {deadline} all found the key's successor; hops mean {:.2}, max {hops_max}, \
             log2(N)/2 = {:.2} for N = {n}; before: {earlier} lookups, {earlier_failed} failed{forgotten}",
            hops_sum as f64 / judged as f64,
            (n as f64).log2() / 2.0
        ))
    }

    /// The settling bound.
    fn deadline(&self) -> Duration {
        Duration(self.round.0.saturating_mul(u64::from(self.settle_rounds)))
    }

    /// `span` in stabilisation rounds, rounded up.
    fn rounds(&self, span: Duration) -> u64 {
        span.0.div_ceil(self.round.0.max(1))
    }
}

fn show(node: Option<NodeId>) -> String {
    node.map_or_else(|| "none".to_string(), |n| format!("server {n}"))
}

impl Checker<ChordNode> for ChordChecker {
    fn name(&self) -> &'static str {
        "chord"
    }

    fn properties(&self) -> Vec<&'static str> {
        vec![CHORD_RING, CHORD_LOOKUPS]
    }

    fn observe(&mut self, obs: &Observation<'_, ChordNode>) -> Result<(), Failure> {
        let node = obs.node;
        if let Some(slot) = self.views.get_mut(node as usize) {
            let view = obs.state.ring_view();
            if slot.is_none_or(|(seen, _)| seen != view) {
                *slot = Some((view, obs.now));
            }
        }
        for note in obs.notes {
            match note {
                Note::Booted => {
                    // Lookups of the node's previous life died with it; numbers start again.
                    let dead: Vec<(NodeId, u64)> = self
                        .open
                        .range((node, 0)..=(node, u64::MAX))
                        .map(|(k, _)| *k)
                        .collect();
                    for k in dead {
                        self.open.remove(&k);
                    }
                }
                Note::JoinStarted => self.last_join = Some(obs.now),
                Note::LookupStarted { lookup, key } => {
                    if self.open.len() < OPEN_MAX {
                        self.open.insert((node, *lookup), (obs.now, *key));
                    }
                }
                Note::LookupDone {
                    lookup,
                    owner,
                    hops,
                    ..
                } => self.finish_lookup(node, *lookup, Ok(*owner), *hops),
                Note::LookupFailed {
                    lookup, why, hops, ..
                } => self.finish_lookup(node, *lookup, Err(*why), *hops),
                Note::Joined { .. } | Note::SuccessorFailed { .. } | Note::Merged { .. } => {}
            }
        }
        Ok(())
    }

    fn finish(&mut self, end: &RunEnd<'_, ChordNode>) -> Vec<(&'static str, Verdict)> {
        let both = |why: &str| {
            vec![
                (CHORD_RING, Verdict::Unknown(why.to_string())),
                (CHORD_LOOKUPS, Verdict::Unknown(why.to_string())),
            ]
        };
        if end.ended_early {
            return both("the run ended early");
        }
        if end.faults_in_force {
            return both("faults were still in force at the end: churn never stopped");
        }
        let quiet = end.last_fault.max(self.last_join).unwrap_or(Time::ZERO);
        let mut members: Vec<(u64, NodeId)> = end
            .nodes
            .iter()
            .zip(0..)
            .filter(|(node, id)| {
                (*id as usize) < self.ids.len()
                    && node
                        .state
                        .is_some_and(|s| s.ring_view().status != Status::Waiting)
            })
            .map(|(_, id)| (self.ids[id as usize], id))
            .collect();
        members.sort_unstable();
        if members.is_empty() {
            return both("no server was up and joined at the end");
        }
        vec![
            (CHORD_RING, self.judge_ring(end, &members, quiet)),
            (CHORD_LOOKUPS, self.judge_lookups(end, &members, quiet)),
        ]
    }
}
