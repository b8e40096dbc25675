//! A miner driven by hand: gossip, checks, fetching a longer fork in batches, reorganisation,
//! selfish withholding and release, restart resync, and the orphan pool's bound.

use super::adversary::Forger;
use super::block::{Block, BlockHash, Header, search_nonce};
use super::message::{Msg, PowNote, PowTimer};
use super::mutants::Flags;
use super::node::{Disk, Miner, MinerConfig};
use crate::contract::{
    Actor, Adversary, Cluster, Ctx, Duration, Effect, NodeId, Rng, Tamper, Time,
};
use std::collections::VecDeque;

const BITS: u32 = 6;

fn config() -> MinerConfig {
    MinerConfig {
        mean_ns: Some(100_000_000),
        difficulty_bits: BITS,
        nonce_steps_max: 1 << 16,
        height_max: 1000,
        blocks_max: 4096,
        orphans_max: 8,
        batch_max: 4,
        sync_retry: Duration::from_millis(50),
        selfish: false,
        flags: Flags::default(),
    }
}

enum Input {
    Start,
    Msg(NodeId, Msg),
    Mine,
}

struct Node {
    id: NodeId,
    miner: Miner,
    disk: Disk,
    rng: Rng,
}

impl Node {
    fn new(id: NodeId, cfg: MinerConfig) -> Node {
        Node {
            id,
            miner: Miner::new(cfg),
            disk: Disk::default(),
            rng: Rng::stream(1, &format!("node/{id}")),
        }
    }

    fn run(&mut self, cluster: Cluster, input: Input) -> Vec<Effect<Miner>> {
        let mut effects = Vec::new();
        let mut ctx = Ctx::new(
            self.id,
            Time::from_millis(1),
            &cluster,
            &mut self.rng,
            &mut self.disk,
            &mut effects,
        );
        match input {
            Input::Start => self.miner.on_start(&mut ctx),
            Input::Msg(from, m) => self.miner.on_msg(&mut ctx, from, m),
            Input::Mine => self.miner.on_timer(&mut ctx, PowTimer::Mine),
        }
        effects
    }

    fn tip(&self) -> BlockHash {
        self.disk.chain.tip()
    }

    fn height(&self) -> u64 {
        self.disk.chain.height()
    }
}

fn sends(effects: &[Effect<Miner>]) -> Vec<(NodeId, Msg)> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::Send { to, msg } => Some((*to, msg.clone())),
            _ => None,
        })
        .collect()
}

fn notes(effects: &[Effect<Miner>]) -> Vec<PowNote> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::Note(n) => Some(n.clone()),
            _ => None,
        })
        .collect()
}

/// Delivers every message in FIFO order until none is left; returns every note by node.
fn pump(
    nodes: &mut [Node],
    cluster: Cluster,
    mut queue: VecDeque<(NodeId, NodeId, Msg)>,
) -> Vec<(NodeId, PowNote)> {
    let mut all = Vec::new();
    let mut steps = 0;
    while let Some((from, to, msg)) = queue.pop_front() {
        steps += 1;
        assert!(steps < 10_000, "the exchange ends");
        let effects = nodes[to as usize].run(cluster, Input::Msg(from, msg));
        all.extend(notes(&effects).into_iter().map(|n| (to, n)));
        queue.extend(sends(&effects).into_iter().map(|(t, m)| (to, t, m)));
    }
    all
}

fn mine_alone(node: &mut Node, cluster: Cluster, blocks: usize) -> Vec<Effect<Miner>> {
    let mut out = Vec::new();
    for _ in 0..blocks {
        out.extend(node.run(cluster, Input::Mine));
    }
    out
}

