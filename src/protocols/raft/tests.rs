//! Raft tests, etcd-raft style: a tiny deterministic harness shuttles messages between nodes in an
//! order the test script chooses, every handled event goes through the real checkers, and the script's
//! transcript (messages delivered, notes written) is compared with a golden text where the exact
//! sequence matters.
//!
//! The harness fires timers only when the script says so and delivers messages in FIFO order (or
//! drops, duplicates and filters them on request), so each script is a fixed schedule, like the
//! schedules of the paper's figures.

use super::checkers::{self, prefix_hash};
use super::message::{
    ClientOutcome, Command, Entry, EntryId, Index, KvOp, KvResult, Msg, RaftTimer, Request, Term,
};
use super::*;
use crate::contract::Rng;
use crate::contract::Time;
use crate::contract::{Effect, Record};
use crate::contract::{EventKind, Func, History, Value};
use crate::contract::{Failure, Observation, RunEnd, Verdict};
use std::collections::{BTreeMap, VecDeque};
use std::fmt::Write as _;

// ---------------------------------------------------------------------------------------------
// The harness.

struct Slot {
    actor: Option<RaftActor>,
    disk: RaftDisk,
    rng: Rng,
    timers: BTreeMap<RaftTimer, Time>,
    records: Vec<Record>,
}

struct Harness {
    cluster: Cluster,
    proto: Raft,
    nodes: Vec<Slot>,
    /// In flight: (from, to, msg), oldest first.
    queue: VecDeque<(NodeId, NodeId, Msg)>,
    now: Time,
    event_index: u64,
    checkers: Vec<Box<dyn Checker<RaftActor>>>,
    /// Every (checker, message) violation, in order (the harness keeps going, to show consequences).
    violations: Vec<(&'static str, String)>,
    transcript: String,
}

impl Harness {
    fn new(servers: u32, clients: u32, params: serde_json::Value, mutants: &[&str]) -> Harness {
        let cluster = Cluster::new(servers, clients);
        let mutants: Vec<String> = mutants.iter().map(|m| m.to_string()).collect();
        let proto = Raft::setup(&Setup {
            cluster,
            params: &params,
            mutants: &mutants,
        })
        .expect("valid setup");
        let nodes = (0..cluster.node_count())
            .map(|id| Slot {
                actor: None,
                disk: RaftDisk::default(),
                rng: Rng::stream(7, &format!("node/{id}")),
                timers: BTreeMap::new(),
                records: Vec::new(),
            })
            .collect();
        let checkers = proto.checkers();
        let mut h = Harness {
            cluster,
            proto,
            nodes,
            queue: VecDeque::new(),
            now: Time::ZERO,
            event_index: 0,
            checkers,
            violations: Vec::new(),
            transcript: String::new(),
        };
        for id in 0..cluster.servers {
            h.start(id);
        }
        h
    }

    /// An `n`-server cluster with default params and no clients (scripts inject client requests).
    fn servers(n: u32) -> Harness {
        Harness::new(n, 0, serde_json::Value::Null, &[])
    }

    fn server(&self, id: NodeId) -> &node::Node {
        self.nodes[id as usize]
            .actor
            .as_ref()
            .and_then(RaftActor::as_server)
            .expect("a live server")
    }

    fn disk(&self, id: NodeId) -> &node::ServerDisk {
        &self.nodes[id as usize].disk.server
    }

    fn role(&self, id: NodeId) -> &'static str {
        self.server(id).role_name()
    }

    fn log_terms(&self, id: NodeId) -> Vec<Term> {
        self.disk(id).log.entries().iter().map(|e| e.term).collect()
    }

    /// Runs one handler on node `id` and applies its effects, then shows the event to the checkers.
    fn handle(&mut self, id: NodeId, input: Input) {
        self.now += crate::contract::Duration::from_millis(1);
        let Harness {
            nodes,
            queue,
            checkers,
            violations,
            transcript,
            cluster,
            now,
            event_index,
            ..
        } = self;
        // Messages to ids outside the cluster (the scripts' stand-in clients) go nowhere.
        let Some(slot) = nodes.get_mut(id as usize) else {
            return;
        };
        let Some(actor) = slot.actor.as_mut() else {
            return; // down: the input is lost
        };
        let mut effects = Vec::new();
        {
            let mut ctx = Ctx::new(
                id,
                *now,
                cluster,
                &mut slot.rng,
                &mut slot.disk,
                &mut effects,
            );
            match input {
                Input::Start => actor.on_start(&mut ctx),
                Input::Msg(from, msg) => actor.on_msg(&mut ctx, from, msg),
                Input::Timer(t) => actor.on_timer(&mut ctx, t),
            }
        }
        let mut notes = Vec::new();
        for e in effects {
            match e {
                Effect::Send { to, msg } => queue.push_back((id, to, msg)),
                Effect::SetTimer { timer, after } => {
                    slot.timers.insert(timer, *now + after);
                }
                Effect::CancelTimer { timer } => {
                    slot.timers.remove(&timer);
                }
                Effect::Note(n) => {
                    let _ = writeln!(transcript, "  {id}: {}", show_note(&n));
                    notes.push(n);
                }
                Effect::Record(r) => slot.records.push(*r),
            }
        }
        let obs = Observation {
            event_index: *event_index,
            now: *now,
            node: id,
            state: &*actor,
            durable: &slot.disk,
            notes: &notes,
            cluster,
        };
        *event_index += 1;
        for c in checkers.iter_mut() {
            if let Err(e) = c.observe(&obs) {
                let property = e.property.unwrap_or(c.name());
                let _ = writeln!(transcript, "  !! {property}: {}", e.message);
                violations.push((property, e.message));
            }
        }
    }

    fn start(&mut self, id: NodeId) {
        let slot = &mut self.nodes[id as usize];
        slot.actor = Some(self.proto.new_actor(id));
        slot.timers.clear();
        let _ = writeln!(self.transcript, "start {id}");
        self.handle(id, Input::Start);
    }

    fn crash(&mut self, id: NodeId) {
        let slot = &mut self.nodes[id as usize];
        slot.actor = None;
        slot.timers.clear();
        let _ = writeln!(self.transcript, "crash {id}");
    }

    fn fire(&mut self, id: NodeId, timer: RaftTimer) {
        let _ = writeln!(self.transcript, "fire {id} {timer:?}");
        self.nodes[id as usize].timers.remove(&timer);
        self.handle(id, Input::Timer(timer));
    }

    /// Delivers the oldest in-flight message that `keep` accepts; returns false if none.
    fn deliver_one(&mut self, keep: impl Fn(NodeId, NodeId, &Msg) -> bool) -> bool {
        let Some(pos) = self.queue.iter().position(|(f, t, m)| keep(*f, *t, m)) else {
            return false;
        };
        let (from, to, msg) = self.queue.remove(pos).expect("in range");
        let down = self
            .nodes
            .get(to as usize)
            .is_some_and(|s| s.actor.is_none());
        let lost = if down { " (lost: down)" } else { "" };
        let _ = writeln!(self.transcript, "{from}->{to} {}{lost}", show_msg(&msg));
        self.handle(to, Input::Msg(from, msg));
        true
    }

    /// Delivers everything in flight (and what it causes), FIFO.
    fn deliver_all(&mut self) {
        self.deliver_where(|_, _, _| true);
    }

    /// Delivers, FIFO, every message `keep` accepts, and what those cause; drops the rest.
    fn deliver_where(&mut self, keep: impl Fn(NodeId, NodeId, &Msg) -> bool) {
        for _ in 0..10_000 {
            if !self.deliver_one(&keep) {
                break;
            }
        }
        self.queue.clear();
    }

    /// Delivers a copy of the oldest message from `from` to `to`, leaving the original in flight.
    fn duplicate(&mut self, from: NodeId, to: NodeId) {
        let (_, _, msg) = self
            .queue
            .iter()
            .find(|(f, t, _)| (*f, *t) == (from, to))
            .cloned()
            .expect("a message to duplicate");
        let _ = writeln!(self.transcript, "{from}->{to} (dup) {}", show_msg(&msg));
        self.handle(to, Input::Msg(from, msg));
    }

    /// Drops every message in flight.
    fn drop_all(&mut self) {
        self.queue.clear();
    }

    /// A client request injected as if from client `client`.
    fn request(&mut self, server: NodeId, client: NodeId, seq: u64, op: KvOp) {
        let msg = Msg::ClientRequest(Request { client, seq, op });
        let _ = writeln!(self.transcript, "{client}->{server} {}", show_msg(&msg));
        self.handle(server, Input::Msg(client, msg));
    }

    /// Elects `id` with every message delivered.
    fn elect(&mut self, id: NodeId) {
        self.fire(id, RaftTimer::Election);
        self.deliver_all();
        assert_eq!(self.role(id), "leader", "{}", self.transcript);
    }

    fn names(&self) -> Vec<&'static str> {
        self.violations.iter().map(|(n, _)| *n).collect()
    }

    fn assert_clean(&self) {
        assert!(
            self.violations.is_empty(),
            "{:?}\n{}",
            self.violations,
            self.transcript
        );
    }

    /// The transcript so far, cleared.
    fn take_transcript(&mut self) -> String {
        std::mem::take(&mut self.transcript)
    }
}

enum Input {
    Start,
    Msg(NodeId, Msg),
    Timer(RaftTimer),
}

fn put(key: &str, value: &str) -> KvOp {
    KvOp::Put {
        key: key.into(),
        value: value.into(),
    }
}

fn get(key: &str) -> KvOp {
    KvOp::Get { key: key.into() }
}

fn show_entries(entries: &[Entry]) -> String {
    let parts: Vec<String> = entries
        .iter()
        .map(|e| match &*e.command {
            Command::Noop { .. } => format!("t{} noop", e.term),
            Command::Client(r) => format!("t{} c{}#{}", e.term, r.client, r.seq),
        })
        .collect();
    format!("[{}]", parts.join(", "))
}

fn show_msg(m: &Msg) -> String {
    match m {
        Msg::RequestVote {
            term,
            last_log_index,
            last_log_term,
        } => format!("RequestVote t{term} last={last_log_index}@t{last_log_term}"),
        Msg::RequestVoteReply { term, vote_granted } => format!(
            "Vote t{term} {}",
            if *vote_granted { "granted" } else { "refused" }
        ),
        Msg::PreVote {
            term,
            last_log_index,
            last_log_term,
        } => format!("PreVote t{term} last={last_log_index}@t{last_log_term}"),
        Msg::PreVoteReply { term, granted } => format!(
            "PreVoteReply t{term} {}",
            if *granted { "granted" } else { "refused" }
        ),
        Msg::AppendEntries {
            term,
            prev_log_index,
            prev_log_term,
            entries,
            leader_commit,
        } => format!(
            "Append t{term} prev={prev_log_index}@t{prev_log_term} {} commit={leader_commit}",
            show_entries(entries)
        ),
        Msg::AppendEntriesReply {
            term,
            success: true,
            match_index,
            ..
        } => format!("AppendOk t{term} match={match_index}"),
        Msg::AppendEntriesReply {
            term,
            conflict_index,
            conflict_term,
            ..
        } => format!("AppendReject t{term} hint={conflict_index} conflict_term={conflict_term:?}"),
        Msg::ClientRequest(r) => format!("Request #{} {:?}", r.seq, r.op),
        Msg::ClientReply { seq, outcome } => format!("Reply #{seq} {outcome:?}"),
        Msg::InstallSnapshot { term, snapshot } => format!(
            "InstallSnapshot t{term} last={}@t{} kv={:?}",
            snapshot.last_index,
            snapshot.last_term,
            snapshot.state.entries().collect::<Vec<_>>()
        ),
        Msg::InstallSnapshotReply { term, match_index } => {
            format!("InstallSnapshotReply t{term} match={match_index}")
        }
    }
}

fn show_note(n: &RaftNote) -> String {
    match n {
        RaftNote::Appended { index, term, id } => {
            format!("appended {index}@t{term} ({}, {})", id.origin, id.seq)
        }
        RaftNote::Applied { index, term, id } => {
            format!("applied {index}@t{term} ({}, {})", id.origin, id.seq)
        }
        other => format!("{other:?}"),
    }
}

// ---------------------------------------------------------------------------------------------
// Elections.

