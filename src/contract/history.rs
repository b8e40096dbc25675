//! Client histories: what clients asked for, and what they were told, with true times.
//!
//! The shape follows Jepsen's history (`:process`, `:type`, `:f`, `:value`), so that a run of distsim, a
//! Jepsen log and a Porcupine test file all read into the same [`History`], and a run's history can be
//! written out as Jepsen EDN for Knossos or Porcupine to cross-check.
//!
//! A process has at most one operation open at a time. An operation that ends in [`EventKind::Info`]
//! (outcome unknown) stays open for ever: a client that gives up on an operation must continue under a
//! fresh process id, exactly as Jepsen does.

use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::fmt;

/// A value in a history: an argument of an invoke or the result of a completion.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default)]
#[serde(untagged)]
pub enum Value {
    /// Nothing: Jepsen's `nil` (a read of a key never written, or an invoke with no argument).
    #[default]
    Nil,
    /// An integer (the Jepsen etcd register holds small integers).
    Int(i64),
    /// A string (key-value stores hold strings).
    Str(String),
    /// A tuple, such as compare-and-set's `[from to]`.
    List(Vec<Value>),
}

/// What a history event says about its operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    /// The client sent the request.
    Invoke,
    /// The operation took effect, and `value` is its result.
    Ok,
    /// The operation definitely did not take effect (for a compare-and-set: the compare failed).
    Fail,
    /// The outcome is unknown (a timeout): it may take effect at any time after its invoke, or never.
    Info,
}

/// The operation's function: Jepsen's `:f`, such as `read`, `write`, `cas`, `get`, `put`, `append`,
/// `acquire`, `enqueue` or `transfer`.
///
/// Open on purpose: each sequential model ([`crate::contract::Model`]) says which functions it knows and
/// refuses the others with a message. The common names are constants, so recording them allocates
/// nothing.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Func(Cow<'static, str>);

impl Func {
    /// Register read; the completion's value is what was read.
    pub const READ: Func = Func::from_static("read");
    /// Register write of the invoke's value.
    pub const WRITE: Func = Func::from_static("write");
    /// Compare-and-set; the value is `[from, to]`.
    pub const CAS: Func = Func::from_static("cas");
    /// Key-value get; the completion's value is what was read (`nil` or `""` when absent).
    pub const GET: Func = Func::from_static("get");
    /// Key-value put of the value under the key.
    pub const PUT: Func = Func::from_static("put");
    /// Key-value append of the value to the key's string.
    pub const APPEND: Func = Func::from_static("append");

    /// A function named by a static string.
    pub const fn from_static(name: &'static str) -> Func {
        Func(Cow::Borrowed(name))
    }

    /// A function named at run time (a parsed history).
    pub fn new(name: impl Into<String>) -> Func {
        Func(Cow::Owned(name.into()))
    }

    /// The name, as in Jepsen's keyword without the colon.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Func {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A value as EDN writes it (`nil`, `3`, `"x"`, `[1 2]`, and `:kw` for a string that holds a keyword):
/// the form witnesses, reports and Jepsen exports use.
impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Nil => f.write_str("nil"),
            Value::Int(n) => write!(f, "{n}"),
            Value::Str(s) => match s.strip_prefix(':') {
                Some(body) if is_keyword_body(body) => f.write_str(s),
                _ => {
                    f.write_str("\"")?;
                    for c in s.chars() {
                        match c {
                            '"' => f.write_str("\\\"")?,
                            '\\' => f.write_str("\\\\")?,
                            '\n' => f.write_str("\\n")?,
                            '\t' => f.write_str("\\t")?,
                            '\r' => f.write_str("\\r")?,
                            c if (c as u32) < 0x20 => write!(f, "\\u{:04x}", c as u32)?,
                            c => write!(f, "{c}")?,
                        }
                    }
                    f.write_str("\"")
                }
            },
            Value::List(items) => {
                f.write_str("[")?;
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(" ")?;
                    }
                    write!(f, "{item}")?;
                }
                f.write_str("]")
            }
        }
    }
}

/// Whether `s` may follow a colon as an EDN keyword.
fn is_keyword_body(s: &str) -> bool {
    !s.is_empty()
        && !s.as_bytes()[0].is_ascii_digit()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"*+!-_?<>=/.".contains(&b))
}

/// One line of a history.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryEvent {
    /// True (virtual) time of the event in nanoseconds; for parsed files, the line number.
    pub time_ns: u64,
    /// The logical client process. At most one open operation per process.
    pub process: u64,
    /// Invoke, or how the operation ended.
    #[serde(rename = "type")]
    pub kind: EventKind,
    /// The function.
    pub f: Func,
    /// The key, for key-value operations; `None` for a single register.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// The argument (on invoke) or the result (on completion).
    #[serde(default)]
    pub value: Value,
}

/// A whole history, in the order its events happened.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct History {
    /// The events, ordered by `time_ns` (ties keep their recorded order).
    pub events: Vec<HistoryEvent>,
}
