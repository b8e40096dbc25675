//! A run's fingerprint: a 128-bit hash over a compact binary encoding of every trace line, cheap
//! enough to compute on every run (a CLI run without `--trace` used to serialise every event to JSON
//! and hash it with SHA-256, which was half its time).
//!
//! Definition, so that other tools can recompute it: each trace line before the closing one, in
//! order, is encoded ([`Line::encode_binary`]: a byte for its kind, its event index, time and ids as
//! 8-byte little-endian words (the header: the word 2, once its format number, then the seed), then its payload (message, timer, note, fault, history event) in the
//! field-by-field binary [`encoding`]), followed by the encoding's length as 8 little-endian bytes;
//! all of it is fed to XXH3-128 as one stream (the length keeps line boundaries in the hash). Every
//! field of every line takes part, so two runs with the same fingerprint took the same events in
//! the same order with the same contents, up to a 2^-128 chance.
//!
//! The trace file keeps its own SHA-256 over the JSON lines in its closing line: that one proves the
//! file is intact; the fingerprint identifies the run, with or without a file.

pub mod encoding;

use super::line::Line;
use serde::Serialize;
use xxhash_rust::xxh3::Xxh3;

/// Lines are encoded into one buffer and hashed a block at a time: XXH3 costs a few hundred
/// instructions per call, which would double a small event's cost if paid per line.
const BATCH_BYTES: usize = 64 * 1024;

/// The word a header's encoding starts with: the trace format when fingerprints were defined (2),
/// fixed since, so that a run's fingerprint names the run and not the file format it is written in.
const HEADER_FORMAT_WORD: u64 = 2;

/// Accumulates a run's fingerprint line by line.
pub struct Fingerprint {
    hasher: Xxh3,
    /// Encoded lines not yet hashed; at most `BATCH_BYTES` plus one line.
    pending: Vec<u8>,
}

impl Default for Fingerprint {
    fn default() -> Self {
        Fingerprint {
            hasher: Xxh3::new(),
            pending: Vec::with_capacity(BATCH_BYTES + 4096),
        }
    }
}

impl<M: Serialize, T: Serialize, N: Serialize> Line<'_, M, T, N> {
    /// Appends this line's binary encoding (see the module's definition): the kind as one byte, the
    /// fixed fields as 8-byte words, the payloads in [`encoding`]. Written out by hand rather than
    /// derived because a run encodes every one of its events: the line's own fields cost a store
    /// each instead of a trip through serde.
    pub fn encode_binary(&self, out: &mut Vec<u8>) -> Result<(), encoding::Error> {
        let words = |out: &mut Vec<u8>, kind: u8, ws: &[u64]| {
            out.push(kind);
            for w in ws {
                out.extend_from_slice(&w.to_le_bytes());
            }
        };
        match self {
            Line::Header {
                distsim,
                seed,
                scenario,
            } => {
                words(out, 0, &[HEADER_FORMAT_WORD, *seed]);
                encoding::encode(distsim, out)?;
                encoding::encode(scenario, out)?;
            }
            Line::Start { e, t, node, lc, vc } => {
                words(out, 1, &[*e, *t, u64::from(*node)]);
                clock(out, *lc, *vc)?;
            }
            Line::Send {
                e,
                t,
                id,
                from,
                to,
                msg,
                tampered,
                lc,
                vc,
            } => {
                words(out, 2, &[*e, *t, *id, u64::from(*from), u64::from(*to)]);
                encoding::encode(msg, out)?;
                encoding::encode(tampered, out)?;
                clock(out, *lc, *vc)?;
            }
            Line::Duplicate { e, t, id } => words(out, 3, &[*e, *t, *id]),
            Line::Drop {
                e,
                t,
                id,
                from,
                to,
                reason,
            } => {
                words(out, 4, &[*e, *t, *id, u64::from(*from), u64::from(*to)]);
                encoding::encode(reason, out)?;
            }
            Line::Deliver {
                e,
                t,
                id,
                from,
                to,
                lc,
                vc,
            } => {
                words(out, 5, &[*e, *t, *id, u64::from(*from), u64::from(*to)]);
                clock(out, *lc, *vc)?;
            }
            Line::Timer {
                e,
                t,
                node,
                timer,
                lc,
                vc,
            } => {
                words(out, 6, &[*e, *t, u64::from(*node)]);
                encoding::encode(timer, out)?;
                clock(out, *lc, *vc)?;
            }
            Line::Fault {
                e,
                t,
                fault,
                nodes,
                effect,
            } => {
                words(out, 7, &[*e, *t]);
                encoding::encode(fault, out)?;
                encoding::encode(nodes, out)?;
                encoding::encode(effect, out)?;
            }
            Line::Role {
                e,
                t,
                node,
                role,
                lc,
                vc,
            } => {
                words(out, 8, &[*e, *t, u64::from(*node)]);
                encoding::encode(role, out)?;
                clock(out, *lc, *vc)?;
            }
            Line::Note {
                e,
                t,
                node,
                note,
                lc,
                vc,
            } => {
                words(out, 9, &[*e, *t, u64::from(*node)]);
                encoding::encode(note, out)?;
                clock(out, *lc, *vc)?;
            }
            Line::History {
                e,
                node,
                event,
                lc,
                vc,
            } => {
                words(out, 10, &[*e, u64::from(*node)]);
                encoding::encode(event, out)?;
                clock(out, *lc, *vc)?;
            }
            Line::Violation {
                e,
                t,
                checker,
                node,
                message,
            } => {
                words(out, 11, &[*e, *t]);
                encoding::encode(checker, out)?;
                encoding::encode(node, out)?;
                encoding::encode(message, out)?;
            }
            Line::End { .. } => {
                // The closing line carries the fingerprint: it is never part of it.
                out.push(12);
            }
        }
        Ok(())
    }
}

