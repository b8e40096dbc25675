//! The Pregel master: runs the barrier between supersteps, detects failed workers and rolls the job
//! back to its last complete checkpoint.
//!
//! Supersteps: the master sends `Start(s)` to every worker and waits for every worker's `Done(s)` (sent
//! once all of that worker's batches are acknowledged, so every message of superstep s is at its
//! destination). Then superstep s is complete: if it was a checkpoint superstep, that checkpoint is
//! now complete (every worker wrote it before computing); if no vertex is active and no message was
//! sent, the job is over and the master tells the workers to write their output; else it starts s+1.
//!
//! Failures: the master pings every worker every `heartbeat_ms`; a worker silent for
//! `failure_timeout_ms`, or one that answers with a new incarnation (it restarted and lost its
//! partition), makes the master start a new epoch and tell every worker to load the last complete
//! checkpoint; the job goes on from there once all have. The master's own disk keeps the epoch, the
//! last complete checkpoint and the job's statistics, so a restarted master rolls back the same way.

use super::message::{Counts, Epoch, Msg, Superstep, Timer};
use super::{PregelActor, PregelNote};
use crate::contract::{Ctx, Duration, NodeId, Time};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;

/// The job's statistics, as the master reports them when it finishes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct JobStats {
    /// Supersteps of the job (the last one's number plus one).
    pub supersteps: u64,
    /// Supersteps started, re-executions after rollbacks included.
    pub executed: u64,
    /// Rollbacks to a checkpoint (not counting the first load).
    pub rollbacks: u64,
    /// Vertex messages sent by `compute()` over the job's supersteps (what would travel without a
    /// combiner).
    pub messages: u64,
    /// Messages after combining.
    pub combined: u64,
}

/// The master's part of the disk.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MasterDisk {
    /// The newest epoch it started.
    pub epoch: Epoch,
    /// The newest checkpoint every worker wrote.
    pub last_checkpoint: Option<Superstep>,
    /// Each complete superstep's message counts (of the timeline that is being run).
    pub per_superstep: BTreeMap<Superstep, Counts>,
    /// Rollbacks so far.
    pub rollbacks: u64,
    /// Supersteps started so far.
    pub executed: u64,
    /// Set when the job finished: every worker wrote its output.
    pub finished: Option<JobStats>,
}

/// The master's fixed configuration.
#[derive(Clone, Debug)]
pub struct MasterConfig {
    /// The workers' node ids.
    pub workers: Range<NodeId>,
    /// Ping period.
    pub heartbeat: Duration,
    /// Silence after which a worker is declared failed.
    pub failure_timeout: Duration,
    /// Resend period for unanswered commands.
    pub resend: Duration,
    /// Checkpoint period, in supersteps.
    pub checkpoint_every: u64,
}

/// Where the job is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Phase {
    /// Not started.
    Idle,
    /// Waiting for every worker to load checkpoint `to` (`None`: the input).
    Recovering {
        /// The checkpoint.
        to: Option<Superstep>,
        /// Workers that loaded it.
        loaded: BTreeSet<NodeId>,
    },
    /// Running `superstep`, waiting for every worker's report.
    Running {
        /// The superstep.
        superstep: Superstep,
        /// Reports so far.
        done: BTreeMap<NodeId, Counts>,
    },
    /// Every vertex halted after `superstep`: waiting for every worker's output.
    Finishing {
        /// The last superstep.
        superstep: Superstep,
        /// Workers whose output is on their disk.
        written: BTreeSet<NodeId>,
    },
    /// The job is over.
    Finished,
}

/// The master.
#[derive(Clone, Debug)]
pub struct Master {
    cfg: MasterConfig,
    phase: Phase,
    epoch: Epoch,
    /// Each worker's incarnation, as it was when it loaded the current epoch.
    incarnations: BTreeMap<NodeId, u64>,
    /// When each worker was last heard from, by the master's clock.
    heard: BTreeMap<NodeId, Time>,
}

impl Master {
    /// A master that has not started.
    pub fn new(cfg: MasterConfig) -> Master {
        Master {
            cfg,
            phase: Phase::Idle,
            epoch: 0,
            incarnations: BTreeMap::new(),
            heard: BTreeMap::new(),
        }
    }

    /// Where the job is.
    pub fn phase(&self) -> &Phase {
        &self.phase
    }

