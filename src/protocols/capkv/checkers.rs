//! The store's own checkers (linearizability of the history is the engine's, through
//! [`crate::contract::KvModel`]):
//! - `ap_convergence` (AP mode): once the last fault has healed, every write made at least
//!   `converge_within_ms` before the end has reached every replica (or been overwritten there by a
//!   later version), judged from the replicas' final disks in `RunEnd::nodes`;
//! - `reads_written` (every mode): a read returns nil or a value some put on that key wrote, invoked
//!   before the read returned.

use super::message::Version;
use super::{CapActor, CapNote, Mode};
use crate::contract::{
    Checker, Duration, EventKind, Failure, Func, Observation, RunEnd, Time, Value, Verdict,
};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

/// Every checker of a run.
pub fn all(mode: Mode, converge_within: Duration) -> Vec<Box<dyn Checker<CapActor>>> {
    vec![
        Box::new(ApConvergence {
            mode,
            within: converge_within,
            writes: BTreeMap::new(),
        }),
        Box::new(ReadsWritten),
    ]
}

/// AP replicas converge within a bound after the last heal.
pub struct ApConvergence {
    mode: Mode,
    within: Duration,
    /// Every write, by key: (true time it was made, its version).
    writes: BTreeMap<Arc<str>, Vec<(Time, Version)>>,
}

impl Checker<CapActor> for ApConvergence {
    fn needs_history(&self) -> bool {
        false
    }

    fn name(&self) -> &'static str {
        "ap_convergence"
    }

    fn observe(&mut self, obs: &Observation<'_, CapActor>) -> Result<(), Failure> {
        for note in obs.notes {
            if let CapNote::Wrote { key, version } = note {
                self.writes
                    .entry(key.clone())
                    .or_default()
                    .push((obs.now, *version));
            }
        }
        Ok(())
    }

    fn finish(&mut self, end: &RunEnd<'_, CapActor>) -> Vec<(&'static str, Verdict)> {
        if self.mode != Mode::Ap || end.ended_early {
            return Vec::new();
        }
        let verdict = |v| vec![("ap_convergence", v)];
        if end.faults_in_force {
            return verdict(Verdict::Unknown(
                "a fault was still in force at the end: nothing to converge after".into(),
            ));
        }
        let Some(cutoff) = end.now.0.checked_sub(self.within.0).map(Time) else {
            return verdict(Verdict::Unknown(format!(
                "the run is shorter than the convergence bound ({})",
                self.within
            )));
        };
        if let Some(last) = end.last_fault.filter(|t| *t > cutoff) {
            return verdict(Verdict::Unknown(format!(
                "the last fault (at {last}) came less than {} before the end",
                self.within
            )));
        }
        for (key, writes) in &self.writes {
            let Some((at, want)) = writes
                .iter()
                .filter(|(t, _)| *t <= cutoff)
                .max_by_key(|(_, v)| *v)
            else {
                continue;
            };
            for server in end.cluster.server_ids() {
                let Some(node) = end.nodes.get(server as usize) else {
                    continue;
                };
                let held = node.durable.server.get(key).version;
                if held < *want {
                    return verdict(Verdict::Fail(format!(
                        "server {server} still holds {key} at version ({}, {}) at the end, but version ({}, {}) was written at {at}, more than {} before the end and after the last fault healed",
                        held.time, held.node, want.time, want.node, self.within
                    )));
                }
            }
        }
        verdict(Verdict::Pass)
    }
}

/// Every read returns nil or a value written under its key.
pub struct ReadsWritten;

impl Checker<CapActor> for ReadsWritten {
    fn name(&self) -> &'static str {
        "reads_written"
    }

    fn observe(&mut self, _: &Observation<'_, CapActor>) -> Result<(), Failure> {
        Ok(())
    }

    fn finish(&mut self, end: &RunEnd<'_, CapActor>) -> Vec<(&'static str, Verdict)> {
        let mut written: BTreeSet<(&str, &str)> = BTreeSet::new();
        let mut open_reads: BTreeMap<u64, ()> = BTreeMap::new();
        for ev in &end.history.events {
            let key = ev.key.as_deref().unwrap_or("");
            match (ev.kind, &ev.value) {
                (EventKind::Invoke, Value::Str(v)) if ev.f == Func::PUT => {
                    written.insert((key, v));
                }
                (EventKind::Invoke, _) if ev.f == Func::GET => {
                    open_reads.insert(ev.process, ());
                }
                (EventKind::Ok, value) if ev.f == Func::GET => {
                    open_reads.remove(&ev.process);
                    let fine = match value {
                        Value::Nil => true,
                        Value::Str(v) => written.contains(&(key, v.as_str())),
                        Value::Int(_) | Value::List(_) => false,
                    };
                    if !fine {
                        return vec![(
                            "reads_written",
                            Verdict::Fail(format!(
                                "process {} read {value} from {key} at {}, a value no put on {key} had written",
                                ev.process,
                                Time(ev.time_ns)
                            )),
                        )];
                    }
                }
                _ => {}
            }
        }
        Vec::new()
    }
}

