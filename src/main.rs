//! The `distsim` command: a thin front over the library. It parses arguments, calls the library, prints,
//! and maps outcomes to exit codes: 0 as expected, 1 a violation (or an expected one missing), 2 bad
//! input or usage, 3 undecided.

use clap::{Parser, Subcommand};
use distsim::check::history_format::{Format, to_edn_string};
use distsim::check::linearizability::{CheckOptions, ModelKind, check_file_and_print};
use distsim::protocols::registry;
use distsim::run::{self, RunError, RunOptions};
use distsim::scenario;
use distsim::trace::TraceOutput;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// A deterministic discrete-event simulator for distributed algorithms.
#[derive(Parser)]
#[command(name = "distsim", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run a scenario and report what happened.
    Run {
        /// The scenario file (JSON).
        scenario: PathBuf,
        /// Use this seed instead of the scenario's.
        #[arg(long)]
        seed: Option<u64>,
        /// Write the full trace (JSON Lines) to this file.
        #[arg(long)]
        trace: Option<PathBuf>,
        /// Write the clients' history as Jepsen EDN (for Knossos or Porcupine) to this file.
        #[arg(long)]
        history: Option<PathBuf>,
        /// Print the report as one JSON object.
        #[arg(long)]
        json: bool,
    },
    /// Check a recorded history for linearizability (exit 0 yes, 1 no, 3 undecided, 2 bad input).
    CheckHistory {
        /// The history file: a Jepsen etcd log, Jepsen EDN maps, or distsim JSONL.
        file: PathBuf,
        /// The sequential model: `register` (read/write/cas) or `kv` (get/put/append/cas per key).
        #[arg(long)]
        model: ModelKind,
        /// The file's format (`jepsen-log`, `edn`, `jsonl`); guessed from the content if omitted.
        #[arg(long)]
        format: Option<Format>,
        /// The most search states per key before the answer is `unknown`.
        #[arg(long, default_value_t = CheckOptions::default().budget_states_max)]
        budget_states_max: u64,
        /// The most bytes one key's search may hold (counted from sizes) before the answer is `unknown`.
        #[arg(long, default_value_t = CheckOptions::default().budget_bytes_max)]
        budget_bytes_max: u64,
    },
    /// Re-run a trace from its own header and check that it reproduces byte for byte.
    Replay {
        /// The trace file.
        trace: PathBuf,
        /// Print the report as one JSON object.
        #[arg(long)]
        json: bool,
    },
    /// Check scenario files without running them.
    Validate {
        /// The scenario files.
        #[arg(required = true)]
        scenarios: Vec<PathBuf>,
    },
    /// List the protocols, their mutants, the fault kinds and the checkers.
    List,
}

const EXIT_BAD_INPUT: u8 = 2;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Run {
            scenario,
            seed,
            trace,
            history,
            json,
        } => cmd_run(&scenario, seed, trace, history, json),
        Command::CheckHistory {
            file,
            model,
            format,
            budget_states_max,
            budget_bytes_max,
        } => {
            let options = CheckOptions {
                budget_states_max,
                budget_bytes_max,
                ..CheckOptions::default()
            };
            let code = check_file_and_print(
                &file,
                model,
                format,
                &options,
                &mut std::io::stdout(),
                &mut std::io::stderr(),
            );
            ExitCode::from(u8::try_from(code).unwrap_or(1))
        }
        Command::Replay { trace, json } => cmd_replay(&trace, json),
        Command::Validate { scenarios } => cmd_validate(&scenarios),
        Command::List => {
            print!("{}", list_text());
            ExitCode::SUCCESS
        }
    }
}

fn fail_input(err: impl std::fmt::Display) -> ExitCode {
    eprintln!("error: {err}");
    ExitCode::from(EXIT_BAD_INPUT)
}

fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(x), Ok(y)) => x == y,
        _ => false,
    }
}

