//! Jepsen's `jepsen.independent` layout for key-value histories, which Knossos and Elle read unchanged:
//! each operation on a key carries `:value [key value]`, and every operation has its `:index` (its place
//! in the history) and `:time` (nanoseconds).
//!
//! ```text
//! {:index 0, :time 1200000, :process 3, :type :invoke, :f :put, :value ["k1" "v7"]}
//! {:index 1, :time 3400000, :process 3, :type :ok, :f :put, :value ["k1" "v7"]}
//! ```
//!
//! The EDN reader accepts it back: a key-value operation (`get`, `put`, `append`, `cas`) with no `:key`
//! whose value is a `[key value]` tuple is read as that key and value.

use super::edn::value_to_edn;
use crate::contract::{EventKind, Func, History, HistoryEvent, Value};
use std::fmt::Write as _;

/// The functions of the key-value model, whose `[key value]` tuples are split.
fn is_key_value(f: &Func) -> bool {
    matches!(f.as_str(), "get" | "put" | "append" | "cas")
}

/// `history` as `jepsen.independent` EDN, one operation map a line.
pub fn to_edn_independent_string(history: &History) -> String {
    let mut out = String::new();
    for (index, event) in history.events.iter().enumerate() {
        let kind = match event.kind {
            EventKind::Invoke => "invoke",
            EventKind::Ok => "ok",
            EventKind::Fail => "fail",
            EventKind::Info => "info",
        };
        let value = match &event.key {
            Some(key) => Value::List(vec![Value::Str(key.clone()), event.value.clone()]),
            None => event.value.clone(),
        };
        let _ = writeln!(
            out,
            "{{:index {index}, :time {}, :process {}, :type :{kind}, :f :{}, :value {}}}",
            event.time_ns,
            event.process,
            event.f,
            value_to_edn(&value)
        );
    }
    out
}

/// Splits `[key value]` tuples of key-value operations without a `:key` into the key and the value.
pub(crate) fn split_tuples(history: &mut History) {
    for event in &mut history.events {
        split_one(event);
    }
}

fn split_one(event: &mut HistoryEvent) {
    if event.key.is_some() || !is_key_value(&event.f) {
        return;
    }
    let Value::List(items) = &event.value else {
        return;
    };
    let [key, value] = items.as_slice() else {
        return;
    };
    // A register's `cas [from to]` is not a tuple; a key-value `cas` carries `[key [from to]]`.
    if event.f == Func::CAS && !matches!(value, Value::List(_) | Value::Nil) {
        return;
    }
    let key = match key {
        Value::Str(s) => s.clone(),
        Value::Int(n) => n.to_string(),
        _ => return,
    };
    event.value = value.clone();
    event.key = Some(key);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(f: Func, key: Option<&str>, value: Value) -> HistoryEvent {
        HistoryEvent {
            time_ns: 5,
            process: 1,
            kind: EventKind::Invoke,
            f,
            key: key.map(str::to_string),
            value,
        }
    }

    #[test]
    fn tuples_split_only_where_they_are_tuples() {
        let pair = |a: Value, b: Value| Value::List(vec![a, b]);
        let kv_cas = pair(Value::Str("k".into()), pair(Value::Int(1), Value::Int(2)));
        let mut h = History {
            events: vec![
                event(
                    Func::PUT,
                    None,
                    pair(Value::Str("k".into()), Value::Str("v".into())),
                ),
                event(Func::GET, None, pair(Value::Int(3), Value::Nil)),
                event(Func::CAS, None, kv_cas),
                // A register's compare-and-set and write stay as they are.
                event(Func::CAS, None, pair(Value::Int(1), Value::Int(2))),
                event(Func::WRITE, None, pair(Value::Int(1), Value::Int(2))),
            ],
        };
        let written = to_edn_independent_string(&h);
        split_tuples(&mut h);
        let got: Vec<(Option<&str>, &Value)> = h
            .events
            .iter()
            .map(|e| (e.key.as_deref(), &e.value))
            .collect();
        assert_eq!(got[0], (Some("k"), &Value::Str("v".into())));
        assert_eq!(got[1], (Some("3"), &Value::Nil));
        assert_eq!(got[2], (Some("k"), &pair(Value::Int(1), Value::Int(2))));
        assert_eq!(got[3], (None, &pair(Value::Int(1), Value::Int(2))));
        assert_eq!(got[4], (None, &pair(Value::Int(1), Value::Int(2))));
        // Writing the split history gives the same text back (an integer key comes back a string).
        let again = to_edn_independent_string(&h);
        assert_eq!(again.replace("[\"3\" nil]", "[3 nil]"), written, "{again}");
        assert!(written.starts_with(
            "{:index 0, :time 5, :process 1, :type :invoke, :f :put, :value [\"k\" \"v\"]}\n"
        ));
    }
}
