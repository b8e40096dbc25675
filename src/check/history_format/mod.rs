//! Reading and writing client histories in the formats other tools use.
//!
//! Three formats read into the same [`History`]:
//!
//! - [`Format::JepsenLog`]: the log lines of Jepsen's etcd test (`INFO  jepsen.util - 2\t:invoke\t:cas\t[3 0]`),
//!   see [`jepsen_log`];
//! - [`Format::Edn`]: Jepsen's EDN operation maps (`{:process 0, :type :invoke, :f :append, :key "0", :value "x"}`),
//!   one a line or a whole vector of them, see [`edn`];
//! - [`Format::Jsonl`]: one [`HistoryEvent`] as JSON a line, see [`jsonl`];
//! - [`Format::Trace`]: a distsim trace, whose `history` lines are read, see [`trace`].
//!
//! Whatever the format, a history with no operation is refused, and so is one whose completion comes
//! before its invoke or contradicts its argument (see [`consistency`]).
//!
//! Parsers never panic: any input, binary garbage included, gives either a history or a [`HistoryError`]
//! that names the file, the line, the column and, where it helps, the field. Writers exist for EDN (so a
//! distsim run can be cross-checked with Knossos or Porcupine) and for JSON lines (lossless).
//!
//! Times: a JSON line keeps its `time_ns`; an EDN map with a `:time` keeps it; otherwise (Jepsen logs, EDN
//! without `:time`) an event's `time_ns` is its 1-based line number. Only the order of events matters to the
//! linearizability checker.

pub mod consistency;
pub mod edn;
pub mod independent;
pub mod jepsen_log;
pub mod jsonl;
pub mod trace;

use crate::contract::{History, HistoryEvent};
use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

pub use edn::{to_edn_string, write_edn, write_edn_with_time};
pub use independent::to_edn_independent_string;
pub use jsonl::{to_jsonl_string, write_jsonl};

/// A history file format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Format {
    /// Jepsen's etcd test log: `INFO  jepsen.util - 2\t:invoke\t:cas\t[3 0]`.
    JepsenLog,
    /// Jepsen EDN operation maps, as in Porcupine's key-value test files.
    Edn,
    /// One `HistoryEvent` as JSON a line.
    Jsonl,
    /// A distsim trace: its `history` lines.
    Trace,
}

impl Format {
    /// Every format.
    pub const ALL: [Format; 4] = [Format::Jsonl, Format::Edn, Format::JepsenLog, Format::Trace];

    /// The name used on the command line (`jepsen-log`, `edn`, `jsonl`).
    pub fn name(self) -> &'static str {
        match self {
            Format::JepsenLog => "jepsen-log",
            Format::Edn => "edn",
            Format::Jsonl => "jsonl",
            Format::Trace => "trace",
        }
    }

    /// Guesses the format from the first non-blank line of `text`, falling back to the file's extension
    /// (`.log`, `.edn`, `.jsonl`/`.json`) when the content says nothing. `None`: no idea.
    pub fn detect(path: Option<&Path>, text: &str) -> Option<Format> {
        // Content first: Porcupine's EDN files are called `.txt`, and a `.log` can be anything.
        if let Some(line) = text.lines().map(str::trim).find(|l| !l.is_empty()) {
            if trace::is_header(line) {
                return Some(Format::Trace);
            }
            let body = line.trim_start_matches('[').trim_start();
            if let Some(inner) = body.strip_prefix('{') {
                let inner = inner.trim_start();
                if inner.starts_with('"') {
                    return Some(Format::Jsonl);
                }
                if inner.starts_with(':') || inner.starts_with('}') {
                    return Some(Format::Edn);
                }
            }
            if line.contains('\t')
                && (line.contains(":invoke") || line.contains(":ok") || line.contains(" - "))
            {
                return Some(Format::JepsenLog);
            }
        }
        // A Jepsen log may open with other log output: any operation line further on tells.
        if text.lines().take(1000).any(|l| {
            l.contains(" - ")
                && [":invoke", ":ok", ":fail", ":info"]
                    .iter()
                    .any(|t| l.contains(t))
        }) {
            return Some(Format::JepsenLog);
        }
        let ext = path?.extension()?.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            "log" => Some(Format::JepsenLog),
            "edn" => Some(Format::Edn),
            "jsonl" | "json" | "ndjson" => Some(Format::Jsonl),
            _ => None,
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Format {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "jepsen-log" | "jepsen" | "log" => Ok(Format::JepsenLog),
            "edn" => Ok(Format::Edn),
            "jsonl" | "json" => Ok(Format::Jsonl),
            "trace" | "distsim-trace" => Ok(Format::Trace),
            _ => Err(format!(
                "unknown history format `{s}`: expected jepsen-log, edn, jsonl or trace"
            )),
        }
    }
}

