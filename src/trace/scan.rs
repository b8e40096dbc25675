//! Streaming, tolerant trace reading for the views, exports and diff.
//!
//! Unlike [`super::reader`], which reads a whole trace to replay it and insists on the exact format,
//! this reader goes one line at a time with bounded memory and is lenient about the shape: fields it
//! does not know are ignored, line kinds it does not know come back as [`TraceEvent::Other`], and the
//! scenario in the header is kept as plain JSON. A newer writer that adds fields (node groups,
//! Byzantine tampering) still draws. What it does insist on is what the views need: every line is a
//! JSON object with a `kind`, the first line is the header, and the fields a known kind relies on
//! (`t`, `from`, `to`, ...) are present with the right type. Anything else is a located error.
//!
//! Formats 1 and 2 are read as they are. A format-3 file is read through an [`Expander`], which turns
//! each compact line into its format-2 line: [`TraceScan::next_raw`] returns that expanded line, and
//! line numbers stay those of the file. Later formats are refused.

use super::expand::{Expanded, Expander};
use super::line::TRACE_FORMAT;
use super::reader::TraceReadError;

/// The largest trace file the views read.
pub const TRACE_BYTES_MAX: u64 = 4 << 30;
use serde::Deserialize;
use serde_json::Value;
use serde_json::value::RawValue;
use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

/// The longest trace line read (a bound; the header holds the whole scenario, so it is generous).
pub const LINE_BYTES_MAX: usize = 16 * 1024 * 1024;

/// A JSON value kept as the text the trace holds: checked, not parsed into a tree, so that lines
/// the views only count cost no allocation per field. [`parsed`] turns one into a [`Value`].
pub type RawJson = Box<RawValue>;

/// `raw` as a [`Value`] (it was checked when read, so this cannot fail; `null` if it somehow does).
pub fn parsed(raw: &RawValue) -> Value {
    serde_json::from_str(raw.get()).unwrap_or(Value::Null)
}

/// The trace header, read leniently: the scenario stays plain JSON.
#[derive(Clone, Debug, Deserialize)]
pub struct TraceHeader {
    /// The format version.
    pub format: u32,
    /// The crate version that wrote the trace.
    #[serde(default)]
    pub distsim: String,
    /// The seed used.
    pub seed: u64,
    /// The resolved scenario, as written.
    pub scenario: Value,
    /// Node groups, if the writer records them here rather than in the scenario.
    #[serde(default)]
    pub groups: Value,
}

impl TraceHeader {
    /// The number of servers (`scenario.nodes`), 0 if absent.
    pub fn nodes(&self) -> u32 {
        self.scenario_u32("nodes")
    }

    /// The number of clients (`scenario.clients`), 0 if absent.
    pub fn clients(&self) -> u32 {
        self.scenario_u32("clients")
    }

    /// Servers and clients together (node ids `0..lanes`), saturating.
    pub fn lanes(&self) -> u32 {
        self.nodes().saturating_add(self.clients())
    }

    /// The group of `node`, when the trace names groups as `{"name": [node ids]}` (in the header or
    /// in the scenario); the first group listing it.
    pub fn group_of(&self, node: u32) -> Option<String> {
        [
            &self.groups,
            self.scenario.get("groups").unwrap_or(&Value::Null),
        ]
        .into_iter()
        .filter_map(Value::as_object)
        .flat_map(|m| m.iter())
        .find(|(_, ids)| {
            ids.as_array()
                .is_some_and(|a| a.iter().any(|i| i.as_u64() == Some(u64::from(node))))
        })
        .map(|(name, _)| name.clone())
    }

    /// A text field of the scenario (`name`, `protocol`), empty if absent.
    pub fn scenario_str(&self, field: &str) -> &str {
        self.scenario
            .get(field)
            .and_then(Value::as_str)
            .unwrap_or("")
    }

    fn scenario_u32(&self, field: &str) -> u32 {
        self.scenario
            .get(field)
            .and_then(Value::as_u64)
            .and_then(|n| u32::try_from(n).ok())
            .unwrap_or(0)
    }
}

/// A client history record inside a `history` line.
#[derive(Clone, Debug, Deserialize)]
pub struct HistoryRecord {
    /// True time, ns.
    pub time_ns: u64,
    /// `invoke`, `ok`, `fail` or `info`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The operation's function (`get`, `put`, ...).
    #[serde(default)]
    pub f: Value,
    /// The key, if any.
    #[serde(default)]
    pub key: Option<String>,
    /// The argument or the result.
    #[serde(default)]
    pub value: Value,
}

