//! A PBFT replica (Castro & Liskov, OSDI 1999, §4.2-4.4): the three-phase normal case, execution in
//! sequence order with exactly-once replies, checkpoints and log garbage collection, and the view
//! change with checkpoint proofs, prepared certificates and a NEW-VIEW message every backup
//! recomputes before it accepts it.
//!
//! Quorums are 2f + 1 of n = 3f + 1 replicas (ceil((n + f + 1) / 2) in general, see
//! [`ReplicaConfig::quorum`]). A request is *prepared* at a replica once it holds the
//! primary's pre-prepare and 2f matching prepares from distinct backups; *committed-local* once it is
//! prepared and 2f + 1 matching commits (its own included) arrived. Requests execute in sequence
//! order.
//!
//! Checkpoints (§4.3): after executing every `checkpoint_interval`-th request a replica multicasts
//! CHECKPOINT(n, d), d the digest of its state; 2f + 1 matching ones (the quorum) make the
//! checkpoint *stable*: the low water mark h moves to it and every log entry, checkpoint vote and
//! state copy at or below it is discarded. Pre-prepares, prepares and commits are accepted only for
//! sequence numbers in (h, h + `log_window`] and views from the replica's own to [`VIEWS_AHEAD`]
//! past it, and entries of earlier views are dropped unless they are the highest-view prepared
//! certificate of their sequence number, so the log holds at most `log_window * (VIEWS_AHEAD + 2)`
//! entries. A replica that learns of a stable checkpoint beyond what it executed (it was cut off
//! while the others moved on and discarded what it missed) fetches the state from the replicas that
//! vouched for it and accepts it only if its digest is the stable one. A view-change message
//! carries the sender's stable checkpoint with its proof and its prepared certificates above it;
//! the new view starts after the latest valid stable checkpoint among them (`min-s`).

use super::digest::state_digest;
use super::digest::{DigestKind, digest};
use super::message::{
    Digest, Msg, Op, PbftTimer, Prepared, Reproposal, Request, Seq, Snapshot, StableCheckpoint,
    View, ViewChange,
};
use super::mutants::Flags;
use super::{PbftActor, PbftNote};
use crate::contract::{Ctx, Duration, NodeId, Value};
use std::collections::{BTreeMap, BTreeSet};

/// A replica's settings.
#[derive(Clone, Copy, Debug)]
pub struct ReplicaConfig {
    /// Replicas.
    pub n: u32,
    /// Faults tolerated: (n - 1) / 3.
    pub f: u32,
    /// The digest function.
    pub digest_kind: DigestKind,
    /// The first view-change timeout; it doubles with each view change that does not complete.
    pub view_change_timeout: Duration,
    /// Checkpoint every this many sequence numbers (K).
    pub checkpoint_interval: Seq,
    /// The log window L: sequence numbers accepted lie in (h, h + L].
    pub log_window: Seq,
    /// Planted bugs.
    pub flags: Flags,
}

/// How many views past its own a replica accepts pre-prepares, prepares and commits for (messages of
/// a view it has not reached yet, kept for when it gets there); later ones are dropped, so a
/// Byzantine replica cannot grow the log by naming ever later views.
pub const VIEWS_AHEAD: View = 2;

/// The most checkpoint votes kept per sender above the stable checkpoint, beyond the log window's
/// own checkpoints (a Byzantine replica may send votes for any sequence number).
const VOTES_SPARE: usize = 2;

impl ReplicaConfig {
    /// The quorum: the least q with two quorums sharing f + 1 replicas (2q - n > f) and n - f
    /// correct replicas still forming one: ceil((n + f + 1) / 2). That is 2f + 1 when n = 3f + 1,
    /// but 4 of 5 at n = 5, where 2f + 1 = 3 (and the source document's `2*(n/3)+1` = 3) lets two
    /// quorums meet in one Byzantine replica. Under `pbft.quorum_2f`: 2f.
    pub fn quorum(&self) -> usize {
        let (n, f) = (self.n as usize, self.f as usize);
        if self.flags.quorum_2f {
            2 * f
        } else {
            (n + f + 2) / 2
        }
    }

    /// The quorum that makes a checkpoint stable: the quorum (f + 1 under
    /// `pbft.checkpoint_quorum_f`).
    pub fn checkpoint_quorum(&self) -> usize {
        if self.flags.checkpoint_quorum_f {
            self.f as usize + 1
        } else {
            self.quorum()
        }
    }

    /// The most log entries a replica holds (see the module docs).
    pub fn log_entries_max(&self) -> usize {
        (self.log_window as usize).saturating_mul(VIEWS_AHEAD as usize + 2)
    }

    /// The initial state's checkpoint: sequence number 0, vouched for by nobody.
    pub fn initial_checkpoint(&self) -> StableCheckpoint {
        StableCheckpoint {
            seq: 0,
            digest: state_digest(self.digest_kind, 0, &Snapshot::default()),
            vouchers: Vec::new(),
        }
    }

