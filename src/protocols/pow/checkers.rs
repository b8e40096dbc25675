//! Proof-of-work's checkers.
//!
//! - `valid_blocks` (safety, every event): every block an honest node stores is checked again from
//!   its `accepted` note: the claimed hash is the header's SHA-256, it has `difficulty_bits`
//!   leading zeros, the payload matches its digest, and its parent is genesis or a block the same
//!   node stored before, one lower. The checker's own record of each node's blocks is the ghost
//!   state; it never reads the node's disk for this.
//! - `k_deep_agreement` (at the end, on `RunEnd::nodes`): any two honest nodes that are up agree on
//!   every block with at least k (`confirmations`) blocks above it in both chains (the common
//!   prefix property of Garay, Kiayias and Leonardos). A disagreement is a violation only once no
//!   fault is in force and the run stayed quiet for `settle_ms` after the last one (a partitioned
//!   network forks by design); before that it is undecided. Not judged while the run goes on:
//!   during a partition the two sides' chains legitimately differ at any depth.
//! - `chain_report` (a report, never a violation): who mined the main chain, against hash power;
//!   a selfish miner's share of the main chain against its share of the hash power (Eyal and
//!   Sirer's measure); how many reorganisations honest nodes made and how deep.
//!
//! Honest nodes are the servers neither listed in `selfish` nor made Byzantine by a fault.

use super::block::{Block, BlockHash};
use super::message::PowNote;
use super::node::Miner;
use crate::contract::{Checker, Failure, NS_PER_MS, NodeId, Observation, RunEnd, Time, Verdict};
use std::collections::BTreeMap;

/// `part / whole` as a percentage with one decimal, rounded, in integers.
fn percent(part: u64, whole: u64) -> String {
    let permille = (part * 1000 + whole / 2).checked_div(whole).unwrap_or(0);
    format!("{}.{}%", permille / 10, permille % 10)
}

/// Re-verifies every block an honest node stores.
pub struct ValidBlocks {
    difficulty_bits: u32,
    excluded: Vec<NodeId>,
    genesis: BlockHash,
    /// Per node: every block it stored, with its height.
    stored: BTreeMap<NodeId, BTreeMap<BlockHash, u64>>,
}

impl ValidBlocks {
    /// The checker for a run at `difficulty_bits`, judging every server but `excluded`.
    pub fn new(difficulty_bits: u32, excluded: Vec<NodeId>) -> ValidBlocks {
        ValidBlocks {
            difficulty_bits,
            excluded,
            genesis: Block::genesis().hash,
            stored: BTreeMap::new(),
        }
    }

    fn judge(&mut self, node: NodeId, block: &Block, from: NodeId) -> Result<(), String> {
        let what = format!(
            "node {node} accepted block {} (height {}, from {from})",
            block.hash.short(),
            block.header.height
        );
        if let Err(e) = block.check_proof(self.difficulty_bits) {
            return Err(format!(
                "{what} whose proof of work does not hold: {}, its header hashes to {} ({} leading zero bits, {} needed)",
                e.as_str(),
                block.header.hash().short(),
                block.header.hash().leading_zero_bits(),
                self.difficulty_bits
            ));
        }
        let blocks = self.stored.entry(node).or_default();
        let parent = block.header.parent;
        let parent_height = if parent == self.genesis {
            Some(0)
        } else {
            blocks.get(&parent).copied()
        };
        match parent_height {
            None => Err(format!(
                "{what} whose parent {} it never accepted",
                parent.short()
            )),
            Some(h) if h + 1 != block.header.height => Err(format!(
                "{what} at height {} on a parent at height {h}",
                block.header.height
            )),
            Some(_) => {
                blocks.insert(block.hash, block.header.height);
                Ok(())
            }
        }
    }
}

impl Checker<Miner> for ValidBlocks {
    fn name(&self) -> &'static str {
        "valid_blocks"
    }

    fn observe(&mut self, obs: &Observation<'_, Miner>) -> Result<(), Failure> {
        if self.excluded.contains(&obs.node) {
            return Ok(());
        }
        for note in obs.notes {
            if let PowNote::Accepted { block, from } = note {
                self.judge(obs.node, block, *from)
                    .map_err(|m| Failure::of("valid_blocks", m))?;
            }
        }
        Ok(())
    }
}

