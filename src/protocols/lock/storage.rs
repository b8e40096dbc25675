//! The storage service clients write to while they believe they hold the lock.
//!
//! Without fencing it accepts every write. With fencing it remembers (durably) the highest token it
//! has accepted a write under and rejects any lower one: a holder whose lock expired while it was
//! paused can no longer overwrite its successor's work.

use super::LockActor;
use super::message::Msg;
use super::note::LockNote;
use crate::contract::{Ctx, NodeId};

/// The storage service.
#[derive(Clone, Debug)]
pub struct Storage {
    fencing: bool,
}

impl Storage {
    /// A storage node; `fencing` makes it reject stale tokens.
    pub fn new(fencing: bool) -> Storage {
        Storage { fencing }
    }

    /// Handles a write.
    pub fn on_msg(&mut self, ctx: &mut Ctx<'_, LockActor>, from: NodeId, msg: Msg) {
        let Msg::Write {
            nonce,
            token,
            value,
        } = msg
        else {
            return;
        };
        let highest = ctx.durable().storage_highest;
        if self.fencing && token < highest {
            ctx.note(LockNote::WriteRejected {
                client: from,
                nonce,
                token,
                highest,
            });
            ctx.send(
                from,
                Msg::WriteAck {
                    nonce,
                    accepted: false,
                },
            );
            return;
        }
        ctx.durable_mut().storage_highest = highest.max(token);
        ctx.note(LockNote::WriteAccepted {
            client: from,
            nonce,
            token,
            value,
        });
        ctx.send(
            from,
            Msg::WriteAck {
                nonce,
                accepted: true,
            },
        );
    }
}
