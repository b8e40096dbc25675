//! A participant: it votes, and once it has voted yes it is *uncertain*: it may neither commit nor
//! abort on its own, only apply the decision it learns from the coordinator or from another
//! participant.
//!
//! Its disk holds, per transaction, `Prepared` (a yes vote, logged before the vote is sent, with the
//! participant list for the termination protocol) or the decision. When the decision is late it runs
//! the cooperative termination protocol: it asks the coordinator and every other participant. One that
//! knows the decision tells it; one that has not voted yet aborts on its own (it may: it never
//! promised anything) and says abort; one that is uncertain too cannot help. While every participant
//! it can reach is uncertain and the coordinator is down, it is *blocked*: the note `blocked` marks the
//! start, `unblocked` (with how long) the end.

use super::message::{Decision, Msg, Timer, TxnId};
use super::mutants::Flags;
use super::{TwopcActor, TwopcNote};
use crate::contract::{Ctx, Duration, NodeId, Time};
use std::collections::BTreeMap;

/// What a participant keeps on disk about one transaction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PartRecord {
    /// It voted yes and has no decision yet: it waits, whatever happens.
    Prepared {
        /// Every participant of the transaction (whom to ask).
        participants: Vec<NodeId>,
    },
    /// The decision it applied (a no vote is an abort of its own).
    Decided(Decision),
}

/// A participant's settings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PartConfig {
    /// The coordinator's node id.
    pub coordinator: NodeId,
    /// The chance of a no vote on each transaction, in parts per million.
    pub no_vote_ppm: u32,
    /// How long it waits for a decision after voting yes before asking around (and between asks).
    pub decision_timeout: Duration,
    /// Planted bugs.
    pub flags: Flags,
}

/// A participant's volatile state.
#[derive(Clone, Debug)]
pub struct Participant {
    cfg: PartConfig,
    /// When (local clock) it started asking around about each blocked transaction.
    blocked_since: BTreeMap<TxnId, Time>,
}

impl Participant {
    /// A participant that has not started.
    pub fn new(cfg: PartConfig) -> Participant {
        Participant {
            cfg,
            blocked_since: BTreeMap::new(),
        }
    }

    /// Transactions it is asking around about.
    pub fn blocked(&self) -> usize {
        self.blocked_since.len()
    }

    /// Starts, or recovers: every transaction it prepared and has no decision for is still open.
    pub fn on_start(&mut self, ctx: &mut Ctx<'_, TwopcActor>) {
        let prepared: Vec<TxnId> = ctx
            .durable()
            .participant
            .iter()
            .filter(|(_, r)| matches!(r, PartRecord::Prepared { .. }))
            .map(|(t, _)| *t)
            .collect();
        for txn in prepared {
            let after = ctx.random_duration(Duration::ZERO, self.cfg.decision_timeout);
            ctx.set_timer(Timer::DecisionTimeout(txn), after);
        }
    }

    /// Handles one message.
    pub fn on_msg(&mut self, ctx: &mut Ctx<'_, TwopcActor>, from: NodeId, msg: Msg) {
        match msg {
            Msg::Prepare { txn, participants } => self.on_prepare(ctx, txn, participants),
            Msg::Decision { txn, decision } => {
                self.learn(ctx, txn, decision);
                if from == self.cfg.coordinator {
                    ctx.send(from, Msg::Ack { txn });
                }
            }
            Msg::Query { txn } => self.on_query(ctx, from, txn),
            Msg::Begin { .. } | Msg::Vote { .. } | Msg::Ack { .. } | Msg::Outcome { .. } => {}
        }
    }

    /// Handles one timer.
    pub fn on_timer(&mut self, ctx: &mut Ctx<'_, TwopcActor>, timer: Timer) {
        if let Timer::DecisionTimeout(txn) = timer {
            self.on_decision_timeout(ctx, txn);
        }
    }

