//! Pregel's checker: the job's output against a sequential computation of its own, the barrier and
//! rollbacks against ghost records, and liveness at the end.
//!
//! - `vertex_values`: when a worker writes its output, every value must equal the sequential result of
//!   [`super::reference`] (PageRank: `|value - reference| <= 1e-9` for every vertex, an absolute
//!   tolerance far above the rounding of a different summation order, about 1e-17 here, and far below
//!   any real error; SSSP: exactly). At the end, once the master says the job finished, every vertex
//!   has exactly one output.
//! - `barrier`: a worker that begins superstep s of an epoch (past the epoch's first superstep) does
//!   so after every worker noted it finished s-1 of that epoch, and holds a batch from every worker.
//! - `rollback`: a worker that loads checkpoint c holds exactly what its disk received in checkpoint
//!   c (the ghost copy taken when it wrote it) or, for the input, the initial state.
//! - `pregel_liveness`: the job finishes within `liveness_ms` of the last fault; the verdict reports
//!   supersteps, re-executions, rollbacks and messages with and without the combiner.

use super::graph::Graph;
use super::message::{Epoch, Superstep};
use super::params::{PregelParams, ProgramKind};
use super::program::{UNREACHED, Val};
use super::reference;
use super::worker::PartitionState;
use super::{PregelActor, PregelNote};
use crate::contract::{Checker, Duration, Failure, NodeId, Observation, RunEnd, Time, Verdict};
use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;
use std::sync::Arc;

/// PageRank's tolerance, absolute, per vertex.
pub const RANK_TOLERANCE: f64 = 1e-9;

/// Every property the checker judges.
pub const PROPERTIES: &[(&str, &str)] = &[
    (
        "vertex_values",
        "every output value equals a sequential computation (PageRank within 1e-9, SSSP exactly); a finished job outputs every vertex once",
    ),
    (
        "barrier",
        "a worker begins superstep s+1 only after every worker finished s (same epoch), with every worker's batch in hand",
    ),
    (
        "rollback",
        "after a rollback each worker holds exactly the checkpoint it wrote for that superstep",
    ),
    (
        "pregel_liveness",
        "the job finishes within params.liveness_ms of the last fault; reports supersteps, rollbacks and messages",
    ),
];

/// The sequential result.
#[derive(Clone, Debug)]
enum Expected {
    Ranks(Vec<f64>),
    Distances(Vec<Option<u64>>),
}

/// The checker of one Pregel run.
pub struct PregelChecker {
    expected: Expected,
    initial: Val,
    vertices: u32,
    edges: usize,
    combiner: bool,
    master: NodeId,
    workers: Range<NodeId>,
    liveness: Duration,
    /// The first superstep of each epoch (the checkpoint it rolled back to).
    epoch_start: BTreeMap<Epoch, Superstep>,
    /// Workers that finished each superstep of each epoch.
    done: BTreeMap<(Epoch, Superstep), BTreeSet<NodeId>>,
    /// The checkpoints each worker wrote, as written, while its disk may still hold them.
    ghost: BTreeMap<(NodeId, Superstep), PartitionState>,
    /// The largest PageRank difference seen in an output.
    largest_difference: f64,
    finished_at: Option<Time>,
}

impl PregelChecker {
    /// The checker of a run with these parameters over `graph`.
    pub fn new(
        params: &PregelParams,
        graph: Arc<Graph>,
        master: NodeId,
        workers: Range<NodeId>,
    ) -> PregelChecker {
        let (expected, initial) = match params.program {
            ProgramKind::Pagerank => (
                Expected::Ranks(reference::pagerank(&graph, params.pagerank_iterations)),
                Val::Rank(1.0 / f64::from(params.vertices)),
            ),
            ProgramKind::Sssp => (
                Expected::Distances(reference::shortest_paths(&graph, params.source)),
                Val::Dist(UNREACHED),
            ),
        };
        PregelChecker {
            expected,
            initial,
            vertices: graph.vertices(),
            edges: graph.edges(),
            combiner: params.combiner,
            master,
            workers,
            liveness: Duration::from_millis(params.liveness_ms),
            epoch_start: BTreeMap::new(),
            done: BTreeMap::new(),
            ghost: BTreeMap::new(),
            largest_difference: 0.0,
            finished_at: None,
        }
    }

