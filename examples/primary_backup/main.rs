//! The library example: a user's own protocol, with every distsim subcommand for it.
//!
//! ```text
//! cargo run --example primary_backup -- run examples/primary_backup/scenario.json
//! cargo run --example primary_backup -- run examples/primary_backup/bug.json --seed 3
//! cargo run --example primary_backup -- sweep examples/primary_backup/scenario.json --seeds 0..200
//! cargo run --example primary_backup -- list --params
//! ```

mod protocol;

use distsim::run::registry::Registry;
use std::process::ExitCode;

fn main() -> ExitCode {
    distsim::cli::main_with(Registry::builtin().with::<protocol::PrimaryBackup>())
}
