//! The generic checkers every protocol can use: linearizability of the clients' history (with its
//! history file formats) and liveness after the last fault. The checker trait itself is part of the
//! protocol contract ([`crate::contract::Checker`]).

pub mod assemble;
pub mod clocks;
pub mod durable;
pub mod history_format;
pub mod linearizability;
pub mod liveness;

/// The checkers every protocol can use, with one line each.
pub const GENERIC_CHECKERS: &[(&str, &str)] = &[
    (
        "leader_within",
        "liveness: some server holds the leader role this long after the last fault",
    ),
    (
        "ops_complete_within",
        "liveness: client operations complete this long after the last fault",
    ),
    (
        "durable_state",
        "fields a protocol declares monotonic never go back on disk, and once-per-epoch choices \
         stay, across crashes",
    ),
    (
        "linearizability",
        "the clients' history, at the end, for every service that promises it",
    ),
    (
        "clocks_consistent",
        "with \"clocks\": true, the engine's vector clocks order events exactly as they really \
         happened before one another, and Lamport times never contradict it (all pairs, or \
         sampled pairs on long runs)",
    ),
];
