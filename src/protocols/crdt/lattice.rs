//! The four replicated data types as join semilattices (Shapiro, Preguiça, Baquero and Zawirski,
//! "Conflict-free replicated data types", 2011): each state has a merge that is commutative,
//! associative and idempotent, so replicas that exchange whole states in any order, any number of
//! times, end in the same state (state-based CRDTs, "CvRDTs").
//!
//! Every local update is an [`Op`] that both the replica and the checkers' reference apply: the
//! reference applies every op ever made, and a converged replica must equal it.

use crate::contract::NodeId;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// Which data type a run replicates.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CrdtType {
    /// Grow-only counter: one count per replica, merge takes the maximum of each.
    GCounter,
    /// Counter with decrements: two G-Counters, increments minus decrements.
    PnCounter,
    /// Last-writer-wins element set: an add and a remove timestamp per element.
    LwwSet,
    /// Observed-remove set: adds carry unique tags, a remove tombstones the tags it saw.
    OrSet,
}

/// A Lamport timestamp `(time, node)`: unique per update, totally ordered.
pub type Stamp = (u64, NodeId);

/// An OR-Set add's unique tag `(node, update sequence number)`.
pub type Tag = (NodeId, u64);

/// One local update, as the replica that made it describes it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Op {
    /// Counter plus one at `node`.
    Inc {
        /// The replica.
        node: NodeId,
    },
    /// PN-Counter minus one at `node`.
    Dec {
        /// The replica.
        node: NodeId,
    },
    /// LWW-Set add of `elem` at `stamp`.
    LwwAdd {
        /// The element.
        elem: u32,
        /// Its timestamp.
        stamp: Stamp,
    },
    /// LWW-Set remove of `elem` at `stamp`.
    LwwRemove {
        /// The element.
        elem: u32,
        /// Its timestamp.
        stamp: Stamp,
    },
    /// OR-Set add of `elem` with a fresh `tag`.
    OrAdd {
        /// The element.
        elem: u32,
        /// Its unique tag.
        tag: Tag,
    },
    /// OR-Set remove of `elem`: tombstones the tags the replica had observed for it.
    OrRemove {
        /// The element.
        elem: u32,
        /// The tags removed.
        tags: Vec<Tag>,
    },
}

/// A replicated value of one of the four types.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Crdt {
    /// Counts per replica, indexed by node id.
    GCounter {
        /// Increments made at each replica.
        counts: Vec<u64>,
    },
    /// Increments and decrements per replica.
    PnCounter {
        /// Increments.
        incs: Vec<u64>,
        /// Decrements.
        decs: Vec<u64>,
    },
    /// Latest add and remove timestamps per element.
    LwwSet {
        /// Latest add per element.
        adds: BTreeMap<u32, Stamp>,
        /// Latest remove per element.
        removes: BTreeMap<u32, Stamp>,
    },
    /// Add tags per element and the removed tags.
    OrSet {
        /// Tags of every add seen, per element.
        adds: BTreeMap<u32, BTreeSet<Tag>>,
        /// Tags removed.
        tombstones: BTreeSet<Tag>,
    },
}

fn max_into(into: &mut [u64], from: &[u64]) {
    assert_eq!(
        into.len(),
        from.len(),
        "counters of one cluster have one entry per replica"
    );
    for (a, b) in into.iter_mut().zip(from) {
        *a = (*a).max(*b);
    }
}

fn max_stamps(into: &mut BTreeMap<u32, Stamp>, from: &BTreeMap<u32, Stamp>) {
    for (e, s) in from {
        let slot = into.entry(*e).or_insert(*s);
        *slot = (*slot).max(*s);
    }
}

impl Crdt {
    /// The bottom element of `kind` for a cluster of `replicas` servers.
    pub fn new(kind: CrdtType, replicas: u32) -> Crdt {
        let zeros = vec![0; replicas as usize];
        match kind {
            CrdtType::GCounter => Crdt::GCounter { counts: zeros },
            CrdtType::PnCounter => Crdt::PnCounter {
                incs: zeros.clone(),
                decs: zeros,
            },
            CrdtType::LwwSet => Crdt::LwwSet {
                adds: BTreeMap::new(),
                removes: BTreeMap::new(),
            },
            CrdtType::OrSet => Crdt::OrSet {
                adds: BTreeMap::new(),
                tombstones: BTreeSet::new(),
            },
        }
    }

