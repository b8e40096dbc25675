//! Trace format 3: the compact event lines a trace file holds, and their writer.
//!
//! The header and the closing line are as in format 2 (`{"kind":"header","format":3,...}`,
//! `{"kind":"end",...,"fingerprint":...,"sha256":...}`). Every line between them is one JSON object
//! with a short kind tag `k` and short keys, and leaves out what the reader can recover from the
//! lines before it in the same file:
//!
//! | `k` | line (format 2 kind) | fields |
//! |---|---|---|
//! | `st` | `start` | `e` `t` `n` `lc` `vc` |
//! | `s` | `send` | `e` `t` `i` `n` (sender) `o` (receiver) `b` (message) `tp` (tampered) `lc` `vc` |
//! | `d` | `deliver` | `e` `t` `i` `f` (sender) `n` (receiver) `lc` `vc` |
//! | `x` | `drop` | `e` `t` `i` `f` (sender) `o` (receiver) `y` (reason) |
//! | `dup` | `duplicate` | `e` `t` `i` |
//! | `tm` | `timer` | `e` `t` `n` `b` (the timer's tag) `lc` `vc` |
//! | `n` | `note` | `e` `t` `n` `b` (the note) `lc` `vc` |
//! | `r` | `role` | `e` `t` `n` `role` `lc` `vc` |
//! | `h` | `history` | `e` `n` `b` (the history event, its `time_ns` the true time) `lc` `vc` |
//! | `f` | `fault` | `e` `t` `fault` `nodes` `effect` |
//! | `v` | `violation` | `e` `t` `checker` `node` `message` |
//!
//! What a missing field means (the reader keeps these few numbers and one body; before the first
//! event line each number is 0):
//! - `e` (event index), `t` (true time, ns): the previous line's (`t`: the last line that had one;
//!   `history` lines have none);
//! - `n` (the line's node): the node of the last line that had one (`st`, `s`, `d`, `tm`, `n`, `r`,
//!   `h`), so the notes and sends of a delivery name no node;
//! - `i` on `s`: the previous send's id plus one (ids count up from 0);
//! - `i`, `f`, `o` on `d`, `x`, `dup`: those of the *current message*, the one of the last `s`, `d`
//!   or `x` line (a `dup` line leaves it as it is), so a drop or a copy right after its send is
//!   `{"k":"x","y":"loss"}` or `{"k":"dup"}`;
//! - `b` on `s`: the body of the previous `s` line of the same event, which was identical: a
//!   broadcast writes its body once;
//! - `tp`, `lc`, `vc`: absent as in format 2 (an honest message; a run without clocks).
//!
//! Bodies (`b`) are the protocol's JSON with [shapes](super::shape): the key names of an object are
//! written the first time its shape appears, later objects of that shape are `[shape, values...]`,
//! and arrays get a leading `0`. `role`, `fault`, `nodes`, `effect`, `checker`, `node`, `message`, `y`,
//! `tp`, `lc` and `vc` are written as format 2 writes them.
//!
//! [`super::expand`] turns each line back into its format-2 line, byte for byte.

use super::line::{HeaderLine, Line, TRACE_FORMAT};
use super::shape::ShapeWriter;
use serde::Serialize;

/// Writes format-3 event lines, keeping what the next line may leave out.
#[derive(Default)]
pub struct CompactWriter {
    e: u64,
    t: u64,
    node: u32,
    /// The id the next send is expected to have.
    next_send_id: u64,
    /// The current message: id, sender, receiver.
    msg: (u64, u32, u32),
    /// The previous send's body in event `body_e`, as `serde_json` wrote it.
    body: Vec<u8>,
    body_e: Option<u64>,
    /// Reused: the body being written.
    scratch: Vec<u8>,
    shapes: ShapeWriter,
    digits: itoa::Buffer,
}

