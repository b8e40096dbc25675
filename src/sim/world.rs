//! The event loop: one run of one protocol under one scenario and seed.
//!
//! Events come off a `(time, seq)` queue one at a time; there is no concurrency inside a run. Each event
//! is a start, a message delivery, a timer, or a scheduled fault. The node that handles it writes
//! effects into a reused buffer; the world applies them in order (disk writes are already done, then
//! sends, timers, notes and history), then asks the node's role, then lets every checker see the event.
//! The first safety violation stops the run. The run also stops at `max_time_ms`, after `max_events`,
//! or when nothing is left to happen: every stop is an outcome, never a hang.

use crate::check::assemble::checkers_for;
use crate::contract::Protocol;
use crate::contract::Rng;
use crate::contract::Time;
use crate::contract::{Actor, Adversary, Cluster, Ctx, Effect, NodeId, NoteLabel, Role, Tamper};
use crate::contract::{Checker, FinalNode, Observation, RoleChange, RunEnd, Verdict};
use crate::contract::{History, HistoryEvent};
use crate::fault::apply::{self as fault, FaultSurface, Want};
use crate::fault::{ByzantineMode, FaultAction, FaultSpec, HELD_MAX, REPLAY_MEMORY};
use crate::net::{DropReason, Fate, Network};
use crate::scenario::Scenario;
use crate::sim::clock::LocalClock;
use crate::sim::clocks::{self, ClockBug, Clocks, Stamp};
use crate::sim::memory;
use crate::sim::operations::OperationTally;
use crate::sim::queue::EventQueue;
use crate::sim::timers::{Popped, Timers};
use crate::trace::{Counts, Line, TraceWriter};
use serde::Serialize;
use std::collections::BTreeMap;
use std::collections::VecDeque;

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
    /// Whoever drove the world step by step stopped it.
    Stopped,
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
            EndReason::Stopped => "stopped",
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

/// The most timeline entries a run keeps: the first ones, which set the scene; the rest are counted
/// ([`RunState::timeline_omitted`]) and are all in the trace. Without a bound, a long run whose
/// servers keep changing role (a lossy network, an idle cluster re-electing) would grow its report
/// with its length.
pub const TIMELINE_ENTRIES_MAX: usize = 1_000;

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
    /// Timeline entries past [`TIMELINE_ENTRIES_MAX`], counted and not kept.
    pub timeline_omitted: u64,
    /// Notes by label.
    pub notes: BTreeMap<&'static str, u64>,
    /// The clients' history, when the run keeps it ([`RunState::history_kept`]).
    pub history: History,
    /// Whether `history` holds every event recorded: true unless [`World::keep_history`] said not to
    /// and no checker needs it.
    pub history_kept: bool,
    /// The clients' operations, counted as they were recorded (kept history or not).
    pub operations: OperationTally,
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
        stamp: Option<Box<Stamp>>,
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
    Msg {
        from: NodeId,
        id: u64,
        msg: A::Msg,
        stamp: Option<Box<Stamp>>,
    },
    Timer {
        timer: A::Timer,
    },
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
    /// The node's adversary, built the first time it turns Byzantine and kept (with its memory)
    /// for the rest of the run.
    adversary: Option<Box<dyn Adversary<A>>>,
    /// The adversary's own random stream.
    adversary_rng: Rng,
    /// What the node sent while Byzantine, newest last (at most [`REPLAY_MEMORY`]): what `replay`
    /// re-sends.
    sent: VecDeque<(NodeId, A::Msg)>,
    /// What the node holds back under `delay`, in order (at most [`HELD_MAX`]).
    held: Vec<(NodeId, A::Msg)>,
    /// The node's collusion group while Byzantine.
    collude: Option<String>,
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
    /// Every node's logical clocks, in a run with `"clocks": true`.
    clocks: Option<Clocks>,
    state: RunState,
    /// Why the run ended, once it has.
    ended: Option<EndReason>,
    /// Whether something happened out of turn (see [`World::deliver_now`]).
    driven_by_hand: bool,
}

