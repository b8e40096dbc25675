//! The lock's scenario parameters (`"params"`), their defaults and the durations they give.

use crate::contract::{Duration, Param};
use serde::{Deserialize, Serialize};

/// The lock's parameters, all optional. Unknown fields are an error.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LockParams {
    /// How long a lock server keeps a lock, on its own clock (default 1000).
    pub ttl_ms: u64,
    /// The clock-drift allowance as a fraction of the TTL, in parts per million (default 10000: 1%).
    pub drift_factor_ppm: u64,
    /// A constant added to the drift allowance (default 2).
    pub drift_extra_ms: u64,
    /// How long a client waits for the lock servers' answers in one round (default 50).
    pub round_timeout_ms: u64,
    /// Least random wait before retrying a failed acquisition (default 10).
    pub backoff_ms_min: u64,
    /// Most random wait before retrying (default 50).
    pub backoff_ms_max: u64,
    /// The work between a holder's validity check and its write to storage (default 100).
    pub work_ms: u64,
    /// Least wait after a release before the next acquisition (default 0).
    pub think_ms_min: u64,
    /// Most wait after a release (default 50).
    pub think_ms_max: u64,
    /// How long a client waits for storage to answer a write (default 200).
    pub write_timeout_ms: u64,
    /// How many times each client takes the lock (default 20).
    pub holds_per_client: u32,
    /// Fencing: tokens increase with every acquisition and storage rejects stale ones (default false).
    pub fencing: bool,
    /// A restarted lock server refuses grants for one TTL (Redlock's delayed restart; default false).
    pub delayed_restart: bool,
}

impl Default for LockParams {
    fn default() -> Self {
        LockParams {
            ttl_ms: 1000,
            drift_factor_ppm: 10_000,
            drift_extra_ms: 2,
            round_timeout_ms: 50,
            backoff_ms_min: 10,
            backoff_ms_max: 50,
            work_ms: 100,
            think_ms_min: 0,
            think_ms_max: 50,
            write_timeout_ms: 200,
            holds_per_client: 20,
            fencing: false,
            delayed_restart: false,
        }
    }
}

/// The parameters as `distsim list --params` shows them.
pub const PARAMS: &[Param] = &[
    Param {
        name: "ttl_ms",
        default: "1000",
        about: "how long a lock server keeps a lock, on its own clock, ms",
    },
    Param {
        name: "drift_factor_ppm",
        default: "10000",
        about: "clock-drift allowance as a fraction of the TTL, parts per million",
    },
    Param {
        name: "drift_extra_ms",
        default: "2",
        about: "constant added to the drift allowance, ms",
    },
    Param {
        name: "round_timeout_ms",
        default: "50",
        about: "how long a client waits for the lock servers in one round, ms",
    },
    Param {
        name: "backoff_ms_min",
        default: "10",
        about: "least random wait before retrying a failed acquisition, ms",
    },
    Param {
        name: "backoff_ms_max",
        default: "50",
        about: "most random wait before retrying, ms",
    },
    Param {
        name: "work_ms",
        default: "100",
        about: "work between a holder's validity check and its write to storage, ms",
    },
    Param {
        name: "think_ms_min",
        default: "0",
        about: "least wait after a release before acquiring again, ms",
    },
    Param {
        name: "think_ms_max",
        default: "50",
        about: "most wait after a release, ms",
    },
    Param {
        name: "write_timeout_ms",
        default: "200",
        about: "how long a client waits for storage to answer a write, ms",
    },
    Param {
        name: "holds_per_client",
        default: "20",
        about: "how many times each client takes the lock",
    },
    Param {
        name: "fencing",
        default: "false",
        about: "tokens increase with every acquisition and storage rejects stale ones",
    },
    Param {
        name: "delayed_restart",
        default: "false",
        about: "a restarted lock server refuses grants for one TTL (its lock table is volatile)",
    },
];

impl LockParams {
    /// Parses `params` (`Null` means all defaults) and validates it; errors name the field.
    pub fn parse(params: &serde_json::Value) -> Result<LockParams, String> {
        let p: LockParams = crate::contract::parse_params(params)?;
        p.validate()?;
        Ok(p)
    }

    /// Checks the relations between fields.
    pub fn validate(&self) -> Result<(), String> {
        let err = |field: &str, why: String| Err(format!("params.{field}: {why}"));
        if self.ttl_ms == 0 {
            return err("ttl_ms", "must be at least 1".into());
        }
        if self.drift_factor_ppm >= 1_000_000 {
            return err(
                "drift_factor_ppm",
                "must be below 1000000 (the whole TTL)".into(),
            );
        }
        if self.round_timeout_ms == 0 {
            return err("round_timeout_ms", "must be at least 1".into());
        }
        if self.backoff_ms_min > self.backoff_ms_max {
            return err(
                "backoff_ms_min",
                format!(
                    "must not exceed params.backoff_ms_max ({})",
                    self.backoff_ms_max
                ),
            );
        }
        if self.think_ms_min > self.think_ms_max {
            return err(
                "think_ms_min",
                format!(
                    "must not exceed params.think_ms_max ({})",
                    self.think_ms_max
                ),
            );
        }
        if self.write_timeout_ms == 0 {
            return err("write_timeout_ms", "must be at least 1".into());
        }
        // Generous caps keep every sum of durations far from overflow.
        let cap_ms = 1_000_000_000;
        for (field, v) in [
            ("ttl_ms", self.ttl_ms),
            ("drift_extra_ms", self.drift_extra_ms),
            ("round_timeout_ms", self.round_timeout_ms),
            ("backoff_ms_max", self.backoff_ms_max),
            ("work_ms", self.work_ms),
            ("think_ms_max", self.think_ms_max),
            ("write_timeout_ms", self.write_timeout_ms),
        ] {
            if v > cap_ms {
                return err(field, format!("must be at most {cap_ms}"));
            }
        }
        Ok(())
    }

    /// The TTL.
    pub fn ttl(&self) -> Duration {
        Duration::from_millis(self.ttl_ms)
    }

    /// Redlock's drift allowance: `TTL × drift_factor + drift_extra`.
    pub fn drift_allowance(&self) -> Duration {
        let ttl_ns = u128::from(self.ttl().as_nanos());
        let scaled_ns = ttl_ns * u128::from(self.drift_factor_ppm) / 1_000_000;
        Duration::from_nanos(scaled_ns as u64) + Duration::from_millis(self.drift_extra_ms)
    }

    /// The bound the `lock_liveness` checker holds a crashed holder's successor to, in true time:
    /// the TTL and the drift allowance (the servers' locks run out), then two rounds with a backoff
    /// before each (one may start just before the locks expire and fail), then the fencing round.
    pub fn liveness_bound(&self) -> Duration {
        let round = Duration::from_millis(self.backoff_ms_max + self.round_timeout_ms);
        self.ttl()
            + self.drift_allowance()
            + round
            + round
            + Duration::from_millis(self.round_timeout_ms)
    }
}