    /// The first vertex whose output is wrong, as a sentence; records the largest rank difference.
    fn wrong_value(&mut self, vertex: u32, value: Val) -> Option<String> {
        match (&self.expected, value) {
            (Expected::Ranks(ranks), Val::Rank(r)) => {
                let want = *ranks.get(vertex as usize)?;
                let diff = (r - want).abs();
                if diff.is_nan() || diff > RANK_TOLERANCE {
                    return Some(format!(
                        "vertex {vertex} has rank {r:e}, the sequential PageRank {want:e} (off by {diff:e}, tolerance {RANK_TOLERANCE:e})"
                    ));
                }
                self.largest_difference = self.largest_difference.max(diff);
                None
            }
            (Expected::Distances(dists), Val::Dist(d)) => {
                let want = (*dists.get(vertex as usize)?).unwrap_or(UNREACHED);
                (d != want).then(|| {
                    format!(
                        "vertex {vertex} has distance {}, Dijkstra says {}",
                        show_distance(d),
                        show_distance(want)
                    )
                })
            }
            (_, value) => Some(format!(
                "vertex {vertex} has a value of the wrong program: {value:?}"
            )),
        }
    }

    /// Judges `vertex_values` on one worker's output alone: `Err` at the first wrong value.
    pub fn check_output(&mut self, node: NodeId, output: &[(u32, Val)]) -> Result<(), Failure> {
        for (vertex, value) in output {
            if *vertex >= self.vertices {
                return Err(Failure::of(
                    "vertex_values",
                    format!("worker {node} output vertex {vertex}, which the graph does not have"),
                ));
            }
            if let Some(why) = self.wrong_value(*vertex, *value) {
                return Err(Failure::of(
                    "vertex_values",
                    format!("worker {node}: {why}"),
                ));
            }
        }
        Ok(())
    }

    fn began(
        &self,
        node: NodeId,
        epoch: Epoch,
        superstep: Superstep,
        batches: u32,
    ) -> Result<(), Failure> {
        let Some(start) = self.epoch_start.get(&epoch) else {
            return Err(Failure::of(
                "barrier",
                format!(
                    "worker {node} began superstep {superstep} in epoch {epoch}, which the master never started"
                ),
            ));
        };
        if superstep <= *start {
            return Ok(());
        }
        let finished = self.done.get(&(epoch, superstep - 1));
        let missing: Vec<NodeId> = self
            .workers
            .clone()
            .filter(|w| !finished.is_some_and(|f| f.contains(w)))
            .collect();
        if !missing.is_empty() {
            return Err(Failure::of(
                "barrier",
                format!(
                    "worker {node} began superstep {superstep} of epoch {epoch} before workers {missing:?} finished superstep {}",
                    superstep - 1
                ),
            ));
        }
        let workers = self.workers.len() as u32;
        if batches != workers {
            return Err(Failure::of(
                "barrier",
                format!(
                    "worker {node} began superstep {superstep} of epoch {epoch} with batches from {batches} of {workers} workers"
                ),
            ));
        }
        Ok(())
    }

    fn loaded(
        &self,
        node: NodeId,
        epoch: Epoch,
        checkpoint: Option<Superstep>,
        state: Option<&PartitionState>,
    ) -> Result<(), Failure> {
        let Some(state) = state else {
            return Err(Failure::of(
                "rollback",
                format!("worker {node} says it loaded epoch {epoch} but holds no partition"),
            ));
        };
        let initial;
        let (want, what) = match checkpoint {
            None => {
                initial = PartitionState {
                    superstep: 0,
                    computed: false,
                    values: vec![self.initial; state.values.len()],
                    halted: vec![false; state.values.len()],
                    inbox: BTreeMap::new(),
                };
                (&initial, "the input".to_string())
            }
            Some(c) => match self.ghost.get(&(node, c)) {
                Some(saved) => (saved, format!("checkpoint {c}")),
                None => {
                    return Err(Failure::of(
                        "rollback",
                        format!(
                            "worker {node} loaded checkpoint {c} in epoch {epoch}, which it never wrote or had deleted"
                        ),
                    ));
                }
            },
        };
        if state != want {
            let differ = state
                .values
                .iter()
                .zip(&want.values)
                .filter(|(a, b)| a != b)
                .count();
            return Err(Failure::of(
                "rollback",
                format!(
                    "worker {node} rolled back to {what} in epoch {epoch} but holds superstep {} ({}), {differ} of {} vertex values differing from it, messages for supersteps {:?} instead of {:?}",
                    state.superstep,
                    if state.computed {
                        "computed"
                    } else {
                        "not computed"
                    },
                    want.values.len(),
                    state.inbox.keys().collect::<Vec<_>>(),
                    want.inbox.keys().collect::<Vec<_>>(),
                ),
            ));
        }
        Ok(())
    }

