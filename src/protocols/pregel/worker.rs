//! A Pregel worker: owns a partition of the vertices, runs `compute()` on its active vertices when the
//! master starts a superstep, sends the messages for other workers' vertices in one batch per worker
//! (combined if the job has a combiner) and reports done once every batch is acknowledged, so that
//! when the master has every report, every message of the superstep is at its destination.
//!
//! Its disk holds its checkpoints (written at the start of every `checkpoint_every`-th superstep:
//! vertex values, halted flags and the messages to read in that superstep), its incarnation, the
//! newest epoch it loaded and, at the end, its output. After a crash it knows nothing but its disk: it
//! tells the master it is back (a new incarnation) and waits to be told which checkpoint to load.

use super::graph::{Graph, VertexId, owner};
use super::message::{Counts, Epoch, Msg, Superstep, Timer, Wire};
use super::mutants::Flags;
use super::params::PartitionKind;
use super::program::{Program, Val};
use super::{PregelActor, PregelNote};
use crate::contract::{Ctx, Duration, NodeId};
use std::collections::BTreeMap;
use std::sync::Arc;

/// What a worker holds of its partition: everything a checkpoint saves.
#[derive(Clone, Debug, PartialEq)]
pub struct PartitionState {
    /// The superstep it is in: the last it began, or the one whose checkpoint it loaded.
    pub superstep: Superstep,
    /// Whether it ran `compute()` for `superstep` already.
    pub computed: bool,
    /// Its vertices' values, in the order of [`Worker::vertices`].
    pub values: Vec<Val>,
    /// Which of its vertices voted to halt.
    pub halted: Vec<bool>,
    /// Messages to its vertices by the superstep that reads them, then by sending worker index.
    pub inbox: BTreeMap<Superstep, BTreeMap<u32, Vec<Wire>>>,
}

impl PartitionState {
    /// What a checkpoint at the start of `superstep` saves: no message for a later superstep (those
    /// are re-sent when the superstep is run again).
    pub fn checkpoint(&self) -> PartitionState {
        let mut saved = self.clone();
        saved.inbox.retain(|s, _| *s <= self.superstep);
        saved
    }
}

/// A worker's part of the disk.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct WorkerDisk {
    /// Checkpoints by superstep.
    pub checkpoints: BTreeMap<Superstep, PartitionState>,
    /// How many times it has started.
    pub incarnation: u64,
    /// The newest epoch it loaded (older commands are stale).
    pub epoch: Epoch,
    /// Its final vertex values, once the master said the job finished: `(vertex, value)`.
    pub output: Option<Vec<(VertexId, Val)>>,
}

/// A worker's fixed configuration.
#[derive(Clone, Debug)]
pub struct WorkerConfig {
    /// Its index among the workers.
    pub index: u32,
    /// The master's node id.
    pub master: NodeId,
    /// The first worker's node id (worker `i` is node `first + i`).
    pub first: NodeId,
    /// How many workers.
    pub workers: u32,
    /// The input graph.
    pub graph: Arc<Graph>,
    /// The vertex program.
    pub program: Program,
    /// Whether messages are combined before sending.
    pub combiner: bool,
    /// How vertices are assigned.
    pub partition: PartitionKind,
    /// Checkpoint period in supersteps.
    pub checkpoint_every: u64,
    /// Batch resend period.
    pub resend: Duration,
    /// Planted bugs.
    pub flags: Flags,
}

/// A worker.
#[derive(Clone, Debug)]
pub struct Worker {
    cfg: WorkerConfig,
    /// Its vertices, ascending.
    vertices: Vec<VertexId>,
    incarnation: u64,
    /// The epoch it loaded in this incarnation, and its partition; `None` until the master says which
    /// checkpoint to load.
    loaded: Option<(Epoch, PartitionState)>,
    /// Batches not yet acknowledged, by destination node.
    unacked: BTreeMap<NodeId, Msg>,
    /// What it counted in the superstep it ran last.
    counts: Counts,
    /// What it counted in the superstep before (read under `pregel.no_barrier` only).
    counts_before: Counts,
    /// The superstep of the last `Start` of its epoch (read under `pregel.no_barrier` only).
    last_start: Superstep,
}

impl Worker {
    /// A worker that has not started.
    pub fn new(cfg: WorkerConfig) -> Worker {
        let vertices = (0..cfg.graph.vertices())
            .filter(|v| owner(cfg.partition, *v, cfg.workers) == cfg.index)
            .collect();
        Worker {
            cfg,
            vertices,
            incarnation: 0,
            loaded: None,
            unacked: BTreeMap::new(),
            counts: Counts::default(),
            counts_before: Counts::default(),
            last_start: 0,
        }
    }

