//! Failure detection: every server heartbeats every other server and judges each peer with two
//! detectors side by side, a fixed timeout and phi accrual (Hayashibara et al., 2004), so one run
//! shows how each trades detection time against false suspicions under the same crashes, pauses and
//! latency spikes.
//!
//! - The fixed-timeout detector suspects a peer silent for longer than `fixed_timeout_ms`.
//! - The phi-accrual detector ([`phi`]) keeps a bounded window of each peer's inter-arrival times
//!   and suspects it when phi, the improbability of so long a silence under that history, exceeds
//!   `phi_threshold_milli / 1000`. A jittery history raises the bar; a calm one lowers it.
//!
//! A heartbeat from a suspected peer makes both trust it again. Heartbeats carry the sender's
//! incarnation (its boot count, on disk), so a restarted peer's history starts afresh. A node that
//! notices it was paused itself (its check ran more than a period late) blames no peer for the
//! silence its own pause caused.
//!
//! The `fd_completeness` checker reads crashes from the role changes and fails a run in which a
//! crash lasting `detect_within_ms` is not suspected within it by both detectors of every server
//! that stayed up; its verdict's detail gives the detection times and false suspicions of each.

pub mod checker;
pub mod node;
pub mod params;
pub mod phi;
#[cfg(test)]
mod tests;

use crate::contract::{Checker, Duration, Mutant, NoModel, NodeId, Param, Protocol, Setup};
use checker::FdCompleteness;
use node::{FdNode, Settings};
use params::FdParams;

/// The protocol.
pub struct FailureDetector {
    params: FdParams,
    settings: Settings,
    servers: u32,
}

/// The mutant that switches both detectors off.
pub const NEVER_SUSPECT: &str = "fd.never_suspect";

impl Protocol for FailureDetector {
    type Actor = FdNode;
    type Model = NoModel;
    const NAME: &'static str = "failure_detector";
    const ABOUT: &'static str = "heartbeats judged by a fixed timeout and by phi accrual side by side: detection times and false suspicions";
    const MUTANTS: &'static [Mutant] = &[Mutant {
        name: NEVER_SUSPECT,
        about: "neither detector ever suspects a peer, however long it is silent",
    }];
    const ROLES: &'static [&'static str] = &["monitor"];
    const PARAMS: &'static [Param] = &[
        Param {
            name: "heartbeat_ms",
            default: "100",
            about: "how often every server heartbeats every other, ms",
        },
        Param {
            name: "check_ms",
            default: "10",
            about: "how often a server judges its peers, ms",
        },
        Param {
            name: "fixed_timeout_ms",
            default: "300",
            about: "the fixed detector suspects a peer silent longer than this, ms",
        },
        Param {
            name: "phi_threshold_milli",
            default: "8000",
            about: "the phi detector suspects when phi exceeds this, thousandths",
        },
        Param {
            name: "window",
            default: "50",
            about: "inter-arrival times the phi detector keeps per peer, samples",
        },
        Param {
            name: "min_std_ms",
            default: "50",
            about: "least standard deviation the phi detector assumes, ms",
        },
        Param {
            name: "max_sample_ms",
            default: "500",
            about: "longest inter-arrival the phi detector records (longer is an outage), ms",
        },
        Param {
            name: "detect_within_ms",
            default: "1000",
            about: "checker bound: a crash this long is suspected within it, ms",
        },
    ];
    const CHECKERS: &'static [(&'static str, &'static str)] = &[(
        checker::FD_COMPLETENESS,
        "every crash lasting detect_within_ms is suspected within it by both detectors of every server up throughout; the detail gives detection times and false suspicions per detector",
    )];

    fn setup(setup: &Setup<'_>) -> Result<Self, String> {
        let params = FdParams::parse(setup.params)?;
        let settings = Settings {
            heartbeat: Duration::from_millis(params.heartbeat_ms),
            check: Duration::from_millis(params.check_ms),
            fixed_timeout: Duration::from_millis(params.fixed_timeout_ms),
            y_threshold: phi::y_threshold(params.phi_threshold_milli as f64 / 1000.0),
            window: params.window as usize,
            min_std_ns: params.min_std_ms * 1_000_000,
            max_sample: Duration::from_millis(params.max_sample_ms),
            never_suspect: setup.mutants.iter().any(|m| m == NEVER_SUSPECT),
        };
        Ok(FailureDetector {
            params,
            settings,
            servers: setup.cluster.servers,
        })
    }

    fn new_actor(&self, _id: NodeId) -> FdNode {
        FdNode::new(self.settings.clone(), self.servers)
    }

    fn checkers(&self) -> Vec<Box<dyn Checker<FdNode>>> {
        vec![Box::new(FdCompleteness::new(
            self.params.detect_within_ms,
            self.params.check_ms,
        ))]
    }
}
