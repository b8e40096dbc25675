//! A node's block tree and its main chain (the node's disk).
//!
//! Every block the node accepted is kept by hash, genesis included; `main[h]` is the hash of the
//! main chain's block at height `h`. Every block costs the same work, so the chain with the most
//! work is the longest one, and a tie keeps the chain seen first (a block replaces the tip only if
//! it is strictly higher). The store is bounded (`blocks_max`); so is every walk along it, by the
//! chain's height.

use super::block::{Block, BlockHash};
use std::collections::{BTreeMap, BTreeSet};

/// The most hashes a block locator (the `have` of a sync request) may carry.
pub const LOCATOR_MAX: usize = 32;

/// A node's blocks.
#[derive(Clone, Debug)]
pub struct Chain {
    blocks: BTreeMap<BlockHash, Block>,
    main: Vec<BlockHash>,
}

impl Default for Chain {
    fn default() -> Self {
        let genesis = Block::genesis();
        let hash = genesis.hash;
        Chain {
            blocks: BTreeMap::from([(hash, genesis)]),
            main: vec![hash],
        }
    }
}

/// How the main chain's tip moved.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TipMove {
    /// The tip before.
    pub old_tip: BlockHash,
    /// The height of the last block the old and new chains share.
    pub fork_height: u64,
    /// How many main-chain blocks were abandoned (0: the new tip extends the old one).
    pub depth: u64,
}

impl Chain {
    /// The genesis block's hash.
    pub fn genesis(&self) -> BlockHash {
        self.main[0]
    }

    /// The main chain's tip.
    pub fn tip(&self) -> BlockHash {
        *self.main.last().expect("the main chain holds genesis")
    }

    /// The tip's height.
    pub fn height(&self) -> u64 {
        self.main.len() as u64 - 1
    }

    /// The main chain, by height.
    pub fn main(&self) -> &[BlockHash] {
        &self.main
    }

    /// How many blocks are stored, genesis included.
    pub fn len(&self) -> usize {
        self.blocks.len()
    }

    /// Whether only genesis is stored.
    pub fn is_empty(&self) -> bool {
        self.blocks.len() <= 1
    }

    /// Whether the block is stored.
    pub fn contains(&self, hash: &BlockHash) -> bool {
        self.blocks.contains_key(hash)
    }

    /// The stored block.
    pub fn get(&self, hash: &BlockHash) -> Option<&Block> {
        self.blocks.get(hash)
    }

    /// A stored block's height.
    pub fn height_of(&self, hash: &BlockHash) -> Option<u64> {
        self.blocks.get(hash).map(|b| b.header.height)
    }

    /// Stores a block whose parent is stored and whose height is the parent's plus one (the
    /// caller checked both, and the proof). The main chain does not move.
    pub fn insert(&mut self, block: Block) {
        debug_assert_eq!(
            self.height_of(&block.header.parent).map(|h| h + 1),
            Some(block.header.height),
            "linkage checked before insert"
        );
        self.blocks.insert(block.hash, block);
    }

    /// Makes `hash` (a stored block) the tip if it is strictly higher than the tip (the longest
    /// chain wins; a tie keeps the first seen). With `extend_only` (the `pow.no_reorg` bug) it
    /// must also descend from the tip. Returns how the tip moved, or `None` if it did not.
    pub fn adopt_if_longer(&mut self, hash: BlockHash, extend_only: bool) -> Option<TipMove> {
        let height = self.height_of(&hash)?;
        if height <= self.height() {
            return None;
        }
        // Walk back to the main chain, collecting the new branch (bounded by the height).
        let mut branch = Vec::new();
        let mut at = hash;
        loop {
            let h = self
                .height_of(&at)
                .expect("stored blocks have stored parents");
            if self.main.get(h as usize) == Some(&at) {
                break;
            }
            branch.push(at);
            at = self.blocks[&at].header.parent;
        }
        let fork_height = self.height_of(&at).expect("stored");
        let old_tip = self.tip();
        let depth = self.height() - fork_height;
        if extend_only && depth > 0 {
            return None;
        }
        self.main.truncate(fork_height as usize + 1);
        self.main.extend(branch.into_iter().rev());
        debug_assert_eq!(self.tip(), hash);
        Some(TipMove {
            old_tip,
            fork_height,
            depth,
        })
    }

    /// The ancestor of `hash` at `height` (the block itself at its own height).
    pub fn ancestor_at(&self, hash: BlockHash, height: u64) -> Option<BlockHash> {
        let mut at = hash;
        loop {
            let h = self.height_of(&at)?;
            if h == height {
                return Some(at);
            }
            if h < height {
                return None;
            }
            at = self.blocks[&at].header.parent;
        }
    }

