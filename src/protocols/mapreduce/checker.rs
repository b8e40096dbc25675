//! The MapReduce checker. It counts the words of the same generated corpus itself, sequentially, one
//! document after the other, and judges two properties against that count:
//!
//! - `word_count_exact` (safety): whenever the master commits a partition's output (the note
//!   `completed` of a reduce task), and when the job is done, the committed output equals the
//!   sequential count of that partition's words; at the end of the run the master's disk is read
//!   again, so an output changed after the fact is caught too.
//! - `job_completes` (liveness): the job is done within `complete_within_ms` of the last fault (of
//!   the start, without faults). A job not done is `unknown` while faults are still in force or the
//!   run ends too soon after the last fault to judge, a failure otherwise. The verdict's detail gives
//!   the completion time and what the faults cost: tasks re-executed, duplicate completions ignored,
//!   stale completions ignored, workers marked failed, fetch failures.

use super::corpus::partition;
use super::master::MasterDisk;
use super::message::{Counts, Task};
use super::params::MapReduceParams;
use super::{MapReduceNode, MrNote};
use crate::contract::{
    Checker, Duration, Failure, NS_PER_MS, NodeId, Observation, RunEnd, Time, Verdict,
};
use std::collections::BTreeMap;

/// What the faults cost, counted from the master's notes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Costs {
    /// Map tasks assigned again.
    pub maps_reexecuted: u64,
    /// Reduce tasks assigned again.
    pub reduces_reexecuted: u64,
    /// Completions of a completed task, ignored.
    pub duplicates_ignored: u64,
    /// Map completions from a restarted incarnation, ignored.
    pub stale_ignored: u64,
    /// Workers marked failed.
    pub worker_failures: u64,
    /// Fetch failures reported.
    pub fetch_failures: u64,
}

/// The checker.
pub struct MapReduceChecker {
    master: NodeId,
    /// The sequential count, by partition, sorted by word.
    expected: Vec<Counts>,
    total_words: u64,
    complete_within: Duration,
    done_at: Option<Time>,
    costs: Costs,
}

/// The sequential word count of the corpus `params` describe, split by reduce partition: one
/// document after the other, one word after the other, with no map, no split and no worker.
pub fn sequential_count(params: &MapReduceParams) -> Vec<Counts> {
    let corpus = params.corpus();
    let mut all: BTreeMap<String, u64> = BTreeMap::new();
    for d in 0..corpus.documents {
        for word in corpus.document(d) {
            *all.entry(word).or_insert(0) += 1;
        }
    }
    let mut parts: Vec<Counts> = vec![Vec::new(); params.reduce_tasks as usize];
    for (word, n) in all {
        parts[partition(&word, params.reduce_tasks) as usize].push((word, n));
    }
    parts
}

/// The first difference between an output and the expected counts, both sorted by word.
fn difference(got: &Counts, want: &Counts) -> Option<String> {
    let mut g = got.iter().peekable();
    let mut w = want.iter().peekable();
    loop {
        match (g.peek(), w.peek()) {
            (None, None) => return None,
            (Some((gw, gn)), Some((ww, wn))) if gw == ww => {
                if gn != wn {
                    return Some(format!(
                        "word {gw} counted {gn}, the sequential count is {wn}"
                    ));
                }
                g.next();
                w.next();
            }
            (Some((gw, gn)), Some((ww, _))) if gw < ww => {
                return Some(format!("word {gw} counted {gn}, it is not in the corpus"));
            }
            (Some((gw, gn)), None) => {
                return Some(format!("word {gw} counted {gn}, it is not in the corpus"));
            }
            (_, Some((ww, wn))) => {
                return Some(format!("word {ww} missing, the sequential count is {wn}"));
            }
        }
    }
}

fn total(counts: &Counts) -> u64 {
    counts.iter().map(|(_, n)| n).sum()
}

impl MapReduceChecker {
    /// A checker for a run with `params`, whose master is node `master`.
    pub fn new(params: &MapReduceParams, master: NodeId) -> MapReduceChecker {
        let expected = sequential_count(params);
        let total_words = expected.iter().map(total).sum();
        debug_assert_eq!(
            total_words,
            u64::from(params.documents) * u64::from(params.words_per_document)
        );
        MapReduceChecker {
            master,
            expected,
            total_words,
            complete_within: Duration::from_millis(params.complete_within_ms),
            done_at: None,
            costs: Costs::default(),
        }
    }

    /// Partition `p`'s committed output against the sequential count.
    fn judge_partition(&self, disk: &MasterDisk, p: usize) -> Result<(), String> {
        let want = &self.expected[p];
        match disk.outputs.get(p) {
            Some(Some(got)) => match difference(got, want) {
                None => Ok(()),
                Some(why) => Err(format!(
                    "partition {p}: {why} (the output holds {} words, {} in all; the sequential count {} words, {} in all)",
                    got.len(),
                    total(got),
                    want.len(),
                    total(want)
                )),
            },
            _ => Err(format!("partition {p} has no committed output")),
        }
    }

    fn judge_all(&self, disk: &MasterDisk) -> Result<(), String> {
        (0..self.expected.len()).try_for_each(|p| self.judge_partition(disk, p))
    }

    fn detail(&self, done_at: Time) -> String {
        let c = self.costs;
        format!(
            "job done at {} ms: {} words in {} partitions equal the sequential count; tasks re-executed: {} map, {} reduce; duplicate completions ignored: {}; stale completions ignored: {}; workers marked failed: {}; fetch failures: {}",
            done_at.0 / NS_PER_MS,
            self.total_words,
            self.expected.len(),
            c.maps_reexecuted,
            c.reduces_reexecuted,
            c.duplicates_ignored,
            c.stale_ignored,
            c.worker_failures,
            c.fetch_failures
        )
    }
}

