//! A miner: mines on its tip (or, if selfish, on its private branch), checks every block it
//! receives, follows the longest chain, and fetches missing ancestors from whoever sent a block
//! it cannot connect.
//!
//! Gossip: a node sends a block it mines to every peer, and whenever its tip moves because of
//! what it received it relays the new tip to every peer but the sender, so blocks flood the
//! network (a selfish miner relays nothing but what it publishes). A block whose parent is
//! unknown waits in a bounded orphan pool while the node asks the sender for the blocks between
//! its own chain (a locator) and that block (`GetBlocks`); replies come in batches of at most
//! `batch_max`, and a full batch that connected asks for the next one. After a restart a node asks
//! every peer for its tip the same way.
//!
//! Every received block is checked before it is stored: its claimed hash is its header's SHA-256,
//! the hash has `difficulty_bits` leading zeros, the payload matches its digest, its parent is
//! known and its height is the parent's plus one. A block failing any of these is refused and
//! noted (`rejected`); its sender is not trusted with anything else.

use super::block::{Block, BlockHash, Header, search_nonce};
use super::chain::Chain;
use super::message::{Msg, PowNote, PowTimer};
use super::mutants::Flags;
use super::race;
use super::selfish::{Release, Withholding, on_own_block, on_public_growth};
use crate::contract::{Actor, Ctx, Duration, NodeId, Role, Time};
use std::collections::BTreeMap;

/// What a miner is configured with.
#[derive(Clone, Copy, Debug)]
pub struct MinerConfig {
    /// Mean time to its next block, ns (`None`: no hash power).
    pub mean_ns: Option<u64>,
    /// Leading zero bits of a valid block's hash.
    pub difficulty_bits: u32,
    /// Nonces tried per block at most.
    pub nonce_steps_max: u64,
    /// It stops mining at this height.
    pub height_max: u64,
    /// Most blocks stored.
    pub blocks_max: usize,
    /// Most orphans held.
    pub orphans_max: usize,
    /// Most blocks in a sync reply.
    pub batch_max: usize,
    /// Least time between gossip-triggered sync requests to one peer.
    pub sync_retry: Duration,
    /// Whether it mines selfishly.
    pub selfish: bool,
    /// Planted bugs.
    pub flags: Flags,
}

/// A miner's disk: its blocks, a selfish miner's private state, and whether it started before.
#[derive(Clone, Debug, Default)]
pub struct Disk {
    /// Its block tree and main chain (a selfish miner's main chain is the public one).
    pub chain: Chain,
    /// A selfish miner's private branch.
    pub withholding: Withholding,
    /// Whether the node has started before (so that a restart resyncs).
    pub started: bool,
    /// Blocks it mined (numbers its coinbase payloads).
    pub mined: u64,
}

/// A miner.
#[derive(Clone, Debug)]
pub struct Miner {
    cfg: MinerConfig,
    /// Blocks whose parent is unknown, oldest first, with their senders.
    orphans: Vec<(Block, NodeId)>,
    /// When it last asked each peer for missing ancestors (local clock).
    last_request: BTreeMap<NodeId, Time>,
    /// The block its current race was drawn for.
    mining_on: Option<BlockHash>,
    /// A client: it does nothing.
    idle: bool,
}

impl Miner {
    /// A miner with its configuration.
    pub fn new(cfg: MinerConfig) -> Miner {
        Miner {
            cfg,
            orphans: Vec::new(),
            last_request: BTreeMap::new(),
            mining_on: None,
            idle: false,
        }
    }

    /// An idle node (a scenario's client): no hash power, no role, nothing to gossip.
    pub fn idle() -> Miner {
        let mut idle = Miner::new(MinerConfig {
            mean_ns: None,
            difficulty_bits: super::params::DIFFICULTY_BITS_MAX,
            nonce_steps_max: 1,
            height_max: 0,
            blocks_max: 16,
            orphans_max: 1,
            batch_max: 1,
            sync_retry: Duration::ZERO,
            selfish: false,
            flags: Flags::default(),
        });
        idle.idle = true;
        idle
    }

    /// Whether it mines selfishly.
    pub fn is_selfish(&self) -> bool {
        self.cfg.selfish
    }

    /// How many orphans it holds.
    pub fn orphan_count(&self) -> usize {
        self.orphans.len()
    }

