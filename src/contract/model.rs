//! Sequential models: what a single, atomic object would have answered.
//!
//! A [`Model`] turns each operation of a history into its own compact form ([`Model::op`]) and says
//! whether that operation could have happened, with the answer it got, in a given state
//! ([`Model::step`]). Two models come with the checker: [`RegisterModel`] (read / write / compare-and-set
//! on one register, nil at first) and [`KvModel`] (get / put / append / compare-and-set on string keys).
//! Both describe one key: histories with keys are split by key before the search (P-compositionality),
//! so each key is checked from a fresh initial state.

use crate::contract::history::{EventKind, HistoryEvent, Value};
use std::fmt::Debug;
use std::hash::Hash;

/// How an operation ended, as the model sees it.
#[derive(Clone, Copy, Debug)]
pub enum Completion<'a> {
    /// It took effect and returned this event's value.
    Ok(&'a HistoryEvent),
    /// It definitely did not take effect; for a compare-and-set, the compare failed.
    Fail(&'a HistoryEvent),
    /// Nobody knows: it ended in `Info` (the event is given) or never ended (`None`). The operation may
    /// take effect at any point after its invoke, or never, and its answer is unknown.
    Unknown(Option<&'a HistoryEvent>),
}

impl Completion<'_> {
    /// The completion event, if there is one.
    pub fn event(&self) -> Option<&HistoryEvent> {
        match *self {
            Completion::Ok(e) | Completion::Fail(e) | Completion::Unknown(Some(e)) => Some(e),
            Completion::Unknown(None) => None,
        }
    }

    /// The event kind the completion stands for (`Info` for an operation that never ended).
    pub fn kind(&self) -> EventKind {
        match self {
            Completion::Ok(_) => EventKind::Ok,
            Completion::Fail(_) => EventKind::Fail,
            Completion::Unknown(_) => EventKind::Info,
        }
    }
}

/// The result of applying one operation to a state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step<S> {
    /// The operation could not have returned what it did in this state.
    Illegal,
    /// It could, and the state stays as it was (a read; a failed compare-and-set; a write of the value
    /// already there). Saves a clone.
    Unchanged,
    /// It could, and this is the new state.
    Changed(S),
}

/// Storing `v` over `state`: no change if it is already there (so the memo sees one state, not two).
fn assign(state: &Value, v: &Value) -> Step<Value> {
    if v == state {
        Step::Unchanged
    } else {
        Step::Changed(v.clone())
    }
}

/// A sequential specification the history is checked against.
///
/// Implement it to check your own objects. Rules the search relies on:
///
/// - `step` is a pure function of `(state, op)`;
/// - an operation whose completion is [`Completion::Unknown`] must be translated so that `step` accepts
///   it whenever it could have taken effect: its answer is unknown, so it must match any answer. The
///   search never requires such an operation to be placed (it may never have happened);
/// - when [`Model::independent_keys`] is true, the model describes one key only: the checker splits the
///   history by [`HistoryEvent::key`] and runs the model on each key's operations from [`Model::init`].
pub trait Model: Sync {
    /// The object's state. Keep it small: the search stores one per explored configuration.
    type State: Clone + Eq + Hash + Debug + Send;
    /// One operation, with its arguments and (known) answer. Equal operations must behave the same in
    /// `step` (the search treats equal operations of unknown outcome as interchangeable).
    type Op: Debug + PartialEq + Send + Sync;

    /// A short name for reports (`"register"`).
    fn name(&self) -> &'static str;

    /// The initial state.
    fn init(&self) -> Self::State;

    /// Translates one operation: its invoke event and how it ended. `Ok(None)` drops it (it constrains
    /// nothing, such as a read that timed out); `Err` says why the events make no sense for this model.
    fn op(
        &self,
        invoke: &HistoryEvent,
        completion: Completion<'_>,
    ) -> Result<Option<Self::Op>, String>;

