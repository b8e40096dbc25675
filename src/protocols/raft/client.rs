//! Raft's clients are the contract's reusable [`KvClient`]: this file links it to Raft's messages,
//! timers, disk and notes. Finding the leader follows the Raft paper (§8): follow `NotLeader`
//! redirects, retry elsewhere on a timeout with the same sequence number, so the servers' session
//! table applies each operation at most once.

use super::message::{Msg, RaftTimer, Request};
use super::{RaftActor, RaftDisk, RaftNote};
use crate::contract::NodeId;
pub use crate::contract::client::{ClientConfig, ClientDisk};
use crate::contract::client::{
    ClientLink, ClientOutcome, ClientTimer, KvClient, KvOp, OpCompleted,
};

/// Raft's side of the client.
#[derive(Clone, Copy, Debug)]
pub struct RaftLink;

/// A Raft client.
pub type Client = KvClient<RaftActor, RaftLink>;

impl ClientLink<RaftActor> for RaftLink {
    fn request(client: NodeId, seq: u64, op: KvOp) -> Msg {
        Msg::ClientRequest(Request { client, seq, op })
    }

    fn timer(timer: ClientTimer) -> RaftTimer {
        match timer {
            ClientTimer::Think => RaftTimer::ClientThink,
            ClientTimer::Attempt => RaftTimer::ClientAttempt,
            ClientTimer::Deadline => RaftTimer::ClientDeadline,
        }
    }

    fn disk(durable: &RaftDisk) -> &ClientDisk {
        &durable.client
    }

    fn disk_mut(durable: &mut RaftDisk) -> &mut ClientDisk {
        &mut durable.client
    }

    fn completed(done: OpCompleted) -> Option<RaftNote> {
        Some(RaftNote::OpCompleted {
            process: done.process,
            seq: done.seq,
            outcome: done.outcome,
            attempts: done.attempts,
        })
    }

    fn client_timer(timer: &RaftTimer) -> Option<ClientTimer> {
        match timer {
            RaftTimer::ClientThink => Some(ClientTimer::Think),
            RaftTimer::ClientAttempt => Some(ClientTimer::Attempt),
            RaftTimer::ClientDeadline => Some(ClientTimer::Deadline),
            RaftTimer::Election | RaftTimer::Heartbeat | RaftTimer::CheckQuorum => None,
        }
    }

    fn reply(msg: Msg) -> Option<(u64, ClientOutcome)> {
        match msg {
            Msg::ClientReply { seq, outcome } => Some((seq, outcome)),
            _ => None,
        }
    }
}