/// Honest nodes agree on every block k deep, once the faults have healed.
pub struct KDeepAgreement {
    confirmations: u64,
    settle_ns: u64,
    excluded: Vec<NodeId>,
    store_full: bool,
}

impl KDeepAgreement {
    /// The checker for `confirmations` = k, judging after `settle_ms` of quiet.
    pub fn new(confirmations: u64, settle_ms: u64, excluded: Vec<NodeId>) -> KDeepAgreement {
        KDeepAgreement {
            confirmations,
            settle_ns: settle_ms.saturating_mul(NS_PER_MS),
            excluded,
            store_full: false,
        }
    }
}

/// The honest servers up at the end, with their main chains.
fn honest_chains<'a>(
    end: &'a RunEnd<'_, Miner>,
    excluded: &[NodeId],
) -> (Vec<(NodeId, &'a [BlockHash])>, Vec<NodeId>) {
    let mut up = Vec::new();
    let mut down = Vec::new();
    for id in end.cluster.server_ids() {
        if excluded.contains(&id) {
            continue;
        }
        match end.nodes.get(id as usize) {
            Some(n) if n.state.is_some() => up.push((id, n.durable.chain.main())),
            _ => down.push(id),
        }
    }
    (up, down)
}

/// The first height at which two main chains differ (past the shorter's tip if none).
fn fork_height(a: &[BlockHash], b: &[BlockHash]) -> usize {
    a.iter().zip(b).take_while(|(x, y)| x == y).count()
}

impl Checker<Miner> for KDeepAgreement {
    fn name(&self) -> &'static str {
        "k_deep_agreement"
    }

    fn observe(&mut self, obs: &Observation<'_, Miner>) -> Result<(), Failure> {
        if obs
            .notes
            .iter()
            .any(|n| matches!(n, PowNote::StoreFull { .. }))
        {
            self.store_full = true;
        }
        Ok(())
    }

    fn finish(&mut self, end: &RunEnd<'_, Miner>) -> Vec<(&'static str, Verdict)> {
        if end.ended_early {
            return Vec::new();
        }
        let k = self.confirmations;
        let (up, down) = honest_chains(end, &self.excluded);
        let down_note = if down.is_empty() {
            String::new()
        } else {
            format!(" ({down:?} down at the end, not judged)")
        };
        // The deepest disagreement over all pairs: (blocks below the shorter tip, a, b, fork).
        let mut worst: Option<(u64, NodeId, NodeId, u64, u64, u64)> = None;
        for (i, (a, ca)) in up.iter().enumerate() {
            for (b, cb) in &up[i + 1..] {
                let fork = fork_height(ca, cb) as u64;
                let shorter_tip = (ca.len().min(cb.len()) as u64).saturating_sub(1);
                if fork + k <= shorter_tip {
                    let depth = shorter_tip - fork;
                    let tip_a = ca.len() as u64 - 1;
                    let tip_b = cb.len() as u64 - 1;
                    if worst.is_none_or(|w| depth > w.0) {
                        worst = Some((depth, *a, *b, fork, tip_a, tip_b));
                    }
                }
            }
        }
        let verdict = match worst {
            None => {
                let tips: Vec<u64> = up.iter().map(|(_, c)| c.len() as u64 - 1).collect();
                let lo = tips.iter().min().copied().unwrap_or(0);
                let hi = tips.iter().max().copied().unwrap_or(0);
                Verdict::PassNoted(format!(
                    "{} honest nodes agree on every block with at least {k} blocks above it; tips at heights {lo}..={hi}{down_note}",
                    up.len()
                ))
            }
            Some((_, a, b, fork, tip_a, tip_b)) => {
                let why = format!(
                    "honest nodes {a} and {b} hold different blocks at height {fork}, though their tips are at heights {tip_a} and {tip_b} (k = {k}){down_note}"
                );
                let quiet_ns = end
                    .now
                    .0
                    .saturating_sub(end.last_fault.unwrap_or(Time::ZERO).0);
                if self.store_full {
                    Verdict::Unknown(format!("a node's block store filled up; {why}"))
                } else if end.faults_in_force {
                    Verdict::Unknown(format!("faults still in force at the end; {why}"))
                } else if quiet_ns < self.settle_ns {
                    Verdict::Unknown(format!(
                        "the run ended {} ms after the last fault, before settle_ms; {why}",
                        quiet_ns / NS_PER_MS
                    ))
                } else {
                    Verdict::Fail(format!(
                        "{why}, {} ms after the last fault",
                        quiet_ns / NS_PER_MS
                    ))
                }
            }
        };
        vec![("k_deep_agreement", verdict)]
    }
}

