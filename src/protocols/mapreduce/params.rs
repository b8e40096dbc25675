//! MapReduce's scenario parameters (`"params"`), their defaults and bounds.

use super::corpus::{
    Corpus, DOCUMENTS_MAX, TOTAL_WORDS_MAX, VOCABULARY_MAX, WORDS_PER_DOCUMENT_MAX,
};
use crate::contract::Param;
use serde::{Deserialize, Serialize};

/// The most map tasks (M).
pub const MAP_TASKS_MAX: u32 = 256;
/// The most reduce partitions (R).
pub const REDUCE_TASKS_MAX: u32 = 64;
/// The most fetch rounds a reducer may be allowed before it reports a fetch failure.
pub const FETCH_ROUNDS_LIMIT: u32 = 100;
/// The most unanswered pings a master may be told to wait before declaring a worker dead.
pub const DEAD_AFTER_MISSED_LIMIT: u32 = 1000;

/// The parameters, all optional. Unknown fields are an error.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MapReduceParams {
    /// Documents in the generated corpus (default 32).
    pub documents: u32,
    /// Words in each document (default 40).
    pub words_per_document: u32,
    /// Distinct words that may occur (default 200).
    pub vocabulary: u32,
    /// The seed the corpus is generated from, the same on every node (default 1).
    pub corpus_seed: u64,
    /// Map tasks, M (default 8).
    pub map_tasks: u32,
    /// Reduce partitions, R (default 4).
    pub reduce_tasks: u32,
    /// How often the master pings every worker, ms (default 50).
    pub heartbeat_ms: u64,
    /// Unanswered pings in a row after which the master marks a worker dead (default 4).
    pub dead_after_missed: u32,
    /// How long a map task runs on a worker, ms (default 30).
    pub map_ms: u64,
    /// How long a reduce task runs once its input is fetched, ms (default 30).
    pub reduce_ms: u64,
    /// How long a reducer waits for fetch replies before asking again, ms (default 60).
    pub fetch_retry_ms: u64,
    /// Fetch rounds without every reply before a reducer reports the failure (default 4).
    pub fetch_rounds_max: u32,
    /// Liveness: the job completes this long after the last fault at the latest, ms (default 3000).
    pub complete_within_ms: u64,
}

impl Default for MapReduceParams {
    fn default() -> Self {
        MapReduceParams {
            documents: 32,
            words_per_document: 40,
            vocabulary: 200,
            corpus_seed: 1,
            map_tasks: 8,
            reduce_tasks: 4,
            heartbeat_ms: 50,
            dead_after_missed: 4,
            map_ms: 30,
            reduce_ms: 30,
            fetch_retry_ms: 60,
            fetch_rounds_max: 4,
            complete_within_ms: 3000,
        }
    }
}

/// The parameters as `distsim list` shows them (checked against the parser by a registry test).
pub const PARAMS: &[Param] = &[
    Param {
        name: "documents",
        default: "32",
        about: "documents in the generated corpus (at most 4096)",
    },
    Param {
        name: "words_per_document",
        default: "40",
        about: "words in each document (at most 1000; at most 200000 words in all)",
    },
    Param {
        name: "vocabulary",
        default: "200",
        about: "distinct words that may occur (at most 10000)",
    },
    Param {
        name: "corpus_seed",
        default: "1",
        about: "the seed every node and the checker generate the corpus from",
    },
    Param {
        name: "map_tasks",
        default: "8",
        about: "map tasks M, one split of documents each (at most 256 and at most documents)",
    },
    Param {
        name: "reduce_tasks",
        default: "4",
        about: "reduce partitions R, a word's partition is FNV-1a(word) mod R (at most 64)",
    },
    Param {
        name: "heartbeat_ms",
        default: "50",
        about: "how often the master pings every worker, ms",
    },
    Param {
        name: "dead_after_missed",
        default: "4",
        about: "unanswered pings in a row after which the master marks a worker dead",
    },
    Param {
        name: "map_ms",
        default: "30",
        about: "how long a map task runs on a worker, ms",
    },
    Param {
        name: "reduce_ms",
        default: "30",
        about: "how long a reduce task runs once its input is fetched, ms",
    },
    Param {
        name: "fetch_retry_ms",
        default: "60",
        about: "how long a reducer waits for fetch replies before asking again, ms",
    },
    Param {
        name: "fetch_rounds_max",
        default: "4",
        about: "fetch rounds without every reply before a reducer reports the failure to the master",
    },
    Param {
        name: "complete_within_ms",
        default: "3000",
        about: "liveness: the job completes this long after the last fault (or the start) at the latest, ms",
    },
];

