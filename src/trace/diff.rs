//! Compares two traces: the same seed before and after a code change, or a failing seed and its
//! shrunk version.
//!
//! The headers are compared field by field (seed, format, crate version, every scenario field by its
//! path). The event lines are compared in order: lines are grouped by the engine's event index, so
//! the first line that differs is in the first event that differs, and the report names that line's
//! number and event index and shows both lines. Both files are then read to their ends to count what
//! each holds (lines by kind, messages by kind, notes by kind, role changes by role), and the counts
//! that differ are listed. Reading streams: memory is a few lines of context and the count tables,
//! each capped at [`COUNT_KEYS_MAX`] keys.

use super::export::{ExportError, cut, message_kind_raw, note_kind_raw, write_output};
use super::scan::{TraceEvent, TraceScan};
use serde_json::Value;
use std::collections::{BTreeMap, VecDeque};
use std::fmt::Write as _;
use std::io::BufRead;
use std::path::Path;

/// The most distinct keys per count table; the rest are counted under `(other)`.
pub const COUNT_KEYS_MAX: usize = 256;
/// The most header differences listed.
pub const HEADER_DIFFS_MAX: usize = 20;
/// Lines of context kept before and after the divergence (for the HTML view).
pub const CONTEXT_LINES: usize = 12;
/// The longest line shown, in characters.
pub const LINE_CHARS_MAX: usize = 2000;

/// Where two traces first differ.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Divergence {
    /// The 1-based line number.
    pub line: usize,
    /// The event index of that line in A, if it has one.
    pub event_a: Option<u64>,
    /// The event index of that line in B.
    pub event_b: Option<u64>,
    /// A's line (`None`: A ended before it).
    pub a: Option<String>,
    /// B's line (`None`: B ended before it).
    pub b: Option<String>,
    /// The lines both share just before it.
    pub before: Vec<String>,
    /// A's lines after it.
    pub after_a: Vec<String>,
    /// B's lines after it.
    pub after_b: Vec<String>,
}

/// One count that differs: `(table, key, in A, in B)`.
pub type CountDiff = (String, String, u64, u64);

/// The result of comparing two traces.
#[derive(Clone, Debug, Default)]
pub struct TraceDiff {
    /// Header fields that differ: `(path, A's value, B's value)`.
    pub header: Vec<(String, String, String)>,
    /// Header fields that differ past [`HEADER_DIFFS_MAX`].
    pub header_more: usize,
    /// The first differing event line, if any.
    pub first: Option<Divergence>,
    /// Counts that differ.
    pub counts: Vec<CountDiff>,
    /// Lines in A and in B.
    pub lines: (usize, usize),
}

impl TraceDiff {
    /// Whether the traces are the same, line for line.
    pub fn same(&self) -> bool {
        self.header.is_empty() && self.first.is_none()
    }

    /// The report as text.
    pub fn render_text(&self, a_name: &str, b_name: &str) -> String {
        let mut s = String::new();
        let _ = writeln!(s, "A {a_name} ({} lines)", self.lines.0);
        let _ = writeln!(s, "B {b_name} ({} lines)", self.lines.1);
        if self.same() {
            s.push_str("same: every line is identical\n");
            return s;
        }
        if !self.header.is_empty() {
            s.push_str("headers differ:\n");
            for (path, a, b) in &self.header {
                let _ = writeln!(s, "  {path}: {a} -> {b}");
            }
            if self.header_more > 0 {
                let _ = writeln!(s, "  ... and {} more fields", self.header_more);
            }
        }
        match &self.first {
            None => s.push_str("events: identical\n"),
            Some(d) => {
                let ev = |e: Option<u64>| e.map_or("-".to_string(), |e| e.to_string());
                let _ = writeln!(
                    s,
                    "first divergence at line {} (event {} in A, {} in B):",
                    d.line,
                    ev(d.event_a),
                    ev(d.event_b)
                );
                let _ = writeln!(s, "  A: {}", d.a.as_deref().unwrap_or("(end of file)"));
                let _ = writeln!(s, "  B: {}", d.b.as_deref().unwrap_or("(end of file)"));
            }
        }
        if !self.counts.is_empty() {
            s.push_str("counts that differ (A -> B):\n");
            for (table, key, a, b) in &self.counts {
                let _ = writeln!(s, "  {table:<9} {key:<28} {a} -> {b}");
            }
        }
        s
    }