    /// Whether `cp` is a proof of a stable checkpoint: the initial state, or a multiple of the
    /// interval vouched for by a checkpoint quorum of distinct replicas.
    pub fn valid_checkpoint(&self, cp: &StableCheckpoint) -> bool {
        if cp.seq == 0 {
            return *cp == self.initial_checkpoint();
        }
        let distinct: BTreeSet<u32> = cp.vouchers.iter().copied().collect();
        cp.seq.is_multiple_of(self.checkpoint_interval)
            && distinct.len() == cp.vouchers.len()
            && distinct.iter().all(|v| *v < self.n)
            && distinct.len() >= self.checkpoint_quorum()
    }

    /// The primary of view `v`.
    pub fn primary(&self, v: View) -> NodeId {
        (v % u64::from(self.n)) as NodeId
    }
}

/// What a replica holds for one (sequence number, view).
#[derive(Clone, Debug, Default)]
pub struct Entry {
    /// The primary's pre-prepare: digest and request (`None`: null request).
    pub pre: Option<(Digest, Option<Request>)>,
    /// Prepares by sender.
    pub prepares: BTreeMap<NodeId, Digest>,
    /// Commits by sender.
    pub commits: BTreeMap<NodeId, Digest>,
    /// Whether this replica sent its prepare.
    pub sent_prepare: bool,
    /// Whether this replica sent its commit (it is prepared).
    pub sent_commit: bool,
    /// Whether it is committed-local here.
    pub committed: bool,
}

/// A PBFT replica's volatile state.
#[derive(Clone, Debug)]
pub struct Replica {
    cfg: ReplicaConfig,
    id: NodeId,
    /// Current view.
    pub view: View,
    /// Between sending a view change and accepting the new view.
    pub in_view_change: bool,
    vc_timeout: Duration,
    timer_running: bool,
    /// Log entries by (sequence number, view).
    pub entries: BTreeMap<(Seq, View), Entry>,
    /// Committed requests by sequence number (the first commit found).
    pub committed: BTreeMap<Seq, (Digest, Option<Request>)>,
    /// The last sequence number executed.
    pub last_executed: Seq,
    /// The key-value store.
    pub store: BTreeMap<String, String>,
    /// Each client's last executed timestamp and its result.
    replies: BTreeMap<u32, (u64, Value)>,
    /// Requests seen and not yet executed.
    pending: BTreeMap<(u32, u64), Request>,
    /// Requests the primary ordered in this view.
    assigned: BTreeSet<(u32, u64)>,
    next_seq: Seq,
    view_changes: BTreeMap<View, BTreeMap<NodeId, ViewChange>>,
    new_view_sent: BTreeSet<View>,
    /// The last stable checkpoint: h is its sequence number.
    pub stable: StableCheckpoint,
    /// CHECKPOINT messages above h, by sequence number and sender.
    votes: BTreeMap<Seq, BTreeMap<NodeId, Digest>>,
    /// This replica's own checkpoints at or above h, with the state (to serve state transfers).
    snapshots: BTreeMap<Seq, (Digest, Snapshot)>,
}

impl Replica {
    /// A fresh replica in view 0.
    pub fn new(cfg: ReplicaConfig, id: NodeId) -> Replica {
        Replica {
            cfg,
            id,
            view: 0,
            in_view_change: false,
            vc_timeout: cfg.view_change_timeout,
            timer_running: false,
            entries: BTreeMap::new(),
            committed: BTreeMap::new(),
            last_executed: 0,
            store: BTreeMap::new(),
            replies: BTreeMap::new(),
            pending: BTreeMap::new(),
            assigned: BTreeSet::new(),
            next_seq: 1,
            view_changes: BTreeMap::new(),
            new_view_sent: BTreeSet::new(),
            stable: cfg.initial_checkpoint(),
            votes: BTreeMap::new(),
            snapshots: BTreeMap::new(),
        }
    }

    /// The low water mark h: the stable checkpoint's sequence number.
    pub fn low_water(&self) -> Seq {
        self.stable.seq
    }

    /// Whether `seq` lies in the log window (h, h + L].
    fn in_window(&self, seq: Seq) -> bool {
        seq > self.stable.seq && seq <= self.stable.seq.saturating_add(self.cfg.log_window)
    }

    /// Whether messages of `view` are kept: from the current view to [`VIEWS_AHEAD`] past it.
    fn view_accepted(&self, view: View) -> bool {
        view >= self.view && view <= self.view.saturating_add(VIEWS_AHEAD)
    }

    /// Whether this replica is the primary of its view.
    pub fn is_primary(&self) -> bool {
        self.cfg.primary(self.view) == self.id
    }

