//! Bulk synchronous parallel computation (Valiant, "A bridging model for parallel computation", 1990)
//! as Pregel runs it (Malewicz et al., "Pregel: a system for large-scale graph processing", SIGMOD
//! 2010): a master and workers run a vertex program over a graph in supersteps separated by a
//! barrier.
//!
//! How it works: the input is a graph generated from its own seed (`vertices`, `edges_per_vertex`,
//! integer weights), which every worker can read, as if from a shared file. Vertices are split across
//! the workers by `v mod workers` or by SHA-256 of `v` (param `partition`). In superstep s every worker
//! calls `compute()` on each vertex that is active or has messages: the vertex reads the messages sent
//! to it in s-1 (in the order of their source vertex, so floating-point sums never depend on the
//! network), updates its value, sends messages along its out-edges for s+1, and may vote to halt; a
//! message wakes a halted vertex up. Messages for another worker's vertices travel in one batch per
//! worker and superstep, combined per target vertex when the job has a combiner (sum for PageRank,
//! minimum for SSSP), and are re-sent until acknowledged. The barrier: a worker reports done to the
//! master once every batch it sent is acknowledged; the master starts s+1 only when every worker
//! reported s, so every message of s is at its destination when s+1 reads it. The job ends after the
//! first superstep with no active vertex and no message; each worker then writes its output to disk.
//!
//! Fault tolerance (section 4.2 of the paper): at the start of every `checkpoint_every`-th superstep
//! each worker writes its partition (values, halted flags, incoming messages) to its disk. The master
//! pings the workers; a silent worker, or one that comes back with a new incarnation (it restarted and
//! lost its memory), makes it start a new epoch in which every worker reloads the last checkpoint that
//! every worker completed, the restarted one from its own disk. Every command and batch carries the
//! epoch, so nothing from the abandoned timeline is ever read. The master keeps its epoch and last
//! complete checkpoint on disk, so its own crash is a rollback too.
//!
//! Programs: PageRank (`pagerank_iterations` rank updates, damping 0.85) and single-source shortest
//! paths from `source` over integer weights.
//!
//! What the checkers promise (`checkers.rs`, against a sequential computation of their own in
//! `reference.rs`):
//! - `vertex_values`: every output value equals the sequential result (PageRank within 1e-9 absolute,
//!   SSSP exactly), and once the job finished every vertex has exactly one output;
//! - `barrier`: a worker begins superstep s+1 of an epoch only after every worker finished s of that
//!   epoch, with a batch from every worker in hand;
//! - `rollback`: after a rollback to a checkpoint each worker holds exactly what it wrote in that
//!   checkpoint;
//! - `pregel_liveness`: the job finishes within `liveness_ms` of the last fault; the verdict gives
//!   supersteps, rollbacks and messages (with and without the combiner).
//!
//! Node ids: the master (group `master`, one node), then the workers (group `workers`).

pub mod checkers;
pub mod graph;
pub mod master;
pub mod message;
pub mod mutants;
pub mod params;
pub mod program;
pub mod reference;
pub mod worker;

#[cfg(test)]
mod tests;

use crate::contract::{
    Actor, Checker, Ctx, Duration, GroupSize, GroupSpec, Mutant, NoModel, NodeId, NoteLabel, Param,
    Protocol, Role, Setup,
};
use graph::Graph;
use master::{JobStats, Master, MasterConfig, MasterDisk};
use message::{Epoch, Msg, Superstep, Timer};
use mutants::Flags;
use params::PregelParams;
use program::Program;
use serde::Serialize;
use std::ops::Range;
use std::sync::Arc;
use worker::{Worker, WorkerConfig, WorkerDisk};

/// A node's disk; the master and the workers each use their own part.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PregelDisk {
    /// The master's.
    pub master: MasterDisk,
    /// A worker's.
    pub worker: WorkerDisk,
}

