//! The shape of every trace line.

use crate::contract::HistoryEvent;
use crate::net::DropReason;
use crate::scenario::{FaultSpec, Scenario};
use serde::{Deserialize, Serialize};

/// The trace format version a trace file is written in, bumped on any change of a line's shape.
/// Format 3 is compact (see [`super::compact`]).
pub const TRACE_FORMAT: u32 = 3;

/// Format 2: one self-contained line per [`Line`], as its derived `Serialize` writes it. Format-3
/// files are read by expanding each line into this form ([`super::expand`]); traces kept in memory
/// ([`super::TraceOutput::Memory`]) are in it, and format-2 files are still read and replayed.
pub const FORMAT_2: u32 = 2;

/// The formats this build reads.
pub const FORMATS_READ: [u32; 2] = [FORMAT_2, TRACE_FORMAT];

/// The header line as a file holds it, in either format: `{"kind":"header","format":F,...}`.
#[derive(Serialize)]
pub struct HeaderLine<'a> {
    /// Always `"header"`.
    pub kind: &'static str,
    /// The file's format.
    pub format: u32,
    /// The crate version that wrote it.
    pub distsim: &'a str,
    /// The seed actually used.
    pub seed: u64,
    /// The whole scenario, with defaults filled in.
    pub scenario: &'a Scenario,
}

/// Counts of what happened in a run.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    /// Events taken off the queue.
    pub events: u64,
    /// Messages handed to the network.
    pub messages_sent: u64,
    /// Messages (copies) delivered to a live node.
    pub messages_delivered: u64,
    /// Messages lost: on the link, at a partition, at a down node, or past the in-flight bound.
    pub messages_dropped: u64,
    /// Messages the network duplicated.
    pub messages_duplicated: u64,
    /// Messages a Byzantine node tampered with: forged, equivocated, replayed or held back (left
    /// out of reports and traces when zero).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub messages_tampered: u64,
    /// Timers that fired.
    pub timers_fired: u64,
    /// Faults applied.
    pub faults: u64,
    /// Protocol notes written.
    pub notes: u64,
    /// Client history events recorded.
    pub history_events: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// One trace line. `M`, `T`, `N` are the protocol's message, timer and note types. The derived
