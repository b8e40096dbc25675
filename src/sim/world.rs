//! The event loop: one run of one protocol under one scenario and seed.
//!
//! Events come off a `(time, seq)` queue one at a time; there is no concurrency inside a run. Each event
//! is a start, a message delivery, a timer, or a scheduled fault. The node that handles it writes
//! effects into a reused buffer; the world applies them in order (disk writes are already done, then
//! sends, timers, notes and history), then asks the node's role, then lets every checker see the event.
//! The first safety violation stops the run. The run also stops at `max_time_ms`, after `max_events`,
//! or when nothing is left to happen: every stop is an outcome, never a hang.

use crate::actor::{Actor, Cluster, Ctx, Effect, NodeId, NoteLabel, Role};
use crate::check::history::{History, HistoryEvent};
use crate::check::linearizability::LinearizabilityChecker;
use crate::check::{Checker, Observation, RoleChange, RunEnd, Verdict};
use crate::net::{DropReason, Fate, Network};
use crate::protocols::Protocol;
use crate::scenario::{ByzantineMode, FaultSpec, Scenario, Target};
use crate::sim::clock::LocalClock;
use crate::sim::memory;
use crate::sim::queue::EventQueue;
use crate::sim::rng::{self, Rng};
use crate::sim::time::{NS_PER_MS, Time};
use crate::trace::{Counts, Line, TraceWriter};
use serde::Serialize;
use std::collections::BTreeMap;

/// Why a run stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EndReason {
    /// Virtual time reached `max_time_ms`.
    TimeLimit,
    /// `max_events` events were handled.
    EventLimit,
    /// Nothing was left to happen.
    Quiescent,
    /// A safety checker found a violation.
    Violation,
    /// What the run records (history, role changes, timeline) reached the scenario's
    /// `max_memory_mb` (see [`crate::sim::memory`]).
    MemoryLimit,
    /// The trace writer asked to stop: writing failed, or the run differs from the trace it is
    /// compared with (a replay stops at the first difference).
    TraceStopped,
}

impl EndReason {
    /// The snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            EndReason::TimeLimit => "time_limit",
            EndReason::EventLimit => "event_limit",
            EndReason::Quiescent => "quiescent",
            EndReason::Violation => "violation",
            EndReason::MemoryLimit => "memory_limit",
            EndReason::TraceStopped => "trace_stopped",
        }
    }
}

/// A safety violation, where and when it was found.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Violation {
    /// The checker that found it.
    pub checker: String,
    /// The engine's event index.
    pub event_index: u64,
    /// True time, ns.
    pub time_ns: u64,
    /// The node whose event exposed it.
    pub node: Option<NodeId>,
    /// One line of explanation.
    pub message: String,
}

/// One line of a run's timeline: a fault, or a role change.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TimelineEntry {
    /// True time, ns.
    pub time_ns: u64,
    /// What happened, in words.
    pub what: String,
}

