//! Raft's own liveness promise, judged once at the end of the run: once the last fault has healed,
//! replication catches up. Every server applies every entry that any server had applied
//! `liveness_catch_up_ms` before the end of the run (and at least that long after the heal).
//!
//! This is the promise a lagging, partitioned or restarted follower relies on: AppendEntries backs up
//! to where its log matches, heartbeats carry the commit index, and it re-applies its log after a
//! restart. The generic promises, "a leader within X ms" and "every client operation completes within
//! X ms", are the engine's (the scenario's `"liveness"`), so they are not repeated here.
//!
//! The checker is off unless `liveness_catch_up_ms` is set. Like the engine's liveness checks, it does
//! not judge a run that a violation cut short, that ends with a fault in force (a partition never
//! healed, a server still down), or that ends less than the window after the heal.
//!
//! Per event it only records, from `Applied`, `Started` and the snapshot notes, each server's applied
//! index in its current incarnation (a snapshot installed or restored counts as applied up to its
//! index), and when each index was first applied anywhere, as runs of indices first applied at one
//! time. Only the runs that the end's cutoff can still fall in are kept: the end is at least the
//! current time, so of the runs older than `liveness_catch_up_ms` only the latest matters.

use super::RaftActor;
use super::RaftNote;
use super::message::Index;
use crate::contract::Cluster;
use crate::contract::{Checker, Failure, Observation, RunEnd, Verdict};
use crate::contract::{Duration, Time};
use std::collections::VecDeque;

/// "Every server catches up within the window after the last heal."
#[derive(Clone, Debug)]
pub struct RaftLiveness {
    catch_up: Duration,
    /// Each server's last applied index since its last (re)start.
    applied: Vec<Index>,
    /// When indices were first applied by any server: `(t, i)` says that the indices after the
    /// previous run's, up to `i`, were first applied at `t` (both increasing along the deque).
    first_applied: VecDeque<(Time, Index)>,
}

impl RaftLiveness {
    /// A checker with the catch-up window.
    pub fn new(cluster: Cluster, catch_up: Duration) -> Self {
        RaftLiveness {
            catch_up,
            applied: vec![0; cluster.servers as usize],
            first_applied: VecDeque::new(),
        }
    }
}

impl RaftLiveness {
    /// How many runs of first-applied times it keeps: what its memory grows with.
    pub fn retained_records(&self) -> usize {
        self.first_applied.len()
    }
}

impl Checker<RaftActor> for RaftLiveness {
    fn name(&self) -> &'static str {
        "raft_liveness"
    }

    fn observe(&mut self, obs: &Observation<'_, RaftActor>) -> Result<(), Failure> {
        let Some(applied) = self.applied.get_mut(obs.node as usize) else {
            return Ok(()); // a client
        };
        for note in obs.notes {
            match *note {
                RaftNote::Started { .. } => *applied = 0,
                RaftNote::SnapshotInstalled { index, .. }
                | RaftNote::SnapshotRestored { index, .. } => *applied = index,
                RaftNote::Applied { index, .. } => {
                    *applied = index;
                    match self.first_applied.back_mut() {
                        Some((_, last)) if *last >= index => {}
                        Some((t, last)) if *t == obs.now => *last = index,
                        _ => self.first_applied.push_back((obs.now, index)),
                    }
                }
                _ => {}
            }
        }
        // A run followed by one at or before `now - window` can never hold the end's cutoff.
        if let Some(old) = obs.now.0.checked_sub(self.catch_up.0) {
            while self.first_applied.len() > 1 && self.first_applied[1].0.0 <= old {
                self.first_applied.pop_front();
            }
        }
        Ok(())
    }

    fn finish(&mut self, end: &RunEnd<'_, RaftActor>) -> Vec<(&'static str, Verdict)> {
        vec![("raft_liveness", self.judge(end))]
    }
}

impl RaftLiveness {
    fn judge(&self, end: &RunEnd<'_, RaftActor>) -> Verdict {
        if end.ended_early {
            return Verdict::Unknown("not judged: the run stopped before its end".into());
        }
        if end.faults_in_force {
            return Verdict::Unknown("not judged: a fault was still in force at the end".into());
        }
        let heal = end.last_fault.unwrap_or(Time::ZERO);
        if end.now < heal + self.catch_up {
            return Verdict::Unknown(format!(
                "not judged: the run ended at {}, less than {} after the last fault at {heal}",
                end.now, self.catch_up
            ));
        }
        let cutoff = Time(end.now.0 - self.catch_up.0);
        let runs = self.first_applied.partition_point(|(t, _)| *t <= cutoff);
        let Some(&(due_at, due)) = runs.checked_sub(1).and_then(|k| self.first_applied.get(k))
        else {
            return Verdict::Pass;
        };
        for (server, applied) in self.applied.iter().enumerate() {
            if *applied < due {
                return Verdict::Fail(format!(
                    "server {server} has applied only up to index {applied} at the end ({}), but index \
                     {due} was applied at {due_at}; the last fault was at {heal}, and the window is {}",
                    end.now, self.catch_up
                ));
            }
        }
        Verdict::Pass
    }
}
