//! Paxos's ballots, commands and messages.
//!
//! Message names follow *Paxos Made Simple*: phase 1 is `Prepare` and `Promise` (1a, 1b), phase 2
//! is `Accept` and `Accepted` (2a, 2b); `Decide` tells learners what was chosen. A `Nack` tells a
//! proposer that an acceptor has promised a higher ballot, so it can stop early (an optimisation the
//! paper mentions). `Heartbeat` and `CatchUp` are Multi-Paxos's: the distinguished leader's "I am
//! alive" and a learner's request for the chosen slots it missed.

use crate::contract::NodeId;
pub use crate::contract::client::{ClientOutcome, KvOp, KvResult};
use serde::Serialize;

/// A slot of the Multi-Paxos log; single-decree Paxos runs its instances in slots too.
pub type Slot = u64;

/// A proposal number: unique because no two proposers share a `node`, and a proposer never reuses
/// a `round` (it persists the last round it used). Ordered by round, then node.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Ballot {
    /// The round, from 1 (0 only in [`Ballot::ZERO`]).
    pub round: u64,
    /// The proposer that owns the ballot.
    pub node: NodeId,
}

impl Ballot {
    /// Below every real ballot: what an acceptor has promised before any `Prepare`.
    pub const ZERO: Ballot = Ballot { round: 0, node: 0 };
}

/// A client's request, as it travels and as it sits in the log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Request {
    /// The client node.
    pub client: NodeId,
    /// Its sequence number (the same on every retry).
    pub seq: u64,
    /// The operation.
    pub op: KvOp,
}

/// A value that Paxos chooses for a slot.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "cmd", rename_all = "snake_case")]
pub enum Command {
    /// Fills a gap in the Multi-Paxos log; applies as nothing.
    Noop,
    /// Single-decree Paxos: the value `proposer` proposed for `instance`.
    Bid {
        /// Who proposed it.
        proposer: NodeId,
        /// The instance (slot).
        instance: Slot,
    },
    /// Multi-Paxos: a client request.
    Request(Request),
}

/// A command's identity, for the checkers' ghost records (two commands with one identity are the
/// same value: a client retries a request with the same sequence number and the same operation).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub enum CommandId {
    /// [`Command::Noop`].
    Noop,
    /// [`Command::Bid`]: proposer and instance.
    Bid(NodeId, Slot),
    /// [`Command::Request`]: client and sequence number.
    Request(NodeId, u64),
}

impl Command {
    /// The command's identity.
    pub fn id(&self) -> CommandId {
        match self {
            Command::Noop => CommandId::Noop,
            Command::Bid { proposer, instance } => CommandId::Bid(*proposer, *instance),
            Command::Request(r) => CommandId::Request(r.client, r.seq),
        }
    }
}

/// What an acceptor holds for one slot: the highest-numbered proposal it accepted.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AcceptedValue {
    /// The slot.
    pub slot: Slot,
    /// The ballot it was accepted in.
    pub ballot: Ballot,
    /// The value.
    pub cmd: Command,
}

/// Messages between servers, and between servers and clients.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Msg {
    /// Phase 1a: promise me `ballot` for every slot from `from_slot` on.
    Prepare {
        /// The proposer's ballot.
        ballot: Ballot,
        /// The first slot the proposer has not learned.
        from_slot: Slot,
    },
    /// Phase 1b: promised, with every proposal accepted at `from_slot` or later.
    Promise {
        /// The ballot promised.
        ballot: Ballot,
        /// Highest-numbered accepted proposal per slot.
        accepted: Vec<AcceptedValue>,
    },
    /// Phase 2a: accept `cmd` in `slot` under `ballot`.
    Accept {
        /// The proposer's ballot.
        ballot: Ballot,
        /// The slot.
        slot: Slot,
        /// The value.
        cmd: Command,
    },
    /// Phase 2b: accepted.
    Accepted {
        /// The ballot accepted.
        ballot: Ballot,
        /// The slot.
        slot: Slot,
    },
    /// Refused: the acceptor has promised `promised`, above `ballot`.
    Nack {
        /// The ballot refused.
        ballot: Ballot,
        /// What the acceptor promised.
        promised: Ballot,
    },
    /// A learner's news: `cmd` is chosen in `slot`.
    Decide {
        /// The slot.
        slot: Slot,
        /// The chosen value.
        cmd: Command,
    },
    /// Multi-Paxos: the leader of `ballot` is alive and has learned every slot below `chosen_below`.
    Heartbeat {
        /// The leader's ballot.
        ballot: Ballot,
        /// Its first slot not yet learned.
        chosen_below: Slot,
    },
    /// Multi-Paxos: send me the chosen slots from `from_slot` on.
    CatchUp {
        /// The asker's first slot not learned.
        from_slot: Slot,
    },
    /// A client's request.
    ClientRequest(Request),
    /// The answer to request `seq`.
    ClientReply {
        /// The request's sequence number.
        seq: u64,
        /// Done, or not the leader.
        outcome: ClientOutcome,
    },
}

/// Timer tags. Setting a tag again replaces the earlier timer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PaxosTimer {
    /// Single-decree: the backoff is over, propose (phase 1) for the next instance.
    Propose,
    /// Single-decree: the current proposal took too long; give it up and back off.
    Abandon,
    /// Multi-Paxos: no leader heard from in time; run phase 1 to become leader.
    Election,
    /// Multi-Paxos leader: send heartbeats and re-send unanswered `Accept`s.
    Heartbeat,
    /// Client: think time is over.
    ClientThink,
    /// Client: the attempt timed out.
    ClientAttempt,
    /// Client: the operation's deadline passed.
    ClientDeadline,
}