/// Where in a file (or in a string) something is. Lines and columns count from 1; columns count characters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Location {
    /// The file, when the text came from one.
    pub file: Option<PathBuf>,
    /// 1-based line.
    pub line: u64,
    /// 1-based column, in characters.
    pub column: u64,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.file {
            Some(file) => write!(f, "{}:{}:{}", file.display(), self.line, self.column),
            None => write!(f, "line {}, column {}", self.line, self.column),
        }
    }
}

/// Why a history could not be read or does not make sense.
#[derive(Debug, thiserror::Error)]
pub enum HistoryError {
    /// The file could not be read.
    #[error("{}: {source}", file.display())]
    Io {
        /// The file.
        file: PathBuf,
        /// What the operating system said.
        #[source]
        source: std::io::Error,
    },
    /// The text is not in the format.
    #[error("{at}: {}{message}", field_prefix(.field))]
    Parse {
        /// Where.
        at: Location,
        /// The field (`type`, `f`, `value`, ...) whose value is wrong, when one is.
        field: Option<String>,
        /// What is wrong.
        message: String,
    },
    /// The format could not be told from the file's name or content.
    #[error("{}: cannot tell the history's format ({message}); name it: jepsen-log, edn, jsonl or trace", file_or_input(.file))]
    UnknownFormat {
        /// The file, if any.
        file: Option<PathBuf>,
        /// What was seen.
        message: String,
    },
    /// The events parse but do not form a history (a completion with no invoke, an argument the model
    /// cannot use, ...).
    #[error("{}: {}{message}", event_place(.at, *.event_index), field_prefix(.field))]
    Invalid {
        /// Where the offending event is in its file, when it came from one.
        at: Option<Location>,
        /// The 0-based index of the offending event in the history.
        event_index: usize,
        /// The field, when one is to blame.
        field: Option<String>,
        /// What is wrong.
        message: String,
    },
}

fn field_prefix(field: &Option<String>) -> String {
    match field {
        Some(name) => format!("field `{name}`: "),
        None => String::new(),
    }
}

fn file_or_input(file: &Option<PathBuf>) -> String {
    match file {
        Some(file) => file.display().to_string(),
        None => "input".to_string(),
    }
}

fn event_place(at: &Option<Location>, event_index: usize) -> String {
    match at {
        Some(at) => format!("{at}: event {}", event_index + 1),
        None => format!("event {}", event_index + 1),
    }
}

impl HistoryError {
    /// The exit code the command line gives for bad input.
    pub const EXIT_CODE: i32 = 2;

    /// A parse error at `line`/`column` (file filled in later).
    pub(crate) fn parse(
        line: u64,
        column: u64,
        field: Option<&str>,
        message: impl Into<String>,
    ) -> Self {
        HistoryError::Parse {
            at: Location {
                file: None,
                line,
                column,
            },
            field: field.map(str::to_string),
            message: message.into(),
        }
    }

    /// Sets the file on errors that name a place, keeping any file already there.
    pub fn with_file(mut self, path: &Path) -> Self {
        match &mut self {
            HistoryError::Parse { at, .. } | HistoryError::Invalid { at: Some(at), .. } => {
                at.file.get_or_insert_with(|| path.to_path_buf());
            }
            HistoryError::UnknownFormat { file, .. } => {
                file.get_or_insert_with(|| path.to_path_buf());
            }
            HistoryError::Io { .. } | HistoryError::Invalid { at: None, .. } => {}
        }
        self
    }
}

/// A history read from text, with where each event came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParsedHistory {
    /// The events.
    pub history: History,
    /// The format the text was read as.
    pub format: Format,
    /// For each event, the 1-based line it was read from.
    pub lines: Vec<u64>,
    /// The file, when the text came from one.
    pub file: Option<PathBuf>,
    /// Non-blank lines that were not history and were passed over (a Jepsen log's other output, a
    /// trace's other lines).
    pub skipped_lines: u64,
}

impl ParsedHistory {
    /// The place of event `index`, for error messages.
    pub fn location(&self, index: usize) -> Option<Location> {
        self.lines.get(index).map(|&line| Location {
            file: self.file.clone(),
            line,
            column: 1,
        })
    }
}

/// Parses `text` in `format`, or in the format [`Format::detect`] sees when `format` is `None`.
pub fn parse_str(text: &str, format: Option<Format>) -> Result<ParsedHistory, HistoryError> {
    parse_text(text, format, None)
}

/// Parses raw bytes (which must be UTF-8); `file` only names the source in errors and helps detection.
pub fn parse_bytes(
    bytes: &[u8],
    format: Option<Format>,
    file: Option<&Path>,
) -> Result<ParsedHistory, HistoryError> {
    let text = match std::str::from_utf8(bytes) {
        Ok(text) => text,
        Err(e) => {
            let good = &bytes[..e.valid_up_to()];
            // The valid prefix is UTF-8 by construction, so counting lines and characters in it is safe.
            let good = std::str::from_utf8(good).unwrap_or_default();
            let line = good.matches('\n').count() as u64 + 1;
            let line_start = good.rfind('\n').map_or(0, |i| i + 1);
            let column = good[line_start..].chars().count() as u64 + 1;
            let err = HistoryError::parse(line, column, None, "not UTF-8 text");
            return Err(match file {
                Some(path) => err.with_file(path),
                None => err,
            });
        }
    };
    parse_text(text, format, file)
}