/// One event waiting in a world's queue, as [`World::pending`] lists it.
#[derive(Debug)]
pub enum Pending<'a, A: Actor> {
    /// A node (re)starts.
    Start {
        /// The node.
        node: NodeId,
    },
    /// A message in flight.
    Message {
        /// Its id (the trace's `id`).
        id: u64,
        /// Sender.
        from: NodeId,
        /// Receiver.
        to: NodeId,
        /// The message.
        msg: &'a A::Msg,
        /// When it is due to arrive.
        at: Time,
    },
    /// A scheduled fault.
    Fault {
        /// Its index in the scenario's `faults`.
        index: usize,
        /// When it fires.
        at: Time,
    },
}

type Trace<'a, A> = Line<'a, <A as Actor>::Msg, <A as Actor>::Timer, <A as Actor>::Note>;

impl<'s, P: Protocol> World<'s, P> {
    /// Sets up a run of `protocol` on `cluster` (laid out from the scenario by
    /// `crate::run::cluster_of`). `tracer` receives the header at once and every event after.
    pub fn new(
        scenario: &'s Scenario,
        seed: u64,
        protocol: P,
        cluster: Cluster,
        tracer: Option<TraceWriter>,
    ) -> Self {
        let nodes = (0..cluster.node_count())
            .map(|id| Slot {
                actor: Some(protocol.new_actor(id)),
                durable: Default::default(),
                rng: Rng::stream(seed, &format!("node/{id}")),
                clock: LocalClock::default(),
                timers: Timers::default(),
                paused: false,
                deferred: Vec::new(),
                role: None,
                role_since: Time::ZERO,
                byzantine: None,
                adversary: None,
                adversary_rng: Rng::stream(seed, &format!("byzantine/{id}")),
                sent: VecDeque::new(),
                held: Vec::new(),
                collude: None,
            })
            .collect();
        let checkers = checkers_for(&protocol, scenario);
        let mut checker_names: Vec<_> = checkers.iter().flat_map(|c| c.properties()).collect();
        let clocks = scenario
            .clocks
            .then(|| Clocks::new(cluster.node_count(), seed));
        if clocks.is_some() {
            checker_names.push(crate::check::clocks::PROPERTY);
        }
        let mut world = World {
            scenario,
            cluster,
            now: Time::ZERO,
            max_time: Time::from_millis(scenario.max_time_ms),
            queue: EventQueue::new(),
            nodes,
            net: Network::new(cluster.node_count(), &scenario.network),
            net_rng: Rng::stream(seed, "net"),
            checkers,
            effects: Vec::with_capacity(64),
            notes: Vec::with_capacity(16),
            note_counts: LabelCounts::default(),
            timer_generation: 0,
            msg_id_next: 0,
            event_index: 0,
            recorded_bytes: 0,
            tracer,
            clocks,
            protocol,
            state: RunState {
                end_reason: EndReason::Quiescent,
                end_time: Time::ZERO,
                violation: None,
                counts: Counts::default(),
                timeline: Vec::new(),
                timeline_omitted: 0,
                notes: BTreeMap::new(),
                history: History::default(),
                history_kept: true,
                operations: OperationTally::default(),
                roles: Vec::new(),
                last_fault: None,
                faults_in_force: false,
                checker_names,
                verdicts: Vec::new(),
            },
            ended: None,
            driven_by_hand: false,
        };
        if let Some(t) = &mut world.tracer {
            t.line(&Trace::<P::Actor>::Header {
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
    pub fn run(mut self) -> (RunState, Option<TraceWriter>) {
        while self.step() {}
        self.finish()
    }

    /// Handles the next event in `(time, seq)` order. False once the run has ended: nothing left to
    /// happen, a bound reached, or a safety violation found (see [`World::end_reason`]).
    pub fn step(&mut self) -> bool {
        self.step_until(None)
    }

    /// Handles the next event if it is due at or before `limit` (true), or does nothing (false) if
    /// the next one is later. Bookkeeping pops (stale timers) never carry it past `limit`.
    pub fn step_before(&mut self, limit: Time) -> bool {
        self.step_until(Some(limit))
    }

    fn step_until(&mut self, limit: Option<Time>) -> bool {
        if self.ended.is_some() {
            return false;
        }
        loop {
            let Some(t) = self.queue.peek_time() else {
                return self.end(EndReason::Quiescent);
            };
            if limit.is_some_and(|limit| t > limit) {
                return false;
            }
            if t > self.max_time {
                self.now = self.max_time;
                return self.end(EndReason::TimeLimit);
            }
            if self.event_index >= self.scenario.max_events {
                return self.end(EndReason::EventLimit);
            }
            if self.recorded_bytes >= self.scenario.memory_bytes_max() {
                return self.end(EndReason::MemoryLimit);
            }
            let Some((t, event)) = self.queue.pop() else {
                return self.end(EndReason::Quiescent);
            };
            // Time never goes back. Only a world driven by hand (a message delivered or a timer fired
            // ahead of its time) can hold events due before now; they happen now.
            debug_assert!(t >= self.now || self.driven_by_hand, "time never goes back");
            self.now = self.now.max(t);
            // Bookkeeping pops (a timer that was cancelled, or pushed back and re-armed) are not
            // events: nothing happens, so they get no index and do not count towards the bound.
            if self.handle(event) {
                if self.clocks.is_some() {
                    self.judge_clocks();
                }
                self.event_index += 1;
                if self.state.violation.is_some() {
                    return self.end(EndReason::Violation);
                }
                if self.tracer.as_ref().is_some_and(TraceWriter::wants_stop) {
                    return self.end(EndReason::TraceStopped);
                }
                return true;
            }
        }
    }

    // --- Driving the world by hand: golden scripts and explorers choose what happens next. ---

    /// True time now.
    pub fn now(&self) -> Time {
        self.now
    }

    /// The cluster's shape.
    pub fn cluster(&self) -> Cluster {
        self.cluster
    }

    /// The time of the next event in the queue, if any.
    pub fn next_time(&self) -> Option<Time> {
        self.queue.peek_time()
    }

    /// Node `id`'s state, or `None` while it is down.
    pub fn node(&self, id: NodeId) -> Option<&P::Actor> {
        self.nodes.get(id as usize)?.actor.as_ref()
    }

    /// Node `id`'s disk.
    pub fn durable(&self, id: NodeId) -> Option<&<P::Actor as Actor>::Durable> {
        self.nodes.get(id as usize).map(|s| &s.durable)
    }

    /// Node `id`'s role as the engine last read it.
    pub fn role(&self, id: NodeId) -> Role {
        self.nodes.get(id as usize).and_then(|s| s.role)
    }

    /// The first safety violation, if one was found.
    pub fn violation(&self) -> Option<&Violation> {
        self.state.violation.as_ref()
    }

    /// What waits in the queue (starts, messages in flight, scheduled faults), in the order it
    /// would happen. Timers are listed by [`World::timers`].
    pub fn pending(&self) -> Vec<Pending<'_, P::Actor>> {
        self.queue
            .ordered()
            .into_iter()
            .filter_map(|(at, e)| match e {
                Event::Start { node } => Some(Pending::Start { node: *node }),
                Event::Deliver {
                    from, to, id, msg, ..
                } => Some(Pending::Message {
                    id: *id,
                    from: *from,
                    to: *to,
                    msg,
                    at,
                }),
                Event::Fault { index } => Some(Pending::Fault { index: *index, at }),
                Event::Timer { .. } => None,
            })
            .collect()
    }

    /// The timers node `id` has set, with the true time each is due.
    pub fn timers(&self, id: NodeId) -> Vec<(&<P::Actor as Actor>::Timer, Time)> {
        self.nodes
            .get(id as usize)
            .map(|s| s.timers.armed().collect())
            .unwrap_or_default()
    }

    /// Delivers message `id` now (or at its arrival time, if that is later), out of turn, as the
    /// network might have. False if no such message is in flight.
    pub fn deliver_now(&mut self, id: u64) -> bool {
        let taken = self
            .queue
            .take_first(|e| matches!(e, Event::Deliver { id: i, .. } if *i == id));
        let Some((at, event)) = taken else {
            return false;
        };
        self.now = self.now.max(at);
        self.driven_by_hand = true;
        self.handle_by_hand(event);
        true
    }

    /// Loses message `id` in the network. False if no such message is in flight.
    pub fn drop_message(&mut self, id: u64) -> bool {
        let taken = self
            .queue
            .take_first(|e| matches!(e, Event::Deliver { id: i, .. } if *i == id));
        let Some((_, Event::Deliver { from, to, id, .. })) = taken else {
            return false;
        };
        self.net.arrived();
        self.lose(id, from, to, DropReason::Scripted);
        self.event_index += 1;
        true
    }

    /// Fires node `node`'s timer `timer` now, as if its time had come (time moves on to its deadline
    /// if that is later). False if the node has no such timer set.
    pub fn fire_timer(&mut self, node: NodeId, timer: &<P::Actor as Actor>::Timer) -> bool {
        let Some(slot) = self.nodes.get(node as usize) else {
            return false;
        };
        let Some(at) = slot
            .timers
            .armed()
            .find(|(t, _)| *t == timer)
            .map(|(_, at)| at)
        else {
            return false;
        };
        if slot.actor.is_none() || slot.paused {
            return false;
        }
        self.now = self.now.max(at);
        self.driven_by_hand = true;
        // The timer's queued event, if any, turns stale once the timer has fired.
        self.fire(node, timer.clone());
        self.after_by_hand();
        true
    }

    /// Applies a fault now, out of the schedule.
    pub fn inject(&mut self, action: FaultAction) {
        let spec = FaultSpec::new(self.now.as_millis(), action);
        self.apply_fault(&spec);
        self.after_by_hand();
    }

    /// Handles one event taken out of turn.
    fn handle_by_hand(&mut self, event: Event<P::Actor>) {
        if self.handle(event) {
            self.after_by_hand();
        }
    }

    fn after_by_hand(&mut self) {
        self.judge_clocks();
        self.event_index += 1;
        if self.state.violation.is_some() {
            self.ended = Some(EndReason::Violation);
        }
    }

    /// The trace lines written so far, for a world tracing to memory.
    pub fn trace_lines(&self) -> &[String] {
        self.tracer.as_ref().map_or(&[], TraceWriter::memory_lines)
    }

    fn end(&mut self, reason: EndReason) -> bool {
        self.ended = Some(reason);
        false
    }

    /// Why the run ended, if it has.
    pub fn end_reason(&self) -> Option<EndReason> {
        self.ended
    }

    /// Whether to keep the clients' history for the end of the run ([`RunState::history`]). Worlds
    /// keep it by default; with `false` it is kept only if a checker [`Checker::needs_history`], and
    /// otherwise every event goes to the checkers as it is recorded and is then dropped, so that the
    /// run's memory follows what is live. Call it before the first step.
    pub fn keep_history(&mut self, keep: bool) {
        debug_assert!(
            self.state.history.events.is_empty(),
            "called before the run"
        );
        self.state.history_kept = keep || self.checkers.iter().any(|c| c.needs_history());
    }

    /// Ends the run where it stands and judges it: end-of-run checkers, counts, the final state.
    pub fn finish(mut self) -> (RunState, Option<TraceWriter>) {
        self.state.end_reason = match self.ended {
            Some(reason) => reason,
            None if self.state.violation.is_some() => EndReason::Violation,
            None => EndReason::Stopped,
        };
        self.state.counts.events = self.event_index;
        self.state.notes = self.note_counts.to_map();
        self.state.end_time = self.now;
        // Every change a fault made counts until it is undone: a cut, a node down or paused, a
        // Byzantine node, a link worse than the scenario set it up, a drifting clock.
        self.state.faults_in_force = self.net.any_blocked()
            || self.net.links_degraded()
            || self.nodes.iter().any(|s| {
                s.actor.is_none() || s.paused || s.byzantine.is_some() || s.clock.drift_ppm() != 0
            });
        // End-of-run checkers judge even a run that stopped at a violation: a safety checker that saw
        // nothing wrong up to the stop passes, the history up to the stop can still be checked, and
        // liveness checkers see `ended_early` and decline.
        {
            let nodes: Vec<FinalNode<'_, P::Actor>> = self
                .nodes
                .iter()
                .map(|s| FinalNode {
                    state: s.actor.as_ref(),
                    durable: &s.durable,
                })
                .collect();
            let end = RunEnd {
                now: self.now,
                last_fault: self.state.last_fault,
                faults_in_force: self.state.faults_in_force,
                history: &self.state.history,
                roles: &self.state.roles,
                cluster: self.cluster,
                ended_early: self.state.violation.is_some(),
                nodes: &nodes,
            };
            self.state.verdicts = self
                .checkers
                .iter_mut()
                .flat_map(|c| c.finish(&end))
                .collect();
        }
        if let Some(c) = &self.clocks {
            // A violation, if any, is the run's already; this says what the check covered.
            let covered = Verdict::PassNoted(c.coverage().describe());
            self.state
                .verdicts
                .push((crate::check::clocks::PROPERTY, covered));
        }
        (self.state, self.tracer)
    }

    /// Handles one event taken off the queue; false if it turned out to be bookkeeping only.
    fn handle(&mut self, event: Event<P::Actor>) -> bool {
        match event {
            Event::Start { node } => {
                self.start_line(node);
                self.dispatch(node, Input::Start);
            }
            Event::Deliver {
                from,
                to,
                id,
                msg,
                stamp,
            } => self.deliver(from, to, id, msg, stamp),
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
        if let Some(c) = &mut self.clocks {
            c.local(node, self.event_index);
        }
        if let Some(tr) = &mut self.tracer {
            let (lc, vc) = clocks::of(&self.clocks, node);
            tr.line(&Trace::<P::Actor>::Timer {
                e: self.event_index,
                t: self.now.0,
                node,
                timer: &timer,
                lc,
                vc,
            });
        }
        self.dispatch(node, Input::Timer(timer));
    }

    fn hand_over(
        &mut self,
        from: NodeId,
        to: NodeId,
        id: u64,
        msg: <P::Actor as Actor>::Msg,
        stamp: Option<Box<Stamp>>,
    ) {
        self.state.counts.messages_delivered += 1;
        if let (Some(c), Some(stamp)) = (&mut self.clocks, &stamp) {
            c.receive(to, self.event_index, stamp);
        }
        if let Some(tr) = &mut self.tracer {
            let (lc, vc) = clocks::of(&self.clocks, to);
            tr.line(&Trace::<P::Actor>::Deliver {
                e: self.event_index,
                t: self.now.0,
                id,
                from,
                to,
                lc,
                vc,
            });
        }
        self.dispatch(to, Input::Msg(from, msg));
    }

    /// Writes node `node`'s start line, a local event of its clocks.
    fn start_line(&mut self, node: NodeId) {
        if let Some(c) = &mut self.clocks {
            c.local(node, self.event_index);
        }
        if let Some(tr) = &mut self.tracer {
            let (lc, vc) = clocks::of(&self.clocks, node);
            tr.line(&Trace::<P::Actor>::Start {
                e: self.event_index,
                t: self.now.0,
                node,
                lc,
                vc,
            });
        }
    }

    /// Turns the first inconsistency `clocks_consistent` found in this event into the run's
    /// violation, once the event's own lines are written.
    fn judge_clocks(&mut self) {
        let Some((node, message)) = self.clocks.as_mut().and_then(Clocks::take_inconsistency)
        else {
            return;
        };
        if self.state.violation.is_some() {
            return;
        }
        let v = Violation {
            checker: crate::check::clocks::PROPERTY.to_string(),
            event_index: self.event_index,
            time_ns: self.now.0,
            node: Some(node),
            message,
        };
        self.state.violation = Some(Self::traced(&mut self.tracer, v));
    }

    /// Plants a bug in the clock rules (tests only: it shows `clocks_consistent` catches it). False
    /// in a run without clocks.
    #[doc(hidden)]
    pub fn plant_clock_bug(&mut self, bug: ClockBug) -> bool {
        self.clocks.as_mut().map(|c| c.plant(bug)).is_some()
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

    fn deliver(
        &mut self,
        from: NodeId,
        to: NodeId,
        id: u64,
        msg: <P::Actor as Actor>::Msg,
        stamp: Option<Box<Stamp>>,
    ) {
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
            slot.deferred.push(Deferred::Msg {
                from,
                id,
                msg,
                stamp,
            });
            return;
        }
        self.hand_over(from, to, id, msg, stamp);
    }

    fn dispatch(&mut self, node: NodeId, input: Input<P::Actor>) {
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
            let mut ctx = Ctx::new(
                node,
                clock.local(now),
                &self.cluster,
                rng,
                durable,
                &mut effects,
            );
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

        let slot = &self.nodes[node as usize];
        let role = slot.actor.as_ref().and_then(|a| a.role());
        // Roles rarely change: compare here, so the common event pays no call.
        if role != slot.role {
            self.set_role(node, role);
        }

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
                cluster: &self.cluster,
            };
            for checker in &mut self.checkers {
                if let Err(failure) = checker.observe(&obs) {
                    let v = Violation {
                        checker: failure.property.unwrap_or(checker.name()).to_string(),
                        event_index: self.event_index,
                        time_ns: now.0,
                        node: Some(node),
                        message: failure.message,
                    };
                    self.state.violation = Some(Self::traced(&mut self.tracer, v));
                    break;
                }
            }
        }
        self.notes.clear();
    }

    /// Writes a checker's violation to the trace and hands it back for the run to keep. Takes the
    /// tracer alone, so it can be called while the checkers and the observed node are borrowed.
    fn traced(tracer: &mut Option<TraceWriter>, v: Violation) -> Violation {
        if let Some(tr) = tracer {
            tr.line(&Trace::<P::Actor>::Violation {
                e: v.event_index,
                t: v.time_ns,
                checker: &v.checker,
                node: v.node,
                message: &v.message,
            });
        }
        v
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
                    let (lc, vc) = clocks::of(&self.clocks, node);
                    tr.line(&Trace::<P::Actor>::Note {
                        e: self.event_index,
                        t: self.now.0,
                        node,
                        note: &note,
                        lc,
                        vc,
                    });
                }
                self.notes.push(note);
            }
            Effect::Record(r) => {
                let r = *r;
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
                    let (lc, vc) = clocks::of(&self.clocks, node);
                    tr.line(&Trace::<P::Actor>::History {
                        e: self.event_index,
                        node,
                        event: &event,
                        lc,
                        vc,
                    });
                }
                self.state.operations.add(&event);
                for checker in &mut self.checkers {
                    if let Err(failure) = checker.history(&event) {
                        if self.state.violation.is_none() {
                            let v = Violation {
                                checker: failure.property.unwrap_or(checker.name()).to_string(),
                                event_index: self.event_index,
                                time_ns: self.now.0,
                                node: Some(node),
                                message: failure.message,
                            };
                            self.state.violation = Some(Self::traced(&mut self.tracer, v));
                        }
                        break;
                    }
                }
                // Counted towards `max_memory_mb` whether it is kept or not: whether the caller
                // asked for the history (`run --history`) must never change where a run stops.
                self.recorded_bytes += memory::history_event_bytes(&event);
                if self.state.history_kept {
                    self.state.history.events.push(event);
                }
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
        let mode = self.nodes[from as usize].byzantine;
        if mode == Some(ByzantineMode::Delay) {
            let slot = &mut self.nodes[from as usize];
            if slot.held.len() < HELD_MAX {
                slot.held.push((to, msg));
            } else {
                // Held back for good: tampered with, and never sent.
                self.state.counts.messages_tampered += 1;
            }
            return;
        }
        self.transmit(from, to, msg, None);
        if mode == Some(ByzantineMode::Replay) {
            let slot = &mut self.nodes[from as usize];
            // The newest entry is the message just sent: replay one before it.
            let older = slot.sent.len().saturating_sub(1);
            if older > 0 {
                let i = slot.adversary_rng.below(older as u64) as usize;
                let (old_to, old_msg) = slot.sent[i].clone();
                self.transmit(from, old_to, old_msg, Some("replay"));
            }
        }
    }

