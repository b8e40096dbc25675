//! A replica: makes local updates on its own random schedule and gossips its whole state to one
//! random peer every `gossip_ms`; a received state is merged (joined) into its own.
//!
//! The replicated state lives on the node's disk, written before any gossip leaves, so a crash
//! loses nothing a peer may already hold (a G-Counter replica that forgot its own increments would
//! count again from zero and lose them for good).

use super::lattice::{Crdt, CrdtType, Op};
use super::{CrdtNote, Msg, Timer};
use crate::contract::{Actor, Ctx, Duration, NodeId};
use serde::Serialize;

/// What a replica keeps on disk.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ReplicaDisk {
    /// The replicated value.
    pub crdt: Crdt,
    /// The updates merged into `crdt`: `seen[i]` is how many of replica `i`'s updates it holds.
    /// A replica's updates reach others only inside its whole state, which holds all its earlier
    /// ones, so the set of update ids merged is always a prefix per replica and this vector names
    /// it exactly.
    pub seen: Vec<u64>,
    /// Lamport clock: above every timestamp seen (LWW-Set stamps).
    pub clock: u64,
}

/// How replicas behave.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReplicaConfig {
    /// The data type.
    pub kind: CrdtType,
    /// Updates each replica makes in all.
    pub updates_per_node: u64,
    /// Least wait before each local update.
    pub update_min: Duration,
    /// Most wait before each local update.
    pub update_max: Duration,
    /// Gossip interval.
    pub gossip: Duration,
    /// Distinct set elements.
    pub elements: u32,
    /// `crdt.gcounter_sum_merge`.
    pub sum_merge: bool,
}

/// A CRDT replica.
#[derive(Clone, Debug)]
pub struct Replica {
    config: ReplicaConfig,
}

impl Replica {
    /// A replica with `config`.
    pub fn new(config: ReplicaConfig) -> Replica {
        Replica { config }
    }

    fn disk<'a>(ctx: &'a mut Ctx<'_, Self>) -> &'a mut ReplicaDisk {
        ctx.durable_mut()
            .as_mut()
            .expect("on_start writes the disk before anything else")
    }

    fn update(&mut self, ctx: &mut Ctx<'_, Self>) {
        let me = ctx.id();
        let elem = ctx.random_between(0, u64::from(self.config.elements) - 1) as u32;
        let add = ctx.rng().chance_ppm(500_000);
        let disk = Self::disk(ctx);
        let seq = disk.seen[me as usize] + 1;
        disk.clock += 1;
        let stamp = (disk.clock, me);
        let op = match (self.config.kind, add) {
            (CrdtType::GCounter, _) | (CrdtType::PnCounter, true) => Op::Inc { node: me },
            (CrdtType::PnCounter, false) => Op::Dec { node: me },
            (CrdtType::LwwSet, true) => Op::LwwAdd { elem, stamp },
            (CrdtType::LwwSet, false) => Op::LwwRemove { elem, stamp },
            (CrdtType::OrSet, true) => Op::OrAdd {
                elem,
                tag: (me, seq),
            },
            (CrdtType::OrSet, false) => Op::OrRemove {
                elem,
                tags: disk.crdt.live_tags(elem),
            },
        };
        disk.crdt.apply(&op);
        disk.seen[me as usize] = seq;
        ctx.note(CrdtNote::Updated { seq, op });
    }

    fn schedule_update(&self, ctx: &mut Ctx<'_, Self>) {
        let made = ctx
            .durable()
            .as_ref()
            .map_or(0, |d| d.seen[ctx.id() as usize]);
        if made < self.config.updates_per_node {
            let wait = ctx.random_duration(self.config.update_min, self.config.update_max);
            ctx.set_timer(Timer::Update, wait);
        }
    }
}

impl Actor for Replica {
    type Msg = Msg;
    type Timer = Timer;
    type Durable = Option<ReplicaDisk>;
    type Note = CrdtNote;

    fn on_start(&mut self, ctx: &mut Ctx<'_, Self>) {
        if !ctx.cluster().is_server(ctx.id()) {
            return;
        }
        let servers = ctx.cluster().servers;
        let kind = self.config.kind;
        ctx.durable_mut().get_or_insert_with(|| ReplicaDisk {
            crdt: Crdt::new(kind, servers),
            seen: vec![0; servers as usize],
            clock: 0,
        });
        self.schedule_update(ctx);
        let first = ctx.random_duration(Duration::ZERO, self.config.gossip);
        ctx.set_timer(Timer::Gossip, first);
    }

    fn on_msg(&mut self, ctx: &mut Ctx<'_, Self>, from: NodeId, msg: Msg) {
        let Msg::State { crdt, seen } = msg;
        if ctx.durable().is_none() {
            return;
        }
        let sum_merge = self.config.sum_merge;
        let disk = Self::disk(ctx);
        if sum_merge {
            disk.crdt.merge_summing(&crdt);
        } else {
            disk.crdt.merge(&crdt);
        }
        for (mine, theirs) in disk.seen.iter_mut().zip(&seen) {
            *mine = (*mine).max(*theirs);
        }
        disk.clock = disk.clock.max(crdt.max_time());
        ctx.note(CrdtNote::Merged { from });
    }

    fn on_timer(&mut self, ctx: &mut Ctx<'_, Self>, timer: Timer) {
        match timer {
            Timer::Update => {
                self.update(ctx);
                self.schedule_update(ctx);
            }
            Timer::Gossip => {
                let peers: Vec<NodeId> = ctx.peers().collect();
                if let Some(&to) = ctx.rng().pick(&peers)
                    && let Some(disk) = ctx.durable().as_ref()
                {
                    let msg = Msg::State {
                        crdt: disk.crdt.clone(),
                        seen: disk.seen.clone(),
                    };
                    ctx.send(to, msg);
                }
                ctx.set_timer(Timer::Gossip, self.config.gossip);
            }
        }
    }
}
