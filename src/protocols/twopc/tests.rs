//! Unit tests: parameters, and the protocol's description.

use super::*;
use serde_json::json;

#[test]
fn params_default_and_refuse_what_cannot_work() {
    assert_eq!(
        TwopcParams::parse(&serde_json::Value::Null),
        Ok(TwopcParams::default())
    );
    let refused = |v: serde_json::Value, field: &str| {
        let e = TwopcParams::parse(&v).expect_err("refused");
        assert!(e.starts_with(&format!("params.{field}")), "{e}");
    };
    refused(json!({ "no_vote_ppm": 1_000_001 }), "no_vote_ppm");
    refused(json!({ "vote_timeout_ms": 0 }), "vote_timeout_ms");
    refused(json!({ "resend_ms": 0 }), "resend_ms");
    refused(
        json!({ "think_ms_min": 9, "think_ms_max": 3 }),
        "think_ms_min",
    );
    refused(json!({ "liveness_decide_ms": 0 }), "liveness_decide_ms");
    refused(json!({ "txns_per_client": "ten" }), "txns_per_client");
    refused(
        json!({ "txns_per_client": TXNS_PER_CLIENT_MAX + 1 }),
        "txns_per_client",
    );
}

#[test]
fn setup_needs_one_coordinator_and_a_participant() {
    let setup = |cluster: Cluster| {
        TwoPc::setup(&Setup {
            cluster,
            params: &serde_json::Value::Null,
            mutants: &[],
        })
    };
    let ok = Cluster::with_groups(&[("coordinator", 1), ("participants", 3)], 2).unwrap();
    let p = setup(ok).expect("a valid shape");
    assert_eq!((p.coordinator, p.participants), (0, (1, 4)));
    let two = Cluster::with_groups(&[("coordinator", 2), ("participants", 3)], 2).unwrap();
    assert!(setup(two).unwrap_err().contains("groups.coordinator"));
    let none = Cluster::with_groups(&[("coordinator", 1), ("participants", 0)], 2).unwrap();
    assert!(setup(none).unwrap_err().contains("participant"));
}

#[test]
fn transaction_ids_are_one_word() {
    let t = TxnId { client: 7, seq: 12 };
    assert_eq!(serde_json::to_string(&t).unwrap(), "\"t7.12\"");
    let tag = serde_json::to_string(&Timer::DecisionTimeout(t)).unwrap();
    assert!(!tag.contains(' '), "{tag}");
}
