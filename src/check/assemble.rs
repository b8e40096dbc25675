//! The one place that assembles a run's checkers: the protocol's own, the linearizability of its
//! clients' history when it names a model, the durable-state promises it declares, and the generic
//! liveness promises the scenario makes.

use super::durable::DurableState;
use super::linearizability::OnlineLinearizabilityChecker;
use super::liveness::{LeaderWithin, OpsCompleteWithin};
use crate::contract::{Checker, Duration, Protocol};
use crate::scenario::Scenario;

/// Every checker of a run of `protocol` under `scenario`, in the order they see each event.
pub fn checkers_for<P: Protocol>(
    protocol: &P,
    scenario: &Scenario,
) -> Vec<Box<dyn Checker<P::Actor>>> {
    let mut checkers = protocol.checkers();
    let invariants = protocol.durable_invariants();
    if !invariants.is_empty() {
        checkers.push(Box::new(DurableState::new(invariants)));
    }
    // Every service that promises linearizability gets the same history check, fed as the history is
    // recorded so that the run need not keep it.
    if let Some(model) = protocol.history_model() {
        checkers.push(Box::new(OnlineLinearizabilityChecker::new(model)));
    }
    if let Some(liveness) = &scenario.liveness {
        if let Some(ms) = liveness.leader_within_ms {
            checkers.push(Box::new(LeaderWithin {
                role: protocol.leader_role(),
                within: Duration::from_millis(ms),
            }));
        }
        if let Some(ms) = liveness.ops_complete_within_ms {
            checkers.push(Box::new(OpsCompleteWithin {
                within: Duration::from_millis(ms),
            }));
        }
    }
    checkers
}
