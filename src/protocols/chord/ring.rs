//! The identifier circle: `m`-bit ids, arithmetic modulo `2^m`, the intervals Chord routes by, and
//! node ids from a named hash (SHA-1 as in the paper, or SHA-256), both truncated to their top `m`
//! bits.

use crate::contract::NodeId;
use serde::{Deserialize, Serialize};
use sha1::Sha1;
use sha2::{Digest, Sha256};

/// The most bits an id may have (ids are `u64`).
pub const ID_BITS_MAX: u32 = 64;
/// The fewest bits an id may have.
pub const ID_BITS_MIN: u32 = 3;

/// The hash that places nodes on the circle.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IdHash {
    /// SHA-1, as in the paper.
    #[default]
    Sha1,
    /// SHA-256.
    Sha256,
}

/// The identifier circle of `2^bits` points.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IdSpace {
    bits: u32,
}

impl IdSpace {
    /// The circle of `2^bits` ids; `bits` must be in `ID_BITS_MIN..=ID_BITS_MAX`.
    pub fn new(bits: u32) -> IdSpace {
        assert!(
            (ID_BITS_MIN..=ID_BITS_MAX).contains(&bits),
            "id_bits {bits} out of range"
        );
        IdSpace { bits }
    }

    /// How many bits an id has (and how many fingers a node keeps).
    pub fn bits(self) -> u32 {
        self.bits
    }

    /// The largest id.
    pub fn mask(self) -> u64 {
        if self.bits == 64 {
            u64::MAX
        } else {
            (1u64 << self.bits) - 1
        }
    }

    /// The clockwise distance from `a` to `b` (0 when equal).
    pub fn distance(self, a: u64, b: u64) -> u64 {
        b.wrapping_sub(a) & self.mask()
    }

    /// `x` in the open interval `(a, b)` going clockwise; `(a, a)` is every id but `a`.
    pub fn in_open(self, x: u64, a: u64, b: u64) -> bool {
        let dx = self.distance(a, x);
        if a == b {
            return dx != 0;
        }
        dx != 0 && dx < self.distance(a, b)
    }

    /// `x` in the half-open interval `(a, b]` going clockwise; `(a, a]` is the whole circle.
    pub fn in_half_open(self, x: u64, a: u64, b: u64) -> bool {
        if a == b {
            return true;
        }
        let dx = self.distance(a, x);
        dx != 0 && dx <= self.distance(a, b)
    }

    /// The start of finger `i` of the node at `n`: `n + 2^i` modulo `2^bits`.
    pub fn finger_start(self, n: u64, i: u32) -> u64 {
        debug_assert!(i < self.bits);
        n.wrapping_add(1u64 << i) & self.mask()
    }

    /// The id after `n`.
    pub fn next(self, n: u64) -> u64 {
        n.wrapping_add(1) & self.mask()
    }

    /// The top `bits` bits of `hash` of `text`.
    pub fn hash(self, hash: IdHash, text: &str) -> u64 {
        let mut first = [0u8; 8];
        match hash {
            IdHash::Sha1 => first.copy_from_slice(&Sha1::digest(text.as_bytes())[..8]),
            IdHash::Sha256 => first.copy_from_slice(&Sha256::digest(text.as_bytes())[..8]),
        }
        let top = u64::from_be_bytes(first);
        if self.bits == 64 {
            top
        } else {
            top >> (64 - self.bits)
        }
    }

    /// The id of server `node`: the hash of its name `node-<id>` (its "address").
    pub fn node_id(self, hash: IdHash, node: NodeId) -> u64 {
        self.hash(hash, &format!("node-{node}"))
    }
}

/// The ring ids of servers `0..servers`, or the first two servers that collide.
pub fn node_ids(space: IdSpace, hash: IdHash, servers: u32) -> Result<Vec<u64>, (NodeId, NodeId)> {
    let ids: Vec<u64> = (0..servers).map(|n| space.node_id(hash, n)).collect();
    let mut sorted: Vec<(u64, NodeId)> = ids.iter().copied().zip(0..).collect();
    sorted.sort_unstable();
    for pair in sorted.windows(2) {
        if pair[0].0 == pair[1].0 {
            return Err((pair[0].1, pair[1].1));
        }
    }
    Ok(ids)
}

/// The true successor of `key` among the `(id, node)` pairs `members`, sorted by id: the first at or
/// after `key`, wrapping around; `None` when there are none.
pub fn successor_of(members: &[(u64, NodeId)], key: u64) -> Option<NodeId> {
    let i = members.partition_point(|(id, _)| *id < key);
    members.get(i).or_else(|| members.first()).map(|(_, n)| *n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intervals_wrap_around_the_circle() {
        let s = IdSpace::new(4); // ids 0..16
        assert_eq!(s.mask(), 15);
        assert_eq!(s.distance(14, 2), 4);
        assert!(s.in_open(0, 14, 2) && s.in_open(15, 14, 2) && s.in_open(1, 14, 2));
        assert!(!s.in_open(14, 14, 2) && !s.in_open(2, 14, 2) && !s.in_open(5, 14, 2));
        assert!(s.in_half_open(2, 14, 2) && !s.in_half_open(14, 14, 2));
        assert!(s.in_open(3, 5, 5) && !s.in_open(5, 5, 5));
        assert!(s.in_half_open(5, 5, 5) && s.in_half_open(9, 5, 5));
        assert_eq!(s.finger_start(12, 3), 4);
        assert_eq!(s.next(15), 0);
    }

    #[test]
    fn sixty_four_bit_ids_use_the_whole_word() {
        let s = IdSpace::new(64);
        assert_eq!(s.mask(), u64::MAX);
        assert_eq!(s.distance(u64::MAX, 1), 2);
        assert!(s.in_open(0, u64::MAX, 1));
        assert_eq!(s.finger_start(u64::MAX, 63), (1u64 << 63) - 1);
        assert_eq!(s.next(u64::MAX), 0);
    }

    #[test]
    fn hashes_are_named_and_truncated_to_the_top_bits() {
        let wide = IdSpace::new(64);
        let narrow = IdSpace::new(16);
        for hash in [IdHash::Sha1, IdHash::Sha256] {
            let full = wide.node_id(hash, 3);
            assert_eq!(narrow.node_id(hash, 3), full >> 48);
        }
        // SHA-1("abc") starts a9993e36 4706816a; SHA-256("abc") starts ba7816bf 8f01cfea.
        assert_eq!(wide.hash(IdHash::Sha1, "abc"), 0xa999_3e36_4706_816a);
        assert_eq!(wide.hash(IdHash::Sha256, "abc"), 0xba78_16bf_8f01_cfea);
    }

    #[test]
    fn collisions_are_found_and_successors_wrap() {
        let tiny = IdSpace::new(3);
        assert!(node_ids(tiny, IdHash::Sha1, 9).is_err(), "9 nodes on 8 ids");
        let members = [(2, 7), (9, 4), (12, 1)];
        assert_eq!(successor_of(&members, 9), Some(4));
        assert_eq!(successor_of(&members, 10), Some(1));
        assert_eq!(successor_of(&members, 13), Some(7));
        assert_eq!(successor_of(&members, 0), Some(7));
        assert_eq!(successor_of(&[], 0), None);
    }
}
