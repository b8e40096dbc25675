//! Pregel's scenario parameters: the graph, the vertex program, checkpoints, timing and liveness.

use crate::contract::Param;
use serde::{Deserialize, Serialize};

/// The vertex program every vertex runs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProgramKind {
    /// PageRank for a fixed number of supersteps (damping 0.85).
    #[default]
    Pagerank,
    /// Single-source shortest paths over integer edge weights.
    Sssp,
}

/// How vertices are assigned to workers.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PartitionKind {
    /// Vertex `v` goes to worker `v mod workers`.
    #[default]
    Modulo,
    /// Vertex `v` goes to worker `h mod workers`, `h` the first 8 bytes (little-endian) of SHA-256 of
    /// `v` as 4 little-endian bytes.
    Sha256,
}

/// The parameters (`"params"`), all optional. Unknown fields are an error.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PregelParams {
    /// The vertex program (default `"pagerank"`).
    pub program: ProgramKind,
    /// Vertices of the generated graph (default 64).
    pub vertices: u32,
    /// Out-edges of every vertex, to distinct other vertices (default 3).
    pub edges_per_vertex: u32,
    /// Seed of the graph generator, independent of the run's seed (default 1).
    pub graph_seed: u64,
    /// Largest edge weight; weights are drawn in `1..=weight_max` (default 10).
    pub weight_max: u64,
    /// SSSP's source vertex (default 0).
    pub source: u32,
    /// PageRank's supersteps after the first: the number of rank updates (default 30).
    pub pagerank_iterations: u64,
    /// Whether workers combine messages to the same vertex before sending (sum for PageRank, minimum
    /// for SSSP) (default true).
    pub combiner: bool,
    /// How vertices are assigned to workers (default `"modulo"`).
    pub partition: PartitionKind,
    /// Workers checkpoint at the start of every superstep that is a multiple of this (default 5).
    pub checkpoint_every: u64,
    /// How often the master pings every worker, ms (default 50).
    pub heartbeat_ms: u64,
    /// Silence after which the master declares a worker failed and rolls back, ms (default 300).
    pub failure_timeout_ms: u64,
    /// How often unanswered commands and unacknowledged message batches are sent again, ms
    /// (default 25).
    pub resend_ms: u64,
    /// Liveness: the job finishes within this long of the last fault (default 4000).
    pub liveness_ms: u64,
}

impl Default for PregelParams {
    fn default() -> Self {
        PregelParams {
            program: ProgramKind::Pagerank,
            vertices: 64,
            edges_per_vertex: 3,
            graph_seed: 1,
            weight_max: 10,
            source: 0,
            pagerank_iterations: 30,
            combiner: true,
            partition: PartitionKind::Modulo,
            checkpoint_every: 5,
            heartbeat_ms: 50,
            failure_timeout_ms: 300,
            resend_ms: 25,
            liveness_ms: 4000,
        }
    }
}

/// The most vertices a generated graph may have.
pub const VERTICES_MAX: u32 = 4096;
/// The most out-edges per vertex.
pub const EDGES_PER_VERTEX_MAX: u32 = 16;
/// The largest edge weight (distances stay far from overflow: at most `VERTICES_MAX` times this).
pub const WEIGHT_MAX: u64 = 1_000_000;
/// The most PageRank iterations.
pub const PAGERANK_ITERATIONS_MAX: u64 = 1000;

