//! The minimal-movement checker, which also measures the ring.
//!
//! It keeps, for every client, the owner table it last saw. Whenever a client's ring changes, it
//! compares the new table with the old: a key may change owner only from a member that left or to
//! a member that joined; any other move is a violation. It also records the fraction of the key
//! space that moved per change and `1/N` for that change, and at the end the load spread of the
//! final tables (keys per member against the mean), as the verdict's detail.

use super::node::ChNode;
use crate::contract::{Checker, Failure, NodeId, Observation, RunEnd, Verdict};
use std::collections::{BTreeMap, BTreeSet};

/// The checker's property.
pub const CH_MINIMAL_MOVEMENT: &str = "ch_minimal_movement";

/// What the checker last saw of one client.
struct Seen {
    version: u64,
    members: BTreeSet<NodeId>,
    owners: Vec<Option<NodeId>>,
}

/// One ring change of one client: keys moved and keys in all, and the member count it compares to.
struct Change {
    moved: u64,
    keys: u64,
    members: u64,
}

/// The checker.
#[derive(Default)]
pub struct MinimalMovement {
    seen: BTreeMap<NodeId, Seen>,
    changes: Vec<Change>,
}

/// The most changes recorded (each is a few words).
const CHANGES_MAX: usize = 1_000_000;

impl Checker<ChNode> for MinimalMovement {
    fn name(&self) -> &'static str {
        CH_MINIMAL_MOVEMENT
    }

    fn observe(&mut self, obs: &Observation<'_, ChNode>) -> Result<(), Failure> {
        let Some(view) = obs.state.client_view() else {
            return Ok(());
        };
        let now = Seen {
            version: view.version,
            members: view.members.clone(),
            owners: view.owners.clone(),
        };
        let Some(before) = self.seen.get(&obs.node) else {
            self.seen.insert(obs.node, now);
            return Ok(());
        };
        if before.version == view.version {
            return Ok(());
        }
        let joined: BTreeSet<NodeId> = now.members.difference(&before.members).copied().collect();
        let left: BTreeSet<NodeId> = before.members.difference(&now.members).copied().collect();
        let mut moved = 0u64;
        for (key, (old, new)) in before.owners.iter().zip(&now.owners).enumerate() {
            if old == new {
                continue;
            }
            moved += 1;
            let from_leaver = old.is_some_and(|o| left.contains(&o));
            let to_joiner = new.is_some_and(|n| joined.contains(&n));
            if !from_leaver && !to_joiner {
                return Err(format!(
                    "client {} moved key-{key} from {old:?} to {new:?}, though only {joined:?} joined \
                     and {left:?} left",
                    obs.node
                )
                .into());
            }
        }
        if self.changes.len() < CHANGES_MAX {
            self.changes.push(Change {
                moved,
                keys: now.owners.len() as u64,
                members: before.members.len().max(now.members.len()) as u64,
            });
        }
        self.seen.insert(obs.node, now);
        Ok(())
    }

    fn finish(&mut self, end: &RunEnd<'_, ChNode>) -> Vec<(&'static str, Verdict)> {
        let mut parts = Vec::new();
        if self.changes.is_empty() {
            parts.push("no ring changes".to_string());
        } else {
            let n = self.changes.len() as u64;
            let moved_ppm: Vec<u64> = self
                .changes
                .iter()
                .map(|c| c.moved * 1_000_000 / c.keys.max(1))
                .collect();
            let expected_ppm: u64 = self
                .changes
                .iter()
                .map(|c| 1_000_000 / c.members.max(1))
                .sum::<u64>()
                / n;
            let mean = moved_ppm.iter().sum::<u64>() / n;
            let lo = moved_ppm.iter().copied().min().unwrap_or(0);
            let hi = moved_ppm.iter().copied().max().unwrap_or(0);
            parts.push(format!(
                "{n} ring changes, keys moved per change {} (min {}, max {}), 1/N {}",
                percent(mean),
                percent(lo),
                percent(hi),
                percent(expected_ppm)
            ));
        }
        // Load spread of the first client still up at the end.
        if let Some(view) = end
            .nodes
            .iter()
            .filter_map(|n| n.state.and_then(ChNode::client_view))
            .next()
        {
            let mut load: BTreeMap<NodeId, u64> = view.members.iter().map(|m| (*m, 0)).collect();
            for o in view.owners.iter().flatten() {
                *load.entry(*o).or_insert(0) += 1;
            }
            let total: u64 = load.values().sum();
            if let (Some(max), Some(min)) = (load.values().max(), load.values().min())
                && total > 0
            {
                let members = load.len() as u64;
                parts.push(format!(
                    "load over {members} nodes: max {} and min {} of the mean",
                    percent(max * members * 1_000_000 / total),
                    percent(min * members * 1_000_000 / total)
                ));
            }
        }
        vec![(CH_MINIMAL_MOVEMENT, Verdict::PassNoted(parts.join("; ")))]
    }
}

/// `ppm` as a percentage with one decimal.
fn percent(ppm: u64) -> String {
    format!("{}.{}%", ppm / 10_000, (ppm % 10_000) / 1_000)
}

/// Reads the mean fraction of keys moved per change, in percent, back from a verdict detail.
pub fn moved_percent_in(detail: &str) -> Option<f64> {
    let rest = detail.split("keys moved per change ").nth(1)?;
    rest.split('%').next()?.parse().ok()
}
