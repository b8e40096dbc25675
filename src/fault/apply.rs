//! Applying a fault to a running world, in two steps: [`plan`] resolves who it hits (a role names
//! whoever holds it now) and describes it, so that the trace can write the fault's line *before* its
//! effects; then [`apply`] makes the change through the [`FaultSurface`] the engine offers.

use super::action::{ByzantineMode, FaultAction};
use super::target::Target;
use crate::contract::{NS_PER_MS, NodeId};
use crate::net::Network;

/// Which nodes a target may name, by their state when the fault fires.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Want {
    /// Any node.
    Any,
    /// Nodes that are up (not crashed).
    Up,
    /// Nodes that are up and not paused.
    Running,
    /// Nodes that are down.
    Down,
    /// Nodes that are paused.
    Paused,
}

/// What the engine lets a fault do to a running world.
pub trait FaultSurface {
    /// How many nodes there are.
    fn node_count(&self) -> u32;
    /// Whether `node` is in the state `want` asks for.
    fn is(&self, node: NodeId, want: Want) -> bool;
    /// The server that took `role` most recently (ties: the lowest id), if any holds it now.
    fn holder_of(&self, role: &str) -> Option<NodeId>;
    /// The server ids.
    fn servers(&self) -> std::ops::Range<NodeId>;
    /// The ids of the protocol's group called `name` (validation made sure it exists).
    fn group(&self, name: &str) -> std::ops::Range<NodeId>;
    /// The network.
    fn network(&mut self) -> &mut Network;
    /// Crashes `node`: its volatile state, timers and anything it had not yet handled are lost.
    fn crash(&mut self, node: NodeId);
    /// Restarts a crashed `node` from its disk.
    fn restart(&mut self, node: NodeId);
    /// Pauses `node`: it handles nothing until resumed.
    fn pause(&mut self, node: NodeId);
    /// Resumes a paused `node`: it handles what arrived meanwhile, in arrival order.
    fn resume(&mut self, node: NodeId);
    /// Jumps `node`'s clock by `offset_ns` and, if given, sets its drift.
    fn skew_clock(&mut self, node: NodeId, offset_ns: i64, drift_ppm: Option<i64>);
    /// Makes `node` Byzantine with `mode`, or honest again with `None`.
    fn set_byzantine(&mut self, node: NodeId, mode: Option<ByzantineMode>);

    /// Puts `node` in collusion group `group` (`None`: it acts alone). The default ignores it.
    fn set_collusion(&mut self, node: NodeId, group: Option<&str>) {
        let _ = (node, group);
    }
}

/// A fault resolved against the world as it is when the fault fires.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Planned {
    /// The nodes it hits (for a partition, every node in a group; for a cut or link, the senders).
    pub nodes: Vec<NodeId>,
    /// What it does, in words, for the timeline and the trace.
    pub effect: String,
}

