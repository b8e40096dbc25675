//! Unit tests: OM(m) by hand, without the engine.

use super::general::{Disk, General, Note, Plan};
use super::message::{Order, Relay, Timer};
use super::messages;
use crate::contract::{Actor, Cluster, Ctx, Effect, Rng, Time};

fn plan(m: u32, n: u32) -> Plan {
    Plan {
        m,
        commander: 0,
        lieutenants: (1..n).collect(),
        start_ms: 1,
        round_ms: 10,
        order: Some(Order::Attack),
    }
}

/// Delivers `msg` from `from` to `g`; returns its effects.
fn deliver(g: &mut General, disk: &mut Disk, from: u32, msg: Relay) -> Vec<Effect<General>> {
    let mut rng = Rng::stream(1, "t");
    let mut effects = Vec::new();
    let cluster = Cluster::new(4, 0);
    let mut ctx = Ctx::new(0, Time::ZERO, &cluster, &mut rng, disk, &mut effects);
    g.on_msg(&mut ctx, from, msg);
    effects
}

fn decide(g: &mut General, disk: &mut Disk) -> Option<Order> {
    let mut rng = Rng::stream(1, "t");
    let mut effects = Vec::new();
    let cluster = Cluster::new(4, 0);
    let mut ctx = Ctx::new(0, Time::ZERO, &cluster, &mut rng, disk, &mut effects);
    g.on_timer(&mut ctx, Timer::Decide);
    assert!(
        effects
            .iter()
            .any(|e| matches!(e, Effect::Note(Note::Decided { .. })))
    );
    disk.decision
}

#[test]
fn a_lieutenant_relays_to_the_lieutenants_off_the_path_and_decides_by_majority() {
    let mut g = General::new(1, plan(1, 4));
    let mut disk = Disk::default();
    let relayed = deliver(
        &mut g,
        &mut disk,
        0,
        Relay {
            path: vec![0],
            order: Order::Attack,
        },
    );
    let to: Vec<u32> = relayed
        .iter()
        .filter_map(|e| match e {
            Effect::Send { to, msg } => {
                assert_eq!(msg.path, vec![0, 1]);
                Some(*to)
            }
            _ => None,
        })
        .collect();
    assert_eq!(to, vec![2, 3]);
    // Lieutenant 2 relays retreat (a traitor), 3 relays attack: two attacks of three.
    deliver(
        &mut g,
        &mut disk,
        2,
        Relay {
            path: vec![0, 2],
            order: Order::Retreat,
        },
    );
    let none = deliver(
        &mut g,
        &mut disk,
        3,
        Relay {
            path: vec![0, 3],
            order: Order::Attack,
        },
    );
    assert!(
        none.iter().all(|e| !matches!(e, Effect::Send { .. })),
        "OM(0) is not relayed"
    );
    assert_eq!(decide(&mut g, &mut disk), Some(Order::Attack));
}

#[test]
fn a_path_that_does_not_end_with_its_sender_is_rejected() {
    let mut g = General::new(1, plan(1, 4));
    let mut disk = Disk::default();
    let fx = deliver(
        &mut g,
        &mut disk,
        2,
        Relay {
            path: vec![0, 3],
            order: Order::Retreat,
        },
    );
    assert!(matches!(
        fx.as_slice(),
        [Effect::Note(Note::Rejected { .. })]
    ));
    let fx = deliver(
        &mut g,
        &mut disk,
        2,
        Relay {
            path: vec![0],
            order: Order::Retreat,
        },
    );
    assert!(matches!(
        fx.as_slice(),
        [Effect::Note(Note::Rejected { .. })]
    ));
    // Nothing heard counts as retreat; a tie is retreat.
    deliver(
        &mut g,
        &mut disk,
        0,
        Relay {
            path: vec![0],
            order: Order::Attack,
        },
    );
    deliver(
        &mut g,
        &mut disk,
        2,
        Relay {
            path: vec![0, 2],
            order: Order::Retreat,
        },
    );
    assert_eq!(decide(&mut g, &mut disk), Some(Order::Retreat));
}

#[test]
fn message_counts_grow_as_the_paper_says() {
    assert_eq!(messages(3, 1), 3 + 6);
    assert_eq!(messages(6, 2), 6 + 30 + 120);
    assert_eq!(messages(2, 5), 2 + 2);
    assert_eq!(messages(1000, 9), u64::MAX);
}