/// Reports who mined the main chain and how often honest nodes reorganised.
pub struct ChainReport {
    /// Each server's hash power weight.
    weights: Vec<u64>,
    selfish: Vec<NodeId>,
    excluded: Vec<NodeId>,
    reorgs: u64,
    deepest: Option<(u64, NodeId, Time)>,
    rejected: u64,
    withheld: u64,
    abandoned: u64,
}

impl ChainReport {
    /// The report for servers with these hash-power `weights`.
    pub fn new(weights: Vec<u64>, selfish: Vec<NodeId>, excluded: Vec<NodeId>) -> ChainReport {
        ChainReport {
            weights,
            selfish,
            excluded,
            reorgs: 0,
            deepest: None,
            rejected: 0,
            withheld: 0,
            abandoned: 0,
        }
    }
}

impl Checker<Miner> for ChainReport {
    fn name(&self) -> &'static str {
        "chain_report"
    }

    fn observe(&mut self, obs: &Observation<'_, Miner>) -> Result<(), Failure> {
        let honest = !self.excluded.contains(&obs.node);
        for note in obs.notes {
            match note {
                PowNote::Reorg { depth, .. } if honest => {
                    self.reorgs += 1;
                    if self.deepest.is_none_or(|d| *depth > d.0) {
                        self.deepest = Some((*depth, obs.node, obs.now));
                    }
                }
                PowNote::Rejected { .. } if honest => self.rejected += 1,
                PowNote::Withheld { .. } => self.withheld += 1,
                PowNote::Abandoned { blocks } => self.abandoned += blocks,
                _ => {}
            }
        }
        Ok(())
    }

    fn finish(&mut self, end: &RunEnd<'_, Miner>) -> Vec<(&'static str, Verdict)> {
        let (up, _) = honest_chains(end, &self.excluded);
        // The longest honest chain; the lowest id on a tie.
        let Some((reference, main)) = up.iter().max_by_key(|(id, c)| (c.len(), u32::MAX - id))
        else {
            return vec![(
                "chain_report",
                Verdict::PassNoted("no honest node up at the end".into()),
            )];
        };
        let node = &end.nodes[*reference as usize];
        let mut by_miner: BTreeMap<u32, u64> = BTreeMap::new();
        for hash in &main[1..] {
            if let Some(b) = node.durable.chain.get(hash) {
                *by_miner.entry(b.header.miner).or_default() += 1;
            }
        }
        let height = main.len() as u64 - 1;
        let total: u64 = self.weights.iter().sum();
        let mut parts = vec![format!("main chain (node {reference}): height {height}")];
        for s in &self.selfish {
            let mined = by_miner.get(s).copied().unwrap_or(0);
            let weight = self.weights.get(*s as usize).copied().unwrap_or(0);
            parts.push(format!(
                "selfish miner {s}: {} of the hash power, {} of the main chain ({mined} of {height} blocks), {} blocks withheld, {} thrown away",
                percent(weight, total),
                percent(mined, height),
                self.withheld,
                self.abandoned
            ));
        }
        let shares: Vec<String> = by_miner
            .iter()
            .map(|(m, n)| {
                let weight = self.weights.get(*m as usize).copied().unwrap_or(0);
                format!(
                    "{m} mined {n} ({}, power {})",
                    percent(*n, height),
                    percent(weight, total)
                )
            })
            .collect();
        parts.push(format!("blocks by miner: {}", shares.join(", ")));
        parts.push(match self.deepest {
            Some((depth, at, time)) => format!(
                "honest reorgs: {} (deepest {depth} blocks, node {at} at {time})",
                self.reorgs
            ),
            None => "honest reorgs: 0".into(),
        });
        if self.rejected > 0 {
            parts.push(format!("invalid blocks rejected: {}", self.rejected));
        }
        vec![("chain_report", Verdict::PassNoted(parts.join("; ")))]
    }
}