#[test]
fn a_mined_block_carries_a_proof_and_floods_to_peers() {
    let cluster = Cluster::new(3, 0);
    let mut nodes: Vec<Node> = (0..3).map(|i| Node::new(i, config())).collect();
    for n in &mut nodes {
        let e = n.run(cluster, Input::Start);
        assert!(
            e.iter().any(|x| matches!(
                x,
                Effect::SetTimer {
                    timer: PowTimer::Mine,
                    ..
                }
            )),
            "every miner enters the race"
        );
    }
    let effects = nodes[0].run(cluster, Input::Mine);
    let mined = notes(&effects);
    assert!(matches!(mined[0], PowNote::Mined { height: 1, .. }));
    let out = sends(&effects);
    assert_eq!(out.len(), 2, "sent to both peers");
    let Msg::Block { block } = out[0].1.clone() else {
        panic!("a block")
    };
    assert_eq!(block.check_proof(BITS), Ok(()));
    assert_eq!(nodes[0].tip(), block.hash);
    let queue = out.into_iter().map(|(to, m)| (0, to, m)).collect();
    pump(&mut nodes, cluster, queue);
    assert!(nodes.iter().all(|n| n.tip() == block.hash));
}

fn forged(block: &Block) -> Block {
    let mut rng = Rng::stream(9, "byzantine/2");
    let mut tamper = Tamper {
        node: 2,
        to: 1,
        now: Time::ZERO,
        rng: &mut rng,
    };
    let msg = Forger {
        difficulty_bits: BITS,
    }
    .forge(
        &mut tamper,
        &Msg::Block {
            block: block.clone(),
        },
    );
    match msg {
        Some(Msg::Block { block }) => block,
        other => panic!("a forged block, not {other:?}"),
    }
}

#[test]
fn forged_and_misplaced_blocks_are_refused_and_the_mutant_takes_a_forgery() {
    let cluster = Cluster::new(3, 0);
    let mut miner = Node::new(0, config());
    let effects = miner.run(cluster, Input::Mine);
    let Msg::Block { block } = &sends(&effects)[0].1 else {
        panic!("a block")
    };
    let fake = forged(block);
    let mut rng = Rng::stream(9, "byzantine/2");
    let mut forger = Forger {
        difficulty_bits: BITS,
    };
    let honest_msg = Msg::Block {
        block: block.clone(),
    };
    for (to, lies) in [(1, true), (2, false)] {
        let mut tamper = Tamper {
            node: 3,
            to,
            now: Time::ZERO,
            rng: &mut rng,
        };
        let told = forger.equivocate(&mut tamper, &honest_msg);
        assert_eq!(told.is_some(), lies, "odd receivers hear a forgery");
    }
    assert_eq!(fake.header.parent, block.header.parent);
    assert_eq!(fake.hash, fake.header.hash(), "consistent but for the work");
    assert!(fake.check_proof(BITS).is_err());

    let mut honest = Node::new(1, config());
    let e = honest.run(
        cluster,
        Input::Msg(
            2,
            Msg::Block {
                block: fake.clone(),
            },
        ),
    );
    assert!(matches!(
        notes(&e)[..],
        [PowNote::Rejected {
            why: "insufficient_work",
            ..
        }]
    ));
    assert_eq!(honest.height(), 0);

    // A real proof at the wrong height is refused too.
    let payload = "coinbase 2".to_string();
    let header = Header {
        parent: honest.tip(),
        height: 5,
        miner: 2,
        timestamp_ms: 0,
        nonce: 0,
        payload_digest: BlockHash::of(payload.as_bytes()),
    };
    let tall = search_nonce(header, payload, BITS, 0, 1 << 16).expect("found");
    let e = honest.run(cluster, Input::Msg(2, Msg::Block { block: tall }));
    assert!(matches!(
        notes(&e)[..],
        [PowNote::Rejected { why: "height", .. }]
    ));

    let mut buggy = Node::new(
        1,
        MinerConfig {
            flags: Flags {
                skip_proof_check: true,
                ..Flags::default()
            },
            ..config()
        },
    );
    let e = buggy.run(
        cluster,
        Input::Msg(
            2,
            Msg::Block {
                block: fake.clone(),
            },
        ),
    );
    assert!(matches!(notes(&e)[0], PowNote::Accepted { .. }));
    assert_eq!(buggy.tip(), fake.hash);
}