    /// The epoch it loaded and its partition, if it has one.
    pub fn loaded(&self) -> Option<(Epoch, &PartitionState)> {
        self.loaded.as_ref().map(|(e, s)| (*e, s))
    }

    /// Its vertices, ascending (the order of [`PartitionState::values`]).
    pub fn vertices(&self) -> &[VertexId] {
        &self.vertices
    }

    fn initial_state(&self) -> PartitionState {
        PartitionState {
            superstep: 0,
            computed: false,
            values: vec![self.cfg.program.initial(); self.vertices.len()],
            halted: vec![false; self.vertices.len()],
            inbox: BTreeMap::new(),
        }
    }

    fn pong(&self, ctx: &Ctx<'_, PregelActor>) -> Msg {
        Msg::Pong {
            incarnation: self.incarnation,
            epoch: self.loaded.as_ref().map(|(e, _)| *e),
            output: ctx.durable().worker.output.is_some(),
        }
    }

    /// Starts (or restarts): a new incarnation, nothing loaded; tell the master.
    pub fn on_start(&mut self, ctx: &mut Ctx<'_, PregelActor>) {
        let disk = &mut ctx.durable_mut().worker;
        disk.incarnation += 1;
        self.incarnation = disk.incarnation;
        let pong = self.pong(ctx);
        ctx.send(self.cfg.master, pong);
    }

    /// Handles a message.
    pub fn on_msg(&mut self, ctx: &mut Ctx<'_, PregelActor>, from: NodeId, msg: Msg) {
        match msg {
            Msg::Ping => {
                let pong = self.pong(ctx);
                ctx.send(from, pong);
            }
            Msg::Load { epoch, checkpoint } => self.on_load(ctx, epoch, checkpoint),
            Msg::Start {
                epoch,
                superstep,
                committed,
                incarnation,
            } => {
                // A late copy of a command to the incarnation before a crash: this one did not
                // load the epoch's state the master believes it holds.
                if incarnation == self.incarnation {
                    self.on_start_superstep(ctx, epoch, superstep, committed);
                }
            }
            Msg::Finish { epoch } => self.on_finish(ctx, epoch),
            Msg::Batch {
                epoch,
                superstep,
                from: index,
                messages,
            } => {
                let Some((mine, state)) = self.loaded.as_mut() else {
                    return;
                };
                if *mine != epoch {
                    return;
                }
                // A batch of an older superstep is a late duplicate: its messages were read already.
                if superstep >= state.superstep {
                    state
                        .inbox
                        .entry(superstep + 1)
                        .or_default()
                        .insert(index, messages);
                }
                ctx.send(from, Msg::BatchAck { epoch, superstep });
            }
            Msg::BatchAck { epoch, superstep } => {
                let current =
                    matches!(&self.loaded, Some((e, s)) if *e == epoch && s.superstep == superstep);
                let pending = matches!(self.unacked.get(&from), Some(Msg::Batch { superstep: s, .. }) if *s == superstep);
                if current && pending {
                    self.unacked.remove(&from);
                    if self.unacked.is_empty() {
                        ctx.cancel_timer(Timer::Resend);
                        self.report_done(ctx);
                    }
                }
            }
            Msg::Pong { .. } | Msg::Loaded { .. } | Msg::Done { .. } | Msg::Finished { .. } => {}
        }
    }

    /// Handles a timer.
    pub fn on_timer(&mut self, ctx: &mut Ctx<'_, PregelActor>, timer: Timer) {
        match timer {
            Timer::Resend => {
                for (to, batch) in &self.unacked {
                    ctx.send(*to, batch.clone());
                }
                if !self.unacked.is_empty() {
                    ctx.set_timer(Timer::Resend, self.cfg.resend);
                }
            }
            Timer::RunAhead => {
                let Some((epoch, state)) = &self.loaded else {
                    return;
                };
                let (epoch, next) = (*epoch, state.superstep + 1);
                if state.computed && self.unacked.is_empty() && !self.job_over_here(state) {
                    self.begin(ctx, epoch, next);
                }
            }
            Timer::Heartbeat => {}
        }
    }

    /// Under `pregel.no_barrier`: nothing left to run on this worker alone.
    fn job_over_here(&self, state: &PartitionState) -> bool {
        state.halted.iter().all(|h| *h)
            && state
                .inbox
                .get(&(state.superstep + 1))
                .is_none_or(|m| m.values().all(Vec::is_empty))
    }

