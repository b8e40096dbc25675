//! Faults: the kinds ([`FaultAction`], one enum), who they hit ([`Target`]), and how they are applied
//! to a running world ([`apply`]). A scenario schedules them (`"faults"`: each with `at_ms` and one
//! action); the engine applies them at that virtual time. Roles are resolved when a fault fires, so
//! `"isolate": "leader"` hits whoever leads at that moment.
//!
//! Adding a fault kind is one variant of [`FaultAction`] (with its line in [`FaultAction::KINDS`]), its
//! checks in scenario validation, and its application in [`apply`].

pub mod action;
pub mod apply;
pub mod target;

pub use action::{
    ByzantineMode, ByzantineSpec, ClockSpec, CutSpec, FaultAction, FaultSpec, HELD_MAX, LinkSpec,
    REPLAY_MEMORY,
};
pub use target::Target;
