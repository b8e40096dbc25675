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

/// Prints events/s for each and the ratios to the bare loop (best of a few runs, wall-clock).
#[allow(clippy::disallowed_methods, clippy::disallowed_types)] // determinism-ok: bench timing only
fn ratios() {
    use std::time::Instant;
    let best = |f: &dyn Fn() -> u64| {
        (0..5)
            .map(|_| {
                let t = Instant::now();
                let n = black_box(f());
                (n, t.elapsed().as_secs_f64())
            })
            .min_by(|a, b| a.1.total_cmp(&b.1))
            .unwrap()
    };
    let noop = noop();
    let n = events(&noop, TraceOutput::Off);
    let (_, bare_s) = best(&|| {
        bare_loop(16, n);
        n
    });
    let (_, noop_s) = best(&|| events(&noop, TraceOutput::Off));
    let bare_eps = n as f64 / bare_s;
    println!("\nevents/s (best of 5, {n} events)");
    println!("  bare loop            {bare_eps:>14.0}");
    println!(
        "  no-op engine         {:>14.0}   ratio {:.2} (target >= 0.5)",
        n as f64 / noop_s,
        bare_s / noop_s
    );
    if let Some(raft) = raft() {
        for (name, trace) in [
            ("raft, trace off", TraceOutput::Off),
            ("raft, trace digest", TraceOutput::Digest),
        ] {
            let (events, secs) = best(&|| events(&raft, trace.clone()));
            let eps = events as f64 / secs;
            println!(
                "  {name:<20} {eps:>14.0}   ratio {:.2}{}",
                eps / bare_eps,
                if matches!(trace, TraceOutput::Off) {
                    " (target >= 0.25)"
                } else {
                    ""
                }
            );
        }
    }
}

criterion_group!(benches, bench);

fn main() {
    benches();
    ratios();
    Criterion::default().configure_from_args().final_summary();
}