    /// Handles a message.
    pub fn on_msg(&mut self, ctx: &mut Ctx<'_, PbftActor>, from: NodeId, msg: Msg) {
        match msg {
            Msg::Request(r) => self.on_request(ctx, r),
            Msg::PrePrepare {
                view,
                seq,
                digest,
                request,
            } => self.on_pre_prepare(ctx, from, view, seq, digest, request),
            Msg::Prepare { view, seq, digest } => {
                // The primary does not prepare; a prepare from it counts for nothing.
                if self.view_accepted(view)
                    && self.in_window(seq)
                    && from != self.cfg.primary(view)
                    && ctx.cluster().is_server(from)
                {
                    self.entries
                        .entry((seq, view))
                        .or_default()
                        .prepares
                        .entry(from)
                        .or_insert(digest);
                    self.progress(ctx, seq, view);
                }
            }
            Msg::Commit { view, seq, digest } => {
                if self.view_accepted(view) && self.in_window(seq) && ctx.cluster().is_server(from)
                {
                    self.entries
                        .entry((seq, view))
                        .or_default()
                        .commits
                        .entry(from)
                        .or_insert(digest);
                    self.progress(ctx, seq, view);
                }
            }
            Msg::ViewChange(vc) => self.on_view_change(ctx, from, vc),
            Msg::NewView {
                view,
                proofs,
                reproposals,
            } => self.on_new_view(ctx, from, view, proofs, reproposals),
            Msg::Checkpoint { seq, digest } => self.on_checkpoint(ctx, from, seq, digest),
            Msg::FetchState { seq } => {
                if ctx.cluster().is_server(from)
                    && let Some((_, snapshot)) = self.snapshots.get(&seq)
                {
                    let snapshot = snapshot.clone();
                    ctx.send(from, Msg::State { seq, snapshot });
                }
            }
            Msg::State { seq, snapshot } => self.on_state(ctx, seq, snapshot),
            Msg::Reply { .. } => {}
        }
    }

    /// After a restart from disk: the timer did not survive, so set it again if a request waits.
    pub fn recovered(&mut self, ctx: &mut Ctx<'_, PbftActor>) {
        self.timer_running = false;
        self.restart_timer(ctx);
    }

    /// Handles the view-change timer.
    pub fn on_timer(&mut self, ctx: &mut Ctx<'_, PbftActor>) {
        self.timer_running = false;
        // A state transfer whose answer was lost: ask again.
        self.fetch_state(ctx);
        // A view change that did not complete in time moves on to the next view, waiting twice as long.
        if self.in_view_change {
            self.vc_timeout = Duration(self.vc_timeout.0.saturating_mul(2));
        }
        self.start_view_change(ctx, self.view + 1);
    }

    fn start_timer(&mut self, ctx: &mut Ctx<'_, PbftActor>) {
        if !self.timer_running {
            self.timer_running = true;
            ctx.set_timer(PbftTimer::ViewChange, self.vc_timeout);
        }
    }

    fn restart_timer(&mut self, ctx: &mut Ctx<'_, PbftActor>) {
        self.timer_running = false;
        if self.pending.is_empty() {
            ctx.cancel_timer(PbftTimer::ViewChange);
        } else {
            self.start_timer(ctx);
        }
    }

    fn on_request(&mut self, ctx: &mut Ctx<'_, PbftActor>, r: Request) {
        if let Some((ts, result)) = self.replies.get(&r.client) {
            if *ts == r.timestamp {
                let msg = Msg::Reply {
                    view: self.view,
                    timestamp: *ts,
                    result: result.clone(),
                };
                ctx.send(r.client, msg);
            }
            if *ts >= r.timestamp {
                return;
            }
        }
        let key = (r.client, r.timestamp);
        self.pending.insert(key, r);
        if self.is_primary() && !self.in_view_change {
            self.order_pending(ctx);
        } else {
            self.start_timer(ctx);
        }
    }

    /// The primary assigns the next sequence numbers to every pending request not yet ordered.
    fn order_pending(&mut self, ctx: &mut Ctx<'_, PbftActor>) {
        let todo: Vec<Request> = self
            .pending
            .iter()
            .filter(|(k, _)| !self.assigned.contains(k))
            .map(|(_, r)| r.clone())
            .collect();
        self.next_seq = self.next_seq.max(self.stable.seq + 1);
        for r in todo {
            // Beyond the high water mark: wait for the next stable checkpoint.
            if !self.in_window(self.next_seq) {
                break;
            }
            self.assigned.insert((r.client, r.timestamp));
            let seq = self.next_seq;
            self.next_seq += 1;
            let d = digest(self.cfg.digest_kind, Some(&r));
            let v = self.view;
            self.entries.entry((seq, v)).or_default().pre = Some((d.clone(), Some(r.clone())));
            ctx.note(PbftNote::PrePrepared {
                view: v,
                seq,
                digest: d.clone(),
            });
            ctx.broadcast(Msg::PrePrepare {
                view: v,
                seq,
                digest: d,
                request: Some(r),
            });
            self.progress(ctx, seq, v);
        }
    }

