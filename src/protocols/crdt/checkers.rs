//! The CRDT checkers, one checker judging three properties over one ghost record (every update
//! made, applied to a reference state):
//!
//! - `same_updates_equal`: two replicas (or one replica at two times) that have merged the same
//!   set of updates hold equal states. Checked after every event against the first state seen for
//!   that set of updates.
//! - `counter_bounded`: a counter replica never counts more of replica `i`'s increments and
//!   decrements than it has merged of `i`'s updates: merges must not invent updates (a summing
//!   merge does, once a state arrives twice).
//! - `converges`: judged at the end from the final states. Once faults and updates stop, every
//!   live replica must hold every update and equal the reference within `converge_within_ms`;
//!   replicas that already agree pass whenever; disagreement in a run that ends sooner, or with
//!   faults in force, is `unknown`.

use super::CrdtNote;
use super::lattice::{Crdt, Op};
use super::replica::{Replica, ReplicaDisk};
use crate::contract::{Checker, Duration, Failure, NS_PER_MS, Observation, RunEnd, Time, Verdict};
use std::collections::BTreeMap;

/// The most distinct sets of updates `same_updates_equal` remembers (states are bounded by the
/// updates made, so this bounds its memory too); later sets are checked only if already known.
pub const REMEMBERED_MAX: usize = 4096;

/// The CRDT checker.
pub struct CrdtChecker {
    reference: Crdt,
    made: Vec<u64>,
    last_update: Option<Time>,
    states: BTreeMap<Vec<u64>, Crdt>,
    converge_within: Duration,
}

impl CrdtChecker {
    /// A checker whose reference starts at `bottom` (the empty value of the run's type).
    pub fn new(bottom: Crdt, replicas: u32, converge_within: Duration) -> CrdtChecker {
        CrdtChecker {
            reference: bottom,
            made: vec![0; replicas as usize],
            last_update: None,
            states: BTreeMap::new(),
            converge_within,
        }
    }

    fn bounded(node: u32, disk: &ReplicaDisk) -> Result<(), Failure> {
        let counted: Vec<u64> = match &disk.crdt {
            Crdt::GCounter { counts } => counts.clone(),
            Crdt::PnCounter { incs, decs } => incs.iter().zip(decs).map(|(i, d)| i + d).collect(),
            _ => return Ok(()),
        };
        for (i, (c, seen)) in counted.iter().zip(&disk.seen).enumerate() {
            if c > seen {
                return Err(Failure::of(
                    "counter_bounded",
                    format!(
                        "replica {node} counts {c} updates of replica {i} but has merged {seen} (its value is {})",
                        disk.crdt.value()
                    ),
                ));
            }
        }
        Ok(())
    }
}

impl Checker<Replica> for CrdtChecker {
    fn name(&self) -> &'static str {
        "crdt"
    }

    fn properties(&self) -> Vec<&'static str> {
        vec!["same_updates_equal", "counter_bounded", "converges"]
    }

    fn observe(&mut self, obs: &Observation<'_, Replica>) -> Result<(), Failure> {
        for note in obs.notes {
            if let CrdtNote::Updated { seq, op } = note {
                let origin = match op {
                    Op::Inc { node } | Op::Dec { node } => *node,
                    _ => obs.node,
                };
                assert_eq!(origin, obs.node, "a replica updates only its own entry");
                self.made[obs.node as usize] = *seq;
                self.reference.apply(op);
                self.last_update = Some(obs.now);
            }
        }
        let Some(disk) = obs.durable.as_ref() else {
            return Ok(());
        };
        Self::bounded(obs.node, disk)?;
        match self.states.get(&disk.seen) {
            Some(first) if *first != disk.crdt => Err(Failure::of(
                "same_updates_equal",
                format!(
                    "replica {} holds value {} after updates {:?}, which another state held as value {}",
                    obs.node,
                    disk.crdt.value(),
                    disk.seen,
                    first.value()
                ),
            )),
            Some(_) => Ok(()),
            None => {
                if self.states.len() < REMEMBERED_MAX {
                    self.states.insert(disk.seen.clone(), disk.crdt.clone());
                }
                Ok(())
            }
        }
    }

    fn finish(&mut self, end: &RunEnd<'_, Replica>) -> Vec<(&'static str, Verdict)> {
        if end.ended_early {
            return vec![("converges", Verdict::Unknown("the run ended early".into()))];
        }
        let quiet_since = end.last_fault.max(self.last_update).unwrap_or(Time::ZERO);
        let quiet_ms = end.now.0.saturating_sub(quiet_since.0) / NS_PER_MS;
        // Replicas that already agree with the reference have converged, whatever still holds.
        // Otherwise the bound is judged only once faults and updates have stopped long enough.
        let verdict = match self.judge_final(end) {
            Ok(detail) => Verdict::PassNoted(detail),
            Err(why) if end.faults_in_force => {
                Verdict::Unknown(format!("faults still in force at the end; {why}"))
            }
            Err(why) if quiet_ms < self.converge_within.0 / NS_PER_MS => Verdict::Unknown(format!(
                "the run ended {quiet_ms} ms after the last fault or update, before converge_within_ms; {why}"
            )),
            Err(why) => Verdict::Fail(format!(
                "{why}, {quiet_ms} ms after the last fault or update"
            )),
        };
        vec![("converges", verdict)]
    }
}

impl CrdtChecker {
    /// `Ok` with a summary when every live replica holds every update made and equals the
    /// reference; `Err` names the first that does not.
    fn judge_final(&self, end: &RunEnd<'_, Replica>) -> Result<String, String> {
        let mut down = Vec::new();
        for (id, node) in end.nodes.iter().enumerate() {
            if !end.cluster.is_server(id as u32) {
                continue;
            }
            if node.state.is_none() {
                down.push(id);
                continue;
            }
            let Some(disk) = node.durable.as_ref() else {
                return Err(format!("replica {id} never started"));
            };
            if disk.seen != self.made || disk.crdt != self.reference {
                return Err(format!(
                    "replica {id} holds value {} with updates {:?}; {:?} were made, value {}",
                    disk.crdt.value(),
                    disk.seen,
                    self.made,
                    self.reference.value()
                ));
            }
        }
        let down = if down.is_empty() {
            String::new()
        } else {
            format!(" (replicas {down:?} down at the end, not judged)")
        };
        Ok(format!(
            "every replica holds all {} updates, value {}{down}",
            self.made.iter().sum::<u64>(),
            self.reference.value()
        ))
    }
}
