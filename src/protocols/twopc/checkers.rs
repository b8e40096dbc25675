//! The checkers of two-phase commit, judged from ghost records that outlive every crash.
//!
//! [`TwopcSafety`] judges three properties as the notes come in: `atomicity` (no participant commits
//! what another aborts), `commit_validity` (a commit, anywhere, needs a yes vote from every participant
//! of the transaction) and `decision_stability` (a node never changes its decision on a transaction,
//! so a coordinator that forgets a decision in a crash and decides again differently is caught).
//! [`TwopcLiveness`] judges, at the end, that every transaction was decided everywhere in time once
//! the faults were over. Blocking while the coordinator is down is not a violation: participants
//! note `blocked` and `unblocked`, and [`TwopcLiveness`] sums it up in its verdict
//! ([`Verdict::PassNoted`]: which participants, how long, how many episodes overlapped the
//! coordinator's downtime).

use super::message::{Decision, TxnId};
use super::{TwopcActor, TwopcNote, TwopcParams};
use crate::contract::{Checker, Duration, Failure, NodeId, Observation, RunEnd, Time, Verdict};
use std::collections::{BTreeMap, BTreeSet};

/// The checkers for a run with these parameters.
pub fn all(coordinator: NodeId, params: &TwopcParams) -> Vec<Box<dyn Checker<TwopcActor>>> {
    let mut checkers: Vec<Box<dyn Checker<TwopcActor>>> =
        vec![Box::new(TwopcSafety::new(coordinator))];
    if let Some(ms) = params.liveness_decide_ms {
        checkers.push(Box::new(TwopcLiveness::new(
            coordinator,
            Duration::from_millis(ms),
        )));
    }
    checkers
}

/// Atomicity, commit validity and decision stability.
#[derive(Clone, Debug, Default)]
pub struct TwopcSafety {
    coordinator: NodeId,
    participants: BTreeMap<TxnId, Vec<NodeId>>,
    yes_voters: BTreeMap<TxnId, BTreeSet<NodeId>>,
    /// Every node's first decision on each transaction.
    decisions: BTreeMap<TxnId, BTreeMap<NodeId, Decision>>,
}

impl TwopcSafety {
    /// A checker with empty ghost records.
    pub fn new(coordinator: NodeId) -> TwopcSafety {
        TwopcSafety {
            coordinator,
            ..TwopcSafety::default()
        }
    }

    fn decided(&mut self, node: NodeId, txn: TxnId, decision: Decision) -> Result<(), Failure> {
        let seen = self.decisions.entry(txn).or_default();
        if let Some(before) = seen.get(&node) {
            if *before != decision {
                return Err(Failure::of(
                    "decision_stability",
                    format!(
                        "node {node} decided {} on {txn}, after it had decided {}",
                        decision.as_str(),
                        before.as_str()
                    ),
                ));
            }
            return Ok(());
        }
        if decision == Decision::Commit {
            let Some(participants) = self.participants.get(&txn) else {
                return Err(Failure::of(
                    "commit_validity",
                    format!("node {node} committed {txn}, which the coordinator never began"),
                ));
            };
            let voted = self.yes_voters.get(&txn);
            let missing: Vec<NodeId> = participants
                .iter()
                .copied()
                .filter(|p| !voted.is_some_and(|v| v.contains(p)))
                .collect();
            if !missing.is_empty() {
                return Err(Failure::of(
                    "commit_validity",
                    format!(
                        "node {node} committed {txn}, but participants {missing:?} of {participants:?} never voted yes"
                    ),
                ));
            }
        }
        if node != self.coordinator {
            let other = seen
                .iter()
                .find(|(n, d)| **n != self.coordinator && **d != decision);
            if let Some((other, d)) = other {
                return Err(Failure::of(
                    "atomicity",
                    format!(
                        "participant {node} decided {} on {txn}, participant {other} decided {}",
                        decision.as_str(),
                        d.as_str()
                    ),
                ));
            }
        }
        seen.insert(node, decision);
        Ok(())
    }
}

