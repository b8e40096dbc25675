//! Trace files: JSON Lines, one header, one line per event, one closing line.
//!
//! - The header holds the format version ([`TRACE_FORMAT`], 3), the crate version, the seed and the
//!   whole resolved scenario, so a trace alone can be replayed.
//! - Each event line is compact ([`compact`] documents it field by field): a kind tag `k`, short
//!   keys, the event index `e` and true time `t` only where they change, the node only where it
//!   changes, a broadcast's message body once, and bodies with object [`shape`]s instead of repeated
//!   key names. A message's content appears once, on its send line; deliveries, drops and copies
//!   refer to it by id (or leave the id out when it is the message of the line before).
//! - In a run with `"clocks": true`, every line of a node (start, send, deliver, timer, note, role,
//!   history) also carries the node's Lamport time `lc` and vector clock `vc` (see
//!   [`crate::sim::clocks`]); without clocks the fields are absent.
//! - The closing line holds the outcome, the counts, the run's [`fingerprint`] and `sha256`: the
//!   SHA-256 of every line before it, each with its trailing `\n`, as hex.
//!
//! Readers expand each compact line into the self-contained format-2 line of the same event
//! ([`expand`]: `{"kind":"send","e":..,"t":..,"id":..,"from":..,"to":..,"msg":..}`), keeping a few
//! numbers, one body and the bounded shape book; format-2 files are read as they are ([`scan`]) and
//! replayed in format 2. A trace held in memory ([`TraceOutput::Memory`]) is in format 2.
//!
//! A trace holds virtual time only, never wall-clock time. Writing is streaming and buffered, to a
//! temporary name that is renamed over the destination only once the run is complete.

pub mod compact;
pub mod compare;
pub mod diff;
pub mod expand;
pub mod export;
pub mod fingerprint;
pub mod line;
pub mod reader;
pub mod scan;
pub mod shape;
pub mod writer;

pub use line::{Counts, Line, TRACE_FORMAT};
pub use reader::{ReadTrace, TraceReadError, read_trace};
pub use writer::{TraceOutput, TraceWriter};
