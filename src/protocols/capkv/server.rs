//! A replica, in one of the three modes. See `mod.rs` for the algorithms.

use super::message::{CapTimer, Msg, Request, Stored, Version};
use super::mutants::Flags;
use super::{CapActor, CapNote, Mode, RefuseReason};
use crate::contract::client::{ClientOutcome, KvOp, KvResult};
use crate::contract::{Cluster, Ctx, Duration, NodeId, Time};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

/// A server's fixed configuration.
#[derive(Clone, Copy, Debug)]
pub struct ServerConfig {
    /// CP, AP or CA.
    pub mode: Mode,
    /// How many servers (the coordinator included) an ABD phase waits for.
    pub quorum: u32,
    /// How long an ABD operation waits for its quorums before it is refused.
    pub quorum_timeout: Duration,
    /// Heartbeat interval of the failure detector.
    pub heartbeat: Duration,
    /// A peer not heard from for longer is unreachable (CA refuses, AP notes it).
    pub partition_timeout: Duration,
    /// AP anti-entropy interval.
    pub gossip: Duration,
    /// Mutants.
    pub flags: Flags,
}

/// What a server keeps on disk: its replica of the store, and what it needs to stay unique and
/// at-most-once across restarts.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ServerDisk {
    /// The replica: every key written, with its version.
    pub store: BTreeMap<Arc<str>, Stored>,
    /// AP: the Lamport clock.
    pub lamport: u64,
    /// The next ABD operation id (durable, so replies to a crashed incarnation's ops never match).
    pub next_op: u64,
    /// The last sequence number handled per client (a duplicated request is ignored).
    pub last_seq: BTreeMap<NodeId, u64>,
}

impl ServerDisk {
    /// The key's version and value (version zero, no value, if never written).
    pub fn get(&self, key: &str) -> Stored {
        self.store.get(key).cloned().unwrap_or_default()
    }