    fn on_pre_prepare(
        &mut self,
        ctx: &mut Ctx<'_, PbftActor>,
        from: NodeId,
        view: View,
        seq: Seq,
        d: Digest,
        request: Option<Request>,
    ) {
        if from != self.cfg.primary(view)
            || !self.view_accepted(view)
            || !self.in_window(seq)
            || from == self.id
        {
            return;
        }
        if digest(self.cfg.digest_kind, request.as_ref()) != d {
            return;
        }
        let entry = self.entries.entry((seq, view)).or_default();
        if entry.pre.is_some() {
            // One pre-prepare per view and sequence number: a conflicting one is ignored.
            return;
        }
        entry.pre = Some((d, request));
        if view == self.view && !self.in_view_change {
            self.accept_pre_prepare(ctx, seq, view);
        }
    }

    /// Sends this backup's prepare for an accepted pre-prepare.
    fn accept_pre_prepare(&mut self, ctx: &mut Ctx<'_, PbftActor>, seq: Seq, view: View) {
        let me = self.id;
        let Some(entry) = self.entries.get_mut(&(seq, view)) else {
            return;
        };
        let Some((d, request)) = entry.pre.clone() else {
            return;
        };
        if entry.sent_prepare || self.cfg.primary(view) == me {
            return;
        }
        entry.sent_prepare = true;
        entry.prepares.insert(me, d.clone());
        if let Some(r) = request
            && self
                .replies
                .get(&r.client)
                .is_none_or(|(ts, _)| *ts < r.timestamp)
        {
            self.pending.insert((r.client, r.timestamp), r);
            self.start_timer(ctx);
        }
        ctx.broadcast(Msg::Prepare {
            view,
            seq,
            digest: d,
        });
        self.progress(ctx, seq, view);
    }

    /// Whether two digests match (any two do under `pbft.no_digest_match`).
    fn matches(&self, a: &Digest, b: &Digest) -> bool {
        self.cfg.flags.no_digest_match || a == b
    }

    /// prepared(m, v, n, i): the pre-prepare and 2f matching prepares from distinct backups.
    fn is_prepared(&self, entry: &Entry) -> bool {
        let Some((d, _)) = &entry.pre else {
            return false;
        };
        let prepares = entry
            .prepares
            .values()
            .filter(|p| self.matches(p, d))
            .count();
        prepares + 1 >= self.cfg.quorum()
    }

    fn progress(&mut self, ctx: &mut Ctx<'_, PbftActor>, seq: Seq, view: View) {
        if view != self.view || self.in_view_change {
            return;
        }
        let Some(entry) = self.entries.get(&(seq, view)) else {
            return;
        };
        if !self.is_prepared(entry) {
            return;
        }
        let (d, request) = entry
            .pre
            .clone()
            .expect("a prepared entry has its pre-prepare");
        let commits = entry
            .commits
            .values()
            .filter(|c| self.matches(c, &d))
            .count();
        let me = self.id;
        let entry = self.entries.get_mut(&(seq, view)).expect("looked up above");
        if !entry.sent_commit {
            entry.sent_commit = true;
            entry.commits.insert(me, d.clone());
            ctx.note(PbftNote::Prepared {
                view,
                seq,
                digest: d.clone(),
            });
            ctx.broadcast(Msg::Commit {
                view,
                seq,
                digest: d.clone(),
            });
            return self.progress(ctx, seq, view);
        }
        if entry.committed || commits < self.cfg.quorum() {
            return;
        }
        entry.committed = true;
        ctx.note(PbftNote::Committed {
            view,
            seq,
            digest: d.clone(),
        });
        self.committed.entry(seq).or_insert((d, request));
        self.execute(ctx);
    }

    fn execute(&mut self, ctx: &mut Ctx<'_, PbftActor>) {
        let mut any = false;
        while let Some((d, request)) = self.committed.get(&(self.last_executed + 1)).cloned() {
            self.last_executed += 1;
            any = true;
            ctx.note(PbftNote::Executed {
                view: self.view,
                seq: self.last_executed,
                digest: d,
            });
            self.apply(ctx, request);
            if self
                .last_executed
                .is_multiple_of(self.cfg.checkpoint_interval)
            {
                self.take_checkpoint(ctx);
            }
        }
        if any {
            self.vc_timeout = self.cfg.view_change_timeout;
            self.restart_timer(ctx);
        }
    }

