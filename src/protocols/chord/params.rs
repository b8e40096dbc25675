//! Chord's parameters (`"params"` in a scenario), each with a default and a bound.

use super::ring::{ID_BITS_MAX, ID_BITS_MIN, IdHash};
use crate::contract::Param;
use serde::Deserialize;

/// The longest successor list (`successors`).
pub const SUCCESSORS_MAX: u32 = 16;
/// The highest `hop_limit`.
pub const HOP_LIMIT_MAX: u32 = 256;
/// The highest `suspect_after`.
pub const SUSPECT_AFTER_MAX: u32 = 100;
/// The highest `settle_rounds`.
pub const SETTLE_ROUNDS_MAX: u32 = 10_000;
/// The longest period or timeout, ms (an hour).
pub const PERIOD_MS_MAX: u64 = 3_600_000;
/// The latest scheduled join, ms (a week).
pub const JOIN_AT_MS_MAX: u64 = 7 * 24 * 3_600_000;

/// Parameters, every one with a default.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ChordParams {
    /// The hash that places nodes on the circle.
    pub id_hash: IdHash,
    /// Bits per id (`m`): the circle has `2^m` ids and every node `m` fingers.
    pub id_bits: u32,
    /// Length `r` of each node's successor list.
    pub successors: u32,
    /// Period of stabilize (one stabilisation round), ms.
    pub stabilize_ms: u64,
    /// Period of fix_fingers (one finger per period), ms.
    pub fix_fingers_ms: u64,
    /// Period of check_predecessor, ms.
    pub check_predecessor_ms: u64,
    /// Period of the ring check (look up one's own successor through a random server), ms.
    pub merge_ms: u64,
    /// Unanswered requests in a row after which a successor or predecessor counts as failed.
    pub suspect_after: u32,
    /// How long a lookup waits for one node's answer, ms.
    pub hop_timeout_ms: u64,
    /// The most nodes one lookup may ask; a lookup that needs more fails.
    pub hop_limit: u32,
    /// Period of each member's own lookups of random keys, ms.
    pub lookup_ms: u64,
    /// When each server joins, ms on its own clock, by server id; servers past the list join at 0.
    pub join_at_ms: Vec<u64>,
    /// Wait before a failed join is tried again through another server, ms.
    pub join_retry_ms: u64,
    /// `k`: once churn stops the ring must be correct within this many stabilisation rounds.
    pub settle_rounds: u32,
}

impl Default for ChordParams {
    fn default() -> Self {
        ChordParams {
            id_hash: IdHash::Sha1,
            id_bits: 16,
            successors: 4,
            stabilize_ms: 50,
            fix_fingers_ms: 50,
            check_predecessor_ms: 50,
            merge_ms: 250,
            suspect_after: 3,
            hop_timeout_ms: 40,
            hop_limit: 32,
            lookup_ms: 100,
            join_at_ms: Vec::new(),
            join_retry_ms: 100,
            settle_rounds: 40,
        }
    }
}

/// What `distsim list --params` shows; `registry::check_description` holds it to the parser.
pub const PARAMS: &[Param] = &[
    Param {
        name: "id_hash",
        default: "\"sha1\"",
        about: "the hash that places servers on the circle: \"sha1\" or \"sha256\", truncated to id_bits",
    },
    Param {
        name: "id_bits",
        default: "16",
        about: "bits per id (m, 3 to 64): the circle has 2^m ids, each node m fingers",
    },
    Param {
        name: "successors",
        default: "4",
        about: "length r of each node's successor list (1 to 16)",
    },
    Param {
        name: "stabilize_ms",
        default: "50",
        about: "period of stabilize and notify (one stabilisation round), ms",
    },
    Param {
        name: "fix_fingers_ms",
        default: "50",
        about: "period of fix_fingers (one finger each time), ms",
    },
    Param {
        name: "check_predecessor_ms",
        default: "50",
        about: "period of check_predecessor, ms",
    },
    Param {
        name: "merge_ms",
        default: "250",
        about: "period of the ring check: a node looks up its own successor through a random server and adopts a closer one (rejoins after a partition), ms",
    },
    Param {
        name: "suspect_after",
        default: "3",
        about: "unanswered requests in a row after which a successor or predecessor counts as failed",
    },
    Param {
        name: "hop_timeout_ms",
        default: "40",
        about: "how long a lookup waits for one node's answer before routing around it, ms",
    },
    Param {
        name: "hop_limit",
        default: "32",
        about: "the most nodes one lookup may ask (1 to 256); needing more is a failed lookup",
    },
    Param {
        name: "lookup_ms",
        default: "100",
        about: "period of each member's own lookups of random keys (the judged workload), ms",
    },
    Param {
        name: "join_at_ms",
        default: "[]",
        about: "join time of each server by id, ms on its clock; later ids join at 0; server 0 creates the ring, the rest join through a random server",
    },
    Param {
        name: "join_retry_ms",
        default: "100",
        about: "wait before a failed join is tried again through another server, ms",
    },
    Param {
        name: "settle_rounds",
        default: "40",
        about: "k: once churn (faults and joins) stops, the ring must be correct within k stabilisation rounds",
    },
];

