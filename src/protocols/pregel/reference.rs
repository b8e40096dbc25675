//! The sequential results the checker holds a run to, computed here on one machine with no vertex
//! program, no messages and no supersteps: power iteration for PageRank and Dijkstra's algorithm for
//! shortest paths. Only the input graph is shared with the protocol.

use super::graph::Graph;
use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// PageRank after `iterations` updates from the uniform vector, damping 0.85, no dangling vertices
/// (every vertex has out-edges): `x'[v] = 0.15/n + 0.85 * sum over edges u->v of x[u]/outdeg(u)`,
/// the sum taken in ascending `u`.
pub fn pagerank(graph: &Graph, iterations: u64) -> Vec<f64> {
    let n = graph.vertices() as usize;
    // In-edges of each vertex, by ascending source.
    let mut incoming: Vec<Vec<usize>> = vec![Vec::new(); n];
    for u in 0..n {
        for (t, _) in graph.out_edges(u as u32) {
            incoming[*t as usize].push(u);
        }
    }
    let outdeg: Vec<f64> = (0..n)
        .map(|u| graph.out_edges(u as u32).len() as f64)
        .collect();
    let base = 0.15 / n as f64;
    let mut x = vec![1.0 / n as f64; n];
    for _ in 0..iterations {
        let next: Vec<f64> = incoming
            .iter()
            .map(|from| {
                let mut sum = 0.0;
                for u in from {
                    sum += x[*u] / outdeg[*u];
                }
                base + 0.85 * sum
            })
            .collect();
        x = next;
    }
    x
}

/// Shortest distances from `source` (Dijkstra); `None` for a vertex it cannot reach.
pub fn shortest_paths(graph: &Graph, source: u32) -> Vec<Option<u64>> {
    let n = graph.vertices() as usize;
    let mut dist: Vec<Option<u64>> = vec![None; n];
    let mut heap = BinaryHeap::new();
    dist[source as usize] = Some(0);
    heap.push(Reverse((0u64, source)));
    while let Some(Reverse((d, u))) = heap.pop() {
        if dist[u as usize].is_some_and(|best| best < d) {
            continue;
        }
        for (v, w) in graph.out_edges(u) {
            let through = d + w;
            if dist[*v as usize].is_none_or(|best| through < best) {
                dist[*v as usize] = Some(through);
                heap.push(Reverse((through, *v)));
            }
        }
    }
    dist
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Bellman-Ford, a second opinion on Dijkstra.
    fn bellman_ford(graph: &Graph, source: u32) -> Vec<Option<u64>> {
        let n = graph.vertices();
        let mut dist = vec![None; n as usize];
        dist[source as usize] = Some(0u64);
        for _ in 0..n {
            for u in 0..n {
                let Some(du) = dist[u as usize] else { continue };
                for (v, w) in graph.out_edges(u) {
                    let d = du + w;
                    if dist[*v as usize].is_none_or(|b| d < b) {
                        dist[*v as usize] = Some(d);
                    }
                }
            }
        }
        dist
    }

    #[test]
    fn dijkstra_agrees_with_bellman_ford() {
        for seed in 0..5 {
            let g = Graph::generate(40, 2, 9, seed);
            assert_eq!(
                shortest_paths(&g, 3),
                bellman_ford(&g, 3),
                "graph seed {seed}"
            );
        }
    }

    #[test]
    fn pagerank_keeps_total_mass_and_converges_towards_a_fixed_point() {
        let g = Graph::generate(30, 3, 1, 2);
        let x = pagerank(&g, 60);
        let total: f64 = x.iter().sum();
        assert!((total - 1.0).abs() < 1e-12, "{total}");
        let y = pagerank(&g, 61);
        let moved: f64 = x.iter().zip(&y).map(|(a, b)| (a - b).abs()).sum();
        assert!(moved < 1e-3, "{moved}");
        // On a complete graph every vertex keeps rank 1/n.
        let k = Graph::generate(5, 4, 1, 1);
        assert!(pagerank(&k, 7).iter().all(|r| (r - 0.2).abs() < 1e-15));
    }
}
