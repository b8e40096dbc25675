//! The store's clients are the contract's reusable [`KvClient`], linked to this protocol's messages,
//! timers, disk and notes.

use super::message::{CapTimer, Msg, Request};
use super::{CapActor, CapDisk, CapNote};
use crate::contract::NodeId;
use crate::contract::client::{
    ClientDisk, ClientLink, ClientOutcome, ClientTimer, KvClient, KvOp, OpCompleted,
};

/// The store's side of the client.
#[derive(Clone, Copy, Debug)]
pub struct CapLink;

/// A client of the store.
pub type Client = KvClient<CapActor, CapLink>;

impl ClientLink<CapActor> for CapLink {
    fn request(client: NodeId, seq: u64, op: KvOp) -> Msg {
        Msg::ClientRequest(Request { client, seq, op })
    }

    fn timer(timer: ClientTimer) -> CapTimer {
        match timer {
            ClientTimer::Think => CapTimer::ClientThink,
            ClientTimer::Attempt => CapTimer::ClientAttempt,
            ClientTimer::Deadline => CapTimer::ClientDeadline,
        }
    }

    fn disk(durable: &CapDisk) -> &ClientDisk {
        &durable.client
    }

    fn disk_mut(durable: &mut CapDisk) -> &mut ClientDisk {
        &mut durable.client
    }

    fn completed(done: OpCompleted) -> Option<CapNote> {
        Some(CapNote::OpCompleted {
            process: done.process,
            seq: done.seq,
            outcome: done.outcome,
        })
    }

    fn client_timer(timer: &CapTimer) -> Option<ClientTimer> {
        match timer {
            CapTimer::ClientThink => Some(ClientTimer::Think),
            CapTimer::ClientAttempt => Some(ClientTimer::Attempt),
            CapTimer::ClientDeadline => Some(ClientTimer::Deadline),
            CapTimer::OpTimeout(_) | CapTimer::Heartbeat | CapTimer::Gossip => None,
        }
    }

    fn reply(msg: Msg) -> Option<(u64, ClientOutcome)> {
        match msg {
            Msg::ClientReply { seq, outcome } => Some((seq, outcome)),
            _ => None,
        }
    }
}
