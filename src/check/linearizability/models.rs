//! The sequential models `check-history` knows by name. A protocol's own model needs no entry here: the
//! protocol hands it to the end-of-run checker directly ([`crate::contract::Protocol::history_model`]).

use crate::contract::model::{KvModel, Model, RegisterModel};

/// Every model known by name, with one line each.
pub const BUILTIN_MODELS: &[(&str, &str)] = &[
    (
        "register",
        "one register, nil at first: read, write, cas [from to] (also `cas-register`)",
    ),
    (
        "kv",
        "independent string keys: get, put, append, cas [from to] (also `key-value`)",
    ),
];

/// Something to do with a model chosen by name at run time.
pub trait ModelVisitor {
    /// The result.
    type Output;
    /// Does it with `model`.
    fn visit<M: Model>(self, model: &M) -> Self::Output;
}

/// Calls `visitor` with the built-in model called `name`, or returns `None` if there is none.
pub fn with_model<V: ModelVisitor>(name: &str, visitor: V) -> Option<V::Output> {
    match name {
        "register" | "cas-register" => Some(visitor.visit(&RegisterModel)),
        "kv" | "key-value" | "keyvalue" => Some(visitor.visit(&KvModel)),
        _ => None,
    }
}
