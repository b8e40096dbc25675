//! A Chord node (Stoica et al., SIGCOMM 2001: stabilization, and successor lists against failures):
//! join through a known node, then periodic stabilize / notify, fix_fingers and check_predecessor.
//!
//! The state is volatile: a crash loses it and a restarted node joins again from nothing (there is no
//! durable state). Two additions to the paper's pseudocode make the ring heal from what the
//! simulator does to it:
//! - failure detection by missed replies: a successor that leaves `suspect_after` stabilize requests
//!   in a row unanswered is dropped for the next one on the successor list, a predecessor that leaves
//!   as many pings unanswered is forgotten; a node that is not a member answers `NotMember` and is
//!   dropped at once;
//! - the ring check (every `merge_ms`): a member looks up its own successor through a random server
//!   and adopts the answer if it lies between itself and its successor. That is the join lookup again;
//!   it relinks a node whose whole successor list failed and merges the separate rings that a
//!   partition leaves, which stabilize alone never does.

use super::message::{Msg, Note, Timer};
use super::mutants::Flags;
use super::ring::IdSpace;
use crate::contract::{Actor, Ctx, Duration, NodeId, Time};
use std::collections::BTreeMap;
use std::sync::Arc;

/// The most lookups one node has in flight; the workload skips a lookup rather than exceed it.
pub const LOOKUPS_IN_FLIGHT_MAX: usize = 64;

/// The server that creates the ring; every other server joins through a random server.
pub const CREATOR: NodeId = 0;

/// What every node of a run is built with.
#[derive(Clone, Debug)]
pub struct Config {
    /// The identifier circle.
    pub space: IdSpace,
    /// Every server's id on the circle, by node id.
    pub ids: Vec<u64>,
    /// Successor list length `r`.
    pub successors: usize,
    /// Stabilize period.
    pub stabilize: Duration,
    /// fix_fingers period.
    pub fix_fingers: Duration,
    /// check_predecessor period.
    pub check_predecessor: Duration,
    /// Ring check period.
    pub merge: Duration,
    /// The workload's lookup period.
    pub lookup: Duration,
    /// Wait for one node's answer to a lookup query.
    pub hop_timeout: Duration,
    /// Wait before a failed join is tried again.
    pub join_retry: Duration,
    /// Missed replies before a neighbour counts as failed.
    pub suspect_after: u32,
    /// The most routing steps of one lookup.
    pub hop_limit: u32,
    /// Join time of each server, on its own clock.
    pub join_at: Vec<Time>,
    /// The mutants switched on.
    pub flags: Flags,
}

/// Where a node is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Status {
    /// Its join time has not come.
    Waiting,
    /// It is looking for its successor.
    Joining,
    /// It is in the ring.
    Member,
}

/// What a lookup is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Purpose {
    /// The workload: a random key, reported in notes and judged.
    Client,
    /// The node's own successor, to join.
    Join,
    /// Finger `i`.
    Finger(u32),
    /// The ring check.
    Merge,
}

/// One iterative lookup in flight.
#[derive(Clone, Debug)]
pub(super) struct Lookup {
    pub(super) purpose: Purpose,
    pub(super) key: u64,
    /// The node asked now.
    pub(super) at: NodeId,
    /// The nodes that sent the lookup on, latest last: where to back up to if `at` fails.
    pub(super) path: Vec<NodeId>,
    /// Nodes found dead or not members during this lookup.
    pub(super) avoid: Vec<NodeId>,
    /// Routing steps taken, the asker's own and retries included.
    pub(super) steps: u32,
    /// Remote answers used.
    pub(super) hops: u32,
}

/// A Chord server.
#[derive(Clone, Debug)]
pub struct ChordNode {
    pub(super) cfg: Arc<Config>,
    pub(super) me: NodeId,
    /// A client node: never joins, only looks keys up, starting each lookup at a random server.
    pub(super) client: bool,
    pub(super) status: Status,
    /// The successor list, nearest first; empty when the node is alone (its successor is itself).
    pub(super) succs: Vec<NodeId>,
    pub(super) pred: Option<NodeId>,
    /// `fingers[i]`: the node believed to succeed `me + 2^i`.
    pub(super) fingers: Vec<Option<NodeId>>,
    pub(super) next_finger: u32,
    /// Whether the last stabilize request to the successor is unanswered, and how many in a row.
    pub(super) succ_waiting: bool,
    pub(super) succ_misses: u32,
    /// Likewise for the predecessor's pings.
    pub(super) pred_waiting: bool,
    pub(super) pred_misses: u32,
    pub(super) lookups: BTreeMap<u64, Lookup>,
    pub(super) next_lookup: u64,
}

