//! The harness: drive a real world step by step, the way etcd's raft tests drive a raft node.
//!
//! A [`Harness`] builds the same [`World`] a run uses (the same engine, network, checkers and
//! trace), but nothing happens until a command says so: deliver this message, drop that one, fire
//! this timer, crash that node, or let time run. Each command answers with the trace lines it caused,
//! in a compact form (`send #3 0->1 {...}`), so a golden script reads as a story of the protocol.
//!
//! A golden script file is a JSON scenario, a line `---`, then one command a line (`#` starts a
//! comment). [`run_script_file`] runs one and returns its transcript; `tests/golden.rs` snapshots
//! the transcripts of every file under `tests/golden/` with insta (rewrite them with
//! `INSTA_UPDATE=always cargo test --test golden`, then read the diff).
//!
//! Commands:
//!
//! | command | what happens |
//! |---|---|
//! | `run-until MS` | every event due at or before MS ms of virtual time, in order |
//! | `step [N]` | the next N events (default 1) |
//! | `deliver ID...` / `deliver all` | those messages arrive now (`all`: every message in flight now) |
//! | `drop ID...` / `drop all` | those messages are lost |
//! | `fire NODE TAG` | the node's timer TAG fires now (TAG as the trace writes it: `election`) |
//! | `crash N`, `restart N`, `pause N`, `resume N`, `isolate N`, `heal` | the fault, now |
//! | `partition 0,1 2,3,4` | a partition into the groups given |
//! | `fault {JSON}` | any fault action, as a scenario writes it (`{"clock": {...}}`) |
//! | `pending` | the messages in flight and the timers set |
//! | `roles` | every server's role |

use crate::contract::{Actor, NodeId, Protocol};
use crate::fault::{FaultAction, Target};
use crate::protocols::registry::{self, ProtocolVisitor};
use crate::run::prepare_with_cluster;
use crate::scenario::{Scenario, ScenarioError};
use crate::sim::world::{Pending, World};
use crate::trace::{TraceOutput, TraceWriter};
use serde_json::Value;
use std::fmt::Write as _;

/// A world driven by hand.
pub struct Harness<'s, P: Protocol> {
    world: World<'s, P>,
    /// Trace lines already shown.
    shown: usize,
}

impl<'s, P: Protocol> Harness<'s, P> {
    /// A world for `scenario` (its seed), tracing to memory, with nothing handled yet.
    pub fn new(scenario: &'s Scenario) -> Result<Self, ScenarioError> {
        let (protocol, cluster) = prepare_with_cluster::<P>(scenario, None)?;
        // Memory tracing cannot fail to open.
        let tracer = TraceWriter::open(&TraceOutput::Memory).ok().flatten();
        let world = World::new(scenario, scenario.seed, protocol, cluster, tracer);
        Ok(Harness { world, shown: 1 })
    }

