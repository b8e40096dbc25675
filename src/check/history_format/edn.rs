//! Jepsen EDN operation maps: a reader and a writer.
//!
//! Reads either one map after another (one a line, as in Porcupine's test files) or one vector holding
//! them all (as Jepsen writes `history.edn`):
//!
//! ```text
//! {:process 0, :type :invoke, :f :append, :key "0", :value "x 0 0 y"}
//! {:process 0, :type :ok, :f :append, :key "0", :value "x 0 0 y"}
//! ```
//!
//! Keys read: `:process` (an integer; maps whose process is a keyword, such as `:nemesis`, are skipped),
//! `:type`, `:f`, `:key` (string or integer), `:value` and `:time` (nanoseconds; without it, an event's time is
//! its line number). Other keys (`:index`, `:error`, ...) are ignored. Tagged literals
//! (`#jepsen.history.Op{...}`) read as their value.
//!
//! The reader handles the EDN this needs (nil, booleans, integers, strings, keywords, symbols, vectors,
//! lists, sets, maps, tagged literals, comments) and refuses the rest with a located error; it never panics and bounds
//! nesting so that hostile input cannot overflow the stack.
//!
//! The writer prints exactly the layout above (`:key` only when there is one), which Porcupine's parser and
//! Knossos both read. Strings that start with `:` and look like keywords are written as keywords, so that a
//! Jepsen `:timed-out` survives a round trip.

use super::HistoryError;
use crate::contract::{EventKind, Func, History, HistoryEvent, Value};
use std::fmt::Write as _;
use std::io;

/// How deep vectors and maps may nest before the reader gives up.
const DEPTH_MAX: usize = 64;

/// A place in the text (1-based line and character column).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Pos {
    pub(crate) line: u64,
    pub(crate) column: u64,
}

/// An EDN value, as far as histories need.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Edn {
    Nil,
    Bool(bool),
    Int(i64),
    Float,
    Str(String),
    Keyword(String),
    Symbol(String),
    /// A vector, list or set (histories do not need to tell them apart).
    Seq(Vec<Edn>),
    /// Entries with the position of each value.
    Map(Vec<(Edn, Edn, Pos)>),
}

/// A scanner over EDN text that keeps track of lines.
pub(crate) struct Reader<'a> {
    text: &'a str,
    pos: usize,
    line: u64,
    line_start: usize,
    /// The last column computed, as (byte offset, column): counting on from it keeps long lines linear.
    column_mark: std::cell::Cell<(usize, u64)>,
}

fn is_delimiter(b: u8) -> bool {
    b.is_ascii_whitespace()
        || matches!(
            b,
            b',' | b'(' | b')' | b'[' | b']' | b'{' | b'}' | b'"' | b';'
        )
}

impl<'a> Reader<'a> {
    pub(crate) fn new(text: &'a str) -> Self {
        Reader {
            text,
            pos: 0,
            line: 1,
            line_start: 0,
            column_mark: std::cell::Cell::new((0, 1)),
        }
    }

