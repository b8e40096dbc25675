//! `run --check-determinism` (`run::replay::check_determinism`): a run of the real engine is the
//! same twice, and a protocol that leaks state between runs (a process-wide counter, the kind of bug
//! that breaks replay) is caught at the first event that differs, with context.

use distsim::contract::{
    Actor, Checker, Ctx, Duration, Mutant, NoModel, NodeId, NoteLabel, Protocol, Setup,
};
use distsim::run::Runner;
use distsim::run::replay::check_determinism;
use distsim::scenario::parse;
use serde::Serialize;
use std::sync::atomic::{AtomicU64, Ordering};

#[test]
fn a_real_run_is_the_same_twice() {
    let text = std::fs::read("scenarios/raft_crash_restart.json").unwrap();
    let (scenario, source) = parse(&text, "raft_crash_restart.json").unwrap();
    let checked = check_determinism(Runner::by_name(), &scenario, Some(&source), None).unwrap();
    assert!(checked.difference.is_none(), "{:?}", checked.difference);
    assert!(checked.lines > 1_000, "{} lines compared", checked.lines);
}

/// Bumped by every run: the second run sends other numbers than the first.
static LEAK: AtomicU64 = AtomicU64::new(0);

struct Leaky;

#[derive(Clone, Debug, Serialize)]
struct Tick;

impl NoteLabel for Tick {
    fn label(&self) -> &'static str {
        "tick"
    }
}

impl Actor for Leaky {
    type Msg = u64;
    type Timer = ();
    type Durable = ();
    type Note = Tick;
    fn on_start(&mut self, ctx: &mut Ctx<'_, Self>) {
        ctx.set_timer((), Duration::from_millis(5));
    }
    fn on_msg(&mut self, _: &mut Ctx<'_, Self>, _: NodeId, _: u64) {}
    fn on_timer(&mut self, ctx: &mut Ctx<'_, Self>, _: ()) {
        ctx.note(Tick);
        if ctx.id() == 0 {
            let leaked = LEAK.fetch_add(1, Ordering::Relaxed);
            ctx.broadcast(leaked);
        }
        ctx.set_timer((), Duration::from_millis(5));
    }
}

struct LeakyProtocol;

impl Protocol for LeakyProtocol {
    type Actor = Leaky;
    type Model = NoModel;
    const NAME: &'static str = "leaky";
    const ABOUT: &'static str = "leaks a counter between runs";
    const MUTANTS: &'static [Mutant] = &[];
    fn setup(_: &Setup<'_>) -> Result<Self, String> {
        Ok(LeakyProtocol)
    }
    fn new_actor(&self, _: NodeId) -> Leaky {
        Leaky
    }
    fn checkers(&self) -> Vec<Box<dyn Checker<Leaky>>> {
        Vec::new()
    }
}

#[test]
fn state_leaking_between_runs_is_caught_at_the_first_difference() {
    let (scenario, source) = parse(
        br#"{"name": "leaky", "protocol": "leaky", "seed": 1, "nodes": 2, "max_time_ms": 50}"#,
        "leaky.json",
    )
    .unwrap();
    let checked = check_determinism(
        Runner::of::<LeakyProtocol>(),
        &scenario,
        Some(&source),
        None,
    )
    .unwrap();
    let m = checked.difference.expect("the second run differs");
    // Trace format 3: a send line is `{"k":"s",...}`.
    assert!(m.expected.starts_with(r#"{"k":"s""#), "{m:?}");
    assert!(m.got.starts_with(r#"{"k":"s""#), "{m:?}");
    assert_eq!(m.before.len(), 3, "context before: {m:?}");
    assert!(
        !m.got_after.is_empty() && !m.expected_after.is_empty(),
        "{m:?}"
    );
    assert!(m.render().contains("expected: "), "{}", m.render());
}
