//! Selfish mining (Eyal and Sirer, "Majority is not Enough: Bitcoin Mining is Vulnerable",
//! FC 2014, Algorithm 1), as a node mode.
//!
//! The selfish miner mines on a private branch and keeps the blocks it finds (withholds them),
//! publishing them only to beat the honest miners' public chain:
//! - when it finds a block: if it was racing an honest block with a published one of its own
//!   (lead 0, private branch of 2 now), it publishes and wins; otherwise it withholds;
//! - when the public chain grows by the others' blocks: if the public chain is now longer, it gives
//!   its branch up and mines on the public tip; if as long, it publishes everything (a race it may
//!   lose); if shorter by one, it publishes everything and wins; if shorter by more, it publishes
//!   its blocks up to the public chain's height, keeping its lead.
//!
//! Honest nodes break ties by the block seen first, so the selfish miner wins a race only where its
//! block arrives first (the paper's gamma). This module holds the decisions; the node applies them.

use super::block::BlockHash;

/// A selfish miner's private state (on its disk).
#[derive(Clone, Debug, Default)]
pub struct Withholding {
    /// The tip of the private branch it mines on (`None`: the public tip).
    pub private_tip: Option<BlockHash>,
    /// The paper's `privateBranchLen`.
    pub branch_len: u64,
    /// Its own blocks not yet published, oldest first.
    pub withheld: Vec<BlockHash>,
}

/// What to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Release {
    /// Keep withholding.
    Nothing,
    /// Publish every withheld block; with `reset`, the private branch starts over (the paper's
    /// `privateBranchLen <- 0`).
    All {
        /// Reset the branch length.
        reset: bool,
    },
    /// Publish the withheld blocks up to this height.
    UpTo(u64),
    /// Give the private branch up: mine on the public tip.
    Adopt,
}

/// After the selfish miner finds a block: `lead_before` is the private chain's height minus the
/// public one's before the block, `branch_len` the private branch's length with it.
pub fn on_own_block(lead_before: u64, branch_len: u64) -> Release {
    if lead_before == 0 && branch_len == 2 {
        Release::All { reset: true }
    } else {
        Release::Nothing
    }
}

/// After the others' blocks made the public chain grow to `public_height`, with the private chain
/// at `private_height`.
pub fn on_public_growth(private_height: u64, public_height: u64) -> Release {
    if private_height < public_height {
        Release::Adopt
    } else if private_height == public_height {
        Release::All { reset: false }
    } else if private_height == public_height + 1 {
        Release::All { reset: true }
    } else {
        Release::UpTo(public_height)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_decisions_follow_algorithm_1() {
        // Found a block with no lead: withhold (lead 1).
        assert_eq!(on_own_block(0, 1), Release::Nothing);
        // Found a block during the race (state 0'): publish, win.
        assert_eq!(on_own_block(0, 2), Release::All { reset: true });
        // Found a block with a lead: withhold.
        assert_eq!(on_own_block(2, 3), Release::Nothing);
        // Others found a block with no lead: adopt.
        assert_eq!(on_public_growth(5, 6), Release::Adopt);
        // Lead was 1: publish the last block, race.
        assert_eq!(on_public_growth(6, 6), Release::All { reset: false });
        // Lead was 2: publish all, win.
        assert_eq!(on_public_growth(7, 6), Release::All { reset: true });
        // Lead more than 2: publish up to the public height.
        assert_eq!(on_public_growth(10, 6), Release::UpTo(6));
    }
}
