//! Multi-Paxos's replicated state machine: a key-value map with put, get and compare-and-set, and a
//! session per client so that a request retried into several slots takes effect once.
//!
//! Every server applies the chosen slots in slot order, so every server's store goes through the
//! same states. A client has at most one request outstanding and retries it under the same sequence
//! number: the session keeps the last sequence number applied and its result, answers a duplicate
//! with that result, and ignores an older request (one the client gave up on).

use super::message::{KvOp, KvResult, Request};
use crate::contract::NodeId;
use std::collections::BTreeMap;
use std::sync::Arc;

/// The store and its sessions.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Store {
    data: BTreeMap<Arc<str>, Arc<str>>,
    /// Per client: last sequence number applied and its result.
    sessions: BTreeMap<NodeId, (u64, KvResult)>,
}

impl Store {
    /// The result of request `seq` of `client` if it was already applied.
    pub fn applied_result(&self, client: NodeId, seq: u64) -> Option<&KvResult> {
        match self.sessions.get(&client) {
            Some((last, result)) if *last == seq => Some(result),
            _ => None,
        }
    }

    /// Applies a chosen request: its result, or `None` for a request older than the client's last
    /// applied one. A duplicate of the last one is answered without applying it again.
    pub fn apply(&mut self, req: &Request) -> Option<KvResult> {
        match self.sessions.get(&req.client) {
            Some((last, result)) if *last == req.seq => return Some(result.clone()),
            Some((last, _)) if *last > req.seq => return None,
            _ => {}
        }
        let result = match &req.op {
            KvOp::Get { key } => KvResult::Read {
                value: self.data.get(key).cloned(),
            },
            KvOp::Put { key, value } => {
                self.data.insert(key.clone(), value.clone());
                KvResult::Written
            }
            KvOp::Cas { key, from, to } => match self.data.get(key) {
                Some(current) if current == from => {
                    self.data.insert(key.clone(), to.clone());
                    KvResult::Swapped
                }
                current => KvResult::CasFailed {
                    current: current.cloned(),
                },
            },
        };
        self.sessions.insert(req.client, (req.seq, result.clone()));
        Some(result)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn put(client: NodeId, seq: u64, k: &str, v: &str) -> Request {
        Request {
            client,
            seq,
            op: KvOp::Put {
                key: k.into(),
                value: v.into(),
            },
        }
    }

    #[test]
    fn a_retried_request_applies_once_and_an_old_one_not_at_all() {
        let mut s = Store::default();
        assert_eq!(s.apply(&put(5, 1, "a", "x")), Some(KvResult::Written));
        assert_eq!(s.apply(&put(6, 1, "a", "y")), Some(KvResult::Written));
        assert_eq!(s.apply(&put(5, 1, "a", "x")), Some(KvResult::Written));
        let get = Request {
            client: 7,
            seq: 1,
            op: KvOp::Get { key: "a".into() },
        };
        assert_eq!(
            s.apply(&get),
            Some(KvResult::Read {
                value: Some("y".into())
            })
        );
        assert_eq!(s.apply(&put(5, 2, "b", "z")), Some(KvResult::Written));
        assert_eq!(s.apply(&put(5, 1, "a", "x")), None);
        assert_eq!(s.applied_result(5, 2), Some(&KvResult::Written));
        assert_eq!(s.applied_result(5, 1), None);
    }

    #[test]
    fn cas_swaps_only_on_a_match() {
        let mut s = Store::default();
        s.apply(&put(5, 1, "a", "x"));
        let cas = |seq, from: &str| Request {
            client: 6,
            seq,
            op: KvOp::Cas {
                key: "a".into(),
                from: from.into(),
                to: "z".into(),
            },
        };
        assert_eq!(
            s.apply(&cas(1, "q")),
            Some(KvResult::CasFailed {
                current: Some("x".into())
            })
        );
        assert_eq!(s.apply(&cas(2, "x")), Some(KvResult::Swapped));
    }
}
