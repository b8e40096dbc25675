//! The store's messages, timers and versions.

use crate::contract::NodeId;
use crate::contract::client::{ClientOutcome, KvOp};
use serde::Serialize;
use std::sync::Arc;

/// A version: ABD's tag in CP and CA mode, last-writer-wins' `(Lamport time, node)` in AP mode. Ordered
/// by time, then node, then operation, so two writes never share a version: a coordinator may run
/// two puts on one key at once, and both read the same highest time in phase 1.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Version {
    /// The logical time (ABD's sequence number, or the Lamport clock).
    pub time: u64,
    /// The server that made the version (breaks ties).
    pub node: NodeId,
    /// ABD: the coordinator's operation id (breaks ties between its own concurrent puts); AP: 0 (a
    /// replica's Lamport clock already moves on with each of its writes).
    pub op: u64,
}

/// A key's value with its version (`value: None` for a key never written, at version zero).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Stored {
    /// Its version.
    pub version: Version,
    /// Its value.
    pub value: Option<Arc<str>>,
}

/// A client's request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Request {
    /// The client's node id.
    pub client: NodeId,
    /// Its sequence number (one per operation; the client never retries one).
    pub seq: u64,
    /// What it asks.
    pub op: KvOp,
}

/// Messages between clients and servers, and between servers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Msg {
    /// Client to server.
    ClientRequest(Request),
    /// Server to client.
    ClientReply {
        /// The request's sequence number.
        seq: u64,
        /// What happened.
        outcome: ClientOutcome,
    },
    /// ABD phase 1: what is your version of `key`?
    Query {
        /// The coordinator's operation id.
        op: u64,
        /// The key.
        key: Arc<str>,
    },
    /// ABD phase 1 answer.
    QueryReply {
        /// The coordinator's operation id.
        op: u64,
        /// The replica's version and value.
        stored: Stored,
    },
    /// ABD phase 2 (a write, or a read's write-back): keep this version if it is newer.
    Store {
        /// The coordinator's operation id.
        op: u64,
        /// The key.
        key: Arc<str>,
        /// The version and value.
        stored: Stored,
    },
    /// ABD phase 2 answer: the replica holds `op`'s version or a newer one.
    StoreAck {
        /// The coordinator's operation id.
        op: u64,
    },
    /// AP: a new write, pushed to every peer as it happens (best effort).
    Update {
        /// The key.
        key: Arc<str>,
        /// The version and value.
        stored: Stored,
    },
    /// AP anti-entropy: the sender's whole store; `reply` asks for the receiver's in return.
    Gossip {
        /// Every key the sender holds.
        entries: Vec<(Arc<str>, Stored)>,
        /// Push-pull: answer with your own store.
        reply: bool,
    },
    /// The failure detector's heartbeat (CA and AP): any message from a peer counts as hearing it.
    Ping,
}

/// Timer tags.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CapTimer {
    /// Client: think time over.
    ClientThink,
    /// Client: attempt timed out (set past the deadline: see `ClientConfig` in `mod.rs`).
    ClientAttempt,
    /// Client: give up.
    ClientDeadline,
    /// Server: the ABD operation with this id has waited too long for a quorum: refuse it.
    OpTimeout(u64),
    /// Server: send heartbeats.
    Heartbeat,
    /// Server (AP): one anti-entropy round.
    Gossip,
}
