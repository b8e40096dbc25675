//! Counts of the clients' operations, kept as history events are recorded, so that a run reports them
//! whether or not it keeps the history itself.

use crate::contract::{EventKind, HistoryEvent};
use std::collections::BTreeSet;

/// Operations by how they ended, and the processes with one open now.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OperationTally {
    /// Invoked.
    pub invoked: u64,
    /// Took effect, result known.
    pub ok: u64,
    /// Definitely did not take effect.
    pub fail: u64,
    /// Outcome unknown (timed out).
    pub info: u64,
    /// The processes with an operation open: at most one each, so this follows what is live.
    open: BTreeSet<u64>,
}

impl OperationTally {
    /// Counts one event.
    pub fn add(&mut self, event: &HistoryEvent) {
        match event.kind {
            EventKind::Invoke => {
                self.invoked += 1;
                self.open.insert(event.process);
                return;
            }
            EventKind::Ok => self.ok += 1,
            EventKind::Fail => self.fail += 1,
            EventKind::Info => self.info += 1,
        }
        self.open.remove(&event.process);
    }

    /// Operations open now (at the end of a run: never completed).
    pub fn open(&self) -> u64 {
        self.open.len() as u64
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
        assert_eq!((t.invoked, t.ok, t.fail, t.info, t.open()), (4, 1, 1, 1, 1));
    }
}