#[cfg(test)]
mod tests {
    use super::super::CapDisk;
    use super::super::message::Stored;
    use super::*;
    use crate::contract::{Cluster, FinalNode, History, HistoryEvent};

    fn ev(t: u64, process: u64, kind: EventKind, f: Func, value: Value) -> HistoryEvent {
        HistoryEvent {
            time_ns: t,
            process,
            kind,
            f,
            key: Some("k0".into()),
            value,
        }
    }

    fn judge<C: Checker<CapActor>>(
        c: &mut C,
        history: &History,
        disks: &[CapDisk],
        now_ms: u64,
        last_fault_ms: Option<u64>,
    ) -> Vec<(&'static str, Verdict)> {
        let nodes: Vec<FinalNode<'_, CapActor>> = disks
            .iter()
            .map(|d| FinalNode {
                state: None,
                durable: d,
            })
            .collect();
        c.finish(&RunEnd {
            now: Time::from_millis(now_ms),
            last_fault: last_fault_ms.map(Time::from_millis),
            faults_in_force: false,
            history,
            roles: &[],
            cluster: Cluster::new(disks.len() as u32, 1),
            ended_early: false,
            nodes: &nodes,
        })
    }

    #[test]
    fn reads_written_catches_a_read_of_a_value_never_put_and_passes_real_ones() {
        let s = |x: &str| Value::Str(x.into());
        let good = History {
            events: vec![
                ev(1, 3, EventKind::Invoke, Func::PUT, s("a")),
                ev(2, 4, EventKind::Invoke, Func::GET, Value::Nil),
                ev(3, 4, EventKind::Ok, Func::GET, s("a")),
                ev(4, 4, EventKind::Invoke, Func::GET, Value::Nil),
                ev(5, 4, EventKind::Ok, Func::GET, Value::Nil),
            ],
        };
        assert!(judge(&mut ReadsWritten, &good, &[], 10, None).is_empty());
        let mut bad = good.clone();
        bad.events[2].value = s("b");
        let v = judge(&mut ReadsWritten, &bad, &[], 10, None);
        assert!(matches!(&v[..], [("reads_written", Verdict::Fail(m))] if m.contains("\"b\"")));
        // A value put on another key does not count.
        let mut other_key = good;
        other_key.events[0].key = Some("k1".into());
        let v = judge(&mut ReadsWritten, &other_key, &[], 10, None);
        assert!(matches!(&v[..], [("reads_written", Verdict::Fail(_))]));
    }

    fn disk_at(time: u64) -> CapDisk {
        let mut d = CapDisk::default();
        d.server.store.insert(
            Arc::from("k0"),
            Stored {
                version: Version {
                    time,
                    node: 0,
                    op: 0,
                },
                value: Some(Arc::from(format!("v{time}").as_str())),
            },
        );
        d
    }

    fn converging(writes: &[(u64, u64)]) -> ApConvergence {
        let mut c = ApConvergence {
            mode: Mode::Ap,
            within: Duration::from_millis(1000),
            writes: BTreeMap::new(),
        };
        for (ms, time) in writes {
            c.writes.entry(Arc::from("k0")).or_default().push((
                Time::from_millis(*ms),
                Version {
                    time: *time,
                    node: 0,
                    op: 0,
                },
            ));
        }
        c
    }

    #[test]
    fn ap_convergence_catches_a_lagging_replica_and_passes_converged_ones() {
        let h = History::default();
        let mut c = converging(&[(100, 1), (200, 2)]);
        let v = judge(
            &mut c,
            &h,
            &[disk_at(2), disk_at(2), disk_at(1)],
            5000,
            Some(1000),
        );
        assert!(
            matches!(&v[..], [("ap_convergence", Verdict::Fail(m))] if m.starts_with("server 2")),
            "{v:?}"
        );
        let v = judge(
            &mut c,
            &h,
            &[disk_at(2), disk_at(2), disk_at(2)],
            5000,
            Some(1000),
        );
        assert_eq!(v, vec![("ap_convergence", Verdict::Pass)]);
        // A write younger than the bound need not have spread yet.
        let mut c = converging(&[(100, 1), (4500, 2)]);
        let v = judge(
            &mut c,
            &h,
            &[disk_at(2), disk_at(1), disk_at(1)],
            5000,
            Some(1000),
        );
        assert_eq!(v, vec![("ap_convergence", Verdict::Pass)]);
        // Too little time since the last fault: undecided, not a pass.
        let v = judge(
            &mut c,
            &h,
            &[disk_at(2), disk_at(1), disk_at(1)],
            5000,
            Some(4800),
        );
        assert!(matches!(&v[..], [("ap_convergence", Verdict::Unknown(_))]));
        // Other modes promise no convergence.
        c.mode = Mode::Cp;
        assert!(judge(&mut c, &h, &[disk_at(2), disk_at(1)], 5000, None).is_empty());
    }
}
