//! Comparing a trace being written, line by line, with a trace file, in constant memory: only the
//! current line of the file is held, and the first difference is kept (as an excerpt) so the run can
//! stop there.

use crate::input::{LineReader, ReadError};
use std::fs::File;
use std::io::BufReader;
use std::path::Path;

/// The longest trace line read back (the header holds a whole scenario, and scenario files are capped
/// at [`SCENARIO_BYTES_MAX`](crate::scenario::SCENARIO_BYTES_MAX)).
pub const TRACE_LINE_BYTES_MAX: u64 = crate::scenario::SCENARIO_BYTES_MAX + (1 << 20);

/// How many characters of a differing line are echoed.
pub const EXCERPT_CHARS_MAX: usize = 300;

/// The first line where a file and a run differ.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mismatch {
    /// 1-based line number in the file.
    pub line: usize,
    /// The file's line, at most [`EXCERPT_CHARS_MAX`] characters, escaped (`<end of file>` past its end).
    pub expected: String,
    /// The run's line, likewise (`<end of run>` past its end).
    pub got: String,
}

/// Reads a trace file while the run writes, comparing each line.
pub struct Comparer {
    file: LineReader<BufReader<File>>,
    lines: usize,
    mismatch: Option<Mismatch>,
}

fn excerpt(bytes: &[u8]) -> String {
    crate::text::excerpt(&String::from_utf8_lossy(bytes), EXCERPT_CHARS_MAX)
}

impl Comparer {
    /// Opens the file to compare with.
    pub fn open(path: &Path) -> Result<Comparer, ReadError> {
        let file = crate::input::open(path)?;
        Ok(Comparer {
            file: LineReader::new(
                BufReader::with_capacity(1 << 16, file),
                TRACE_LINE_BYTES_MAX,
                "trace files",
            ),
            lines: 0,
            mismatch: None,
        })
    }

    /// Compares the run's next line (without its `\n`) with the file's; false once they differ.
    pub fn line(&mut self, got: &[u8]) -> Result<bool, ReadError> {
        if self.mismatch.is_some() {
            return Ok(false);
        }
        self.lines += 1;
        let want = self.file.next_line()?.map(|(l, _)| l);
        if want != Some(got) {
            self.mismatch = Some(Mismatch {
                line: self.lines,
                expected: want.map_or_else(|| "<end of file>".into(), excerpt),
                got: excerpt(got),
            });
            return Ok(false);
        }
        Ok(true)
    }

    /// Whether a difference was found.
    pub fn differs(&self) -> bool {
        self.mismatch.is_some()
    }

    /// Ends the comparison: a file with more lines than the run differs at the first extra one.
    /// Returns the lines compared and the first difference.
    pub fn finish(mut self) -> Result<(usize, Option<Mismatch>), ReadError> {
        if self.mismatch.is_none()
            && let Some((extra, _)) = self.file.next_line()?
        {
            self.mismatch = Some(Mismatch {
                line: self.lines + 1,
                expected: excerpt(extra),
                got: "<end of run>".into(),
            });
        }
        Ok((self.lines, self.mismatch))
    }
}