    /// Applies `op` in `state`.
    fn step(&self, state: &Self::State, op: &Self::Op) -> Step<Self::State>;

    /// Whether `op` never changes any state: `step` gives [`Step::Unchanged`] or [`Step::Illegal`] in
    /// every state (a read; a compare-and-set known to have failed). The search places such an operation
    /// as soon as it fits, without trying alternatives, which is sound only under this promise: a write
    /// that happens to leave *this* state as it was is not read-only. The default, `false`, is always
    /// safe.
    fn read_only(&self, op: &Self::Op) -> bool {
        let _ = op;
        false
    }

    /// Whether `op` is a *blind write*: `step` accepts it in every state and the state after it does not
    /// depend on the state before (a write or a put). The search then never places such an operation of
    /// unknown outcome unless the next operation placed observes the state it leaves, and never where it
    /// leaves the state as it was: any other placement can be deleted from a linearization without
    /// changing what anyone saw. The default, `false`, is always safe.
    fn blind_write(&self, op: &Self::Op) -> bool {
        let _ = op;
        false
    }

    /// The one state in which `step` accepts `op`, if there is exactly one (a read that returned `v`:
    /// `v`; a compare-and-set from `v`: `v`). The search uses it to look only at the blind writes of
    /// unknown outcome that could leave that state; it must be exact when it is `Some`. The default,
    /// `None` ("no single state"), is always safe.
    fn only_state(&self, op: &Self::Op) -> Option<Self::State> {
        let _ = op;
        None
    }

    /// The bytes `state` holds on the heap, beyond `size_of::<State>()`: the search counts them against
    /// its memory budget ([`crate::check::linearizability::CheckOptions::budget_bytes_max`]). An estimate from sizes, never the
    /// allocator's, so the verdict stays deterministic. The default, 0, suits states without heap data.
    fn state_heap_bytes(&self, state: &Self::State) -> usize {
        let _ = state;
        0
    }

    /// Whether operations on different keys are independent, so the history may be split by key.
    fn independent_keys(&self) -> bool {
        false
    }

    /// A state as a person reads it, for witnesses.
    fn describe_state(&self, state: &Self::State) -> String {
        format!("{state:?}")
    }
}

/// The heap bytes a value holds: its strings' and lists' lengths (capacity may be larger; this is the
/// deterministic part).
pub fn value_heap_bytes(value: &Value) -> usize {
    match value {
        Value::Nil | Value::Int(_) => 0,
        Value::Str(s) => s.len(),
        Value::List(items) => items
            .iter()
            .map(|v| std::mem::size_of::<Value>() + value_heap_bytes(v))
            .sum(),
    }
}

/// The `[from to]` pair of a compare-and-set.
fn cas_pair(value: &Value) -> Result<(Value, Value), String> {
    match value {
        Value::List(items) if items.len() == 2 => Ok((items[0].clone(), items[1].clone())),
        other => Err(format!(
            "a compare-and-set takes `[from to]`, not `{other}`"
        )),
    }
}

/// One register operation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RegisterOp {
    /// A read that returned this value.
    Read(Value),
    /// A write of this value (done, or of unknown outcome).
    Write(Value),
    /// A compare-and-set that succeeded (or may have).
    Cas {
        /// The value compared against.
        from: Value,
        /// The value set.
        to: Value,
    },
    /// A compare-and-set whose compare failed: the register did not hold `from`.
    CasFailed {
        /// The value compared against.
        from: Value,
    },
}

/// A single read / write / compare-and-set register, nil at first (Jepsen's etcd test, Knossos'
/// `cas-register`). Keys, when present, name independent registers.
#[derive(Clone, Copy, Debug, Default)]
pub struct RegisterModel;

impl Model for RegisterModel {
    type State = Value;
    type Op = RegisterOp;