/// One trace line after the header, with only the fields the views use.
#[derive(Clone, Debug)]
pub enum TraceEvent {
    /// A node started.
    Start {
        /// Event index.
        e: u64,
        /// True time, ns.
        t: u64,
        /// The node.
        node: u32,
    },
    /// A message was sent.
    Send {
        /// Event index.
        e: u64,
        /// True time, ns.
        t: u64,
        /// Message id.
        id: u64,
        /// Sender.
        from: u32,
        /// Receiver.
        to: u32,
        /// The message, as the trace wrote it (parse it only when needed).
        msg: RawJson,
    },
    /// The network copied message `id`.
    Duplicate {
        /// Event index.
        e: u64,
        /// True time, ns.
        t: u64,
        /// Message id.
        id: u64,
    },
    /// A message was lost.
    Drop {
        /// Event index.
        e: u64,
        /// True time, ns.
        t: u64,
        /// Message id.
        id: u64,
        /// Sender.
        from: u32,
        /// Receiver.
        to: u32,
        /// Why, in the writer's words.
        reason: Value,
    },
    /// A message arrived.
    Deliver {
        /// Event index.
        e: u64,
        /// True time, ns.
        t: u64,
        /// Message id.
        id: u64,
        /// Sender.
        from: u32,
        /// Receiver.
        to: u32,
    },
    /// A timer fired.
    Timer {
        /// Event index.
        e: u64,
        /// True time, ns.
        t: u64,
        /// The node.
        node: u32,
        /// The timer's tag.
        timer: Value,
    },
    /// A fault was applied.
    Fault {
        /// Event index.
        e: u64,
        /// True time, ns.
        t: u64,
        /// The fault as scheduled.
        fault: Value,
        /// The nodes it hit.
        nodes: Vec<u32>,
        /// What it did, in words.
        effect: String,
    },
    /// A node's role changed (`None`: no role, or down).
    Role {
        /// Event index.
        e: u64,
        /// True time, ns.
        t: u64,
        /// The node.
        node: u32,
        /// The new role.
        role: Option<String>,
    },
    /// A protocol note.
    Note {
        /// Event index.
        e: u64,
        /// True time, ns.
        t: u64,
        /// The node.
        node: u32,
        /// The note, as the trace wrote it.
        note: RawJson,
    },
    /// A client history record.
    History {
        /// Event index.
        e: u64,
        /// The client.
        node: u32,
        /// The record.
        event: HistoryRecord,
    },
    /// A safety violation.
    Violation {
        /// Event index.
        e: u64,
        /// True time, ns.
        t: u64,
        /// The checker.
        checker: String,
        /// The node whose event exposed it.
        node: Option<u32>,
        /// The explanation.
        message: String,
    },
    /// The closing line.
    End {
        /// `pass`, `fail` or `undecided`.
        outcome: String,
        /// Why the run stopped.
        end_reason: String,
        /// The first violation, if any.
        violation: Option<String>,
        /// True time at the end, ns.
        end_time_ns: u64,
    },
    /// A line kind this reader does not know (from a newer writer); ignored by the views.
    Other,
}

/// Every field any line kind has, flat: parsing into one struct is much faster than an internally
/// tagged enum, which buffers each line before choosing its variant. [`RawLine::into_event`] then
/// checks that the kind's fields are there.
#[derive(Deserialize)]
struct RawLine {
    kind: String,
    e: Option<u64>,
    t: Option<u64>,
    id: Option<u64>,
    from: Option<u32>,
    to: Option<u32>,
    node: Option<u32>,
    msg: Option<RawJson>,
    #[serde(default)]
    reason: Value,
    #[serde(default)]
    timer: Value,
    #[serde(default)]
    fault: Value,
    nodes: Option<Vec<u32>>,
    effect: Option<String>,
    role: Option<String>,
    note: Option<RawJson>,
    event: Option<HistoryRecord>,
    checker: Option<String>,
    message: Option<String>,
    outcome: Option<String>,
    end_reason: Option<String>,
    violation: Option<String>,
    end_time_ns: Option<u64>,
}

