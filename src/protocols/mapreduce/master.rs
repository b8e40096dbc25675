//! The master (section 3.2 and 3.3 of the paper): it keeps the state of every task (idle, in
//! progress on a worker, completed) and, for completed map tasks, where their output lives; it pings
//! every worker, marks the silent ones (and the restarted ones) failed, and re-executes their tasks.
//!
//! The task table, the committed reduce outputs and the counters live on the master's disk, written
//! before any message of the same handler leaves (the paper's "periodic checkpoints of the master
//! data structures", taken at every change), so a master crash loses no task: after a restart it
//! pings the workers again and re-sends the assignments still in progress. What it learns from
//! pings (who answered, who runs what) is volatile and relearned.

use super::message::{Counts, Location, Msg, Task, Timer};
use super::mutants::Flags;
use super::{MapReduceNode, MrNote};
use crate::contract::{Ctx, Duration, NodeId};
use serde::Serialize;

/// One task's state, as in the paper: idle, in progress (on a worker), completed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskState {
    /// Waiting for a worker.
    #[default]
    Idle,
    /// Assigned to `worker` as `attempt`.
    InProgress {
        /// The worker.
        worker: NodeId,
        /// The attempt.
        attempt: u64,
    },
    /// Done: its output is on `worker` in `incarnation` (maps) or on the master's disk (reduces).
    Completed {
        /// The worker that completed it first.
        worker: NodeId,
        /// That worker's incarnation.
        incarnation: u64,
    },
}

/// One task's entry in the table.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct TaskEntry {
    /// Its state.
    pub state: TaskState,
    /// How many times it was assigned (more than once: re-executed).
    pub runs: u32,
}

/// What the master counts for the report.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct MasterStats {
    /// Map assignments of a task that had been assigned before.
    pub maps_reexecuted: u64,
    /// Reduce assignments of a task that had been assigned before.
    pub reduces_reexecuted: u64,
    /// Completions of a task already completed, ignored (first completion wins).
    pub duplicates_ignored: u64,
    /// Map completions from an incarnation since restarted (the output is gone), ignored.
    pub stale_ignored: u64,
    /// Fetch failures reported by reducers.
    pub fetch_failures: u64,
    /// Times a worker was marked failed (silent or restarted).
    pub worker_failures: u64,
}

/// The master's disk.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MasterDisk {
    /// Whether the tables below were laid out.
    pub started: bool,
    /// The next attempt number.
    pub next_attempt: u64,
    /// Map tasks, by number.
    pub maps: Vec<TaskEntry>,
    /// Reduce tasks, by partition.
    pub reduces: Vec<TaskEntry>,
    /// The committed output of each partition (the paper's final output file).
    pub outputs: Vec<Option<Counts>>,
    /// The latest incarnation heard from each worker (by index in the group).
    pub incarnations: Vec<u64>,
    /// Counters.
    pub stats: MasterStats,
    /// Every partition is committed.
    pub done: bool,
}

/// What the master knows of the cluster and the job.
#[derive(Clone, Copy, Debug)]
pub struct MasterConfig {
    /// The first worker's id.
    pub first_worker: NodeId,
    /// How many workers.
    pub workers: u32,
    /// M.
    pub maps: u32,
    /// R.
    pub reduces: u32,
    /// Ping interval.
    pub heartbeat: Duration,
    /// Unanswered pings before a worker is marked failed.
    pub dead_after_missed: u32,
    /// Planted bugs.
    pub flags: Flags,
}

/// What the master has heard from one worker since it (the master) started.
#[derive(Clone, Copy, Debug, Default)]
struct WorkerView {
    /// It answered at least once.
    heard: bool,
    /// Not marked failed.
    alive: bool,
    /// Pings sent since its last answer.
    missed: u32,
    /// The attempt it said it runs (or was just given).
    running: Option<u64>,
    /// The ping number current when it was last given an assignment.
    assigned_at_seq: u64,
}

/// The master.
#[derive(Clone, Debug)]
pub struct Master {
    config: MasterConfig,
    seq: u64,
    views: Vec<WorkerView>,
}

type MCtx<'a> = Ctx<'a, MapReduceNode>;

impl Master {
    /// A master (fresh at every start; its tables are on its disk).
    pub fn new(config: MasterConfig) -> Master {
        Master {
            config,
            seq: 0,
            views: vec![WorkerView::default(); config.workers as usize],
        }
    }

