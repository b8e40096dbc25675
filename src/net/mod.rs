//! The network model: per-link latency (uniform, with an optional long tail), loss and duplication in
//! parts per million, reordering that follows from latency, and partitions that are checked when a
//! message would be delivered (so a cut also loses what is already in flight).
//!
//! The network draws from its own random stream, so protocol behaviour never shifts network draws.

use crate::contract::Rng;
use crate::contract::{Duration, NS_PER_MS};
use crate::scenario::NetworkSpec;
use serde::Serialize;

/// One direction of one link.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LinkParams {
    /// Smallest latency.
    pub delay_ns_min: u64,
    /// Largest latency of the body of the distribution.
    pub delay_ns_max: u64,
    /// Probability of the tail, ppm.
    pub tail_ppm: u32,
    /// Largest latency in the tail.
    pub tail_delay_ns_max: u64,
    /// Probability of loss, ppm.
    pub loss_ppm: u32,
    /// Probability of duplication, ppm.
    pub duplicate_ppm: u32,
}

impl LinkParams {
    /// Link parameters from the scenario's network section.
    pub fn from_spec(n: &NetworkSpec) -> Self {
        let (tail_ppm, tail_ms) = n
            .tail
            .map_or((0, n.delay_ms_max), |t| (t.ppm, t.delay_ms_max));
        LinkParams {
            delay_ns_min: n.delay_ms_min * NS_PER_MS,
            delay_ns_max: n.delay_ms_max * NS_PER_MS,
            tail_ppm,
            tail_delay_ns_max: tail_ms * NS_PER_MS,
            loss_ppm: n.loss_ppm,
            duplicate_ppm: n.duplicate_ppm,
        }
    }

    fn latency(&self, rng: &mut Rng) -> Duration {
        // The tail is drawn first and always, so that changing the tail probability does not shift
        // the other draws of the same message.
        let tail = rng.chance_ppm(self.tail_ppm);
        let ns = if tail {
            rng.between(self.delay_ns_max, self.tail_delay_ns_max)
        } else {
            rng.between(self.delay_ns_min, self.delay_ns_max)
        };
        Duration(ns)
    }
}

/// Why a message was not delivered.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DropReason {
    /// Lost on the link.
    Loss,
    /// A partition or cut separated sender and receiver when it arrived.
    Partition,
    /// The receiver was down when it arrived.
    Down,
    /// Too many messages were in flight.
    InFlightMax,
    /// The sender is Byzantine and silent.
    Silenced,
    /// A test script or explorer dropped it.
    Scripted,
}

/// What happens to one sent message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fate {
    /// Lost before it could arrive.
    Dropped(DropReason),
    /// Arrives after `delay`; a duplicate, if any, after its own delay.
    Deliver {
        /// The first copy's latency.
        delay: Duration,
        /// The duplicate's latency.
        duplicate: Option<Duration>,
    },
}

/// The network between `nodes` nodes.
pub struct Network {
    nodes: usize,
    /// Every link as the scenario set it up, to tell when a link fault is still in force.
    baseline: LinkParams,
    links: Vec<LinkParams>,
    /// `blocked[from * nodes + to]`: messages from `from` to `to` are lost on arrival.
    blocked: Vec<bool>,
    in_flight: u64,
    in_flight_max: u64,
}

impl Network {
    /// A fully connected network with every link as `spec` says.
    pub fn new(nodes: u32, spec: &NetworkSpec) -> Self {
        let n = nodes as usize;
        Network {
            nodes: n,
            baseline: LinkParams::from_spec(spec),
            links: vec![LinkParams::from_spec(spec); n * n],
            blocked: vec![false; n * n],
            in_flight: 0,
            in_flight_max: u64::from(spec.in_flight_max),
        }
    }

    fn idx(&self, from: u32, to: u32) -> usize {
        from as usize * self.nodes + to as usize
    }

    /// Decides the fate of a message sent now from `from` to `to`. Every send makes the same number of
    /// draws whatever the outcome, so the network stream stays aligned across runs that differ only in
    /// fault timing.
    pub fn send(&mut self, from: u32, to: u32, rng: &mut Rng) -> Fate {
        let link = self.links[self.idx(from, to)];
        let lost = rng.chance_ppm(link.loss_ppm);
        let dup = rng.chance_ppm(link.duplicate_ppm);
        let delay = link.latency(rng);
        let dup_delay = link.latency(rng);
        if lost {
            return Fate::Dropped(DropReason::Loss);
        }
        let copies = if dup { 2 } else { 1 };
        if self.in_flight + copies > self.in_flight_max {
            return Fate::Dropped(DropReason::InFlightMax);
        }
        self.in_flight += copies;
        Fate::Deliver {
            delay,
            duplicate: dup.then_some(dup_delay),
        }
    }

