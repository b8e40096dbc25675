//! Simulated events per second: the engine with no-op actors (ping-pong) and with Raft, tracing off
//! and on, next to a bare baseline: a `BinaryHeap` + ChaCha8 loop that moves the same number of small
//! messages between node inboxes with nothing else around it. The ratios say what the engine's
//! generality costs. Targets: no-op engine >= 0.5x the bare loop; Raft with tracing off >= 0.25x.

use criterion::{Criterion, Throughput, criterion_group};
use distsim::run::{RunOptions, run};
use distsim::scenario::{Scenario, Source, load, parse};
use distsim::trace::TraceOutput;
use rand_chacha::ChaCha8Rng;
use rand_core::{RngCore, SeedableRng};
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::hint::black_box;
use std::path::Path;

const NOOP: &str = r#"{
  "name": "bench_noop", "protocol": "pingpong", "seed": 1, "nodes": 16,
  "max_time_ms": 20000, "network": { "delay_ms_min": 1, "delay_ms_max": 10 },
  "params": { "interval_ms": 5 }
}"#;

fn noop() -> (Scenario, Source) {
    parse(NOOP.as_bytes(), "bench_noop.json").unwrap()
}

fn raft() -> Option<(Scenario, Source)> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/raft_partition.json");
    path.exists().then(|| load(&path).unwrap())
}

fn events(s: &(Scenario, Source), trace: TraceOutput) -> u64 {
    let opts = RunOptions { seed: None, trace };
    run(&s.0, Some(&s.1), &opts).unwrap().report.counts.events
}

/// The bare loop: the ping-pong workload with nothing around it. Each of `nodes` nodes ticks every
/// 5 ms and pings a random other node; a ping is answered by a pong; a pong bumps the receiver's inbox
/// counter. Events sit in a `BinaryHeap` ordered by (time, seq) and every draw comes from one ChaCha8
/// stream, as in the engine, but there are no actors, effects, timers tables, traces or checkers.
fn bare_loop(nodes: u64, events: u64) -> u64 {
    const TICK: u8 = 0;
    const PING: u8 = 1;
    const PONG: u8 = 2;
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let mut heap = BinaryHeap::with_capacity(1024);
    let mut inbox = vec![0u64; nodes as usize];
    let mut seq = 0u64;
    let mut push = |heap: &mut BinaryHeap<_>, t: u64, node: u64, kind: u8, from: u64| {
        heap.push(Reverse((t, seq, node, kind, from)));
        seq += 1;
    };
    for n in 0..nodes {
        let first = rng.next_u64() % 5_000_000;
        push(&mut heap, first, n, TICK, n);
    }
    for _ in 0..events {
        let Some(Reverse((t, _, node, kind, from))) = heap.pop() else {
            break;
        };
        match kind {
            TICK => {
                let pick = rng.next_u64() % (nodes - 1);
                let to = if pick >= node { pick + 1 } else { pick };
                let latency = 1_000_000 + rng.next_u64() % 9_000_001;
                push(&mut heap, t + latency, to, PING, node);
                push(&mut heap, t + 5_000_000, node, TICK, node);
            }
            PING => {
                let latency = 1_000_000 + rng.next_u64() % 9_000_001;
                push(&mut heap, t + latency, from, PONG, node);
            }
            _ => inbox[node as usize] += 1,
        }
    }
    inbox.iter().sum()
}

fn bench(c: &mut Criterion) {
    let noop = noop();
    let noop_events = events(&noop, TraceOutput::Off);
    let mut g = c.benchmark_group("engine");
    g.sample_size(10);
    g.throughput(Throughput::Elements(noop_events));
    g.bench_function("bare_loop", |b| {
        b.iter(|| black_box(bare_loop(16, noop_events)))
    });
    g.bench_function("noop_trace_off", |b| {
        b.iter(|| black_box(events(&noop, TraceOutput::Off)))
    });
    if let Some(raft) = raft() {
        let raft_events = events(&raft, TraceOutput::Off);
        g.throughput(Throughput::Elements(raft_events));
        g.bench_function("raft_trace_off", |b| {
            b.iter(|| black_box(events(&raft, TraceOutput::Off)))
        });
        g.bench_function("raft_trace_digest", |b| {
            b.iter(|| black_box(events(&raft, TraceOutput::Digest)))
        });
    }
    g.finish();
}

/// Something to time: returns the number of events it simulated.
type Contender = Box<dyn Fn() -> u64>;

/// Prints events/s for each and the ratios to the bare loop. Wall-clock time on a shared VM jitters by
/// tens of percent, so every contender runs `ROUNDS` times, interleaved round-robin so that slow
/// spells hit them all alike, and the best time of each is kept.
#[allow(clippy::disallowed_methods, clippy::disallowed_types)] // determinism-ok: bench timing only
fn ratios() {
    use std::time::Instant;
    const ROUNDS: usize = 15;
    let noop = noop();
    let raft = raft();
    let n = events(&noop, TraceOutput::Off);
    let mut contenders: Vec<(&str, Contender)> = vec![
        (
            "bare loop",
            Box::new(move || {
                black_box(bare_loop(16, n));
                n
            }),
        ),
        (
            "no-op engine",
            Box::new(move || events(&noop, TraceOutput::Off)),
        ),
    ];
    if let Some(raft) = raft {
        let r2 = raft.clone();
        contenders.push((
            "raft, trace off",
            Box::new(move || events(&raft, TraceOutput::Off)),
        ));
        contenders.push((
            "raft, trace digest",
            Box::new(move || events(&r2, TraceOutput::Digest)),
        ));
    }
    let mut best = vec![(0u64, f64::INFINITY); contenders.len()];
    for _ in 0..ROUNDS {
        for (i, (_, f)) in contenders.iter().enumerate() {
            let t = Instant::now();
            let events = black_box(f());
            let secs = t.elapsed().as_secs_f64();
            if secs < best[i].1 {
                best[i] = (events, secs);
            }
        }
    }
    let eps: Vec<f64> = best.iter().map(|(e, s)| *e as f64 / s).collect();
    println!("\nevents/s (best of {ROUNDS}, interleaved)");
    for (i, (name, _)) in contenders.iter().enumerate() {
        let target = match *name {
            "no-op engine" => " (target >= 0.5)",
            "raft, trace off" => " (target >= 0.25)",
            _ => "",
        };
        println!(
            "  {name:<20} {:>14.0}   ratio {:.2}{target}",
            eps[i],
            eps[i] / eps[0]
        );
    }
}

criterion_group!(benches, bench);

fn main() {
    benches();
    ratios();
    Criterion::default().configure_from_args().final_summary();
}
