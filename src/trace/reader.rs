//! Reads a trace back: its header (to replay it), its lines (to compare them), and its closing digest
//! (to tell a damaged file from a diverging run).

use crate::scenario::{Scenario, ScenarioError};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use std::path::Path;

/// The largest trace file read back (a bound; traces of huge runs should be replayed by seed).
pub const TRACE_BYTES_MAX: u64 = 4 * 1024 * 1024 * 1024;

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

/// A trace read from a file.
#[derive(Clone, Debug)]
pub struct ReadTrace {
    /// The header.
    pub header: Header,
    /// Every line of the file, the header and the closing line included, without newlines.
    pub lines: Vec<String>,
    /// The digest the closing line records, if the file has a closing line.
    pub recorded_sha256: Option<String>,
    /// The digest of the lines before the closing line, as read.
    pub actual_sha256: String,
}

#[derive(Deserialize)]
struct EndProbe {
    kind: String,
    sha256: Option<String>,
}

/// Reads a trace file.
pub fn read_trace(path: &Path) -> Result<ReadTrace, TraceReadError> {
    let file = path.display().to_string();
    let err = |line: usize, column: usize, field: &str, message: String| ScenarioError {
        file: file.clone(),
        line,
        column,
        field: field.to_string(),
        message,
    };
    let meta = std::fs::metadata(path).map_err(|e| err(1, 1, "", format!("cannot read: {e}")))?;
    if meta.len() > TRACE_BYTES_MAX {
        return Err(err(1, 1, "", "trace file too large to read back".into()));
    }
    let bytes = std::fs::read(path).map_err(|e| err(1, 1, "", format!("cannot read: {e}")))?;
    let text = std::str::from_utf8(&bytes).map_err(|e| {
        let good = std::str::from_utf8(&bytes[..e.valid_up_to()]).unwrap_or_default();
        let (l, c) = crate::scenario::position(good, good.len());
        err(l, c, "", "not UTF-8 text (is this a trace file?)".into())
    })?;
    let lines: Vec<String> = text.lines().map(str::to_string).collect();
    let Some(first) = lines.first() else {
        return Err(err(1, 1, "", "empty file: expected a trace header".into()));
    };
    let mut de = serde_json::Deserializer::from_str(first);
    let header: Header = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let field = e.path().to_string();
        let inner = e.into_inner();
        err(
            1,
            inner.column().max(1),
            if field == "." { "" } else { &field },
            format!("not a distsim trace header: {inner}"),
        )
    })?;
    if header.kind != "header" {
        return Err(err(
            1,
            1,
            "kind",
            "the first line must be the header".into(),
        ));
    }
    let source = crate::scenario::Source {
        file: file.clone(),
        text: first.clone(),
    };
    crate::scenario::validate_in(&header.scenario, &source, "scenario")?;

    let mut hasher = Sha256::new();
    let mut recorded = None;
    let last = lines.len() - 1;
    for (i, line) in lines.iter().enumerate() {
        if i == last
            && i > 0
            && let Ok(end) = serde_json::from_str::<EndProbe>(line)
            && end.kind == "end"
        {
            recorded = end.sha256;
            break;
        }
        hasher.update(line.as_bytes());
        hasher.update(b"\n");
    }
    Ok(ReadTrace {
        header,
        lines,
        recorded_sha256: recorded,
        actual_sha256: super::writer::hex(&hasher.finalize()),
    })
}
