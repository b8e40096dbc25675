//! Hostile traces through every view: lines of every kind with values of the wrong type, out of
//! range, out of order, or not JSON at all. Each view either draws or refuses with a line number;
//! none panics. And the odd-but-readable cases draw what they can.

use distsim::trace::diff::diff;
use distsim::trace::export::timeline::{Timeline, TimelineOptions};
use distsim::trace::export::{TimeWindow, mermaid, perfetto};
use distsim::trace::scan::TraceScan;
use proptest::prelude::*;

const HEADER: &str = r#"{"kind":"header","format":1,"distsim":"0","seed":3,"scenario":{"name":"fuzz","nodes":3,"clients":1,"max_time_ms":50}}"#;

fn number() -> impl Strategy<Value = String> {
    prop_oneof![
        20 => (0u64..6).prop_map(|n| n.to_string()),
        20 => (0u64..60_000_000).prop_map(|n| n.to_string()),
        1 => Just("18446744073709551615".to_string()),
        1 => Just("4294967295".to_string()),
        1 => Just("-1".to_string()),
        1 => Just("1.5".to_string()),
        1 => Just("null".to_string()),
        1 => Just("\"3\"".to_string()),
    ]
}

fn line() -> impl Strategy<Value = String> {
    let kinds = prop_oneof![
        Just("start"),
        Just("send"),
        Just("duplicate"),
        Just("drop"),
        Just("deliver"),
        Just("timer"),
        Just("fault"),
        Just("role"),
        Just("note"),
        Just("history"),
        Just("violation"),
        Just("end"),
        Just("future_kind"),
    ];
    let event = (kinds, number(), number(), number(), number(), number()).prop_map(
        |(kind, t, id, from, to, node)| {
            format!(
                r#"{{"kind":"{kind}","e":1,"t":{t},"id":{id},"from":{from},"to":{to},"node":{node},"msg":{{"type":"m","n":{t}}},"reason":"loss","timer":"x","fault":{{"at_ms":1,"crash":{node}}},"nodes":[{node}],"effect":"e","role":"leader","note":{{"note":"n"}},"event":{{"time_ns":{t},"process":3,"type":"invoke","f":"put","key":"k","value":"v"}},"checker":"c","message":"m","outcome":"fail","end_reason":"r","end_time_ns":{t}}}"#
            )
        },
    );
    prop_oneof![
        8 => event,
        1 => "[ -~]{0,40}",
        1 => Just(String::new()),
        1 => Just("{\"kind\":\"send\"}".to_string()),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn no_view_panics_on_a_hostile_trace(
        lines in proptest::collection::vec(line(), 0..40),
        nodes in number(),
        clients in number(),
    ) {
        let header = HEADER.replace("\"nodes\":3", &format!("\"nodes\":{nodes}"))
            .replace("\"clients\":1", &format!("\"clients\":{clients}"));
        let text = format!("{header}\n{}\n", lines.join("\n"));
        let bytes = text.as_bytes();
        let options = TimelineOptions { detail_items_max: 10, buckets: 16, ..TimelineOptions::default() };
        if let Err(e) = Timeline::from_bytes(bytes, "f.jsonl", &options) {
            prop_assert!(e.line >= 2 && e.line <= lines.len() + 1, "{e}");
        } else {
            let t = Timeline::from_bytes(bytes, "f.jsonl", &options).unwrap();
            prop_assert!(t.detail_items() <= 10);
        }
        let mut scan = TraceScan::new(bytes, "f.jsonl").unwrap();
        let _ = mermaid::diagram(&mut scan, TimeWindow::ALL, 20);
        for window in [TimeWindow::ALL, TimeWindow::from_ms(Some(1), Some(30))] {
            let mut scan = TraceScan::new(bytes, "f.jsonl").unwrap();
            let _ = perfetto::export(&mut scan, window, &mut Vec::new(), "mem");
        }
        let mut a = TraceScan::new(bytes, "a").unwrap();
        let mut b = TraceScan::new(header.as_bytes(), "b").unwrap();
        let _ = diff(&mut a, &mut b);
    }
}

#[test]
fn odd_but_readable_traces_draw_what_they_can() {
    let options = TimelineOptions::default();
    // A header alone: no lanes, nothing to draw, no error.
    let t = Timeline::from_bytes(HEADER.as_bytes(), "h", &options).unwrap();
    assert_eq!((t.lanes.len(), t.detail_items()), (4, 0));
    // Nodes past the lane bound are counted, not drawn; a violation on one is still shown.
    let text = format!(
        "{HEADER}\n{}\n{}\n{}\n",
        r#"{"kind":"send","e":1,"t":5,"id":0,"from":900,"to":1,"msg":{}}"#,
        r#"{"kind":"deliver","e":2,"t":7,"id":0,"from":900,"to":1}"#,
        r#"{"kind":"violation","e":3,"t":9,"checker":"c","node":4000000000,"message":"m"}"#
    );
    let t = Timeline::from_bytes(text.as_bytes(), "odd", &options).unwrap();
    assert_eq!(t.meta.events_off_lanes, 2);
    assert!(t.msgs.is_empty());
    let v = t.violation.unwrap();
    assert_eq!((v.checker.as_str(), v.node), ("c", None));
    // A delivery or drop of a message never sent, and a duplicate of one, are ignored.
    let text = format!(
        "{HEADER}\n{}\n{}\n{}\n",
        r#"{"kind":"deliver","e":2,"t":7,"id":42,"from":0,"to":1}"#,
        r#"{"kind":"drop","e":2,"t":7,"id":43,"from":0,"to":1,"reason":"loss"}"#,
        r#"{"kind":"duplicate","e":2,"t":7,"id":44}"#
    );
    let t = Timeline::from_bytes(text.as_bytes(), "ghost", &options).unwrap();
    assert!(t.msgs.is_empty());
    assert_eq!(t.agg.drops.iter().sum::<u32>(), 1);
}

const HEADER_3: &str = r#"{"kind":"header","format":3,"distsim":"0","seed":3,"scenario":{"name":"fuzz","nodes":3,"clients":1,"max_time_ms":50}}"#;

/// A body in format 3's shape language, hostile: shape references that were never defined, out of
/// range or of the wrong type, arrays and objects nested past the reader's bound, plain values.
fn body() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        number(),
        Just("\"vote\"".to_string()),
        Just("\"\\u0000\"".to_string()),
        Just("true".to_string()),
        Just("{}".to_string()),
        Just("[]".to_string()),
    ];
    leaf.prop_recursive(6, 40, 4, |inner| {
        prop_oneof![
            // A shape reference (or an array's leading 0) followed by values.
            (number(), proptest::collection::vec(inner.clone(), 0..4)).prop_map(|(n, vs)| format!(
                "[{n}{}]",
                vs.iter().map(|v| format!(",{v}")).collect::<String>()
            )),
            // A new shape: an object, its first value possibly a short string.
            proptest::collection::vec(("[a-z]{1,3}", inner.clone()), 0..4).prop_map(|kvs| {
                let fields: Vec<String> = kvs.iter().map(|(k, v)| format!("\"{k}\":{v}")).collect();
                format!("{{{}}}", fields.join(","))
            }),
            // Deeper than any reader follows.
            (130usize..200).prop_map(|d| format!("{}1{}", "[0,".repeat(d), "]".repeat(d))),
        ]
    })
}

