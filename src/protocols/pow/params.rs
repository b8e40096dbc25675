//! Proof-of-work's scenario parameters (`"params"`), all optional; unknown fields are an error.

use crate::contract::{NodeId, Param, parse_params};
use serde::{Deserialize, Serialize};

/// The parameters.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PowParams {
    /// Each miner's hash power as a relative weight, one per server (`null`: equal shares).
    pub shares: Option<Vec<u32>>,
    /// The expected time between two blocks of the whole network, ms.
    pub block_interval_ms: u64,
    /// Leading zero bits a block's header hash must have.
    pub difficulty_bits: u32,
    /// The most nonces a miner tries for one block.
    pub nonce_steps_max: u64,
    /// k: honest nodes must agree on every block more than k deep.
    pub confirmations: u64,
    /// Quiet time after the last fault before a k-deep disagreement is a violation (`null`: 20
    /// block intervals).
    pub settle_ms: Option<u64>,
    /// Miners stop at this height.
    pub height_max: u64,
    /// The most blocks a node stores.
    pub blocks_max: u64,
    /// The most blocks a node holds whose parent it lacks.
    pub orphans_max: u64,
    /// The most blocks one sync reply carries.
    pub batch_max: u64,
    /// The least time between two sync requests a node sends one peer for a gossiped orphan, ms.
    pub sync_retry_ms: u64,
    /// The servers that mine selfishly (Eyal and Sirer): checkers do not judge them.
    pub selfish: Vec<NodeId>,
}

impl Default for PowParams {
    fn default() -> Self {
        PowParams {
            shares: None,
            block_interval_ms: 100,
            difficulty_bits: 8,
            nonce_steps_max: 65_536,
            confirmations: 6,
            settle_ms: None,
            height_max: 1_000,
            blocks_max: 4_096,
            orphans_max: 64,
            batch_max: 32,
            sync_retry_ms: 50,
            selfish: Vec::new(),
        }
    }
}

/// The largest difficulty accepted: 2^20 hashes a block on average.
pub const DIFFICULTY_BITS_MAX: u32 = 20;
/// The largest nonce budget accepted per block.
pub const NONCE_STEPS_LIMIT: u64 = 1 << 24;

/// Every parameter, for `distsim list --params`.
pub const PARAMS: &[Param] = &[
    Param {
        name: "shares",
        default: "null",
        about: "each server's hash power as a relative weight, e.g. [40, 20, 20, 20] (null: equal shares; 0: does not mine)",
    },
    Param {
        name: "block_interval_ms",
        default: "100",
        about: "expected time between two blocks of the whole network; a miner's mean is this / its share",
    },
    Param {
        name: "difficulty_bits",
        default: "8",
        about: "leading zero bits a block's SHA-256 header hash must have (1..=20)",
    },
    Param {
        name: "nonce_steps_max",
        default: "65536",
        about: "most nonces a miner tries for one block before giving that block up",
    },
    Param {
        name: "confirmations",
        default: "6",
        about: "k: honest nodes agree on every block more than k below their tips",
    },
    Param {
        name: "settle_ms",
        default: "null",
        about: "quiet time after the last fault before a k-deep disagreement counts (null: 20 block intervals)",
    },
    Param {
        name: "height_max",
        default: "1000",
        about: "miners stop mining at this height (bounds the chain)",
    },
    Param {
        name: "blocks_max",
        default: "4096",
        about: "most blocks a node stores; past it, it refuses new ones and k-deep agreement is undecided",
    },
    Param {
        name: "orphans_max",
        default: "64",
        about: "most blocks a node holds whose parent it lacks (the oldest is dropped)",
    },
    Param {
        name: "batch_max",
        default: "32",
        about: "most blocks in one reply to a request for missing ancestors",
    },
    Param {
        name: "sync_retry_ms",
        default: "50",
        about: "least time between two requests for missing ancestors to one peer",
    },
    Param {
        name: "selfish",
        default: "[]",
        about: "servers that mine selfishly (Eyal and Sirer 2014); checkers judge the others",
    },
];