    /// The join of `self` and `other` (least upper bound), in place. Both must be of one type and
    /// one cluster.
    pub fn merge(&mut self, other: &Crdt) {
        match (self, other) {
            (Crdt::GCounter { counts }, Crdt::GCounter { counts: o }) => max_into(counts, o),
            (Crdt::PnCounter { incs, decs }, Crdt::PnCounter { incs: oi, decs: od }) => {
                max_into(incs, oi);
                max_into(decs, od);
            }
            (
                Crdt::LwwSet { adds, removes },
                Crdt::LwwSet {
                    adds: oa,
                    removes: or,
                },
            ) => {
                max_stamps(adds, oa);
                max_stamps(removes, or);
            }
            (
                Crdt::OrSet { adds, tombstones },
                Crdt::OrSet {
                    adds: oa,
                    tombstones: ot,
                },
            ) => {
                for (e, tags) in oa {
                    adds.entry(*e).or_default().extend(tags.iter().copied());
                }
                tombstones.extend(ot.iter().copied());
            }
            (a, b) => panic!("merge of two types: {a:?} and {b:?}"),
        }
    }

    /// The planted bug `crdt.gcounter_sum_merge`: a G-Counter merge that adds the entries instead
    /// of taking their maximum. Not idempotent: merging a state twice counts its increments twice.
    pub fn merge_summing(&mut self, other: &Crdt) {
        match (&mut *self, other) {
            (Crdt::GCounter { counts }, Crdt::GCounter { counts: o }) => {
                for (a, b) in counts.iter_mut().zip(o) {
                    *a = a.saturating_add(*b);
                }
            }
            _ => self.merge(other),
        }
    }

    /// Applies a local update.
    pub fn apply(&mut self, op: &Op) {
        match (self, op) {
            (Crdt::GCounter { counts }, Op::Inc { node })
            | (Crdt::PnCounter { incs: counts, .. }, Op::Inc { node })
            | (Crdt::PnCounter { decs: counts, .. }, Op::Dec { node }) => {
                counts[*node as usize] += 1;
            }
            (Crdt::LwwSet { adds, .. }, Op::LwwAdd { elem, stamp })
            | (Crdt::LwwSet { removes: adds, .. }, Op::LwwRemove { elem, stamp }) => {
                max_stamps(adds, &BTreeMap::from([(*elem, *stamp)]));
            }
            (Crdt::OrSet { adds, .. }, Op::OrAdd { elem, tag }) => {
                adds.entry(*elem).or_default().insert(*tag);
            }
            (Crdt::OrSet { tombstones, .. }, Op::OrRemove { tags, .. }) => {
                tombstones.extend(tags.iter().copied());
            }
            (c, op) => panic!("op {op:?} does not apply to {c:?}"),
        }
    }

    /// The OR-Set tags of `elem` that are not yet removed (what a remove of `elem` tombstones).
    pub fn live_tags(&self, elem: u32) -> Vec<Tag> {
        match self {
            Crdt::OrSet { adds, tombstones } => adds
                .get(&elem)
                .map(|t| t.difference(tombstones).copied().collect())
                .unwrap_or_default(),
            _ => Vec::new(),
        }
    }

    /// The highest Lamport time in the state (LWW-Set), so a replica's clock passes every stamp it
    /// has seen.
    pub fn max_time(&self) -> u64 {
        match self {
            Crdt::LwwSet { adds, removes } => adds
                .values()
                .chain(removes.values())
                .map(|s| s.0)
                .max()
                .unwrap_or(0),
            _ => 0,
        }
    }

