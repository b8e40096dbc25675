//! Unit tests on a tiny private driver: every message is delivered in the order sent, a timer fires
//! after everything queued before it, and a crash replaces the actor and drops its timers.

use super::checker::sequential_count;
use super::message::{Msg, Task, Timer};
use super::{MapReduce, MapReduceNode, MrDisk, MrNote};
use crate::contract::{Actor, Cluster, Ctx, Effect, NodeId, Protocol, Rng, Setup, Time};
use serde_json::json;
use std::collections::VecDeque;

enum Event {
    Start,
    Msg(NodeId, Msg),
    Timer(Timer),
}

struct Driver {
    protocol: MapReduce,
    cluster: Cluster,
    nodes: Vec<MapReduceNode>,
    disks: Vec<MrDisk>,
    rngs: Vec<Rng>,
    queue: VecDeque<(NodeId, Event)>,
    notes: Vec<(NodeId, MrNote)>,
    steps: u64,
}

impl Driver {
    fn new(workers: u32, params: serde_json::Value, mutants: &[&str]) -> Driver {
        let cluster = Cluster::with_groups(&[("master", 1), ("workers", workers)], 0).unwrap();
        let mutants: Vec<String> = mutants.iter().map(|m| m.to_string()).collect();
        let protocol = MapReduce::setup(&Setup {
            cluster,
            params: &params,
            mutants: &mutants,
        })
        .expect("valid setup");
        let n = cluster.node_count();
        let mut d = Driver {
            nodes: (0..n).map(|id| protocol.new_actor(id)).collect(),
            disks: vec![MrDisk::default(); n as usize],
            rngs: (0..n)
                .map(|id| Rng::stream(1, &format!("node/{id}")))
                .collect(),
            protocol,
            cluster,
            queue: (0..n).map(|id| (id, Event::Start)).collect(),
            notes: Vec::new(),
            steps: 0,
        };
        d.queue.make_contiguous();
        d
    }

    fn step(&mut self) -> bool {
        let Some((node, event)) = self.queue.pop_front() else {
            return false;
        };
        self.steps += 1;
        let i = node as usize;
        let mut effects = Vec::new();
        let mut ctx = Ctx::new(
            node,
            Time(self.steps),
            &self.cluster,
            &mut self.rngs[i],
            &mut self.disks[i],
            &mut effects,
        );
        match event {
            Event::Start => self.nodes[i].on_start(&mut ctx),
            Event::Msg(from, msg) => self.nodes[i].on_msg(&mut ctx, from, msg),
            Event::Timer(t) => self.nodes[i].on_timer(&mut ctx, t),
        }
        for e in effects {
            match e {
                Effect::Send { to, msg } => self.queue.push_back((to, Event::Msg(node, msg))),
                Effect::SetTimer { timer, .. } => {
                    self.drop_timer(node, &timer);
                    self.queue.push_back((node, Event::Timer(timer)));
                }
                Effect::CancelTimer { timer } => self.drop_timer(node, &timer),
                Effect::Note(n) => self.notes.push((node, n)),
                Effect::Record(_) => unreachable!("MapReduce records no history"),
            }
        }
        true
    }

    fn drop_timer(&mut self, node: NodeId, timer: &Timer) {
        self.queue
            .retain(|(n, e)| !(*n == node && matches!(e, Event::Timer(t) if t == timer)));
    }

    fn crash_and_restart(&mut self, node: NodeId) {
        self.queue
            .retain(|(n, e)| !(*n == node && matches!(e, Event::Timer(_))));
        self.nodes[node as usize] = self.protocol.new_actor(node);
        self.queue.push_back((node, Event::Start));
    }

    fn done(&self) -> bool {
        self.disks[0].master.done
    }

    fn run_until_done(&mut self, steps_max: u64) -> bool {
        while !self.done() && self.steps < steps_max && self.step() {}
        self.done()
    }

    fn first_map_completer(&self) -> Option<NodeId> {
        self.notes.iter().find_map(|(_, n)| match n {
            MrNote::Completed {
                task: Task::Map { .. },
                worker,
                ..
            } => Some(*worker),
            _ => None,
        })
    }
}

#[test]
fn the_job_counts_every_word_exactly() {
    let params = json!({"documents": 12, "words_per_document": 20, "vocabulary": 30,
        "map_tasks": 5, "reduce_tasks": 3});
    let mut d = Driver::new(3, params.clone(), &[]);
    assert!(d.run_until_done(100_000), "the job finishes");
    let want = sequential_count(&super::params::MapReduceParams::parse(&params).unwrap());
    let got: Vec<_> = d.disks[0]
        .master
        .outputs
        .iter()
        .cloned()
        .map(Option::unwrap)
        .collect();
    assert_eq!(got, want);
    assert_eq!(d.disks[0].master.stats.maps_reexecuted, 0);
}

#[test]
fn a_restarted_worker_s_completed_maps_are_re_executed() {
    let params = json!({"documents": 12, "map_tasks": 6, "reduce_tasks": 2});
    let mut d = Driver::new(2, params.clone(), &[]);
    while d.first_map_completer().is_none() {
        assert!(d.step());
    }
    let victim = d.first_map_completer().unwrap();
    d.crash_and_restart(victim);
    assert!(d.run_until_done(100_000), "the job finishes");
    let want = sequential_count(&super::params::MapReduceParams::parse(&params).unwrap());
    let got: Vec<_> = d.disks[0]
        .master
        .outputs
        .iter()
        .cloned()
        .map(Option::unwrap)
        .collect();
    assert_eq!(got, want);
    assert!(d.disks[0].master.stats.maps_reexecuted >= 1);
    assert!(d.notes.iter().any(|(_, n)| matches!(n,
        MrNote::WorkerFailed { worker, reason: "restarted", reset } if *worker == victim && !reset.is_empty())));
}

#[test]
fn without_re_execution_the_lost_map_output_stalls_the_job() {
    let params = json!({"documents": 12, "map_tasks": 6, "reduce_tasks": 2});
    let mut d = Driver::new(2, params, &["mapreduce.no_reexecute_completed_maps"]);
    while d.first_map_completer().is_none() {
        assert!(d.step());
    }
    let victim = d.first_map_completer().unwrap();
    d.crash_and_restart(victim);
    assert!(!d.run_until_done(50_000), "the job cannot finish");
    assert!(d.disks[0].master.stats.fetch_failures > 0);
}