/// Everything a finished run leaves behind, before end-of-run checkers judge it.
pub struct RunState {
    /// Why it stopped.
    pub end_reason: EndReason,
    /// True time at the end.
    pub end_time: Time,
    /// The first safety violation.
    pub violation: Option<Violation>,
    /// Counts.
    pub counts: Counts,
    /// Faults and role changes in order.
    pub timeline: Vec<TimelineEntry>,
    /// Notes by label.
    pub notes: BTreeMap<&'static str, u64>,
    /// The clients' history.
    pub history: History,
    /// Every role change.
    pub roles: Vec<RoleChange>,
    /// When the last fault fired.
    pub last_fault: Option<Time>,
    /// Whether a fault was still in force at the end.
    pub faults_in_force: bool,
    /// The checkers, to ask for their end-of-run verdicts.
    pub checker_names: Vec<&'static str>,
    /// End-of-run verdicts of the protocol's checkers.
    pub verdicts: Vec<(&'static str, Verdict)>,
}

enum Event<A: Actor> {
    Start {
        node: NodeId,
    },
    Deliver {
        from: NodeId,
        to: NodeId,
        id: u64,
        msg: A::Msg,
    },
    Timer {
        node: NodeId,
        generation: u64,
        timer: A::Timer,
    },
    Fault {
        index: usize,
    },
}

enum Deferred<A: Actor> {
    Msg { from: NodeId, id: u64, msg: A::Msg },
    Timer { timer: A::Timer },
}

enum Input<A: Actor> {
    Start,
    Msg(NodeId, A::Msg),
    Timer(A::Timer),
}

struct Slot<A: Actor> {
    /// `None` while the node is down.
    actor: Option<A>,
    durable: A::Durable,
    rng: Rng,
    clock: LocalClock,
    /// Live timers: tag and generation. A fired event whose generation is not here was replaced or
    /// cancelled.
    timers: Timers<A::Timer>,
    paused: bool,
    /// Messages and timers that reached the node while it was paused, in arrival order.
    deferred: Vec<Deferred<A>>,
    role: Role,
    role_since: Time,
    byzantine: Option<ByzantineMode>,
}

/// One run in progress.
pub struct World<'s, P: Protocol> {
    scenario: &'s Scenario,
    protocol: P,
    cluster: Cluster,
    now: Time,
    max_time: Time,
    queue: EventQueue<Event<P::Actor>>,
    nodes: Vec<Slot<P::Actor>>,
    net: Network,
    net_rng: Rng,
    byzantine_rng: Rng,
    checkers: Vec<Box<dyn Checker<P::Actor>>>,
    effects: Vec<Effect<P::Actor>>,
    notes: Vec<<P::Actor as Actor>::Note>,
    note_counts: LabelCounts,
    timer_generation: u64,
    msg_id_next: u64,
    event_index: u64,
    /// The estimated bytes of what the run has recorded so far (see [`crate::sim::memory`]).
    recorded_bytes: u64,
    tracer: Option<TraceWriter>,
    state: RunState,
}

type Trace<'a, A> = Line<'a, <A as Actor>::Msg, <A as Actor>::Timer, <A as Actor>::Note>;

impl<'s, P: Protocol> World<'s, P> {
    /// Sets up a run. `tracer` receives the header at once and every event after.
    pub fn new(
        scenario: &'s Scenario,
        seed: u64,
        protocol: P,
        tracer: Option<TraceWriter>,
    ) -> Self {
        let cluster = Cluster {
            servers: scenario.nodes,
            clients: scenario.clients,
        };
        let nodes = (0..cluster.node_count())
            .map(|id| Slot {
                actor: Some(protocol.new_actor(id)),
                durable: Default::default(),
                rng: rng::stream(seed, &format!("node/{id}")),
                clock: LocalClock::default(),
                timers: Timers::default(),
                paused: false,
                deferred: Vec::new(),
                role: None,
                role_since: Time::ZERO,
                byzantine: None,
            })
            .collect();
        let mut checkers = protocol.checkers();
        // Every service that promises linearizability gets the same end-of-run history check.
        if let Some(model) = protocol.history_model() {
            checkers.push(Box::new(LinearizabilityChecker::new(model.into())));
        }
        let checker_names = checkers.iter().map(|c| c.name()).collect();
        let mut world = World {
            scenario,
            cluster,
            now: Time::ZERO,
            max_time: Time::from_millis(scenario.max_time_ms),
            queue: EventQueue::new(),
            nodes,
            net: Network::new(cluster.node_count(), &scenario.network),
            net_rng: rng::stream(seed, "net"),
            byzantine_rng: rng::stream(seed, "byzantine"),
            checkers,
            effects: Vec::with_capacity(64),
            notes: Vec::with_capacity(16),
            note_counts: LabelCounts::default(),
            timer_generation: 0,
            msg_id_next: 0,
            event_index: 0,
            recorded_bytes: 0,
            tracer,
            protocol,
            state: RunState {
                end_reason: EndReason::Quiescent,
                end_time: Time::ZERO,
                violation: None,
                counts: Counts::default(),
                timeline: Vec::new(),
                notes: BTreeMap::new(),
                history: History::default(),
                roles: Vec::new(),
                last_fault: None,
                faults_in_force: false,
                checker_names,
                verdicts: Vec::new(),
            },
        };
        if let Some(t) = &mut world.tracer {
            t.line(&Trace::<P::Actor>::Header {
                format: crate::trace::TRACE_FORMAT,
                distsim: env!("CARGO_PKG_VERSION"),
                seed,
                scenario,
            });
        }
        for node in world.cluster.server_ids().chain(world.cluster.client_ids()) {
            world.queue.push(Time::ZERO, Event::Start { node });
        }
        for (index, f) in scenario.faults.iter().enumerate() {
            world
                .queue
                .push(Time::from_millis(f.at_ms), Event::Fault { index });
        }
        world
    }