    fn bytes(&self) -> &'a [u8] {
        self.text.as_bytes()
    }

    fn peek(&self) -> Option<u8> {
        self.bytes().get(self.pos).copied()
    }

    pub(crate) fn here(&self) -> Pos {
        let (mut from, mut column) = self.column_mark.get();
        if from < self.line_start || from > self.pos {
            (from, column) = (self.line_start, 1);
        }
        let span = self.text.get(from..self.pos).unwrap_or("");
        column += span.chars().count() as u64;
        self.column_mark.set((self.pos, column));
        Pos {
            line: self.line,
            column,
        }
    }

    fn error(&self, at: Pos, message: impl Into<String>) -> HistoryError {
        HistoryError::parse(at.line, at.column, None, message)
    }

    /// Moves past one byte, noting line ends.
    fn bump(&mut self) {
        if let Some(b) = self.peek() {
            self.pos += 1;
            if b == b'\n' {
                self.line += 1;
                self.line_start = self.pos;
            }
        }
    }

    /// Skips whitespace, commas and `;` comments.
    pub(crate) fn skip_blank(&mut self) {
        while let Some(b) = self.peek() {
            if b.is_ascii_whitespace() || b == b',' {
                self.bump();
            } else if b == b';' {
                while let Some(c) = self.peek() {
                    if c == b'\n' {
                        break;
                    }
                    self.bump();
                }
            } else {
                break;
            }
        }
    }

    pub(crate) fn at_end(&self) -> bool {
        self.pos >= self.text.len()
    }

    /// Reads one value (after skipping blanks); returns it with its starting position.
    pub(crate) fn read(&mut self, depth: usize) -> Result<(Edn, Pos), HistoryError> {
        self.skip_blank();
        let start = self.here();
        if depth > DEPTH_MAX {
            return Err(self.error(start, format!("nested deeper than {DEPTH_MAX} levels")));
        }
        let Some(b) = self.peek() else {
            return Err(self.error(start, "unexpected end of input: expected a value"));
        };
        let value = match b {
            b'{' => {
                self.bump();
                self.read_map(start, depth)?
            }
            b'[' => {
                self.bump();
                Edn::Seq(self.read_seq(start, b']', depth)?)
            }
            b'(' => {
                self.bump();
                Edn::Seq(self.read_seq(start, b')', depth)?)
            }
            b'"' => self.read_string(start)?,
            b'#' => {
                self.bump();
                match self.peek() {
                    Some(b'{') => {
                        self.bump();
                        Edn::Seq(self.read_seq(start, b'}', depth)?)
                    }
                    Some(b'_') => {
                        return Err(self.error(
                            start,
                            "discarded forms (`#_`) are not supported in histories",
                        ));
                    }
                    Some(c) if !is_delimiter(c) => {
                        // A tagged literal: the tag is a symbol, the value follows.
                        let tag = self.read_token();
                        if tag.is_empty() {
                            return Err(self.error(start, "a `#` must be followed by a tag or `{`"));
                        }
                        let (value, _) = self.read(depth + 1)?;
                        value
                    }
                    _ => return Err(self.error(start, "a `#` must be followed by a tag or `{`")),
                }
            }
            b')' | b']' | b'}' => {
                return Err(self.error(start, format!("unexpected `{}`", b as char)));
            }
            b':' => {
                self.bump();
                let name = self.read_token();
                if name.is_empty() {
                    return Err(self.error(start, "a keyword needs a name after `:`"));
                }
                Edn::Keyword(name.to_string())
            }
            b'\\' => {
                return Err(self.error(
                    start,
                    "EDN characters (`\\c`) are not supported in histories",
                ));
            }
            _ => {
                let token = self.read_token();
                if token.is_empty() {
                    return Err(self.error(
                        start,
                        format!("unexpected character {:?}", self.char_at(start)),
                    ));
                }
                self.parse_atom(token, start)?
            }
        };
        Ok((value, start))
    }

    fn char_at(&self, _at: Pos) -> char {
        self.text[self.pos..].chars().next().unwrap_or('?')
    }

    fn read_token(&mut self) -> &'a str {
        let begin = self.pos;
        while let Some(b) = self.peek() {
            if is_delimiter(b) {
                break;
            }
            self.bump();
        }
        // Delimiters are ASCII, so `begin..pos` lies on character boundaries.
        &self.text[begin..self.pos]
    }

    fn parse_atom(&self, token: &str, start: Pos) -> Result<Edn, HistoryError> {
        match token {
            "nil" => return Ok(Edn::Nil),
            "true" => return Ok(Edn::Bool(true)),
            "false" => return Ok(Edn::Bool(false)),
            _ => {}
        }
        let first = token.as_bytes()[0];
        let numeric = first.is_ascii_digit()
            || ((first == b'-' || first == b'+')
                && token.as_bytes().get(1).is_some_and(u8::is_ascii_digit));
        if !numeric {
            return Ok(Edn::Symbol(token.to_string()));
        }
        let digits = token.strip_suffix('N').unwrap_or(token);
        if let Ok(n) = digits.parse::<i64>() {
            return Ok(Edn::Int(n));
        }
        let all_int = digits
            .trim_start_matches(['-', '+'])
            .bytes()
            .all(|b| b.is_ascii_digit());
        if all_int {
            return Err(self.error(start, format!("integer `{token}` does not fit in 64 bits")));
        }
        if token.trim_end_matches('M').parse::<f64>().is_ok() {
            return Ok(Edn::Float);
        }
        Err(self.error(start, format!("malformed number `{token}`")))
    }

    fn read_seq(&mut self, start: Pos, close: u8, depth: usize) -> Result<Vec<Edn>, HistoryError> {
        let mut items = Vec::new();
        loop {
            self.skip_blank();
            match self.peek() {
                None => {
                    return Err(self.error(
                        start,
                        format!("unclosed collection: no `{}` before the end", close as char),
                    ));
                }
                Some(b) if b == close => {
                    self.bump();
                    return Ok(items);
                }
                Some(_) => items.push(self.read(depth + 1)?.0),
            }
        }
    }

    fn read_map(&mut self, start: Pos, depth: usize) -> Result<Edn, HistoryError> {
        let mut entries = Vec::new();
        loop {
            self.skip_blank();
            match self.peek() {
                None => return Err(self.error(start, "unclosed map: no `}` before the end")),
                Some(b'}') => {
                    self.bump();
                    return Ok(Edn::Map(entries));
                }
                Some(_) => {
                    let (key, key_at) = self.read(depth + 1)?;
                    self.skip_blank();
                    if self.peek() == Some(b'}') || self.at_end() {
                        return Err(self.error(key_at, "map key without a value"));
                    }
                    let (value, value_at) = self.read(depth + 1)?;
                    entries.push((key, value, value_at));
                }
            }
        }
    }

    fn read_string(&mut self, start: Pos) -> Result<Edn, HistoryError> {
        self.bump(); // the opening quote
        let mut out = String::new();
        loop {
            let rest = &self.text[self.pos..];
            // Copy the run up to the next quote or backslash in one go.
            let run = rest.find(['"', '\\']).unwrap_or(rest.len());
            out.push_str(&rest[..run]);
            for _ in 0..run {
                self.bump();
            }
            match self.peek() {
                None => return Err(self.error(start, "unterminated string")),
                Some(b'"') => {
                    self.bump();
                    return Ok(Edn::Str(out));
                }
                Some(_) => {
                    let escape_at = self.here();
                    self.bump(); // the backslash
                    let Some(c) = self.peek() else {
                        return Err(self.error(start, "unterminated string"));
                    };
                    self.bump();
                    match c {
                        b'"' => out.push('"'),
                        b'\\' => out.push('\\'),
                        b'/' => out.push('/'),
                        b'n' => out.push('\n'),
                        b't' => out.push('\t'),
                        b'r' => out.push('\r'),
                        b'b' => out.push('\u{8}'),
                        b'f' => out.push('\u{c}'),
                        b'u' => {
                            let hex = self.text.get(self.pos..self.pos + 4).unwrap_or("");
                            let code = (hex.len() == 4
                                && hex.bytes().all(|b| b.is_ascii_hexdigit()))
                            .then(|| u32::from_str_radix(hex, 16).ok())
                            .flatten()
                            .and_then(char::from_u32);
                            match code {
                                Some(ch) => {
                                    out.push(ch);
                                    for _ in 0..4 {
                                        self.bump();
                                    }
                                }
                                None => {
                                    return Err(self.error(
                                        escape_at,
                                        "bad `\\u` escape: expected 4 hex digits",
                                    ));
                                }
                            }
                        }
                        _ => return Err(self.error(escape_at, "unknown escape in string")),
                    }
                }
            }
        }
    }
}

