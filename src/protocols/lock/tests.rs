//! Unit tests of the lock's parameters and pieces.

use super::params::LockParams;
use serde_json::json;

#[test]
fn params_name_the_offending_field() {
    let e = LockParams::parse(&json!({ "backoff_ms_min": 60, "backoff_ms_max": 50 })).unwrap_err();
    assert!(e.starts_with("params.backoff_ms_min:"), "{e}");
    let e = LockParams::parse(&json!({ "ttl_ms": "long" })).unwrap_err();
    assert!(e.starts_with("params.ttl_ms:"), "{e}");
    let e = LockParams::parse(&json!({ "drift_factor_ppm": 1_000_000 })).unwrap_err();
    assert!(e.starts_with("params.drift_factor_ppm:"), "{e}");
}

#[test]
fn drift_allowance_is_a_fraction_of_the_ttl_plus_a_constant() {
    let p = LockParams::parse(&json!({ "ttl_ms": 1000, "drift_factor_ppm": 50_000 })).unwrap();
    assert_eq!(p.drift_allowance().as_millis(), 52);
    let p = LockParams::default();
    assert_eq!(p.drift_allowance().as_millis(), 12);
    // TTL + allowance + two (backoff + round) + one commit round.
    assert_eq!(
        p.liveness_bound().as_millis(),
        1000 + 12 + 2 * (50 + 50) + 50
    );
}