fn cmd_run(
    path: &Path,
    seed: Option<u64>,
    trace: Option<PathBuf>,
    history: Option<PathBuf>,
    json: bool,
) -> ExitCode {
    let (scenario, source) = match scenario::load(path) {
        Ok(x) => x,
        Err(e) => return fail_input(e),
    };
    for out in [&trace, &history].into_iter().flatten() {
        if same_file(out, path) {
            return fail_input(format!(
                "{}: this would overwrite the scenario file itself",
                out.display()
            ));
        }
    }
    let options = RunOptions {
        seed,
        trace: trace.clone().map_or(TraceOutput::Digest, TraceOutput::File),
    };
    let out = match run::run(&scenario, Some(&source), &options) {
        Ok(o) => o,
        Err(RunError::Scenario(e)) => return fail_input(e),
        Err(e) => return fail_input(e),
    };
    if let Some(h) = &history
        && let Err(e) = write_history(h, &out.history)
    {
        return fail_input(format!("cannot write the history to {}: {e}", h.display()));
    }
    let report = &out.report;
    let code = report.outcome.exit_code();
    let replay = match &trace {
        Some(t) => format!("cargo run --release -- replay {}", t.display()),
        None => format!(
            "cargo run --release -- run {} --seed {} --trace failing.trace.jsonl",
            path.display(),
            report.seed
        ),
    };
    if json {
        let mut value = serde_json::to_value(report).unwrap_or_default();
        if code != 0
            && let Some(obj) = value.as_object_mut()
        {
            obj.insert("replay".into(), replay.clone().into());
        }
        println!("{value}");
    } else {
        print!("{}", report.render_text(40));
        if let Some(t) = &trace {
            println!("trace     written to {}", t.display());
        }
        if code != 0 {
            println!("replay    {replay}");
        }
    }
    ExitCode::from(code as u8)
}

/// Writes the history as EDN under a temporary name, then renames it into place.
fn write_history(dest: &Path, history: &distsim::check::history::History) -> std::io::Result<()> {
    let partial = distsim::trace::writer::partial_path(dest);
    let written = std::fs::write(&partial, to_edn_string(history))
        .and_then(|()| std::fs::rename(&partial, dest));
    if written.is_err() {
        let _ = std::fs::remove_file(&partial);
    }
    written
}

fn cmd_replay(path: &Path, json: bool) -> ExitCode {
    let r = match run::replay::replay(path) {
        Ok(r) => r,
        Err(e) => return fail_input(e),
    };
    if json {
        let value = serde_json::json!({
            "report": r.report,
            "lines": r.lines,
            "reproduced": r.matches(),
            "file_intact": r.file_intact,
            "first_difference": r.mismatch.as_ref().map(|m| serde_json::json!({
                "line": m.line, "expected": m.expected, "got": m.got,
            })),
        });
        println!("{value}");
    } else {
        print!("{}", r.report.render_text(40));
        match (&r.mismatch, r.file_intact) {
            (None, Some(true)) => println!("replay    reproduced all {} lines exactly", r.lines),
            (Some(m), _) => {
                println!(
                    "replay    DIVERGED at line {} of {}",
                    m.line,
                    path.display()
                );
                println!("  expected: {}", m.expected);
                println!("  got:      {}", m.got);
            }
            (None, Some(false)) => println!(
                "replay    the lines match, but the file's closing sha256 does not match its own lines"
            ),
            (None, None) => println!("replay    the file has no closing line (truncated?)"),
        }
    }
    if r.matches() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

fn cmd_validate(paths: &[PathBuf]) -> ExitCode {
    let mut bad = false;
    for path in paths {
        let checked =
            scenario::load(path).and_then(|(s, src)| run::validate(&s, Some(&src)).map(|()| s));
        match checked {
            Ok(s) => println!(
                "ok    {} ({} on {} nodes + {} clients, {} faults)",
                path.display(),
                s.protocol,
                s.nodes,
                s.clients,
                s.faults.len()
            ),
            Err(e) => {
                bad = true;
                eprintln!("error: {e}");
            }
        }
    }
    if bad {
        ExitCode::from(EXIT_BAD_INPUT)
    } else {
        ExitCode::SUCCESS
    }
}

fn list_text() -> String {
    let mut s = String::from("protocols\n");
    for p in registry::catalogue() {
        s.push_str(&format!("  {:<12} {}\n", p.name, p.about));
        if !p.checkers.is_empty() {
            s.push_str(&format!("    checkers: {}\n", p.checkers.join(", ")));
        }
        for m in p.mutants {
            s.push_str(&format!("    mutant {:<32} {}\n", m.name, m.about));
        }
    }
    s.push_str("fault kinds (scenario \"faults\": one action each, at \"at_ms\")\n");
    for (name, about) in distsim::fault::FAULT_KINDS {
        s.push_str(&format!("  {name:<12} {about}\n"));
    }
    s.push_str("checkers\n");
    for (name, about) in distsim::check::GENERIC_CHECKERS {
        s.push_str(&format!("  {name:<24} {about}\n"));
    }
    s
}
