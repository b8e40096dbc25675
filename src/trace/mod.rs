//! Trace files: JSON Lines, one header, one line per event, one closing line.
//!
//! - The header holds the format version, the crate version, the seed and the whole resolved scenario,
//!   so a trace alone can be replayed.
//! - Each event line has `kind`, the engine's event index `e` and the true virtual time `t` in
//!   nanoseconds. A message's content appears once, on its `send` line; `deliver`, `drop` and
//!   `duplicate` lines refer to it by `id`.
//! - In a run with `"clocks": true`, every line of a node (`start`, `send`, `deliver`, `timer`, `note`,
//!   `role`, `history`) also carries the node's Lamport time `lc` and vector clock `vc` (see
//!   [`crate::sim::clocks`]); without clocks the fields are absent and the lines are as before.
//! - The closing line holds the outcome, the counts, and `sha256`: the SHA-256 of every line before it,
//!   each with its trailing `\n`, as hex.
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
