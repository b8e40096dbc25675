//! The reusable client: runs a key-value workload against a replicated service and records the
//! history the linearizability checker reads. Raft's clients are this client; Paxos, the CAP store
//! and PBFT reuse it. A protocol links it to its own messages, timers, disk and notes with a
//! [`ClientLink`].
//!
//! Each client draws its workload from its own random stream: `ops_per_client` operations, one at a
//! time, on keys `k0..k{keys-1}`, a weighted mix of get, put and compare-and-set, with a random think
//! time between operations. Written values are unique (`c{client}-{seq}`), which keeps histories easy
//! to check. A compare-and-set expects the last value this client saw under the key (it does a get
//! first if it has seen none).
//!
//! Finding the leader or primary: the client sends to the server it believes leads (initially a guess
//! spread over clients), follows `Redirect { leader_hint }` answers, and moves round-robin to the next
//! server when an attempt times out. Every retry carries the same sequence number, so a service that
//! keeps sessions applies the operation at most once. When the operation's deadline passes the client
//! gives up: it records the outcome as unknown (`Info`) and continues under a fresh process id, as
//! Jepsen does, because the abandoned operation may still take effect later.
//!
//! The client's disk ([`ClientDisk`], a field of the protocol's durable state) holds its next sequence
//! number and its process generation, so a restarted client neither reuses a sequence number (which a
//! session table would mistake for a retry) nor a process id (whose last operation may be open for
//! ever).

use crate::contract::actor::{Actor, Cluster, Ctx, NodeId};
use crate::contract::history::{EventKind, Func, Value};
use crate::contract::time::Duration;
use serde::Serialize;
use std::collections::BTreeMap;
use std::marker::PhantomData;
use std::sync::Arc;

/// A key-value operation, as a client asks for it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "f", rename_all = "snake_case")]
pub enum KvOp {
    /// Read `key`.
    Get {
        /// The key.
        key: Arc<str>,
    },
    /// Write `value` under `key`.
    Put {
        /// The key.
        key: Arc<str>,
        /// The new value.
        value: Arc<str>,
    },
    /// Write `to` under `key` if it currently holds `from`.
    Cas {
        /// The key.
        key: Arc<str>,
        /// The expected current value.
        from: Arc<str>,
        /// The new value.
        to: Arc<str>,
    },
}

impl KvOp {
    /// The key the operation touches.
    pub fn key(&self) -> &str {
        match self {
            KvOp::Get { key } | KvOp::Put { key, .. } | KvOp::Cas { key, .. } => key,
        }
    }
}

/// The result of applying a client operation to the key-value state machine.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum KvResult {
    /// A put took effect.
    Written,
    /// A get read `value` (`None`: the key was never written).
    Read {
        /// What was read.
        value: Option<Arc<str>>,
    },
    /// A compare-and-set matched and wrote its new value.
    Swapped,
    /// A compare-and-set did not match; nothing was written.
    CasFailed {
        /// The key's value at the time.
        current: Option<Arc<str>>,
    },
}

/// A service's answer to a client request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum ClientOutcome {
    /// The request was applied (now, or earlier for a retried request) with this result.
    Done(KvResult),
    /// This server is not the leader (or primary); try `leader_hint` if it knows one.
    NotLeader {
        /// The leader of the server's current term, if it has heard from one.
        leader_hint: Option<NodeId>,
    },
}

/// The client's three timers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClientTimer {
    /// Think time is over: start the next operation.
    Think,
    /// The current attempt timed out: retry (same sequence number) elsewhere.
    Attempt,
    /// The operation's deadline passed: give up on it (outcome unknown).
    Deadline,
}

/// A client finished an operation (`Info`: it gave up): what a protocol may note.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OpCompleted {
    /// The history process it ran under.
    pub process: u64,
    /// The request's sequence number.
    pub seq: u64,
    /// Ok, Fail (compare-and-set mismatch) or Info.
    pub outcome: EventKind,
    /// How many times it was sent.
    pub attempts: u32,
}

/// How a protocol plugs the client into its own types.
pub trait ClientLink<A: Actor> {
    /// The message carrying request `seq` of `client`.
    fn request(client: NodeId, seq: u64, op: KvOp) -> A::Msg;
    /// The protocol's tag for one of the client's timers.
    fn timer(timer: ClientTimer) -> A::Timer;
    /// The client's part of the node's disk.
    fn disk(durable: &A::Durable) -> &ClientDisk;
    /// The same, to write.
    fn disk_mut(durable: &mut A::Durable) -> &mut ClientDisk;
    /// The note for a finished operation, if the protocol keeps one.
    fn completed(done: OpCompleted) -> Option<A::Note>;
    /// The client timer a protocol timer tag stands for, if it is one (the inverse of [`Self::timer`]).
    fn client_timer(timer: &A::Timer) -> Option<ClientTimer>;
    /// The request number and answer a message carries, if it is a reply to a client.
    fn reply(msg: A::Msg) -> Option<(u64, ClientOutcome)>;
}

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

/// A key-value client of a replicated service; `L` links it to the protocol `A`.
pub struct KvClient<A, L> {
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
    link: PhantomData<fn() -> (A, L)>,
}

