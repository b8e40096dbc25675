//! Output files that never replace a user's file: a name is claimed by creating it exclusively, then
//! filled (a trace writer renames its complete temporary file over the claimed, empty one). A failure
//! removes the claim, so nothing is left half-written.

use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};

/// A file name this process created, still empty; dropped without [`Claim::keep`], it is removed.
#[derive(Debug)]
pub struct Claim {
    path: PathBuf,
    kept: bool,
}

impl Claim {
    /// Creates `path` exclusively: fails if anything exists there.
    pub fn new(path: &Path) -> io::Result<Claim> {
        File::options()
            .write(true)
            .create_new(true)
            .open(path)
            .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", path.display())))?;
        Ok(Claim {
            path: path.to_path_buf(),
            kept: false,
        })
    }

    /// The claimed path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Keeps the file: it has been filled.
    pub fn keep(mut self) -> PathBuf {
        self.kept = true;
        self.path.clone()
    }
}

impl Drop for Claim {
    fn drop(&mut self) {
        if !self.kept {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// Whether `a` and `b` name the same existing file.
pub fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(x), Ok(y)) => x == y,
        _ => false,
    }
}

/// Writes `text` to `path`, replacing a regular file there (the user asked for it), through
/// [`crate::output::write_whole`]: a unique temporary file renamed into place when complete.
pub fn write_replacing(path: &Path, text: &str) -> io::Result<()> {
    crate::output::write_whole(path, text.as_bytes()).map_err(|e| io::Error::other(e.to_string()))
}
