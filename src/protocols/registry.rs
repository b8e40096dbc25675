//! The one place that maps a scenario's `"protocol"` string to a type. Everything else is generic.

use crate::contract::{Mutant, Protocol};

/// Something to do with a protocol type, chosen by name at run time.
pub trait ProtocolVisitor {
    /// The result.
    type Output;
    /// Does it with protocol `P`.
    fn visit<P: Protocol>(self) -> Self::Output;
}

/// A protocol's public face, for `distsim list`.
#[derive(Clone, Debug)]
pub struct ProtocolInfo {
    /// Its scenario name.
    pub name: &'static str,
    /// One line.
    pub about: &'static str,
    /// Its mutants.
    pub mutants: &'static [Mutant],
    /// The names of its checkers, as set up with default parameters on three servers and one client.
    pub checkers: Vec<&'static str>,
}

fn info<P: Protocol>() -> ProtocolInfo {
    let params = serde_json::Value::Null;
    let setup = crate::contract::Setup {
        cluster: crate::contract::Cluster::new(3, 1),
        params: &params,
        mutants: &[],
    };
    let checkers = P::setup(&setup)
        .map(|p| p.checkers().iter().flat_map(|c| c.properties()).collect())
        .unwrap_or_default();
    ProtocolInfo {
        name: P::NAME,
        about: P::ABOUT,
        mutants: P::MUTANTS,
        checkers,
    }
}

/// Every protocol distsim ships.
pub fn catalogue() -> Vec<ProtocolInfo> {
    vec![
        info::<super::raft::Raft>(),
        info::<super::pingpong::PingPong>(),
    ]
}

/// Calls `visitor` with the protocol called `name`, or returns `None` if there is none.
pub fn with_protocol<V: ProtocolVisitor>(name: &str, visitor: V) -> Option<V::Output> {
    match name {
        "raft" => Some(visitor.visit::<super::raft::Raft>()),
        "pingpong" => Some(visitor.visit::<super::pingpong::PingPong>()),
        _ => None,
    }
}
