//! Running scenarios: the library calls behind `distsim run`, `validate` and `replay`.
//!
//! [`run`] picks the protocol by name from the registry; [`run_protocol`] runs any [`Protocol`], so a
//! user's own actors get the network, faults, checkers and traces without touching distsim's code.

pub mod byzantine;
mod fit;
pub mod registry;
pub mod replay;
pub mod report;

use crate::contract::History;
use crate::contract::Verdict;
use crate::contract::{Cluster, GroupSize};
use crate::contract::{Protocol, Setup};
use crate::fault::Target;
use crate::scenario::{Scenario, ScenarioError, Seg, Source};
use crate::sim::world::{RunState, Violation, World};
use crate::trace::{Line, TraceOutput, TraceWriter};
use report::{CheckerVerdict, Outcome, RunReport};

/// How to run.
#[derive(Clone, Debug, Default)]
pub struct RunOptions {
    /// Overrides the scenario's seed.
    pub seed: Option<u64>,
    /// Where the trace goes.
    pub trace: TraceOutput,
}

/// What a run produced.
#[derive(Clone, Debug)]
pub struct RunOutput {
    /// The report.
    pub report: RunReport,
    /// The trace's lines, for [`TraceOutput::Memory`].
    pub trace_lines: Option<Vec<String>>,
    /// For [`TraceOutput::Compare`]: the lines compared and the first difference.
    pub compared: Option<(usize, Option<crate::trace::compare::Mismatch>)>,
    /// The clients' history (export it with [`crate::check::history_format::write_edn`]): empty when
    /// the run did not keep it (see [`run_keeping`]).
    pub history: History,
}

