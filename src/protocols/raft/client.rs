//! The Raft client: runs a random key-value workload against the cluster and records its history.
//!
//! Each client draws its workload from its own random stream: `ops_per_client` operations, one at a
//! time, on keys `k0..k{keys-1}`, a weighted mix of get, put and compare-and-set, with a random think
//! time between operations. Written values are unique (`c{client}-{seq}`), which keeps histories easy
//! to check. A compare-and-set expects the last value this client saw under the key (it does a get
//! first if it has seen none).
//!
//! Finding the leader (Raft paper §8): the client sends to the server it believes leads (initially a
//! guess spread over clients), follows `NotLeader { leader_hint }` redirects, and moves round-robin to
//! the next server when an attempt times out. Every retry carries the same sequence number, so the
//! servers' session table applies the operation at most once. When the operation's deadline passes the
//! client gives up: it records the outcome as unknown (`Info`) and continues under a fresh process id,
//! as Jepsen does, because the abandoned operation may still take effect later.
//!
//! The client's disk holds its next sequence number and its process generation, so a restarted client
//! neither reuses a sequence number (which the session table would mistake for a retry) nor a process
//! id (whose last operation may be open for ever).

use super::message::{ClientOutcome, KvOp, KvResult, Msg, RaftTimer, Request};
use super::{RaftActor, RaftNote};
use crate::contract::Duration;
use crate::contract::{Cluster, Ctx, NodeId};
use crate::contract::{EventKind, Func, Value};
use std::collections::BTreeMap;
use std::sync::Arc;

/// A client's disk.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ClientDisk {
    /// The last sequence number used (0: none yet).
    pub last_seq: u64,
    /// How many process ids this client has used (it takes a new one per give-up and per restart).
    pub generation: u64,
    /// Operations started so far, across restarts.
    pub ops_started: u32,
}

/// A client's workload and timing, fixed for the run.
#[derive(Clone, Debug)]
pub struct ClientConfig {
    /// Operations to run in all.
    pub ops_per_client: u32,
    /// Number of distinct keys.
    pub keys: u32,
    /// Relative weight of get.
    pub get_weight: u32,
    /// Relative weight of put.
    pub put_weight: u32,
    /// Relative weight of compare-and-set.
    pub cas_weight: u32,
    /// Least think time before an operation.
    pub think_min: Duration,
    /// Most think time before an operation.
    pub think_max: Duration,
    /// How long one attempt waits for a reply before retrying elsewhere.
    pub attempt_timeout: Duration,
    /// How long the client tries an operation before giving up on it.
    pub op_deadline: Duration,
}

/// The operation in flight.
#[derive(Clone, Debug)]
struct Pending {
    seq: u64,
    op: KvOp,
    f: Func,
    invoke_value: Value,
    attempts: u32,
}

/// A Raft client.
#[derive(Clone, Debug)]
pub struct Client {
    // Identity and configuration.
    id: NodeId,
    cluster: Cluster,
    cfg: ClientConfig,
    // The history process this client currently records under.
    process: u64,
    // Where requests go.
    leader_guess: NodeId,
    guess_is_fresh: bool,
    redirects: u32,
    // The operation in flight, and what this client has seen of each key.
    pending: Option<Pending>,
    known: BTreeMap<Arc<str>, Arc<str>>,
}

type RaftCtx<'a> = Ctx<'a, RaftActor>;

impl Client {
    /// A client as it boots.
    pub fn new(id: NodeId, cluster: Cluster, cfg: ClientConfig) -> Client {
        debug_assert!(!cluster.is_server(id) && cluster.servers > 0);
        Client {
            id,
            cluster,
            cfg,
            process: u64::from(id),
            leader_guess: (id - cluster.servers) % cluster.servers,
            guess_is_fresh: true,
            redirects: 0,
            pending: None,
            known: BTreeMap::new(),
        }
    }

    /// The history process this client records under now.
    pub fn process(&self) -> u64 {
        self.process
    }

    /// The server this client will send to next.
    pub fn leader_guess(&self) -> NodeId {
        self.leader_guess
    }

