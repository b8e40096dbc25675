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
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Kv {
    data: BTreeMap<Arc<str>, Arc<str>>,
    sessions: BTreeMap<NodeId, Session>,
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

    /// Puts `value` under `key` directly, bypassing the log: for tests that plant a diverged state
    /// machine.
    #[cfg(test)]
    pub fn plant(&mut self, key: &str, value: &str) {
        self.data.insert(key.into(), value.into());
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
            KvOp::Cas { key, from, to } => match self.data.get_mut(key) {
                Some(current) if current == from => {
                    *current = to.clone();
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
        match self.sessions.get_mut(&req.client) {
            Some(s) => *s = session,
            None => {
                self.sessions.insert(req.client, session);
            }
        }
        Some(result)
    }

    /// Writes `value` under `key`, reusing the map's node when the key exists (the common case).
    fn write(&mut self, key: &Arc<str>, value: &Arc<str>) {
        match self.data.get_mut(key) {
            Some(v) => *v = value.clone(),
            None => {
                self.data.insert(key.clone(), value.clone());
            }
        }
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