/// A field a line kind needs, or the name of the missing one.
fn need<T>(value: Option<T>, field: &'static str) -> Result<T, &'static str> {
    value.ok_or(field)
}

impl RawLine {
    fn into_event(self) -> Result<TraceEvent, &'static str> {
        let r = self;
        Ok(match r.kind.as_str() {
            "start" => TraceEvent::Start {
                e: need(r.e, "e")?,
                t: need(r.t, "t")?,
                node: need(r.node, "node")?,
            },
            "send" => TraceEvent::Send {
                e: need(r.e, "e")?,
                t: need(r.t, "t")?,
                id: need(r.id, "id")?,
                from: need(r.from, "from")?,
                to: need(r.to, "to")?,
                msg: need(r.msg, "msg")?,
            },
            "duplicate" => TraceEvent::Duplicate {
                e: need(r.e, "e")?,
                t: need(r.t, "t")?,
                id: need(r.id, "id")?,
            },
            "drop" => TraceEvent::Drop {
                e: need(r.e, "e")?,
                t: need(r.t, "t")?,
                id: need(r.id, "id")?,
                from: need(r.from, "from")?,
                to: need(r.to, "to")?,
                reason: r.reason,
            },
            "deliver" => TraceEvent::Deliver {
                e: need(r.e, "e")?,
                t: need(r.t, "t")?,
                id: need(r.id, "id")?,
                from: need(r.from, "from")?,
                to: need(r.to, "to")?,
            },
            "timer" => TraceEvent::Timer {
                e: need(r.e, "e")?,
                t: need(r.t, "t")?,
                node: need(r.node, "node")?,
                timer: r.timer,
            },
            "fault" => TraceEvent::Fault {
                e: need(r.e, "e")?,
                t: need(r.t, "t")?,
                fault: r.fault,
                nodes: r.nodes.unwrap_or_default(),
                effect: r.effect.unwrap_or_default(),
            },
            "role" => TraceEvent::Role {
                e: need(r.e, "e")?,
                t: need(r.t, "t")?,
                node: need(r.node, "node")?,
                role: r.role,
            },
            "note" => TraceEvent::Note {
                e: need(r.e, "e")?,
                t: need(r.t, "t")?,
                node: need(r.node, "node")?,
                note: need(r.note, "note")?,
            },
            "history" => TraceEvent::History {
                e: need(r.e, "e")?,
                node: need(r.node, "node")?,
                event: need(r.event, "event")?,
            },
            "violation" => TraceEvent::Violation {
                e: need(r.e, "e")?,
                t: need(r.t, "t")?,
                checker: need(r.checker, "checker")?,
                node: r.node,
                message: need(r.message, "message")?,
            },
            "end" => TraceEvent::End {
                outcome: r.outcome.unwrap_or_default(),
                end_reason: r.end_reason.unwrap_or_default(),
                violation: r.violation,
                end_time_ns: r.end_time_ns.unwrap_or_default(),
            },
            _ => TraceEvent::Other,
        })
    }
}

impl TraceEvent {
    /// The line's true time, ns (`None` for the closing line and unknown kinds).
    pub fn time_ns(&self) -> Option<u64> {
        match self {
            TraceEvent::Start { t, .. }
            | TraceEvent::Send { t, .. }
            | TraceEvent::Duplicate { t, .. }
            | TraceEvent::Drop { t, .. }
            | TraceEvent::Deliver { t, .. }
            | TraceEvent::Timer { t, .. }
            | TraceEvent::Fault { t, .. }
            | TraceEvent::Role { t, .. }
            | TraceEvent::Note { t, .. }
            | TraceEvent::Violation { t, .. } => Some(*t),
            TraceEvent::History { event, .. } => Some(event.time_ns),
            TraceEvent::End { end_time_ns, .. } => Some(*end_time_ns),
            TraceEvent::Other => None,
        }
    }

    /// The engine's event index (`None` for the closing line and unknown kinds).
    pub fn event_index(&self) -> Option<u64> {
        match self {
            TraceEvent::Start { e, .. }
            | TraceEvent::Send { e, .. }
            | TraceEvent::Duplicate { e, .. }
            | TraceEvent::Drop { e, .. }
            | TraceEvent::Deliver { e, .. }
            | TraceEvent::Timer { e, .. }
            | TraceEvent::Fault { e, .. }
            | TraceEvent::Role { e, .. }
            | TraceEvent::Note { e, .. }
            | TraceEvent::History { e, .. }
            | TraceEvent::Violation { e, .. } => Some(*e),
            TraceEvent::End { .. } | TraceEvent::Other => None,
        }
    }
}

/// Reads a trace one line at a time. The header is read by [`TraceScan::open`].
pub struct TraceScan<R> {
    reader: R,
    file: String,
    header: TraceHeader,
    line_no: usize,
    bytes_read: u64,
    /// The line as the file holds it.
    raw: Vec<u8>,
    /// The line in format 2 (the raw line itself for formats 1 and 2).
    buf: Vec<u8>,
    /// For a format-3 file.
    expander: Option<Box<Expander>>,
    /// Whether the current line is a compact line of a kind this build does not know.
    unknown: bool,
}