    /// Whether an operation is in flight.
    pub fn busy(&self) -> bool {
        self.pending.is_some()
    }

    /// Boot or reboot: take a fresh process id and continue the workload.
    pub fn on_start(&mut self, ctx: &mut RaftCtx<'_>) {
        self.new_process(ctx);
        self.schedule_next(ctx);
    }

    /// A reply from a server.
    pub fn on_msg(&mut self, ctx: &mut RaftCtx<'_>, from: NodeId, msg: Msg) {
        let Msg::ClientReply { seq, outcome } = msg else {
            return;
        };
        if self.pending.as_ref().is_none_or(|p| p.seq != seq) {
            return; // a late or duplicated reply to an operation already finished
        }
        match outcome {
            ClientOutcome::Done(result) => self.finish(ctx, from, result),
            ClientOutcome::NotLeader { leader_hint } => match leader_hint {
                Some(hint) if hint != from && self.redirects < self.cluster.servers => {
                    // Follow the redirect at once (bounded, so stale hints cannot ping-pong for ever).
                    self.redirects += 1;
                    self.leader_guess = hint;
                    self.guess_is_fresh = true;
                    self.send_pending(ctx);
                }
                _ => {
                    // No leader known there: try the next server when this attempt times out.
                    self.leader_guess = (from + 1) % self.cluster.servers;
                    self.guess_is_fresh = true;
                }
            },
        }
    }

    /// A timer fired.
    pub fn on_timer(&mut self, ctx: &mut RaftCtx<'_>, timer: RaftTimer) {
        match timer {
            RaftTimer::ClientThink => self.start_op(ctx),
            RaftTimer::ClientAttempt => {
                if self.pending.is_none() {
                    return;
                }
                if !self.guess_is_fresh {
                    self.leader_guess = (self.leader_guess + 1) % self.cluster.servers;
                }
                self.guess_is_fresh = false;
                self.redirects = 0;
                self.send_pending(ctx);
            }
            RaftTimer::ClientDeadline => self.give_up(ctx),
            RaftTimer::Election | RaftTimer::Heartbeat => {}
        }
    }

    fn new_process(&mut self, ctx: &mut RaftCtx<'_>) {
        let d = &mut ctx.durable_mut().client;
        let generation = d.generation;
        d.generation += 1;
        self.process = u64::from(self.id) + generation * u64::from(self.cluster.node_count());
    }

    fn schedule_next(&mut self, ctx: &mut RaftCtx<'_>) {
        if ctx.durable().client.ops_started < self.cfg.ops_per_client {
            let after = ctx.random_duration(self.cfg.think_min, self.cfg.think_max);
            ctx.set_timer(RaftTimer::ClientThink, after);
        }
    }

    fn start_op(&mut self, ctx: &mut RaftCtx<'_>) {
        if self.pending.is_some() || ctx.durable().client.ops_started >= self.cfg.ops_per_client {
            return;
        }
        let key_text = format!("k{}", ctx.rng().below(u64::from(self.cfg.keys)));
        let key: Arc<str> = Arc::from(key_text.as_str());
        let total = u64::from(self.cfg.get_weight)
            + u64::from(self.cfg.put_weight)
            + u64::from(self.cfg.cas_weight);
        let draw = ctx.rng().below(total);
        let d = &mut ctx.durable_mut().client;
        d.ops_started += 1;
        d.last_seq += 1;
        let seq = d.last_seq;
        let fresh = format!("c{}-{}", self.id, seq);
        let wants_put = draw >= u64::from(self.cfg.get_weight);
        let wants_cas = draw >= u64::from(self.cfg.get_weight) + u64::from(self.cfg.put_weight);
        let (op, f, invoke_value) = match (wants_cas, self.known.get(&key)) {
            (true, Some(from)) => (
                KvOp::Cas {
                    key: key.clone(),
                    from: from.clone(),
                    to: Arc::from(fresh.as_str()),
                },
                Func::CAS,
                Value::List(vec![Value::Str(String::from(&**from)), Value::Str(fresh)]),
            ),
            // A compare-and-set needs a value to expect: learn one first.
            (true, None) => (KvOp::Get { key: key.clone() }, Func::GET, Value::Nil),
            (false, _) if wants_put => (
                KvOp::Put {
                    key: key.clone(),
                    value: Arc::from(fresh.as_str()),
                },
                Func::PUT,
                Value::Str(fresh),
            ),
            (false, _) => (KvOp::Get { key: key.clone() }, Func::GET, Value::Nil),
        };
        ctx.invoke(
            self.process,
            f.clone(),
            Some(key_text),
            invoke_value.clone(),
        );
        self.pending = Some(Pending {
            seq,
            op,
            f,
            invoke_value,
            attempts: 0,
        });
        self.redirects = 0;
        self.send_pending(ctx);
        ctx.set_timer(RaftTimer::ClientDeadline, self.cfg.op_deadline);
    }

