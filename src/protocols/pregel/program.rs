//! The vertex programs: what `compute()` does for one vertex in one superstep, and the combiner that
//! may merge two messages to the same vertex (Malewicz et al., 2010, sections 3 and 5).

use super::graph::VertexId;
use super::params::ProgramKind;
use serde::Serialize;

/// PageRank's damping factor.
pub const DAMPING: f64 = 0.85;

/// A vertex value or a message: a rank, or a distance (`u64::MAX`: not reached).
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Val {
    /// A PageRank value or contribution.
    Rank(f64),
    /// A tentative distance from the source.
    Dist(u64),
}

/// Unreached, for SSSP.
pub const UNREACHED: u64 = u64::MAX;

/// A vertex program with its constants.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Program {
    /// Which program.
    pub kind: ProgramKind,
    /// Vertices in the graph (PageRank's `1/n`).
    pub vertices: u32,
    /// PageRank's number of rank updates.
    pub iterations: u64,
    /// SSSP's source.
    pub source: VertexId,
}

impl Program {
    /// The value of vertex `v` before superstep 0.
    pub fn initial(&self) -> Val {
        match self.kind {
            ProgramKind::Pagerank => Val::Rank(1.0 / f64::from(self.vertices)),
            ProgramKind::Sssp => Val::Dist(UNREACHED),
        }
    }

    /// `compute()` of vertex `v` in `superstep`: reads `messages` (in a deterministic order: the
    /// caller sorts them), updates `value`, pushes messages for the next superstep into `send`, and
    /// returns whether the vertex votes to halt.
    pub fn compute(
        &self,
        v: VertexId,
        superstep: u64,
        value: &mut Val,
        messages: &[Val],
        out: &[(VertexId, u64)],
        send: &mut Vec<(VertexId, Val)>,
    ) -> bool {
        match self.kind {
            ProgramKind::Pagerank => {
                if superstep >= 1 {
                    let sum: f64 = messages.iter().map(rank).sum();
                    *value = Val::Rank((1.0 - DAMPING) / f64::from(self.vertices) + DAMPING * sum);
                }
                if superstep < self.iterations {
                    let share = rank(value) / out.len() as f64;
                    send.extend(out.iter().map(|(t, _)| (*t, Val::Rank(share))));
                    false
                } else {
                    true
                }
            }
            ProgramKind::Sssp => {
                let start = if superstep == 0 && v == self.source {
                    0
                } else {
                    UNREACHED
                };
                let best = messages.iter().map(dist).fold(start, u64::min);
                if best < dist(value) {
                    *value = Val::Dist(best);
                    send.extend(
                        out.iter()
                            .map(|(t, w)| (*t, Val::Dist(best.saturating_add(*w)))),
                    );
                }
                true
            }
        }
    }

    /// The combiner: one message that stands for both (a sum of ranks, the smaller distance).
    pub fn combine(&self, a: Val, b: Val) -> Val {
        match (a, b) {
            (Val::Rank(x), Val::Rank(y)) => Val::Rank(x + y),
            (Val::Dist(x), Val::Dist(y)) => Val::Dist(x.min(y)),
            (a, b) => panic!("messages of two programs in one job: {a:?} and {b:?}"),
        }
    }
}

fn rank(v: &Val) -> f64 {
    match v {
        Val::Rank(r) => *r,
        Val::Dist(_) => panic!("a distance in a PageRank job"),
    }
}

fn dist(v: &Val) -> u64 {
    match v {
        Val::Dist(d) => *d,
        Val::Rank(_) => panic!("a rank in an SSSP job"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pagerank_sends_shares_until_its_last_iteration_then_halts() {
        let p = Program {
            kind: ProgramKind::Pagerank,
            vertices: 4,
            iterations: 2,
            source: 0,
        };
        let out = [(1, 1), (2, 1)];
        let mut value = p.initial();
        let mut sent = Vec::new();
        assert!(!p.compute(0, 0, &mut value, &[], &out, &mut sent));
        assert_eq!(value, Val::Rank(0.25));
        assert_eq!(sent, vec![(1, Val::Rank(0.125)), (2, Val::Rank(0.125))]);
        sent.clear();
        assert!(p.compute(0, 2, &mut value, &[Val::Rank(0.5)], &out, &mut sent));
        assert_eq!(value, Val::Rank((1.0 - DAMPING) / 4.0 + DAMPING * 0.5));
        assert!(sent.is_empty());
    }

    #[test]
    fn sssp_relaxes_only_on_improvement() {
        let p = Program {
            kind: ProgramKind::Sssp,
            vertices: 4,
            iterations: 1,
            source: 0,
        };
        let out = [(2, 5)];
        let mut value = p.initial();
        let mut sent = Vec::new();
        assert!(p.compute(1, 0, &mut value, &[], &out, &mut sent));
        assert!(sent.is_empty());
        assert!(p.compute(
            1,
            1,
            &mut value,
            &[Val::Dist(9), Val::Dist(4)],
            &out,
            &mut sent
        ));
        assert_eq!(
            (value, sent.clone()),
            (Val::Dist(4), vec![(2, Val::Dist(9))])
        );
        sent.clear();
        assert!(p.compute(1, 2, &mut value, &[Val::Dist(4)], &out, &mut sent));
        assert!(sent.is_empty());
        assert_eq!(p.combine(Val::Dist(3), Val::Dist(2)), Val::Dist(2));
    }
}
