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
//! Four fields, separated by tabs or by any run of spaces and tabs (some Jepsen versions write spaces):
//! whatever precedes the process number (the logger's prefix, ending in the process), the type keyword,
//! the function keyword, and the value in EDN. A line is an operation when a process (a number, or a
//! keyword such as `:nemesis`) is followed by one of the four type keywords, or when it has the strict
//! tab-separated shape; any other line (other log output, timestamps, stack traces) is skipped and
//! counted. Lines whose process is a keyword (`:nemesis`) are skipped too; blank lines are skipped; an
//! operation line must parse, or the error names its line, column and field. An event's `time_ns` is its
//! line number.

use super::HistoryError;
use super::edn::{Edn, Reader, edn_to_value, event_kind};
use crate::contract::{Func, History, HistoryEvent};

/// Parses the log text into events, the line of each, and how many non-blank lines were skipped.
pub(crate) fn parse(text: &str) -> Result<(History, Vec<u64>, u64), HistoryError> {
    let mut skipped = 0;
    let (history, lines) = super::parse_lines(text, |line, line_no| {
        let event = parse_line(line, line_no)?;
        skipped += u64::from(event.is_none());
        Ok(event)
    })?;
    Ok((history, lines, skipped))
}

const TYPES: [&str; 4] = [":invoke", ":ok", ":fail", ":info"];

/// Splits `line` at runs of spaces and tabs: each word with its byte offset.
fn words(line: &str) -> Vec<Field<'_>> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, c) in line.char_indices() {
        match (c == ' ' || c == '\t', start) {
            (true, Some(s)) => {
                out.push(Field {
                    text: &line[s..i],
                    offset: s,
                });
                start = None;
            }
            (false, None) => start = Some(i),
            _ => {}
        }
    }
    if let Some(s) = start {
        out.push(Field {
            text: &line[s..],
            offset: s,
        });
    }
    out
}

fn is_process(word: &str) -> bool {
    (!word.is_empty() && word.bytes().all(|b| b.is_ascii_digit()))
        || (word.len() > 1 && word.starts_with(':'))
}

/// The strict shape, for a line whose type is misspelt: tab-separated, the first field ending in a
/// process number or keyword, the second a keyword.
fn strict_fields(line: &str) -> Option<Vec<Field<'_>>> {
    let tab_fields: Vec<&str> = line.splitn(4, '\t').collect();
    let strict = tab_fields.len() >= 2
        && tab_fields[0]
            .split_whitespace()
            .next_back()
            .is_some_and(is_process)
        && tab_fields[1].trim().starts_with(':');
    if !strict {
        return None;
    }
    let mut fields = Vec::with_capacity(4);
    let mut offset = 0;
    for part in tab_fields {
        fields.push(Field { text: part, offset });
        offset += part.len() + 1;
    }
    Some(fields)
}

/// The line's four fields, or `None` for a line that is not an operation. The value (the last field)
/// may hold spaces and tabs of its own (`[3 0]`, a string): it runs to the end of the line.
fn split_fields(line: &str) -> Option<Vec<Field<'_>>> {
    // Any whitespace: a process word followed by a type keyword.
    let words = words(line);
    let Some(at) =
        (1..words.len()).find(|&i| is_process(words[i - 1].text) && TYPES.contains(&words[i].text))
    else {
        return strict_fields(line);
    };
    let process = &words[at - 1];
    let mut fields = vec![Field {
        text: &line[..process.offset + process.text.len()],
        offset: 0,
    }];
    fields.extend(words[at..].iter().take(2).map(|w| Field {
        text: w.text,
        offset: w.offset,
    }));
    if let Some(f) = words.get(at + 1) {
        let rest = f.offset + f.text.len();
        let value_start = rest + (line[rest..].len() - line[rest..].trim_start().len());
        if value_start < line.len() {
            fields.push(Field {
                text: &line[value_start..],
                offset: value_start,
            });
        }
    }
    Some(fields)
}

/// One field of a line: its text and its byte offset in the line.
struct Field<'a> {
    text: &'a str,
    offset: usize,
}

fn parse_line(line: &str, line_no: u64) -> Result<Option<HistoryEvent>, HistoryError> {
    let Some(fields) = split_fields(line) else {
        return Ok(None);
    };
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
                "truncated line: expected 4 fields (prefix and process, type, f, value), found {}",
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
