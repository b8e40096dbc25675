//! Client histories: what clients asked for, and what they were told, with true times.
//!
//! The shape follows Jepsen's history (`:process`, `:type`, `:f`, `:value`), so that a run of distsim, a
//! Jepsen log and a Porcupine test file all read into the same [`History`], and a run's history can be
//! written out as Jepsen EDN for Knossos or Porcupine to cross-check.
//!
//! A process has at most one operation open at a time. An operation that ends in [`EventKind::Info`]
//! (outcome unknown) stays open for ever: a client that gives up on an operation must continue under a
//! fresh process id, exactly as Jepsen does.

use serde::{Deserialize, Serialize};

/// A value in a history: an argument of an invoke or the result of a completion.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default)]
#[serde(untagged)]
pub enum Value {
    /// Nothing: Jepsen's `nil` (a read of a key never written, or an invoke with no argument).
    #[default]
    Nil,
    /// An integer (the Jepsen etcd register holds small integers).
    Int(i64),
    /// A string (key-value stores hold strings).
    Str(String),
    /// A tuple, such as compare-and-set's `[from to]`.
    List(Vec<Value>),
}

/// What a history event says about its operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    /// The client sent the request.
    Invoke,
    /// The operation took effect, and `value` is its result.
    Ok,
    /// The operation definitely did not take effect (for a compare-and-set: the compare failed).
    Fail,
    /// The outcome is unknown (a timeout): it may take effect at any time after its invoke, or never.
    Info,
}

/// The operation's function.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Func {
    /// Register read; `value` of the completion is what was read.
    Read,
    /// Register write of `value`.
    Write,
    /// Compare-and-set; `value` is `[from, to]`.
    Cas,
    /// Key-value get of `key`; the completion's `value` is what was read (`Nil` or `Str("")` when absent).
    Get,
    /// Key-value put of `value` under `key`.
    Put,
    /// Key-value append of `value` to `key`'s string.
    Append,
}

/// One line of a history.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryEvent {
    /// True (virtual) time of the event in nanoseconds; for parsed files, the line number.
    pub time_ns: u64,
    /// The logical client process. At most one open operation per process.
    pub process: u64,
    /// Invoke, or how the operation ended.
    #[serde(rename = "type")]
    pub kind: EventKind,
    /// The function.
    pub f: Func,
    /// The key, for key-value operations; `None` for a single register.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// The argument (on invoke) or the result (on completion).
    #[serde(default)]
    pub value: Value,
}

/// A whole history, in the order its events happened.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct History {
    /// The events, ordered by `time_ns` (ties keep their recorded order).
    pub events: Vec<HistoryEvent>,
}
