//! Comparing a trace being written, line by line, with a trace file, in constant memory: only the
//! current line of the file is held, and the first difference is kept (as an excerpt) so the run can
//! stop there.

use crate::input::{LineReader, ReadError};
use std::collections::VecDeque;
use std::fs::File;
use std::io::BufReader;
use std::path::Path;

/// The longest trace line read back (the header holds a whole scenario, and scenario files are capped
/// at [`SCENARIO_BYTES_MAX`](crate::scenario::SCENARIO_BYTES_MAX)).
pub const TRACE_LINE_BYTES_MAX: u64 = crate::scenario::SCENARIO_BYTES_MAX + (1 << 20);

/// How many characters of a differing line are echoed.
pub const EXCERPT_CHARS_MAX: usize = 300;

/// How many lines of context are shown on each side of the first difference.
pub const CONTEXT_LINES: usize = 3;

/// The first line where a file and a run differ.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mismatch {
    /// 1-based line number in the file.
    pub line: usize,
    /// The file's line, at most [`EXCERPT_CHARS_MAX`] characters, escaped (`<end of file>` past its end).
    pub expected: String,
    /// The run's line, likewise (`<end of run>` past its end).
    pub got: String,
    /// The lines just before it, the same in both (at most [`CONTEXT_LINES`]), excerpted.
    pub before: Vec<String>,
    /// The file's lines just after it (at most [`CONTEXT_LINES`]).
    pub expected_after: Vec<String>,
    /// The run's lines just after it (at most [`CONTEXT_LINES`]; fewer if the run ended).
    pub got_after: Vec<String>,
}

impl Mismatch {
    /// The first difference between two sequences of lines, with context; `None` if they are equal.
    pub fn between(expected: &[String], got: &[String]) -> Option<Mismatch> {
        let at = expected
            .iter()
            .zip(got)
            .position(|(a, b)| a != b)
            .or_else(|| (expected.len() != got.len()).then(|| expected.len().min(got.len())))?;
        let line = |lines: &[String], i: usize, end: &str| {
            lines
                .get(i)
                .map_or_else(|| end.to_string(), |l| excerpt(l.as_bytes()))
        };
        let after = |lines: &[String]| -> Vec<String> {
            lines
                .iter()
                .skip(at + 1)
                .take(CONTEXT_LINES)
                .map(|l| excerpt(l.as_bytes()))
                .collect()
        };
        Some(Mismatch {
            line: at + 1,
            expected: line(expected, at, "<end of file>"),
            got: line(got, at, "<end of run>"),
            before: expected[at.saturating_sub(CONTEXT_LINES)..at]
                .iter()
                .map(|l| excerpt(l.as_bytes()))
                .collect(),
            expected_after: after(expected),
            got_after: after(got),
        })
    }

    /// The difference as text: the shared lines before, then both sides from the first difference.
    pub fn render(&self) -> String {
        let mut text = String::new();
        let first = self.line - self.before.len();
        for (i, l) in self.before.iter().enumerate() {
            text.push_str(&format!("  {:>8}  {l}\n", first + i));
        }
        text.push_str(&format!("  expected: {}\n", self.expected));
        for l in &self.expected_after {
            text.push_str(&format!("            {l}\n"));
        }
        text.push_str(&format!("  got:      {}\n", self.got));
        for l in &self.got_after {
            text.push_str(&format!("            {l}\n"));
        }
        text
    }
}

/// Reads a trace file while the run writes, comparing each line.
pub struct Comparer {
    file: LineReader<BufReader<File>>,
    /// The file's first line, read ahead at opening to learn its format.
    first: Option<Vec<u8>>,
    /// The format its header names, if it names one.
    format: Option<u32>,
    lines: usize,
    mismatch: Option<Mismatch>,
    /// The last lines that matched, for context (at most [`CONTEXT_LINES`]; buffers reused).
    recent: VecDeque<Vec<u8>>,
}

fn excerpt(bytes: &[u8]) -> String {
    crate::text::excerpt(&String::from_utf8_lossy(bytes), EXCERPT_CHARS_MAX)
}

