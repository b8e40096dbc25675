//! Output files (traces, histories, views, sweep results): written so that nothing a user has is lost.
//!
//! - A regular file, or a path that does not exist yet, is written to a uniquely named temporary file
//!   created exclusively (`O_EXCL`) in the target's own directory, and renamed over the target only once
//!   the output is complete ([`OutputFile::commit`]). A failed or abandoned output leaves the target as
//!   it was. Two runs writing the same target never share a temporary file: the last to finish wins,
//!   and each installs a whole file.
//! - A device, a FIFO or a socket (`/dev/null`, a named pipe) is written directly and never renamed
//!   over: it stays what it was. The process's own standard streams (`/dev/stdout`, `/dev/stderr`,
//!   `/dev/fd/1`, `/proc/self/fd/2`) are written through its own handles, whatever they are.
//! - A symlink is followed: its final target is written (under the rules above), and the link stays.
//! - A directory is refused.
//! - Two outputs of one run that resolve to the same file, or an output that is one of the run's inputs,
//!   are refused before anything is written ([`ensure_distinct`]). Character devices may be named twice
//!   (`/dev/null` for both the trace and the history).
//! - Every live temporary file is in a registry; [`remove_temporaries_on_signal`] installs a SIGINT and
//!   SIGTERM handler that removes them all and exits with code 130.
//!
//! Any part of distsim that writes a user-named file goes through [`OutputFile`] (or [`write_whole`]).

use std::collections::BTreeSet;
use std::fs::{File, OpenOptions, Permissions};
use std::io::{self, BufWriter, Write};
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};
use tempfile::TempPath;

/// The exit code a process gives when a signal made it remove its temporaries and stop (128 + SIGINT).
pub const EXIT_SIGNALLED: i32 = 130;

/// How many symlinks are followed before giving up (the kernel's own limit is 40).
const SYMLINK_HOPS_MAX: usize = 40;

/// Buffer size of an output file.
const BUFFER_BYTES: usize = 1 << 16;

/// An output that cannot be written, and why; nothing was overwritten. Exit code 2 at the command line.
#[derive(Debug, thiserror::Error)]
#[error("{path}: {message}")]
pub struct OutputError {
    /// The path as the user gave it.
    pub path: String,
    /// What is wrong.
    pub message: String,
}

impl OutputError {
    fn new(path: &Path, message: impl Into<String>) -> Self {
        OutputError {
            path: crate::text::escaped(&path.display().to_string()).into_owned(),
            message: message.into(),
        }
    }

    fn io(path: &Path, doing: &str, err: &io::Error) -> Self {
        OutputError::new(path, format!("cannot {doing}: {err}"))
    }
}

impl From<OutputError> for io::Error {
    fn from(e: OutputError) -> Self {
        io::Error::other(e.to_string())
    }
}

/// One of the process's own standard streams, named as a file (`/dev/stdout`, `/dev/fd/2`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stream {
    /// Standard output.
    Stdout,
    /// Standard error.
    Stderr,
}

/// The standard stream `path` names, if it names one. These are written through the process's own
/// handle: reopening them would write at another offset than the rest of the output (when the stream
/// is a file), and resolving them leads to names like `pipe:[1234]` that no file has.
fn standard_stream(path: &Path) -> Option<Stream> {
    match path.to_str()? {
        "/dev/stdout" | "/dev/fd/1" | "/proc/self/fd/1" | "/proc/thread-self/fd/1" => {
            Some(Stream::Stdout)
        }
        "/dev/stderr" | "/dev/fd/2" | "/proc/self/fd/2" | "/proc/thread-self/fd/2" => {
            Some(Stream::Stderr)
        }
        _ => None,
    }
}

/// What a path finally names, after following symlinks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// A regular file, or nothing yet: written through a temporary file and a rename.
    Regular(PathBuf),
    /// A device, FIFO or socket: written directly.
    Direct {
        /// The resolved path.
        path: PathBuf,
        /// Whether it is a character device (`/dev/null`, a terminal), which may be named twice.
        char_device: bool,
    },
    /// The process's standard output or error: written directly, through the process's own handle.
    Stream {
        /// Which stream.
        stream: Stream,
        /// The path as given.
        path: PathBuf,
        /// Whether the stream is a character device (a terminal), which may be named twice.
        char_device: bool,
    },
}

