//! The fault kinds: one enum, [`FaultAction`], from which parsing, validation, `distsim list` and
//! application all come. A scheduled fault ([`FaultSpec`]) is `at_ms` plus exactly one action, written
//! in a scenario as `{"at_ms": 3000, "isolate": "leader"}`.

use super::target::Target;
use serde::de::{self, DeserializeSeed, IntoDeserializer, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};
use std::fmt;

/// One fault action. The variant names, in snake_case, are the keys a scenario uses.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FaultAction {
    /// Split the servers into groups that cannot reach each other. Nodes in no group (usually the
    /// clients) still reach everyone.
    Partition(Vec<Vec<u32>>),
    /// Cut messages one way only: from every node in `from` to every node in `to`.
    Cut(CutSpec),
    /// Cut one node (or the holder of a role) off from every other node, clients included.
    Isolate(Target),
    /// Remove every partition, cut and isolation (`"heal": true`).
    Heal(bool),
    /// Crash a node: its volatile state is lost, its disk is kept, messages to it are lost.
    Crash(Target),
    /// Restart a crashed node (or `"all"` crashed servers) from its disk.
    Restart(Target),
    /// Stop-the-world pause: the node handles nothing until resumed, then catches up.
    Pause(Target),
    /// Resume a paused node (or `"all"` paused nodes).
    Resume(Target),
    /// Skew a node's clock.
    Clock(ClockSpec),
    /// Change latency, loss or duplication on some links.
    Link(LinkSpec),
    /// Make a node Byzantine (or honest again).
    Byzantine(ByzantineSpec),
}

impl FaultAction {
    /// Every fault kind, with one line each, in the enum's order (what `distsim list` prints).
    pub const KINDS: &'static [(&'static str, &'static str)] = &[
        (
            "partition",
            "split servers into groups that cannot reach each other: [[0,1],[2,3,4]]",
        ),
        ("cut", "one-way cut: {\"from\": [0], \"to\": [1, 2]}"),
        (
            "isolate",
            "cut a node (or a role: \"leader\") off from every other node",
        ),
        ("heal", "remove every partition, cut and isolation: true"),
        (
            "crash",
            "stop a node (or a role); volatile state lost, disk kept",
        ),
        (
            "restart",
            "restart a crashed node (or \"all\") from its disk",
        ),
        (
            "pause",
            "stop-the-world pause: the node handles nothing until resumed",
        ),
        (
            "resume",
            "resume a paused node (or \"all\"); it catches up on what arrived",
        ),
        (
            "clock",
            "jump a node's clock (offset_ms) and/or set its drift (drift_ppm)",
        ),
        ("link", "change latency, loss or duplication on some links"),
        (
            "byzantine",
            "make a server Byzantine (mode: silent, forge, equivocate, replay, delay, honest)",
        ),
    ];

    /// The kind's name, as a scenario writes it.
    pub fn name(&self) -> &'static str {
        let index = match self {
            FaultAction::Partition(_) => 0,
            FaultAction::Cut(_) => 1,
            FaultAction::Isolate(_) => 2,
            FaultAction::Heal(_) => 3,
            FaultAction::Crash(_) => 4,
            FaultAction::Restart(_) => 5,
            FaultAction::Pause(_) => 6,
            FaultAction::Resume(_) => 7,
            FaultAction::Clock(_) => 8,
            FaultAction::Link(_) => 9,
            FaultAction::Byzantine(_) => 10,
        };
        Self::KINDS[index].0
    }

    /// The targets this action names, each with its field path below the action (`[]` for the
    /// action's own value, `["node"]` for a clock's or Byzantine fault's node).
    pub fn targets(&self) -> Vec<(Option<&'static str>, &Target)> {
        match self {
            FaultAction::Isolate(t)
            | FaultAction::Crash(t)
            | FaultAction::Restart(t)
            | FaultAction::Pause(t)
            | FaultAction::Resume(t) => vec![(None, t)],
            FaultAction::Clock(c) => vec![(Some("node"), &c.node)],
            FaultAction::Byzantine(b) => vec![(Some("node"), &b.node)],
            FaultAction::Partition(_)
            | FaultAction::Cut(_)
            | FaultAction::Heal(_)
            | FaultAction::Link(_) => Vec::new(),
        }
    }

    /// Whether this action undoes faults rather than adding one (heal, restart, resume, an honest
    /// Byzantine node).
    pub fn is_repair(&self) -> bool {
        matches!(
            self,
            FaultAction::Heal(_) | FaultAction::Restart(_) | FaultAction::Resume(_)
        ) || matches!(self, FaultAction::Byzantine(b) if b.mode == ByzantineMode::Honest)
    }
}

