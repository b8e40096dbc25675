//! A Mermaid `sequenceDiagram` of a short run or a window of a long one, to paste into an issue or a
//! pull request.
//!
//! Messages are drawn when they arrive (`->>`) or are lost (`-x`), labelled with their kind and up to
//! [`LABEL_FIELDS_MAX`] scalar fields; duplicate copies say so. Faults and the violation are notes
//! over every lane; role changes and protocol notes are notes over their node. Timers are left out.
//! At most `items_max` diagram lines are written; a last note says where the diagram stops and how
//! to see the rest. Labels keep only characters that Mermaid reads as text.

use super::{ExportError, TimeWindow, message_kind, node_label, note_kind, write_output};
use crate::trace::scan::{TraceEvent, TraceScan, parsed};
use serde_json::Value;
use std::collections::BTreeMap;
use std::io::BufRead;
use std::path::Path;

/// The default bound on diagram lines (messages, notes), a size Mermaid renders comfortably.
pub const ITEMS_MAX: usize = 200;
/// How many scalar fields of a message its label shows.
pub const LABEL_FIELDS_MAX: usize = 3;
/// The longest label, in characters.
pub const LABEL_CHARS_MAX: usize = 80;
/// The most messages in flight remembered for their arrival (beyond that they draw as `msg`).
pub const PENDING_MAX: usize = 100_000;

/// Writes the diagram of the trace at `trace` to `out`, fenced as a ` ```mermaid ` block when `out`
/// ends in `.md`.
pub fn mermaid_file(
    trace: &Path,
    out: &Path,
    window: TimeWindow,
    items_max: usize,
) -> Result<String, ExportError> {
    let mut scan = TraceScan::open(trace)?;
    let mut text = diagram(&mut scan, window, items_max)?;
    // A Markdown file gets the fence that GitHub and GitLab render as a diagram.
    if out
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("md"))
    {
        text = format!("```mermaid\n{text}```\n");
    }
    write_output(out, text.as_bytes())?;
    Ok(text)
}

/// The diagram of the events of `scan` inside `window`, at most `items_max` lines of it.
pub fn diagram<R: BufRead>(
    scan: &mut TraceScan<R>,
    window: TimeWindow,
    items_max: usize,
) -> Result<String, ExportError> {
    let header = scan.header().clone();
    let servers = header.nodes();
    let lanes = header.lanes().min(super::timeline::LANES_MAX);
    let mut out = String::from("sequenceDiagram\n");
    out.push_str(&format!(
        "    %% {} (protocol {}, seed {}), virtual time {}\n",
        clean(header.scenario_str("name")),
        clean(header.scenario_str("protocol")),
        header.seed,
        window_text(window)
    ));
    for node in 0..lanes {
        let label = node_label(node, servers);
        let kind = if node < servers {
            "participant"
        } else {
            "actor"
        };
        out.push_str(&format!("    {kind} {label}\n"));
    }
    let all = if lanes > 1 {
        format!(
            "{},{}",
            node_label(0, servers),
            node_label(lanes - 1, servers)
        )
    } else {
        node_label(0, servers)
    };
    // Message id → (label, copies not yet arrived, copies arrived).
    let mut pending: BTreeMap<u64, (String, u32, u32)> = BTreeMap::new();
    let mut items = 0usize;
    let mut stopped_at: Option<u64> = None;
    let mut left_out = 0u64;
    while let Some(ev) = scan.next_event()? {
        let Some(t) = ev.time_ns() else { continue };
        if let TraceEvent::Send { id, msg, .. } = &ev {
            if window.contains(t) && pending.len() < PENDING_MAX {
                // Past the bound the message is only counted: no label to build.
                let label = match stopped_at {
                    None => message_label(&parsed(msg)),
                    Some(_) => String::new(),
                };
                pending.insert(*id, (label, 1, 0));
            }
            continue;
        }
        if let TraceEvent::Duplicate { id, .. } = &ev {
            if let Some(entry) = pending.get_mut(id) {
                entry.1 += 1;
            }
            continue;
        }
        if !window.contains(t) || matches!(ev, TraceEvent::End { .. }) {
            continue;
        }
        if stopped_at.is_some() {
            // Past the bound: count what would have been drawn, without building its label.
            let drawable = match &ev {
                TraceEvent::Deliver { id, .. } | TraceEvent::Drop { id, .. } => {
                    arrive(&mut pending, *id).is_some()
                }
                TraceEvent::Role { .. }
                | TraceEvent::Note { .. }
                | TraceEvent::Fault { .. }
                | TraceEvent::Violation { .. } => true,
                _ => false,
            };
            left_out += u64::from(drawable);
            continue;
        }
        let line = match ev {
            TraceEvent::Deliver { id, from, to, .. } => arrive(&mut pending, id).map(|label| {
                format!(
                    "{}->>{}: {label}",
                    node_label(from, servers),
                    node_label(to, servers)
                )
            }),
            TraceEvent::Drop {
                id,
                from,
                to,
                reason,
                ..
            } => arrive(&mut pending, id).map(|label| {
                let reason = reason.as_str().unwrap_or("lost");
                format!(
                    "{}-x{}: {label} (dropped: {})",
                    node_label(from, servers),
                    node_label(to, servers),
                    clean(reason)
                )
            }),
            TraceEvent::Role { node, role, .. } => Some(format!(
                "Note over {}: role {}",
                node_label(node, servers),
                clean(role.as_deref().unwrap_or("none (down)"))
            )),
            TraceEvent::Note { node, note, .. } => Some(format!(
                "Note over {}: {}",
                node_label(node, servers),
                note_label(&parsed(&note))
            )),
            TraceEvent::Fault { effect, .. } => Some(format!(
                "Note over {all}: fault at {} - {}",
                ms(t),
                clean(&effect)
            )),
            TraceEvent::Violation {
                checker, message, ..
            } => Some(format!(
                "Note over {all}: VIOLATION at {} - {}: {}",
                ms(t),
                clean(&checker),
                clean(&message)
            )),
            _ => None,
        };
        let Some(line) = line else { continue };
        if items == items_max {
            stopped_at = Some(t);
            left_out += 1;
            continue;
        }
        items += 1;
        out.push_str("    ");
        out.push_str(&line);
        out.push('\n');
    }
    if let Some(t) = stopped_at {
        out.push_str(&format!(
            "    Note over {all}: stopped after {items_max} items at {} ({left_out} more in the window), see more with --from-ms and --to-ms\n",
            ms(t)
        ));
    }
    Ok(out)
}