    /// Applies one executed request to the store and replies to its client.
    fn apply(&mut self, ctx: &mut Ctx<'_, PbftActor>, request: Option<Request>) {
        let Some(r) = request else { return };
        if self
            .replies
            .get(&r.client)
            .is_some_and(|(ts, _)| *ts >= r.timestamp)
        {
            // Ordered twice (say, before and after a view change): executes once.
            return;
        }
        let result = match &r.op {
            Op::Get { key } => self
                .store
                .get(key)
                .map_or(Value::Nil, |v| Value::Str(v.clone())),
            Op::Put { key, value } => {
                self.store.insert(key.clone(), value.clone());
                Value::Str(value.clone())
            }
        };
        self.pending.remove(&(r.client, r.timestamp));
        self.replies.insert(r.client, (r.timestamp, result.clone()));
        if ctx.cluster().client_ids().contains(&r.client) {
            ctx.send(
                r.client,
                Msg::Reply {
                    view: self.view,
                    timestamp: r.timestamp,
                    result,
                },
            );
        }
    }

    /// Takes a checkpoint of the state after `last_executed` and multicasts it.
    fn take_checkpoint(&mut self, ctx: &mut Ctx<'_, PbftActor>) {
        let seq = self.last_executed;
        let snapshot = Snapshot {
            store: self.store.clone(),
            replies: self.replies.clone(),
        };
        let d = state_digest(self.cfg.digest_kind, seq, &snapshot);
        self.snapshots.insert(seq, (d.clone(), snapshot));
        ctx.note(PbftNote::CheckpointTaken {
            seq,
            digest: d.clone(),
        });
        ctx.broadcast(Msg::Checkpoint {
            seq,
            digest: d.clone(),
        });
        if self.cfg.flags.gc_unstable {
            self.truncate(ctx, seq, &d);
        }
        self.on_checkpoint(ctx, self.id, seq, d);
    }

    /// Records a CHECKPOINT vote; 2f + 1 matching ones make the checkpoint stable.
    fn on_checkpoint(&mut self, ctx: &mut Ctx<'_, PbftActor>, from: NodeId, seq: Seq, d: Digest) {
        if seq <= self.stable.seq
            || !seq.is_multiple_of(self.cfg.checkpoint_interval)
            || !ctx.cluster().is_server(from)
        {
            return;
        }
        self.votes.entry(seq).or_default().entry(from).or_insert(d);
        // Bound what one sender may make this replica keep: its lowest votes go first.
        let cap = (self.cfg.log_window / self.cfg.checkpoint_interval) as usize + VOTES_SPARE;
        let mine: Vec<Seq> = self
            .votes
            .iter()
            .filter(|(_, by)| by.contains_key(&from))
            .map(|(s, _)| *s)
            .collect();
        for s in mine.iter().take(mine.len().saturating_sub(cap)) {
            let by = self.votes.get_mut(s).expect("listed above");
            by.remove(&from);
            if by.is_empty() {
                self.votes.remove(s);
            }
        }
        let Some(by) = self.votes.get(&seq) else {
            return;
        };
        let mut tally: BTreeMap<&Digest, Vec<u32>> = BTreeMap::new();
        for (i, vote) in by {
            tally.entry(vote).or_default().push(*i);
        }
        let Some((d, vouchers)) = tally
            .into_iter()
            .find(|(_, v)| v.len() >= self.cfg.checkpoint_quorum())
        else {
            return;
        };
        let cp = StableCheckpoint {
            seq,
            digest: d.clone(),
            vouchers,
        };
        self.make_stable(ctx, cp);
        if self.is_primary() && !self.in_view_change {
            // The high water mark moved: requests waiting for it may be ordered now.
            self.order_pending(ctx);
        }
    }

    /// Moves the low water mark to `cp`, discards what lies at or below it, and fetches the state
    /// if this replica has not executed that far.
    fn make_stable(&mut self, ctx: &mut Ctx<'_, PbftActor>, cp: StableCheckpoint) {
        if cp.seq <= self.stable.seq {
            return;
        }
        ctx.note(PbftNote::CheckpointStable {
            seq: cp.seq,
            digest: cp.digest.clone(),
        });
        let (seq, d) = (cp.seq, cp.digest.clone());
        self.stable = cp;
        self.truncate(ctx, seq, &d);
        self.fetch_state(ctx);
    }

    /// Discards the log, votes and state copies at or below checkpoint `seq` (the state copy at
    /// `seq` itself is kept, to serve state transfers).
    fn truncate(&mut self, ctx: &mut Ctx<'_, PbftActor>, seq: Seq, d: &Digest) {
        ctx.note(PbftNote::LogTruncated {
            seq,
            digest: d.clone(),
        });
        self.entries = self.entries.split_off(&(seq + 1, 0));
        self.committed = self.committed.split_off(&(seq + 1));
        self.votes = self.votes.split_off(&(seq + 1));
        self.snapshots = self.snapshots.split_off(&seq);
    }

    /// Asks the replicas that vouched for the stable checkpoint for its state, if this replica
    /// has not executed that far.
    fn fetch_state(&mut self, ctx: &mut Ctx<'_, PbftActor>) {
        if self.last_executed >= self.stable.seq {
            return;
        }
        for &v in &self.stable.vouchers {
            if v != self.id {
                ctx.send(
                    v,
                    Msg::FetchState {
                        seq: self.stable.seq,
                    },
                );
            }
        }
    }

