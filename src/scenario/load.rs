//! Reading a scenario file: bytes to UTF-8 to JSON to [`Scenario`] to a validated scenario, with every
//! error naming the file, line, column and field.

use super::locate::{self, Seg};
use super::{Scenario, validate};
use std::fmt;
use std::path::Path;

/// Largest scenario file accepted (a bound: scenario files are small).
pub const SCENARIO_BYTES_MAX: u64 = 16 * 1024 * 1024;

/// A scenario that cannot be used, and where the problem is.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub struct ScenarioError {
    /// The file (as given by the user).
    pub file: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
    /// The field path (`faults[2].at_ms`), empty for the whole file.
    pub field: String,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Control characters from the input (a field name, a value) are shown escaped, so no scenario
        // can forge a line of output.
        use crate::text::escaped;
        write!(f, "{}:{}:{}: ", escaped(&self.file), self.line, self.column)?;
        if !self.field.is_empty() {
            // A path into deeply nested input can be hundreds of characters: show its start.
            write!(f, "field `{}`: ", crate::text::excerpt(&self.field, 120))?;
        }
        f.write_str(&crate::text::excerpt(&self.message, 2_000))
    }
}

/// A scenario with the text it came from, so later checks (the protocol's parameters, mutant names)
/// can still point into the file.
#[derive(Clone, Debug)]
pub struct Source {
    /// The file name as given.
    pub file: String,
    /// The file's text.
    pub text: String,
}

impl Source {
    /// An error at the field `path` of this file.
    pub fn error_at(&self, path: &[Seg], message: impl Into<String>) -> ScenarioError {
        let (line, column) = locate::line_col(&self.text, path);
        ScenarioError {
            file: self.file.clone(),
            line,
            column,
            field: locate::render(path),
            message: message.into(),
        }
    }
}

/// Reads and validates a scenario file.
pub fn load(path: &Path) -> Result<(Scenario, Source), ScenarioError> {
    let file = crate::text::escaped(&path.display().to_string()).into_owned();
    let whole = |message: String| ScenarioError {
        file: file.clone(),
        line: 1,
        column: 1,
        field: String::new(),
        message,
    };
    let bytes = crate::input::read_capped(path, SCENARIO_BYTES_MAX, "scenario files")
        .map_err(|e| whole(e.to_string()))?;
    parse(&bytes, &file)
}

/// Parses and validates scenario bytes; `file` names them in errors. A UTF-8 byte-order mark is
/// skipped (some editors write one); the top level must be a JSON object.
pub fn parse(bytes: &[u8], file: &str) -> Result<(Scenario, Source), ScenarioError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let text = match std::str::from_utf8(bytes) {
        Ok(t) => t,
        Err(e) => {
            let good = &bytes[..e.valid_up_to()];
            let good = std::str::from_utf8(good).unwrap_or_default();
            let (line, column) = locate::position(good, good.len());
            return Err(ScenarioError {
                file: file.to_string(),
                line,
                column,
                field: String::new(),
                message: "not UTF-8 text (is this a scenario file?)".into(),
            });
        }
    };
    let source = Source {
        file: file.to_string(),
        text: text.to_string(),
    };
    if text.trim().is_empty() {
        return Err(source.error_at(&[], "empty file: expected a JSON scenario object"));
    }
    // serde reads a JSON array as the fields in order; a scenario is only ever an object.
    let start = text.len() - text.trim_start().len();
    if !text[start..].starts_with('{') {
        let (line, column) = locate::position(text, start);
        return Err(ScenarioError {
            file: file.to_string(),
            line,
            column,
            field: String::new(),
            message: "expected a JSON object `{...}` at the top level".into(),
        });
    }
    let mut de = serde_json::Deserializer::from_str(text);
    let json_error = |e: &serde_json::Error, field: String| ScenarioError {
        file: file.to_string(),
        line: e.line().max(1),
        column: e.column().max(1),
        field,
        message: strip_position(&e.to_string()),
    };
    let scenario: Scenario = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        // The path is "." at the top level and "?" where serde_json could not tell.
        let field = match e.path().to_string() {
            f if f == "." || f == "?" => String::new(),
            f => f,
        };
        json_error(e.inner(), field)
    })?;
    de.end().map_err(|e| json_error(&e, String::new()))?;
    validate::validate(&scenario).map_err(|(path, msg)| source.error_at(&path, msg))?;
    Ok((scenario, source))
}

/// serde_json appends " at line L column C" to its messages; the position is reported separately.
fn strip_position(msg: &str) -> String {
    match msg.rfind(" at line ") {
        Some(p) => msg[..p].to_string(),
        None => msg.to_string(),
    }
}

/// Validates a scenario that sits at field `prefix` of `source` (a trace header's `scenario`), so
/// errors point into that text.
pub fn validate_in(
    scenario: &Scenario,
    source: &Source,
    prefix: &str,
) -> Result<(), ScenarioError> {
    validate::validate(scenario).map_err(|(path, msg)| {
        let mut full = vec![Seg::Key(prefix.to_string())];
        full.extend(path);
        source.error_at(&full, msg)
    })
}