impl Checker<MapReduceNode> for MapReduceChecker {
    fn name(&self) -> &'static str {
        "mapreduce"
    }

    fn properties(&self) -> Vec<&'static str> {
        vec!["word_count_exact", "job_completes"]
    }

    fn observe(&mut self, obs: &Observation<'_, MapReduceNode>) -> Result<(), Failure> {
        if obs.node != self.master {
            return Ok(());
        }
        let disk = &obs.durable.master;
        for note in obs.notes {
            let c = &mut self.costs;
            match note {
                MrNote::Assigned {
                    rerun: true, task, ..
                } => match task {
                    Task::Map { .. } => c.maps_reexecuted += 1,
                    Task::Reduce { .. } => c.reduces_reexecuted += 1,
                },
                MrNote::DuplicateIgnored { .. } => c.duplicates_ignored += 1,
                MrNote::StaleIgnored { .. } => c.stale_ignored += 1,
                MrNote::WorkerFailed { .. } => c.worker_failures += 1,
                MrNote::FetchFailed { .. } => c.fetch_failures += 1,
                MrNote::Completed {
                    task: Task::Reduce { partition },
                    ..
                } => {
                    let p = *partition as usize;
                    if p >= self.expected.len() {
                        return Err(Failure::of(
                            "word_count_exact",
                            format!(
                                "the master committed partition {p} of {}",
                                self.expected.len()
                            ),
                        ));
                    }
                    self.judge_partition(disk, p)
                        .map_err(|why| Failure::of("word_count_exact", why))?;
                }
                MrNote::JobDone { .. } => {
                    self.done_at.get_or_insert(obs.now);
                    self.judge_all(disk).map_err(|why| {
                        Failure::of("word_count_exact", format!("at job done, {why}"))
                    })?;
                }
                _ => {}
            }
        }
        Ok(())
    }

    fn finish(&mut self, end: &RunEnd<'_, MapReduceNode>) -> Vec<(&'static str, Verdict)> {
        if end.ended_early {
            return vec![(
                "job_completes",
                Verdict::Unknown("the run ended early".into()),
            )];
        }
        let mut verdicts = Vec::new();
        // Read the master's disk again: committed outputs must still be exact.
        if let Some(node) = end.nodes.get(self.master as usize) {
            let disk = &node.durable.master;
            let held = disk.outputs.iter().enumerate().filter(|(_, o)| o.is_some());
            if let Some(why) = held
                .map(|(p, _)| self.judge_partition(disk, p))
                .find_map(Result::err)
            {
                verdicts.push((
                    "word_count_exact",
                    Verdict::Fail(format!("at the end of the run, {why}")),
                ));
            }
        }
        let since = end.last_fault.unwrap_or(Time::ZERO);
        let deadline = Time(since.0.saturating_add(self.complete_within.0));
        let bound_ms = self.complete_within.0 / NS_PER_MS;
        let verdict = match self.done_at {
            Some(at) if at <= deadline => Verdict::PassNoted(self.detail(at)),
            Some(at) => Verdict::Fail(format!(
                "{}, more than {bound_ms} ms after the last fault at {} ms",
                self.detail(at),
                since.0 / NS_PER_MS
            )),
            None => {
                let quiet_ms = end.now.0.saturating_sub(since.0) / NS_PER_MS;
                let why = format!(
                    "the job is not done {quiet_ms} ms after the last fault (tasks re-executed: {} map, {} reduce; fetch failures: {})",
                    self.costs.maps_reexecuted,
                    self.costs.reduces_reexecuted,
                    self.costs.fetch_failures
                );
                if end.faults_in_force {
                    Verdict::Unknown(format!("faults still in force at the end; {why}"))
                } else if end.now < deadline {
                    Verdict::Unknown(format!(
                        "the run ended before complete_within_ms ({bound_ms} ms) after the last fault; {why}"
                    ))
                } else {
                    Verdict::Fail(why)
                }
            }
        };
        verdicts.push(("job_completes", verdict));
        verdicts
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counts(items: &[(&str, u64)]) -> Counts {
        items.iter().map(|(w, n)| (w.to_string(), *n)).collect()
    }

    #[test]
    fn difference_names_the_first_disagreeing_word() {
        let want = counts(&[("a", 1), ("b", 2), ("c", 3)]);
        assert_eq!(difference(&want, &want), None);
        let why = |got: &[(&str, u64)]| difference(&counts(got), &want).expect("differs");
        assert!(why(&[("a", 1), ("b", 4), ("c", 3)]).contains("word b counted 4"));
        assert!(why(&[("a", 1), ("c", 3)]).contains("word b missing"));
        assert!(why(&[("a", 1), ("b", 2), ("bb", 1), ("c", 3)]).contains("not in the corpus"));
        assert!(why(&[("a", 1), ("b", 2), ("c", 3), ("d", 1)]).contains("word d"));
        assert!(why(&[("a", 1), ("b", 2)]).contains("word c missing"));
    }

    #[test]
    fn the_sequential_count_counts_every_word_once() {
        let p = MapReduceParams::default();
        let parts = sequential_count(&p);
        assert_eq!(parts.len(), 4);
        let all: u64 = parts.iter().map(total).sum();
        assert_eq!(all, 32 * 40);
        for (i, part) in parts.iter().enumerate() {
            assert!(part.windows(2).all(|w| w[0].0 < w[1].0), "sorted, unique");
            assert!(part.iter().all(|(w, _)| partition(w, 4) as usize == i));
        }
    }
}