impl Target {
    /// The resolved path.
    pub fn path(&self) -> &Path {
        match self {
            Target::Regular(p)
            | Target::Direct { path: p, .. }
            | Target::Stream { path: p, .. } => p,
        }
    }

    /// Whether it is written directly (never through a temporary file).
    pub fn is_direct(&self) -> bool {
        !matches!(self, Target::Regular(_))
    }

    fn is_char_device(&self) -> bool {
        matches!(
            self,
            Target::Direct {
                char_device: true,
                ..
            } | Target::Stream {
                char_device: true,
                ..
            }
        )
    }
}

/// Follows `path` through any symlinks to what it names, and tells how it must be written.
pub fn resolve(path: &Path) -> Result<Target, OutputError> {
    if let Some(stream) = standard_stream(path) {
        let char_device = std::fs::metadata(path).is_ok_and(|m| m.file_type().is_char_device());
        return Ok(Target::Stream {
            stream,
            path: path.to_path_buf(),
            char_device,
        });
    }
    // The kernel follows every link, the magic ones under /proc included.
    match std::fs::metadata(path) {
        Ok(meta) if meta.is_dir() => Err(OutputError::new(path, "is a directory, not a file")),
        Ok(meta) if meta.is_file() => path
            .canonicalize()
            .map(Target::Regular)
            .map_err(|e| OutputError::io(path, "resolve the path", &e)),
        Ok(meta) => Ok(Target::Direct {
            path: path.canonicalize().unwrap_or_else(|_| path.to_path_buf()),
            char_device: meta.file_type().is_char_device(),
        }),
        Err(e) if e.kind() == io::ErrorKind::NotFound => resolve_missing(path),
        Err(e) => Err(OutputError::io(path, "inspect the path", &e)),
    }
}

/// Resolves a path that names nothing yet: a new file, or the target of a dangling symlink (chain).
fn resolve_missing(path: &Path) -> Result<Target, OutputError> {
    let mut current = path.to_path_buf();
    for _ in 0..SYMLINK_HOPS_MAX {
        match std::fs::symlink_metadata(&current) {
            Ok(meta) if meta.file_type().is_symlink() => {
                let link = std::fs::read_link(&current)
                    .map_err(|e| OutputError::io(path, "read the symlink", &e))?;
                current = match current.parent() {
                    Some(dir) if link.is_relative() => dir.join(link),
                    _ => link,
                };
            }
            // It appeared meanwhile: start again from the top.
            Ok(_) => return resolve(&current),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                let Some(name) = current.file_name() else {
                    return Err(OutputError::new(path, "names no file"));
                };
                let dir = match current.parent() {
                    Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
                    _ => PathBuf::from("."),
                };
                let dir = dir.canonicalize().map_err(|e| {
                    OutputError::io(path, &format!("use the directory {}", dir.display()), &e)
                })?;
                return Ok(Target::Regular(dir.join(name)));
            }
            Err(e) => return Err(OutputError::io(path, "inspect the path", &e)),
        }
    }
    Err(OutputError::new(
        path,
        format!("more than {SYMLINK_HOPS_MAX} symlinks to follow"),
    ))
}

/// A file's device and inode.
type Identity = (u64, u64);

/// The identity of an existing file (device and inode), to catch hard links and aliases.
fn identity(path: &Path) -> Option<Identity> {
    std::fs::metadata(path).ok().map(|m| (m.dev(), m.ino()))
}

/// Refuses outputs that would write the same file twice, or write over one of the inputs. `outputs`
/// pairs each path with what it is for (`"--trace"`), to name both in the message.
pub fn ensure_distinct(outputs: &[(&str, &Path)], inputs: &[&Path]) -> Result<(), OutputError> {
    let mut seen: Vec<(&str, Target, Option<Identity>)> = Vec::new();
    for &(role, path) in outputs {
        let target = resolve(path)?;
        let id = identity(target.path());
        let same = |other: &Target, other_id: Option<Identity>| {
            other.path() == target.path() || (id.is_some() && id == other_id)
        };
        for &input in inputs {
            let input_id = identity(input);
            let input_path = input.canonicalize().ok();
            if input_path.as_deref() == Some(target.path()) || (id.is_some() && id == input_id) {
                if target.is_direct() {
                    continue;
                }
                return Err(OutputError::new(
                    path,
                    format!(
                        "{role} would overwrite the input file {}",
                        crate::text::escaped(&input.display().to_string())
                    ),
                ));
            }
        }
        for (other_role, other, other_id) in &seen {
            let both_char = target.is_char_device() && other.is_char_device();
            if same(other, *other_id) && !both_char {
                return Err(OutputError::new(
                    path,
                    format!("{role} and {other_role} name the same file: one would be lost"),
                ));
            }
        }
        seen.push((role, target, id));
    }
    Ok(())
}