    /// Lays out the tables on the first start; pings the workers.
    pub fn on_start(&mut self, ctx: &mut MCtx<'_>) {
        let c = self.config;
        let disk = &mut ctx.durable_mut().master;
        if !disk.started {
            *disk = MasterDisk {
                started: true,
                next_attempt: 1,
                maps: vec![TaskEntry::default(); c.maps as usize],
                reduces: vec![TaskEntry::default(); c.reduces as usize],
                outputs: vec![None; c.reduces as usize],
                incarnations: vec![0; c.workers as usize],
                stats: MasterStats::default(),
                done: false,
            };
        }
        for v in &mut self.views {
            v.alive = true;
        }
        self.heartbeat(ctx);
    }

    fn worker_index(&self, node: NodeId) -> Option<usize> {
        let i = node.checked_sub(self.config.first_worker)?;
        (i < self.config.workers).then_some(i as usize)
    }

    fn worker_id(&self, index: usize) -> NodeId {
        self.config.first_worker + index as NodeId
    }

    /// Handles a worker's message.
    pub fn on_msg(&mut self, ctx: &mut MCtx<'_>, from: NodeId, msg: Msg) {
        let Some(w) = self.worker_index(from) else {
            return;
        };
        // Once the job is done only completions are still read, so that late duplicates are noted.
        if ctx.durable().master.done && !matches!(msg, Msg::MapDone { .. } | Msg::ReduceDone { .. })
        {
            return;
        }
        match msg {
            Msg::Pong {
                seq,
                incarnation,
                running,
            } => {
                if !self.heard_from(ctx, w, Some(incarnation)) {
                    return;
                }
                self.views[w].running = running;
                self.resend_assignment(ctx, w, seq, running);
            }
            Msg::MapDone {
                attempt,
                map,
                incarnation,
            } => {
                if map >= self.config.maps {
                    return;
                }
                if !self.heard_from(ctx, w, Some(incarnation)) {
                    let worker = from;
                    ctx.durable_mut().master.stats.stale_ignored += 1;
                    ctx.note(MrNote::StaleIgnored {
                        task: Task::Map { map },
                        worker,
                        attempt,
                    });
                    return;
                }
                self.finished(w, attempt);
                self.map_done(ctx, from, attempt, map, incarnation);
            }
            Msg::ReduceDone {
                attempt,
                partition,
                counts,
            } => {
                if partition >= self.config.reduces {
                    return;
                }
                if self.heard_from(ctx, w, None) {
                    self.finished(w, attempt);
                }
                self.reduce_done(ctx, from, attempt, partition, counts);
            }
            Msg::FetchFailed {
                attempt,
                partition,
                location,
            } => {
                if partition >= self.config.reduces || location.map >= self.config.maps {
                    return;
                }
                if self.heard_from(ctx, w, None) {
                    self.finished(w, attempt);
                }
                self.fetch_failed(ctx, from, attempt, partition, location);
            }
            Msg::Ping { .. } | Msg::Assign { .. } | Msg::Fetch { .. } | Msg::FetchReply { .. } => {
                return;
            }
        }
        self.schedule(ctx);
    }

    /// Handles the heartbeat timer.
    pub fn on_timer(&mut self, ctx: &mut MCtx<'_>, timer: Timer) {
        if timer == Timer::Heartbeat {
            self.heartbeat(ctx);
        }
    }

    /// Notes that worker `w` is alive in `incarnation` (`None`: the message does not say). A higher
    /// incarnation than known means it restarted, losing its map outputs: it is failed first. `false`
    /// when the message comes from an incarnation since replaced.
    fn heard_from(&mut self, ctx: &mut MCtx<'_>, w: usize, incarnation: Option<u64>) -> bool {
        let known = ctx.durable().master.incarnations[w];
        if let Some(incarnation) = incarnation {
            if incarnation < known {
                return false;
            }
            if incarnation > known {
                if known != 0 {
                    self.fail_worker(ctx, w, "restarted");
                }
                ctx.durable_mut().master.incarnations[w] = incarnation;
            }
        }
        let v = &mut self.views[w];
        v.heard = true;
        v.alive = true;
        v.missed = 0;
        true
    }

    /// Worker `w` reported the end of `attempt`: it is free unless it was given another since.
    fn finished(&mut self, w: usize, attempt: u64) {
        if self.views[w].running == Some(attempt) {
            self.views[w].running = None;
        }
    }

    fn heartbeat(&mut self, ctx: &mut MCtx<'_>) {
        if ctx.durable().master.done {
            return;
        }
        for w in 0..self.views.len() {
            if self.views[w].alive && self.views[w].missed >= self.config.dead_after_missed {
                self.fail_worker(ctx, w, "silent");
            }
        }
        self.seq += 1;
        for w in 0..self.views.len() {
            self.views[w].missed = self.views[w].missed.saturating_add(1);
            let to = self.worker_id(w);
            ctx.send(to, Msg::Ping { seq: self.seq });
        }
        self.schedule(ctx);
        ctx.set_timer(Timer::Heartbeat, self.config.heartbeat);
    }

