//! The scenario's `"swarm"` object: the ranges from which `distsim sweep --swarm` draws each seed's
//! own fault profile (see `sweep::swarm`). Every field has a default, so `"swarm": {}` (or no
//! `"swarm"` at all) gives the standard ranges.
//!
//! ```json
//! "swarm": { "kinds": ["partition", "crash", "loss"], "episodes_max": 6, "loss_ppm_max": 50000 }
//! ```

use super::DRIFT_PPM_MIN;
use super::locate::Seg;
use super::validate::Problem;
use super::{ByzantineMode, Scenario};
use serde::{Deserialize, Serialize};

/// Every fault kind the swarm sampler knows, with what it draws.
pub const SWARM_KINDS: &[(&str, &str)] = &[
    (
        "partition",
        "split the servers in two random groups, healed later",
    ),
    (
        "isolate",
        "cut one server (or the leader) off, healed later",
    ),
    ("cut", "a one-way cut between two random sets of servers"),
    ("crash", "crash a server (or the leader), restarted later"),
    ("pause", "pause a server (or the leader), resumed later"),
    (
        "flap",
        "crash a server and restart it at once, again and again, every few milliseconds",
    ),
    ("clock", "jump a server's clock and set its drift"),
    (
        "loss",
        "lose messages at a drawn rate until the quiet period",
    ),
    (
        "duplicate",
        "duplicate messages at a drawn rate until the quiet period",
    ),
    (
        "latency",
        "a drawn latency range, up to latency_ms_max, until the quiet period",
    ),
    (
        "byzantine",
        "make a server Byzantine in a mode from byzantine_modes, honest again later; at most \
         byzantine_max servers a run (off unless listed)",
    ),
];

/// The kinds switched on when a scenario's `"swarm"` does not list its own.
pub const SWARM_KINDS_DEFAULT: &[&str] = &[
    "partition",
    "isolate",
    "cut",
    "crash",
    "pause",
    "flap",
    "clock",
    "loss",
    "duplicate",
    "latency",
];

/// The most fault episodes one drawn run may have.
pub const SWARM_EPISODES_LIMIT: u32 = 1_000;

/// Ranges for swarm testing.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SwarmSpec {
    /// The fault kinds the sampler may switch on (see `distsim list`); each seed switches on a drawn
    /// subset of them.
    #[serde(default = "default_kinds")]
    pub kinds: Vec<String>,
    /// How likely each listed kind is to be on in one seed, in parts per million.
    #[serde(default = "default_kind_ppm")]
    pub kind_ppm: u32,
    /// The most fault episodes (a fault and its undoing) in one run; each seed draws `1..=` this.
    #[serde(default = "default_episodes_max")]
    pub episodes_max: u32,
    /// The shortest episode.
    #[serde(default = "default_episode_ms_min")]
    pub episode_ms_min: u64,
    /// The longest episode.
    #[serde(default = "default_episode_ms_max")]
    pub episode_ms_max: u64,
    /// The highest message loss rate drawn, in parts per million.
    #[serde(default = "default_loss_ppm_max")]
    pub loss_ppm_max: u32,
    /// The highest duplication rate drawn, in parts per million.
    #[serde(default = "default_duplicate_ppm_max")]
    pub duplicate_ppm_max: u32,
    /// The highest one-way latency the `latency` kind draws.
    #[serde(default = "default_latency_ms_max")]
    pub latency_ms_max: u64,
    /// The largest clock jump, either way.
    #[serde(default = "default_clock_offset_ms_max")]
    pub clock_offset_ms_max: u64,
    /// The largest clock drift, either way, in parts per million.
    #[serde(default = "default_drift_ppm_max")]
    pub drift_ppm_max: u64,
    /// The role that isolate, crash and pause episodes target one time in three (the rest hit a
    /// server id): `"leader"` unless the protocol's roles say otherwise (a lock's `"holder"`).
    #[serde(
        default = "default_target_role",
        skip_serializing_if = "is_default_target_role"
    )]
    pub target_role: String,
    /// The fault-free time at the end of every run, after everything is healed, restarted and
    /// resumed, so that liveness can be judged. By default the longest liveness promise, or a quarter
    /// of `max_time_ms` when the scenario has none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quiet_ms: Option<u64>,
    /// The modes `byzantine` episodes draw from: by default `silent`, `replay` and `delay`, which
    /// every protocol can take; `forge` and `equivocate` need the protocol's adversary.
    #[serde(
        default = "default_byzantine_modes",
        skip_serializing_if = "is_default_byzantine_modes"
    )]
    pub byzantine_modes: Vec<ByzantineMode>,
    /// The most distinct servers `byzantine` episodes make Byzantine in one run: by default
    /// f = (nodes - 1) / 3, the most Byzantine servers of `nodes` that a Byzantine-tolerant protocol
    /// can tolerate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub byzantine_max: Option<u32>,
}