    fn mining_target(&self, disk: &Disk) -> BlockHash {
        disk.withholding
            .private_tip
            .unwrap_or_else(|| disk.chain.tip())
    }

    /// Restarts the race if the block it mines on changed (memorylessness makes a fresh draw
    /// exact), or stops it at `height_max`.
    fn remine(&mut self, ctx: &mut Ctx<'_, Self>) {
        let target = self.mining_target(ctx.durable());
        if self.mining_on == Some(target) {
            return;
        }
        self.mining_on = Some(target);
        let height = ctx.durable().chain.height_of(&target).unwrap_or(0);
        match self.cfg.mean_ns {
            Some(mean) if height < self.cfg.height_max => {
                let after = race::draw_ns(ctx.rng(), mean);
                ctx.set_timer(PowTimer::Mine, Duration::from_nanos(after));
            }
            _ => ctx.cancel_timer(PowTimer::Mine),
        }
    }

    fn mine(&mut self, ctx: &mut Ctx<'_, Self>) {
        self.mining_on = None;
        let id = ctx.id();
        let parent = self.mining_target(ctx.durable());
        let Some(parent_height) = ctx.durable().chain.height_of(&parent) else {
            return;
        };
        if parent_height >= self.cfg.height_max {
            return;
        }
        let disk = ctx.durable_mut();
        disk.mined += 1;
        let payload = format!("coinbase miner {id} block {}", disk.mined);
        let header = Header {
            parent,
            height: parent_height + 1,
            miner: id,
            timestamp_ms: ctx.now().as_millis(),
            nonce: 0,
            payload_digest: BlockHash::of(payload.as_bytes()),
        };
        let start = ctx.rng().next_u64();
        let Some(block) = search_nonce(
            header,
            payload,
            self.cfg.difficulty_bits,
            start,
            self.cfg.nonce_steps_max,
        ) else {
            ctx.note(PowNote::MiningExhausted {
                height: parent_height + 1,
            });
            return;
        };
        debug_assert_eq!(block.check_proof(self.cfg.difficulty_bits), Ok(()));
        ctx.note(PowNote::Mined {
            hash: block.hash,
            height: block.header.height,
        });
        if !self.store(ctx, id, block.clone()) {
            return;
        }
        if self.cfg.selfish {
            self.selfish_found(ctx, &block);
        } else {
            self.adopt(ctx, block.hash);
            ctx.broadcast(Msg::Block { block });
        }
    }

    /// Stores a checked block whose parent is stored; `false` if the store is full.
    fn store(&mut self, ctx: &mut Ctx<'_, Self>, from: NodeId, block: Block) -> bool {
        if ctx.durable().chain.len() >= self.cfg.blocks_max {
            ctx.note(PowNote::StoreFull { hash: block.hash });
            return false;
        }
        ctx.durable_mut().chain.insert(block.clone());
        ctx.note(PowNote::Accepted { block, from });
        true
    }

    /// Makes `hash` the tip if its chain is longer, noting a reorganisation.
    fn adopt(&mut self, ctx: &mut Ctx<'_, Self>, hash: BlockHash) {
        let extend_only = self.cfg.flags.no_reorg;
        let chain = &mut ctx.durable_mut().chain;
        if let Some(moved) = chain.adopt_if_longer(hash, extend_only)
            && moved.depth > 0
        {
            let height = chain.height();
            ctx.note(PowNote::Reorg {
                depth: moved.depth,
                height,
                old_tip: moved.old_tip,
                new_tip: hash,
            });
        }
    }

    /// Checks a received block and stores it (and any orphans it unblocks) if it connects.
    fn receive(&mut self, ctx: &mut Ctx<'_, Self>, from: NodeId, block: Block, gossip: bool) {
        if ctx.durable().chain.contains(&block.hash) {
            return;
        }
        if !self.cfg.flags.skip_proof_check
            && let Err(e) = block.check_proof(self.cfg.difficulty_bits)
        {
            ctx.note(PowNote::Rejected {
                hash: block.hash,
                from,
                why: e.as_str(),
            });
            return;
        }
        let Some(parent_height) = ctx.durable().chain.height_of(&block.header.parent) else {
            let hash = block.hash;
            self.hold_orphan(ctx, block, from);
            if gossip {
                self.request_sync(ctx, from, Some(hash), false);
            }
            return;
        };
        self.connect(ctx, from, block, parent_height);
    }