    /// Hands one message to the network, through the sender's adversary if it is Byzantine;
    /// `marked` says how the engine itself tampered with it (a replay, a held message let go).
    fn transmit(
        &mut self,
        from: NodeId,
        to: NodeId,
        msg: <P::Actor as Actor>::Msg,
        marked: Option<&'static str>,
    ) {
        let id = self.msg_id_next;
        self.msg_id_next += 1;
        self.state.counts.messages_sent += 1;
        let (msg, how) = self.tamper(from, to, msg);
        let tampered = marked.or(how);
        if tampered.is_some() {
            self.state.counts.messages_tampered += 1;
        }
        let slot = &mut self.nodes[from as usize];
        if slot.byzantine.is_some() && marked != Some("replay") {
            if slot.sent.len() == REPLAY_MEMORY {
                slot.sent.pop_front();
            }
            slot.sent.push_back((to, msg.clone()));
        }
        let stamp = self.clocks.as_mut().map(|c| c.send(from, self.event_index));
        if let Some(tr) = &mut self.tracer {
            let (lc, vc) = clocks::of(&self.clocks, from);
            tr.line(&Trace::<P::Actor>::Send {
                e: self.event_index,
                t: self.now.0,
                id,
                from,
                to,
                msg: &msg,
                tampered,
                lc,
                vc,
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
                            stamp: stamp.clone(),
                        },
                    );
                }
                self.queue.push(
                    self.now + delay,
                    Event::Deliver {
                        from,
                        to,
                        id,
                        msg,
                        stamp,
                    },
                );
            }
        }
    }

    /// What a Byzantine node's adversary makes of a message its honest code sends to `to`, and
    /// the mode's name if it changed it.
    fn tamper(
        &mut self,
        from: NodeId,
        to: NodeId,
        msg: <P::Actor as Actor>::Msg,
    ) -> (<P::Actor as Actor>::Msg, Option<&'static str>) {
        let now = self.now;
        let slot = &mut self.nodes[from as usize];
        let (Some(mode), Some(adversary)) = (slot.byzantine, slot.adversary.as_mut()) else {
            return (msg, None);
        };
        let mut ctx = Tamper {
            node: from,
            to,
            now,
            rng: &mut slot.adversary_rng,
        };
        adversary.saw(&mut ctx, &msg);
        if slot.collude.is_some() {
            // Colluders hear the honest version before this node tampers with it.
            self.share_with_colluders(from, to, &msg);
        }
        let slot = &mut self.nodes[from as usize];
        let Some(adversary) = slot.adversary.as_mut() else {
            return (msg, None);
        };
        let mut ctx = Tamper {
            node: from,
            to,
            now,
            rng: &mut slot.adversary_rng,
        };
        let changed = match mode {
            ByzantineMode::Forge => adversary.forge(&mut ctx, &msg),
            ByzantineMode::Equivocate => adversary.equivocate(&mut ctx, &msg),
            ByzantineMode::Silent
            | ByzantineMode::Replay
            | ByzantineMode::Delay
            | ByzantineMode::Honest => None,
        };
        match changed {
            Some(m) => (
                m,
                Some(if mode == ByzantineMode::Forge {
                    "forge"
                } else {
                    "equivocate"
                }),
            ),
            None => (msg, None),
        }
    }

    /// Hands a message Byzantine node `from` sends to `to` to the adversary of every other
    /// Byzantine node in its collusion group.
    fn share_with_colluders(&mut self, from: NodeId, to: NodeId, msg: &<P::Actor as Actor>::Msg) {
        let group = self.nodes[from as usize].collude.clone();
        for (id, slot) in self.nodes.iter_mut().enumerate() {
            if id as NodeId == from || slot.byzantine.is_none() || slot.collude != group {
                continue;
            }
            if let Some(adversary) = slot.adversary.as_mut() {
                adversary.colluder_sent(from, to, msg);
            }
        }
    }

    fn set_role(&mut self, node: NodeId, role: Role) {
        let slot = &mut self.nodes[node as usize];
        if slot.role == role {
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
            self.push_timeline(what);
        }
        if let Some(tr) = &mut self.tracer {
            let (lc, vc) = clocks::of(&self.clocks, node);
            tr.line(&Trace::<P::Actor>::Role {
                e: self.event_index,
                t: self.now.0,
                node,
                role,
                lc,
                vc,
            });
        }
    }

    /// Adds a timeline entry now, or counts it once the timeline is full.
    fn push_timeline(&mut self, what: String) {
        if self.state.timeline.len() >= TIMELINE_ENTRIES_MAX {
            self.state.timeline_omitted += 1;
            return;
        }
        self.recorded_bytes += memory::timeline_entry_bytes(&what);
        self.state.timeline.push(TimelineEntry {
            time_ns: self.now.0,
            what,
        });
    }

    fn fault(&mut self, index: usize) {
        let scenario = self.scenario;
        self.apply_fault(&scenario.faults[index]);
    }

    /// Applies a fault, scheduled or injected. It is resolved and described first, so the fault's
    /// line and timeline entry come before its effects (the role changes, restarts and deliveries
    /// it causes).
    fn apply_fault(&mut self, spec: &FaultSpec) {
        let planned = fault::plan(&spec.action, self);
        self.state.counts.faults += 1;
        self.state.last_fault = Some(self.now);
        self.push_timeline(planned.effect.clone());
        if let Some(tr) = &mut self.tracer {
            tr.line(&Trace::<P::Actor>::Fault {
                e: self.event_index,
                t: self.now.0,
                fault: spec,
                nodes: &planned.nodes,
                effect: &planned.effect,
            });
        }
        fault::apply(&spec.action, &planned, self);
    }
}

