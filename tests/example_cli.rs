//! A user's own binary (`distsim::cli::main_with` with the example protocol registered) gets every
//! subcommand for it; distsim's own registry does not know it.

#[path = "../examples/primary_backup/protocol.rs"]
#[allow(dead_code)]
mod protocol;

use distsim::cli::main_with_args;
use distsim::run::registry::Registry;
use std::process::ExitCode;

#[test]
fn a_users_binary_runs_its_own_protocol() {
    let registry = Registry::builtin().with::<protocol::PrimaryBackup>();
    assert!(
        registry.get("raft").is_some(),
        "the built-in protocols stay"
    );
    assert!(Registry::builtin().get("primary_backup").is_none());
    let cli = |args: &[&str]| {
        let mut all = vec!["distsim"];
        all.extend_from_slice(args);
        main_with_args(registry.clone(), all)
    };
    assert_eq!(
        cli(&["validate", "examples/primary_backup/scenario.json"]),
        ExitCode::SUCCESS
    );
    assert_eq!(
        cli(&["run", "examples/primary_backup/scenario.json"]),
        ExitCode::SUCCESS
    );
    // The planted bug is expected, so the run passes; a sweep over it passes too.
    assert_eq!(
        cli(&["run", "examples/primary_backup/bug.json"]),
        ExitCode::SUCCESS
    );
    assert_eq!(
        cli(&[
            "sweep",
            "examples/primary_backup/scenario.json",
            "--seeds",
            "0..20",
            "--quiet"
        ]),
        ExitCode::SUCCESS
    );
    assert_eq!(cli(&["run", "no/such/file.json"]), ExitCode::from(2));
    assert_eq!(cli(&["no-such-command"]), ExitCode::from(2));
}
