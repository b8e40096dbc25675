//! A worker (section 3.1 of the paper): it runs one task at a time, as the master assigns them.
//!
//! A map task regenerates the documents of its split, counts their words (the map function emits
//! `(word, 1)` and the combiner sums them locally) and keeps the counts, partitioned by
//! `FNV-1a(word) mod R`, in the worker's memory: the paper's intermediate files on the worker's
//! local disk. They are deliberately volatile here: in the paper a failed worker's local disk is out of
//! reach, so its completed map tasks must be re-executed, and a crash that wipes them makes that path
//! run (an incarnation number, on the disk and bumped at every start, tells the master and the reducers
//! which outputs a restart wiped). A reduce task fetches its partition of every map output from the
//! workers that hold them (the shuffle, by messages), asks again every `fetch_retry_ms`, reports a
//! failure to the master after `fetch_rounds_max` rounds or a "not here" answer, then sums the counts and
//! sends the partition's output to the master.

use super::corpus::{Corpus, partition};
use super::message::{Counts, Location, Msg, Task, Timer};
use super::{MapReduceNode, MrNote};
use crate::contract::{Ctx, Duration, NodeId};
use std::collections::BTreeMap;

/// Completed attempts a worker remembers, to answer a re-sent assignment without running it again.
pub const REMEMBERED_ATTEMPTS_MAX: usize = 16;

/// What a worker needs to know.
#[derive(Clone, Copy, Debug)]
pub struct WorkerConfig {
    /// The master's id.
    pub master: NodeId,
    /// The corpus.
    pub corpus: Corpus,
    /// M.
    pub maps: u32,
    /// R.
    pub reduces: u32,
    /// How long a map task runs.
    pub map_time: Duration,
    /// How long a reduce task runs once fetched.
    pub reduce_time: Duration,
    /// Fetch retry interval.
    pub fetch_retry: Duration,
    /// Fetch rounds before giving up.
    pub fetch_rounds_max: u32,
}

/// The task a worker is running.
#[derive(Clone, Debug)]
struct Running {
    attempt: u64,
    task: Task,
    /// For a reduce task: where each map output is, and what was fetched of it.
    locations: Vec<Location>,
    fetched: BTreeMap<u32, Counts>,
    /// Fetch rounds so far.
    rounds: u32,
    /// Every input is here; the work timer runs.
    computing: bool,
}

/// A worker.
#[derive(Clone, Debug)]
pub struct Worker {
    config: WorkerConfig,
    incarnation: u64,
    running: Option<Running>,
    /// The highest attempt assigned to this incarnation: older assignments are stale.
    newest_attempt: u64,
    /// Map outputs held, by map task: one `Counts` per partition.
    map_outputs: BTreeMap<u32, Vec<Counts>>,
    /// The completion message of recently completed attempts.
    completed: BTreeMap<u64, Msg>,
}

type WCtx<'a> = Ctx<'a, MapReduceNode>;

impl Worker {
    /// A fresh worker (at every start: a restart forgets every map output).
    pub fn new(config: WorkerConfig) -> Worker {
        Worker {
            config,
            incarnation: 0,
            running: None,
            newest_attempt: 0,
            map_outputs: BTreeMap::new(),
            completed: BTreeMap::new(),
        }
    }

    /// The attempt it runs, if any.
    pub fn running(&self) -> Option<(u64, Task)> {
        self.running.as_ref().map(|r| (r.attempt, r.task))
    }

