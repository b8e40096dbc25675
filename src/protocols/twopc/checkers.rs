//! The checkers of two-phase commit, judged from ghost records that outlive every crash.
//!
//! [`TwopcSafety`] judges three properties as the notes come in: `atomicity` (no participant commits
//! what another aborts), `commit_validity` (a commit, anywhere, needs a yes vote from every participant
//! of the transaction) and `decision_stability` (a node never changes its decision on a transaction,
//! so a coordinator that forgets a decision in a crash and decides again differently is caught).
//! [`TwopcLiveness`] judges, at the end, that every transaction was decided everywhere in time once
//! the faults were over. Blocking while the coordinator is down is not a violation: participants
//! report it with the `blocked` and `unblocked` notes.

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

/// Every transaction decided by the coordinator and all its participants within a bound of the later
/// of its start and the last fault.
#[derive(Clone, Debug)]
pub struct TwopcLiveness {
    coordinator: NodeId,
    within: Duration,
    began: BTreeMap<TxnId, (Time, Vec<NodeId>)>,
    decided_at: BTreeMap<(TxnId, NodeId), Time>,
    /// Blocking episodes: (participant, transaction) -> when it started asking around.
    blocked_since: BTreeMap<(NodeId, TxnId), Time>,
    /// The longest blocking episode that ended, true time.
    blocked_longest: Option<(NodeId, TxnId, Duration)>,
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
            blocked_longest: None,
        }
    }

    fn blocking_summary(&self) -> String {
        let mut parts = Vec::new();
        if let Some((node, txn, d)) = self.blocked_longest {
            parts.push(format!(
                "longest blocking: participant {node} on {txn} for {d}"
            ));
        }
        if !self.blocked_since.is_empty() {
            let open: Vec<String> = self
                .blocked_since
                .keys()
                .take(5)
                .map(|(n, t)| format!("{n} on {t}"))
                .collect();
            parts.push(format!("still blocked: {}", open.join(", ")));
        }
        parts.join("; ")
    }
}

impl Checker<TwopcActor> for TwopcLiveness {
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
                    if let Some(since) = self.blocked_since.remove(&(obs.node, *txn)) {
                        let d = obs.now.saturating_since(since);
                        if self.blocked_longest.is_none_or(|(_, _, l)| d > l) {
                            self.blocked_longest = Some((obs.node, *txn, d));
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
        let verdict = if end.ended_early {
            Verdict::Unknown("not judged: the run stopped at a violation".into())
        } else if end.faults_in_force {
            let blocking = self.blocking_summary();
            Verdict::Unknown(format!(
                "not judged: a fault was still in force at the end{}{blocking}",
                if blocking.is_empty() { "" } else { "; " }
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
            if late.is_empty() {
                Verdict::Pass
            } else {
                Verdict::Fail(format!(
                    "{} transactions not decided within {} of the later of their start and the last fault at {heal}: {}",
                    late.len(),
                    self.within,
                    late.iter().take(3).cloned().collect::<Vec<_>>().join("; ")
                ))
            }
        };
        vec![("twopc_liveness", verdict)]
    }
}