    /// Runs to the end and returns what happened, with the tracer (for the caller to close).
    pub fn run(mut self) -> (RunState, Option<TraceWriter>, P) {
        let max_events = self.scenario.max_events;
        let memory_bytes_max = self.scenario.memory_bytes_max();
        self.state.end_reason = loop {
            let Some(t) = self.queue.peek_time() else {
                break EndReason::Quiescent;
            };
            if t > self.max_time {
                self.now = self.max_time;
                break EndReason::TimeLimit;
            }
            if self.event_index >= max_events {
                break EndReason::EventLimit;
            }
            if self.recorded_bytes >= memory_bytes_max {
                break EndReason::MemoryLimit;
            }
            let Some((t, event)) = self.queue.pop() else {
                break EndReason::Quiescent;
            };
            debug_assert!(t >= self.now, "time never goes back");
            self.now = t;
            // Bookkeeping pops (a timer that was cancelled, or pushed back and re-armed) are not
            // events: nothing happens, so they get no index and do not count towards the bound.
            if self.handle(event) {
                self.event_index += 1;
            }
            if self.state.violation.is_some() {
                break EndReason::Violation;
            }
            if self.tracer.as_ref().is_some_and(TraceWriter::wants_stop) {
                break EndReason::TraceStopped;
            }
        };
        self.state.counts.events = self.event_index;
        self.state.notes = self.note_counts.to_map();
        self.state.end_time = self.now;
        self.state.faults_in_force = self.net.any_blocked()
            || self
                .nodes
                .iter()
                .any(|s| s.actor.is_none() || s.paused || s.byzantine.is_some());
        // End-of-run checkers judge even a run that stopped at a violation: a safety checker that saw
        // nothing wrong up to the stop passes, the history up to the stop can still be checked, and
        // liveness checkers see `ended_early` and decline.
        {
            let end = RunEnd {
                now: self.now,
                last_fault: self.state.last_fault,
                faults_in_force: self.state.faults_in_force,
                history: &self.state.history,
                roles: &self.state.roles,
                cluster: self.cluster,
                ended_early: self.state.violation.is_some(),
            };
            self.state.verdicts = self
                .checkers
                .iter_mut()
                .map(|c| (c.name(), c.finish(&end)))
                .collect();
        }
        (self.state, self.tracer, self.protocol)
    }

    /// Handles one event taken off the queue; false if it turned out to be bookkeeping only.
    fn handle(&mut self, event: Event<P::Actor>) -> bool {
        match event {
            Event::Start { node } => {
                self.trace(|e, t| Line::Start { e, t, node });
                self.dispatch(node, Input::Start);
            }
            Event::Deliver { from, to, id, msg } => self.deliver(from, to, id, msg),
            Event::Timer {
                node,
                generation,
                timer,
            } => {
                let slot = &mut self.nodes[node as usize];
                match slot.timers.popped(&timer, generation, self.now) {
                    Popped::Stale => return false,
                    Popped::Rearm(at) => {
                        self.queue_timer(node, timer, at);
                        return false;
                    }
                    Popped::Due if slot.paused => {
                        slot.deferred.push(Deferred::Timer { timer });
                    }
                    Popped::Due => self.fire(node, timer),
                }
            }
            Event::Fault { index } => self.fault(index),
        }
        true
    }

    /// Queues the one event for `timer` at `at`, under a fresh generation.
    fn queue_timer(&mut self, node: NodeId, timer: <P::Actor as Actor>::Timer, at: Time) {
        self.timer_generation += 1;
        let generation = self.timer_generation;
        self.nodes[node as usize]
            .timers
            .queued(&timer, at, generation);
        self.queue.push(
            at,
            Event::Timer {
                node,
                generation,
                timer,
            },
        );
    }

