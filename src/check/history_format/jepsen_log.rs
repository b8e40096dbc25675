//! Jepsen's etcd test log: one operation event a line.
//!
//! ```text
//! INFO  jepsen.util - 2→:invoke→:cas→[3 0]
//! INFO  jepsen.util - 2→:fail→:cas→[3 0]
//! INFO  jepsen.util - 4→:info→:write→:timed-out
//! ```
//!
//! (`→` stands for a tab.)
//!
//! Four tab-separated fields: whatever precedes the process number (the logger's prefix, ending in the
//! process), the type keyword, the function keyword, and the value in EDN. Lines whose process is a keyword
//! (`:nemesis`) are skipped; blank lines are skipped; any other line must parse, or the error names its
//! line, column and field. An event's `time_ns` is its line number.

use super::HistoryError;
use super::edn::{Edn, Reader, edn_to_value, event_kind};
use crate::contract::{Func, History, HistoryEvent};

/// Parses the log text into events and the line of each.
pub(crate) fn parse(text: &str) -> Result<(History, Vec<u64>), HistoryError> {
    super::parse_lines(text, parse_line)
}

/// One field of a line: its text and its byte offset in the line.
struct Field<'a> {
    text: &'a str,
    offset: usize,
}

fn parse_line(line: &str, line_no: u64) -> Result<Option<HistoryEvent>, HistoryError> {
    let mut fields = Vec::with_capacity(4);
    let mut offset = 0;
    // The value is the last field and may itself hold tabs inside a string: split at most three times.
    for part in line.splitn(4, '\t') {
        fields.push(Field { text: part, offset });
        offset += part.len() + 1;
    }
    let err = |byte: usize, field: Option<&str>, message: String| {
        HistoryError::parse(line_no, super::column_of(line, byte), field, message)
    };
    let names = ["process", "type", "f", "value"];
    if fields.len() < 4 {
        let what = names[fields.len()];
        return Err(err(
            line.len(),
            Some(what),
            format!(
                "truncated line: expected 4 tab-separated fields (prefix and process, type, f, value), found {}",
                fields.len()
            ),
        ));
    }

    // The process: the digits (or keyword) at the end of the first field.
    let head = fields[0].text.trim_end();
    let digits_start = head.trim_end_matches(|c: char| c.is_ascii_digit()).len();
    let digits = &head[digits_start..];
    if digits.is_empty() {
        let last_word = head.rsplit(char::is_whitespace).next().unwrap_or("");
        if last_word.len() > 1 && last_word.starts_with(':') {
            // `:nemesis` and other non-client processes take no part in the history.
            return Ok(None);
        }
        return Err(err(
            fields[0].offset + head.len(),
            Some("process"),
            "expected a process number before the first tab".into(),
        ));
    }
    let process: u64 = digits.parse().map_err(|_| {
        err(
            digits_start,
            Some("process"),
            format!("process `{digits}` is too large"),
        )
    })?;

    let keyword = |field: &Field<'_>, name: &str| -> Result<String, HistoryError> {
        let text = field.text.trim();
        let lead = field.text.len() - field.text.trim_start().len();
        match text.strip_prefix(':') {
            Some(body) if !body.is_empty() => Ok(body.to_string()),
            _ => Err(err(
                field.offset + lead,
                Some(name),
                format!("expected a keyword, found {text:?}"),
            )),
        }
    };
    let kind_text = keyword(&fields[1], "type")?;
    let Some(kind) = event_kind(&kind_text) else {
        return Err(err(
            fields[1].offset,
            Some("type"),
            format!("unknown type `:{kind_text}`: expected :invoke, :ok, :fail or :info"),
        ));
    };
    let f_text = keyword(&fields[2], "f")?;
    let f = Func::new(f_text);

    // The value: exactly one EDN form.
    let value_field = &fields[3];
    let shift = |e: HistoryError| -> HistoryError {
        match e {
            HistoryError::Parse { at, message, .. } => {
                // The reader counted from the start of the field, on one line.
                let column = super::column_of(line, value_field.offset) + at.column - 1;
                HistoryError::parse(line_no, column, Some("value"), message)
            }
            other => other,
        }
    };
    let mut reader = Reader::new(value_field.text);
    reader.skip_blank();
    if reader.at_end() {
        return Err(err(
            value_field.offset,
            Some("value"),
            "missing value".into(),
        ));
    }
    let (edn, _) = reader.read(0).map_err(shift)?;
    reader.skip_blank();
    if !reader.at_end() {
        let at = reader.here();
        return Err(shift(HistoryError::parse(
            1,
            at.column,
            None,
            "unexpected text after the value",
        )));
    }
    if matches!(edn, Edn::Map(_)) {
        return Err(err(
            value_field.offset,
            Some("value"),
            "maps are not history values".into(),
        ));
    }
    let value = edn_to_value(&edn).map_err(|m| err(value_field.offset, Some("value"), m))?;
    Ok(Some(HistoryEvent {
        time_ns: line_no,
        process,
        kind,
        f,
        key: None,
        value,
    }))
}