    /// Marks worker `w` failed: its in-progress tasks, and its completed map tasks (their output was
    /// on it), go back to idle, to be re-executed.
    fn fail_worker(&mut self, ctx: &mut MCtx<'_>, w: usize, reason: &'static str) {
        let worker = self.worker_id(w);
        let v = &mut self.views[w];
        v.alive = false;
        v.running = None;
        let reexecute_completed = !self.config.flags.no_reexecute_completed_maps;
        let disk = &mut ctx.durable_mut().master;
        disk.stats.worker_failures += 1;
        let mut reset = Vec::new();
        for (map, e) in disk.maps.iter_mut().enumerate() {
            let lost = match e.state {
                TaskState::InProgress { worker: on, .. } => on == worker,
                TaskState::Completed { worker: on, .. } => on == worker && reexecute_completed,
                TaskState::Idle => false,
            };
            if lost {
                e.state = TaskState::Idle;
                reset.push(Task::Map { map: map as u32 });
            }
        }
        for (partition, e) in disk.reduces.iter_mut().enumerate() {
            if matches!(e.state, TaskState::InProgress { worker: on, .. } if on == worker) {
                e.state = TaskState::Idle;
                reset.push(Task::Reduce {
                    partition: partition as u32,
                });
            }
        }
        ctx.note(MrNote::WorkerFailed {
            worker,
            reason,
            reset,
        });
    }

    fn map_done(
        &mut self,
        ctx: &mut MCtx<'_>,
        worker: NodeId,
        attempt: u64,
        map: u32,
        incarnation: u64,
    ) {
        let task = Task::Map { map };
        let disk = &mut ctx.durable_mut().master;
        let e = &mut disk.maps[map as usize];
        if matches!(e.state, TaskState::Completed { .. }) {
            disk.stats.duplicates_ignored += 1;
            ctx.note(MrNote::DuplicateIgnored {
                task,
                worker,
                attempt,
            });
            return;
        }
        e.state = TaskState::Completed {
            worker,
            incarnation,
        };
        ctx.note(MrNote::Completed {
            task,
            worker,
            attempt,
        });
    }

    fn reduce_done(
        &mut self,
        ctx: &mut MCtx<'_>,
        worker: NodeId,
        attempt: u64,
        partition: u32,
        counts: Counts,
    ) {
        let task = Task::Reduce { partition };
        let count_duplicates = self.config.flags.count_duplicate_completions;
        let w = self.worker_index(worker).expect("a worker");
        let disk = &mut ctx.durable_mut().master;
        let p = partition as usize;
        if matches!(disk.reduces[p].state, TaskState::Completed { .. }) {
            if count_duplicates {
                // The planted bug: the duplicate's counts are added to the committed ones.
                let committed = disk.outputs[p].get_or_insert_with(Vec::new);
                add_counts(committed, &counts);
                ctx.note(MrNote::Completed {
                    task,
                    worker,
                    attempt,
                });
            } else {
                disk.stats.duplicates_ignored += 1;
                ctx.note(MrNote::DuplicateIgnored {
                    task,
                    worker,
                    attempt,
                });
            }
            return;
        }
        disk.reduces[p].state = TaskState::Completed {
            worker,
            incarnation: disk.incarnations[w],
        };
        disk.outputs[p] = Some(counts);
        ctx.note(MrNote::Completed {
            task,
            worker,
            attempt,
        });
        let disk = &mut ctx.durable_mut().master;
        if disk
            .reduces
            .iter()
            .all(|e| matches!(e.state, TaskState::Completed { .. }))
        {
            disk.done = true;
            let stats = disk.stats;
            ctx.note(MrNote::JobDone { stats });
        }
    }

    fn fetch_failed(
        &mut self,
        ctx: &mut MCtx<'_>,
        worker: NodeId,
        attempt: u64,
        partition: u32,
        location: Location,
    ) {
        let reexecute_completed = !self.config.flags.no_reexecute_completed_maps;
        let disk = &mut ctx.durable_mut().master;
        disk.stats.fetch_failures += 1;
        let e = &mut disk.maps[location.map as usize];
        // Only if the output is still believed where the reducer looked: a later completion stands.
        let lost = e.state
            == TaskState::Completed {
                worker: location.worker,
                incarnation: location.incarnation,
            };
        if lost && reexecute_completed {
            e.state = TaskState::Idle;
        }
        let r = &mut disk.reduces[partition as usize];
        if r.state == (TaskState::InProgress { worker, attempt }) {
            r.state = TaskState::Idle;
        }
        ctx.note(MrNote::FetchFailed {
            partition,
            location,
            map_reset: lost && reexecute_completed,
        });
    }