    /// The world, to inspect or drive directly.
    pub fn world(&mut self) -> &mut World<'s, P> {
        &mut self.world
    }

    /// The trace lines written since the last call, in the compact form.
    pub fn take_transcript(&mut self) -> Vec<String> {
        let lines = self.world.trace_lines();
        let fresh = lines[self.shown.min(lines.len())..]
            .iter()
            .map(|l| compact(l))
            .collect();
        self.shown = lines.len();
        fresh
    }

    /// Runs one command; its answer, or why it could not run.
    pub fn command(&mut self, line: &str) -> Result<String, String> {
        let mut words = line.split_whitespace();
        let verb = words.next().unwrap_or_default();
        let args: Vec<&str> = words.collect();
        let node = |i: usize| -> Result<NodeId, String> {
            args.get(i)
                .ok_or("a node id is missing")?
                .parse::<NodeId>()
                .map_err(|e| format!("not a node id: {e}"))
        };
        let target = |i: usize| node(i).map(Target::Node);
        match verb {
            "run-until" => {
                let ms: u64 = args
                    .first()
                    .ok_or("run-until MS")?
                    .parse()
                    .map_err(|e| format!("not a time in ms: {e}"))?;
                let until = crate::contract::Time::from_millis(ms);
                while self.world.step_before(until) {}
            }
            "step" => {
                let n: u64 = match args.first() {
                    Some(a) => a.parse().map_err(|e| format!("not a count: {e}"))?,
                    None => 1,
                };
                for _ in 0..n {
                    if !self.world.step() {
                        break;
                    }
                }
            }
            "deliver" | "drop" => {
                for id in self.message_ids(&args)? {
                    let found = if verb == "deliver" {
                        self.world.deliver_now(id)
                    } else {
                        self.world.drop_message(id)
                    };
                    if !found {
                        return Err(format!("no message #{id} in flight"));
                    }
                }
            }
            "fire" => {
                let n = node(0)?;
                let tag = *args.get(1).ok_or("fire NODE TAG")?;
                let timer = self
                    .world
                    .timers(n)
                    .into_iter()
                    .map(|(t, _)| t.clone())
                    .find(|t| tag_name::<P::Actor>(t) == tag)
                    .ok_or_else(|| format!("node {n} has no timer {tag} set"))?;
                if !self.world.fire_timer(n, &timer) {
                    return Err(format!("node {n} is down or paused"));
                }
            }
            "crash" => self.world.inject(FaultAction::Crash(target(0)?)),
            "restart" => self.world.inject(FaultAction::Restart(target(0)?)),
            "pause" => self.world.inject(FaultAction::Pause(target(0)?)),
            "resume" => self.world.inject(FaultAction::Resume(target(0)?)),
            "isolate" => self.world.inject(FaultAction::Isolate(target(0)?)),
            "heal" => self.world.inject(FaultAction::Heal(true)),
            "partition" => {
                let groups = args
                    .iter()
                    .map(|g| {
                        g.split(',')
                            .map(|n| n.parse::<u32>().map_err(|e| format!("{n:?}: {e}")))
                            .collect::<Result<Vec<_>, _>>()
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                self.world.inject(FaultAction::Partition(groups));
            }
            "fault" => {
                let json = line.trim_start().trim_start_matches("fault").trim();
                let action: FaultAction =
                    serde_json::from_str(json).map_err(|e| format!("not a fault action: {e}"))?;
                self.world.inject(action);
            }
            "pending" => return Ok(self.pending_text()),
            "roles" => {
                let mut text = String::new();
                for n in self.world.cluster().server_ids() {
                    let _ = writeln!(text, "node {n}: {}", self.world.role(n).unwrap_or("-"));
                }
                return Ok(text);
            }
            other => return Err(format!("unknown command `{other}`")),
        }
        let mut text = String::new();
        for l in self.take_transcript() {
            text.push_str(&l);
            text.push('\n');
        }
        Ok(text)
    }

    fn message_ids(&self, args: &[&str]) -> Result<Vec<u64>, String> {
        if args == ["all"] {
            return Ok(self
                .world
                .pending()
                .into_iter()
                .filter_map(|p| match p {
                    Pending::Message { id, .. } => Some(id),
                    _ => None,
                })
                .collect());
        }
        if args.is_empty() {
            return Err("which messages? give ids or `all`".into());
        }
        args.iter()
            .map(|a| {
                a.trim_start_matches('#')
                    .parse::<u64>()
                    .map_err(|e| format!("not a message id {a:?}: {e}"))
            })
            .collect()
    }

    fn pending_text(&self) -> String {
        let mut text = String::new();
        for p in self.world.pending() {
            if let Pending::Message {
                id, from, to, msg, ..
            } = p
            {
                let body = serde_json::to_string(msg).unwrap_or_default();
                let _ = writeln!(text, "in flight #{id} {from}->{to} {body}");
            }
        }
        for n in 0..self.world.cluster().node_count() {
            for (timer, at) in self.world.timers(n) {
                let _ = writeln!(
                    text,
                    "timer node {n} {} at {}",
                    tag_name::<P::Actor>(timer),
                    at
                );
            }
        }
        text
    }

    /// Runs a whole script: each command echoed after `> `, then its answer.
    pub fn script(&mut self, script: &str) -> String {
        let mut out = String::new();
        for line in script.lines() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let _ = writeln!(out, "> {line}");
            match self.command(line) {
                Ok(text) => out.push_str(&text),
                Err(e) => {
                    let _ = writeln!(out, "error: {e}");
                }
            }
        }
        out
    }
}

