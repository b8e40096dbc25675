//! Chrome trace-event JSON, as loaded by <https://ui.perfetto.dev> and `chrome://tracing`.
//!
//! - One process (the run), one thread track per node and client, named `n0`, `c5` (the first
//!   [`LANES_MAX`] are named).
//! - Each handler execution (a start, a delivery, a timer, a drop at the receiver) is a complete
//!   slice (`"ph":"X"`) on its node's track. Handlers take no virtual time, so a slice lasts
//!   [`SLICE_US`] or until the node's next handler, whichever is sooner, so that slices never overlap.
//! - Each message copy is a flow arrow (`"ph":"s"` at the send, `"ph":"f"` at the delivery or drop)
//!   between those slices; the delivery slice carries the message in its `args`.
//! - Faults, the violation and the end of the run are global instant events; notes, role changes and
//!   client operations are instant events on their node's track.
//!
//! Timestamps are microseconds of virtual time (fractions keep the nanoseconds). The export streams:
//! its memory is the messages in flight, at most [`PENDING_MAX`] of them tracked (beyond that a
//! message's delivery slice has no arrow and no body), with bodies longer than [`BODY_CHARS_MAX`] cut to that many characters of text.

use super::timeline::LANES_MAX;
use super::{
    ExportError, TimeWindow, cut, message_kind_raw, node_label, note_kind_raw, write_output_with,
};
use crate::trace::scan::{TraceEvent, TraceScan, parsed};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::io::{BufRead, Write};
use std::path::Path;

/// The longest a handler slice lasts, µs of virtual time.
pub const SLICE_US: f64 = 1.0;
/// The most messages in flight whose kind and body are remembered for their delivery.
pub const PENDING_MAX: usize = 200_000;
/// The longest message body kept in a delivery slice's args, in characters.
pub const BODY_CHARS_MAX: usize = 400;

const PID: u32 = 1;

/// What an export wrote.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PerfettoStats {
    /// Trace events written (metadata included).
    pub events: u64,
    /// Handler slices.
    pub slices: u64,
    /// Flow arrows (message copies sent in the window).
    pub flows: u64,
    /// Instant events.
    pub instants: u64,
    /// Messages not tracked because [`PENDING_MAX`] were in flight.
    pub untracked: u64,
}

struct InFlight {
    from: u32,
    kind: String,
    body: Value,
    copies_sent: u64,
    copies_done: u64,
}

/// A handler slice waiting for the node's next one, which bounds its length.
struct OpenSlice {
    t_ns: u64,
    name: String,
    args: Value,
}

struct Exporter<'w> {
    out: &'w mut dyn Write,
    out_name: String,
    window: TimeWindow,
    servers: u32,
    first: bool,
    stats: PerfettoStats,
    pending: BTreeMap<u64, InFlight>,
    open: BTreeMap<u32, OpenSlice>,
}

/// Exports the trace at `trace` to `out` (temporary name, then rename).
pub fn perfetto_file(
    trace: &Path,
    out: &Path,
    window: TimeWindow,
) -> Result<PerfettoStats, ExportError> {
    let mut scan = TraceScan::open(trace)?;
    let mut stats = PerfettoStats::default();
    let name = out.display().to_string();
    write_output_with(out, |w| {
        stats = export(&mut scan, window, w, &name)?;
        Ok(())
    })?;
    Ok(stats)
}

/// Streams `scan` as trace-event JSON into `out`; `out_name` names it in errors.
pub fn export<R: BufRead>(
    scan: &mut TraceScan<R>,
    window: TimeWindow,
    out: &mut dyn Write,
    out_name: &str,
) -> Result<PerfettoStats, ExportError> {
    let header = scan.header().clone();
    let mut x = Exporter {
        out,
        out_name: out_name.to_string(),
        window,
        servers: header.nodes(),
        first: true,
        stats: PerfettoStats::default(),
        pending: BTreeMap::new(),
        open: BTreeMap::new(),
    };
    x.raw(b"{\"displayTimeUnit\":\"ms\",\"otherData\":")?;
    let other = json!({
        "scenario": header.scenario_str("name"),
        "protocol": header.scenario_str("protocol"),
        "seed": header.seed,
        "virtual_time": true,
    });
    x.raw(other.to_string().as_bytes())?;
    x.raw(b",\"traceEvents\":[\n")?;
    let run_name = format!(
        "distsim {} seed {}",
        header.scenario_str("name"),
        header.seed
    );
    x.event(&json!({"ph": "M", "pid": PID, "name": "process_name", "args": {"name": run_name}}))?;
    for node in 0..header.lanes().min(LANES_MAX) {
        x.name_track(node)?;
    }
    while let Some(ev) = scan.next_event()? {
        x.line(ev)?;
    }
    let nodes: Vec<u32> = x.open.keys().copied().collect();
    for node in nodes {
        x.close_slice(node, None)?;
    }
    x.raw(b"\n]}\n")?;
    Ok(x.stats)
}