#[test]
fn a_candidate_wins_with_a_majority() {
    let mut h = Harness::servers(3);
    h.take_transcript();
    h.fire(0, RaftTimer::Election);
    h.deliver_all();
    assert_eq!(
        h.take_transcript(),
        "\
fire 0 Election
  0: BecameCandidate { term: 1 }
0->1 RequestVote t1 last=0@t0
0->2 RequestVote t1 last=0@t0
1->0 Vote t1 granted
  0: BecameLeader { term: 1 }
  0: appended 1@t1 (0, 0)
2->0 Vote t1 granted
0->1 Append t1 prev=0@t0 [t1 noop] commit=0
  1: appended 1@t1 (0, 0)
0->2 Append t1 prev=0@t0 [t1 noop] commit=0
  2: appended 1@t1 (0, 0)
1->0 AppendOk t1 match=1
  0: Committed { index: 1 }
  0: applied 1@t1 (0, 0)
2->0 AppendOk t1 match=1
"
    );
    assert_eq!(h.role(0), "leader");
    assert_eq!((h.role(1), h.role(2)), ("follower", "follower"));
    assert_eq!(h.disk(1).voted_for, Some(0));
    assert_eq!(h.disk(2).current_term, 1);
    // The next heartbeat tells the followers the commit index.
    h.fire(0, RaftTimer::Heartbeat);
    h.deliver_all();
    assert_eq!(h.server(1).commit_index(), 1);
    assert_eq!(h.server(2).last_applied(), 1);
    h.assert_clean();
}

