//! Request digests: MD5 by default (as the paper's implementation), SHA-256 on request.

use super::message::{Digest, Request, Seq, Snapshot};
use md5::Md5;
use serde::Deserialize;
use sha2::{Digest as _, Sha256};

/// Which hash makes request digests.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DigestKind {
    /// MD5 (the `md-5` crate).
    #[default]
    Md5,
    /// SHA-256 (the `sha2` crate).
    Sha256,
}

/// The digest of `request` (`None`: the null request), over its canonical JSON bytes.
pub fn digest(kind: DigestKind, request: Option<&Request>) -> Digest {
    // Serialising a plain struct of strings and integers cannot fail.
    let bytes = serde_json::to_vec(&request).expect("a request serialises");
    hash(kind, &bytes)
}

/// The digest of the service state after executing `seq` (a checkpoint's digest), over the
/// canonical JSON bytes of the pair.
pub fn state_digest(kind: DigestKind, seq: Seq, state: &Snapshot) -> Digest {
    // Maps with string and integer keys, strings and values: serialising cannot fail.
    let bytes = serde_json::to_vec(&(seq, state)).expect("a snapshot serialises");
    hash(kind, &bytes)
}

fn hash(kind: DigestKind, bytes: &[u8]) -> Digest {
    match kind {
        DigestKind::Md5 => hex(&Md5::digest(bytes)),
        DigestKind::Sha256 => hex(&Sha256::digest(bytes)),
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::super::message::Op;
    use super::*;

    #[test]
    fn digests_differ_by_request_and_kind() {
        let r = |v: &str| Request {
            client: 4,
            timestamp: 1,
            op: Op::Put {
                key: "k".into(),
                value: v.into(),
            },
        };
        let a = digest(DigestKind::Md5, Some(&r("a")));
        assert_eq!(a.len(), 32);
        assert_ne!(a, digest(DigestKind::Md5, Some(&r("b"))));
        assert_ne!(a, digest(DigestKind::Md5, None));
        assert_eq!(digest(DigestKind::Sha256, Some(&r("a"))).len(), 64);
        let mut state = Snapshot::default();
        let empty = state_digest(DigestKind::Md5, 10, &state);
        assert_ne!(empty, state_digest(DigestKind::Md5, 20, &state));
        state.store.insert("k".into(), "v".into());
        assert_ne!(empty, state_digest(DigestKind::Md5, 10, &state));
    }
}