#[test]
fn a_longer_fork_is_fetched_in_batches_and_adopted() {
    let cluster = Cluster::new(2, 0);
    for no_reorg in [false, true] {
        let flags = Flags {
            no_reorg,
            ..Flags::default()
        };
        let mut nodes = vec![
            Node::new(0, config()),
            Node::new(1, MinerConfig { flags, ..config() }),
        ];
        mine_alone(&mut nodes[0], cluster, 11);
        mine_alone(&mut nodes[1], cluster, 3);
        let own = nodes[1].tip();
        let tip = nodes[0].tip();
        let block = nodes[0].disk.chain.get(&tip).expect("tip").clone();
        let log = pump(
            &mut nodes,
            cluster,
            VecDeque::from([(0, 1, Msg::Block { block })]),
        );
        // 11 blocks in batches of 4 (the gossiped tip waits as an orphan): every one arrives.
        assert!(nodes[1].disk.chain.contains(&tip));
        assert_eq!(nodes[1].miner.orphan_count(), 0);
        let fetched = log
            .iter()
            .filter(|(n, x)| *n == 1 && matches!(x, PowNote::Accepted { .. }))
            .count();
        assert_eq!(fetched, 11);
        let reorgs: Vec<u64> = log
            .iter()
            .filter_map(|(_, n)| match n {
                PowNote::Reorg { depth, .. } => Some(*depth),
                _ => None,
            })
            .collect();
        if no_reorg {
            assert_eq!(nodes[1].tip(), own, "the bug keeps its first chain");
            assert!(reorgs.is_empty());
        } else {
            assert_eq!(nodes[1].tip(), tip);
            assert_eq!(reorgs, vec![3]);
        }
    }
}

#[test]
fn a_selfish_miner_withholds_then_overrides_or_races() {
    let cluster = Cluster::new(2, 0);
    let selfish = MinerConfig {
        selfish: true,
        ..config()
    };
    // Lead 2, honest finds one: the selfish miner publishes both and wins.
    let mut nodes = vec![Node::new(0, selfish), Node::new(1, config())];
    let e = mine_alone(&mut nodes[0], cluster, 2);
    assert!(sends(&e).is_empty(), "withheld");
    assert_eq!(nodes[0].height(), 0, "its public chain has not moved");
    assert_eq!(
        nodes[0].disk.withholding.withheld.len(),
        2,
        "two blocks withheld"
    );
    let e = nodes[1].run(cluster, Input::Mine);
    let queue = sends(&e).into_iter().map(|(t, m)| (1, t, m)).collect();
    let log = pump(&mut nodes, cluster, queue);
    assert_eq!(nodes[1].height(), 2);
    let tip = nodes[1].disk.chain.get(&nodes[1].tip()).expect("tip");
    assert_eq!(
        tip.header.miner, 0,
        "the honest node took the selfish chain"
    );
    assert!(
        log.iter()
            .any(|(n, x)| *n == 1 && matches!(x, PowNote::Reorg { depth: 1, .. }))
    );

    // Lead 1, honest finds one: the selfish miner publishes its block, but the honest node keeps
    // the block it saw first.
    let mut nodes = vec![Node::new(0, selfish), Node::new(1, config())];
    mine_alone(&mut nodes[0], cluster, 1);
    let e = nodes[1].run(cluster, Input::Mine);
    let honest_tip = nodes[1].tip();
    let queue = sends(&e).into_iter().map(|(t, m)| (1, t, m)).collect();
    let log = pump(&mut nodes, cluster, queue);
    assert!(
        log.iter()
            .any(|(n, x)| *n == 0 && matches!(x, PowNote::Published { .. }))
    );
    assert_eq!(nodes[1].tip(), honest_tip, "a tie keeps the first seen");
    // Lead 0, honest finds one: adopt.
    let mut nodes = vec![Node::new(0, selfish), Node::new(1, config())];
    let e = nodes[1].run(cluster, Input::Mine);
    let queue = sends(&e).into_iter().map(|(t, m)| (1, t, m)).collect();
    pump(&mut nodes, cluster, queue);
    assert_eq!(nodes[0].disk.withholding.private_tip, None);
    assert_eq!(nodes[0].tip(), nodes[1].tip());
}

#[test]
fn a_restarted_node_asks_its_peers_for_their_tips() {
    let cluster = Cluster::new(3, 0);
    let mut node = Node::new(1, config());
    assert!(sends(&node.run(cluster, Input::Start)).is_empty());
    node.miner = Miner::new(config());
    let asks = sends(&node.run(cluster, Input::Start));
    assert_eq!(asks.len(), 2);
    assert!(
        asks.iter()
            .all(|(_, m)| matches!(m, Msg::GetBlocks { want: None, .. }))
    );
}

