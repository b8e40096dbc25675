//! A forging miner: the Byzantine part of proof-of-work.
//!
//! Channels are authenticated, so a forger cannot pose as another miner; what it can do is send
//! blocks it did not do the work for. Under `forge`, every block it sends (gossip, or the last of
//! a sync reply) is replaced by a forgery on the same parent and at the same height: a new payload
//! (a made-up coinbase paying the forger), its digest and the rehashed header, consistent in every
//! field except the proof of work, which it lacks (the nonce is moved until the hash misses the
//! difficulty). Under `equivocate`, servers with an odd id get such forgeries and the others the
//! honest blocks, so the network hears two stories. Honest nodes reject every forgery; a node that skips the proof check
//! (`pow.skip_proof_check`) stores it, and the checker `valid_blocks` fires.

use super::block::{Block, BlockHash};
use super::message::Msg;
use super::node::Miner;
use crate::contract::{Adversary, Tamper};

/// One forging miner.
pub struct Forger {
    /// The run's difficulty, which a forgery must miss.
    pub difficulty_bits: u32,
}

impl Forger {
    fn forge_block(&self, ctx: &mut Tamper<'_>, block: &Block) -> Block {
        let payload = format!(
            "forged by miner {}: pays {}",
            ctx.node,
            ctx.rng.below(1_000_000)
        );
        let mut header = block.header.clone();
        header.miner = ctx.node;
        header.payload_digest = BlockHash::of(payload.as_bytes());
        let mut hash = header.hash();
        // A forgery that met the difficulty by chance (one in 2^bits) would be a real block.
        for _ in 0..64 {
            if hash.leading_zero_bits() < self.difficulty_bits {
                break;
            }
            header.nonce = header.nonce.wrapping_add(1);
            hash = header.hash();
        }
        Block {
            hash,
            header,
            payload,
        }
    }
}

impl Adversary<Miner> for Forger {
    fn forge(&mut self, ctx: &mut Tamper<'_>, msg: &Msg) -> Option<Msg> {
        match msg {
            Msg::Block { block } => Some(Msg::Block {
                block: self.forge_block(ctx, block),
            }),
            Msg::Blocks { want, blocks } => {
                let (last, rest) = blocks.split_last()?;
                let mut blocks = rest.to_vec();
                blocks.push(self.forge_block(ctx, last));
                Some(Msg::Blocks {
                    want: *want,
                    blocks,
                })
            }
            Msg::GetBlocks { .. } => None,
        }
    }

    fn equivocate(&mut self, ctx: &mut Tamper<'_>, msg: &Msg) -> Option<Msg> {
        if ctx.to % 2 == 1 {
            self.forge(ctx, msg)
        } else {
            None
        }
    }
}
