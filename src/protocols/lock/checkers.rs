//! The lock's safety checkers: belief exclusion and effect exclusion.
//!
//! **Belief exclusion** judges what clients believe, by true time. A client notes `acquired` with the
//! validity left on its own clock (`remaining_ns`). The checker sees the true time of that event
//! (`Observation::now`) and converts the belief into a true-time interval
//! `[now, now + remaining_ns)`: only a local *duration* is converted, so a client's clock offset
//! cancels out, and the conversion is exact for a client whose clock runs at the true rate (clock
//! faults in the scenarios hit lock servers; a client with a drifting clock would be judged off by at
//! most its drift times the validity). The interval ends early when the client notes `released` or
//! `expired`. A crashed client's interval runs to its end: it can no longer act on it, but its
//! validity is shorter than the servers' TTL, so a correct lock never needs it to end early. When a
//! client notes `acquired` while another client's interval is still open, two clients believe they
//! hold the lock at once.
//!
//! **Effect exclusion** judges what storage did. Every acquisition gets a ghost number in the true-time
//! order of the `acquired` notes. Storage notes the acquisition each accepted write was made under;
//! once it has accepted a write of acquisition `k`, accepting one of any earlier acquisition `j < k` is
//! an interleaving of two holders' writes (the earlier holder wrote after its successor had started).

use super::LockActor;
use super::note::LockNote;
use crate::contract::{Checker, Failure, NodeId, Observation, Time};
use std::collections::BTreeMap;

/// Property: at most one client believes it holds an unexpired lock, by true time.
pub const BELIEF_EXCLUSION: &str = "belief_exclusion";
/// Property: storage never accepts a write of an earlier holder after one of a later holder.
pub const EFFECT_EXCLUSION: &str = "effect_exclusion";

/// One client's belief: the acquisition and the true-time interval.
#[derive(Clone, Copy, Debug)]
struct Belief {
    nonce: u64,
    since: Time,
    until: Time,
}

/// The belief-exclusion checker.
#[derive(Debug, Default)]
pub struct BeliefExclusion {
    beliefs: BTreeMap<NodeId, Belief>,
}

impl Checker<LockActor> for BeliefExclusion {
    fn needs_history(&self) -> bool {
        false
    }

    fn name(&self) -> &'static str {
        BELIEF_EXCLUSION
    }

    fn observe(&mut self, obs: &Observation<'_, LockActor>) -> Result<(), Failure> {
        for note in obs.notes {
            match *note {
                LockNote::Acquired {
                    nonce,
                    remaining_ns,
                    ..
                } => {
                    let clash = self
                        .beliefs
                        .iter()
                        .find(|(c, b)| **c != obs.node && b.until > obs.now);
                    if let Some((other, b)) = clash {
                        return Err(Failure::of(
                            BELIEF_EXCLUSION,
                            format!(
                                "client {} acquired the lock at {} while client {} believed it held it (since {}, valid until {} by true time)",
                                obs.node, obs.now, other, b.since, b.until
                            ),
                        ));
                    }
                    let until = Time(obs.now.as_nanos().saturating_add(remaining_ns));
                    self.beliefs.insert(
                        obs.node,
                        Belief {
                            nonce,
                            since: obs.now,
                            until,
                        },
                    );
                }
                LockNote::Released { nonce } | LockNote::Expired { nonce } => {
                    if let Some(b) = self.beliefs.get_mut(&obs.node)
                        && b.nonce == nonce
                    {
                        b.until = b.until.min(obs.now);
                    }
                }
                _ => {}
            }
        }
        Ok(())
    }
}

/// The effect-exclusion checker.
#[derive(Debug, Default)]
pub struct EffectExclusion {
    /// Each acquisition's ghost number (its place in the true-time order of acquisitions) and client.
    order: BTreeMap<u64, (u64, NodeId)>,
    /// The latest acquisition storage accepted a write of: its number, nonce and client.
    latest: Option<(u64, u64, NodeId)>,
}

impl Checker<LockActor> for EffectExclusion {
    fn needs_history(&self) -> bool {
        false
    }

    fn name(&self) -> &'static str {
        EFFECT_EXCLUSION
    }

    fn observe(&mut self, obs: &Observation<'_, LockActor>) -> Result<(), Failure> {
        for note in obs.notes {
            match *note {
                LockNote::Acquired { nonce, .. } => {
                    let n = self.order.len() as u64;
                    self.order.entry(nonce).or_insert((n, obs.node));
                }
                LockNote::WriteAccepted {
                    client,
                    nonce,
                    token,
                    ..
                } => {
                    let Some(&(n, _)) = self.order.get(&nonce) else {
                        return Err(Failure::of(
                            EFFECT_EXCLUSION,
                            format!(
                                "storage accepted a write from client {client} (token {token}) under an acquisition that never succeeded"
                            ),
                        ));
                    };
                    if let Some((latest, _, by)) = self.latest
                        && n < latest
                    {
                        return Err(Failure::of(
                            EFFECT_EXCLUSION,
                            format!(
                                "storage accepted a write from client {client} (acquisition #{n}, token {token}) at {} after one from client {by} (acquisition #{latest}): two holders' writes interleave",
                                obs.now
                            ),
                        ));
                    }
                    self.latest = Some((n, nonce, client));
                }
                _ => {}
            }
        }
        Ok(())
    }
}