    fn on_prepare(&mut self, ctx: &mut Ctx<'_, TwopcActor>, txn: TxnId, participants: Vec<NodeId>) {
        let yes = match ctx.durable().participant.get(&txn) {
            // A re-sent prepare gets the same answer: the vote is on disk.
            Some(PartRecord::Prepared { .. }) | Some(PartRecord::Decided(Decision::Commit)) => true,
            Some(PartRecord::Decided(Decision::Abort)) => false,
            None => {
                let yes = !ctx.rng().chance_ppm(self.cfg.no_vote_ppm);
                // The vote is durable before it leaves: a yes is a promise that survives crashes.
                let record = if yes {
                    PartRecord::Prepared { participants }
                } else {
                    PartRecord::Decided(Decision::Abort)
                };
                ctx.durable_mut().participant.insert(txn, record);
                ctx.note(TwopcNote::Voted { txn, yes });
                if yes {
                    ctx.set_timer(Timer::DecisionTimeout(txn), self.cfg.decision_timeout);
                } else {
                    ctx.note(TwopcNote::Decided {
                        txn,
                        decision: Decision::Abort,
                    });
                }
                yes
            }
        };
        ctx.send(self.cfg.coordinator, Msg::Vote { txn, yes });
    }

    /// Applies `decision` if it has none yet; a decision, once on disk, never changes.
    fn learn(&mut self, ctx: &mut Ctx<'_, TwopcActor>, txn: TxnId, decision: Decision) {
        if matches!(
            ctx.durable().participant.get(&txn),
            Some(PartRecord::Decided(_))
        ) {
            return;
        }
        ctx.durable_mut()
            .participant
            .insert(txn, PartRecord::Decided(decision));
        ctx.note(TwopcNote::Decided { txn, decision });
        ctx.cancel_timer(Timer::DecisionTimeout(txn));
        if let Some(since) = self.blocked_since.remove(&txn) {
            let blocked_ms = ctx.now().saturating_since(since).as_millis();
            ctx.note(TwopcNote::Unblocked { txn, blocked_ms });
        }
    }

    fn on_query(&mut self, ctx: &mut Ctx<'_, TwopcActor>, from: NodeId, txn: TxnId) {
        match ctx.durable().participant.get(&txn) {
            Some(PartRecord::Decided(decision)) => {
                let decision = *decision;
                ctx.send(from, Msg::Decision { txn, decision });
            }
            // Uncertain too: it cannot help.
            Some(PartRecord::Prepared { .. }) => {}
            // It has not voted, so it may still refuse: abort, and say so.
            None => {
                ctx.durable_mut()
                    .participant
                    .insert(txn, PartRecord::Decided(Decision::Abort));
                ctx.note(TwopcNote::Decided {
                    txn,
                    decision: Decision::Abort,
                });
                ctx.send(
                    from,
                    Msg::Decision {
                        txn,
                        decision: Decision::Abort,
                    },
                );
            }
        }
    }

    fn on_decision_timeout(&mut self, ctx: &mut Ctx<'_, TwopcActor>, txn: TxnId) {
        let Some(PartRecord::Prepared { participants }) = ctx.durable().participant.get(&txn)
        else {
            return;
        };
        let participants = participants.clone();
        if self.cfg.flags.abort_after_yes_on_timeout {
            // The planted bug: a yes voter gives up on its own, though the others may commit.
            self.learn(ctx, txn, Decision::Abort);
            return;
        }
        let me = ctx.id();
        let mut asked = vec![self.cfg.coordinator];
        asked.extend(participants.iter().copied().filter(|p| *p != me));
        let now = ctx.now();
        if let std::collections::btree_map::Entry::Vacant(e) = self.blocked_since.entry(txn) {
            e.insert(now);
            ctx.note(TwopcNote::Blocked {
                txn,
                asked: asked.clone(),
            });
        }
        for to in asked {
            ctx.send(to, Msg::Query { txn });
        }
        ctx.set_timer(Timer::DecisionTimeout(txn), self.cfg.decision_timeout);
    }
}