    fn fire(&mut self, node: NodeId, timer: <P::Actor as Actor>::Timer) {
        self.nodes[node as usize].timers.fired(&timer);
        self.state.counts.timers_fired += 1;
        if let Some(tr) = &mut self.tracer {
            tr.line(&Trace::<P::Actor>::Timer {
                e: self.event_index,
                t: self.now.0,
                node,
                timer: &timer,
            });
        }
        self.dispatch(node, Input::Timer(timer));
    }

    fn hand_over(&mut self, from: NodeId, to: NodeId, id: u64, msg: <P::Actor as Actor>::Msg) {
        self.state.counts.messages_delivered += 1;
        self.trace(|e, t| Line::Deliver { e, t, id, from, to });
        self.dispatch(to, Input::Msg(from, msg));
    }

    /// Counts and traces a message that will never arrive.
    fn lose(&mut self, id: u64, from: NodeId, to: NodeId, reason: DropReason) {
        self.state.counts.messages_dropped += 1;
        self.trace(|e, t| Line::Drop {
            e,
            t,
            id,
            from,
            to,
            reason,
        });
    }

    /// Writes a line that borrows nothing (start, deliver, drop, duplicate), built only when tracing.
    fn trace(&mut self, make: impl FnOnce(u64, u64) -> Trace<'static, P::Actor>) {
        if let Some(tr) = &mut self.tracer {
            tr.line(&make(self.event_index, self.now.0));
        }
    }

    fn deliver(&mut self, from: NodeId, to: NodeId, id: u64, msg: <P::Actor as Actor>::Msg) {
        self.net.arrived();
        let reason = if self.net.is_blocked(from, to) {
            Some(DropReason::Partition)
        } else if self.nodes[to as usize].actor.is_none() {
            Some(DropReason::Down)
        } else {
            None
        };
        if let Some(reason) = reason {
            self.lose(id, from, to, reason);
            return;
        }
        let slot = &mut self.nodes[to as usize];
        if slot.paused {
            // It reached the node; the node sees it when it resumes.
            slot.deferred.push(Deferred::Msg { from, id, msg });
            return;
        }
        self.hand_over(from, to, id, msg);
    }

    fn dispatch(&mut self, node: NodeId, input: Input<P::Actor>) {
        let cluster = self.cluster;
        let now = self.now;
        let mut effects = std::mem::take(&mut self.effects);
        {
            let Slot {
                actor,
                durable,
                rng,
                clock,
                ..
            } = &mut self.nodes[node as usize];
            let Some(actor) = actor.as_mut() else {
                self.effects = effects;
                return;
            };
            let mut ctx = Ctx::new(node, clock.local(now), cluster, rng, durable, &mut effects);
            match input {
                Input::Start => actor.on_start(&mut ctx),
                Input::Msg(from, msg) => actor.on_msg(&mut ctx, from, msg),
                Input::Timer(timer) => actor.on_timer(&mut ctx, timer),
            }
        }
        for effect in effects.drain(..) {
            self.apply(node, effect);
        }
        self.effects = effects;

        let role = self.nodes[node as usize]
            .actor
            .as_ref()
            .and_then(|a| a.role());
        self.set_role(node, role);

        if self.checkers.is_empty() {
            self.notes.clear();
            return;
        }
        let slot = &self.nodes[node as usize];
        if let Some(actor) = slot.actor.as_ref() {
            let obs = Observation {
                event_index: self.event_index,
                now,
                node,
                state: actor,
                durable: &slot.durable,
                notes: &self.notes,
                cluster,
            };
            for checker in &mut self.checkers {
                if let Err(message) = checker.observe(&obs) {
                    let v = Violation {
                        checker: checker.name().to_string(),
                        event_index: self.event_index,
                        time_ns: now.0,
                        node: Some(node),
                        message,
                    };
                    if let Some(tr) = &mut self.tracer {
                        tr.line(&Trace::<P::Actor>::Violation {
                            e: v.event_index,
                            t: v.time_ns,
                            checker: &v.checker,
                            node: v.node,
                            message: &v.message,
                        });
                    }
                    self.state.violation = Some(v);
                    break;
                }
            }
        }
        self.notes.clear();
    }

