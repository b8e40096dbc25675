//! Logical clocks as an engine feature (`"clocks": true`): every trace line of a node carries its
//! Lamport time and vector clock; the lines obey the clock rules (checked here from the trace alone);
//! `clocks_consistent` passes correct runs, exactly on small runs and sampled on long ones, and
//! catches each planted bug in the clock rules; runs without clocks are unchanged; replay reproduces
//! the clocks.

use distsim::contract::Verdict;
use distsim::protocols::crdt::CrdtProtocol;
use distsim::run::report::{Outcome, RunReport};
use distsim::run::{RunOptions, replay::replay, run};
use distsim::scenario::{Scenario, ScenarioBuilder, load, parse};
use distsim::sim::clocks::ClockBug;
use distsim::testing::Harness;
use distsim::trace::TraceOutput;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;

fn gossip() -> Scenario {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/clocks_gossip.json");
    load(&path).expect("the shipped scenario loads").0
}

fn run_with(s: &Scenario, trace: TraceOutput) -> (RunReport, Vec<String>) {
    let out = run(s, None, &RunOptions { seed: None, trace }).expect("runs");
    (out.report, out.trace_lines.unwrap_or_default())
}

fn clocks_verdict(r: &RunReport) -> &Verdict {
    &r.checkers
        .iter()
        .find(|c| c.name == "clocks_consistent")
        .expect("clocks_consistent is among the run's checkers")
        .verdict
}

fn passed_detail(r: &RunReport) -> String {
    assert_eq!(r.outcome, Outcome::Pass, "{}", r.render_text(50));
    match clocks_verdict(r) {
        Verdict::PassNoted(d) => d.clone(),
        other => panic!("clocks_consistent did not pass: {other:?}"),
    }
}

/// Every event line of the trace, parsed.
fn events(lines: &[String]) -> Vec<Value> {
    lines[1..lines.len() - 1]
        .iter()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect()
}

fn vc(line: &Value) -> Vec<u64> {
    line["vc"]
        .as_array()
        .unwrap_or_else(|| panic!("no vc on {line}"))
        .iter()
        .map(|x| x.as_u64().expect("a count"))
        .collect()
}

fn lc(line: &Value) -> u64 {
    line["lc"]
        .as_u64()
        .unwrap_or_else(|| panic!("no lc on {line}"))
}

/// Checks the clock rules from the trace alone, independently of the engine's clock code: each
/// start, timer, send and delivery moves its node's own entry and Lamport time on by exactly one
/// (a delivery after merging), a delivery's clocks dominate its send's, and nothing else moves.
/// Returns how many events it checked.
fn check_rules_from_trace(lines: &[String], width: usize) -> usize {
    let mut now: Vec<(u64, Vec<u64>)> = vec![(0, vec![0; width]); width];
    let mut sent: BTreeMap<u64, (u64, Vec<u64>)> = BTreeMap::new();
    let mut checked = 0;
    for line in events(lines) {
        let kind = line["kind"].as_str().expect("a kind");
        let node = match kind {
            "start" | "timer" | "note" | "role" | "history" => line["node"].as_u64(),
            "send" => line["from"].as_u64(),
            "deliver" => line["to"].as_u64(),
            _ => {
                assert!(line.get("vc").is_none(), "{line}");
                continue;
            }
        }
        .expect("a node") as usize;
        let (l, v) = (lc(&line), vc(&line));
        assert_eq!(v.len(), width, "one entry per node: {line}");
        let (l0, v0) = &now[node];
        match kind {
            "start" | "timer" | "send" => {
                let mut want = v0.clone();
                want[node] += 1;
                assert_eq!((l, &v), (l0 + 1, &want), "a local event ticks once: {line}");
                checked += 1;
            }
            "deliver" => {
                let (ls, vs) = &sent[&line["id"].as_u64().expect("an id")];
                let mut want: Vec<u64> = v0.iter().zip(vs).map(|(a, b)| *a.max(b)).collect();
                want[node] += 1;
                assert_eq!(v, want, "a delivery merges, then ticks: {line}");
                assert_eq!(l, l0.max(ls) + 1, "Lamport: max, then tick: {line}");
                checked += 1;
            }
            // Lines inside an event carry the node's clocks as they stand.
            _ => assert_eq!((l, &v), (*l0, v0), "{line}"),
        }
        if kind == "send" {
            sent.insert(line["id"].as_u64().expect("an id"), (l, v.clone()));
        }
        now[node] = (l, v);
    }
    checked
}