/// `Serialize` is the format-2 line (the header excepted, which the writer writes with its format
/// number); [`super::compact`] writes format 3.
#[derive(Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Line<'a, M, T, N> {
    /// The first line (written as a [`HeaderLine`], with the file's format).
    #[serde(skip_serializing)]
    Header {
        /// The crate version that wrote it.
        distsim: &'a str,
        /// The seed actually used (the scenario's, or `--seed`).
        seed: u64,
        /// The whole scenario, with defaults filled in.
        scenario: &'a Scenario,
    },
    /// A node started (at time zero, or on restart).
    Start {
        /// Event index.
        e: u64,
        /// True time, ns.
        t: u64,
        /// The node.
        node: u32,
        /// The node's Lamport time (only in a run with `"clocks": true`).
        #[serde(skip_serializing_if = "Option::is_none")]
        lc: Option<u64>,
        /// The node's vector clock, indexed by node id (only in a run with `"clocks": true`).
        #[serde(skip_serializing_if = "Option::is_none")]
        vc: Option<&'a [u64]>,
    },
    /// A message was handed to the network.
    Send {
        /// Event index.
        e: u64,
        /// True time, ns.
        t: u64,
        /// Message id (unique in the run).
        id: u64,
        /// Sender.
        from: u32,
        /// Receiver.
        to: u32,
        /// The message.
        msg: &'a M,
        /// How a Byzantine sender tampered with it (`forge`, `equivocate`, `replay`, `delay`);
        /// absent for an honest message.
        #[serde(skip_serializing_if = "Option::is_none")]
        tampered: Option<&'static str>,
        /// The node's Lamport time (only in a run with `"clocks": true`).
        #[serde(skip_serializing_if = "Option::is_none")]
        lc: Option<u64>,
        /// The node's vector clock, indexed by node id (only in a run with `"clocks": true`).
        #[serde(skip_serializing_if = "Option::is_none")]
        vc: Option<&'a [u64]>,
    },
    /// The network made a second copy of message `id`.
    Duplicate {
        /// Event index.
        e: u64,
        /// True time, ns.
        t: u64,
        /// Message id.
        id: u64,
    },
    /// A message was lost.
    Drop {
        /// Event index.
        e: u64,
        /// True time, ns.
        t: u64,
        /// Message id.
        id: u64,
        /// Sender.
        from: u32,
        /// Receiver.
        to: u32,
        /// Why.
        reason: DropReason,
    },
    /// A message reached its receiver.
    Deliver {
        /// Event index.
        e: u64,
        /// True time, ns.
        t: u64,
        /// Message id.
        id: u64,
        /// Sender.
        from: u32,
        /// Receiver.
        to: u32,
        /// The node's Lamport time (only in a run with `"clocks": true`).
        #[serde(skip_serializing_if = "Option::is_none")]
        lc: Option<u64>,
        /// The node's vector clock, indexed by node id (only in a run with `"clocks": true`).
        #[serde(skip_serializing_if = "Option::is_none")]
        vc: Option<&'a [u64]>,
    },
    /// A timer fired.
    Timer {
        /// Event index.
        e: u64,
        /// True time, ns.
        t: u64,
        /// The node.
        node: u32,
        /// The timer's tag.
        timer: &'a T,
        /// The node's Lamport time (only in a run with `"clocks": true`).
        #[serde(skip_serializing_if = "Option::is_none")]
        lc: Option<u64>,
        /// The node's vector clock, indexed by node id (only in a run with `"clocks": true`).
        #[serde(skip_serializing_if = "Option::is_none")]
        vc: Option<&'a [u64]>,
    },
    /// A scheduled fault was applied.
    Fault {
        /// Event index.
        e: u64,
        /// True time, ns.
        t: u64,
        /// The fault as scheduled.
        fault: &'a FaultSpec,
        /// The nodes it hit, after resolving roles.
        nodes: &'a [u32],
        /// What it did, in words.
        effect: &'a str,
    },
    /// A node's role changed.
    Role {
        /// Event index.
        e: u64,
        /// True time, ns.
        t: u64,
        /// The node.
        node: u32,
        /// The new role (`null` for none or down).
        role: Option<&'a str>,
        /// The node's Lamport time (only in a run with `"clocks": true`).
        #[serde(skip_serializing_if = "Option::is_none")]
        lc: Option<u64>,
        /// The node's vector clock, indexed by node id (only in a run with `"clocks": true`).
        #[serde(skip_serializing_if = "Option::is_none")]
        vc: Option<&'a [u64]>,
    },
    /// A protocol note.
    Note {
        /// Event index.
        e: u64,
        /// True time, ns.
        t: u64,
        /// The node that wrote it.
        node: u32,
        /// The note.
        note: &'a N,
        /// The node's Lamport time (only in a run with `"clocks": true`).
        #[serde(skip_serializing_if = "Option::is_none")]
        lc: Option<u64>,
        /// The node's vector clock, indexed by node id (only in a run with `"clocks": true`).
        #[serde(skip_serializing_if = "Option::is_none")]
        vc: Option<&'a [u64]>,
    },
    /// A client history event.
    History {
        /// Event index.
        e: u64,
        /// The client node that recorded it.
        node: u32,
        /// The event (its `time_ns` is the true time).
        event: &'a HistoryEvent,
        /// The node's Lamport time (only in a run with `"clocks": true`).
        #[serde(skip_serializing_if = "Option::is_none")]
        lc: Option<u64>,
        /// The node's vector clock, indexed by node id (only in a run with `"clocks": true`).
        #[serde(skip_serializing_if = "Option::is_none")]
        vc: Option<&'a [u64]>,
    },
    /// A safety violation; the run stops here.
    Violation {
        /// Event index.
        e: u64,
        /// True time, ns.
        t: u64,
        /// The checker.
        checker: &'a str,
        /// The node whose event exposed it.
        node: Option<u32>,
        /// One line of explanation.
        message: &'a str,
    },
    /// The last line.
    End {
        /// `pass`, `fail` or `undecided`.
        outcome: &'a str,
        /// Why the run stopped.
        end_reason: &'a str,
        /// The first violation, if any: `checker: message`.
        violation: Option<&'a str>,
        /// True time at the end, ns.
        end_time_ns: u64,
        /// The counts.
        counts: &'a Counts,
        /// The run's fingerprint (see [`crate::trace::fingerprint`]): identifies the run, and equals
        /// the one a run without a trace file reports.
        fingerprint: &'a str,
        /// SHA-256 of every line before this one: proves the file intact.
        sha256: &'a str,
    },
}
