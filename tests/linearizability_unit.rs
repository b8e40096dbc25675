//! Unit tests of the linearizability checker and the history parsers: small hand-made histories with known
//! answers, budgets, witnesses, bad input, and a brute-force cross-check on random small histories.

use distsim::check::history_format::{self, Format, HistoryError};
use distsim::check::linearizability::{
    CheckOptions, CheckReport, KvModel, Model, RegisterModel, Step, SyntheticKv, SyntheticRegister,
    Verdict, check, check_file, check_online, check_parsed, synthetic_kv_history,
    synthetic_register_history,
};
use distsim::contract::{EventKind, Func, History, HistoryEvent, Value};
use proptest::prelude::*;
use std::path::Path;
use std::time::Duration;

/// Builds histories line by line; each event's time is its index.
#[derive(Default)]
struct Builder {
    events: Vec<HistoryEvent>,
}

impl Builder {
    fn push(
        mut self,
        process: u64,
        kind: EventKind,
        f: Func,
        key: Option<&str>,
        value: Value,
    ) -> Self {
        let time_ns = self.events.len() as u64;
        self.events.push(HistoryEvent {
            time_ns,
            process,
            kind,
            f,
            key: key.map(str::to_string),
            value,
        });
        self
    }
    fn invoke(self, p: u64, f: Func, v: Value) -> Self {
        self.push(p, EventKind::Invoke, f, None, v)
    }
    fn ok(self, p: u64, f: Func, v: Value) -> Self {
        self.push(p, EventKind::Ok, f, None, v)
    }
    fn fail(self, p: u64, f: Func, v: Value) -> Self {
        self.push(p, EventKind::Fail, f, None, v)
    }
    fn info(self, p: u64, f: Func, v: Value) -> Self {
        self.push(p, EventKind::Info, f, None, v)
    }
    fn done(self) -> History {
        History {
            events: self.events,
        }
    }
}

fn int(n: i64) -> Value {
    Value::Int(n)
}

fn pair(a: i64, b: i64) -> Value {
    Value::List(vec![int(a), int(b)])
}

fn register(history: &History) -> CheckReport {
    check(history, &RegisterModel, &CheckOptions::default()).expect("a well-formed history")
}

#[test]
fn sequential_write_then_read_is_linearizable() {
    let h = Builder::default()
        .invoke(0, Func::WRITE, int(1))
        .ok(0, Func::WRITE, int(1))
        .invoke(1, Func::READ, Value::Nil)
        .ok(1, Func::READ, int(1))
        .done();
    let report = register(&h);
    assert_eq!(report.verdict, Verdict::Linearizable, "{report}");
    assert!(report.witness.is_none());
    assert_eq!(report.exit_code(), 0);
}

#[test]
fn stale_read_is_not_linearizable_and_the_witness_names_it() {
    let h = Builder::default()
        .invoke(0, Func::WRITE, int(1))
        .ok(0, Func::WRITE, int(1))
        .invoke(0, Func::WRITE, int(2))
        .ok(0, Func::WRITE, int(2))
        .invoke(7, Func::READ, Value::Nil)
        .ok(7, Func::READ, int(1))
        .done();
    let report = register(&h);
    assert_eq!(report.verdict, Verdict::NotLinearizable);
    assert_eq!(report.exit_code(), 1);
    let witness = report.witness.as_ref().expect("a witness");
    assert_eq!(witness.blocked.process, 7);
    assert_eq!(witness.blocked.f, Func::READ);
    assert_eq!(witness.blocked.result, Some(int(1)));
    assert_eq!(
        (witness.blocked.invoke_index, witness.blocked.return_index),
        (4, Some(5))
    );
    assert!(!witness.blocked_fits_state);
    assert_eq!(
        witness.prefix.len(),
        2,
        "both writes are placed before the read"
    );
    assert_eq!(witness.state, "2");
    let text = report.to_string();
    assert!(text.contains("NOT linearizable"), "{text}");
    assert!(text.contains("process 7: read -> 1"), "{text}");
    assert!(text.contains("impossible in state 2"), "{text}");
    let detail = report.checker_verdict();
    assert!(
        matches!(&detail, distsim::contract::Verdict::Fail(d) if d.contains("process 7")),
        "{detail:?}"
    );
}

#[test]
fn a_read_concurrent_with_a_write_may_see_either_value() {
    for seen in [Value::Nil, int(1)] {
        let h = Builder::default()
            .invoke(0, Func::WRITE, int(1))
            .invoke(1, Func::READ, Value::Nil)
            .ok(1, Func::READ, seen.clone())
            .ok(0, Func::WRITE, int(1))
            .done();
        assert_eq!(
            register(&h).verdict,
            Verdict::Linearizable,
            "read saw {seen:?}"
        );
    }
    // But once the read has seen the new value, a later read cannot see the old one.
    let h = Builder::default()
        .invoke(0, Func::WRITE, int(1))
        .invoke(1, Func::READ, Value::Nil)
        .ok(1, Func::READ, int(1))
        .invoke(2, Func::READ, Value::Nil)
        .ok(2, Func::READ, Value::Nil)
        .ok(0, Func::WRITE, int(1))
        .done();
    assert_eq!(register(&h).verdict, Verdict::NotLinearizable);
}

#[test]
fn an_info_write_may_have_happened() {
    let h = Builder::default()
        .invoke(0, Func::WRITE, int(5))
        .info(0, Func::WRITE, Value::Str(":timed-out".into()))
        .invoke(1, Func::READ, Value::Nil)
        .ok(1, Func::READ, int(5))
        .done();
    let report = register(&h);
    assert_eq!(report.verdict, Verdict::Linearizable, "{report}");
    assert_eq!(report.unknown_operations, 1);
}

#[test]
fn an_info_write_may_never_have_happened() {
    let h = Builder::default()
        .invoke(0, Func::WRITE, int(5))
        .info(0, Func::WRITE, Value::Nil)
        .invoke(1, Func::READ, Value::Nil)
        .ok(1, Func::READ, Value::Nil)
        .done();
    assert_eq!(register(&h).verdict, Verdict::Linearizable);
    // An operation still open when the history ends behaves the same way.
    let h = Builder::default()
        .invoke(0, Func::WRITE, int(5))
        .invoke(1, Func::READ, Value::Nil)
        .ok(1, Func::READ, Value::Nil)
        .invoke(1, Func::READ, Value::Nil)
        .ok(1, Func::READ, int(5))
        .done();
    assert_eq!(register(&h).verdict, Verdict::Linearizable);
}

