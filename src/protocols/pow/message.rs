//! What miners send each other, their timer, and the notes they write for checkers and traces.

use super::block::{Block, BlockHash};
use crate::contract::{NodeId, NoteLabel};
use serde::Serialize;

/// A message between miners.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Msg {
    /// Gossip: a block the sender just mined, published or made its tip.
    Block {
        /// The block.
        block: Block,
    },
    /// Asks for the blocks between what the sender has (`have`, a locator, highest first) and
    /// `want` (the receiver's tip if `None`).
    GetBlocks {
        /// The block to reach.
        want: Option<BlockHash>,
        /// Blocks the sender has.
        have: Vec<BlockHash>,
    },
    /// The reply: consecutive blocks, oldest first.
    Blocks {
        /// The request's `want`.
        want: Option<BlockHash>,
        /// The blocks.
        blocks: Vec<Block>,
    },
}

/// A miner's one timer: it finds its next block when it fires.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PowTimer {
    /// The mining race's next win for this miner.
    Mine,
}

/// What a miner reports.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "note", rename_all = "snake_case")]
pub enum PowNote {
    /// The node found a block (its proof is real).
    Mined {
        /// Its hash.
        hash: BlockHash,
        /// Its height.
        height: u64,
    },
    /// The node stored a block in its tree: it checked its proof and linkage. The checker
    /// `valid_blocks` checks them again.
    Accepted {
        /// The block.
        block: Block,
        /// Who sent it (the node itself for its own).
        from: NodeId,
    },
    /// The node refused a block.
    Rejected {
        /// Its claimed hash.
        hash: BlockHash,
        /// Who sent it.
        from: NodeId,
        /// Why.
        why: &'static str,
    },
    /// The main chain's tip moved to a block that does not extend the old tip.
    Reorg {
        /// Blocks abandoned.
        depth: u64,
        /// The new tip's height.
        height: u64,
        /// The old tip.
        old_tip: BlockHash,
        /// The new tip.
        new_tip: BlockHash,
    },
    /// A selfish miner kept a block it found to itself.
    Withheld {
        /// Its hash.
        hash: BlockHash,
        /// Its height.
        height: u64,
    },
    /// A selfish miner released a withheld block.
    Published {
        /// Its hash.
        hash: BlockHash,
        /// Its height.
        height: u64,
    },
    /// A selfish miner gave its private branch up for the public chain.
    Abandoned {
        /// Withheld blocks thrown away.
        blocks: u64,
    },
    /// A miner tried `nonce_steps_max` nonces without finding a proof, and starts over.
    MiningExhausted {
        /// The height it was mining at.
        height: u64,
    },
    /// The node's store is full: it refused a block.
    StoreFull {
        /// The block refused.
        hash: BlockHash,
    },
    /// The orphan pool was full: the oldest orphan was dropped.
    OrphanDropped {
        /// Its hash.
        hash: BlockHash,
    },
}

impl NoteLabel for PowNote {
    fn label(&self) -> &'static str {
        match self {
            PowNote::Mined { .. } => "mined",
            PowNote::Accepted { .. } => "accepted",
            PowNote::Rejected { .. } => "rejected",
            PowNote::Reorg { .. } => "reorg",
            PowNote::Withheld { .. } => "withheld",
            PowNote::Published { .. } => "published",
            PowNote::Abandoned { .. } => "abandoned",
            PowNote::MiningExhausted { .. } => "mining_exhausted",
            PowNote::StoreFull { .. } => "store_full",
            PowNote::OrphanDropped { .. } => "orphan_dropped",
        }
    }
}