    /// Stores a block whose parent is stored (checking its height), then the orphans it unblocks.
    fn connect(
        &mut self,
        ctx: &mut Ctx<'_, Self>,
        from: NodeId,
        block: Block,
        parent_height: u64,
    ) -> bool {
        if block.header.height != parent_height + 1 {
            ctx.note(PowNote::Rejected {
                hash: block.hash,
                from,
                why: "height",
            });
            return false;
        }
        let hash = block.hash;
        if !self.store(ctx, from, block) {
            return false;
        }
        self.adopt(ctx, hash);
        // Orphans waiting on this block, and on those, depth first (bounded by the pool).
        let mut stack = vec![(hash, parent_height + 1)];
        while let Some((parent, height)) = stack.pop() {
            let (ready, waiting): (Vec<_>, Vec<_>) = std::mem::take(&mut self.orphans)
                .into_iter()
                .partition(|(b, _)| b.header.parent == parent);
            self.orphans = waiting;
            for (child, sender) in ready {
                let child_hash = child.hash;
                if ctx.durable().chain.contains(&child_hash) {
                    continue;
                }
                if child.header.height != height + 1 {
                    ctx.note(PowNote::Rejected {
                        hash: child_hash,
                        from: sender,
                        why: "height",
                    });
                    continue;
                }
                if self.store(ctx, sender, child) {
                    self.adopt(ctx, child_hash);
                    stack.push((child_hash, height + 1));
                }
            }
        }
        true
    }

    fn hold_orphan(&mut self, ctx: &mut Ctx<'_, Self>, block: Block, from: NodeId) {
        if self.orphans.iter().any(|(b, _)| b.hash == block.hash) {
            return;
        }
        if self.orphans.len() >= self.cfg.orphans_max {
            let (dropped, _) = self.orphans.remove(0);
            ctx.note(PowNote::OrphanDropped { hash: dropped.hash });
        }
        self.orphans.push((block, from));
    }

    /// Asks `peer` for the blocks up to `want`. Gossip-triggered requests to one peer are spaced
    /// by `sync_retry`; a continuation (`urgent`, after a full batch) is not.
    fn request_sync(
        &mut self,
        ctx: &mut Ctx<'_, Self>,
        peer: NodeId,
        want: Option<BlockHash>,
        urgent: bool,
    ) {
        let now = ctx.now();
        if !urgent
            && let Some(last) = self.last_request.get(&peer)
            && now >= *last
            && now < *last + self.cfg.sync_retry
        {
            return;
        }
        self.last_request.insert(peer, now);
        let have = ctx.durable().chain.locator();
        ctx.send(peer, Msg::GetBlocks { want, have });
    }

    fn on_blocks(
        &mut self,
        ctx: &mut Ctx<'_, Self>,
        from: NodeId,
        want: Option<BlockHash>,
        blocks: Vec<Block>,
    ) {
        let full = blocks.len() >= self.cfg.batch_max;
        // The last block of the batch, if it is now in the store (newly, or known already: a
        // sparse locator makes the peer resend some blocks we have).
        let mut last_held = None;
        for block in blocks.into_iter().take(self.cfg.batch_max) {
            let hash = block.hash;
            self.receive(ctx, from, block, false);
            last_held = ctx.durable().chain.contains(&hash).then_some(hash);
        }
        let reached = want.is_some_and(|w| ctx.durable().chain.contains(&w));
        // Ask for the next batch from there: each round starts higher, so this ends.
        if let Some(last) = last_held
            && full
            && !reached
        {
            let mut have = vec![last];
            have.extend(ctx.durable().chain.locator());
            have.truncate(super::chain::LOCATOR_MAX);
            self.last_request.insert(from, ctx.now());
            ctx.send(from, Msg::GetBlocks { want, have });
        }
    }

    /// Publishes the withheld blocks up to `height`, oldest first.
    fn publish(&mut self, ctx: &mut Ctx<'_, Self>, height: u64) {
        let withheld = std::mem::take(&mut ctx.durable_mut().withholding.withheld);
        let (now, later): (Vec<_>, Vec<_>) = withheld.into_iter().partition(|h| {
            ctx.durable()
                .chain
                .height_of(h)
                .is_some_and(|x| x <= height)
        });
        ctx.durable_mut().withholding.withheld = later;
        for hash in now {
            let Some(block) = ctx.durable().chain.get(&hash).cloned() else {
                continue;
            };
            ctx.note(PowNote::Published {
                hash,
                height: block.header.height,
            });
            ctx.broadcast(Msg::Block { block });
            self.adopt(ctx, hash);
        }
    }