#[test]
fn an_info_write_takes_effect_at_most_once() {
    // Seen, then unseen, then seen again: one write cannot explain both flips.
    let h = Builder::default()
        .invoke(0, Func::WRITE, int(5))
        .info(0, Func::WRITE, Value::Nil)
        .invoke(1, Func::READ, Value::Nil)
        .ok(1, Func::READ, int(5))
        .invoke(2, Func::WRITE, int(6))
        .ok(2, Func::WRITE, int(6))
        .invoke(1, Func::READ, Value::Nil)
        .ok(1, Func::READ, int(5))
        .done();
    assert_eq!(register(&h).verdict, Verdict::NotLinearizable);
}

#[test]
fn a_failed_write_never_happened() {
    let h = Builder::default()
        .invoke(0, Func::WRITE, int(5))
        .fail(0, Func::WRITE, int(5))
        .invoke(1, Func::READ, Value::Nil)
        .ok(1, Func::READ, int(5))
        .done();
    let report = register(&h);
    assert_eq!(report.verdict, Verdict::NotLinearizable);
    assert_eq!(report.dropped_operations, 1);
}

#[test]
fn a_timed_out_read_constrains_nothing() {
    let h = Builder::default()
        .invoke(0, Func::WRITE, int(1))
        .ok(0, Func::WRITE, int(1))
        .invoke(1, Func::READ, Value::Nil)
        .fail(1, Func::READ, Value::Str(":timed-out".into()))
        .done();
    let report = register(&h);
    assert_eq!(report.verdict, Verdict::Linearizable);
    assert_eq!(report.dropped_operations, 1);
}

#[test]
fn a_failed_cas_must_be_explained() {
    // The register holds 1 throughout: a cas from 1 cannot fail.
    let h = Builder::default()
        .invoke(0, Func::WRITE, int(1))
        .ok(0, Func::WRITE, int(1))
        .invoke(1, Func::CAS, pair(1, 2))
        .fail(1, Func::CAS, pair(1, 2))
        .done();
    let report = register(&h);
    assert_eq!(report.verdict, Verdict::NotLinearizable);
    assert_eq!(
        report.witness.as_ref().map(|w| w.blocked.f.clone()),
        Some(Func::CAS)
    );
    // A concurrent write of 3 explains it, but only if the cas is ordered after that write.
    let h = Builder::default()
        .invoke(0, Func::WRITE, int(1))
        .ok(0, Func::WRITE, int(1))
        .invoke(2, Func::WRITE, int(3))
        .invoke(1, Func::CAS, pair(1, 2))
        .fail(1, Func::CAS, pair(1, 2))
        .ok(2, Func::WRITE, int(3))
        .invoke(1, Func::READ, Value::Nil)
        .ok(1, Func::READ, int(3))
        .done();
    assert_eq!(register(&h).verdict, Verdict::Linearizable);
    // ... which is impossible if the write of 3 returned before a read that still saw 1.
    let h = Builder::default()
        .invoke(0, Func::WRITE, int(1))
        .ok(0, Func::WRITE, int(1))
        .invoke(1, Func::CAS, pair(1, 2))
        .invoke(2, Func::WRITE, int(3))
        .ok(2, Func::WRITE, int(3))
        .invoke(2, Func::WRITE, int(1))
        .ok(2, Func::WRITE, int(1))
        .fail(1, Func::CAS, pair(1, 2))
        .done();
    assert_eq!(
        register(&h).verdict,
        Verdict::Linearizable,
        "the cas fits while 3 is held"
    );
}

#[test]
fn a_write_of_the_value_already_there_still_counts_as_a_write() {
    // Found by the brute-force cross-check: a write that leaves the current state as it is must not be
    // placed greedily like a read. Here the second write of 0 has to come after the cas, to undo it.
    let h = Builder::default()
        .invoke(1, Func::WRITE, int(0))
        .invoke(0, Func::WRITE, int(0))
        .invoke(2, Func::CAS, pair(0, 1))
        .ok(0, Func::WRITE, int(0))
        .ok(2, Func::CAS, pair(0, 1))
        .ok(1, Func::WRITE, int(0))
        .invoke(0, Func::CAS, pair(1, 0))
        .fail(0, Func::CAS, pair(1, 0))
        .done();
    assert_eq!(register(&h).verdict, Verdict::Linearizable);
}

#[test]
fn a_successful_cas_changes_the_register() {
    let h = Builder::default()
        .invoke(0, Func::CAS, pair(0, 1))
        .ok(0, Func::CAS, pair(0, 1))
        .done();
    assert_eq!(
        register(&h).verdict,
        Verdict::NotLinearizable,
        "the register starts nil, not 0"
    );
    let h = Builder::default()
        .invoke(0, Func::WRITE, int(0))
        .ok(0, Func::WRITE, int(0))
        .invoke(0, Func::CAS, pair(0, 1))
        .ok(0, Func::CAS, pair(0, 1))
        .invoke(0, Func::READ, Value::Nil)
        .ok(0, Func::READ, int(1))
        .done();
    assert_eq!(register(&h).verdict, Verdict::Linearizable);
}

#[test]
fn the_states_budget_gives_unknown_never_a_guess() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/jepsen-etcd/etcd_002.log");
    let tight = CheckOptions {
        budget_states_max: 10,
        ..CheckOptions::default()
    };
    let report = check_file(&path, &RegisterModel, None, &tight).expect("parses");
    assert_eq!(report.verdict, Verdict::Unknown, "{report}");
    assert_eq!(report.exit_code(), 3);
    assert!(
        report
            .unknown_reason
            .as_deref()
            .is_some_and(|r| r.contains("10 explored states")),
        "{report}"
    );
    assert!(report.witness.is_none());
    assert!(matches!(
        report.checker_verdict(),
        distsim::contract::Verdict::Unknown(_)
    ));
}

#[test]
fn the_time_budget_gives_unknown() {
    let h = synthetic_kv_history(&SyntheticKv {
        operations: 20_000,
        keys: 1,
        ..SyntheticKv::default()
    });
    let options = CheckOptions {
        budget_time_max: Some(Duration::ZERO),
        ..CheckOptions::default()
    };
    let report = check(&h, &KvModel, &options).expect("well formed");
    assert_eq!(report.verdict, Verdict::Unknown, "{report}");
    assert!(
        report
            .unknown_reason
            .as_deref()
            .is_some_and(|r| r.contains("time budget"))
    );
}