impl TraceScan<BufReader<File>> {
    /// Opens a trace file and reads its header.
    pub fn open(path: &Path) -> Result<Self, TraceReadError> {
        let file = path.display().to_string();
        let f =
            File::open(path).map_err(|e| located(&file, 1, 1, "", format!("cannot read: {e}")))?;
        TraceScan::new(BufReader::with_capacity(1 << 16, f), &file)
    }
}

impl<R: BufRead> TraceScan<R> {
    /// Reads the header from `reader`; `file` names the source in errors.
    pub fn new(reader: R, file: &str) -> Result<Self, TraceReadError> {
        let mut scan = TraceScan {
            reader,
            file: file.to_string(),
            header: TraceHeader {
                format: 0,
                distsim: String::new(),
                seed: 0,
                scenario: Value::Null,
                groups: Value::Null,
            },
            line_no: 0,
            bytes_read: 0,
            raw: Vec::with_capacity(1024),
            buf: Vec::with_capacity(1024),
            expander: None,
            unknown: false,
        };
        if !scan.next_line()? {
            return Err(located(
                file,
                1,
                1,
                "",
                "empty file: expected a trace header".into(),
            ));
        }
        let kind = serde_json::from_slice::<KindProbe>(&scan.buf)
            .map(|p| p.kind)
            .unwrap_or_default();
        if kind != "header" {
            return Err(located(
                file,
                1,
                1,
                "kind",
                "not a distsim trace: the first line must be the header".into(),
            ));
        }
        scan.header = scan.parse::<TraceHeader>()?;
        if scan.header.format == 0 || scan.header.format > TRACE_FORMAT {
            return Err(located(
                file,
                1,
                1,
                "format",
                format!(
                    "format {} not supported (this build reads 1 to {TRACE_FORMAT})",
                    scan.header.format
                ),
            ));
        }
        if scan.header.format == TRACE_FORMAT {
            scan.expander = Some(Box::default());
        }
        Ok(scan)
    }

    /// The header.
    pub fn header(&self) -> &TraceHeader {
        &self.header
    }

    /// The 1-based number of the line last read (1 after the header).
    pub fn line_no(&self) -> usize {
        self.line_no
    }

    /// The next raw line, without its newline, or `None` at the end of the file.
    pub fn next_raw(&mut self) -> Result<Option<&str>, TraceReadError> {
        if !self.next_line()? {
            return Ok(None);
        }
        std::str::from_utf8(&self.buf).map(Some).map_err(|e| {
            located(
                &self.file,
                self.line_no,
                e.valid_up_to() + 1,
                "",
                "not UTF-8 text".into(),
            )
        })
    }

    /// The next event, or `None` at the end of the file.
    pub fn next_event(&mut self) -> Result<Option<TraceEvent>, TraceReadError> {
        if !self.next_line()? {
            return Ok(None);
        }
        self.current_event().map(Some)
    }

    /// The line last returned by [`TraceScan::next_raw`], parsed as an event.
    pub fn current_event(&self) -> Result<TraceEvent, TraceReadError> {
        if self.unknown {
            return Ok(TraceEvent::Other);
        }
        self.parse::<RawLine>()?.into_event().map_err(|field| {
            located(
                &self.file,
                self.line_no,
                1,
                field,
                format!("not a valid trace line: missing field `{field}`"),
            )
        })
    }

    /// Parses the current line as `T`, naming the line, column and field on failure.
    fn parse<T: for<'de> Deserialize<'de>>(&self) -> Result<T, TraceReadError> {
        // Parsed plainly first: tracking the path costs as much again, and only a failure needs it.
        if let Ok(value) = T::deserialize(&mut serde_json::Deserializer::from_slice(&self.buf)) {
            return Ok(value);
        }
        let mut de = serde_json::Deserializer::from_slice(&self.buf);
        serde_path_to_error::deserialize(&mut de).map_err(|e| {
            let field = e.path().to_string();
            let inner = e.into_inner();
            let field = if field == "." { String::new() } else { field };
            located(
                &self.file,
                self.line_no,
                inner.column().max(1),
                &field,
                format!("not a valid trace line: {inner}"),
            )
        })
    }

