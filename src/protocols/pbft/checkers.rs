//! PBFT's checkers. They judge correct replicas only: every replica the scenario's faults make
//! Byzantine at some time is left out (the engine reads them from the faults, see
//! `Protocol::byzantine_nodes`), since what a Byzantine replica executes means nothing.
//!
//! - `agreement`: no two correct replicas execute different requests (digests) at one sequence
//!   number, in any view;
//! - `committed_seq_stable`: a request committed at a correct replica keeps its sequence number in
//!   every later view (no correct replica commits another digest there in another view);
//! - `checkpoint_stable`: a correct replica makes checkpoint (n, d) stable, or discards its log up
//!   to it, only when 2f + 1 replicas may vouch for it: the correct replicas seen taking (n, d)
//!   (their `checkpoint_taken` notes, the checker's own record) plus every Byzantine replica, which
//!   may claim anything, reach the quorum; and no two correct replicas have different stable
//!   checkpoints at one sequence number;
//! - `log_bounded`: a correct replica's log holds only sequence numbers in (h, h + `log_window`],
//!   h its stable checkpoint, and at most `log_window * (VIEWS_AHEAD + 2)` entries;
//! - `pbft_liveness` (only when `liveness_ms` is set): every operation invoked after the last fault
//!   and at least `liveness_ms` before the end completed.

use super::message::{Digest, Seq, View};
use super::replica::VIEWS_AHEAD;
use super::{PbftActor, PbftNote};
use crate::contract::{Checker, EventKind, Failure, NodeId, Observation, RunEnd, Time, Verdict};
use std::collections::{BTreeMap, BTreeSet};

/// Agreement and committed sequence numbers, from the replicas' notes.
pub struct Safety {
    /// The Byzantine replicas, which are not judged.
    pub byzantine: Vec<NodeId>,
    /// Replicas in the run.
    pub n: u32,
    /// The log window L.
    pub log_window: u64,
    executed: BTreeMap<Seq, (NodeId, Digest)>,
    committed: BTreeMap<Seq, (NodeId, View, Digest)>,
    /// The correct replicas seen taking each checkpoint.
    taken: BTreeMap<(Seq, Digest), BTreeSet<NodeId>>,
    /// The first correct replica's stable checkpoint at each sequence number.
    stable: BTreeMap<Seq, (NodeId, Digest)>,
}

impl Safety {
    /// A checker for `n` replicas of which `byzantine` are Byzantine, with log window `log_window`.
    pub fn new(n: u32, byzantine: Vec<NodeId>, log_window: u64) -> Safety {
        Safety {
            byzantine,
            n,
            log_window,
            executed: BTreeMap::new(),
            committed: BTreeMap::new(),
            taken: BTreeMap::new(),
            stable: BTreeMap::new(),
        }
    }

    /// The quorum of correct PBFT, whatever mutant the replicas run: ceil((n + f + 1) / 2).
    fn quorum(&self) -> usize {
        let (n, f) = (self.n as usize, (self.n as usize - 1) / 3);
        (n + f + 2) / 2
    }

    /// `Err` unless 2f + 1 replicas may vouch for checkpoint (`seq`, `digest`), which `node` just
    /// made stable or discarded its log up to (`what`).
    fn vouched(&self, node: NodeId, seq: Seq, digest: &Digest, what: &str) -> Result<(), Failure> {
        let took: Vec<NodeId> = self
            .taken
            .get(&(seq, digest.clone()))
            .map(|s| s.iter().copied().collect())
            .unwrap_or_default();
        let byzantine = self
            .byzantine
            .iter()
            .filter(|b| **b < self.n && !took.contains(b))
            .count();
        if took.len() + byzantine >= self.quorum() {
            return Ok(());
        }
        Err(Failure::of(
            "checkpoint_stable",
            format!(
                "replica {node} {what} checkpoint {seq} (state digest {digest}), but only correct replicas {took:?} \
                 had taken it and {byzantine} replica(s) are Byzantine: fewer than the quorum of {} could vouch for it",
                self.quorum()
            ),
        ))
    }

    /// `log_bounded` on replica `node`'s state.
    fn log_bounded(&self, obs: &Observation<'_, PbftActor>) -> Result<(), Failure> {
        let Some(r) = obs.state.as_replica() else {
            return Ok(());
        };
        let h = r.low_water();
        let most = (self.log_window as usize).saturating_mul(VIEWS_AHEAD as usize + 2);
        let low = r.entries.first_key_value().map(|((s, _), _)| *s);
        let high = r.entries.last_key_value().map(|((s, _), _)| *s);
        let outside = [low, high]
            .into_iter()
            .flatten()
            .find(|s| *s <= h || *s > h.saturating_add(self.log_window));
        if let Some(s) = outside {
            return Err(Failure::of(
                "log_bounded",
                format!(
                    "replica {} holds a log entry at sequence number {s}, outside its window ({h}, {}]",
                    obs.node,
                    h.saturating_add(self.log_window)
                ),
            ));
        }
        if r.entries.len() > most {
            return Err(Failure::of(
                "log_bounded",
                format!(
                    "replica {} holds {} log entries, more than log_window * (VIEWS_AHEAD + 2) = {most}",
                    obs.node,
                    r.entries.len()
                ),
            ));
        }
        Ok(())
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
    fn needs_history(&self) -> bool {
        false
    }

    fn name(&self) -> &'static str {
        "agreement"
    }

