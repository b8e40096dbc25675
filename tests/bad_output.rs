//! Output files as users name them: devices and pipes are written directly and stay what they were,
//! symlinks are followed, temporaries are unique (so concurrent runs and a user's own `*.partial` file
//! are safe), two outputs of one run may not name one file, and a signal removes the temporaries.
//!
//! Devices are tested with a FIFO made here, never with `/dev/null`: these tests run as root in CI, and a
//! broken build must not be able to replace a system device.

// determinism-ok: these tests supervise distsim processes (time limits, a reader for a FIFO);
// no simulated run sees the clock or the threads.
#![allow(clippy::disallowed_types, clippy::disallowed_methods)]

use std::os::unix::fs::FileTypeExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_distsim");

fn scenario(name: &str) -> String {
    format!("{}/scenarios/{name}", env!("CARGO_MANIFEST_DIR"))
}

/// A fresh, empty scratch directory for one test.
fn scratch(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("distsim-out-{}-{test}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn distsim(dir: &Path, args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap()
}

fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// A pingpong run that writes a few megabytes of trace in well under a second (debug build).
const MID: &str = r#"{"name":"mid","protocol":"pingpong","seed":1,"nodes":3,"max_time_ms":4000,"params":{"interval_ms":1}}"#;

/// A run that would go on for a very long time.
const ENDLESS: &str = r#"{"name":"endless","protocol":"pingpong","seed":1,"nodes":3,"max_time_ms":604800000,"max_events":1000000000,"params":{"interval_ms":1}}"#;

#[test]
fn a_fifo_is_written_directly_and_stays_a_fifo() {
    let dir = scratch("fifo");
    let fifo = dir.join("pipe");
    let made = Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(made.success());
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || std::fs::read(&fifo).unwrap())
    };
    let out = distsim(
        &dir,
        &["run", &scenario("pingpong_basic.json"), "--trace", "pipe"],
    );
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let still_fifo = std::fs::symlink_metadata(&fifo)
        .unwrap()
        .file_type()
        .is_fifo();
    assert!(still_fifo, "the FIFO was replaced: {:?}", names(&dir));
    let bytes = reader.join().unwrap();
    let text = String::from_utf8(bytes).unwrap();
    assert!(text.starts_with("{\"kind\":\"header\""), "{text:.80}");
    assert!(text.lines().last().unwrap().contains("\"kind\":\"end\""));
    assert_eq!(names(&dir), ["pipe"], "no temporary file beside a FIFO");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_symlink_is_followed_and_its_target_written() {
    let dir = scratch("symlink");
    std::fs::create_dir(dir.join("real")).unwrap();
    std::fs::write(dir.join("real/old.jsonl"), "old\n").unwrap();
    std::os::unix::fs::symlink("real/old.jsonl", dir.join("link.jsonl")).unwrap();
    // A dangling link: its target is created.
    std::os::unix::fs::symlink("real/new.edn", dir.join("dangling.edn")).unwrap();
    let out = distsim(
        &dir,
        &[
            "run",
            &scenario("raft_partition.json"),
            "--trace",
            "link.jsonl",
            "--history",
            "dangling.edn",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    for link in ["link.jsonl", "dangling.edn"] {
        let meta = std::fs::symlink_metadata(dir.join(link)).unwrap();
        assert!(meta.file_type().is_symlink(), "{link} was replaced");
    }
    let trace = std::fs::read_to_string(dir.join("real/old.jsonl")).unwrap();
    assert!(trace.starts_with("{\"kind\":\"header\""));
    let history = std::fs::read_to_string(dir.join("real/new.edn")).unwrap();
    assert!(history.contains(":invoke"));
    assert_eq!(names(&dir.join("real")), ["new.edn", "old.jsonl"]);
    let replay = distsim(&dir, &["replay", "link.jsonl"]);
    assert_eq!(replay.status.code(), Some(0), "{replay:?}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_users_own_partial_file_is_left_alone() {
    let dir = scratch("partial");
    std::fs::write(dir.join("x.jsonl.partial"), "mine\n").unwrap();
    let out = distsim(
        &dir,
        &[
            "run",
            &scenario("pingpong_basic.json"),
            "--trace",
            "x.jsonl",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert_eq!(
        std::fs::read_to_string(dir.join("x.jsonl.partial")).unwrap(),
        "mine\n"
    );
    assert_eq!(names(&dir), ["x.jsonl", "x.jsonl.partial"]);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn two_runs_writing_one_trace_each_install_a_whole_file() {
    let dir = scratch("concurrent");
    std::fs::write(dir.join("mid.json"), MID).unwrap();
    let spawn = |seed: &str| {
        Command::new(BIN)
            .args(["run", "mid.json", "--seed", seed, "--trace", "same.jsonl"])
            .current_dir(&dir)
            .stdout(Stdio::null())
            .spawn()
            .unwrap()
    };
    let (mut a, mut b) = (spawn("1"), spawn("2"));
    assert_eq!(a.wait().unwrap().code(), Some(0));
    assert_eq!(b.wait().unwrap().code(), Some(0));
    assert_eq!(names(&dir), ["mid.json", "same.jsonl"]);
    // Whichever finished last, the file is one run's whole trace.
    let replay = distsim(&dir, &["replay", "same.jsonl"]);
    assert_eq!(replay.status.code(), Some(0), "{replay:?}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn two_outputs_naming_one_file_are_refused_and_nothing_is_written() {
    let dir = scratch("same");
    std::fs::write(dir.join("kept"), "precious\n").unwrap();
    std::os::unix::fs::symlink("kept", dir.join("alias")).unwrap();
    std::fs::hard_link(dir.join("kept"), dir.join("hard")).unwrap();
    let s = scenario("raft_partition.json");
    for (trace, history) in [
        ("new", "new"),
        ("kept", "./kept"),
        ("kept", "alias"),
        ("hard", "kept"),
        ("sub/../kept", "kept"),
    ] {
        std::fs::create_dir_all(dir.join("sub")).unwrap();
        let out = distsim(&dir, &["run", &s, "--trace", trace, "--history", history]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{trace} {history}: {stderr}");
        assert!(stderr.contains("name the same file"), "{stderr}");
    }
    assert_eq!(
        std::fs::read_to_string(dir.join("kept")).unwrap(),
        "precious\n"
    );
    assert_eq!(names(&dir), ["alias", "hard", "kept", "sub"]);
    // The scenario itself, reached through a symlink, is an input: never an output.
    std::fs::copy(scenario("pingpong_basic.json"), dir.join("s.json")).unwrap();
    std::os::unix::fs::symlink("s.json", dir.join("s-link")).unwrap();
    let out = distsim(&dir, &["run", "s.json", "--history", "s-link"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("would overwrite the input file"));
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Starts an endless run writing `trace` (over an existing file), waits for its temporary file to
/// appear, sends `signal`, and checks the exit code, that no temporary is left and the old file stands.
fn interrupted(signal: &str) {
    let dir = scratch(&format!("signal-{signal}"));
    std::fs::write(dir.join("endless.json"), ENDLESS).unwrap();
    std::fs::write(dir.join("t.jsonl"), "old trace\n").unwrap();
    let mut child = Command::new(BIN)
        .args([
            "run",
            "endless.json",
            "--trace",
            "t.jsonl",
            "--history",
            "h.edn",
        ])
        .current_dir(&dir)
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while !names(&dir).iter().any(|n| n.contains("partial")) {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "no temporary file appeared"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    // Let it write for a moment, so the signal lands mid-run.
    std::thread::sleep(Duration::from_millis(200));
    let sent = Command::new("kill")
        .args([&format!("-{signal}"), &child.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130), "{signal}: {status:?}");
    assert_eq!(names(&dir), ["endless.json", "t.jsonl"], "{signal}");
    assert_eq!(
        std::fs::read_to_string(dir.join("t.jsonl")).unwrap(),
        "old trace\n"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn sigint_removes_the_temporary_files_and_exits_130() {
    interrupted("INT");
}

#[test]
fn sigterm_removes_the_temporary_files_and_exits_130() {
    interrupted("TERM");
}

#[test]
fn the_library_output_file_installs_only_when_committed() {
    use distsim::output::{OutputFile, write_whole};
    use std::io::Write;
    let dir = scratch("library");
    let dest = dir.join("view.html");
    std::fs::write(&dest, "old").unwrap();
    let mut out = OutputFile::create(&dest).unwrap();
    out.write_all(b"new").unwrap();
    let temp = out.temporary_path().unwrap().to_path_buf();
    assert_eq!(temp.parent(), Some(dir.canonicalize().unwrap().as_path()));
    assert!(distsim::output::live_temporaries().contains(&temp));
    assert_eq!(std::fs::read_to_string(&dest).unwrap(), "old");
    out.abandon();
    assert!(!temp.exists());
    assert!(!distsim::output::live_temporaries().contains(&temp));
    assert_eq!(std::fs::read_to_string(&dest).unwrap(), "old");
    write_whole(&dest, b"new").unwrap();
    assert_eq!(std::fs::read_to_string(&dest).unwrap(), "new");
    assert_eq!(names(&dir), ["view.html"]);
    let err = write_whole(&dir, b"x").unwrap_err();
    assert!(err.to_string().contains("is a directory"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn standard_output_named_as_a_file_is_written_through_the_process_handle() {
    // `/proc/self/fd/1` rather than `/dev/stdout`: a broken build that renames over the target could
    // not replace anything under /proc.
    let dir = scratch("stdout");
    let out = distsim(
        &dir,
        &[
            "run",
            &scenario("pingpong_basic.json"),
            "--trace",
            "/proc/self/fd/1",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let stdout = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = stdout.lines().collect();
    assert!(
        lines[0].starts_with("{\"kind\":\"header\""),
        "{:.100}",
        lines[0]
    );
    // The whole trace comes first, then the report.
    let end = lines
        .iter()
        .position(|l| l.starts_with("{\"kind\":\"end\""))
        .unwrap();
    for line in &lines[..=end] {
        serde_json::from_str::<serde_json::Value>(line).unwrap();
    }
    assert!(
        lines[end + 1..]
            .iter()
            .any(|l| l.starts_with("outcome   PASS"))
    );
    assert_eq!(names(&dir), Vec::<String>::new(), "nothing written beside");
    // Both outputs to one pipe would interleave: refused.
    let out = distsim(
        &dir,
        &[
            "run",
            &scenario("raft_partition.json"),
            "--trace",
            "/proc/self/fd/1",
            "--history",
            "/dev/fd/1",
        ],
    );
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    std::fs::remove_dir_all(&dir).unwrap();
}