    fn stats_detail(&self, end: &RunEnd<'_, PregelActor>) -> String {
        let Some(stats) = end
            .nodes
            .get(self.master as usize)
            .and_then(|n| n.durable.master.finished)
        else {
            return String::new();
        };
        let messages = if self.combiner {
            format!(
                "{} messages without the combiner, {} with it",
                stats.messages, stats.combined
            )
        } else {
            format!("{} messages (no combiner)", stats.messages)
        };
        format!(
            "{} supersteps ({} executed), {} rollbacks, {messages}",
            stats.supersteps, stats.executed, stats.rollbacks
        )
    }

    fn judge_values(&mut self, end: &RunEnd<'_, PregelActor>) -> Verdict {
        let finished = end
            .nodes
            .get(self.master as usize)
            .is_some_and(|n| n.durable.master.finished.is_some());
        if !finished {
            return Verdict::Unknown("not judged: the job did not finish".into());
        }
        let mut seen = vec![0u32; self.vertices as usize];
        let mut outputs = Vec::new();
        for w in self.workers.clone() {
            let Some(node) = end.nodes.get(w as usize) else {
                continue;
            };
            match &node.durable.worker.output {
                Some(out) => outputs.push((w, out.clone())),
                None => {
                    return Verdict::Fail(format!(
                        "the master finished the job but worker {w} wrote no output"
                    ));
                }
            }
        }
        for (w, out) in outputs {
            if let Err(f) = self.check_output(w, &out) {
                return Verdict::Fail(f.message);
            }
            for (v, _) in out {
                seen[v as usize] += 1;
            }
        }
        if let Some(v) = seen.iter().position(|c| *c != 1) {
            return Verdict::Fail(format!("vertex {v} has {} outputs, not one", seen[v]));
        }
        Verdict::PassNoted(match &self.expected {
            Expected::Ranks(_) => format!(
                "PageRank on {} vertices and {} edges: every rank within {RANK_TOLERANCE:e} of the sequential one (largest difference {:e})",
                self.vertices, self.edges, self.largest_difference
            ),
            Expected::Distances(d) => format!(
                "SSSP on {} vertices and {} edges: every distance equals Dijkstra's ({} reachable)",
                self.vertices,
                self.edges,
                d.iter().filter(|x| x.is_some()).count()
            ),
        })
    }

    fn judge_liveness(&self, end: &RunEnd<'_, PregelActor>) -> Verdict {
        let heal = end.last_fault.unwrap_or(Time::ZERO);
        let deadline = heal + self.liveness;
        match self.finished_at {
            Some(t) if t <= deadline => {
                let when = if end.last_fault.is_none() {
                    "no fault".to_string()
                } else if t < heal {
                    format!("before the last fault at {heal}")
                } else {
                    format!("{} after the last fault", t.saturating_since(heal))
                };
                Verdict::PassNoted(format!(
                    "finished at {t} ({when}): {}",
                    self.stats_detail(end)
                ))
            }
            Some(t) => Verdict::Fail(format!(
                "the job finished at {t}, more than {} after the last fault at {heal}",
                self.liveness
            )),
            None if end.faults_in_force => {
                Verdict::Unknown("not judged: a fault was still in force at the end".into())
            }
            None if end.now >= deadline => {
                let master = end
                    .nodes
                    .get(self.master as usize)
                    .and_then(|n| match n.state {
                        Some(PregelActor::Master(m)) => {
                            Some(format!("epoch {}, {:?}", m.epoch(), phase_name(m.phase())))
                        }
                        _ => None,
                    });
                Verdict::Fail(format!(
                    "the job did not finish within {} of the last fault at {heal} (master: {})",
                    self.liveness,
                    master.unwrap_or_else(|| "down".into())
                ))
            }
            None => Verdict::Unknown(format!(
                "not judged: the run ended at {}, before the deadline {deadline}",
                end.now
            )),
        }
    }
}