/// Why a run could not be done.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The scenario is not usable (exit code 2).
    #[error("{0}")]
    Scenario(#[from] ScenarioError),
    /// The trace file could not be written (nothing was overwritten), or, when comparing, read.
    #[error("cannot {doing} the trace {path}: {source}")]
    TraceIo {
        /// `write` or `compare with`.
        doing: &'static str,
        /// The destination.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
}

fn source_or_inline(source: Option<&Source>, scenario: &Scenario) -> Source {
    source.cloned().unwrap_or_else(|| Source {
        file: format!("<scenario {}>", scenario.name),
        text: serde_json::to_string_pretty(scenario).unwrap_or_default(),
    })
}

/// Splits a protocol's `"params.a.b[2]: message"` error into a path and a message.
fn split_setup_error(err: &str) -> (Vec<Seg>, String) {
    let Some((path, msg)) = err.split_once(": ") else {
        return (vec![Seg::Key("params".into())], err.to_string());
    };
    let mut segs = Vec::new();
    for part in path.split('.') {
        let (name, rest) = part.split_once('[').unwrap_or((part, ""));
        if !name.is_empty() {
            segs.push(Seg::Key(name.to_string()));
        }
        for idx in rest.split('[') {
            if let Ok(i) = idx.trim_end_matches(']').parse::<usize>() {
                segs.push(Seg::Index(i));
            }
        }
    }
    // A protocol names its params, or the cluster shape it cannot work with (`groups.coordinator`).
    let located = ["params", "groups", "nodes", "clients"];
    if !matches!(segs.first(), Some(Seg::Key(k)) if located.contains(&k.as_str())) {
        return (vec![Seg::Key("params".into())], err.to_string());
    }
    (segs, msg.to_string())
}

/// Lays out the protocol's server groups (see [`crate::contract::GroupSpec`]) with the sizes the
/// scenario gives, and checks every group a fault names.
pub fn cluster_of<P: Protocol>(scenario: &Scenario) -> Result<Cluster, (Vec<Seg>, String)> {
    let names: Vec<&str> = P::GROUPS.iter().map(|g| g.name).collect();
    let known = || format!("protocol {} has the groups {}", P::NAME, names.join(", "));
    for name in scenario.groups.keys() {
        let path = vec![Seg::Key("groups".into()), Seg::Key(name.clone())];
        match P::GROUPS.iter().find(|g| g.name == name) {
            None => return Err((path, format!("no group `{name}`: {}", known()))),
            Some(g) if g.size == GroupSize::Rest => {
                return Err((
                    path,
                    format!("group `{name}` takes the servers the others leave: set \"nodes\""),
                ));
            }
            Some(_) => {}
        }
    }
    let mut sizes: Vec<(&'static str, u32)> = Vec::with_capacity(P::GROUPS.len());
    let mut fixed = 0u64;
    for g in P::GROUPS {
        let size = match g.size {
            GroupSize::Default(n) => scenario.groups.get(g.name).copied().unwrap_or(n),
            GroupSize::Rest => 0,
        };
        fixed += u64::from(size);
        sizes.push((g.name, size));
    }
    let nodes = u64::from(scenario.nodes);
    let rest = P::GROUPS.iter().position(|g| g.size == GroupSize::Rest);
    let nodes_path = vec![Seg::Key("nodes".into())];
    match rest {
        Some(i) if fixed <= nodes => sizes[i].1 = (nodes - fixed) as u32,
        _ if fixed == nodes => {}
        _ => {
            let layout: Vec<String> = sizes
                .iter()
                .filter(|(_, n)| *n > 0)
                .map(|(g, n)| format!("{g} {n}"))
                .collect();
            return Err((
                nodes_path,
                format!(
                    "the groups of protocol {} hold {fixed} servers ({}), but nodes is {nodes}",
                    P::NAME,
                    layout.join(", ")
                ),
            ));
        }
    }
    let cluster = Cluster::with_groups(&sizes, scenario.clients).map_err(|m| (nodes_path, m))?;
    for (i, fault) in scenario.faults.iter().enumerate() {
        for (below, target) in fault.action.targets() {
            let Target::Group { name, member } = target else {
                continue;
            };
            let mut path = vec![
                Seg::Key("faults".into()),
                Seg::Index(i),
                Seg::Key(fault.action.name().into()),
            ];
            path.extend(below.map(|b| Seg::Key(b.into())));
            let Some(ids) = cluster.group(name) else {
                path.push(Seg::Key("group".into()));
                return Err((path, format!("no group `{name}`: {}", known())));
            };
            if let Some(m) = member
                && *m >= ids.len() as u32
            {
                path.push(Seg::Key("member".into()));
                return Err((path, format!("group `{name}` has members 0..{}", ids.len())));
            }
        }
    }
    Ok(cluster)
}

/// Checks what only the protocol can check (its name, mutants and parameters) and builds it.
pub fn prepare<P: Protocol>(
    scenario: &Scenario,
    source: Option<&Source>,
) -> Result<P, ScenarioError> {
    prepare_with_cluster(scenario, source).map(|(protocol, _)| protocol)
}

/// [`prepare`], with the cluster it laid out for the run.
pub fn prepare_with_cluster<P: Protocol>(
    scenario: &Scenario,
    source: Option<&Source>,
) -> Result<(P, Cluster), ScenarioError> {
    for (i, m) in scenario.mutants.iter().enumerate() {
        if scenario.mutants[..i].contains(m) {
            return Err(source_or_inline(source, scenario).error_at(
                &[Seg::Key("mutants".into()), Seg::Index(i)],
                format!("mutant {:?} is listed twice", crate::text::escaped(m)),
            ));
        }
        if !P::MUTANTS.iter().any(|k| k.name == m) {
            let known: Vec<&str> = P::MUTANTS.iter().map(|k| k.name).collect();
            return Err(source_or_inline(source, scenario).error_at(
                &[Seg::Key("mutants".into()), Seg::Index(i)],
                format!(
                    "unknown mutant {m:?} for protocol {}; known: {}",
                    P::NAME,
                    if known.is_empty() {
                        "none".to_string()
                    } else {
                        known.join(", ")
                    }
                ),
            ));
        }
    }
    let cluster = cluster_of::<P>(scenario)
        .map_err(|(path, msg)| source_or_inline(source, scenario).error_at(&path, msg))?;
    let setup = Setup {
        cluster,
        params: &scenario.params,
        mutants: &scenario.mutants,
    };
    let mut protocol = P::setup(&setup).map_err(|e| {
        let (path, msg) = split_setup_error(&e);
        source_or_inline(source, scenario).error_at(&path, msg)
    })?;
    protocol.byzantine_nodes(&byzantine::byzantine_nodes(&scenario.faults, &cluster));
    fit::check(scenario, &protocol)
        .map_err(|(path, msg)| source_or_inline(source, scenario).error_at(&path, msg))?;
    Ok((protocol, cluster))
}

fn unknown_protocol(scenario: &Scenario, source: Option<&Source>) -> ScenarioError {
    let names = registry::current().names();
    source_or_inline(source, scenario).error_at(
        &[Seg::Key("protocol".into())],
        format!(
            "unknown protocol {:?}; known: {}",
            scenario.protocol,
            names.join(", ")
        ),
    )
}

/// Checks a scenario completely without running it (what `distsim validate` does), with the protocol
/// its `"protocol"` names in the current registry ([`registry::current`]).
pub fn validate(scenario: &Scenario, source: Option<&Source>) -> Result<(), ScenarioError> {
    match registry::current().get(&scenario.protocol) {
        Some(entry) => entry.runner.validate(scenario, source),
        None => Err(unknown_protocol(scenario, source)),
    }
}

/// How to validate and run a scenario: with the protocol its `"protocol"` names ([`Runner::by_name`],
/// the registry's), or always with one protocol type ([`Runner::of`], a user's own included). Sweeps,
/// shrinking and `distsim::testing::sweep` take one, so they work for every protocol.
#[derive(Clone, Copy)]
pub struct Runner {
    run: fn(&Scenario, Option<&Source>, &RunOptions, bool) -> Result<RunOutput, RunError>,
    validate: fn(&Scenario, Option<&Source>) -> Result<(), ScenarioError>,
    /// The protocol's name, or `None` for "whatever the scenario names".
    name: Option<&'static str>,
}

impl Runner {
    /// The protocol the scenario names, from the registry.
    pub fn by_name() -> Runner {
        Runner {
            run: run_keeping,
            validate,
            name: None,
        }
    }

    /// Always protocol `P`, whatever the scenario's `"protocol"` says.
    pub fn of<P: Protocol>() -> Runner {
        Runner {
            run: run_protocol_keeping::<P>,
            validate: |scenario, source| prepare::<P>(scenario, source).map(|_| ()),
            name: Some(P::NAME),
        }
    }

    /// Runs `scenario`, keeping the clients' history.
    pub fn run(
        &self,
        scenario: &Scenario,
        source: Option<&Source>,
        options: &RunOptions,
    ) -> Result<RunOutput, RunError> {
        (self.run)(scenario, source, options, true)
    }

    /// Runs `scenario`, keeping the clients' history only when `keep_history` or a checker needs it
    /// (see [`run_keeping`]).
    pub fn run_keeping(
        &self,
        scenario: &Scenario,
        source: Option<&Source>,
        options: &RunOptions,
        keep_history: bool,
    ) -> Result<RunOutput, RunError> {
        (self.run)(scenario, source, options, keep_history)
    }

    /// Checks `scenario` completely without running it.
    pub fn validate(
        &self,
        scenario: &Scenario,
        source: Option<&Source>,
    ) -> Result<(), ScenarioError> {
        (self.validate)(scenario, source)
    }
}

impl Default for Runner {
    fn default() -> Self {
        Runner::by_name()
    }
}

impl std::fmt::Debug for Runner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.name {
            Some(name) => write!(f, "Runner::of({name})"),
            None => f.write_str("Runner::by_name()"),
        }
    }
}