/// The flow of copy `copy` (0 the original, 1 the duplicate) of message `id`.
fn flow_id(id: u64, copy: u64) -> u64 {
    id.wrapping_mul(2).wrapping_add(copy.min(1))
}

fn us(t_ns: u64) -> f64 {
    t_ns as f64 / 1000.0
}

impl Exporter<'_> {
    fn raw(&mut self, bytes: &[u8]) -> Result<(), ExportError> {
        self.out
            .write_all(bytes)
            .map_err(|error| ExportError::Write {
                path: self.out_name.clone(),
                error,
            })
    }

    fn event(&mut self, value: &Value) -> Result<(), ExportError> {
        if !self.first {
            self.raw(b",\n")?;
        }
        self.first = false;
        self.stats.events += 1;
        let text = value.to_string();
        self.raw(text.as_bytes())
    }

    fn name_track(&mut self, node: u32) -> Result<(), ExportError> {
        let label = node_label(node, self.servers);
        self.event(&json!({"ph": "M", "pid": PID, "tid": node, "name": "thread_name", "args": {"name": label}}))?;
        self.event(&json!({"ph": "M", "pid": PID, "tid": node, "name": "thread_sort_index", "args": {"sort_index": node}}))
    }

    fn label(&self, node: u32) -> String {
        node_label(node, self.servers)
    }

    /// Starts a handler slice on `node`, ending the node's previous one.
    fn slice(
        &mut self,
        node: u32,
        t_ns: u64,
        name: String,
        args: Value,
    ) -> Result<(), ExportError> {
        self.close_slice(node, Some(t_ns))?;
        self.open.insert(node, OpenSlice { t_ns, name, args });
        Ok(())
    }

    fn close_slice(&mut self, node: u32, next_ns: Option<u64>) -> Result<(), ExportError> {
        let Some(s) = self.open.remove(&node) else {
            return Ok(());
        };
        let dur = next_ns.map_or(SLICE_US, |n| us(n.saturating_sub(s.t_ns)).min(SLICE_US));
        self.stats.slices += 1;
        self.event(&json!({
            "ph": "X", "pid": PID, "tid": node, "ts": us(s.t_ns), "dur": dur,
            "name": s.name, "cat": "handler", "args": s.args,
        }))
    }

    fn instant(
        &mut self,
        node: Option<u32>,
        t_ns: u64,
        name: String,
        args: Value,
    ) -> Result<(), ExportError> {
        self.stats.instants += 1;
        let mut e = json!({"ph": "i", "pid": PID, "ts": us(t_ns), "name": name, "args": args});
        match node {
            Some(n) => {
                e["tid"] = json!(n);
                e["s"] = json!("t");
            }
            None => e["s"] = json!("g"),
        }
        self.event(&e)
    }

    fn flow_start(
        &mut self,
        id: u64,
        copy: u64,
        from: u32,
        t_ns: u64,
        kind: &str,
    ) -> Result<(), ExportError> {
        self.stats.flows += 1;
        self.event(&json!({
            "ph": "s", "pid": PID, "tid": from, "ts": us(t_ns), "id": flow_id(id, copy),
            "name": kind, "cat": "message",
        }))
    }

    /// The delivery or drop of one copy: its flow's end and the receiver's slice.
    fn arrive(
        &mut self,
        id: u64,
        from: u32,
        to: u32,
        t_ns: u64,
        drop: Option<&Value>,
    ) -> Result<(), ExportError> {
        let Some(m) = self.pending.get_mut(&id) else {
            let name = match drop {
                Some(_) => format!(
                    "dropped message {id} from {}",
                    node_label(from, self.servers)
                ),
                None => format!(
                    "receive message {id} from {}",
                    node_label(from, self.servers)
                ),
            };
            return self.slice(to, t_ns, name, json!({"id": id}));
        };
        let copy = m.copies_done;
        m.copies_done += 1;
        let (kind, body) = (m.kind.clone(), m.body.clone());
        if m.copies_done >= m.copies_sent {
            self.pending.remove(&id);
        }
        let from_label = self.label(from);
        let (name, args) = match drop {
            Some(reason) => (
                format!("dropped {kind} from {from_label}"),
                json!({"id": id, "from": from_label, "reason": reason, "msg": body}),
            ),
            None => (
                format!("{kind} from {from_label}"),
                json!({"id": id, "from": from_label, "msg": body, "copy": copy}),
            ),
        };
        self.slice(to, t_ns, name, args)?;
        self.event(&json!({
            "ph": "f", "bp": "e", "pid": PID, "tid": to, "ts": us(t_ns), "id": flow_id(id, copy),
            "name": kind, "cat": "message",
        }))
    }

    fn line(&mut self, ev: TraceEvent) -> Result<(), ExportError> {
        if let Some(t) = ev.time_ns()
            && !self.window.contains(t)
            && !matches!(ev, TraceEvent::End { .. })
        {
            return Ok(());
        }
        match ev {
            TraceEvent::Start { t, node, .. } => self.slice(node, t, "start".into(), json!({})),
            TraceEvent::Send {
                t, id, from, msg, ..
            } => {
                let kind = message_kind_raw(&msg);
                if self.pending.len() >= PENDING_MAX {
                    self.stats.untracked += 1;
                    return Ok(());
                }
                // The message itself when short, else its text cut to the bound.
                let text = cut(msg.get(), BODY_CHARS_MAX);
                let body = if text.len() < msg.get().len() {
                    Value::String(text)
                } else {
                    parsed(&msg)
                };
                self.pending.insert(
                    id,
                    InFlight {
                        from,
                        kind: kind.clone(),
                        body,
                        copies_sent: 1,
                        copies_done: 0,
                    },
                );
                self.flow_start(id, 0, from, t, &kind)
            }
            TraceEvent::Duplicate { t, id, .. } => {
                let Some(m) = self.pending.get_mut(&id) else {
                    return Ok(());
                };
                m.copies_sent += 1;
                let (kind, from) = (m.kind.clone(), m.from);
                self.stats.flows += 1;
                self.event(&json!({
                    "ph": "s", "pid": PID, "tid": from, "ts": us(t), "id": flow_id(id, 1),
                    "name": kind, "cat": "message", "args": {"duplicate": true},
                }))
            }
            TraceEvent::Deliver {
                t, id, from, to, ..
            } => self.arrive(id, from, to, t, None),
            TraceEvent::Drop {
                t,
                id,
                from,
                to,
                reason,
                ..
            } => self.arrive(id, from, to, t, Some(&reason)),
            TraceEvent::Timer { t, node, timer, .. } => {
                let tag = timer
                    .as_str()
                    .map_or_else(|| timer.to_string(), str::to_string);
                self.slice(node, t, format!("timer {tag}"), json!({"timer": timer}))
            }
            TraceEvent::Note { t, node, note, .. } => self.instant(
                Some(node),
                t,
                note_kind_raw(&note),
                json!({"note": parsed(&note)}),
            ),
            TraceEvent::Role { t, node, role, .. } => {
                let name = format!("role: {}", role.as_deref().unwrap_or("none"));
                self.instant(Some(node), t, name, json!({"role": role}))
            }
            TraceEvent::Fault {
                t,
                fault,
                nodes,
                effect,
                ..
            } => self.instant(
                None,
                t,
                format!("fault: {effect}"),
                json!({"fault": fault, "nodes": nodes}),
            ),
            TraceEvent::History { node, event, .. } => {
                let f = event
                    .f
                    .as_str()
                    .map_or_else(|| event.f.to_string(), str::to_string);
                let name = format!(
                    "{} {f}{}",
                    event.kind,
                    event
                        .key
                        .as_deref()
                        .map(|k| format!(" {k}"))
                        .unwrap_or_default()
                );
                self.instant(
                    Some(node),
                    event.time_ns,
                    name,
                    json!({"value": event.value}),
                )
            }
            TraceEvent::Violation {
                t,
                checker,
                node,
                message,
                e,
            } => self.instant(
                None,
                t,
                format!("VIOLATION {checker}: {message}"),
                json!({"checker": checker, "node": node, "event": e}),
            ),
            TraceEvent::End {
                outcome,
                end_reason,
                end_time_ns,
                violation,
            } => self.instant(
                None,
                end_time_ns.min(self.window.to_ns),
                format!("end: {outcome} ({end_reason})"),
                json!({"violation": violation}),
            ),
            TraceEvent::Other => Ok(()),
        }
    }
}
