//! One [`HistoryEvent`] as JSON a line: distsim's own lossless format.
//!
//! ```text
//! {"time_ns":1000,"process":0,"type":"invoke","f":"put","key":"k","value":"v"}
//! ```
//!
//! `value` is `null`, an integer, a string or an array of values; `key` may be left out. Blank lines are
//! skipped. A bad line gives an error naming its line, column and the offending field.

use super::HistoryError;
use crate::contract::{History, HistoryEvent};
use std::io;

/// Parses JSON-lines text into events and the line of each.
pub(crate) fn parse(text: &str) -> Result<(History, Vec<u64>), HistoryError> {
    super::parse_lines(text, |line, line_no| parse_line(line, line_no).map(Some))
}

fn parse_line(line: &str, line_no: u64) -> Result<HistoryEvent, HistoryError> {
    let locate = |e: &serde_json::Error| {
        // serde_json counts columns in bytes from 1; 0 means "at the end".
        let byte = if e.column() == 0 {
            line.len()
        } else {
            e.column() - 1
        };
        super::column_of(line, byte)
    };
    let mut de = serde_json::Deserializer::from_str(line);
    let event: HistoryEvent = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let field = (path != "." && !path.is_empty()).then_some(path);
        let inner = e.into_inner();
        let column = locate(&inner);
        HistoryError::parse(line_no, column, field.as_deref(), inner.to_string())
    })?;
    de.end().map_err(|e| {
        HistoryError::parse(
            line_no,
            locate(&e),
            None,
            format!("unexpected text after the event: {e}"),
        )
    })?;
    Ok(event)
}

/// Writes `history` as JSON lines (lossless: reading them back gives the same history).
pub fn write_jsonl(history: &History, out: &mut impl io::Write) -> io::Result<()> {
    out.write_all(to_jsonl_string(history).as_bytes())
}

/// `history` as JSON-lines text (see [`write_jsonl`]).
pub fn to_jsonl_string(history: &History) -> String {
    let mut text = String::new();
    for event in &history.events {
        // Serialising plain data with string keys cannot fail.
        if let Ok(line) = serde_json::to_string(event) {
            text.push_str(&line);
            text.push('\n');
        }
    }
    text
}