/// The largest history file read (a bound: the file is held in memory while it is parsed).
pub const HISTORY_BYTES_MAX: u64 = 256 * 1024 * 1024;

/// Reads and parses a history file; the format is detected when `format` is `None`. A distsim trace is
/// read one line at a time (only its history is kept, so its size is not capped); any other file may
/// hold at most [`HISTORY_BYTES_MAX`] bytes.
pub fn read_file(path: &Path, format: Option<Format>) -> Result<ParsedHistory, HistoryError> {
    use std::io::BufRead;
    let io_error = |e: crate::input::ReadError| HistoryError::Io {
        file: path.to_path_buf(),
        source: match e {
            crate::input::ReadError::Io(io) => io,
            other => std::io::Error::other(other.to_string()),
        },
    };
    let file = crate::input::open(path).map_err(io_error)?;
    let mut reader = std::io::BufReader::with_capacity(1 << 16, file);
    let head = reader
        .fill_buf()
        .map_err(|e| io_error(crate::input::ReadError::Io(e)))?;
    let is_trace = match format {
        Some(f) => f == Format::Trace,
        None => trace::is_header(&String::from_utf8_lossy(&head[..head.len().min(256)])),
    };
    if is_trace {
        let (history, lines, skipped) = trace::read(reader).map_err(|e| e.with_file(path))?;
        return finish(history, lines, skipped, Format::Trace, Some(path));
    }
    let bytes = crate::input::read_all_capped(reader, HISTORY_BYTES_MAX, "history files")
        .map_err(io_error)?;
    parse_bytes(&bytes, format, Some(path))
}

fn parse_text(
    text: &str,
    format: Option<Format>,
    file: Option<&Path>,
) -> Result<ParsedHistory, HistoryError> {
    let format = match format.or_else(|| Format::detect(file, text)) {
        Some(format) => format,
        None => {
            let first = text.lines().map(str::trim).find(|l| !l.is_empty());
            let message = match first {
                None => "it is empty".to_string(),
                Some(line) => {
                    let shown: String = line.chars().take(40).collect();
                    format!("first line: {shown:?}")
                }
            };
            return Err(HistoryError::UnknownFormat {
                file: file.map(Path::to_path_buf),
                message,
            });
        }
    };
    let with_file = |err: HistoryError| match file {
        Some(path) => err.with_file(path),
        None => err,
    };
    let (history, lines, skipped_lines) = match format {
        Format::JepsenLog => jepsen_log::parse(text),
        Format::Edn => edn::parse(text).map(|(mut h, l)| {
            independent::split_tuples(&mut h);
            (h, l, 0)
        }),
        Format::Jsonl => jsonl::parse(text).map(|(h, l)| (h, l, 0)),
        Format::Trace => trace::read(text.as_bytes()),
    }
    .map_err(with_file)?;
    finish(history, lines, skipped_lines, format, file)
}

/// The checks every format shares: a history has operations, and they are consistent.
fn finish(
    history: History,
    lines: Vec<u64>,
    skipped_lines: u64,
    format: Format,
    file: Option<&Path>,
) -> Result<ParsedHistory, HistoryError> {
    if history.events.is_empty() {
        let message = match skipped_lines {
            0 => "no operations: the file holds no history events".to_string(),
            n => format!("no operations: none of its {n} non-blank lines is a history event"),
        };
        let err = HistoryError::parse(1, 1, None, message);
        return Err(match file {
            Some(path) => err.with_file(path),
            None => err,
        });
    }
    consistency::check(&history, &lines, file)?;
    Ok(ParsedHistory {
        history,
        format,
        lines,
        file: file.map(Path::to_path_buf),
        skipped_lines,
    })
}

/// Character column (1-based) of byte offset `byte` within `line`.
/// Runs `parse_line` on every non-blank line of `text` (with its 1-based number; a trailing `\r` is
/// dropped) and collects the events it returns, with the line of each. Shared by the line formats.
pub(crate) fn parse_lines(
    text: &str,
    mut parse_line: impl FnMut(&str, u64) -> Result<Option<HistoryEvent>, HistoryError>,
) -> Result<(History, Vec<u64>), HistoryError> {
    let mut events = Vec::new();
    let mut lines = Vec::new();
    for (index, raw) in text.split('\n').enumerate() {
        let line_no = index as u64 + 1;
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        if line.trim().is_empty() {
            continue;
        }
        if let Some(event) = parse_line(line, line_no)? {
            events.push(event);
            lines.push(line_no);
        }
    }
    Ok((History { events }, lines))
}

pub(crate) fn column_of(line: &str, byte: usize) -> u64 {
    let byte = byte.min(line.len());
    // `byte` may fall inside a character when it comes from a byte scanner: count whole characters before it.
    line.char_indices().take_while(|&(i, _)| i < byte).count() as u64 + 1
}