    /// Installs the state of the stable checkpoint if it is the one the proof vouches for.
    fn on_state(&mut self, ctx: &mut Ctx<'_, PbftActor>, seq: Seq, snapshot: Snapshot) {
        if seq != self.stable.seq
            || self.last_executed >= seq
            || state_digest(self.cfg.digest_kind, seq, &snapshot) != self.stable.digest
        {
            return;
        }
        self.store = snapshot.store.clone();
        self.replies = snapshot.replies.clone();
        self.last_executed = seq;
        let replies = &self.replies;
        self.pending
            .retain(|(c, t), _| replies.get(c).is_none_or(|(done, _)| done < t));
        self.snapshots
            .insert(seq, (self.stable.digest.clone(), snapshot));
        ctx.note(PbftNote::StateTransferred { seq });
        self.execute(ctx);
        self.restart_timer(ctx);
    }

    /// The prepared certificates this replica holds: per sequence number, the one of the highest view.
    fn prepared_certificates(&self) -> Vec<Prepared> {
        let mut best: BTreeMap<Seq, Prepared> = BTreeMap::new();
        for (&(seq, view), entry) in &self.entries {
            if !self.is_prepared(entry) {
                continue;
            }
            let (d, request) = entry.pre.clone().expect("prepared");
            let prepares = entry
                .prepares
                .iter()
                .filter(|(_, p)| self.matches(p, &d))
                .map(|(i, _)| *i)
                .collect();
            // Entries iterate in (seq, view) order: a later view replaces an earlier one.
            best.insert(
                seq,
                Prepared {
                    view,
                    seq,
                    digest: d,
                    request,
                    prepares,
                },
            );
        }
        best.into_values().collect()
    }

    fn start_view_change(&mut self, ctx: &mut Ctx<'_, PbftActor>, new_view: View) {
        if new_view <= self.view {
            return;
        }
        let prepared = if self.cfg.flags.view_change_drops_prepared {
            Vec::new()
        } else {
            self.prepared_certificates()
        };
        let vc = ViewChange {
            new_view,
            checkpoint: self.stable.clone(),
            prepared,
        };
        self.view = new_view;
        self.in_view_change = true;
        self.prune_old_views();
        ctx.note(PbftNote::ViewChangeStarted { view: new_view });
        ctx.broadcast(Msg::ViewChange(vc.clone()));
        self.timer_running = false;
        self.start_timer(ctx);
        self.on_view_change(ctx, self.id, vc);
    }

    fn on_view_change(&mut self, ctx: &mut Ctx<'_, PbftActor>, from: NodeId, vc: ViewChange) {
        if vc.new_view < self.view
            || !ctx.cluster().is_server(from)
            || !self.cfg.valid_checkpoint(&vc.checkpoint)
        {
            return;
        }
        let v = vc.new_view;
        self.view_changes.entry(v).or_default().insert(from, vc);
        // Liveness (§4.5.2): f + 1 replicas asking for later views means at least one correct
        // one is: join the smallest of those views.
        let later: BTreeMap<NodeId, View> = self
            .view_changes
            .range(self.view + 1..)
            .flat_map(|(view, by)| by.keys().map(move |i| (*i, *view)))
            .collect();
        if later.len() > self.cfg.f as usize
            && let Some(&smallest) = later.values().min()
        {
            return self.start_view_change(ctx, smallest);
        }
        if v == self.view
            && self.in_view_change
            && self.cfg.primary(v) == self.id
            && !self.new_view_sent.contains(&v)
        {
            let got = &self.view_changes[&v];
            if got.len() >= self.cfg.quorum() && got.contains_key(&self.id) {
                let proofs: Vec<(NodeId, ViewChange)> =
                    got.iter().map(|(i, m)| (*i, m.clone())).collect();
                let (min, reproposals) =
                    reproposals(self.cfg.digest_kind, self.cfg.log_window, &proofs);
                self.new_view_sent.insert(v);
                ctx.broadcast(Msg::NewView {
                    view: v,
                    proofs,
                    reproposals: reproposals.clone(),
                });
                self.install(ctx, v, min, reproposals);
            }
        }
    }