/// Runs a scenario with the protocol its `"protocol"` names in the current registry
/// ([`registry::current`]).
pub fn run(
    scenario: &Scenario,
    source: Option<&Source>,
    options: &RunOptions,
) -> Result<RunOutput, RunError> {
    run_keeping(scenario, source, options, true)
}

/// [`run`], keeping the clients' whole history ([`RunOutput::history`]) only when `keep_history` or
/// when one of the run's checkers needs it ([`crate::contract::Checker::needs_history`]); otherwise
/// the history check is fed as events are recorded and the history is dropped, so that the run's
/// memory follows what is live rather than its length. What is kept counts towards the scenario's
/// `max_memory_mb`, so a run near its bound may stop earlier when it keeps its history. `distsim run`
/// keeps it only for `--history`, and so do replays, sweeps and shrinking (which never read it).
pub fn run_keeping(
    scenario: &Scenario,
    source: Option<&Source>,
    options: &RunOptions,
    keep_history: bool,
) -> Result<RunOutput, RunError> {
    match registry::current().get(&scenario.protocol) {
        Some(entry) => entry
            .runner
            .run_keeping(scenario, source, options, keep_history),
        None => Err(unknown_protocol(scenario, source).into()),
    }
}

/// Runs a scenario with protocol `P`, whatever the scenario's `"protocol"` says: the entry point for
/// protocols defined outside distsim.
pub fn run_protocol<P: Protocol>(
    scenario: &Scenario,
    source: Option<&Source>,
    options: &RunOptions,
) -> Result<RunOutput, RunError> {
    run_protocol_keeping::<P>(scenario, source, options, true)
}

