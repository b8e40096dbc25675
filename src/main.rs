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
use distsim::trace::export::timeline::TimelineOptions;
use distsim::trace::export::{ExportError, TimeWindow, html, mermaid, perfetto};
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
        /// Draw the run as a space-time diagram (self-contained HTML) in this file.
        #[arg(long)]
        html: Option<PathBuf>,
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
    },
    /// Re-run a trace from its own header and check that it reproduces byte for byte.
    Replay {
        /// The trace file.
        trace: PathBuf,
        /// Print the report as one JSON object.
        #[arg(long)]
        json: bool,
    },
    /// Draw a trace as a space-time diagram: one self-contained HTML file.
    View {
        /// The trace file (JSON Lines).
        trace: PathBuf,
        /// The HTML file to write.
        #[arg(short = 'o', long = "out")]
        out: PathBuf,
        /// Show events in detail from this virtual time on (default: chosen to fit the budget).
        #[arg(long)]
        from_ms: Option<u64>,
        /// Show events in detail up to this virtual time.
        #[arg(long)]
        to_ms: Option<u64>,
        /// The most events drawn one by one; the rest of the run is drawn as densities.
        #[arg(long, default_value_t = TimelineOptions::default().detail_items_max)]
        detail_max: usize,
    },
    /// Export a trace for other tools: Perfetto / chrome://tracing JSON, or a Mermaid sequence diagram.
    Export {
        /// The trace file (JSON Lines).
        trace: PathBuf,
        /// Write Chrome trace-event JSON (for ui.perfetto.dev) to this file.
        #[arg(long)]
        perfetto: Option<PathBuf>,
        /// Write a Mermaid sequence diagram to this file.
        #[arg(long)]
        mermaid: Option<PathBuf>,
        /// Only events from this virtual time on.
        #[arg(long)]
        from_ms: Option<u64>,
        /// Only events up to this virtual time.
        #[arg(long)]
        to_ms: Option<u64>,
        /// The most lines (messages, notes) in the Mermaid diagram.
        #[arg(long, default_value_t = distsim::trace::export::mermaid::ITEMS_MAX)]
        mermaid_max: usize,
    },
    /// Compare two traces: where they first diverge and what differs (exit 0 same, 1 different).
    Diff {
        /// The first trace.
        a: PathBuf,
        /// The second trace.
        b: PathBuf,
        /// Also write a side-by-side HTML view to this file.
        #[arg(short = 'o', long = "out")]
        out: Option<PathBuf>,
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
            html,
            json,
        } => cmd_run(&scenario, seed, trace, history, html, json),
        Command::CheckHistory {
            file,
            model,
            format,
            budget_states_max,
        } => {
            let options = CheckOptions {
                budget_states_max,
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
        Command::View {
            trace,
            out,
            from_ms,
            to_ms,
            detail_max,
        } => cmd_view(
            &trace,
            &out,
            TimeWindow::from_ms(from_ms, to_ms),
            detail_max,
        ),
        Command::Export {
            trace,
            perfetto,
            mermaid,
            from_ms,
            to_ms,
            mermaid_max,
        } => cmd_export(
            &trace,
            perfetto.as_deref(),
            mermaid.as_deref(),
            TimeWindow::from_ms(from_ms, to_ms),
            mermaid_max,
        ),
        Command::Diff { a, b, out } => cmd_diff(&a, &b, out.as_deref()),
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
    html: Option<PathBuf>,
    json: bool,
) -> ExitCode {
    let (scenario, source) = match scenario::load(path) {
        Ok(x) => x,
        Err(e) => return fail_input(e),
    };
    let outputs: Vec<&Path> = [&trace, &history, &html]
        .into_iter()
        .flatten()
        .map(PathBuf::as_path)
        .collect();
    if (1..outputs.len()).any(|i| outputs[..i].contains(&outputs[i])) {
        return fail_input("two outputs name the same file");
    }
    for out in [&trace, &history, &html].into_iter().flatten() {
        if same_file(out, path) {
            return fail_input(format!(
                "{}: this would overwrite the scenario file itself",
                out.display()
            ));
        }
    }
    let options = RunOptions {
        seed,
        trace: trace
            .clone()
            .or_else(|| html.as_deref().map(scratch_trace))
            .map_or(TraceOutput::Digest, TraceOutput::File),
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
    if let Some(h) = &html {
        let trace_file = trace.clone().unwrap_or_else(|| scratch_trace(h));
        let drawn = html::view_file(&trace_file, h, &TimelineOptions::default());
        if trace.is_none() {
            let _ = std::fs::remove_file(&trace_file);
        }
        if let Err(e) = drawn {
            return fail_input(e);
        }
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
        if let Some(h) = &html {
            println!("view      written to {}", h.display());
        }
        if code != 0 {
            println!("replay    {replay}");
        }
    }
    ExitCode::from(code as u8)
}

/// Where `run --html` keeps the trace it draws when no `--trace` is asked for (removed after).
fn scratch_trace(html: &Path) -> PathBuf {
    let mut name = distsim::trace::writer::partial_path(html).into_os_string();
    name.push(".trace.jsonl");
    PathBuf::from(name)
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

/// Refuses an output that names an input (it would be overwritten).
fn check_outputs(inputs: &[&Path], outputs: &[&Path]) -> Result<(), ExitCode> {
    for out in outputs {
        if inputs.iter().any(|i| same_file(out, i)) {
            return Err(fail_input(format!(
                "{}: this would overwrite an input file",
                out.display()
            )));
        }
    }
    if outputs.len() == 2 && outputs[0] == outputs[1] {
        return Err(fail_input("the two outputs name the same file"));
    }
    Ok(())
}

fn cmd_view(trace: &Path, out: &Path, window: TimeWindow, detail_max: usize) -> ExitCode {
    if let Err(code) = check_outputs(&[trace], &[out]) {
        return code;
    }
    let options = TimelineOptions {
        window,
        detail_items_max: detail_max,
        ..TimelineOptions::default()
    };
    match html::view_file(trace, out, &options) {
        Ok(t) => {
            println!(
                "view      written to {} ({} lanes, {} events in detail from {:.3} to {:.3} ms{})",
                out.display(),
                t.lanes.len(),
                t.meta.detail_items,
                t.meta.detail_from_ns as f64 / 1e6,
                t.meta.detail_to_ns as f64 / 1e6,
                if t.violation.is_some() {
                    ", violation marked"
                } else {
                    ""
                }
            );
            ExitCode::SUCCESS
        }
        Err(e) => fail_input(e),
    }
}

fn cmd_export(
    trace: &Path,
    perfetto_out: Option<&Path>,
    mermaid_out: Option<&Path>,
    window: TimeWindow,
    mermaid_max: usize,
) -> ExitCode {
    let outputs: Vec<&Path> = [perfetto_out, mermaid_out].into_iter().flatten().collect();
    if outputs.is_empty() {
        return fail_input("export: name an output with --perfetto FILE and/or --mermaid FILE");
    }
    if let Err(code) = check_outputs(&[trace], &outputs) {
        return code;
    }
    let done = (|| -> Result<(), ExportError> {
        if let Some(out) = perfetto_out {
            let s = perfetto::perfetto_file(trace, out, window)?;
            println!(
                "perfetto  written to {} ({} slices, {} message arrows, {} instants)",
                out.display(),
                s.slices,
                s.flows,
                s.instants
            );
        }
        if let Some(out) = mermaid_out {
            let text = mermaid::mermaid_file(trace, out, window, mermaid_max)?;
            println!(
                "mermaid   written to {} ({} lines)",
                out.display(),
                text.lines().count()
            );
        }
        Ok(())
    })();
    match done {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail_input(e),
    }
}

fn cmd_diff(a: &Path, b: &Path, out: Option<&Path>) -> ExitCode {
    if let Some(o) = out
        && let Err(code) = check_outputs(&[a, b], &[o])
    {
        return code;
    }
    match distsim::trace::diff::diff_files_to(a, b, out) {
        Ok(d) => {
            print!(
                "{}",
                d.render_text(&a.display().to_string(), &b.display().to_string())
            );
            if let Some(o) = out {
                println!("diff      written to {}", o.display());
            }
            if d.same() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            }
        }
        Err(e) => fail_input(e),
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
