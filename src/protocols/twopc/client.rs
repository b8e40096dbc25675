//! The workload: each client runs transactions one after another. It picks a random set of
//! participants, asks the coordinator to run the transaction over them, re-sends its request until an
//! outcome comes back, and gives up (outcome unknown) after a bounded number of tries.
//!
//! The history records one operation per transaction (`f` = `txn`, the participants as argument):
//! `ok` with `"commit"`, `fail` with `"abort"` (an aborted transaction took no effect), `info` when
//! the client gave up. Each transaction is its own history process.

use super::message::{Decision, Msg, Timer, TxnId};
use super::{TwopcActor, TwopcNote};
use crate::contract::{Ctx, Duration, EventKind, Func, NodeId, Value};

/// The history function of a transaction.
pub const TXN: Func = Func::from_static("txn");

/// A client's settings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClientConfig {
    /// The coordinator's node id.
    pub coordinator: NodeId,
    /// The participants' node ids, `first..end`.
    pub participants: (NodeId, NodeId),
    /// Transactions each client runs.
    pub txns_per_client: u32,
    /// Least think time between transactions.
    pub think_min: Duration,
    /// Most think time.
    pub think_max: Duration,
    /// How long it waits for an outcome before asking again.
    pub retry: Duration,
    /// How many times it asks before giving up.
    pub attempts_max: u32,
}

#[derive(Clone, Debug)]
struct Current {
    txn: TxnId,
    participants: Vec<NodeId>,
    attempts: u32,
}

/// A client's volatile state (its next sequence number is on its disk).
#[derive(Clone, Debug)]
pub struct Client {
    cfg: ClientConfig,
    current: Option<Current>,
}

fn process(txn: TxnId) -> u64 {
    (u64::from(txn.client) << 32) | u64::from(txn.seq)
}

impl Client {
    /// A client that has not started.
    pub fn new(cfg: ClientConfig) -> Client {
        Client { cfg, current: None }
    }

    /// Starts (again): the next transaction after some thought.
    pub fn on_start(&mut self, ctx: &mut Ctx<'_, TwopcActor>) {
        self.think(ctx);
    }

    fn think(&mut self, ctx: &mut Ctx<'_, TwopcActor>) {
        let after = ctx.random_duration(self.cfg.think_min, self.cfg.think_max);
        ctx.set_timer(Timer::Think, after);
    }

    /// Handles one message.
    pub fn on_msg(&mut self, ctx: &mut Ctx<'_, TwopcActor>, msg: Msg) {
        let Msg::Outcome { txn, decision } = msg else {
            return;
        };
        let Some(current) = self.current.take_if(|c| c.txn == txn) else {
            return; // a late answer to a transaction it already gave up on
        };
        ctx.cancel_timer(Timer::Retry);
        let kind = match decision {
            Decision::Commit => EventKind::Ok,
            Decision::Abort => EventKind::Fail,
        };
        ctx.complete(
            process(txn),
            kind,
            TXN,
            None,
            Value::Str(decision.as_str().into()),
        );
        ctx.note(TwopcNote::TxnEnded {
            txn,
            outcome: Some(decision),
            attempts: current.attempts,
        });
        self.think(ctx);
    }

    /// Handles one timer.
    pub fn on_timer(&mut self, ctx: &mut Ctx<'_, TwopcActor>, timer: Timer) {
        match timer {
            Timer::Think => self.begin(ctx),
            Timer::Retry => self.retry(ctx),
            Timer::VoteTimeout(_) | Timer::Resend | Timer::DecisionTimeout(_) => {}
        }
    }

    fn begin(&mut self, ctx: &mut Ctx<'_, TwopcActor>) {
        let seq = ctx.durable().client_next_seq.max(1);
        if seq > self.cfg.txns_per_client || self.current.is_some() {
            return;
        }
        // The sequence number is durable before the request leaves: ids are never reused.
        ctx.durable_mut().client_next_seq = seq + 1;
        let txn = TxnId {
            client: ctx.id(),
            seq,
        };
        let (first, end) = self.cfg.participants;
        let mut all: Vec<NodeId> = (first..end).collect();
        ctx.rng().shuffle(&mut all);
        let fewest = all.len().min(2) as u64;
        let take = ctx.random_between(fewest, all.len() as u64) as usize;
        let mut participants = all[..take].to_vec();
        participants.sort_unstable();
        ctx.invoke(
            process(txn),
            TXN,
            None,
            Value::List(
                participants
                    .iter()
                    .map(|p| Value::Int(i64::from(*p)))
                    .collect(),
            ),
        );
        self.current = Some(Current {
            txn,
            participants,
            attempts: 0,
        });
        self.send(ctx);
    }

    fn send(&mut self, ctx: &mut Ctx<'_, TwopcActor>) {
        let Some(c) = self.current.as_mut() else {
            return;
        };
        c.attempts += 1;
        let msg = Msg::Begin {
            txn: c.txn,
            participants: c.participants.clone(),
        };
        ctx.send(self.cfg.coordinator, msg);
        ctx.set_timer(Timer::Retry, self.cfg.retry);
    }

    fn retry(&mut self, ctx: &mut Ctx<'_, TwopcActor>) {
        let Some(c) = &self.current else {
            return;
        };
        if c.attempts < self.cfg.attempts_max {
            self.send(ctx);
            return;
        }
        let (txn, attempts) = (c.txn, c.attempts);
        self.current = None;
        ctx.complete(process(txn), EventKind::Info, TXN, None, Value::Nil);
        ctx.note(TwopcNote::TxnEnded {
            txn,
            outcome: None,
            attempts,
        });
        self.think(ctx);
    }
}