fn phase_name(p: &super::master::Phase) -> String {
    use super::master::Phase;
    match p {
        Phase::Idle => "idle".into(),
        Phase::Recovering { to, loaded } => {
            format!("recovering to {to:?}, {} loaded", loaded.len())
        }
        Phase::Running { superstep, done } => {
            format!("running superstep {superstep}, {} done", done.len())
        }
        Phase::Finishing { written, .. } => format!("finishing, {} outputs", written.len()),
        Phase::Finished => "finished".into(),
    }
}

fn show_distance(d: u64) -> String {
    if d == UNREACHED {
        "unreached".into()
    } else {
        d.to_string()
    }
}

impl Checker<PregelActor> for PregelChecker {
    fn name(&self) -> &'static str {
        "pregel"
    }

    fn properties(&self) -> Vec<&'static str> {
        PROPERTIES.iter().map(|(p, _)| *p).collect()
    }

    fn observe(&mut self, obs: &Observation<'_, PregelActor>) -> Result<(), Failure> {
        let node = obs.node;
        for note in obs.notes {
            match note {
                PregelNote::Rollback { epoch, to, .. } => {
                    self.epoch_start.insert(*epoch, to.unwrap_or(0));
                }
                PregelNote::JobFinished { .. } => {
                    self.finished_at.get_or_insert(obs.now);
                }
                PregelNote::Began {
                    epoch,
                    superstep,
                    batches,
                } => self.began(node, *epoch, *superstep, *batches)?,
                PregelNote::Done {
                    epoch, superstep, ..
                } => {
                    self.done
                        .entry((*epoch, *superstep))
                        .or_default()
                        .insert(node);
                }
                PregelNote::Checkpointed { superstep } => {
                    let disk = &obs.durable.worker.checkpoints;
                    let Some(saved) = disk.get(superstep) else {
                        return Err(Failure::of(
                            "rollback",
                            format!(
                                "worker {node} noted checkpoint {superstep} but its disk lacks it"
                            ),
                        ));
                    };
                    self.ghost.insert((node, *superstep), saved.clone());
                    // Keep only what the disk may still be asked for.
                    let oldest = disk.keys().next().copied().unwrap_or(0);
                    self.ghost.retain(|(w, s), _| *w != node || *s >= oldest);
                }
                PregelNote::Loaded { epoch, checkpoint } => {
                    let state = match obs.state {
                        PregelActor::Worker(w) => w.loaded().map(|(_, s)| s),
                        _ => None,
                    };
                    self.loaded(node, *epoch, *checkpoint, state)?;
                }
                PregelNote::Output { .. } => {
                    let Some(output) = &obs.durable.worker.output else {
                        return Err(Failure::of(
                            "vertex_values",
                            format!("worker {node} noted its output but its disk lacks it"),
                        ));
                    };
                    self.check_output(node, output)?;
                }
                PregelNote::Suspected { .. }
                | PregelNote::Restarted { .. }
                | PregelNote::SuperstepDone { .. } => {}
            }
        }
        Ok(())
    }

    fn finish(&mut self, end: &RunEnd<'_, PregelActor>) -> Vec<(&'static str, Verdict)> {
        if end.ended_early {
            let why = || Verdict::Unknown("not judged: the run stopped at a violation".into());
            return vec![("vertex_values", why()), ("pregel_liveness", why())];
        }
        vec![
            ("vertex_values", self.judge_values(end)),
            ("pregel_liveness", self.judge_liveness(end)),
        ]
    }
}
