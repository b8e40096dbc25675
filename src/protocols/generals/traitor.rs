//! How a traitor lies: it can change what it says, never who it is (the engine keeps the true
//! sender, and loyal generals check that a path ends with its sender).
//!
//! Every node whose messages pass through its adversary (the engine hands it each message a
//! Byzantine node sends, whatever the mode) is written into the shared [`Traitors`] roll, so the
//! checkers know whom IC1 and IC2 need not cover. Not when the adversary is built: the engine also
//! builds one just to learn whether the protocol has any. A node made Byzantine that never sends
//! anything while Byzantine has told no lie, and is judged as loyal.

use super::general::General;
use super::message::Relay;
use crate::contract::{Adversary, NodeId, Tamper};
use std::cell::RefCell;
use std::collections::BTreeSet;
use std::rc::Rc;

/// The nodes that were ever Byzantine in this run, shared by the protocol and its checkers.
pub type Traitors = Rc<RefCell<BTreeSet<NodeId>>>;

/// A traitor's lies.
#[derive(Debug)]
pub struct Traitor {
    /// The roll of traitors, shared with the checkers.
    traitors: Traitors,
    /// Under equivocation, receivers whose id has this parity hear the opposite of the truth:
    /// drawn once from the traitor's own stream, so the split differs between seeds but each
    /// receiver hears one story.
    flip_parity: Option<u32>,
}

impl Traitor {
    /// A traitor that signs itself into `traitors` when it first sends.
    pub fn new(traitors: Traitors) -> Traitor {
        Traitor {
            traitors,
            flip_parity: None,
        }
    }
}

impl Adversary<General> for Traitor {
    fn saw(&mut self, ctx: &mut Tamper<'_>, _msg: &Relay) {
        self.traitors.borrow_mut().insert(ctx.node);
    }

    /// Says the opposite of every order it relays.
    fn forge(&mut self, _ctx: &mut Tamper<'_>, msg: &Relay) -> Option<Relay> {
        Some(Relay {
            path: msg.path.clone(),
            order: msg.order.flipped(),
        })
    }

    /// Tells half the receivers (by parity of id) the opposite of what it tells the others.
    fn equivocate(&mut self, ctx: &mut Tamper<'_>, msg: &Relay) -> Option<Relay> {
        let parity = *self
            .flip_parity
            .get_or_insert_with(|| u32::from(ctx.rng.chance_ppm(500_000)));
        // The other half hear the truth: unchanged, so not marked as tampered.
        (ctx.to % 2 == parity).then(|| Relay {
            path: msg.path.clone(),
            order: msg.order.flipped(),
        })
    }
}
