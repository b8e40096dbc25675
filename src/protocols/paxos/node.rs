//! A Paxos server: acceptor, proposer and learner in one node, as *Paxos Made Simple* suggests.
//!
//! **Acceptor.** It keeps, on its disk, the highest ballot it has promised and, per slot, the
//! highest-numbered proposal it has accepted. It promises a `Prepare` whose ballot is at least its
//! promise (answering with what it accepted from the proposer's first unlearned slot on) and accepts an
//! `Accept` whose ballot is at least its promise. Both are written to disk before the reply leaves
//! (the engine makes disk writes synchronous, before the handler's sends). Otherwise it answers `Nack`.
//!
//! **Proposer.** It takes a fresh ballot `(round, node)` above every round it has seen and persists
//! the round, so a restart never reuses a ballot. Once a majority has promised, it proposes, in each
//! slot, the value of the highest-numbered proposal reported for that slot, or a value of its own if
//! none was reported. A value accepted by a majority in one ballot is chosen; the proposer learns it
//! and tells every learner with `Decide`. A proposer that hears of a higher ballot gives up.
//!
//! **Single-decree mode.** Every server is a proposer of its own value for each of `instances`
//! independent instances, one after the other. Proposers duel; each waits a random backoff before
//! trying again, so one of them eventually runs both phases undisturbed.
//!
//! **Multi-Paxos mode.** One distinguished proposer, the leader, runs phase 1 once for every slot from
//! its first unlearned one on, re-proposes what the promises report (no-ops in the gaps), then runs
//! phase 2 alone for each client request in the next free slot. It sends heartbeats; a server that
//! hears none within its (random) election timeout runs phase 1 itself. Learners apply chosen slots in
//! order to a key-value store; the leader answers the clients; a learner that lags asks for the slots
//! it missed (`CatchUp`).

use super::PaxosActor;
use super::PaxosNote;
use super::kv::Store;
use super::message::{
    AcceptedValue, Ballot, ClientOutcome, Command, Msg, PaxosTimer, Request, Slot,
};
use super::mutants::Flags;
use crate::contract::{Cluster, Ctx, Duration, NodeId};
use std::collections::{BTreeMap, BTreeSet};

/// Which Paxos the servers run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Single-decree Paxos, instance after instance, every server proposing.
    Single,
    /// Multi-Paxos with a distinguished leader and a key-value store.
    Multi,
}

/// A server's fixed configuration.
#[derive(Clone, Debug)]
pub struct ServerConfig {
    /// Single-decree or Multi-Paxos.
    pub mode: Mode,
    /// Single-decree: how many instances to decide.
    pub instances: u64,
    /// Least random backoff before a proposer tries again.
    pub backoff_min: Duration,
    /// Most random backoff.
    pub backoff_max: Duration,
    /// Single-decree: how long a proposal may take before the proposer gives it up.
    pub proposal_timeout: Duration,
    /// Multi-Paxos: least election timeout.
    pub election_timeout_min: Duration,
    /// Multi-Paxos: most election timeout.
    pub election_timeout_max: Duration,
    /// Multi-Paxos: leader heartbeat interval.
    pub heartbeat: Duration,
    /// Most chosen slots sent in answer to one `CatchUp`.
    pub catch_up_batch: u64,
    /// The mutants switched on.
    pub flags: Flags,
}

/// A server's disk: the acceptor's promise and accepted proposals, the proposer's last round, and
/// what the learner has learned.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ServerDisk {
    /// The highest ballot promised.
    pub promised: Ballot,
    /// Per slot, the highest-numbered proposal accepted.
    pub accepted: BTreeMap<Slot, (Ballot, Command)>,
    /// The last round this node used for a ballot of its own.
    pub last_round: u64,
    /// The values learned chosen, per slot.
    pub chosen: BTreeMap<Slot, Command>,
}

impl ServerDisk {
    /// The first slot not learned.
    pub fn first_unchosen(&self) -> Slot {
        // The learned slots are a contiguous prefix plus, at most, a few learned out of order.
        let mut s = 0;
        for slot in self.chosen.keys() {
            if *slot != s {
                break;
            }
            s += 1;
        }
        s
    }
}