    /// The current epoch.
    pub fn epoch(&self) -> Epoch {
        self.epoch
    }

    /// Starts, or restarts: unless the job is over, a new epoch from the last complete checkpoint.
    pub fn on_start(&mut self, ctx: &mut Ctx<'_, PregelActor>) {
        let disk = &ctx.durable().master;
        if disk.finished.is_some() {
            self.phase = Phase::Finished;
            return;
        }
        self.epoch = disk.epoch;
        let reason = if disk.epoch == 0 {
            "start"
        } else {
            "master_restart"
        };
        self.roll_back(ctx, reason);
        ctx.set_timer(Timer::Heartbeat, self.cfg.heartbeat);
        ctx.set_timer(Timer::Resend, self.cfg.resend);
    }

    /// A new epoch: every worker loads the last complete checkpoint.
    fn roll_back(&mut self, ctx: &mut Ctx<'_, PregelActor>, reason: &'static str) {
        self.epoch += 1;
        let now = ctx.now();
        let disk = &mut ctx.durable_mut().master;
        disk.epoch = self.epoch;
        let first = disk.epoch == 1;
        if !first {
            disk.rollbacks += 1;
        }
        let to = disk.last_checkpoint;
        // Counts of the supersteps that will run again are replaced as they complete again.
        disk.per_superstep.retain(|s, _| Some(*s) < to);
        self.phase = Phase::Recovering {
            to,
            loaded: BTreeSet::new(),
        };
        for w in self.cfg.workers.clone() {
            self.heard.insert(w, now);
        }
        ctx.note(PregelNote::Rollback {
            epoch: self.epoch,
            to,
            reason,
        });
        self.send_commands(ctx);
    }

    /// Sends the current command to every worker that has not answered it.
    fn send_commands(&self, ctx: &mut Ctx<'_, PregelActor>) {
        let epoch = self.epoch;
        let committed = ctx.durable().master.last_checkpoint;
        for w in self.cfg.workers.clone() {
            let msg = match &self.phase {
                Phase::Recovering { to, loaded } if !loaded.contains(&w) => Msg::Load {
                    epoch,
                    checkpoint: *to,
                },
                Phase::Running { superstep, done } if !done.contains_key(&w) => Msg::Start {
                    epoch,
                    superstep: *superstep,
                    committed,
                    incarnation: self.incarnations.get(&w).copied().unwrap_or(0),
                },
                Phase::Finishing { written, .. } if !written.contains(&w) => Msg::Finish { epoch },
                _ => continue,
            };
            ctx.send(w, msg);
        }
    }

    fn start_superstep(&mut self, ctx: &mut Ctx<'_, PregelActor>, superstep: Superstep) {
        ctx.durable_mut().master.executed += 1;
        self.phase = Phase::Running {
            superstep,
            done: BTreeMap::new(),
        };
        self.send_commands(ctx);
    }

    /// Handles a message from a worker.
    pub fn on_msg(&mut self, ctx: &mut Ctx<'_, PregelActor>, from: NodeId, msg: Msg) {
        if !self.cfg.workers.contains(&from) || self.phase == Phase::Finished {
            return;
        }
        self.heard.insert(from, ctx.now());
        match msg {
            Msg::Pong {
                incarnation,
                output,
                ..
            } => self.on_pong(ctx, from, incarnation, output),
            Msg::Loaded { epoch, incarnation } if epoch == self.epoch => {
                let Phase::Recovering { to, loaded } = &mut self.phase else {
                    return;
                };
                loaded.insert(from);
                self.incarnations.insert(from, incarnation);
                if loaded.len() == self.cfg.workers.len() {
                    let first = to.unwrap_or(0);
                    self.start_superstep(ctx, first);
                }
            }
            Msg::Done {
                epoch,
                superstep,
                incarnation,
                counts,
            } if epoch == self.epoch && self.incarnations.get(&from) == Some(&incarnation) => {
                let Phase::Running {
                    superstep: current,
                    done,
                } = &mut self.phase
                else {
                    return;
                };
                if *current != superstep {
                    return;
                }
                done.insert(from, counts);
                if done.len() == self.cfg.workers.len() {
                    let total = done.values().fold(Counts::default(), |a, c| a.plus(*c));
                    self.superstep_complete(ctx, superstep, total);
                }
            }
            Msg::Finished {
                epoch,
                incarnation,
                output,
            } if epoch == self.epoch => {
                let Phase::Finishing { superstep, written } = &mut self.phase else {
                    return;
                };
                if !output {
                    // It lost its partition before it could write it: run again from the checkpoint.
                    let _ = incarnation;
                    self.roll_back(ctx, "lost_output");
                    return;
                }
                written.insert(from);
                if written.len() == self.cfg.workers.len() {
                    let last = *superstep;
                    self.finish(ctx, last);
                }
            }
            _ => {}
        }
    }