    /// The map tasks whose output it holds.
    pub fn held_maps(&self) -> impl Iterator<Item = u32> + '_ {
        self.map_outputs.keys().copied()
    }

    /// Starts a new incarnation.
    pub fn on_start(&mut self, ctx: &mut WCtx<'_>) {
        let disk = ctx.durable_mut();
        disk.incarnation += 1;
        self.incarnation = disk.incarnation;
        ctx.note(MrNote::WorkerStarted {
            incarnation: self.incarnation,
        });
    }

    /// Handles a message.
    pub fn on_msg(&mut self, ctx: &mut WCtx<'_>, from: NodeId, msg: Msg) {
        match msg {
            Msg::Ping { seq } if from == self.config.master => {
                let running = self.running.as_ref().map(|r| r.attempt);
                ctx.send(
                    from,
                    Msg::Pong {
                        seq,
                        incarnation: self.incarnation,
                        running,
                    },
                );
            }
            Msg::Assign {
                attempt,
                task,
                locations,
            } if from == self.config.master => self.assigned(ctx, attempt, task, locations),
            Msg::Fetch {
                attempt,
                map,
                partition,
                incarnation,
            } => {
                let counts = self.held(map, partition, incarnation).cloned();
                ctx.send(
                    from,
                    Msg::FetchReply {
                        attempt,
                        map,
                        partition,
                        counts,
                    },
                );
            }
            Msg::FetchReply {
                attempt,
                map,
                partition,
                counts,
            } => self.fetched(ctx, attempt, map, partition, counts),
            _ => {}
        }
    }

    /// Handles a timer.
    pub fn on_timer(&mut self, ctx: &mut WCtx<'_>, timer: Timer) {
        match timer {
            Timer::Work => self.work_done(ctx),
            Timer::Fetch => self.fetch_round(ctx),
            Timer::Heartbeat => {}
        }
    }

    /// Partition `partition` of map `map`'s output, if this incarnation holds it.
    fn held(&self, map: u32, partition: u32, incarnation: u64) -> Option<&Counts> {
        if incarnation != self.incarnation {
            return None;
        }
        self.map_outputs.get(&map)?.get(partition as usize)
    }

    fn assigned(&mut self, ctx: &mut WCtx<'_>, attempt: u64, task: Task, locations: Vec<Location>) {
        if let Some(done) = self.completed.get(&attempt) {
            // The master missed the completion: say it again.
            ctx.send(self.config.master, done.clone());
            return;
        }
        if attempt < self.newest_attempt
            || self.running.as_ref().map(|r| r.attempt) == Some(attempt)
        {
            return;
        }
        let valid = match task {
            Task::Map { map } => map < self.config.maps && locations.is_empty(),
            Task::Reduce { partition } => {
                partition < self.config.reduces
                    && locations.len() == self.config.maps as usize
                    && locations.iter().all(|l| l.map < self.config.maps)
            }
        };
        if !valid {
            return;
        }
        self.newest_attempt = attempt;
        // The master knows best: a new assignment replaces whatever ran.
        ctx.cancel_timer(Timer::Work);
        ctx.cancel_timer(Timer::Fetch);
        self.running = Some(Running {
            attempt,
            task,
            locations,
            fetched: BTreeMap::new(),
            rounds: 0,
            computing: false,
        });
        match task {
            Task::Map { .. } => ctx.set_timer(Timer::Work, self.config.map_time),
            Task::Reduce { .. } => self.fetch_round(ctx),
        }
    }

    /// Asks for every map output still missing (or reads its own), or gives up after the last round.
    fn fetch_round(&mut self, ctx: &mut WCtx<'_>) {
        let me = ctx.id();
        let Some(r) = self.running.as_mut() else {
            return;
        };
        let Task::Reduce { partition } = r.task else {
            return;
        };
        if r.computing {
            return;
        }
        if r.rounds >= self.config.fetch_rounds_max {
            let missing = r
                .locations
                .iter()
                .find(|l| !r.fetched.contains_key(&l.map))
                .copied()
                .expect("a reduce task still fetching misses an input");
            let attempt = r.attempt;
            self.give_up(ctx, attempt, partition, missing);
            return;
        }
        r.rounds += 1;
        let missing: Vec<Location> = r
            .locations
            .iter()
            .filter(|l| !r.fetched.contains_key(&l.map))
            .copied()
            .collect();
        let attempt = r.attempt;
        for l in missing {
            if self.running.as_ref().map(|r| r.attempt) != Some(attempt) {
                break; // its own copy of an input was gone: given up
            }
            if l.worker == me {
                let counts = self.held(l.map, partition, l.incarnation).cloned();
                self.fetched(ctx, attempt, l.map, partition, counts);
            } else {
                ctx.send(
                    l.worker,
                    Msg::Fetch {
                        attempt,
                        map: l.map,
                        partition,
                        incarnation: l.incarnation,
                    },
                );
            }
        }
        if self.running.as_ref().is_some_and(|r| !r.computing) {
            ctx.set_timer(Timer::Fetch, self.config.fetch_retry);
        }
    }

    fn fetched(
        &mut self,
        ctx: &mut WCtx<'_>,
        attempt: u64,
        map: u32,
        partition: u32,
        counts: Option<Counts>,
    ) {
        let Some(r) = self.running.as_mut() else {
            return;
        };
        if r.attempt != attempt || r.task != (Task::Reduce { partition }) || r.computing {
            return;
        }
        let Some(location) = r.locations.iter().find(|l| l.map == map).copied() else {
            return;
        };
        match counts {
            None => self.give_up(ctx, attempt, partition, location),
            Some(counts) => {
                r.fetched.entry(map).or_insert(counts);
                if r.fetched.len() == r.locations.len() {
                    r.computing = true;
                    ctx.cancel_timer(Timer::Fetch);
                    ctx.set_timer(Timer::Work, self.config.reduce_time);
                }
            }
        }
    }

    /// Drops reduce attempt `attempt` and tells the master which input could not be had.
    fn give_up(&mut self, ctx: &mut WCtx<'_>, attempt: u64, partition: u32, location: Location) {
        self.running = None;
        ctx.cancel_timer(Timer::Fetch);
        ctx.cancel_timer(Timer::Work);
        ctx.send(
            self.config.master,
            Msg::FetchFailed {
                attempt,
                partition,
                location,
            },
        );
    }

    fn work_done(&mut self, ctx: &mut WCtx<'_>) {
        let Some(r) = self.running.take() else {
            return;
        };
        let msg = match r.task {
            Task::Map { map } => {
                self.map_outputs.insert(map, self.map(map));
                Msg::MapDone {
                    attempt: r.attempt,
                    map,
                    incarnation: self.incarnation,
                }
            }
            Task::Reduce { partition } => {
                assert!(r.computing, "a reduce task computes only once fetched");
                let mut sum: BTreeMap<String, u64> = BTreeMap::new();
                for counts in r.fetched.values() {
                    for (word, n) in counts {
                        *sum.entry(word.clone()).or_insert(0) += n;
                    }
                }
                Msg::ReduceDone {
                    attempt: r.attempt,
                    partition,
                    counts: sum.into_iter().collect(),
                }
            }
        };
        ctx.note(MrNote::TaskFinished {
            task: r.task,
            attempt: r.attempt,
        });
        self.completed.insert(r.attempt, msg.clone());
        while self.completed.len() > REMEMBERED_ATTEMPTS_MAX {
            self.completed.pop_first();
        }
        ctx.send(self.config.master, msg);
    }

    /// The map function and the combiner over map task `map`'s split: the count of every word,
    /// one sorted list per partition.
    fn map(&self, map: u32) -> Vec<Counts> {
        let c = self.config;
        let mut parts: Vec<BTreeMap<String, u64>> = vec![BTreeMap::new(); c.reduces as usize];
        for d in c.corpus.split(map, c.maps) {
            for word in c.corpus.document(d) {
                let p = partition(&word, c.reduces) as usize;
                *parts[p].entry(word).or_insert(0) += 1;
            }
        }
        parts.into_iter().map(|m| m.into_iter().collect()).collect()
    }
}
