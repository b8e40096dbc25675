//! What two-phase commit nodes say to each other, and the timers they set.

use crate::contract::NodeId;
use serde::{Serialize, Serializer};
use std::fmt;

/// A transaction's identity: the client that asked for it and its sequence number there. Ids are
/// never reused: a client keeps its next sequence number on its disk.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct TxnId {
    /// The client node that asked for it.
    pub client: NodeId,
    /// The client's sequence number (from 1).
    pub seq: u32,
}

impl fmt::Display for TxnId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "t{}.{}", self.client, self.seq)
    }
}

/// Written as one word (`"t5.1"`), so a timer tag that holds one stays one word in golden scripts.
impl Serialize for TxnId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// The outcome of a transaction.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    /// Every participant makes the transaction's effects permanent.
    Commit,
    /// Every participant undoes it.
    Abort,
}

impl Decision {
    /// `"commit"` or `"abort"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Commit => "commit",
            Decision::Abort => "abort",
        }
    }
}

/// A message between clients, the coordinator and participants.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Msg {
    /// Client to coordinator: run `txn` over `participants` (re-sent until an outcome comes back).
    Begin {
        /// The transaction.
        txn: TxnId,
        /// The participants it touches.
        participants: Vec<NodeId>,
    },
    /// Coordinator to participant: phase one, "can you commit `txn`?". Carries the participant list
    /// so that an uncertain participant knows whom to ask (cooperative termination).
    Prepare {
        /// The transaction.
        txn: TxnId,
        /// Every participant of it.
        participants: Vec<NodeId>,
    },
    /// Participant to coordinator: its vote. A yes is durable on the participant's disk first.
    Vote {
        /// The transaction.
        txn: TxnId,
        /// Yes (prepared) or no (aborted on its own).
        yes: bool,
    },
    /// The decision: coordinator to participant (phase two), or one participant answering another's
    /// query.
    Decision {
        /// The transaction.
        txn: TxnId,
        /// Commit or abort.
        decision: Decision,
    },
    /// Participant to coordinator: the decision is on my disk, stop re-sending it.
    Ack {
        /// The transaction.
        txn: TxnId,
    },
    /// An uncertain participant (voted yes, no decision yet) asks the coordinator and the other
    /// participants what became of `txn`.
    Query {
        /// The transaction.
        txn: TxnId,
    },
    /// Coordinator to client: how the transaction ended.
    Outcome {
        /// The transaction.
        txn: TxnId,
        /// Commit or abort.
        decision: Decision,
    },
}

/// Timer tags.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Timer {
    /// Coordinator: the votes for `txn` did not all come in time; abort it.
    VoteTimeout(TxnId),
    /// Coordinator: re-send what is unanswered (prepares without a vote, decisions without an ack);
    /// with `twopc.decide_before_logging`, also the moment the decision log is flushed.
    Resend,
    /// Participant: it voted yes on `txn` and has heard no decision; ask around.
    DecisionTimeout(TxnId),
    /// Client: time to start the next transaction.
    Think,
    /// Client: no outcome yet for the current transaction; ask the coordinator again.
    Retry,
}
