//! A node driven by hand: a peer's silence makes both detectors suspect it, and the node's own
//! pause does not.

use super::node::{Detector, FdNode, Msg, Note, Settings, Timer};
use super::phi::y_threshold;
use crate::contract::{Actor, Cluster, Ctx, Duration, Effect, Rng, Time};

fn settings() -> Settings {
    Settings {
        heartbeat: Duration::from_millis(100),
        check: Duration::from_millis(10),
        fixed_timeout: Duration::from_millis(300),
        y_threshold: y_threshold(8.0),
        window: 50,
        min_std_ns: 50_000_000,
        max_sample: Duration::from_millis(500),
        never_suspect: false,
    }
}

/// Drives node 0 of three; returns the notes each input wrote.
struct Driver {
    node: FdNode,
    rng: Rng,
    disk: u64,
}

impl Driver {
    fn new() -> Driver {
        let mut d = Driver {
            node: FdNode::new(settings(), 3),
            rng: Rng::stream(1, "test"),
            disk: 0,
        };
        d.input(0, |n, ctx| n.on_start(ctx));
        d
    }

    fn input(
        &mut self,
        at_ms: u64,
        f: impl FnOnce(&mut FdNode, &mut Ctx<'_, FdNode>),
    ) -> Vec<Note> {
        let mut effects = Vec::new();
        let cluster = Cluster::new(3, 0);
        let mut ctx = Ctx::new(
            0,
            Time::from_millis(at_ms),
            &cluster,
            &mut self.rng,
            &mut self.disk,
            &mut effects,
        );
        f(&mut self.node, &mut ctx);
        effects
            .into_iter()
            .filter_map(|e| match e {
                Effect::Note(n) => Some(n),
                _ => None,
            })
            .collect()
    }

    fn heartbeat(&mut self, at_ms: u64, from: u32) -> Vec<Note> {
        self.input(at_ms, |n, ctx| {
            n.on_msg(
                ctx,
                from,
                Msg::Heartbeat {
                    incarnation: 1,
                    seq: 0,
                },
            )
        })
    }

    fn check(&mut self, at_ms: u64) -> Vec<Note> {
        self.input(at_ms, |n, ctx| n.on_timer(ctx, Timer::Check))
    }
}

fn suspects(notes: &[Note]) -> Vec<(Detector, u32)> {
    notes
        .iter()
        .filter_map(|n| match n {
            Note::Suspect { detector, peer, .. } => Some((*detector, *peer)),
            _ => None,
        })
        .collect()
}

#[test]
fn a_silent_peer_is_suspected_by_both_and_trusted_again() {
    let mut d = Driver::new();
    let mut found = Vec::new();
    let mut t = 0;
    while t <= 1000 {
        if t % 100 == 0 {
            d.heartbeat(t, 1);
            if t <= 300 {
                d.heartbeat(t, 2);
            }
        }
        if t > 0 {
            found.extend(suspects(&d.check(t)));
        }
        t += 10;
    }
    // Peer 2 fell silent after 300 ms; peer 1 never did.
    assert_eq!(found, vec![(Detector::Fixed, 2), (Detector::Phi, 2)]);
    let back = d.heartbeat(1010, 2);
    assert_eq!(back.len(), 2, "{back:?}");
    assert!(
        back.iter()
            .all(|n| matches!(n, Note::Trust { peer: 2, .. }))
    );
}

#[test]
fn a_node_blames_no_peer_for_its_own_pause() {
    let mut d = Driver::new();
    for t in (10..=300).step_by(10) {
        if t % 100 == 0 {
            d.heartbeat(t, 1);
            d.heartbeat(t, 2);
        }
        assert!(suspects(&d.check(t)).is_empty());
    }
    // Paused from 300 ms to 2000 ms: the late check comes first, then the queued heartbeats.
    let woke = d.check(2000);
    assert!(suspects(&woke).is_empty(), "{woke:?}");
    assert!(woke.iter().any(|n| matches!(n, Note::SelfPaused { .. })));
    for t in (2010..=2100).step_by(10) {
        assert!(suspects(&d.check(t)).is_empty());
    }
}