/// The temporary files alive now; a signal removes them.
static TEMPORARIES: Mutex<BTreeSet<PathBuf>> = Mutex::new(BTreeSet::new());

fn temporaries() -> MutexGuard<'static, BTreeSet<PathBuf>> {
    // A panic while holding the lock leaves the set itself intact: keep using it.
    TEMPORARIES.lock().unwrap_or_else(|p| p.into_inner())
}

/// The temporary files alive now (for tests and diagnostics).
pub fn live_temporaries() -> Vec<PathBuf> {
    temporaries().iter().cloned().collect()
}

/// Installs a SIGINT and SIGTERM handler that removes every live temporary output file and exits with
/// [`EXIT_SIGNALLED`]. Call once, early, from a program's `main`.
pub fn remove_temporaries_on_signal() -> io::Result<()> {
    use signal_hook::consts::{SIGINT, SIGTERM};
    let mut signals = signal_hook::iterator::Signals::new([SIGINT, SIGTERM])?;
    // determinism-ok: this thread only waits for a signal to clean up files; no run observes it.
    std::thread::Builder::new()
        .name("distsim-signals".into())
        .spawn(move || {
            if signals.forever().next().is_some() {
                // Hold the lock to the end, so that no new temporary appears after the sweep.
                let live = temporaries();
                for path in live.iter() {
                    let _ = std::fs::remove_file(path);
                }
                let _ = io::stdout().flush();
                std::process::exit(EXIT_SIGNALLED);
            }
        })?;
    Ok(())
}

enum Sink {
    Temporary { file: File, temp: TempPath },
    Direct(File),
    Stdout(io::Stdout),
    Stderr(io::Stderr),
}

/// A file being written; see the module docs for what happens with each kind of target.
pub struct OutputFile {
    /// `None` only once committed.
    out: Option<BufWriter<Sink>>,
    /// The path as given, for messages.
    given: PathBuf,
    /// Where a temporary file is renamed to.
    dest: PathBuf,
}

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Sink::Temporary { file, .. } | Sink::Direct(file) => file.write(buf),
            Sink::Stdout(out) => out.write(buf),
            Sink::Stderr(err) => err.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Sink::Temporary { file, .. } | Sink::Direct(file) => file.flush(),
            Sink::Stdout(out) => out.flush(),
            Sink::Stderr(err) => err.flush(),
        }
    }
}

impl OutputFile {
    /// Opens `path` for writing: a temporary file beside a regular target, the target itself for a
    /// device or pipe. Nothing at `path` changes until [`commit`](Self::commit).
    pub fn create(path: &Path) -> Result<OutputFile, OutputError> {
        let target = resolve(path)?;
        let sink = match &target {
            Target::Stream {
                stream: Stream::Stdout,
                ..
            } => Sink::Stdout(io::stdout()),
            Target::Stream {
                stream: Stream::Stderr,
                ..
            } => Sink::Stderr(io::stderr()),
            Target::Direct { path: p, .. } => {
                let file = OpenOptions::new()
                    .write(true)
                    .open(p)
                    .map_err(|e| OutputError::io(path, "open for writing", &e))?;
                Sink::Direct(file)
            }
            Target::Regular(p) => {
                let dir = p.parent().unwrap_or(Path::new("."));
                let name = p.file_name().unwrap_or_default().to_string_lossy();
                let mut registry = temporaries();
                let prefix = format!(".{name}.");
                let mut builder = tempfile::Builder::new();
                builder
                    .prefix(&prefix)
                    .suffix(".partial")
                    .permissions(Permissions::from_mode(0o666));
                let (file, temp) = builder
                    .tempfile_in(dir)
                    .map_err(|e| {
                        OutputError::io(
                            path,
                            &format!("create a temporary file in {}", dir.display()),
                            &e,
                        )
                    })?
                    .into_parts();
                registry.insert(temp.to_path_buf());
                Sink::Temporary { file, temp }
            }
        };
        Ok(OutputFile {
            out: Some(BufWriter::with_capacity(BUFFER_BYTES, sink)),
            given: path.to_path_buf(),
            dest: target.path().to_path_buf(),
        })
    }

