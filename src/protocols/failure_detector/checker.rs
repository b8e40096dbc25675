//! The completeness checker, which also measures both detectors.
//!
//! It records every suspect and trust transition with its true time, then, at the end, reads the
//! crashes from the role changes (a server's role becomes `None` exactly when it goes down) and asks,
//! for each crash and each server that stayed up through it: how long did each detector take to
//! suspect the crashed node? A crash that lasts `detect_within_ms` must be suspected within it by
//! both detectors of every such server, or the run fails. A suspicion of a node that is up at that
//! A server that handled no event for two check periods was paused; it is not judged for a crash
//! during its stall. A suspicion of a node that is up at that
//! moment is a false suspicion (under latency spikes and pauses); they are counted, not judged.
//! The numbers are the verdict's detail (a pass with a detail), so reports and snapshots pin them.

use super::node::{DETECTORS, Detector, FdNode, Note};
use crate::contract::{Checker, Failure, NodeId, Observation, RunEnd, Time, Verdict};

/// The checker's property.
pub const FD_COMPLETENESS: &str = "fd_completeness";

/// The most transitions recorded; beyond it the verdict is `unknown`.
const TRANSITIONS_MAX: usize = 1_000_000;

/// One transition: at `time`, `observer`'s `detector` began (`suspect`) or stopped suspecting `peer`.
#[derive(Clone, Copy, Debug)]
struct Transition {
    time: Time,
    observer: NodeId,
    peer: NodeId,
    detector: Detector,
    suspect: bool,
}

/// Detection times and false suspicions of one detector over a run.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DetectorStats {
    /// Detection times (crash to suspicion), ms, one per crash and surviving observer that detected.
    pub detections_ms: Vec<u64>,
    /// Suspicions of a node that was up.
    pub false_suspicions: u64,
}

impl DetectorStats {
    fn summary(&self) -> String {
        let n = self.detections_ms.len() as u64;
        let mean = self
            .detections_ms
            .iter()
            .sum::<u64>()
            .checked_div(n)
            .unwrap_or(0);
        let max = self.detections_ms.iter().copied().max().unwrap_or(0);
        format!(
            "{n} detections (mean {mean} ms, max {max} ms), {} false suspicions",
            self.false_suspicions
        )
    }
}

/// Reads the false-suspicion count of `detector` (`"fixed"` or `"phi"`) back from a verdict detail.
pub fn false_suspicions_in(detail: &str, detector: &str) -> Option<u64> {
    let part = detail
        .split("; ")
        .find_map(|p| p.strip_prefix(&format!("{detector}: ")))?;
    let before = part.split(" false suspicions").next()?;
    before.rsplit(' ').next()?.parse().ok()
}

/// The completeness checker.
pub struct FdCompleteness {
    detect_within_ms: u64,
    /// Twice the check period, ns: a running server handles an event at least this often, so a
    /// longer gap between its events means it was paused.
    stall_ns: u64,
    /// By node: when it last handled an event.
    last_event: Vec<Option<Time>>,
    /// By node: the intervals during which it handled nothing for longer than `stall_ns` (paused).
    stalls: Vec<Vec<(Time, Time)>>,
    transitions: Vec<Transition>,
    overflowed: bool,
}

impl FdCompleteness {
    /// A checker with the bound `detect_within_ms`, for servers that check every `check_ms`.
    pub fn new(detect_within_ms: u64, check_ms: u64) -> FdCompleteness {
        FdCompleteness {
            detect_within_ms,
            stall_ns: 2 * check_ms * 1_000_000,
            last_event: Vec::new(),
            stalls: Vec::new(),
            transitions: Vec::new(),
            overflowed: false,
        }
    }
}

/// The half-open intervals `[down, up)` during which each server was down.
fn down_intervals(end: &RunEnd<'_, FdNode>) -> Vec<Vec<(Time, Time)>> {
    let servers = end.cluster.servers as usize;
    let mut down: Vec<Vec<(Time, Time)>> = vec![Vec::new(); servers];
    let mut since: Vec<Option<Time>> = vec![None; servers];
    for change in end.roles {
        let n = change.node as usize;
        if n >= servers {
            continue;
        }
        match (change.role, since[n]) {
            (None, None) => since[n] = Some(change.time),
            (Some(_), Some(t)) => {
                down[n].push((t, change.time));
                since[n] = None;
            }
            _ => {}
        }
    }
    for (n, s) in since.iter().enumerate() {
        if let Some(t) = s {
            down[n].push((*t, Time(end.now.0.saturating_add(1))));
        }
    }
    down
}

fn up_at(down: &[(Time, Time)], t: Time) -> bool {
    !down.iter().any(|(a, b)| *a <= t && t < *b)
}

fn up_throughout(down: &[(Time, Time)], from: Time, to: Time) -> bool {
    !down.iter().any(|(a, b)| *a <= to && from < *b)
}

