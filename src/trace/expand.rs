//! Reading trace format 3 back: each compact line (see [`super::compact`]) becomes the format-2 line it
//! stands for, byte for byte as a format-2 writer writes it, so that everything that reads format-2
//! lines (the views, the exports, diff, check-history) reads both formats.
//!
//! The expander keeps what a compact line may leave out: a few numbers, the previous send's body in
//! the current event, and the bounded book of [shapes](super::shape). Its memory does not grow with
//! the run.

use super::shape::{ShapeError, ShapeReader};
use serde::{Deserialize, Deserializer};
use serde_json::value::RawValue;
use std::borrow::Cow;
use std::fmt;

/// A compact line that does not expand: the field it concerns, the column, and what is wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExpandError {
    /// The field (`b`, `o`), empty for the line as a whole.
    pub field: String,
    /// The 1-based column in the line, where known (1 otherwise).
    pub column: usize,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for ExpandError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ExpandError {}

/// What one line became.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Expanded {
    /// A compact event line, expanded into the output.
    Event,
    /// A line in the format-2 shape (with `kind`: the closing line), copied as it is.
    Verbatim,
    /// A compact line of a kind this build does not know (from a newer writer); nothing written.
    Unknown,
}

/// Every field a compact line can have. Payloads are kept as the text the line holds.
#[derive(Deserialize)]
struct Compact<'a> {
    #[serde(borrow)]
    k: Option<Cow<'a, str>>,
    #[serde(default, borrow, deserialize_with = "present")]
    kind: Option<&'a RawValue>,
    e: Option<u64>,
    t: Option<u64>,
    n: Option<u32>,
    i: Option<u64>,
    f: Option<u32>,
    o: Option<u32>,
    #[serde(default, borrow, deserialize_with = "present")]
    b: Option<&'a RawValue>,
    #[serde(default, borrow, deserialize_with = "present")]
    y: Option<&'a RawValue>,
    #[serde(default, borrow, deserialize_with = "present")]
    tp: Option<&'a RawValue>,
    lc: Option<u64>,
    #[serde(default, borrow, deserialize_with = "present")]
    vc: Option<&'a RawValue>,
    #[serde(default, borrow, deserialize_with = "present")]
    fault: Option<&'a RawValue>,
    #[serde(default, borrow, deserialize_with = "present")]
    nodes: Option<&'a RawValue>,
    #[serde(default, borrow, deserialize_with = "present")]
    effect: Option<&'a RawValue>,
    #[serde(default, borrow, deserialize_with = "present")]
    role: Option<&'a RawValue>,
    #[serde(default, borrow, deserialize_with = "present")]
    checker: Option<&'a RawValue>,
    #[serde(default, borrow, deserialize_with = "present")]
    node: Option<&'a RawValue>,
    #[serde(default, borrow, deserialize_with = "present")]
    message: Option<&'a RawValue>,
}

/// A field that is there, `null` included (a plain `Option` would read `null` as absent).
fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<&'de RawValue>, D::Error> {
    <&RawValue>::deserialize(d).map(Some)
}

/// `value`, or the error that a `kind` line lacks `field`.
fn need<'a>(
    value: Option<&'a RawValue>,
    field: &str,
    kind: &str,
) -> Result<&'a RawValue, ExpandError> {
    value.ok_or_else(|| missing(field, kind))
}

fn missing(field: &str, kind: &str) -> ExpandError {
    ExpandError {
        field: field.to_string(),
        column: 1,
        message: format!("a `{kind}` line needs its field `{field}`"),
    }
}

/// Expands format-3 lines, in order, into format-2 lines.
#[derive(Default)]
pub struct Expander {
    e: u64,
    t: u64,
    node: u32,
    next_send_id: u64,
    msg: (u64, u32, u32),
    /// The previous send's body (expanded) in event `body_e`.
    body: Vec<u8>,
    body_e: Option<u64>,
    shapes: ShapeReader,
    digits: itoa::Buffer,
}