impl ChordParams {
    /// Parses `params` (`Null`: all defaults) and checks every bound; errors name the field.
    pub fn parse(params: &serde_json::Value, servers: u32) -> Result<ChordParams, String> {
        let p: ChordParams = crate::contract::parse_params(params)?;
        p.validate(servers)?;
        Ok(p)
    }

    fn validate(&self, servers: u32) -> Result<(), String> {
        let ranges: [(&str, u64, u64, u64); 13] = [
            (
                "id_bits",
                self.id_bits.into(),
                ID_BITS_MIN.into(),
                ID_BITS_MAX.into(),
            ),
            (
                "successors",
                self.successors.into(),
                1,
                SUCCESSORS_MAX.into(),
            ),
            ("stabilize_ms", self.stabilize_ms, 1, PERIOD_MS_MAX),
            ("fix_fingers_ms", self.fix_fingers_ms, 1, PERIOD_MS_MAX),
            (
                "check_predecessor_ms",
                self.check_predecessor_ms,
                1,
                PERIOD_MS_MAX,
            ),
            ("merge_ms", self.merge_ms, 1, PERIOD_MS_MAX),
            (
                "suspect_after",
                self.suspect_after.into(),
                1,
                SUSPECT_AFTER_MAX.into(),
            ),
            ("hop_timeout_ms", self.hop_timeout_ms, 1, PERIOD_MS_MAX),
            ("hop_limit", self.hop_limit.into(), 1, HOP_LIMIT_MAX.into()),
            ("lookup_ms", self.lookup_ms, 1, PERIOD_MS_MAX),
            ("join_retry_ms", self.join_retry_ms, 1, PERIOD_MS_MAX),
            (
                "settle_rounds",
                self.settle_rounds.into(),
                1,
                SETTLE_ROUNDS_MAX.into(),
            ),
            (
                "join_at_ms",
                self.join_at_ms.len() as u64,
                0,
                servers.into(),
            ),
        ];
        for (field, value, lo, hi) in ranges {
            if !(lo..=hi).contains(&value) {
                return Err(if field == "join_at_ms" {
                    format!("params.join_at_ms: lists {value} join times for {servers} servers")
                } else {
                    format!("params.{field}: must be {lo} to {hi}, not {value}")
                });
            }
        }
        if let Some(i) = self.join_at_ms.iter().position(|t| *t > JOIN_AT_MS_MAX) {
            return Err(format!(
                "params.join_at_ms[{i}]: must be at most {JOIN_AT_MS_MAX}"
            ));
        }
        if self.id_bits < 64 && u64::from(servers) > 1u64 << self.id_bits {
            return Err(format!(
                "params.id_bits: {servers} servers do not fit on a circle of 2^{} ids",
                self.id_bits
            ));
        }
        Ok(())
    }

    /// Server `node`'s join time, ms on its clock.
    pub fn join_at_ms(&self, node: u32) -> u64 {
        self.join_at_ms.get(node as usize).copied().unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn defaults_parse_and_bounds_are_named() {
        let p = ChordParams::parse(&serde_json::Value::Null, 16).expect("defaults");
        assert_eq!(p.id_bits, 16);
        assert_eq!(p.join_at_ms(3), 0);
        let err = |v| ChordParams::parse(&v, 16).unwrap_err();
        assert!(err(json!({"id_bits": 2})).starts_with("params.id_bits: must be 3 to 64"));
        assert!(err(json!({"successors": 17})).starts_with("params.successors:"));
        assert!(err(json!({"hop_limit": 0})).starts_with("params.hop_limit:"));
        assert!(err(json!({"id_hash": "md5"})).starts_with("params.id_hash:"));
        assert!(
            err(json!({"nope": 1})).contains("unknown field `nope`"),
            "{}",
            err(json!({"nope": 1}))
        );
        assert_eq!(
            err(json!({"join_at_ms": vec![0; 17]})),
            "params.join_at_ms: lists 17 join times for 16 servers"
        );
        assert!(err(json!({"id_bits": 3})).contains("do not fit"));
        assert!(err(json!({"join_at_ms": [0, u64::MAX]})).starts_with("params.join_at_ms[1]:"));
        let p = ChordParams::parse(&json!({"join_at_ms": [0, 500]}), 16).unwrap();
        assert_eq!((p.join_at_ms(1), p.join_at_ms(2)), (500, 0));
    }
}
