//! The linearizability checker against real histories with known verdicts: Jepsen's etcd register logs
//! (verdicts in `VERDICTS`, as Porcupine's test suite asserts them) and Porcupine's key-value files (the
//! name says `ok` or `bad`). Every file must get its recorded verdict under the default budget.

use distsim::check::history_format::{self, Format};
use distsim::check::linearizability::{
    CheckOptions, CheckReport, KvModel, Model, RegisterModel, Verdict, check_file, check_online,
    check_parsed,
};
use std::path::{Path, PathBuf};

fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data")
}

fn etcd_verdicts() -> Vec<(PathBuf, Verdict)> {
    let dir = data_dir().join("jepsen-etcd");
    let text = std::fs::read_to_string(dir.join("VERDICTS")).expect("VERDICTS is readable");
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|line| {
            let mut words = line.split_whitespace();
            let file = words.next().expect("a file name");
            let verdict = match words.next() {
                Some("linearizable") => Verdict::Linearizable,
                Some("not-linearizable") => Verdict::NotLinearizable,
                other => panic!("unexpected verdict {other:?} in VERDICTS"),
            };
            (dir.join(file), verdict)
        })
        .collect()
}

#[test]
fn every_etcd_log_gets_its_recorded_verdict() {
    let verdicts = etcd_verdicts();
    assert_eq!(verdicts.len(), 40, "VERDICTS lists the 40 logs");
    let options = CheckOptions::default();
    let mut wrong = Vec::new();
    for (path, expected) in &verdicts {
        let report = check_file(path, &RegisterModel, None, &options).expect("the log parses");
        if report.verdict != *expected {
            wrong.push(format!(
                "{}: expected {expected}, got {}\n{report}",
                path.display(),
                report.verdict
            ));
        }
        if report.verdict == Verdict::NotLinearizable {
            assert!(
                report.witness.is_some(),
                "{}: a violation comes with a witness",
                path.display()
            );
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn every_porcupine_kv_file_gets_the_verdict_its_name_gives() {
    let dir = data_dir().join("porcupine-kv");
    let options = CheckOptions::default();
    for name in [
        "c01-ok.txt",
        "c01-bad.txt",
        "c10-ok.txt",
        "c10-bad.txt",
        "c50-ok.txt",
        "c50-bad.txt",
    ] {
        let path = dir.join(name);
        let expected = if name.contains("-ok") {
            Verdict::Linearizable
        } else {
            Verdict::NotLinearizable
        };
        let report = check_file(&path, &KvModel, None, &options).expect("the file parses");
        assert_eq!(report.verdict, expected, "{name}:\n{report}");
        if expected == Verdict::NotLinearizable {
            let witness = report.witness.as_ref().expect("a witness");
            assert!(witness.key.is_some(), "{name}: the witness names its key");
        }
    }
}

#[test]
fn formats_are_detected_from_content() {
    let etcd = history_format::read_file(&data_dir().join("jepsen-etcd/etcd_000.log"), None)
        .expect("parses");
    assert_eq!(etcd.format, Format::JepsenLog);
    let kv = history_format::read_file(&data_dir().join("porcupine-kv/c01-ok.txt"), None)
        .expect("parses");
    assert_eq!(kv.format, Format::Edn);
}

#[test]
fn exported_histories_read_back_to_the_same_verdict() {
    // distsim's writers must produce files that the readers (and so Knossos and Porcupine) take back.
    let options = CheckOptions::default();
    for (path, expected) in etcd_verdicts().iter().step_by(7) {
        let parsed = history_format::read_file(path, None).expect("parses");
        let edn = history_format::to_edn_string(&parsed.history);
        let again = history_format::parse_str(&edn, None).expect("EDN reads back");
        assert_eq!(again.format, Format::Edn);
        assert_eq!(
            again.history,
            parsed.history,
            "{}: EDN round trip",
            path.display()
        );
        let report = check_parsed(&again, &RegisterModel, &options).expect("checks");
        assert_eq!(report.verdict, *expected);

        let jsonl = history_format::to_jsonl_string(&parsed.history);
        let again = history_format::parse_str(&jsonl, None).expect("JSON lines read back");
        assert_eq!(again.format, Format::Jsonl);
        assert_eq!(
            again.history,
            parsed.history,
            "{}: JSONL round trip",
            path.display()
        );
    }
}

/// Checks `path` online and offline: both must give `expected`, the same run verdict and the same
/// witness as printed.
fn online_agrees<M: Model + Clone>(path: &Path, model: &M, expected: Verdict) -> CheckReport {
    let options = CheckOptions::default();
    let parsed = history_format::read_file(path, None).expect("parses");
    let offline = check_parsed(&parsed, model, &options).expect("checks");
    let online = check_online(&parsed.history, model, &options).expect("checks online");
    let name = path.display();
    assert_eq!(online.verdict, expected, "{name} online:\n{online}");
    assert_eq!(offline.verdict, expected, "{name} offline:\n{offline}");
    assert_eq!(
        online.checker_verdict(),
        offline.checker_verdict(),
        "{name}"
    );
    assert_eq!(
        online.witness.as_ref().map(ToString::to_string),
        offline.witness.as_ref().map(ToString::to_string),
        "{name}"
    );
    assert_eq!(
        (
            online.operations,
            online.unknown_operations,
            online.dropped_operations,
            online.keys
        ),
        (
            offline.operations,
            offline.unknown_operations,
            offline.dropped_operations,
            offline.keys
        ),
        "{name}"
    );
    online
}

#[test]
fn the_online_check_gives_every_file_the_offline_verdict_and_witness() {
    for (path, expected) in etcd_verdicts() {
        online_agrees(&path, &RegisterModel, expected);
    }
    let dir = data_dir().join("porcupine-kv");
    for name in [
        "c01-ok.txt",
        "c01-bad.txt",
        "c10-ok.txt",
        "c10-bad.txt",
        "c50-ok.txt",
        "c50-bad.txt",
    ] {
        let expected = if name.contains("-ok") {
            Verdict::Linearizable
        } else {
            Verdict::NotLinearizable
        };
        online_agrees(&dir.join(name), &KvModel, expected);
    }
}
