//! Counts of the clients' operations, kept as history events are recorded, so that a run reports them
//! whether or not it keeps the history itself.

use crate::contract::{EventKind, HistoryEvent};
use serde::Serialize;
use std::collections::BTreeSet;

/// Client operations by how they ended (a run's report shows them).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct OperationCounts {
    /// Invoked.
    pub invoked: u64,
    /// Took effect, result known.
    pub ok: u64,
    /// Definitely did not take effect.
    pub fail: u64,
    /// Outcome unknown (timed out).
    pub info: u64,
    /// Still open at the end.
    pub open: u64,
}

/// The counts so far, and the processes with an operation open now.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OperationTally {
    /// Every count but `open`, which the set below gives.
    counts: OperationCounts,
    /// The processes with an operation open: at most one each, so this follows what is live.
    open: BTreeSet<u64>,
}

impl OperationTally {
    /// Counts one event.
    pub fn add(&mut self, event: &HistoryEvent) {
        let c = &mut self.counts;
        match event.kind {
            EventKind::Invoke => {
                c.invoked += 1;
                self.open.insert(event.process);
                return;
            }
            EventKind::Ok => c.ok += 1,
            EventKind::Fail => c.fail += 1,
            EventKind::Info => c.info += 1,
        }
        self.open.remove(&event.process);
    }

    /// The counts now; `open` is the operations not completed yet (at the end of a run: never).
    pub fn counts(&self) -> OperationCounts {
        OperationCounts {
            open: self.open.len() as u64,
            ..self.counts.clone()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contract::{Func, Value};

    fn event(process: u64, kind: EventKind) -> HistoryEvent {
        HistoryEvent {
            time_ns: 0,
            process,
            kind,
            f: Func::READ,
            key: None,
            value: Value::Nil,
        }
    }

    #[test]
    fn counts_follow_invokes_and_completions() {
        let mut t = OperationTally::default();
        for (p, k) in [
            (0, EventKind::Invoke),
            (1, EventKind::Invoke),
            (0, EventKind::Ok),
            (2, EventKind::Invoke),
            (1, EventKind::Info),
            (0, EventKind::Invoke),
            (0, EventKind::Fail),
        ] {
            t.add(&event(p, k));
        }
        let c = t.counts();
        assert_eq!((c.invoked, c.ok, c.fail, c.info, c.open), (4, 1, 1, 1, 1));
    }
}