    /// A block locator of the main chain: the ten highest blocks, then every power-of-two step
    /// back, then genesis; at most [`LOCATOR_MAX`] hashes, highest first.
    pub fn locator(&self) -> Vec<BlockHash> {
        let mut out = Vec::new();
        let mut h = self.height();
        let mut step = 1;
        while h > 0 && out.len() < LOCATOR_MAX - 1 {
            out.push(self.main[h as usize]);
            if out.len() >= 10 {
                step *= 2;
            }
            h = h.saturating_sub(step);
        }
        out.push(self.genesis());
        out
    }

    /// What a peer that has the blocks in `have` needs to reach `want` (the tip if `None`): the
    /// first `max` blocks after the highest ancestor of `want` in `have` (genesis if none),
    /// oldest first. Empty if `want` is unknown.
    pub fn serve(&self, want: Option<BlockHash>, have: &[BlockHash], max: usize) -> Vec<Block> {
        let start = want.unwrap_or_else(|| self.tip());
        if !self.contains(&start) {
            return Vec::new();
        }
        let have: BTreeSet<&BlockHash> = have.iter().take(LOCATOR_MAX + 1).collect();
        let mut path = Vec::new();
        let mut at = start;
        while !have.contains(&at) && at != self.genesis() {
            path.push(at);
            at = self.blocks[&at].header.parent;
        }
        path.iter()
            .rev()
            .take(max)
            .map(|h| self.blocks[h].clone())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::super::block::{Header, search_nonce};
    use super::*;

    /// A block on `parent` (mined for real, at difficulty 4).
    pub fn child(chain: &Chain, parent: BlockHash, miner: u32) -> Block {
        let height = chain.height_of(&parent).expect("parent") + 1;
        let payload = format!("coinbase {miner} {height}");
        let header = Header {
            parent,
            height,
            miner,
            timestamp_ms: height,
            nonce: 0,
            payload_digest: BlockHash::of(payload.as_bytes()),
        };
        search_nonce(header, payload, 4, 0, 1 << 16).expect("found")
    }

    fn grow(chain: &mut Chain, from: BlockHash, n: u64, miner: u32) -> BlockHash {
        let mut at = from;
        for _ in 0..n {
            let b = child(chain, at, miner);
            at = b.hash;
            chain.insert(b);
        }
        at
    }

    #[test]
    fn the_longest_chain_wins_and_a_tie_keeps_the_first() {
        let mut c = Chain::default();
        let g = c.genesis();
        let a2 = grow(&mut c, g, 2, 1);
        assert!(c.adopt_if_longer(a2, false).is_some());
        assert_eq!(c.height(), 2);
        let b2 = grow(&mut c, g, 2, 2);
        assert_eq!(
            c.adopt_if_longer(b2, false),
            None,
            "a tie keeps the first seen"
        );
        let b3 = grow(&mut c, b2, 1, 2);
        assert_eq!(
            c.adopt_if_longer(b3, true),
            None,
            "no_reorg keeps its chain"
        );
        let moved = c.adopt_if_longer(b3, false).expect("longer");
        assert_eq!(moved.depth, 2);
        assert_eq!(moved.fork_height, 0);
        assert_eq!(moved.old_tip, a2);
        assert_eq!(c.tip(), b3);
        assert_eq!(c.main().len(), 4);
        assert_eq!(c.ancestor_at(b3, 2), Some(b2));
        assert_eq!(c.ancestor_at(a2, 3), None);
    }

    #[test]
    fn serving_sends_what_the_peer_lacks_in_batches() {
        let mut c = Chain::default();
        let g = c.genesis();
        let tip = grow(&mut c, g, 30, 1);
        c.adopt_if_longer(tip, false);
        let mut peer = Chain::default();
        let first = c.serve(Some(tip), &peer.locator(), 8);
        assert_eq!(first.len(), 8);
        assert_eq!(first[0].header.height, 1);
        for b in &first {
            peer.insert(b.clone());
        }
        let last = first.last().expect("some").hash;
        let mut have = vec![last];
        have.extend(peer.locator());
        let second = c.serve(Some(tip), &have, 8);
        assert_eq!(second[0].header.height, 9);
        assert!(c.serve(Some(BlockHash::default()), &have, 8).is_empty());
        assert!(c.locator().len() <= LOCATOR_MAX);
        assert_eq!(c.locator()[0], tip);
        assert_eq!(*c.locator().last().expect("genesis"), g);
    }
}