impl Checker<TwopcActor> for TwopcSafety {
    fn needs_history(&self) -> bool {
        false
    }

    fn name(&self) -> &'static str {
        "twopc_safety"
    }

    fn properties(&self) -> Vec<&'static str> {
        vec!["atomicity", "commit_validity", "decision_stability"]
    }

    fn observe(&mut self, obs: &Observation<'_, TwopcActor>) -> Result<(), Failure> {
        for note in obs.notes {
            match note {
                TwopcNote::Began { txn, participants } => {
                    self.participants
                        .entry(*txn)
                        .or_insert_with(|| participants.clone());
                }
                TwopcNote::Voted { txn, yes: true } => {
                    self.yes_voters.entry(*txn).or_default().insert(obs.node);
                }
                TwopcNote::Decided { txn, decision } => self.decided(obs.node, *txn, *decision)?,
                _ => {}
            }
        }
        Ok(())
    }
}

/// The most blocking episodes [`TwopcLiveness`] keeps for its summary (more are counted only).
pub const BLOCKING_EPISODES_MAX: usize = 100_000;

/// One participant asking around about one transaction, from its decision timeout until it learned
/// the decision (true time).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Episode {
    node: NodeId,
    txn: TxnId,
    from: Time,
    to: Time,
}

/// Every transaction decided by the coordinator and all its participants within a bound of the later
/// of its start and the last fault. Its verdict also says who was blocked, how long, and how much of
/// it while the coordinator was down: the blocking 2PC is known for, reported, not a violation.
#[derive(Clone, Debug)]
pub struct TwopcLiveness {
    coordinator: NodeId,
    within: Duration,
    began: BTreeMap<TxnId, (Time, Vec<NodeId>)>,
    decided_at: BTreeMap<(TxnId, NodeId), Time>,
    /// Open blocking episodes: (participant, transaction) -> when it started asking around.
    blocked_since: BTreeMap<(NodeId, TxnId), Time>,
    /// Ended blocking episodes (the first [`BLOCKING_EPISODES_MAX`]).
    episodes: Vec<Episode>,
    /// Ended episodes not kept.
    episodes_dropped: u64,
}

impl TwopcLiveness {
    /// A checker with the bound `within`.
    pub fn new(coordinator: NodeId, within: Duration) -> TwopcLiveness {
        TwopcLiveness {
            coordinator,
            within,
            began: BTreeMap::new(),
            decided_at: BTreeMap::new(),
            blocked_since: BTreeMap::new(),
            episodes: Vec::new(),
            episodes_dropped: 0,
        }
    }

    /// Who was blocked, how long, and how many episodes overlapped the coordinator's downtime; empty
    /// when no participant ever had to ask around.
    fn blocking_summary(&self, end: &RunEnd<'_, TwopcActor>) -> String {
        // The coordinator's down intervals, from the role changes (no role: down).
        let mut down: Vec<(Time, Time)> = Vec::new();
        let mut down_since = None;
        for change in end.roles.iter().filter(|c| c.node == self.coordinator) {
            match (change.role, down_since) {
                (None, None) => down_since = Some(change.time),
                (Some(_), Some(since)) => {
                    down.push((since, change.time));
                    down_since = None;
                }
                _ => {}
            }
        }
        if let Some(since) = down_since {
            down.push((since, end.now));
        }
        let still: Vec<Episode> = self
            .blocked_since
            .iter()
            .map(|((node, txn), from)| Episode {
                node: *node,
                txn: *txn,
                from: *from,
                to: end.now,
            })
            .collect();
        let all: Vec<&Episode> = self.episodes.iter().chain(&still).collect();
        if all.is_empty() {
            return String::new();
        }
        let nodes: Vec<NodeId> = all
            .iter()
            .map(|e| e.node)
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let while_down = all
            .iter()
            .filter(|e| down.iter().any(|(d0, d1)| e.from < *d1 && *d0 < e.to))
            .count();
        let longest = all
            .iter()
            .max_by_key(|e| {
                (
                    e.to.saturating_since(e.from),
                    std::cmp::Reverse((e.node, e.txn)),
                )
            })
            .map(|e| {
                format!(
                    "longest {} (participant {} on {})",
                    e.to.saturating_since(e.from),
                    e.node,
                    e.txn
                )
            })
            .unwrap_or_default();
        let mut text = format!(
            "blocking: participants {nodes:?} asked around in {} episodes ({while_down} while the coordinator was down), {longest}",
            all.len() as u64 + self.episodes_dropped
        );
        if !still.is_empty() {
            text.push_str(&format!(", {} still blocked at the end", still.len()));
        }
        text
    }
}

