//! Logical clocks kept by the engine (a scenario's `"clocks": true`): a Lamport clock and a vector
//! clock per node, indexed by node id (servers, then clients), updated on every event of the node.
//!
//! - A local event (a start or restart, a timer) increments the node's own entry and its Lamport time.
//! - A send is an event too: the node increments, then the message carries a copy of its clocks (a
//!   [`Stamp`]). A network duplicate carries the same stamp; a replayed or held-back message is sent
//!   again, so it is a new send with fresh clocks.
//! - A delivery merges the stamp into the receiver's clocks (entry-wise maximum, Lamport maximum)
//!   and then increments.
//!
//! A fault is not an event of the nodes it hits: it is done to them, not by them, and it may hit many
//! at once. What a fault makes a node do (a restart, catching up after a pause) is. The clocks live
//! in the engine, not in the node, so they survive a crash, as if kept on disk.
//!
//! Every event is also told to [`CausalOrderCheck`], which judges the clocks against the true causal
//! order (`clocks_consistent`). A first inconsistency is kept until the world asks for it
//! ([`Clocks::take_inconsistency`]), once the event that caused it is complete.

use crate::check::clocks::{CausalOrderCheck, ClockCoverage};
use crate::contract::{NodeId, Rng};

/// The clocks a message carries from its send event.
#[derive(Clone, Debug)]
pub struct Stamp {
    /// The send event's number in the causality check.
    event: u64,
    lamport: u64,
    vector: Box<[u64]>,
}

/// A planted bug in the clock rules, to show that `clocks_consistent` catches it. Never set by a
/// scenario; tests switch it on with [`crate::sim::world::World::plant_clock_bug`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClockBug {
    /// A delivery does not merge the message's vector (only the Lamport time).
    ForgetMerge,
    /// A delivery merges but does not increment.
    ForgetReceiveIncrement,
    /// A delivery adds the message's vector to its own instead of taking the maximum.
    MergeSums,
    /// A delivery ignores the message's Lamport time (only the vector merges).
    LamportIgnoresMessage,
}

/// Every node's clocks in one run.
#[derive(Debug)]
pub struct Clocks {
    width: usize,
    lamport: Vec<u64>,
    /// `width * width` entries: node `i`'s vector is row `i`.
    vector: Vec<u64>,
    check: CausalOrderCheck,
    /// The first inconsistency found, not yet handed to the world.
    inconsistency: Option<(NodeId, String)>,
    /// Whether one was found (the check stops at the first).
    failed: bool,
    bug: Option<ClockBug>,
}

impl Clocks {
    /// Clocks at zero for `width` nodes; the check samples from the seed's `clocks` stream.
    pub fn new(width: u32, seed: u64) -> Clocks {
        let width = width as usize;
        Clocks {
            width,
            lamport: vec![0; width],
            vector: vec![0; width * width],
            check: CausalOrderCheck::new(width, Rng::stream(seed, "clocks")),
            inconsistency: None,
            failed: false,
            bug: None,
        }
    }

    /// Switches on a planted bug.
    pub fn plant(&mut self, bug: ClockBug) {
        self.bug = Some(bug);
    }

    /// Node `node`'s Lamport time and vector clock now.
    pub fn read(&self, node: NodeId) -> (u64, &[u64]) {
        let n = node as usize;
        (
            self.lamport[n],
            &self.vector[n * self.width..(n + 1) * self.width],
        )
    }

    /// A local event of `node` (start, timer) in engine event `engine_event`.
    pub fn local(&mut self, node: NodeId, engine_event: u64) {
        self.increment(node);
        self.record(node, engine_event, None);
    }

    /// A send by `node`: increments, and returns what the message carries.
    pub fn send(&mut self, node: NodeId, engine_event: u64) -> Box<Stamp> {
        self.increment(node);
        let event = self.record(node, engine_event, None);
        let (lamport, vector) = self.read(node);
        Box::new(Stamp {
            event,
            lamport,
            vector: vector.into(),
        })
    }

    /// A delivery to `node` of a message stamped `stamp`: merges, then increments.
    pub fn receive(&mut self, node: NodeId, engine_event: u64, stamp: &Stamp) {
        let n = node as usize;
        if self.bug != Some(ClockBug::LamportIgnoresMessage) {
            self.lamport[n] = self.lamport[n].max(stamp.lamport);
        }
        let row = &mut self.vector[n * self.width..(n + 1) * self.width];
        match self.bug {
            Some(ClockBug::ForgetMerge) => {}
            Some(ClockBug::MergeSums) => row.iter_mut().zip(&*stamp.vector).for_each(|(v, s)| {
                *v += s;
            }),
            _ => row
                .iter_mut()
                .zip(&*stamp.vector)
                .for_each(|(v, s)| *v = (*v).max(*s)),
        }
        if self.bug != Some(ClockBug::ForgetReceiveIncrement) {
            self.increment(node);
        }
        self.record(node, engine_event, Some(stamp.event));
    }

    /// The first inconsistency the check found since the last call, with the node whose event
    /// exposed it.
    pub fn take_inconsistency(&mut self) -> Option<(NodeId, String)> {
        self.inconsistency.take()
    }

    /// What the check covered.
    pub fn coverage(&self) -> ClockCoverage {
        self.check.coverage()
    }

    fn increment(&mut self, node: NodeId) {
        let n = node as usize;
        self.lamport[n] += 1;
        self.vector[n * self.width + n] += 1;
    }

    /// Tells the check about the event `node` just had; returns its number there.
    fn record(&mut self, node: NodeId, engine_event: u64, cause: Option<u64>) -> u64 {
        let n = node as usize;
        let vector = &self.vector[n * self.width..(n + 1) * self.width];
        let (number, verdict) =
            self.check
                .record(node, engine_event, cause, self.lamport[n], vector);
        if let Err(message) = verdict
            && !self.failed
        {
            self.failed = true;
            self.inconsistency = Some((node, message));
        }
        number
    }
}

/// What a trace line of `node` carries: its Lamport time and vector clock, or nothing when the run
/// keeps no clocks (so traces without clocks are unchanged).
pub fn of(clocks: &Option<Clocks>, node: NodeId) -> (Option<u64>, Option<&[u64]>) {
    match clocks {
        Some(c) => {
            let (lc, vc) = c.read(node);
            (Some(lc), Some(vc))
        }
        None => (None, None),
    }
}
