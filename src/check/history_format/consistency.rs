//! Checks a parsed history's operations against themselves, before any model sees them: a completion
//! must not come before its own invoke (in time), and an `ok` or `fail` completion that repeats the
//! operation's argument must repeat it unchanged (a write of 3 cannot complete as a write of 4). Events
//! without an open invoke are left to the checker, which names them.

use super::{HistoryError, Location};
use crate::contract::{EventKind, History, Value};
use std::collections::BTreeMap;
use std::path::Path;

/// The first inconsistent event, with its place (`lines[i]` is event `i`'s line).
pub(crate) fn check(
    history: &History,
    lines: &[u64],
    file: Option<&Path>,
) -> Result<(), HistoryError> {
    let mut open: BTreeMap<u64, usize> = BTreeMap::new();
    for (i, event) in history.events.iter().enumerate() {
        if event.kind == EventKind::Invoke {
            open.insert(event.process, i);
            continue;
        }
        let Some(invoke_index) = open.remove(&event.process) else {
            continue;
        };
        let invoke = &history.events[invoke_index];
        let at = lines.get(i).map(|&line| Location {
            file: file.map(Path::to_path_buf),
            line,
            column: 1,
        });
        let invoked_at = lines.get(invoke_index).copied().unwrap_or(0);
        let wrong = |field: &str, message: String| HistoryError::Invalid {
            at: at.clone(),
            event_index: i,
            field: Some(field.to_string()),
            message,
        };
        if event.time_ns < invoke.time_ns {
            return Err(wrong(
                "time",
                format!(
                    "completes at {} ns, before its invoke at {} ns (line {invoked_at})",
                    event.time_ns, invoke.time_ns
                ),
            ));
        }
        let repeats_argument = matches!(event.kind, EventKind::Ok | EventKind::Fail)
            && invoke.value != Value::Nil
            && event.value != Value::Nil;
        if repeats_argument && event.value != invoke.value {
            return Err(wrong(
                "value",
                format!(
                    "completes {} with {}, but its invoke (line {invoked_at}) has {}",
                    event.f,
                    shown(&event.value),
                    shown(&invoke.value)
                ),
            ));
        }
    }
    Ok(())
}

fn shown(value: &Value) -> String {
    let text = serde_json::to_string(value).unwrap_or_default();
    crate::text::excerpt(&text, 80)
}