/// Converts an EDN value into a history [`Value`]; keywords become strings that keep their colon.
pub(crate) fn edn_to_value(edn: &Edn) -> Result<Value, String> {
    Ok(match edn {
        Edn::Nil => Value::Nil,
        Edn::Int(n) => Value::Int(*n),
        Edn::Str(s) => Value::Str(s.clone()),
        Edn::Keyword(k) => Value::Str(format!(":{k}")),
        Edn::Seq(items) => Value::List(items.iter().map(edn_to_value).collect::<Result<_, _>>()?),
        Edn::Bool(_) => return Err("booleans are not history values".to_string()),
        Edn::Float => return Err("floating-point numbers are not history values".to_string()),
        Edn::Symbol(s) => return Err(format!("symbol `{s}` is not a history value")),
        Edn::Map(_) => return Err("maps are not history values".to_string()),
    })
}

/// Parses an event type keyword (`invoke`, `ok`, `fail`, `info`).
pub(crate) fn event_kind(name: &str) -> Option<EventKind> {
    Some(match name {
        "invoke" => EventKind::Invoke,
        "ok" => EventKind::Ok,
        "fail" => EventKind::Fail,
        "info" => EventKind::Info,
        _ => return None,
    })
}

/// The keyword name of an event type.
pub fn kind_name(kind: EventKind) -> &'static str {
    match kind {
        EventKind::Invoke => "invoke",
        EventKind::Ok => "ok",
        EventKind::Fail => "fail",
        EventKind::Info => "info",
    }
}