    /// The temporary file's path, while there is one (for tests).
    pub fn temporary_path(&self) -> Option<&Path> {
        match self.out.as_ref().map(BufWriter::get_ref) {
            Some(Sink::Temporary { temp, .. }) => Some(temp),
            _ => None,
        }
    }

    fn writer(&mut self) -> &mut BufWriter<Sink> {
        self.out
            .as_mut()
            .expect("an output file is writable until committed")
    }

    /// Completes the output: flushes, syncs and renames the temporary file over the target. The rename
    /// happens only if the target is (still) a regular file or missing; otherwise the temporary file is
    /// removed and the target left alone. A device or pipe is flushed only.
    pub fn commit(mut self) -> Result<(), OutputError> {
        let given = std::mem::take(&mut self.given);
        let dest = std::mem::take(&mut self.dest);
        let sink = self
            .out
            .take()
            .expect("an output file is committed once")
            .into_inner()
            .map_err(|e| OutputError::io(&given, "write", e.error()))?;
        match sink {
            Sink::Direct(mut file) => file
                .flush()
                .map_err(|e| OutputError::io(&given, "write", &e)),
            Sink::Stdout(mut out) => out
                .flush()
                .map_err(|e| OutputError::io(&given, "write", &e)),
            Sink::Stderr(mut err) => err
                .flush()
                .map_err(|e| OutputError::io(&given, "write", &e)),
            Sink::Temporary { file, temp } => {
                let done = install(&given, &dest, &file, &temp);
                drop(file);
                let path = temp.to_path_buf();
                let result = match done {
                    Ok(()) => temp
                        .persist(&dest)
                        .map_err(|e| OutputError::io(&given, "rename into place", &e.error)),
                    Err(e) => {
                        let _ = temp.close();
                        Err(e)
                    }
                };
                temporaries().remove(&path);
                result
            }
        }
    }

    /// Gives up: removes the temporary file; the target is untouched.
    pub fn abandon(self) {
        drop(self);
    }
}

/// Checks, just before the rename, that the target is still a regular file or missing, and gives the
/// temporary file the target's permissions when it replaces one.
fn install(given: &Path, dest: &Path, file: &File, temp: &Path) -> Result<(), OutputError> {
    file.sync_all()
        .map_err(|e| OutputError::io(given, "write", &e))?;
    match std::fs::symlink_metadata(dest) {
        Ok(meta) if meta.file_type().is_file() => {
            std::fs::set_permissions(temp, meta.permissions())
                .map_err(|e| OutputError::io(given, "copy the permissions", &e))?;
            Ok(())
        }
        Ok(_) => Err(OutputError::new(
            given,
            format!(
                "{} stopped being a regular file while the output was written; left as it is",
                dest.display()
            ),
        )),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(OutputError::io(given, "inspect the path", &e)),
    }
}

impl Drop for OutputFile {
    fn drop(&mut self) {
        if let Some(Sink::Temporary { file, temp }) = self.out.take().map(|w| w.into_parts().0) {
            drop(file);
            let path = temp.to_path_buf();
            // Remove the file before forgetting it, so a signal in between still finds it.
            let _ = temp.close();
            temporaries().remove(&path);
        }
    }
}

impl Write for OutputFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.writer().write(buf)
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        self.writer().write_all(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.writer().flush()
    }
}

/// Writes `bytes` to `path` as one complete output (see [`OutputFile`]).
pub fn write_whole(path: &Path, bytes: &[u8]) -> Result<(), OutputError> {
    let mut out = OutputFile::create(path)?;
    out.write_all(bytes)
        .map_err(|e| OutputError::io(path, "write", &e))?;
    out.commit()
}
