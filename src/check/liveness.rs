//! Liveness, judged once the run is over: after the last fault, the system must make progress again.
//!
//! Both checks start the clock at the last fault (`RunEnd::last_fault`), and say nothing while a fault
//! is still in force at the end (a partition never healed, a node still down): there is no promise to
//! keep then, and the verdict is `unknown`.

use crate::contract::{Actor, Checker, EventKind, Failure, Observation, RunEnd, Verdict};
use crate::contract::{Duration, Time};
use std::collections::BTreeMap;

fn precondition<A: Actor>(end: &RunEnd<'_, A>) -> Result<Time, Verdict> {
    if end.ended_early {
        return Err(Verdict::Unknown(
            "not judged: the run stopped at a violation".into(),
        ));
    }
    if end.faults_in_force {
        return Err(Verdict::Unknown(
            "not judged: a fault was still in force at the end".into(),
        ));
    }
    Ok(end.last_fault.unwrap_or(Time::ZERO))
}

/// Some server holds `role` at `within` after the last fault.
pub fn leader_within<A: Actor>(end: &RunEnd<'_, A>, role: &str, within: Duration) -> Verdict {
    let heal = match precondition(end) {
        Ok(t) => t,
        Err(v) => return v,
    };
    let deadline = heal + within;
    if end.now < deadline {
        return Verdict::Unknown(format!("not judged: the run ended before {deadline}"));
    }
    let mut roles = vec![None; end.cluster.node_count() as usize];
    for change in end.roles.iter().take_while(|c| c.time <= deadline) {
        roles[change.node as usize] = change.role;
    }
    let holder = end
        .cluster
        .server_ids()
        .find(|n| roles[*n as usize] == Some(role));
    match holder {
        Some(_) => Verdict::Pass,
        None => Verdict::Fail(format!(
            "no server is {role} at {deadline}, {within} after the last fault at {heal}"
        )),
    }
}

/// Every client operation open at the last fault or invoked after it completes (ok or fail) within
/// `within` of the later of its invoke and the last fault. Operations whose deadline falls after the
/// end of the run are not judged.
pub fn ops_complete_within<A: Actor>(end: &RunEnd<'_, A>, within: Duration) -> Verdict {
    let heal = match precondition(end) {
        Ok(t) => t,
        Err(v) => return v,
    };
    // process -> invoke event index
    let mut open: BTreeMap<u64, usize> = BTreeMap::new();
    let mut judged = 0u64;
    let events = &end.history.events;
    let late = |i: usize, ended: Option<usize>| -> Option<String> {
        let inv = &events[i];
        let start = Time(inv.time_ns).max(heal);
        let deadline = start + within;
        if deadline > end.now {
            return None;
        }
        let what = format!(
            "process {} {:?} {} invoked at {}",
            inv.process,
            inv.f,
            inv.key.as_deref().unwrap_or(""),
            Time(inv.time_ns)
        );
        match ended.map(|j| &events[j]) {
            None => Some(format!("{what} never completed (deadline {deadline})")),
            Some(c) if c.kind == EventKind::Info => Some(format!(
                "{what} ended unknown at {} (deadline {deadline})",
                Time(c.time_ns)
            )),
            Some(c) if Time(c.time_ns) > deadline => Some(format!(
                "{what} completed at {}, after its deadline {deadline}",
                Time(c.time_ns)
            )),
            Some(_) => None,
        }
    };
    for (j, ev) in events.iter().enumerate() {
        if ev.kind == EventKind::Invoke {
            open.insert(ev.process, j);
            continue;
        }
        let Some(i) = open.remove(&ev.process) else {
            continue;
        };
        if ev.time_ns < heal.0 {
            continue;
        }
        judged += 1;
        if let Some(why) = late(i, Some(j)) {
            return Verdict::Fail(why);
        }
    }
    for (_, i) in open {
        judged += 1;
        if let Some(why) = late(i, None) {
            return Verdict::Fail(why);
        }
    }
    if judged == 0 {
        return Verdict::Unknown("not judged: no client operation after the last fault".into());
    }
    Verdict::Pass
}

/// [`leader_within`] as an end-of-run checker (`"liveness": {"leader_within_ms": X}`).
#[derive(Clone, Debug)]
pub struct LeaderWithin {
    /// The role to wait for; `None` when the protocol has none (the verdict is then `unknown`).
    pub role: Option<&'static str>,
    /// How long after the last fault.
    pub within: Duration,
}

impl<A: Actor> Checker<A> for LeaderWithin {
    fn name(&self) -> &'static str {
        "leader_within"
    }

    fn observe(&mut self, _: &Observation<'_, A>) -> Result<(), Failure> {
        Ok(())
    }

    fn finish(&mut self, end: &RunEnd<'_, A>) -> Vec<(&'static str, Verdict)> {
        let verdict = match self.role {
            Some(role) => leader_within(end, role, self.within),
            None => Verdict::Unknown("the protocol has no leader role".into()),
        };
        vec![("leader_within", verdict)]
    }
}

/// [`ops_complete_within`] as an end-of-run checker (`"liveness": {"ops_complete_within_ms": X}`).
#[derive(Clone, Debug)]
pub struct OpsCompleteWithin {
    /// How long after the later of an operation's invoke and the last fault.
    pub within: Duration,
}

impl<A: Actor> Checker<A> for OpsCompleteWithin {
    fn name(&self) -> &'static str {
        "ops_complete_within"
    }

    fn observe(&mut self, _: &Observation<'_, A>) -> Result<(), Failure> {
        Ok(())
    }

    fn finish(&mut self, end: &RunEnd<'_, A>) -> Vec<(&'static str, Verdict)> {
        vec![("ops_complete_within", ops_complete_within(end, self.within))]
    }
}
