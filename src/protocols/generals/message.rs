//! What generals say to each other: an order, relayed along a path of generals.

use crate::contract::NodeId;
use serde::{Deserialize, Serialize};

/// A battle order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Order {
    /// Attack.
    Attack,
    /// Retreat: also the default a lieutenant assumes for an order it never received, and the
    /// outcome of a tied vote (as in the paper).
    Retreat,
}

impl Order {
    /// The other order.
    pub fn flipped(self) -> Order {
        match self {
            Order::Attack => Order::Retreat,
            Order::Retreat => Order::Attack,
        }
    }

    /// Its name.
    pub fn as_str(self) -> &'static str {
        match self {
            Order::Attack => "attack",
            Order::Retreat => "retreat",
        }
    }
}

/// A message: `path[0]` (the commander) said `order`, as relayed by `path[1..]` in turn; the last of
/// the path is the sender.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Relay {
    /// Who said it, in order: the commander first, the sender last.
    pub path: Vec<NodeId>,
    /// The order, as the sender claims it was said.
    pub order: Order,
}

/// Timer tags.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Timer {
    /// The battle starts: the commander gives its order.
    Give,
    /// All `m + 1` rounds are over: decide.
    Decide,
}
