//! distsim: a deterministic discrete-event simulator for distributed algorithms.

pub mod actor;
pub mod check;
pub mod protocols;
pub mod sim;
