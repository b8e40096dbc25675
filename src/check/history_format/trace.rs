//! A distsim trace read as a history: its `history` lines, in order, each with its line number. The
//! other lines (the header, sends, deliveries, notes, the closing line) are not history and are passed
//! over, but every line must be a JSON object, or the error names the line.
//!
//! ```text
//! {"kind":"history","e":8,"node":7,"event":{"time_ns":28224124,"process":7,"type":"invoke","f":"get","key":"k2","value":null}}
//! ```
//!
//! A format-3 trace (whose header says `"format":3`) is read through the trace
//! [`Expander`], which turns each compact line into the format-2 line
//! above.

use super::HistoryError;
use crate::contract::{History, HistoryEvent};
use crate::input::{LineReader, ReadError};
use crate::trace::compare::TRACE_LINE_BYTES_MAX;
use crate::trace::expand::{Expanded, Expander};
use crate::trace::line::TRACE_FORMAT;
use serde::Deserialize;
use std::io::BufRead;

#[derive(Deserialize)]
struct Probe {
    kind: Option<String>,
    event: Option<serde_json::Value>,
}

/// Reads a trace one line at a time (each at most
/// [`TRACE_LINE_BYTES_MAX`](crate::trace::compare::TRACE_LINE_BYTES_MAX) bytes), keeping only the history
/// events, the line of each, and how many non-blank lines were not history.
pub(crate) fn read(reader: impl BufRead) -> Result<(History, Vec<u64>, u64), HistoryError> {
    let mut lines = LineReader::new(reader, TRACE_LINE_BYTES_MAX, "trace files");
    let mut events = Vec::new();
    let mut places = Vec::new();
    let mut skipped = 0;
    let mut line_no = 0;
    let mut expander: Option<Expander> = None;
    let mut expanded = Vec::new();
    loop {
        let next = lines.next_line().map_err(|e| {
            let line = match &e {
                ReadError::LineTooLong { line, .. } => *line,
                _ => line_no + 1,
            };
            HistoryError::parse(line, 1, None, e.to_string())
        })?;
        let Some((bytes, _)) = next else {
            break;
        };
        line_no += 1;
        let text = std::str::from_utf8(bytes)
            .map_err(|_| HistoryError::parse(line_no, 1, None, "not UTF-8 text"))?;
        let text = text.strip_suffix('\r').unwrap_or(text);
        if text.trim().is_empty() {
            continue;
        }
        let text = match &mut expander {
            Some(x) if line_no > 1 => {
                expanded.clear();
                match x.expand(text.as_bytes(), &mut expanded) {
                    Ok(Expanded::Event | Expanded::Verbatim) => {}
                    Ok(Expanded::Unknown) => {
                        skipped += 1;
                        continue;
                    }
                    Err(e) => {
                        let field = (!e.field.is_empty()).then_some(e.field.as_str());
                        return Err(HistoryError::parse(
                            line_no,
                            e.column as u64,
                            field,
                            e.message,
                        ));
                    }
                }
                // Expansion joins slices of a valid line with ASCII.
                std::str::from_utf8(&expanded)
                    .map_err(|_| HistoryError::parse(line_no, 1, None, "not UTF-8 text"))?
            }
            _ => text,
        };
        if line_no == 1 && header_format(text) == Some(TRACE_FORMAT) {
            expander = Some(Expander::default());
        }
        match parse_line(text, line_no)? {
            Some(event) => {
                events.push(event);
                places.push(line_no);
            }
            None => skipped += 1,
        }
    }
    Ok((History { events }, places, skipped))
}

fn parse_line(line: &str, line_no: u64) -> Result<Option<HistoryEvent>, HistoryError> {
    let column = |e: &serde_json::Error| e.column().max(1) as u64;
    let probe: Probe = serde_json::from_str(line).map_err(|e| {
        HistoryError::parse(line_no, column(&e), None, format!("not a trace line: {e}"))
    })?;
    if line_no == 1 && probe.kind.as_deref() != Some("header") {
        return Err(HistoryError::parse(
            1,
            1,
            Some("kind"),
            "a distsim trace starts with its header line",
        ));
    }
    match (probe.kind.as_deref(), probe.event) {
        (Some("history"), Some(event)) => {
            let event: HistoryEvent = serde_path_to_error::deserialize(event).map_err(|e| {
                let field = format!("event.{}", e.path());
                HistoryError::parse(line_no, 1, Some(&field), e.into_inner().to_string())
            })?;
            Ok(Some(event))
        }
        (Some("history"), None) => Err(HistoryError::parse(
            line_no,
            1,
            Some("event"),
            "a history line without its event",
        )),
        _ => Ok(None),
    }
}

/// The format a header line names.
fn header_format(line: &str) -> Option<u32> {
    #[derive(Deserialize)]
    struct FormatProbe {
        format: Option<u32>,
    }
    serde_json::from_str::<FormatProbe>(line).ok()?.format
}

/// Whether `first_line` is a distsim trace header.
pub(crate) fn is_header(first_line: &str) -> bool {
    let squeezed: String = first_line
        .chars()
        .filter(|c| !c.is_whitespace())
        .take(20)
        .collect();
    squeezed.starts_with("{\"kind\":\"header\"")
}