// Written by hand: a derive would ask `A` and `L` for Clone and Debug, which the client never needs.
impl<A, L> Clone for KvClient<A, L> {
    fn clone(&self) -> Self {
        KvClient {
            id: self.id,
            cluster: self.cluster,
            cfg: self.cfg.clone(),
            process: self.process,
            leader_guess: self.leader_guess,
            guess_is_fresh: self.guess_is_fresh,
            redirects: self.redirects,
            pending: self.pending.clone(),
            known: self.known.clone(),
            link: PhantomData,
        }
    }
}

impl<A, L> std::fmt::Debug for KvClient<A, L> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KvClient")
            .field("id", &self.id)
            .field("process", &self.process)
            .field("leader_guess", &self.leader_guess)
            .field("pending", &self.pending)
            .finish_non_exhaustive()
    }
}

impl<A: Actor, L: ClientLink<A>> KvClient<A, L> {
    /// A client as it boots.
    pub fn new(id: NodeId, cluster: Cluster, cfg: ClientConfig) -> Self {
        debug_assert!(!cluster.is_server(id) && cluster.servers > 0);
        KvClient {
            id,
            cluster,
            cfg,
            process: u64::from(id),
            leader_guess: (id - cluster.servers) % cluster.servers,
            guess_is_fresh: true,
            redirects: 0,
            pending: None,
            known: BTreeMap::new(),
            link: PhantomData,
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
    pub fn on_start(&mut self, ctx: &mut Ctx<'_, A>) {
        self.new_process(ctx);
        self.schedule_next(ctx);
    }

    /// A message from `from`: a reply to one of this client's requests, or nothing it handles.
    pub fn handle_msg(&mut self, ctx: &mut Ctx<'_, A>, from: NodeId, msg: A::Msg) {
        if let Some((seq, outcome)) = L::reply(msg) {
            self.on_reply(ctx, from, seq, outcome);
        }
    }

    /// A timer of the protocol's: one of this client's, or nothing it handles.
    pub fn handle_timer(&mut self, ctx: &mut Ctx<'_, A>, timer: A::Timer) {
        if let Some(t) = L::client_timer(&timer) {
            self.on_timer(ctx, t);
        }
    }

    /// The answer `outcome` from server `from` to request `seq`.
    pub fn on_reply(
        &mut self,
        ctx: &mut Ctx<'_, A>,
        from: NodeId,
        seq: u64,
        outcome: ClientOutcome,
    ) {
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

    /// One of the client's timers fired.
    pub fn on_timer(&mut self, ctx: &mut Ctx<'_, A>, timer: ClientTimer) {
        match timer {
            ClientTimer::Think => self.start_op(ctx),
            ClientTimer::Attempt => {
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
            ClientTimer::Deadline => self.give_up(ctx),
        }
    }

    fn new_process(&mut self, ctx: &mut Ctx<'_, A>) {
        let d = &mut L::disk_mut(ctx.durable_mut());
        let generation = d.generation;
        d.generation += 1;
        self.process = u64::from(self.id) + generation * u64::from(self.cluster.node_count());
    }

    fn schedule_next(&mut self, ctx: &mut Ctx<'_, A>) {
        if L::disk(ctx.durable()).ops_started < self.cfg.ops_per_client {
            let after = ctx.random_duration(self.cfg.think_min, self.cfg.think_max);
            ctx.set_timer(L::timer(ClientTimer::Think), after);
        }
    }

    fn start_op(&mut self, ctx: &mut Ctx<'_, A>) {
        if self.pending.is_some() || L::disk(ctx.durable()).ops_started >= self.cfg.ops_per_client {
            return;
        }
        let key_text = format!("k{}", ctx.rng().below(u64::from(self.cfg.keys)));
        let key: Arc<str> = Arc::from(key_text.as_str());
        let total = u64::from(self.cfg.get_weight)
            + u64::from(self.cfg.put_weight)
            + u64::from(self.cfg.cas_weight);
        let draw = ctx.rng().below(total);
        let d = &mut L::disk_mut(ctx.durable_mut());
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
        ctx.set_timer(L::timer(ClientTimer::Deadline), self.cfg.op_deadline);
    }

    fn send_pending(&mut self, ctx: &mut Ctx<'_, A>) {
        let Some(p) = &mut self.pending else {
            return;
        };
        p.attempts += 1;
        ctx.send(self.leader_guess, L::request(self.id, p.seq, p.op.clone()));
        ctx.set_timer(L::timer(ClientTimer::Attempt), self.cfg.attempt_timeout);
    }

    fn finish(&mut self, ctx: &mut Ctx<'_, A>, from: NodeId, result: KvResult) {
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
        if let Some(note) = L::completed(OpCompleted {
            process: self.process,
            seq: p.seq,
            outcome: kind,
            attempts: p.attempts,
        }) {
            ctx.note(note);
        }
        ctx.cancel_timer(L::timer(ClientTimer::Attempt));
        ctx.cancel_timer(L::timer(ClientTimer::Deadline));
        self.leader_guess = from; // whoever answered leads (or did)
        self.guess_is_fresh = true;
        self.schedule_next(ctx);
    }

    fn give_up(&mut self, ctx: &mut Ctx<'_, A>) {
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
        if let Some(note) = L::completed(OpCompleted {
            process: self.process,
            seq: p.seq,
            outcome: EventKind::Info,
            attempts: p.attempts,
        }) {
            ctx.note(note);
        }
        ctx.cancel_timer(L::timer(ClientTimer::Attempt));
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
