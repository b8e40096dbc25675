//! A general: the commander sends its order, lieutenants relay what they hear for `m` rounds and
//! decide by nested majorities (OM(m), as an exponential-information-gathering tree).

use super::message::{Order, Relay, Timer};
use crate::contract::{Actor, Ctx, Duration, NodeId, NoteLabel, Role};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// What a general keeps on disk: the commander's order, a lieutenant's decision.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Disk {
    /// The commander's order, once given.
    pub order: Option<Order>,
    /// A lieutenant's decision, once taken.
    pub decision: Option<Order>,
    /// The generals whose message this lieutenant expected by its decision and never got (a
    /// traitor's silence, or a network that broke OM's assumption that every message arrives
    /// within a round).
    pub missed_from: BTreeSet<NodeId>,
}

/// Protocol events.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Note {
    /// The commander gave its order.
    Ordered {
        /// The order.
        order: Order,
    },
    /// A lieutenant decided.
    Decided {
        /// What it decided.
        order: Order,
    },
    /// A message whose path cannot be true (wrong sender, repeated or unknown general, too long).
    Rejected {
        /// Its path.
        path: Vec<NodeId>,
    },
}

impl NoteLabel for Note {
    fn label(&self) -> &'static str {
        match self {
            Note::Ordered { .. } => "ordered",
            Note::Decided { .. } => "decided",
            Note::Rejected { .. } => "rejected",
        }
    }
}

/// What every general knows of the battle plan.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Plan {
    /// Rounds of relaying (`m` of OM(m)): traitors tolerated.
    pub m: u32,
    /// The commander's node id.
    pub commander: NodeId,
    /// The lieutenants' node ids, in order.
    pub lieutenants: Vec<NodeId>,
    /// When the battle starts (the commander gives its order), ms after a general starts.
    pub start_ms: u64,
    /// One round's length, ms: at least the network's largest delay.
    pub round_ms: u64,
    /// The commander's order, or `None` to draw it from the commander's stream.
    pub order: Option<Order>,
}

/// A general (the commander or a lieutenant).
#[derive(Clone, Debug)]
pub struct General {
    id: NodeId,
    plan: Plan,
    /// Every order heard, by path; the first message for a path wins.
    heard: BTreeMap<Vec<NodeId>, Order>,
    decision: Option<Order>,
}

impl General {
    /// General `id` under `plan`.
    pub fn new(id: NodeId, plan: Plan) -> General {
        General {
            id,
            plan,
            heard: BTreeMap::new(),
            decision: None,
        }
    }

    /// Whether this general is the commander.
    pub fn is_commander(&self) -> bool {
        self.id == self.plan.commander
    }

    /// The lieutenant's decision, once taken.
    pub fn decision(&self) -> Option<Order> {
        self.decision
    }

    /// Whether a path can be true for a message `from` sent to this general.
    fn path_valid(&self, from: NodeId, path: &[NodeId]) -> bool {
        let Some((first, rest)) = path.split_first() else {
            return false;
        };
        let len_ok = path.len() <= self.plan.m as usize + 1;
        let distinct = rest
            .iter()
            .enumerate()
            .all(|(i, p)| self.plan.lieutenants.contains(p) && !rest[..i].contains(p));
        *first == self.plan.commander
            && path.last() == Some(&from)
            && len_ok
            && distinct
            && !path.contains(&self.id)
    }

    /// OM(m) as lieutenant `self.id` computes it for the sub-instance whose commander is the last
    /// of `path`: with no rounds left, what it heard; otherwise the majority of what it heard and
    /// of what each other lieutenant outside `path` got as commander of the next sub-instance.
    /// It visits every path this lieutenant should have heard, and writes the sender of each one
    /// it did not hear into `missed_from`.
    fn value(&self, path: &mut Vec<NodeId>, missed_from: &mut BTreeSet<NodeId>) -> Order {
        let heard = match self.heard.get(path.as_slice()) {
            Some(order) => *order,
            None => {
                missed_from.extend(path.last().copied());
                Order::Retreat
            }
        };
        let rounds_left = self.plan.m as usize + 1 - path.len();
        if rounds_left == 0 {
            return heard;
        }
        let (mut attack, mut total) = (u32::from(heard == Order::Attack), 1u32);
        for j in self.plan.lieutenants.clone() {
            if j == self.id || path.contains(&j) {
                continue;
            }
            path.push(j);
            let v = self.value(path, missed_from);
            path.pop();
            attack += u32::from(v == Order::Attack);
            total += 1;
        }
        if 2 * attack > total {
            Order::Attack
        } else {
            Order::Retreat
        }
    }
}

impl Actor for General {
    type Msg = Relay;
    type Timer = Timer;
    type Durable = Disk;
    type Note = Note;

    fn on_start(&mut self, ctx: &mut Ctx<'_, Self>) {
        if self.is_commander() {
            if ctx.durable().order.is_none() {
                ctx.set_timer(Timer::Give, Duration::from_millis(self.plan.start_ms));
            }
            return;
        }
        self.decision = ctx.durable().decision;
        if self.decision.is_none() {
            let rounds = u64::from(self.plan.m) + 1;
            let after_ms = self.plan.start_ms + self.plan.round_ms * rounds;
            ctx.set_timer(Timer::Decide, Duration::from_millis(after_ms));
        }
    }

    fn on_msg(&mut self, ctx: &mut Ctx<'_, Self>, from: NodeId, msg: Relay) {
        if self.is_commander() || self.decision.is_some() {
            return;
        }
        if !self.path_valid(from, &msg.path) {
            ctx.note(Note::Rejected { path: msg.path });
            return;
        }
        if self.heard.contains_key(&msg.path) {
            return;
        }
        self.heard.insert(msg.path.clone(), msg.order);
        if msg.path.len() <= self.plan.m as usize {
            let mut path = msg.path.clone();
            path.push(self.id);
            for to in self.plan.lieutenants.clone() {
                if !path.contains(&to) {
                    ctx.send(
                        to,
                        Relay {
                            path: path.clone(),
                            order: msg.order,
                        },
                    );
                }
            }
        }
    }

    fn on_timer(&mut self, ctx: &mut Ctx<'_, Self>, timer: Timer) {
        match timer {
            Timer::Give => {
                if ctx.durable().order.is_some() {
                    return;
                }
                let order = self.plan.order.unwrap_or_else(|| {
                    if ctx.rng().chance_ppm(500_000) {
                        Order::Attack
                    } else {
                        Order::Retreat
                    }
                });
                ctx.durable_mut().order = Some(order);
                ctx.note(Note::Ordered { order });
                for to in self.plan.lieutenants.clone() {
                    let path = vec![self.id];
                    ctx.send(to, Relay { path, order });
                }
            }
            Timer::Decide => {
                if self.decision.is_some() {
                    return;
                }
                let mut missed_from = BTreeSet::new();
                let order = self.value(&mut vec![self.plan.commander], &mut missed_from);
                self.decision = Some(order);
                ctx.durable_mut().decision = Some(order);
                ctx.durable_mut().missed_from = missed_from;
                ctx.note(Note::Decided { order });
            }
        }
    }

    fn role(&self) -> Role {
        Some(if self.is_commander() {
            "commander"
        } else {
            "lieutenant"
        })
    }
}
