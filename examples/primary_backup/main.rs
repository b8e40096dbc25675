//! The library example: a user's own protocol run by distsim.
//!
//! ```text
//! cargo run --example primary_backup                      # the built-in scenario
//! cargo run --example primary_backup -- my_scenario.json  # any scenario for primary_backup
//! cargo run --example primary_backup -- --bug             # with the planted bug, then a sweep
//! ```

mod protocol;

use distsim::run::{RunOptions, run_protocol};
use protocol::PrimaryBackup;
use std::process::ExitCode;

/// Three replicas, two clients, a network that reorders (latencies 1 to 20 ms).
const SCENARIO: &str = r#"{
  "name": "primary_backup_reordering",
  "protocol": "primary_backup",
  "seed": 1,
  "nodes": 3,
  "clients": 2,
  "max_time_ms": 3000,
  "network": { "delay_ms_min": 1, "delay_ms_max": 20 }
}"#;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let bug = args.iter().any(|a| a == "--bug");
    let (mut scenario, source) = match args.iter().find(|a| !a.starts_with("--")) {
        Some(path) => match distsim::scenario::load(std::path::Path::new(path)) {
            Ok(x) => x,
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::from(2);
            }
        },
        None => {
            distsim::scenario::parse(SCENARIO.as_bytes(), "built-in").expect("a valid scenario")
        }
    };
    if bug {
        scenario.mutants.push("pb.apply_out_of_order".into());
        scenario.expect = None;
    }
    match run_protocol::<PrimaryBackup>(&scenario, Some(&source), &RunOptions::default()) {
        Ok(out) => {
            print!("{}", out.report.render_text(20));
            if bug {
                // A sweep finds and shrinks the bug the way a test would.
                let check = distsim::testing::sweep::<PrimaryBackup>(&scenario, 0..50);
                if let Ok(report) = check.run() {
                    println!(
                        "sweep     {} of {} seeds failed",
                        report.failed, report.seeds_run
                    );
                }
            }
            ExitCode::from(out.report.outcome.exit_code() as u8)
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}
