//! Swarm testing, after TigerBeetle's VOPR: every seed draws its own fault profile from the stream
//! `"swarm"` of that seed. Which fault kinds are on, the loss and duplication rates, the latency range,
//! how many episodes and of which shape (split, isolation, one-way cut, crash, pause, clock jump and
//! drift) all vary from seed to seed, so that a sweep explores many kinds of bad weather instead of one.
//!
//! The drawn profile replaces the scenario's `faults` and `network`, and the result is an ordinary
//! concrete scenario: the trace header records it, so the trace replays alone. Every drawn schedule
//! ends, `quiet_ms` before `max_time_ms`, with a heal, a restart of every crashed server, a resume of
//! every paused node, a true clock again for every server whose clock was set off, and (if the network
//! was degraded) a return to the base latency without loss or duplication; the quiet period after it
//! is where liveness is judged.

use super::fault_build as fb;
use crate::contract::Rng;
use crate::fault::action::{ClockSpec, FaultAction};
use crate::scenario::{ByzantineMode, FaultSpec, Scenario, SwarmSpec, Target};

/// The role a drawn fault targets when the spec names none the protocol has.
const TARGET_ROLE: &str = "leader";

/// The role drawn faults may target in `protocol`: the spec's `target_role` where the protocol
/// declares it (a lock's `holder`), else `leader` where it has one, else the first role it declares
/// (two-phase commit's coordinator), else none (a fault that would target it takes a node id).
fn target_role(protocol: &str, preferred: &str) -> Option<&'static str> {
    let roles = crate::run::registry::current().get(protocol)?.info.roles;
    roles
        .iter()
        .find(|r| **r == preferred)
        .or_else(|| roles.iter().find(|r| **r == TARGET_ROLE))
        .or_else(|| roles.first())
        .copied()
}

/// The shortest and longest time between two crashes of a flapping server.
const FLAP_PERIOD_MS_MIN: u64 = 3;
const FLAP_PERIOD_MS_MAX: u64 = 40;
/// The most crash-restart cycles in one flap episode.
const FLAPS_MAX: u64 = 100;

/// The scenario that `seed` runs under swarm testing: `base` with its faults and network replaced by
/// a profile drawn from the seed's `"swarm"` stream and the ranges in `base.swarm` (defaults if
/// absent). The result has no `swarm` object of its own and its `seed` is `seed`.
pub fn draw(base: &Scenario, seed: u64) -> Scenario {
    let spec = base.swarm.clone().unwrap_or_default();
    let mut rng = Rng::stream(seed, "swarm");
    let on: Vec<&str> = spec
        .kinds
        .iter()
        .filter(|_| rng.chance_ppm(spec.kind_ppm))
        .map(String::as_str)
        .collect();
    let is_on = |k: &str| on.contains(&k);
    let mut s = base.clone();
    s.swarm = None;
    s.seed = seed;
    let quiet_ms = spec.quiet_ms_for(base).min(base.max_time_ms);
    let window_end_ms = base.max_time_ms - quiet_ms;

    let mut degraded = false;
    if is_on("loss") {
        s.network.loss_ppm = rng.between(1, u64::from(spec.loss_ppm_max)) as u32;
        degraded = true;
    }
    if is_on("duplicate") {
        s.network.duplicate_ppm = rng.between(1, u64::from(spec.duplicate_ppm_max)) as u32;
        degraded = true;
    }
    if is_on("latency") {
        let hi = rng.between(base.network.delay_ms_max, spec.latency_ms_max);
        let lo = rng.between(base.network.delay_ms_min, hi);
        s.network.delay_ms_min = lo;
        s.network.delay_ms_max = hi;
        degraded = true;
    }

    let episode_kinds: Vec<&str> = on
        .iter()
        .copied()
        .filter(|k| !matches!(*k, "loss" | "duplicate" | "latency"))
        .collect();
    let mut faults: Vec<FaultSpec> = Vec::new();
    // The servers Byzantine episodes have picked so far: at most `byzantine_max` of them.
    let mut byzantine = Byzantine {
        picked: Vec::new(),
        max: spec.byzantine_max_for(base),
    };
    if !episode_kinds.is_empty() && window_end_ms > 0 {
        let episodes = rng.between(1, u64::from(spec.episodes_max.max(1)));
        for _ in 0..episodes {
            let kind = episode_kinds[rng.below(episode_kinds.len() as u64) as usize];
            let start_ms = rng.between(1, window_end_ms);
            let length_ms = rng.between(spec.episode_ms_min, spec.episode_ms_max);
            let end_ms = start_ms.saturating_add(length_ms).min(window_end_ms);
            episode(
                &mut rng,
                &spec,
                (base.nodes, target_role(&base.protocol, &spec.target_role)),
                (kind, start_ms, end_ms),
                &mut byzantine,
                &mut faults,
            );
        }
    }
    // Stable: faults drawn for the same millisecond keep the order they were drawn in.
    faults.sort_by_key(fb::at_ms);
    faults.push(fb::heal(window_end_ms));
    faults.push(fb::restart(window_end_ms, Target::All));
    faults.push(fb::resume(window_end_ms, Target::All));
    // Servers whose clock an episode set off: set true again, so that liveness can be judged.
    let mut clocked: Vec<u32> = faults
        .iter()
        .filter_map(|f| match &f.action {
            FaultAction::Clock(ClockSpec {
                node: Target::Node(n),
                ..
            }) => Some(*n),
            _ => None,
        })
        .collect();
    clocked.sort_unstable();
    clocked.dedup();
    for node in clocked {
        faults.push(fb::clock(window_end_ms, Target::Node(node), 0, 0));
    }
    if degraded {
        faults.push(fb::link_all(
            window_end_ms,
            base.network.delay_ms_min,
            base.network.delay_ms_max,
            0,
            0,
        ));
    }
    s.faults = faults;
    s
}

