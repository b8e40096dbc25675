//! Paxos's checkers, judged from ghost records of the acceptors' disks, never from what a proposer
//! believes.
//!
//! **Chosen.** A value is chosen in a slot once a majority of acceptors have accepted it in one
//! ballot (*Paxos Made Simple*). After each event that writes an `Accepted` note, the checker reads the
//! proposal the node's disk now holds for that slot and adds the node to the ghost set of acceptors of
//! `(slot, ballot, value)`. Sets only grow: an acceptor that later accepts a higher ballot still
//! counted for the lower one, which is the definition the paper's safety argument uses.
//!
//! - `agreement`: no two different values are ever chosen in one slot, and a learner only learns the
//!   chosen value (a `Learned` note for a slot with no chosen value, or another value, is a violation).
//! - `validity`: a value is only chosen if some proposer introduced it (a `Proposed` note: its own
//!   single-decree value, a client request, or a no-op filling a gap).
//! - `paxos_liveness` (single-decree mode): at the end of a run whose faults have all healed, every
//!   server has learned every instance (proposers keep proposing until they learn it).
//!
//! Cost per event: proportional to its notes, times a logarithm.

use super::PaxosActor;
use super::PaxosNote;
use super::message::{Ballot, CommandId, Slot};
use super::node::Mode;
use crate::contract::{Checker, Cluster, Failure, NodeId, Observation, RunEnd, Verdict};
use std::collections::{BTreeMap, BTreeSet};

/// Every Paxos checker for a run in `mode` (`instances`: the single-decree instances).
pub fn all(cluster: Cluster, mode: Mode, instances: u64) -> Vec<Box<dyn Checker<PaxosActor>>> {
    let mut all: Vec<Box<dyn Checker<PaxosActor>>> = vec![Box::new(Agreement::new(cluster))];
    if mode == Mode::Single {
        all.push(Box::new(SingleLiveness { instances }));
    }
    all
}

/// `agreement` and `validity`, from one ghost record of accepts.
#[derive(Clone, Debug)]
pub struct Agreement {
    majority: usize,
    /// Who accepted each proposal.
    votes: BTreeMap<(Slot, Ballot, CommandId), BTreeSet<NodeId>>,
    /// The first value chosen in each slot, with the ballot and the acceptors that chose it.
    chosen: BTreeMap<Slot, (CommandId, Ballot, Vec<NodeId>)>,
    /// Every value a proposer introduced.
    proposed: BTreeSet<CommandId>,
}

impl Agreement {
    /// An empty record.
    pub fn new(cluster: Cluster) -> Agreement {
        Agreement {
            majority: cluster.majority() as usize,
            votes: BTreeMap::new(),
            chosen: BTreeMap::new(),
            proposed: BTreeSet::new(),
        }
    }

    fn accepted(
        &mut self,
        node: NodeId,
        slot: Slot,
        ballot: Ballot,
        cmd: CommandId,
    ) -> Result<(), Failure> {
        let voters = self.votes.entry((slot, ballot, cmd)).or_default();
        voters.insert(node);
        if voters.len() < self.majority {
            return Ok(());
        }
        let voters: Vec<NodeId> = voters.iter().copied().collect();
        match self.chosen.get(&slot) {
            Some((first, b, by)) if *first != cmd => {
                return Err(Failure::of(
                    "agreement",
                    format!(
                        "slot {slot}: {cmd:?} is chosen in ballot ({}, {}) by acceptors {voters:?}, but {first:?} was chosen in ballot ({}, {}) by acceptors {by:?}",
                        ballot.round, ballot.node, b.round, b.node
                    ),
                ));
            }
            Some(_) => return Ok(()),
            None => {}
        }
        if !self.proposed.contains(&cmd) {
            return Err(Failure::of(
                "validity",
                format!(
                    "slot {slot}: {cmd:?} is chosen in ballot ({}, {}) by acceptors {voters:?}, but no proposer proposed it",
                    ballot.round, ballot.node
                ),
            ));
        }
        self.chosen.insert(slot, (cmd, ballot, voters));
        Ok(())
    }

    fn learned(&self, node: NodeId, slot: Slot, cmd: CommandId) -> Result<(), Failure> {
        match self.chosen.get(&slot) {
            Some((c, _, _)) if *c == cmd => Ok(()),
            Some((c, b, by)) => Err(Failure::of(
                "agreement",
                format!(
                    "server {node} learned {cmd:?} in slot {slot}, but {c:?} is chosen there (ballot ({}, {}), acceptors {by:?})",
                    b.round, b.node
                ),
            )),
            None => Err(Failure::of(
                "agreement",
                format!(
                    "server {node} learned {cmd:?} in slot {slot}, which no majority accepted in one ballot"
                ),
            )),
        }
    }
}

impl Checker<PaxosActor> for Agreement {
    fn needs_history(&self) -> bool {
        false
    }

    fn name(&self) -> &'static str {
        "agreement"
    }

    fn properties(&self) -> Vec<&'static str> {
        vec!["agreement", "validity"]
    }

    fn observe(&mut self, obs: &Observation<'_, PaxosActor>) -> Result<(), Failure> {
        if !obs.cluster.is_server(obs.node) {
            return Ok(());
        }
        let mut verdict = Ok(());
        for note in obs.notes {
            let r = match *note {
                PaxosNote::Proposed { cmd, .. } => {
                    self.proposed.insert(cmd);
                    Ok(())
                }
                PaxosNote::Accepted { slot, .. } => {
                    // What the acceptor's disk holds for the slot, not what the note says.
                    match obs.durable.server.accepted.get(&slot) {
                        Some((ballot, cmd)) => self.accepted(obs.node, slot, *ballot, cmd.id()),
                        None => Err(Failure::of(
                            "agreement",
                            format!(
                                "server {} noted an accept in slot {slot} that its disk does not hold",
                                obs.node
                            ),
                        )),
                    }
                }
                PaxosNote::Learned { slot, cmd } => self.learned(obs.node, slot, cmd),
                _ => Ok(()),
            };
            if verdict.is_ok() {
                verdict = r;
            }
        }
        verdict
    }
}

/// `paxos_liveness`: every server learns every single-decree instance once faults have healed.
#[derive(Clone, Debug)]
pub struct SingleLiveness {
    instances: u64,
}

impl Checker<PaxosActor> for SingleLiveness {
    fn needs_history(&self) -> bool {
        false
    }

    fn name(&self) -> &'static str {
        "paxos_liveness"
    }

    fn observe(&mut self, _obs: &Observation<'_, PaxosActor>) -> Result<(), Failure> {
        Ok(())
    }

    fn finish(&mut self, end: &RunEnd<'_, PaxosActor>) -> Vec<(&'static str, Verdict)> {
        let verdict = if end.ended_early {
            Verdict::Unknown("not judged: the run stopped before its end".into())
        } else if end.faults_in_force {
            Verdict::Unknown("not judged: a fault was still in force at the end".into())
        } else {
            let missing = end
                .nodes
                .iter()
                .enumerate()
                .take(end.cluster.servers as usize)
                .find_map(|(id, n)| {
                    let learned = n.durable.server.first_unchosen();
                    (learned < self.instances).then_some((id, learned))
                });
            match missing {
                None => Verdict::Pass,
                Some((id, learned)) => Verdict::Fail(format!(
                    "server {id} has learned only instances below {learned} of {} at the end ({}); the last fault was at {:?}",
                    self.instances, end.now, end.last_fault
                )),
            }
        };
        vec![("paxos_liveness", verdict)]
    }
}
