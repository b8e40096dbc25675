//! The one place where the sweep module builds, names and rewrites scheduled faults. The swarm sampler
//! and the shrinker go through these helpers only, so a change to the scenario's fault type stays
//! local to this file.

use crate::fault::{
    ByzantineMode, ByzantineSpec, ClockSpec, CutSpec, FaultAction, FaultSpec, LinkSpec, Target,
};

/// `partition` into `groups` at `at_ms`.
pub fn partition(at_ms: u64, groups: Vec<Vec<u32>>) -> FaultSpec {
    FaultSpec::new(at_ms, FaultAction::Partition(groups))
}

/// A one-way cut from `from` to `to`.
pub fn cut(at_ms: u64, from: Vec<u32>, to: Vec<u32>) -> FaultSpec {
    FaultSpec::new(at_ms, FaultAction::Cut(CutSpec { from, to }))
}

/// Isolate `target`.
pub fn isolate(at_ms: u64, target: Target) -> FaultSpec {
    FaultSpec::new(at_ms, FaultAction::Isolate(target))
}

/// Heal every partition, cut and isolation.
pub fn heal(at_ms: u64) -> FaultSpec {
    FaultSpec::new(at_ms, FaultAction::Heal(true))
}

/// Crash `target`.
pub fn crash(at_ms: u64, target: Target) -> FaultSpec {
    FaultSpec::new(at_ms, FaultAction::Crash(target))
}

/// Restart `target` (a node id or every crashed server).
pub fn restart(at_ms: u64, target: Target) -> FaultSpec {
    FaultSpec::new(at_ms, FaultAction::Restart(target))
}

/// Pause `target`.
pub fn pause(at_ms: u64, target: Target) -> FaultSpec {
    FaultSpec::new(at_ms, FaultAction::Pause(target))
}

/// Resume `target` (a node id or every paused node).
pub fn resume(at_ms: u64, target: Target) -> FaultSpec {
    FaultSpec::new(at_ms, FaultAction::Resume(target))
}

/// Jump `node`'s clock by `offset_ms` and set its drift.
pub fn clock(at_ms: u64, node: Target, offset_ms: i64, drift_ppm: i64) -> FaultSpec {
    FaultSpec::new(
        at_ms,
        FaultAction::Clock(ClockSpec {
            node,
            offset_ms,
            drift_ppm: Some(drift_ppm),
        }),
    )
}

/// Set latency, loss and duplication on every link.
pub fn link_all(
    at_ms: u64,
    delay_ms_min: u64,
    delay_ms_max: u64,
    loss_ppm: u32,
    duplicate_ppm: u32,
) -> FaultSpec {
    FaultSpec::new(
        at_ms,
        FaultAction::Link(LinkSpec {
            from: None,
            to: None,
            delay_ms_min: Some(delay_ms_min),
            delay_ms_max: Some(delay_ms_max),
            loss_ppm: Some(loss_ppm),
            duplicate_ppm: Some(duplicate_ppm),
        }),
    )
}

/// Make `node` Byzantine in `mode` (or honest again).
pub fn byzantine(at_ms: u64, node: u32, mode: ByzantineMode) -> FaultSpec {
    FaultSpec::new(
        at_ms,
        FaultAction::Byzantine(ByzantineSpec {
            node: Target::Node(node),
            mode,
            collude: None,
        }),
    )
}

/// The fault's kind, as the scenario names its action (`"crash"`, `"heal"`...).
pub fn kind(f: &FaultSpec) -> &'static str {
    f.action.name()
}

/// When the fault fires.
pub fn at_ms(f: &FaultSpec) -> u64 {
    f.at_ms
}

