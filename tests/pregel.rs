//! Pregel under the whole engine: PageRank and SSSP match their sequential references through worker
//! and master crashes, loss and duplication; the report gives supersteps, rollbacks and messages; each
//! planted bug is caught, and the liveness checker can fail.

use distsim::contract::Verdict;
use distsim::protocols::pregel::Pregel;
use distsim::run::report::{Outcome, RunReport};
use distsim::run::{RunOptions, run_protocol};
use serde_json::{Value, json};

fn scenario(file: &str) -> Value {
    let text = std::fs::read(format!("scenarios/{file}.json")).expect("the scenario");
    serde_json::from_slice(&text).expect("json")
}

fn run(scenario: &Value, seed: u64) -> RunReport {
    let text = serde_json::to_vec(scenario).expect("json");
    let (scenario, source) = distsim::scenario::parse(&text, "pregel.json").expect("valid");
    let options = RunOptions {
        seed: Some(seed),
        ..RunOptions::default()
    };
    run_protocol::<Pregel>(&scenario, Some(&source), &options)
        .expect("runs")
        .report
}

fn summary(r: &RunReport) -> String {
    format!(
        "seed {} outcome {:?} violation {:?} notes {:?} checkers {:?}",
        r.seed, r.outcome, r.violation, r.notes, r.checkers
    )
}

fn note(r: &RunReport, label: &str) -> u64 {
    r.notes.get(label).copied().unwrap_or(0)
}

fn verdict<'a>(r: &'a RunReport, property: &str) -> &'a Verdict {
    &r.checkers
        .iter()
        .find(|c| c.name == property)
        .unwrap_or_else(|| panic!("{property} judged: {}", summary(r)))
        .verdict
}

/// Every property passed and both end-of-run ones judged; the liveness detail.
fn assert_clean(r: &RunReport) -> String {
    assert_eq!(r.outcome, Outcome::Pass, "{}", summary(r));
    assert!(r.violation.is_none(), "{}", summary(r));
    assert!(
        matches!(verdict(r, "vertex_values"), Verdict::PassNoted(_)),
        "{}",
        summary(r)
    );
    match verdict(r, "pregel_liveness") {
        Verdict::PassNoted(detail) => detail.clone(),
        other => panic!("liveness {other:?}: {}", summary(r)),
    }
}

#[test]
fn pagerank_survives_a_worker_crash_by_rolling_back_to_a_checkpoint() {
    let s = scenario("pregel_pagerank");
    for seed in 1..=3 {
        let r = run(&s, seed);
        let detail = assert_clean(&r);
        // The crash is seen, every worker reloads, and the lost supersteps run again.
        assert!(note(&r, "rollback") >= 2, "{}", summary(&r));
        assert!(note(&r, "output") == 4, "{}", summary(&r));
        // 800 edges, one message along each in each of the 30 sending supersteps, whatever the
        // faults: the counts are those of the job's own supersteps, not of the re-executions.
        assert!(
            detail.contains("31 supersteps (")
                && detail.contains("24000 messages without the combiner"),
            "{detail}"
        );
        assert!(!detail.contains("(31 executed)"), "{detail}");
        assert!(!detail.contains(" 0 rollbacks"), "{detail}");
    }
}

#[test]
fn sssp_is_exact_through_a_master_crash_loss_and_duplication() {
    let s = scenario("pregel_sssp");
    for seed in 1..=3 {
        let r = run(&s, seed);
        let detail = assert_clean(&r);
        assert!(detail.contains("(no combiner)"), "{detail}");
        assert!(
            matches!(verdict(&r, "vertex_values"), Verdict::PassNoted(d) if d.contains("every distance equals Dijkstra's")),
            "{}",
            summary(&r)
        );
        assert!(note(&r, "rollback") >= 2, "{}", summary(&r));
    }
}

#[test]
fn the_combiner_sends_fewer_messages_and_changes_no_result() {
    let mut s = scenario("pregel_pagerank");
    s["faults"] = json!([]);
    for program in ["pagerank", "sssp"] {
        s["params"]["program"] = json!(program);
        s["params"]["combiner"] = json!(true);
        let with = assert_clean(&run(&s, 1));
        s["params"]["combiner"] = json!(false);
        let without = assert_clean(&run(&s, 1));
        // "... N messages without the combiner, M with it" against "... N messages (no combiner)".
        let count = |d: &str, after: &str| -> u64 {
            let tail = &d[d.find(after).expect(after) + after.len()..];
            tail.split_whitespace().next().unwrap().parse().unwrap()
        };
        let sent = count(&with, "rollbacks, ");
        let combined = count(&with, "without the combiner, ");
        assert_eq!(sent, count(&without, "rollbacks, "), "{with} / {without}");
        assert!(combined < sent, "{with}");
    }
}

