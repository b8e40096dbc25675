//! A Redlock lock server: one lock, kept for a TTL measured on the server's own clock.
//!
//! The lock table is volatile (a restart forgets it, as a Redis instance without fsync does); the
//! fencing counter is durable. With `delayed_restart`, a restarted server refuses every grant for one
//! TTL, so that any lock it forgot has expired everywhere before it hands the lock out again.

use super::LockActor;
use super::message::Msg;
use super::note::LockNote;
use crate::contract::{Ctx, Duration, NodeId, Time};

/// The one lock entry a server holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// The holder's random value.
    pub nonce: u64,
    /// The client that asked.
    pub client: NodeId,
    /// When it expires, on this server's clock.
    pub expires: Time,
}

/// A lock server.
#[derive(Clone, Debug)]
pub struct LockServer {
    entry: Option<Entry>,
    refuse_until: Time,
    unlock_any_token: bool,
    delayed_restart: bool,
    ttl: Duration,
}

impl LockServer {
    /// A fresh server (its lock table empty).
    pub fn new(ttl: Duration, delayed_restart: bool, unlock_any_token: bool) -> LockServer {
        LockServer {
            entry: None,
            refuse_until: Time::ZERO,
            unlock_any_token,
            delayed_restart,
            ttl,
        }
    }

    /// The lock as it stands (for checkers and tests).
    pub fn entry(&self) -> Option<&Entry> {
        self.entry.as_ref()
    }

    /// Starts (or restarts) from the disk.
    pub fn on_start(&mut self, ctx: &mut Ctx<'_, LockActor>) {
        let restart = ctx.durable().started;
        ctx.durable_mut().started = true;
        if restart && self.delayed_restart {
            self.refuse_until = ctx.now() + self.ttl;
        }
        let counter = ctx.durable().counter;
        ctx.note(LockNote::ServerStarted { restart, counter });
    }

    /// Whether the lock is held by an unexpired entry, on this server's clock.
    fn live_entry(&self, now: Time) -> Option<&Entry> {
        self.entry.as_ref().filter(|e| e.expires > now)
    }

    /// Handles a client's request.
    pub fn on_msg(&mut self, ctx: &mut Ctx<'_, LockActor>, from: NodeId, msg: Msg) {
        let now = ctx.now();
        match msg {
            Msg::Lock { nonce, ttl_ms } => {
                let busy = now < self.refuse_until
                    || self.live_entry(now).is_some_and(|e| e.nonce != nonce);
                if busy {
                    ctx.send(from, Msg::Busy { nonce });
                    return;
                }
                // A repeated request of the same acquisition refreshes it (duplicates are harmless:
                // a longer lock only errs on the safe side).
                self.entry = Some(Entry {
                    nonce,
                    client: from,
                    expires: now + Duration::from_millis(ttl_ms),
                });
                ctx.note(LockNote::Granted {
                    client: from,
                    nonce,
                });
                let counter = ctx.durable().counter;
                ctx.send(from, Msg::Granted { nonce, counter });
            }
            Msg::Commit { nonce, token } => {
                if self.live_entry(now).is_some_and(|e| e.nonce == nonce) {
                    let disk = ctx.durable_mut();
                    disk.counter = disk.counter.max(token);
                    ctx.send(from, Msg::Committed { nonce });
                } else {
                    ctx.send(from, Msg::CommitRefused { nonce });
                }
            }
            Msg::Unlock { nonce } => {
                let owned = self.entry.as_ref().is_some_and(|e| e.nonce == nonce);
                if self.entry.is_some() && (owned || self.unlock_any_token) {
                    let holder = self.entry.take().map(|e| e.nonce);
                    ctx.note(LockNote::Unlocked {
                        client: from,
                        nonce: holder.unwrap_or(nonce),
                    });
                }
            }
            Msg::Granted { .. }
            | Msg::Busy { .. }
            | Msg::Committed { .. }
            | Msg::CommitRefused { .. }
            | Msg::Write { .. }
            | Msg::WriteAck { .. } => {}
        }
    }
}
