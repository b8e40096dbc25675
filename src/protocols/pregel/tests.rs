//! The output check on its own: a tiny private simulator (time-ordered, a fixed latency per message
//! drawn from its own stream, crashes and restarts on request, no checker in the loop) runs a job to
//! the end, and only then are the workers' outputs held to the sequential reference. This shows that
//! `vertex_values` alone catches both planted bugs (in full runs `barrier` and `rollback` see them
//! first and stop the run) and passes the correct protocol, crashes included.

use super::checkers::PregelChecker;
use super::message::{Msg, Timer};
use super::*;
use crate::contract::{Cluster, Effect, Rng, Time};
use std::collections::BTreeMap;

enum Event {
    Deliver {
        from: NodeId,
        to: NodeId,
        msg: Msg,
    },
    Fire {
        node: NodeId,
        timer: Timer,
        generation: u64,
    },
    Crash(NodeId),
    Restart(NodeId),
}

struct Node {
    actor: Option<PregelActor>,
    disk: PregelDisk,
    rng: Rng,
    /// Timers set: tag and the generation that may fire it.
    timers: Vec<(Timer, u64)>,
}

struct Sim {
    proto: Pregel,
    cluster: Cluster,
    nodes: Vec<Node>,
    queue: BTreeMap<(Time, u64), Event>,
    seq: u64,
    now: Time,
    net: Rng,
}

impl Sim {
    fn new(workers: u32, params: serde_json::Value, mutants: &[&str]) -> Sim {
        let cluster = Cluster::with_groups(&[("master", 1), ("workers", workers)], 0).unwrap();
        let mutants: Vec<String> = mutants.iter().map(|m| m.to_string()).collect();
        let proto = Pregel::setup(&Setup {
            cluster,
            params: &params,
            mutants: &mutants,
        })
        .expect("valid setup");
        let nodes = (0..cluster.node_count())
            .map(|id| Node {
                actor: None,
                disk: PregelDisk::default(),
                rng: Rng::stream(1, &format!("node/{id}")),
                timers: Vec::new(),
            })
            .collect();
        let mut sim = Sim {
            proto,
            cluster,
            nodes,
            queue: BTreeMap::new(),
            seq: 0,
            now: Time::ZERO,
            net: Rng::stream(1, "test/net"),
        };
        for id in 0..cluster.node_count() {
            sim.schedule(Time::ZERO, Event::Restart(id));
        }
        sim
    }

    fn schedule(&mut self, at: Time, event: Event) {
        self.seq += 1;
        self.queue.insert((at, self.seq), event);
    }

