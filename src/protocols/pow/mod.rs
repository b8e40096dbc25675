//! Proof-of-work blockchain (Nakamoto, "Bitcoin: A Peer-to-Peer Electronic Cash System", 2008),
//! with selfish mining (Eyal and Sirer, FC 2014) and forging miners.
//!
//! Every server is a miner with a share of the hash power (`shares`). Mining is a seeded race: a
//! miner's time to its next block is exponential with mean `block_interval_ms / share`, drawn from
//! its own stream in integer arithmetic (`race.rs`) and drawn afresh whenever the block it mines on
//! changes. When it wins, it builds a header (parent hash, height, miner, timestamp, nonce, payload
//! digest) and searches nonces for a real SHA-256 proof: a header hash with `difficulty_bits`
//! leading zero bits, trying at most `nonce_steps_max` nonces (`block.rs`). So the race decides
//! *when* a block is found, and the proof is real work that every node verifies.
//!
//! Nodes gossip blocks, check each one (hash, work, payload digest, known parent, height), keep
//! the longest chain (all blocks weigh the same, so the longest is the one with the most work) and
//! break ties by the block seen first; a block with an unknown parent waits in a bounded orphan
//! pool while its sender is asked for the missing ancestors in bounded batches (`node.rs`). After
//! a partition heals, the first block that crosses it makes the side with the shorter chain fetch
//! and adopt the longer one: a reorganisation, noted with its depth.
//!
//! Byzantine miners: `selfish` servers run Eyal and Sirer's withholding strategy (`selfish.rs`);
//! a server made Byzantine with `"mode": "forge"` sends forged blocks without proofs
//! (`adversary.rs`). What the checkers promise (`checkers.rs`): `valid_blocks` (no honest node
//! stores an invalid block), `k_deep_agreement` (honest nodes agree on every block k deep, once
//! faults have healed and settled) and `chain_report` (a selfish miner's share of the main chain
//! against its hash power, and the reorganisations).
//!
//! Bounds: the chain stops at `height_max`, a node stores at most `blocks_max` blocks and
//! `orphans_max` orphans, a sync reply carries at most `batch_max` blocks and a locator at most
//! 32 hashes, and a miner tries at most `nonce_steps_max` nonces for a block.
//!
//! Clients have nothing to do here: a scenario's clients are idle nodes that neither mine nor
//! hear anything (gossip goes to servers only).
//!
//! Not modelled: transactions, difficulty adjustment (the difficulty is fixed), and timestamp
//! rules (clocks may be skewed, so a header's timestamp is informative only).

pub mod adversary;
pub mod block;
pub mod chain;
pub mod checkers;
pub mod message;
pub mod mutants;
pub mod node;
pub mod params;
pub mod race;
pub mod selfish;

#[cfg(test)]
mod tests;

use crate::contract::{
    Adversary, Checker, Duration, Mutant, NoModel, NodeId, Param, Protocol, Setup,
};
use adversary::Forger;
use mutants::Flags;
use node::{Miner, MinerConfig};
use params::PowParams;

/// The proof-of-work protocol for one run.
pub struct Pow {
    params: PowParams,
    /// The servers the scenario's faults make Byzantine (told by the engine): not judged.
    byzantine: Vec<NodeId>,
    servers: u32,
    flags: Flags,
}

impl Pow {
    /// The servers the checkers do not judge: selfish and Byzantine ones.
    fn excluded(&self) -> Vec<NodeId> {
        let mut ids = self.params.selfish.clone();
        ids.extend(&self.byzantine);
        ids.sort_unstable();
        ids.dedup();
        ids
    }
}

impl Protocol for Pow {
    type Actor = Miner;
    type Model = NoModel;

    const NAME: &'static str = "pow";
    const ABOUT: &'static str = "proof-of-work blockchain (Nakamoto 2008): SHA-256 proofs, longest chain, reorganisation, selfish mining";
    const MUTANTS: &'static [Mutant] = mutants::MUTANTS;
    const ATTACKS: &'static [(&'static str, &'static str)] = &[
        (
            "forge",
            "gossiped and synced blocks are replaced by well-formed blocks with a made-up payload \
             and no proof of work",
        ),
        (
            "equivocate",
            "odd-numbered receivers get the forgeries, even-numbered ones the true blocks",
        ),
    ];
    const ROLES: &'static [&'static str] = &["miner", "selfish_miner"];
    const PARAMS: &'static [Param] = params::PARAMS;
    const CHECKERS: &'static [(&'static str, &'static str)] = &[
        (
            "valid_blocks",
            "no honest node stores a block whose proof of work, parent or height does not hold (re-verified)",
        ),
        (
            "k_deep_agreement",
            "honest nodes agree on every block with `confirmations` blocks above it, once faults have healed and settled",
        ),
        (
            "chain_report",
            "a report, never a violation: main-chain share per miner against hash power (selfish miners), reorganisations",
        ),
    ];

    fn setup(setup: &Setup<'_>) -> Result<Self, String> {
        let servers = setup.cluster.servers;
        if servers == 0 {
            return Err("nodes: proof-of-work needs at least one miner".into());
        }
        Ok(Pow {
            params: PowParams::parse(setup.params, servers)?,
            byzantine: Vec::new(),
            servers,
            flags: Flags::from_names(setup.mutants)?,
        })
    }

    fn new_actor(&self, id: NodeId) -> Miner {
        let p = &self.params;
        if id >= self.servers {
            return Miner::idle();
        }
        let (weight, total) = p.weight(id, self.servers);
        let interval_ns = Duration::from_millis(p.block_interval_ms).as_nanos();
        Miner::new(MinerConfig {
            mean_ns: race::mean_ns(interval_ns, weight, total),
            difficulty_bits: p.difficulty_bits,
            nonce_steps_max: p.nonce_steps_max,
            height_max: p.height_max,
            blocks_max: p.blocks_max as usize,
            orphans_max: p.orphans_max as usize,
            batch_max: p.batch_max as usize,
            sync_retry: Duration::from_millis(p.sync_retry_ms),
            selfish: p.selfish.contains(&id),
            flags: self.flags,
        })
    }

    fn byzantine_nodes(&mut self, nodes: &[NodeId]) {
        self.byzantine = nodes.to_vec();
    }

    fn checkers(&self) -> Vec<Box<dyn Checker<Miner>>> {
        let p = &self.params;
        let weights = (0..self.servers)
            .map(|id| p.weight(id, self.servers).0)
            .collect();
        vec![
            Box::new(checkers::ValidBlocks::new(
                p.difficulty_bits,
                self.byzantine.clone(),
            )),
            Box::new(checkers::KDeepAgreement::new(
                p.confirmations,
                p.settle_ms(),
                self.excluded(),
            )),
            Box::new(checkers::ChainReport::new(
                weights,
                p.selfish.clone(),
                self.excluded(),
            )),
        ]
    }

    fn adversary(&self, _node: NodeId) -> Option<Box<dyn Adversary<Miner>>> {
        Some(Box::new(Forger {
            difficulty_bits: self.params.difficulty_bits,
        }))
    }
}