    fn properties(&self) -> Vec<&'static str> {
        vec![
            "agreement",
            "committed_seq_stable",
            "checkpoint_stable",
            "log_bounded",
        ]
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
                PbftNote::CheckpointTaken { seq, digest } => {
                    self.taken
                        .entry((*seq, digest.clone()))
                        .or_default()
                        .insert(obs.node);
                }
                PbftNote::LogTruncated { seq, digest } => {
                    self.vouched(obs.node, *seq, digest, "discarded its log up to")?;
                }
                PbftNote::CheckpointStable { seq, digest } => {
                    self.vouched(obs.node, *seq, digest, "made stable")?;
                    let (first, d) = self
                        .stable
                        .entry(*seq)
                        .or_insert((obs.node, digest.clone()));
                    if d != digest {
                        return Err(Failure::of(
                            "checkpoint_stable",
                            format!(
                                "correct replicas {first} and {} have different stable checkpoints at sequence number {seq} \
                                 (state digests {d} and {digest})",
                                obs.node
                            ),
                        ));
                    }
                }
                _ => {}
            }
        }
        self.log_bounded(obs)
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

#[cfg(test)]
mod tests {
    use super::super::digest::DigestKind;
    use super::super::mutants::Flags;
    use super::super::replica::{Entry, Replica, ReplicaConfig};
    use super::super::{PbftDisk, PbftNote};
    use super::*;
    use crate::contract::{Cluster, Duration};

    fn replica() -> Replica {
        let cfg = ReplicaConfig {
            n: 4,
            f: 1,
            digest_kind: DigestKind::Md5,
            view_change_timeout: Duration::from_millis(1),
            checkpoint_interval: 10,
            log_window: 20,
            flags: Flags::default(),
        };
        Replica::new(cfg, 0)
    }

    fn observe(
        checker: &mut Safety,
        node: NodeId,
        r: &Replica,
        notes: &[PbftNote],
    ) -> Result<(), Failure> {
        let actor = PbftActor::Replica(Box::new(r.clone()));
        let disk = PbftDisk::default();
        checker.observe(&Observation {
            event_index: 0,
            now: Time(0),
            node,
            state: &actor,
            durable: &disk,
            notes,
            cluster: &Cluster::new(4, 1),
        })
    }

    fn property(r: Result<(), Failure>) -> Option<&'static str> {
        r.err().and_then(|f| f.property)
    }

    #[test]
    fn log_bounded_catches_entries_outside_the_window_or_too_many() {
        let mut checker = Safety::new(4, vec![], 20);
        let mut r = replica();
        r.entries.insert((20, 0), Entry::default());
        assert_eq!(property(observe(&mut checker, 0, &r, &[])), None);
        r.entries.insert((21, 0), Entry::default());
        assert_eq!(
            property(observe(&mut checker, 0, &r, &[])),
            Some("log_bounded"),
            "21 > h + L = 20"
        );
        let mut r = replica();
        for view in 0..5 {
            for seq in 1..=20 {
                r.entries.insert((seq, view), Entry::default());
            }
        }
        assert_eq!(
            property(observe(&mut checker, 0, &r, &[])),
            Some("log_bounded"),
            "100 entries > 20 * 4"
        );
        // A Byzantine replica's log is not judged.
        let mut judged_not = Safety::new(4, vec![0], 20);
        assert_eq!(property(observe(&mut judged_not, 0, &r, &[])), None);
    }

    #[test]
    fn a_checkpoint_is_stable_only_once_a_quorum_may_hold_it() {
        let r = replica();
        let taken = |d: &str| PbftNote::CheckpointTaken {
            seq: 10,
            digest: d.into(),
        };
        let stable = |d: &str| PbftNote::CheckpointStable {
            seq: 10,
            digest: d.into(),
        };
        let mut checker = Safety::new(4, vec![], 20);
        observe(&mut checker, 0, &r, &[taken("a")]).unwrap();
        observe(&mut checker, 1, &r, &[taken("a")]).unwrap();
        assert_eq!(
            property(observe(&mut checker, 1, &r, &[stable("a")])),
            Some("checkpoint_stable"),
            "two of a quorum of three"
        );
        observe(&mut checker, 2, &r, &[taken("a")]).unwrap();
        observe(&mut checker, 1, &r, &[stable("a")]).unwrap();
        // With replica 3 Byzantine, one correct replica and it are not a quorum.
        let mut checker = Safety::new(4, vec![3], 20);
        observe(&mut checker, 2, &r, &[taken("b")]).unwrap();
        assert_eq!(
            property(observe(&mut checker, 2, &r, &[stable("b")])),
            Some("checkpoint_stable")
        );
        // With two Byzantine replicas (more than f), each story may gather a quorum, and correct
        // replicas' stable checkpoints then disagree.
        let mut checker = Safety::new(4, vec![2, 3], 20);
        observe(&mut checker, 0, &r, &[taken("a")]).unwrap();
        observe(&mut checker, 1, &r, &[taken("b")]).unwrap();
        observe(&mut checker, 0, &r, &[stable("a")]).unwrap();
        let err = observe(&mut checker, 1, &r, &[stable("b")]).unwrap_err();
        assert!(
            err.message.contains("different stable checkpoints"),
            "{}",
            err.message
        );
        let truncated = PbftNote::LogTruncated {
            seq: 10,
            digest: "c".into(),
        };
        assert_eq!(
            property(observe(&mut checker, 0, &r, &[truncated])),
            Some("checkpoint_stable")
        );
    }
}
