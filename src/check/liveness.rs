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

/// A leader is elected within `within` after the last fault: some server holds `role` at some instant
/// of `[heal, heal + within]` (already at the heal, or elected later in the window).
///
/// This is the promise "the cluster elects a leader within X of the heal"; whether that leader then
/// stays is another property (a re-election after lost heartbeats inside the window is not a failure to
/// elect). A run that ends before `heal + within` without a leader is not judged.
pub fn leader_within<A: Actor>(end: &RunEnd<'_, A>, role: &str, within: Duration) -> Verdict {
    let heal = match precondition(end) {
        Ok(t) => t,
        Err(v) => return v,
    };
    let deadline = heal + within;
    let mut roles = vec![None; end.cluster.node_count() as usize];
    let is_server = |n: u32| n < end.cluster.servers;
    let mut changes = end.roles.iter().peekable();
    // The roles in force at the heal.
    while let Some(change) = changes.next_if(|c| c.time <= heal) {
        roles[change.node as usize] = change.role;
    }
    if end
        .cluster
        .server_ids()
        .any(|n| roles[n as usize] == Some(role))
    {
        return Verdict::Pass;
    }
    let mut later = changes.take_while(|c| c.time <= deadline);
    if later.any(|c| is_server(c.node) && c.role == Some(role)) {
        return Verdict::Pass;
    }
    if end.now < deadline {
        return Verdict::Unknown(format!("not judged: the run ended before {deadline}"));
    }
    Verdict::Fail(format!(
        "no server was {role} at any time from the last fault at {heal} to {deadline} ({within})"
    ))
}

