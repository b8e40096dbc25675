//! MapReduce (Dean and Ghemawat, "MapReduce: Simplified Data Processing on Large Clusters", OSDI 2004):
//! a master and workers count the words of a generated corpus.
//!
//! How it works: the corpus (`documents` documents of `words_per_document` words over a vocabulary of
//! `vocabulary` words, drawn from `corpus_seed`; see [`corpus`]) is cut into M contiguous splits, one
//! map task each. The master assigns idle tasks to idle workers, map tasks first. A map task counts its
//! split's words and keeps them on its worker, partitioned into R partitions by `FNV-1a(word) mod R`.
//! Once every map task is completed the master assigns the R reduce tasks, each with the location of
//! every map output; a reducer fetches its partition from every map worker, sums it and sends the
//! partition's output to the master, which commits the first completion of each task and ignores (and
//! notes) every later one. The job is done when every partition is committed.
//!
//! Faults (section 3.3 of the paper): the master pings every worker every `heartbeat_ms`; a worker that
//! misses `dead_after_missed` pings in a row, or answers with a new incarnation (it restarted), is marked
//! failed: its in-progress tasks, and its *completed map tasks* (their output was in its memory), go
//! back to idle and are re-executed elsewhere. A reducer that cannot fetch a map output tells the master,
//! which re-executes that map task too. Map outputs live in the worker's memory, not on its disk: in
//! the paper a failed machine's local disk is out of reach, and a crash here wipes them, so the
//! re-execution path is exercised for real. The master's task table and committed outputs are on its
//! disk (checkpointed at every change), so a master crash loses nothing.
//!
//! What the checkers promise (`checker.rs`, against a sequential count of the same corpus computed in
//! the checker): `word_count_exact` (every committed partition, and the whole output at the end,
//! equals the sequential count) and `job_completes` (the job is done within `complete_within_ms` of
//! the last fault; the verdict reports tasks re-executed, duplicate completions ignored and the
//! completion time).
//!
//! Node ids: the master (group `master`, one node), then the workers (group `workers`). Clients take
//! no part.

pub mod checker;
pub mod corpus;
pub mod master;
pub mod message;
pub mod mutants;
pub mod params;
pub mod worker;

#[cfg(test)]
mod tests;

use crate::contract::{
    Actor, Checker, Ctx, DurableInvariant, Duration, GroupSize, GroupSpec, Mutant, NoModel, NodeId,
    NoteLabel, Param, Protocol, Role, Setup,
};
use master::{Master, MasterConfig, MasterDisk, MasterStats};
use message::{Location, Msg, Task, Timer};
use mutants::Flags;
use params::MapReduceParams;
use serde::Serialize;
use worker::{Worker, WorkerConfig};

/// A node's disk: the master uses `master`, a worker `incarnation`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MrDisk {
    /// A worker's incarnation: bumped at every start, so that outputs of an earlier one are known lost.
    pub incarnation: u64,
    /// The master's task table and committed outputs.
    pub master: MasterDisk,
}

/// What the master and workers report to checkers and traces.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "note", rename_all = "snake_case")]
pub enum MrNote {
    /// The master assigned a task (`rerun`: it had been assigned before).
    Assigned {
        /// The task.
        task: Task,
        /// To whom.
        worker: NodeId,
        /// The attempt.
        attempt: u64,
        /// It is a re-execution.
        rerun: bool,
    },
    /// The master accepted a completion.
    Completed {
        /// The task.
        task: Task,
        /// Who completed it.
        worker: NodeId,
        /// The attempt.
        attempt: u64,
    },
    /// The master ignored a completion of a task already completed.
    DuplicateIgnored {
        /// The task.
        task: Task,
        /// Who sent it.
        worker: NodeId,
        /// The attempt.
        attempt: u64,
    },
    /// The master ignored a map completion from an incarnation since restarted.
    StaleIgnored {
        /// The task.
        task: Task,
        /// Who sent it.
        worker: NodeId,
        /// The attempt.
        attempt: u64,
    },
    /// The master marked a worker failed and put these tasks back to idle.
    WorkerFailed {
        /// The worker.
        worker: NodeId,
        /// `"silent"` (missed pings) or `"restarted"` (a new incarnation).
        reason: &'static str,
        /// The tasks reset.
        reset: Vec<Task>,
    },
    /// A reducer could not fetch a map output.
    FetchFailed {
        /// The reduce partition.
        partition: u32,
        /// Where it looked.
        location: Location,
        /// The map task was reset to be re-executed.
        map_reset: bool,
    },
    /// Every partition is committed.
    JobDone {
        /// The master's counters at that moment.
        stats: MasterStats,
    },
    /// A worker started (again), in a new incarnation.
    WorkerStarted {
        /// Its incarnation.
        incarnation: u64,
    },
    /// A worker finished an attempt and sent its completion.
    TaskFinished {
        /// The task.
        task: Task,
        /// The attempt.
        attempt: u64,
    },
}

impl NoteLabel for MrNote {
    fn label(&self) -> &'static str {
        match self {
            MrNote::Assigned { .. } => "assigned",
            MrNote::Completed { .. } => "completed",
            MrNote::DuplicateIgnored { .. } => "duplicate_ignored",
            MrNote::StaleIgnored { .. } => "stale_ignored",
            MrNote::WorkerFailed { .. } => "worker_failed",
            MrNote::FetchFailed { .. } => "fetch_failed",
            MrNote::JobDone { .. } => "job_done",
            MrNote::WorkerStarted { .. } => "worker_started",
            MrNote::TaskFinished { .. } => "task_finished",
        }
    }
}