#[test]
fn the_sha256_partition_gives_the_same_results() {
    let mut s = scenario("pregel_pagerank");
    s["params"]["partition"] = json!("sha256");
    assert_clean(&run(&s, 2));
    let mut s = scenario("pregel_sssp");
    s["params"]["partition"] = json!("sha256");
    assert_clean(&run(&s, 2));
}

#[test]
fn no_barrier_is_caught_on_both_programs() {
    for file in ["pregel_pagerank", "pregel_sssp"] {
        let mut s = scenario(file);
        s["mutants"] = json!(["pregel.no_barrier"]);
        for seed in 1..=3 {
            let r = run(&s, seed);
            assert_eq!(r.outcome, Outcome::Fail, "{}", summary(&r));
            let v = r.violation.as_ref().expect("a violation");
            assert_eq!(v.checker, "barrier", "{}", summary(&r));
            assert!(v.message.contains("before workers"), "{}", v.message);
        }
    }
}

#[test]
fn skip_rollback_is_caught_and_its_scenario_expects_it() {
    let s = scenario("pregel_skip_rollback");
    for seed in 1..=3 {
        let r = run(&s, seed);
        // The scenario expects the violation: found, so the outcome is a pass.
        assert_eq!(r.outcome, Outcome::Pass, "{}", summary(&r));
        let v = r.violation.as_ref().expect("a violation");
        assert_eq!(v.checker, "rollback", "{}", summary(&r));
        assert!(
            v.message.contains("rolled back to checkpoint"),
            "{}",
            v.message
        );
    }
    // Without the mutant the same schedule is clean.
    let mut clean = s.clone();
    clean["mutants"] = json!([]);
    clean["expect"] = json!(null);
    assert_clean(&run(&clean, 1));
}

#[test]
fn the_liveness_checker_fails_a_job_that_cannot_finish_in_time() {
    // Recovery needs a failure timeout and a re-run; 20 ms after the restart is far too short.
    let mut s = scenario("pregel_pagerank");
    s["params"]["liveness_ms"] = json!(20);
    let r = run(&s, 1);
    assert!(
        matches!(verdict(&r, "pregel_liveness"), Verdict::Fail(m) if m.contains("more than 20.000ms after the last fault")),
        "{}",
        summary(&r)
    );
    assert_eq!(r.outcome, Outcome::Fail, "{}", summary(&r));
    // A worker that never comes back: the job cannot finish, and nothing can be judged.
    let mut s = scenario("pregel_pagerank");
    s["faults"].as_array_mut().unwrap().pop();
    let r = run(&s, 1);
    assert!(
        matches!(verdict(&r, "pregel_liveness"), Verdict::Unknown(m) if m.contains("still in force")),
        "{}",
        summary(&r)
    );
    assert_eq!(r.outcome, Outcome::Undecided, "{}", summary(&r));
}

#[test]
fn bad_params_name_their_field() {
    for (params, field) in [
        (json!({"vertices": 1}), "params.vertices"),
        (
            json!({"vertices": 4, "edges_per_vertex": 4}),
            "params.edges_per_vertex",
        ),
        (json!({"source": 64}), "params.source"),
        (json!({"program": "bfs"}), "params.program"),
        (json!({"heartbeat_ms": 300}), "params.failure_timeout_ms"),
        (json!({"checkpoint_every": 0}), "params.checkpoint_every"),
        (json!({"nope": 1}), "params"),
    ] {
        let mut s = scenario("pregel_sssp");
        s["params"] = params.clone();
        let text = serde_json::to_vec(&s).unwrap();
        let (scenario, source) = distsim::scenario::parse(&text, "pregel.json").expect("valid");
        let err = match run_protocol::<Pregel>(&scenario, Some(&source), &RunOptions::default()) {
            Ok(_) => panic!("{params} accepted"),
            Err(e) => e.to_string(),
        };
        assert!(err.contains(field), "{params}: {err}");
    }
}