#[test]
fn the_gossip_scenario_checks_every_pair_and_its_trace_obeys_the_clock_rules() {
    let s = gossip();
    let (report, lines) = run_with(&s, TraceOutput::Memory);
    let detail = passed_detail(&report);
    assert!(
        detail.starts_with("all "),
        "a small run is checked exactly: {detail}"
    );
    assert!(
        report.counts.messages_dropped > 0
            && report.counts.messages_duplicated > 0
            && report.counts.faults == 4,
        "the scenario is meant to be lossy, duplicating and faulty"
    );
    let checked = check_rules_from_trace(&lines, 4);
    assert!(checked > 500, "only {checked} clock events");
    // Every pair of the events the check saw: n (n - 1) / 2.
    let n: u64 = detail
        .split(" of ")
        .nth(1)
        .and_then(|t| t.split(' ').next())
        .and_then(|t| t.parse().ok())
        .expect("the detail names the event count");
    assert_eq!(n, checked as u64);
    assert!(
        detail.contains(&format!("all {} pairs", n * (n - 1) / 2)),
        "{detail}"
    );
}

#[test]
fn clients_have_entries_too() {
    let s = ScenarioBuilder::new("raft_clocks", "raft")
        .seed(3)
        .nodes(3)
        .clients(2)
        .max_time_ms(1_500)
        .loss_ppm(20_000)
        .duplicate_ppm(20_000)
        .clocks(true)
        .build()
        .expect("valid");
    let (report, lines) = run_with(&s, TraceOutput::Memory);
    passed_detail(&report);
    assert!(report.operations.invoked > 0, "the clients did something");
    check_rules_from_trace(&lines, 5);
    // A client's deliveries show what it learnt from the servers.
    let client_knows_servers = events(&lines).iter().any(|l| {
        l["kind"] == "deliver" && l["to"].as_u64() >= Some(3) && vc(l)[..3].iter().any(|&x| x > 0)
    });
    assert!(client_knows_servers);
}

#[test]
fn each_planted_bug_in_the_clock_rules_is_caught_and_the_correct_rules_are_not() {
    let s = gossip();
    let run_planted = |bug: Option<ClockBug>| {
        let mut h = Harness::<CrdtProtocol>::new(&s).expect("valid");
        if let Some(bug) = bug {
            assert!(h.world().plant_clock_bug(bug));
        }
        while h.world().step() {}
        h.world().violation().cloned()
    };
    assert_eq!(run_planted(None), None);
    for (bug, says) in [
        (ClockBug::ForgetMerge, "happened before"),
        (ClockBug::ForgetReceiveIncrement, "happened before"),
        (ClockBug::MergeSums, "is concurrent with"),
        (ClockBug::LamportIgnoresMessage, "L(a) >= L(b)"),
    ] {
        let v = run_planted(Some(bug)).unwrap_or_else(|| panic!("{bug:?} was not caught"));
        assert_eq!(v.checker, "clocks_consistent", "{bug:?}: {v:?}");
        assert!(v.message.contains(says), "{bug:?}: {}", v.message);
    }
}

#[test]
fn a_long_run_is_sampled_within_its_budget_and_still_catches_a_bug() {
    let mut s = gossip();
    s.max_time_ms = 15_000;
    let (report, _) = run_with(&s, TraceOutput::Off);
    let detail = passed_detail(&report);
    assert!(detail.contains("sampled"), "{detail}");
    let pairs: u64 = detail.split(' ').next().unwrap().parse().unwrap();
    assert!(pairs <= distsim::check::clocks::PAIRS_MAX, "{detail}");
    assert!(pairs > distsim::check::clocks::PAIRS_PER_LEVEL, "{detail}");

    // A bug that only starts long after the exact phase (here at engine event 2,000, thousands of
    // clock events in) is still caught by the sampled pairs.
    let mut h = Harness::<CrdtProtocol>::new(&s).expect("valid");
    for _ in 0..2_000 {
        assert!(h.world().step());
    }
    h.world().plant_clock_bug(ClockBug::ForgetMerge);
    while h.world().step() {}
    let v = h.world().violation().expect("caught");
    assert_eq!(v.checker, "clocks_consistent");
    assert!(v.event_index >= 2_000, "{v:?}");
}

