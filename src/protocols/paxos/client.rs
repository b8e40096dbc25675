//! Multi-Paxos's clients are the contract's [`KvClient`]: this file links it to Paxos's messages,
//! timers, disk and notes. A non-leader answers `NotLeader` with the leader it last heard from.

use super::message::{Msg, PaxosTimer, Request};
use super::{PaxosActor, PaxosDisk, PaxosNote};
use crate::contract::NodeId;
pub use crate::contract::client::{ClientConfig, ClientDisk};
use crate::contract::client::{
    ClientLink, ClientOutcome, ClientTimer, KvClient, KvOp, OpCompleted,
};

/// Paxos's side of the client.
#[derive(Clone, Copy, Debug)]
pub struct PaxosLink;

/// A Multi-Paxos client.
pub type Client = KvClient<PaxosActor, PaxosLink>;

impl ClientLink<PaxosActor> for PaxosLink {
    fn request(client: NodeId, seq: u64, op: KvOp) -> Msg {
        Msg::ClientRequest(Request { client, seq, op })
    }

    fn timer(timer: ClientTimer) -> PaxosTimer {
        match timer {
            ClientTimer::Think => PaxosTimer::ClientThink,
            ClientTimer::Attempt => PaxosTimer::ClientAttempt,
            ClientTimer::Deadline => PaxosTimer::ClientDeadline,
        }
    }

    fn disk(durable: &PaxosDisk) -> &ClientDisk {
        &durable.client
    }

    fn disk_mut(durable: &mut PaxosDisk) -> &mut ClientDisk {
        &mut durable.client
    }

    fn completed(done: OpCompleted) -> Option<PaxosNote> {
        Some(PaxosNote::OpCompleted {
            process: done.process,
            seq: done.seq,
            outcome: done.outcome,
        })
    }

    fn client_timer(timer: &PaxosTimer) -> Option<ClientTimer> {
        match timer {
            PaxosTimer::ClientThink => Some(ClientTimer::Think),
            PaxosTimer::ClientAttempt => Some(ClientTimer::Attempt),
            PaxosTimer::ClientDeadline => Some(ClientTimer::Deadline),
            _ => None,
        }
    }

    fn reply(msg: Msg) -> Option<(u64, ClientOutcome)> {
        match msg {
            Msg::ClientReply { seq, outcome } => Some((seq, outcome)),
            _ => None,
        }
    }
}
