//! Unit tests: the checkers against hand-made observations (each property is shown to fail on the
//! bug it names and to pass on a correct story), ballots, and the parameters' errors.

use super::checkers::Agreement;
use super::message::{Ballot, Command, CommandId, Slot};
use super::node::{Mode, Node, ServerDisk};
use super::*;
use crate::contract::{Checker, Failure, Observation, Time};

fn server(cluster: Cluster) -> PaxosActor {
    let params = PaxosParams::default();
    PaxosActor::Server(Node::new(
        0,
        cluster,
        params.server_config(Flags::default()),
    ))
}

/// Shows `checker` that `node` wrote `notes`, with `accepted` on its disk.
fn observe(
    checker: &mut Agreement,
    node: NodeId,
    accepted: &[(Slot, Ballot, Command)],
    notes: &[PaxosNote],
) -> Result<(), Failure> {
    let cluster = Cluster::new(3, 0);
    let state = server(cluster);
    let mut disk = PaxosDisk::default();
    for (slot, ballot, cmd) in accepted {
        disk.server.accepted.insert(*slot, (*ballot, cmd.clone()));
    }
    checker.observe(&Observation {
        event_index: 0,
        now: Time::ZERO,
        node,
        state: &state,
        durable: &disk,
        notes,
        cluster: &cluster,
    })
}

fn b(round: u64, node: NodeId) -> Ballot {
    Ballot { round, node }
}

fn bid(proposer: NodeId) -> Command {
    Command::Bid {
        proposer,
        instance: 0,
    }
}

fn accept(
    checker: &mut Agreement,
    node: NodeId,
    ballot: Ballot,
    cmd: Command,
) -> Result<(), Failure> {
    let note = PaxosNote::Accepted {
        slot: 0,
        ballot,
        cmd: cmd.id(),
    };
    observe(checker, node, &[(0, ballot, cmd)], &[note])
}

fn proposed(checker: &mut Agreement, node: NodeId, cmd: &Command) {
    let note = PaxosNote::Proposed {
        slot: 0,
        cmd: cmd.id(),
    };
    observe(checker, node, &[], &[note]).expect("proposing is no violation");
}

#[test]
fn agreement_passes_one_value_chosen_in_two_ballots() {
    let mut c = Agreement::new(Cluster::new(3, 0));
    proposed(&mut c, 0, &bid(0));
    accept(&mut c, 0, b(1, 0), bid(0)).unwrap();
    accept(&mut c, 1, b(1, 0), bid(0)).unwrap(); // chosen
    // A later proposer adopts the chosen value, as it must.
    accept(&mut c, 2, b(2, 2), bid(0)).unwrap();
    accept(&mut c, 1, b(2, 2), bid(0)).unwrap();
    let learned = PaxosNote::Learned {
        slot: 0,
        cmd: CommandId::Bid(0, 0),
    };
    observe(&mut c, 2, &[], &[learned]).unwrap();
}

#[test]
fn agreement_fails_on_a_second_value_chosen() {
    let mut c = Agreement::new(Cluster::new(3, 0));
    proposed(&mut c, 0, &bid(0));
    proposed(&mut c, 2, &bid(2));
    accept(&mut c, 0, b(1, 0), bid(0)).unwrap();
    accept(&mut c, 1, b(1, 0), bid(0)).unwrap();
    accept(&mut c, 2, b(2, 2), bid(2)).unwrap(); // one acceptor: not chosen yet
    let f = accept(&mut c, 1, b(2, 2), bid(2)).unwrap_err();
    assert_eq!(f.property, Some("agreement"));
    assert!(f.message.contains("slot 0"), "{}", f.message);
}

#[test]
fn agreement_fails_on_a_value_learned_but_never_chosen() {
    let mut c = Agreement::new(Cluster::new(3, 0));
    proposed(&mut c, 0, &bid(0));
    accept(&mut c, 0, b(1, 0), bid(0)).unwrap();
    let learned = PaxosNote::Learned {
        slot: 0,
        cmd: CommandId::Bid(0, 0),
    };
    let f = observe(&mut c, 1, &[], &[learned]).unwrap_err();
    assert_eq!(f.property, Some("agreement"));
}

#[test]
fn validity_fails_on_a_value_no_proposer_proposed() {
    let mut c = Agreement::new(Cluster::new(3, 0));
    proposed(&mut c, 0, &bid(0));
    accept(&mut c, 0, b(1, 0), bid(7)).unwrap();
    let f = accept(&mut c, 1, b(1, 0), bid(7)).unwrap_err();
    assert_eq!(f.property, Some("validity"));
}

#[test]
fn the_checker_reads_the_disk_not_the_note() {
    let mut c = Agreement::new(Cluster::new(3, 0));
    // A note claiming an accept that the disk does not hold is itself a violation.
    let note = PaxosNote::Accepted {
        slot: 3,
        ballot: b(1, 0),
        cmd: CommandId::Noop,
    };
    let f = observe(&mut c, 0, &[], &[note]).unwrap_err();
    assert!(f.message.contains("disk"), "{}", f.message);
}

#[test]
fn ballots_order_by_round_then_node() {
    assert!(b(1, 2) < b(2, 0));
    assert!(b(2, 0) < b(2, 1));
    assert!(Ballot::ZERO < b(1, 0));
}

#[test]
fn first_unchosen_is_the_end_of_the_learned_prefix() {
    let mut d = ServerDisk::default();
    assert_eq!(d.first_unchosen(), 0);
    d.chosen.insert(0, Command::Noop);
    d.chosen.insert(1, Command::Noop);
    d.chosen.insert(3, Command::Noop);
    assert_eq!(d.first_unchosen(), 2);
}

#[test]
fn params_errors_name_the_field() {
    let cases = [
        (serde_json::json!({ "mode": "both" }), "params.mode"),
        (serde_json::json!({ "instances": 0 }), "params.instances"),
        (
            serde_json::json!({ "backoff_ms_min": 50, "backoff_ms_max": 10 }),
            "params.backoff_ms_min",
        ),
        (
            serde_json::json!({ "heartbeat_ms": 200 }),
            "params.heartbeat_ms",
        ),
        (serde_json::json!({ "keys": "three" }), "params.keys"),
        (
            serde_json::json!({ "mood": 1 }),
            "params.mood: unknown field `mood`",
        ),
    ];
    for (params, expected) in cases {
        let err = PaxosParams::parse(&params).expect_err("refused");
        assert!(err.contains(expected), "{params}: {err}");
    }
    let p = PaxosParams::parse(&serde_json::json!({ "mode": "single" })).unwrap();
    assert_eq!(p.mode(), Ok(Mode::Single));
}

#[test]
fn roles_follow_the_mode() {
    let cluster = Cluster::new(3, 0);
    let mut params = PaxosParams::default();
    let multi = Node::new(0, cluster, params.server_config(Flags::default()));
    assert_eq!(multi.role_name(), "follower");
    params.mode = "single".into();
    let single = Node::new(0, cluster, params.server_config(Flags::default()));
    assert_eq!(single.role_name(), "acceptor");
    for role in ["leader", "candidate", "follower", "proposer", "acceptor"] {
        assert!(Paxos::ROLES.contains(&role));
    }
}