/// What the node's proposer is doing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Phase {
    /// Nothing (an acceptor or follower only).
    Idle,
    /// Phase 1: waiting for a majority of promises.
    Preparing {
        /// The ballot.
        ballot: Ballot,
        /// The first slot the prepare covers.
        from_slot: Slot,
        /// Promises so far, with the proposals each reported.
        promises: BTreeMap<NodeId, Vec<AcceptedValue>>,
    },
    /// Phase 2 (in Multi-Paxos mode: leading).
    Proposing {
        /// The ballot.
        ballot: Ballot,
        /// Slots proposed and not yet chosen: the value and who accepted it.
        pending: BTreeMap<Slot, (Command, BTreeSet<NodeId>)>,
        /// Multi-Paxos: the next free slot.
        next_slot: Slot,
    },
}

/// A Paxos server.
#[derive(Clone, Debug)]
pub struct Node {
    id: NodeId,
    cluster: Cluster,
    cfg: ServerConfig,
    phase: Phase,
    /// The highest round heard of, from any ballot.
    round_seen: u64,
    /// Single-decree: proposals given up in a row (each doubles the backoff window, up to 32x).
    failures: u32,
    /// Multi-Paxos: the leader last heard from.
    leader: Option<NodeId>,
    /// Multi-Paxos: the store, and the first slot not yet applied to it.
    store: Store,
    applied_below: Slot,
}

impl Node {
    /// A server as it boots (its disk is read in `on_start`).
    pub fn new(id: NodeId, cluster: Cluster, cfg: ServerConfig) -> Node {
        Node {
            id,
            cluster,
            cfg,
            phase: Phase::Idle,
            round_seen: 0,
            failures: 0,
            leader: None,
            store: Store::default(),
            applied_below: 0,
        }
    }

    /// The proposer's phase.
    pub fn phase(&self) -> &Phase {
        &self.phase
    }