/// A MapReduce node.
#[derive(Clone, Debug)]
pub enum MapReduceNode {
    /// The master.
    Master(Master),
    /// A worker.
    Worker(Worker),
    /// A client: MapReduce has none; a scenario's clients stay idle.
    Bystander,
}

impl Actor for MapReduceNode {
    type Msg = Msg;
    type Timer = Timer;
    type Durable = MrDisk;
    type Note = MrNote;

    fn on_start(&mut self, ctx: &mut Ctx<'_, Self>) {
        match self {
            MapReduceNode::Master(m) => m.on_start(ctx),
            MapReduceNode::Worker(w) => w.on_start(ctx),
            MapReduceNode::Bystander => {}
        }
    }

    fn on_msg(&mut self, ctx: &mut Ctx<'_, Self>, from: NodeId, msg: Msg) {
        match self {
            MapReduceNode::Master(m) => m.on_msg(ctx, from, msg),
            MapReduceNode::Worker(w) => w.on_msg(ctx, from, msg),
            MapReduceNode::Bystander => {}
        }
    }

    fn on_timer(&mut self, ctx: &mut Ctx<'_, Self>, timer: Timer) {
        match self {
            MapReduceNode::Master(m) => m.on_timer(ctx, timer),
            MapReduceNode::Worker(w) => w.on_timer(ctx, timer),
            MapReduceNode::Bystander => {}
        }
    }

    fn role(&self) -> Role {
        match self {
            MapReduceNode::Master(_) => Some("master"),
            MapReduceNode::Worker(_) => Some("worker"),
            MapReduceNode::Bystander => None,
        }
    }
}

/// The MapReduce protocol.
#[derive(Clone, Debug)]
pub struct MapReduce {
    params: MapReduceParams,
    flags: Flags,
    master: NodeId,
    workers: (NodeId, u32),
}

impl MapReduce {
    /// The parsed parameters.
    pub fn params(&self) -> &MapReduceParams {
        &self.params
    }
}

impl Protocol for MapReduce {
    type Actor = MapReduceNode;
    type Model = NoModel;

    const NAME: &'static str = "mapreduce";
    const ABOUT: &'static str = "MapReduce word count: a master, workers, heartbeats, re-execution of a failed worker's tasks";
    const MUTANTS: &'static [Mutant] = mutants::MUTANTS;
    const ROLES: &'static [&'static str] = &["master", "worker"];
    const GROUPS: &'static [GroupSpec] = &[
        GroupSpec {
            name: "master",
            about: "assigns tasks, pings workers, re-executes a failed worker's tasks (exactly one)",
            size: GroupSize::Default(1),
        },
        GroupSpec {
            name: "workers",
            about: "run map and reduce tasks; map outputs live in their memory",
            size: GroupSize::Rest,
        },
    ];
    const PARAMS: &'static [Param] = params::PARAMS;
    const CHECKERS: &'static [(&'static str, &'static str)] = &[
        (
            "word_count_exact",
            "every partition the master commits, and the whole output at the end, equals the sequential word count of the same corpus",
        ),
        (
            "job_completes",
            "the job is done within complete_within_ms of the last fault (the verdict reports re-executions, duplicates ignored, completion time)",
        ),
    ];

    fn setup(setup: &Setup<'_>) -> Result<Self, String> {
        let params = MapReduceParams::parse(setup.params)?;
        let flags = Flags::from_names(setup.mutants)?;
        let cluster = setup.cluster;
        let master = cluster.group("master").unwrap_or(0..cluster.servers.min(1));
        let workers = cluster
            .group("workers")
            .unwrap_or(master.end..cluster.servers);
        if master.len() != 1 {
            return Err(format!(
                "groups.master: MapReduce has exactly one master, not {}",
                master.len()
            ));
        }
        if workers.is_empty() {
            return Err("nodes: MapReduce needs at least one worker".into());
        }
        Ok(MapReduce {
            params,
            flags,
            master: master.start,
            workers: (workers.start, workers.end - workers.start),
        })
    }

    fn new_actor(&self, id: NodeId) -> MapReduceNode {
        let p = &self.params;
        let (first_worker, workers) = self.workers;
        if id == self.master {
            MapReduceNode::Master(Master::new(MasterConfig {
                first_worker,
                workers,
                maps: p.map_tasks,
                reduces: p.reduce_tasks,
                heartbeat: Duration::from_millis(p.heartbeat_ms),
                dead_after_missed: p.dead_after_missed,
                flags: self.flags,
            }))
        } else if (first_worker..first_worker + workers).contains(&id) {
            MapReduceNode::Worker(Worker::new(WorkerConfig {
                master: self.master,
                corpus: p.corpus(),
                maps: p.map_tasks,
                reduces: p.reduce_tasks,
                map_time: Duration::from_millis(p.map_ms),
                reduce_time: Duration::from_millis(p.reduce_ms),
                fetch_retry: Duration::from_millis(p.fetch_retry_ms),
                fetch_rounds_max: p.fetch_rounds_max,
            }))
        } else {
            MapReduceNode::Bystander
        }
    }

    fn durable_invariants(&self) -> Vec<DurableInvariant<MrDisk>> {
        vec![
            DurableInvariant::Monotonic {
                name: "incarnation",
                get: |d| Some(d.incarnation),
            },
            DurableInvariant::Monotonic {
                name: "next_attempt",
                get: |d| Some(d.master.next_attempt),
            },
        ]
    }

    fn checkers(&self) -> Vec<Box<dyn Checker<MapReduceNode>>> {
        vec![Box::new(checker::MapReduceChecker::new(
            &self.params,
            self.master,
        ))]
    }
}