    fn name(&self) -> &'static str {
        "register"
    }

    fn init(&self) -> Value {
        Value::Nil
    }

    fn op(
        &self,
        invoke: &HistoryEvent,
        completion: Completion<'_>,
    ) -> Result<Option<RegisterOp>, String> {
        Ok(match (invoke.f.as_str(), completion) {
            ("read", Completion::Ok(done)) => Some(RegisterOp::Read(done.value.clone())),
            // A read that failed or whose answer never came tells nothing.
            ("read", _) => None,
            // A write that failed did not happen.
            ("write", Completion::Fail(_)) => None,
            ("write", _) => Some(RegisterOp::Write(invoke.value.clone())),
            ("cas", Completion::Fail(_)) => Some(RegisterOp::CasFailed {
                from: cas_pair(&invoke.value)?.0,
            }),
            // A compare-and-set of unknown outcome that did not match changed nothing, which is the same
            // as never happening: so only its successful form needs considering.
            ("cas", _) => {
                let (from, to) = cas_pair(&invoke.value)?;
                Some(RegisterOp::Cas { from, to })
            }
            (f, _) => {
                return Err(format!(
                    "the register model takes read, write and cas, not {}",
                    f
                ));
            }
        })
    }

    fn step(&self, state: &Value, op: &RegisterOp) -> Step<Value> {
        match op {
            RegisterOp::Read(v) if v == state => Step::Unchanged,
            RegisterOp::Read(_) => Step::Illegal,
            RegisterOp::Write(v) => assign(state, v),
            RegisterOp::Cas { from, to } if from == state => assign(state, to),
            RegisterOp::Cas { .. } => Step::Illegal,
            RegisterOp::CasFailed { from } if from == state => Step::Illegal,
            RegisterOp::CasFailed { .. } => Step::Unchanged,
        }
    }

    fn read_only(&self, op: &RegisterOp) -> bool {
        matches!(op, RegisterOp::Read(_) | RegisterOp::CasFailed { .. })
    }

    fn blind_write(&self, op: &RegisterOp) -> bool {
        matches!(op, RegisterOp::Write(_))
    }

    fn only_state(&self, op: &RegisterOp) -> Option<Value> {
        match op {
            RegisterOp::Read(v) | RegisterOp::Cas { from: v, .. } => Some(v.clone()),
            RegisterOp::Write(_) | RegisterOp::CasFailed { .. } => None,
        }
    }

    fn state_heap_bytes(&self, state: &Value) -> usize {
        value_heap_bytes(state)
    }

    fn independent_keys(&self) -> bool {
        true
    }

    fn describe_state(&self, state: &Value) -> String {
        state.to_string()
    }
}

/// One key-value operation on one key (values normalised: absent and `""` are both `Nil`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KvOp {
    /// A get that returned this value.
    Get(Value),
    /// A put of this value.
    Put(Value),
    /// An append of this value.
    Append(Value),
    /// A compare-and-set that succeeded (or may have).
    Cas {
        /// The value compared against.
        from: Value,
        /// The value set.
        to: Value,
    },
    /// A compare-and-set whose compare failed.
    CasFailed {
        /// The value compared against.
        from: Value,
    },
}

/// A key-value store: get / put / append / compare-and-set per key, each key absent at first.
///
/// An absent key reads as `""` in Porcupine's files and as `nil` in distsim's runs: both mean absent here,
/// and putting `""` makes a key absent again. Appending a string to a string (or to an absent key)
/// concatenates, as Porcupine's store does; appending anything else adds it as an element of a list, as
/// Jepsen's list-append workload does (a non-list value already there becomes the list's first element).
#[derive(Clone, Copy, Debug, Default)]
pub struct KvModel;

/// Absent and empty are the same value in the key-value model.
fn normalize(value: &Value) -> Value {
    match value {
        Value::Str(s) if s.is_empty() => Value::Nil,
        other => other.clone(),
    }
}