    /// Eyal and Sirer: the selfish miner found `block` on its private branch.
    fn selfish_found(&mut self, ctx: &mut Ctx<'_, Self>, block: &Block) {
        let disk = ctx.durable();
        let public = disk.chain.height();
        let private = block.header.height - 1;
        let lead_before = private.saturating_sub(public);
        let w = &mut ctx.durable_mut().withholding;
        w.private_tip = Some(block.hash);
        w.branch_len += 1;
        w.withheld.push(block.hash);
        let branch_len = w.branch_len;
        ctx.note(PowNote::Withheld {
            hash: block.hash,
            height: block.header.height,
        });
        if let Release::All { reset } = on_own_block(lead_before, branch_len) {
            self.publish(ctx, u64::MAX);
            if reset {
                ctx.durable_mut().withholding.branch_len = 0;
            }
        }
    }

    /// Eyal and Sirer: the others' blocks made the public chain grow.
    fn selfish_public_grew(&mut self, ctx: &mut Ctx<'_, Self>) {
        let disk = ctx.durable();
        let Some(private_tip) = disk.withholding.private_tip else {
            return;
        };
        let public = disk.chain.height();
        let private = disk.chain.height_of(&private_tip).unwrap_or(0);
        match on_public_growth(private, public) {
            Release::Adopt => {
                let w = &mut ctx.durable_mut().withholding;
                let lost = w.withheld.len() as u64;
                *w = Withholding::default();
                if lost > 0 {
                    ctx.note(PowNote::Abandoned { blocks: lost });
                }
            }
            Release::All { reset } => {
                self.publish(ctx, u64::MAX);
                if reset {
                    ctx.durable_mut().withholding.branch_len = 0;
                }
            }
            Release::UpTo(height) => self.publish(ctx, height),
            Release::Nothing => {}
        }
    }
}

impl Actor for Miner {
    type Msg = Msg;
    type Timer = PowTimer;
    type Durable = Disk;
    type Note = PowNote;

    fn on_start(&mut self, ctx: &mut Ctx<'_, Self>) {
        if self.idle {
            return;
        }
        let restarted = ctx.durable().started;
        ctx.durable_mut().started = true;
        if restarted {
            let have = ctx.durable().chain.locator();
            let peers: Vec<NodeId> = ctx.peers().collect();
            for peer in peers {
                self.last_request.insert(peer, ctx.now());
                ctx.send(
                    peer,
                    Msg::GetBlocks {
                        want: None,
                        have: have.clone(),
                    },
                );
            }
        }
        self.remine(ctx);
    }

    fn on_msg(&mut self, ctx: &mut Ctx<'_, Self>, from: NodeId, msg: Msg) {
        if self.idle {
            return;
        }
        let public_before = ctx.durable().chain.height();
        let tip_before = ctx.durable().chain.tip();
        match msg {
            Msg::Block { block } => self.receive(ctx, from, block, true),
            Msg::GetBlocks { want, have } => {
                let blocks = ctx.durable().chain.serve(want, &have, self.cfg.batch_max);
                if !blocks.is_empty() {
                    ctx.send(from, Msg::Blocks { want, blocks });
                }
            }
            Msg::Blocks { want, blocks } => self.on_blocks(ctx, from, want, blocks),
        }
        let chain = &ctx.durable().chain;
        if self.cfg.selfish {
            if chain.height() > public_before {
                self.selfish_public_grew(ctx);
            }
        } else if chain.tip() != tip_before {
            let block = chain.get(&chain.tip()).expect("the tip is stored").clone();
            let peers: Vec<NodeId> = ctx.peers().filter(|p| *p != from).collect();
            for peer in peers {
                ctx.send(
                    peer,
                    Msg::Block {
                        block: block.clone(),
                    },
                );
            }
        }
        self.remine(ctx);
    }

    fn on_timer(&mut self, ctx: &mut Ctx<'_, Self>, timer: PowTimer) {
        match timer {
            PowTimer::Mine => self.mine(ctx),
        }
        self.remine(ctx);
    }

    fn role(&self) -> Role {
        if self.idle {
            return None;
        }
        Some(if self.cfg.selfish {
            "selfish_miner"
        } else {
            "miner"
        })
    }
}
