//! A pipeline's `format = "dataset"` source: the files the manifest lists, and, when asked, the
//! rows still waiting in the log.

use std::path::{Path, PathBuf};

use polars::prelude::*;

use super::dataset::Dataset;
use super::rows::{frame_schema, lines_to_frame};
use super::target::Target;
use super::{flush, wal, IngestError};

/// The dataset's rows: the Parquet `files` planned for the task, or, with `wal` (rows not yet
/// flushed wanted), the files of a fresh manifest plus the log's rows it does not cover yet.
pub fn frame(ds: &Dataset, target: &Target, files: &[PathBuf], wal: Option<&Path>) -> Result<LazyFrame, IngestError> {
    let (urls, unflushed): (Vec<String>, Vec<u8>) = match wal {
        None => (files.iter().map(|f| f.to_string_lossy().into_owned()).collect(), Vec::new()),
        Some(wal_file) => {
            // The log first, then the manifest: a flush between the two moves rows from the log
            // into files the manifest then lists, and its `flushed_through` says which to skip.
            let entries = wal::read_unflushed(wal_file, 0)?;
            let m = target.read_manifest()?;
            let lines = entries.into_iter().filter(|(seq, _)| *seq > m.flushed_through).flat_map(|(_, l)| l).collect();
            (flush::live_files(&m, target), lines)
        }
    };
    let mut parts = Vec::new();
    if !urls.is_empty() {
        parts.push(flush::scan(&urls, target)?);
    }
    if !unflushed.is_empty() {
        parts.push(lines_to_frame(ds, &unflushed).map_err(|e| IngestError::polars(&ds.name, "reading the log", e))?.lazy());
    }
    if parts.is_empty() {
        // Nothing flushed yet: the declared columns, no rows.
        return Ok(DataFrame::empty_with_schema(&frame_schema(ds)).lazy());
    }
    let args = UnionArgs { parallel: true, rechunk: false, to_supertypes: true, ..Default::default() };
    concat(parts, args).map_err(|e| IngestError::polars(&ds.name, "combining files", e))
}
