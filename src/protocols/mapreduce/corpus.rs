//! The generated corpus every node and the checker agree on, how it is split into map tasks, and the
//! named hash that assigns a word to a reduce partition.
//!
//! Document `d` is drawn from the ChaCha8 stream `mapreduce/corpus/<d>` of `corpus_seed`, so every node
//! regenerates exactly the documents of its split, and the checker the whole corpus, without any text
//! on the wire. Words are skewed towards the front of the vocabulary (a word index is drawn below a
//! bound that is itself drawn), so a few words are frequent and many are rare, as in real text.

use crate::contract::Rng;
use std::ops::Range;

/// The most documents a corpus may have.
pub const DOCUMENTS_MAX: u32 = 4096;
/// The most words one document may have.
pub const WORDS_PER_DOCUMENT_MAX: u32 = 1000;
/// The most distinct words (it bounds every partition, message and output).
pub const VOCABULARY_MAX: u32 = 10_000;
/// The most words in the whole corpus (it bounds the checker's sequential count and each map task).
pub const TOTAL_WORDS_MAX: u64 = 200_000;

/// A generated corpus, fixed by its four numbers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Corpus {
    /// The seed of the documents' streams.
    pub seed: u64,
    /// How many documents.
    pub documents: u32,
    /// Words in each document.
    pub words_per_document: u32,
    /// Distinct words that may occur.
    pub vocabulary: u32,
}

impl Corpus {
    /// The text of word number `index`.
    pub fn word(index: u32) -> String {
        format!("w{index:05}")
    }

    /// The words of document `d`, in order.
    pub fn document(&self, d: u32) -> Vec<String> {
        debug_assert!(d < self.documents, "document {d} of {}", self.documents);
        let mut rng = Rng::stream(self.seed, &format!("mapreduce/corpus/{d}"));
        (0..self.words_per_document)
            .map(|_| {
                let bound = rng.below(u64::from(self.vocabulary));
                Corpus::word(rng.below(bound + 1) as u32)
            })
            .collect()
    }

    /// The documents of map task `map` out of `maps`: contiguous, sizes differing by at most one.
    pub fn split(&self, map: u32, maps: u32) -> Range<u32> {
        assert!(map < maps, "map task {map} of {maps}");
        let d = u64::from(self.documents);
        let (m, n) = (u64::from(map), u64::from(maps));
        (m * d / n) as u32..((m + 1) * d / n) as u32
    }
}

/// 64-bit FNV-1a (Fowler, Noll and Vo): a named, stable hash, unlike `DefaultHasher`.
pub fn fnv1a64(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// The reduce partition of `word` out of `reduces`: `FNV-1a(word) mod R`, the paper's
/// `hash(key) mod R`.
pub fn partition(word: &str, reduces: u32) -> u32 {
    assert!(reduces > 0, "at least one reduce partition");
    (fnv1a64(word.as_bytes()) % u64::from(reduces)) as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    const C: Corpus = Corpus {
        seed: 7,
        documents: 10,
        words_per_document: 30,
        vocabulary: 50,
    };

    #[test]
    fn fnv1a64_matches_the_published_test_vectors() {
        assert_eq!(fnv1a64(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a64(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a64(b"foobar"), 0x85944171f73967e8);
    }

    #[test]
    fn documents_are_fixed_by_the_seed_and_stay_in_the_vocabulary() {
        assert_eq!(C.document(3), C.document(3));
        assert_ne!(C.document(3), C.document(4));
        let other = Corpus { seed: 8, ..C };
        assert_ne!(C.document(3), other.document(3));
        for d in 0..C.documents {
            let doc = C.document(d);
            assert_eq!(doc.len(), 30);
            assert!(doc.iter().all(|w| w.as_str() < Corpus::word(50).as_str()));
        }
    }

    #[test]
    fn splits_cover_every_document_once() {
        for maps in 1..=C.documents {
            let mut next = 0;
            for m in 0..maps {
                let s = C.split(m, maps);
                assert_eq!(s.start, next);
                assert!(s.end - s.start >= C.documents / maps);
                next = s.end;
            }
            assert_eq!(next, C.documents);
        }
    }

    #[test]
    fn partitions_are_in_range_and_spread() {
        let mut used = [0u32; 4];
        for i in 0..100 {
            used[partition(&Corpus::word(i), 4) as usize] += 1;
        }
        assert!(used.iter().all(|n| *n > 10), "{used:?}");
    }
}
