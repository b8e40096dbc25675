//! The memory a run accumulates as it goes, estimated by a fixed formula (never measured: a measured
//! figure would differ between machines, allocators and builds, and the run must stop at the same event
//! everywhere). What a run records grows with its length (the clients' history, role changes, the
//! timeline); everything else it holds is live state, bounded by the node count and the network's
//! in-flight bound. The estimate is close to what the records take on a 64-bit machine.
//!
//! The history counts whether the run keeps it or only checks it as it is recorded (the online
//! linearizability check holds just the operations still live): where a run stops must not depend on
//! whether its caller asked for the history (`distsim run --history`), or a replay without the flag
//! would diverge from the run with it. A run that needs more than `max_memory_mb` of history can
//! raise the bound; only a kept history actually takes that memory.

use crate::contract::{HistoryEvent, Value};

/// One history event, before its strings (time, process, kind, function, key and value slots).
const HISTORY_EVENT_BYTES: u64 = 96;
/// One role change.
pub const ROLE_CHANGE_BYTES: u64 = 24;
/// One timeline entry, before its text.
const TIMELINE_ENTRY_BYTES: u64 = 32;
/// One element of a list value.
const LIST_ELEMENT_BYTES: u64 = 32;

fn value_bytes(value: &Value) -> u64 {
    match value {
        Value::Nil | Value::Int(_) => 0,
        Value::Str(s) => s.len() as u64,
        Value::List(items) => items
            .iter()
            .map(|v| LIST_ELEMENT_BYTES + value_bytes(v))
            .sum(),
    }
}

/// The estimated bytes one history event takes.
pub fn history_event_bytes(event: &HistoryEvent) -> u64 {
    HISTORY_EVENT_BYTES
        + event.key.as_ref().map_or(0, |k| k.len() as u64)
        + value_bytes(&event.value)
}

/// The estimated bytes one timeline entry with this text takes.
pub fn timeline_entry_bytes(what: &str) -> u64 {
    TIMELINE_ENTRY_BYTES + what.len() as u64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contract::{EventKind, Func};

    #[test]
    fn strings_and_lists_count() {
        let mut e = HistoryEvent {
            time_ns: 1,
            process: 0,
            kind: EventKind::Invoke,
            f: Func::CAS,
            key: Some("key".into()),
            value: Value::List(vec![Value::Int(1), Value::Str("ab".into())]),
        };
        assert_eq!(history_event_bytes(&e), 96 + 3 + 32 + 32 + 2);
        e.key = None;
        e.value = Value::Nil;
        assert_eq!(history_event_bytes(&e), 96);
    }
}
