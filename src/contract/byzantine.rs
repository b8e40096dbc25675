//! The Byzantine seam: an adversary per Byzantine node.
//!
//! A Byzantine node runs the same honest code as everyone else; what it *sends* passes through its
//! adversary, which the engine builds (with [`crate::contract::Protocol::adversary`]) the first time
//! the node turns Byzantine and keeps for the rest of the run, so it can remember what the node sent
//! (to replay it) or what it saw. The adversary sees each outgoing message with its destination and
//! draws from its own random stream (one per node), so equivocation (different receivers get
//! different versions) and forgery are the protocol's message-specific part, and never shift another
//! stream's draws. Correct nodes always know the true sender of a message (authenticated channels): an
//! adversary can change what a message says, never who it is from.

use crate::contract::actor::{Actor, NodeId};
use crate::contract::rng::Rng;
use crate::contract::time::Time;

/// What an adversary knows about the message in hand.
pub struct Tamper<'a> {
    /// The Byzantine node sending it.
    pub node: NodeId,
    /// Its destination.
    pub to: NodeId,
    /// True time.
    pub now: Time,
    /// The adversary's own random stream (one per Byzantine node).
    pub rng: &'a mut Rng,
}

/// The protocol-specific part of a Byzantine node.
pub trait Adversary<A: Actor> {
    /// Sees every message the node's honest code sends, before any tampering (to remember for a
    /// replay, or to learn what a colluder would know).
    fn saw(&mut self, ctx: &mut Tamper<'_>, msg: &A::Msg) {
        let _ = (ctx, msg);
    }

    /// Hears a message that `from`, a colluder in the same collusion group (a Byzantine fault's
    /// `"collude"`), is sending to `to`, as its honest code wrote it: what colluders share, so
    /// that they can tell receivers one consistent story. The default ignores it.
    fn colluder_sent(&mut self, from: NodeId, to: NodeId, msg: &A::Msg) {
        let _ = (from, to, msg);
    }

    /// Under `"mode": "forge"`: a version of `msg` with fields altered (a term, a view, a digest, a
    /// value); `None` sends it unchanged.
    fn forge(&mut self, ctx: &mut Tamper<'_>, msg: &A::Msg) -> Option<A::Msg> {
        let _ = (ctx, msg);
        None
    }

    /// Under `"mode": "equivocate"`: the version of `msg` that receiver `ctx.to` gets, so that
    /// different receivers see conflicting messages; `None` sends it unchanged.
    fn equivocate(&mut self, ctx: &mut Tamper<'_>, msg: &A::Msg) -> Option<A::Msg> {
        let _ = (ctx, msg);
        None
    }
}