#[test]
fn without_clocks_the_trace_is_unchanged_and_has_no_clock_fields() {
    let mut on = gossip();
    on.clocks = false;
    let (plain, lines) = run_with(&on, TraceOutput::Memory);
    assert!(
        lines
            .iter()
            .all(|l| !l.contains("\"vc\"") && !l.contains("\"lc\""))
    );
    assert!(
        !lines[0].contains("\"clocks\":"),
        "the header leaves the field out"
    );
    assert!(plain.checkers.iter().all(|c| c.name != "clocks_consistent"));
    // Writing `"clocks": false` is the same as leaving it out.
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/clocks_gossip.json");
    let mut text: Value = serde_json::from_str(&std::fs::read_to_string(file).unwrap()).unwrap();
    text.as_object_mut().unwrap().remove("clocks");
    let (absent, _) = parse(text.to_string().as_bytes(), "absent.json").unwrap();
    let (report, _) = run_with(&absent, TraceOutput::Memory);
    assert_eq!(report.trace_sha256, plain.trace_sha256);
    assert!(report.fingerprint.is_some());
    assert_eq!(report.fingerprint, plain.fingerprint);
    // The protocol's own story does not depend on the clocks, but the clocks are part of the run.
    let (with, _) = run_with(&gossip(), TraceOutput::Digest);
    assert_eq!(with.counts, plain.counts);
    assert_ne!(with.fingerprint, plain.fingerprint);
}

#[test]
fn a_replay_reproduces_the_clocks() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("clocks.jsonl");
    let (report, _) = run_with(&gossip(), TraceOutput::File(path.clone()));
    assert_eq!(report.outcome, Outcome::Pass);
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains("\"vc\":["));
    let r = replay(&path).expect("replays");
    assert!(r.matches(), "{:?}", r.mismatch);
    assert_eq!(r.report.trace_sha256, report.trace_sha256);
}

#[test]
fn clocks_are_refused_past_their_node_bound_naming_the_field() {
    let err = ScenarioBuilder::new("wide", "crdt")
        .nodes(40)
        .clients(25)
        .clocks(true)
        .build()
        .unwrap_err();
    assert_eq!(err.field, "clocks", "{err}");
    assert!(err.message.contains("64"), "{err}");
}

#[test]
fn a_scenario_may_expect_clocks_consistent_only_with_clocks_on() {
    let with = ScenarioBuilder::new("expects", "crdt")
        .clocks(true)
        .expect_violation("clocks_consistent")
        .build()
        .unwrap();
    assert!(distsim::run::validate(&with, None).is_ok());
    let without = ScenarioBuilder::new("expects", "crdt")
        .expect_violation("clocks_consistent")
        .build()
        .unwrap();
    let err = distsim::run::validate(&without, None).unwrap_err();
    assert!(err.message.contains("no checker"), "{err}");
}

#[test]
fn clocks_change_nothing_else_under_crashes_restarts_and_byzantine_nodes() {
    // Small shipped scenarios with restarts, lost promises and Byzantine forgers: with clocks on,
    // the run is the same run (outcome, violation, counts) and its clocks are consistent.
    for name in [
        "generals_n7_m2",
        "lock_server_restart",
        "paxos_forget_promise",
        "pbft_too_many_faults",
    ] {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("scenarios/{name}.json"));
        let mut s = load(&path).expect("loads").0;
        assert!(!s.clocks);
        let (plain, _) = run_with(&s, TraceOutput::Off);
        s.clocks = true;
        let (with, _) = run_with(&s, TraceOutput::Off);
        assert_eq!(with.outcome, plain.outcome, "{name}");
        assert_eq!(with.counts, plain.counts, "{name}");
        assert_eq!(
            with.violation.as_ref().map(|v| &v.checker),
            plain.violation.as_ref().map(|v| &v.checker),
            "{name}"
        );
        assert!(
            matches!(clocks_verdict(&with), Verdict::PassNoted(d) if d.starts_with("all ")),
            "{name}: {:?}",
            clocks_verdict(&with)
        );
    }
}