    /// Keeps `stored` if it is newer than what the replica holds. Returns whether it was.
    pub fn merge(&mut self, key: &Arc<str>, stored: &Stored) -> bool {
        if stored.version > self.get(key).version {
            self.store.insert(key.clone(), stored.clone());
            true
        } else {
            false
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    Query,
    Store,
}

/// An ABD operation this server coordinates.
#[derive(Clone, Debug)]
struct AbdOp {
    client: NodeId,
    seq: u64,
    op: KvOp,
    phase: Phase,
    /// Servers that answered the current phase (the coordinator itself included).
    answered: BTreeSet<NodeId>,
    /// Phase 1: the highest version seen; phase 2: what is being stored.
    best: Stored,
}

/// A replica of the store.
#[derive(Clone, Debug)]
pub struct Server {
    id: NodeId,
    cluster: Cluster,
    cfg: ServerConfig,
    ops: BTreeMap<u64, AbdOp>,
    /// Failure detector: local time each peer was last heard from.
    last_heard: BTreeMap<NodeId, Time>,
    /// AP anti-entropy: the next peer, round robin (every pair talks within n-1 rounds).
    gossip_next: u32,
}

impl Server {
    /// A server as it boots.
    pub fn new(id: NodeId, cluster: Cluster, cfg: ServerConfig) -> Server {
        Server {
            id,
            cluster,
            cfg,
            ops: BTreeMap::new(),
            last_heard: BTreeMap::new(),
            gossip_next: 0,
        }
    }

    /// The ABD operations in flight.
    pub fn ops_in_flight(&self) -> usize {
        self.ops.len()
    }

    /// Whether the failure detector hears every peer (always true in CP, which does not run it).
    pub fn hears_everyone(&self, now: Time) -> bool {
        self.cluster
            .server_ids()
            .filter(|p| *p != self.id)
            .all(|p| {
                self.last_heard
                    .get(&p)
                    .is_some_and(|t| now.saturating_since(*t) <= self.cfg.partition_timeout)
            })
    }

    /// Boot or reboot.
    pub fn on_start(&mut self, ctx: &mut Ctx<'_, CapActor>) {
        if self.cfg.mode != Mode::Cp {
            self.heartbeat(ctx);
        }
        if self.cfg.mode == Mode::Ap {
            self.gossip_next = ctx.rng().below(u64::from(self.cluster.servers)) as u32;
            ctx.set_timer(CapTimer::Gossip, self.cfg.gossip);
        }
    }

    /// A message.
    pub fn on_msg(&mut self, ctx: &mut Ctx<'_, CapActor>, from: NodeId, msg: Msg) {
        if self.cluster.is_server(from) {
            self.last_heard.insert(from, ctx.now());
        }
        match msg {
            Msg::ClientRequest(req) => self.on_request(ctx, req),
            Msg::Query { op, key } => {
                let stored = ctx.durable().server.get(&key);
                ctx.send(from, Msg::QueryReply { op, stored });
            }
            Msg::QueryReply { op, stored } => self.on_query_reply(ctx, from, op, stored),
            Msg::Store { op, key, stored } => {
                ctx.durable_mut().server.merge(&key, &stored);
                ctx.send(from, Msg::StoreAck { op });
            }
            Msg::StoreAck { op } => self.on_store_ack(ctx, from, op),
            Msg::Update { key, stored } => self.absorb(ctx, &key, &stored),
            Msg::Gossip { entries, reply } => {
                for (key, stored) in &entries {
                    self.absorb(ctx, key, stored);
                }
                if reply {
                    let entries = self.entries(ctx);
                    ctx.send(
                        from,
                        Msg::Gossip {
                            entries,
                            reply: false,
                        },
                    );
                }
            }
            Msg::Ping | Msg::ClientReply { .. } => {}
        }
    }

    /// A timer.
    pub fn on_timer(&mut self, ctx: &mut Ctx<'_, CapActor>, timer: CapTimer) {
        match timer {
            CapTimer::OpTimeout(op) => {
                if let Some(o) = self.ops.remove(&op) {
                    self.refuse(ctx, o.client, o.seq, RefuseReason::NoQuorum);
                }
            }
            CapTimer::Heartbeat => self.heartbeat(ctx),
            CapTimer::Gossip => {
                let n = self.cluster.servers;
                if n > 1 {
                    let mut peer = self.gossip_next % n;
                    if peer == self.id {
                        peer = (peer + 1) % n;
                    }
                    self.gossip_next = peer + 1;
                    let entries = self.entries(ctx);
                    ctx.send(
                        peer,
                        Msg::Gossip {
                            entries,
                            reply: true,
                        },
                    );
                }
                ctx.set_timer(CapTimer::Gossip, self.cfg.gossip);
            }
            CapTimer::ClientThink | CapTimer::ClientAttempt | CapTimer::ClientDeadline => {}
        }
    }

    fn heartbeat(&mut self, ctx: &mut Ctx<'_, CapActor>) {
        ctx.broadcast(Msg::Ping);
        ctx.set_timer(CapTimer::Heartbeat, self.cfg.heartbeat);
    }

    fn entries(&self, ctx: &Ctx<'_, CapActor>) -> Vec<(Arc<str>, Stored)> {
        ctx.durable()
            .server
            .store
            .iter()
            .map(|(k, s)| (k.clone(), s.clone()))
            .collect()
    }

    /// AP: merges a version from a peer (last writer wins) and advances the Lamport clock past it.
    fn absorb(&mut self, ctx: &mut Ctx<'_, CapActor>, key: &Arc<str>, stored: &Stored) {
        let disk = &mut ctx.durable_mut().server;
        disk.lamport = disk.lamport.max(stored.version.time);
        disk.merge(key, stored);
    }

    fn on_request(&mut self, ctx: &mut Ctx<'_, CapActor>, req: Request) {
        let disk = &mut ctx.durable_mut().server;
        if disk
            .last_seq
            .get(&req.client)
            .is_some_and(|s| *s >= req.seq)
        {
            return; // a duplicated delivery of a request already handled
        }
        disk.last_seq.insert(req.client, req.seq);
        match self.cfg.mode {
            Mode::Ap => self.serve_locally(ctx, req),
            Mode::Ca if !self.hears_everyone(ctx.now()) => {
                self.refuse(ctx, req.client, req.seq, RefuseReason::PartitionDetected)
            }
            Mode::Ca | Mode::Cp => self.start_abd(ctx, req),
        }
    }

    fn refuse(&mut self, ctx: &mut Ctx<'_, CapActor>, client: NodeId, seq: u64, why: RefuseReason) {
        ctx.note(CapNote::Refused {
            client,
            seq,
            reason: why,
        });
        ctx.send(
            client,
            Msg::ClientReply {
                seq,
                outcome: ClientOutcome::NotLeader { leader_hint: None },
            },
        );
    }

    /// AP: answer from the local replica, whatever the network does.
    fn serve_locally(&mut self, ctx: &mut Ctx<'_, CapActor>, req: Request) {
        let whole = self.hears_everyone(ctx.now());
        let result = match &req.op {
            KvOp::Get { key } => {
                if !whole {
                    ctx.note(CapNote::ReadWhilePartitioned { key: key.clone() });
                }
                KvResult::Read {
                    value: ctx.durable().server.get(key).value,
                }
            }
            KvOp::Put { key, value } => {
                let disk = &mut ctx.durable_mut().server;
                disk.lamport = disk.lamport.max(disk.get(key).version.time) + 1;
                let stored = Stored {
                    version: Version {
                        time: disk.lamport,
                        node: self.id,
                        op: 0,
                    },
                    value: Some(value.clone()),
                };
                disk.merge(key, &stored);
                ctx.note(CapNote::Wrote {
                    key: key.clone(),
                    version: stored.version,
                });
                if !whole {
                    ctx.note(CapNote::WriteWhilePartitioned { key: key.clone() });
                }
                ctx.broadcast(Msg::Update {
                    key: key.clone(),
                    stored,
                });
                KvResult::Written
            }
            // Not offered: compare-and-set needs consensus, which none of the modes runs.
            KvOp::Cas { .. } => return,
        };
        ctx.send(
            req.client,
            Msg::ClientReply {
                seq: req.seq,
                outcome: ClientOutcome::Done(result),
            },
        );
    }

    /// ABD phase 1: ask every replica for its version of the key; the coordinator answers itself.
    fn start_abd(&mut self, ctx: &mut Ctx<'_, CapActor>, req: Request) {
        if matches!(req.op, KvOp::Cas { .. }) {
            return; // not offered (see `serve_locally`)
        }
        let disk = &mut ctx.durable_mut().server;
        let id = disk.next_op;
        disk.next_op += 1;
        let key: Arc<str> = Arc::from(req.op.key());
        let own = disk.get(&key);
        self.ops.insert(
            id,
            AbdOp {
                client: req.client,
                seq: req.seq,
                op: req.op,
                phase: Phase::Query,
                answered: BTreeSet::from([self.id]),
                best: own,
            },
        );
        ctx.broadcast(Msg::Query { op: id, key });
        ctx.set_timer(CapTimer::OpTimeout(id), self.cfg.quorum_timeout);
        self.advance(ctx, id);
    }

    fn on_query_reply(&mut self, ctx: &mut Ctx<'_, CapActor>, from: NodeId, op: u64, s: Stored) {
        let Some(o) = self.ops.get_mut(&op) else {
            return;
        };
        if o.phase != Phase::Query || !o.answered.insert(from) {
            return;
        }
        if s.version > o.best.version {
            o.best = s;
        }
        self.advance(ctx, op);
    }

    fn on_store_ack(&mut self, ctx: &mut Ctx<'_, CapActor>, from: NodeId, op: u64) {
        let Some(o) = self.ops.get_mut(&op) else {
            return;
        };
        if o.phase != Phase::Store || !o.answered.insert(from) {
            return;
        }
        self.advance(ctx, op);
    }

    /// Moves operation `id` on if its current phase has its quorum.
    fn advance(&mut self, ctx: &mut Ctx<'_, CapActor>, id: u64) {
        let Some(o) = self.ops.get_mut(&id) else {
            return;
        };
        if (o.answered.len() as u32) < self.cfg.quorum {
            return;
        }
        let key: Arc<str> = Arc::from(o.op.key());
        match o.phase {
            Phase::Query => {
                match &o.op {
                    KvOp::Put { value, .. } => {
                        o.best = Stored {
                            version: Version {
                                time: o.best.version.time + 1,
                                node: self.id,
                                op: id,
                            },
                            value: Some(value.clone()),
                        };
                        ctx.note(CapNote::Wrote {
                            key: key.clone(),
                            version: o.best.version,
                        });
                    }
                    KvOp::Get { .. } if self.cfg.flags.read_without_writeback => {
                        return self.answer(ctx, id);
                    }
                    KvOp::Get { .. } | KvOp::Cas { .. } => {}
                }
                // Phase 2: store the new version (a write) or write back the one read.
                o.phase = Phase::Store;
                o.answered = BTreeSet::from([self.id]);
                let stored = o.best.clone();
                ctx.durable_mut().server.merge(&key, &stored);
                ctx.broadcast(Msg::Store {
                    op: id,
                    key,
                    stored,
                });
                self.advance(ctx, id);
            }
            Phase::Store => self.answer(ctx, id),
        }
    }

    fn answer(&mut self, ctx: &mut Ctx<'_, CapActor>, id: u64) {
        let Some(o) = self.ops.remove(&id) else {
            return;
        };
        ctx.cancel_timer(CapTimer::OpTimeout(id));
        let result = match o.op {
            KvOp::Put { .. } => KvResult::Written,
            _ => KvResult::Read {
                value: o.best.value,
            },
        };
        ctx.send(
            o.client,
            Msg::ClientReply {
                seq: o.seq,
                outcome: ClientOutcome::Done(result),
            },
        );
    }
}
