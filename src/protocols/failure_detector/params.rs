//! The failure detector's parameters (`"params"` in a scenario).

use serde::Deserialize;

/// Parameters, every one with a default.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FdParams {
    /// How often every server heartbeats every other server, ms.
    pub heartbeat_ms: u64,
    /// How often a server judges its peers, ms.
    pub check_ms: u64,
    /// The fixed-timeout detector suspects a peer silent for longer than this, ms.
    pub fixed_timeout_ms: u64,
    /// The phi-accrual detector suspects a peer when phi exceeds this, in thousandths.
    pub phi_threshold_milli: u64,
    /// How many inter-arrival times the phi-accrual detector keeps per peer.
    pub window: u32,
    /// The least standard deviation the phi-accrual detector assumes, ms (a calm network has
    /// almost none, and would make phi jump at the first late heartbeat).
    pub min_std_ms: u64,
    /// The longest inter-arrival time the phi-accrual detector records, ms: a longer silence is an
    /// outage (a crash, a pause), not jitter, and would blind the detector for a whole window.
    pub max_sample_ms: u64,
    /// The checker's bound: a crash lasting this long must be suspected within it, ms.
    pub detect_within_ms: u64,
}

impl Default for FdParams {
    fn default() -> Self {
        FdParams {
            heartbeat_ms: 100,
            check_ms: 10,
            fixed_timeout_ms: 300,
            phi_threshold_milli: 8000,
            window: 50,
            min_std_ms: 50,
            max_sample_ms: 500,
            detect_within_ms: 1000,
        }
    }
}

impl FdParams {
    /// Parses `params` (`Null`: all defaults) and validates it; errors name the field.
    pub fn parse(params: &serde_json::Value) -> Result<FdParams, String> {
        let p: FdParams = if params.is_null() {
            FdParams::default()
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
        let positive = [
            ("heartbeat_ms", p.heartbeat_ms),
            ("check_ms", p.check_ms),
            ("fixed_timeout_ms", p.fixed_timeout_ms),
            ("phi_threshold_milli", p.phi_threshold_milli),
            ("window", u64::from(p.window)),
            ("min_std_ms", p.min_std_ms),
            ("max_sample_ms", p.max_sample_ms),
            ("detect_within_ms", p.detect_within_ms),
        ];
        for (name, value) in positive {
            if value == 0 {
                return Err(format!("params.{name}: must be at least 1"));
            }
        }
        let hour_ms = 3_600_000;
        for (name, value) in [
            ("heartbeat_ms", p.heartbeat_ms),
            ("check_ms", p.check_ms),
            ("fixed_timeout_ms", p.fixed_timeout_ms),
            ("min_std_ms", p.min_std_ms),
            ("max_sample_ms", p.max_sample_ms),
            ("detect_within_ms", p.detect_within_ms),
        ] {
            if value > hour_ms {
                return Err(format!("params.{name}: at most {hour_ms} (an hour)"));
            }
        }
        if p.window > 10_000 {
            return Err("params.window: at most 10000 samples".into());
        }
        if p.phi_threshold_milli > 300_000 {
            return Err("params.phi_threshold_milli: at most 300000 (phi 300)".into());
        }
        Ok(p)
    }
}