    fn on_new_view(
        &mut self,
        ctx: &mut Ctx<'_, PbftActor>,
        from: NodeId,
        view: View,
        proofs: Vec<(NodeId, ViewChange)>,
        o: Vec<Reproposal>,
    ) {
        if from != self.cfg.primary(view)
            || view < self.view
            || (view == self.view && !self.in_view_change)
        {
            return;
        }
        // NEW-VIEW validation: 2f + 1 view changes for this view from distinct replicas, and `O`
        // exactly what they give.
        let senders: BTreeSet<NodeId> = proofs
            .iter()
            .filter(|(_, m)| m.new_view == view)
            .map(|(i, _)| *i)
            .collect();
        let (min, expected) = reproposals(self.cfg.digest_kind, self.cfg.log_window, &proofs);
        let valid = senders.len() >= self.cfg.quorum()
            && senders.len() == proofs.len()
            && proofs
                .iter()
                .all(|(_, m)| self.cfg.valid_checkpoint(&m.checkpoint))
            && expected == o;
        if !valid {
            ctx.note(PbftNote::NewViewRejected { view, from });
            return;
        }
        self.install(ctx, view, min, o);
    }

    fn install(
        &mut self,
        ctx: &mut Ctx<'_, PbftActor>,
        view: View,
        min: StableCheckpoint,
        o: Vec<Reproposal>,
    ) {
        self.view = view;
        self.in_view_change = false;
        self.assigned.clear();
        // The new view starts after its latest stable checkpoint, min-s.
        self.make_stable(ctx, min);
        self.prune_old_views();
        self.next_seq = o
            .iter()
            .map(|r| r.seq)
            .max()
            .unwrap_or(0)
            .max(self.stable.seq)
            + 1;
        ctx.note(PbftNote::NewView {
            view,
            reproposals: o.len() as u64,
        });
        for r in o {
            if !self.in_window(r.seq) {
                continue;
            }
            let entry = self.entries.entry((r.seq, view)).or_default();
            entry.pre = Some((r.digest, r.request.clone()));
            if let Some(req) = r.request {
                self.assigned.insert((req.client, req.timestamp));
            }
        }
        let seqs: Vec<Seq> = self
            .entries
            .keys()
            .filter(|(_, v)| *v == view)
            .map(|(s, _)| *s)
            .collect();
        for seq in seqs {
            self.accept_pre_prepare(ctx, seq, view);
            self.progress(ctx, seq, view);
        }
        self.timer_running = false;
        if self.is_primary() {
            self.order_pending(ctx);
        }
        self.restart_timer(ctx);
    }
}

impl Replica {
    /// Drops the entries of views before the current one, except each sequence number's
    /// highest-view prepared certificate (a later view change must still carry it).
    fn prune_old_views(&mut self) {
        let keep: BTreeSet<(Seq, View)> = self
            .prepared_certificates()
            .iter()
            .map(|p| (p.seq, p.view))
            .collect();
        let view = self.view;
        self.entries
            .retain(|key, _| key.1 >= view || keep.contains(key));
    }
}

