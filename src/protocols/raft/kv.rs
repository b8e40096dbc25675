//! The replicated state machine: a key-value map of strings with put, get and compare-and-set, and
//! client sessions for exactly-once semantics (Raft paper §8).
//!
//! Every server applies the same committed entries in the same order, so every server's `Kv` goes
//! through the same states. A client retries a request under the same sequence number until it hears
//! back, so the same request may sit in the log several times. The session table remembers, per client,
//! the last sequence number applied and its result: a duplicate of the last request is not applied again
//! but answered with the remembered result, and an older request (one the client has already given up
//! on) is ignored. A client has at most one request outstanding, so one remembered reply per client is
//! enough.

use super::message::{KvOp, KvResult, Request};
use crate::contract::NodeId;
use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::Arc;

/// The last request applied for one client, and its result.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
struct Session {
    last_seq: u64,
    result: KvResult,
}

/// What the session table says about a request before it is proposed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SessionState {
    /// Not applied yet.
    New,
    /// Already applied, with this result.
    Applied(KvResult),
    /// Older than the client's last applied request: the client has moved on, ignore it.
    Stale,
}

/// The key-value state machine with its session table.
///
/// Keys and values are the `Arc<str>`s of the committed commands, shared with the log rather than
/// copied (every server applies every entry). It serialises (as a snapshot in an `InstallSnapshot`
/// message) as its map and its session table.
///
/// It keeps its own digest up to date as it changes ([`Kv::digest`]), so that `state_machine_safety`
/// can compare two servers' whole states after every applying event in constant time, whatever the
/// number of keys and clients.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Kv {
    data: BTreeMap<Arc<str>, Arc<str>>,
    sessions: BTreeMap<NodeId, Session>,
    /// The wrapping sums of [`entry_digest`] over `data` and of [`session_digest`] over `sessions`:
    /// a function of the contents, so not serialised.
    #[serde(skip)]
    sums: (u64, u64),
}

const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;
const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;

/// 64-bit FNV-1a over `key`, a separator byte, `value` and another separator (bytes no UTF-8 text
/// contains, so `("ab", "c")` and `("a", "bc")` differ).
pub fn entry_digest(key: &str, value: &str) -> u64 {
    let mut h = FNV_OFFSET;
    for b in key.bytes().chain([0xff]).chain(value.bytes()).chain([0xfe]) {
        h = (h ^ u64::from(b)).wrapping_mul(FNV_PRIME);
    }
    h
}

/// One session's digest: its client id and last applied sequence number, each xored in as a whole
/// word and multiplied by the FNV prime.
pub fn session_digest(client: NodeId, last_seq: u64) -> u64 {
    let h = (FNV_OFFSET ^ u64::from(client)).wrapping_mul(FNV_PRIME);
    (h ^ last_seq).wrapping_mul(FNV_PRIME)
}

/// The state digest from the two sums: the map's, then the sessions', a word at a time.
fn combine((map, sessions): (u64, u64)) -> u64 {
    let h = (FNV_OFFSET ^ map).wrapping_mul(FNV_PRIME);
    (h ^ sessions).wrapping_mul(FNV_PRIME)
}

impl Kv {
    /// An empty store.
    pub fn new() -> Kv {
        Kv::default()
    }

    /// The value under `key`, if any (a direct read: only linearizable through the log).
    pub fn get(&self, key: &str) -> Option<&Arc<str>> {
        self.data.get(key)
    }

    /// Every key and its value, in key order (what `state_machine_safety` digests).
    pub fn entries(&self) -> impl Iterator<Item = (&str, &str)> {
        self.data.iter().map(|(k, v)| (&**k, &**v))
    }

    /// Every client's last applied sequence number, in client order (what `state_machine_safety`
    /// digests beside the map).
    pub fn sessions(&self) -> impl Iterator<Item = (NodeId, u64)> {
        self.sessions.iter().map(|(c, s)| (*c, s.last_seq))
    }

    /// The digest of the whole state, map and sessions: the wrapping sum of [`entry_digest`] over
    /// the map's entries and that of [`session_digest`] over the sessions, combined. Sums do not
    /// depend on order, so each change updates them in constant time; debug builds check them
    /// against [`Kv::digest_recomputed`] on every call.
    pub fn digest(&self) -> u64 {
        debug_assert_eq!(
            combine(self.sums),
            self.digest_recomputed(),
            "the running digest follows the contents"
        );
        combine(self.sums)
    }

    /// [`Kv::digest`] computed from scratch, in time proportional to the state.
    pub fn digest_recomputed(&self) -> u64 {
        let map = self
            .entries()
            .fold(0u64, |sum, (k, v)| sum.wrapping_add(entry_digest(k, v)));
        let sessions = self.sessions().fold(0u64, |sum, (c, seq)| {
            sum.wrapping_add(session_digest(c, seq))
        });
        combine((map, sessions))
    }

