//! Seed ranges (`0..1000`, `0..=999`, `7`) and shards: the I-th of N disjoint, contiguous slices of a
//! range, so that the union of all shards is exactly the range and their results files concatenate,
//! in shard order, into the whole range's.

use std::fmt;
use std::str::FromStr;

/// A half-open range of seeds, `start..end`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SeedRange {
    /// The first seed.
    pub start: u64,
    /// One past the last seed.
    pub end: u64,
}

impl SeedRange {
    /// How many seeds.
    pub fn len(&self) -> u64 {
        self.end.saturating_sub(self.start)
    }

    /// Whether the range holds no seed.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The `shard`-th of `shards` contiguous slices (0-based); slice sizes differ by at most one.
    pub fn shard(&self, shard: Shard) -> SeedRange {
        let n = u128::from(self.len());
        let at = |i: u64| self.start + (n * u128::from(i) / u128::from(shard.count)) as u64;
        SeedRange {
            start: at(shard.index),
            end: at(shard.index + 1),
        }
    }
}

impl fmt::Display for SeedRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}..{}", self.start, self.end)
    }
}

impl FromStr for SeedRange {
    type Err = String;
    fn from_str(s: &str) -> Result<SeedRange, String> {
        let num = |t: &str| {
            t.trim()
                .parse::<u64>()
                .map_err(|_| format!("{t:?} is not a seed (a whole number 0..=2^64-1)"))
        };
        let range = if let Some((a, b)) = s.split_once("..=") {
            let (a, b) = (num(a)?, num(b)?);
            let end = b
                .checked_add(1)
                .ok_or_else(|| format!("{s}: the range ends past the last seed"))?;
            SeedRange { start: a, end }
        } else if let Some((a, b)) = s.split_once("..") {
            SeedRange {
                start: num(a)?,
                end: num(b)?,
            }
        } else {
            let a = num(s)?;
            SeedRange {
                start: a,
                end: a
                    .checked_add(1)
                    .ok_or_else(|| format!("{s}: the last seed cannot be swept alone"))?,
            }
        };
        if range.is_empty() {
            return Err(format!(
                "{s}: the range holds no seed (write A..B with A < B, or A..=B)"
            ));
        }
        Ok(range)
    }
}

/// One of `count` shards, `index` in `0..count`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    /// Which shard, from 0.
    pub index: u64,
    /// How many shards.
    pub count: u64,
}

impl FromStr for Shard {
    type Err = String;
    fn from_str(s: &str) -> Result<Shard, String> {
        let (i, n) = s
            .split_once('/')
            .ok_or_else(|| format!("{s:?}: write the shard as I/N, e.g. 0/8"))?;
        let count: u64 = n
            .trim()
            .parse()
            .map_err(|_| format!("{n:?} is not a shard count"))?;
        if count == 0 {
            return Err("the shard count must be at least 1".into());
        }
        let index: u64 = i
            .trim()
            .parse()
            .map_err(|_| format!("{i:?} is not a shard index"))?;
        if index >= count {
            return Err(format!(
                "shard index {index} is out of range: shards are 0..{count}"
            ));
        }
        Ok(Shard { index, count })
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_parse_and_bad_ones_are_refused() {
        assert_eq!(
            "3..7".parse::<SeedRange>().unwrap(),
            SeedRange { start: 3, end: 7 }
        );
        assert_eq!("3..=7".parse::<SeedRange>().unwrap().end, 8);
        assert_eq!("9".parse::<SeedRange>().unwrap().len(), 1);
        for bad in [
            "7..3",
            "5..5",
            "a..3",
            "",
            "1..2..3",
            "18446744073709551615..=18446744073709551615",
        ] {
            assert!(bad.parse::<SeedRange>().is_err(), "{bad}");
        }
        assert!("3/3".parse::<Shard>().is_err());
        assert!("0/0".parse::<Shard>().is_err());
        assert_eq!(
            "2/5".parse::<Shard>().unwrap(),
            Shard { index: 2, count: 5 }
        );
    }

    #[test]
    fn shards_cover_the_range_exactly_once() {
        for (start, end) in [
            (0u64, 10u64),
            (5, 6),
            (100, 1_000),
            (0, 3),
            (u64::MAX - 10, u64::MAX),
        ] {
            let r = SeedRange { start, end };
            for count in [1u64, 2, 3, 7, 16] {
                let mut next = start;
                for index in 0..count {
                    let s = r.shard(Shard { index, count });
                    assert_eq!(s.start, next, "{r} {index}/{count}");
                    assert!(s.end >= s.start);
                    next = s.end;
                }
                assert_eq!(next, end, "{r} in {count} shards");
            }
        }
    }
}