/// The fault with every node id passed through `map`; a node that maps to `None` is dropped from
/// lists, and a fault that no longer makes sense (a partition with fewer than two groups, a target
/// gone) becomes `None`.
pub fn remap_nodes(f: &FaultSpec, map: &dyn Fn(u32) -> Option<u32>) -> Option<FaultSpec> {
    let list = |v: &[u32]| -> Vec<u32> { v.iter().filter_map(|n| map(*n)).collect() };
    let target = |t: &Target| -> Option<Target> {
        match t {
            Target::Node(n) => map(*n).map(Target::Node),
            other => Some(other.clone()),
        }
    };
    let action = match &f.action {
        FaultAction::Partition(groups) => {
            let groups: Vec<Vec<u32>> = groups
                .iter()
                .map(|g| list(g))
                .filter(|g| !g.is_empty())
                .collect();
            if groups.len() < 2 {
                return None;
            }
            FaultAction::Partition(groups)
        }
        FaultAction::Cut(c) => {
            let (from, to) = (list(&c.from), list(&c.to));
            if from.is_empty() || to.is_empty() {
                return None;
            }
            FaultAction::Cut(CutSpec { from, to })
        }
        FaultAction::Heal(h) => FaultAction::Heal(*h),
        FaultAction::Isolate(t) => FaultAction::Isolate(target(t)?),
        FaultAction::Crash(t) => FaultAction::Crash(target(t)?),
        FaultAction::Restart(t) => FaultAction::Restart(target(t)?),
        FaultAction::Pause(t) => FaultAction::Pause(target(t)?),
        FaultAction::Resume(t) => FaultAction::Resume(target(t)?),
        FaultAction::Clock(c) => FaultAction::Clock(ClockSpec {
            node: target(&c.node)?,
            ..c.clone()
        }),
        FaultAction::Byzantine(b) => FaultAction::Byzantine(ByzantineSpec {
            node: target(&b.node)?,
            mode: b.mode,
            collude: b.collude.clone(),
        }),
        FaultAction::Link(l) => {
            let mut l = l.clone();
            for side in [&mut l.from, &mut l.to] {
                if let Some(v) = side.as_ref() {
                    let v = list(v);
                    if v.is_empty() {
                        return None;
                    }
                    *side = Some(v);
                }
            }
            FaultAction::Link(l)
        }
    };
    Some(FaultSpec::new(f.at_ms, action))
}

/// The fault with its message loss and duplication rates lowered to `loss_ppm`/`duplicate_ppm` at
/// most, or `None` when it sets neither (nothing to lower).
pub fn with_rates_at_most(f: &FaultSpec, loss_ppm: u32, duplicate_ppm: u32) -> Option<FaultSpec> {
    let FaultAction::Link(l) = &f.action else {
        return None;
    };
    if l.loss_ppm.is_none_or(|v| v <= loss_ppm)
        && l.duplicate_ppm.is_none_or(|v| v <= duplicate_ppm)
    {
        return None;
    }
    let mut l = l.clone();
    l.loss_ppm = l.loss_ppm.map(|v| v.min(loss_ppm));
    l.duplicate_ppm = l.duplicate_ppm.map(|v| v.min(duplicate_ppm));
    Some(FaultSpec::new(f.at_ms, FaultAction::Link(l)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remapping_drops_a_node_and_moves_the_ids_above_it_down() {
        // Drop server 2 of 3: ids above it move down by one.
        let map = |n: u32| match n {
            2 => None,
            n if n > 2 => Some(n - 1),
            n => Some(n),
        };
        let p = partition(5, vec![vec![0, 3], vec![1, 2]]);
        assert_eq!(
            remap_nodes(&p, &map),
            Some(partition(5, vec![vec![0, 2], vec![1]]))
        );
        // A partition left with one group means nothing, and a fault on the dropped node goes.
        assert_eq!(
            remap_nodes(&partition(5, vec![vec![0, 1], vec![2]]), &map),
            None
        );
        assert_eq!(remap_nodes(&crash(5, Target::Node(2)), &map), None);
        assert_eq!(
            remap_nodes(&crash(5, Target::Node(4)), &map),
            Some(crash(5, Target::Node(3)))
        );
        let leader = isolate(5, Target::Role("leader".into()));
        assert_eq!(remap_nodes(&leader, &map), Some(leader.clone()));
        assert_eq!(remap_nodes(&cut(1, vec![2], vec![0]), &map), None);
        assert_eq!(kind(&heal(3)), "heal");
    }

    #[test]
    fn rates_are_lowered_only_where_a_link_fault_sets_them() {
        let l = link_all(1, 1, 10, 5_000, 100);
        let lowered = with_rates_at_most(&l, 0, 0).unwrap();
        let FaultAction::Link(spec) = lowered.action else {
            panic!("still a link fault")
        };
        assert_eq!((spec.loss_ppm, spec.duplicate_ppm), (Some(0), Some(0)));
        assert_eq!(with_rates_at_most(&link_all(1, 1, 10, 0, 0), 0, 0), None);
        assert_eq!(with_rates_at_most(&heal(1), 0, 0), None);
    }
}
