//! PBFT's messages (Castro & Liskov, OSDI 1999, §4). Channels are authenticated: a receiver always
//! knows the true sender, so no message carries its sender's id. View-change messages carry their
//! prepared certificates whole, standing for the signed messages of the paper.

use crate::contract::Value;
use serde::Serialize;
use std::collections::BTreeMap;

/// A view number; the primary of view `v` is replica `v mod n`.
pub type View = u64;
/// A sequence number assigned by a primary; the first is 1.
pub type Seq = u64;
/// A request digest (MD5 or SHA-256 of the request's canonical bytes), as lowercase hex.
pub type Digest = String;

/// An operation on the replicated key-value store.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Op {
    /// Reads a key.
    Get {
        /// The key.
        key: String,
    },
    /// Writes a key.
    Put {
        /// The key.
        key: String,
        /// The value.
        value: String,
    },
}

/// A client's request: `<REQUEST, o, t, c>`; `timestamp` orders one client's requests.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Request {
    /// The client's node id.
    pub client: u32,
    /// The client's request number (increasing, durable at the client).
    pub timestamp: u64,
    /// The operation.
    pub op: Op,
}

/// One prepared certificate, as a view-change message carries it: the pre-prepare and the replicas
/// whose matching prepares made it prepared.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Prepared {
    /// The view it prepared in.
    pub view: View,
    /// Its sequence number.
    pub seq: Seq,
    /// The request's digest.
    pub digest: Digest,
    /// The request (`None`: the null request of a new view).
    pub request: Option<Request>,
    /// The backups whose prepares matched.
    pub prepares: Vec<u32>,
}

/// A stable checkpoint with its proof `C`: the sequence number, the state digest, and the replicas
/// whose CHECKPOINT messages for them made it stable (2f + 1; none for the initial state at 0).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct StableCheckpoint {
    /// Its sequence number `n` (a multiple of the checkpoint interval; 0: the initial state).
    pub seq: Seq,
    /// The state digest after executing `seq`.
    pub digest: Digest,
    /// The replicas that vouched for it.
    pub vouchers: Vec<u32>,
}

/// A view-change message `<VIEW-CHANGE, v+1, n, C, P, i>`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ViewChange {
    /// The view it asks for.
    pub new_view: View,
    /// The sender's last stable checkpoint `n` with its proof `C`.
    pub checkpoint: StableCheckpoint,
    /// For each sequence number above the checkpoint that the sender prepared, its certificate of
    /// the highest view.
    pub prepared: Vec<Prepared>,
}

/// The service state at a checkpoint, as a state transfer carries it: the key-value store and each
/// client's last timestamp and result (so requests still execute once).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Snapshot {
    /// The key-value store.
    pub store: BTreeMap<String, String>,
    /// Each client's last executed timestamp and its result.
    pub replies: BTreeMap<u32, (u64, Value)>,
}

/// One pre-prepare of a new view's set `O`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Reproposal {
    /// Its sequence number.
    pub seq: Seq,
    /// The digest.
    pub digest: Digest,
    /// The request (`None`: the null request).
    pub request: Option<Request>,
}

/// Every message between PBFT nodes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Msg {
    /// Client to replicas.
    Request(Request),
    /// Primary to backups: `<PRE-PREPARE, v, n, d>` with the request piggybacked.
    PrePrepare {
        /// View.
        view: View,
        /// Sequence number.
        seq: Seq,
        /// Digest of `request`.
        digest: Digest,
        /// The request (`None`: null request).
        request: Option<Request>,
    },
    /// Backup to all: `<PREPARE, v, n, d, i>`.
    Prepare {
        /// View.
        view: View,
        /// Sequence number.
        seq: Seq,
        /// Digest.
        digest: Digest,
    },
    /// Replica to all: `<COMMIT, v, n, D(m), i>`.
    Commit {
        /// View.
        view: View,
        /// Sequence number.
        seq: Seq,
        /// Digest.
        digest: Digest,
    },
    /// Replica to client: `<REPLY, v, t, c, i, r>`.
    Reply {
        /// The replica's view.
        view: View,
        /// The request's timestamp.
        timestamp: u64,
        /// The result.
        result: Value,
    },
    /// Replica to all.
    ViewChange(ViewChange),
    /// Replica to all, every `checkpoint_interval` executions: `<CHECKPOINT, n, d, i>`.
    Checkpoint {
        /// The sequence number of the last request executed.
        seq: Seq,
        /// The digest of the state after it.
        digest: Digest,
    },
    /// A replica behind a stable checkpoint asks a replica that vouched for it for the state.
    FetchState {
        /// The checkpoint's sequence number.
        seq: Seq,
    },
    /// The state at a checkpoint; the receiver checks it against the stable digest it knows.
    State {
        /// The checkpoint's sequence number.
        seq: Seq,
        /// The state.
        snapshot: Snapshot,
    },
    /// New primary to all: `<NEW-VIEW, v+1, V, O>`.
    NewView {
        /// The new view.
        view: View,
        /// The 2f + 1 view-change messages it was built from, with their senders.
        proofs: Vec<(u32, ViewChange)>,
        /// The pre-prepares `O` recomputed from them.
        reproposals: Vec<Reproposal>,
    },
}

/// PBFT's timer tags.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PbftTimer {
    /// A backup waited too long for a request to execute (or for a new view): move to the next view.
    ViewChange,
    /// A client's retransmission.
    ClientRetry,
    /// A client gives up on the operation.
    ClientDeadline,
    /// A client's think time before its next operation.
    ClientThink,
}
