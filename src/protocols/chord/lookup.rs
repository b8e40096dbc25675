//! Iterative lookups (the paper's scalable key location, run by the asker as in its iterative
//! variant) and the routing step every node answers them with.
//!
//! The asker holds the lookup: it asks a node, which answers `Done(s)` when the key lies between it
//! and its successor `s`, or `Next(z)` with the closest node preceding the key that it knows
//! (fingers and successor list: the paper's `closest_preceding_finger`). A node that times out or is
//! not a member is added to the lookup's `avoid` list and the asker backs up to the node that sent
//! it there, which answers again without it. Every step counts against `hop_limit`, so a broken
//! ring cannot keep a lookup going forever: running out is a failed lookup, which the checker
//! judges.

use super::message::{LookupFailure, Msg, Note, Step, Timer};
use super::node::{ChordNode, Lookup, Purpose, Status};
use crate::contract::{Ctx, NodeId};

impl ChordNode {
    /// The routing step this node answers for `key`, skipping the nodes in `avoid`.
    pub fn route(&self, key: u64, avoid: &[NodeId]) -> Step {
        if self.status != Status::Member {
            return Step::NotMember;
        }
        let space = self.cfg.space;
        let my = self.my_id();
        let succ = self
            .succs
            .iter()
            .copied()
            .find(|s| !avoid.contains(s))
            .unwrap_or(self.me);
        if space.in_half_open(key, my, self.id(succ)) {
            return Step::Done(if self.cfg.flags.returns_predecessor {
                self.me
            } else {
                succ
            });
        }
        let closest = self
            .fingers
            .iter()
            .rev()
            .flatten()
            .chain(&self.succs)
            .copied()
            .filter(|c| *c != self.me && !avoid.contains(c))
            .filter(|c| space.in_open(self.id(*c), my, key))
            .max_by_key(|c| space.distance(my, self.id(*c)));
        match closest {
            Some(c) => Step::Next(c),
            // Cannot happen with a successor other than this node (it precedes the key), and with
            // none the first test holds; answering the successor keeps the step total.
            None => Step::Done(succ),
        }
    }

    /// Starts a lookup of `key` at node `start` (this node or a known one); returns its number.
    pub(super) fn begin(
        &mut self,
        ctx: &mut Ctx<'_, Self>,
        purpose: Purpose,
        key: u64,
        start: NodeId,
    ) -> u64 {
        let n = self.next_lookup;
        self.next_lookup += 1;
        if purpose == Purpose::Client {
            ctx.note(Note::LookupStarted { lookup: n, key });
        }
        self.lookups.insert(
            n,
            Lookup {
                purpose,
                key,
                at: start,
                path: Vec::new(),
                avoid: Vec::new(),
                steps: 0,
                hops: 0,
            },
        );
        self.ask(ctx, n, start);
        n
    }

    /// Asks `target` (maybe this node itself) where lookup `n` goes next.
    fn ask(&mut self, ctx: &mut Ctx<'_, Self>, n: u64, target: NodeId) {
        let hop_limit = self.cfg.hop_limit;
        let Some(l) = self.lookups.get_mut(&n) else {
            return;
        };
        l.steps += 1;
        if l.steps > hop_limit {
            self.fail(ctx, n, LookupFailure::HopLimit);
            return;
        }
        l.at = target;
        if target == self.me {
            let (key, avoid) = (l.key, std::mem::take(&mut l.avoid));
            let step = self.route(key, &avoid);
            if let Some(l) = self.lookups.get_mut(&n) {
                l.avoid = avoid;
            }
            self.advance(ctx, n, target, step);
        } else {
            let query = Msg::Query {
                lookup: n,
                key: l.key,
                avoid: l.avoid.clone(),
            };
            ctx.send(target, query);
            ctx.set_timer(Timer::Hop(n), self.cfg.hop_timeout);
        }
    }

    /// `from` answered lookup `n` with `step`.
    fn advance(&mut self, ctx: &mut Ctx<'_, Self>, n: u64, from: NodeId, step: Step) {
        match step {
            Step::Done(owner) => self.finish(ctx, n, owner),
            Step::Next(next) => {
                if let Some(l) = self.lookups.get_mut(&n) {
                    l.path.push(from);
                }
                self.ask(ctx, n, next);
            }
            Step::NotMember => self.hop_failed(ctx, n, from),
        }
    }

    /// An answer to one of this node's queries.
    pub(super) fn on_answer(&mut self, ctx: &mut Ctx<'_, Self>, from: NodeId, n: u64, step: Step) {
        match self.lookups.get_mut(&n) {
            Some(l) if l.at == from => l.hops += 1,
            // A late or duplicated answer from a node the lookup has moved past.
            _ => return,
        }
        ctx.cancel_timer(Timer::Hop(n));
        self.advance(ctx, n, from, step);
    }

    /// Lookup `n`'s current node did not answer in time.
    pub(super) fn hop_timed_out(&mut self, ctx: &mut Ctx<'_, Self>, n: u64) {
        if let Some(at) = self.lookups.get(&n).map(|l| l.at) {
            self.hop_failed(ctx, n, at);
        }
    }

    /// `bad` cannot help lookup `n`: avoid it and ask again the node that sent the lookup there.
    fn hop_failed(&mut self, ctx: &mut Ctx<'_, Self>, n: u64, bad: NodeId) {
        if bad != self.me {
            self.forget_finger(bad);
        }
        let Some(l) = self.lookups.get_mut(&n) else {
            return;
        };
        if !l.avoid.contains(&bad) {
            l.avoid.push(bad);
        }
        match l.path.pop() {
            Some(back) => self.ask(ctx, n, back),
            None => self.fail(ctx, n, LookupFailure::NoRoute),
        }
    }

    /// Lookup `n` found `owner`.
    fn finish(&mut self, ctx: &mut Ctx<'_, Self>, n: u64, owner: NodeId) {
        let Some(l) = self.lookups.remove(&n) else {
            return;
        };
        ctx.cancel_timer(Timer::Hop(n));
        match l.purpose {
            Purpose::Client => ctx.note(Note::LookupDone {
                lookup: n,
                key: l.key,
                owner,
                hops: l.hops,
            }),
            Purpose::Join => {
                if self.status == Status::Joining {
                    if owner == self.me {
                        // Others still route to this node's previous life: try again once they
                        // have dropped it.
                        ctx.set_timer(Timer::Join, self.cfg.join_retry);
                    } else {
                        self.become_member(ctx, Some(owner));
                    }
                }
            }
            Purpose::Finger(i) => {
                if self.status == Status::Member {
                    self.fingers[i as usize] = (owner != self.me).then_some(owner);
                }
            }
            Purpose::Merge => self.merge_found(ctx, owner),
        }
    }

    /// Lookup `n` gave up.
    fn fail(&mut self, ctx: &mut Ctx<'_, Self>, n: u64, why: LookupFailure) {
        let Some(l) = self.lookups.remove(&n) else {
            return;
        };
        ctx.cancel_timer(Timer::Hop(n));
        match l.purpose {
            Purpose::Client => ctx.note(Note::LookupFailed {
                lookup: n,
                key: l.key,
                why,
                hops: l.hops,
            }),
            Purpose::Join => ctx.set_timer(Timer::Join, self.cfg.join_retry),
            Purpose::Finger(_) | Purpose::Merge => {}
        }
    }
}
