//! Messages and timers. Messages are bounded by the parameters: a map output partition or a reduce
//! output holds at most `vocabulary` words, an assignment at most `map_tasks` locations.

use crate::contract::NodeId;
use serde::{Deserialize, Serialize};

/// A task: one map split or one reduce partition.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Task {
    /// Map task `map`: count the words of its split, partitioned by word.
    Map {
        /// Its number, `0..M`.
        map: u32,
    },
    /// Reduce task `partition`: sum one partition over every map output.
    Reduce {
        /// Its partition, `0..R`.
        partition: u32,
    },
}

/// Word counts, sorted by word, each word once.
pub type Counts = Vec<(String, u64)>;

/// Where a completed map task's output lives: on a worker, in one incarnation of it (a restart
/// loses it).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Location {
    /// The map task.
    pub map: u32,
    /// The worker that holds its output.
    pub worker: NodeId,
    /// The worker's incarnation that computed it.
    pub incarnation: u64,
}

/// Messages between the master and the workers, and between workers (the shuffle).
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Msg {
    /// Master to worker: are you alive?
    Ping {
        /// The master's ping number, echoed.
        seq: u64,
    },
    /// Worker to master: alive, in this incarnation, running this attempt (if any).
    Pong {
        /// The ping answered.
        seq: u64,
        /// The worker's incarnation (it grows at every start).
        incarnation: u64,
        /// The attempt it is running.
        running: Option<u64>,
    },
    /// Master to worker: run `task` as attempt `attempt` (re-sent until it runs).
    Assign {
        /// A number the master never uses twice.
        attempt: u64,
        /// The task.
        task: Task,
        /// For a reduce task: where each map output is.
        locations: Vec<Location>,
    },
    /// Worker to master: map task `map` is done, its output is held by this incarnation.
    MapDone {
        /// The attempt.
        attempt: u64,
        /// The map task.
        map: u32,
        /// The incarnation holding the output.
        incarnation: u64,
    },
    /// Reducer to map worker: send me partition `partition` of map `map`'s output.
    Fetch {
        /// The reducer's attempt, echoed.
        attempt: u64,
        /// The map task.
        map: u32,
        /// The partition.
        partition: u32,
        /// The incarnation the master said holds it.
        incarnation: u64,
    },
    /// Map worker to reducer: the partition, or `None` if this incarnation does not hold it.
    FetchReply {
        /// The reducer's attempt.
        attempt: u64,
        /// The map task.
        map: u32,
        /// The partition.
        partition: u32,
        /// The counts, or `None`.
        counts: Option<Counts>,
    },
    /// Reducer to master: a map output could not be fetched; the reduce attempt is given up.
    FetchFailed {
        /// The reduce attempt given up.
        attempt: u64,
        /// Its partition.
        partition: u32,
        /// The location that failed.
        location: Location,
    },
    /// Worker to master: reduce partition `partition` is done; here is its output.
    ReduceDone {
        /// The attempt.
        attempt: u64,
        /// The partition.
        partition: u32,
        /// Its word counts.
        counts: Counts,
    },
}

/// Timers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Timer {
    /// Master: ping every worker, declare the silent ones dead, assign idle tasks.
    Heartbeat,
    /// Worker: the running task's work is done.
    Work,
    /// Worker: ask again for the map outputs a reduce task still misses.
    Fetch,
}