/// A node's ring pointers as a checker reads them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RingView {
    /// Where it is in its life.
    pub status: Status,
    /// Its successor (itself when alone); `None` unless a member.
    pub successor: Option<NodeId>,
    /// Its predecessor.
    pub predecessor: Option<NodeId>,
}

impl ChordNode {
    /// Server `me`, before it starts.
    pub fn new(cfg: Arc<Config>, me: NodeId) -> ChordNode {
        let bits = cfg.space.bits() as usize;
        ChordNode {
            client: me as usize >= cfg.ids.len(),
            cfg,
            me,
            status: Status::Waiting,
            succs: Vec::new(),
            pred: None,
            fingers: vec![None; bits],
            next_finger: 0,
            succ_waiting: false,
            succ_misses: 0,
            pred_waiting: false,
            pred_misses: 0,
            lookups: BTreeMap::new(),
            next_lookup: 0,
        }
    }

    /// Its ring pointers.
    pub fn ring_view(&self) -> RingView {
        RingView {
            status: self.status,
            successor: (self.status == Status::Member).then(|| self.successor()),
            predecessor: self.pred,
        }
    }

    /// Its successor list (empty when alone).
    pub fn successor_list(&self) -> &[NodeId] {
        &self.succs
    }

    /// Its finger table.
    pub fn fingers(&self) -> &[Option<NodeId>] {
        &self.fingers
    }

    /// Lookups in flight.
    pub fn lookups_in_flight(&self) -> usize {
        self.lookups.len()
    }

    /// Its successor: the head of the list, or itself when alone.
    pub(super) fn successor(&self) -> NodeId {
        self.succs.first().copied().unwrap_or(self.me)
    }

    /// The ring id of node `n`.
    pub(super) fn id(&self, n: NodeId) -> u64 {
        self.cfg.ids[n as usize]
    }

    /// This node's ring id.
    pub(super) fn my_id(&self) -> u64 {
        self.id(self.me)
    }

    /// `head` then `tail`, without this node or repeats, cut where the list comes back round to
    /// this node, at most `r` long.
    fn successor_list_of(&self, head: &[NodeId], tail: &[NodeId]) -> Vec<NodeId> {
        let mut list: Vec<NodeId> = Vec::with_capacity(self.cfg.successors);
        for &n in head.iter().chain(tail) {
            if n == self.me {
                break;
            }
            if !list.contains(&n) {
                list.push(n);
            }
            if list.len() == self.cfg.successors {
                break;
            }
        }
        list
    }

    /// The scheduled join time came (or came again after a failed attempt).
    fn start_join(&mut self, ctx: &mut Ctx<'_, Self>) {
        if self.status == Status::Waiting {
            self.status = Status::Joining;
            ctx.note(Note::JoinStarted);
            self.arm_periodic(ctx);
        }
        if self.me == CREATOR {
            self.become_member(ctx, None);
            return;
        }
        let peers: Vec<NodeId> = ctx.peers().collect();
        match ctx.rng().pick(&peers).copied() {
            Some(known) => {
                let key = self.my_id();
                self.begin(ctx, Purpose::Join, key, known);
            }
            None => self.become_member(ctx, None),
        }
    }

    /// Sets every periodic timer once, each at a random phase of its period.
    fn arm_periodic(&mut self, ctx: &mut Ctx<'_, Self>) {
        let cfg = Arc::clone(&self.cfg);
        for (timer, period) in [
            (Timer::Stabilize, cfg.stabilize),
            (Timer::FixFingers, cfg.fix_fingers),
            (Timer::CheckPredecessor, cfg.check_predecessor),
            (Timer::Merge, cfg.merge),
            (Timer::Lookup, cfg.lookup),
        ] {
            let phase = ctx.random_duration(Duration(1), period);
            ctx.set_timer(timer, phase);
        }
    }

    /// Enters the ring with successor `successor` (`None`: alone, creating it).
    pub(super) fn become_member(&mut self, ctx: &mut Ctx<'_, Self>, successor: Option<NodeId>) {
        self.status = Status::Member;
        self.succs = successor.into_iter().collect();
        self.pred = None;
        self.succ_waiting = false;
        self.succ_misses = 0;
        ctx.note(Note::Joined {
            successor: self.successor(),
        });
        if successor.is_some() {
            self.stabilize(ctx);
        }
    }