/// One copy of message `id` arrived or was lost: its label, `None` if it was not sent in the window.
fn arrive(pending: &mut BTreeMap<u64, (String, u32, u32)>, id: u64) -> Option<String> {
    let entry = pending.get_mut(&id)?;
    entry.1 -= 1;
    entry.2 += 1;
    let label = if entry.2 > 1 {
        format!("{} (duplicate copy)", entry.0)
    } else {
        entry.0.clone()
    };
    if entry.1 == 0 {
        pending.remove(&id);
    }
    Some(label)
}

fn window_text(w: TimeWindow) -> String {
    match (w.from_ns, w.to_ns) {
        (0, u64::MAX) => "whole run".into(),
        (a, u64::MAX) => format!("from {}", ms(a)),
        (a, b) => format!("{} to {}", ms(a), ms(b)),
    }
}

fn ms(t_ns: u64) -> String {
    format!("{}.{:03} ms", t_ns / 1_000_000, (t_ns / 1000) % 1000)
}

/// `kind a=1 b=2` from a message's scalar fields.
fn message_label(msg: &Value) -> String {
    let mut label = clean(&message_kind(msg));
    append_fields(&mut label, msg, &["type"]);
    super::cut(&label, LABEL_CHARS_MAX)
}

fn note_label(note: &Value) -> String {
    let mut label = clean(&note_kind(note));
    append_fields(&mut label, note, &["note", "type"]);
    super::cut(&label, LABEL_CHARS_MAX)
}

fn append_fields(label: &mut String, value: &Value, skip: &[&str]) {
    let Value::Object(map) = value else { return };
    let scalars = map.iter().filter(|(k, v)| {
        !skip.contains(&k.as_str()) && (v.is_number() || v.is_boolean() || v.is_string())
    });
    for (k, v) in scalars.take(LABEL_FIELDS_MAX) {
        let v = v.as_str().map_or_else(|| v.to_string(), str::to_string);
        label.push_str(&format!(" {}={}", clean(k), clean(&v)));
    }
}

/// Keeps the characters Mermaid reads as plain text; `;`, `#`, `%`, `<`, `>`, `:` and quotes would
/// end a statement, start an entity, a comment or markup.
fn clean(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_alphanumeric() || " _.,=()[]+-/|'*@!?".contains(c) {
                c
            } else {
                ' '
            }
        })
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clean_removes_mermaid_syntax() {
        assert_eq!(clean("a;b#c%%d<br>e:f"), "a b c d br e f");
        assert_eq!(clean("term=3, ok"), "term=3, ok");
    }
}
