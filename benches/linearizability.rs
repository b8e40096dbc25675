//! Linearizability checker timings: the 40 Jepsen etcd logs (all, and the slowest alone), Porcupine's four
//! key-value files, and synthetic 10,000-operation key-value histories (10 clients, 100 keys).
//!
//! The anchor is Porcupine (Go): about 0.35 s for the 40 etcd logs (etcd_002 ~0.2 s) and ~0.02 s for the
//! key-value files. Run with `cargo bench --bench linearizability`.

use criterion::{Criterion, criterion_group, criterion_main};
use distsim::check::history_format::{ParsedHistory, read_file};
use distsim::check::linearizability::{
    CheckOptions, ModelKind, SyntheticKv, Verdict, check, check_parsed, synthetic_kv_history,
};
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::Duration;

fn data(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(path)
}

fn etcd_logs() -> Vec<(String, ParsedHistory)> {
    (0..40)
        .map(|i| {
            let name = format!("etcd_{i:03}.log");
            let parsed = read_file(&data(&format!("jepsen-etcd/{name}")), None)
                .expect("the etcd logs parse");
            (name, parsed)
        })
        .collect()
}

fn kv_files() -> Vec<ParsedHistory> {
    ["c01-ok.txt", "c01-bad.txt", "c10-ok.txt", "c10-bad.txt"]
        .iter()
        .map(|name| {
            read_file(&data(&format!("porcupine-kv/{name}")), None).expect("the kv files parse")
        })
        .collect()
}

fn benches(c: &mut Criterion) {
    let options = CheckOptions::default();
    let logs = etcd_logs();

    // The slowest log, chosen by explored states so that the choice is the same on every machine.
    let (worst_name, worst) = logs
        .iter()
        .max_by_key(|(_, parsed)| {
            check_parsed(parsed, ModelKind::Register, &options)
                .map(|r| r.explored_states)
                .unwrap_or(0)
        })
        .expect("40 logs");
    let worst_report = check_parsed(worst, ModelKind::Register, &options).expect("checks");
    eprintln!(
        "worst etcd log: {worst_name} ({} states explored)",
        worst_report.explored_states
    );

    c.bench_function("etcd/all-40-logs", |b| {
        b.iter(|| {
            for (_, parsed) in &logs {
                let report = check_parsed(parsed, ModelKind::Register, &options).expect("checks");
                black_box(report.verdict);
            }
        })
    });
    c.bench_function("etcd/all-40-logs-with-parsing", |b| {
        b.iter(|| {
            for i in 0..40 {
                let path = data(&format!("jepsen-etcd/etcd_{i:03}.log"));
                let report = distsim::check::linearizability::check_file(
                    &path,
                    ModelKind::Register,
                    None,
                    &options,
                )
                .expect("checks");
                black_box(report.verdict);
            }
        })
    });
    c.bench_function(&format!("etcd/worst-{worst_name}"), |b| {
        b.iter(|| {
            black_box(
                check_parsed(worst, ModelKind::Register, &options)
                    .expect("checks")
                    .verdict,
            )
        })
    });

    let kv = kv_files();
    c.bench_function("kv/porcupine-4-files", |b| {
        b.iter(|| {
            for parsed in &kv {
                black_box(
                    check_parsed(parsed, ModelKind::KeyValue, &options)
                        .expect("checks")
                        .verdict,
                );
            }
        })
    });

    for (name, unknown_per_mille) in [
        ("kv/synthetic-10k-ops", 0),
        ("kv/synthetic-10k-ops-1pct-unknown", 10),
    ] {
        let spec = SyntheticKv {
            operations: 10_000,
            clients: 10,
            keys: 100,
            unknown_per_mille,
            hot_key_per_mille: 0,
            seed: 42,
        };
        let history = synthetic_kv_history(&spec);
        let report = check(&history, ModelKind::KeyValue, &options).expect("checks");
        assert_eq!(report.verdict, Verdict::Linearizable, "{report}");
        eprintln!("{name}: {} states explored", report.explored_states);
        c.bench_function(name, |b| {
            b.iter(|| {
                black_box(
                    check(&history, ModelKind::KeyValue, &options)
                        .expect("checks")
                        .verdict,
                )
            })
        });
    }
}

/// The history of a real Raft run: 5 servers, 10 clients, 1,000 operations each over 100 keys, with
/// the leader isolated for four seconds in the middle. The run is set up once; only the check is timed.
fn raft_history(c: &mut Criterion) {
    let scenario =
        br#"{"name": "raft_10k_ops", "protocol": "raft", "seed": 1, "nodes": 5, "clients": 10,
        "max_time_ms": 600000, "network": {"delay_ms_min": 1, "delay_ms_max": 10},
        "params": {"ops_per_client": 1000, "keys": 100, "think_ms_min": 0, "think_ms_max": 20},
        "faults": [{"at_ms": 5000, "isolate": "leader"}, {"at_ms": 9000, "heal": true}]}"#;
    let (s, src) = distsim::scenario::parse(scenario, "raft_10k_ops.json").expect("valid");
    let out =
        distsim::run::run(&s, Some(&src), &distsim::run::RunOptions::default()).expect("runs");
    let history = out.history;
    let options = CheckOptions::default();
    let report = check(&history, ModelKind::KeyValue, &options).expect("checks");
    assert_eq!(report.verdict, Verdict::Linearizable, "{report}");
    assert_eq!(report.operations, 10_000);
    c.bench_function("kv/raft-run-10k-ops", |b| {
        b.iter(|| {
            black_box(
                check(&history, ModelKind::KeyValue, &options)
                    .expect("checks")
                    .verdict,
            )
        })
    });
}

criterion_group! {
    name = linearizability;
    config = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    targets = benches, raft_history
}
criterion_main!(linearizability);
