//! Blocks and their proof of work: a header, its SHA-256 hash, and the check every node runs.
//!
//! A header is encoded in a fixed byte layout (parent, height, miner, timestamp, nonce, payload
//! digest; integers little-endian) and hashed once with SHA-256. The proof is that the hash starts
//! with at least `difficulty_bits` zero bits. The genesis block is the same for every node and
//! carries no proof.

use serde::{Serialize, Serializer};
use sha2::{Digest, Sha256};
use std::fmt;

/// A SHA-256 digest: a block's hash, a parent link, a payload digest.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct BlockHash(pub [u8; 32]);

impl BlockHash {
    /// SHA-256 of `bytes`.
    pub fn of(bytes: &[u8]) -> BlockHash {
        BlockHash(Sha256::digest(bytes).into())
    }

    /// How many zero bits the digest starts with (256 for all zeros).
    pub fn leading_zero_bits(&self) -> u32 {
        let mut bits = 0;
        for byte in self.0 {
            if byte == 0 {
                bits += 8;
            } else {
                return bits + byte.leading_zeros();
            }
        }
        bits
    }

    /// The first 8 hex digits, for reports.
    pub fn short(&self) -> String {
        self.to_string()[..8].to_string()
    }
}

impl fmt::Display for BlockHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for byte in self.0 {
            write!(f, "{byte:02x}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for BlockHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{self}")
    }
}

impl Serialize for BlockHash {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// What a block commits to. Its hash covers every field.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Header {
    /// The parent block's hash.
    pub parent: BlockHash,
    /// Height: the parent's height plus one (genesis is 0).
    pub height: u64,
    /// The miner's node id.
    pub miner: u32,
    /// The miner's local clock when it found the block, in ms (informative: not checked, since
    /// clocks may be skewed).
    pub timestamp_ms: u64,
    /// The nonce the miner searched for.
    pub nonce: u64,
    /// SHA-256 of the block's payload.
    pub payload_digest: BlockHash,
}

impl Header {
    /// The header's fixed encoding: 32 + 8 + 4 + 8 + 8 + 32 bytes.
    pub fn encode(&self) -> [u8; 92] {
        let mut out = [0u8; 92];
        out[..32].copy_from_slice(&self.parent.0);
        out[32..40].copy_from_slice(&self.height.to_le_bytes());
        out[40..44].copy_from_slice(&self.miner.to_le_bytes());
        out[44..52].copy_from_slice(&self.timestamp_ms.to_le_bytes());
        out[52..60].copy_from_slice(&self.nonce.to_le_bytes());
        out[60..].copy_from_slice(&self.payload_digest.0);
        out
    }

    /// SHA-256 of the encoding.
    pub fn hash(&self) -> BlockHash {
        BlockHash::of(&self.encode())
    }
}

/// A block: its header, its payload, and the hash the sender claims for it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Block {
    /// The claimed hash (a receiver recomputes it).
    pub hash: BlockHash,
    /// The header.
    pub header: Header,
    /// The payload (a coinbase line; no transactions are modelled).
    pub payload: String,
}

/// Why a block's proof does not hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ProofError {
    /// The claimed hash is not the header's hash.
    HashMismatch,
    /// The header's hash has fewer leading zero bits than the difficulty.
    InsufficientWork,
    /// The payload's digest is not the header's.
    PayloadMismatch,
}

impl ProofError {
    /// One word for notes and reports.
    pub fn as_str(self) -> &'static str {
        match self {
            ProofError::HashMismatch => "hash_mismatch",
            ProofError::InsufficientWork => "insufficient_work",
            ProofError::PayloadMismatch => "payload_mismatch",
        }
    }
}

/// The most bytes a payload may have (a receiver refuses a longer one unread).
pub const PAYLOAD_BYTES_MAX: usize = 256;

