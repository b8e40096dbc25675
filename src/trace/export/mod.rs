//! Pictures of a run, made from its trace file: a self-contained HTML space-time diagram
//! ([`html`]), Chrome/Perfetto trace-event JSON ([`perfetto`]) and a Mermaid sequence diagram
//! ([`mermaid`]). Every export streams the trace and keeps bounded memory; the bounds are named
//! constants in each module.

pub mod html;
pub mod mermaid;
pub mod perfetto;
pub mod timeline;

use super::reader::TraceReadError;
use super::scan::parsed;
use serde_json::Value;
use serde_json::value::RawValue;
use std::fmt;
use std::io::{self, Write as _};
use std::path::Path;

/// A window of virtual time, in nanoseconds, both ends inclusive.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TimeWindow {
    /// The first time shown.
    pub from_ns: u64,
    /// The last time shown.
    pub to_ns: u64,
}

impl TimeWindow {
    /// The whole run.
    pub const ALL: TimeWindow = TimeWindow {
        from_ns: 0,
        to_ns: u64::MAX,
    };

    /// A window from optional millisecond bounds (`--from-ms`, `--to-ms`).
    pub fn from_ms(from_ms: Option<u64>, to_ms: Option<u64>) -> TimeWindow {
        TimeWindow {
            from_ns: from_ms.map_or(0, |ms| ms.saturating_mul(1_000_000)),
            to_ns: to_ms.map_or(u64::MAX, |ms| ms.saturating_mul(1_000_000)),
        }
    }

    /// Whether `t_ns` lies in the window.
    pub fn contains(&self, t_ns: u64) -> bool {
        (self.from_ns..=self.to_ns).contains(&t_ns)
    }

    /// Whether this is the whole run.
    pub fn is_all(&self) -> bool {
        *self == TimeWindow::ALL
    }
}

/// Why an export failed.
#[derive(Debug)]
pub enum ExportError {
    /// The trace is unreadable or malformed (exit 2).
    Trace(TraceReadError),
    /// The options make no sense (exit 2).
    Usage(String),
    /// The output could not be written (exit 2); the destination is untouched.
    Write {
        /// The output file.
        path: String,
        /// The cause.
        error: io::Error,
    },
}

impl fmt::Display for ExportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExportError::Trace(e) => write!(f, "{e}"),
            ExportError::Usage(m) => f.write_str(m),
            ExportError::Write { path, error } => write!(f, "cannot write {path}: {error}"),
        }
    }
}

impl std::error::Error for ExportError {}

impl From<TraceReadError> for ExportError {
    fn from(e: TraceReadError) -> Self {
        ExportError::Trace(e)
    }
}

/// Writes `bytes` to `dest` whole, or not at all, through [`crate::output::OutputFile`] (a unique
/// temporary file renamed into place when complete; devices and pipes written directly).
pub fn write_output(dest: &Path, bytes: &[u8]) -> Result<(), ExportError> {
    write_output_with(dest, |out| {
        out.write_all(bytes).map_err(|error| ExportError::Write {
            path: dest.display().to_string(),
            error,
        })
    })
}

/// Like [`write_output`], for outputs too large to hold: `fill` streams into the output file, which
/// is put in place only if `fill` and the flush succeed.
pub fn write_output_with<F>(dest: &Path, fill: F) -> Result<(), ExportError>
where
    F: FnOnce(&mut dyn io::Write) -> Result<(), ExportError>,
{
    let output_err = |e: crate::output::OutputError| ExportError::Write {
        path: dest.display().to_string(),
        error: io::Error::other(e.to_string()),
    };
    let mut file = crate::output::OutputFile::create(dest).map_err(output_err)?;
    let filled = {
        let mut out = io::BufWriter::with_capacity(1 << 16, &mut file);
        fill(&mut out).and_then(|()| {
            out.flush().map_err(|error| ExportError::Write {
                path: dest.display().to_string(),
                error,
            })
        })
    };
    match filled {
        Ok(()) => file.commit().map_err(output_err),
        Err(e) => {
            file.abandon();
            Err(e)
        }
    }
}