impl Comparer {
    /// Opens the file to compare with.
    pub fn open(path: &Path) -> Result<Comparer, ReadError> {
        let file = crate::input::open(path)?;
        let mut file = LineReader::new(
            BufReader::with_capacity(1 << 16, file),
            TRACE_LINE_BYTES_MAX,
            "trace files",
        );
        let first = file.next_line()?.map(|(l, _)| l.to_vec());
        #[derive(serde::Deserialize)]
        struct FormatProbe {
            format: Option<u32>,
        }
        let format = first
            .as_deref()
            .and_then(|l| serde_json::from_slice::<FormatProbe>(l).ok())
            .and_then(|p| p.format);
        Ok(Comparer {
            file,
            first,
            format,
            lines: 0,
            mismatch: None,
            recent: VecDeque::with_capacity(CONTEXT_LINES),
        })
    }

    /// The trace format the file's header names (`None` if it names none): the run writes its
    /// lines in that format to compare them.
    pub fn format(&self) -> Option<u32> {
        self.format
    }

    /// Compares the run's next line (without its `\n`) with the file's; false once they differ.
    /// After the first difference it keeps the next few lines of both sides, for context.
    pub fn line(&mut self, got: &[u8]) -> Result<bool, ReadError> {
        if let Some(m) = &mut self.mismatch {
            if m.got_after.len() < CONTEXT_LINES {
                m.got_after.push(excerpt(got));
            }
            return Ok(false);
        }
        self.lines += 1;
        let first = self.first.take();
        let want = match &first {
            Some(l) => Some(l.as_slice()),
            None => self.file.next_line()?.map(|(l, _)| l),
        };
        if want != Some(got) {
            let expected = want.map_or_else(|| "<end of file>".into(), excerpt);
            let mut expected_after = Vec::with_capacity(CONTEXT_LINES);
            while expected_after.len() < CONTEXT_LINES
                && let Some((l, _)) = self.file.next_line()?
            {
                expected_after.push(excerpt(l));
            }
            self.mismatch = Some(Mismatch {
                line: self.lines,
                expected,
                got: excerpt(got),
                before: self.recent.iter().map(|l| excerpt(l)).collect(),
                expected_after,
                got_after: Vec::new(),
            });
            return Ok(false);
        }
        // Keep this line for context, reusing the oldest buffer.
        let mut buffer = if self.recent.len() == CONTEXT_LINES {
            self.recent.pop_front().unwrap_or_default()
        } else {
            Vec::new()
        };
        buffer.clear();
        buffer.extend_from_slice(got);
        self.recent.push_back(buffer);
        Ok(true)
    }

    /// Whether a difference was found.
    pub fn differs(&self) -> bool {
        self.mismatch.is_some()
    }

    /// Whether the run may stop: a difference was found and the context after it is complete.
    pub fn done(&self) -> bool {
        self.mismatch
            .as_ref()
            .is_some_and(|m| m.got_after.len() >= CONTEXT_LINES)
    }

    /// Ends the comparison: a file with more lines than the run differs at the first extra one.
    /// Returns the lines compared and the first difference.
    pub fn finish(mut self) -> Result<(usize, Option<Mismatch>), ReadError> {
        let extra = match (&self.mismatch, self.first.take()) {
            (None, Some(first)) => Some(excerpt(&first)),
            (None, None) => self.file.next_line()?.map(|(l, _)| excerpt(l)),
            (Some(_), _) => None,
        };
        if let Some(extra) = extra {
            let mut expected_after = Vec::new();
            while expected_after.len() < CONTEXT_LINES
                && let Some((l, _)) = self.file.next_line()?
            {
                expected_after.push(excerpt(l));
            }
            self.mismatch = Some(Mismatch {
                line: self.lines + 1,
                expected: extra,
                got: "<end of run>".into(),
                before: self.recent.iter().map(|l| excerpt(l)).collect(),
                expected_after,
                got_after: Vec::new(),
            });
        }
        Ok((self.lines, self.mismatch))
    }
}
