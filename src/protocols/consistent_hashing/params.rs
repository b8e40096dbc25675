//! The distributed cache's parameters (`"params"` in a scenario).

use serde::Deserialize;

/// Parameters, every one with a default.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ChParams {
    /// Points each cache node owns on the ring.
    pub vnodes: u32,
    /// Keys in the clients' key space (`key-0` ... ).
    pub keys: u32,
    /// How often a cache node tells every client it is alive, ms.
    pub heartbeat_ms: u64,
    /// A client drops a cache node from its ring after this long without a heartbeat, ms.
    pub leave_timeout_ms: u64,
    /// How often a client looks for silent cache nodes, ms.
    pub check_ms: u64,
    /// How often a client reads a random key, ms.
    pub op_ms: u64,
}

impl Default for ChParams {
    fn default() -> Self {
        ChParams {
            vnodes: 100,
            keys: 1000,
            heartbeat_ms: 50,
            leave_timeout_ms: 200,
            check_ms: 10,
            op_ms: 5,
        }
    }
}

impl ChParams {
    /// Parses `params` (`Null`: all defaults) and validates it; errors name the field.
    pub fn parse(params: &serde_json::Value) -> Result<ChParams, String> {
        let p: ChParams = if params.is_null() {
            ChParams::default()
        } else {
            serde_path_to_error::deserialize(params).map_err(|e| {
                let path = e.path().to_string();
                let inner = e.into_inner();
                if path.is_empty() || path == "." {
                    format!("params: {inner}")
                } else {
                    format!("params.{path}: {inner}")
                }
            })?
        };
        let limits: [(&str, u64, u64); 6] = [
            ("vnodes", u64::from(p.vnodes), 1000),
            ("keys", u64::from(p.keys), 100_000),
            ("heartbeat_ms", p.heartbeat_ms, 3_600_000),
            ("leave_timeout_ms", p.leave_timeout_ms, 3_600_000),
            ("check_ms", p.check_ms, 3_600_000),
            ("op_ms", p.op_ms, 3_600_000),
        ];
        for (name, value, max) in limits {
            if value == 0 || value > max {
                return Err(format!("params.{name}: must be 1 to {max}"));
            }
        }
        if p.leave_timeout_ms <= p.heartbeat_ms {
            return Err("params.leave_timeout_ms: must exceed heartbeat_ms".into());
        }
        Ok(p)
    }
}
