//! No panic is reachable from input: scenario files with any field replaced by a hostile value are
//! either refused with a located error or run (to a small event bound) to an outcome.

use distsim::run::{RunOptions, run, validate};
use distsim::scenario::parse;
use proptest::prelude::*;
use serde_json::{Value, json};

const BASES: &[&str] = &[
    include_str!("../scenarios/raft_partition.json"),
    include_str!("../scenarios/raft_lossy_network.json"),
    include_str!("../scenarios/pingpong_basic.json"),
];

fn hostile() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(json!(u64::MAX)),
        Just(json!(i64::MIN)),
        Just(json!(0)),
        Just(json!(1)),
        Just(json!(-1)),
        Just(json!(1.5)),
        Just(json!(1_000_000_001u64)),
        Just(json!("")),
        Just(json!("leader")),
        Just(json!("all")),
        Just(json!(null)),
        Just(json!(true)),
        Just(json!([])),
        Just(json!([[0], [0]])),
        Just(json!({})),
        Just(json!({"isolate": "leader"})),
    ]
}

/// Every path to a value in `v`, as a list of keys and indices.
fn paths(v: &Value, prefix: &mut Vec<Value>, out: &mut Vec<Vec<Value>>) {
    out.push(prefix.clone());
    match v {
        Value::Object(m) => {
            for (k, child) in m {
                prefix.push(json!(k));
                paths(child, prefix, out);
                prefix.pop();
            }
        }
        Value::Array(a) => {
            for (i, child) in a.iter().enumerate() {
                prefix.push(json!(i));
                paths(child, prefix, out);
                prefix.pop();
            }
        }
        _ => {}
    }
}

fn at_path<'a>(v: &'a mut Value, path: &[Value]) -> &'a mut Value {
    path.iter().fold(v, |v, seg| match seg {
        Value::String(k) => &mut v[k.as_str()],
        Value::Number(i) => &mut v[i.as_u64().unwrap() as usize],
        _ => unreachable!(),
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn hostile_values_are_refused_or_run(base in 0..BASES.len(), pick in any::<prop::sample::Index>(), value in hostile()) {
        let mut doc: Value = serde_json::from_str(BASES[base]).unwrap();
        let mut all = Vec::new();
        paths(&doc, &mut Vec::new(), &mut all);
        let path = pick.get(&all).clone();
        *at_path(&mut doc, &path) = value;
        let text = serde_json::to_vec_pretty(&doc).unwrap();
        if let Ok((mut s, src)) = parse(&text, "fuzz.json")
            && validate(&s, Some(&src)).is_ok()
        {
            s.max_events = s.max_events.min(3_000);
            let out = run(&s, Some(&src), &RunOptions::default());
            prop_assert!(out.is_ok());
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        let _ = parse(&bytes, "bytes.json");
    }
}