    fn apply(&mut self, node: NodeId, effect: Effect<P::Actor>) {
        match effect {
            Effect::Send { to, msg } => self.send(node, to, msg),
            Effect::SetTimer { timer, after } => {
                let slot = &mut self.nodes[node as usize];
                let at = self.now + slot.clock.true_span(after);
                if slot.timers.set(&timer, at) {
                    self.queue_timer(node, timer, at);
                }
            }
            Effect::CancelTimer { timer } => {
                self.nodes[node as usize].timers.cancel(&timer);
            }
            Effect::Note(note) => {
                self.state.counts.notes += 1;
                self.note_counts.add(note.label());
                if let Some(tr) = &mut self.tracer {
                    tr.line(&Trace::<P::Actor>::Note {
                        e: self.event_index,
                        t: self.now.0,
                        node,
                        note: &note,
                    });
                }
                self.notes.push(note);
            }
            Effect::Record(r) => {
                let event = HistoryEvent {
                    time_ns: self.now.0,
                    process: r.process,
                    kind: r.kind,
                    f: r.f,
                    key: r.key,
                    value: r.value,
                };
                self.state.counts.history_events += 1;
                if let Some(tr) = &mut self.tracer {
                    tr.line(&Trace::<P::Actor>::History {
                        e: self.event_index,
                        node,
                        event: &event,
                    });
                }
                self.recorded_bytes += memory::history_event_bytes(&event);
                self.state.history.events.push(event);
            }
        }
    }

    fn send(&mut self, from: NodeId, to: NodeId, msg: <P::Actor as Actor>::Msg) {
        if to >= self.cluster.node_count() {
            self.state.violation = Some(Violation {
                checker: "engine".into(),
                event_index: self.event_index,
                time_ns: self.now.0,
                node: Some(from),
                message: format!("node {from} sent a message to node {to}, which does not exist"),
            });
            return;
        }
        let id = self.msg_id_next;
        self.msg_id_next += 1;
        self.state.counts.messages_sent += 1;
        let msg = match self.nodes[from as usize].byzantine {
            Some(ByzantineMode::Forge) => {
                <P::Actor as Actor>::forge(&msg, &mut self.byzantine_rng).unwrap_or(msg)
            }
            _ => msg,
        };
        if let Some(tr) = &mut self.tracer {
            tr.line(&Trace::<P::Actor>::Send {
                e: self.event_index,
                t: self.now.0,
                id,
                from,
                to,
                msg: &msg,
            });
        }
        let fate = if self.nodes[from as usize].byzantine == Some(ByzantineMode::Silent) {
            Fate::Dropped(DropReason::Silenced)
        } else {
            self.net.send(from, to, &mut self.net_rng)
        };
        match fate {
            Fate::Dropped(reason) => self.lose(id, from, to, reason),
            Fate::Deliver { delay, duplicate } => {
                if let Some(dup_delay) = duplicate {
                    self.state.counts.messages_duplicated += 1;
                    self.trace(|e, t| Line::Duplicate { e, t, id });
                    self.queue.push(
                        self.now + dup_delay,
                        Event::Deliver {
                            from,
                            to,
                            id,
                            msg: msg.clone(),
                        },
                    );
                }
                self.queue
                    .push(self.now + delay, Event::Deliver { from, to, id, msg });
            }
        }
    }

    fn set_role(&mut self, node: NodeId, role: Role) {
        let slot = &mut self.nodes[node as usize];
        // Roles are static strings: the pointers nearly always settle it without comparing bytes.
        let same = match (slot.role, role) {
            (Some(a), Some(b)) => std::ptr::eq(a, b) || a == b,
            (a, b) => a.is_none() && b.is_none(),
        };
        if same {
            return;
        }
        slot.role = role;
        slot.role_since = self.now;
        self.recorded_bytes += memory::ROLE_CHANGE_BYTES;
        self.state.roles.push(RoleChange {
            time: self.now,
            node,
            role,
        });
        if self.cluster.is_server(node) {
            let what = match (role, slot.actor.is_some()) {
                (Some(r), _) => format!("node {node} is {r}"),
                (None, true) => format!("node {node} has no role"),
                (None, false) => format!("node {node} is down"),
            };
            self.recorded_bytes += memory::timeline_entry_bytes(&what);
            self.state.timeline.push(TimelineEntry {
                time_ns: self.now.0,
                what,
            });
        }
        if let Some(tr) = &mut self.tracer {
            tr.line(&Trace::<P::Actor>::Role {
                e: self.event_index,
                t: self.now.0,
                node,
                role,
            });
        }
    }

