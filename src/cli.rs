//! The `distsim` command line, as a library call: it parses arguments, calls the library, prints, and
//! maps outcomes to exit codes: 0 as expected, 1 a violation (or an expected one missing), 2 bad input
//! or usage, 3 undecided.
//!
//! distsim's own binary is `main_with(Registry::builtin())`. A user's binary registers its own
//! protocols and gets every subcommand for them:
//!
//! ```no_run
//! # use distsim::run::registry::Registry;
//! # struct MyProtocol;
//! fn main() -> std::process::ExitCode {
//!     distsim::cli::main_with(Registry::builtin() /* .with::<MyProtocol>() */)
//! }
//! ```

use crate::check::history_format::{Format, to_edn_independent_string};
use crate::check::linearizability::{BUILTIN_MODELS, CheckOptions, check_file_and_print};
use crate::run::registry::{self, Registry};
use crate::run::{self, RunError, RunOptions};
use crate::scenario;
use crate::text::escaped;
use crate::trace::TraceOutput;
use crate::trace::export::timeline::TimelineOptions;
use crate::trace::export::{ExportError, TimeWindow, html, mermaid, perfetto};
use clap::{Parser, Subcommand};
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
        /// Write the clients' history as Jepsen EDN in the `jepsen.independent` layout (for Knossos
        /// and Elle; `check-history` reads it back) to this file.
        #[arg(long)]
        history: Option<PathBuf>,
        /// Draw the run as a space-time diagram (self-contained HTML) in this file.
        #[arg(long)]
        html: Option<PathBuf>,
        /// Print the report as one JSON object.
        #[arg(long)]
        json: bool,
        /// Run the fault profile that swarm testing draws for this seed (as `sweep --swarm` does).
        #[arg(long)]
        swarm: bool,
        /// Run twice in this process and compare every trace line (exit 1 at the first difference).
        #[arg(long, conflicts_with_all = ["trace", "history", "html", "json"])]
        check_determinism: bool,
    },
    /// Check a recorded history for linearizability (exit 0 yes, 1 no, 3 undecided, 2 bad input).
    CheckHistory {
        /// The history file: a Jepsen etcd log, Jepsen EDN maps, distsim JSONL, or a distsim trace.
        file: PathBuf,
        /// The sequential model: `register` (read/write/cas) or `kv` (get/put/append/cas per key);
        /// `distsim list` shows every built-in model.
        #[arg(long)]
        model: String,
        /// The file's format (`jepsen-log`, `edn`, `jsonl`, `trace`); guessed from the content if omitted.
        #[arg(long)]
        format: Option<Format>,
        /// The most search states per key before the answer is `unknown`.
        #[arg(long, default_value_t = CheckOptions::default().budget_states_max)]
        budget_states_max: u64,
        /// The most bytes the search may hold (counted from sizes) before the answer is `unknown`.
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
        #[arg(long, default_value_t = crate::trace::export::mermaid::ITEMS_MAX)]
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
    /// List the protocols, their checkers, mutants and groups, the fault kinds and the models.
    List {
        /// Also print each protocol's parameters, with their defaults and meaning.
        #[arg(long)]
        params: bool,
    },
    /// Run a scenario over many seeds in parallel, group the failures and shrink each group's shortest.
    Sweep(crate::sweep::command::SweepArgs),
    /// Shrink a failing trace or scenario to a smaller scenario that fails the same checker.
    Shrink(crate::sweep::command::ShrinkArgs),
    /// Combine the results of sweep shards (their --out folders) into one triage table.
    Merge(crate::sweep::command::MergeArgs),
}

const EXIT_BAD_INPUT: u8 = 2;

/// Runs the command line given to this process with the protocols of `registry` (installed as the
/// process's registry: see [`registry::install`]).
pub fn main_with(registry: Registry) -> ExitCode {
    main_with_args(registry, std::env::args_os())
}

/// [`main_with`] with the arguments given (the first is the program's name), for tests and wrappers.
pub fn main_with_args<I, T>(registry: Registry, args: I) -> ExitCode
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    let names = registry.names();
    if !registry::install(registry) && registry::current().names() != names {
        eprintln!("warning: another protocol registry was already in use; keeping it");
    }
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            // Help and version go to stdout with exit 0; usage errors to stderr with exit 2.
            let _ = e.print();
            return ExitCode::from(u8::try_from(e.exit_code()).unwrap_or(EXIT_BAD_INPUT));
        }
    };
    if let Err(e) = crate::output::remove_temporaries_on_signal() {
        eprintln!(
            "warning: cannot watch for signals ({e}); an interrupted run may leave temporary files"
        );
    }
    match cli.command {
        Command::Run {
            scenario,
            seed,
            swarm,
            check_determinism: true,
            ..
        } => cmd_check_determinism(&scenario, seed, swarm),
        Command::Run {
            scenario,
            seed,
            trace,
            history,
            html,
            json,
            swarm,
            check_determinism: _,
        } => cmd_run(&scenario, seed, trace, history, html, json, swarm),
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
                &model,
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
        Command::List { params } => {
            print!("{}", list_text(params));
            ExitCode::SUCCESS
        }
        Command::Sweep(args) => exit(crate::sweep::command::sweep_main(&args)),
        Command::Shrink(args) => exit(crate::sweep::command::shrink_main(&args)),
        Command::Merge(args) => exit(crate::sweep::command::merge_main(&args)),
    }
}

