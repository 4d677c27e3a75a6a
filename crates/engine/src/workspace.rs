//! A workspace: the folder whose `.polder/` holds run metadata, artifacts and logs.

use crate::paths::PathPolicy;
use std::path::{Path, PathBuf};

use crate::duckdb_files::DuckDbFiles;
use crate::error::{Error, Result};
use crate::store::Store;

/// The state folder inside a workspace.
pub const STATE_DIR: &str = ".polder";

/// An opened workspace; cheap to share behind an `Arc`.
pub struct Workspace {
    root: PathBuf,
    state: PathBuf,
    /// Run metadata.
    pub store: Store,
    /// Open DuckDB database files, one instance per file, writers serialized.
    pub duckdb: DuckDbFiles,
    /// Runs found interrupted (left `running` by a dead process) and marked failed at open.
    pub recovered: Vec<i64>,
    /// Folders beyond each pipeline's own that data paths may use (`POLDER_DATA_DIRS`).
    pub paths: PathPolicy,
}

impl Workspace {
    /// Opens (creating `.polder/` if needed) the workspace at `root`, and recovers from a crash:
    /// runs left `running` by a dead process are marked failed, stale temp files removed.
    pub fn open(root: &Path) -> Result<Workspace> {
        std::fs::create_dir_all(root).map_err(|e| Error::io("cannot create workspace", root, e))?;
        let root = root.canonicalize().map_err(|e| Error::io("cannot open workspace", root, e))?;
        let state = root.join(STATE_DIR);
        for sub in ["artifacts", "logs"] {
            let d = state.join(sub);
            std::fs::create_dir_all(&d).map_err(|e| Error::io("cannot create", &d, e))?;
        }
        let store = Store::open(&state.join("polder.db"))?;
        let recovered = store.recover_interrupted()?;
        if !recovered.is_empty() {
            tracing::warn!(runs = ?recovered, "marked runs interrupted by a crash as failed");
        }
        let swept = crate::fsutil::sweep_stale_temps(&state.join("artifacts"));
        if swept > 0 {
            tracing::info!(files = swept, "removed temp files left by interrupted runs");
        }
        let paths = PathPolicy::from_env().map_err(|e| Error::Invalid(e.to_string()))?;
        Ok(Workspace { root, state, store, duckdb: DuckDbFiles::default(), recovered, paths })
    }

    /// The workspace folder.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The `.polder` folder.
    pub fn state_dir(&self) -> &Path {
        &self.state
    }

    /// Where the output of `task` in run `run_id` lives: (absolute path, path relative to `.polder`).
    /// One file per run, never overwritten, because readers memory-map artifacts.
    pub fn artifact_path(&self, pipeline: &str, task: &str, run_id: i64) -> (PathBuf, String) {
        let rel = format!("artifacts/{pipeline}/{task}/run-{run_id}.parquet");
        (self.state.join(&rel), rel)
    }

    /// Where the log of `task` in run `run_id` goes: (absolute path, path relative to `.polder`).
    pub fn log_path(&self, pipeline: &str, task: &str, run_id: i64) -> (PathBuf, String) {
        let rel = format!("logs/{pipeline}/run-{run_id}/{task}.log");
        (self.state.join(&rel), rel)
    }

    /// An absolute path for a path stored relative to `.polder`.
    pub fn resolve(&self, rel: &str) -> PathBuf {
        self.state.join(rel)
    }
}
