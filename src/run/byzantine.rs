//! Which nodes a scenario makes Byzantine: read from its faults, so that a protocol's checkers can
//! judge the correct nodes without the scenario listing the Byzantine ones a second time (a list
//! that could disagree with the faults, and that a swarm sweep drawing its own faults could not
//! keep up to date).

use crate::contract::{Cluster, NodeId};
use crate::fault::{ByzantineMode, FaultAction, FaultSpec, Target};
use std::collections::BTreeSet;

/// Every node that some fault in `faults` makes Byzantine (any mode but `honest`) at some time,
/// in id order. A fault naming a node or a group member counts that node, a group all its members,
/// `all` every server; a fault naming a role counts every node, since who holds the role is known
/// only when the fault fires (so the checkers of such a run judge nobody rather than misjudge).
pub fn byzantine_nodes(faults: &[FaultSpec], cluster: &Cluster) -> Vec<NodeId> {
    let mut nodes = BTreeSet::new();
    for f in faults {
        let FaultAction::Byzantine(b) = &f.action else {
            continue;
        };
        if b.mode == ByzantineMode::Honest {
            continue;
        }
        match &b.node {
            Target::Node(n) => {
                nodes.insert(*n);
            }
            Target::Group { name, member } => {
                let ids = cluster.group(name).unwrap_or(0..0);
                match member {
                    Some(m) => {
                        nodes.insert(ids.start.saturating_add(*m));
                    }
                    None => nodes.extend(ids),
                }
            }
            Target::All => nodes.extend(cluster.server_ids()),
            Target::Role(_) => nodes.extend(0..cluster.node_count()),
        }
    }
    nodes.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fault::ByzantineSpec;

    fn byz(at_ms: u64, node: Target, mode: ByzantineMode) -> FaultSpec {
        FaultSpec::new(
            at_ms,
            FaultAction::Byzantine(ByzantineSpec {
                node,
                mode,
                collude: None,
            }),
        )
    }

    #[test]
    fn every_node_some_fault_makes_byzantine_counts_once_and_honest_does_not() {
        let cluster = Cluster::new(4, 2);
        let faults = vec![
            byz(1, Target::Node(3), ByzantineMode::Silent),
            byz(2, Target::Node(3), ByzantineMode::Honest),
            byz(3, Target::Node(1), ByzantineMode::Delay),
            byz(4, Target::Node(2), ByzantineMode::Honest),
            FaultSpec::new(5, FaultAction::Crash(Target::Node(0))),
        ];
        assert_eq!(byzantine_nodes(&faults, &cluster), vec![1, 3]);
        assert!(byzantine_nodes(&[], &cluster).is_empty());
        let all = [byz(1, Target::All, ByzantineMode::Forge)];
        assert_eq!(byzantine_nodes(&all, &cluster), vec![0, 1, 2, 3]);
        let role = [byz(1, Target::Role("primary".into()), ByzantineMode::Forge)];
        assert_eq!(byzantine_nodes(&role, &cluster), (0..6).collect::<Vec<_>>());
        let member = [byz(
            1,
            Target::Group {
                name: "servers".into(),
                member: Some(2),
            },
            ByzantineMode::Replay,
        )];
        assert_eq!(byzantine_nodes(&member, &cluster), vec![2]);
    }
}