#[test]
fn kv_absent_reads_as_empty_or_nil() {
    let kv = |f: Func, kind: EventKind, p: u64, key: &str, v: Value, b: Builder| {
        b.push(p, kind, f, Some(key), v)
    };
    let mut b = Builder::default();
    b = kv(Func::GET, EventKind::Invoke, 0, "a", Value::Nil, b);
    b = kv(
        Func::GET,
        EventKind::Ok,
        0,
        "a",
        Value::Str(String::new()),
        b,
    );
    b = kv(Func::GET, EventKind::Invoke, 0, "b", Value::Nil, b);
    b = kv(Func::GET, EventKind::Ok, 0, "b", Value::Nil, b);
    b = kv(
        Func::APPEND,
        EventKind::Invoke,
        0,
        "a",
        Value::Str("x".into()),
        b,
    );
    b = kv(
        Func::APPEND,
        EventKind::Ok,
        0,
        "a",
        Value::Str("x".into()),
        b,
    );
    b = kv(
        Func::APPEND,
        EventKind::Invoke,
        0,
        "a",
        Value::Str("y".into()),
        b,
    );
    b = kv(
        Func::APPEND,
        EventKind::Ok,
        0,
        "a",
        Value::Str("y".into()),
        b,
    );
    b = kv(Func::GET, EventKind::Invoke, 0, "a", Value::Nil, b);
    b = kv(Func::GET, EventKind::Ok, 0, "a", Value::Str("xy".into()), b);
    b = kv(
        Func::PUT,
        EventKind::Invoke,
        0,
        "b",
        Value::Str("z".into()),
        b,
    );
    b = kv(Func::PUT, EventKind::Ok, 0, "b", Value::Str("z".into()), b);
    let good = b.done();
    let report = check(&good, &KvModel, &CheckOptions::default()).expect("well formed");
    assert_eq!(report.verdict, Verdict::Linearizable, "{report}");
    assert_eq!(report.keys, 2);

    let mut bad = good.clone();
    bad.events[9].value = Value::Str("yx".into());
    let report = check(&bad, &KvModel, &CheckOptions::default()).expect("well formed");
    assert_eq!(report.verdict, Verdict::NotLinearizable);
    assert_eq!(
        report.witness.as_ref().and_then(|w| w.key.as_deref()),
        Some("a")
    );
}

#[test]
fn synthetic_histories_are_linearizable_and_corrupting_one_read_is_caught() {
    for unknown_per_mille in [0, 100] {
        let spec = SyntheticKv {
            operations: 2_000,
            clients: 8,
            keys: 40,
            unknown_per_mille,
            hot_key_per_mille: 0,
            seed: 7,
        };
        let h = synthetic_kv_history(&spec);
        let report = check(&h, &KvModel, &CheckOptions::default()).expect("well formed");
        assert_eq!(report.verdict, Verdict::Linearizable, "{report}");
        // A get that read something nobody ever wrote.
        let mut bad = h.clone();
        let at = bad
            .events
            .iter()
            .rposition(|e| e.f == Func::GET && e.kind == EventKind::Ok)
            .expect("some get completed");
        bad.events[at].value = Value::Str("never written".into());
        let report = check(&bad, &KvModel, &CheckOptions::default()).expect("well formed");
        assert_eq!(report.verdict, Verdict::NotLinearizable);
        assert_eq!(
            report.witness.as_ref().map(|w| w.blocked.return_index),
            Some(Some(at))
        );
    }
}

#[test]
fn reports_are_deterministic_and_parallelism_does_not_change_them() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/porcupine-kv/c10-bad.txt");
    let parallel = CheckOptions::default();
    let sequential = CheckOptions {
        parallel: false,
        ..CheckOptions::default()
    };
    let a = check_file(&path, &KvModel, None, &parallel).expect("parses");
    let b = check_file(&path, &KvModel, None, &sequential).expect("parses");
    let c = check_file(&path, &KvModel, None, &parallel).expect("parses");
    let strip = |r: &CheckReport| CheckReport {
        elapsed_ns: 0,
        ..r.clone()
    };
    assert_eq!(strip(&a), strip(&b));
    assert_eq!(strip(&a), strip(&c));
    assert_eq!(a.to_string(), b.to_string());
    assert!(a.render(true).contains("checked in"));
    assert!(!a.to_string().contains("checked in"));
}