/// Every client operation open at the last fault or invoked after it completes (ok or fail) within
/// `within` of the later of its invoke and the last fault (its *window*).
///
/// An operation its own client abandoned (an `info` completion, the client's deadline) before its
/// window closed is not judged: the client did not give the cluster the time the property promises,
/// so its give-up is the client's choice, not the cluster's failure. A give-up at or after the window's
/// end is judged as a failure (the cluster had the whole window and did not answer). An operation
/// still open at the end is judged only if its window ended inside the run. When nothing is left to
/// judge the verdict is `unknown` (for instance when every client's `op_deadline_ms` is shorter than
/// `within`), never a pass.
pub fn ops_complete_within<A: Actor>(end: &RunEnd<'_, A>, within: Duration) -> Verdict {
    let heal = match precondition(end) {
        Ok(t) => t,
        Err(v) => return v,
    };
    // process -> invoke event index
    let mut open: BTreeMap<u64, usize> = BTreeMap::new();
    let mut judged = 0u64;
    let mut abandoned = 0u64;
    let events = &end.history.events;
    let window_end = |i: usize| Time(events[i].time_ns).max(heal) + within;
    let late = |i: usize, ended: Option<usize>| -> Option<String> {
        let inv = &events[i];
        let deadline = window_end(i);
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
        let deadline = window_end(i);
        if ev.kind == EventKind::Info && Time(ev.time_ns) < deadline {
            // Abandoned by its client before the cluster had its whole window.
            abandoned += 1;
            continue;
        }
        // A completion is judged even when its window reaches past the end of the run: on time is
        // on time, and a late one came after a deadline inside the run.
        judged += 1;
        if let Some(why) = late(i, Some(j)) {
            return Verdict::Fail(why);
        }
    }
    for (_, i) in open {
        if window_end(i) > end.now {
            continue;
        }
        judged += 1;
        if let Some(why) = late(i, None) {
            return Verdict::Fail(why);
        }
    }
    if judged == 0 {
        return Verdict::Unknown(format!(
            "not judged: no client operation after the last fault ran its whole window \
             ({abandoned} abandoned by their clients first)"
        ));
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
    fn needs_history(&self) -> bool {
        false
    }

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contract::{Cluster, Ctx, Func, History, HistoryEvent, NodeId, RoleChange, Value};

    /// An actor that does nothing: the liveness checks read only the run's records.
    struct Idle;

    impl Actor for Idle {
        type Msg = ();
        type Timer = ();
        type Durable = ();
        type Note = crate::protocols::pingpong::Note;
        fn on_start(&mut self, _: &mut Ctx<'_, Self>) {}
        fn on_msg(&mut self, _: &mut Ctx<'_, Self>, _: NodeId, _: ()) {}
        fn on_timer(&mut self, _: &mut Ctx<'_, Self>, _: ()) {}
    }

    const MS: u64 = 1_000_000;

    fn end<'a>(history: &'a History, roles: &'a [RoleChange], now_ms: u64) -> RunEnd<'a, Idle> {
        RunEnd {
            now: Time(now_ms * MS),
            last_fault: Some(Time(1_000 * MS)),
            faults_in_force: false,
            history,
            roles,
            cluster: Cluster::new(3, 2),
            ended_early: false,
            nodes: &[],
        }
    }

    fn role(ms: u64, node: NodeId, role: Option<&'static str>) -> RoleChange {
        RoleChange {
            time: Time(ms * MS),
            node,
            role,
        }
    }

    fn ev(ms: u64, process: u64, kind: EventKind) -> HistoryEvent {
        HistoryEvent {
            time_ns: ms * MS,
            process,
            kind,
            f: Func::GET,
            key: Some("k".into()),
            value: Value::Nil,
        }
    }

    fn within_ms(ms: u64) -> Duration {
        Duration::from_millis(ms)
    }

    #[test]
    fn a_leader_elected_inside_the_window_passes_even_if_it_is_gone_at_its_end() {
        let h = History::default();
        // Leader at 1,100 ms, lost at 1,400 ms, none at the deadline (1,500 ms).
        let roles = [
            role(500, 0, Some("leader")),
            role(900, 0, Some("follower")),
            role(1_100, 1, Some("leader")),
            role(1_400, 1, Some("follower")),
        ];
        let v = leader_within(&end(&h, &roles, 3_000), "leader", within_ms(500));
        assert_eq!(v, Verdict::Pass);
    }

    #[test]
    fn a_leader_in_office_at_the_heal_passes() {
        let h = History::default();
        let roles = [role(500, 2, Some("leader"))];
        let v = leader_within(&end(&h, &roles, 3_000), "leader", within_ms(500));
        assert_eq!(v, Verdict::Pass);
    }

    #[test]
    fn no_leader_in_the_window_fails_and_one_after_it_does_not_count() {
        let h = History::default();
        let roles = [
            role(500, 0, Some("leader")),
            role(900, 0, None),
            role(1_501, 1, Some("leader")),
        ];
        let v = leader_within(&end(&h, &roles, 3_000), "leader", within_ms(500));
        assert!(
            matches!(v, Verdict::Fail(ref m) if m.contains("no server")),
            "{v:?}"
        );
        // A client holding the role name is not a server.
        let roles = [role(1_200, 4, Some("leader"))];
        let v = leader_within(&end(&h, &roles, 3_000), "leader", within_ms(500));
        assert!(matches!(v, Verdict::Fail(_)), "{v:?}");
        // A run that ends inside the window without a leader is not judged.
        let v = leader_within(&end(&h, &[], 1_200), "leader", within_ms(500));
        assert!(matches!(v, Verdict::Unknown(_)), "{v:?}");
    }

    #[test]
    fn leader_within_at_its_boundaries() {
        let h = History::default();
        // Servers are 0..3: node 3, the first client, holding the role name is no leader.
        let roles = [role(1_200, 3, Some("leader"))];
        let v = leader_within(&end(&h, &roles, 3_000), "leader", within_ms(500));
        assert!(matches!(v, Verdict::Fail(_)), "{v:?}");
        // A run that ends at the window's last instant has seen the whole window: judged.
        let v = leader_within(&end(&h, &[], 1_500), "leader", within_ms(500));
        assert!(matches!(v, Verdict::Fail(_)), "{v:?}");
    }

    #[test]
    fn as_checkers_they_judge_exactly_the_properties_they_declare() {
        // The report lists each declared property, and `expect` names them: a verdict under any
        // other name, or none at all, would be lost.
        let h = History {
            events: vec![ev(1_100, 1, EventKind::Invoke)],
        };
        let roles = [role(1_100, 1, Some("leader"))];
        let end = end(&h, &roles, 3_000);
        let mut leader = LeaderWithin {
            role: Some("leader"),
            within: within_ms(500),
        };
        assert_eq!(Checker::<Idle>::properties(&leader), ["leader_within"]);
        assert_eq!(leader.finish(&end), [("leader_within", Verdict::Pass)]);
        let mut ops = OpsCompleteWithin {
            within: within_ms(500),
        };
        assert_eq!(Checker::<Idle>::properties(&ops), ["ops_complete_within"]);
        let verdicts = ops.finish(&end);
        assert_eq!(verdicts.len(), 1);
        assert_eq!(verdicts[0].0, "ops_complete_within");
        assert!(
            matches!(verdicts[0].1, Verdict::Fail(ref m) if m.contains("never completed")),
            "{verdicts:?}"
        );
    }

    #[test]
    fn an_operation_its_client_abandoned_early_is_not_judged() {
        // Heal at 1,000 ms, window 500 ms; process 1 gives up at 1,200 ms (its own deadline), and its
        // successor, process 2, completes in time.
        let h = History {
            events: vec![
                ev(900, 1, EventKind::Invoke),
                ev(1_200, 1, EventKind::Info),
                ev(1_210, 2, EventKind::Invoke),
                ev(1_300, 2, EventKind::Ok),
            ],
        };
        assert_eq!(
            ops_complete_within(&end(&h, &[], 3_000), within_ms(500)),
            Verdict::Pass
        );
        // Alone, the abandoned operation leaves nothing judged: unknown, not a pass.
        let h = History {
            events: h.events[..2].to_vec(),
        };
        let v = ops_complete_within(&end(&h, &[], 3_000), within_ms(500));
        assert!(
            matches!(v, Verdict::Unknown(ref m) if m.contains("1 abandoned")),
            "{v:?}"
        );
    }

    #[test]
    fn a_give_up_after_the_whole_window_fails() {
        let h = History {
            events: vec![ev(900, 1, EventKind::Invoke), ev(1_500, 1, EventKind::Info)],
        };
        let v = ops_complete_within(&end(&h, &[], 3_000), within_ms(500));
        assert!(
            matches!(v, Verdict::Fail(ref m) if m.contains("ended unknown")),
            "{v:?}"
        );
    }

    #[test]
    fn late_and_missing_completions_fail() {
        let late = History {
            events: vec![ev(1_100, 1, EventKind::Invoke), ev(1_601, 1, EventKind::Ok)],
        };
        let v = ops_complete_within(&end(&late, &[], 3_000), within_ms(500));
        assert!(
            matches!(v, Verdict::Fail(ref m) if m.contains("after its deadline")),
            "{v:?}"
        );
        let never = History {
            events: vec![ev(1_100, 1, EventKind::Invoke)],
        };
        let v = ops_complete_within(&end(&never, &[], 3_000), within_ms(500));
        assert!(
            matches!(v, Verdict::Fail(ref m) if m.contains("never completed")),
            "{v:?}"
        );
        // Its window ends after the run: not judged.
        let v = ops_complete_within(&end(&never, &[], 1_500), within_ms(500));
        assert!(matches!(v, Verdict::Unknown(_)), "{v:?}");
        // Completed on time, though its window reaches past the end of the run: judged, a pass.
        let quick = History {
            events: vec![ev(1_100, 1, EventKind::Invoke), ev(1_150, 1, EventKind::Ok)],
        };
        let v = ops_complete_within(&end(&quick, &[], 1_200), within_ms(500));
        assert_eq!(v, Verdict::Pass);
        // On time, at the window's last instant.
        let on_time = History {
            events: vec![ev(1_100, 1, EventKind::Invoke), ev(1_600, 1, EventKind::Ok)],
        };
        let v = ops_complete_within(&end(&on_time, &[], 3_000), within_ms(500));
        assert_eq!(v, Verdict::Pass);
    }
}
