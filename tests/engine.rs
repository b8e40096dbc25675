//! The engine's promises, checked with a probe actor defined here, outside the crate, the way a user
//! plugs in their own protocol: timers in local time, clock drift, partitions checked at delivery,
//! crash and restart with a disk, stop-the-world pauses, role-targeted faults, Byzantine silence,
//! loss, and the event bound.

use distsim::contract::Duration;
use distsim::contract::{
    Actor, Adversary, Checker, Ctx, Mutant, NoModel, NodeId, NoteLabel, Protocol, Role, Setup,
    Tamper,
};
use distsim::run::{RunOptions, RunOutput, run_protocol};
use distsim::trace::TraceOutput;
use serde::Serialize;
use serde_json::Value;

/// Node 0 ticks every 10 ms of its local clock and sends its tick count to every other server.
struct Probe {
    id: NodeId,
    ticks: u64,
}

#[derive(Clone, Debug, Serialize)]
enum Note {
    Started { boots: u64 },
    Fired { tick: u64 },
    Got { from: NodeId, value: u64 },
}

impl NoteLabel for Note {
    fn label(&self) -> &'static str {
        match self {
            Note::Started { .. } => "started",
            Note::Fired { .. } => "fired",
            Note::Got { .. } => "got",
        }
    }
}

impl Actor for Probe {
    type Msg = u64;
    type Timer = u8;
    type Durable = u64;
    type Note = Note;

    fn on_start(&mut self, ctx: &mut Ctx<'_, Self>) {
        *ctx.durable_mut() += 1;
        let boots = *ctx.durable();
        ctx.note(Note::Started { boots });
        if ctx.id() == 0 {
            ctx.set_timer(0, Duration::from_millis(10));
        }
    }

    fn on_msg(&mut self, ctx: &mut Ctx<'_, Self>, from: NodeId, value: u64) {
        ctx.note(Note::Got { from, value });
    }

    fn on_timer(&mut self, ctx: &mut Ctx<'_, Self>, _timer: u8) {
        self.ticks += 1;
        ctx.note(Note::Fired { tick: self.ticks });
        ctx.broadcast(self.ticks);
        ctx.set_timer(0, Duration::from_millis(10));
    }

    fn role(&self) -> Role {
        (self.id == 1).then_some("leader")
    }
}

struct ProbeProtocol;

impl Protocol for ProbeProtocol {
    type Actor = Probe;
    type Model = NoModel;
    const NAME: &'static str = "probe";
    const ABOUT: &'static str = "engine probe";
    const MUTANTS: &'static [Mutant] = &[];
    const ROLES: &'static [&'static str] = &["leader"];
    fn setup(_: &Setup<'_>) -> Result<Self, String> {
        Ok(ProbeProtocol)
    }
    fn new_actor(&self, id: NodeId) -> Probe {
        Probe { id, ticks: 0 }
    }
    fn checkers(&self) -> Vec<Box<dyn Checker<Probe>>> {
        Vec::new()
    }
    fn adversary(&self, _node: NodeId) -> Option<Box<dyn Adversary<Probe>>> {
        Some(Box::new(ProbeAdversary { seen: 0 }))
    }
}

/// Forges a tick as 1000 plus how many messages the adversary has seen (its own memory);
/// equivocates by telling each receiver a different tick (100 times its id more).
struct ProbeAdversary {
    seen: u64,
}

impl Adversary<Probe> for ProbeAdversary {
    fn saw(&mut self, _ctx: &mut Tamper<'_>, _msg: &u64) {
        self.seen += 1;
    }
    fn forge(&mut self, _ctx: &mut Tamper<'_>, _msg: &u64) -> Option<u64> {
        Some(1000 + self.seen)
    }
    fn equivocate(&mut self, ctx: &mut Tamper<'_>, msg: &u64) -> Option<u64> {
        Some(msg + 100 * u64::from(ctx.to))
    }
}