/// One scheduled fault: `at_ms` and exactly one action.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FaultSpec {
    /// When the fault fires.
    pub at_ms: u64,
    /// What it does.
    #[serde(flatten)]
    pub action: FaultAction,
}

impl FaultSpec {
    /// A fault of `action` at `at_ms`.
    pub fn new(at_ms: u64, action: FaultAction) -> Self {
        FaultSpec { at_ms, action }
    }
}

/// Reads `{"at_ms": N, "<kind>": payload}`: the payload is read by [`FaultAction`]'s own derive, from
/// the same stream, so its errors keep their line, column and field.
impl<'de> Deserialize<'de> for FaultSpec {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct FaultVisitor;
        impl<'de> Visitor<'de> for FaultVisitor {
            type Value = FaultSpec;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a fault: {\"at_ms\": N, and one action}")
            }
            fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<FaultSpec, M::Error> {
                let mut at_ms = None;
                let mut action: Option<FaultAction> = None;
                while let Some(key) = map.next_key::<String>()? {
                    if key == "at_ms" {
                        if at_ms.is_some() {
                            return Err(de::Error::duplicate_field("at_ms"));
                        }
                        at_ms = Some(map.next_value::<u64>()?);
                        continue;
                    }
                    if let Some(first) = &action {
                        return Err(de::Error::custom(format!(
                            "a fault has exactly one action; this one has {} and then `{key}`",
                            first.name()
                        )));
                    }
                    action = Some(FaultAction::deserialize(
                        de::value::MapAccessDeserializer::new(OneEntry {
                            key: Some(key),
                            map: &mut map,
                        }),
                    )?);
                }
                let at_ms = at_ms.ok_or_else(|| de::Error::missing_field("at_ms"))?;
                let action = action.ok_or_else(|| {
                    let names: Vec<&str> = FaultAction::KINDS.iter().map(|(n, _)| *n).collect();
                    de::Error::custom(format!("a fault needs one action: {}", names.join(", ")))
                })?;
                Ok(FaultSpec { at_ms, action })
            }
        }
        d.deserialize_map(FaultVisitor)
    }
}

/// The one entry of a map whose key was already read: lets the enum's derive read the variant name
/// and its payload from the outer map.
struct OneEntry<'m, M> {
    key: Option<String>,
    map: &'m mut M,
}

impl<'de, M: MapAccess<'de>> MapAccess<'de> for OneEntry<'_, M> {
    type Error = M::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, M::Error> {
        match self.key.take() {
            Some(key) => seed.deserialize(key.into_deserializer()).map(Some),
            None => Ok(None),
        }
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, M::Error> {
        self.map.next_value_seed(seed)
    }
}

/// A one-way cut.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CutSpec {
    /// Senders.
    pub from: Vec<u32>,
    /// Receivers.
    pub to: Vec<u32>,
}

/// A clock skew.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClockSpec {
    /// The node.
    pub node: Target,
    /// Jump the clock by this much (negative: back).
    #[serde(default)]
    pub offset_ms: i64,
    /// From now on, run fast (positive) or slow (negative) by this many parts per million.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub drift_ppm: Option<i64>,
}

/// New link parameters for the links from `from` to `to` (every node where omitted).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LinkSpec {
    /// Senders (all nodes if omitted).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<Vec<u32>>,
    /// Receivers (all nodes if omitted).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<Vec<u32>>,
    /// New smallest latency.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delay_ms_min: Option<u64>,
    /// New largest latency.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delay_ms_max: Option<u64>,
    /// New loss probability.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub loss_ppm: Option<u32>,
    /// New duplication probability.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duplicate_ppm: Option<u32>,
}