    /// The paper's stabilize: ask the successor for its predecessor and list, after counting a
    /// miss if the last request went unanswered.
    fn stabilize(&mut self, ctx: &mut Ctx<'_, Self>) {
        if self.succs.is_empty() {
            // Alone: my successor is me, so its predecessor is mine, and any other node lies in
            // (me, me).
            if let Some(p) = self.pred.filter(|p| *p != self.me)
                && !self.cfg.flags.stabilize_no_adopt
            {
                self.succs = vec![p];
                ctx.send(p, Msg::Notify);
            }
            return;
        }
        if self.succ_waiting {
            self.succ_misses += 1;
            if self.succ_misses >= self.cfg.suspect_after {
                self.drop_successor(ctx);
                if self.succs.is_empty() {
                    return;
                }
            }
        }
        ctx.send(self.succs[0], Msg::GetNeighbours);
        self.succ_waiting = true;
    }

    /// The successor failed: the next on the list takes its place.
    fn drop_successor(&mut self, ctx: &mut Ctx<'_, Self>) {
        let gone = self.succs.remove(0);
        ctx.note(Note::SuccessorFailed { node: gone });
        self.forget_finger(gone);
        self.succ_waiting = false;
        self.succ_misses = 0;
    }

    /// Stops routing through `node`.
    pub(super) fn forget_finger(&mut self, node: NodeId) {
        for f in &mut self.fingers {
            if *f == Some(node) {
                *f = None;
            }
        }
    }

    /// The successor `from` answered stabilize.
    fn on_neighbours(
        &mut self,
        ctx: &mut Ctx<'_, Self>,
        from: NodeId,
        pred: Option<NodeId>,
        succs: &[NodeId],
    ) {
        if self.status != Status::Member || self.succs.first() != Some(&from) {
            return;
        }
        self.succ_waiting = false;
        self.succ_misses = 0;
        let mut list = self.successor_list_of(&[from], succs);
        if let Some(x) = pred
            && x != self.me
            && !self.cfg.flags.stabilize_no_adopt
            && self
                .cfg
                .space
                .in_open(self.id(x), self.my_id(), self.id(from))
        {
            list = self.successor_list_of(&[x], &list);
        }
        self.succs = list;
        ctx.send(self.succs[0], Msg::Notify);
    }

    /// The paper's notify: `from` thinks it might be this node's predecessor.
    fn on_notify(&mut self, from: NodeId) {
        if self.status != Status::Member || from == self.me {
            return;
        }
        let closer = match self.pred {
            None => true,
            Some(p) => self
                .cfg
                .space
                .in_open(self.id(from), self.id(p), self.my_id()),
        };
        if closer {
            self.pred = Some(from);
            self.pred_waiting = false;
            self.pred_misses = 0;
        }
    }

    /// check_predecessor: ping it, forgetting it after `suspect_after` unanswered pings.
    fn check_predecessor(&mut self, ctx: &mut Ctx<'_, Self>) {
        let Some(p) = self.pred else {
            return;
        };
        if self.pred_waiting {
            self.pred_misses += 1;
            if self.pred_misses >= self.cfg.suspect_after {
                self.pred = None;
                self.pred_waiting = false;
                self.pred_misses = 0;
                return;
            }
        }
        ctx.send(p, Msg::Ping);
        self.pred_waiting = true;
    }

    /// fix_fingers: refresh the next finger (a lookup unless it is the successor).
    fn fix_finger(&mut self, ctx: &mut Ctx<'_, Self>) {
        let i = self.next_finger;
        self.next_finger = (i + 1) % self.cfg.space.bits();
        let start = self.cfg.space.finger_start(self.my_id(), i);
        let succ = self.successor();
        if self
            .cfg
            .space
            .in_half_open(start, self.my_id(), self.id(succ))
        {
            self.fingers[i as usize] = (succ != self.me).then_some(succ);
        } else if self.lookups.len() < LOOKUPS_IN_FLIGHT_MAX {
            let me = self.me;
            self.begin(ctx, Purpose::Finger(i), start, me);
        }
    }

    /// The ring check: look up the successor of `me + 1` through a random server.
    fn merge_check(&mut self, ctx: &mut Ctx<'_, Self>) {
        if self.lookups.len() >= LOOKUPS_IN_FLIGHT_MAX {
            return;
        }
        let peers: Vec<NodeId> = ctx.peers().collect();
        if let Some(via) = ctx.rng().pick(&peers).copied() {
            let key = self.cfg.space.next(self.my_id());
            self.begin(ctx, Purpose::Merge, key, via);
        }
    }

