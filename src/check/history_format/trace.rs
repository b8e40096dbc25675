//! A distsim trace read as a history: its `history` lines, in order, each with its line number. The
//! other lines (the header, sends, deliveries, notes, the closing line) are not history and are passed
//! over, but every line must be a JSON object, or the error names the line.
//!
//! ```text
//! {"kind":"history","e":8,"node":7,"event":{"time_ns":28224124,"process":7,"type":"invoke","f":"get","key":"k2","value":null}}
//! ```

use super::HistoryError;
use crate::check::history::{History, HistoryEvent};
use serde::Deserialize;

#[derive(Deserialize)]
struct Probe {
    kind: Option<String>,
    event: Option<serde_json::Value>,
}

/// Parses trace text into the history events it records and the line of each.
pub(crate) fn parse(text: &str) -> Result<(History, Vec<u64>), HistoryError> {
    super::parse_lines(text, |line, line_no| {
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
    })
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