    /// The nodes a target names now. A role resolves to the node that took it most recently (ties:
    /// the lowest id), since an older holder may be a stale leader cut off from the rest.
    fn resolve(&self, target: &Target, want: impl Fn(&Slot<P::Actor>) -> bool) -> Vec<NodeId> {
        match target {
            Target::Node(n) => vec![*n],
            Target::All => self
                .cluster
                .server_ids()
                .filter(|n| want(&self.nodes[*n as usize]))
                .collect(),
            Target::Role(r) => {
                let mut best: Option<NodeId> = None;
                for n in self.cluster.server_ids() {
                    let s = &self.nodes[n as usize];
                    if s.role == Some(r.as_str())
                        && best.is_none_or(|b| s.role_since > self.nodes[b as usize].role_since)
                    {
                        best = Some(n);
                    }
                }
                best.into_iter().collect()
            }
        }
    }

    fn fault(&mut self, index: usize) {
        let spec: &FaultSpec = &self.scenario.faults[index];
        // The fault goes on the timeline before the role changes it causes.
        let timeline_at = self.state.timeline.len();
        let (nodes, effect) = self.apply_fault(spec);
        self.state.counts.faults += 1;
        self.state.last_fault = Some(self.now);
        self.state.timeline.insert(
            timeline_at,
            TimelineEntry {
                time_ns: self.now.0,
                what: effect.clone(),
            },
        );
        if let Some(tr) = &mut self.tracer {
            tr.line(&Trace::<P::Actor>::Fault {
                e: self.event_index,
                t: self.now.0,
                fault: spec,
                nodes: &nodes,
                effect: &effect,
            });
        }
    }

