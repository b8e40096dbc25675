//! Unit tests of one node driven by hand: the routing step, the hop limit, stabilize's adoption
//! and successor-list upkeep.

use super::message::{LookupFailure, Msg, Note, Step, Timer};
use super::mutants::Flags;
use super::node::{ChordNode, Config, Purpose, Status};
use super::ring::IdSpace;
use crate::contract::{Actor, Cluster, Ctx, Duration, Effect, NodeId, Rng, Time};
use std::sync::Arc;

/// Five servers at ids 0, 2, 5, 9, 13 on a 4-bit circle.
fn config(flags: Flags) -> Arc<Config> {
    Arc::new(Config {
        space: IdSpace::new(4),
        ids: vec![0, 2, 5, 9, 13],
        successors: 3,
        stabilize: Duration::from_millis(50),
        fix_fingers: Duration::from_millis(50),
        check_predecessor: Duration::from_millis(50),
        merge: Duration::from_millis(250),
        lookup: Duration::from_millis(100),
        hop_timeout: Duration::from_millis(40),
        join_retry: Duration::from_millis(100),
        suspect_after: 2,
        hop_limit: 4,
        join_at: vec![Time::ZERO; 5],
        flags,
    })
}

/// Node 0 as a member with successors 1, 2, 3 and fingers to 1 (id 2), 2 (id 5) and 3 (id 9).
fn member(flags: Flags) -> ChordNode {
    let mut n = ChordNode::new(config(flags), 0);
    n.status = Status::Member;
    n.succs = vec![1, 2, 3];
    n.fingers = vec![Some(1), Some(1), Some(2), Some(3)];
    n.pred = Some(4);
    n
}

/// Runs `f` on `node` with a fresh context and returns the effects it wrote.
fn with_ctx(
    node: &mut ChordNode,
    f: impl FnOnce(&mut ChordNode, &mut Ctx<'_, ChordNode>),
) -> Vec<Effect<ChordNode>> {
    let mut rng = Rng::stream(1, "test");
    let mut disk = ();
    let mut effects = Vec::new();
    let cluster = Cluster::new(5, 0);
    let mut ctx = Ctx::new(
        node.me,
        Time::ZERO,
        &cluster,
        &mut rng,
        &mut disk,
        &mut effects,
    );
    f(node, &mut ctx);
    effects
}

fn notes(effects: &[Effect<ChordNode>]) -> Vec<Note> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::Note(n) => Some(n.clone()),
            _ => None,
        })
        .collect()
}

fn sends(effects: &[Effect<ChordNode>]) -> Vec<(NodeId, Msg)> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::Send { to, msg } => Some((*to, msg.clone())),
            _ => None,
        })
        .collect()
}

#[test]
fn routing_answers_the_successor_or_the_closest_preceding_node() {
    let n = member(Flags::default());
    // Keys in (0, 2] belong to the successor.
    assert_eq!(n.route(1, &[]), Step::Done(1));
    assert_eq!(n.route(2, &[]), Step::Done(1));
    // Key 11: the closest known node before it is 3 (id 9), not 2 (id 5).
    assert_eq!(n.route(11, &[]), Step::Next(3));
    // Key 9 is node 3's own id: the closest node strictly before it is 2 (id 5).
    assert_eq!(n.route(9, &[]), Step::Next(2));
    // With 3 found dead, the next best; with the successor dead, the next successor owns (0, 5].
    assert_eq!(n.route(11, &[3]), Step::Next(2));
    assert_eq!(n.route(4, &[1]), Step::Done(2));
    // A node that is not a member says so.
    let mut waiting = member(Flags::default());
    waiting.status = Status::Joining;
    assert_eq!(waiting.route(1, &[]), Step::NotMember);
}

#[test]
fn the_returns_predecessor_mutant_answers_with_itself() {
    let n = member(Flags {
        returns_predecessor: true,
        ..Flags::default()
    });
    assert_eq!(n.route(1, &[]), Step::Done(0));
}

#[test]
fn a_lookup_sent_round_in_circles_fails_at_the_hop_limit() {
    let mut n = member(Flags::default());
    let key = 11;
    let fx = with_ctx(&mut n, |n, ctx| {
        n.begin(ctx, Purpose::Client, key, 0);
    });
    let lookup = 0;
    assert_eq!(notes(&fx), vec![Note::LookupStarted { lookup, key }]);
    // Node 0 sends it to node 3 (id 9); from there on, every node sends it on to another.
    let mut asked = 3;
    assert_eq!(
        sends(&fx),
        vec![(
            asked,
            Msg::Query {
                lookup,
                key,
                avoid: vec![]
            }
        )]
    );
    let mut failed = None;
    for _ in 0..10 {
        let next = if asked == 2 { 3 } else { 2 };
        let fx = with_ctx(&mut n, |n, ctx| {
            n.on_msg(
                ctx,
                asked,
                Msg::Answer {
                    lookup,
                    step: Step::Next(next),
                },
            )
        });
        if let Some(note) = notes(&fx)
            .into_iter()
            .find(|n| matches!(n, Note::LookupFailed { .. }))
        {
            failed = Some(note);
            break;
        }
        asked = next;
    }
    assert_eq!(
        failed,
        Some(Note::LookupFailed {
            lookup,
            key,
            why: LookupFailure::HopLimit,
            hops: 3,
        })
    );
    assert_eq!(n.lookups_in_flight(), 0);
}

#[test]
fn stabilize_adopts_a_closer_predecessor_unless_the_mutant_is_on() {
    for (flags, want) in [
        (Flags::default(), vec![4, 1, 2]),
        (
            Flags {
                stabilize_no_adopt: true,
                ..Flags::default()
            },
            vec![1, 2, 3],
        ),
    ] {
        let mut n = member(flags);
        // Pretend server 4 sits at id 1, between node 0 and its successor 1 (id 2).
        let mut cfg = (*n.cfg).clone();
        cfg.ids[4] = 1;
        n.cfg = Arc::new(cfg);
        let fx = with_ctx(&mut n, |n, ctx| {
            n.on_msg(
                ctx,
                1,
                Msg::Neighbours {
                    pred: Some(4),
                    succs: vec![2, 3, 0],
                },
            )
        });
        assert_eq!(n.successor_list(), want.as_slice());
        assert_eq!(sends(&fx), vec![(want[0], Msg::Notify)]);
    }
}

#[test]
fn a_silent_successor_is_dropped_for_the_next_on_the_list() {
    let mut n = member(Flags::default());
    for _ in 0..2 {
        with_ctx(&mut n, |n, ctx| n.on_timer(ctx, Timer::Stabilize));
    }
    assert_eq!(n.successor_list(), &[1, 2, 3], "one miss is not enough");
    let fx = with_ctx(&mut n, |n, ctx| n.on_timer(ctx, Timer::Stabilize));
    assert_eq!(n.successor_list(), &[2, 3]);
    assert_eq!(notes(&fx), vec![Note::SuccessorFailed { node: 1 }]);
    assert!(
        n.fingers().iter().all(|f| *f != Some(1)),
        "no routing through it"
    );
    assert_eq!(sends(&fx), vec![(2, Msg::GetNeighbours)]);
}