    /// Reads the next non-empty line into `raw`, and its format-2 form into `buf`; false at the end of
    /// the file.
    fn next_line(&mut self) -> Result<bool, TraceReadError> {
        if !self.next_physical_line()? {
            return Ok(false);
        }
        self.unknown = false;
        match &mut self.expander {
            None => std::mem::swap(&mut self.raw, &mut self.buf),
            Some(expander) => {
                self.buf.clear();
                let expanded = expander.expand(&self.raw, &mut self.buf).map_err(|e| {
                    located(&self.file, self.line_no, e.column, &e.field, e.message)
                })?;
                if expanded == Expanded::Unknown {
                    self.unknown = true;
                    self.buf.clone_from(&self.raw);
                }
            }
        }
        Ok(true)
    }

    /// Reads the next non-empty line into `raw`; false at the end of the file.
    fn next_physical_line(&mut self) -> Result<bool, TraceReadError> {
        loop {
            self.raw.clear();
            let limit = LINE_BYTES_MAX as u64 + 1;
            let n = (&mut self.reader)
                .take(limit)
                .read_until(b'\n', &mut self.raw)
                .map_err(|e| {
                    located(
                        &self.file,
                        self.line_no + 1,
                        1,
                        "",
                        format!("cannot read: {e}"),
                    )
                })?;
            if n == 0 {
                return Ok(false);
            }
            self.line_no += 1;
            self.bytes_read += n as u64;
            if self.bytes_read > TRACE_BYTES_MAX {
                return Err(located(
                    &self.file,
                    self.line_no,
                    1,
                    "",
                    format!("trace larger than {TRACE_BYTES_MAX} bytes: refused"),
                ));
            }
            if self.raw.last() == Some(&b'\n') {
                self.raw.pop();
                if self.raw.last() == Some(&b'\r') {
                    self.raw.pop();
                }
            } else if self.raw.len() > LINE_BYTES_MAX {
                return Err(located(
                    &self.file,
                    self.line_no,
                    LINE_BYTES_MAX + 1,
                    "",
                    format!("line longer than {LINE_BYTES_MAX} bytes: refused"),
                ));
            }
            if !self.raw.iter().all(u8::is_ascii_whitespace) {
                return Ok(true);
            }
        }
    }
}

#[derive(Deserialize)]
struct KindProbe {
    #[serde(default)]
    kind: String,
}

/// A located error about a trace file.
pub fn located(
    file: &str,
    line: usize,
    column: usize,
    field: &str,
    message: String,
) -> TraceReadError {
    TraceReadError {
        file: file.to_string(),
        line,
        column,
        field: field.to_string(),
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scan(text: &str) -> Result<Vec<TraceEvent>, TraceReadError> {
        let mut s = TraceScan::new(text.as_bytes(), "t.jsonl")?;
        let mut out = Vec::new();
        while let Some(e) = s.next_event()? {
            out.push(e);
        }
        Ok(out)
    }

    const HEADER: &str =
        r#"{"kind":"header","format":1,"distsim":"0","seed":7,"scenario":{"nodes":2,"clients":1}}"#;

    #[test]
    fn unknown_fields_and_kinds_are_ignored() {
        let text = format!(
            "{HEADER}\n{}\n{}\n",
            r#"{"kind":"send","e":1,"t":5,"id":0,"from":0,"to":1,"msg":{"type":"x"},"group":"g1","tampered":true}"#,
            r#"{"kind":"byzantine_tamper","e":2,"t":6}"#
        );
        let events = scan(&text).unwrap();
        assert!(matches!(
            events[0],
            TraceEvent::Send {
                from: 0,
                to: 1,
                t: 5,
                ..
            }
        ));
        assert!(matches!(events[1], TraceEvent::Other));
    }

    #[test]
    fn a_missing_field_is_located() {
        let text = format!(
            "{HEADER}\n{}\n",
            r#"{"kind":"deliver","e":1,"t":5,"id":0,"from":0}"#
        );
        let err = scan(&text).unwrap_err();
        assert_eq!(err.line, 2);
        assert!(err.message.contains("to"), "{err}");
    }

    #[test]
    fn a_file_without_header_is_refused() {
        let err = scan(r#"{"kind":"start","e":0,"t":0,"node":0}"#)
            .err()
            .unwrap();
        assert_eq!((err.line, err.field.as_str()), (1, "kind"));
        assert!(scan("").is_err());
        assert!(scan("not json").is_err());
    }

    #[test]
    fn a_too_long_line_is_refused_without_reading_it_all() {
        let long = format!("{HEADER}\n{}\n", "x".repeat(LINE_BYTES_MAX + 10));
        let err = scan(&long).unwrap_err();
        assert_eq!(err.line, 2);
        assert!(err.message.contains("longer"), "{err}");
    }
}