/// The kind of a message: its `type` field, else its only key (externally tagged enums), else `msg`.
pub fn message_kind(msg: &Value) -> String {
    match msg {
        Value::Object(map) => match map.get("type").and_then(Value::as_str) {
            Some(kind) => kind.to_string(),
            None if map.len() == 1 => map.keys().next().cloned().unwrap_or_default(),
            None => "msg".to_string(),
        },
        Value::String(s) => s.clone(),
        _ => "msg".to_string(),
    }
}

/// [`message_kind`] of a message as the trace wrote it: only its `type` field is parsed when it has one.
pub fn message_kind_raw(msg: &RawValue) -> String {
    #[derive(serde::Deserialize)]
    struct TypeProbe {
        #[serde(rename = "type")]
        kind: Option<String>,
    }
    match serde_json::from_str::<TypeProbe>(msg.get()) {
        Ok(TypeProbe { kind: Some(kind) }) => kind,
        _ => message_kind(&parsed(msg)),
    }
}

/// [`note_kind`] of a note as the trace wrote it: only its `note` field is parsed when it has one.
pub fn note_kind_raw(note: &RawValue) -> String {
    #[derive(serde::Deserialize)]
    struct NoteProbe {
        note: Option<String>,
    }
    match serde_json::from_str::<NoteProbe>(note.get()) {
        Ok(NoteProbe { note: Some(kind) }) => kind,
        _ => note_kind(&parsed(note)),
    }
}

/// The kind of a note: its `note` or `type` field, else its text, else `note`.
pub fn note_kind(note: &Value) -> String {
    match note {
        Value::Object(map) => map
            .get("note")
            .or_else(|| map.get("type"))
            .and_then(Value::as_str)
            .map(str::to_string)
            .or_else(|| (map.len() == 1).then(|| map.keys().next().cloned().unwrap_or_default()))
            .unwrap_or_else(|| "note".to_string()),
        Value::String(s) => s.clone(),
        _ => "note".to_string(),
    }
}

/// The first fault action named in a fault spec (`partition`, `crash`, ...), skipping `at_ms`.
pub fn fault_action(fault: &Value) -> String {
    fault
        .as_object()
        .and_then(|m| m.keys().find(|k| *k != "at_ms").cloned())
        .unwrap_or_else(|| "fault".to_string())
}

/// `value` as compact JSON, cut to at most `chars_max` characters (with `…` when cut).
pub fn json_cut(value: &Value, chars_max: usize) -> String {
    let text = value.to_string();
    cut(&text, chars_max)
}

/// `text` cut to at most `chars_max` characters (with `…` when cut).
pub fn cut(text: &str, chars_max: usize) -> String {
    match text.char_indices().nth(chars_max) {
        None => text.to_string(),
        Some((at, _)) => {
            let mut s = text[..at].to_string();
            s.push('…');
            s
        }
    }
}

/// The label of node `id`: `n3` for a server, `c5` for a client.
pub fn node_label(id: u32, servers: u32) -> String {
    if id < servers {
        format!("n{id}")
    } else {
        format!("c{id}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn kinds_come_from_type_tags_or_single_keys() {
        assert_eq!(message_kind(&json!({"type": "vote", "term": 1})), "vote");
        assert_eq!(message_kind(&json!({"Ping": {"n": 1}})), "Ping");
        assert_eq!(message_kind(&json!({"a": 1, "b": 2})), "msg");
        assert_eq!(
            note_kind(&json!({"note": "became_leader"})),
            "became_leader"
        );
        assert_eq!(fault_action(&json!({"at_ms": 5, "crash": 1})), "crash");
    }

    #[test]
    fn cut_counts_characters_not_bytes() {
        assert_eq!(cut("ééé", 2), "éé…");
        assert_eq!(cut("abc", 3), "abc");
    }

    #[test]
    fn a_failed_write_leaves_the_destination_alone() {
        let dir = std::env::temp_dir().join(format!("distsim-export-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let dest = dir.join("missing-dir").join("out.html");
        assert!(write_output(&dest, b"x").is_err());
        assert!(!dest.exists());
        let ok = dir.join("out.html");
        write_output(&ok, b"hello").unwrap();
        assert_eq!(std::fs::read(&ok).unwrap(), b"hello");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