impl Checker<FdNode> for FdCompleteness {
    fn name(&self) -> &'static str {
        FD_COMPLETENESS
    }

    fn observe(&mut self, obs: &Observation<'_, FdNode>) -> Result<(), Failure> {
        let n = obs.node as usize;
        if self.last_event.len() <= n {
            self.last_event.resize(n + 1, None);
            self.stalls.resize(n + 1, Vec::new());
        }
        if let Some(last) = self.last_event[n]
            && obs.now.0 > last.0 + self.stall_ns
            && self.stalls[n].len() < TRANSITIONS_MAX
        {
            self.stalls[n].push((last, obs.now));
        }
        self.last_event[n] = Some(obs.now);
        for note in obs.notes {
            let (detector, peer, suspect) = match note {
                Note::Suspect { detector, peer, .. } => (*detector, *peer, true),
                Note::Trust { detector, peer } => (*detector, *peer, false),
                Note::SelfPaused { .. } => continue,
            };
            if self.transitions.len() >= TRANSITIONS_MAX {
                self.overflowed = true;
                continue;
            }
            self.transitions.push(Transition {
                time: obs.now,
                observer: obs.node,
                peer,
                detector,
                suspect,
            });
        }
        Ok(())
    }

    fn finish(&mut self, end: &RunEnd<'_, FdNode>) -> Vec<(&'static str, Verdict)> {
        if self.overflowed {
            let msg = format!("more than {TRANSITIONS_MAX} suspicion transitions");
            return vec![(FD_COMPLETENESS, Verdict::Unknown(msg))];
        }
        let down = down_intervals(end);
        let bound_ns = self.detect_within_ms * 1_000_000;
        let mut stats = [DetectorStats::default(), DetectorStats::default()];
        let mut failure: Option<String> = None;
        for (j, intervals) in down.iter().enumerate() {
            let j = j as NodeId;
            for &(crash, back) in intervals {
                let deadline = Time(crash.0 + bound_ns);
                let judged = back > deadline && end.now >= deadline;
                let watch_until = if judged { deadline } else { back.min(end.now) };
                for (i, own_down) in down.iter().enumerate() {
                    let i = i as NodeId;
                    if i == j || !up_throughout(own_down, crash, watch_until) {
                        continue;
                    }
                    // A server that stalled (paused) in the window cannot be held to it. Its own
                    // crash ends its events too, but then it is not up throughout.
                    let stalled_to_end = self
                        .last_event
                        .get(i as usize)
                        .copied()
                        .flatten()
                        .is_none_or(|last| last.0 + self.stall_ns < watch_until.0);
                    let stalled = self
                        .stalls
                        .get(i as usize)
                        .is_some_and(|s| s.iter().any(|(a, b)| *a <= watch_until && crash < *b));
                    if stalled || (judged && stalled_to_end) {
                        continue;
                    }
                    // Transitions of `i` from its current life only.
                    let born = own_down
                        .iter()
                        .filter(|(_, b)| *b <= crash)
                        .map(|(_, b)| *b)
                        .max()
                        .unwrap_or(Time::ZERO);
                    for (k, detector) in DETECTORS.iter().enumerate() {
                        let mine = self.transitions.iter().filter(|t| {
                            t.observer == i
                                && t.peer == j
                                && t.detector == *detector
                                && t.time >= born
                        });
                        let suspected_at_crash = mine
                            .clone()
                            .rfind(|t| t.time <= crash)
                            .is_some_and(|t| t.suspect);
                        let detected = if suspected_at_crash {
                            Some(crash)
                        } else {
                            mine.clone()
                                .find(|t| t.suspect && t.time >= crash && t.time < back)
                                .map(|t| t.time)
                        };
                        match detected {
                            Some(t) if t <= deadline || !judged => {
                                stats[k].detections_ms.push((t.0 - crash.0) / 1_000_000);
                            }
                            _ if judged && failure.is_none() => {
                                failure = Some(format!(
                                    "node {j} crashed at {crash} and stayed down, but node {i}'s \
                                     {detector:?} detector did not suspect it within {} ms",
                                    self.detect_within_ms
                                ));
                            }
                            _ => {}
                        }
                    }
                }
            }
        }
        for t in &self.transitions {
            if t.suspect && down.get(t.peer as usize).is_some_and(|d| up_at(d, t.time)) {
                stats[t.detector as usize].false_suspicions += 1;
            }
        }
        let detail = format!("fixed: {}; phi: {}", stats[0].summary(), stats[1].summary());
        let verdict = match failure {
            Some(f) => Verdict::Fail(format!("{f} ({detail})")),
            None => Verdict::PassNoted(detail),
        };
        vec![(FD_COMPLETENESS, verdict)]
    }
}