#[test]
fn malformed_histories_are_errors_with_a_place() {
    // A completion nobody invoked.
    let h = Builder::default().ok(3, Func::READ, int(1)).done();
    let err = check(&h, &RegisterModel, &CheckOptions::default()).expect_err("malformed");
    assert!(
        matches!(err, HistoryError::Invalid { event_index: 0, .. }),
        "{err}"
    );
    // A function the model does not know.
    let h = Builder::default()
        .invoke(0, Func::APPEND, Value::Str("x".into()))
        .ok(0, Func::APPEND, Value::Nil)
        .done();
    let err = check(&h, &RegisterModel, &CheckOptions::default()).expect_err("wrong model");
    assert!(err.to_string().contains("register model"), "{err}");
    // A cas without [from to], in a file: the error names the file and the line.
    let dir = std::env::temp_dir().join(format!("distsim-lin-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let file = dir.join("bad-cas.log");
    std::fs::write(&file, "INFO  jepsen.util - 1\t:invoke\t:read\tnil\nINFO  jepsen.util - 1\t:ok\t:read\tnil\nINFO  jepsen.util - 1\t:invoke\t:cas\t5\nINFO  jepsen.util - 1\t:ok\t:cas\t5\n")
        .expect("write");
    let err =
        check_file(&file, &RegisterModel, None, &CheckOptions::default()).expect_err("bad cas");
    let text = err.to_string();
    assert!(text.contains("bad-cas.log:3:"), "{text}");
    assert!(text.contains("[from to]"), "{text}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn truncated_jepsen_line_is_an_error_with_its_line() {
    let text = "INFO  jepsen.util - 0\t:invoke\t:read\tnil\nINFO  jepsen.util - 0\t:ok\n";
    let err = history_format::parse_str(text, Some(Format::JepsenLog)).expect_err("truncated");
    match &err {
        HistoryError::Parse { at, field, .. } => {
            assert_eq!(at.line, 2);
            assert_eq!(field.as_deref(), Some("f"));
        }
        other => panic!("unexpected error {other}"),
    }
    assert!(err.to_string().starts_with("line 2, column"), "{err}");
    let err = history_format::parse_str(
        "INFO  jepsen.util - 0\t:invoke\t:cas\t[1 2\n",
        Some(Format::JepsenLog),
    )
    .expect_err("unclosed vector");
    assert!(
        matches!(&err, HistoryError::Parse { at, field: Some(f), .. } if at.line == 1 && at.column == 36 && f == "value"),
        "{err}"
    );
    // Functions are open (each model says which it knows): an unknown one parses, and the model
    // refuses it at its line.
    let parsed = history_format::parse_str(
        "INFO  jepsen.util - 0\t:invoke\t:frobnicate\tnil\n",
        Some(Format::JepsenLog),
    )
    .expect("any function parses");
    let err = check_parsed(&parsed, &RegisterModel, &CheckOptions::default())
        .expect_err("the register model knows no frobnicate");
    assert!(
        err.to_string().contains("line 1") && err.to_string().contains("not frobnicate"),
        "{err}"
    );
}

#[test]
fn truncated_edn_and_jsonl_are_errors_with_their_line() {
    let text = "{:process 0, :type :invoke, :f :get, :key \"1\", :value nil}\n{:process 0, :type :ok, :f :get, :key \"1\", :val";
    let err = history_format::parse_str(text, None).expect_err("truncated");
    assert!(
        matches!(&err, HistoryError::Parse { at, .. } if at.line == 2),
        "{err}"
    );
    let err = history_format::parse_str(
        "{:process 0, :type :whatever, :f :get}\n",
        Some(Format::Edn),
    )
    .expect_err("bad type");
    assert!(
        matches!(&err, HistoryError::Parse { field: Some(f), at, .. } if f == "type" && at.column == 20),
        "{err}"
    );
    let text = "{\"time_ns\":1,\"process\":0,\"type\":\"invoke\",\"f\":\"read\",\"value\":null}\n\n{\"time_ns\":2,\"process\":0,\"type\":\"okk\",\"f\":\"read\"}\n";
    let err = history_format::parse_str(text, None).expect_err("bad type");
    assert!(
        matches!(&err, HistoryError::Parse { at, field: Some(f), .. } if at.line == 3 && f == "type"),
        "{err}"
    );
    let err = history_format::parse_str("{\"time_ns\":1,\"process\":0,", Some(Format::Jsonl))
        .expect_err("truncated");
    assert!(
        matches!(&err, HistoryError::Parse { at, .. } if at.line == 1),
        "{err}"
    );
}

#[test]
fn binary_garbage_is_an_error_not_a_panic() {
    let mut seed = 0x1234_5678_u64;
    let mut bytes = Vec::new();
    for _ in 0..4096 {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        bytes.push((seed >> 56) as u8);
    }
    for format in [
        None,
        Some(Format::JepsenLog),
        Some(Format::Edn),
        Some(Format::Jsonl),
    ] {
        let err = history_format::parse_bytes(&bytes, format, Some(Path::new("garbage.bin")))
            .expect_err("garbage");
        assert!(err.to_string().starts_with("garbage.bin"), "{err}");
    }
    // Valid UTF-8 that is not a history.
    let text: String = bytes.iter().map(|&b| char::from(b % 95 + 32)).collect();
    for format in [
        Some(Format::JepsenLog),
        Some(Format::Edn),
        Some(Format::Jsonl),
    ] {
        assert!(history_format::parse_str(&text, format).is_err());
    }
    // Deep nesting does not overflow the stack.
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    assert!(history_format::parse_str(&deep, Some(Format::Edn)).is_err());
    let err = history_format::parse_str("", None).expect_err("empty");
    assert!(matches!(err, HistoryError::UnknownFormat { .. }));
}

#[test]
fn edn_writer_matches_porcupine_layout() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/porcupine-kv/c01-ok.txt");
    let original = std::fs::read_to_string(&path).expect("readable");
    let parsed = history_format::parse_str(&original, None).expect("parses");
    assert_eq!(history_format::to_edn_string(&parsed.history), original);
    let mut with_time = Vec::new();
    history_format::write_edn_with_time(&parsed.history, &mut with_time).expect("writes");
    let again = history_format::parse_bytes(&with_time, None, None).expect("reads back");
    assert_eq!(again.history, parsed.history);
}

#[test]
fn a_custom_model_plugs_in() {
    /// A counter that only grows: `write` adds its value, `read` returns the total.
    struct Counter;
    impl Model for Counter {
        type State = i64;
        type Op = (bool, i64);
        fn name(&self) -> &'static str {
            "counter"
        }
        fn init(&self) -> i64 {
            0
        }
        fn op(
            &self,
            invoke: &HistoryEvent,
            completion: distsim::check::linearizability::Completion<'_>,
        ) -> Result<Option<(bool, i64)>, String> {
            use distsim::check::linearizability::Completion;
            let n = |v: &Value| match v {
                Value::Int(n) => Ok(*n),
                other => Err(format!("not a number: {other:?}")),
            };
            Ok(match (invoke.f.as_str(), completion) {
                ("read", Completion::Ok(done)) => Some((true, n(&done.value)?)),
                ("write", Completion::Fail(_)) | ("read", _) => None,
                ("write", _) => Some((false, n(&invoke.value)?)),
                _ => return Err("counter takes read and write".into()),
            })
        }
        fn step(&self, state: &i64, &(is_read, n): &(bool, i64)) -> Step<i64> {
            match (is_read, n == *state) {
                (true, true) => Step::Unchanged,
                (true, false) => Step::Illegal,
                (false, _) => Step::Changed(state + n),
            }
        }
    }
    let h = Builder::default()
        .invoke(0, Func::WRITE, int(2))
        .invoke(1, Func::WRITE, int(3))
        .ok(0, Func::WRITE, int(2))
        .invoke(2, Func::READ, Value::Nil)
        .ok(2, Func::READ, int(2))
        .ok(1, Func::WRITE, int(3))
        .invoke(2, Func::READ, Value::Nil)
        .ok(2, Func::READ, int(5))
        .done();
    let report = check(&h, &Counter, &CheckOptions::default()).expect("well formed");
    assert_eq!(report.verdict, Verdict::Linearizable, "{report}");
    assert_eq!(report.model, "counter");
}

// ---- Operations of unknown outcome, budgets in bytes, rounds. ----

#[test]
fn unknown_writes_are_placed_where_reads_observe_them_in_any_order() {
    // Five writes of unknown outcome, all open; reads see 3, then 1, then 5: each write is placed just
    // before the read that sees it.
    let mut b = Builder::default();
    for v in 1..=5 {
        b = b.invoke(10 + v as u64, Func::WRITE, int(v));
    }
    for v in [3, 1, 5] {
        b = b
            .invoke(0, Func::READ, Value::Nil)
            .ok(0, Func::READ, int(v));
    }
    assert_eq!(register(&b.done()).verdict, Verdict::Linearizable);
    // Seeing 3 again after 1 needs the write of 3 to take effect twice.
    let mut b = Builder::default();
    for v in 1..=5 {
        b = b.invoke(10 + v as u64, Func::WRITE, int(v));
    }
    for v in [3, 1, 3] {
        b = b
            .invoke(0, Func::READ, Value::Nil)
            .ok(0, Func::READ, int(v));
    }
    assert_eq!(register(&b.done()).verdict, Verdict::NotLinearizable);
}

#[test]
fn an_unknown_write_can_explain_a_failed_cas() {
    // The register holds 1; a compare-and-set from 1 fails: only the unknown write of 2 can have moved
    // the register off 1 (a failed cas fits many states, so it is not matched by value).
    let with = |unknown: bool| {
        let b = Builder::default()
            .invoke(0, Func::WRITE, int(1))
            .ok(0, Func::WRITE, int(1));
        let b = if unknown {
            b.invoke(1, Func::WRITE, int(2))
        } else {
            b
        };
        b.invoke(2, Func::CAS, pair(1, 3))
            .fail(2, Func::CAS, pair(1, 3))
            .invoke(2, Func::READ, Value::Nil)
            .ok(2, Func::READ, int(2))
            .done()
    };
    assert_eq!(register(&with(true)).verdict, Verdict::Linearizable);
    assert_eq!(register(&with(false)).verdict, Verdict::NotLinearizable);
}

/// A register history with many writes of unknown outcome and, when `stale`, one read changed to see a
/// value overwritten before the read began: a completed write returned, then another completed write
/// began and returned, all before the read's invoke.
fn register_with_unknown_writes(stale: bool) -> History {
    let h = synthetic_register_history(&SyntheticRegister {
        operations: 1_000,
        clients: 10,
        writes_per_mille: 500,
        unknown_writes_per_mille: 220,
        seed: 3,
    });
    if !stale {
        return h;
    }
    let ops = translate(&RegisterModel, &h);
    let completed_writes: Vec<(usize, usize, i64)> = ops
        .iter()
        .filter_map(|(call, ret, op)| match (ret, op) {
            (Some(ret), distsim::check::linearizability::RegisterOp::Write(Value::Int(v))) => {
                Some((*call, *ret, *v))
            }
            _ => None,
        })
        .collect();
    let mut bad = h.clone();
    for (call, ret, _) in ops.iter().rev() {
        let (Some(ret), EventKind::Invoke) = (ret, h.events[*call].kind) else {
            continue;
        };
        if h.events[*call].f != Func::READ {
            continue;
        }
        // A write that returned before another write began, that one returning before this read began.
        let old = completed_writes.iter().find(|(_, old_ret, _)| {
            completed_writes
                .iter()
                .any(|(new_call, new_ret, _)| new_call > old_ret && new_ret < call)
        });
        if let Some(&(_, _, v)) = old {
            bad.events[*ret].value = int(v);
            return bad;
        }
    }
    panic!("the history has a read after two sequential writes");
}

#[test]
fn many_unknown_writes_are_decided_and_a_planted_stale_read_is_caught() {
    let good = register_with_unknown_writes(false);
    let report = register(&good);
    assert_eq!(report.verdict, Verdict::Linearizable, "{report}");
    assert!(report.unknown_operations > 100, "{report}");
    let report = register(&register_with_unknown_writes(true));
    assert_eq!(report.verdict, Verdict::NotLinearizable, "{report}");
}

#[test]
fn the_memory_budget_gives_unknown_never_an_abort() {
    let h = synthetic_register_history(&SyntheticRegister {
        operations: 2_000,
        clients: 4,
        unknown_writes_per_mille: 0,
        ..SyntheticRegister::default()
    });
    let roomy = register(&h);
    assert_eq!(roomy.verdict, Verdict::Linearizable, "{roomy}");
    assert!(roomy.memory_bytes_peak > 0);
    let tight = CheckOptions {
        budget_bytes_max: roomy.memory_bytes_peak / 2,
        ..CheckOptions::default()
    };
    let report = check(&h, &RegisterModel, &tight).expect("well formed");
    assert_eq!(report.verdict, Verdict::Unknown, "{report}");
    assert!(report.memory_bytes_peak <= tight.budget_bytes_max);
    let reason = report.unknown_reason.as_deref().unwrap_or_default();
    assert!(reason.contains("memory budget"), "{reason}");
    assert_eq!(report.exit_code(), 3);
    // Exactly enough is enough: the count is the same on every run.
    let exact = CheckOptions {
        budget_bytes_max: roomy.memory_bytes_peak,
        ..CheckOptions::default()
    };
    let report = check(&h, &RegisterModel, &exact).expect("well formed");
    assert_eq!(report.verdict, Verdict::Linearizable, "{report}");
}

#[test]
fn keys_over_their_share_of_the_memory_budget_are_searched_again_alone() {
    let h = synthetic_kv_history(&SyntheticKv {
        operations: 3_000,
        clients: 6,
        keys: 5,
        ..SyntheticKv::default()
    });
    let roomy = check(&h, &KvModel, &CheckOptions::default()).expect("well formed");
    assert_eq!(roomy.verdict, Verdict::Linearizable, "{roomy}");
    // Exactly what the hungriest key needs alone: more than its share while keys run side by side.
    let budget = |parallel| CheckOptions {
        budget_bytes_max: roomy.memory_bytes_peak,
        parallel,
        ..CheckOptions::default()
    };
    let parallel = check(&h, &KvModel, &budget(true)).expect("well formed");
    let sequential = check(&h, &KvModel, &budget(false)).expect("well formed");
    assert_eq!(parallel.verdict, Verdict::Linearizable, "{parallel}");
    assert_eq!(parallel.to_string(), sequential.to_string());
    assert_eq!(parallel.explored_states, roomy.explored_states);
    let short = CheckOptions {
        budget_bytes_max: roomy.memory_bytes_peak - 1,
        ..CheckOptions::default()
    };
    let report = check(&h, &KvModel, &short).expect("well formed");
    assert_eq!(report.verdict, Verdict::Unknown, "{report}");
}

#[test]
fn memory_grows_linearly_with_a_sequential_history() {
    let peak = |operations: usize| {
        let h = synthetic_register_history(&SyntheticRegister {
            operations,
            clients: 1,
            unknown_writes_per_mille: 0,
            ..SyntheticRegister::default()
        });
        let report = register(&h);
        assert_eq!(report.verdict, Verdict::Linearizable, "{report}");
        report.memory_bytes_peak
    };
    let (small, large) = (peak(10_000), peak(40_000));
    // Quadratic growth would make this 16; a memo of whole bitsets did.
    assert!(
        large < small * 5,
        "10k operations: {small} bytes, 40k: {large} bytes"
    );
}

#[test]
fn an_easy_violation_is_not_held_up_by_a_hard_key() {
    // In Porcupine's c50-bad, keys "1" to "4" and "6" fail within a few thousand states, while "0", "5",
    // "7" and "9" run past two million. The answer, and the witness from the first key found failing, are
    // the same with or without parallelism.
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/porcupine-kv/c50-bad.txt");
    let parallel = check_file(&path, &KvModel, None, &CheckOptions::default()).expect("parses");
    assert_eq!(parallel.verdict, Verdict::NotLinearizable, "{parallel}");
    assert!(parallel.explored_states < 1_000_000, "{parallel}");
    let sequential = CheckOptions {
        parallel: false,
        ..CheckOptions::default()
    };
    let sequential = check_file(&path, &KvModel, None, &sequential).expect("parses");
    assert_eq!(parallel.to_string(), sequential.to_string());
}

// ---- Cross-check against a brute-force search on random small histories. ----

/// The definition, searched naively: place any unplaced operation that no unplaced completed operation
/// returned before, if the model accepts it; succeed when every completed operation is placed.
fn brute_force<M: Model>(model: &M, ops: &[(usize, Option<usize>, M::Op)]) -> bool {
    fn go<M: Model>(
        model: &M,
        ops: &[(usize, Option<usize>, M::Op)],
        placed: &mut Vec<bool>,
        state: &M::State,
    ) -> bool {
        if ops
            .iter()
            .zip(placed.iter())
            .all(|(op, &p)| p || op.1.is_none())
        {
            return true;
        }
        for i in 0..ops.len() {
            if placed[i] {
                continue;
            }
            let blocked = ops
                .iter()
                .zip(placed.iter())
                .any(|(other, &p)| !p && other.1.is_some_and(|r| r < ops[i].0));
            if blocked {
                continue;
            }
            let next = match model.step(state, &ops[i].2) {
                Step::Illegal => continue,
                Step::Unchanged => state.clone(),
                Step::Changed(s) => s,
            };
            placed[i] = true;
            if go(model, ops, placed, &next) {
                return true;
            }
            placed[i] = false;
        }
        false
    }
    go(model, ops, &mut vec![false; ops.len()], &model.init())
}

/// Pairs a history's events into (invoke, return if completed, op) by the model, as the checker does.
fn translate<M: Model>(model: &M, h: &History) -> Vec<(usize, Option<usize>, M::Op)> {
    use distsim::check::linearizability::Completion;
    let mut out = Vec::new();
    for (i, e) in h.events.iter().enumerate() {
        if e.kind != EventKind::Invoke {
            continue;
        }
        let done = h
            .events
            .iter()
            .enumerate()
            .skip(i + 1)
            .find(|(_, d)| d.process == e.process);
        let how = match done {
            Some((_, d)) if d.kind == EventKind::Ok => Completion::Ok(d),
            Some((_, d)) if d.kind == EventKind::Fail => Completion::Fail(d),
            Some((_, d)) => Completion::Unknown(Some(d)),
            None => Completion::Unknown(None),
        };
        let ret = match how {
            Completion::Ok(_) | Completion::Fail(_) => done.map(|(j, _)| j),
            Completion::Unknown(_) => None,
        };
        if let Some(op) = model.op(e, how).expect("valid") {
            out.push((i, ret, op));
        }
    }
    out
}

/// Random register histories: each process runs a few operations; answers are random small values, so
/// many histories are not linearizable.
fn register_history() -> impl Strategy<Value = History> {
    let op = (0u8..4, 0i64..3, 0i64..3, 0u8..10, 0u8..6);
    proptest::collection::vec(((0u64..5), op), 1..19).prop_map(|steps| {
        let mut events: Vec<HistoryEvent> = Vec::new();
        let mut open: Vec<Option<(Func, Value, Value, EventKind)>> = vec![None; 5];
        let mut next_process = [0u64, 1, 2, 3, 4];
        let push = |events: &mut Vec<HistoryEvent>, p: u64, kind, f, value| {
            events.push(HistoryEvent {
                time_ns: events.len() as u64,
                process: p,
                kind,
                f,
                key: None,
                value,
            });
        };
        for (slot, (f, a, b, outcome, _)) in steps {
            let s = slot as usize;
            if let Some((func, arg, answer, kind)) = open[s].take() {
                let value = if kind == EventKind::Ok && func == Func::READ {
                    answer
                } else {
                    arg
                };
                push(&mut events, next_process[s], kind, func, value);
                if kind == EventKind::Info {
                    next_process[s] += 5;
                }
            } else {
                let (func, arg) = match f {
                    0 => (Func::READ, Value::Nil),
                    1 => (Func::WRITE, Value::Int(a)),
                    _ => (Func::CAS, Value::List(vec![Value::Int(a), Value::Int(b)])),
                };
                let answer = if a == 0 { Value::Nil } else { Value::Int(b) };
                let kind = match outcome {
                    0..=5 => EventKind::Ok,
                    6..=7 => EventKind::Fail,
                    _ => EventKind::Info,
                };
                push(
                    &mut events,
                    next_process[s],
                    EventKind::Invoke,
                    func.clone(),
                    arg.clone(),
                );
                open[s] = Some((func, arg, answer, kind));
            }
        }
        History { events }
    })
}

/// An operation in flight in the generator: function, key, argument, result, outcome.
type OpenOp = (Func, String, Value, Value, EventKind);

/// Random key-value histories on two keys.
fn kv_history() -> impl Strategy<Value = History> {
    let op = (0u8..4, 0u8..2, 0u8..3, 0u8..10);
    proptest::collection::vec(((0u64..3), op), 1..11).prop_map(|steps| {
        let words = ["", "a", "ab"];
        let mut events: Vec<HistoryEvent> = Vec::new();
        let mut open: Vec<Option<OpenOp>> = vec![None; 3];
        let mut process = [0u64, 1, 2];
        for (slot, (f, key, word, outcome)) in steps {
            let s = slot as usize;
            let time_ns = events.len() as u64;
            if let Some((func, key, arg, answer, kind)) = open[s].take() {
                let value = if func == Func::GET { answer } else { arg };
                events.push(HistoryEvent {
                    time_ns,
                    process: process[s],
                    kind,
                    f: func,
                    key: Some(key),
                    value,
                });
                if kind == EventKind::Info {
                    // After an unknown outcome a client goes on under a fresh process.
                    process[s] += 3;
                }
            } else {
                let func = [Func::GET, Func::PUT, Func::APPEND, Func::CAS][f as usize].clone();
                let key = ["x", "y"][key as usize].to_string();
                let arg = match func.as_str() {
                    "get" => Value::Nil,
                    "cas" => Value::List(vec![
                        Value::Str(words[word as usize].into()),
                        Value::Str(["a", "b", "c"][(word as usize + 1) % 3].into()),
                    ]),
                    _ => Value::Str(["a", "b", "c"][word as usize].into()),
                };
                let answer = Value::Str(words[word as usize].into());
                let kind = match outcome {
                    0..=6 => EventKind::Ok,
                    7 => EventKind::Fail,
                    _ => EventKind::Info,
                };
                events.push(HistoryEvent {
                    time_ns,
                    process: process[s],
                    kind: EventKind::Invoke,
                    f: func.clone(),
                    key: Some(key.clone()),
                    value: arg.clone(),
                });
                open[s] = Some((func, key, arg, answer, kind));
            }
        }
        History { events }
    })
}

/// Small synthetic register histories with any share of unknown writes, and the same with one read's
/// answer replaced by another value of the history (often, but not always, a violation).
fn synthetic_register() -> impl Strategy<Value = History> {
    (
        3usize..12,
        1u64..4,
        0u64..=1000,
        any::<u64>(),
        any::<Option<(u8, u8)>>(),
    )
        .prop_map(|(operations, clients, unknown, seed, corrupt)| {
            let mut h = synthetic_register_history(&SyntheticRegister {
                operations,
                clients,
                writes_per_mille: 500,
                unknown_writes_per_mille: unknown,
                seed,
            });
            if let Some((read, value)) = corrupt {
                let reads: Vec<usize> = (0..h.events.len())
                    .filter(|&i| h.events[i].f == Func::READ && h.events[i].kind == EventKind::Ok)
                    .collect();
                if !reads.is_empty() {
                    let at = reads[read as usize % reads.len()];
                    h.events[at].value = match value as usize % (operations + 1) {
                        0 => Value::Nil,
                        n => int(n as i64),
                    };
                }
            }
            h
        })
}

/// Longer key-value histories from few clients, so that keys are often quiet (cut) between operations:
/// what the online check splits into windows.
fn kv_history_with_cuts() -> impl Strategy<Value = History> {
    (
        2u64..4,
        proptest::collection::vec((0u8..4, 0u8..2, 0u8..3, 0u8..20, any::<bool>()), 1..60),
    )
        .prop_map(|(clients, steps)| {
            let words = ["", "a", "ab"];
            let mut events: Vec<HistoryEvent> = Vec::new();
            let mut open: Vec<Option<OpenOp>> = vec![None; clients as usize];
            let mut process: Vec<u64> = (0..clients).collect();
            for (i, (f, key, word, outcome, first)) in steps.into_iter().enumerate() {
                // Mostly the client with the open operation completes it: low concurrency.
                let s = if first { 0 } else { i % clients as usize };
                let s = open
                    .iter()
                    .position(Option::is_some)
                    .filter(|_| first)
                    .unwrap_or(s);
                let time_ns = events.len() as u64;
                if let Some((func, key, arg, answer, kind)) = open[s].take() {
                    let value = if func == Func::GET { answer } else { arg };
                    events.push(HistoryEvent {
                        time_ns,
                        process: process[s],
                        kind,
                        f: func,
                        key: Some(key),
                        value,
                    });
                    if kind == EventKind::Info {
                        process[s] += clients;
                    }
                } else {
                    let func = [Func::GET, Func::PUT, Func::APPEND, Func::CAS][f as usize].clone();
                    let key = ["x", "y"][key as usize].to_string();
                    let arg = match func.as_str() {
                        "get" => Value::Nil,
                        "cas" => Value::List(vec![
                            Value::Str(words[word as usize].into()),
                            Value::Str(["a", "b", "c"][(word as usize + 1) % 3].into()),
                        ]),
                        _ => Value::Str(["a", "b", "c"][word as usize].into()),
                    };
                    let answer = Value::Str(words[word as usize].into());
                    let kind = match outcome {
                        0..=16 => EventKind::Ok,
                        17..=18 => EventKind::Fail,
                        _ => EventKind::Info,
                    };
                    events.push(HistoryEvent {
                        time_ns,
                        process: process[s],
                        kind: EventKind::Invoke,
                        f: func.clone(),
                        key: Some(key.clone()),
                        value: arg.clone(),
                    });
                    open[s] = Some((func, key, arg, answer, kind));
                }
            }
            History { events }
        })
}

/// A history with at most one event changed (process, function, key, kind or value) or dropped: often
/// malformed, sometimes just different.
fn maybe_malformed(h: History, edit: Option<(u16, u8, u8)>) -> History {
    let mut h = h;
    let Some((at, how, n)) = edit else { return h };
    if h.events.is_empty() {
        return h;
    }
    let at = at as usize % h.events.len();
    let e = &mut h.events[at];
    match how % 6 {
        0 => e.process = u64::from(n % 4),
        1 => e.f = [Func::GET, Func::PUT, Func::CAS, Func::new("frob")][n as usize % 4].clone(),
        2 => e.key = [None, Some("x".to_string()), Some("z".to_string())][n as usize % 3].clone(),
        3 => {
            e.kind = [
                EventKind::Invoke,
                EventKind::Ok,
                EventKind::Fail,
                EventKind::Info,
            ][n as usize % 4]
        }
        4 => e.value = [Value::Nil, Value::Int(1), Value::Str("a".into())][n as usize % 3].clone(),
        _ => {
            h.events.remove(at);
        }
    }
    h
}

/// The online check gives the offline check's answer: the same verdict, counts and error, and the same
/// witness as a person reads it (the online one keeps only the prefix's last steps).
fn assert_online_agrees<M: Model + Clone>(model: &M, h: &History) -> Result<(), TestCaseError> {
    let options = CheckOptions::default();
    let offline = check(h, model, &options);
    let online = check_online(h, model, &options);
    let (offline, online) = match (offline, online) {
        (Err(a), Err(b)) => {
            prop_assert_eq!(a.to_string(), b.to_string());
            return Ok(());
        }
        (Ok(a), Ok(b)) => (a, b),
        (a, b) => {
            prop_assert!(false, "offline {:?}\nonline {:?}\n{:?}", a, b, h);
            unreachable!()
        }
    };
    prop_assert_eq!(
        offline.verdict,
        online.verdict,
        "{:?}\noffline {}\nonline {}",
        h,
        offline,
        online
    );
    prop_assert_eq!(offline.operations, online.operations);
    prop_assert_eq!(offline.unknown_operations, online.unknown_operations);
    prop_assert_eq!(offline.dropped_operations, online.dropped_operations);
    prop_assert_eq!(offline.keys, online.keys);
    prop_assert_eq!(offline.keys_not_linearizable, online.keys_not_linearizable);
    prop_assert_eq!(offline.checker_verdict(), online.checker_verdict());
    if offline.verdict == Verdict::NotLinearizable && offline.keys == 1 {
        // A failing key explores the same configurations both ways (what picks the reported key).
        prop_assert_eq!(offline.explored_states, online.explored_states, "{:?}", h);
    }
    if let (Some(a), Some(b)) = (&offline.witness, &online.witness) {
        prop_assert_eq!(a.to_string(), b.to_string(), "{:?}", h);
        prop_assert_eq!(a.prefix_len(), b.prefix_len());
        prop_assert_eq!(&a.prefix[a.prefix.len() - b.prefix.len()..], &b.prefix[..]);
        prop_assert_eq!(&a.candidates, &b.candidates);
    }
    Ok(())
}

proptest! {
    // PROPTEST_CASES raises the count for a longer soak.
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(2000),
        ..ProptestConfig::default()
    })]

    #[test]
    fn register_verdicts_agree_with_brute_force(h in register_history()) {
        let expected = brute_force(&RegisterModel, &translate(&RegisterModel, &h));
        let report = check(&h, &RegisterModel, &CheckOptions::default()).expect("well formed");
        prop_assert_eq!(report.verdict == Verdict::Linearizable, expected, "{:?}\n{}", h, report);
        prop_assert!(report.verdict != Verdict::Unknown);
    }

    #[test]
    fn unknown_write_heavy_verdicts_agree_with_brute_force(h in synthetic_register()) {
        let expected = brute_force(&RegisterModel, &translate(&RegisterModel, &h));
        let report = check(&h, &RegisterModel, &CheckOptions::default()).expect("well formed");
        prop_assert_eq!(report.verdict == Verdict::Linearizable, expected, "{:?}\n{}", h, report);
        prop_assert!(report.verdict != Verdict::Unknown);
    }

    #[test]
    fn kv_verdicts_agree_with_brute_force(h in kv_history()) {
        // The brute force does not split by key: this also checks that splitting changes nothing.
        let whole = |h: &History, key: &str| History { events: h.events.iter().filter(|e| e.key.as_deref() == Some(key)).cloned().collect() };
        let expected = ["x", "y"].iter().all(|k| brute_force(&KvModel, &translate(&KvModel, &whole(&h, k))));
        let report = check(&h, &KvModel, &CheckOptions::default()).expect("well formed");
        prop_assert_eq!(report.verdict == Verdict::Linearizable, expected, "{:?}\n{}", h, report);
    }

    #[test]
    fn online_agrees_with_offline_on_registers(h in register_history(), edit in any::<Option<(u16, u8, u8)>>()) {
        assert_online_agrees(&RegisterModel, &maybe_malformed(h, edit))?;
    }

    #[test]
    fn online_agrees_with_offline_on_unknown_write_heavy_registers(h in synthetic_register()) {
        assert_online_agrees(&RegisterModel, &h)?;
    }

    #[test]
    fn online_agrees_with_offline_on_kv(h in kv_history(), edit in any::<Option<(u16, u8, u8)>>()) {
        assert_online_agrees(&KvModel, &maybe_malformed(h, edit))?;
    }

    #[test]
    fn online_agrees_with_offline_on_kv_with_cuts(h in kv_history_with_cuts()) {
        assert_online_agrees(&KvModel, &h)?;
        // And with one key: the same history, cut only where no operation at all is open.
        let one = History { events: h.events.iter().map(|e| HistoryEvent { key: Some("x".into()), ..e.clone() }).collect() };
        assert_online_agrees(&KvModel, &one)?;
    }

    #[test]
    fn parsers_never_panic_on_text(text in "\\PC{0,200}") {
        for format in [None, Some(Format::JepsenLog), Some(Format::Edn), Some(Format::Jsonl)] {
            let _ = history_format::parse_str(&text, format);
        }
    }

    #[test]
    fn parsers_never_panic_on_near_misses(line in "(INFO  jepsen.util - [0-9:a-z]{0,3}\t){0,1}(:[a-z]{0,6}\t){0,3}[\\[\\]{}()\"0-9a-z :,#\\\\-]{0,30}") {
        for format in [Some(Format::JepsenLog), Some(Format::Edn)] {
            let _ = history_format::parse_str(&line, format);
            let _ = history_format::parse_str(&format!("{{:process 0, :type :invoke, :f :read, :value {line}}}"), format);
        }
    }

    #[test]
    fn parsers_never_panic_on_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        for format in [None, Some(Format::JepsenLog), Some(Format::Edn), Some(Format::Jsonl)] {
            let _ = history_format::parse_bytes(&bytes, format, None);
        }
    }
}