    /// Runs one handler of `id` and applies its effects.
    fn handle(&mut self, id: NodeId, f: impl FnOnce(&mut PregelActor, &mut Ctx<'_, PregelActor>)) {
        let node = &mut self.nodes[id as usize];
        let Some(actor) = node.actor.as_mut() else {
            return;
        };
        let mut effects = Vec::new();
        let mut ctx = Ctx::new(
            id,
            self.now,
            &self.cluster,
            &mut node.rng,
            &mut node.disk,
            &mut effects,
        );
        f(actor, &mut ctx);
        for effect in effects {
            match effect {
                Effect::Send { to, msg } => {
                    let at = self.now + Duration::from_millis(self.net.between(1, 10));
                    self.schedule(at, Event::Deliver { from: id, to, msg });
                }
                Effect::SetTimer { timer, after } => {
                    self.seq += 1;
                    let generation = self.seq;
                    let timers = &mut self.nodes[id as usize].timers;
                    timers.retain(|(t, _)| *t != timer);
                    timers.push((timer.clone(), generation));
                    self.queue.insert(
                        (self.now + after, generation),
                        Event::Fire {
                            node: id,
                            timer,
                            generation,
                        },
                    );
                }
                Effect::CancelTimer { timer } => {
                    self.nodes[id as usize].timers.retain(|(t, _)| *t != timer);
                }
                Effect::Note(_) | Effect::Record(_) => {}
            }
        }
    }

    /// Runs until nothing is left to do (the master stops its timers when the job is over).
    fn run(&mut self, limit: Time) {
        while let Some(((at, _), _)) = self.queue.first_key_value() {
            assert!(*at <= limit, "the job is still running at {at}");
            self.step();
        }
    }

    /// Runs every event up to `until`.
    fn run_until(&mut self, until: Time) {
        while self
            .queue
            .first_key_value()
            .is_some_and(|((at, _), _)| *at <= until)
        {
            self.step();
        }
    }

    /// Handles the next event.
    fn step(&mut self) {
        if let Some(((at, _), event)) = self.queue.pop_first() {
            self.now = at;
            match event {
                Event::Deliver { from, to, msg } => {
                    self.handle(to, |a, ctx| a.on_msg(ctx, from, msg));
                }
                Event::Fire {
                    node,
                    timer,
                    generation,
                } => {
                    let timers = &mut self.nodes[node as usize].timers;
                    let Some(i) = timers.iter().position(|(_, g)| *g == generation) else {
                        return;
                    };
                    timers.remove(i);
                    self.handle(node, |a, ctx| a.on_timer(ctx, timer));
                }
                Event::Crash(id) => {
                    let node = &mut self.nodes[id as usize];
                    node.actor = None;
                    node.timers.clear();
                }
                Event::Restart(id) => {
                    self.nodes[id as usize].actor = Some(self.proto.new_actor(id));
                    self.handle(id, |a, ctx| a.on_start(ctx));
                }
            }
        }
    }

    /// Every worker's output judged by `vertex_values` alone, and every vertex output once.
    fn judge_outputs(&self) -> Result<(), String> {
        let params = self.proto.params();
        let graph = Arc::new(self.proto.graph().clone());
        let workers = 1..self.cluster.servers;
        let mut checker = PregelChecker::new(params, graph, 0, workers.clone());
        let mut seen = 0;
        for w in workers {
            let output = self.nodes[w as usize]
                .disk
                .worker
                .output
                .as_ref()
                .ok_or(format!("worker {w} wrote no output"))?;
            checker.check_output(w, output).map_err(|f| f.message)?;
            seen += output.len();
        }
        assert_eq!(seen, params.vertices as usize);
        Ok(())
    }
}

fn params(program: &str) -> serde_json::Value {
    serde_json::json!({
        "program": program,
        "vertices": 60,
        "edges_per_vertex": 3,
        "pagerank_iterations": 20,
        "checkpoint_every": 3,
    })
}

/// Crashes worker 2 at 150 ms and restarts it at 400 ms.
fn crash_a_worker(sim: &mut Sim) {
    sim.schedule(Time::from_millis(150), Event::Crash(2));
    sim.schedule(Time::from_millis(400), Event::Restart(2));
}

#[test]
fn the_correct_protocol_outputs_the_reference_with_and_without_a_crash() {
    for program in ["pagerank", "sssp"] {
        let mut sim = Sim::new(3, params(program), &[]);
        sim.run(Time::from_millis(20_000));
        assert_eq!(sim.judge_outputs(), Ok(()), "{program}");
        let mut sim = Sim::new(3, params(program), &[]);
        crash_a_worker(&mut sim);
        sim.run(Time::from_millis(20_000));
        assert_eq!(sim.judge_outputs(), Ok(()), "{program} with a crash");
        assert!(
            sim.nodes[0].disk.master.rollbacks >= 1,
            "{program}: no rollback"
        );
    }
}

#[test]
fn vertex_values_alone_catches_no_barrier() {
    for program in ["pagerank", "sssp"] {
        let mut sim = Sim::new(3, params(program), &["pregel.no_barrier"]);
        sim.run(Time::from_millis(20_000));
        let verdict = sim.judge_outputs();
        assert!(
            verdict.as_ref().is_err_and(|m| m.contains("vertex")),
            "{program}: {verdict:?}"
        );
    }
}

#[test]
fn vertex_values_alone_catches_skip_rollback() {
    let mut sim = Sim::new(3, params("pagerank"), &["pregel.skip_rollback"]);
    crash_a_worker(&mut sim);
    sim.run(Time::from_millis(20_000));
    let verdict = sim.judge_outputs();
    assert!(
        verdict
            .as_ref()
            .is_err_and(|m| m.contains("sequential PageRank")),
        "{verdict:?}"
    );
}

#[test]
fn a_late_duplicate_load_after_a_restart_does_not_cost_the_next_rollback_target() {
    // Epoch 1's `Load` of the input, delivered again to worker 2 just after it restarts: it loads the
    // input (its disk says epoch 1, so the command is not stale to it), and must keep the later
    // checkpoints, one of which the master's rollback for the restart is about to ask for.
    let mut p = params("pagerank");
    p["checkpoint_every"] = serde_json::json!(2);
    let mut sim = Sim::new(3, p, &[]);
    crash_a_worker(&mut sim);
    sim.schedule(
        Time::from_millis(400) + Duration::from_nanos(1),
        Event::Deliver {
            from: 0,
            to: 2,
            msg: Msg::Load {
                epoch: 1,
                checkpoint: None,
            },
        },
    );
    sim.run(Time::from_millis(20_000));
    assert_eq!(sim.judge_outputs(), Ok(()));
    let master = &sim.nodes[0].disk.master;
    assert!(
        master.rollbacks >= 1 && master.finished.is_some(),
        "{master:?}"
    );
}

#[test]
fn a_restarted_worker_ignores_late_commands_to_its_former_self() {
    // After worker 2 restarts, late copies of epoch 1's input load and first start reach it. It may
    // load (harmless: the master asks again for the epoch it is in) but must not run a superstep
    // for the master's record of its former incarnation.
    let mut sim = Sim::new(3, params("sssp"), &[]);
    crash_a_worker(&mut sim);
    let after = Time::from_millis(400);
    for (i, msg) in [
        Msg::Load {
            epoch: 1,
            checkpoint: None,
        },
        Msg::Start {
            epoch: 1,
            superstep: 0,
            committed: None,
            incarnation: 1,
        },
    ]
    .into_iter()
    .enumerate()
    {
        let at = after + Duration::from_nanos(1 + i as u64);
        sim.schedule(
            at,
            Event::Deliver {
                from: 0,
                to: 2,
                msg,
            },
        );
    }
    sim.run(Time::from_millis(20_000));
    assert_eq!(sim.judge_outputs(), Ok(()));
    // Stopped by hand just after the late start: the worker loaded the input but ran nothing.
    let mut sim = Sim::new(3, params("sssp"), &[]);
    crash_a_worker(&mut sim);
    sim.schedule(
        after + Duration::from_nanos(1),
        Event::Deliver {
            from: 0,
            to: 2,
            msg: Msg::Load {
                epoch: 1,
                checkpoint: None,
            },
        },
    );
    sim.schedule(
        after + Duration::from_nanos(2),
        Event::Deliver {
            from: 0,
            to: 2,
            msg: Msg::Start {
                epoch: 1,
                superstep: 0,
                committed: None,
                incarnation: 1,
            },
        },
    );
    sim.run_until(after + Duration::from_nanos(2));
    let Some(PregelActor::Worker(w)) = &sim.nodes[2].actor else {
        panic!("worker 2 is up");
    };
    let (epoch, state) = w.loaded().expect("it loaded the late input");
    assert_eq!((epoch, state.superstep, state.computed), (1, 0, false));
}
