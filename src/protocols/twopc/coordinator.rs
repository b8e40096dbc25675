//! The coordinator: it runs phase one (prepare, collect votes), decides, logs the decision on its disk
//! and only then sends it (phase two), re-sending until every participant acknowledges.
//!
//! Its disk holds, per transaction, the participant list (logged before the first prepare leaves) and
//! the decision once made. After a crash it aborts every logged transaction that has no decision (it
//! cannot know whether the votes were all in, and nobody can have committed without its decision),
//! and re-sends every decision not yet acknowledged by all. A query about a transaction it has no
//! record of is answered abort, and that abort is logged first, so that a late `Begin` for the same
//! transaction finds the decision and cannot start it again.

use super::message::{Decision, Msg, Timer, TxnId};
use super::mutants::Flags;
use super::{TwopcActor, TwopcNote};
use crate::contract::{Ctx, Duration, NodeId};
use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;

/// What the coordinator keeps on disk about one transaction.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CoordRecord {
    /// Its participants, logged before the first prepare is sent.
    pub participants: Vec<NodeId>,
    /// The decision, logged before it is sent to anyone.
    pub decision: Option<Decision>,
    /// Every participant acknowledged the decision: nothing left to re-send.
    pub finished: bool,
}

/// The coordinator's settings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CoordConfig {
    /// The participants' node ids.
    pub participants: (NodeId, NodeId),
    /// How long it waits for all votes before aborting.
    pub vote_timeout: Duration,
    /// How often it re-sends unanswered prepares and decisions.
    pub resend: Duration,
    /// Planted bugs.
    pub flags: Flags,
}

/// A transaction in phase one.
#[derive(Clone, Debug)]
struct Collecting {
    participants: Vec<NodeId>,
    yes_voters: BTreeSet<NodeId>,
    /// Yes messages received, duplicates included (only `twopc.count_yes_messages` reads it).
    yes_messages: usize,
}

/// The coordinator's volatile state.
#[derive(Clone, Debug)]
pub struct Coordinator {
    cfg: CoordConfig,
    collecting: BTreeMap<TxnId, Collecting>,
    /// Decided transactions whose decision some participants have not acknowledged.
    unacked: BTreeMap<TxnId, BTreeSet<NodeId>>,
    /// With `twopc.decide_before_logging`: decisions sent but not yet on disk.
    unflushed: BTreeMap<TxnId, Decision>,
}

impl Coordinator {
    /// A coordinator that has not started.
    pub fn new(cfg: CoordConfig) -> Coordinator {
        Coordinator {
            cfg,
            collecting: BTreeMap::new(),
            unacked: BTreeMap::new(),
            unflushed: BTreeMap::new(),
        }
    }

    fn participant_ids(&self) -> Range<NodeId> {
        self.cfg.participants.0..self.cfg.participants.1
    }

    /// Transactions still collecting votes (for checkers and tests).
    pub fn collecting(&self) -> usize {
        self.collecting.len()
    }

    /// Starts, or recovers from its disk after a crash.
    pub fn on_start(&mut self, ctx: &mut Ctx<'_, TwopcActor>) {
        let records: Vec<(TxnId, CoordRecord)> = ctx
            .durable()
            .coordinator
            .iter()
            .filter(|(_, r)| !r.finished)
            .map(|(t, r)| (*t, r.clone()))
            .collect();
        let mut aborted = 0u32;
        let mut resent = 0u32;
        for (txn, record) in records {
            match record.decision {
                // Undecided at the crash: no one can have committed, so abort is safe.
                None => {
                    aborted += 1;
                    self.decide(ctx, txn, record.participants, Decision::Abort);
                }
                Some(decision) => {
                    resent += 1;
                    self.announce(ctx, txn, &record.participants, decision);
                }
            }
        }
        if aborted + resent > 0 {
            ctx.note(TwopcNote::Recovered { aborted, resent });
        }
        ctx.set_timer(Timer::Resend, self.cfg.resend);
    }

