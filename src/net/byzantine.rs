//! The Byzantine seam. A Byzantine server runs the same actor code as everyone else, but the network
//! rewrites what it sends: `silent` drops everything it sends, `forge` passes each outgoing message
//! through the protocol's [`crate::contract::Actor::forge`], which may replace it with a corrupted one.
//! Protocol-specific attacks (equivocation, forged fields, replays) live in the protocol's `forge`.

pub use crate::scenario::ByzantineMode;