/// The engine's side of every fault kind (see `crate::fault::apply`).
impl<P: Protocol> FaultSurface for World<'_, P> {
    fn node_count(&self) -> u32 {
        self.cluster.node_count()
    }

    fn is(&self, node: NodeId, want: Want) -> bool {
        let Some(s) = self.nodes.get(node as usize) else {
            return false;
        };
        match want {
            Want::Any => true,
            Want::Up => s.actor.is_some(),
            Want::Running => s.actor.is_some() && !s.paused,
            Want::Down => s.actor.is_none(),
            Want::Paused => s.paused,
        }
    }

    /// A role resolves to the node that took it most recently (ties: the lowest id), since an older
    /// holder may be a stale leader cut off from the rest.
    fn holder_of(&self, role: &str) -> Option<NodeId> {
        let mut best: Option<NodeId> = None;
        // Clients may hold roles too (a lock's holder), so every node is a candidate.
        for n in 0..self.cluster.node_count() {
            let s = &self.nodes[n as usize];
            if s.role == Some(role)
                && best.is_none_or(|b| s.role_since > self.nodes[b as usize].role_since)
            {
                best = Some(n);
            }
        }
        best
    }

    fn servers(&self) -> std::ops::Range<NodeId> {
        self.cluster.server_ids()
    }

    fn group(&self, name: &str) -> std::ops::Range<NodeId> {
        self.cluster.group(name).unwrap_or(0..0)
    }

    fn network(&mut self) -> &mut Network {
        &mut self.net
    }

    fn crash(&mut self, n: NodeId) {
        let slot = &mut self.nodes[n as usize];
        slot.actor = None;
        slot.timers.clear();
        slot.paused = false;
        slot.deferred.clear(); // what arrived during a pause dies with the node
        // What a `delay` node held back never left it: it dies with the node too.
        self.state.counts.messages_tampered += slot.held.len() as u64;
        slot.held.clear();
        self.set_role(n, None);
    }

    fn restart(&mut self, n: NodeId) {
        self.nodes[n as usize].actor = Some(self.protocol.new_actor(n));
        self.start_line(n);
        self.dispatch(n, Input::Start);
    }

    fn pause(&mut self, n: NodeId) {
        self.nodes[n as usize].paused = true;
    }

    fn resume(&mut self, n: NodeId) {
        let slot = &mut self.nodes[n as usize];
        slot.paused = false;
        // Everything that arrived during the pause is handled now, in arrival order, as a process
        // does when it wakes from a stop-the-world pause.
        for d in std::mem::take(&mut slot.deferred) {
            if self.state.violation.is_some() || self.nodes[n as usize].actor.is_none() {
                break;
            }
            match d {
                Deferred::Msg {
                    from,
                    id,
                    msg,
                    stamp,
                } => self.hand_over(from, n, id, msg, stamp),
                Deferred::Timer { timer } => {
                    if self.nodes[n as usize].timers.is_due(&timer, self.now) {
                        self.fire(n, timer);
                    }
                }
            }
        }
    }

    fn skew_clock(&mut self, n: NodeId, offset_ns: i64, drift_ppm: Option<i64>) {
        let clock = &mut self.nodes[n as usize].clock;
        clock.jump(self.now, offset_ns);
        if let Some(d) = drift_ppm {
            clock.set_drift(self.now, d);
        }
    }

    fn set_collusion(&mut self, n: NodeId, group: Option<&str>) {
        self.nodes[n as usize].collude = group.map(str::to_string);
    }

    fn set_byzantine(&mut self, n: NodeId, mode: Option<ByzantineMode>) {
        let slot = &mut self.nodes[n as usize];
        if mode.is_some() && slot.adversary.is_none() {
            slot.adversary = self.protocol.adversary(n);
        }
        let was = slot.byzantine;
        slot.byzantine = mode;
        if was == Some(ByzantineMode::Delay) && mode != was {
            // Let go of what it held back, in order, under its new mode.
            for (to, msg) in std::mem::take(&mut slot.held) {
                self.transmit(n, to, msg, Some("delay"));
            }
        }
    }
}

/// Notes counted by label. Labels are static strings from a handful per protocol: a short vector
/// scanned in order is cheaper on every note than a map.
#[derive(Default)]
struct LabelCounts {
    counts: Vec<(&'static str, u64)>,
}

impl LabelCounts {
    fn add(&mut self, label: &'static str) {
        match self.counts.iter_mut().find(|(l, _)| *l == label) {
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