    /// Handles one message.
    pub fn on_msg(&mut self, ctx: &mut Ctx<'_, TwopcActor>, from: NodeId, msg: Msg) {
        match msg {
            Msg::Begin { txn, participants } => self.on_begin(ctx, txn, participants),
            Msg::Vote { txn, yes } => self.on_vote(ctx, from, txn, yes),
            Msg::Ack { txn } => self.on_ack(ctx, from, txn),
            Msg::Query { txn } => self.on_query(ctx, from, txn),
            Msg::Prepare { .. } | Msg::Decision { .. } | Msg::Outcome { .. } => {}
        }
    }

    /// Handles one timer.
    pub fn on_timer(&mut self, ctx: &mut Ctx<'_, TwopcActor>, timer: Timer) {
        match timer {
            Timer::VoteTimeout(txn) => {
                if let Some(c) = self.collecting.remove(&txn) {
                    self.decide(ctx, txn, c.participants, Decision::Abort);
                }
            }
            Timer::Resend => self.resend(ctx),
            Timer::DecisionTimeout(_) | Timer::Think | Timer::Retry => {}
        }
    }

    /// The decision on `txn`, as far as this coordinator knows it (logged, or sent unlogged).
    fn decision_of(&self, ctx: &Ctx<'_, TwopcActor>, txn: TxnId) -> Option<Decision> {
        self.unflushed
            .get(&txn)
            .copied()
            .or_else(|| ctx.durable().coordinator.get(&txn)?.decision)
    }

    fn on_begin(&mut self, ctx: &mut Ctx<'_, TwopcActor>, txn: TxnId, participants: Vec<NodeId>) {
        if let Some(decision) = self.decision_of(ctx, txn) {
            ctx.send(txn.client, Msg::Outcome { txn, decision });
            return;
        }
        if self.collecting.contains_key(&txn) || ctx.durable().coordinator.contains_key(&txn) {
            return; // under way: the client's retry is a duplicate
        }
        let ids = self.participant_ids();
        let mut participants: Vec<NodeId> = participants
            .into_iter()
            .filter(|p| ids.contains(p))
            .collect();
        participants.sort_unstable();
        participants.dedup();
        if participants.is_empty() {
            return;
        }
        // The participant list is durable before any prepare leaves, so that after a crash the
        // coordinator knows whom to tell that the transaction aborted.
        ctx.durable_mut().coordinator.insert(
            txn,
            CoordRecord {
                participants: participants.clone(),
                decision: None,
                finished: false,
            },
        );
        ctx.note(TwopcNote::Began {
            txn,
            participants: participants.clone(),
        });
        for &p in &participants {
            ctx.send(
                p,
                Msg::Prepare {
                    txn,
                    participants: participants.clone(),
                },
            );
        }
        ctx.set_timer(Timer::VoteTimeout(txn), self.cfg.vote_timeout);
        self.collecting.insert(
            txn,
            Collecting {
                participants,
                yes_voters: BTreeSet::new(),
                yes_messages: 0,
            },
        );
    }

    fn on_vote(&mut self, ctx: &mut Ctx<'_, TwopcActor>, from: NodeId, txn: TxnId, yes: bool) {
        let Some(c) = self.collecting.get_mut(&txn) else {
            return; // decided already: a late or duplicated vote changes nothing
        };
        if !c.participants.contains(&from) {
            return;
        }
        let decision = if yes {
            c.yes_voters.insert(from);
            c.yes_messages += 1;
            let yes_count = if self.cfg.flags.count_yes_messages {
                c.yes_messages
            } else {
                c.yes_voters.len()
            };
            if yes_count < c.participants.len() {
                return;
            }
            Decision::Commit
        } else {
            Decision::Abort
        };
        let Some(c) = self.collecting.remove(&txn) else {
            return;
        };
        ctx.cancel_timer(Timer::VoteTimeout(txn));
        self.decide(ctx, txn, c.participants, decision);
    }