    fn send_pending(&mut self, ctx: &mut RaftCtx<'_>) {
        let Some(p) = &mut self.pending else {
            return;
        };
        p.attempts += 1;
        let req = Request {
            client: self.id,
            seq: p.seq,
            op: p.op.clone(),
        };
        ctx.send(self.leader_guess, Msg::ClientRequest(req));
        ctx.set_timer(RaftTimer::ClientAttempt, self.cfg.attempt_timeout);
    }

    fn finish(&mut self, ctx: &mut RaftCtx<'_>, from: NodeId, result: KvResult) {
        let Some(p) = self.pending.take() else {
            return;
        };
        let key = op_key(&p.op).clone();
        let (kind, value) = match (&p.op, result) {
            (KvOp::Put { value, .. }, KvResult::Written) => {
                self.known.insert(key.clone(), value.clone());
                (EventKind::Ok, p.invoke_value.clone())
            }
            (KvOp::Get { .. }, KvResult::Read { value }) => {
                match &value {
                    Some(v) => self.known.insert(key.clone(), v.clone()),
                    None => self.known.remove(&key),
                };
                (
                    EventKind::Ok,
                    value.map_or(Value::Nil, |v| Value::Str(String::from(&*v))),
                )
            }
            (KvOp::Cas { to, .. }, KvResult::Swapped) => {
                self.known.insert(key.clone(), to.clone());
                (EventKind::Ok, p.invoke_value.clone())
            }
            (KvOp::Cas { .. }, KvResult::CasFailed { current }) => {
                match current {
                    Some(v) => self.known.insert(key.clone(), v),
                    None => self.known.remove(&key),
                };
                (EventKind::Fail, p.invoke_value.clone())
            }
            _ => {
                // A result of the wrong kind cannot answer this request; keep waiting.
                self.pending = Some(p);
                return;
            }
        };
        ctx.complete(self.process, kind, p.f, Some(String::from(&*key)), value);
        ctx.note(RaftNote::OpCompleted {
            process: self.process,
            seq: p.seq,
            outcome: kind,
            attempts: p.attempts,
        });
        ctx.cancel_timer(RaftTimer::ClientAttempt);
        ctx.cancel_timer(RaftTimer::ClientDeadline);
        self.leader_guess = from; // whoever answered leads (or did)
        self.guess_is_fresh = true;
        self.schedule_next(ctx);
    }

    fn give_up(&mut self, ctx: &mut RaftCtx<'_>) {
        let Some(p) = self.pending.take() else {
            return;
        };
        let key = String::from(p.op.key());
        ctx.complete(
            self.process,
            EventKind::Info,
            p.f,
            Some(key),
            p.invoke_value,
        );
        ctx.note(RaftNote::OpCompleted {
            process: self.process,
            seq: p.seq,
            outcome: EventKind::Info,
            attempts: p.attempts,
        });
        ctx.cancel_timer(RaftTimer::ClientAttempt);
        // The abandoned operation may still take effect: later ones go under a new process id.
        self.new_process(ctx);
        self.schedule_next(ctx);
    }
}

/// The key of `op`, shared (the client's `known` map keeps it without copying the text).
fn op_key(op: &KvOp) -> &Arc<str> {
    match op {
        KvOp::Get { key } | KvOp::Put { key, .. } | KvOp::Cas { key, .. } => key,
    }
}