/// A server id, or the holder of `role` (one time in three).
fn server_or_leader(rng: &mut Rng, (servers, role): (u32, Option<&str>)) -> Target {
    match role {
        Some(role) if rng.below(3) == 0 => Target::Role(role.into()),
        _ => Target::Node(rng.below(u64::from(servers)) as u32),
    }
}

/// The servers split in two non-empty sides at random (each server a fair coin).
fn split(rng: &mut Rng, servers: u32) -> (Vec<u32>, Vec<u32>) {
    let (mut a, mut b) = (Vec::new(), Vec::new());
    for n in 0..servers {
        if rng.below(2) == 0 {
            a.push(n);
        } else {
            b.push(n);
        }
    }
    if a.is_empty() {
        a.push(b.remove(rng.below(b.len() as u64) as usize));
    } else if b.is_empty() {
        b.push(a.remove(rng.below(a.len() as u64) as usize));
    }
    (a, b)
}

/// The servers a run's Byzantine episodes picked, and how many they may pick.
struct Byzantine {
    picked: Vec<u32>,
    max: u32,
}

impl Byzantine {
    /// A server for the next Byzantine episode: a fresh one while fewer than `max` are picked,
    /// else one of those already picked; `None` when `max` is 0. Draws nothing then, so a run
    /// that may make nobody Byzantine draws as if the kind were off.
    fn pick(&mut self, rng: &mut Rng, servers: u32) -> Option<u32> {
        if self.max == 0 || servers == 0 {
            return None;
        }
        if (self.picked.len() as u32) < self.max.min(servers) {
            let free: Vec<u32> = (0..servers).filter(|n| !self.picked.contains(n)).collect();
            let node = free[rng.below(free.len() as u64) as usize];
            self.picked.push(node);
            return Some(node);
        }
        Some(self.picked[rng.below(self.picked.len() as u64) as usize])
    }
}