impl Block {
    /// The genesis block: height 0, no parent, no proof; the same for every node.
    pub fn genesis() -> Block {
        let payload = "distsim proof-of-work genesis".to_string();
        let header = Header {
            parent: BlockHash::default(),
            height: 0,
            miner: u32::MAX,
            timestamp_ms: 0,
            nonce: 0,
            payload_digest: BlockHash::of(payload.as_bytes()),
        };
        Block {
            hash: header.hash(),
            header,
            payload,
        }
    }

    /// Checks the block's proof of work: the claimed hash is the header's, it has at least
    /// `difficulty_bits` leading zero bits, and the payload matches its digest. Linkage (a known
    /// parent, height = parent's + 1) is the chain's business.
    pub fn check_proof(&self, difficulty_bits: u32) -> Result<(), ProofError> {
        if self.payload.len() > PAYLOAD_BYTES_MAX
            || BlockHash::of(self.payload.as_bytes()) != self.header.payload_digest
        {
            return Err(ProofError::PayloadMismatch);
        }
        let hash = self.header.hash();
        if hash != self.hash {
            return Err(ProofError::HashMismatch);
        }
        if hash.leading_zero_bits() < difficulty_bits {
            return Err(ProofError::InsufficientWork);
        }
        Ok(())
    }
}

/// Searches nonces `start, start + 1, ...` (wrapping) for a header whose hash has at least
/// `difficulty_bits` leading zero bits, trying at most `steps_max` of them; `None` when the
/// budget runs out. Each try is one SHA-256 of 92 bytes, so the budget bounds the work in steps
/// and in bytes hashed alike.
pub fn search_nonce(
    mut header: Header,
    payload: String,
    difficulty_bits: u32,
    start: u64,
    steps_max: u64,
) -> Option<Block> {
    header.nonce = start;
    for _ in 0..steps_max {
        let hash = header.hash();
        if hash.leading_zero_bits() >= difficulty_bits {
            return Some(Block {
                hash,
                header,
                payload,
            });
        }
        header.nonce = header.nonce.wrapping_add(1);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn template() -> (Header, String) {
        let payload = "coinbase 1".to_string();
        let header = Header {
            parent: Block::genesis().hash,
            height: 1,
            miner: 1,
            timestamp_ms: 5,
            nonce: 0,
            payload_digest: BlockHash::of(payload.as_bytes()),
        };
        (header, payload)
    }

    #[test]
    fn a_mined_block_carries_a_real_proof_and_tampering_breaks_it() {
        let (header, payload) = template();
        let block = search_nonce(header, payload, 10, 7, 1 << 20).expect("found");
        assert!(block.hash.leading_zero_bits() >= 10);
        assert_eq!(block.hash, block.header.hash());
        assert_eq!(block.check_proof(10), Ok(()));
        let mut other = block.clone();
        other.header.height = 5;
        assert_eq!(other.check_proof(10), Err(ProofError::HashMismatch));
        other.hash = other.header.hash();
        // The rehashed header almost surely lacks the work; the chance it has it is 2^-10.
        if other.hash.leading_zero_bits() < 10 {
            assert_eq!(other.check_proof(10), Err(ProofError::InsufficientWork));
        }
        let mut paid = block.clone();
        paid.payload.push('!');
        assert_eq!(paid.check_proof(10), Err(ProofError::PayloadMismatch));
    }

    #[test]
    fn the_search_gives_up_within_its_budget() {
        let (header, payload) = template();
        assert!(search_nonce(header, payload, 200, 0, 1000).is_none());
    }

    #[test]
    fn hashes_are_sha256_in_hex() {
        let h = BlockHash::of(b"abc");
        assert_eq!(
            h.to_string(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(h.short(), "ba7816bf");
        assert_eq!(BlockHash([0; 32]).leading_zero_bits(), 256);
        let mut x = [0xffu8; 32];
        x[0] = 0;
        x[1] = 0x1f;
        assert_eq!(BlockHash(x).leading_zero_bits(), 11);
    }
}