    fn on_load(&mut self, ctx: &mut Ctx<'_, PregelActor>, epoch: Epoch, at: Option<Superstep>) {
        if epoch < ctx.durable().worker.epoch {
            return; // a command from an abandoned epoch
        }
        if let Some((mine, _)) = &self.loaded
            && *mine == epoch
        {
            ctx.send(
                self.cfg.master,
                Msg::Loaded {
                    epoch,
                    incarnation: self.incarnation,
                },
            );
            return;
        }
        let state = if self.cfg.flags.skip_rollback && self.loaded.is_some() {
            // The planted bug: a worker that survived takes the checkpoint's superstep number but
            // keeps its newer values, halted flags and messages.
            self.loaded.take().map(|(_, mut s)| {
                s.superstep = at.unwrap_or(0);
                s.computed = false;
                s
            })
        } else {
            match at {
                None => Some(self.initial_state()),
                Some(s) => ctx.durable().worker.checkpoints.get(&s).cloned(),
            }
        };
        // A checkpoint this worker does not have was not asked by the current master (it asks only
        // for checkpoints every worker wrote and none may delete yet).
        let Some(state) = state else { return };
        // Checkpoints after the one loaded stay: they belong to the abandoned timeline, but none is
        // loaded before the new timeline writes it again, and deleting them here would let a late
        // copy of an old `Load` of this same epoch, delivered after a restart, delete a checkpoint
        // the master may roll back to next.
        ctx.durable_mut().worker.epoch = epoch;
        self.loaded = Some((epoch, state));
        self.unacked.clear();
        ctx.cancel_timer(Timer::Resend);
        ctx.cancel_timer(Timer::RunAhead);
        ctx.note(PregelNote::Loaded {
            epoch,
            checkpoint: at,
        });
        ctx.send(
            self.cfg.master,
            Msg::Loaded {
                epoch,
                incarnation: self.incarnation,
            },
        );
    }

    fn on_start_superstep(
        &mut self,
        ctx: &mut Ctx<'_, PregelActor>,
        epoch: Epoch,
        superstep: Superstep,
        committed: Option<Superstep>,
    ) {
        let Some((mine, state)) = &self.loaded else {
            return;
        };
        if *mine != epoch {
            return;
        }
        if let Some(c) = committed {
            ctx.durable_mut().worker.checkpoints.retain(|s, _| *s >= c);
        }
        self.last_start = superstep;
        let (at, computed) = (state.superstep, state.computed);
        let settled = self.unacked.is_empty();
        // Run it: loaded at its checkpoint, or done with the one before.
        let fresh = at == superstep && !computed;
        let next = at + 1 == superstep && computed && settled;
        if fresh || next {
            self.begin(ctx, epoch, superstep);
        } else if at == superstep && computed && settled {
            self.send_done(ctx, epoch, superstep, self.counts); // the master missed it
        } else if self.cfg.flags.no_barrier && at == superstep + 1 {
            // Ran ahead (the planted bug) and the master missed the report it had sent before.
            self.send_done(ctx, epoch, superstep, self.counts_before);
        }
    }

