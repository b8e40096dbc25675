//! Seeds per second: a swarm sweep of the Raft partition scenario with one sweep thread and with two.
//! The results are identical (tests/sweep.rs checks it); only the wall time differs.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use distsim::scenario::load;
use distsim::sweep::{SeedRange, SweepOptions, sweep};
use std::hint::black_box;
use std::path::Path;

const SEEDS: u64 = 64;

fn bench(c: &mut Criterion) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/raft_partition.json");
    let (scenario, _) = load(&path).unwrap();
    let mut g = c.benchmark_group("sweep_raft_partition_swarm");
    g.sample_size(10);
    g.throughput(Throughput::Elements(SEEDS));
    for jobs in [1usize, 2] {
        g.bench_function(format!("jobs_{jobs}"), |b| {
            b.iter(|| {
                let options = SweepOptions {
                    jobs,
                    swarm: true,
                    ..SweepOptions::default()
                };
                let seeds = SeedRange {
                    start: 0,
                    end: SEEDS,
                };
                black_box(sweep(&scenario, seeds, &options).unwrap().passed)
            })
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
