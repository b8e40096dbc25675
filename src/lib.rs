//! distsim: a deterministic discrete-event simulator for distributed algorithms.

pub mod actor;
pub mod check;
pub mod fault;
pub mod net;
pub mod protocols;
pub mod run;
pub mod scenario;
pub mod sim;
pub mod trace;
