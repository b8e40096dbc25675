//! The `distsim` binary: the command line of [`distsim::cli`] with the protocols distsim ships.

use distsim::run::registry::Registry;
use std::process::ExitCode;

fn main() -> ExitCode {
    distsim::cli::main_with(Registry::builtin())
}
