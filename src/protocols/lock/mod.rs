//! A distributed lock: Redlock (Sanfilippo, "Distributed locks with Redis"), with the fencing tokens
//! that Kleppmann's critique ("How to do distributed locking") asks for, and the storage service the
//! lock is meant to protect.
//!
//! How it works: N independent lock servers each keep one lock for a TTL measured on their own clock.
//! A client notes its local time, asks every server for the lock under a fresh random value, and holds
//! it when a majority granted it and validity is left: `TTL - elapsed - drift allowance` on its own
//! clock, where the allowance (`TTL × drift_factor + extra`) covers servers whose clocks run fast.
//! Otherwise it unlocks everywhere and retries after a random backoff. A server releases only for the
//! random value it holds, so a client can never free someone else's lock. While it holds the lock a
//! client does some work, then writes to storage, then releases. With fencing on, the lock also hands
//! out strictly increasing tokens (a second, commit round: see `client.rs`) and storage rejects a
//! write whose token is older than one it has accepted.
//!
//! What the checkers promise (`checkers.rs`, `liveness.rs`):
//! - `belief_exclusion`: at most one client believes it holds an unexpired lock, by true time. Redlock
//!   keeps this only while clocks drift less than the allowance and lock servers keep their locks: a
//!   forward clock jump or a restart with a volatile lock table breaks it (`lock_clock_jump.json`,
//!   `lock_server_restart.json`; `delayed_restart` repairs the second);
//! - `effect_exclusion`: storage never accepts an earlier holder's write after a later holder's.
//!   Without fencing a holder paused past its validity breaks it (`lock_gc_pause.json`); with fencing
//!   storage refuses the stale write (`lock_fencing.json`);
//! - `lock_liveness`: after a holder crashes the lock is taken again within TTL plus drift plus
//!   backoff;
//! - with fencing, the clients' history (acquire, write, release) is linearizable against
//!   [`model::LockModel`].
//!
//! Servers are laid out in two groups: `lock_servers` (all but the last) and `storage` (one).

pub mod checkers;
pub mod client;
pub mod liveness;
pub mod message;
pub mod model;
pub mod mutants;
pub mod note;
pub mod params;
pub mod server;
pub mod storage;

#[cfg(test)]
mod tests;

use crate::contract::{
    Actor, Checker, Cluster, Ctx, Duration, GroupSize, GroupSpec, Mutant, NodeId, Param, Protocol,
    Role, Setup,
};
use client::{Client, ClientConfig};
use message::{LockDisk, LockTimer, Msg};
use model::LockModel;
use mutants::Flags;
use note::LockNote;
use params::LockParams;
use server::LockServer;
use std::ops::Range;
use storage::Storage;

/// A lock node: a lock server, the storage service or a client.
#[derive(Clone, Debug)]
pub enum LockActor {
    /// A lock server.
    Server(LockServer),
    /// The storage service.
    Storage(Storage),
    /// A client.
    Client(Client),
}

impl Actor for LockActor {
    type Msg = Msg;
    type Timer = LockTimer;
    type Durable = LockDisk;
    type Note = LockNote;

    fn on_start(&mut self, ctx: &mut Ctx<'_, Self>) {
        match self {
            LockActor::Server(s) => s.on_start(ctx),
            LockActor::Storage(_) => {}
            LockActor::Client(c) => c.on_start(ctx),
        }
    }

    fn on_msg(&mut self, ctx: &mut Ctx<'_, Self>, from: NodeId, msg: Msg) {
        match self {
            LockActor::Server(s) => s.on_msg(ctx, from, msg),
            LockActor::Storage(s) => s.on_msg(ctx, from, msg),
            LockActor::Client(c) => c.on_msg(ctx, from, msg),
        }
    }

    fn on_timer(&mut self, ctx: &mut Ctx<'_, Self>, timer: LockTimer) {
        if let LockActor::Client(c) = self {
            c.on_timer(ctx, timer);
        }
    }

    fn role(&self) -> Role {
        match self {
            LockActor::Client(c) if c.believes_held() => Some("holder"),
            _ => None,
        }
    }
}

