//! Durable-state invariants: promises about a node's disk that a protocol declares and the generic
//! `durable_state` checker (`crate::check::durable`) holds every run to, across crashes included.
//!
//! The engine keeps a node's disk intact through a crash, so what can go wrong is the protocol's own
//! handling of it: a term written back smaller, a vote forgotten at boot, a ballot reset. A protocol
//! states which fields carry such promises by returning extractor functions from
//! [`crate::contract::Protocol::durable_invariants`].

/// One promise about a field of the disk `D`.
///
/// Extractors return `None` where the field does not apply (a client's disk in a protocol whose clients
/// and servers share one disk type).
pub enum DurableInvariant<D> {
    /// A number that never goes back on a node's disk, across crashes included: a term, a ballot, a
    /// view, an epoch.
    Monotonic {
        /// The field's name, for messages (`"current_term"`).
        name: &'static str,
        /// Reads the field.
        get: fn(&D) -> Option<u64>,
    },
    /// A choice made at most once per epoch: once the disk records a value for an epoch, it keeps that
    /// value for as long as the epoch stays the same (Raft's `votedFor` within a term, Paxos's accepted
    /// ballot). A new epoch may clear it.
    OncePerEpoch {
        /// The choice's name, for messages (`"voted_for"`).
        name: &'static str,
        /// Reads the epoch the choice belongs to.
        epoch: fn(&D) -> Option<u64>,
        /// Reads the choice (`None`: not made yet).
        value: fn(&D) -> Option<u64>,
    },
}

impl<D> DurableInvariant<D> {
    /// The field's name.
    pub fn name(&self) -> &'static str {
        match self {
            DurableInvariant::Monotonic { name, .. }
            | DurableInvariant::OncePerEpoch { name, .. } => name,
        }
    }
}

impl<D> Clone for DurableInvariant<D> {
    fn clone(&self) -> Self {
        match *self {
            DurableInvariant::Monotonic { name, get } => DurableInvariant::Monotonic { name, get },
            DurableInvariant::OncePerEpoch { name, epoch, value } => {
                DurableInvariant::OncePerEpoch { name, epoch, value }
            }
        }
    }
}