/// Runs a probe scenario (3 servers, 5 ms links, 100 ms) with extra JSON fields, and returns the
/// output and the trace's event lines.
fn probe(extra: &str) -> (RunOutput, Vec<Value>) {
    let text = format!(
        r#"{{"name": "probe", "protocol": "probe", "seed": 3, "nodes": 3, "max_time_ms": 100,
            "network": {{"delay_ms_min": 5, "delay_ms_max": 5}} {extra} }}"#
    );
    let (scenario, source) = distsim::scenario::parse(text.as_bytes(), "probe.json").unwrap();
    let options = RunOptions {
        seed: None,
        trace: TraceOutput::Memory,
    };
    let out = run_protocol::<ProbeProtocol>(&scenario, Some(&source), &options).unwrap();
    let lines = out
        .trace_lines
        .as_ref()
        .unwrap()
        .iter()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    (out, lines)
}

fn notes<'a>(lines: &'a [Value], node: u64, label: &'a str) -> impl Iterator<Item = &'a Value> {
    lines
        .iter()
        .filter(move |l| l["kind"] == "note" && l["node"] == node && l["note"].get(label).is_some())
}

fn ms(line: &Value) -> u64 {
    line["t"].as_u64().unwrap() / 1_000_000
}

#[test]
fn timers_fire_on_the_local_clock() {
    let (_, lines) = probe("");
    let fired: Vec<u64> = notes(&lines, 0, "Fired").map(ms).collect();
    assert_eq!(fired, (1..=10).map(|i| i * 10).collect::<Vec<_>>());
    // Every tick reaches both peers 5 ms later.
    let got: Vec<u64> = notes(&lines, 2, "Got").map(ms).collect();
    assert_eq!(got, (1..=9).map(|i| i * 10 + 5).collect::<Vec<_>>());
}