    /// The report as a self-contained HTML page, the divergence shown side by side.
    pub fn render_html(&self, a_name: &str, b_name: &str) -> String {
        let e = escape;
        let mut s = String::from(
            "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>distsim trace diff</title><style>\
             body{font:13px/1.4 system-ui,sans-serif;margin:16px;color:#1d2330}\
             table{border-collapse:collapse;width:100%;table-layout:fixed}\
             td,th{border:1px solid #d8dce3;padding:2px 6px;vertical-align:top;text-align:left}\
             td.l{font:11px/1.35 ui-monospace,Menlo,monospace;white-space:pre-wrap;word-break:break-all}\
             tr.d td.l{background:#fde8e8}th.n,td.n{width:4em;color:#7a8291}\
             .same{color:#1a7f37;font-weight:600}.diff{color:#c0262d;font-weight:600}\
             </style></head><body><h1>Trace diff</h1>",
        );
        let _ = write!(
            s,
            "<p>A: <code>{}</code> ({} lines)<br>B: <code>{}</code> ({} lines)</p>",
            e(a_name),
            self.lines.0,
            e(b_name),
            self.lines.1
        );
        if self.same() {
            s.push_str("<p class=\"same\">Same: every line is identical.</p></body></html>\n");
            return s;
        }
        s.push_str("<p class=\"diff\">The traces differ.</p>");
        if !self.header.is_empty() {
            s.push_str("<h2>Headers</h2><table><tr><th>field</th><th>A</th><th>B</th></tr>");
            for (path, a, b) in &self.header {
                let _ = write!(
                    s,
                    "<tr><td>{}</td><td class=\"l\">{}</td><td class=\"l\">{}</td></tr>",
                    e(path),
                    e(a),
                    e(b)
                );
            }
            s.push_str("</table>");
        }
        if let Some(d) = &self.first {
            let _ = write!(
                s,
                "<h2 id=\"divergence\">First divergence: line {}</h2>",
                d.line
            );
            s.push_str("<table><tr><th class=\"n\">line</th><th>A</th><th>B</th></tr>");
            let first_before = d.line - d.before.len();
            for (i, l) in d.before.iter().enumerate() {
                let _ = write!(
                    s,
                    "<tr><td class=\"n\">{}</td><td class=\"l\">{}</td><td class=\"l\">{}</td></tr>",
                    first_before + i,
                    e(l),
                    e(l)
                );
            }
            let none = String::from("(end of file)");
            let rows = 1 + d.after_a.len().max(d.after_b.len());
            for i in 0..rows {
                let (a, b) = if i == 0 {
                    (d.a.as_ref().unwrap_or(&none), d.b.as_ref().unwrap_or(&none))
                } else {
                    (
                        d.after_a.get(i - 1).unwrap_or(&none),
                        d.after_b.get(i - 1).unwrap_or(&none),
                    )
                };
                let class = if a == b { "" } else { " class=\"d\"" };
                let _ = write!(
                    s,
                    "<tr{class}><td class=\"n\">{}</td><td class=\"l\">{}</td><td class=\"l\">{}</td></tr>",
                    d.line + i,
                    e(a),
                    e(b)
                );
            }
            s.push_str("</table>");
        }
        if !self.counts.is_empty() {
            s.push_str("<h2>Counts that differ</h2><table><tr><th>table</th><th>key</th><th>A</th><th>B</th></tr>");
            for (table, key, a, b) in &self.counts {
                let _ = write!(
                    s,
                    "<tr><td>{}</td><td>{}</td><td>{a}</td><td>{b}</td></tr>",
                    e(table),
                    e(key)
                );
            }
            s.push_str("</table>");
        }
        s.push_str("</body></html>\n");
        s
    }
}

/// Compares the traces at `a` and `b`.
pub fn diff_files(a: &Path, b: &Path) -> Result<TraceDiff, ExportError> {
    let mut sa = TraceScan::open(a)?;
    let mut sb = TraceScan::open(b)?;
    diff(&mut sa, &mut sb)
}

/// Compares the traces at `a` and `b` and, when `html` is given, writes the side-by-side page there.
pub fn diff_files_to(a: &Path, b: &Path, html: Option<&Path>) -> Result<TraceDiff, ExportError> {
    let d = diff_files(a, b)?;
    if let Some(out) = html {
        let page = d.render_html(&a.display().to_string(), &b.display().to_string());
        write_output(out, page.as_bytes())?;
    }
    Ok(d)
}