/// A timer tag as the trace writes it: the string itself for a unit variant (`election`), else JSON.
fn tag_name<A: Actor>(timer: &A::Timer) -> String {
    match serde_json::to_value(timer) {
        Ok(Value::String(s)) => s,
        Ok(other) => other.to_string(),
        Err(_) => format!("{timer:?}"),
    }
}

/// A trace line as one short line of text.
fn compact(line: &str) -> String {
    let Ok(v) = serde_json::from_str::<Value>(line) else {
        return line.to_string();
    };
    let t = v["t"]
        .as_u64()
        .map(|ns| format!("{:>9.3}ms ", ns as f64 / 1e6));
    let t = t.unwrap_or_default();
    let s = |k: &str| v[k].to_string();
    match v["kind"].as_str().unwrap_or("") {
        "send" => format!(
            "{t}send #{} {}->{} {}",
            s("id"),
            s("from"),
            s("to"),
            v["msg"]
        ),
        "deliver" => format!("{t}deliver #{} {}->{}", s("id"), s("from"), s("to")),
        "drop" => format!(
            "{t}drop #{} {}->{} ({})",
            s("id"),
            s("from"),
            s("to"),
            v["reason"].as_str().unwrap_or("")
        ),
        "duplicate" => format!("{t}duplicate #{}", s("id")),
        "start" => format!("{t}start node {}", s("node")),
        "timer" => format!("{t}timer node {} {}", s("node"), v["timer"]),
        "note" => format!("{t}note node {} {}", s("node"), v["note"]),
        "role" => format!(
            "{t}role node {} {}",
            s("node"),
            v["role"].as_str().unwrap_or("-")
        ),
        "fault" => format!("{t}fault: {}", v["effect"].as_str().unwrap_or("")),
        "history" => format!("history node {} {}", s("node"), v["event"]),
        "violation" => format!(
            "{t}VIOLATION {}: {}",
            v["checker"].as_str().unwrap_or(""),
            v["message"].as_str().unwrap_or("")
        ),
        _ => line.to_string(),
    }
}

/// Runs a golden script file (a JSON scenario, `---`, commands) with the protocol its scenario
/// names, and returns the transcript.
pub fn run_script_file(text: &str, file: &str) -> Result<String, String> {
    let (head, script) = text
        .split_once("\n---\n")
        .ok_or("a golden script is a JSON scenario, a line `---`, then commands")?;
    let (scenario, _) = crate::scenario::parse(head.as_bytes(), file).map_err(|e| e.to_string())?;
    struct Run<'a>(&'a Scenario, &'a str);
    impl ProtocolVisitor for Run<'_> {
        type Output = Result<String, String>;
        fn visit<P: Protocol>(self) -> Self::Output {
            let mut harness = Harness::<P>::new(self.0).map_err(|e| e.to_string())?;
            Ok(harness.script(self.1))
        }
    }
    registry::with_protocol(&scenario.protocol, Run(&scenario, script))
        .unwrap_or_else(|| Err(format!("unknown protocol {:?}", scenario.protocol)))
}

/// A seed sweep from a test, for any protocol, a user's own included:
///
/// ```ignore
/// distsim::testing::sweep::<MyProtocol>(&scenario, 0..500).assert_ok();
/// ```
///
/// The seeds run in parallel ([`crate::sweep::sweep`]). Two environment variables change which:
/// `DISTSIM_SEED=N` runs seed N alone (to re-run a failure), `DISTSIM_SEEDS=A..B` runs that range
/// instead (to widen a sweep without editing the test).
pub fn sweep<P: Protocol>(scenario: &Scenario, seeds: std::ops::Range<u64>) -> SweepCheck<'_> {
    SweepCheck {
        scenario,
        seeds,
        runner: crate::run::Runner::of::<P>(),
        swarm: false,
    }
}