fn list(nodes: &[NodeId]) -> String {
    nodes
        .iter()
        .map(|n| n.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// The nodes `target` names now, among those in state `want`.
fn resolve(surface: &impl FaultSurface, target: &Target, want: Want) -> Vec<NodeId> {
    match target {
        Target::Node(n) => vec![*n],
        // "restart all" and "resume all" undo what a role target did to a client (a lock's holder)
        // too; everything else that takes "all" means every server.
        Target::All if matches!(want, Want::Down | Want::Paused) => (0..surface.node_count())
            .filter(|n| surface.is(*n, want))
            .collect(),
        Target::All => surface.servers().filter(|n| surface.is(*n, want)).collect(),
        Target::Role(r) => surface.holder_of(r).into_iter().collect(),
        Target::Group {
            name,
            member: Some(m),
        } => {
            let ids = surface.group(name);
            vec![ids.start + m]
        }
        Target::Group { name, member: None } => surface
            .group(name)
            .filter(|n| surface.is(*n, want))
            .collect(),
    }
}

fn described(nodes: Vec<NodeId>, verb: &str, target: &Target) -> Planned {
    let effect = match (&nodes[..], target) {
        ([], _) => format!("{verb} {target}: nobody to {verb}"),
        ([n], Target::Role(r)) => format!("{verb} node {n} (the {r})"),
        (
            [n],
            Target::Group {
                member: Some(_), ..
            },
        ) => format!("{verb} node {n} ({target})"),
        (ns, _) => format!(
            "{verb} node{} {}",
            if ns.len() > 1 { "s" } else { "" },
            list(ns)
        ),
    };
    Planned { nodes, effect }
}

/// Who `action` hits now, and what it does, in words. Changes nothing.
pub fn plan(action: &FaultAction, surface: &impl FaultSurface) -> Planned {
    match action {
        FaultAction::Partition(groups) => {
            let text = groups
                .iter()
                .map(|g| format!("{{{}}}", list(g)))
                .collect::<Vec<_>>()
                .join(" | ");
            Planned {
                nodes: groups.concat(),
                effect: format!("partition {text}"),
            }
        }
        FaultAction::Cut(c) => Planned {
            nodes: c.from.clone(),
            effect: format!("cut {{{}}} -> {{{}}}", list(&c.from), list(&c.to)),
        },
        FaultAction::Heal(_) => Planned {
            nodes: Vec::new(),
            effect: "heal all partitions".into(),
        },
        FaultAction::Isolate(t) => described(resolve(surface, t, Want::Any), "isolate", t),
        FaultAction::Crash(t) => described(resolve(surface, t, Want::Up), "crash", t),
        FaultAction::Restart(t) => {
            let nodes = resolve(surface, t, Want::Down)
                .into_iter()
                .filter(|n| surface.is(*n, Want::Down))
                .collect();
            described(nodes, "restart", t)
        }
        FaultAction::Pause(t) => described(resolve(surface, t, Want::Running), "pause", t),
        FaultAction::Resume(t) => {
            let nodes = resolve(surface, t, Want::Paused)
                .into_iter()
                .filter(|n| surface.is(*n, Want::Paused))
                .collect();
            described(nodes, "resume", t)
        }
        FaultAction::Clock(c) => {
            let who = described(resolve(surface, &c.node, Want::Any), "clock", &c.node);
            Planned {
                effect: format!(
                    "{}: clock jumps {} ms{}",
                    who.effect,
                    c.offset_ms,
                    c.drift_ppm
                        .map(|d| format!(", drift {d} ppm"))
                        .unwrap_or_default()
                ),
                nodes: who.nodes,
            }
        }
        FaultAction::Link(l) => {
            let all: Vec<NodeId> = (0..surface.node_count()).collect();
            let from = l.from.clone().unwrap_or_else(|| all.clone());
            let to = l.to.clone().unwrap_or(all);
            Planned {
                effect: format!("links {{{}}} -> {{{}}} changed", list(&from), list(&to)),
                nodes: from,
            }
        }
        FaultAction::Byzantine(b) => {
            described(resolve(surface, &b.node, Want::Any), "byzantine", &b.node)
        }
    }
}

/// Makes the change `action` describes to the nodes `planned` resolved.
pub fn apply(action: &FaultAction, planned: &Planned, surface: &mut impl FaultSurface) {
    let nodes = &planned.nodes;
    match action {
        FaultAction::Partition(groups) => surface.network().partition(groups),
        FaultAction::Cut(c) => surface.network().cut(&c.from, &c.to),
        FaultAction::Heal(_) => surface.network().heal(),
        FaultAction::Isolate(_) => {
            for &n in nodes {
                surface.network().isolate(n);
            }
        }
        FaultAction::Crash(_) => nodes.iter().for_each(|&n| surface.crash(n)),
        FaultAction::Restart(_) => nodes.iter().for_each(|&n| surface.restart(n)),
        FaultAction::Pause(_) => nodes.iter().for_each(|&n| surface.pause(n)),
        FaultAction::Resume(_) => nodes.iter().for_each(|&n| surface.resume(n)),
        FaultAction::Clock(c) => {
            let offset_ns = c.offset_ms.saturating_mul(NS_PER_MS as i64);
            for &n in nodes {
                surface.skew_clock(n, offset_ns, c.drift_ppm);
            }
        }
        FaultAction::Link(l) => {
            let all: Vec<NodeId> = (0..surface.node_count()).collect();
            let from = l.from.clone().unwrap_or_else(|| all.clone());
            let to = l.to.clone().unwrap_or(all);
            surface.network().change_links(&from, &to, |p| {
                if let Some(v) = l.delay_ms_min {
                    p.delay_ns_min = v * NS_PER_MS;
                }
                if let Some(v) = l.delay_ms_max {
                    p.delay_ns_max = v * NS_PER_MS;
                    p.tail_delay_ns_max = p.tail_delay_ns_max.max(p.delay_ns_max);
                }
                p.delay_ns_min = p.delay_ns_min.min(p.delay_ns_max);
                if let Some(v) = l.loss_ppm {
                    p.loss_ppm = v;
                }
                if let Some(v) = l.duplicate_ppm {
                    p.duplicate_ppm = v;
                }
            });
        }
        FaultAction::Byzantine(b) => {
            let mode = match b.mode {
                ByzantineMode::Honest => None,
                mode => Some(mode),
            };
            for &n in nodes {
                surface.set_byzantine(n, mode);
                surface.set_collusion(n, b.collude.as_deref().filter(|_| mode.is_some()));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::net::Fate;

    /// Three servers (0, 1, 2) and two clients (3, 4), the clients forming the group "clients";
    /// node 1 holds "leader". Records what the faults did.
    struct Fake {
        net: Network,
        down: Vec<NodeId>,
        paused: Vec<NodeId>,
        done: Vec<String>,
    }

    impl Fake {
        fn new(down: &[NodeId], paused: &[NodeId]) -> Fake {
            Fake {
                net: Network::new(5, &Default::default()),
                down: down.to_vec(),
                paused: paused.to_vec(),
                done: Vec::new(),
            }
        }
    }

    impl FaultSurface for Fake {
        fn node_count(&self) -> u32 {
            5
        }
        fn is(&self, node: NodeId, want: Want) -> bool {
            let (down, paused) = (self.down.contains(&node), self.paused.contains(&node));
            match want {
                Want::Any => true,
                Want::Up => !down,
                Want::Running => !down && !paused,
                Want::Down => down,
                Want::Paused => paused,
            }
        }
        fn holder_of(&self, role: &str) -> Option<NodeId> {
            (role == "leader").then_some(1)
        }
        fn servers(&self) -> std::ops::Range<NodeId> {
            0..3
        }
        fn group(&self, _name: &str) -> std::ops::Range<NodeId> {
            3..5
        }
        fn network(&mut self) -> &mut Network {
            &mut self.net
        }
        fn crash(&mut self, node: NodeId) {
            self.done.push(format!("crash {node}"));
        }
        fn restart(&mut self, node: NodeId) {
            self.done.push(format!("restart {node}"));
        }
        fn pause(&mut self, node: NodeId) {
            self.done.push(format!("pause {node}"));
        }
        fn resume(&mut self, node: NodeId) {
            self.done.push(format!("resume {node}"));
        }
        fn skew_clock(&mut self, node: NodeId, offset_ns: i64, drift_ppm: Option<i64>) {
            self.done
                .push(format!("clock {node} {offset_ns} {drift_ppm:?}"));
        }
        fn set_byzantine(&mut self, node: NodeId, mode: Option<ByzantineMode>) {
            self.done.push(format!("byzantine {node} {mode:?}"));
        }
    }

    /// Plans and applies `action`; the nodes it hit and what the surface was asked to do.
    fn run(fake: &mut Fake, action: FaultAction) -> (Vec<NodeId>, Vec<String>) {
        let planned = plan(&action, fake);
        apply(&action, &planned, fake);
        (planned.nodes, std::mem::take(&mut fake.done))
    }

    #[test]
    fn all_means_every_server_except_to_undo_what_hit_a_client() {
        // Node 2 is paused, client 4 is down.
        let mut fake = Fake::new(&[4], &[2]);
        let (nodes, done) = run(&mut fake, FaultAction::Crash(Target::All));
        assert_eq!(
            nodes,
            [0, 1, 2],
            "crash all: the servers that are up, no client"
        );
        assert_eq!(done, ["crash 0", "crash 1", "crash 2"]);
        let (nodes, _) = run(&mut fake, FaultAction::Pause(Target::All));
        assert_eq!(nodes, [0, 1], "pause all: the running servers");
        let mut fake = Fake::new(&[1, 4], &[2, 3]);
        let (nodes, done) = run(&mut fake, FaultAction::Restart(Target::All));
        assert_eq!(
            nodes,
            [1, 4],
            "restart all: every node down, the client too"
        );
        assert_eq!(done, ["restart 1", "restart 4"]);
        let (nodes, _) = run(&mut fake, FaultAction::Resume(Target::All));
        assert_eq!(
            nodes,
            [2, 3],
            "resume all: every paused node, the client too"
        );
    }

    #[test]
    fn a_link_fault_speaks_milliseconds_and_touches_only_its_links() {
        let mut fake = Fake::new(&[], &[]);
        let link = crate::fault::action::LinkSpec {
            from: Some(vec![0]),
            to: Some(vec![1]),
            delay_ms_min: Some(4),
            delay_ms_max: Some(4),
            loss_ppm: None,
            duplicate_ppm: None,
        };
        let (nodes, _) = run(&mut fake, FaultAction::Link(link));
        assert_eq!(nodes, [0]);
        let mut rng = crate::contract::Rng::stream(1, "net");
        for _ in 0..100 {
            match fake.net.send(0, 1, &mut rng) {
                Fate::Deliver { delay, .. } => assert_eq!(delay.0, 4 * NS_PER_MS),
                other => panic!("{other:?}"),
            }
            fake.net.arrived();
        }
        let untouched: Vec<u64> = (0..100)
            .filter_map(|_| match fake.net.send(1, 0, &mut rng) {
                Fate::Deliver { delay, .. } => Some(delay.0),
                Fate::Dropped(_) => None,
            })
            .collect();
        assert!(
            untouched.iter().any(|d| *d != 4 * NS_PER_MS),
            "1 -> 0 keeps the scenario's latency"
        );
    }
}
