//! The input graph, generated from its own seed (the job's input, as if read from a file every worker
//! can read), and the assignment of vertices to workers.

use super::params::PartitionKind;
use crate::contract::Rng;
use sha2::{Digest, Sha256};

/// A vertex id, `0..vertices`.
pub type VertexId = u32;

/// A directed graph with integer edge weights: every vertex has the same number of out-edges, to
/// distinct other vertices (no self-loops, no parallel edges).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Graph {
    /// Out-edges of each vertex: `(target, weight)`, in the order they were drawn.
    out: Vec<Vec<(VertexId, u64)>>,
}

impl Graph {
    /// The graph of `vertices` vertices with `edges_per_vertex` out-edges each, weights in
    /// `1..=weight_max`, drawn from the stream `"pregel/graph"` of `seed`. Needs
    /// `edges_per_vertex < vertices` (checked by the parameters).
    pub fn generate(vertices: u32, edges_per_vertex: u32, weight_max: u64, seed: u64) -> Graph {
        assert!(
            edges_per_vertex < vertices,
            "edges_per_vertex {edges_per_vertex} needs more than that many vertices, not {vertices}"
        );
        let mut rng = Rng::stream(seed, "pregel/graph");
        let mut out = Vec::with_capacity(vertices as usize);
        for v in 0..vertices {
            let mut edges: Vec<(VertexId, u64)> = Vec::with_capacity(edges_per_vertex as usize);
            // A partial Fisher-Yates over the other vertices: k distinct targets in k draws.
            let mut others: Vec<VertexId> = (0..vertices).filter(|u| *u != v).collect();
            for i in 0..edges_per_vertex as usize {
                let j = i + rng.below((others.len() - i) as u64) as usize;
                others.swap(i, j);
                edges.push((others[i], rng.between(1, weight_max)));
            }
            out.push(edges);
        }
        Graph { out }
    }

    /// How many vertices.
    pub fn vertices(&self) -> u32 {
        self.out.len() as u32
    }

    /// How many edges.
    pub fn edges(&self) -> usize {
        self.out.iter().map(Vec::len).sum()
    }

    /// The out-edges of `v`.
    pub fn out_edges(&self, v: VertexId) -> &[(VertexId, u64)] {
        &self.out[v as usize]
    }
}

/// The worker index (`0..workers`) that owns vertex `v`.
pub fn owner(kind: PartitionKind, v: VertexId, workers: u32) -> u32 {
    assert!(workers > 0, "a job needs a worker");
    match kind {
        PartitionKind::Modulo => v % workers,
        PartitionKind::Sha256 => {
            let digest = Sha256::digest(v.to_le_bytes());
            let mut first = [0u8; 8];
            first.copy_from_slice(&digest[..8]);
            (u64::from_le_bytes(first) % u64::from(workers)) as u32
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_graphs_are_simple_regular_and_reproducible() {
        let g = Graph::generate(50, 4, 7, 3);
        assert_eq!(g, Graph::generate(50, 4, 7, 3));
        assert_ne!(g, Graph::generate(50, 4, 7, 4));
        assert_eq!(g.edges(), 200);
        for v in 0..50 {
            let targets: Vec<VertexId> = g.out_edges(v).iter().map(|e| e.0).collect();
            let mut distinct = targets.clone();
            distinct.sort_unstable();
            distinct.dedup();
            assert_eq!(distinct.len(), 4, "vertex {v}: {targets:?}");
            assert!(!targets.contains(&v));
            assert!(g.out_edges(v).iter().all(|e| (1..=7).contains(&e.1)));
        }
        // The densest allowed graph is complete.
        let full = Graph::generate(5, 4, 1, 1);
        assert_eq!(full.edges(), 20);
    }

    #[test]
    fn both_partitions_are_stable_and_use_every_worker() {
        for kind in [PartitionKind::Modulo, PartitionKind::Sha256] {
            let owners: Vec<u32> = (0..300).map(|v| owner(kind, v, 4)).collect();
            for w in 0..4 {
                assert!(owners.contains(&w), "{kind:?} never picks worker {w}");
            }
            assert!(owners.iter().all(|w| *w < 4));
        }
        assert_eq!(owner(PartitionKind::Modulo, 13, 4), 1);
        // Pinned: the named hash must not change under anyone's feet.
        let pinned: Vec<u32> = (0..8).map(|v| owner(PartitionKind::Sha256, v, 3)).collect();
        assert_eq!(pinned, PINNED_SHA256_OWNERS);
    }

    /// Owners of vertices 0..8 among 3 workers under the SHA-256 partition (computed with Python's hashlib).
    const PINNED_SHA256_OWNERS: [u32; 8] = [2, 1, 2, 0, 0, 2, 2, 2];
}