fn compact_line() -> impl Strategy<Value = String> {
    let tags = prop_oneof![
        Just("st"),
        Just("s"),
        Just("d"),
        Just("x"),
        Just("dup"),
        Just("tm"),
        Just("n"),
        Just("r"),
        Just("h"),
        Just("f"),
        Just("v"),
        Just("zz"),
    ];
    let field = prop_oneof![
        number().prop_map(|v| format!(",\"e\":{v}")),
        number().prop_map(|v| format!(",\"t\":{v}")),
        number().prop_map(|v| format!(",\"i\":{v}")),
        number().prop_map(|v| format!(",\"n\":{v}")),
        number().prop_map(|v| format!(",\"f\":{v}")),
        number().prop_map(|v| format!(",\"o\":{v}")),
        Just(",\"y\":\"loss\"".to_string()),
        Just(",\"role\":\"leader\"".to_string()),
        Just(",\"tp\":\"forge\"".to_string()),
        body().prop_map(|b| format!(",\"b\":{b}")),
    ];
    prop_oneof![
        8 => (tags, proptest::collection::vec(field, 0..6))
            .prop_map(|(k, fs)| format!("{{\"k\":\"{k}\"{}}}", fs.concat())),
        1 => "[ -~]{0,40}",
        1 => Just("{\"k\":\"s\"}".to_string()),
    ]
}

/// Well-formed compact lines (a start, a send with a new shape, its delivery, a send reusing the
/// shape, a broadcast copy, a loss), so that the hostile lines after them meet a reader with a
/// shape book and a last message.
const VALID_3: &str = r#"{"k":"st","e":0,"t":0,"n":0}
{"k":"s","i":0,"n":0,"o":1,"b":{"type":"ping","seq":1}}
{"k":"d","e":1,"t":5,"f":0,"n":1}
{"k":"s","o":0,"b":[1,2]}
{"k":"s","o":2}
{"k":"x","y":"loss"}"#;

#[test]
fn the_valid_compact_prefix_reads_whole() {
    let text = format!("{HEADER_3}\n{VALID_3}\n");
    let options = TimelineOptions::default();
    let t = Timeline::from_bytes(text.as_bytes(), "valid.jsonl", &options).unwrap();
    assert!(t.detail_items() > 0, "the prefix draws something");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn no_view_panics_on_a_hostile_compact_trace(
        lines in proptest::collection::vec(compact_line(), 0..30),
    ) {
        let text = format!("{HEADER_3}\n{VALID_3}\n{}\n", lines.join("\n"));
        let bytes = text.as_bytes();
        let options = TimelineOptions { detail_items_max: 10, buckets: 16, ..TimelineOptions::default() };
        let valid = VALID_3.lines().count();
        if let Err(e) = Timeline::from_bytes(bytes, "f.jsonl", &options) {
            // The valid prefix is never blamed.
            prop_assert!(e.line > valid + 1 && e.line <= valid + lines.len() + 1, "{e}");
        }
        let mut scan = TraceScan::new(bytes, "f.jsonl").unwrap();
        let _ = mermaid::diagram(&mut scan, TimeWindow::ALL, 20);
        let mut scan = TraceScan::new(bytes, "f.jsonl").unwrap();
        let _ = perfetto::export(&mut scan, TimeWindow::ALL, &mut Vec::new(), "mem");
        let mut a = TraceScan::new(bytes, "a").unwrap();
        let mut b = TraceScan::new(HEADER_3.as_bytes(), "b").unwrap();
        let _ = diff(&mut a, &mut b);
    }
}
