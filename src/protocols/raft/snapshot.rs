//! Snapshots (Raft paper §7, log compaction): a server replaces the prefix of its log that it has
//! applied with a snapshot of its state machine at the last applied index, so that its memory grows
//! with what is live (the uncompacted suffix), not with the length of the run.
//!
//! A snapshot holds everything `apply` depends on: the key-value map *and* the client session table
//! (without the sessions, a retried request applied before the snapshot would be applied again
//! after a restart or an install). With the index and term of the last entry it replaces, it is part
//! of the durable state (`ServerDisk::snapshot`), beside the remaining log.
//!
//! A leader whose `next_index` for a follower is at or below its snapshot's last index can no longer
//! send the entries the follower lacks; it sends the whole snapshot in one `InstallSnapshot`
//! message instead (the paper's chunking, `offset` and `done`, buys nothing in a simulator, where a
//! message is a shared pointer).
//!
//! When snapshots are taken is the server's own choice: here, once its log holds more than
//! `snapshot_log_entries_max` applied entries past the last snapshot (see `RaftParams`). A leader
//! compacts without waiting for its followers, so one whose acknowledgements are still in flight
//! may be sent a snapshot of entries it already holds; it then keeps its log after the snapshot
//! (§7), which costs one message, not correctness (etcd keeps a margin of entries for this; a
//! simulator has no use for the saving).

use super::kv::Kv;
use super::message::{Index, Term};
use serde::Serialize;

/// A snapshot of the state machine after applying every entry up to `last_index`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Snapshot {
    /// The last log index it replaces (the paper's lastIncludedIndex).
    pub last_index: Index,
    /// The term of that entry (lastIncludedTerm), kept for the consistency check after it.
    pub last_term: Term,
    /// The state machine, sessions included, after applying `1..=last_index`.
    pub state: Kv,
}