    /// The ring check's answer: adopt it if it is closer than the successor.
    pub(super) fn merge_found(&mut self, ctx: &mut Ctx<'_, Self>, found: NodeId) {
        if self.status != Status::Member || found == self.me {
            return;
        }
        let closer = self.succs.is_empty()
            || self
                .cfg
                .space
                .in_open(self.id(found), self.my_id(), self.id(self.succs[0]));
        if closer {
            self.succs = self.successor_list_of(&[found], &self.succs.clone());
            self.succ_waiting = false;
            self.succ_misses = 0;
            ctx.note(Note::Merged { successor: found });
            ctx.send(found, Msg::Notify);
        }
    }

    /// The workload: look up a random key, starting here (a member) or at a random server (a
    /// client).
    fn client_lookup(&mut self, ctx: &mut Ctx<'_, Self>) {
        if self.lookups.len() >= LOOKUPS_IN_FLIGHT_MAX {
            return;
        }
        let key = ctx.rng().between(0, self.cfg.space.mask());
        let start = if self.client {
            let servers = ctx.cluster().servers;
            ctx.rng().below(u64::from(servers)) as NodeId
        } else {
            self.me
        };
        self.begin(ctx, Purpose::Client, key, start);
    }
}

impl Actor for ChordNode {
    type Msg = Msg;
    type Timer = Timer;
    type Durable = ();
    type Note = Note;

    fn on_start(&mut self, ctx: &mut Ctx<'_, Self>) {
        ctx.note(Note::Booted);
        if self.client {
            let phase = ctx.random_duration(Duration(1), self.cfg.lookup);
            ctx.set_timer(Timer::Lookup, phase);
            return;
        }
        let join_at = self.cfg.join_at[self.me as usize];
        if ctx.now() >= join_at {
            self.start_join(ctx);
        } else {
            ctx.set_timer(Timer::Join, join_at - ctx.now());
        }
    }

    fn on_msg(&mut self, ctx: &mut Ctx<'_, Self>, from: NodeId, msg: Msg) {
        let member = self.status == Status::Member;
        match msg {
            Msg::GetNeighbours if member => ctx.send(
                from,
                Msg::Neighbours {
                    pred: self.pred,
                    succs: self.succs.clone(),
                },
            ),
            Msg::Ping if member => ctx.send(from, Msg::Pong),
            Msg::GetNeighbours | Msg::Ping => ctx.send(from, Msg::NotMember),
            Msg::Neighbours { pred, succs } => self.on_neighbours(ctx, from, pred, &succs),
            Msg::Notify => self.on_notify(from),
            Msg::Pong => {
                if self.pred == Some(from) {
                    self.pred_waiting = false;
                    self.pred_misses = 0;
                }
            }
            Msg::NotMember => {
                if self.status == Status::Member && self.succs.first() == Some(&from) {
                    self.drop_successor(ctx);
                }
                if self.pred == Some(from) {
                    self.pred = None;
                }
                self.forget_finger(from);
            }
            Msg::Query { lookup, key, avoid } => {
                let step = self.route(key, &avoid);
                ctx.send(from, Msg::Answer { lookup, step });
            }
            Msg::Answer { lookup, step } => self.on_answer(ctx, from, lookup, step),
        }
    }

    fn on_timer(&mut self, ctx: &mut Ctx<'_, Self>, timer: Timer) {
        let member = self.status == Status::Member;
        let period = match &timer {
            Timer::Stabilize => Some(self.cfg.stabilize),
            Timer::FixFingers => Some(self.cfg.fix_fingers),
            Timer::CheckPredecessor => Some(self.cfg.check_predecessor),
            Timer::Merge => Some(self.cfg.merge),
            Timer::Lookup => Some(self.cfg.lookup),
            Timer::Join | Timer::Hop(_) => None,
        };
        if let Some(period) = period {
            ctx.set_timer(timer.clone(), period);
        }
        match timer {
            Timer::Join if !member => self.start_join(ctx),
            Timer::Stabilize if member => self.stabilize(ctx),
            Timer::FixFingers if member => self.fix_finger(ctx),
            Timer::CheckPredecessor if member => self.check_predecessor(ctx),
            Timer::Merge if member => self.merge_check(ctx),
            Timer::Lookup if member || self.client => self.client_lookup(ctx),
            Timer::Hop(lookup) => self.hop_timed_out(ctx, lookup),
            _ => {}
        }
    }
}
