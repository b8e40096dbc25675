//! What Chord nodes say to each other, their timers, and the notes they write for checkers.

use crate::contract::{NodeId, NoteLabel};
use serde::Serialize;

/// A message between two servers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Msg {
    /// Stabilize: "who is your predecessor, and what is your successor list?"
    GetNeighbours,
    /// The answer to `GetNeighbours`.
    Neighbours {
        /// The sender's predecessor.
        pred: Option<NodeId>,
        /// The sender's successor list.
        succs: Vec<NodeId>,
    },
    /// "I think I might be your predecessor."
    Notify,
    /// check_predecessor: "are you alive?"
    Ping,
    /// The answer to `Ping`.
    Pong,
    /// The answer to `GetNeighbours` or `Ping` from a node that is not in the ring (not joined yet,
    /// or restarted since): the asker drops it at once.
    NotMember,
    /// One step of an iterative lookup: "where is the successor of `key`?", skipping the nodes in
    /// `avoid` (ones the asker found dead).
    Query {
        /// The asker's lookup number.
        lookup: u64,
        /// The key.
        key: u64,
        /// Nodes not to answer with.
        avoid: Vec<NodeId>,
    },
    /// The answer to a `Query`.
    Answer {
        /// The asker's lookup number.
        lookup: u64,
        /// What the asked node knows.
        step: Step,
    },
}

/// One node's answer to a lookup query.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Step {
    /// The key lies between the node and its successor: this is the key's successor.
    Done(NodeId),
    /// Ask this node next: the closest node preceding the key that the asked node knows.
    Next(NodeId),
    /// The asked node is not in the ring.
    NotMember,
}

/// Timers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Timer {
    /// The node's (first or next) attempt to join.
    Join,
    /// Stabilize and notify.
    Stabilize,
    /// Refresh the next finger.
    FixFingers,
    /// Ping the predecessor.
    CheckPredecessor,
    /// Look up one's own successor through a random server.
    Merge,
    /// Look up a random key (the workload).
    Lookup,
    /// Lookup `n` has waited long enough for its current node.
    Hop(u64),
}

/// Why a lookup failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LookupFailure {
    /// It asked `hop_limit` nodes without an answer.
    HopLimit,
    /// Every way on timed out or was not a member.
    NoRoute,
}

impl LookupFailure {
    /// In words.
    pub fn as_str(self) -> &'static str {
        match self {
            LookupFailure::HopLimit => "exceeded the hop limit",
            LookupFailure::NoRoute => "found no live route",
        }
    }
}

/// What a node reports.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "note", rename_all = "snake_case")]
pub enum Note {
    /// The node (re)started, not in the ring.
    Booted,
    /// The node starts joining (its scheduled time came, or it restarted after it).
    JoinStarted,
    /// The node is in the ring, with this first successor (itself if it created the ring).
    Joined {
        /// Its successor.
        successor: NodeId,
    },
    /// The node dropped its successor `node` as failed.
    SuccessorFailed {
        /// The dropped successor.
        node: NodeId,
    },
    /// The ring check found a closer successor than the node's own.
    Merged {
        /// The new successor.
        successor: NodeId,
    },
    /// The node issued its lookup number `lookup` for `key`.
    LookupStarted {
        /// The node's lookup number.
        lookup: u64,
        /// The key.
        key: u64,
    },
    /// Lookup `lookup` found `owner` after `hops` remote answers.
    LookupDone {
        /// The node's lookup number.
        lookup: u64,
        /// The key.
        key: u64,
        /// The node it names as the key's successor.
        owner: NodeId,
        /// Remote answers used.
        hops: u32,
    },
    /// Lookup `lookup` failed.
    LookupFailed {
        /// The node's lookup number.
        lookup: u64,
        /// The key.
        key: u64,
        /// Why.
        why: LookupFailure,
        /// Remote answers used before it gave up.
        hops: u32,
    },
}

impl NoteLabel for Note {
    fn label(&self) -> &'static str {
        match self {
            Note::Booted => "booted",
            Note::JoinStarted => "join_started",
            Note::Joined { .. } => "joined",
            Note::SuccessorFailed { .. } => "successor_failed",
            Note::Merged { .. } => "merged",
            Note::LookupStarted { .. } => "lookup_started",
            Note::LookupDone { .. } => "lookup_done",
            Note::LookupFailed { .. } => "lookup_failed",
        }
    }
}