/// A sweep to run and judge; see [`sweep`].
#[derive(Debug)]
pub struct SweepCheck<'s> {
    scenario: &'s Scenario,
    seeds: std::ops::Range<u64>,
    runner: crate::run::Runner,
    swarm: bool,
}

impl SweepCheck<'_> {
    /// Each seed draws its own fault profile (swarm testing; the scenario's `"swarm"` sets the ranges).
    pub fn swarm(mut self) -> Self {
        self.swarm = true;
        self
    }

    /// The seeds to run: the ones given, unless `DISTSIM_SEED` or `DISTSIM_SEEDS` says otherwise.
    pub fn seeds(&self) -> Result<crate::sweep::SeedRange, String> {
        if let Ok(one) = std::env::var("DISTSIM_SEED") {
            let n: u64 = one
                .trim()
                .parse()
                .map_err(|e| format!("DISTSIM_SEED={one:?}: {e}"))?;
            return Ok(crate::sweep::SeedRange {
                start: n,
                end: n.saturating_add(1),
            });
        }
        if let Ok(range) = std::env::var("DISTSIM_SEEDS") {
            return range
                .parse()
                .map_err(|e| format!("DISTSIM_SEEDS={range:?}: {e}"));
        }
        Ok(crate::sweep::SeedRange {
            start: self.seeds.start,
            end: self.seeds.end,
        })
    }

    /// Runs the sweep and returns its report.
    pub fn run(&self) -> Result<crate::sweep::SweepReport, String> {
        let options = crate::sweep::SweepOptions {
            swarm: self.swarm,
            progress: crate::sweep::Progress::Off,
            runner: self.runner,
            ..crate::sweep::SweepOptions::default()
        };
        crate::sweep::sweep(self.scenario, self.seeds()?, &options).map_err(|e| e.to_string())
    }

    /// Runs the sweep and panics unless every seed met the scenario's expectation. The message names
    /// the violated property, the shortest failing seed, the command that re-runs it and the
    /// scenario shrunk to what still fails the same way.
    pub fn assert_ok(&self) {
        let report = self.run().unwrap_or_else(|e| panic!("distsim sweep: {e}"));
        if report.failed == 0 && report.undecided == 0 {
            return;
        }
        panic!("{}", self.explain(&report));
    }

    /// The failure message of [`SweepCheck::assert_ok`].
    fn explain(&self, report: &crate::sweep::SweepReport) -> String {
        let mut text = format!(
            "distsim: {} of {} seeds of scenario {:?} failed, {} undecided\n",
            report.failed, report.seeds_run, self.scenario.name, report.undecided
        );
        let Some(group) = report.triage.groups.first() else {
            let _ = writeln!(
                text,
                "  (no failure group: an undecided verdict; run the seeds with `distsim run` to see why)"
            );
            return text;
        };
        let seed = group.shortest_seed;
        let _ = writeln!(
            text,
            "  {}: {} seed(s), first {}, shortest {} ({} events)",
            group.signature, group.count, group.first_seed, seed, group.shortest_events
        );
        let scenario = crate::sweep::scenario_for(self.scenario, seed, self.swarm);
        let options = crate::run::RunOptions {
            seed: Some(seed),
            trace: TraceOutput::Off,
        };
        if let Ok(out) = self.runner.run_keeping(&scenario, None, &options, false)
            && let Some(v) = &out.report.violation
        {
            let _ = writeln!(text, "  violation: {}: {}", v.checker, v.message);
        }
        let _ = writeln!(text, "  re-run it: DISTSIM_SEED={seed} cargo test");
        let budget = crate::sweep::ShrinkOptions {
            steps_max: 200,
            ..crate::sweep::ShrinkOptions::default()
        };
        match crate::sweep::shrink::shrink_with(self.runner, &scenario, seed, &budget) {
            Ok(shrunk) => {
                let _ = writeln!(text, "  shrunk: {}", shrunk.summary());
                let json = serde_json::to_string_pretty(&shrunk.scenario).unwrap_or_default();
                let _ = writeln!(
                    text,
                    "  the shrunk scenario, which fails the same way:\n{json}"
                );
            }
            Err(e) => {
                let _ = writeln!(text, "  not shrunk: {e}");
            }
        }
        text
    }
}
