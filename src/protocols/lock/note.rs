//! What lock nodes report to checkers and traces.

use crate::contract::{NodeId, NoteLabel};
use serde::Serialize;

/// A protocol event.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "note", rename_all = "snake_case")]
pub enum LockNote {
    /// A lock server (re)started; its lock table is empty.
    ServerStarted {
        /// Whether it had started before.
        restart: bool,
        /// Its durable fencing counter.
        counter: u64,
    },
    /// A lock server locked for `client`.
    Granted {
        /// The client.
        client: NodeId,
        /// Its acquisition.
        nonce: u64,
    },
    /// A lock server removed its lock entry on an unlock from `client`.
    Unlocked {
        /// Who sent the unlock.
        client: NodeId,
        /// The acquisition whose entry was removed.
        nonce: u64,
    },
    /// A client started an acquisition round.
    AttemptStarted {
        /// The acquisition's random value.
        nonce: u64,
    },
    /// A client gave up an acquisition (no majority in time, or no validity left).
    AttemptFailed {
        /// The acquisition.
        nonce: u64,
        /// How many lock servers granted it.
        grants: u32,
    },
    /// A client now believes it holds the lock for `remaining_ns` more of its own clock.
    Acquired {
        /// The acquisition.
        nonce: u64,
        /// Its fencing token.
        token: u64,
        /// The validity left, on the client's clock, at this event.
        remaining_ns: u64,
    },
    /// A client's validity ran out on its own clock: it no longer believes it holds the lock.
    Expired {
        /// The acquisition.
        nonce: u64,
    },
    /// A client released the lock (it no longer believes it holds it).
    Released {
        /// The acquisition.
        nonce: u64,
    },
    /// Storage accepted a write.
    WriteAccepted {
        /// The writer.
        client: NodeId,
        /// The acquisition it wrote under.
        nonce: u64,
        /// Its token.
        token: u64,
        /// The value.
        value: i64,
    },
    /// Storage rejected a write with a stale token (fencing).
    WriteRejected {
        /// The writer.
        client: NodeId,
        /// The acquisition it wrote under.
        nonce: u64,
        /// Its token.
        token: u64,
        /// The highest token storage had accepted.
        highest: u64,
    },
}

impl NoteLabel for LockNote {
    fn label(&self) -> &'static str {
        match self {
            LockNote::ServerStarted { .. } => "server_started",
            LockNote::Granted { .. } => "granted",
            LockNote::Unlocked { .. } => "unlocked",
            LockNote::AttemptStarted { .. } => "attempt_started",
            LockNote::AttemptFailed { .. } => "attempt_failed",
            LockNote::Acquired { .. } => "acquired",
            LockNote::Expired { .. } => "expired",
            LockNote::Released { .. } => "released",
            LockNote::WriteAccepted { .. } => "write_accepted",
            LockNote::WriteRejected { .. } => "write_rejected",
        }
    }
}