fn exit(code: i32) -> ExitCode {
    ExitCode::from(u8::try_from(code).unwrap_or(1))
}

fn fail_input(err: impl std::fmt::Display) -> ExitCode {
    eprintln!("error: {}", escaped(&err.to_string()));
    ExitCode::from(EXIT_BAD_INPUT)
}

fn cmd_check_determinism(path: &Path, seed: Option<u64>, swarm: bool) -> ExitCode {
    let (scenario, source) = match scenario::load(path) {
        Ok(x) => x,
        Err(e) => return fail_input(e),
    };
    let drawn = swarm.then(|| crate::sweep::swarm::draw(&scenario, seed.unwrap_or(scenario.seed)));
    let checked = run::replay::check_determinism(
        run::Runner::by_name(),
        drawn.as_ref().unwrap_or(&scenario),
        Some(&source),
        seed,
    );
    let checked = match checked {
        Ok(c) => c,
        Err(e) => return fail_input(e),
    };
    print!("{}", checked.report.render_text(40));
    match &checked.difference {
        None => {
            println!(
                "determinism  the second run wrote the same {} lines",
                checked.lines
            );
            ExitCode::from(checked.report.outcome.exit_code() as u8)
        }
        Some(m) => {
            println!(
                "determinism  DIFFERS: the second run departs at line {}",
                m.line
            );
            print!("{}", m.render());
            ExitCode::from(1)
        }
    }
}

fn cmd_run(
    path: &Path,
    seed: Option<u64>,
    trace: Option<PathBuf>,
    history: Option<PathBuf>,
    html: Option<PathBuf>,
    json: bool,
    swarm: bool,
) -> ExitCode {
    let (scenario, source) = match scenario::load(path) {
        Ok(x) => x,
        Err(e) => return fail_input(e),
    };
    let drawn = swarm.then(|| crate::sweep::swarm::draw(&scenario, seed.unwrap_or(scenario.seed)));
    let outputs: Vec<(&str, &Path)> = [
        ("--trace", &trace),
        ("--history", &history),
        ("--html", &html),
    ]
    .into_iter()
    .filter_map(|(role, p)| p.as_deref().map(|p| (role, p)))
    .collect();
    if let Err(e) = crate::output::ensure_distinct(&outputs, &[path]) {
        return fail_input(e);
    }
    let scratch = match (&trace, &html) {
        (None, Some(h)) => match scratch_trace(h) {
            Ok(t) => Some(t),
            Err(e) => return fail_input(format!("cannot write the view {}: {e}", h.display())),
        },
        _ => None,
    };
    let options = RunOptions {
        seed,
        trace: trace
            .clone()
            .or_else(|| scratch.as_ref().map(|t| t.to_path_buf()))
            .map_or(TraceOutput::Digest, TraceOutput::File),
    };
    // The history is checked as it is recorded: keep it only to write it out.
    let keep_history = history.is_some();
    let to_run = drawn.as_ref().unwrap_or(&scenario);
    let out = match run::run_keeping(to_run, Some(&source), &options, keep_history) {
        Ok(o) => o,
        Err(RunError::Scenario(e)) => return fail_input(e),
        Err(e) => return fail_input(e),
    };
    if let Some(h) = &history
        && let Err(e) =
            crate::output::write_whole(h, to_edn_independent_string(&out.history).as_bytes())
    {
        return fail_input(format!("cannot write the history: {e}"));
    }
    if let Some(h) = &html {
        let trace_file = trace
            .clone()
            .or_else(|| scratch.as_ref().map(|t| t.to_path_buf()))
            .unwrap_or_default();
        let drawn = html::view_file(&trace_file, h, &TimelineOptions::default());
        drop(scratch);
        if let Err(e) = drawn {
            return fail_input(e);
        }
    }
    let report = &out.report;
    let code = report.outcome.exit_code();
    let program = std::env::args().next().unwrap_or_else(|| "distsim".into());
    let replay = run::replay::replay_hint(&program, path, report.seed, swarm, trace.as_deref())
        .iter()
        .map(|line| escaped(line).into_owned())
        .collect::<Vec<_>>()
        .join("\n          ");
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
            println!("trace     written to {}", escaped(&t.display().to_string()));
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

/// A uniquely named scratch file beside `html` for the trace `run --html` draws when no `--trace` is
/// asked for; it is removed when dropped.
fn scratch_trace(html: &Path) -> std::io::Result<tempfile::TempPath> {
    let dir = match html.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    Ok(tempfile::Builder::new()
        .prefix(".distsim-view-")
        .suffix(".trace.jsonl")
        .tempfile_in(dir)?
        .into_temp_path())
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
            "first_difference": r.mismatch.as_ref().map(|m| serde_json::json!({
                "line": m.line, "expected": m.expected, "got": m.got,
            })),
        });
        println!("{value}");
    } else {
        print!("{}", r.report.render_text(40));
        match &r.mismatch {
            None => println!("replay    reproduced all {} lines exactly", r.lines),
            Some(m) => {
                println!(
                    "replay    DIVERGED at line {} of {}",
                    m.line,
                    crate::text::escaped(&path.display().to_string())
                );
                print!("{}", m.render());
            }
        }
    }
    if r.matches() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