impl CompactWriter {
    /// Appends `line` as one format-3 line, without its `\n`.
    pub fn write<M: Serialize, T: Serialize, N: Serialize>(
        &mut self,
        line: &Line<'_, M, T, N>,
        out: &mut Vec<u8>,
    ) -> serde_json::Result<()> {
        match line {
            Line::Header {
                distsim,
                seed,
                scenario,
            } => {
                let header = HeaderLine {
                    kind: "header",
                    format: TRACE_FORMAT,
                    distsim,
                    seed: *seed,
                    scenario,
                };
                return serde_json::to_writer(&mut *out, &header);
            }
            // As in format 2.
            Line::End { .. } => return serde_json::to_writer(&mut *out, line),
            Line::Start { e, t, node, lc, vc } => {
                self.begin(out, b"st", *e, Some(*t));
                self.node(out, *node);
                clock(out, *lc, *vc)?;
            }
            Line::Send {
                e,
                t,
                id,
                from,
                to,
                msg,
                tampered,
                lc,
                vc,
            } => {
                self.begin(out, b"s", *e, Some(*t));
                if *id != self.next_send_id {
                    self.number(out, b"i", *id);
                }
                self.next_send_id = id.wrapping_add(1);
                self.node(out, *from);
                self.number(out, b"o", u64::from(*to));
                self.scratch.clear();
                serde_json::to_writer(&mut self.scratch, msg)?;
                if self.body_e != Some(*e) || self.scratch != self.body {
                    out.extend_from_slice(b",\"b\":");
                    self.shapes.write(&self.scratch, out);
                    std::mem::swap(&mut self.scratch, &mut self.body);
                    self.body_e = Some(*e);
                }
                self.msg = (*id, *from, *to);
                if let Some(how) = tampered {
                    out.extend_from_slice(b",\"tp\":");
                    serde_json::to_writer(&mut *out, how)?;
                }
                clock(out, *lc, *vc)?;
            }
            Line::Duplicate { e, t, id } => {
                self.begin(out, b"dup", *e, Some(*t));
                if *id != self.msg.0 {
                    self.number(out, b"i", *id);
                }
            }
            Line::Drop {
                e,
                t,
                id,
                from,
                to,
                reason,
            } => {
                self.begin(out, b"x", *e, Some(*t));
                self.message(out, *id, *from);
                if *to != self.msg.2 {
                    self.number(out, b"o", u64::from(*to));
                }
                self.msg = (*id, *from, *to);
                out.extend_from_slice(b",\"y\":");
                serde_json::to_writer(&mut *out, reason)?;
            }
            Line::Deliver {
                e,
                t,
                id,
                from,
                to,
                lc,
                vc,
            } => {
                self.begin(out, b"d", *e, Some(*t));
                self.message(out, *id, *from);
                self.node(out, *to);
                self.msg = (*id, *from, *to);
                clock(out, *lc, *vc)?;
            }
            Line::Timer {
                e,
                t,
                node,
                timer,
                lc,
                vc,
            } => {
                self.begin(out, b"tm", *e, Some(*t));
                self.node(out, *node);
                self.body(out, timer)?;
                clock(out, *lc, *vc)?;
            }
            Line::Fault {
                e,
                t,
                fault,
                nodes,
                effect,
            } => {
                self.begin(out, b"f", *e, Some(*t));
                field(out, b"fault", fault)?;
                field(out, b"nodes", nodes)?;
                field(out, b"effect", effect)?;
            }
            Line::Role {
                e,
                t,
                node,
                role,
                lc,
                vc,
            } => {
                self.begin(out, b"r", *e, Some(*t));
                self.node(out, *node);
                field(out, b"role", role)?;
                clock(out, *lc, *vc)?;
            }
            Line::Note {
                e,
                t,
                node,
                note,
                lc,
                vc,
            } => {
                self.begin(out, b"n", *e, Some(*t));
                self.node(out, *node);
                self.body(out, note)?;
                clock(out, *lc, *vc)?;
            }
            Line::History {
                e,
                node,
                event,
                lc,
                vc,
            } => {
                self.begin(out, b"h", *e, None);
                self.node(out, *node);
                self.body(out, event)?;
                clock(out, *lc, *vc)?;
            }
            Line::Violation {
                e,
                t,
                checker,
                node,
                message,
            } => {
                self.begin(out, b"v", *e, Some(*t));
                field(out, b"checker", checker)?;
                field(out, b"node", node)?;
                field(out, b"message", message)?;
            }
        }
        out.push(b'}');
        Ok(())
    }

    /// `{"k":KIND`, then `e` and `t` where they changed.
    fn begin(&mut self, out: &mut Vec<u8>, kind: &[u8], e: u64, t: Option<u64>) {
        out.extend_from_slice(b"{\"k\":\"");
        out.extend_from_slice(kind);
        out.push(b'"');
        if e != self.e {
            self.number(out, b"e", e);
            self.e = e;
        }
        if let Some(t) = t.filter(|t| *t != self.t) {
            self.number(out, b"t", t);
            self.t = t;
        }
    }

    /// `n` where the node changed.
    fn node(&mut self, out: &mut Vec<u8>, node: u32) {
        if node != self.node {
            self.number(out, b"n", u64::from(node));
            self.node = node;
        }
    }

    /// `i` and `f` where they differ from the current message's.
    fn message(&mut self, out: &mut Vec<u8>, id: u64, from: u32) {
        if id != self.msg.0 {
            self.number(out, b"i", id);
        }
        if from != self.msg.1 {
            self.number(out, b"f", u64::from(from));
        }
    }

    fn number(&mut self, out: &mut Vec<u8>, key: &[u8], value: u64) {
        out.extend_from_slice(b",\"");
        out.extend_from_slice(key);
        out.extend_from_slice(b"\":");
        out.extend_from_slice(self.digits.format(value).as_bytes());
    }

    /// `b`: a payload, with shapes.
    fn body<B: Serialize + ?Sized>(
        &mut self,
        out: &mut Vec<u8>,
        body: &B,
    ) -> serde_json::Result<()> {
        self.scratch.clear();
        serde_json::to_writer(&mut self.scratch, body)?;
        out.extend_from_slice(b",\"b\":");
        self.shapes.write(&self.scratch, out);
        Ok(())
    }
}

/// `,"KEY":` and `value` as format 2 writes it.
fn field<V: Serialize + ?Sized>(
    out: &mut Vec<u8>,
    key: &[u8],
    value: &V,
) -> serde_json::Result<()> {
    out.extend_from_slice(b",\"");
    out.extend_from_slice(key);
    out.extend_from_slice(b"\":");
    serde_json::to_writer(&mut *out, value)
}

/// `lc` and `vc`, when the run keeps logical clocks.
fn clock(out: &mut Vec<u8>, lc: Option<u64>, vc: Option<&[u64]>) -> serde_json::Result<()> {
    if let Some(lc) = lc {
        field(out, b"lc", &lc)?;
    }
    if let Some(vc) = vc {
        field(out, b"vc", vc)?;
    }
    Ok(())
}
