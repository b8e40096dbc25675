//! Streaming trace writer: serialises each line once into a reused buffer, hashes it, and (when
//! writing a file) appends it to a buffered temporary file that replaces the destination only when the
//! run completes. A failed run never truncates or clobbers an existing file.

use serde::Serialize;
use sha2::{Digest, Sha256};
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

/// Where a trace goes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum TraceOutput {
    /// Nowhere: no line is even serialised (fastest; no digest).
    #[default]
    Off,
    /// Only the digest is computed.
    Digest,
    /// Kept in memory, line by line (for replay comparison and tests).
    Memory,
    /// Written to this file.
    File(PathBuf),
}

enum Sink {
    Digest,
    Memory(Vec<String>),
    File {
        out: BufWriter<File>,
        partial: PathBuf,
        dest: PathBuf,
    },
}

/// What a finished trace produced.
#[derive(Clone, Debug, Default)]
pub struct Finished {
    /// SHA-256 of every line before the closing one, as hex.
    pub sha256: String,
    /// Every line (with the closing one), for [`TraceOutput::Memory`].
    pub lines: Option<Vec<String>>,
}

/// Writes one trace.
pub struct TraceWriter {
    hasher: Sha256,
    buf: Vec<u8>,
    sink: Sink,
    error: Option<io::Error>,
}

/// The temporary name a trace is written under before it is renamed to `dest`.
pub fn partial_path(dest: &Path) -> PathBuf {
    let mut name = dest.as_os_str().to_owned();
    name.push(".partial");
    PathBuf::from(name)
}

impl TraceWriter {
    /// Opens a writer, or `None` for [`TraceOutput::Off`].
    pub fn open(output: &TraceOutput) -> io::Result<Option<TraceWriter>> {
        let sink = match output {
            TraceOutput::Off => return Ok(None),
            TraceOutput::Digest => Sink::Digest,
            TraceOutput::Memory => Sink::Memory(Vec::new()),
            TraceOutput::File(dest) => {
                let partial = partial_path(dest);
                let file = File::create(&partial)?;
                Sink::File {
                    out: BufWriter::with_capacity(1 << 16, file),
                    partial,
                    dest: dest.clone(),
                }
            }
        };
        Ok(Some(TraceWriter {
            hasher: Sha256::new(),
            buf: Vec::with_capacity(512),
            sink,
            error: None,
        }))
    }

    /// Appends one line (hashed, then stored or written).
    pub fn line<S: Serialize>(&mut self, value: &S) {
        if self.error.is_some() {
            return;
        }
        self.buf.clear();
        if let Err(e) = serde_json::to_writer(&mut self.buf, value) {
            self.error = Some(io::Error::other(e));
            return;
        }
        self.buf.push(b'\n');
        self.hasher.update(&self.buf);
        self.emit();
    }

    fn emit(&mut self) {
        match &mut self.sink {
            Sink::Digest => {}
            Sink::Memory(lines) => {
                let text = String::from_utf8_lossy(&self.buf[..self.buf.len() - 1]).into_owned();
                lines.push(text);
            }
            Sink::File { out, .. } => {
                if let Err(e) = out.write_all(&self.buf) {
                    self.error = Some(e);
                }
            }
        }
    }

    /// The lines written so far, when writing to memory (empty otherwise).
    pub fn memory_lines(&self) -> &[String] {
        match &self.sink {
            Sink::Memory(lines) => lines,
            _ => &[],
        }
    }

    /// The digest of the lines so far, as hex.
    pub fn digest_hex(&self) -> String {
        hex(&self.hasher.clone().finalize())
    }

    /// Writes the closing line (not hashed) and completes the trace: flushes and renames the file.
    /// On any error the temporary file is removed and the destination is left untouched.
    pub fn close<S: Serialize>(mut self, end: &S) -> io::Result<Finished> {
        let sha256 = self.digest_hex();
        if self.error.is_none() {
            self.buf.clear();
            match serde_json::to_writer(&mut self.buf, end) {
                Ok(()) => {
                    self.buf.push(b'\n');
                    self.emit();
                }
                Err(e) => self.error = Some(io::Error::other(e)),
            }
        }
        let TraceWriter { sink, error, .. } = self;
        match sink {
            Sink::Digest => error.map_or(Ok(()), Err).map(|()| Finished {
                sha256,
                lines: None,
            }),
            Sink::Memory(lines) => error.map_or(Ok(()), Err).map(|()| Finished {
                sha256,
                lines: Some(lines),
            }),
            Sink::File { out, partial, dest } => {
                let done = match error {
                    Some(e) => Err(e),
                    None => out
                        .into_inner()
                        .map_err(|e| e.into_error())
                        .and_then(|f| f.sync_all())
                        .and_then(|()| std::fs::rename(&partial, &dest)),
                };
                if done.is_err() {
                    let _ = std::fs::remove_file(&partial);
                }
                done.map(|()| Finished {
                    sha256,
                    lines: None,
                })
            }
        }
    }

    /// Abandons the trace: removes the temporary file, leaving the destination untouched.
    pub fn abandon(self) {
        if let Sink::File { out, partial, .. } = self.sink {
            drop(out);
            let _ = std::fs::remove_file(&partial);
        }
    }
}

/// Lower-case hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}