/// Refuses an output that names an input (it would be overwritten), or two outputs that are one file.
fn check_outputs(inputs: &[&Path], outputs: &[(&str, &Path)]) -> Result<(), ExitCode> {
    crate::output::ensure_distinct(outputs, inputs).map_err(fail_input)
}

fn cmd_view(trace: &Path, out: &Path, window: TimeWindow, detail_max: usize) -> ExitCode {
    if let Err(code) = check_outputs(&[trace], &[("-o", out)]) {
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
    let outputs: Vec<(&str, &Path)> = [("--perfetto", perfetto_out), ("--mermaid", mermaid_out)]
        .into_iter()
        .filter_map(|(role, p)| p.map(|p| (role, p)))
        .collect();
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
        && let Err(code) = check_outputs(&[a, b], &[("-o", o)])
    {
        return code;
    }
    match crate::trace::diff::diff_files_to(a, b, out) {
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
                escaped(&path.display().to_string()),
                s.protocol,
                s.nodes,
                s.clients,
                s.faults.len()
            ),
            Err(e) => {
                bad = true;
                eprintln!("error: {}", escaped(&e.to_string()));
            }
        }
    }
    if bad {
        ExitCode::from(EXIT_BAD_INPUT)
    } else {
        ExitCode::SUCCESS
    }
}

fn list_text(with_params: bool) -> String {
    let mut s = String::from("protocols\n");
    for p in registry::current().entries().iter().map(|e| &e.info) {
        s.push_str(&format!("  {:<12} {}\n", p.name, p.about));
        if p.groups.len() > 1 {
            let groups: Vec<&str> = p.groups.iter().map(|g| g.name).collect();
            s.push_str(&format!("    groups: {}\n", groups.join(", ")));
        }
        if !p.roles.is_empty() {
            s.push_str(&format!("    roles: {}\n", p.roles.join(", ")));
        }
        for (name, about) in p.checkers {
            s.push_str(&format!("    checker {name:<31} {about}\n"));
        }
        for m in p.mutants {
            s.push_str(&format!("    mutant {:<32} {}\n", m.name, m.about));
        }
        for (mode, about) in p.attacks {
            s.push_str(&format!("    attack {mode:<32} {about}\n"));
        }
        if with_params {
            for param in p.params {
                s.push_str(&format!(
                    "    param {:<24} {:>6}  {}\n",
                    param.name, param.default, param.about
                ));
            }
        }
    }
    s.push_str("fault kinds (scenario \"faults\": one action each, at \"at_ms\")\n");
    for (name, about) in crate::fault::FaultAction::KINDS {
        s.push_str(&format!("  {name:<12} {about}\n"));
    }
    s.push_str(
        "byzantine modes (fault \"byzantine\": {\"node\", \"mode\", optional \"collude\": a group \
         whose members hear what the others send})\n",
    );
    for (name, about) in crate::fault::ByzantineMode::ALL {
        s.push_str(&format!("  {name:<12} {about}\n"));
    }
    s.push_str("models (check-history --model NAME)\n");
    for (name, about) in BUILTIN_MODELS {
        s.push_str(&format!("  {name:<12} {about}\n"));
    }
    s.push_str("checkers\n");
    for (name, about) in crate::check::GENERIC_CHECKERS {
        s.push_str(&format!("  {name:<24} {about}\n"));
    }
    s
}
