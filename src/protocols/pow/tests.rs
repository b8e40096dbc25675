//! Unit tests of a miner driven by hand.
