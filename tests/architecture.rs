//! The dependency rules of DESIGN.md, checked on the source text:
//!
//! - a protocol (a file under `src/protocols/`, except the registry) is written against the contract
//!   only: the one `crate::` module it may name is `crate::contract`, and it never reaches another
//!   protocol through `super::super::OTHER`;
//! - no two top-level modules import each other.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .expect("src is readable")
        .map(|e| e.expect("a directory entry").path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The code of a file without its comment lines (doc links are not imports).
fn code_lines(path: &Path) -> Vec<(usize, String)> {
    std::fs::read_to_string(path)
        .expect("a readable source file")
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim_start().starts_with("//"))
        .map(|(i, l)| (i + 1, l.to_string()))
        .collect()
}

/// Every `crate::NAME` a line names.
fn crate_paths(line: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut rest = line;
    while let Some(at) = rest.find("crate::") {
        let before = rest[..at].chars().last();
        let tail = &rest[at + "crate::".len()..];
        let name: String = tail
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        // `$crate::` in macros and `distsim_crate::`-like identifiers are not this crate's paths.
        if !before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$') {
            found.push(name);
        }
        rest = tail;
    }
    found
}

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

#[test]
fn protocols_import_the_contract_only() {
    let root = src().join("protocols");
    let mut files = Vec::new();
    rust_files(&root, &mut files);
    assert!(files.len() > 5, "found the protocol files");
    // The protocols' names: the folders and files beside the registry.
    let protocols: Vec<String> = files
        .iter()
        .filter_map(|f| f.strip_prefix(&root).ok()?.components().next())
        .filter_map(|c| c.as_os_str().to_str())
        .map(|s| s.trim_end_matches(".rs").to_string())
        .filter(|s| s != "mod" && s != "registry")
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    assert!(protocols.contains(&"raft".to_string()), "{protocols:?}");
    let mut bad = Vec::new();
    for file in &files {
        let name = file.strip_prefix(&root).expect("under protocols");
        let own = name
            .components()
            .next()
            .and_then(|c| c.as_os_str().to_str())
            .map(|s| s.trim_end_matches(".rs").to_string())
            .unwrap_or_default();
        if name == Path::new("registry.rs") || name == Path::new("mod.rs") {
            continue;
        }
        for (line_no, line) in code_lines(file) {
            for module in crate_paths(&line) {
                if module != "contract" {
                    bad.push(format!("{}:{line_no}: crate::{module}", file.display()));
                }
            }
            for other in protocols.iter().filter(|p| **p != own) {
                if line.contains(&format!("super::super::{other}")) {
                    bad.push(format!("{}:{line_no}: reaches {other}", file.display()));
                }
            }
        }
    }
    assert!(
        bad.is_empty(),
        "protocols may import only crate::contract:\n{}",
        bad.join("\n")
    );
}

#[test]
fn no_two_modules_import_each_other() {
    let root = src();
    let mut files = Vec::new();
    rust_files(&root, &mut files);
    let mut edges = BTreeSet::new();
    for file in &files {
        let relative = file.strip_prefix(&root).expect("under src");
        let module = relative
            .components()
            .next()
            .and_then(|c| c.as_os_str().to_str())
            .map(|s| s.trim_end_matches(".rs").to_string())
            .expect("a module");
        if module == "lib" || module == "main" {
            continue;
        }
        for (_, line) in code_lines(file) {
            for target in crate_paths(&line) {
                if target != module {
                    edges.insert((module.clone(), target));
                }
            }
        }
    }
    assert!(
        edges.contains(&("sim".to_string(), "contract".to_string())),
        "the scan sees imports: {edges:?}"
    );
    let cycles: Vec<String> = edges
        .iter()
        .filter(|(a, b)| a < b && edges.contains(&(b.clone(), a.clone())))
        .map(|(a, b)| format!("{a} <-> {b}"))
        .collect();
    assert!(
        cycles.is_empty(),
        "modules that import each other: {cycles:?}"
    );
    assert!(
        !edges.iter().any(|(a, _)| a == "contract"),
        "the contract imports no other module of distsim: {edges:?}"
    );
}

#[test]
fn the_scan_finds_paths() {
    assert_eq!(
        crate_paths("use crate::contract::{Actor}; let x = crate::sim::World::new();"),
        ["contract", "sim"]
    );
    assert!(crate_paths("$crate::x and my_crate::y").is_empty());
}