/// Every parameter, for `distsim list --params`.
pub const PARAMS: &[Param] = &[
    Param {
        name: "program",
        default: "\"pagerank\"",
        about: "the vertex program: \"pagerank\" or \"sssp\" (single-source shortest paths)",
    },
    Param {
        name: "vertices",
        default: "64",
        about: "vertices of the generated graph (2 to 4096)",
    },
    Param {
        name: "edges_per_vertex",
        default: "3",
        about: "out-edges of every vertex, to distinct other vertices (1 to 16, below vertices)",
    },
    Param {
        name: "graph_seed",
        default: "1",
        about: "seed of the graph generator (independent of the run's seed)",
    },
    Param {
        name: "weight_max",
        default: "10",
        about: "edge weights are drawn in 1..=weight_max (at most 1000000)",
    },
    Param {
        name: "source",
        default: "0",
        about: "SSSP's source vertex",
    },
    Param {
        name: "pagerank_iterations",
        default: "30",
        about: "PageRank's rank updates: supersteps 1..=this update, superstep 0 only sends (1 to 1000)",
    },
    Param {
        name: "combiner",
        default: "true",
        about: "combine messages to one vertex on the sending worker (sum for PageRank, minimum for SSSP)",
    },
    Param {
        name: "partition",
        default: "\"modulo\"",
        about: "vertex to worker: \"modulo\" (v mod workers) or \"sha256\" (SHA-256 of v, mod workers)",
    },
    Param {
        name: "checkpoint_every",
        default: "5",
        about: "workers checkpoint at the start of every superstep that is a multiple of this",
    },
    Param {
        name: "heartbeat_ms",
        default: "50",
        about: "how often the master pings every worker, ms",
    },
    Param {
        name: "failure_timeout_ms",
        default: "300",
        about: "silence after which the master declares a worker failed and rolls back, ms",
    },
    Param {
        name: "resend_ms",
        default: "25",
        about: "how often unanswered commands and unacknowledged message batches are sent again, ms",
    },
    Param {
        name: "liveness_ms",
        default: "4000",
        about: "pregel_liveness: the job finishes within this long of the last fault, ms",
    },
];

impl PregelParams {
    /// Parses `params` (`Null`: all defaults) and validates it; errors name the field.
    pub fn parse(params: &serde_json::Value) -> Result<PregelParams, String> {
        let p: PregelParams = crate::contract::parse_params(params)?;
        p.validate()?;
        Ok(p)
    }

    /// Checks each field and the relations between them.
    pub fn validate(&self) -> Result<(), String> {
        let err = |field: &str, why: String| Err(format!("params.{field}: {why}"));
        if !(2..=VERTICES_MAX).contains(&self.vertices) {
            return err("vertices", format!("must be in 2..={VERTICES_MAX}"));
        }
        if self.edges_per_vertex == 0
            || self.edges_per_vertex > EDGES_PER_VERTEX_MAX
            || self.edges_per_vertex >= self.vertices
        {
            return err(
                "edges_per_vertex",
                format!(
                    "must be in 1..={EDGES_PER_VERTEX_MAX} and below params.vertices ({})",
                    self.vertices
                ),
            );
        }
        if !(1..=WEIGHT_MAX).contains(&self.weight_max) {
            return err("weight_max", format!("must be in 1..={WEIGHT_MAX}"));
        }
        if self.source >= self.vertices {
            return err(
                "source",
                format!(
                    "must be a vertex, below params.vertices ({})",
                    self.vertices
                ),
            );
        }
        if !(1..=PAGERANK_ITERATIONS_MAX).contains(&self.pagerank_iterations) {
            return err(
                "pagerank_iterations",
                format!("must be in 1..={PAGERANK_ITERATIONS_MAX}"),
            );
        }
        for (field, v) in [
            ("checkpoint_every", self.checkpoint_every),
            ("heartbeat_ms", self.heartbeat_ms),
            ("failure_timeout_ms", self.failure_timeout_ms),
            ("resend_ms", self.resend_ms),
            ("liveness_ms", self.liveness_ms),
        ] {
            if v == 0 {
                return err(field, "must be at least 1".into());
            }
        }
        if self.failure_timeout_ms <= self.heartbeat_ms {
            return err(
                "failure_timeout_ms",
                format!(
                    "must exceed params.heartbeat_ms ({}), or every worker is suspected between two pings",
                    self.heartbeat_ms
                ),
            );
        }
        Ok(())
    }
}