impl MapReduceParams {
    /// Parses `params` (`Null`: all defaults) and validates it; errors name the field.
    pub fn parse(params: &serde_json::Value) -> Result<MapReduceParams, String> {
        let p: MapReduceParams = crate::contract::parse_params(params)?;
        p.validate()?;
        Ok(p)
    }

    /// The corpus the parameters describe.
    pub fn corpus(&self) -> Corpus {
        Corpus {
            seed: self.corpus_seed,
            documents: self.documents,
            words_per_document: self.words_per_document,
            vocabulary: self.vocabulary,
        }
    }

    /// Checks each field and the relations between them.
    pub fn validate(&self) -> Result<(), String> {
        let err = |field: &str, why: String| Err(format!("params.{field}: {why}"));
        for (field, v, max) in [
            ("documents", self.documents, DOCUMENTS_MAX),
            (
                "words_per_document",
                self.words_per_document,
                WORDS_PER_DOCUMENT_MAX,
            ),
            ("vocabulary", self.vocabulary, VOCABULARY_MAX),
            ("map_tasks", self.map_tasks, MAP_TASKS_MAX),
            ("reduce_tasks", self.reduce_tasks, REDUCE_TASKS_MAX),
            (
                "dead_after_missed",
                self.dead_after_missed,
                DEAD_AFTER_MISSED_LIMIT,
            ),
            (
                "fetch_rounds_max",
                self.fetch_rounds_max,
                FETCH_ROUNDS_LIMIT,
            ),
        ] {
            if v == 0 || v > max {
                return err(field, format!("must be between 1 and {max}, not {v}"));
            }
        }
        let total = u64::from(self.documents) * u64::from(self.words_per_document);
        if total > TOTAL_WORDS_MAX {
            return err(
                "words_per_document",
                format!(
                    "documents x words_per_document is {total}, more than {TOTAL_WORDS_MAX} words"
                ),
            );
        }
        if self.map_tasks > self.documents {
            return err(
                "map_tasks",
                format!(
                    "must not exceed params.documents ({}): every split holds a document",
                    self.documents
                ),
            );
        }
        for (field, v) in [
            ("heartbeat_ms", self.heartbeat_ms),
            ("map_ms", self.map_ms),
            ("reduce_ms", self.reduce_ms),
            ("fetch_retry_ms", self.fetch_retry_ms),
            ("complete_within_ms", self.complete_within_ms),
        ] {
            if v == 0 {
                return err(field, "must be at least 1".into());
            }
            // Keeps every timer and deadline far from overflowing nanoseconds.
            if v > 3_600_000 {
                return err(field, "must be at most 3600000 (an hour)".into());
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn defaults_are_valid_and_bounds_are_named() {
        assert_eq!(
            MapReduceParams::parse(&serde_json::Value::Null),
            Ok(MapReduceParams::default())
        );
        let bad = |v: serde_json::Value| MapReduceParams::parse(&v).unwrap_err();
        assert!(bad(json!({"documents": 0})).starts_with("params.documents:"));
        assert!(bad(json!({"vocabulary": 10_001})).starts_with("params.vocabulary:"));
        assert!(
            bad(json!({"documents": 4096, "words_per_document": 1000}))
                .starts_with("params.words_per_document:")
        );
        assert!(bad(json!({"documents": 4, "map_tasks": 5})).starts_with("params.map_tasks:"));
        assert!(bad(json!({"reduce_tasks": 65})).starts_with("params.reduce_tasks:"));
        assert!(bad(json!({"heartbeat_ms": 0})).starts_with("params.heartbeat_ms:"));
        assert!(bad(json!({"nope": 1})).starts_with("params"));
        assert!(bad(json!({"map_tasks": "x"})).starts_with("params.map_tasks:"));
    }
}
