//! Pregel's messages and timers.

use super::graph::VertexId;
use super::program::Val;
use serde::Serialize;

/// A recovery epoch: the master starts a new one at every rollback (and when it starts), and every
/// command and batch carries it, so that nothing from an abandoned timeline is ever used.
pub type Epoch = u64;

/// A superstep number, from 0.
pub type Superstep = u64;

/// One vertex message on the wire: `(target vertex, key, value)`. The key orders a vertex's messages
/// before `compute()` reads them: the source vertex, or (for a combined message) the sending worker's
/// index.
pub type Wire = (VertexId, u32, Val);

/// What one worker counted in one superstep.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    /// Its vertices still active (not halted) after `compute()`.
    pub active: u64,
    /// Vertex messages `compute()` sent (what would travel without a combiner).
    pub messages: u64,
    /// Messages after combining (equal to `messages` without a combiner).
    pub combined: u64,
}

impl Counts {
    /// The sum of two workers' counts.
    pub fn plus(self, other: Counts) -> Counts {
        Counts {
            active: self.active + other.active,
            messages: self.messages + other.messages,
            combined: self.combined + other.combined,
        }
    }
}

/// Messages between the master and the workers, and between workers.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Msg {
    /// Master to worker: are you there, and who are you?
    Ping,
    /// Master to worker: drop everything and load the checkpoint of `checkpoint` (`None`: the input
    /// graph, before superstep 0), for `epoch`.
    Load {
        /// The new epoch.
        epoch: Epoch,
        /// The superstep whose checkpoint to load.
        checkpoint: Option<Superstep>,
    },
    /// Master to worker: every worker finished the superstep before; run `superstep`.
    Start {
        /// The epoch.
        epoch: Epoch,
        /// The superstep to run.
        superstep: Superstep,
        /// The newest checkpoint every worker has written: older ones may go.
        committed: Option<Superstep>,
        /// The incarnation of the worker that loaded this epoch: a worker that restarted since
        /// ignores the command (it has lost the state the superstep would run on).
        incarnation: u64,
    },
    /// Master to worker: every vertex halted and no message is in flight; write your output.
    Finish {
        /// The epoch.
        epoch: Epoch,
    },
    /// Worker to master: an answer to a ping, also sent unasked when the worker starts.
    Pong {
        /// How many times the worker has started.
        incarnation: u64,
        /// The epoch it loaded in this incarnation, if any.
        epoch: Option<Epoch>,
        /// Whether its output is on its disk.
        output: bool,
    },
    /// Worker to master: loaded the checkpoint for `epoch`.
    Loaded {
        /// The epoch.
        epoch: Epoch,
        /// The incarnation that loaded it.
        incarnation: u64,
    },
    /// Worker to master: finished `superstep` and every batch it sent was acknowledged.
    Done {
        /// The epoch.
        epoch: Epoch,
        /// The superstep.
        superstep: Superstep,
        /// The incarnation that ran it.
        incarnation: u64,
        /// What it counted.
        counts: Counts,
    },
    /// Worker to master: the answer to `Finish`.
    Finished {
        /// The epoch.
        epoch: Epoch,
        /// The worker's incarnation.
        incarnation: u64,
        /// Whether its output is on its disk (false: it lost its partition and cannot write it).
        output: bool,
    },
    /// Worker to worker: the messages `from` sent in `superstep` to vertices of the receiver (maybe
    /// none), to be read in the next superstep.
    Batch {
        /// The epoch.
        epoch: Epoch,
        /// The superstep that produced them.
        superstep: Superstep,
        /// The sending worker's index.
        from: u32,
        /// The messages.
        messages: Vec<Wire>,
    },
    /// Worker to worker: got the batch of `superstep`.
    BatchAck {
        /// The epoch.
        epoch: Epoch,
        /// The superstep.
        superstep: Superstep,
    },
}

/// Timers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Timer {
    /// Master: ping every worker and suspect the silent ones.
    Heartbeat,
    /// Master: send unanswered commands again. Worker: send unacknowledged batches again.
    Resend,
    /// Worker, under `pregel.no_barrier` only: run the next superstep without waiting.
    RunAhead,
}
