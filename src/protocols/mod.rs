//! The protocols, and the one registry that maps a scenario's `"protocol"` string to a type.
//!
//! Each protocol is one folder (or file) written against [`crate::contract`] only: it implements
//! [`crate::contract::Actor`] for its nodes and [`crate::contract::Protocol`] for its setup (how to build
//! a node, which checkers watch it, which mutants it has, which sequential model its clients' history
//! must satisfy). It never imports the engine, the network, traces or another protocol
//! (`tests/architecture.rs` enforces it). Adding one is its folder plus one line in [`registry`].

pub mod capkv;
pub mod chord;
pub mod consistent_hashing;
pub mod crdt;
pub mod failure_detector;
pub mod generals;
pub mod lock;
pub mod mapreduce;
pub mod paxos;
pub mod pbft;
pub mod pingpong;
pub mod pow;
pub mod pregel;
pub mod raft;
pub mod registry;
pub mod twopc;
