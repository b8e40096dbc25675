//! Streaming trace writer: adds each line to the run's [`Fingerprint`]; unless only the fingerprint
//! is wanted, also serialises the line to JSON once into a reused buffer (a file in format 3,
//! [`super::compact`]; lines kept in memory in format 2), hashes it with SHA-256 and (when writing a
//! file) appends it to an [`OutputFile`], which replaces the destination only when the run
//! completes (see [`crate::output`] for devices, symlinks and signals). A failed run never truncates or
//! clobbers an existing file. A writer can also compare each line with a trace file as it goes
//! ([`TraceOutput::Compare`]), which is how a replay runs in constant memory.

use super::compact::CompactWriter;
use super::compare::{Comparer, Mismatch};
use super::fingerprint::Fingerprint;
use super::line::{FORMAT_2, HeaderLine, Line, TRACE_FORMAT};
use crate::output::OutputFile;
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::io::{self, Write};
use std::path::PathBuf;

/// Where a trace goes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum TraceOutput {
    /// Nowhere: no line is even serialised (fastest; no digest).
    #[default]
    Off,
    /// Only the run's [`Fingerprint`] is computed: no line is written as JSON.
    Digest,
    /// Kept in memory, line by line, in format 2 (each line self-contained; for tests and the
    /// harness).
    Memory,
    /// Written to this file, in format 3 ([`TRACE_FORMAT`]).
    File(PathBuf),
    /// Compared, line by line, with this trace file, in the file's format (2 or 3); the writer asks
    /// the run to stop at the first difference ([`TraceWriter::wants_stop`]).
    Compare(PathBuf),
}

enum Sink {
    Digest,
    Memory(Vec<String>),
    File(OutputFile),
    Compare(Box<Comparer>),
}

/// What a finished trace produced.
#[derive(Clone, Debug, Default)]
pub struct Finished {
    /// The run's [`Fingerprint`], as hex.
    pub fingerprint: String,
    /// SHA-256 of every JSON line before the closing one, as hex (`None` for
    /// [`TraceOutput::Digest`], which writes no JSON).
    pub sha256: Option<String>,
    /// Every line (with the closing one), for [`TraceOutput::Memory`].
    pub lines: Option<Vec<String>>,
    /// For [`TraceOutput::Compare`]: the lines compared and the first difference.
    pub compared: Option<(usize, Option<Mismatch>)>,
}

/// How lines become JSON.
enum Encoding {
    /// Format 2: each [`Line`] as its derived `Serialize` writes it.
    Format2,
    /// Format 3 ([`TRACE_FORMAT`]).
    Compact(Box<CompactWriter>),
}

/// Writes one trace.
pub struct TraceWriter {
    fingerprint: Fingerprint,
    hasher: Sha256,
    buf: Vec<u8>,
    encoding: Encoding,
    sink: Sink,
    error: Option<io::Error>,
}

impl TraceWriter {
    /// Opens a writer, or `None` for [`TraceOutput::Off`].
    pub fn open(output: &TraceOutput) -> io::Result<Option<TraceWriter>> {
        let sink = match output {
            TraceOutput::Off => return Ok(None),
            TraceOutput::Digest => Sink::Digest,
            TraceOutput::Memory => Sink::Memory(Vec::new()),
            TraceOutput::File(dest) => Sink::File(OutputFile::create(dest)?),
            TraceOutput::Compare(file) => {
                Sink::Compare(Box::new(Comparer::open(file).map_err(io::Error::other)?))
            }
        };
        let format = match &sink {
            Sink::Compare(c) => c.format().unwrap_or(TRACE_FORMAT),
            Sink::Memory(_) => FORMAT_2,
            Sink::Digest | Sink::File(_) => TRACE_FORMAT,
        };
        let encoding = if format == FORMAT_2 {
            Encoding::Format2
        } else {
            Encoding::Compact(Box::default())
        };
        Ok(Some(TraceWriter {
            fingerprint: Fingerprint::default(),
            hasher: Sha256::new(),
            buf: Vec::with_capacity(512),
            encoding,
            sink,
            error: None,
        }))
    }

    /// Appends one line (fingerprinted; unless only the fingerprint is wanted, also hashed as JSON,
    /// then stored or written).
    pub fn line<M: Serialize, T: Serialize, N: Serialize>(&mut self, value: &Line<'_, M, T, N>) {
        if self.error.is_some() {
            return;
        }
        if let Err(e) = self.fingerprint.line(value) {
            self.error = Some(io::Error::other(e));
            return;
        }
        if matches!(self.sink, Sink::Digest) {
            return;
        }
        self.buf.clear();
        let written = match (value, &mut self.encoding) {
            (
                Line::Header {
                    distsim,
                    seed,
                    scenario,
                },
                Encoding::Format2,
            ) => serde_json::to_writer(
                &mut self.buf,
                &HeaderLine {
                    kind: "header",
                    format: FORMAT_2,
                    distsim,
                    seed: *seed,
                    scenario,
                },
            ),
            (_, Encoding::Format2) => serde_json::to_writer(&mut self.buf, value),
            (_, Encoding::Compact(compact)) => compact.write(value, &mut self.buf),
        };
        if let Err(e) = written {
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
            Sink::File(out) => {
                if let Err(e) = out.write_all(&self.buf) {
                    self.error = Some(e);
                }
            }
            Sink::Compare(c) => {
                if let Err(e) = c.line(&self.buf[..self.buf.len() - 1]) {
                    self.error = Some(io::Error::other(e));
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

    /// Whether the run should stop: writing failed, or a compared file differs already.
    pub fn wants_stop(&self) -> bool {
        self.error.is_some() || matches!(&self.sink, Sink::Compare(c) if c.done())
    }

    /// The SHA-256 of the JSON lines so far, as hex; `None` when only the fingerprint is kept.
    pub fn sha256_hex(&self) -> Option<String> {
        (!matches!(self.sink, Sink::Digest))
            .then(|| format!("{:x}", self.hasher.clone().finalize()))
    }

    /// The run's [`Fingerprint`] so far, as hex.
    pub fn fingerprint_hex(&self) -> String {
        self.fingerprint.hex()
    }

    /// Writes the closing line (not hashed) and completes the trace: flushes and renames the file.
    /// On any error the temporary file is removed and the destination is left untouched.
    pub fn close<S: Serialize>(mut self, end: &S) -> io::Result<Finished> {
        let sha256 = self.sha256_hex();
        let fingerprint = self.fingerprint_hex();
        if self.error.is_none() && sha256.is_some() {
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
        let mut finished = Finished {
            fingerprint,
            sha256,
            lines: None,
            compared: None,
        };
        if let Some(e) = error {
            // Dropping the sink removes any temporary file.
            return Err(e);
        }
        match sink {
            Sink::Digest => {}
            Sink::Memory(lines) => finished.lines = Some(lines),
            Sink::File(out) => out.commit()?,
            Sink::Compare(c) => finished.compared = Some(c.finish().map_err(io::Error::other)?),
        }
        Ok(finished)
    }

    /// Abandons the trace: removes the temporary file, leaving the destination untouched.
    pub fn abandon(self) {
        drop(self);
    }
}
