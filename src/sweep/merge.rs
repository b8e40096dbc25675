//! Merging shard outputs: the `results.jsonl` of several sweep folders (one per shard) read back into
//! one set of counts and one triage table. Seeds must not repeat across the folders.

use super::results::SeedResult;
use super::triage::Triage;
use crate::scenario::ScenarioError;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

/// The longest results line read back (a line holds one violation message).
pub const RESULT_LINE_BYTES_MAX: u64 = 64 * 1024;

/// The shards' results together.
#[derive(Clone, Debug, Default)]
pub struct Merged {
    /// The folders read, in the order given.
    pub dirs: Vec<PathBuf>,
    /// Seeds read.
    pub seeds: u64,
    /// Seeds that matched the expectation.
    pub passed: u64,
    /// Seeds that did not.
    pub failed: u64,
    /// Seeds where a checker could not decide.
    pub undecided: u64,
    /// The failure groups over every shard, in order of first appearance.
    pub triage: Triage,
}

impl Merged {
    /// 1 if any seed failed, else 3 if any was undecided, else 0.
    pub fn exit_code(&self) -> i32 {
        if self.failed > 0 {
            1
        } else if self.undecided > 0 {
            3
        } else {
            0
        }
    }
}

fn line_error(file: &Path, line: usize, message: String) -> ScenarioError {
    ScenarioError {
        file: file.display().to_string(),
        line,
        column: 1,
        field: String::new(),
        message,
    }
}

/// Reads `DIR/results.jsonl` of each folder, in order. A seed seen twice is an error (overlapping
/// shards), as is a damaged line, named by file and line.
pub fn merge(dirs: &[PathBuf]) -> Result<Merged, ScenarioError> {
    let mut m = Merged {
        dirs: dirs.to_vec(),
        ..Merged::default()
    };
    // Seen seeds as sorted, non-overlapping ranges: shards are contiguous, so this stays tiny.
    let mut seen: Vec<(u64, u64)> = Vec::new();
    for dir in dirs {
        let path = dir.join("results.jsonl");
        let file = std::fs::File::open(&path)
            .map_err(|e| line_error(&path, 1, format!("cannot read: {e}")))?;
        let mut reader = BufReader::new(file);
        let mut buf = Vec::new();
        for number in 1.. {
            buf.clear();
            let n = (&mut reader)
                .take(RESULT_LINE_BYTES_MAX + 1)
                .read_until(b'\n', &mut buf)
                .map_err(|e| line_error(&path, number, format!("cannot read: {e}")))?;
            if n == 0 {
                break;
            }
            if n as u64 > RESULT_LINE_BYTES_MAX {
                return Err(line_error(
                    &path,
                    number,
                    format!("line longer than {RESULT_LINE_BYTES_MAX} bytes"),
                ));
            }
            let r: SeedResult = serde_json::from_slice(&buf).map_err(|e| ScenarioError {
                column: e.column().max(1),
                ..line_error(&path, number, format!("not a sweep result line: {e}"))
            })?;
            if r.seed == u64::MAX {
                return Err(line_error(
                    &path,
                    number,
                    "seed 18446744073709551615 is past the last seed a sweep runs".into(),
                ));
            }
            if !insert_seed(&mut seen, r.seed) {
                return Err(line_error(
                    &path,
                    number,
                    format!("seed {} appears twice: do the shards overlap?", r.seed),
                ));
            }
            m.seeds += 1;
            if r.failed() {
                m.failed += 1;
            } else if r.undecided() {
                m.undecided += 1;
            } else {
                m.passed += 1;
            }
            m.triage.add(&r);
        }
    }
    Ok(m)
}

/// Adds `seed` to the set of ranges; false if it was already there.
fn insert_seed(seen: &mut Vec<(u64, u64)>, seed: u64) -> bool {
    let at = seen.partition_point(|&(_, end)| end <= seed);
    if at < seen.len() && seen[at].0 <= seed {
        return false;
    }
    if at > 0 && seen[at - 1].1 == seed {
        seen[at - 1].1 = seed + 1;
        if at < seen.len() && seen[at].0 == seed + 1 {
            seen[at - 1].1 = seen[at].1;
            seen.remove(at);
        }
    } else if at < seen.len() && seen[at].0 == seed + 1 {
        seen[at].0 = seed;
    } else {
        seen.insert(at, (seed, seed + 1));
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seed_ranges_merge_and_catch_repeats() {
        let mut seen = Vec::new();
        for s in [5, 7, 6, 1, 2, 0, 9] {
            assert!(insert_seed(&mut seen, s), "{s}");
        }
        assert_eq!(seen, vec![(0, 3), (5, 8), (9, 10)]);
        for s in [0, 2, 5, 6, 7, 9] {
            assert!(!insert_seed(&mut seen, s), "{s}");
        }
        assert!(insert_seed(&mut seen, 8));
        assert_eq!(seen, vec![(0, 3), (5, 10)]);
    }
}