#[test]
fn a_voter_refuses_a_candidate_with_a_stale_log() {
    let mut h = Harness::servers(3);
    h.elect(0); // everyone holds 1@t1
    h.crash(0);
    // Node 2 misses the leader's next entry; node 1 has it.
    h.start(0);
    h.elect(0); // term 2; the no-op 2@t2 reaches 1 and 2
    h.request(0, 9, 1, put("k", "v"));
    h.deliver_where(|_, to, _| to != 2);
    assert_eq!(h.log_terms(1), vec![1, 2, 2]);
    assert_eq!(h.log_terms(2), vec![1, 2]);
    // Node 2 campaigns with a shorter log of the same last term: node 1 refuses, and says so with
    // its (now adopted) term.
    h.fire(2, RaftTimer::Election);
    h.take_transcript();
    h.deliver_one(|_, to, _| to == 1);
    h.deliver_one(|_, to, _| to == 2);
    assert_eq!(
        h.take_transcript(),
        "\
2->1 RequestVote t3 last=2@t2
  1: Took { path: \"vote_rejected_log_behind\" }
1->2 Vote t3 refused
"
    );
    assert_eq!(h.disk(1).current_term, 3);
    assert_eq!(h.disk(1).voted_for, None);
    assert_eq!(h.role(2), "candidate");
    h.assert_clean();
}

#[test]
fn one_vote_per_term_and_a_repeated_request_gets_the_same_answer() {
    let mut h = Harness::servers(3);
    h.fire(1, RaftTimer::Election);
    h.fire(2, RaftTimer::Election);
    // Node 0 hears node 1 first, then node 2, then node 1's request again (a duplicate).
    h.take_transcript();
    h.deliver_one(|f, t, _| (f, t) == (1, 0));
    h.deliver_one(|f, t, _| (f, t) == (2, 0));
    h.deliver_one(|f, t, _| (f, t) == (0, 1));
    h.deliver_one(|f, t, _| (f, t) == (0, 2));
    assert_eq!(
        h.take_transcript(),
        "\
1->0 RequestVote t1 last=0@t0
2->0 RequestVote t1 last=0@t0
  0: Took { path: \"vote_rejected_already_voted\" }
0->1 Vote t1 granted
  1: BecameLeader { term: 1 }
  1: appended 1@t1 (1, 0)
0->2 Vote t1 refused
"
    );
    h.handle(
        0,
        Input::Msg(
            1,
            Msg::RequestVote {
                term: 1,
                last_log_index: 0,
                last_log_term: 0,
            },
        ),
    );
    let (_, _, reply) = h.queue.back().expect("a reply").clone();
    assert_eq!(
        reply,
        Msg::RequestVoteReply {
            term: 1,
            vote_granted: true
        }
    );
    assert_eq!(h.disk(0).voted_for, Some(1));
    h.assert_clean();
}

#[test]
fn a_pre_vote_raises_no_term_and_a_follower_of_a_live_leader_refuses_it() {
    let mut h = Harness::new(3, 0, serde_json::json!({ "pre_vote": true }), &[]);
    h.elect(0);
    h.take_transcript();
    // Node 2's timer fires: it only asks about term 2.
    h.fire(2, RaftTimer::Election);
    assert_eq!(h.disk(2).current_term, 1);
    assert_eq!(h.role(2), "follower");
    h.deliver_one(|_, to, _| to == 1);
    h.deliver_one(|_, to, _| to == 2);
    let t = h.take_transcript();
    assert!(t.contains("2->1 PreVote t2 last=1@t1"), "{t}");
    // Node 1 heard from leader 0 moments ago: no.
    assert!(t.contains("1->2 PreVoteReply t1 refused"), "{t}");
    assert!(!t.contains("RequestVote"), "{t}");
    assert_eq!(h.disk(1).current_term, 1);
    assert_eq!(h.disk(2).current_term, 1);
    assert_eq!(h.role(0), "leader");
    h.assert_clean();
}

#[test]
fn a_vote_survives_a_restart() {
    for (mutants, second_vote) in [
        (&[][..], false),
        (&["raft.forget_vote_on_restart"][..], true),
    ] {
        let mut h = Harness::new(3, 0, serde_json::Value::Null, mutants);
        h.fire(1, RaftTimer::Election);
        h.fire(2, RaftTimer::Election);
        h.deliver_one(|f, t, _| (f, t) == (1, 0));
        assert_eq!(h.disk(0).voted_for, Some(1));
        h.crash(0);
        h.start(0);
        // Same term, another candidate: the disk remembers the vote (unless the mutant lost it).
        h.queue.clear();
        h.handle(
            0,
            Input::Msg(
                2,
                Msg::RequestVote {
                    term: 1,
                    last_log_index: 0,
                    last_log_term: 0,
                },
            ),
        );
        assert_eq!(
            h.queue.back().map(|(_, _, m)| m.clone()),
            Some(Msg::RequestVoteReply {
                term: 1,
                vote_granted: second_vote
            }),
            "mutants {mutants:?}"
        );
    }
}

#[test]
fn forget_vote_on_restart_elects_two_leaders_in_one_term() {
    let mut h = Harness::new(
        3,
        0,
        serde_json::Value::Null,
        &["raft.forget_vote_on_restart"],
    );
    h.fire(1, RaftTimer::Election);
    h.fire(2, RaftTimer::Election);
    // Node 0 votes for 1, which wins term 1.
    h.deliver_one(|f, t, _| (f, t) == (1, 0));
    h.deliver_one(|f, t, _| (f, t) == (0, 1));
    assert_eq!(h.role(1), "leader");
    h.crash(0);
    h.start(0);
    // Node 0 forgot its vote and gives it to node 2 in the same term.
    h.deliver_one(|f, t, _| (f, t) == (2, 0));
    h.deliver_one(|f, t, _| (f, t) == (0, 2));
    assert_eq!(h.role(2), "leader");
    // Two leaders of term 1 each append a different no-op at index 1: Log Matching breaks too.
    assert_eq!(h.names(), vec!["election_safety", "log_matching"]);
}

#[test]
fn a_duplicated_vote_counts_once() {
    for (mutants, wins) in [
        (&[][..], false),
        (&["raft.count_duplicate_votes"][..], true),
    ] {
        let mut h = Harness::new(5, 0, serde_json::Value::Null, mutants);
        h.fire(0, RaftTimer::Election);
        h.fire(2, RaftTimer::Election);
        // Node 1 votes for 0, and its reply arrives twice. Nodes 3 and 4 vote for 2.
        h.deliver_one(|f, t, _| (f, t) == (0, 1));
        h.duplicate(1, 0);
        h.deliver_one(|f, t, _| (f, t) == (1, 0));
        h.deliver_one(|f, t, _| (f, t) == (2, 3));
        h.deliver_one(|f, t, _| (f, t) == (2, 4));
        h.deliver_one(|f, t, _| (f, t) == (3, 2));
        h.deliver_one(|f, t, _| (f, t) == (4, 2));
        assert_eq!(h.role(2), "leader");
        assert_eq!(h.role(0) == "leader", wins, "mutants {mutants:?}");
        if wins {
            // Both leaders append their no-op at index 1 of term 1: Log Matching breaks as well.
            assert_eq!(
                h.names(),
                vec!["election_safety", "log_matching"],
                "{}",
                h.transcript
            );
        } else {
            h.assert_clean();
        }
    }
}

#[test]
fn a_higher_term_deposes_a_leader() {
    let mut h = Harness::servers(3);
    h.elect(0);
    h.fire(1, RaftTimer::Election); // term 2
    h.deliver_all();
    assert_eq!(h.role(1), "leader");
    assert_eq!(h.role(0), "follower");
    assert_eq!(h.disk(0).current_term, 2);
    // A stale heartbeat from the old term is refused, and tells its sender the new term.
    h.take_transcript();
    h.handle(
        2,
        Input::Msg(
            0,
            Msg::AppendEntries {
                term: 1,
                prev_log_index: 0,
                prev_log_term: 0,
                entries: Vec::new().into(),
                leader_commit: 0,
            },
        ),
    );
    assert!(matches!(
        h.queue.back(),
        Some((
            2,
            0,
            Msg::AppendEntriesReply {
                term: 2,
                success: false,
                ..
            }
        ))
    ));
    h.assert_clean();
}

// ---------------------------------------------------------------------------------------------
// Replication, commitment, clients.

#[test]
fn replication_commits_and_answers_the_client() {
    let mut h = Harness::servers(3);
    h.elect(0);
    h.take_transcript();
    h.request(0, 9, 1, put("k", "v1"));
    h.deliver_all();
    assert_eq!(
        h.take_transcript(),
        "\
9->0 Request #1 Put { key: \"k\", value: \"v1\" }
  0: appended 2@t1 (9, 1)
0->1 Append t1 prev=1@t1 [t1 c9#1] commit=1
  1: appended 2@t1 (9, 1)
  1: Committed { index: 1 }
  1: applied 1@t1 (0, 0)
0->2 Append t1 prev=1@t1 [t1 c9#1] commit=1
  2: appended 2@t1 (9, 1)
  2: Committed { index: 1 }
  2: applied 1@t1 (0, 0)
1->0 AppendOk t1 match=2
  0: Committed { index: 2 }
  0: applied 2@t1 (9, 1)
2->0 AppendOk t1 match=2
0->9 Reply #1 Done(Written)
"
    );
    h.request(0, 9, 2, get("k"));
    h.deliver_all();
    h.fire(0, RaftTimer::Heartbeat);
    h.deliver_all();
    for id in 0..3 {
        assert_eq!(h.server(id).last_applied(), 3);
        assert_eq!(h.server(id).kv().get("k").map(|v| &**v), Some("v1"));
    }
    h.assert_clean();
}

#[test]
fn a_retried_request_is_applied_once() {
    let mut h = Harness::servers(3);
    h.elect(0);
    h.request(0, 9, 1, put("k", "a"));
    // The retry arrives while the first copy is in flight: not appended again.
    h.request(0, 9, 1, put("k", "a"));
    assert_eq!(h.disk(0).log.last_index(), 2);
    h.deliver_all();
    h.request(0, 8, 1, put("k", "b"));
    h.deliver_all();
    // A late retry of client 9's request: answered from the session, not applied again.
    h.take_transcript();
    h.request(0, 9, 1, put("k", "a"));
    assert_eq!(
        h.take_transcript(),
        "9->0 Request #1 Put { key: \"k\", value: \"a\" }\n"
    );
    assert!(matches!(
        h.queue.back(),
        Some((
            0,
            9,
            Msg::ClientReply {
                seq: 1,
                outcome: ClientOutcome::Done(KvResult::Written)
            }
        ))
    ));
    assert_eq!(h.disk(0).log.last_index(), 3);
    assert_eq!(h.server(0).kv().get("k").map(|v| &**v), Some("b"));
    // The same request in the log twice (a new leader re-proposes it) still applies once.
    let mut kv = kv::Kv::new();
    let r = Request {
        client: 9,
        seq: 1,
        op: put("k", "a"),
    };
    kv.apply(&r);
    kv.apply(&Request {
        client: 8,
        seq: 1,
        op: put("k", "b"),
    });
    kv.apply(&r);
    assert_eq!(kv.get("k").map(|v| &**v), Some("b"));
    h.assert_clean();
}

#[test]
fn a_follower_redirects_clients() {
    let mut h = Harness::servers(3);
    h.elect(0);
    h.request(1, 9, 1, get("k"));
    assert_eq!(
        h.queue.back().map(|(_, _, m)| m.clone()),
        Some(Msg::ClientReply {
            seq: 1,
            outcome: ClientOutcome::NotLeader {
                leader_hint: Some(0)
            }
        })
    );
}

#[test]
fn read_from_follower_answers_stale_reads() {
    let mut h = Harness::new(3, 0, serde_json::Value::Null, &["raft.read_from_follower"]);
    h.elect(0);
    h.request(0, 9, 1, put("k", "new"));
    // Only the leader and node 1 see the write; node 2 lags.
    h.deliver_where(|_, to, _| to != 2);
    assert_eq!(h.server(0).kv().get("k").map(|v| &**v), Some("new"));
    h.request(2, 8, 1, get("k"));
    assert_eq!(
        h.queue.back().map(|(_, _, m)| m.clone()),
        Some(Msg::ClientReply {
            seq: 1,
            outcome: ClientOutcome::Done(KvResult::Read { value: None })
        })
    );
}

#[test]
fn a_follower_removes_conflicting_entries_only() {
    let mut h = Harness::servers(3);
    h.elect(0); // 1@t1 everywhere
    // Node 0 appends 2@t1, which nobody else receives.
    h.request(0, 9, 1, put("a", "1"));
    h.drop_all();
    // Node 1 wins term 2 with node 2's vote; its no-op 2@t2 reaches node 2 only. Then node 2 wins
    // term 3 with node 1's vote, and appends its no-op 3@t3.
    h.fire(1, RaftTimer::Election);
    h.deliver_where(|_, to, _| to != 0);
    h.fire(2, RaftTimer::Election);
    h.deliver_where(|_, to, _| to != 0);
    assert_eq!(h.role(2), "leader");
    assert_eq!(h.log_terms(0), vec![1, 1]);
    assert_eq!(h.log_terms(2), vec![1, 2, 3]);
    // Node 2's first heartbeat to node 0 probes at 2@t2; node 0 holds 2@t1 there, rejects, and hints
    // that its term-1 run starts at 1; the leader skips to after its own last term-1 entry.
    h.take_transcript();
    h.fire(2, RaftTimer::Heartbeat);
    h.deliver_where(|_, to, _| to != 1);
    assert_eq!(
        h.take_transcript(),
        "\
fire 2 Heartbeat
2->0 Append t3 prev=2@t2 [t3 noop] commit=3
  0: SteppedDown { term: 1 }
  0: Took { path: \"append_rejected_term_mismatch\" }
0->2 AppendReject t3 hint=1 conflict_term=Some(1)
2->0 Append t3 prev=1@t1 [t2 noop, t3 noop] commit=3
  0: Truncated { from_index: 2 }
  0: appended 2@t2 (1, 0)
  0: appended 3@t3 (2, 0)
  0: Committed { index: 3 }
  0: applied 2@t2 (1, 0)
  0: applied 3@t3 (2, 0)
0->2 AppendOk t3 match=3
"
    );
    assert_eq!(h.log_terms(0), vec![1, 2, 3]);
    // A stale, reordered AppendEntries for entries node 0 already has truncates nothing.
    let stale = Msg::AppendEntries {
        term: 3,
        prev_log_index: 0,
        prev_log_term: 0,
        entries: h.disk(2).log.slice(1, 2).into(),
        leader_commit: 0,
    };
    h.handle(0, Input::Msg(2, stale));
    assert_eq!(h.log_terms(0), vec![1, 2, 3]);
    assert!(matches!(
        h.queue.back(),
        Some((
            0,
            2,
            Msg::AppendEntriesReply {
                success: true,
                match_index: 2,
                ..
            }
        ))
    ));
    h.deliver_all();
    assert_eq!(h.server(2).commit_index(), 3);
    h.assert_clean();
}

#[test]
fn a_stale_refusal_does_not_move_next_index() {
    let mut h = Harness::servers(3);
    h.elect(0);
    h.fire(0, RaftTimer::Heartbeat);
    h.deliver_all();
    let next = |h: &Harness| match h.server(0).role_state() {
        node::RoleState::Leader(l) => l.next_index.clone(),
        other => panic!("not a leader: {other:?}"),
    };
    let before = next(&h);
    // Node 1 refused some AppendEntries that node 0 sent as leader of an earlier term, and its
    // refusal (same term as node 0 now, conflict index 0) arrives late.
    h.handle(
        0,
        Input::Msg(
            1,
            Msg::AppendEntriesReply {
                term: 1,
                success: false,
                match_index: 0,
                conflict_index: 0,
                conflict_term: None,
            },
        ),
    );
    assert_eq!(next(&h), before);
    assert!(h.queue.is_empty());
    // A duplicated success reply does not move matchIndex back either.
    h.handle(
        0,
        Input::Msg(
            1,
            Msg::AppendEntriesReply {
                term: 1,
                success: true,
                match_index: 0,
                conflict_index: 0,
                conflict_term: None,
            },
        ),
    );
    assert_eq!(next(&h), before);
    h.assert_clean();
}

#[test]
fn a_short_follower_gets_the_missing_entries() {
    let mut h = Harness::servers(3);
    h.elect(0);
    h.request(0, 9, 1, put("a", "1"));
    h.request(0, 9, 2, put("a", "2"));
    h.deliver_where(|_, to, _| to != 2);
    // Node 1 (holding all three entries) wins term 2; it probes node 2 at 3@t1 first.
    h.crash(0);
    h.fire(1, RaftTimer::Election);
    h.take_transcript();
    h.deliver_all();
    assert_eq!(
        h.take_transcript(),
        "\
1->0 RequestVote t2 last=3@t1 (lost: down)
1->2 RequestVote t2 last=3@t1
2->1 Vote t2 granted
  1: BecameLeader { term: 2 }
  1: appended 4@t2 (1, 0)
1->0 Append t2 prev=3@t1 [t2 noop] commit=2 (lost: down)
1->2 Append t2 prev=3@t1 [t2 noop] commit=2
  2: Took { path: \"append_rejected_log_short\" }
2->1 AppendReject t2 hint=2 conflict_term=None
1->2 Append t2 prev=1@t1 [t1 c9#1, t1 c9#2, t2 noop] commit=2
  2: appended 2@t1 (9, 1)
  2: appended 3@t1 (9, 2)
  2: appended 4@t2 (1, 0)
  2: Committed { index: 2 }
  2: applied 1@t1 (0, 0)
  2: applied 2@t1 (9, 1)
2->1 AppendOk t2 match=4
  1: Committed { index: 4 }
  1: applied 3@t1 (9, 2)
  1: applied 4@t2 (1, 0)
1->9 Reply #2 Done(Written)
"
    );
    assert_eq!(h.log_terms(2), vec![1, 1, 1, 2]);
    h.assert_clean();
}

#[test]
fn a_lagging_follower_catches_up_in_batches() {
    let mut h = Harness::new(3, 0, serde_json::json!({"max_entries_per_append": 2}), &[]);
    h.elect(0);
    for seq in 1..=7 {
        h.request(0, 9, seq, put("k", &seq.to_string()));
        h.deliver_where(|_, to, _| to != 2);
    }
    assert_eq!(h.disk(2).log.last_index(), 1);
    h.fire(0, RaftTimer::Heartbeat);
    h.deliver_all();
    assert_eq!(h.disk(2).log.last_index(), 8);
    h.fire(0, RaftTimer::Heartbeat);
    h.deliver_all();
    assert_eq!(h.server(2).last_applied(), 8);
    h.assert_clean();
}

#[test]
fn a_restarted_server_reapplies_from_its_disk() {
    let mut h = Harness::servers(3);
    h.elect(0);
    h.request(0, 9, 1, put("k", "v"));
    h.deliver_all();
    h.fire(0, RaftTimer::Heartbeat);
    h.deliver_all();
    assert_eq!(h.server(2).last_applied(), 2);
    h.crash(2);
    h.start(2);
    assert_eq!(h.server(2).commit_index(), 0); // volatile: re-learned from the leader
    assert_eq!(h.disk(2).log.last_index(), 2); // durable
    h.fire(0, RaftTimer::Heartbeat);
    h.deliver_all();
    assert_eq!(h.server(2).last_applied(), 2);
    assert_eq!(h.server(2).kv().get("k").map(|v| &**v), Some("v"));
    h.assert_clean();
}

#[test]
fn a_single_server_commits_alone() {
    let mut h = Harness::servers(1);
    h.fire(0, RaftTimer::Election);
    assert_eq!(h.role(0), "leader");
    h.request(0, 9, 1, put("k", "v"));
    assert_eq!(h.server(0).commit_index(), 2);
    assert!(matches!(
        h.queue.back(),
        Some((0, 9, Msg::ClientReply { seq: 1, .. }))
    ));
    h.assert_clean();
}

/// Figure 8 of the paper, with servers S1..S5 as nodes 0..4 and no leader no-op (so that the only
/// entry of the new leader's term is the one in the figure).
fn figure_8(mutants: &[&str]) -> Harness {
    let mut h = Harness::new(5, 0, serde_json::json!({"leader_noop": false}), mutants);
    // Everyone holds 1@t1, committed.
    h.elect(0);
    h.request(0, 9, 1, put("x", "1"));
    h.deliver_all();
    // (a) S1 leads term 2 and replicates 2@t2 to S2 only.
    h.crash(0);
    h.start(0);
    h.elect(0);
    h.request(0, 9, 2, put("x", "2"));
    h.deliver_where(|_, to, _| to == 1 || to == 0);
    assert_eq!(h.log_terms(1), vec![1, 2]);
    // (b) S1 crashes; S5 leads term 3 with votes from S3, S4 and itself, and accepts 2@t3.
    h.crash(0);
    h.fire(4, RaftTimer::Election);
    h.deliver_all();
    assert_eq!(h.role(4), "leader");
    h.request(4, 8, 1, put("x", "3"));
    h.drop_all();
    // (c) S5 crashes; S1 restarts and leads term 4 (after a split term 3 election), and copies
    // 2@t2 to S3: now a majority holds it.
    h.crash(4);
    h.start(0);
    h.fire(0, RaftTimer::Election);
    h.deliver_all();
    h.fire(0, RaftTimer::Election);
    h.deliver_all();
    assert_eq!(h.role(0), "leader");
    assert_eq!(h.disk(0).current_term, 4);
    assert_eq!(h.log_terms(2), vec![1, 2]);
    h
}

#[test]
fn figure_8_an_earlier_term_entry_on_a_majority_is_not_committed() {
    let mut h = figure_8(&[]);
    // S1 restarted, so it knows of no commit; it must not count 2@t2's replicas.
    assert_eq!(h.server(0).commit_index(), 0);
    h.assert_clean();
    // (d) S1 crashes; S5 restarts, wins term 5 with S2, S3, S4, and overwrites index 2 everywhere.
    h.crash(0);
    h.start(4);
    h.fire(4, RaftTimer::Election); // term 4: everyone already voted for S1
    h.deliver_all();
    h.fire(4, RaftTimer::Election); // term 5
    h.deliver_all();
    assert_eq!(h.role(4), "leader");
    h.request(4, 7, 1, put("y", "1"));
    h.deliver_all();
    h.fire(4, RaftTimer::Heartbeat);
    h.deliver_all();
    for id in 1..5 {
        assert_eq!(h.log_terms(id), vec![1, 3, 5], "node {id}");
        assert_eq!(h.server(id).last_applied(), 3);
    }
    // Nothing applied 2@t2, so nothing was lost: safe.
    h.assert_clean();
}

#[test]
fn figure_8_commit_prior_term_is_caught() {
    let mut h = figure_8(&["raft.commit_prior_term"]);
    // The mutant leader counted S1, S2, S3 holding 2@t2 and committed it.
    assert_eq!(h.server(0).commit_index(), 2);
    assert_eq!(h.names(), vec!["commit_safety"], "{}", h.transcript);
    // (d) as above: S5 overwrites the "committed" entry, and a server applies a different entry at 2.
    h.crash(0);
    h.start(4);
    h.fire(4, RaftTimer::Election); // term 4: everyone already voted for S1
    h.deliver_all();
    h.fire(4, RaftTimer::Election); // term 5
    h.deliver_all();
    h.request(4, 7, 1, put("y", "1"));
    h.deliver_all();
    assert!(
        h.names().contains(&"state_machine_safety"),
        "{}",
        h.transcript
    );
}

#[test]
fn vote_ignores_log_elects_a_leader_without_committed_entries() {
    // Honest voters refuse the stale candidate; the mutant's voter grants.
    for (mutants, caught) in [(&[][..], false), (&["raft.vote_ignores_log"][..], true)] {
        let mut h = Harness::new(3, 0, serde_json::Value::Null, mutants);
        h.fire(0, RaftTimer::Election);
        h.deliver_where(|_, to, _| to != 2);
        // Committed on 0 and 1 only; node 2 never hears of entries 1 and 2.
        h.request(0, 9, 1, put("k", "v"));
        h.deliver_where(|_, to, _| to != 2);
        assert_eq!(h.log_terms(2), Vec::<Term>::new());
        h.crash(0);
        h.fire(2, RaftTimer::Election); // term 1: node 1 already voted for 0
        h.deliver_all();
        h.fire(2, RaftTimer::Election); // term 2
        h.deliver_all();
        assert_eq!(h.role(2) == "leader", caught, "mutants {mutants:?}");
        if caught {
            // Then the consequences: the new leader overwrites a committed entry, and applies another.
            // (One event that breaks two properties of one checker reports the first of them.)
            assert_eq!(
                h.names(),
                vec![
                    "leader_completeness",
                    "leader_completeness",
                    "commit_safety",
                    "state_machine_safety"
                ],
                "{}",
                h.transcript
            );
        } else {
            h.assert_clean();
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The client.

fn client_harness() -> (Raft, Cluster) {
    let cluster = Cluster::new(3, 1);
    let params = serde_json::json!({
        "ops_per_client": 2, "think_ms_min": 1, "think_ms_max": 1,
        "attempt_timeout_ms": 100, "op_deadline_ms": 250, "put_weight": 1, "get_weight": 0, "cas_weight": 0
    });
    let proto = Raft::setup(&Setup {
        cluster,
        params: &params,
        mutants: &[],
    })
    .expect("setup");
    (proto, cluster)
}

/// Runs one client handler and returns its effects.
fn client_step(
    actor: &mut RaftActor,
    disk: &mut RaftDisk,
    rng: &mut Rng,
    cluster: Cluster,
    input: Input,
) -> Vec<Effect<RaftActor>> {
    let mut effects = Vec::new();
    let mut ctx = Ctx::new(3, Time::ZERO, &cluster, rng, disk, &mut effects);
    match input {
        Input::Start => actor.on_start(&mut ctx),
        Input::Msg(from, m) => actor.on_msg(&mut ctx, from, m),
        Input::Timer(t) => actor.on_timer(&mut ctx, t),
    }
    effects
}

fn sends(effects: &[Effect<RaftActor>]) -> Vec<(NodeId, Msg)> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::Send { to, msg } => Some((*to, msg.clone())),
            _ => None,
        })
        .collect()
}

fn records(effects: &[Effect<RaftActor>]) -> Vec<Record> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::Record(r) => Some((**r).clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn the_client_follows_redirects_retries_and_gives_up() {
    let (proto, cluster) = client_harness();
    let mut actor = proto.new_actor(3);
    let mut disk = RaftDisk::default();
    let mut rng = Rng::stream(1, "node/3");
    let mut step =
        |actor: &mut RaftActor, input| client_step(actor, &mut disk, &mut rng, cluster, input);

    let e = step(&mut actor, Input::Start);
    assert!(matches!(
        e[..],
        [Effect::SetTimer {
            timer: RaftTimer::ClientThink,
            ..
        }]
    ));
    // The first op: a put of a unique value, sent to the initial guess (server 0).
    let e = step(&mut actor, Input::Timer(RaftTimer::ClientThink));
    let r = records(&e);
    assert_eq!(r.len(), 1);
    assert_eq!(
        (r[0].process, r[0].kind, r[0].f.clone()),
        (3, EventKind::Invoke, Func::PUT)
    );
    assert_eq!(r[0].value, Value::Str("c3-1".into()));
    let s = sends(&e);
    assert_eq!(s.len(), 1);
    assert_eq!(s[0].0, 0);
    let Msg::ClientRequest(req) = &s[0].1 else {
        panic!("a request")
    };
    assert_eq!((req.client, req.seq), (3, 1));
    // Redirected to server 2: sent there at once, same seq.
    let e = step(
        &mut actor,
        Input::Msg(
            0,
            Msg::ClientReply {
                seq: 1,
                outcome: ClientOutcome::NotLeader {
                    leader_hint: Some(2),
                },
            },
        ),
    );
    assert!(matches!(
        &sends(&e)[..],
        [(2, Msg::ClientRequest(Request { seq: 1, .. }))]
    ));
    // The attempt times out: the redirect target gets one more try, then the same request goes
    // round-robin to the next server.
    let e = step(&mut actor, Input::Timer(RaftTimer::ClientAttempt));
    assert!(matches!(
        &sends(&e)[..],
        [(2, Msg::ClientRequest(Request { seq: 1, .. }))]
    ));
    let e = step(&mut actor, Input::Timer(RaftTimer::ClientAttempt));
    assert!(matches!(
        &sends(&e)[..],
        [(0, Msg::ClientRequest(Request { seq: 1, .. }))]
    ));
    // The deadline passes: Info under process 3, then the next op under a fresh process 3 + 4.
    let e = step(&mut actor, Input::Timer(RaftTimer::ClientDeadline));
    let r = records(&e);
    assert_eq!((r[0].process, r[0].kind), (3, EventKind::Info));
    assert_eq!(actor.as_client().map(|c| c.process()), Some(7));
    let e = step(&mut actor, Input::Timer(RaftTimer::ClientThink));
    let r = records(&e);
    assert_eq!((r[0].process, r[0].kind), (7, EventKind::Invoke));
    // A late reply to the abandoned op is ignored; the reply to the current one completes it.
    let e = step(
        &mut actor,
        Input::Msg(
            1,
            Msg::ClientReply {
                seq: 1,
                outcome: ClientOutcome::Done(KvResult::Written),
            },
        ),
    );
    assert!(records(&e).is_empty());
    let e = step(
        &mut actor,
        Input::Msg(
            1,
            Msg::ClientReply {
                seq: 2,
                outcome: ClientOutcome::Done(KvResult::Written),
            },
        ),
    );
    let r = records(&e);
    assert_eq!((r[0].process, r[0].kind), (7, EventKind::Ok));
    assert_eq!(r[0].value, Value::Str("c3-2".into()));
    // Two ops done: no more think timer.
    assert!(!e.iter().any(|e| matches!(
        e,
        Effect::SetTimer {
            timer: RaftTimer::ClientThink,
            ..
        }
    )));
    assert_eq!(actor.as_client().map(|c| c.leader_guess()), Some(1));
    assert_eq!(disk.client.last_seq, 2);
}

#[test]
fn a_restarted_client_takes_a_fresh_process_and_sequence() {
    let (proto, cluster) = client_harness();
    let mut disk = RaftDisk::default();
    let mut rng = Rng::stream(1, "node/3");
    let mut actor = proto.new_actor(3);
    client_step(&mut actor, &mut disk, &mut rng, cluster, Input::Start);
    client_step(
        &mut actor,
        &mut disk,
        &mut rng,
        cluster,
        Input::Timer(RaftTimer::ClientThink),
    );
    // Crash with the op open; restart.
    let mut actor = proto.new_actor(3);
    client_step(&mut actor, &mut disk, &mut rng, cluster, Input::Start);
    assert_eq!(actor.as_client().map(|c| c.process()), Some(7));
    let e = client_step(
        &mut actor,
        &mut disk,
        &mut rng,
        cluster,
        Input::Timer(RaftTimer::ClientThink),
    );
    assert!(matches!(
        &sends(&e)[..],
        [(_, Msg::ClientRequest(Request { seq: 2, .. }))]
    ));
}

// ---------------------------------------------------------------------------------------------
// Parameters and setup.

#[test]
fn params_default_and_name_their_errors() {
    assert_eq!(
        RaftParams::parse(&serde_json::Value::Null),
        Ok(RaftParams::default())
    );
    let err = |v: serde_json::Value| RaftParams::parse(&v).expect_err("an error");
    let e = err(serde_json::json!({"heartbeat_ms": "fast"}));
    assert!(e.starts_with("params.heartbeat_ms: invalid type"), "{e}");
    let e = err(serde_json::json!({"hearbeat_ms": 5}));
    assert!(
        e.starts_with("params.hearbeat_ms: unknown field `hearbeat_ms`"),
        "{e}"
    );
    let e =
        err(serde_json::json!({"election_timeout_ms_min": 300, "election_timeout_ms_max": 300}));
    assert!(
        e.starts_with("params.election_timeout_ms_min: must be below"),
        "{e}"
    );
    let e = err(serde_json::json!({"heartbeat_ms": 150}));
    assert!(e.starts_with("params.heartbeat_ms: must be below"), "{e}");
    let e = err(serde_json::json!({"max_entries_per_append": 0}));
    assert!(e.starts_with("params.max_entries_per_append"), "{e}");
    let e = err(serde_json::json!({"get_weight": 0, "put_weight": 0, "cas_weight": 0}));
    assert!(e.starts_with("params.get_weight"), "{e}");
    let e = err(serde_json::json!({"op_deadline_ms": 10}));
    assert!(e.starts_with("params.op_deadline_ms"), "{e}");
    let cluster = Cluster::new(0, 1);
    let setup = Setup {
        cluster,
        params: &serde_json::Value::Null,
        mutants: &[],
    };
    assert!(Raft::setup(&setup).is_err());
}

#[test]
fn protocol_surface() {
    let (proto, _) = client_harness();
    assert_eq!(Raft::NAME, "raft");
    assert_eq!(proto.leader_role(), Some("leader"));
    assert!(
        proto.history_model().is_some(),
        "raft serves a linearizable key-value store"
    );
    let names: Vec<&str> = proto
        .checkers()
        .iter()
        .flat_map(|c| c.properties())
        .collect();
    assert_eq!(
        names,
        [
            "election_safety",
            "log_matching",
            "leader_completeness",
            "commit_safety",
            "leader_append_only",
            "state_machine_safety",
        ]
    );
    let with_liveness = serde_json::json!({"liveness_catch_up_ms": 2000});
    let setup = Setup {
        cluster: Cluster::new(3, 1),
        params: &with_liveness,
        mutants: &[],
    };
    let names: Vec<&str> = Raft::setup(&setup)
        .expect("setup")
        .checkers()
        .iter()
        .map(|c| c.name())
        .collect();
    assert_eq!(names.last(), Some(&"raft_liveness"));
    assert_eq!(proto.new_actor(0).role(), Some("follower"));
    assert_eq!(proto.new_actor(3).role(), None);
    assert_eq!(Raft::MUTANTS.len(), 7);
    let durable: Vec<&str> = proto
        .durable_invariants()
        .iter()
        .map(|i| i.name())
        .collect();
    assert_eq!(durable[..2], ["current_term", "voted_for"]);
    let label = RaftNote::Committed { index: 1 }.label();
    assert_eq!(label, "committed");
}

// ---------------------------------------------------------------------------------------------
// Checkers on hand-made notes.

/// Feeds hand-made notes to one checker, keeping fake disks consistent with the notes.
struct Feed {
    cluster: Cluster,
    actors: Vec<RaftActor>,
    disks: Vec<RaftDisk>,
    index: u64,
}

impl Feed {
    fn new(servers: u32) -> Feed {
        let cluster = Cluster::new(servers, 0);
        let (proto, _) = client_harness();
        let cfg = proto.params().server_config(Flags::default());
        Feed {
            cluster,
            actors: (0..servers)
                .map(|id| RaftActor::Server(node::Node::new(id, cluster, cfg.clone())))
                .collect(),
            disks: vec![RaftDisk::default(); servers as usize],
            index: 0,
        }
    }

    /// Node `node`, whose current term is now `term`, writes `notes`; the violation's message.
    fn feed(
        &mut self,
        checker: &mut dyn Checker<RaftActor>,
        node: NodeId,
        term: Term,
        notes: &[RaftNote],
    ) -> Result<(), String> {
        self.feed_one(checker, node, term, notes)
            .map_err(|e| e.message)
    }

    /// As [`Feed::feed`], with the whole failure (its property included).
    fn feed_one(
        &mut self,
        checker: &mut dyn Checker<RaftActor>,
        node: NodeId,
        term: Term,
        notes: &[RaftNote],
    ) -> Result<(), Failure> {
        let disk = &mut self.disks[node as usize];
        disk.server.current_term = term;
        for n in notes {
            match *n {
                RaftNote::Appended { term, id, .. } => {
                    let command = if id.seq == 0 {
                        Command::Noop { leader: id.origin }
                    } else {
                        Command::Client(Request {
                            client: id.origin,
                            seq: id.seq,
                            op: get("k"),
                        })
                    };
                    disk.server.log.append(Entry::new(term, command));
                }
                RaftNote::Truncated { from_index } => disk.server.log.truncate_from(from_index),
                _ => {}
            }
        }
        self.index += 1;
        checker.observe(&Observation {
            event_index: self.index,
            now: Time::ZERO,
            node,
            state: &self.actors[node as usize],
            durable: &self.disks[node as usize],
            notes,
            cluster: &self.cluster,
        })
    }

    /// As [`Feed::feed`], but shows the event to every checker of `checkers`, in order, as the
    /// engine does, and returns the violations as (checker, message).
    fn feed_all(
        &mut self,
        checkers: &mut [Box<dyn Checker<RaftActor>>],
        node: NodeId,
        term: Term,
        notes: &[RaftNote],
    ) -> Vec<(&'static str, String)> {
        let (first, rest) = checkers.split_first_mut().expect("a checker");
        let mut found: Vec<(&'static str, String)> = Vec::new();
        if let Err(e) = self.feed_one(first.as_mut(), node, term, notes) {
            found.push((e.property.unwrap_or(first.name()), e.message));
        }
        let obs = Observation {
            event_index: self.index,
            now: Time::ZERO,
            node,
            state: &self.actors[node as usize],
            durable: &self.disks[node as usize],
            notes,
            cluster: &self.cluster,
        };
        for c in rest {
            if let Err(e) = c.observe(&obs) {
                found.push((e.property.unwrap_or(c.name()), e.message));
            }
        }
        found
    }
}

fn app(index: Index, term: Term, origin: NodeId, seq: u64) -> RaftNote {
    RaftNote::Appended {
        index,
        term,
        id: EntryId { origin, seq },
    }
}

fn applied(index: Index, term: Term, origin: NodeId, seq: u64) -> RaftNote {
    RaftNote::Applied {
        index,
        term,
        id: EntryId { origin, seq },
    }
}

const LEADER: fn(Term) -> RaftNote = |term| RaftNote::BecameLeader { term };

#[test]
fn election_safety_checker() {
    let mut c = checkers::ElectionSafety::new();
    let mut f = Feed::new(3);
    assert!(f.feed(&mut c, 0, 1, &[LEADER(1)]).is_ok());
    assert!(f.feed(&mut c, 1, 2, &[LEADER(2)]).is_ok());
    assert!(f.feed(&mut c, 0, 3, &[LEADER(3)]).is_ok());
    let e = f
        .feed(&mut c, 2, 2, &[LEADER(2)])
        .expect_err("two leaders in term 2");
    assert_eq!(e, "term 2 has two leaders: node 1 and node 2");
}

#[test]
fn log_matching_checker() {
    // Good: two nodes hold the same entries.
    let mut c = checkers::GhostLogs::new(Cluster::new(3, 0));
    let mut f = Feed::new(3);
    f.feed(&mut c, 0, 1, &[app(1, 1, 0, 0), app(2, 1, 9, 1)])
        .unwrap();
    f.feed(&mut c, 1, 1, &[app(1, 1, 0, 0), app(2, 1, 9, 1)])
        .unwrap();
    // Bad: same index and term, different command.
    let e = f
        .feed(&mut c, 2, 1, &[app(1, 1, 0, 0), app(2, 1, 9, 2)])
        .expect_err("mismatch");
    assert!(e.contains("index 2 of term 1"), "{e}");

    // Bad: the entries at (2, 2) agree but the prefixes under them do not.
    let mut c = checkers::GhostLogs::new(f.cluster);
    let mut f = Feed::new(3);
    f.feed(&mut c, 0, 2, &[app(1, 1, 0, 0), app(2, 2, 1, 0)])
        .unwrap();
    let e = f
        .feed(&mut c, 1, 2, &[app(1, 2, 1, 0), app(2, 2, 1, 0)])
        .expect_err("prefix differs");
    assert!(e.contains("index 2 of term 2"), "{e}");

    // Bad: the disk holds an entry no note announced.
    let mut c = checkers::GhostLogs::new(f.cluster);
    let mut f = Feed::new(3);
    f.disks[0]
        .server
        .log
        .append(Entry::new(1, Command::Noop { leader: 0 }));
    let e = f.feed(&mut c, 0, 1, &[]).expect_err("unannounced entry");
    assert!(e.contains("notes say index 0"), "{e}");

    // Good: truncation then a different entry.
    let mut c = checkers::GhostLogs::new(f.cluster);
    let mut f = Feed::new(3);
    f.feed(&mut c, 0, 1, &[app(1, 1, 0, 0), app(2, 1, 9, 1)])
        .unwrap();
    f.feed(
        &mut c,
        0,
        2,
        &[RaftNote::Truncated { from_index: 2 }, app(2, 2, 1, 0)],
    )
    .unwrap();
    f.feed(&mut c, 1, 2, &[app(1, 1, 0, 0), app(2, 2, 1, 0)])
        .unwrap();
}

#[test]
fn prefix_hash_is_fnv_1a() {
    // Stable across runs and Rust releases: a fixed value.
    let h = prefix_hash(checkers::EMPTY_PREFIX, 1, EntryId { origin: 0, seq: 0 });
    assert_eq!(
        h,
        prefix_hash(checkers::EMPTY_PREFIX, 1, EntryId { origin: 0, seq: 0 })
    );
    assert_ne!(
        h,
        prefix_hash(checkers::EMPTY_PREFIX, 2, EntryId { origin: 0, seq: 0 })
    );
    assert_ne!(h, prefix_hash(h, 1, EntryId { origin: 0, seq: 0 }));
    // FNV-1a of 28 zero bytes (u64 prev, u64 term, u32 origin, u64 seq).
    let mut expect: u64 = 0xcbf2_9ce4_8422_2325;
    for _ in 0..28 {
        expect = expect.wrapping_mul(0x100_0000_01b3);
    }
    assert_eq!(prefix_hash(0, 0, EntryId { origin: 0, seq: 0 }), expect);
}

#[test]
fn leader_append_only_checker() {
    let cluster = Cluster::new(3, 0);
    let mut c = checkers::LeaderAppendOnly::new(cluster);
    let mut f = Feed::new(3);
    f.feed(&mut c, 0, 1, &[app(1, 1, 5, 1), app(2, 1, 5, 2)])
        .unwrap();
    f.feed(&mut c, 0, 2, &[LEADER(2), app(3, 2, 0, 0)]).unwrap();
    let e = f
        .feed(&mut c, 0, 2, &[RaftNote::Truncated { from_index: 3 }])
        .expect_err("a leader truncated");
    assert!(e.contains("leader of term 2"), "{e}");
    // A follower (after stepping down) may truncate.
    let mut c = checkers::LeaderAppendOnly::new(cluster);
    let mut f = Feed::new(3);
    f.feed(&mut c, 0, 2, &[LEADER(2), app(1, 2, 0, 0)]).unwrap();
    f.feed(
        &mut c,
        0,
        3,
        &[
            RaftNote::SteppedDown { term: 2 },
            RaftNote::Truncated { from_index: 1 },
            app(1, 3, 1, 0),
        ],
    )
    .unwrap();
    // A restart ends leadership too.
    f.feed(&mut c, 0, 3, &[LEADER(4)]).unwrap();
    f.feed(
        &mut c,
        0,
        4,
        &[RaftNote::Started {
            term: 4,
            last_index: 1,
        }],
    )
    .unwrap();
    f.feed(
        &mut c,
        0,
        5,
        &[RaftNote::Truncated { from_index: 1 }, app(1, 5, 2, 0)],
    )
    .unwrap();
}

#[test]
fn leader_completeness_checker() {
    let cluster = Cluster::new(3, 0);
    // Bad: (1, t1) is held by 0 and 1 in term 1 (committed); node 2 leads term 2 without it.
    let mut c = checkers::GhostLogs::new(cluster);
    let mut f = Feed::new(3);
    f.feed(&mut c, 0, 1, &[LEADER(1), app(1, 1, 0, 0)]).unwrap();
    f.feed(&mut c, 1, 1, &[app(1, 1, 0, 0)]).unwrap();
    let e = f
        .feed(&mut c, 2, 2, &[LEADER(2)])
        .expect_err("incomplete leader");
    assert!(e.contains("without committed entry 1"), "{e}");
    // Good: node 1, which holds it, may lead.
    f.feed(&mut c, 1, 2, &[LEADER(2), app(2, 2, 1, 0)]).unwrap();

    // Figure 8: (1, t1) reaches a majority only by a later term's replication: not committed, so a
    // leader without it is fine.
    let mut c = checkers::GhostLogs::new(cluster);
    let mut f = Feed::new(3);
    f.feed(&mut c, 0, 1, &[LEADER(1), app(1, 1, 0, 0)]).unwrap();
    f.feed(&mut c, 1, 3, &[app(1, 1, 0, 0)]).unwrap(); // accepted during term 3
    f.feed(&mut c, 2, 4, &[LEADER(4)]).unwrap();
}

#[test]
fn commit_safety_checker() {
    let cluster = Cluster::new(3, 0);
    // Bad: node 0 commits an entry only it holds.
    let mut c = checkers::GhostLogs::new(cluster);
    let mut f = Feed::new(3);
    f.feed(&mut c, 0, 1, &[app(1, 1, 0, 0)]).unwrap();
    let e = f
        .feed(&mut c, 0, 1, &[RaftNote::Committed { index: 1 }])
        .expect_err("uncommitted");
    assert!(e.contains("never held by a majority during term 1"), "{e}");
    // Bad: Figure 8, a prior-term entry on a majority.
    let mut c = checkers::GhostLogs::new(cluster);
    let mut f = Feed::new(3);
    f.feed(&mut c, 0, 2, &[app(1, 2, 0, 0)]).unwrap();
    f.feed(&mut c, 1, 4, &[app(1, 2, 0, 0)]).unwrap();
    assert!(
        f.feed(&mut c, 0, 4, &[RaftNote::Committed { index: 1 }])
            .is_err()
    );
    // Good: held by a majority in its term; then a committed entry must never be removed.
    let mut c = checkers::GhostLogs::new(cluster);
    let mut f = Feed::new(3);
    f.feed(&mut c, 0, 1, &[app(1, 1, 0, 0), app(2, 1, 9, 1)])
        .unwrap();
    f.feed(&mut c, 1, 1, &[app(1, 1, 0, 0), app(2, 1, 9, 1)])
        .unwrap();
    f.feed(&mut c, 0, 1, &[RaftNote::Committed { index: 2 }])
        .unwrap();
    f.feed(&mut c, 1, 1, &[RaftNote::Committed { index: 1 }])
        .unwrap();
    let e = f
        .feed(&mut c, 1, 2, &[RaftNote::Truncated { from_index: 2 }])
        .expect_err("removed a committed entry");
    assert!(e.contains("removed committed entry 2"), "{e}");
    // Bad: a commit index past the end of the log.
    let mut c = checkers::GhostLogs::new(cluster);
    let mut f = Feed::new(3);
    assert!(
        f.feed(&mut c, 2, 1, &[RaftNote::Committed { index: 3 }])
            .is_err()
    );
}

/// The checkers' own bookkeeping, each piece shown to matter (these kill mutants of the checkers that
/// the tests above let survive).
#[test]
fn a_truncated_holder_no_longer_counts_towards_a_majority() {
    // Node 0 held (1, t1) in its own term, then removed it: node 1 holding it alone is one holder of
    // three, not two, so node 1 may not commit it.
    let mut c = checkers::GhostLogs::new(Cluster::new(3, 0));
    let mut f = Feed::new(3);
    f.feed(&mut c, 0, 1, &[app(1, 1, 0, 0)]).unwrap();
    f.feed(&mut c, 0, 1, &[RaftNote::Truncated { from_index: 1 }])
        .unwrap();
    f.feed(&mut c, 1, 1, &[app(1, 1, 0, 0)]).unwrap();
    let e = f
        .feed(&mut c, 1, 1, &[RaftNote::Committed { index: 1 }])
        .expect_err("one holder is no majority");
    assert!(e.contains("never held by a majority"), "{e}");
    // Once node 0 holds it again, it is committed.
    f.feed(&mut c, 0, 1, &[app(1, 1, 0, 0)]).unwrap();
    f.feed(&mut c, 1, 1, &[RaftNote::Committed { index: 1 }])
        .unwrap();
}

#[test]
fn a_truncated_entry_held_outside_its_term_leaves_the_counts_alone() {
    // Node 2 held (1, t1) accepted in term 2 (not a holder); its truncation must not take a holder
    // away from nodes 0 and 1, which hold it in term 1 and commit it together.
    let mut c = checkers::GhostLogs::new(Cluster::new(3, 0));
    let mut f = Feed::new(3);
    f.feed(&mut c, 0, 1, &[app(1, 1, 0, 0)]).unwrap();
    f.feed(&mut c, 2, 2, &[app(1, 1, 0, 0)]).unwrap();
    f.feed(&mut c, 2, 2, &[RaftNote::Truncated { from_index: 1 }])
        .unwrap();
    f.feed(&mut c, 1, 1, &[app(1, 1, 0, 0)]).unwrap();
    f.feed(&mut c, 1, 1, &[RaftNote::Committed { index: 1 }])
        .unwrap();
}

#[test]
fn the_committed_record_never_grows_from_a_log_that_disagrees_with_it() {
    // Entry A (1, t1) is committed by nodes 0 and 1. Node 1 then removes it (commit safety reports
    // that) and, with node 2, holds B (1, t2, accepted in term 3, so not counted) under C (2, t3).
    // C's majority would commit node 2's whole prefix, B included, which disagrees with the
    // committed A at index 1: the checker reports it rather than grow its record from that log.
    let mut c = checkers::GhostLogs::new(Cluster::new(3, 0));
    let mut f = Feed::new(3);
    f.feed(&mut c, 0, 1, &[app(1, 1, 0, 0)]).unwrap();
    f.feed(&mut c, 1, 1, &[app(1, 1, 0, 0)]).unwrap();
    let removed = f
        .feed_one(&mut c, 1, 3, &[RaftNote::Truncated { from_index: 1 }])
        .expect_err("a committed entry removed");
    assert_eq!(removed.property, Some("commit_safety"));
    f.feed(&mut c, 1, 3, &[app(1, 2, 2, 0), app(2, 3, 2, 1)])
        .unwrap();
    let e = f
        .feed_one(&mut c, 2, 3, &[app(1, 2, 2, 0), app(2, 3, 2, 1)])
        .expect_err("C's prefix disagrees with the committed A");
    assert!(
        e.message.contains(
            "entry 2 of term 3 is committed, but node 2's log under it differs from the \
             committed entry at index 1"
        ),
        "{e:?}"
    );
}

#[test]
fn a_log_that_changes_without_notes_is_caught() {
    // The disk gains an entry no note mentions: only the end-of-event comparison can see it.
    let mut c = checkers::GhostLogs::new(Cluster::new(3, 0));
    let mut f = Feed::new(3);
    f.disks[0]
        .server
        .log
        .append(Entry::new(1, Command::Noop { leader: 0 }));
    let e = observe_raw(&mut f, &mut c, 0, &[]).expect_err("unnoted entry");
    assert!(e.contains("its notes say index 0 term 0"), "{e}");
    // A last term that differs is as wrong as a length that differs.
    let mut c = checkers::GhostLogs::new(Cluster::new(3, 0));
    let mut f = Feed::new(3);
    f.feed(&mut c, 1, 1, &[app(1, 1, 1, 0)]).unwrap();
    f.disks[1].server.log.truncate_from(1);
    f.disks[1]
        .server
        .log
        .append(Entry::new(2, Command::Noop { leader: 1 }));
    let e = observe_raw(&mut f, &mut c, 1, &[]).expect_err("other last term");
    assert!(e.contains("ends at index 1 term 2"), "{e}");
}

#[test]
fn leader_completeness_asks_only_for_entries_committed_in_earlier_terms() {
    // (1, t2) is committed in term 2 by nodes 0 and 1; node 2 noting leadership of term 2 itself
    // (an election-safety matter, not this property's) is not asked for it.
    let mut c = checkers::GhostLogs::new(Cluster::new(3, 0));
    let mut f = Feed::new(3);
    f.feed(&mut c, 0, 2, &[LEADER(2), app(1, 2, 0, 0)]).unwrap();
    f.feed(&mut c, 1, 2, &[app(1, 2, 0, 0)]).unwrap();
    f.feed(&mut c, 2, 2, &[LEADER(2)]).unwrap();
    // Of term 3, it is.
    let e = f
        .feed(&mut c, 2, 3, &[LEADER(3)])
        .expect_err("incomplete leader of term 3");
    assert!(e.contains("without committed entry 1"), "{e}");
}

#[test]
fn a_leader_that_overwrites_its_entry_is_caught_and_one_that_appends_is_not() {
    let cluster = Cluster::new(3, 0);
    let mut c = checkers::LeaderAppendOnly::new(cluster);
    let mut f = Feed::new(3);
    f.feed(&mut c, 0, 1, &[LEADER(1), app(1, 1, 0, 0), app(2, 1, 9, 1)])
        .unwrap();
    let e = f
        .feed(&mut c, 0, 1, &[app(2, 1, 9, 2)])
        .expect_err("overwrote index 2");
    assert!(e.contains("overwrote its entry at index 2"), "{e}");
    // The length is tracked through appends: a follower fills 1 and 2, becomes leader, appends 3.
    let mut c = checkers::LeaderAppendOnly::new(cluster);
    f.feed(&mut c, 1, 1, &[app(1, 1, 0, 0), app(2, 1, 9, 1)])
        .unwrap();
    f.feed(&mut c, 1, 2, &[LEADER(2), app(3, 2, 1, 0)]).unwrap();
    let e = f
        .feed(&mut c, 1, 2, &[app(2, 2, 9, 3)])
        .expect_err("overwrote index 2");
    assert!(e.contains("leader of term 2"), "{e}");
}

#[test]
fn one_leader_noting_its_term_twice_is_not_two_leaders() {
    let mut c = checkers::ElectionSafety::new();
    let mut f = Feed::new(3);
    f.feed(&mut c, 0, 1, &[LEADER(1)]).unwrap();
    f.feed(&mut c, 0, 1, &[LEADER(1)]).unwrap();
    assert!(f.feed(&mut c, 1, 1, &[LEADER(1)]).is_err());
}

#[test]
fn checkers_sharing_a_ghost_keep_their_own_verdicts() {
    let cluster = Cluster::new(3, 0);
    let mut all = checkers::all(cluster, &RaftParams::default());
    let mut f = Feed::new(3);
    let names =
        |found: &[(&'static str, String)]| found.iter().map(|(n, _)| *n).collect::<Vec<_>>();
    // Node 0 commits an entry only it holds: commit safety alone objects.
    assert!(f.feed_all(&mut all, 0, 1, &[app(1, 1, 0, 0)]).is_empty());
    let found = f.feed_all(&mut all, 0, 1, &[RaftNote::Committed { index: 1 }]);
    assert_eq!(names(&found), ["commit_safety"], "{found:?}");
    // Node 1 holds it too, now a majority in term 1: committed, and node 2 may not lead term 2.
    assert!(f.feed_all(&mut all, 1, 1, &[app(1, 1, 0, 0)]).is_empty());
    let found = f.feed_all(&mut all, 2, 2, &[LEADER(2)]);
    assert_eq!(names(&found), ["leader_completeness"], "{found:?}");
    // Node 1 appends a different entry at (2, 1) than node 0 will: log matching alone objects.
    assert!(f.feed_all(&mut all, 1, 1, &[app(2, 1, 9, 1)]).is_empty());
    let found = f.feed_all(&mut all, 0, 1, &[app(2, 1, 9, 2)]);
    assert_eq!(names(&found), ["log_matching"], "{found:?}");
    assert!(found[0].1.contains("index 2 of term 1"), "{found:?}");
}

#[test]
fn state_machine_safety_checker() {
    let cluster = Cluster::new(3, 0);
    let mut c = checkers::StateMachineSafety::new(cluster);
    let mut f = Feed::new(3);
    f.feed(&mut c, 0, 1, &[applied(1, 1, 0, 0), applied(2, 1, 9, 1)])
        .unwrap();
    f.feed(&mut c, 1, 1, &[applied(1, 1, 0, 0)]).unwrap();
    // After a restart a node applies from 1 again.
    f.feed(
        &mut c,
        0,
        1,
        &[
            RaftNote::Started {
                term: 1,
                last_index: 2,
            },
            applied(1, 1, 0, 0),
        ],
    )
    .unwrap();
    let e = f
        .feed(&mut c, 1, 1, &[applied(2, 1, 9, 2)])
        .expect_err("different entry");
    assert!(e.starts_with("index 2: node 0 applied"), "{e}");
    let e = f
        .feed(&mut c, 2, 1, &[applied(2, 1, 9, 1)])
        .expect_err("out of order");
    assert!(e.contains("out of order"), "{e}");
}

/// Shows `notes` of node `node` to `c` with `node`'s disk as the test left it (no append from the
/// notes): for planting a log that disagrees with its notes or with another server's.
fn observe_raw(
    f: &mut Feed,
    c: &mut dyn Checker<RaftActor>,
    node: NodeId,
    notes: &[RaftNote],
) -> Result<(), String> {
    f.index += 1;
    c.observe(&Observation {
        event_index: f.index,
        now: Time::ZERO,
        node,
        state: &f.actors[node as usize],
        durable: &f.disks[node as usize],
        notes,
        cluster: &f.cluster,
    })
    .map_err(|e| e.message)
}

#[test]
fn log_matching_compares_the_real_entries() {
    let request = |op| {
        Command::Client(Request {
            client: 9,
            seq: 1,
            op,
        })
    };
    // Same index, term and identity, different commands.
    let mut c = checkers::GhostLogs::new(Cluster::new(3, 0));
    let mut f = Feed::new(3);
    f.feed(&mut c, 0, 1, &[app(1, 1, 9, 1)]).unwrap();
    f.disks[1].server.current_term = 1;
    f.disks[1]
        .server
        .log
        .append(Entry::new(1, request(put("k", "other"))));
    let e = observe_raw(&mut f, &mut c, 1, &[app(1, 1, 9, 1)]).expect_err("contents differ");
    assert!(
        e.contains(
            "nodes 0 and 1 both hold an entry at index 1 of term 1, with different commands"
        ),
        "{e}"
    );
    // A log whose entry below the end is not the one noted (the end agrees).
    let mut c = checkers::GhostLogs::new(Cluster::new(3, 0));
    let mut f = Feed::new(3);
    f.disks[2].server.current_term = 1;
    for seq in [5, 2] {
        f.disks[2].server.log.append(Entry::new(
            1,
            Command::Client(Request {
                client: 9,
                seq,
                op: get("k"),
            }),
        ));
    }
    let e = observe_raw(&mut f, &mut c, 2, &[app(1, 1, 9, 1), app(2, 1, 9, 2)])
        .expect_err("entry 1 is not the noted one");
    assert!(e.contains("node 2's log at index 1 holds"), "{e}");
    // The same entries, noted truly, pass.
    let mut c = checkers::GhostLogs::new(Cluster::new(3, 0));
    let mut f = Feed::new(3);
    f.feed(&mut c, 0, 1, &[app(1, 1, 9, 1), app(2, 1, 9, 2)])
        .unwrap();
    f.feed(&mut c, 1, 1, &[app(1, 1, 9, 1)]).unwrap();
    f.feed(&mut c, 1, 1, &[app(2, 1, 9, 2)]).unwrap();
}

#[test]
fn state_machine_safety_compares_the_state_machines() {
    let cluster = Cluster::new(3, 0);
    let mut c = checkers::StateMachineSafety::new(cluster);
    let mut f = Feed::new(3);
    let plant = |f: &mut Feed, node: usize, value: &str| {
        let RaftActor::Server(n) = &mut f.actors[node] else {
            unreachable!("servers")
        };
        n.kv_mut().plant("k", value);
    };
    plant(&mut f, 0, "a");
    plant(&mut f, 1, "a");
    plant(&mut f, 2, "b");
    f.feed(&mut c, 0, 1, &[applied(1, 1, 9, 1)]).unwrap();
    f.feed(&mut c, 1, 1, &[applied(1, 1, 9, 1)]).unwrap();
    // The same entry applied, but node 2's store holds something else.
    let e = f
        .feed(&mut c, 2, 1, &[applied(1, 1, 9, 1)])
        .expect_err("diverged state machine");
    assert!(
        e.contains("after applying index 1, node 2's key-value state differs from node 0's"),
        "{e}"
    );
    // Where the digest is taken: the last index applied in the event.
    let mut c = checkers::StateMachineSafety::new(cluster);
    f.feed(&mut c, 0, 1, &[applied(1, 1, 9, 1), applied(2, 1, 9, 2)])
        .unwrap();
    f.feed(&mut c, 2, 1, &[applied(1, 1, 9, 1)]).unwrap();
    let e = f
        .feed(&mut c, 2, 1, &[applied(2, 1, 9, 2)])
        .expect_err("diverged at 2");
    assert!(e.contains("index 2"), "{e}");
    // Keys and values are separated in the digest.
    let d = |kv: &[(&str, &str)]| checkers::kv_digest(kv.iter().copied());
    assert_ne!(d(&[("ab", "c")]), d(&[("a", "bc")]));
    assert_ne!(d(&[("a", "")]), d(&[]));
    assert_eq!(d(&[("a", "1"), ("b", "2")]), d(&[("a", "1"), ("b", "2")]));
}

#[test]
fn kv_digest_is_fnv_1a_over_keys_values_and_separators() {
    // A reference FNV-1a (64-bit), checked against the published test vectors first.
    let fnv1a = |bytes: &[u8]| {
        bytes.iter().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
            (h ^ u64::from(*b)).wrapping_mul(0x100_0000_01b3)
        })
    };
    assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
    assert_eq!(fnv1a(b"foobar"), 0x8594_4171_f739_67e8);
    let kv = [("ab", "c"), ("d", "")];
    assert_eq!(
        checkers::kv_digest(kv.iter().copied()),
        fnv1a(b"ab\xffc\xfed\xff\xfe")
    );
    // The whole state's digest goes on over the sessions, a word at a time: client 9, seq 2.
    let mut state = super::kv::Kv::new();
    state.plant("ab", "c");
    let map = fnv1a(b"ab\xffc\xfe");
    assert_eq!(checkers::state_digest(&state), map);
    state.apply(&Request {
        client: 9,
        seq: 2,
        op: get("ab"),
    });
    let word = |h: u64, w: u64| (h ^ w).wrapping_mul(0x100_0000_01b3);
    assert_eq!(checkers::state_digest(&state), word(word(map, 9), 2));
    let mut other = super::kv::Kv::new();
    other.plant("ab", "c");
    other.apply(&Request {
        client: 9,
        seq: 3,
        op: get("ab"),
    });
    assert_ne!(
        checkers::state_digest(&state),
        checkers::state_digest(&other),
        "same map, different sessions"
    );
}

#[test]
fn raft_liveness_checker() {
    let cluster = Cluster::new(3, 0);
    let window = crate::contract::Duration::from_millis(1_000);
    let history = History::default();
    let judge = |c: &mut liveness::RaftLiveness, now_ms: u64, fault_ms: u64, in_force: bool| {
        let e = RunEnd {
            now: Time::from_millis(now_ms),
            last_fault: Some(Time::from_millis(fault_ms)),
            faults_in_force: in_force,
            history: &history,
            roles: &[],
            cluster,
            ended_early: false,
            nodes: &[],
        };
        let mut verdicts = Checker::<RaftActor>::finish(c, &e);
        assert_eq!(verdicts.len(), 1, "one property");
        verdicts.remove(0).1
    };
    let feed = |c: &mut liveness::RaftLiveness, node: NodeId, ms: u64, notes: &[RaftNote]| {
        let (proto, _) = client_harness();
        let actor = proto.new_actor(0);
        let disk = RaftDisk::default();
        c.observe(&Observation {
            event_index: 0,
            now: Time::from_millis(ms),
            node,
            state: &actor,
            durable: &disk,
            notes,
            cluster: &cluster,
        })
        .unwrap();
    };
    let mut c = liveness::RaftLiveness::new(cluster, window);
    feed(&mut c, 0, 100, &[applied(1, 1, 0, 0), applied(2, 1, 9, 1)]);
    feed(&mut c, 1, 150, &[applied(1, 1, 0, 0), applied(2, 1, 9, 1)]);
    feed(&mut c, 0, 4_500, &[applied(3, 1, 9, 2)]); // too recent to be due
    // Node 2 lags behind entries applied long ago: a failure once the window has passed.
    let v = judge(&mut c, 5_000, 2_000, false);
    assert!(
        matches!(&v, Verdict::Fail(m) if m.starts_with("server 2 has applied only up to index 0")),
        "{v:?}"
    );
    // Not judged: too soon after the heal, or a fault still in force.
    assert!(matches!(
        judge(&mut c, 2_500, 2_000, false),
        Verdict::Unknown(_)
    ));
    assert!(matches!(
        judge(&mut c, 5_000, 2_000, true),
        Verdict::Unknown(_)
    ));
    // Node 2 catches up: pass. A restart resets what it has applied.
    feed(
        &mut c,
        2,
        3_000,
        &[applied(1, 1, 0, 0), applied(2, 1, 9, 1)],
    );
    assert_eq!(judge(&mut c, 5_000, 2_000, false), Verdict::Pass);
    feed(
        &mut c,
        1,
        3_100,
        &[RaftNote::Started {
            term: 1,
            last_index: 3,
        }],
    );
    assert!(matches!(
        judge(&mut c, 5_000, 2_000, false),
        Verdict::Fail(_)
    ));
}

// ---------------------------------------------------------------------------------------------
// A randomized soak on the harness: random delivery order, loss, duplication, timer firing, crashes
// and restarts. Correct Raft must never trip a safety checker, and must make progress.

fn soak(seed: u64, mutants: &[&str], steps: usize) -> Harness {
    soak_with(
        seed,
        serde_json::json!({"max_entries_per_append": 3}),
        mutants,
        steps,
    )
}

fn soak_with(seed: u64, params: serde_json::Value, mutants: &[&str], steps: usize) -> Harness {
    let mut h = Harness::new(5, 0, params, mutants);
    let mut r = Rng::stream(seed, "soak");
    let mut seq = 0;
    for _ in 0..steps {
        let dice = r.below(100);
        let n = r.below(5) as NodeId;
        let alive = h.nodes[n as usize].actor.is_some();
        match dice {
            0..=69 if !h.queue.is_empty() => {
                let i = r.below(h.queue.len() as u64) as usize;
                let fate = r.below(20);
                let (from, to, msg) = if fate == 0 {
                    h.queue[i].clone() // duplicate: deliver a copy, keep the original
                } else {
                    h.queue.remove(i).expect("in range")
                };
                if fate != 1 {
                    h.handle(to, Input::Msg(from, msg)); // fate 1: lost
                }
            }
            // Election timeouts are rare next to message deliveries, heartbeats less so.
            70..=79 if alive => {
                let t = if dice < 72 {
                    RaftTimer::Election
                } else {
                    RaftTimer::Heartbeat
                };
                if h.nodes[n as usize].timers.remove(&t).is_some() {
                    h.handle(n, Input::Timer(t));
                }
            }
            80..=91 => {
                // A client request to whoever leads (or a random server).
                let leader = (0..5).find(|id| {
                    h.nodes[*id as usize]
                        .actor
                        .as_ref()
                        .and_then(RaftActor::as_server)
                        .is_some_and(node::Node::is_leader)
                });
                seq += 1;
                let to = leader.unwrap_or(n);
                let op = if seq % 3 == 0 {
                    get("k")
                } else {
                    put("k", &format!("v{seq}"))
                };
                h.handle(
                    to,
                    Input::Msg(9, Msg::ClientRequest(Request { client: 9, seq, op })),
                );
            }
            92 if alive => h.crash(n),
            93..=96 if !alive => h.start(n),
            _ => {}
        }
        if !h.violations.is_empty() {
            break;
        }
    }
    h
}

#[test]
fn soak_correct_raft_is_safe_and_makes_progress() {
    let mut committed = 0;
    for seed in 0..12 {
        let h = soak(seed, &[], 4_000);
        assert!(h.violations.is_empty(), "seed {seed}: {:?}", h.violations);
        committed += (0..5)
            .filter_map(|id| h.nodes[id].actor.as_ref().and_then(RaftActor::as_server))
            .map(node::Node::commit_index)
            .max()
            .unwrap_or(0);
    }
    assert!(committed > 100, "committed only {committed} entries in all");
}

#[test]
fn soak_finds_the_safety_mutants() {
    // Each mutant is found (the soak stops at the first violation), every seed that fails fails at
    // one of the checkers its bug can trip, and on some seed at the one that guards what it breaks
    // (`signature`). A leader elected by a duplicated vote may lack committed entries, which leader
    // completeness sees at once, before a second leader of the same term shows up (the scenario test
    // `count_duplicate_votes_is_caught` in tests/raft_mutants.rs accepts either checker too).
    for (mutant, signature, first_allowed) in [
        (
            "raft.vote_ignores_log",
            "leader_completeness",
            &["leader_completeness", "commit_safety"][..],
        ),
        (
            "raft.count_duplicate_votes",
            "leader_completeness",
            &["election_safety", "leader_completeness"][..],
        ),
        (
            "raft.commit_prior_term",
            "commit_safety",
            &["commit_safety"][..],
        ),
    ] {
        let found: Vec<Vec<&'static str>> = (0..40)
            .map(|seed| soak(seed, &[mutant], 4_000).names())
            .filter(|names| !names.is_empty())
            .collect();
        assert!(!found.is_empty(), "{mutant}: no seed found it");
        assert!(
            found.iter().all(|names| first_allowed.contains(&names[0])),
            "{mutant}: first violations {:?}, expected one of {first_allowed:?}",
            found.iter().map(|n| n[0]).collect::<Vec<_>>()
        );
        assert!(
            found.iter().any(|names| names[0] == signature),
            "{mutant}: {signature} never fired"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Log compaction (§7).

/// Three servers compacting past 3 applied entries; node 2 misses five client requests.
fn lagging_behind_a_snapshot(mutants: &[&str]) -> Harness {
    let mut h = Harness::new(
        3,
        0,
        serde_json::json!({"snapshot_log_entries_max": 3}),
        mutants,
    );
    h.elect(0);
    h.fire(0, RaftTimer::Heartbeat);
    h.deliver_all();
    h.request(0, 9, 1, put("a", "old"));
    h.deliver_all();
    h.fire(0, RaftTimer::Heartbeat);
    h.deliver_all();
    for seq in 2..=6 {
        h.request(0, 9, seq, put("a", &format!("v{seq}")));
        h.deliver_where(|_, to, _| to != 2);
    }
    h
}

#[test]
fn a_follower_behind_the_leaders_snapshot_installs_it() {
    let mut h = lagging_behind_a_snapshot(&[]);
    // The leader has applied 7 entries; it compacted through 4, its applied index once more than 3
    // applied entries sat in its log. Node 2 holds 1..=2 and needs 3: compacted.
    assert_eq!(h.disk(0).log.snapshot_index(), 4);
    assert_eq!(h.disk(0).log.last_index(), 7);
    assert_eq!(h.disk(2).log.last_index(), 2);
    h.take_transcript();
    h.fire(0, RaftTimer::Heartbeat);
    h.deliver_all();
    assert_eq!(
        h.take_transcript(),
        "\
fire 0 Heartbeat
0->1 Append t1 prev=7@t1 [] commit=7
  1: Committed { index: 7 }
  1: applied 7@t1 (9, 6)
0->2 InstallSnapshot t1 last=4@t1 kv=[(\"a\", \"v3\")]
  2: SnapshotInstalled { index: 4, term: 1, kept_suffix: false }
1->0 AppendOk t1 match=7
2->0 InstallSnapshotReply t1 match=4
0->2 Append t1 prev=4@t1 [t1 c9#4, t1 c9#5, t1 c9#6] commit=7
  2: appended 5@t1 (9, 4)
  2: appended 6@t1 (9, 5)
  2: appended 7@t1 (9, 6)
  2: Committed { index: 7 }
  2: applied 5@t1 (9, 4)
  2: applied 6@t1 (9, 5)
  2: applied 7@t1 (9, 6)
2->0 AppendOk t1 match=7
"
    );
    assert_eq!(h.server(2).kv().get("a").map(|v| &**v), Some("v6"));
    assert_eq!(h.server(2).last_applied(), 7);
    assert_eq!(h.disk(2).snapshot.as_ref().map(|s| s.last_index), Some(4));
    // Replication carries on from the snapshot.
    h.request(0, 9, 7, put("a", "v7"));
    h.deliver_all();
    h.fire(0, RaftTimer::Heartbeat);
    h.deliver_all();
    assert_eq!(h.server(2).last_applied(), 8);
    assert_eq!(h.server(2).kv().get("a").map(|v| &**v), Some("v7"));
    h.assert_clean();
}

#[test]
fn install_snapshot_keeps_state_is_caught_by_state_machine_safety() {
    let mut h = lagging_behind_a_snapshot(&["raft.install_snapshot_keeps_state"]);
    h.fire(0, RaftTimer::Heartbeat);
    h.deliver_all();
    assert_eq!(
        h.names().first(),
        Some(&"state_machine_safety"),
        "{}",
        h.transcript
    );
    assert!(
        h.violations[0]
            .1
            .contains("after applying index 4, node 2's key-value state differs"),
        "{:?}",
        h.violations
    );
}

#[test]
fn a_restarted_server_restores_its_snapshot_and_replays_the_rest() {
    let mut h = Harness::new(
        3,
        0,
        serde_json::json!({"snapshot_log_entries_max": 2}),
        &[],
    );
    h.elect(0);
    for seq in 1..=4 {
        h.request(0, 9, seq, put("k", &seq.to_string()));
        h.deliver_all();
    }
    h.fire(0, RaftTimer::Heartbeat);
    h.deliver_all();
    // Follower 1 applied 1..=5 and compacted through 4 (more than 2 applied entries past 0, then
    // past 3): its disk holds the snapshot and the rest of the log.
    let base = h.disk(1).log.snapshot_index();
    assert!(base >= 3, "snapshot through {base}");
    let kv_before = h.server(1).kv().clone();
    h.crash(1);
    h.take_transcript();
    h.start(1);
    let t = h.take_transcript();
    assert!(
        t.contains(&format!("1: SnapshotRestored {{ index: {base}, term: 1 }}")),
        "{t}"
    );
    assert_eq!(h.server(1).last_applied(), base);
    h.fire(0, RaftTimer::Heartbeat);
    h.deliver_all();
    assert_eq!(h.server(1).last_applied(), 5);
    assert_eq!(h.server(1).kv(), &kv_before);
    h.assert_clean();
}

#[test]
fn a_stale_or_duplicated_install_changes_nothing() {
    let mut h = lagging_behind_a_snapshot(&[]);
    h.fire(0, RaftTimer::Heartbeat);
    let install = h
        .queue
        .iter()
        .find(|(_, to, _)| *to == 2)
        .cloned()
        .expect("an InstallSnapshot");
    h.deliver_all();
    h.request(0, 9, 7, put("a", "v7"));
    h.deliver_all();
    h.fire(0, RaftTimer::Heartbeat);
    h.deliver_all();
    let log_before = h.disk(2).log.clone();
    h.take_transcript();
    h.handle(2, Input::Msg(install.0, install.2));
    assert_eq!(h.disk(2).log, log_before);
    assert_eq!(h.server(2).last_applied(), 8);
    assert!(!h.take_transcript().contains("SnapshotInstalled"));
    h.assert_clean();
}

#[test]
fn a_follower_holding_the_snapshots_last_entry_keeps_its_suffix() {
    let mut h = Harness::servers(3);
    h.elect(0);
    h.request(0, 9, 1, put("a", "1"));
    h.deliver_all();
    // Node 1 gets 3 and 4 but learns a commit index of 2 only; 3 is committed (nodes 0 and 1 hold
    // it in its term), 4 is not.
    h.request(0, 9, 2, put("a", "2"));
    h.request(0, 9, 3, put("a", "3"));
    h.deliver_where(|_, to, m| to == 1 && matches!(m, Msg::AppendEntries { .. }));
    assert_eq!(h.disk(1).log.last_index(), 4);
    assert_eq!(h.server(1).commit_index(), 2);
    // What a leader that compacted through 3 sends: the state after applying 1..=3.
    let mut state = super::kv::Kv::new();
    for (seq, v) in [(1, "1"), (2, "2")] {
        state.apply(&Request {
            client: 9,
            seq,
            op: put("a", v),
        });
    }
    let snapshot = std::sync::Arc::new(super::snapshot::Snapshot {
        last_index: 3,
        last_term: 1,
        state,
    });
    h.take_transcript();
    h.handle(1, Input::Msg(0, Msg::InstallSnapshot { term: 1, snapshot }));
    let t = h.take_transcript();
    assert!(
        t.contains("SnapshotInstalled { index: 3, term: 1, kept_suffix: true }"),
        "{t}"
    );
    assert_eq!(h.disk(1).log.snapshot_index(), 3);
    assert_eq!(h.disk(1).log.last_index(), 4);
    assert_eq!(h.server(1).kv().get("a").map(|v| &**v), Some("2"));
    h.assert_clean();
}

#[test]
fn soak_with_snapshots_is_safe_and_the_ghosts_stay_small() {
    let params = serde_json::json!({"max_entries_per_append": 3, "snapshot_log_entries_max": 4});
    let mut installed = 0;
    for seed in 0..12 {
        let h = soak_with(seed, params.clone(), &[], 4_000);
        assert!(h.violations.is_empty(), "seed {seed}: {:?}", h.violations);
        installed += h.transcript.matches("SnapshotInstalled").count();
    }
    assert!(installed > 0, "no soak installed a snapshot");
}

#[test]
fn soak_finds_install_snapshot_keeps_state() {
    let params = serde_json::json!({"max_entries_per_append": 3, "snapshot_log_entries_max": 4});
    let found: Vec<Vec<&'static str>> = (0..20)
        .map(|seed| {
            soak_with(
                seed,
                params.clone(),
                &["raft.install_snapshot_keeps_state"],
                4_000,
            )
            .names()
        })
        .filter(|names| !names.is_empty())
        .collect();
    assert!(!found.is_empty(), "no seed found it");
    assert!(
        found.iter().all(|names| names[0] == "state_machine_safety"),
        "{found:?}"
    );
}

#[test]
fn snapshot_checkers_on_hand_made_notes() {
    let taken = |index, term| RaftNote::SnapshotTaken { index, term };
    let installed = |index, term, kept_suffix| RaftNote::SnapshotInstalled {
        index,
        term,
        kept_suffix,
    };
    // A snapshot of an entry no majority holds is caught as commit safety.
    let mut c = checkers::GhostLogs::new(Cluster::new(3, 0));
    let mut f = Feed::new(3);
    f.feed(&mut c, 0, 1, &[LEADER(1), app(1, 1, 0, 0)])
        .expect("ok");
    f.disks[0].server.log.compact_through(1);
    let e = f
        .feed_one(&mut c, 0, 1, &[taken(1, 1)])
        .expect_err("uncommitted");
    assert_eq!(e.property, Some("commit_safety"), "{}", e.message);
    assert!(e.message.contains("not committed"), "{}", e.message);

    // Committed, then compacted: fine; the same snapshot installed elsewhere is fine too, and one
    // through an index no majority committed is not.
    let mut c = checkers::GhostLogs::new(Cluster::new(3, 0));
    let mut f = Feed::new(3);
    f.feed(&mut c, 0, 1, &[LEADER(1), app(1, 1, 0, 0), app(2, 1, 9, 1)])
        .expect("ok");
    f.feed(&mut c, 1, 1, &[app(1, 1, 0, 0), app(2, 1, 9, 1)])
        .expect("ok");
    f.disks[0].server.log.compact_through(2);
    f.feed(&mut c, 0, 1, &[taken(2, 1)]).expect("committed");
    f.disks[2].server.log.reset_to_snapshot(2, 1);
    f.feed(&mut c, 2, 1, &[installed(2, 1, false)])
        .expect("committed");
    f.feed(&mut c, 0, 1, &[app(3, 1, 9, 2)]).expect("ok");
    f.disks[2]
        .server
        .log
        .append(Entry::new(1, Command::Noop { leader: 0 }));
    let e = f
        .feed_one(&mut c, 2, 1, &[app(3, 1, 0, 0)])
        .expect_err("differs from node 0's entry 3");
    assert_eq!(e.property, Some("log_matching"), "{}", e.message);
    let mut f2 = Feed::new(3);
    let mut c2 = checkers::GhostLogs::new(Cluster::new(3, 0));
    f2.feed(&mut c2, 0, 1, &[LEADER(1), app(1, 1, 0, 0)])
        .expect("ok");
    f2.disks[1].server.log.reset_to_snapshot(1, 1);
    let e = f2
        .feed_one(&mut c2, 1, 1, &[installed(1, 1, false)])
        .expect_err("not committed");
    assert_eq!(e.property, Some("commit_safety"), "{}", e.message);

    // A leader never installs a snapshot.
    let mut c = checkers::LeaderAppendOnly::new(Cluster::new(3, 0));
    let mut f = Feed::new(3);
    f.feed(&mut c, 0, 1, &[LEADER(1)]).expect("ok");
    let e = f
        .feed(&mut c, 0, 1, &[installed(5, 1, false)])
        .expect_err("a leader replaced its log");
    assert!(e.contains("replaced its log with a snapshot"), "{e}");

    // State machine safety: a snapshot past the applied index is caught.
    let mut c = checkers::StateMachineSafety::new(Cluster::new(3, 0));
    let mut f = Feed::new(3);
    f.feed(&mut c, 0, 1, &[applied(1, 1, 0, 0)]).expect("ok");
    let e = f
        .feed(&mut c, 0, 1, &[taken(2, 1)])
        .expect_err("not applied");
    assert!(e.contains("has applied only up to 1"), "{e}");
}

#[test]
fn the_ghosts_are_pruned_below_every_servers_snapshot() {
    // A long run with compaction: the checkers' records stay near the compaction threshold, not the
    // length of the log.
    let mut h = Harness::new(
        3,
        0,
        serde_json::json!({"snapshot_log_entries_max": 10}),
        &[],
    );
    let cluster = Cluster::new(3, 0);
    let (ghost, c1) = shared(checkers::GhostLogs::new(cluster));
    let (machines, c2) = shared(checkers::StateMachineSafety::new(cluster));
    let (live, c3) = shared(super::liveness::RaftLiveness::new(
        cluster,
        crate::contract::Duration::from_millis(5),
    ));
    h.checkers.extend([c1, c2, c3]);
    h.elect(0);
    for seq in 1..=300 {
        h.request(0, 9, seq, put("k", &seq.to_string()));
        h.deliver_all();
    }
    h.fire(0, RaftTimer::Heartbeat);
    h.deliver_all();
    h.assert_clean();
    assert!(h.disk(2).log.snapshot_index() > 280);
    let ghost = ghost.borrow().retained_records();
    let machines = machines.borrow().retained_records();
    let live = live.borrow().retained_records();
    assert!(ghost < 150, "the ghost logs keep {ghost} records");
    assert!(
        machines < 40,
        "state machine safety keeps {machines} records"
    );
    assert!(live < 10, "raft_liveness keeps {live} records");
}

/// A checker the test keeps a handle on (the harness owns its checkers as trait objects).
struct Shared<C>(std::rc::Rc<std::cell::RefCell<C>>);

impl<C: Checker<RaftActor>> Checker<RaftActor> for Shared<C> {
    fn name(&self) -> &'static str {
        self.0.borrow().name()
    }
    fn properties(&self) -> Vec<&'static str> {
        self.0.borrow().properties()
    }
    fn observe(&mut self, obs: &Observation<'_, RaftActor>) -> Result<(), Failure> {
        self.0.borrow_mut().observe(obs)
    }
}

fn shared<C: Checker<RaftActor> + 'static>(
    c: C,
) -> (
    std::rc::Rc<std::cell::RefCell<C>>,
    Box<dyn Checker<RaftActor>>,
) {
    let rc = std::rc::Rc::new(std::cell::RefCell::new(c));
    (rc.clone(), Box::new(Shared(rc)))
}