impl Expander {
    /// Expands the next line of the file (after the header), appending the format-2 line, without
    /// its `\n`, to `out`.
    pub fn expand(&mut self, line: &[u8], out: &mut Vec<u8>) -> Result<Expanded, ExpandError> {
        // Parsed plainly; only a line that fails is parsed again to name the field.
        let c = match Compact::deserialize(&mut serde_json::Deserializer::from_slice(line)) {
            Ok(c) => c,
            Err(first) => {
                let mut de = serde_json::Deserializer::from_slice(line);
                let (field, inner) =
                    match serde_path_to_error::deserialize::<_, Compact<'_>>(&mut de) {
                        Err(e) => (e.path().to_string(), e.into_inner()),
                        Ok(_) => (String::new(), first),
                    };
                return Err(ExpandError {
                    field: if field == "." { String::new() } else { field },
                    column: inner.column().max(1),
                    message: format!("not a valid trace line: {inner}"),
                });
            }
        };
        let Some(k) = c.k.as_deref() else {
            if c.kind.is_some() {
                out.extend_from_slice(line);
                return Ok(Expanded::Verbatim);
            }
            return Err(ExpandError {
                field: "k".into(),
                column: 1,
                message: "not a valid trace line: no kind (`k`)".into(),
            });
        };
        let e = c.e.unwrap_or(self.e);
        let t = c.t.unwrap_or(self.t);
        self.e = e;
        if !matches!(k, "h") {
            self.t = t;
        }
        let node = c.n.unwrap_or(self.node);
        match k {
            "st" => {
                self.node = node;
                self.begin(out, "start", e, Some(t));
                self.number(out, "node", u64::from(node));
                clock(out, &c);
            }
            "s" => {
                let id = c.i.unwrap_or(self.next_send_id);
                let to = c.o.ok_or_else(|| missing("o", k))?;
                match c.b {
                    Some(b) => {
                        self.body.clear();
                        self.shapes
                            .read(b.get().as_bytes(), &mut self.body)
                            .map_err(|e| body_error("b", &e))?;
                        self.body_e = Some(e);
                    }
                    None if self.body_e == Some(e) => {}
                    None => {
                        return Err(ExpandError {
                            field: "b".into(),
                            column: 1,
                            message: "a send without a body (`b`) must follow a send of the same \
                                      event, whose body it repeats"
                                .into(),
                        });
                    }
                }
                self.next_send_id = id.wrapping_add(1);
                self.node = node;
                self.msg = (id, node, to);
                self.begin(out, "send", e, Some(t));
                self.number(out, "id", id);
                self.number(out, "from", u64::from(node));
                self.number(out, "to", u64::from(to));
                out.extend_from_slice(b",\"msg\":");
                out.extend_from_slice(&self.body);
                if let Some(tp) = c.tp {
                    raw(out, "tampered", tp);
                }
                clock(out, &c);
            }
            "d" => {
                let (id, from) = (c.i.unwrap_or(self.msg.0), c.f.unwrap_or(self.msg.1));
                self.node = node;
                self.msg = (id, from, node);
                self.begin(out, "deliver", e, Some(t));
                self.number(out, "id", id);
                self.number(out, "from", u64::from(from));
                self.number(out, "to", u64::from(node));
                clock(out, &c);
            }
            "x" => {
                let y = need(c.y, "y", k)?;
                let (id, from, to) = (
                    c.i.unwrap_or(self.msg.0),
                    c.f.unwrap_or(self.msg.1),
                    c.o.unwrap_or(self.msg.2),
                );
                self.msg = (id, from, to);
                self.begin(out, "drop", e, Some(t));
                self.number(out, "id", id);
                self.number(out, "from", u64::from(from));
                self.number(out, "to", u64::from(to));
                raw(out, "reason", y);
            }
            "dup" => {
                let id = c.i.unwrap_or(self.msg.0);
                self.begin(out, "duplicate", e, Some(t));
                self.number(out, "id", id);
            }
            "tm" | "n" | "h" => {
                let b = need(c.b, "b", k)?;
                self.node = node;
                let (kind, key, time) = match k {
                    "tm" => ("timer", ",\"timer\":", Some(t)),
                    "n" => ("note", ",\"note\":", Some(t)),
                    _ => ("history", ",\"event\":", None),
                };
                self.begin(out, kind, e, time);
                self.number(out, "node", u64::from(node));
                out.extend_from_slice(key.as_bytes());
                self.shapes
                    .read(b.get().as_bytes(), out)
                    .map_err(|e| body_error("b", &e))?;
                clock(out, &c);
            }
            "r" => {
                let role = need(c.role, "role", k)?;
                self.node = node;
                self.begin(out, "role", e, Some(t));
                self.number(out, "node", u64::from(node));
                raw(out, "role", role);
                clock(out, &c);
            }
            "f" => {
                let (fault, nodes, effect) = (
                    need(c.fault, "fault", k)?,
                    need(c.nodes, "nodes", k)?,
                    need(c.effect, "effect", k)?,
                );
                self.begin(out, "fault", e, Some(t));
                raw(out, "fault", fault);
                raw(out, "nodes", nodes);
                raw(out, "effect", effect);
            }
            "v" => {
                let (checker, node, message) = (
                    need(c.checker, "checker", k)?,
                    need(c.node, "node", k)?,
                    need(c.message, "message", k)?,
                );
                self.begin(out, "violation", e, Some(t));
                raw(out, "checker", checker);
                raw(out, "node", node);
                raw(out, "message", message);
            }
            _ => return Ok(Expanded::Unknown),
        }
        out.push(b'}');
        Ok(Expanded::Event)
    }

    fn begin(&mut self, out: &mut Vec<u8>, kind: &str, e: u64, t: Option<u64>) {
        out.extend_from_slice(b"{\"kind\":\"");
        out.extend_from_slice(kind.as_bytes());
        out.push(b'"');
        self.number(out, "e", e);
        if let Some(t) = t {
            self.number(out, "t", t);
        }
    }

    fn number(&mut self, out: &mut Vec<u8>, key: &str, value: u64) {
        out.extend_from_slice(b",\"");
        out.extend_from_slice(key.as_bytes());
        out.extend_from_slice(b"\":");
        out.extend_from_slice(self.digits.format(value).as_bytes());
    }
}