    fn on_pong(
        &mut self,
        ctx: &mut Ctx<'_, PregelActor>,
        from: NodeId,
        incarnation: u64,
        output: bool,
    ) {
        let restarted = self.incarnations.get(&from) != Some(&incarnation);
        match &mut self.phase {
            // It lost what it loaded: load again. (One that has not loaded yet gets the command
            // from the resend timer.)
            Phase::Recovering { loaded, to } if restarted && loaded.contains(&from) => {
                loaded.remove(&from);
                let checkpoint = *to;
                ctx.send(
                    from,
                    Msg::Load {
                        epoch: self.epoch,
                        checkpoint,
                    },
                );
            }
            Phase::Running { .. } if restarted => {
                ctx.note(PregelNote::Restarted { worker: from });
                self.roll_back(ctx, "worker_restart");
            }
            Phase::Finishing { written, .. }
                if restarted && !written.contains(&from) && !output =>
            {
                ctx.note(PregelNote::Restarted { worker: from });
                self.roll_back(ctx, "worker_restart");
            }
            _ => {}
        }
    }

    fn superstep_complete(
        &mut self,
        ctx: &mut Ctx<'_, PregelActor>,
        superstep: Superstep,
        total: Counts,
    ) {
        let disk = &mut ctx.durable_mut().master;
        if superstep.is_multiple_of(self.cfg.checkpoint_every) {
            disk.last_checkpoint = Some(superstep);
        }
        disk.per_superstep.insert(superstep, total);
        ctx.note(PregelNote::SuperstepDone {
            epoch: self.epoch,
            superstep,
            active: total.active,
            messages: total.messages,
        });
        if total.active == 0 && total.messages == 0 {
            self.phase = Phase::Finishing {
                superstep,
                written: BTreeSet::new(),
            };
            self.send_commands(ctx);
        } else {
            self.start_superstep(ctx, superstep + 1);
        }
    }

    fn finish(&mut self, ctx: &mut Ctx<'_, PregelActor>, last: Superstep) {
        let disk = &mut ctx.durable_mut().master;
        let totals = disk
            .per_superstep
            .range(..=last)
            .fold(Counts::default(), |a, (_, c)| a.plus(*c));
        let stats = JobStats {
            supersteps: last + 1,
            executed: disk.executed,
            rollbacks: disk.rollbacks,
            messages: totals.messages,
            combined: totals.combined,
        };
        disk.finished = Some(stats);
        self.phase = Phase::Finished;
        ctx.cancel_timer(Timer::Heartbeat);
        ctx.cancel_timer(Timer::Resend);
        ctx.note(PregelNote::JobFinished { stats });
    }

    /// Handles a timer.
    pub fn on_timer(&mut self, ctx: &mut Ctx<'_, PregelActor>, timer: Timer) {
        if self.phase == Phase::Finished {
            return;
        }
        match timer {
            Timer::Heartbeat => {
                for w in self.cfg.workers.clone() {
                    ctx.send(w, Msg::Ping);
                }
                ctx.set_timer(Timer::Heartbeat, self.cfg.heartbeat);
                if matches!(self.phase, Phase::Running { .. } | Phase::Finishing { .. }) {
                    let now = ctx.now();
                    let silent = self.cfg.workers.clone().find(|w| {
                        self.heard
                            .get(w)
                            .is_none_or(|t| now.saturating_since(*t) > self.cfg.failure_timeout)
                    });
                    if let Some(worker) = silent {
                        ctx.note(PregelNote::Suspected { worker });
                        self.roll_back(ctx, "timeout");
                    }
                }
            }
            Timer::Resend => {
                self.send_commands(ctx);
                ctx.set_timer(Timer::Resend, self.cfg.resend);
            }
            Timer::RunAhead => {}
        }
    }
}