    /// The value a client would read: the counter, or the set's members, as text.
    pub fn value(&self) -> String {
        match self {
            Crdt::GCounter { counts } => counts.iter().sum::<u64>().to_string(),
            Crdt::PnCounter { incs, decs } => {
                let (i, d): (u64, u64) = (incs.iter().sum(), decs.iter().sum());
                (i128::from(i) - i128::from(d)).to_string()
            }
            Crdt::LwwSet { adds, removes } => {
                // An element is in when its latest add is later than its latest remove.
                let members: Vec<u32> = adds
                    .iter()
                    .filter(|(e, a)| removes.get(e).is_none_or(|r| *a > r))
                    .map(|(e, _)| *e)
                    .collect();
                format!("{members:?}")
            }
            Crdt::OrSet { adds, tombstones } => {
                let members: Vec<u32> = adds
                    .iter()
                    .filter(|(_, tags)| tags.iter().any(|t| !tombstones.contains(t)))
                    .map(|(e, _)| *e)
                    .collect();
                format!("{members:?}")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const REPLICAS: u32 = 3;

    /// A state of `kind` built from arbitrary updates, as a replica could hold it.
    fn state(kind: CrdtType) -> impl Strategy<Value = Crdt> {
        prop::collection::vec((0..REPLICAS, 0u32..4, any::<bool>(), 0u64..6), 0..12).prop_map(
            move |ops| {
                let mut c = Crdt::new(kind, REPLICAS);
                for (seq, (node, elem, add, time)) in ops.into_iter().enumerate() {
                    let stamp = (time, node);
                    let op = match (kind, add) {
                        (CrdtType::GCounter, _) | (CrdtType::PnCounter, true) => Op::Inc { node },
                        (CrdtType::PnCounter, false) => Op::Dec { node },
                        (CrdtType::LwwSet, true) => Op::LwwAdd { elem, stamp },
                        (CrdtType::LwwSet, false) => Op::LwwRemove { elem, stamp },
                        (CrdtType::OrSet, true) => Op::OrAdd {
                            elem,
                            tag: (node, seq as u64),
                        },
                        (CrdtType::OrSet, false) => Op::OrRemove {
                            elem,
                            tags: c.live_tags(elem),
                        },
                    };
                    c.apply(&op);
                }
                c
            },
        )
    }

    fn three() -> impl Strategy<Value = (Crdt, Crdt, Crdt)> {
        prop_oneof![
            Just(CrdtType::GCounter),
            Just(CrdtType::PnCounter),
            Just(CrdtType::LwwSet),
            Just(CrdtType::OrSet),
        ]
        .prop_flat_map(|k| (state(k), state(k), state(k)))
    }

    fn join(a: &Crdt, b: &Crdt) -> Crdt {
        let mut c = a.clone();
        c.merge(b);
        c
    }

    proptest! {
        #[test]
        fn merge_is_commutative_associative_and_idempotent((a, b, c) in three()) {
            prop_assert_eq!(join(&a, &b), join(&b, &a));
            prop_assert_eq!(join(&join(&a, &b), &c), join(&a, &join(&b, &c)));
            prop_assert_eq!(join(&a, &a), a.clone());
            // And the join is an upper bound: merging either side again changes nothing.
            prop_assert_eq!(join(&join(&a, &b), &b), join(&a, &b));
        }
    }

    #[test]
    fn the_summing_merge_is_not_idempotent() {
        let mut a = Crdt::new(CrdtType::GCounter, 2);
        a.apply(&Op::Inc { node: 0 });
        let copy = a.clone();
        a.merge_summing(&copy);
        assert_eq!(a.value(), "2", "one increment counted twice");
        let mut b = copy.clone();
        b.merge(&copy);
        assert_eq!(b.value(), "1");
    }

    #[test]
    fn lww_set_keeps_the_later_of_add_and_remove() {
        let mut s = Crdt::new(CrdtType::LwwSet, 2);
        s.apply(&Op::LwwAdd {
            elem: 1,
            stamp: (1, 0),
        });
        s.apply(&Op::LwwRemove {
            elem: 1,
            stamp: (2, 1),
        });
        s.apply(&Op::LwwAdd {
            elem: 2,
            stamp: (3, 1),
        });
        s.apply(&Op::LwwRemove {
            elem: 2,
            stamp: (3, 0),
        });
        assert_eq!(s.value(), "[2]");
    }

    #[test]
    fn or_set_add_wins_over_a_concurrent_remove() {
        let mut a = Crdt::new(CrdtType::OrSet, 2);
        a.apply(&Op::OrAdd {
            elem: 7,
            tag: (0, 1),
        });
        let mut b = a.clone();
        // b removes what it saw while a adds 7 again, concurrently.
        let tags = b.live_tags(7);
        b.apply(&Op::OrRemove { elem: 7, tags });
        a.apply(&Op::OrAdd {
            elem: 7,
            tag: (0, 2),
        });
        a.merge(&b);
        assert_eq!(a.value(), "[7]");
        b.merge(&a);
        assert_eq!(b, a);
    }
}