fn raw(out: &mut Vec<u8>, key: &str, value: &RawValue) {
    out.extend_from_slice(b",\"");
    out.extend_from_slice(key.as_bytes());
    out.extend_from_slice(b"\":");
    out.extend_from_slice(value.get().as_bytes());
}

fn clock(out: &mut Vec<u8>, c: &Compact<'_>) {
    if let Some(lc) = c.lc {
        out.extend_from_slice(b",\"lc\":");
        out.extend_from_slice(itoa::Buffer::new().format(lc).as_bytes());
    }
    if let Some(vc) = c.vc {
        raw(out, "vc", vc);
    }
}

fn body_error(field: &str, e: &ShapeError) -> ExpandError {
    ExpandError {
        field: field.to_string(),
        column: 1,
        message: format!("not a valid trace line: `{field}`: {e}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expand_all(lines: &[&str]) -> Vec<Result<String, ExpandError>> {
        let mut x = Expander::default();
        lines
            .iter()
            .map(|l| {
                let mut out = Vec::new();
                x.expand(l.as_bytes(), &mut out)
                    .map(|_| String::from_utf8(out).unwrap())
            })
            .collect()
    }

    #[test]
    fn left_out_fields_come_from_the_lines_before() {
        let got = expand_all(&[
            r#"{"k":"tm","e":4,"t":100,"n":2,"b":"tick"}"#,
            r#"{"k":"s","o":0,"b":{"type":"ping","n":1}}"#,
            r#"{"k":"s","o":1}"#,
            r#"{"k":"x","y":"loss"}"#,
            r#"{"k":"dup","i":0}"#,
            r#"{"k":"d","e":5,"t":130,"n":0}"#,
            r#"{"k":"n","b":[1,2]}"#,
            r#"{"k":"h","e":6,"n":3,"b":{"time_ns":140,"type":"invoke"}}"#,
            r#"{"k":"st","t":150}"#,
            r#"{"k":"future_kind","e":7}"#,
            r#"{"kind":"end","outcome":"pass"}"#,
        ]);
        let got: Vec<String> = got.into_iter().map(Result::unwrap).collect();
        assert_eq!(
            got,
            [
                r#"{"kind":"timer","e":4,"t":100,"node":2,"timer":"tick"}"#,
                r#"{"kind":"send","e":4,"t":100,"id":0,"from":2,"to":0,"msg":{"type":"ping","n":1}}"#,
                r#"{"kind":"send","e":4,"t":100,"id":1,"from":2,"to":1,"msg":{"type":"ping","n":1}}"#,
                r#"{"kind":"drop","e":4,"t":100,"id":1,"from":2,"to":1,"reason":"loss"}"#,
                r#"{"kind":"duplicate","e":4,"t":100,"id":0}"#,
                r#"{"kind":"deliver","e":5,"t":130,"id":1,"from":2,"to":0}"#,
                r#"{"kind":"note","e":5,"t":130,"node":0,"note":{"type":"ping","n":2}}"#,
                r#"{"kind":"history","e":6,"node":3,"event":{"time_ns":140,"type":"invoke"}}"#,
                r#"{"kind":"start","e":6,"t":150,"node":3}"#,
                "",
                r#"{"kind":"end","outcome":"pass"}"#,
            ]
        );
    }

    #[test]
    fn a_repeated_body_needs_a_send_of_the_same_event_before_it() {
        let got = expand_all(&[
            r#"{"k":"s","o":0,"b":null}"#,
            r#"{"k":"s","o":1}"#,
            r#"{"k":"s","e":1,"o":1}"#,
        ]);
        assert!(got[0].as_ref().unwrap().ends_with(r#""msg":null}"#));
        assert!(got[1].as_ref().unwrap().ends_with(r#""msg":null}"#));
        let err = got[2].as_ref().unwrap_err();
        assert_eq!(err.field, "b");
        let missing = expand_all(&[r#"{"k":"s","b":1}"#, r#"{"k":"x"}"#, r#"{"e":1}"#]);
        assert_eq!(missing[0].as_ref().unwrap_err().field, "o");
        assert_eq!(missing[1].as_ref().unwrap_err().field, "y");
        assert_eq!(missing[2].as_ref().unwrap_err().field, "k");
    }
}