/// What Pregel nodes report to checkers and traces.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "note", rename_all = "snake_case")]
pub enum PregelNote {
    /// Master: a new epoch; every worker is told to load checkpoint `to` (`None`: the input).
    Rollback {
        /// The epoch.
        epoch: Epoch,
        /// The checkpoint.
        to: Option<Superstep>,
        /// Why: `start`, `timeout`, `worker_restart`, `master_restart`, `lost_output`.
        reason: &'static str,
    },
    /// Master: a worker was silent too long.
    Suspected {
        /// The worker.
        worker: NodeId,
    },
    /// Master: a worker answered with a new incarnation.
    Restarted {
        /// The worker.
        worker: NodeId,
    },
    /// Master: every worker reported the superstep.
    SuperstepDone {
        /// The epoch.
        epoch: Epoch,
        /// The superstep.
        superstep: Superstep,
        /// Active vertices after it.
        active: u64,
        /// Vertex messages sent in it.
        messages: u64,
    },
    /// Master: every worker wrote its output.
    JobFinished {
        /// The job's statistics.
        stats: JobStats,
    },
    /// Worker: loaded a checkpoint for an epoch.
    Loaded {
        /// The epoch.
        epoch: Epoch,
        /// The checkpoint (`None`: the input).
        checkpoint: Option<Superstep>,
    },
    /// Worker: wrote the checkpoint of `superstep` to its disk.
    Checkpointed {
        /// The superstep.
        superstep: Superstep,
    },
    /// Worker: began a superstep, holding batches from `batches` workers (its own included).
    Began {
        /// The epoch.
        epoch: Epoch,
        /// The superstep.
        superstep: Superstep,
        /// Batches in hand.
        batches: u32,
    },
    /// Worker: finished a superstep, every batch acknowledged; reported to the master.
    Done {
        /// The epoch.
        epoch: Epoch,
        /// The superstep.
        superstep: Superstep,
        /// Its vertices still active.
        active: u64,
        /// Vertex messages it sent.
        messages: u64,
    },
    /// Worker: wrote its output (its vertices' final values) to its disk.
    Output {
        /// How many vertices.
        vertices: u32,
        /// The superstep it had last run.
        superstep: Superstep,
    },
}

impl NoteLabel for PregelNote {
    fn label(&self) -> &'static str {
        match self {
            PregelNote::Rollback { .. } => "rollback",
            PregelNote::Suspected { .. } => "suspected",
            PregelNote::Restarted { .. } => "restarted",
            PregelNote::SuperstepDone { .. } => "superstep_done",
            PregelNote::JobFinished { .. } => "job_finished",
            PregelNote::Loaded { .. } => "loaded",
            PregelNote::Checkpointed { .. } => "checkpointed",
            PregelNote::Began { .. } => "began",
            PregelNote::Done { .. } => "done",
            PregelNote::Output { .. } => "output",
        }
    }
}

/// A Pregel node.
#[derive(Clone, Debug)]
pub enum PregelActor {
    /// The master.
    Master(Master),
    /// A worker.
    Worker(Box<Worker>),
    /// A node with nothing to do (a client: Pregel has none).
    Idle,
}

impl Actor for PregelActor {
    type Msg = Msg;
    type Timer = Timer;
    type Durable = PregelDisk;
    type Note = PregelNote;

    fn on_start(&mut self, ctx: &mut Ctx<'_, Self>) {
        match self {
            PregelActor::Master(m) => m.on_start(ctx),
            PregelActor::Worker(w) => w.on_start(ctx),
            PregelActor::Idle => {}
        }
    }

    fn on_msg(&mut self, ctx: &mut Ctx<'_, Self>, from: NodeId, msg: Msg) {
        match self {
            PregelActor::Master(m) => m.on_msg(ctx, from, msg),
            PregelActor::Worker(w) => w.on_msg(ctx, from, msg),
            PregelActor::Idle => {}
        }
    }

    fn on_timer(&mut self, ctx: &mut Ctx<'_, Self>, timer: Timer) {
        match self {
            PregelActor::Master(m) => m.on_timer(ctx, timer),
            PregelActor::Worker(w) => w.on_timer(ctx, timer),
            PregelActor::Idle => {}
        }
    }