/// The Byzantine modes drawn unless a scenario's `"swarm"` lists its own.
pub const BYZANTINE_MODES_DEFAULT: &[ByzantineMode] = &[
    ByzantineMode::Silent,
    ByzantineMode::Replay,
    ByzantineMode::Delay,
];

fn default_byzantine_modes() -> Vec<ByzantineMode> {
    BYZANTINE_MODES_DEFAULT.to_vec()
}
fn is_default_byzantine_modes(modes: &[ByzantineMode]) -> bool {
    modes == BYZANTINE_MODES_DEFAULT
}

fn default_kinds() -> Vec<String> {
    SWARM_KINDS_DEFAULT.iter().map(|k| k.to_string()).collect()
}
fn default_target_role() -> String {
    "leader".to_string()
}
fn is_default_target_role(role: &str) -> bool {
    role == "leader"
}
fn default_kind_ppm() -> u32 {
    500_000
}
fn default_episodes_max() -> u32 {
    8
}
fn default_episode_ms_min() -> u64 {
    50
}
fn default_episode_ms_max() -> u64 {
    2_000
}
fn default_loss_ppm_max() -> u32 {
    100_000
}
fn default_duplicate_ppm_max() -> u32 {
    50_000
}
fn default_latency_ms_max() -> u64 {
    100
}
fn default_clock_offset_ms_max() -> u64 {
    1_000
}
fn default_drift_ppm_max() -> u64 {
    1_000
}

impl Default for SwarmSpec {
    fn default() -> Self {
        SwarmSpec {
            kinds: default_kinds(),
            kind_ppm: default_kind_ppm(),
            episodes_max: default_episodes_max(),
            episode_ms_min: default_episode_ms_min(),
            episode_ms_max: default_episode_ms_max(),
            loss_ppm_max: default_loss_ppm_max(),
            duplicate_ppm_max: default_duplicate_ppm_max(),
            latency_ms_max: default_latency_ms_max(),
            clock_offset_ms_max: default_clock_offset_ms_max(),
            drift_ppm_max: default_drift_ppm_max(),
            target_role: default_target_role(),
            quiet_ms: None,
            byzantine_modes: default_byzantine_modes(),
            byzantine_max: None,
        }
    }
}

impl SwarmSpec {
    /// The most distinct servers made Byzantine in one run of `scenario`.
    pub fn byzantine_max_for(&self, scenario: &Scenario) -> u32 {
        self.byzantine_max
            .unwrap_or(scenario.nodes.saturating_sub(1) / 3)
    }

    /// The quiet period for `scenario`: the spec's own, or the longest liveness promise, or a quarter
    /// of the run.
    pub fn quiet_ms_for(&self, scenario: &Scenario) -> u64 {
        if let Some(q) = self.quiet_ms {
            return q;
        }
        let promised = liveness_promise_ms(scenario);
        if promised > 0 {
            promised
        } else {
            scenario.max_time_ms / 4
        }
    }
}

/// The longest liveness promise in `scenario`, 0 if none.
fn liveness_promise_ms(scenario: &Scenario) -> u64 {
    scenario.liveness.as_ref().map_or(0, |l| {
        l.leader_within_ms
            .unwrap_or(0)
            .max(l.ops_complete_within_ms.unwrap_or(0))
    })
}