#[test]
fn a_fast_clock_fires_timers_early_in_true_time() {
    // Twice as fast from time 0: 10 ms of local time is 5 ms of true time. The first timer was set
    // at start, before the fault (starts are scheduled before faults at the same instant), so it
    // still takes 10 ms; every later one takes 5.
    let (_, lines) =
        probe(r#", "faults": [{"at_ms": 0, "clock": {"node": 0, "drift_ppm": 1000000}}]"#);
    let fired: Vec<u64> = notes(&lines, 0, "Fired").map(ms).collect();
    assert_eq!(fired.len(), 19, "{fired:?}");
    assert_eq!(fired[..3], [10, 15, 20]);
}

#[test]
fn a_partition_also_loses_messages_already_in_flight() {
    // The tick at 10 ms is sent at 10 and would arrive at 15; the partition at 12 cuts it.
    let (out, lines) = probe(
        r#", "faults": [{"at_ms": 12, "partition": [[0], [1, 2]]}, {"at_ms": 52, "heal": true}]"#,
    );
    let drops: Vec<&Value> = lines.iter().filter(|l| l["kind"] == "drop").collect();
    assert!(drops.iter().all(|d| d["reason"] == "partition"));
    // Ticks 10, 20, 30 and 40 to two peers are cut; tick 50's copies arrive at 55, after the heal.
    assert_eq!(drops.len(), 8);
    assert_eq!(ms(drops[0]), 15);
    let got: Vec<u64> = notes(&lines, 1, "Got").map(ms).collect();
    assert_eq!(got, vec![55, 65, 75, 85, 95]);
    assert_eq!(out.report.counts.messages_dropped, 8);
}

#[test]
fn a_crash_loses_volatile_state_and_messages_but_keeps_the_disk() {
    let (_, lines) = probe(
        r#", "faults": [{"at_ms": 33, "crash": 0}, {"at_ms": 34, "crash": 2}, {"at_ms": 50, "restart": "all"}]"#,
    );
    // Node 0's tick count restarts from zero (volatile); its boot count comes from its disk.
    let fired: Vec<(u64, u64)> = notes(&lines, 0, "Fired")
        .map(|l| (ms(l), l["note"]["Fired"]["tick"].as_u64().unwrap()))
        .collect();
    assert_eq!(fired[..3], [(10, 1), (20, 2), (30, 3)]);
    assert_eq!(fired[3], (60, 1));
    let boots: Vec<u64> = notes(&lines, 0, "Started")
        .map(|l| l["note"]["Started"]["boots"].as_u64().unwrap())
        .collect();
    assert_eq!(boots, vec![1, 2]);
    // The tick sent at 30 reaches node 2 at 35, while it is down.
    let down: Vec<&Value> = lines
        .iter()
        .filter(|l| l["kind"] == "drop" && l["reason"] == "down")
        .collect();
    assert_eq!(down.len(), 1);
    assert_eq!((ms(down[0]), down[0]["to"].as_u64()), (35, Some(2)));
}

#[test]
fn a_paused_node_handles_nothing_then_catches_up_in_order() {
    let (_, lines) =
        probe(r#", "faults": [{"at_ms": 20, "pause": 2}, {"at_ms": 60, "resume": 2}]"#);
    let got: Vec<(u64, u64)> = notes(&lines, 2, "Got")
        .map(|l| (ms(l), l["note"]["Got"]["value"].as_u64().unwrap()))
        .collect();
    // Ticks 2..5 arrived during the pause (25, 35, 45, 55) and are handled at 60, in order.
    assert_eq!(
        got[..6],
        [(15, 1), (60, 2), (60, 3), (60, 4), (60, 5), (65, 6)]
    );
}

#[test]
fn a_role_target_resolves_when_the_fault_fires() {
    let (out, lines) = probe(r#", "faults": [{"at_ms": 40, "isolate": "leader"}]"#);
    let fault = lines.iter().find(|l| l["kind"] == "fault").unwrap();
    assert_eq!(fault["nodes"], serde_json::json!([1]));
    assert_eq!(fault["effect"], "isolate node 1 (the leader)");
    assert!(
        out.report
            .timeline
            .iter()
            .any(|t| t.what == "isolate node 1 (the leader)")
    );
}

#[test]
fn a_silent_byzantine_node_sends_nothing_and_loss_drops_everything() {
    let (out, lines) =
        probe(r#", "faults": [{"at_ms": 0, "byzantine": {"node": 0, "mode": "silent"}}]"#);
    assert_eq!(out.report.counts.messages_delivered, 0);
    let drops: Vec<&Value> = lines.iter().filter(|l| l["kind"] == "drop").collect();
    assert!(!drops.is_empty(), "node 0 tried to send");
    assert_eq!(drops.len() as u64, out.report.counts.messages_sent);
    assert!(drops.iter().all(|l| l["reason"] == "silenced"));
    let (out, _) = probe(r#", "faults": [{"at_ms": 0, "link": {"loss_ppm": 1000000}}]"#);
    assert_eq!(out.report.counts.messages_delivered, 0);
    assert_eq!(
        out.report.counts.messages_dropped,
        out.report.counts.messages_sent
    );
}

#[test]
fn the_event_bound_ends_the_run_with_an_outcome() {
    let (out, lines) = probe(r#", "max_events": 7"#);
    assert_eq!(out.report.counts.events, 7);
    assert_eq!(out.report.end_reason.as_str(), "event_limit");
    let end = lines.last().unwrap();
    assert_eq!(end["kind"], "end");
    assert_eq!(end["end_reason"], "event_limit");
}

#[test]
fn the_same_seed_gives_the_same_trace_and_another_seed_does_not() {
    let extra = r#", "network": {"delay_ms_min": 1, "delay_ms_max": 9, "loss_ppm": 100000}"#;
    // `network` twice is a duplicate-key error, so build it directly instead.
    let text = format!(
        r#"{{"name": "probe", "protocol": "probe", "seed": 3, "nodes": 3, "max_time_ms": 300 {extra} }}"#
    );
    let (scenario, source) = distsim::scenario::parse(text.as_bytes(), "probe.json").unwrap();
    let digest = |seed: u64| {
        let options = RunOptions {
            seed: Some(seed),
            trace: TraceOutput::Digest,
        };
        run_protocol::<ProbeProtocol>(&scenario, Some(&source), &options)
            .unwrap()
            .report
            .fingerprint
            .unwrap()
    };
    assert_eq!(digest(3), digest(3));
    assert_ne!(digest(3), digest(4));
}

#[test]
fn the_pingpong_checker_catches_its_mutant_and_only_then() {
    use distsim::protocols::pingpong::PingPong;
    let text = |mutants: &str| {
        format!(
            r#"{{"name": "pp", "protocol": "pingpong", "seed": 5, "nodes": 3, "max_time_ms": 200,
                "mutants": [{mutants}]}}"#
        )
    };
    let opts = RunOptions::default();
    let (s, src) = distsim::scenario::parse(text("").as_bytes(), "pp.json").unwrap();
    let clean = run_protocol::<PingPong>(&s, Some(&src), &opts)
        .unwrap()
        .report;
    assert!(clean.violation.is_none());
    assert!(clean.notes["ponged"] > 10);
    let planted = text(r#""pingpong.pong_wrong_seq""#);
    let (s, src) = distsim::scenario::parse(planted.as_bytes(), "pp.json").unwrap();
    let caught = run_protocol::<PingPong>(&s, Some(&src), &opts)
        .unwrap()
        .report;
    let v = caught.violation.expect("caught");
    assert_eq!(v.checker, "pong_matches_ping");
    assert!(v.message.contains("never sent"), "{}", v.message);
}

#[test]
fn an_adversary_forges_and_equivocates_with_memory_and_destination() {
    let got = |lines: &[Value], node: u64| -> Vec<u64> {
        notes(lines, node, "Got")
            .map(|l| l["note"]["Got"]["value"].as_u64().unwrap())
            .collect()
    };
    // Forge from 25 ms (after ticks 1 and 2): the adversary's count of messages seen keeps growing
    // (two sends per tick), and every receiver gets the forged value.
    let (_, lines) = probe(
        r#", "faults": [{"at_ms": 25, "byzantine": {"node": 0, "mode": "forge"}},
                        {"at_ms": 55, "byzantine": {"node": 0, "mode": "honest"}}]"#,
    );
    assert_eq!(got(&lines, 1), [1, 2, 1001, 1003, 1005, 6, 7, 8, 9]);
    assert_eq!(got(&lines, 2), [1, 2, 1002, 1004, 1006, 6, 7, 8, 9]);
    // Equivocation: each receiver hears its own version of the same tick.
    let (_, lines) =
        probe(r#", "faults": [{"at_ms": 25, "byzantine": {"node": 0, "mode": "equivocate"}}]"#);
    assert_eq!(got(&lines, 1)[2..4], [103, 104]);
    assert_eq!(got(&lines, 2)[2..4], [203, 204]);
}

#[test]
fn replay_resends_old_messages_and_delay_holds_them_until_honest() {
    let got = |lines: &[Value], node: u64| -> Vec<(u64, u64)> {
        notes(lines, node, "Got")
            .map(|l| (ms(l), l["note"]["Got"]["value"].as_u64().unwrap()))
            .collect()
    };
    let tampered = |lines: &[Value], how: &str| {
        lines
            .iter()
            .filter(|l| l["kind"] == "send" && l["tampered"] == how)
            .count()
    };
    // Replay from 25 to 55 ms: ticks 3, 4 and 5 go out (six sends), and after each but the first
    // one earlier message of the node goes out again: five replays, each a tick already sent.
    let (out, lines) = probe(
        r#", "faults": [{"at_ms": 25, "byzantine": {"node": 0, "mode": "replay"}},
                        {"at_ms": 55, "byzantine": {"node": 0, "mode": "honest"}}]"#,
    );
    let heard: Vec<(u64, u64)> = [1, 2].iter().flat_map(|n| got(&lines, *n)).collect();
    assert_eq!(heard.len(), 18 + 5, "{heard:?}");
    for (at_ms, value) in &heard {
        assert!(value * 10 + 5 <= *at_ms, "tick {value} heard at {at_ms} ms");
    }
    assert_eq!(tampered(&lines, "replay"), 5);
    assert_eq!(out.report.counts.messages_tampered, 5);
    let honest_lines = probe("").1;
    assert!(honest_lines.iter().all(|l| l.get("tampered").is_none()));
    // Delay from 25 to 55 ms: ticks 3, 4 and 5 are held, then let go in order at 55 ms.
    let (out, lines) = probe(
        r#", "faults": [{"at_ms": 25, "byzantine": {"node": 0, "mode": "delay"}},
                        {"at_ms": 55, "byzantine": {"node": 0, "mode": "honest"}}]"#,
    );
    for node in [1, 2] {
        let heard = got(&lines, node);
        let values: Vec<u64> = heard.iter().map(|(_, v)| *v).collect();
        assert_eq!(values, [1, 2, 3, 4, 5, 6, 7, 8, 9]);
        assert!(
            heard[2..5].iter().all(|(at_ms, _)| *at_ms == 60),
            "{heard:?}"
        );
    }
    assert_eq!(tampered(&lines, "delay"), 6);
    assert_eq!(out.report.counts.messages_tampered, 6);
    // Forgery is marked too: ticks 3 to 10 (the last sent at 100 ms), two sends each.
    let (out, lines) =
        probe(r#", "faults": [{"at_ms": 25, "byzantine": {"node": 0, "mode": "forge"}}]"#);
    assert_eq!(tampered(&lines, "forge"), 16);
    assert_eq!(out.report.counts.messages_tampered, 16);
}

/// A server whose role flips on every 1 ms tick: a run that keeps changing role.
struct Flapper {
    leading: bool,
}

impl Actor for Flapper {
    type Msg = ();
    type Timer = ();
    type Durable = ();
    type Note = Note;

    fn on_start(&mut self, ctx: &mut Ctx<'_, Self>) {
        ctx.set_timer((), Duration::from_millis(1));
    }

    fn on_msg(&mut self, _ctx: &mut Ctx<'_, Self>, _from: NodeId, _msg: ()) {}

    fn on_timer(&mut self, ctx: &mut Ctx<'_, Self>, _timer: ()) {
        self.leading = !self.leading;
        ctx.set_timer((), Duration::from_millis(1));
    }

    fn role(&self) -> Role {
        self.leading.then_some("leader")
    }
}

struct FlapProtocol;

impl Protocol for FlapProtocol {
    type Actor = Flapper;
    type Model = NoModel;
    const NAME: &'static str = "flap";
    const ABOUT: &'static str = "a server that changes role every millisecond";
    const MUTANTS: &'static [Mutant] = &[];
    const ROLES: &'static [&'static str] = &["leader"];
    fn setup(_: &Setup<'_>) -> Result<Self, String> {
        Ok(FlapProtocol)
    }
    fn new_actor(&self, _id: NodeId) -> Flapper {
        Flapper { leading: false }
    }
    fn checkers(&self) -> Vec<Box<dyn Checker<Flapper>>> {
        Vec::new()
    }
}

#[test]
fn a_long_run_keeps_the_first_timeline_entries_and_counts_the_rest() {
    use distsim::sim::world::TIMELINE_ENTRIES_MAX;
    let text =
        r#"{"name": "flap", "protocol": "flap", "seed": 1, "nodes": 1, "max_time_ms": 3000}"#;
    let (scenario, source) = distsim::scenario::parse(text.as_bytes(), "flap.json").unwrap();
    let options = RunOptions {
        seed: None,
        trace: TraceOutput::Memory,
    };
    let out = run_protocol::<FlapProtocol>(&scenario, Some(&source), &options).unwrap();
    let role_lines = out
        .trace_lines
        .as_ref()
        .unwrap()
        .iter()
        .filter(|l| l.contains(r#""kind":"role""#))
        .count();
    let report = &out.report;
    assert!(role_lines > 2 * TIMELINE_ENTRIES_MAX, "{role_lines}");
    assert_eq!(report.timeline.len(), TIMELINE_ENTRIES_MAX);
    assert_eq!(
        report.timeline.len() as u64 + report.timeline_omitted,
        role_lines as u64,
        "every role change is kept or counted"
    );
    assert_eq!(
        report.timeline[0].what, "node 0 is leader",
        "the first ones are kept"
    );
    let text = report.render_text(5);
    assert!(
        text.contains(&format!("... {} more", role_lines - 5)),
        "{text}"
    );
    let json = serde_json::to_value(report).unwrap();
    assert_eq!(json["timeline_omitted"], report.timeline_omitted);
}