    /// A message left the network (delivered or dropped on arrival).
    pub fn arrived(&mut self) {
        debug_assert!(self.in_flight > 0);
        self.in_flight = self.in_flight.saturating_sub(1);
    }

    /// Messages in flight.
    pub fn in_flight(&self) -> u64 {
        self.in_flight
    }

    /// Whether messages from `from` to `to` are cut.
    pub fn is_blocked(&self, from: u32, to: u32) -> bool {
        self.blocked[self.idx(from, to)]
    }

    /// Whether any cut is in force.
    pub fn any_blocked(&self) -> bool {
        self.blocked.iter().any(|b| *b)
    }

    /// Cuts every pair of nodes in different groups, both ways. Nodes in no group are not affected.
    pub fn partition(&mut self, groups: &[Vec<u32>]) {
        for (gi, a) in groups.iter().enumerate() {
            for (gj, b) in groups.iter().enumerate() {
                if gi == gj {
                    continue;
                }
                for &x in a {
                    for &y in b {
                        let i = self.idx(x, y);
                        self.blocked[i] = true;
                    }
                }
            }
        }
    }

    /// Cuts messages from each of `from` to each of `to`.
    pub fn cut(&mut self, from: &[u32], to: &[u32]) {
        for &x in from {
            for &y in to {
                if x != y {
                    let i = self.idx(x, y);
                    self.blocked[i] = true;
                }
            }
        }
    }

    /// Cuts `node` off from every other node, both ways.
    pub fn isolate(&mut self, node: u32) {
        for other in 0..self.nodes as u32 {
            if other != node {
                let a = self.idx(node, other);
                let b = self.idx(other, node);
                self.blocked[a] = true;
                self.blocked[b] = true;
            }
        }
    }

    /// Removes every cut.
    pub fn heal(&mut self) {
        self.blocked.iter_mut().for_each(|b| *b = false);
    }

    /// Whether some link is worse than the scenario's network set it up (a link fault still in
    /// force): more loss or duplication, or slower. A link made better than that is no fault.
    pub fn links_degraded(&self) -> bool {
        let b = &self.baseline;
        self.links.iter().any(|l| {
            l.loss_ppm > b.loss_ppm
                || l.duplicate_ppm > b.duplicate_ppm
                || l.delay_ns_min > b.delay_ns_min
                || l.delay_ns_max > b.delay_ns_max
                || l.tail_delay_ns_max > b.tail_delay_ns_max
                || l.tail_ppm > b.tail_ppm
        })
    }

