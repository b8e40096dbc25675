//! Scenarios in code: a builder that makes the same [`Scenario`] value a JSON file makes, checked by
//! the same validation (the built value is written out and read back, so nothing is accepted in code
//! that a file would refuse).
//!
//! ```
//! use distsim::fault::{FaultAction, Target};
//! use distsim::scenario::ScenarioBuilder;
//!
//! let scenario = ScenarioBuilder::new("partition", "raft")
//!     .seed(7)
//!     .nodes(5)
//!     .clients(2)
//!     .max_time_ms(10_000)
//!     .delay_ms(1, 10)
//!     .fault(2_000, FaultAction::Isolate(Target::Role("leader".into())))
//!     .fault(5_000, FaultAction::Heal(true))
//!     .leader_within_ms(3_000)
//!     .build()
//!     .expect("a valid scenario");
//! assert_eq!(scenario.faults.len(), 2);
//! ```

use super::{Expect, LivenessSpec, Scenario, ScenarioError, parse};
use crate::fault::{FaultAction, FaultSpec};

/// Builds a [`Scenario`]; see the module docs.
#[derive(Clone, Debug)]
pub struct ScenarioBuilder {
    scenario: Scenario,
}

impl ScenarioBuilder {
    /// A scenario called `name` for `protocol`: seed 0, one server, no clients, one second of virtual
    /// time, and every other field at the default a file would get.
    pub fn new(name: &str, protocol: &str) -> ScenarioBuilder {
        let minimal = serde_json::json!({
            "name": name,
            "protocol": protocol,
            "seed": 0,
            "nodes": 1,
            "max_time_ms": 1_000,
        });
        let scenario =
            serde_json::from_value(minimal).expect("the minimal scenario has every required field");
        ScenarioBuilder { scenario }
    }

    /// What the scenario shows.
    pub fn description(mut self, text: &str) -> Self {
        self.scenario.description = text.to_string();
        self
    }

    /// The master seed.
    pub fn seed(mut self, seed: u64) -> Self {
        self.scenario.seed = seed;
        self
    }

    /// Servers (in all of the protocol's groups).
    pub fn nodes(mut self, nodes: u32) -> Self {
        self.scenario.nodes = nodes;
        self
    }

    /// Clients.
    pub fn clients(mut self, clients: u32) -> Self {
        self.scenario.clients = clients;
        self
    }

    /// The size of one of the protocol's named groups.
    pub fn group(mut self, name: &str, size: u32) -> Self {
        self.scenario.groups.insert(name.to_string(), size);
        self
    }

    /// The run stops at this virtual time.
    pub fn max_time_ms(mut self, ms: u64) -> Self {
        self.scenario.max_time_ms = ms;
        self
    }

    /// The run stops after this many events.
    pub fn max_events(mut self, events: u64) -> Self {
        self.scenario.max_events = events;
        self
    }

    /// One-way latency, uniform between the two bounds.
    pub fn delay_ms(mut self, min: u64, max: u64) -> Self {
        self.scenario.network.delay_ms_min = min;
        self.scenario.network.delay_ms_max = max;
        self
    }

    /// Message loss, in parts per million.
    pub fn loss_ppm(mut self, ppm: u32) -> Self {
        self.scenario.network.loss_ppm = ppm;
        self
    }

    /// Message duplication, in parts per million.
    pub fn duplicate_ppm(mut self, ppm: u32) -> Self {
        self.scenario.network.duplicate_ppm = ppm;
        self
    }

    /// The protocol's parameters (`"params"`).
    pub fn params(mut self, params: serde_json::Value) -> Self {
        self.scenario.params = params;
        self
    }

    /// Keeps logical clocks (Lamport and vector) per node, on every trace line, checked by
    /// `clocks_consistent`.
    pub fn clocks(mut self, on: bool) -> Self {
        self.scenario.clocks = on;
        self
    }

    /// Switches on a planted bug.
    pub fn mutant(mut self, name: &str) -> Self {
        self.scenario.mutants.push(name.to_string());
        self
    }

    /// Schedules a fault.
    pub fn fault(mut self, at_ms: u64, action: FaultAction) -> Self {
        self.scenario.faults.push(FaultSpec::new(at_ms, action));
        self
    }

    /// Liveness: a leader within this long of the last fault.
    pub fn leader_within_ms(mut self, ms: u64) -> Self {
        self.scenario
            .liveness
            .get_or_insert_with(LivenessSpec::default)
            .leader_within_ms = Some(ms);
        self
    }

    /// Liveness: client operations complete within this long of the last fault.
    pub fn ops_complete_within_ms(mut self, ms: u64) -> Self {
        self.scenario
            .liveness
            .get_or_insert_with(LivenessSpec::default)
            .ops_complete_within_ms = Some(ms);
        self
    }

    /// The run must find a violation of this property (`"any"` for whichever).
    pub fn expect_violation(mut self, property: &str) -> Self {
        self.scenario.expect = Some(Expect {
            violation: property.to_string(),
        });
        self
    }

    /// The scenario, checked as a file would be: errors name the field, and their line and column in
    /// the scenario written out as JSON.
    pub fn build(self) -> Result<Scenario, ScenarioError> {
        let text = serde_json::to_string_pretty(&self.scenario).unwrap_or_default();
        let file = format!("<built scenario {}>", self.scenario.name);
        parse(text.as_bytes(), &file).map(|(scenario, _)| scenario)
    }
}
