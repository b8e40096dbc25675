//! The hash ring: every member owns `vnodes` points, each placed by SHA-256 (truncated to 64 bits)
//! of its name; a key belongs to the member of the first point at or after the key's own hash,
//! wrapping around (Karger et al., 1997). A member joining or leaving moves only the keys between
//! its points and their predecessors.

use crate::contract::NodeId;
use sha2::{Digest, Sha256};

/// The first 8 bytes of SHA-256 of `text`, big-endian: a position on the ring.
pub fn ring_hash(text: &str) -> u64 {
    let digest = Sha256::digest(text.as_bytes());
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    u64::from_be_bytes(first)
}

/// The name of key number `index` (what clients ask for and the ring places).
pub fn key_name(index: u32) -> String {
    format!("key-{index}")
}

/// A ring over some members.
#[derive(Clone, Debug)]
pub struct Ring {
    /// `(position, member)`, sorted by position then member.
    points: Vec<(u64, NodeId)>,
}

impl Ring {
    /// The ring of `members`, each with `vnodes` points.
    pub fn new(members: &[NodeId], vnodes: u32) -> Ring {
        let mut points: Vec<(u64, NodeId)> = members
            .iter()
            .flat_map(|m| (0..vnodes).map(move |v| (ring_hash(&format!("node-{m}#{v}")), *m)))
            .collect();
        points.sort_unstable();
        Ring { points }
    }

    /// The member that owns the key at `hash`, or `None` on an empty ring.
    pub fn owner(&self, hash: u64) -> Option<NodeId> {
        let i = self.points.partition_point(|(p, _)| *p < hash);
        self.points
            .get(i)
            .or_else(|| self.points.first())
            .map(|(_, m)| *m)
    }
}

/// The planted bug: `hash mod N` over the sorted members instead of the ring.
pub fn modulo_owner(members: &[NodeId], hash: u64) -> Option<NodeId> {
    if members.is_empty() {
        return None;
    }
    members.get((hash % members.len() as u64) as usize).copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn owners(members: &[NodeId], keys: u32) -> Vec<NodeId> {
        let ring = Ring::new(members, 100);
        (0..keys)
            .map(|k| ring.owner(ring_hash(&key_name(k))).expect("members"))
            .collect()
    }

    #[test]
    fn a_join_moves_only_keys_to_the_joiner_about_one_in_n() {
        let before = owners(&[0, 1, 2, 3], 2000);
        let after = owners(&[0, 1, 2, 3, 4], 2000);
        let moved: Vec<usize> = (0..2000).filter(|k| before[*k] != after[*k]).collect();
        assert!(moved.iter().all(|k| after[*k] == 4));
        // About a fifth: well within 10% and 30%.
        assert!((200..600).contains(&moved.len()), "{}", moved.len());
    }

    #[test]
    fn modulo_moves_most_keys() {
        let members_before = [0, 1, 2, 3];
        let members_after = [0, 1, 2, 3, 4];
        let moved = (0..2000)
            .filter(|k| {
                let h = ring_hash(&key_name(*k));
                modulo_owner(&members_before, h) != modulo_owner(&members_after, h)
            })
            .count();
        assert!(moved > 1200, "{moved}");
    }

    #[test]
    fn the_hash_is_sha256_truncated() {
        // SHA-256("abc") begins ba7816bf8f01cfea.
        assert_eq!(ring_hash("abc"), 0xba78_16bf_8f01_cfea);
        assert_eq!(Ring::new(&[], 10).owner(5), None);
    }
}