    /// Begins `superstep`: checkpoint if one is due, then `compute()` every active vertex or vertex
    /// with messages, then send the batches.
    fn begin(&mut self, ctx: &mut Ctx<'_, PregelActor>, epoch: Epoch, superstep: Superstep) {
        let Some((_, state)) = self.loaded.as_mut() else {
            return;
        };
        state.superstep = superstep;
        state.computed = false;
        if superstep.is_multiple_of(self.cfg.checkpoint_every) {
            let saved = state.checkpoint();
            ctx.durable_mut()
                .worker
                .checkpoints
                .insert(superstep, saved);
            ctx.note(PregelNote::Checkpointed { superstep });
        }
        let inbox = state.inbox.remove(&superstep).unwrap_or_default();
        ctx.note(PregelNote::Began {
            epoch,
            superstep,
            batches: inbox.len() as u32,
        });
        // Each vertex reads its messages in key order (source vertex, or sending worker when
        // combined), whatever order the network delivered them in: floating-point sums are then the
        // same on every run.
        let mut by_target: BTreeMap<VertexId, Vec<(u32, Val)>> = BTreeMap::new();
        for messages in inbox.into_values() {
            for (target, key, value) in messages {
                by_target.entry(target).or_default().push((key, value));
            }
        }
        let program = self.cfg.program;
        let mut sent: Vec<(VertexId, Val)> = Vec::new();
        // (target, source) of every message, in source order.
        let mut out: Vec<(VertexId, VertexId, Val)> = Vec::new();
        let mut values = Vec::new();
        for (i, v) in self.vertices.iter().enumerate() {
            let mut incoming = by_target.remove(v).unwrap_or_default();
            if state.halted[i] && incoming.is_empty() {
                continue;
            }
            incoming.sort_by_key(|(key, _)| *key);
            values.clear();
            values.extend(incoming.iter().map(|(_, value)| *value));
            sent.clear();
            let halt = program.compute(
                *v,
                superstep,
                &mut state.values[i],
                &values,
                self.cfg.graph.out_edges(*v),
                &mut sent,
            );
            state.halted[i] = halt;
            out.extend(sent.iter().map(|(t, value)| (*t, *v, *value)));
        }
        debug_assert!(
            by_target.is_empty(),
            "messages to vertices of another worker"
        );
        let active = state.halted.iter().filter(|h| !**h).count() as u64;
        let messages = out.len() as u64;

        // One batch per worker (the own one delivered locally), combined per target if asked.
        let mut batches: BTreeMap<u32, Vec<Wire>> =
            (0..self.cfg.workers).map(|w| (w, Vec::new())).collect();
        if self.cfg.combiner {
            let mut combined: BTreeMap<VertexId, Val> = BTreeMap::new();
            for (target, _, value) in out {
                combined
                    .entry(target)
                    .and_modify(|acc| *acc = program.combine(*acc, value))
                    .or_insert(value);
            }
            for (target, value) in combined {
                let w = owner(self.cfg.partition, target, self.cfg.workers);
                batches
                    .entry(w)
                    .or_default()
                    .push((target, self.cfg.index, value));
            }
        } else {
            for (target, source, value) in out {
                let w = owner(self.cfg.partition, target, self.cfg.workers);
                batches.entry(w).or_default().push((target, source, value));
            }
        }
        let combined = batches.values().map(|b| b.len() as u64).sum();
        self.counts_before = self.counts;
        self.counts = Counts {
            active,
            messages,
            combined,
        };
        state.computed = true;
        let own = batches.remove(&self.cfg.index).unwrap_or_default();
        state
            .inbox
            .entry(superstep + 1)
            .or_default()
            .insert(self.cfg.index, own);
        self.unacked.clear();
        for (w, messages) in batches {
            let to = self.cfg.first + w;
            let batch = Msg::Batch {
                epoch,
                superstep,
                from: self.cfg.index,
                messages,
            };
            ctx.send(to, batch.clone());
            self.unacked.insert(to, batch);
        }
        if self.unacked.is_empty() {
            self.report_done(ctx);
        } else {
            ctx.set_timer(Timer::Resend, self.cfg.resend);
        }
    }

    /// Every batch of the current superstep is acknowledged: tell the master (once).
    fn report_done(&mut self, ctx: &mut Ctx<'_, PregelActor>) {
        let Some((epoch, state)) = &self.loaded else {
            return;
        };
        let (epoch, superstep) = (*epoch, state.superstep);
        ctx.note(PregelNote::Done {
            epoch,
            superstep,
            active: self.counts.active,
            messages: self.counts.messages,
        });
        self.send_done(ctx, epoch, superstep, self.counts);
        if self.cfg.flags.no_barrier && superstep == self.last_start {
            // The planted bug: its own part done, on to the next superstep without waiting for the
            // others, with whatever messages have arrived (at most one superstep ahead of the
            // master, so that the job still ends).
            ctx.set_timer(Timer::RunAhead, Duration::from_nanos(1));
        }
    }

    fn send_done(
        &self,
        ctx: &mut Ctx<'_, PregelActor>,
        epoch: Epoch,
        superstep: Superstep,
        counts: Counts,
    ) {
        ctx.send(
            self.cfg.master,
            Msg::Done {
                epoch,
                superstep,
                incarnation: self.incarnation,
                counts,
            },
        );
    }

    fn on_finish(&mut self, ctx: &mut Ctx<'_, PregelActor>, epoch: Epoch) {
        let mut output = ctx.durable().worker.output.is_some();
        if !output
            && let Some((mine, state)) = &self.loaded
            && *mine == epoch
            && state.computed
            && self.unacked.is_empty()
        {
            let values: Vec<(VertexId, Val)> = self
                .vertices
                .iter()
                .copied()
                .zip(state.values.iter().copied())
                .collect();
            let vertices = values.len() as u32;
            ctx.durable_mut().worker.output = Some(values);
            ctx.note(PregelNote::Output {
                vertices,
                superstep: state.superstep,
            });
            output = true;
        }
        ctx.send(
            self.cfg.master,
            Msg::Finished {
                epoch,
                incarnation: self.incarnation,
                output,
            },
        );
    }
}