    fn apply_fault(&mut self, f: &FaultSpec) -> (Vec<NodeId>, String) {
        let list = |v: &[NodeId]| {
            v.iter()
                .map(|n| n.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        };
        if let Some(groups) = &f.partition {
            self.net.partition(groups);
            let text = groups
                .iter()
                .map(|g| format!("{{{}}}", list(g)))
                .collect::<Vec<_>>()
                .join(" | ");
            return (groups.concat(), format!("partition {text}"));
        }
        if let Some(c) = &f.cut {
            self.net.cut(&c.from, &c.to);
            return (
                c.from.clone(),
                format!("cut {{{}}} -> {{{}}}", list(&c.from), list(&c.to)),
            );
        }
        if f.heal.is_some() {
            self.net.heal();
            return (Vec::new(), "heal all partitions".into());
        }
        if let Some(t) = &f.isolate {
            let nodes = self.resolve(t, |_| true);
            for &n in &nodes {
                self.net.isolate(n);
            }
            return self.described(nodes, "isolate", t);
        }
        if let Some(t) = &f.crash {
            let nodes = self.resolve(t, |s| s.actor.is_some());
            for &n in &nodes {
                let slot = &mut self.nodes[n as usize];
                slot.actor = None;
                slot.timers.clear();
                slot.paused = false;
                slot.deferred.clear(); // what arrived during a pause dies with the node
                self.set_role(n, None);
            }
            return self.described(nodes, "crash", t);
        }
        if let Some(t) = &f.restart {
            let nodes: Vec<NodeId> = self
                .resolve(t, |s| s.actor.is_none())
                .into_iter()
                .filter(|n| self.nodes[*n as usize].actor.is_none())
                .collect();
            for &n in &nodes {
                self.nodes[n as usize].actor = Some(self.protocol.new_actor(n));
                self.trace(|e, t| Line::Start { e, t, node: n });
                self.dispatch(n, Input::Start);
            }
            return self.described(nodes, "restart", t);
        }
        if let Some(t) = &f.pause {
            let nodes = self.resolve(t, |s| s.actor.is_some() && !s.paused);
            for &n in &nodes {
                self.nodes[n as usize].paused = true;
            }
            return self.described(nodes, "pause", t);
        }
        if let Some(t) = &f.resume {
            let nodes: Vec<NodeId> = self
                .resolve(t, |s| s.paused)
                .into_iter()
                .filter(|n| self.nodes[*n as usize].paused)
                .collect();
            for &n in &nodes {
                let slot = &mut self.nodes[n as usize];
                slot.paused = false;
                // Everything that arrived during the pause is handled now, in arrival order, as
                // a process does when it wakes from a stop-the-world pause.
                for d in std::mem::take(&mut slot.deferred) {
                    if self.state.violation.is_some() || self.nodes[n as usize].actor.is_none() {
                        break;
                    }
                    match d {
                        Deferred::Msg { from, id, msg } => self.hand_over(from, n, id, msg),
                        Deferred::Timer { timer } => {
                            if self.nodes[n as usize].timers.is_due(&timer, self.now) {
                                self.fire(n, timer);
                            }
                        }
                    }
                }
            }
            return self.described(nodes, "resume", t);
        }
        if let Some(c) = &f.clock {
            let nodes = self.resolve(&c.node, |_| true);
            for &n in &nodes {
                let clock = &mut self.nodes[n as usize].clock;
                clock.jump(self.now, c.offset_ms.saturating_mul(NS_PER_MS as i64));
                if let Some(d) = c.drift_ppm {
                    clock.set_drift(self.now, d);
                }
            }
            let (_, who) = self.described(nodes.clone(), "clock", &c.node);
            return (
                nodes,
                format!(
                    "{who}: clock jumps {} ms{}",
                    c.offset_ms,
                    c.drift_ppm
                        .map(|d| format!(", drift {d} ppm"))
                        .unwrap_or_default()
                ),
            );
        }
        if let Some(l) = &f.link {
            let all: Vec<NodeId> = (0..self.cluster.node_count()).collect();
            let from = l.from.clone().unwrap_or_else(|| all.clone());
            let to = l.to.clone().unwrap_or(all);
            self.net.change_links(&from, &to, |p| {
                if let Some(v) = l.delay_ms_min {
                    p.delay_ns_min = v * NS_PER_MS;
                }
                if let Some(v) = l.delay_ms_max {
                    p.delay_ns_max = v * NS_PER_MS;
                    p.tail_delay_ns_max = p.tail_delay_ns_max.max(p.delay_ns_max);
                }
                p.delay_ns_min = p.delay_ns_min.min(p.delay_ns_max);
                if let Some(v) = l.loss_ppm {
                    p.loss_ppm = v;
                }
                if let Some(v) = l.duplicate_ppm {
                    p.duplicate_ppm = v;
                }
            });
            return (
                from.clone(),
                format!("links {{{}}} -> {{{}}} changed", list(&from), list(&to)),
            );
        }
        if let Some(b) = &f.byzantine {
            let nodes = self.resolve(&b.node, |_| true);
            for &n in &nodes {
                self.nodes[n as usize].byzantine = match b.mode {
                    ByzantineMode::Honest => None,
                    mode => Some(mode),
                };
            }
            return self.described(nodes, "byzantine", &b.node);
        }
        // Validation guarantees one action per fault.
        (Vec::new(), "no action".into())
    }

    fn described(&self, nodes: Vec<NodeId>, verb: &str, target: &Target) -> (Vec<NodeId>, String) {
        let text = match (&nodes[..], target) {
            ([], _) => format!("{verb} {target}: nobody to {verb}"),
            ([n], Target::Role(r)) => format!("{verb} node {n} (the {r})"),
            (ns, _) => format!(
                "{verb} node{} {}",
                if ns.len() > 1 { "s" } else { "" },
                ns.iter()
                    .map(|n| n.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        };
        (nodes, text)
    }
}

/// Notes counted by label. Labels are static strings from a handful per protocol: a short vector
/// matched by pointer first is cheaper on every note than a map that compares the bytes.
#[derive(Default)]
struct LabelCounts {
    counts: Vec<(&'static str, u64)>,
}

impl LabelCounts {
    fn add(&mut self, label: &'static str) {
        match self
            .counts
            .iter_mut()
            .find(|(l, _)| std::ptr::eq(*l, label) || *l == label)
        {
            Some((_, n)) => *n += 1,
            None => self.counts.push((label, 1)),
        }
    }

    fn to_map(&self) -> BTreeMap<&'static str, u64> {
        let mut map = BTreeMap::new();
        for (label, n) in &self.counts {
            *map.entry(*label).or_insert(0) += n;
        }
        map
    }
}

/// What a popped timer event turned out to be.
enum Popped {
    /// Not the node's pending event for that tag (replaced by an earlier deadline, or lost in a
    /// crash), or the timer was cancelled.
    Stale,
    /// The timer was set again, to a later deadline, after this event was queued: queue it again.
    Rearm(Time),
    /// The timer is due now.
    Due,
}

/// One timer tag of one node: the deadline the node wants, and the one event in the queue for it.
struct TimerEntry<T> {
    tag: T,
    /// When the node wants it to fire; `None` once cancelled or fired.
    deadline: Option<Time>,
    /// The queued event for this tag: its time and generation.
    queued: Option<(Time, u64)>,
}

/// One node's timers.
///
/// Protocols re-set timers far more often than they fire them (a follower pushes its election
/// timeout back on every heartbeat). Rather than queueing an event per set and skipping the stale
/// ones, each tag keeps at most one queued event: setting a later deadline only records it, and when
/// the early event pops it is re-armed for the recorded deadline. Only a set to an *earlier* time
/// queues a new event. Tags are typed and few per node, so a small vector scanned linearly beats a
/// tree, and it keeps its capacity: steady-state timer traffic allocates nothing.
struct Timers<T> {
    entries: Vec<TimerEntry<T>>,
}

impl<T> Default for Timers<T> {
    fn default() -> Self {
        Timers {
            entries: Vec::new(),
        }
    }
}

impl<T: Ord + Clone> Timers<T> {
    fn find(&mut self, tag: &T) -> Option<usize> {
        self.entries.iter().position(|e| e.tag == *tag)
    }

    fn forget_if_idle(&mut self, i: usize) {
        let e = &self.entries[i];
        if e.deadline.is_none() && e.queued.is_none() {
            self.entries.swap_remove(i);
        }
    }

    /// Sets `tag` to fire at `at`. True if an event must be queued (then call [`Timers::queued`]).
    fn set(&mut self, tag: &T, at: Time) -> bool {
        let i = match self.find(tag) {
            Some(i) => i,
            None => {
                self.entries.push(TimerEntry {
                    tag: tag.clone(),
                    deadline: None,
                    queued: None,
                });
                self.entries.len() - 1
            }
        };
        let e = &mut self.entries[i];
        e.deadline = Some(at);
        !matches!(e.queued, Some((queued_at, _)) if queued_at <= at)
    }

    /// Records the event queued for `tag`.
    fn queued(&mut self, tag: &T, at: Time, generation: u64) {
        if let Some(i) = self.find(tag) {
            self.entries[i].queued = Some((at, generation));
        }
    }

    fn cancel(&mut self, tag: &T) {
        if let Some(i) = self.find(tag) {
            self.entries[i].deadline = None;
            self.forget_if_idle(i);
        }
    }

    /// Classifies a popped event for `tag`.
    fn popped(&mut self, tag: &T, generation: u64, now: Time) -> Popped {
        let Some(i) = self.find(tag) else {
            return Popped::Stale;
        };
        let e = &mut self.entries[i];
        if e.queued.map(|(_, g)| g) != Some(generation) {
            return Popped::Stale;
        }
        e.queued = None;
        match e.deadline {
            None => {
                self.forget_if_idle(i);
                Popped::Stale
            }
            Some(at) if at > now => Popped::Rearm(at),
            Some(_) => Popped::Due,
        }
    }

    /// Whether `tag` is due and waiting (a timer that came due while its node was paused).
    fn is_due(&mut self, tag: &T, now: Time) -> bool {
        self.find(tag).is_some_and(|i| {
            let e = &self.entries[i];
            e.queued.is_none() && e.deadline.is_some_and(|at| at <= now)
        })
    }

    fn fired(&mut self, tag: &T) {
        if let Some(i) = self.find(tag) {
            self.entries[i].deadline = None;
            self.forget_if_idle(i);
        }
    }

    fn clear(&mut self) {
        self.entries.clear();
    }
}