fn append(state: &Value, suffix: &Value) -> Value {
    match (state, suffix) {
        (Value::Nil, Value::Str(s)) => Value::Str(s.clone()),
        (Value::Str(a), Value::Str(b)) => {
            let mut joined = String::with_capacity(a.len() + b.len());
            joined.push_str(a);
            joined.push_str(b);
            Value::Str(joined)
        }
        (Value::Nil, v) => Value::List(vec![v.clone()]),
        (Value::List(items), v) => {
            let mut items = items.clone();
            items.push(v.clone());
            Value::List(items)
        }
        (other, v) => Value::List(vec![other.clone(), v.clone()]),
    }
}

impl Model for KvModel {
    type State = Value;
    type Op = KvOp;

    fn name(&self) -> &'static str {
        "kv"
    }

    fn init(&self) -> Value {
        Value::Nil
    }

    fn op(
        &self,
        invoke: &HistoryEvent,
        completion: Completion<'_>,
    ) -> Result<Option<KvOp>, String> {
        Ok(match (invoke.f.as_str(), completion) {
            ("get", Completion::Ok(done)) => Some(KvOp::Get(normalize(&done.value))),
            ("get", _) => None,
            ("put" | "append", Completion::Fail(_)) => None,
            ("put", _) => Some(KvOp::Put(normalize(&invoke.value))),
            ("append", _) => Some(KvOp::Append(invoke.value.clone())),
            ("cas", Completion::Fail(_)) => Some(KvOp::CasFailed {
                from: normalize(&cas_pair(&invoke.value)?.0),
            }),
            ("cas", _) => {
                let (from, to) = cas_pair(&invoke.value)?;
                Some(KvOp::Cas {
                    from: normalize(&from),
                    to: normalize(&to),
                })
            }
            (f, _) => {
                return Err(format!(
                    "the kv model takes get, put, append and cas, not {}",
                    f
                ));
            }
        })
    }

    fn step(&self, state: &Value, op: &KvOp) -> Step<Value> {
        match op {
            KvOp::Get(v) if v == state => Step::Unchanged,
            KvOp::Get(_) => Step::Illegal,
            KvOp::Put(v) => assign(state, v),
            KvOp::Append(Value::Str(s)) if s.is_empty() && !matches!(state, Value::List(_)) => {
                Step::Unchanged
            }
            KvOp::Append(v) => Step::Changed(append(state, v)),
            KvOp::Cas { from, to } if from == state => assign(state, to),
            KvOp::Cas { .. } => Step::Illegal,
            KvOp::CasFailed { from } if from == state => Step::Illegal,
            KvOp::CasFailed { .. } => Step::Unchanged,
        }
    }

    fn read_only(&self, op: &KvOp) -> bool {
        matches!(op, KvOp::Get(_) | KvOp::CasFailed { .. })
    }

    fn blind_write(&self, op: &KvOp) -> bool {
        matches!(op, KvOp::Put(_))
    }

    fn only_state(&self, op: &KvOp) -> Option<Value> {
        match op {
            KvOp::Get(v) | KvOp::Cas { from: v, .. } => Some(v.clone()),
            KvOp::Put(_) | KvOp::Append(_) | KvOp::CasFailed { .. } => None,
        }
    }

    fn state_heap_bytes(&self, state: &Value) -> usize {
        value_heap_bytes(state)
    }

    fn independent_keys(&self) -> bool {
        true
    }

    fn describe_state(&self, state: &Value) -> String {
        match state {
            Value::Nil => "absent".to_string(),
            other => other.to_string(),
        }
    }
}

/// The model of a protocol whose clients promise nothing checkable (`type Model = NoModel;`): it knows
/// no function, so a history checked against it is refused.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoModel;

impl Model for NoModel {
    type State = ();
    type Op = ();

    fn name(&self) -> &'static str {
        "none"
    }

    fn init(&self) {}

    fn op(&self, invoke: &HistoryEvent, _: Completion<'_>) -> Result<Option<()>, String> {
        Err(format!("no model: cannot check `{}`", invoke.f))
    }

    fn step(&self, _: &(), _: &()) -> Step<()> {
        Step::Illegal
    }
}
