//! PBFT's checkers. They judge correct replicas only: the scenario lists its Byzantine replicas in
//! the `byzantine` param (the nodes its faults make Byzantine), since what a Byzantine replica
//! executes means nothing.
//!
//! - `agreement`: no two correct replicas execute different requests (digests) at one sequence
//!   number, in any view;
//! - `committed_seq_stable`: a request committed at a correct replica keeps its sequence number in
//!   every later view (no correct replica commits another digest there in another view);
//! - `pbft_liveness` (only when `liveness_ms` is set): every operation invoked after the last fault
//!   and at least `liveness_ms` before the end completed.

use super::message::{Digest, Seq, View};
use super::{PbftActor, PbftNote};
use crate::contract::{Checker, EventKind, Failure, NodeId, Observation, RunEnd, Time, Verdict};
use std::collections::BTreeMap;

/// Agreement and committed sequence numbers, from the replicas' notes.
pub struct Safety {
    /// The Byzantine replicas, which are not judged.
    pub byzantine: Vec<NodeId>,
    /// Replicas in the run.
    pub n: u32,
    executed: BTreeMap<Seq, (NodeId, Digest)>,
    committed: BTreeMap<Seq, (NodeId, View, Digest)>,
}

impl Safety {
    /// A checker for `n` replicas of which `byzantine` are Byzantine.
    pub fn new(n: u32, byzantine: Vec<NodeId>) -> Safety {
        Safety {
            byzantine,
            n,
            executed: BTreeMap::new(),
            committed: BTreeMap::new(),
        }
    }

    /// Why it went wrong, when the run had more Byzantine replicas than PBFT tolerates.
    fn too_many(&self) -> String {
        let f = (self.n - 1) / 3;
        let b = self.byzantine.len() as u32;
        if b > f {
            format!(
                "; {b} Byzantine replicas {:?} of n = {}: PBFT needs n >= 3f + 1, so it tolerates f = {f} \
                 and two quorums of 2f + 1 = {} may then overlap in Byzantine replicas only",
                self.byzantine,
                self.n,
                2 * f + 1
            )
        } else {
            String::new()
        }
    }
}

impl Checker<PbftActor> for Safety {
    fn name(&self) -> &'static str {
        "agreement"
    }

    fn properties(&self) -> Vec<&'static str> {
        vec!["agreement", "committed_seq_stable"]
    }

    fn observe(&mut self, obs: &Observation<'_, PbftActor>) -> Result<(), Failure> {
        if !obs.cluster.is_server(obs.node) || self.byzantine.contains(&obs.node) {
            return Ok(());
        }
        for note in obs.notes {
            match note {
                PbftNote::Executed { seq, digest, .. } => {
                    let why = self.too_many();
                    let (first, d) = self
                        .executed
                        .entry(*seq)
                        .or_insert((obs.node, digest.clone()));
                    if d != digest {
                        return Err(Failure::of(
                            "agreement",
                            format!(
                                "correct replicas {first} and {} executed different requests at sequence number {seq} (digests {d} and {digest}){}",
                                obs.node, why
                            ),
                        ));
                    }
                }
                PbftNote::Committed { view, seq, digest } => {
                    let why = self.too_many();
                    let (first, v, d) =
                        self.committed
                            .entry(*seq)
                            .or_insert((obs.node, *view, digest.clone()));
                    // Conflicts within one view are agreement's to judge, at execution.
                    if d != digest && v != view {
                        return Err(Failure::of(
                            "committed_seq_stable",
                            format!(
                                "replica {first} committed digest {d} at sequence number {seq} in view {v}, \
                                 but replica {} committed digest {digest} there in view {view}{}",
                                obs.node, why
                            ),
                        ));
                    }
                }
                _ => {}
            }
        }
        Ok(())
    }
}

/// Liveness: client operations complete once the last fault is over.
pub struct Liveness {
    /// How long an operation may take after the last fault.
    pub within_ns: u64,
    /// Whether any replica is Byzantine (those faults stay in force by design).
    pub byzantine: bool,
}

impl Checker<PbftActor> for Liveness {
    fn name(&self) -> &'static str {
        "pbft_liveness"
    }

    fn observe(&mut self, _obs: &Observation<'_, PbftActor>) -> Result<(), Failure> {
        Ok(())
    }

    fn finish(&mut self, end: &RunEnd<'_, PbftActor>) -> Vec<(&'static str, Verdict)> {
        if end.ended_early {
            return vec![(
                "pbft_liveness",
                Verdict::Unknown("the run ended early".into()),
            )];
        }
        if end.faults_in_force && !self.byzantine {
            return vec![(
                "pbft_liveness",
                Verdict::Unknown("faults were still in force at the end".into()),
            )];
        }
        let from = end.last_fault.unwrap_or(Time(0)).0;
        let until = end.now.0.saturating_sub(self.within_ns);
        let mut open: BTreeMap<u64, u64> = BTreeMap::new();
        let mut late = Vec::new();
        for e in &end.history.events {
            if e.kind == EventKind::Invoke {
                open.insert(e.process, e.time_ns);
                continue;
            }
            let Some(t) = open.remove(&e.process) else {
                continue;
            };
            let judged = t >= from && t <= until;
            if judged && (e.kind == EventKind::Info || e.time_ns - t > self.within_ns) {
                late.push((e.process, t));
            }
        }
        late.extend(open.into_iter().filter(|(_, t)| *t >= from && *t <= until));
        let verdict = match late.first() {
            None => Verdict::Pass,
            Some((p, t)) => Verdict::Fail(format!(
                "{} operation(s) invoked after the last fault did not complete within {} ms; the first: process {p} at {} ms",
                late.len(),
                self.within_ns / 1_000_000,
                t / 1_000_000
            )),
        };
        vec![("pbft_liveness", verdict)]
    }
}
