//! Checks a history file twice, offline (the whole history at once) and online (one event at a time,
//! as a run feeds it), and prints both reports with their times and the most operations the online
//! check held at once: for comparing the two on the same input.
//!
//! ```text
//! cargo run --release --example online_check -- FILE register|kv
//! ```

use distsim::check::history_format;
use distsim::check::linearizability::{
    CheckOptions, KvModel, Model, OnlineChecker, RegisterModel, check,
};
use std::path::Path;
use std::process::ExitCode;

fn run<M: Model + Clone>(path: &Path, model: &M) -> Result<(), String> {
    let parsed = history_format::read_file(path, None).map_err(|e| e.to_string())?;
    let options = CheckOptions::default();
    let offline = check(&parsed.history, model, &options).map_err(|e| e.to_string())?;
    let mut online = OnlineChecker::new(model.clone(), options);
    let mut held_max = 0;
    for event in &parsed.history.events {
        online.push(event);
        held_max = held_max.max(online.window_ops());
    }
    let online = online.finish().map_err(|e| e.to_string())?;
    println!("offline: {}", offline.render(true));
    println!("online:  {}", online.render(true));
    println!(
        "online held at most {held_max} operations at once, of {} in the history",
        online.operations
    );
    Ok(())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(file), Some(model)) = (args.first(), args.get(1)) else {
        eprintln!("usage: online_check FILE register|kv");
        return ExitCode::from(2);
    };
    let path = Path::new(file);
    let result = match model.as_str() {
        "register" => run(path, &RegisterModel),
        "kv" => run(path, &KvModel),
        other => Err(format!("unknown model {other}")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}