    /// Re-sends worker `w`'s assignment if its answer to a ping sent after the assignment shows it is
    /// not running it (the assignment, or the worker's memory of it, was lost).
    fn resend_assignment(&mut self, ctx: &mut MCtx<'_>, w: usize, seq: u64, running: Option<u64>) {
        let worker = self.worker_id(w);
        if seq <= self.views[w].assigned_at_seq {
            return;
        }
        let Some((attempt, task)) = in_progress_on(&ctx.durable().master, worker) else {
            return;
        };
        if running != Some(attempt) {
            let msg = self.assignment(&ctx.durable().master, attempt, task);
            self.views[w].assigned_at_seq = self.seq;
            ctx.send(worker, msg);
        }
    }

    fn assignment(&self, disk: &MasterDisk, attempt: u64, task: Task) -> Msg {
        let locations = match task {
            Task::Map { .. } => Vec::new(),
            Task::Reduce { .. } => disk
                .maps
                .iter()
                .enumerate()
                .filter_map(|(map, e)| match e.state {
                    TaskState::Completed {
                        worker,
                        incarnation,
                    } => Some(Location {
                        map: map as u32,
                        worker,
                        incarnation,
                    }),
                    _ => None,
                })
                .collect(),
        };
        Msg::Assign {
            attempt,
            task,
            locations,
        }
    }

    /// Gives idle tasks to idle workers, lowest first: map tasks, then (once every map task is
    /// completed) reduce tasks.
    fn schedule(&mut self, ctx: &mut MCtx<'_>) {
        for w in 0..self.views.len() {
            let worker = self.worker_id(w);
            let v = self.views[w];
            if !v.heard || !v.alive || v.running.is_some() {
                continue;
            }
            let disk = &ctx.durable().master;
            if disk.done || in_progress_on(disk, worker).is_some() {
                continue;
            }
            let Some(task) = next_idle(disk) else {
                return;
            };
            let disk = &mut ctx.durable_mut().master;
            let attempt = disk.next_attempt;
            disk.next_attempt += 1;
            let e = match task {
                Task::Map { map } => &mut disk.maps[map as usize],
                Task::Reduce { partition } => &mut disk.reduces[partition as usize],
            };
            e.runs += 1;
            e.state = TaskState::InProgress { worker, attempt };
            let rerun = e.runs > 1;
            if rerun {
                match task {
                    Task::Map { .. } => disk.stats.maps_reexecuted += 1,
                    Task::Reduce { .. } => disk.stats.reduces_reexecuted += 1,
                }
            }
            let msg = self.assignment(&ctx.durable().master, attempt, task);
            self.views[w].running = Some(attempt);
            self.views[w].assigned_at_seq = self.seq;
            ctx.note(MrNote::Assigned {
                task,
                worker,
                attempt,
                rerun,
            });
            ctx.send(worker, msg);
        }
    }
}

/// The task in progress on `worker`, if any.
fn in_progress_on(disk: &MasterDisk, worker: NodeId) -> Option<(u64, Task)> {
    let maps = disk
        .maps
        .iter()
        .enumerate()
        .map(|(i, e)| (e.state, Task::Map { map: i as u32 }));
    let reduces = disk.reduces.iter().enumerate().map(|(i, e)| {
        (
            e.state,
            Task::Reduce {
                partition: i as u32,
            },
        )
    });
    maps.chain(reduces).find_map(|(s, task)| match s {
        TaskState::InProgress {
            worker: on,
            attempt,
        } if on == worker => Some((attempt, task)),
        _ => None,
    })
}

/// The first idle map task; else, once every map task is completed, the first idle reduce task.
fn next_idle(disk: &MasterDisk) -> Option<Task> {
    if let Some(map) = disk.maps.iter().position(|e| e.state == TaskState::Idle) {
        return Some(Task::Map { map: map as u32 });
    }
    let maps_done = disk
        .maps
        .iter()
        .all(|e| matches!(e.state, TaskState::Completed { .. }));
    if !maps_done {
        return None;
    }
    disk.reduces
        .iter()
        .position(|e| e.state == TaskState::Idle)
        .map(|p| Task::Reduce {
            partition: p as u32,
        })
}

/// Adds `more` into `into`, both sorted by word; the result stays sorted.
pub fn add_counts(into: &mut Counts, more: &Counts) {
    let mut merged: std::collections::BTreeMap<String, u64> = into.drain(..).collect();
    for (word, n) in more {
        *merged.entry(word.clone()).or_insert(0) += n;
    }
    into.extend(merged);
}
