//! Reading user files with a bound: every reader in distsim caps what it reads, so `/dev/zero`, a
//! multi-gigabyte file or a line without an end is refused quickly with the file and the cap named,
//! instead of being read until memory runs out.

use std::fs::File;
use std::io::{self, BufRead, Read};
use std::path::Path;

/// Why a capped read stopped.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// The operating system refused.
    #[error("cannot read: {0}")]
    Io(#[from] io::Error),
    /// A directory was named.
    #[error("is a directory, not a file")]
    Directory,
    /// The file holds more than the cap.
    #[error("larger than {} ({} bytes), the limit for {what}", human_bytes(*.bytes_max), .bytes_max)]
    TooLarge {
        /// What kind of file (`"scenario files"`).
        what: &'static str,
        /// The cap.
        bytes_max: u64,
    },
    /// One line is longer than the cap.
    #[error("line {line} is longer than {}, the limit for a line of {what}", human_bytes(*.bytes_max))]
    LineTooLong {
        /// What kind of file (`"trace lines"`).
        what: &'static str,
        /// 1-based line.
        line: u64,
        /// The cap.
        bytes_max: u64,
    },
}

/// `bytes` as `16 MiB`, `512 KiB` or `100 bytes`.
pub fn human_bytes(bytes: u64) -> String {
    match bytes {
        b if b >= 1 << 30 && b % (1 << 30) == 0 => format!("{} GiB", b >> 30),
        b if b >= 1 << 20 && b % (1 << 20) == 0 => format!("{} MiB", b >> 20),
        b if b >= 1 << 10 && b % (1 << 10) == 0 => format!("{} KiB", b >> 10),
        b => format!("{b} bytes"),
    }
}

/// Opens `path` for reading, refusing a directory.
pub fn open(path: &Path) -> Result<File, ReadError> {
    let file = File::open(path)?;
    if file.metadata()?.is_dir() {
        return Err(ReadError::Directory);
    }
    Ok(file)
}

/// Reads the whole of `path`, refusing it once it holds more than `bytes_max` bytes. Works on pipes and
/// devices too: it never trusts the size the file claims.
pub fn read_capped(path: &Path, bytes_max: u64, what: &'static str) -> Result<Vec<u8>, ReadError> {
    read_all_capped(open(path)?, bytes_max, what)
}

/// Reads all of `reader`, refusing more than `bytes_max` bytes.
pub fn read_all_capped(
    reader: impl Read,
    bytes_max: u64,
    what: &'static str,
) -> Result<Vec<u8>, ReadError> {
    let mut bytes = Vec::new();
    reader
        .take(bytes_max.saturating_add(1))
        .read_to_end(&mut bytes)?;
    if bytes.len() as u64 > bytes_max {
        return Err(ReadError::TooLarge { what, bytes_max });
    }
    Ok(bytes)
}

/// Reads lines one at a time into one reused buffer, refusing a line longer than the cap: memory stays
/// at one line whatever the file holds.
pub struct LineReader<R> {
    reader: R,
    line: Vec<u8>,
    line_no: u64,
    line_bytes_max: u64,
    what: &'static str,
}

impl<R: BufRead> LineReader<R> {
    /// Reads `reader`'s lines, each at most `line_bytes_max` bytes (without its `\n`).
    pub fn new(reader: R, line_bytes_max: u64, what: &'static str) -> Self {
        LineReader {
            reader,
            line: Vec::new(),
            line_no: 0,
            line_bytes_max,
            what,
        }
    }

    /// The 1-based number of the line last returned.
    pub fn line_no(&self) -> u64 {
        self.line_no
    }

    /// The next line without its `\n` (a last line without one is returned as it is), or `None` at the
    /// end. `ended` tells whether the line had its `\n`.
    pub fn next_line(&mut self) -> Result<Option<(&[u8], bool)>, ReadError> {
        self.line.clear();
        let mut ended = false;
        loop {
            let available = match self.reader.fill_buf() {
                Ok(b) => b,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e.into()),
            };
            if available.is_empty() {
                break;
            }
            let (take, found) = match available.iter().position(|&b| b == b'\n') {
                Some(i) => (i, true),
                None => (available.len(), false),
            };
            if (self.line.len() + take) as u64 > self.line_bytes_max {
                return Err(ReadError::LineTooLong {
                    what: self.what,
                    line: self.line_no + 1,
                    bytes_max: self.line_bytes_max,
                });
            }
            self.line.extend_from_slice(&available[..take]);
            self.reader.consume(take + usize::from(found));
            if found {
                ended = true;
                break;
            }
        }
        if !ended && self.line.is_empty() {
            return Ok(None);
        }
        self.line_no += 1;
        Ok(Some((&self.line, ended)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_read_past_the_cap_is_refused_and_one_at_the_cap_is_not() {
        assert_eq!(read_all_capped(&b"abcd"[..], 4, "tests").unwrap(), b"abcd");
        let err = read_all_capped(&b"abcde"[..], 4, "tests").unwrap_err();
        assert!(
            matches!(err, ReadError::TooLarge { bytes_max: 4, .. }),
            "{err}"
        );
        assert_eq!(
            read_all_capped(io::repeat(0), 1 << 20, "scenario files")
                .unwrap_err()
                .to_string(),
            "larger than 1 MiB (1048576 bytes), the limit for scenario files"
        );
    }

    #[test]
    fn lines_are_read_one_at_a_time_and_a_long_one_is_refused() {
        let mut r = LineReader::new(&b"ab\n\ncde"[..], 3, "tests");
        assert_eq!(r.next_line().unwrap(), Some((&b"ab"[..], true)));
        assert_eq!(r.next_line().unwrap(), Some((&b""[..], true)));
        assert_eq!(r.next_line().unwrap(), Some((&b"cde"[..], false)));
        assert_eq!(r.line_no(), 3);
        assert_eq!(r.next_line().unwrap(), None);
        let mut r = LineReader::new(io::BufReader::with_capacity(2, &b"ab\nabcd\n"[..]), 3, "t");
        assert!(r.next_line().unwrap().is_some());
        let err = r.next_line().unwrap_err();
        assert!(
            matches!(
                err,
                ReadError::LineTooLong {
                    line: 2,
                    bytes_max: 3,
                    ..
                }
            ),
            "{err}"
        );
    }
}
