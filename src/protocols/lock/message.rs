//! The lock's messages, timers and disk.

use serde::Serialize;

/// A message between clients, lock servers and storage.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "msg", rename_all = "snake_case")]
pub enum Msg {
    /// Client to lock server: lock for `ttl_ms` under the random value `nonce`, if free.
    Lock {
        /// The acquisition's random value (Redlock's token for safe release).
        nonce: u64,
        /// How long to keep it, on the server's clock.
        ttl_ms: u64,
    },
    /// Lock server to client: locked for `nonce`; its fencing counter so far.
    Granted {
        /// The acquisition.
        nonce: u64,
        /// The highest fencing token this server has committed.
        counter: u64,
    },
    /// Lock server to client: someone else holds an unexpired lock (or the server is in its
    /// restart delay).
    Busy {
        /// The acquisition refused.
        nonce: u64,
    },
    /// Client to lock server (fencing only): the token this acquisition takes; commit it if the
    /// lock is still `nonce`'s.
    Commit {
        /// The acquisition.
        nonce: u64,
        /// Its fencing token.
        token: u64,
    },
    /// Lock server to client: the token is committed.
    Committed {
        /// The acquisition.
        nonce: u64,
    },
    /// Lock server to client: the lock is no longer `nonce`'s; nothing committed.
    CommitRefused {
        /// The acquisition.
        nonce: u64,
    },
    /// Client to lock server: release the lock if it is still `nonce`'s.
    Unlock {
        /// The acquisition.
        nonce: u64,
    },
    /// Client to storage: write `value` under fencing token `token`.
    Write {
        /// The acquisition the writer believes it holds.
        nonce: u64,
        /// Its fencing token.
        token: u64,
        /// The value.
        value: i64,
    },
    /// Storage to client: whether the write was accepted (`false`: a stale token).
    WriteAck {
        /// The acquisition the write was made under.
        nonce: u64,
        /// Accepted or rejected.
        accepted: bool,
    },
}

/// Timer tags (all a client's: servers and storage set none).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LockTimer {
    /// Start the next acquisition (after thinking or backing off).
    Attempt,
    /// The current round (lock or commit) has waited long enough.
    RoundTimeout,
    /// The work between the validity check and the write is done: write now.
    WorkDone,
    /// Storage did not answer the write.
    WriteTimeout,
    /// The lock's validity ran out on the client's clock.
    Expire,
}

/// A node's disk. Each kind of node uses its own fields.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LockDisk {
    /// Lock server: the highest fencing token committed here (durable, so tokens never go back).
    pub counter: u64,
    /// Lock server: whether it has started before (a start with this set is a restart).
    pub started: bool,
    /// Storage: the highest token it has accepted a write under.
    pub storage_highest: u64,
    /// Client: the generation of its history process (a fresh one after a restart or an unknown
    /// outcome).
    pub client_generation: u64,
    /// Client: how many holds it has finished (survives a restart, so the workload is bounded).
    pub holds_done: u32,
}
