//! Reads a trace file back, streaming, in memory bounded by one line: its header (to replay it), the
//! shape of every line (each one JSON object, the closing line last), and its closing digest (to tell a
//! damaged file from a diverging run). The lines themselves are not kept: a replay compares them with
//! the re-run as it goes ([`super::compare`]).

use super::compare::TRACE_LINE_BYTES_MAX;
use super::line::FORMATS_READ;
use crate::input::{LineReader, ReadError};
use crate::scenario::{Scenario, ScenarioError};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use std::io::BufReader;
use std::path::Path;

/// A problem reading a trace file: it names the file, line and column like a scenario error.
pub type TraceReadError = ScenarioError;

/// The trace header.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Header {
    /// Always `"header"`.
    pub kind: String,
    /// The format version.
    pub format: u32,
    /// The crate version that wrote the trace.
    pub distsim: String,
    /// The seed used.
    pub seed: u64,
    /// The resolved scenario.
    pub scenario: Scenario,
}

/// What reading a trace file found.
#[derive(Clone, Debug)]
pub struct ReadTrace {
    /// The header.
    pub header: Header,
    /// The header line's text (errors in its scenario point into it).
    pub header_line: String,
    /// How many lines the file has, the header and the closing line included.
    pub lines: usize,
    /// The digest the closing line records.
    pub recorded_sha256: String,
    /// The digest of the lines before the closing line, as read.
    pub actual_sha256: String,
}

impl ReadTrace {
    /// Whether the closing digest matches the lines before it.
    pub fn intact(&self) -> bool {
        self.recorded_sha256 == self.actual_sha256
    }
}

/// Just enough of a line to know what it is; unknown fields are skipped, so any JSON object parses.
#[derive(Deserialize)]
struct Probe {
    kind: Option<String>,
    format: Option<serde_json::Value>,
    sha256: Option<String>,
}

/// An error at `line` of the trace `file`, column 1 unless told.
pub fn damaged(file: &str, line: usize, message: impl Into<String>) -> TraceReadError {
    ScenarioError {
        file: file.to_string(),
        line,
        column: 1,
        field: String::new(),
        message: message.into(),
    }
}

/// Reads and checks the trace file at `path`: any damage (a line that is not JSON, no closing line,
/// lines after it, an unknown format) is an error naming the line.
pub fn read_trace(path: &Path) -> Result<ReadTrace, TraceReadError> {
    let file = crate::text::escaped(&path.display().to_string()).into_owned();
    let whole = |e: ReadError| {
        let line = match &e {
            ReadError::LineTooLong { line, .. } => *line as usize,
            _ => 1,
        };
        damaged(&file, line, e.to_string())
    };
    let reader = crate::input::open(path).map_err(whole)?;
    let mut lines = LineReader::new(
        BufReader::with_capacity(1 << 16, reader),
        TRACE_LINE_BYTES_MAX,
        "trace files",
    );

    let Some((first, _)) = lines.next_line().map_err(whole)? else {
        return Err(damaged(&file, 1, "empty file: expected a trace header"));
    };
    let header_line = std::str::from_utf8(first)
        .map_err(|_| damaged(&file, 1, "not UTF-8 text (is this a trace file?)"))?
        .to_string();
    let header = read_header(&file, &header_line)?;
    let mut hasher = Sha256::new();
    hasher.update(header_line.as_bytes());
    hasher.update(b"\n");

    let mut closing: Option<(usize, String, String)> = None;
    let mut n = 1;
    while let Some((line, _)) = lines.next_line().map_err(whole)? {
        n += 1;
        if let Some((end_at, ..)) = &closing {
            return Err(damaged(
                &file,
                n,
                format!("trace damaged at line {n}: a line after the closing line (line {end_at})"),
            ));
        }
        let text = std::str::from_utf8(line).map_err(|_| {
            damaged(
                &file,
                n,
                format!("trace damaged at line {n}: not UTF-8 text"),
            )
        })?;
        let probe: Probe = serde_json::from_str(text).map_err(|e| ScenarioError {
            column: e.column().max(1),
            ..damaged(
                &file,
                n,
                format!(
                    "trace damaged at line {n}: not a JSON object ({})",
                    strip_position(&e)
                ),
            )
        })?;
        if probe.kind.as_deref() == Some("end") {
            let Some(recorded) = probe.sha256 else {
                return Err(damaged(
                    &file,
                    n,
                    format!("trace damaged at line {n}: the closing line has no sha256"),
                ));
            };
            let actual = format!("{:x}", hasher.clone().finalize());
            closing = Some((n, recorded, actual));
        } else {
            hasher.update(line);
            hasher.update(b"\n");
        }
    }
    let total = n;
    let Some((_, recorded_sha256, actual_sha256)) = closing else {
        return Err(damaged(
            &file,
            total + 1,
            format!(
                "trace damaged at line {}: the file ends without its closing line (truncated?)",
                total + 1
            ),
        ));
    };
    Ok(ReadTrace {
        header,
        header_line,
        lines: total,
        recorded_sha256,
        actual_sha256,
    })
}

fn strip_position(e: &serde_json::Error) -> String {
    let msg = e.to_string();
    match msg.rfind(" at line ") {
        Some(p) => msg[..p].to_string(),
        None => msg,
    }
}

/// The formats read, in words: `2 and 3`.
pub fn supported() -> String {
    let names: Vec<String> = FORMATS_READ.iter().map(u32::to_string).collect();
    names.join(" and ")
}

/// Parses and validates the header line; the format is checked first, so a trace of another format
/// version is named as such rather than as a malformed header.
fn read_header(file: &str, text: &str) -> Result<Header, TraceReadError> {
    let not_header = |e: &serde_json::Error| ScenarioError {
        column: e.column().max(1),
        ..damaged(
            file,
            1,
            format!("not a distsim trace header: {}", strip_position(e)),
        )
    };
    let probe: Probe = serde_json::from_str(text).map_err(|e| not_header(&e))?;
    if probe.kind.as_deref() != Some("header") {
        return Err(ScenarioError {
            field: "kind".into(),
            ..damaged(
                file,
                1,
                "not a distsim trace: the first line must be its header",
            )
        });
    }
    if !FORMATS_READ
        .iter()
        .any(|f| probe.format == Some(serde_json::Value::from(*f)))
    {
        let seen = probe
            .format
            .map_or_else(|| "missing".to_string(), |f| f.to_string());
        return Err(ScenarioError {
            field: "format".into(),
            ..damaged(
                file,
                1,
                format!(
                    "format {} not supported (this build reads {})",
                    crate::text::excerpt(&seen, 40),
                    supported()
                ),
            )
        });
    }
    let mut de = serde_json::Deserializer::from_str(text);
    let header: Header = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let field = e.path().to_string();
        let inner = e.into_inner();
        ScenarioError {
            field: if field == "." { String::new() } else { field },
            ..not_header(&inner)
        }
    })?;
    let source = crate::scenario::Source {
        file: file.to_string(),
        text: text.to_string(),
    };
    crate::scenario::validate_in(&header.scenario, &source, "scenario")?;
    Ok(header)
}
