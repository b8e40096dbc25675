//! PBFT's Byzantine replicas: what an equivocating or forging replica sends.
//!
//! Channels are authenticated and client requests are signed, so a Byzantine primary cannot invent
//! a client's request; what it can do is order *different* things at one sequence number. Under
//! `equivocate`, servers with an even id get the honest message and servers with an odd id a
//! version for the null request (a no-op). Byzantine replicas of one collusion group (faults with
//! the same `"collude"`) hear the pre-prepares the others send, so every one of them tells each
//! receiver the same story: with f + 1 of them, the two halves of the correct replicas can each
//! commit their own version. A replica acting alone knows only the pre-prepares it sent itself.
//! Under `forge`, replies carry a made-up result and prepares, commits and checkpoints a made-up
//! digest.

use super::PbftActor;
use super::digest::{DigestKind, digest};
use super::message::{Msg, Request, Seq, View};
use crate::contract::{Adversary, NodeId, Tamper, Value};
use std::collections::BTreeMap;

/// The most pre-prepares a Byzantine replica remembers; the oldest go first.
pub const KNOWN_MAX: usize = 4096;

/// One Byzantine replica.
pub struct PbftAdversary {
    /// The digest function of the run.
    pub digest_kind: DigestKind,
    /// The honest request of each pre-prepare this replica or a colluder sent.
    known: BTreeMap<(View, Seq), Option<Request>>,
}

impl PbftAdversary {
    /// A Byzantine replica that knows nothing yet.
    pub fn new(digest_kind: DigestKind) -> PbftAdversary {
        PbftAdversary {
            digest_kind,
            known: BTreeMap::new(),
        }
    }

    fn honest_digest(&self, view: View, seq: Seq) -> Option<String> {
        self.known
            .get(&(view, seq))
            .map(|r| digest(self.digest_kind, r.as_ref()))
    }

    /// Remembers the honest request of a pre-prepare.
    fn learn(&mut self, msg: &Msg) {
        if let Msg::PrePrepare {
            view, seq, request, ..
        } = msg
        {
            self.known
                .entry((*view, *seq))
                .or_insert_with(|| request.clone());
            if self.known.len() > KNOWN_MAX {
                self.known.pop_first();
            }
        }
    }
}

impl Adversary<PbftActor> for PbftAdversary {
    fn saw(&mut self, _ctx: &mut Tamper<'_>, msg: &Msg) {
        self.learn(msg);
    }

    fn colluder_sent(&mut self, _from: NodeId, _to: NodeId, msg: &Msg) {
        self.learn(msg);
    }

    fn equivocate(&mut self, ctx: &mut Tamper<'_>, msg: &Msg) -> Option<Msg> {
        let odd = ctx.to % 2 == 1;
        let null = digest(self.digest_kind, None);
        match msg {
            Msg::PrePrepare {
                view,
                seq,
                request: Some(_),
                ..
            } if odd => Some(Msg::PrePrepare {
                view: *view,
                seq: *seq,
                digest: null,
                request: None,
            }),
            Msg::Prepare { view, seq, .. } | Msg::Commit { view, seq, .. } => {
                let told = if odd {
                    Some(null)
                } else {
                    self.honest_digest(*view, *seq)
                }?;
                Some(match msg {
                    Msg::Prepare { .. } => Msg::Prepare {
                        view: *view,
                        seq: *seq,
                        digest: told,
                    },
                    _ => Msg::Commit {
                        view: *view,
                        seq: *seq,
                        digest: told,
                    },
                })
            }
            _ => None,
        }
    }

    fn forge(&mut self, ctx: &mut Tamper<'_>, msg: &Msg) -> Option<Msg> {
        let made_up = format!("forged-{}", ctx.rng.below(1_000_000));
        match msg {
            Msg::Reply {
                view, timestamp, ..
            } => Some(Msg::Reply {
                view: *view,
                timestamp: *timestamp,
                result: Value::Str(made_up),
            }),
            Msg::Prepare { view, seq, .. } => Some(Msg::Prepare {
                view: *view,
                seq: *seq,
                digest: made_up,
            }),
            Msg::Commit { view, seq, .. } => Some(Msg::Commit {
                view: *view,
                seq: *seq,
                digest: made_up,
            }),
            Msg::Checkpoint { seq, .. } => Some(Msg::Checkpoint {
                seq: *seq,
                digest: made_up,
            }),
            _ => None,
        }
    }
}
