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
//! Per event it only records, from `Applied` and `Started` notes, each server's applied index in its
//! current incarnation and when each index was first applied anywhere.

use super::RaftActor;
use super::RaftNote;
use super::message::Index;
use crate::contract::Cluster;
use crate::contract::{Checker, Failure, Observation, RunEnd, Verdict};
use crate::contract::{Duration, Time};

/// "Every server catches up within the window after the last heal."
#[derive(Clone, Debug)]
pub struct RaftLiveness {
    catch_up: Duration,
    /// Each server's last applied index since its last (re)start.
    applied: Vec<Index>,
    /// `first_applied[i - 1]`: when index `i` was first applied by any server (non-decreasing).
    first_applied: Vec<Time>,
}

impl RaftLiveness {
    /// A checker with the catch-up window.
    pub fn new(cluster: Cluster, catch_up: Duration) -> Self {
        RaftLiveness {
            catch_up,
            applied: vec![0; cluster.servers as usize],
            first_applied: Vec::new(),
        }
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
                RaftNote::Applied { index, .. } => {
                    *applied = index;
                    while (self.first_applied.len() as Index) < index {
                        self.first_applied.push(obs.now);
                    }
                }
                _ => {}
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
        let due = self.first_applied.partition_point(|t| *t <= cutoff) as Index;
        if due == 0 {
            return Verdict::Pass;
        }
        let due_at = self.first_applied[due as usize - 1];
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
