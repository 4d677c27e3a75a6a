//! Error types of the engine: spec problems (with file, line and column) and engine failures.

use std::fmt;
use std::path::{Path, PathBuf};

/// A position in a file, 1-based.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    /// The file the position is in.
    pub file: PathBuf,
    /// 1-based line.
    pub line: usize,
    /// 1-based column (in characters).
    pub col: usize,
}

impl Location {
    /// The location of byte `offset` in `text`, which was read from `file`.
    pub fn from_offset(file: &Path, text: &str, offset: usize) -> Self {
        let offset = offset.min(text.len());
        let before = &text[..offset];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let col = before[line_start..].chars().count() + 1;
        Location { file: file.to_path_buf(), line, col }
    }
}

/// Line starts of a text, so that many offsets become line and column in O(log n) each: the
/// loader locates every task, and scanning from the start each time made big files quadratic.
#[derive(Debug, Clone)]
pub struct LineIndex {
    starts: Vec<usize>,
}

impl LineIndex {
    /// Indexes `text`.
    pub fn new(text: &str) -> LineIndex {
        LineIndex { starts: std::iter::once(0).chain(text.match_indices('\n').map(|(i, _)| i + 1)).collect() }
    }

    /// The 1-based line and column (in characters) of byte `offset` in `text` (the indexed text).
    pub fn locate(&self, file: &Path, text: &str, offset: usize) -> Location {
        let mut offset = offset.min(text.len());
        while !text.is_char_boundary(offset) {
            offset -= 1;
        }
        let line = self.starts.partition_point(|&s| s <= offset);
        let start = self.starts[line - 1];
        Location { file: file.to_path_buf(), line, col: text[start..offset].chars().count() + 1 }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file.display(), self.line, self.col)
    }
}

/// One problem found in a pipeline's files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpecProblem {
    /// Where the problem is, when it can be pinned to a place.
    pub location: Option<Location>,
    /// What is wrong and, where it helps, how to fix it.
    pub message: String,
}

impl fmt::Display for SpecProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.location {
            Some(loc) => write!(f, "{loc}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

/// A pipeline that cannot be loaded, with every problem found (not just the first).
#[derive(Debug, Clone, thiserror::Error)]
pub struct SpecError {
    /// The problems, in file order.
    pub problems: Vec<SpecProblem>,
}

impl SpecError {
    /// A spec error with a single problem.
    pub fn single(location: Option<Location>, message: impl Into<String>) -> Self {
        SpecError { problems: vec![SpecProblem { location, message: message.into() }] }
    }
}

impl fmt::Display for SpecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.problems.len();
        if n > 1 {
            writeln!(f, "{n} problems in the pipeline:")?;
        }
        for (i, p) in self.problems.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            if n > 1 {
                write!(f, "  - ")?;
            }
            write!(f, "{p}")?;
        }
        Ok(())
    }
}

/// Failures of the engine outside a single task.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The pipeline's files are invalid.
    #[error(transparent)]
    Spec(#[from] SpecError),
    /// Reading or writing a file failed.
    #[error("{action} {}: {source}", path.display())]
    Io {
        /// What was being done ("cannot read", "cannot write", …).
        action: &'static str,
        /// The file or folder.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// The run metadata database failed.
    #[error("run metadata database {}: {source}", path.display())]
    Store {
        /// The SQLite file.
        path: PathBuf,
        /// SQLite's error.
        #[source]
        source: rusqlite::Error,
    },
    /// A run, task or artifact asked for does not exist.
    #[error("{0}")]
    NotFound(String),
    /// A bad argument from the caller (CLI flags, API parameters).
    #[error("{0}")]
    Invalid(String),
    /// A task failed while previewing or inspecting data.
    #[error(transparent)]
    Task(#[from] crate::tasks::TaskError),
}

impl Error {
    /// Wraps an I/O error with what was being done and on which path.
    pub fn io(action: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io { action, path: path.into(), source }
    }
}

/// Result with the engine's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