    /// The role name: `leader`/`candidate`/`follower` in Multi-Paxos, `proposer`/`acceptor` in
    /// single-decree mode.
    pub fn role_name(&self) -> &'static str {
        match (self.cfg.mode, &self.phase) {
            (Mode::Multi, Phase::Proposing { .. }) => "leader",
            (Mode::Multi, Phase::Preparing { .. }) => "candidate",
            (Mode::Multi, Phase::Idle) => "follower",
            (Mode::Single, Phase::Idle) => "acceptor",
            (Mode::Single, _) => "proposer",
        }
    }

    fn ballot(&self) -> Option<Ballot> {
        match &self.phase {
            Phase::Idle => None,
            Phase::Preparing { ballot, .. } | Phase::Proposing { ballot, .. } => Some(*ballot),
        }
    }

    fn disk<'c>(ctx: &'c Ctx<'_, PaxosActor>) -> &'c ServerDisk {
        &ctx.durable().server
    }

    fn disk_mut<'c>(ctx: &'c mut Ctx<'_, PaxosActor>) -> &'c mut ServerDisk {
        &mut ctx.durable_mut().server
    }

    /// Boot or reboot.
    pub fn on_start(&mut self, ctx: &mut Ctx<'_, PaxosActor>) {
        if self.cfg.flags.forget_promise_on_restart {
            // The mutant: the promise lived in memory only.
            Self::disk_mut(ctx).promised = Ballot::ZERO;
        }
        let disk = Self::disk(ctx);
        self.round_seen = disk.promised.round.max(disk.last_round);
        ctx.note(PaxosNote::Started {
            promised: disk.promised,
            learned_below: disk.first_unchosen(),
        });
        match self.cfg.mode {
            Mode::Single => self.back_off(ctx),
            Mode::Multi => {
                self.apply_chosen(ctx);
                self.reset_election_timer(ctx);
            }
        }
    }

    /// A message from `from`.
    pub fn on_msg(&mut self, ctx: &mut Ctx<'_, PaxosActor>, from: NodeId, msg: Msg) {
        match msg {
            Msg::Prepare { ballot, from_slot } => {
                let reply = self.on_prepare(ctx, ballot, from_slot);
                ctx.send(from, reply);
                // A proposer working on slots this node has learned is behind: share them, so it
                // moves on instead of pre-empting the others for a decided slot.
                self.on_catch_up(ctx, from, from_slot);
            }
            Msg::Promise { ballot, accepted } => self.on_promise(ctx, from, ballot, accepted),
            Msg::Accept { ballot, slot, cmd } => {
                let reply = self.on_accept(ctx, ballot, slot, cmd);
                ctx.send(from, reply);
            }
            Msg::Accepted { ballot, slot } => self.on_accepted(ctx, from, ballot, slot),
            Msg::Nack { ballot, promised } => self.on_nack(ctx, ballot, promised),
            Msg::Decide { slot, cmd } => self.learn(ctx, slot, cmd),
            Msg::Heartbeat {
                ballot,
                chosen_below,
            } => self.on_heartbeat(ctx, from, ballot, chosen_below),
            Msg::CatchUp { from_slot } => self.on_catch_up(ctx, from, from_slot),
            Msg::ClientRequest(req) => self.on_request(ctx, req),
            Msg::ClientReply { .. } => {}
        }
    }

    /// A timer.
    pub fn on_timer(&mut self, ctx: &mut Ctx<'_, PaxosActor>, timer: PaxosTimer) {
        match timer {
            PaxosTimer::Propose => {
                if self.phase == Phase::Idle
                    && Self::disk(ctx).first_unchosen() < self.cfg.instances
                {
                    self.prepare(ctx);
                    ctx.set_timer(PaxosTimer::Abandon, self.cfg.proposal_timeout);
                }
            }
            PaxosTimer::Abandon => {
                if self.phase != Phase::Idle {
                    self.step_down(ctx);
                }
            }
            PaxosTimer::Election => {
                if !matches!(self.phase, Phase::Proposing { .. }) {
                    self.prepare(ctx);
                }
                // A failed phase 1 is retried after another random timeout: the backoff.
                self.reset_election_timer(ctx);
            }
            PaxosTimer::Heartbeat => self.heartbeat(ctx, true),
            PaxosTimer::ClientThink | PaxosTimer::ClientAttempt | PaxosTimer::ClientDeadline => {}
        }
    }

    // -----------------------------------------------------------------------------------------
    // Acceptor.

    fn on_prepare(
        &mut self,
        ctx: &mut Ctx<'_, PaxosActor>,
        ballot: Ballot,
        from_slot: Slot,
    ) -> Msg {
        self.round_seen = self.round_seen.max(ballot.round);
        let promised = Self::disk(ctx).promised;
        if ballot < promised {
            return Msg::Nack { ballot, promised };
        }
        if self.ballot().is_some_and(|mine| mine < ballot) {
            self.step_down(ctx); // another proposer outranks this one
        }
        Self::disk_mut(ctx).promised = ballot;
        ctx.note(PaxosNote::Promised { ballot });
        let accepted = Self::disk(ctx)
            .accepted
            .range(from_slot..)
            .map(|(slot, (b, cmd))| AcceptedValue {
                slot: *slot,
                ballot: *b,
                cmd: cmd.clone(),
            })
            .collect();
        Msg::Promise { ballot, accepted }
    }

    fn on_accept(
        &mut self,
        ctx: &mut Ctx<'_, PaxosActor>,
        ballot: Ballot,
        slot: Slot,
        cmd: Command,
    ) -> Msg {
        self.round_seen = self.round_seen.max(ballot.round);
        let promised = Self::disk(ctx).promised;
        if ballot < promised {
            return Msg::Nack { ballot, promised };
        }
        if self.ballot().is_some_and(|mine| mine < ballot) {
            self.step_down(ctx);
        }
        if self.cfg.mode == Mode::Multi && ballot.node != self.id {
            self.leader = Some(ballot.node);
            self.reset_election_timer(ctx);
        }
        let id = cmd.id();
        let disk = Self::disk_mut(ctx);
        disk.promised = ballot;
        disk.accepted.insert(slot, (ballot, cmd));
        ctx.note(PaxosNote::Accepted {
            slot,
            ballot,
            cmd: id,
        });
        Msg::Accepted { ballot, slot }
    }

    // -----------------------------------------------------------------------------------------
    // Proposer.

    /// Phase 1: a fresh ballot, persisted, sent to every acceptor (this node's own included).
    fn prepare(&mut self, ctx: &mut Ctx<'_, PaxosActor>) {
        let round = self.round_seen.max(Self::disk(ctx).last_round) + 1;
        Self::disk_mut(ctx).last_round = round;
        self.round_seen = round;
        let node = if self.cfg.flags.non_unique_ballots {
            0
        } else {
            self.id
        };
        let ballot = Ballot { round, node };
        let from_slot = Self::disk(ctx).first_unchosen();
        ctx.note(PaxosNote::Preparing { ballot, from_slot });
        self.phase = Phase::Preparing {
            ballot,
            from_slot,
            promises: BTreeMap::new(),
        };
        ctx.broadcast(Msg::Prepare { ballot, from_slot });
        match self.on_prepare(ctx, ballot, from_slot) {
            Msg::Promise { ballot, accepted } => self.on_promise(ctx, self.id, ballot, accepted),
            Msg::Nack { ballot, promised } => self.on_nack(ctx, ballot, promised),
            _ => unreachable!("an acceptor answers a prepare with a promise or a nack"),
        }
    }

    fn on_promise(
        &mut self,
        ctx: &mut Ctx<'_, PaxosActor>,
        from: NodeId,
        ballot: Ballot,
        accepted: Vec<AcceptedValue>,
    ) {
        let majority = self.cluster.majority() as usize;
        let Phase::Preparing {
            ballot: mine,
            from_slot,
            promises,
        } = &mut self.phase
        else {
            return;
        };
        if *mine != ballot {
            return;
        }
        promises.insert(from, accepted);
        if promises.len() < majority {
            return;
        }
        let (ballot, from_slot) = (*mine, *from_slot);
        let promises = std::mem::take(promises);
        // Per slot, the proposal to adopt: the highest-numbered one reported (Paxos Made Simple,
        // P2c), or with the mutants none at all, or the lowest-numbered.
        let mut adopt: BTreeMap<Slot, (Ballot, Command)> = BTreeMap::new();
        if !self.cfg.flags.ignore_accepted_in_promise {
            for v in promises.into_values().flatten() {
                let replace = match adopt.get(&v.slot) {
                    None => true,
                    Some((b, _)) if self.cfg.flags.adopt_any_accepted => v.ballot < *b,
                    Some((b, _)) => v.ballot > *b,
                };
                if replace {
                    adopt.insert(v.slot, (v.ballot, v.cmd));
                }
            }
        }
        let mut pending = BTreeMap::new();
        let next_slot = match self.cfg.mode {
            Mode::Single => {
                let cmd = match adopt.remove(&from_slot) {
                    Some((_, cmd)) => cmd,
                    None => {
                        let cmd = Command::Bid {
                            proposer: self.id,
                            instance: from_slot,
                        };
                        ctx.note(PaxosNote::Proposed {
                            slot: from_slot,
                            cmd: cmd.id(),
                        });
                        cmd
                    }
                };
                pending.insert(from_slot, (cmd, BTreeSet::new()));
                from_slot + 1
            }
            Mode::Multi => {
                ctx.note(PaxosNote::BecameLeader { ballot });
                self.leader = Some(self.id);
                let disk = Self::disk(ctx);
                let top = adopt
                    .keys()
                    .next_back()
                    .copied()
                    .max(disk.chosen.keys().next_back().copied());
                let end = top.map_or(from_slot, |t| (t + 1).max(from_slot));
                for slot in from_slot..end {
                    if Self::disk(ctx).chosen.contains_key(&slot) {
                        continue;
                    }
                    let cmd = match adopt.remove(&slot) {
                        Some((_, cmd)) => cmd,
                        None => {
                            ctx.note(PaxosNote::Proposed {
                                slot,
                                cmd: Command::Noop.id(),
                            });
                            Command::Noop
                        }
                    };
                    pending.insert(slot, (cmd, BTreeSet::new()));
                }
                end
            }
        };
        self.phase = Phase::Proposing {
            ballot,
            pending,
            next_slot,
        };
        let slots: Vec<Slot> = match &self.phase {
            Phase::Proposing { pending, .. } => pending.keys().copied().collect(),
            _ => Vec::new(),
        };
        for slot in slots {
            self.send_accept(ctx, slot, true);
        }
        if self.cfg.mode == Mode::Multi {
            self.heartbeat(ctx, false);
        }
    }

    /// Phase 2a for `slot`: to every acceptor that has not accepted yet (`include_self`: this node's
    /// own acceptor too, handled at once).
    fn send_accept(&mut self, ctx: &mut Ctx<'_, PaxosActor>, slot: Slot, include_self: bool) {
        let Phase::Proposing {
            ballot, pending, ..
        } = &self.phase
        else {
            return;
        };
        let Some((cmd, voters)) = pending.get(&slot) else {
            return;
        };
        let (ballot, cmd) = (*ballot, cmd.clone());
        for to in self.cluster.server_ids() {
            if to != self.id && !voters.contains(&to) {
                ctx.send(
                    to,
                    Msg::Accept {
                        ballot,
                        slot,
                        cmd: cmd.clone(),
                    },
                );
            }
        }
        if include_self {
            match self.on_accept(ctx, ballot, slot, cmd) {
                Msg::Accepted { ballot, slot } => self.on_accepted(ctx, self.id, ballot, slot),
                Msg::Nack { ballot, promised } => self.on_nack(ctx, ballot, promised),
                _ => unreachable!("an acceptor answers an accept with accepted or a nack"),
            }
        }
    }

    fn on_accepted(
        &mut self,
        ctx: &mut Ctx<'_, PaxosActor>,
        from: NodeId,
        ballot: Ballot,
        slot: Slot,
    ) {
        let majority = self.cluster.majority() as usize;
        let Phase::Proposing {
            ballot: mine,
            pending,
            ..
        } = &mut self.phase
        else {
            return;
        };
        if *mine != ballot {
            return;
        }
        let Some((_, voters)) = pending.get_mut(&slot) else {
            return;
        };
        voters.insert(from);
        if voters.len() < majority {
            return;
        }
        let Some((cmd, _)) = pending.remove(&slot) else {
            return;
        };
        ctx.broadcast(Msg::Decide {
            slot,
            cmd: cmd.clone(),
        });
        self.learn(ctx, slot, cmd);
    }

    fn on_nack(&mut self, ctx: &mut Ctx<'_, PaxosActor>, ballot: Ballot, promised: Ballot) {
        self.round_seen = self.round_seen.max(promised.round);
        if self.ballot() == Some(ballot) {
            self.step_down(ctx);
        }
    }

    /// A proposer outranked or out of time gives up: single-decree backs off and tries again;
    /// Multi-Paxos waits for the new leader (or its own election timeout).
    fn step_down(&mut self, ctx: &mut Ctx<'_, PaxosActor>) {
        if let Some(ballot) = self.ballot() {
            ctx.note(PaxosNote::SteppedDown { ballot });
            self.failures = self.failures.saturating_add(1);
        }
        self.phase = Phase::Idle;
        ctx.cancel_timer(PaxosTimer::Abandon);
        if self.cfg.mode == Mode::Single {
            self.back_off(ctx);
        } else {
            if self.leader == Some(self.id) {
                self.leader = None;
            }
            ctx.cancel_timer(PaxosTimer::Heartbeat);
            self.reset_election_timer(ctx);
        }
    }

    /// Single-decree: try the next proposal after a random backoff (against duelling proposers),
    /// drawn from a window that doubles with each proposal given up in a row.
    fn back_off(&mut self, ctx: &mut Ctx<'_, PaxosActor>) {
        let max = Duration(
            self.cfg
                .backoff_max
                .0
                .saturating_mul(1 << self.failures.min(5)),
        );
        let after = ctx.random_duration(self.cfg.backoff_min, max.max(self.cfg.backoff_min));
        ctx.set_timer(PaxosTimer::Propose, after);
    }

    fn reset_election_timer(&mut self, ctx: &mut Ctx<'_, PaxosActor>) {
        let after =
            ctx.random_duration(self.cfg.election_timeout_min, self.cfg.election_timeout_max);
        ctx.set_timer(PaxosTimer::Election, after);
    }

    // -----------------------------------------------------------------------------------------
    // Learner.

    /// `cmd` is chosen in `slot`: remember it (durably) and, in Multi-Paxos, apply what follows in
    /// order.
    fn learn(&mut self, ctx: &mut Ctx<'_, PaxosActor>, slot: Slot, cmd: Command) {
        if Self::disk(ctx).chosen.contains_key(&slot) {
            return;
        }
        ctx.note(PaxosNote::Learned {
            slot,
            cmd: cmd.id(),
        });
        Self::disk_mut(ctx).chosen.insert(slot, cmd);
        match self.cfg.mode {
            Mode::Single => {
                // The proposal for this instance is over: won (its pending slot was taken out on
                // the majority), or decided by another proposer.
                let done = match &self.phase {
                    Phase::Idle => false,
                    Phase::Preparing { from_slot, .. } => *from_slot == slot,
                    Phase::Proposing { pending, .. } => {
                        pending.is_empty() || pending.contains_key(&slot)
                    }
                };
                if done {
                    self.failures = 0;
                    self.phase = Phase::Idle;
                    ctx.cancel_timer(PaxosTimer::Abandon);
                    self.back_off(ctx);
                }
            }
            Mode::Multi => {
                if let Phase::Proposing { pending, .. } = &mut self.phase {
                    pending.remove(&slot);
                }
                self.apply_chosen(ctx);
            }
        }
    }

    /// Applies the chosen slots that follow the applied prefix; the leader answers their clients.
    fn apply_chosen(&mut self, ctx: &mut Ctx<'_, PaxosActor>) {
        let leading = matches!(self.phase, Phase::Proposing { .. });
        while let Some(cmd) = Self::disk(ctx).chosen.get(&self.applied_below) {
            if let Command::Request(req) = cmd {
                let req = req.clone();
                if let Some(result) = self.store.apply(&req)
                    && leading
                {
                    ctx.send(
                        req.client,
                        Msg::ClientReply {
                            seq: req.seq,
                            outcome: ClientOutcome::Done(result),
                        },
                    );
                }
            }
            self.applied_below += 1;
        }
    }

    // -----------------------------------------------------------------------------------------
    // Multi-Paxos: the leader's heartbeats, catching up, clients.

    /// The leader's heartbeat, then (`resend`) the `Accept`s still unanswered, then the next tick.
    fn heartbeat(&mut self, ctx: &mut Ctx<'_, PaxosActor>, resend: bool) {
        let Phase::Proposing {
            ballot, pending, ..
        } = &self.phase
        else {
            return;
        };
        let ballot = *ballot;
        let slots: Vec<Slot> = pending.keys().copied().collect();
        ctx.broadcast(Msg::Heartbeat {
            ballot,
            chosen_below: Self::disk(ctx).first_unchosen(),
        });
        // Re-send what is still unanswered (a lost Accept or Accepted).
        if resend {
            for slot in slots {
                self.send_accept(ctx, slot, false);
            }
        }
        ctx.set_timer(PaxosTimer::Heartbeat, self.cfg.heartbeat);
    }

    fn on_heartbeat(
        &mut self,
        ctx: &mut Ctx<'_, PaxosActor>,
        from: NodeId,
        ballot: Ballot,
        chosen_below: Slot,
    ) {
        self.round_seen = self.round_seen.max(ballot.round);
        let promised = Self::disk(ctx).promised;
        if ballot < promised {
            // A deposed leader: tell it.
            ctx.send(from, Msg::Nack { ballot, promised });
            return;
        }
        if self.ballot().is_some_and(|mine| mine < ballot) {
            self.step_down(ctx);
        }
        self.leader = Some(from);
        self.reset_election_timer(ctx);
        let mine = Self::disk(ctx).first_unchosen();
        if chosen_below > mine {
            ctx.send(from, Msg::CatchUp { from_slot: mine });
        }
    }

    fn on_catch_up(&mut self, ctx: &mut Ctx<'_, PaxosActor>, from: NodeId, from_slot: Slot) {
        let batch: Vec<(Slot, Command)> = Self::disk(ctx)
            .chosen
            .range(from_slot..)
            .take(self.cfg.catch_up_batch as usize)
            .map(|(s, c)| (*s, c.clone()))
            .collect();
        for (slot, cmd) in batch {
            ctx.send(from, Msg::Decide { slot, cmd });
        }
    }

    fn on_request(&mut self, ctx: &mut Ctx<'_, PaxosActor>, req: Request) {
        let Phase::Proposing {
            pending, next_slot, ..
        } = &mut self.phase
        else {
            let leader_hint = self.leader.filter(|l| *l != self.id);
            ctx.send(
                req.client,
                Msg::ClientReply {
                    seq: req.seq,
                    outcome: ClientOutcome::NotLeader { leader_hint },
                },
            );
            return;
        };
        if let Some(result) = self.store.applied_result(req.client, req.seq) {
            ctx.send(
                req.client,
                Msg::ClientReply {
                    seq: req.seq,
                    outcome: ClientOutcome::Done(result.clone()),
                },
            );
            return;
        }
        let id = Command::Request(req.clone()).id();
        if pending.values().any(|(cmd, _)| cmd.id() == id) {
            return; // already proposed: the answer comes when it is chosen
        }
        let slot = *next_slot;
        *next_slot += 1;
        let cmd = Command::Request(req);
        ctx.note(PaxosNote::Proposed { slot, cmd: id });
        pending.insert(slot, (cmd, BTreeSet::new()));
        self.send_accept(ctx, slot, true);
    }
}