impl Checker<TwopcActor> for TwopcLiveness {
    fn needs_history(&self) -> bool {
        false
    }

    fn name(&self) -> &'static str {
        "twopc_liveness"
    }

    fn observe(&mut self, obs: &Observation<'_, TwopcActor>) -> Result<(), Failure> {
        for note in obs.notes {
            match note {
                TwopcNote::Began { txn, participants } => {
                    self.began
                        .entry(*txn)
                        .or_insert_with(|| (obs.now, participants.clone()));
                }
                TwopcNote::Decided { txn, .. } => {
                    self.decided_at.entry((*txn, obs.node)).or_insert(obs.now);
                    if let Some(from) = self.blocked_since.remove(&(obs.node, *txn)) {
                        if self.episodes.len() < BLOCKING_EPISODES_MAX {
                            self.episodes.push(Episode {
                                node: obs.node,
                                txn: *txn,
                                from,
                                to: obs.now,
                            });
                        } else {
                            self.episodes_dropped += 1;
                        }
                    }
                }
                TwopcNote::Blocked { txn, .. } => {
                    self.blocked_since
                        .entry((obs.node, *txn))
                        .or_insert(obs.now);
                }
                _ => {}
            }
        }
        Ok(())
    }

    fn finish(&mut self, end: &RunEnd<'_, TwopcActor>) -> Vec<(&'static str, Verdict)> {
        let blocking = self.blocking_summary(end);
        let and_blocking = if blocking.is_empty() {
            String::new()
        } else {
            format!("; {blocking}")
        };
        let verdict = if end.ended_early {
            Verdict::Unknown("not judged: the run stopped at a violation".into())
        } else if end.faults_in_force {
            Verdict::Unknown(format!(
                "not judged: a fault was still in force at the end{and_blocking}"
            ))
        } else {
            let heal = end.last_fault.unwrap_or(Time::ZERO);
            let mut late = Vec::new();
            for (txn, (began, participants)) in &self.began {
                let deadline = (*began).max(heal) + self.within;
                if deadline > end.now {
                    continue;
                }
                let undecided: Vec<NodeId> = std::iter::once(self.coordinator)
                    .chain(participants.iter().copied())
                    .filter(|n| {
                        self.decided_at
                            .get(&(*txn, *n))
                            .is_none_or(|t| *t > deadline)
                    })
                    .collect();
                if !undecided.is_empty() {
                    late.push(format!(
                        "{txn} (began {began}) undecided at nodes {undecided:?} by {deadline}"
                    ));
                }
            }
            if !late.is_empty() {
                Verdict::Fail(format!(
                    "{} transactions not decided within {} of the later of their start and the last fault at {heal}: {}{and_blocking}",
                    late.len(),
                    self.within,
                    late.iter().take(3).cloned().collect::<Vec<_>>().join("; ")
                ))
            } else if blocking.is_empty() {
                Verdict::Pass
            } else {
                Verdict::PassNoted(blocking)
            }
        };
        vec![("twopc_liveness", verdict)]
    }
}
