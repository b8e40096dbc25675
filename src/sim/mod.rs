//! The engine: virtual time, the event queue, seeded random streams, local clocks and the event loop.

pub mod clock;
pub mod clocks;
pub mod memory;
pub mod operations;
pub mod queue;
mod timers;
pub mod world;