    /// Puts `value` under `key` directly, bypassing the log: for tests that plant a diverged state
    /// machine.
    #[cfg(test)]
    pub fn plant(&mut self, key: &str, value: &str) {
        self.write(&Arc::from(key), &Arc::from(value));
    }

    /// Whether `req` was already applied.
    pub fn session(&self, client: NodeId, seq: u64) -> SessionState {
        match self.sessions.get(&client) {
            Some(s) if s.last_seq == seq => SessionState::Applied(s.result.clone()),
            Some(s) if s.last_seq > seq => SessionState::Stale,
            _ => SessionState::New,
        }
    }

    /// Applies a committed request. Returns the result to send the client, or `None` for a stale
    /// request the client no longer waits for. A duplicate of the last applied request returns the
    /// remembered result without applying it again.
    pub fn apply(&mut self, req: &Request) -> Option<KvResult> {
        match self.session(req.client, req.seq) {
            SessionState::Applied(result) => return Some(result),
            SessionState::Stale => return None,
            SessionState::New => {}
        }
        let result = match &req.op {
            KvOp::Get { key } => KvResult::Read {
                value: self.data.get(key).cloned(),
            },
            KvOp::Put { key, value } => {
                self.write(key, value);
                KvResult::Written
            }
            KvOp::Cas { key, from, to } => match self.data.get(key) {
                Some(current) if current == from => {
                    self.write(key, to);
                    KvResult::Swapped
                }
                current => KvResult::CasFailed {
                    current: current.cloned(),
                },
            },
        };
        let session = Session {
            last_seq: req.seq,
            result: result.clone(),
        };
        let added = session_digest(req.client, req.seq);
        let sums = &mut self.sums;
        match self.sessions.get_mut(&req.client) {
            Some(s) => {
                sums.1 = sums.1.wrapping_sub(session_digest(req.client, s.last_seq));
                *s = session;
            }
            None => {
                self.sessions.insert(req.client, session);
            }
        }
        sums.1 = sums.1.wrapping_add(added);
        Some(result)
    }

    /// Writes `value` under `key`, reusing the map's node when the key exists (the common case),
    /// and keeps the map's digest sum up to date.
    fn write(&mut self, key: &Arc<str>, value: &Arc<str>) {
        let added = entry_digest(key, value);
        match self.data.get_mut(key) {
            Some(v) => {
                self.sums.0 = self.sums.0.wrapping_sub(entry_digest(key, v));
                *v = value.clone();
            }
            None => {
                self.data.insert(key.clone(), value.clone());
            }
        }
        self.sums.0 = self.sums.0.wrapping_add(added);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(client: NodeId, seq: u64, op: KvOp) -> Request {
        Request { client, seq, op }
    }

    fn put(k: &str, v: &str) -> KvOp {
        KvOp::Put {
            key: k.into(),
            value: v.into(),
        }
    }

    #[test]
    fn put_get_cas() {
        let mut kv = Kv::new();
        let get = |k: &str| KvOp::Get { key: k.into() };
        assert_eq!(
            kv.apply(&req(9, 1, get("a"))),
            Some(KvResult::Read { value: None })
        );
        assert_eq!(kv.apply(&req(9, 2, put("a", "x"))), Some(KvResult::Written));
        let cas = |from: &str, to: &str| KvOp::Cas {
            key: "a".into(),
            from: from.into(),
            to: to.into(),
        };
        assert_eq!(
            kv.apply(&req(9, 3, cas("y", "z"))),
            Some(KvResult::CasFailed {
                current: Some("x".into())
            })
        );
        assert_eq!(kv.apply(&req(9, 4, cas("x", "z"))), Some(KvResult::Swapped));
        assert_eq!(kv.get("a").map(|v| &**v), Some("z"));
    }

    #[test]
    fn sessions_apply_a_retried_request_once() {
        let mut kv = Kv::new();
        assert_eq!(kv.apply(&req(5, 1, put("a", "1"))), Some(KvResult::Written));
        assert_eq!(kv.apply(&req(6, 1, put("a", "2"))), Some(KvResult::Written));
        // Client 5's retry of seq 1 is answered, not applied: "a" stays "2".
        assert_eq!(kv.apply(&req(5, 1, put("a", "1"))), Some(KvResult::Written));
        assert_eq!(kv.get("a").map(|v| &**v), Some("2"));
        assert_eq!(kv.session(5, 1), SessionState::Applied(KvResult::Written));
        assert_eq!(kv.apply(&req(5, 2, put("b", "1"))), Some(KvResult::Written));
        // An older request the client gave up on is ignored.
        assert_eq!(kv.session(5, 1), SessionState::Stale);
        assert_eq!(kv.apply(&req(5, 1, put("a", "1"))), None);
        assert_eq!(kv.get("a").map(|v| &**v), Some("2"));
    }
}
