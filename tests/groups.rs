//! Cluster shapes beyond servers and clients: a protocol declares named server groups, the scenario
//! sizes them, node ids stay dense, and faults can hit a group or one member of it.

use distsim::contract::{
    Actor, Checker, Ctx, GroupSize, GroupSpec, Mutant, NoModel, NodeId, NoteLabel, Protocol, Setup,
};
use distsim::run::{RunOptions, run_protocol, validate};
use distsim::scenario::parse;
use distsim::trace::TraceOutput;
use serde::Serialize;

/// Each node notes, at start, the group it is in and its index there.
struct Member;

#[derive(Clone, Debug, Serialize)]
struct InGroup {
    group: String,
    index: u32,
}

impl NoteLabel for InGroup {
    fn label(&self) -> &'static str {
        "in_group"
    }
}

impl Actor for Member {
    type Msg = ();
    type Timer = ();
    type Durable = ();
    type Note = InGroup;
    fn on_start(&mut self, ctx: &mut Ctx<'_, Self>) {
        if let Some((group, index)) = ctx.cluster().group_of(ctx.id()) {
            ctx.note(InGroup {
                group: group.to_string(),
                index,
            });
        }
    }
    fn on_msg(&mut self, _: &mut Ctx<'_, Self>, _: NodeId, _: ()) {}
    fn on_timer(&mut self, _: &mut Ctx<'_, Self>, _: ()) {}
}

struct Coordinated;

impl Protocol for Coordinated {
    type Actor = Member;
    type Model = NoModel;
    const NAME: &'static str = "coordinated";
    const ABOUT: &'static str = "a coordinator and participants";
    const MUTANTS: &'static [Mutant] = &[];
    const GROUPS: &'static [GroupSpec] = &[
        GroupSpec {
            name: "coordinator",
            about: "decides",
            size: GroupSize::Default(1),
        },
        GroupSpec {
            name: "participants",
            about: "vote",
            size: GroupSize::Rest,
        },
    ];
    fn setup(_: &Setup<'_>) -> Result<Self, String> {
        Ok(Coordinated)
    }
    fn new_actor(&self, _: NodeId) -> Member {
        Member
    }
    fn checkers(&self) -> Vec<Box<dyn Checker<Member>>> {
        Vec::new()
    }
}

fn scenario(extra: &str) -> String {
    format!(
        r#"{{"name": "g", "protocol": "coordinated", "seed": 1, "nodes": 5, "clients": 1,
            "max_time_ms": 50 {extra}}}"#
    )
}

/// (group, index) of every node's start note, and the fault lines' effects.
fn run(extra: &str) -> (Vec<(String, u64)>, Vec<String>) {
    let text = scenario(extra);
    let (s, src) = parse(text.as_bytes(), "g.json").expect("parses");
    let options = RunOptions {
        seed: None,
        trace: TraceOutput::Memory,
    };
    let out = run_protocol::<Coordinated>(&s, Some(&src), &options).expect("runs");
    let lines: Vec<serde_json::Value> = out
        .trace_lines
        .unwrap()
        .iter()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let members = lines
        .iter()
        .filter(|l| l["kind"] == "note")
        .map(|l| {
            (
                l["note"]["group"].as_str().unwrap().to_string(),
                l["note"]["index"].as_u64().unwrap(),
            )
        })
        .collect();
    let faults = lines
        .iter()
        .filter(|l| l["kind"] == "fault")
        .map(|l| l["effect"].as_str().unwrap().to_string())
        .collect();
    (members, faults)
}

fn pairs(p: &[(&str, u64)]) -> Vec<(String, u64)> {
    p.iter().map(|(g, i)| (g.to_string(), *i)).collect()
}

#[test]
fn groups_are_laid_out_densely_in_declaration_order() {
    let (members, _) = run("");
    assert_eq!(
        members,
        pairs(&[
            ("coordinator", 0),
            ("participants", 0),
            ("participants", 1),
            ("participants", 2),
            ("participants", 3),
        ]),
        "the client (node 5) is in no group"
    );
    let (members, _) = run(r#", "groups": {"coordinator": 2}"#);
    assert_eq!(
        members,
        pairs(&[
            ("coordinator", 0),
            ("coordinator", 1),
            ("participants", 0),
            ("participants", 1),
            ("participants", 2),
        ])
    );
}

#[test]
fn a_fault_hits_a_group_or_one_member() {
    let (_, faults) = run(
        r#", "faults": [{"at_ms": 10, "crash": {"group": "participants", "member": 2}},
                        {"at_ms": 20, "pause": {"group": "participants"}},
                        {"at_ms": 30, "isolate": {"group": "coordinator", "member": 0}}]"#,
    );
    assert_eq!(
        faults,
        [
            "crash node 3 (participants[2])",
            "pause nodes 1, 2, 4",
            "isolate node 0 (coordinator[0])"
        ],
        "a group-wide pause skips the crashed member"
    );
}

#[test]
fn bad_groups_are_refused_at_their_place() {
    for (extra, field, want) in [
        (
            r#", "groups": {"workers": 2}"#,
            "groups.workers",
            "no group `workers`",
        ),
        (
            r#", "groups": {"participants": 2}"#,
            "groups.participants",
            "takes the servers the others leave",
        ),
        (
            r#", "groups": {"coordinator": 6}"#,
            "nodes",
            "hold 6 servers",
        ),
        (
            r#", "faults": [{"at_ms": 1, "crash": {"group": "workers"}}]"#,
            "faults[0].crash.group",
            "no group `workers`",
        ),
        (
            r#", "faults": [{"at_ms": 1, "clock": {"node": {"group": "participants", "member": 4}}}]"#,
            "faults[0].clock.node.member",
            "members 0..4",
        ),
    ] {
        let text = scenario(extra);
        let (s, src) = parse(text.as_bytes(), "g.json").expect(extra);
        let err = distsim::run::prepare::<Coordinated>(&s, Some(&src))
            .err()
            .expect(extra);
        assert_eq!(err.field, field, "{extra}: {err}");
        assert!(err.message.contains(want), "{extra}: {err}");
        assert!(err.column > 1, "{extra}: located in the text: {err}");
    }
    // The registry's protocols refuse groups they do not have, through `validate`.
    let text = r#"{"name": "g", "protocol": "raft", "seed": 1, "nodes": 3, "max_time_ms": 50,
                   "groups": {"coordinator": 1}}"#;
    let (s, src) = parse(text.as_bytes(), "g.json").expect("parses");
    let err = validate(&s, Some(&src)).expect_err("raft has no coordinator");
    assert_eq!(err.field, "groups.coordinator");
}