/// A node's logical clocks, present only in a run with `"clocks": true`. Absent, they add nothing,
/// so a run without clocks pays nothing for them; present, they follow the payload, which encodes
/// itself unambiguously, and the line's length says whether they are there.
fn clock(out: &mut Vec<u8>, lc: Option<u64>, vc: Option<&[u64]>) -> Result<(), encoding::Error> {
    if let Some(lc) = lc {
        out.extend_from_slice(&lc.to_le_bytes());
        encoding::encode(&vc, out)?;
    }
    Ok(())
}

impl Fingerprint {
    /// Adds one line. Fails only if a payload's own `Serialize` implementation fails.
    pub fn line<M: Serialize, T: Serialize, N: Serialize>(
        &mut self,
        line: &Line<'_, M, T, N>,
    ) -> Result<(), encoding::Error> {
        let start = self.pending.len();
        line.encode_binary(&mut self.pending)?;
        let len = (self.pending.len() - start) as u64;
        self.pending.extend_from_slice(&len.to_le_bytes());
        if self.pending.len() >= BATCH_BYTES {
            self.hasher.update(&self.pending);
            self.pending.clear();
        }
        Ok(())
    }

    /// The fingerprint of the lines so far, as 32 hex digits.
    pub fn hex(&self) -> String {
        let mut hasher = self.hasher.clone();
        hasher.update(&self.pending);
        format!("{:032x}", hasher.digest128())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    type L<'a> = Line<'a, String, (), ()>;

    fn send(e: u64, msg: &String) -> L<'_> {
        Line::Send {
            e,
            t: e * 10,
            id: e,
            from: 0,
            to: 1,
            msg,
            tampered: None,
            lc: None,
            vc: None,
        }
    }

    fn of(lines: &[L<'_>]) -> String {
        let mut f = Fingerprint::default();
        for l in lines {
            f.line(l).unwrap();
        }
        f.hex()
    }

    #[test]
    fn every_field_and_every_boundary_counts() {
        let (ab, c, a, bc) = (
            "ab".to_string(),
            "c".to_string(),
            "a".to_string(),
            "bc".to_string(),
        );
        let base = of(&[send(1, &ab), send(2, &c)]);
        assert_eq!(base.len(), 32);
        assert_eq!(base, of(&[send(1, &ab), send(2, &c)]));
        assert_ne!(base, of(&[send(1, &ab), send(3, &c)]));
        assert_ne!(base, of(&[send(1, &ab), send(2, &ab)]));
        // The same bytes cut into lines differently.
        assert_ne!(base, of(&[send(1, &a), send(2, &bc)]));
        assert_ne!(base, of(&[send(1, &ab)]));
        let tampered = Line::Send {
            e: 2,
            t: 20,
            id: 2,
            from: 0,
            to: 1,
            msg: &c,
            tampered: Some("forge"),
            lc: None,
            vc: None,
        };
        assert_ne!(base, of(&[send(1, &ab), tampered]));
        // A start is not a duplicate with the same numbers.
        assert_ne!(
            of(&[Line::Duplicate { e: 1, t: 2, id: 3 }]),
            of(&[Line::Start {
                e: 1,
                t: 2,
                node: 3,
                lc: None,
                vc: None,
            }])
        );
        assert_ne!(
            of(&[]),
            of(&[Line::Start {
                e: 0,
                t: 0,
                node: 0,
                lc: None,
                vc: None,
            }])
        );
    }

    #[test]
    fn logical_clocks_take_part_when_present() {
        let start = |lc: Option<u64>, vc: Option<&'static [u64]>| L::Start {
            e: 1,
            t: 2,
            node: 0,
            lc,
            vc,
        };
        let none = of(&[start(None, None)]);
        let one = of(&[start(Some(1), Some(&[1, 0]))]);
        assert_ne!(none, one);
        assert_ne!(one, of(&[start(Some(2), Some(&[1, 0]))]));
        assert_ne!(one, of(&[start(Some(1), Some(&[1, 1]))]));
    }

    #[test]
    fn batching_does_not_change_the_hash() {
        // Enough lines to cross the batch boundary several times; the streamed hash equals one
        // computed over the whole encoding at once.
        let msg = "abc".to_string();
        let mut f = Fingerprint::default();
        let mut whole = Vec::new();
        for e in 0..20_000u64 {
            let line = send(e, &msg);
            f.line(&line).unwrap();
            let start = whole.len();
            line.encode_binary(&mut whole).unwrap();
            let len = (whole.len() - start) as u64;
            whole.extend_from_slice(&len.to_le_bytes());
        }
        assert!(whole.len() > 3 * BATCH_BYTES);
        let expected = format!("{:032x}", xxhash_rust::xxh3::xxh3_128(&whole));
        assert_eq!(f.hex(), expected);
    }
}