/// The new view's starting checkpoint `min-s` and pre-prepares `O`, computed from view-change
/// messages (§4.4): `min-s` is the latest stable checkpoint among them; for each sequence number
/// above it up to the highest prepared one (at most `log_window` past it), the request of the
/// certificate with the highest view, or the null request where none prepared. Certificates whose
/// digest does not match their request are ignored. The caller checks the checkpoints' proofs.
pub fn reproposals(
    kind: DigestKind,
    log_window: Seq,
    proofs: &[(NodeId, ViewChange)],
) -> (StableCheckpoint, Vec<Reproposal>) {
    let mut min = StableCheckpoint {
        seq: 0,
        digest: state_digest(kind, 0, &Snapshot::default()),
        vouchers: Vec::new(),
    };
    for (_, m) in proofs {
        if m.checkpoint.seq > min.seq {
            min = m.checkpoint.clone();
        }
    }
    let top = min.seq.saturating_add(log_window);
    let mut best: BTreeMap<Seq, &Prepared> = BTreeMap::new();
    for p in proofs.iter().flat_map(|(_, m)| &m.prepared) {
        if digest(kind, p.request.as_ref()) != p.digest || p.seq <= min.seq || p.seq > top {
            continue;
        }
        if best.get(&p.seq).is_none_or(|b| b.view < p.view) {
            best.insert(p.seq, p);
        }
    }
    let max_s = best.keys().next_back().copied().unwrap_or(min.seq);
    let o = (min.seq + 1..=max_s)
        .map(|seq| match best.get(&seq) {
            Some(p) => Reproposal {
                seq,
                digest: p.digest.clone(),
                request: p.request.clone(),
            },
            None => Reproposal {
                seq,
                digest: digest(kind, None),
                request: None,
            },
        })
        .collect();
    (min, o)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(t: u64) -> Request {
        Request {
            client: 9,
            timestamp: t,
            op: Op::Get { key: "k".into() },
        }
    }

    fn cert(view: View, seq: Seq, r: Option<Request>) -> Prepared {
        Prepared {
            view,
            seq,
            digest: digest(DigestKind::Md5, r.as_ref()),
            request: r,
            prepares: vec![1, 2],
        }
    }

    fn cfg(n: u32, flags: Flags) -> ReplicaConfig {
        ReplicaConfig {
            n,
            f: (n - 1) / 3,
            digest_kind: DigestKind::Md5,
            view_change_timeout: Duration::from_millis(1),
            checkpoint_interval: 10,
            log_window: 20,
            flags,
        }
    }

    fn vc(checkpoint: StableCheckpoint, prepared: Vec<Prepared>) -> ViewChange {
        ViewChange {
            new_view: 4,
            checkpoint,
            prepared,
        }
    }

    fn stable_at(seq: Seq, vouchers: Vec<u32>) -> StableCheckpoint {
        StableCheckpoint {
            seq,
            digest: format!("state-{seq}"),
            vouchers,
        }
    }

    #[test]
    fn a_new_view_keeps_the_highest_view_certificate_and_fills_gaps_with_null() {
        let mut bad = cert(3, 1, Some(req(7)));
        bad.digest = "not-the-digest".into();
        let initial = cfg(4, Flags::default()).initial_checkpoint();
        let proofs = vec![
            (1, vc(initial.clone(), vec![cert(1, 1, Some(req(1)))])),
            (
                2,
                vc(
                    initial.clone(),
                    vec![cert(2, 1, Some(req(2))), cert(0, 3, Some(req(3)))],
                ),
            ),
            (3, vc(initial.clone(), vec![bad])),
        ];
        let (min, o) = reproposals(DigestKind::Md5, 20, &proofs);
        assert_eq!(min, initial);
        assert_eq!(o.len(), 3);
        assert_eq!(
            o[0].request,
            Some(req(2)),
            "view 2 beats view 1; a forged digest counts for nothing"
        );
        assert_eq!(o[1].request, None);
        assert_eq!(o[1].digest, digest(DigestKind::Md5, None));
        assert_eq!(o[2].request, Some(req(3)));
        assert!(reproposals(DigestKind::Md5, 20, &[]).1.is_empty());
    }

    #[test]
    fn a_new_view_starts_after_the_latest_stable_checkpoint_and_within_the_window() {
        let at_10 = stable_at(10, vec![0, 1, 2]);
        let proofs = vec![
            // Behind: its certificates at or below 10 are covered by the checkpoint.
            (
                1,
                vc(
                    cfg(4, Flags::default()).initial_checkpoint(),
                    vec![cert(0, 9, Some(req(9))), cert(0, 12, Some(req(12)))],
                ),
            ),
            (2, vc(at_10.clone(), vec![cert(0, 14, Some(req(14)))])),
            // Beyond h + L = 30: no correct replica prepares there.
            (3, vc(at_10.clone(), vec![cert(0, 31, Some(req(31)))])),
        ];
        let (min, o) = reproposals(DigestKind::Md5, 20, &proofs);
        assert_eq!(min, at_10, "min-s is the latest stable checkpoint");
        let seqs: Vec<Seq> = o.iter().map(|r| r.seq).collect();
        assert_eq!(seqs, (11..=14).collect::<Vec<_>>());
        assert_eq!(o[1].request, Some(req(12)));
        assert_eq!(o[0].request, None, "11 prepared nowhere: null");
    }

    #[test]
    fn a_checkpoint_proof_needs_a_quorum_of_distinct_replicas() {
        let c = cfg(4, Flags::default());
        assert!(c.valid_checkpoint(&c.initial_checkpoint()));
        let mut forged_initial = c.initial_checkpoint();
        forged_initial.digest = "x".into();
        assert!(!c.valid_checkpoint(&forged_initial));
        assert!(c.valid_checkpoint(&stable_at(10, vec![0, 1, 3])));
        assert!(!c.valid_checkpoint(&stable_at(10, vec![0, 1])), "f + 1");
        assert!(!c.valid_checkpoint(&stable_at(10, vec![0, 1, 1])), "twice");
        assert!(
            !c.valid_checkpoint(&stable_at(10, vec![0, 1, 7])),
            "no replica 7"
        );
        assert!(
            !c.valid_checkpoint(&stable_at(15, vec![0, 1, 2])),
            "not a checkpoint"
        );
        let weak = cfg(
            4,
            Flags {
                checkpoint_quorum_f: true,
                ..Flags::default()
            },
        );
        assert_eq!(weak.checkpoint_quorum(), 2);
        assert!(weak.valid_checkpoint(&stable_at(10, vec![0, 1])));
        assert_eq!(c.log_entries_max(), 20 * (VIEWS_AHEAD as usize + 2));
    }

    #[test]
    fn quorums_meet_in_f_plus_one_replicas() {
        for n in 1..=13u32 {
            let f = (n - 1) / 3;
            let cfg = cfg(n, Flags::default());
            let q = cfg.quorum() as u32;
            assert!(2 * q > n + f, "n = {n}: two quorums of {q} share f + 1");
            assert!(q <= n - f, "n = {n}: the correct replicas form a quorum");
            if n == 3 * f + 1 {
                assert_eq!(q, 2 * f + 1);
            }
        }
    }
}