/// [`run_protocol`], keeping the history only when asked or needed (see [`run_keeping`]).
pub fn run_protocol_keeping<P: Protocol>(
    scenario: &Scenario,
    source: Option<&Source>,
    options: &RunOptions,
    keep_history: bool,
) -> Result<RunOutput, RunError> {
    let (protocol, cluster) = prepare_with_cluster::<P>(scenario, source)?;
    let seed = options.seed.unwrap_or(scenario.seed);
    let trace_err = |source: std::io::Error| {
        let (doing, path) = match &options.trace {
            TraceOutput::File(p) => ("write", p.display().to_string()),
            TraceOutput::Compare(p) => ("compare with", p.display().to_string()),
            _ => ("write", "<memory>".into()),
        };
        RunError::TraceIo {
            doing,
            path: crate::text::escaped(&path).into_owned(),
            source,
        }
    };
    // The header records the seed actually used, so the trace replays alone.
    let mut resolved = scenario.clone();
    resolved.seed = seed;
    let tracer = TraceWriter::open(&options.trace).map_err(trace_err)?;
    let mut world = World::new(&resolved, seed, protocol, cluster, tracer);
    world.keep_history(keep_history);
    let (state, tracer) = world.run();
    let (mut report, history) = build_report(&resolved, seed, state);
    let mut trace_lines = None;
    let mut compared = None;
    if let Some(tracer) = tracer {
        let sha = tracer.sha256_hex();
        let fingerprint = tracer.fingerprint_hex();
        report.fingerprint = Some(fingerprint.clone());
        report.trace_sha256.clone_from(&sha);
        let violation = report
            .violation
            .as_ref()
            .map(|v| format!("{}: {}", v.checker, v.message));
        let end: Line<'_, (), (), ()> = Line::End {
            outcome: report.outcome.as_str(),
            end_reason: report.end_reason.as_str(),
            violation: violation.as_deref(),
            end_time_ns: report.end_time_ns,
            counts: &report.counts,
            fingerprint: &fingerprint,
            // Only a trace with JSON lines writes its closing line.
            sha256: sha.as_deref().unwrap_or_default(),
        };
        let finished = tracer.close(&end).map_err(trace_err)?;
        trace_lines = finished.lines;
        compared = finished.compared;
    }
    Ok(RunOutput {
        report,
        trace_lines,
        compared,
        history,
    })
}

fn build_report(scenario: &Scenario, seed: u64, state: RunState) -> (RunReport, History) {
    let mut checkers: Vec<CheckerVerdict> = Vec::new();
    for name in &state.checker_names {
        let verdict = match &state.violation {
            Some(v) if v.checker == *name => Verdict::Fail(v.message.clone()),
            _ => state
                .verdicts
                .iter()
                .find(|(n, _)| n == name)
                .map_or(Verdict::Pass, |(_, v)| v.clone()),
        };
        checkers.push(CheckerVerdict {
            name: name.to_string(),
            verdict,
        });
    }
    let found: Option<Violation> = state.violation.clone().or_else(|| {
        checkers.iter().find_map(|c| match &c.verdict {
            Verdict::Fail(msg) => Some(Violation {
                checker: c.name.clone(),
                event_index: state.counts.events,
                time_ns: state.end_time.0,
                node: None,
                message: msg.clone(),
            }),
            _ => None,
        })
    });
    let expected = scenario.expect.as_ref().map(|e| e.violation.clone());
    let undecided = checkers
        .iter()
        .any(|c| matches!(c.verdict, Verdict::Unknown(_)));
    let outcome = match (&expected, &found) {
        (Some(want), Some(v)) if want == "any" || *want == v.checker => Outcome::Pass,
        (Some(_), _) => Outcome::Fail,
        (None, Some(_)) => Outcome::Fail,
        (None, None) if undecided => Outcome::Undecided,
        (None, None) => Outcome::Pass,
    };

    // Counted as the events were recorded: the history itself may not have been kept.
    let operations = state.operations.counts();

    let report = RunReport {
        scenario: scenario.name.clone(),
        protocol: scenario.protocol.clone(),
        seed,
        mutants: scenario.mutants.clone(),
        outcome,
        expected_violation: expected,
        end_reason: state.end_reason,
        end_time_ns: state.end_time.0,
        violation: found,
        checkers,
        counts: state.counts,
        operations,
        notes: state
            .notes
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect(),
        timeline: state.timeline,
        timeline_omitted: state.timeline_omitted,
        fingerprint: None,
        trace_sha256: None,
    };
    (report, state.history)
}
