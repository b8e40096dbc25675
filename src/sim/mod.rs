//! The engine: virtual time, the event queue, seeded random streams, local clocks and the event loop.

pub mod clock;
pub mod memory;
pub mod queue;
pub mod rng;
pub mod time;
pub mod world;
