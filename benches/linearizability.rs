//! Linearizability checker timings: the 40 Jepsen etcd logs (all, and the slowest alone), Porcupine's four
//! key-value files, synthetic 10,000-operation key-value histories (10 clients, 100 keys), and the rows of
//! issue 8's table (Porcupine's `c50-bad`, register histories with many writes of unknown outcome, long
//! sequential and concurrent register histories, a key-value history with a hot key and unknown outcomes).
//!
//! The anchor is Porcupine (Go): about 0.35 s for the 40 etcd logs (etcd_002 ~0.2 s) and ~0.02 s for the
//! key-value files; its figures for the table's rows, measured on the issue's machine, are printed beside
//! ours. Run with `cargo bench --bench linearizability`; `DISTSIM_BENCH_SLOW=1` adds the rows that take
//! seconds (each is then checked once, not sampled).

use criterion::{Criterion, criterion_group, criterion_main};
use distsim::check::history_format::{ParsedHistory, read_file};
use distsim::check::linearizability::{
    CheckOptions, CheckReport, KvModel, Model, ModelVisitor, RegisterModel, SyntheticKv,
    SyntheticRegister, Verdict, check, check_parsed, synthetic_kv_history,
    synthetic_register_history, with_model,
};
use distsim::contract::History;
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
            check_parsed(parsed, &RegisterModel, &options)
                .map(|r| r.explored_states)
                .unwrap_or(0)
        })
        .expect("40 logs");
    let worst_report = check_parsed(worst, &RegisterModel, &options).expect("checks");
    eprintln!(
        "worst etcd log: {worst_name} ({} states explored)",
        worst_report.explored_states
    );

    c.bench_function("etcd/all-40-logs", |b| {
        b.iter(|| {
            for (_, parsed) in &logs {
                let report = check_parsed(parsed, &RegisterModel, &options).expect("checks");
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
                    &RegisterModel,
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
                check_parsed(worst, &RegisterModel, &options)
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
                    check_parsed(parsed, &KvModel, &options)
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
        let report = check(&history, &KvModel, &options).expect("checks");
        assert_eq!(report.verdict, Verdict::Linearizable, "{report}");
        eprintln!("{name}: {} states explored", report.explored_states);
        c.bench_function(name, |b| {
            b.iter(|| black_box(check(&history, &KvModel, &options).expect("checks").verdict))
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
    let report = check(&history, &KvModel, &options).expect("checks");
    assert_eq!(report.verdict, Verdict::Linearizable, "{report}");
    assert_eq!(report.operations, 10_000);
    c.bench_function("kv/raft-run-10k-ops", |b| {
        b.iter(|| black_box(check(&history, &KvModel, &options).expect("checks").verdict))
    });
}

/// A register history of `operations` operations from `clients` clients, half of them writes, with
/// `unknown_writes_per_mille` of the writes of unknown outcome.
fn register_history(operations: usize, clients: u64, unknown_writes_per_mille: u64) -> History {
    synthetic_register_history(&SyntheticRegister {
        operations,
        clients,
        writes_per_mille: 500,
        unknown_writes_per_mille,
        seed: 1,
    })
}

/// Checks `history` against the built-in model called `model`.
fn check_named(history: &History, model: &str, options: &CheckOptions) -> CheckReport {
    struct Check<'a>(&'a History, &'a CheckOptions);
    impl ModelVisitor for Check<'_> {
        type Output = CheckReport;
        fn visit<M: Model>(self, model: &M) -> CheckReport {
            check(self.0, model, self.1).expect("checks")
        }
    }
    with_model(model, Check(history, options)).expect("a built-in model")
}

/// One row of issue 8's table: what it checks, Porcupine's figure there, and whether it takes seconds.
struct Row {
    name: &'static str,
    porcupine: &'static str,
    slow: bool,
    /// The built-in model's name (`register` or `kv`).
    model: &'static str,
    history: fn() -> History,
    expected: Option<Verdict>,
}

fn issue_rows() -> Vec<Row> {
    vec![
        Row {
            name: "table/porcupine-kv-c50-bad",
            porcupine: "9-118 ms",
            slow: false,
            model: "kv",
            history: || {
                read_file(&data("porcupine-kv/c50-bad.txt"), None)
                    .expect("c50-bad parses")
                    .history
            },
            expected: Some(Verdict::NotLinearizable),
        },
        Row {
            name: "table/register-1k-ops-103-unknown-writes",
            porcupine: "156 ms, 19 MB (106 unknown)",
            slow: false,
            model: "register",
            history: || register_history(1_000, 10, 220),
            expected: Some(Verdict::Linearizable),
        },
        Row {
            name: "table/register-1k-ops-258-unknown-writes",
            porcupine: "238 ms (255 unknown)",
            slow: false,
            model: "register",
            history: || register_history(1_000, 10, 470),
            expected: Some(Verdict::Linearizable),
        },
        Row {
            name: "table/register-10k-ops-1005-unknown-writes",
            porcupine: "3.6 s (998 unknown)",
            slow: false,
            model: "register",
            history: || register_history(10_000, 10, 190),
            expected: Some(Verdict::Linearizable),
        },
        Row {
            name: "table/register-sequential-100k-ops",
            porcupine: "-",
            slow: false,
            model: "register",
            history: || register_history(100_000, 1, 0),
            expected: Some(Verdict::Linearizable),
        },
        Row {
            name: "table/register-sequential-400k-ops",
            porcupine: "-",
            slow: true,
            model: "register",
            history: || register_history(400_000, 1, 0),
            expected: Some(Verdict::Linearizable),
        },
        Row {
            name: "table/register-100k-ops-10-clients",
            porcupine: "killed",
            slow: true,
            model: "register",
            history: || register_history(100_000, 10, 0),
            expected: Some(Verdict::Linearizable),
        },
        Row {
            name: "table/kv-100k-ops-hot-key-10pct-unknown",
            porcupine: "unknown at 60 s",
            slow: true,
            model: "kv",
            history: || {
                synthetic_kv_history(&SyntheticKv {
                    operations: 100_000,
                    clients: 10,
                    keys: 100,
                    unknown_per_mille: 100,
                    hot_key_per_mille: 500,
                    seed: 1,
                })
            },
            // Linearizable by construction, but beyond the default budget (as for Porcupine).
            expected: None,
        },
    ]
}

/// Issue 8's table: each row checked once (its verdict, time and the search's memory printed beside
/// Porcupine's figure), then the fast rows sampled.
fn issue_table(c: &mut Criterion) {
    let options = CheckOptions::default();
    let slow = std::env::var_os("DISTSIM_BENCH_SLOW").is_some();
    eprintln!("| input | distsim | Porcupine (issue 8) |\n|---|---|---|");
    for row in issue_rows() {
        if row.slow && !slow {
            continue;
        }
        let history = (row.history)();
        let report = check_named(&history, row.model, &options);
        if let Some(expected) = row.expected {
            assert_eq!(report.verdict, expected, "{}: {report}", row.name);
        }
        eprintln!(
            "| {} | {}, {:.1} ms, {} states, {:.1} MB | {} |",
            row.name,
            report.verdict,
            report.elapsed_ns as f64 / 1e6,
            report.explored_states,
            report.memory_bytes_peak as f64 / 1e6,
            row.porcupine
        );
        if row.slow {
            continue;
        }
        c.bench_function(row.name, |b| {
            b.iter(|| black_box(check_named(&history, row.model, &options).verdict))
        });
    }
}

criterion_group! {
    name = linearizability;
    config = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    targets = issue_table, benches, raft_history
}
criterion_main!(linearizability);
