//! PBFT's client (§4.1): it sends each request to every replica, accepts a result once f + 1
//! replicas sent matching replies (so at least one correct replica vouches for it), retransmits on
//! a timeout with the same timestamp (replicas execute each request once), and gives up after a
//! deadline, outcome unknown, continuing as a fresh process. It records a key-value history.

use super::message::{Msg, Op, PbftTimer, Request};
use super::{PbftActor, PbftNote};
use crate::contract::{Ctx, Duration, EventKind, Func, NodeId, Value};
use std::collections::BTreeMap;

/// A client's settings.
#[derive(Clone, Copy, Debug)]
pub struct ClientConfig {
    /// Faults tolerated: a result needs f + 1 matching replies.
    pub f: u32,
    /// Operations to run.
    pub ops: u32,
    /// Distinct keys.
    pub keys: u32,
    /// Time between retransmissions.
    pub retry: Duration,
    /// Time before giving up on an operation.
    pub deadline: Duration,
    /// Most think time between operations.
    pub think_max: Duration,
}

/// What a client keeps on disk, so that timestamps and process ids stay fresh across restarts.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ClientDisk {
    /// The next request timestamp.
    pub next_timestamp: u64,
    /// How many processes this client has used.
    pub generation: u64,
}

#[derive(Clone, Debug)]
struct Open {
    request: Request,
    process: u64,
    replies: BTreeMap<NodeId, Value>,
}

/// A PBFT client.
#[derive(Clone, Debug)]
pub struct Client {
    cfg: ClientConfig,
    done: u32,
    open: Option<Open>,
}

impl Client {
    /// A client that has run nothing yet.
    pub fn new(cfg: ClientConfig) -> Client {
        Client {
            cfg,
            done: 0,
            open: None,
        }
    }

    fn process(ctx: &Ctx<'_, PbftActor>) -> u64 {
        (u64::from(ctx.id()) << 24) | ctx.durable().client.generation
    }

    /// Starts (or restarts): a restarted client continues as a fresh process.
    pub fn on_start(&mut self, ctx: &mut Ctx<'_, PbftActor>) {
        ctx.durable_mut().client.generation += 1;
        self.think(ctx);
    }

    fn think(&mut self, ctx: &mut Ctx<'_, PbftActor>) {
        if self.done < self.cfg.ops {
            let wait = ctx.random_duration(Duration(0), self.cfg.think_max);
            ctx.set_timer(PbftTimer::ClientThink, wait);
        }
    }

    /// Handles a timer.
    pub fn on_timer(&mut self, ctx: &mut Ctx<'_, PbftActor>, timer: PbftTimer) {
        match timer {
            PbftTimer::ClientThink => self.invoke(ctx),
            PbftTimer::ClientRetry => {
                if let Some(open) = &self.open {
                    let msg = Msg::Request(open.request.clone());
                    for s in ctx.cluster().server_ids() {
                        ctx.send(s, msg.clone());
                    }
                    ctx.set_timer(PbftTimer::ClientRetry, self.cfg.retry);
                }
            }
            PbftTimer::ClientDeadline => {
                if let Some(open) = self.open.take() {
                    let (f, key, _) = describe(&open.request.op);
                    ctx.complete(open.process, EventKind::Info, f, Some(key), Value::Nil);
                    ctx.note(PbftNote::OpGaveUp {
                        timestamp: open.request.timestamp,
                    });
                    ctx.cancel_timer(PbftTimer::ClientRetry);
                    ctx.durable_mut().client.generation += 1;
                    self.done += 1;
                    self.think(ctx);
                }
            }
            PbftTimer::ViewChange => {}
        }
    }

    fn invoke(&mut self, ctx: &mut Ctx<'_, PbftActor>) {
        let timestamp = ctx.durable().client.next_timestamp + 1;
        ctx.durable_mut().client.next_timestamp = timestamp;
        let key = format!("k{}", ctx.rng().below(u64::from(self.cfg.keys)));
        let op = if ctx.rng().below(2) == 0 {
            Op::Get { key }
        } else {
            Op::Put {
                key,
                value: format!("c{}t{}", ctx.id(), timestamp),
            }
        };
        let request = Request {
            client: ctx.id(),
            timestamp,
            op,
        };
        let process = Self::process(ctx);
        let (f, key, value) = describe(&request.op);
        ctx.invoke(process, f, Some(key), value);
        for s in ctx.cluster().server_ids() {
            ctx.send(s, Msg::Request(request.clone()));
        }
        ctx.set_timer(PbftTimer::ClientRetry, self.cfg.retry);
        ctx.set_timer(PbftTimer::ClientDeadline, self.cfg.deadline);
        self.open = Some(Open {
            request,
            process,
            replies: BTreeMap::new(),
        });
    }

    /// Handles a reply from replica `from`.
    pub fn on_msg(&mut self, ctx: &mut Ctx<'_, PbftActor>, from: NodeId, msg: Msg) {
        let Msg::Reply {
            timestamp, result, ..
        } = msg
        else {
            return;
        };
        let Some(open) = &mut self.open else { return };
        if timestamp != open.request.timestamp || !ctx.cluster().is_server(from) {
            return;
        }
        open.replies.insert(from, result.clone());
        let matching = open.replies.values().filter(|r| **r == result).count();
        if matching <= self.cfg.f as usize {
            return;
        }
        let open = self.open.take().expect("checked above");
        let (f, key, _) = describe(&open.request.op);
        ctx.complete(open.process, EventKind::Ok, f, Some(key), result);
        ctx.note(PbftNote::OpCompleted {
            timestamp,
            replies: open.replies.len() as u64,
        });
        ctx.cancel_timer(PbftTimer::ClientRetry);
        ctx.cancel_timer(PbftTimer::ClientDeadline);
        self.done += 1;
        self.think(ctx);
    }
}

/// The history's function, key and argument for an operation.
fn describe(op: &Op) -> (Func, String, Value) {
    match op {
        Op::Get { key } => (Func::new("get"), key.clone(), Value::Nil),
        Op::Put { key, value } => (Func::new("put"), key.clone(), Value::Str(value.clone())),
    }
}