/// Appends one episode of `kind`: the fault at `start_ms` and its undoing at `end_ms`.
fn episode(
    rng: &mut Rng,
    spec: &SwarmSpec,
    (servers, role): (u32, Option<&str>),
    (kind, start_ms, end_ms): (&str, u64, u64),
    byzantine: &mut Byzantine,
    out: &mut Vec<FaultSpec>,
) {
    match kind {
        "partition" if servers >= 2 => {
            let (a, b) = split(rng, servers);
            out.push(fb::partition(start_ms, vec![a, b]));
            out.push(fb::heal(end_ms));
        }
        "cut" if servers >= 2 => {
            let (a, b) = split(rng, servers);
            out.push(fb::cut(start_ms, a, b));
            out.push(fb::heal(end_ms));
        }
        "isolate" => {
            out.push(fb::isolate(
                start_ms,
                server_or_leader(rng, (servers, role)),
            ));
            out.push(fb::heal(end_ms));
        }
        "crash" => {
            out.push(fb::crash(start_ms, server_or_leader(rng, (servers, role))));
            out.push(fb::restart(end_ms, Target::All));
        }
        "pause" => {
            out.push(fb::pause(start_ms, server_or_leader(rng, (servers, role))));
            out.push(fb::resume(end_ms, Target::All));
        }
        "flap" => {
            // Crash-restart cycles: what a process manager restarting a crashing process looks like,
            // and the way to lose volatile state in the middle of an election.
            let node = rng.below(u64::from(servers)) as u32;
            let period_ms = rng.between(FLAP_PERIOD_MS_MIN, FLAP_PERIOD_MS_MAX);
            let mut t = start_ms;
            for _ in 0..FLAPS_MAX {
                if t + 1 > end_ms {
                    break;
                }
                out.push(fb::crash(t, Target::Node(node)));
                out.push(fb::restart(t + 1, Target::Node(node)));
                t += period_ms;
            }
        }
        "clock" => {
            let node = Target::Node(rng.below(u64::from(servers)) as u32);
            let offset = rng.between(0, 2 * spec.clock_offset_ms_max) as i64
                - spec.clock_offset_ms_max as i64;
            let drift = rng.between(0, 2 * spec.drift_ppm_max) as i64 - spec.drift_ppm_max as i64;
            out.push(fb::clock(start_ms, node, offset, drift));
        }
        "byzantine" if !spec.byzantine_modes.is_empty() => {
            let Some(node) = byzantine.pick(rng, servers) else {
                return;
            };
            let modes = &spec.byzantine_modes;
            let mode = modes[rng.below(modes.len() as u64) as usize];
            out.push(fb::byzantine(start_ms, node, mode));
            out.push(fb::byzantine(end_ms, node, ByzantineMode::Honest));
        }
        // One server cannot be split; the kind draws nothing.
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> Scenario {
        let text = br#"{"name": "s", "protocol": "raft", "seed": 1, "nodes": 5, "clients": 2,
            "max_time_ms": 8000, "liveness": {"leader_within_ms": 2000}}"#;
        crate::scenario::parse(text, "s.json").unwrap().0
    }

    #[test]
    fn drawn_role_targets_are_roles_the_protocol_has() {
        let text = br#"{"name": "s", "protocol": "twopc", "seed": 1, "nodes": 4, "clients": 2,
            "max_time_ms": 8000}"#;
        let b = crate::scenario::parse(text, "s.json").unwrap().0;
        let mut coordinator_targeted = false;
        for seed in 0..100 {
            let s = draw(&b, seed);
            crate::run::validate(&s, None)
                .unwrap_or_else(|e| panic!("seed {seed} drew a scenario twopc refuses: {e}"));
            let json = serde_json::to_string(&s.faults).unwrap();
            assert!(!json.contains("\"leader\""), "seed {seed}: {json}");
            coordinator_targeted |= json.contains("\"coordinator\"");
        }
        assert!(coordinator_targeted, "the coordinator is never the target");
        assert_eq!(target_role("raft", "leader"), Some("leader"));
        assert_eq!(
            target_role("raft", "holder"),
            Some("leader"),
            "raft has no holder"
        );
        assert_eq!(target_role("lock", "holder"), Some("holder"));
        assert_eq!(target_role("pingpong", "leader"), None);
    }

    #[test]
    fn role_targets_follow_the_spec_where_the_protocol_has_the_role() {
        let text = br#"{"name": "s", "protocol": "lock", "seed": 1, "nodes": 6, "clients": 2,
            "max_time_ms": 8000}"#;
        let mut b = crate::scenario::parse(text, "s.json").unwrap().0;
        b.swarm = Some(SwarmSpec {
            kinds: vec!["crash".into(), "pause".into(), "isolate".into()],
            kind_ppm: 1_000_000,
            target_role: "holder".into(),
            ..SwarmSpec::default()
        });
        let roles: Vec<String> = (0..40)
            .flat_map(|seed| draw(&b, seed).faults)
            .flat_map(|f| {
                f.action
                    .targets()
                    .into_iter()
                    .filter_map(|(_, t)| match t {
                        Target::Role(r) => Some(r.clone()),
                        _ => None,
                    })
                    .collect::<Vec<_>>()
            })
            .collect();
        assert!(!roles.is_empty(), "some faults target the role");
        assert!(roles.iter().all(|r| r == "holder"), "{roles:?}");
    }

    #[test]
    fn a_seed_always_draws_the_same_valid_profile_ending_in_a_quiet_period() {
        let b = base();
        let mut kinds_seen = std::collections::BTreeSet::new();
        for seed in 0..200 {
            let s = draw(&b, seed);
            assert_eq!(s, draw(&b, seed), "seed {seed} drew two profiles");
            let text = serde_json::to_vec(&s).unwrap();
            crate::scenario::parse(&text, "drawn.json")
                .unwrap_or_else(|e| panic!("seed {seed} drew an invalid scenario: {e}"));
            let last = s.faults.last().unwrap();
            assert_eq!(last.at_ms, 8000 - 2000, "seed {seed}");
            assert!(s.faults.iter().all(|f| f.at_ms <= 6000));
            for f in &s.faults {
                kinds_seen.insert(fb::kind(f));
            }
        }
        for k in [
            "partition",
            "cut",
            "isolate",
            "crash",
            "restart",
            "pause",
            "resume",
            "clock",
            "link",
            "heal",
        ] {
            assert!(kinds_seen.contains(k), "no seed drew {k}: {kinds_seen:?}");
        }
        assert!(!kinds_seen.contains("byzantine"), "byzantine is opt-in");
    }

    #[test]
    fn byzantine_episodes_draw_the_listed_modes_on_at_most_byzantine_max_servers() {
        let text = br#"{"name": "s", "protocol": "pbft", "seed": 1, "nodes": 7, "clients": 2,
            "max_time_ms": 8000, "swarm": {"kinds": ["byzantine", "crash"], "kind_ppm": 1000000,
            "byzantine_modes": ["replay", "delay", "equivocate", "forge"]}}"#;
        let b = crate::scenario::parse(text, "s.json").unwrap().0;
        let mut modes = std::collections::BTreeSet::new();
        let mut most = 0;
        for seed in 0..200 {
            let s = draw(&b, seed);
            crate::run::validate(&s, None)
                .unwrap_or_else(|e| panic!("seed {seed} drew a scenario pbft refuses: {e}"));
            let cluster = crate::contract::Cluster::new(7, 2);
            let nodes = crate::run::byzantine::byzantine_nodes(&s.faults, &cluster);
            assert!(nodes.len() <= 2, "seed {seed}: f = 2 but {nodes:?}");
            most = most.max(nodes.len());
            for f in &s.faults {
                if let FaultAction::Byzantine(spec) = &f.action {
                    modes.insert(format!("{:?}", spec.mode));
                }
            }
        }
        assert_eq!(most, 2, "some seed makes f servers Byzantine");
        let seen: Vec<&str> = modes.iter().map(String::as_str).collect();
        assert_eq!(seen, ["Delay", "Equivocate", "Forge", "Honest", "Replay"]);
        // Four servers tolerate one; byzantine_max may say otherwise.
        let mut four = b.clone();
        four.nodes = 4;
        let cluster = crate::contract::Cluster::new(4, 2);
        for seed in 0..50 {
            let nodes = crate::run::byzantine::byzantine_nodes(&draw(&four, seed).faults, &cluster);
            assert!(nodes.len() <= 1, "seed {seed}: {nodes:?}");
        }
        let mut none = four.clone();
        none.swarm.as_mut().unwrap().byzantine_max = Some(0);
        for seed in 0..50 {
            assert!(
                !draw(&none, seed)
                    .faults
                    .iter()
                    .any(|f| fb::kind(f) == "byzantine"),
                "seed {seed}"
            );
        }
    }

    #[test]
    fn a_swarm_may_draw_forge_only_where_the_protocol_has_an_adversary() {
        let text = br#"{"name": "s", "protocol": "raft", "seed": 1, "nodes": 4, "clients": 1,
            "max_time_ms": 8000, "swarm": {"kinds": ["byzantine"], "byzantine_modes": ["replay", "forge"]}}"#;
        let (b, source) = crate::scenario::parse(text, "s.json").unwrap();
        let err = crate::run::validate(&b, Some(&source))
            .unwrap_err()
            .to_string();
        assert!(err.contains("swarm.byzantine_modes[1]"), "{err}");
        let text = br#"{"name": "s", "protocol": "raft", "seed": 1, "nodes": 4, "clients": 1,
            "max_time_ms": 8000, "swarm": {"kinds": ["byzantine"], "byzantine_modes": ["honest"]}}"#;
        let err = crate::scenario::parse(text, "s.json")
            .unwrap_err()
            .to_string();
        assert!(err.contains("swarm.byzantine_modes[0]"), "{err}");
    }

    #[test]
    fn seeds_draw_different_profiles_within_the_ranges() {
        let mut b = base();
        b.swarm = Some(SwarmSpec {
            kinds: vec!["loss".into(), "crash".into()],
            kind_ppm: 1_000_000,
            loss_ppm_max: 1_000,
            ..SwarmSpec::default()
        });
        let profiles: Vec<Scenario> = (0..20).map(|seed| draw(&b, seed)).collect();
        assert!(profiles.windows(2).any(|w| w[0].faults != w[1].faults));
        for s in &profiles {
            assert!((1..=1_000).contains(&s.network.loss_ppm));
            assert_eq!(s.network.duplicate_ppm, 0);
            assert!(s.faults.iter().all(|f| matches!(
                fb::kind(f),
                "crash" | "restart" | "heal" | "resume" | "link"
            )));
        }
    }

    #[test]
    fn every_clock_set_off_is_set_true_again_at_the_end_and_leaders_only_where_declared() {
        let b = base();
        let mut reset = 0;
        for seed in 0..200 {
            let s = draw(&b, seed);
            let end_ms = s.faults.last().unwrap().at_ms;
            let clock_nodes = |at: &dyn Fn(u64) -> bool| {
                let mut nodes: Vec<String> = s
                    .faults
                    .iter()
                    .filter(|f| fb::kind(f) == "clock" && at(f.at_ms))
                    .map(|f| format!("{:?}", f.action.targets()))
                    .collect();
                nodes.sort();
                nodes.dedup();
                nodes
            };
            let set_off = clock_nodes(&|t| t < end_ms);
            let set_back = clock_nodes(&|t| t == end_ms);
            assert_eq!(set_off, set_back, "seed {seed}");
            reset += set_back.len();
        }
        assert!(reset > 0, "some seed drew a clock episode");
        // Pingpong has no leader role: no drawn fault targets one.
        let mut p = base();
        p.protocol = "pingpong".into();
        p.clients = 0;
        p.liveness = None;
        for seed in 0..200 {
            let s = draw(&p, seed);
            let text = serde_json::to_vec(&s).unwrap();
            assert!(
                !String::from_utf8_lossy(&text).contains("leader"),
                "seed {seed}"
            );
        }
    }
}
