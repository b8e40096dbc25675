//! Chord, a distributed hash table's lookup service (Stoica, Morris, Karger, Kaashoek and
//! Balakrishnan, SIGCOMM 2001).
//!
//! Every server has an `m`-bit id on the identifier circle, the top `id_bits` bits of SHA-1 (or
//! SHA-256, param `id_hash`) of its name. A key belongs to its successor: the first server at or
//! after it going clockwise. Each server keeps its successor list (`successors` long, for crash
//! tolerance), its predecessor and `m` fingers (`finger[i]` succeeds `n + 2^i`), and runs the paper's
//! periodic protocol: stabilize (ask the successor for its predecessor, adopt it if it lies between,
//! then notify the successor), fix_fingers (one finger per period) and check_predecessor. Server 0
//! creates the ring; every other server joins at its time from `join_at_ms`, by looking its own id
//! up through a random server; a restarted server joins again from nothing. Lookups are iterative
//! (see [`lookup`]) and bounded by `hop_limit`; every member, and every client node if the
//! scenario has any, looks up a random key every `lookup_ms` (a client starts each lookup at a
//! random server): that is the judged workload.
//!
//! What it promises, and the checker holds it to (see [`checker`]): once churn (faults and joins)
//! stops, the ring is correct within `settle_rounds` stabilisation rounds, every successor and
//! predecessor pointing at the next and previous live server, and every lookup issued after that
//! finds the key's true successor, in about `log2(N) / 2` hops. The planted bugs are in [`mutants`].

pub mod checker;
pub mod lookup;
pub mod message;
pub mod mutants;
pub mod node;
pub mod params;
pub mod ring;
#[cfg(test)]
mod tests;

use crate::contract::{Checker, Duration, Mutant, NoModel, NodeId, Param, Protocol, Setup, Time};
use checker::ChordChecker;
use mutants::Flags;
use node::{ChordNode, Config};
use params::ChordParams;
use ring::{IdSpace, node_ids};
use std::sync::Arc;

/// The protocol.
pub struct Chord {
    cfg: Arc<Config>,
    settle_rounds: u32,
}

impl Protocol for Chord {
    type Actor = ChordNode;
    type Model = NoModel;

    const NAME: &'static str = "chord";
    const ABOUT: &'static str = "the Chord DHT: join, stabilize, fix_fingers, successor lists and lookups under churn; the ring heals and lookups find the true successor";
    const MUTANTS: &'static [Mutant] = mutants::MUTANTS;
    const PARAMS: &'static [Param] = params::PARAMS;
    const CHECKERS: &'static [(&'static str, &'static str)] = &[
        (
            checker::CHORD_RING,
            "within settle_rounds stabilisation rounds after churn stops, every live server's successor and predecessor are the next and previous live servers on the circle",
        ),
        (
            checker::CHORD_LOOKUPS,
            "every lookup issued after that finds the key's true successor; the detail gives hop counts (mean, max) against log2(N)/2",
        ),
    ];

    fn setup(setup: &Setup<'_>) -> Result<Self, String> {
        let servers = setup.cluster.servers;
        let p = ChordParams::parse(setup.params, servers)?;
        let space = IdSpace::new(p.id_bits);
        let ids = node_ids(space, p.id_hash, servers).map_err(|(a, b)| {
            format!(
                "params.id_bits: servers {a} and {b} hash to the same {}-bit id; use more bits or the other id_hash",
                p.id_bits
            )
        })?;
        let ms = Duration::from_millis;
        let cfg = Config {
            space,
            ids,
            successors: p.successors as usize,
            stabilize: ms(p.stabilize_ms),
            fix_fingers: ms(p.fix_fingers_ms),
            check_predecessor: ms(p.check_predecessor_ms),
            merge: ms(p.merge_ms),
            lookup: ms(p.lookup_ms),
            hop_timeout: ms(p.hop_timeout_ms),
            join_retry: ms(p.join_retry_ms),
            suspect_after: p.suspect_after,
            hop_limit: p.hop_limit,
            join_at: (0..servers)
                .map(|n| Time::from_millis(p.join_at_ms(n)))
                .collect(),
            flags: Flags::from_names(setup.mutants)?,
        };
        Ok(Chord {
            cfg: Arc::new(cfg),
            settle_rounds: p.settle_rounds,
        })
    }

    fn new_actor(&self, id: NodeId) -> ChordNode {
        ChordNode::new(Arc::clone(&self.cfg), id)
    }

    fn checkers(&self) -> Vec<Box<dyn Checker<ChordNode>>> {
        // A lookup takes at most hop_limit steps of at most one hop timeout each.
        let budget = Duration(
            self.cfg
                .hop_timeout
                .0
                .saturating_mul(u64::from(self.cfg.hop_limit) + 1),
        );
        vec![Box::new(ChordChecker::new(
            self.cfg.ids.clone(),
            self.cfg.stabilize,
            self.settle_rounds,
            budget,
        ))]
    }
}
