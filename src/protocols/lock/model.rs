//! The lock with fencing tokens and its storage, as one sequential object for the linearizability
//! checker.
//!
//! A lease can expire without a release, so a time-free model cannot say "only one holder"; what it
//! can say is what fencing promises. Its state is the highest token granted, the highest token storage
//! accepted, and whether the latest token was released:
//! - `acquire` ok with token `t`: tokens strictly increase (`t > granted`);
//! - `write [t v]` ok: `t` was granted, is not older than any accepted write (`t >= seen`), and is not
//!   the latest token after its release;
//! - `write [t v]` failed (rejected as stale): some accepted write had a newer token (`t < seen`);
//! - `release t`: `t` was granted.
//!
//! Operations of unknown outcome are accepted whenever they could have taken effect. Failed acquires
//! constrain nothing and are dropped.

use super::client::{ACQUIRE, RELEASE};
use crate::contract::{Completion, Func, HistoryEvent, Model, Step, Value};

/// The model's state.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct LockState {
    /// The highest token granted so far.
    pub granted: i64,
    /// The highest token storage accepted a write under.
    pub seen: i64,
    /// Whether the token `granted` has been released.
    pub released: bool,
}

/// One operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LockOp {
    /// An acquisition that returned this token.
    Acquire(i64),
    /// A write under this token that storage accepted.
    Write(i64),
    /// A write under this token that storage rejected as stale.
    Rejected(i64),
    /// A write under this token whose outcome is unknown.
    WriteMaybe(i64),
    /// A release of this token.
    Release(i64),
}

/// The fenced lock's sequential specification.
#[derive(Clone, Copy, Debug, Default)]
pub struct LockModel;

fn int(value: &Value, what: &str) -> Result<i64, String> {
    match value {
        Value::Int(n) => Ok(*n),
        other => Err(format!("{what} must be an integer token, not {other}")),
    }
}

fn write_token(value: &Value) -> Result<i64, String> {
    match value {
        Value::List(items) if items.len() == 2 => int(&items[0], "a write's first element"),
        other => Err(format!("a write takes `[token value]`, not `{other}`")),
    }
}

impl Model for LockModel {
    type State = LockState;
    type Op = LockOp;

    fn name(&self) -> &'static str {
        "fenced-lock"
    }

    fn init(&self) -> LockState {
        LockState::default()
    }

    fn op(
        &self,
        invoke: &HistoryEvent,
        completion: Completion<'_>,
    ) -> Result<Option<LockOp>, String> {
        let f = &invoke.f;
        Ok(if *f == ACQUIRE {
            match completion {
                Completion::Ok(done) => {
                    Some(LockOp::Acquire(int(&done.value, "acquire's result")?))
                }
                // A failed acquisition took no effect; one of unknown outcome returned no token
                // anybody used.
                Completion::Fail(_) | Completion::Unknown(_) => None,
            }
        } else if *f == Func::WRITE {
            let token = write_token(&invoke.value)?;
            match completion {
                Completion::Ok(_) => Some(LockOp::Write(token)),
                Completion::Fail(_) => Some(LockOp::Rejected(token)),
                Completion::Unknown(_) => Some(LockOp::WriteMaybe(token)),
            }
        } else if *f == RELEASE {
            Some(LockOp::Release(int(&invoke.value, "release's argument")?))
        } else {
            return Err(format!(
                "the fenced-lock model takes acquire, write and release, not {f}"
            ));
        })
    }

    fn step(&self, s: &LockState, op: &LockOp) -> Step<LockState> {
        match *op {
            LockOp::Acquire(t) if t > s.granted => Step::Changed(LockState {
                granted: t,
                released: false,
                ..*s
            }),
            LockOp::Acquire(_) => Step::Illegal,
            LockOp::Write(t) => {
                let stale_release = t == s.granted && s.released;
                if t > s.granted || t < s.seen || stale_release {
                    Step::Illegal
                } else if t == s.seen {
                    Step::Unchanged
                } else {
                    Step::Changed(LockState { seen: t, ..*s })
                }
            }
            LockOp::Rejected(t) if t < s.seen => Step::Unchanged,
            LockOp::Rejected(_) => Step::Illegal,
            LockOp::WriteMaybe(t) if t <= s.granted && t > s.seen => {
                Step::Changed(LockState { seen: t, ..*s })
            }
            LockOp::WriteMaybe(_) => Step::Unchanged,
            LockOp::Release(t) if t > s.granted => Step::Illegal,
            LockOp::Release(t) if t == s.granted && !s.released => Step::Changed(LockState {
                released: true,
                ..*s
            }),
            LockOp::Release(_) => Step::Unchanged,
        }
    }

    fn read_only(&self, op: &LockOp) -> bool {
        matches!(op, LockOp::Rejected(_))
    }

    fn describe_state(&self, s: &LockState) -> String {
        format!(
            "granted up to {}{}, storage at {}",
            s.granted,
            if s.released { " (released)" } else { "" },
            s.seen
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_must_increase_and_stale_writes_must_be_rejected() {
        let m = LockModel;
        let s = m.init();
        let Step::Changed(s1) = m.step(&s, &LockOp::Acquire(1)) else {
            panic!("first acquire");
        };
        assert_eq!(m.step(&s1, &LockOp::Acquire(1)), Step::Illegal);
        let Step::Changed(s2) = m.step(&s1, &LockOp::Write(1)) else {
            panic!("write under the granted token");
        };
        assert_eq!(
            m.step(&s2, &LockOp::Write(2)),
            Step::Illegal,
            "never granted"
        );
        let Step::Changed(s3) = m.step(&s2, &LockOp::Acquire(2)) else {
            panic!("second acquire");
        };
        let Step::Changed(s4) = m.step(&s3, &LockOp::Write(2)) else {
            panic!("the new holder writes");
        };
        assert_eq!(m.step(&s4, &LockOp::Write(1)), Step::Illegal, "stale write");
        assert_eq!(m.step(&s4, &LockOp::Rejected(1)), Step::Unchanged);
        assert_eq!(m.step(&s4, &LockOp::Rejected(2)), Step::Illegal);
        let Step::Changed(s5) = m.step(&s4, &LockOp::Release(2)) else {
            panic!("release");
        };
        assert_eq!(
            m.step(&s5, &LockOp::Write(2)),
            Step::Illegal,
            "after release"
        );
        assert_eq!(m.step(&s5, &LockOp::WriteMaybe(2)), Step::Unchanged);
    }
}