/// Turns one operation map into an event; `Ok(None)` for maps to skip (a nemesis).
fn event_from_map(
    entries: &[(Edn, Edn, Pos)],
    at: Pos,
    line: u64,
) -> Result<Option<HistoryEvent>, HistoryError> {
    let located = |pos: Pos, field: &str, message: String| {
        HistoryError::parse(pos.line, pos.column, Some(field), message)
    };
    let mut process = None;
    let mut kind = None;
    let mut f = None;
    let mut key = None;
    let mut value = Value::Nil;
    let mut time_ns = None;
    for (k, v, pos) in entries {
        let Edn::Keyword(name) = k else {
            return Err(HistoryError::parse(
                at.line,
                at.column,
                None,
                "operation map keys must be keywords",
            ));
        };
        match name.as_str() {
            "process" => match v {
                Edn::Int(n) if *n >= 0 => process = Some(*n as u64),
                Edn::Keyword(_) => return Ok(None),
                _ => {
                    return Err(located(
                        *pos,
                        "process",
                        "expected a non-negative integer".into(),
                    ));
                }
            },
            "type" => match v {
                Edn::Keyword(t) => match event_kind(t) {
                    Some(t) => kind = Some(t),
                    None => {
                        return Err(located(
                            *pos,
                            "type",
                            format!("unknown type `:{t}`: expected :invoke, :ok, :fail or :info"),
                        ));
                    }
                },
                _ => return Err(located(*pos, "type", "expected a keyword".into())),
            },
            "f" => match v {
                Edn::Keyword(name) => f = Some(Func::new(name.as_str())),
                _ => return Err(located(*pos, "f", "expected a keyword".into())),
            },
            "key" => match v {
                Edn::Str(s) => key = Some(s.clone()),
                Edn::Int(n) => key = Some(n.to_string()),
                Edn::Keyword(k) => key = Some(format!(":{k}")),
                Edn::Nil => key = None,
                _ => {
                    return Err(located(
                        *pos,
                        "key",
                        "expected a string or an integer".into(),
                    ));
                }
            },
            "value" => value = edn_to_value(v).map_err(|m| located(*pos, "value", m))?,
            "time" => match v {
                Edn::Int(n) if *n >= 0 => time_ns = Some(*n as u64),
                _ => {
                    return Err(located(
                        *pos,
                        "time",
                        "expected a non-negative integer".into(),
                    ));
                }
            },
            _ => {}
        }
    }
    let missing = |field: &str| {
        HistoryError::parse(
            at.line,
            at.column,
            Some(field),
            format!("missing `:{field}`"),
        )
    };
    // A map with a keyword process was skipped above; one with no process at all is an error.
    let process = process.ok_or_else(|| missing("process"))?;
    let kind = kind.ok_or_else(|| missing("type"))?;
    let f = f.ok_or_else(|| missing("f"))?;
    Ok(Some(HistoryEvent {
        time_ns: time_ns.unwrap_or(line),
        process,
        kind,
        f,
        key,
        value,
    }))
}