/// The lock protocol: its setup, nodes and checkers.
#[derive(Clone, Debug)]
pub struct Lock {
    cluster: Cluster,
    lock_servers: Range<NodeId>,
    storage: NodeId,
    params: LockParams,
    flags: Flags,
}

impl Lock {
    /// The parsed parameters.
    pub fn params(&self) -> &LockParams {
        &self.params
    }
}

impl Protocol for Lock {
    type Actor = LockActor;
    type Model = LockModel;

    const NAME: &'static str = "lock";
    const ABOUT: &'static str =
        "Redlock over N lock servers with TTLs, a storage service, and optional fencing tokens";
    const MUTANTS: &'static [Mutant] = mutants::MUTANTS;
    const ROLES: &'static [&'static str] = &["holder"];
    const PARAMS: &'static [Param] = params::PARAMS;
    const CHECKERS: &'static [(&'static str, &'static str)] = &[
        (
            checkers::BELIEF_EXCLUSION,
            "at most one client believes it holds an unexpired lock, by true time",
        ),
        (
            checkers::EFFECT_EXCLUSION,
            "storage never accepts an earlier holder's write after a later holder's",
        ),
        (
            liveness::LOCK_LIVENESS,
            "after a holder crashes, the lock is taken again within TTL + drift + backoff",
        ),
    ];
    const GROUPS: &'static [GroupSpec] = &[
        GroupSpec {
            name: "lock_servers",
            about: "Redlock instances, each keeping the lock for a TTL on its own clock",
            size: GroupSize::Rest,
        },
        GroupSpec {
            name: "storage",
            about: "the storage service clients write to while holding the lock",
            size: GroupSize::Default(1),
        },
    ];

    fn setup(setup: &Setup<'_>) -> Result<Self, String> {
        let cluster = setup.cluster;
        // Laid out by GROUPS; a plain cluster (one group) gives its last server to storage.
        let (lock_servers, storage) =
            match (cluster.group("lock_servers"), cluster.group("storage")) {
                (Some(locks), Some(storage)) => (locks, storage),
                _ => (
                    0..cluster.servers.saturating_sub(1),
                    cluster.servers.saturating_sub(1)..cluster.servers,
                ),
            };
        if lock_servers.is_empty() {
            return Err("groups.lock_servers: the lock needs at least one lock server".into());
        }
        if storage.len() != 1 {
            return Err("groups.storage: the lock needs exactly one storage node".into());
        }
        let params = LockParams::parse(setup.params)?;
        let flags = Flags::from_names(setup.mutants)?;
        Ok(Lock {
            cluster,
            lock_servers,
            storage: storage.start,
            params,
            flags,
        })
    }

    fn new_actor(&self, id: NodeId) -> LockActor {
        let p = &self.params;
        if self.lock_servers.contains(&id) {
            LockActor::Server(LockServer::new(
                p.ttl(),
                p.delayed_restart,
                self.flags.unlock_any_token,
            ))
        } else if id == self.storage {
            LockActor::Storage(Storage::new(p.fencing))
        } else {
            let ms = Duration::from_millis;
            LockActor::Client(Client::new(ClientConfig {
                lock_servers: self.lock_servers.clone().collect(),
                storage: self.storage,
                ttl: p.ttl(),
                drift_allowance: if self.flags.no_drift_allowance {
                    Duration::ZERO
                } else {
                    p.drift_allowance()
                },
                round_timeout: ms(p.round_timeout_ms),
                backoff: (ms(p.backoff_ms_min), ms(p.backoff_ms_max)),
                work: ms(p.work_ms),
                think: (ms(p.think_ms_min), ms(p.think_ms_max)),
                write_timeout: ms(p.write_timeout_ms),
                holds: p.holds_per_client,
                fencing: p.fencing,
            }))
        }
    }

    fn checkers(&self) -> Vec<Box<dyn Checker<LockActor>>> {
        debug_assert!(self.cluster.servers > self.storage);
        vec![
            Box::new(checkers::BeliefExclusion::default()),
            Box::new(checkers::EffectExclusion::default()),
            Box::new(liveness::LockLiveness::new(self.params.liveness_bound())),
        ]
    }

    fn history_model(&self) -> Option<LockModel> {
        // Without fencing, tokens are not fenced and storage takes any write: nothing to check.
        self.params.fencing.then_some(LockModel)
    }
}