    fn on_ack(&mut self, ctx: &mut Ctx<'_, TwopcActor>, from: NodeId, txn: TxnId) {
        let Some(waiting) = self.unacked.get_mut(&txn) else {
            return;
        };
        waiting.remove(&from);
        if waiting.is_empty() && !self.unflushed.contains_key(&txn) {
            self.unacked.remove(&txn);
            if let Some(r) = ctx.durable_mut().coordinator.get_mut(&txn) {
                r.finished = true;
            }
        }
    }

    fn on_query(&mut self, ctx: &mut Ctx<'_, TwopcActor>, from: NodeId, txn: TxnId) {
        if let Some(decision) = self.decision_of(ctx, txn) {
            ctx.send(from, Msg::Decision { txn, decision });
        } else if !self.collecting.contains_key(&txn) {
            // Never heard of it (no record at all): presume abort, and log it before saying so.
            let participants = ctx
                .durable()
                .coordinator
                .get(&txn)
                .map(|r| r.participants.clone())
                .unwrap_or_else(|| vec![from]);
            ctx.durable_mut()
                .coordinator
                .entry(txn)
                .or_insert_with(|| CoordRecord {
                    participants: participants.clone(),
                    decision: None,
                    finished: false,
                });
            self.decide(ctx, txn, participants, Decision::Abort);
        }
        // Still collecting votes: the participant will ask again.
    }

    /// Decides `txn`: logs the decision (correct 2PC: before anything is sent), then announces it.
    fn decide(
        &mut self,
        ctx: &mut Ctx<'_, TwopcActor>,
        txn: TxnId,
        participants: Vec<NodeId>,
        decision: Decision,
    ) {
        debug_assert!(
            self.decision_of(ctx, txn).is_none(),
            "a transaction is decided once"
        );
        if self.cfg.flags.decide_before_logging {
            self.unflushed.insert(txn, decision);
        } else {
            log_decision(ctx, txn, decision);
        }
        ctx.note(TwopcNote::Decided { txn, decision });
        self.announce(ctx, txn, &participants, decision);
        ctx.send(txn.client, Msg::Outcome { txn, decision });
    }

    /// Sends the decision to every participant and waits for their acknowledgements.
    fn announce(
        &mut self,
        ctx: &mut Ctx<'_, TwopcActor>,
        txn: TxnId,
        participants: &[NodeId],
        decision: Decision,
    ) {
        for &p in participants {
            ctx.send(p, Msg::Decision { txn, decision });
        }
        self.unacked
            .insert(txn, participants.iter().copied().collect());
    }

    fn resend(&mut self, ctx: &mut Ctx<'_, TwopcActor>) {
        // The mutant's late flush: the decisions sent since the last tick reach the disk only now.
        for (txn, decision) in std::mem::take(&mut self.unflushed) {
            log_decision(ctx, txn, decision);
            if self.unacked.get(&txn).is_some_and(BTreeSet::is_empty) {
                self.unacked.remove(&txn);
                if let Some(r) = ctx.durable_mut().coordinator.get_mut(&txn) {
                    r.finished = true;
                }
            }
        }
        for (txn, c) in &self.collecting {
            for &p in c.participants.iter().filter(|p| !c.yes_voters.contains(p)) {
                ctx.send(
                    p,
                    Msg::Prepare {
                        txn: *txn,
                        participants: c.participants.clone(),
                    },
                );
            }
        }
        for (txn, waiting) in &self.unacked {
            if let Some(decision) = self.decision_of(ctx, *txn) {
                for &p in waiting {
                    ctx.send(
                        p,
                        Msg::Decision {
                            txn: *txn,
                            decision,
                        },
                    );
                }
            }
        }
        ctx.set_timer(Timer::Resend, self.cfg.resend);
    }
}

fn log_decision(ctx: &mut Ctx<'_, TwopcActor>, txn: TxnId, decision: Decision) {
    let record = ctx.durable_mut().coordinator.entry(txn).or_default();
    debug_assert!(
        record.decision.is_none_or(|d| d == decision),
        "a logged decision never changes"
    );
    record.decision = Some(decision);
}