/// Parses EDN history text into events and the line of each.
pub(crate) fn parse(text: &str) -> Result<(History, Vec<u64>), HistoryError> {
    let mut reader = Reader::new(text);
    let mut events = Vec::new();
    let mut lines = Vec::new();
    let mut push = |edn: &Edn, at: Pos| -> Result<(), HistoryError> {
        match edn {
            Edn::Map(entries) => {
                if let Some(event) = event_from_map(entries, at, at.line)? {
                    events.push(event);
                    lines.push(at.line);
                }
                Ok(())
            }
            _ => Err(HistoryError::parse(
                at.line,
                at.column,
                None,
                "expected an operation map `{:process .. :type ..}`",
            )),
        }
    };
    reader.skip_blank();
    if reader.peek() == Some(b'[') {
        // One vector holding the whole history: read its maps one by one, keeping their positions.
        let start = reader.here();
        reader.bump();
        loop {
            reader.skip_blank();
            match reader.peek() {
                None => {
                    return Err(HistoryError::parse(
                        start.line,
                        start.column,
                        None,
                        "unclosed `[`",
                    ));
                }
                Some(b']') => {
                    reader.bump();
                    break;
                }
                Some(_) => {
                    let (edn, at) = reader.read(1)?;
                    push(&edn, at)?;
                }
            }
        }
        reader.skip_blank();
        if !reader.at_end() {
            let at = reader.here();
            return Err(HistoryError::parse(
                at.line,
                at.column,
                None,
                "unexpected text after the history vector",
            ));
        }
    } else {
        loop {
            reader.skip_blank();
            if reader.at_end() {
                break;
            }
            let (edn, at) = reader.read(0)?;
            push(&edn, at)?;
        }
    }
    Ok((History { events }, lines))
}

/// Appends `value` to `out` as EDN.
pub fn push_value(out: &mut String, value: &Value) {
    let _ = write!(out, "{value}");
}

/// A value as EDN text (`nil`, `3`, `"x"`, `[1 2]`).
pub fn value_to_edn(value: &Value) -> String {
    let mut out = String::new();
    push_value(&mut out, value);
    out
}

fn push_event(out: &mut String, event: &HistoryEvent, with_time: bool) {
    let _ = write!(
        out,
        "{{:process {}, :type :{}, :f :{}",
        event.process,
        kind_name(event.kind),
        event.f
    );
    if let Some(key) = &event.key {
        out.push_str(", :key ");
        push_value(out, &Value::Str(key.clone()));
    }
    out.push_str(", :value ");
    push_value(out, &event.value);
    if with_time {
        let _ = write!(out, ", :time {}", event.time_ns);
    }
    out.push_str("}\n");
}

/// Writes `history` as EDN maps, one a line, in the layout Porcupine's parser and Knossos read. Times are
/// left out: the order of the lines carries them.
pub fn write_edn(history: &History, out: &mut impl io::Write) -> io::Result<()> {
    out.write_all(to_edn_string(history).as_bytes())
}

/// Like [`write_edn`], with each event's `time_ns` as a trailing `:time` (Jepsen's field; Porcupine's
/// line-oriented parser does not accept it).
pub fn write_edn_with_time(history: &History, out: &mut impl io::Write) -> io::Result<()> {
    let mut text = String::new();
    for event in &history.events {
        push_event(&mut text, event, true);
    }
    out.write_all(text.as_bytes())
}

/// `history` as EDN text (see [`write_edn`]).
pub fn to_edn_string(history: &History) -> String {
    let mut text = String::new();
    for event in &history.events {
        push_event(&mut text, event, false);
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_round_trip_through_text() {
        let values = [
            Value::Nil,
            Value::Int(-42),
            Value::Str("tab\there \"quoted\" back\\slash \u{1} é".into()),
            Value::Str(":timed-out".into()),
            Value::Str(": not a keyword".into()),
            Value::List(vec![
                Value::Int(1),
                Value::List(vec![]),
                Value::Str(String::new()),
            ]),
        ];
        for value in values {
            let text = value_to_edn(&value);
            let (edn, _) = Reader::new(&text).read(0).expect("reads back");
            assert_eq!(edn_to_value(&edn).expect("a value"), value, "{text}");
        }
    }

    #[test]
    fn positions_count_characters() {
        let mut reader = Reader::new("é [1\n  :x]");
        let (_, at) = reader.read(0).expect("a symbol");
        assert_eq!((at.line, at.column), (1, 1));
        let (_, at) = reader.read(0).expect("a vector");
        assert_eq!((at.line, at.column), (1, 3));
        let err = Reader::new("[1 2").read(0).expect_err("unclosed");
        assert!(err.to_string().contains("line 1, column 1"), "{err}");
    }
}