#[test]
fn the_orphan_pool_is_bounded() {
    let cluster = Cluster::new(2, 0);
    let mut source = Node::new(0, config());
    mine_alone(&mut source, cluster, 12);
    let mut node = Node::new(1, config());
    let mut dropped = 0;
    // Heights 2..=12 arrive without their ancestors: 11 orphans for a pool of 8.
    for hash in &source.disk.chain.main()[2..] {
        let block = source.disk.chain.get(hash).expect("stored").clone();
        let e = node.run(cluster, Input::Msg(0, Msg::Block { block }));
        dropped += notes(&e)
            .iter()
            .filter(|n| matches!(n, PowNote::OrphanDropped { .. }))
            .count();
    }
    assert_eq!(node.miner.orphan_count(), 8);
    assert_eq!(dropped, 3);
}

#[test]
fn a_miner_out_of_nonces_gives_the_block_up_and_races_again() {
    let cluster = Cluster::new(2, 0);
    let mut node = Node::new(
        0,
        MinerConfig {
            difficulty_bits: 20,
            nonce_steps_max: 1,
            ..config()
        },
    );
    node.run(cluster, Input::Start);
    let e = node.run(cluster, Input::Mine);
    assert!(matches!(
        notes(&e)[..],
        [PowNote::MiningExhausted { height: 1 }]
    ));
    assert!(sends(&e).is_empty());
    assert!(
        e.iter().any(|x| matches!(
            x,
            Effect::SetTimer {
                timer: PowTimer::Mine,
                ..
            }
        )),
        "the race starts over"
    );
    assert_eq!(node.height(), 0);
}

#[test]
fn a_client_is_an_idle_node() {
    let cluster = Cluster::new(2, 1);
    let mut client = Node::new(2, config());
    client.miner = Miner::idle();
    assert!(client.run(cluster, Input::Start).is_empty());
    let block = Block::genesis();
    assert!(
        client
            .run(cluster, Input::Msg(0, Msg::Block { block }))
            .is_empty()
    );
    assert_eq!(client.miner.role(), None);
}

#[test]
fn valid_blocks_rechecks_proof_parent_and_height() {
    use super::checkers::ValidBlocks;
    use crate::contract::{Checker, Observation};
    let cluster = Cluster::new(3, 0);
    let miner = Miner::new(config());
    let disk = Disk::default();
    let observe = |checker: &mut ValidBlocks, node: NodeId, block: &Block| {
        let notes = [PowNote::Accepted {
            block: block.clone(),
            from: 2,
        }];
        checker
            .observe(&Observation {
                event_index: 0,
                now: Time::ZERO,
                node,
                state: &miner,
                durable: &disk,
                notes: &notes,
                cluster: &cluster,
            })
            .map_err(|f| f.message)
    };
    let on = |parent: BlockHash, height: u64| {
        let payload = format!("coinbase {height}");
        let header = Header {
            parent,
            height,
            miner: 2,
            timestamp_ms: 0,
            nonce: 0,
            payload_digest: BlockHash::of(payload.as_bytes()),
        };
        search_nonce(header, payload, BITS, 0, 1 << 16).expect("found")
    };
    let genesis = Block::genesis().hash;
    let one = on(genesis, 1);
    let two = on(one.hash, 2);
    let mut checker = ValidBlocks::new(BITS, vec![2]);
    assert_eq!(observe(&mut checker, 0, &one), Ok(()));
    assert_eq!(observe(&mut checker, 0, &two), Ok(()));
    // Node 1 never stored block one: block two has no parent there.
    let e = observe(&mut checker, 1, &two).expect_err("orphan");
    assert!(e.contains("never accepted"), "{e}");
    let e = observe(&mut checker, 0, &on(one.hash, 5)).expect_err("height");
    assert!(e.contains("on a parent at height 1"), "{e}");
    let e = observe(&mut checker, 0, &forged(&two)).expect_err("proof");
    assert!(e.contains("proof of work does not hold"), "{e}");
    // A node the scenario made Byzantine is not judged.
    assert_eq!(observe(&mut checker, 2, &forged(&two)), Ok(()));
}