impl PowParams {
    /// Parses and checks `params` for `n` servers; an error names the field.
    pub fn parse(params: &serde_json::Value, n: u32) -> Result<PowParams, String> {
        let p: PowParams = parse_params(params)?;
        let err = |field: &str, why: String| Err(format!("params.{field}: {why}"));
        if let Some(shares) = &p.shares {
            if shares.len() != n as usize {
                return err(
                    "shares",
                    format!(
                        "{} shares for {n} servers: give one per server",
                        shares.len()
                    ),
                );
            }
            if shares.iter().all(|s| *s == 0) {
                return err("shares", "at least one server must mine".into());
            }
        }
        if !(1..=3_600_000).contains(&p.block_interval_ms) {
            return err("block_interval_ms", "must be in 1..=3600000".into());
        }
        if !(1..=DIFFICULTY_BITS_MAX).contains(&p.difficulty_bits) {
            return err(
                "difficulty_bits",
                format!("must be in 1..={DIFFICULTY_BITS_MAX}"),
            );
        }
        if !(1..=NONCE_STEPS_LIMIT).contains(&p.nonce_steps_max) {
            return err(
                "nonce_steps_max",
                format!("must be in 1..={NONCE_STEPS_LIMIT}"),
            );
        }
        if p.confirmations > 10_000 {
            return err("confirmations", "must be at most 10000".into());
        }
        if !(1..=100_000).contains(&p.height_max) {
            return err("height_max", "must be in 1..=100000".into());
        }
        if !(16..=1_000_000).contains(&p.blocks_max) {
            return err("blocks_max", "must be in 16..=1000000".into());
        }
        if !(1..=4_096).contains(&p.orphans_max) {
            return err("orphans_max", "must be in 1..=4096".into());
        }
        if !(1..=1_024).contains(&p.batch_max) {
            return err("batch_max", "must be in 1..=1024".into());
        }
        if let Some(b) = p.selfish.iter().find(|b| **b >= n) {
            return err("selfish", format!("{b} is not a server (there are {n})"));
        }
        Ok(p)
    }

    /// Server `id`'s weight and the total.
    pub fn weight(&self, id: NodeId, n: u32) -> (u64, u64) {
        match &self.shares {
            Some(s) => (
                u64::from(s.get(id as usize).copied().unwrap_or(0)),
                s.iter().map(|w| u64::from(*w)).sum(),
            ),
            None => (1, u64::from(n)),
        }
    }

    /// The settling time, ms.
    pub fn settle_ms(&self) -> u64 {
        self.settle_ms
            .unwrap_or(self.block_interval_ms.saturating_mul(20))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn bad_params_name_their_field() {
        let bad = [
            (json!({"shares": [1, 2]}), "params.shares"),
            (json!({"shares": [0, 0, 0]}), "params.shares"),
            (json!({"difficulty_bits": 30}), "params.difficulty_bits"),
            (json!({"difficulty_bits": 0}), "params.difficulty_bits"),
            (json!({"nonce_steps_max": 0}), "params.nonce_steps_max"),
            (json!({"selfish": [3]}), "params.selfish"),
            (json!({"byzantine": [1]}), "params"),
            (json!({"batch_max": 0}), "params.batch_max"),
            (json!({"nope": 1}), "params"),
            (json!({"shares": ["x"]}), "params.shares"),
        ];
        for (value, field) in bad {
            let e = PowParams::parse(&value, 3).expect_err(&value.to_string());
            assert!(e.starts_with(field), "{e}");
        }
        let ok = PowParams::parse(&json!({"shares": [2, 1, 1]}), 3).expect("ok");
        assert_eq!(ok.weight(0, 3), (2, 4));
        assert_eq!(PowParams::default().weight(1, 4), (1, 4));
        assert_eq!(PowParams::default().settle_ms(), 2000);
    }
}