    /// Changes the links from each of `from` to each of `to` with `change`.
    pub fn change_links(&mut self, from: &[u32], to: &[u32], change: impl Fn(&mut LinkParams)) {
        for &x in from {
            for &y in to {
                let i = self.idx(x, y);
                change(&mut self.links[i]);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contract::Rng;

    #[test]
    fn partitions_are_directional_and_heal() {
        let mut net = Network::new(4, &NetworkSpec::default());
        net.partition(&[vec![0, 1], vec![2]]);
        assert!(net.is_blocked(0, 2) && net.is_blocked(2, 1));
        assert!(
            !net.is_blocked(0, 1) && !net.is_blocked(3, 2),
            "node 3 is in no group"
        );
        net.heal();
        net.cut(&[0], &[1]);
        assert!(net.is_blocked(0, 1) && !net.is_blocked(1, 0));
        net.heal();
        net.isolate(3);
        assert!(net.is_blocked(3, 0) && net.is_blocked(1, 3) && !net.is_blocked(0, 1));
    }

    #[test]
    fn a_degraded_link_is_in_force_until_set_back() {
        let mut net = Network::new(3, &NetworkSpec::default());
        assert!(!net.links_degraded());
        net.change_links(&[0], &[1, 2], |p| p.loss_ppm = 200_000);
        assert!(net.links_degraded());
        net.change_links(&[0], &[1], |p| p.loss_ppm = 0);
        assert!(net.links_degraded(), "0 -> 2 is still lossy");
        net.change_links(&[0], &[2], |p| p.loss_ppm = 0);
        assert!(!net.links_degraded());
        net.change_links(&[1], &[2], |p| p.delay_ns_max += 1);
        assert!(net.links_degraded(), "slower is a fault too");
        net.change_links(&[1], &[2], |p| {
            p.delay_ns_max -= 1;
            p.delay_ns_min = 0;
        });
        assert!(
            !net.links_degraded(),
            "faster than the scenario is no fault"
        );
    }

    #[test]
    fn the_in_flight_bound_counts_copies_and_arrivals_free_room() {
        let spec = NetworkSpec {
            in_flight_max: 3,
            duplicate_ppm: 1_000_000,
            ..NetworkSpec::default()
        };
        let mut net = Network::new(2, &spec);
        let mut rng = Rng::stream(5, "net");
        // Every send is duplicated: two copies fit, a second pair would make four.
        assert!(matches!(
            net.send(0, 1, &mut rng),
            Fate::Deliver {
                duplicate: Some(_),
                ..
            }
        ));
        assert_eq!(net.in_flight(), 2);
        assert_eq!(
            net.send(1, 0, &mut rng),
            Fate::Dropped(DropReason::InFlightMax)
        );
        assert_eq!(net.in_flight(), 2, "a dropped send takes no room");
        net.arrived();
        assert_eq!(net.in_flight(), 1);
        // Exactly at the bound (1 + 2 = 3) is allowed.
        assert!(matches!(net.send(0, 1, &mut rng), Fate::Deliver { .. }));
        assert_eq!(net.in_flight(), 3);
        for left in [2, 1, 0] {
            net.arrived();
            assert_eq!(net.in_flight(), left);
        }
    }

    #[test]
    fn any_blocked_sees_one_cut_link() {
        let mut net = Network::new(3, &NetworkSpec::default());
        assert!(!net.any_blocked());
        net.cut(&[2], &[1]);
        assert!(net.any_blocked());
        net.heal();
        assert!(!net.any_blocked());
    }

    #[test]
    fn loss_and_duplication_follow_their_rates() {
        let spec = NetworkSpec {
            loss_ppm: 250_000,
            duplicate_ppm: 100_000,
            ..NetworkSpec::default()
        };
        let mut net = Network::new(2, &spec);
        let mut rng = Rng::stream(3, "net");
        let (mut lost, mut dup) = (0, 0);
        for _ in 0..10_000 {
            match net.send(0, 1, &mut rng) {
                Fate::Dropped(DropReason::Loss) => lost += 1,
                Fate::Deliver { delay, duplicate } => {
                    assert!((NS_PER_MS..=10 * NS_PER_MS).contains(&delay.0));
                    dup += u32::from(duplicate.is_some());
                }
                other => panic!("unexpected {other:?}"),
            }
        }
        assert!((2_200..2_800).contains(&lost), "lost {lost}");
        assert!((600..900).contains(&dup), "dup {dup}");
    }

    #[test]
    fn each_link_field_worse_than_the_scenario_is_a_fault_and_better_is_not() {
        let spec = NetworkSpec {
            delay_ms_min: 2,
            delay_ms_max: 8,
            tail: Some(crate::scenario::TailSpec {
                ppm: 1_000,
                delay_ms_max: 50,
            }),
            loss_ppm: 1_000,
            duplicate_ppm: 1_000,
            ..NetworkSpec::default()
        };
        /// Makes one field of a link worse (true) or better (false) than the scenario's.
        type Change = fn(&mut LinkParams, bool);
        let changes: [(&str, Change); 6] = [
            ("delay_ns_min", |p, worse| {
                p.delay_ns_min = if worse { 3 } else { 1 } * NS_PER_MS;
            }),
            ("delay_ns_max", |p, worse| {
                p.delay_ns_max = if worse { 9 } else { 7 } * NS_PER_MS;
            }),
            ("tail_ppm", |p, worse| {
                p.tail_ppm = if worse { 1_001 } else { 999 };
            }),
            ("tail_delay_ns_max", |p, worse| {
                p.tail_delay_ns_max = if worse { 51 } else { 49 } * NS_PER_MS;
            }),
            ("loss_ppm", |p, worse| {
                p.loss_ppm = if worse { 1_001 } else { 999 };
            }),
            ("duplicate_ppm", |p, worse| {
                p.duplicate_ppm = if worse { 1_001 } else { 999 };
            }),
        ];
        for (field, change) in changes {
            for worse in [true, false] {
                let mut net = Network::new(3, &spec);
                assert!(!net.links_degraded());
                net.change_links(&[2], &[0], |p| change(p, worse));
                assert_eq!(net.links_degraded(), worse, "{field}, worse: {worse}");
            }
        }
    }
}
