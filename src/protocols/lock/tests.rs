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

mod checkers {
    use super::super::LockActor;
    use super::super::checkers::{BeliefExclusion, EffectExclusion};
    use super::super::message::LockDisk;
    use super::super::note::LockNote;
    use super::super::storage::Storage;
    use crate::contract::{Checker, Cluster, Failure, NodeId, Observation, Time};

    /// Feeds `checker` one event of `node` at true time `ms` with `notes`.
    fn feed(
        checker: &mut dyn Checker<LockActor>,
        node: NodeId,
        ms: u64,
        notes: &[LockNote],
    ) -> Result<(), Failure> {
        let state = LockActor::Storage(Storage::new(false));
        let durable = LockDisk::default();
        checker.observe(&Observation {
            event_index: 0,
            now: Time::from_millis(ms),
            node,
            state: &state,
            durable: &durable,
            notes,
            cluster: &Cluster::new(4, 2),
        })
    }

    fn acquired(nonce: u64, remaining_ms: u64) -> LockNote {
        LockNote::Acquired {
            nonce,
            token: nonce,
            remaining_ns: remaining_ms * 1_000_000,
        }
    }

    #[test]
    fn belief_exclusion_judges_by_true_time() {
        let mut c = BeliefExclusion::default();
        feed(&mut c, 4, 10, &[acquired(1, 100)]).unwrap();
        // Client 5 wins at 111 ms: client 4's belief ended at 110 ms.
        feed(&mut c, 5, 111, &[acquired(2, 100)]).unwrap();
        // Client 4 wins again at 150 ms while client 5 believes until 211 ms.
        let e = feed(&mut c, 4, 150, &[acquired(3, 100)]).unwrap_err();
        assert_eq!(e.property, Some("belief_exclusion"));
        // A release ends a belief early.
        let mut c = BeliefExclusion::default();
        feed(&mut c, 4, 10, &[acquired(1, 100)]).unwrap();
        feed(&mut c, 4, 20, &[LockNote::Released { nonce: 1 }]).unwrap();
        feed(&mut c, 5, 21, &[acquired(2, 100)]).unwrap();
    }

    #[test]
    fn effect_exclusion_refuses_an_earlier_holders_write_after_a_later_ones() {
        let write = |client, nonce| LockNote::WriteAccepted {
            client,
            nonce,
            token: nonce,
            value: 0,
        };
        let mut c = EffectExclusion::default();
        feed(&mut c, 4, 10, &[acquired(1, 100)]).unwrap();
        feed(&mut c, 3, 20, &[write(4, 1)]).unwrap();
        feed(&mut c, 5, 200, &[acquired(2, 100)]).unwrap();
        // Client 4's late write, before client 5 has written, still keeps the holders in order.
        feed(&mut c, 3, 210, &[write(4, 1)]).unwrap();
        feed(&mut c, 3, 220, &[write(5, 2)]).unwrap();
        let e = feed(&mut c, 3, 230, &[write(4, 1)]).unwrap_err();
        assert_eq!(e.property, Some("effect_exclusion"));
        // A write under an acquisition that never succeeded is refused outright.
        let e = feed(&mut c, 3, 240, &[write(4, 99)]).unwrap_err();
        assert_eq!(e.property, Some("effect_exclusion"));
    }
}
