//! `lock_liveness`: after a holder crashes, the lock can be taken again within the TTL, the drift
//! allowance and the backoff (the bound is [`super::params::LockParams::liveness_bound`]).
//!
//! A crash is read from the run's role changes: a client whose role goes from `holder` to none without
//! a `released` or `expired` note at that instant. A crash is judged when it is the run's last fault
//! (the checker sees no fault schedule, so a later fault, a restart included, or a degraded network
//! drawn by a sweep could excuse the wait; earlier faults must have been undone by then, which the
//! scenario promises), the run lasted past its bound, and some other client started an acquisition
//! inside the window (someone wanted the lock). It fails when nobody acquired the lock within the
//! bound.

use super::LockActor;
use super::note::LockNote;
use crate::contract::{Checker, Duration, Failure, NodeId, Observation, RunEnd, Time, Verdict};
use std::collections::BTreeSet;

/// Property name.
pub const LOCK_LIVENESS: &str = "lock_liveness";

/// The liveness checker.
#[derive(Debug)]
pub struct LockLiveness {
    bound: Duration,
    /// (time, client) of every `released` or `expired` note.
    let_go: BTreeSet<(Time, NodeId)>,
    /// True times of every acquisition.
    acquired: Vec<Time>,
    /// (time, client) of every acquisition attempt.
    attempts: Vec<(Time, NodeId)>,
}

impl LockLiveness {
    /// A checker with this bound.
    pub fn new(bound: Duration) -> LockLiveness {
        LockLiveness {
            bound,
            let_go: BTreeSet::new(),
            acquired: Vec::new(),
            attempts: Vec::new(),
        }
    }
}

impl Checker<LockActor> for LockLiveness {
    fn needs_history(&self) -> bool {
        false
    }

    fn name(&self) -> &'static str {
        LOCK_LIVENESS
    }

    fn observe(&mut self, obs: &Observation<'_, LockActor>) -> Result<(), Failure> {
        for note in obs.notes {
            match note {
                LockNote::Released { .. } | LockNote::Expired { .. } => {
                    self.let_go.insert((obs.now, obs.node));
                }
                LockNote::Acquired { .. } => self.acquired.push(obs.now),
                LockNote::AttemptStarted { .. } => self.attempts.push((obs.now, obs.node)),
                _ => {}
            }
        }
        Ok(())
    }

    fn finish(&mut self, end: &RunEnd<'_, LockActor>) -> Vec<(&'static str, Verdict)> {
        if end.ended_early {
            return Vec::new();
        }
        let mut holders: BTreeSet<NodeId> = BTreeSet::new();
        let mut judged = 0;
        for change in end.roles {
            let was_holder = holders.contains(&change.node);
            if change.role == Some("holder") {
                holders.insert(change.node);
                continue;
            }
            holders.remove(&change.node);
            let t = change.time;
            if !was_holder
                || !end.cluster.client_ids().contains(&change.node)
                || self.let_go.contains(&(t, change.node))
            {
                continue;
            }
            let deadline = t + self.bound;
            let last_fault = end.last_fault == Some(t);
            let wanted = self
                .attempts
                .iter()
                .any(|&(a, c)| c != change.node && a > t && a <= deadline);
            if deadline > end.now || !last_fault || !wanted {
                continue;
            }
            judged += 1;
            if !self.acquired.iter().any(|&a| a > t && a <= deadline) {
                return vec![(
                    LOCK_LIVENESS,
                    Verdict::Fail(format!(
                        "holder {} crashed at {t} and nobody took the lock by {deadline} (bound {} ms), though others tried",
                        change.node,
                        self.bound.as_millis()
                    )),
                )];
            }
        }
        if judged == 0 {
            return Vec::new();
        }
        vec![(LOCK_LIVENESS, Verdict::Pass)]
    }
}
