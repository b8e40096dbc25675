//! P-compositionality (Horn & Kroening): when operations on different keys are independent, a history is
//! linearizable if and only if each key's sub-history is. Splitting turns one search over n operations
//! into many small ones — the search is exponential in the worst case, so this is the biggest win there
//! is for key-value histories — and lets the parts run in parallel.
//!
//! Parts come out ordered by key (`None` first), so whatever is reported first is the same on every run.

use super::Prepared;
use crate::contract::History;
use std::collections::BTreeMap;

/// One key's operations, in history order.
pub(crate) struct Part<'a, O> {
    /// The key (`None`: operations without a key, or the whole history when not splitting).
    pub(crate) key: Option<String>,
    /// The operations.
    pub(crate) ops: Vec<&'a Prepared<O>>,
}

/// Splits `ops` by the key of their invoke when `by_key`; otherwise returns one part.
pub(crate) fn split<'a, O>(
    history: &History,
    ops: &'a [Prepared<O>],
    by_key: bool,
) -> Vec<Part<'a, O>> {
    if !by_key {
        return vec![Part {
            key: None,
            ops: ops.iter().collect(),
        }];
    }
    let mut parts: BTreeMap<Option<&str>, Vec<&'a Prepared<O>>> = BTreeMap::new();
    for op in ops {
        parts
            .entry(history.events[op.invoke].key.as_deref())
            .or_default()
            .push(op);
    }
    parts
        .into_iter()
        .map(|(key, ops)| Part {
            key: key.map(str::to_string),
            ops,
        })
        .collect()
}