/// How many of its own earlier messages a Byzantine node remembers for `replay`.
pub const REPLAY_MEMORY: usize = 64;

/// The most messages a Byzantine node in `delay` mode holds back.
pub const HELD_MAX: usize = 4096;

/// How a Byzantine node misbehaves.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ByzantineMode {
    /// Sends nothing at all (but keeps receiving).
    Silent,
    /// Alters fields of its outgoing messages (the protocol's `Adversary::forge`).
    Forge,
    /// Sends different receivers conflicting versions of each message (the protocol's
    /// `Adversary::equivocate`).
    Equivocate,
    /// Sends what its honest code sends, and after each message also re-sends one it sent earlier
    /// while Byzantine (drawn from the last [`REPLAY_MEMORY`]) to that message's receiver.
    Replay,
    /// Holds back everything it sends until its mode changes (to honest, or another mode), then
    /// sends it all in order; past [`HELD_MAX`] held messages, later ones are dropped.
    Delay,
    /// Behaves correctly again.
    Honest,
}

impl ByzantineMode {
    /// Every mode with one line, in the enum's order (what `distsim list` prints).
    pub const ALL: &'static [(&'static str, &'static str)] = &[
        ("silent", "sends nothing (but keeps receiving)"),
        (
            "forge",
            "alters fields of what it sends (the protocol's adversary says which)",
        ),
        (
            "equivocate",
            "sends different receivers conflicting versions (the protocol's adversary)",
        ),
        (
            "replay",
            "after each message, re-sends one of its last 64 to that message's receiver",
        ),
        (
            "delay",
            "holds back everything it sends until its mode changes, then sends it in order",
        ),
        ("honest", "behaves correctly again"),
    ];
}

/// A Byzantine fault.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ByzantineSpec {
    /// The node.
    pub node: Target,
    /// The behaviour.
    pub mode: ByzantineMode,
    /// A collusion group: Byzantine nodes of one group share what they send (each one's adversary
    /// hears every message the others' honest code sends, before tampering), so that they can tell
    /// one consistent story. None: the node acts alone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub collude: Option<String>,
}

/// The longest collusion group name.
pub const COLLUDE_NAME_MAX: usize = 64;

#[cfg(test)]
mod byzantine_mode_tests {
    use super::ByzantineMode;

    #[test]
    fn every_listed_mode_is_a_mode_and_every_mode_is_listed() {
        let modes: Vec<ByzantineMode> = ByzantineMode::ALL
            .iter()
            .map(|(name, _)| serde_json::from_str(&format!("\"{name}\"")).expect(name))
            .collect();
        let mut distinct = modes.clone();
        distinct.dedup();
        assert_eq!(distinct.len(), modes.len());
        // A new variant makes this match fail to compile until it is listed.
        for m in &modes {
            match m {
                ByzantineMode::Silent
                | ByzantineMode::Forge
                | ByzantineMode::Equivocate
                | ByzantineMode::Replay
                | ByzantineMode::Delay
                | ByzantineMode::Honest => {}
            }
        }
        assert_eq!(modes.len(), 6);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repairs_are_heal_restart_resume_and_an_honest_node() {
        let byzantine = |mode| {
            FaultAction::Byzantine(ByzantineSpec {
                node: Target::Node(0),
                mode,
                collude: None,
            })
        };
        for repair in [
            FaultAction::Heal(true),
            FaultAction::Restart(Target::All),
            FaultAction::Resume(Target::Node(1)),
            byzantine(ByzantineMode::Honest),
        ] {
            assert!(repair.is_repair(), "{repair:?}");
        }
        for fault in [
            FaultAction::Crash(Target::All),
            FaultAction::Pause(Target::Node(1)),
            FaultAction::Partition(vec![vec![0], vec![1]]),
            byzantine(ByzantineMode::Silent),
        ] {
            assert!(!fault.is_repair(), "{fault:?}");
        }
    }

    #[test]
    fn a_fault_that_is_not_an_object_says_what_a_fault_is() {
        let err = serde_json::from_str::<FaultSpec>("[1]").expect_err("not a fault");
        assert!(
            err.to_string()
                .contains(r#"expected a fault: {"at_ms": N, and one action}"#),
            "{err}"
        );
    }
}