/// Checks a scenario's `"swarm"` object.
pub fn validate(spec: &SwarmSpec, scenario: &Scenario) -> Result<(), Problem> {
    let p = |k: &str| vec![Seg::Key("swarm".into()), Seg::Key(k.into())];
    for (i, k) in spec.kinds.iter().enumerate() {
        if !SWARM_KINDS.iter().any(|(name, _)| name == k) {
            let known: Vec<&str> = SWARM_KINDS.iter().map(|(n, _)| *n).collect();
            let mut path = p("kinds");
            path.push(Seg::Index(i));
            return Err((
                path,
                format!("unknown swarm kind {k:?}; known: {}", known.join(", ")),
            ));
        }
    }
    for (name, v) in [
        ("kind_ppm", spec.kind_ppm),
        ("loss_ppm_max", spec.loss_ppm_max),
        ("duplicate_ppm_max", spec.duplicate_ppm_max),
    ] {
        if v > 1_000_000 {
            return Err((p(name), format!("{v} is above 1000000 (parts per million)")));
        }
    }
    if spec.episodes_max > SWARM_EPISODES_LIMIT {
        return Err((
            p("episodes_max"),
            format!("must be at most {SWARM_EPISODES_LIMIT}"),
        ));
    }
    if spec.episode_ms_min > spec.episode_ms_max {
        return Err((
            p("episode_ms_min"),
            format!(
                "{} is above episode_ms_max ({})",
                spec.episode_ms_min, spec.episode_ms_max
            ),
        ));
    }
    if spec.episode_ms_max > scenario.max_time_ms {
        return Err((p("episode_ms_max"), "longer than the whole run".into()));
    }
    if spec.latency_ms_max < scenario.network.delay_ms_max
        || spec.latency_ms_max > scenario.max_time_ms
    {
        return Err((
            p("latency_ms_max"),
            format!(
                "must lie between the network's delay_ms_max ({}) and max_time_ms ({})",
                scenario.network.delay_ms_max, scenario.max_time_ms
            ),
        ));
    }
    if let Some(t) = &scenario.network.tail
        && spec.latency_ms_max > t.delay_ms_max
    {
        return Err((
            p("latency_ms_max"),
            format!(
                "above the network tail's delay_ms_max ({}), which must stay the largest latency",
                t.delay_ms_max
            ),
        ));
    }
    if spec.clock_offset_ms_max > scenario.max_time_ms {
        return Err((p("clock_offset_ms_max"), "longer than the whole run".into()));
    }
    // Drift is drawn either way, so the slow side's limit bounds both.
    let drift_limit = DRIFT_PPM_MIN.unsigned_abs();
    if spec.drift_ppm_max > drift_limit {
        return Err((p("drift_ppm_max"), format!("must be at most {drift_limit}")));
    }
    for (i, m) in spec.byzantine_modes.iter().enumerate() {
        if *m == ByzantineMode::Honest {
            let mut path = p("byzantine_modes");
            path.push(Seg::Index(i));
            return Err((
                path,
                "\"honest\" is how every byzantine episode ends, not a mode to draw".into(),
            ));
        }
    }
    if spec.byzantine_modes.is_empty() && spec.kinds.iter().any(|k| k == "byzantine") {
        return Err((
            p("byzantine_modes"),
            "the byzantine kind is listed, so name at least one mode to draw".into(),
        ));
    }
    if let Some(m) = spec.byzantine_max
        && m > scenario.nodes
    {
        return Err((
            p("byzantine_max"),
            format!("{m} is more than the {} servers", scenario.nodes),
        ));
    }
    let quiet = spec.quiet_ms_for(scenario);
    let promised = liveness_promise_ms(scenario);
    if quiet < promised {
        return Err((
            p("quiet_ms"),
            format!(
                "{quiet} ms is shorter than the scenario's longest liveness promise ({promised} ms), \
                 which could never be judged"
            ),
        ));
    }
    if quiet == 0 || quiet >= scenario.max_time_ms {
        return Err((
            p("quiet_ms"),
            format!(
                "the quiet period ({quiet} ms) must be above zero and shorter than max_time_ms ({})",
                scenario.max_time_ms
            ),
        ));
    }
    Ok(())
}
