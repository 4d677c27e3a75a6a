//! REST ingest: datasets declared in `ingest/<name>.toml`, whose rows arrive over HTTP (the
//! runner's `POST /api/ingest/{dataset}`), wait in a durable log on local disk, and are flushed
//! into day-partitioned Parquet in a folder or an S3 bucket, then merged per closed day.
//!
//! - [`dataset`]: the declaration (columns, target, flush policy).
//! - [`rows`]: a request body checked against the columns, in the log's form.
//! - [`wal`]: the log (SQLite, group commit).
//! - [`target`]: the folder or bucket, and the manifest that says which files are live.
//! - [`flush`]: log → Parquet, and the day merge.
//! - [`read`]: a pipeline's `format = "dataset"` source.

pub mod dataset;
pub mod flush;
pub mod read;
pub mod rows;
pub mod target;
pub mod wal;

use std::path::{Path, PathBuf};

pub use dataset::Dataset;

/// Why an ingest step failed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum IngestError {
    /// The log.
    #[error(transparent)]
    Wal(#[from] wal::WalError),
    /// Object storage.
    #[error(transparent)]
    S3(#[from] crate::s3::S3Error),
    /// A local file.
    #[error("{path}: {detail}")]
    Io {
        /// The file or folder.
        path: String,
        /// The system's reason.
        detail: String,
    },
    /// Reading or writing frames.
    #[error("dataset '{dataset}': {what}: {detail}")]
    Polars {
        /// The dataset.
        dataset: String,
        /// The step.
        what: String,
        /// Polars' reason.
        detail: String,
    },
    /// The target or its manifest.
    #[error("{0}")]
    Target(String),
}

impl IngestError {
    pub(crate) fn io(path: PathBuf, e: std::io::Error) -> IngestError {
        IngestError::Io { path: path.display().to_string(), detail: e.to_string() }
    }

    pub(crate) fn polars(dataset: &str, what: &str, e: polars::prelude::PolarsError) -> IngestError {
        IngestError::Polars { dataset: dataset.into(), what: what.into(), detail: e.to_string() }
    }
}

/// Where a dataset's log lives: `<state dir>/ingest/<name>/wal.sqlite`.
pub fn wal_path(state_dir: &Path, dataset: &str) -> PathBuf {
    state_dir.join("ingest").join(dataset).join("wal.sqlite")
}

/// The declaration file of dataset `name` under the workspace `root`.
pub fn declaration_path(root: &Path, name: &str) -> PathBuf {
    root.join(dataset::INGEST_DIR).join(format!("{name}.toml"))
}