    fn role(&self) -> Role {
        match self {
            PregelActor::Master(_) => Some("master"),
            PregelActor::Worker(_) => Some("worker"),
            PregelActor::Idle => None,
        }
    }
}

/// The Pregel protocol.
#[derive(Clone, Debug)]
pub struct Pregel {
    params: PregelParams,
    flags: Flags,
    master: NodeId,
    workers: Range<NodeId>,
    graph: Arc<Graph>,
    program: Program,
}

impl Pregel {
    /// The parsed parameters.
    pub fn params(&self) -> &PregelParams {
        &self.params
    }

    /// The input graph.
    pub fn graph(&self) -> &Graph {
        &self.graph
    }
}

impl Protocol for Pregel {
    type Actor = PregelActor;
    type Model = NoModel;

    const NAME: &'static str = "pregel";
    const ABOUT: &'static str = "BSP and Pregel: a master, workers, supersteps with a barrier, vote to halt, combiners, checkpoints and rollback; PageRank and SSSP";
    const MUTANTS: &'static [Mutant] = mutants::MUTANTS;
    const ROLES: &'static [&'static str] = &["master", "worker"];
    const GROUPS: &'static [GroupSpec] = &[
        GroupSpec {
            name: "master",
            about: "runs the barrier, detects failed workers, rolls back to checkpoints (exactly one)",
            size: GroupSize::Default(1),
        },
        GroupSpec {
            name: "workers",
            about: "each owns a partition of the vertices and runs compute() on it",
            size: GroupSize::Rest,
        },
    ];
    const PARAMS: &'static [Param] = params::PARAMS;
    const CHECKERS: &'static [(&'static str, &'static str)] = checkers::PROPERTIES;

    fn setup(setup: &Setup<'_>) -> Result<Self, String> {
        let params = PregelParams::parse(setup.params)?;
        let flags = Flags::from_names(setup.mutants)?;
        let cluster = setup.cluster;
        let master = cluster.group("master").unwrap_or(0..cluster.servers.min(1));
        let workers = cluster
            .group("workers")
            .unwrap_or(master.end..cluster.servers);
        if master.len() != 1 {
            return Err(format!(
                "groups.master: Pregel has exactly one master, not {}",
                master.len()
            ));
        }
        if workers.is_empty() {
            return Err("nodes: Pregel needs at least one worker besides the master".into());
        }
        let graph = Arc::new(Graph::generate(
            params.vertices,
            params.edges_per_vertex,
            params.weight_max,
            params.graph_seed,
        ));
        let program = Program {
            kind: params.program,
            vertices: params.vertices,
            iterations: params.pagerank_iterations,
            source: params.source,
        };
        Ok(Pregel {
            params,
            flags,
            master: master.start,
            workers,
            graph,
            program,
        })
    }

    fn new_actor(&self, id: NodeId) -> PregelActor {
        let p = &self.params;
        if id == self.master {
            PregelActor::Master(Master::new(MasterConfig {
                workers: self.workers.clone(),
                heartbeat: Duration::from_millis(p.heartbeat_ms),
                failure_timeout: Duration::from_millis(p.failure_timeout_ms),
                resend: Duration::from_millis(p.resend_ms),
                checkpoint_every: p.checkpoint_every,
            }))
        } else if self.workers.contains(&id) {
            PregelActor::Worker(Box::new(Worker::new(WorkerConfig {
                index: id - self.workers.start,
                master: self.master,
                first: self.workers.start,
                workers: self.workers.len() as u32,
                graph: Arc::clone(&self.graph),
                program: self.program,
                combiner: p.combiner,
                partition: p.partition,
                checkpoint_every: p.checkpoint_every,
                resend: Duration::from_millis(p.resend_ms),
                flags: self.flags,
            })))
        } else {
            PregelActor::Idle
        }
    }

    fn checkers(&self) -> Vec<Box<dyn Checker<PregelActor>>> {
        vec![Box::new(checkers::PregelChecker::new(
            &self.params,
            Arc::clone(&self.graph),
            self.master,
            self.workers.clone(),
        ))]
    }
}