/// Compares two open traces.
pub fn diff<R1: BufRead, R2: BufRead>(
    a: &mut TraceScan<R1>,
    b: &mut TraceScan<R2>,
) -> Result<TraceDiff, ExportError> {
    let mut out = TraceDiff::default();
    header_diff(a, b, &mut out);
    let mut counts_a = Counts::default();
    let mut counts_b = Counts::default();
    let mut before: VecDeque<String> = VecDeque::new();
    let mut first: Option<Divergence> = None;
    loop {
        let la = a.next_raw()?.map(str::to_string);
        let ea = la.as_ref().map(|_| a.current_event()).transpose()?;
        let lb = b.next_raw()?.map(str::to_string);
        let eb = lb.as_ref().map(|_| b.current_event()).transpose()?;
        if la.is_none() && lb.is_none() {
            break;
        }
        if let Some(ev) = &ea {
            counts_a.add(ev);
        }
        if let Some(ev) = &eb {
            counts_b.add(ev);
        }
        match &mut first {
            Some(d) => {
                if let Some(l) = la.filter(|_| d.after_a.len() < CONTEXT_LINES) {
                    d.after_a.push(cut(&l, LINE_CHARS_MAX));
                }
                if let Some(l) = lb.filter(|_| d.after_b.len() < CONTEXT_LINES) {
                    d.after_b.push(cut(&l, LINE_CHARS_MAX));
                }
            }
            None if la == lb => {
                before.push_back(cut(la.as_deref().unwrap_or(""), LINE_CHARS_MAX));
                if before.len() > CONTEXT_LINES {
                    before.pop_front();
                }
            }
            None => {
                let line = a.line_no().max(b.line_no());
                first = Some(Divergence {
                    line,
                    event_a: ea.as_ref().and_then(TraceEvent::event_index),
                    event_b: eb.as_ref().and_then(TraceEvent::event_index),
                    a: la.map(|l| cut(&l, LINE_CHARS_MAX)),
                    b: lb.map(|l| cut(&l, LINE_CHARS_MAX)),
                    before: before.drain(..).collect(),
                    after_a: Vec::new(),
                    after_b: Vec::new(),
                });
            }
        }
    }
    out.first = first;
    out.lines = (a.line_no(), b.line_no());
    for (table, ta) in &counts_a.tables {
        let empty = BTreeMap::new();
        let tb = counts_b.tables.get(table).unwrap_or(&empty);
        let keys: std::collections::BTreeSet<&String> = ta.keys().chain(tb.keys()).collect();
        for key in keys {
            let (x, y) = (
                ta.get(key).copied().unwrap_or(0),
                tb.get(key).copied().unwrap_or(0),
            );
            if x != y {
                out.counts.push((table.to_string(), key.clone(), x, y));
            }
        }
    }
    for (table, tb) in &counts_b.tables {
        if !counts_a.tables.contains_key(table) {
            for (key, y) in tb {
                out.counts.push((table.to_string(), key.clone(), 0, *y));
            }
        }
    }
    Ok(out)
}

fn header_diff<R1: BufRead, R2: BufRead>(
    a: &TraceScan<R1>,
    b: &TraceScan<R2>,
    out: &mut TraceDiff,
) {
    let (ha, hb) = (a.header(), b.header());
    let mut found = Vec::new();
    for (name, x, y) in [
        ("seed", ha.seed.to_string(), hb.seed.to_string()),
        ("format", ha.format.to_string(), hb.format.to_string()),
        ("distsim", ha.distsim.clone(), hb.distsim.clone()),
    ] {
        if x != y {
            found.push((name.to_string(), x, y));
        }
    }
    value_diff("scenario", &ha.scenario, &hb.scenario, &mut found);
    out.header_more = found.len().saturating_sub(HEADER_DIFFS_MAX);
    found.truncate(HEADER_DIFFS_MAX);
    out.header = found;
}

/// Differences between two JSON values, by path (`scenario.faults[1].at_ms`).
fn value_diff(path: &str, a: &Value, b: &Value, out: &mut Vec<(String, String, String)>) {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let keys: std::collections::BTreeSet<&String> = x.keys().chain(y.keys()).collect();
            for k in keys {
                let (va, vb) = (
                    x.get(k).unwrap_or(&Value::Null),
                    y.get(k).unwrap_or(&Value::Null),
                );
                value_diff(&format!("{path}.{k}"), va, vb, out);
            }
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
            for (i, (va, vb)) in x.iter().zip(y).enumerate() {
                value_diff(&format!("{path}[{i}]"), va, vb, out);
            }
        }
        _ if a != b => out.push((
            path.to_string(),
            cut(&a.to_string(), 200),
            cut(&b.to_string(), 200),
        )),
        _ => {}
    }
}

/// What a trace holds, by table and key.
#[derive(Default)]
struct Counts {
    tables: BTreeMap<&'static str, BTreeMap<String, u64>>,
}

impl Counts {
    fn add(&mut self, ev: &TraceEvent) {
        let kind = match ev {
            TraceEvent::Start { .. } => "start",
            TraceEvent::Send { msg, .. } => {
                self.bump("messages", &message_kind_raw(msg));
                "send"
            }
            TraceEvent::Duplicate { .. } => "duplicate",
            TraceEvent::Drop { .. } => "drop",
            TraceEvent::Deliver { .. } => "deliver",
            TraceEvent::Timer { .. } => "timer",
            TraceEvent::Fault { .. } => "fault",
            TraceEvent::Role { role, .. } => {
                self.bump("roles", role.as_deref().unwrap_or("(none)"));
                "role"
            }
            TraceEvent::Note { note, .. } => {
                self.bump("notes", &note_kind_raw(note));
                "note"
            }
            TraceEvent::History { event, .. } => {
                self.bump("history", &event.kind);
                "history"
            }
            TraceEvent::Violation { checker, .. } => {
                self.bump("violation", checker);
                "violation"
            }
            TraceEvent::End { outcome, .. } => {
                self.bump("outcome", outcome);
                "end"
            }
            TraceEvent::Other => "(other)",
        };
        self.bump("lines", kind);
    }

    fn bump(&mut self, table: &'static str, key: &str) {
        let t = self.tables.entry(table).or_default();
        let key = if t.contains_key(key) || t.len() < COUNT_KEYS_MAX {
            key
        } else {
            "(other)"
        };
        *t.entry(key.to_string()).or_default() += 1;
    }
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}
