//! Writes a synthetic, linearizable history as Jepsen EDN (one map a line) to stdout, for timing
//! `distsim check-history` and other checkers on the same input.
//!
//! ```text
//! cargo run --release --example synthetic_history -- register OPS CLIENTS UNKNOWN_WRITES_PER_MILLE SEED
//! cargo run --release --example synthetic_history -- kv OPS CLIENTS KEYS UNKNOWN_PER_MILLE HOT_KEY_PER_MILLE SEED
//! ```

use distsim::check::history_format::edn::write_edn;
use distsim::check::linearizability::{
    SyntheticKv, SyntheticRegister, synthetic_kv_history, synthetic_register_history,
};
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let numbers: Option<Vec<u64>> = args.iter().skip(1).map(|a| a.parse().ok()).collect();
    let history = match (args.first().map(String::as_str), numbers.as_deref()) {
        (Some("register"), Some(&[operations, clients, unknown, seed])) => {
            synthetic_register_history(&SyntheticRegister {
                operations: operations as usize,
                clients,
                writes_per_mille: 500,
                unknown_writes_per_mille: unknown,
                seed,
            })
        }
        (Some("kv"), Some(&[operations, clients, keys, unknown, hot, seed])) => {
            synthetic_kv_history(&SyntheticKv {
                operations: operations as usize,
                clients,
                keys,
                unknown_per_mille: unknown,
                hot_key_per_mille: hot,
                seed,
            })
        }
        _ => {
            eprintln!(
                "usage: synthetic_history register OPS CLIENTS UNKNOWN_WRITES_PER_MILLE SEED\n       synthetic_history kv OPS CLIENTS KEYS UNKNOWN_PER_MILLE HOT_KEY_PER_MILLE SEED"
            );
            return ExitCode::from(2);
        }
    };
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    match write_edn(&history, &mut out) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err}");
            ExitCode::from(1)
        }
    }
}
