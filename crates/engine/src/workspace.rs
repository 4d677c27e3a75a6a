//! A workspace: the folder whose `.polder/` holds run metadata, artifacts and logs.

use crate::paths::PathPolicy;
use std::path::{Path, PathBuf};

use crate::duckdb_files::DuckDbFiles;
use crate::error::{Error, Result};
use crate::isolate::TaskIsolation;
use crate::memory::MemoryBudget;
use crate::spec::{Pipeline, TaskKind};
use crate::store::Store;

/// The state folder inside a workspace.
pub const STATE_DIR: &str = ".polder";

/// Where DuckDB spills, inside the state folder: a folder per attempt.
const SPILL_DIR: &str = "tmp/spill";

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
    /// Where tasks run their Polars work (a child process when the program supports it).
    pub isolation: TaskIsolation,
    /// The memory budget of tasks without `memory_limit`, in bytes.
    pub default_memory_limit: u64,
    /// Where `${secret:NAME}` references are read (the desktop app's OS keyring, a test's own);
    /// None: the workspace's encrypted file store ([`crate::secrets::FileSecretStore`]).
    pub secrets: Option<std::sync::Arc<dyn crate::connections::SecretStore + Send + Sync>>,
}

impl Workspace {
    /// Opens (creating `.polder/` if needed) the workspace at `root`, takes this process's owner
    /// lock in it, and recovers from a crash (see [`Workspace::recover`]).
    pub fn open(root: &Path) -> Result<Workspace> {
        std::fs::create_dir_all(root).map_err(|e| Error::io("cannot create workspace", root, e))?;
        let root = root.canonicalize().map_err(|e| Error::io("cannot open workspace", root, e))?;
        let state = root.join(STATE_DIR);
        for sub in ["artifacts", "logs"] {
            let d = state.join(sub);
            std::fs::create_dir_all(&d).map_err(|e| Error::io("cannot create", &d, e))?;
        }
        let paths = PathPolicy::from_env().map_err(|e| Error::Invalid(e.to_string()))?;
        let store = Store::open(&state.join("polder.db"))?;
        let mut ws = Workspace {
            root,
            state,
            store,
            duckdb: DuckDbFiles::default(),
            recovered: Vec::new(),
            paths,
            isolation: crate::isolate::default_isolation(),
            default_memory_limit: crate::memory::default_budget(),
            secrets: None,
        };
        ws.recovered = ws.recover()?;
        Ok(ws)
    }

    /// Recovers from crashes of any process that used this workspace: runs whose owner no longer
    /// runs are marked failed (returned), their temp files under `artifacts/` removed, and the
    /// owners' lock files marked dead. Cheap enough to repeat (the runner does, periodically).
    pub fn recover(&self) -> Result<Vec<i64>> {
        let recovered = self.store.recover_interrupted()?;
        if !recovered.is_empty() {
            tracing::warn!(runs = ?recovered, "marked runs interrupted by a crash as failed");
        }
        let swept = crate::fsutil::sweep_stale_temps(&self.state.join("artifacts"), self.owners_dir());
        if swept > 0 {
            tracing::info!(files = swept, "removed temp files left by interrupted runs");
        }
        crate::fsutil::sweep_stale_temps(&self.state.join(SPILL_DIR), self.owners_dir());
        crate::owners::sweep_dead(self.owners_dir());
        Ok(recovered)
    }

    /// Removes temp outputs that dead writers left beside the sink targets of `pipelines`
    /// (a partitioned Parquet folder cut off mid-write, say); returns how many.
    pub fn sweep_sink_temps<'a>(&self, pipelines: impl IntoIterator<Item = &'a Pipeline>) -> usize {
        let mut removed = 0;
        for p in pipelines {
            for t in &p.tasks {
                if let TaskKind::Sink(sink) = &t.kind {
                    if let Some(path) = &sink.path {
                        for target in expand_template_dirs(&p.dir, path) {
                            removed += crate::fsutil::sweep_temps_beside(&target, self.owners_dir());
                        }
                    }
                }
            }
        }
        if removed > 0 {
            tracing::info!(entries = removed, "removed temp outputs left beside sink targets by interrupted runs");
        }
        removed
    }

    /// The budget of an attempt of `task` (its `memory_limit`, else the workspace default) with
    /// a fresh DuckDB spill folder under `.polder/tmp/spill`, named like a temp file so the
    /// folders of crashed processes are swept.
    pub fn memory_budget(&self, task: &str, limit: Option<u64>) -> MemoryBudget {
        let root = self.state.join(SPILL_DIR);
        // DuckDB creates the spill folder itself, but not its parents. A failure here shows up
        // as DuckDB's own error when (and only if) the task spills.
        let _ = std::fs::create_dir_all(&root);
        MemoryBudget {
            bytes: limit.unwrap_or(self.default_memory_limit),
            spill_dir: crate::fsutil::temp_path_for(&root.join(task)),
        }
    }

    /// The folder of owner locks (who runs each run; see [`crate::owners`]).
    pub fn owners_dir(&self) -> &Path {
        self.store.owners_dir()
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

    /// How `s3://` paths are reached: through the workspace connection `name` (its references
    /// read from the environment and the secret store), or, with no name, through the standard
    /// AWS_* variables. Read on every call, so an edited `connections.toml` or a newly set secret
    /// applies to the next run.
    pub fn s3_access(&self, name: Option<&str>) -> std::result::Result<crate::s3::S3Access, String> {
        let env = |n: &str| std::env::var(n).ok();
        let Some(name) = name else { return crate::s3::S3Access::from_env(&env).map_err(|e| e.to_string()) };
        let resolved = self.resolve_connection(name, crate::connections::ConnectionType::S3)?;
        crate::s3::S3Access::from_connection(&resolved).map_err(|e| e.to_string())
    }

    /// How a PostgreSQL task reaches its server: connection `name`, or the PG* environment.
    pub fn pg_access(&self, name: Option<&str>) -> std::result::Result<crate::postgres::access::PgAccess, String> {
        let env = |n: &str| std::env::var(n).ok();
        let Some(name) = name else { return crate::postgres::access::PgAccess::from_env(&env) };
        let mut resolved = self.resolve_connection(name, crate::connections::ConnectionType::Postgres)?;
        self.anchor_path(&mut resolved, "sslrootcert");
        crate::postgres::access::PgAccess::from_connection(&resolved)
    }

    /// How a ClickHouse task reaches its server: connection `name`, or the CLICKHOUSE_* environment.
    pub fn ch_access(&self, name: Option<&str>) -> std::result::Result<crate::clickhouse::ChAccess, String> {
        let env = |n: &str| std::env::var(n).ok();
        let Some(name) = name else { return crate::clickhouse::ChAccess::from_env(&env) };
        let mut resolved = self.resolve_connection(name, crate::connections::ConnectionType::ClickHouse)?;
        self.anchor_path(&mut resolved, "ca_cert");
        crate::clickhouse::ChAccess::from_connection(&resolved)
    }

    /// A relative file path in setting `key` is relative to the workspace root, where
    /// connections.toml is (not to whichever folder the runner was started in).
    fn anchor_path(&self, resolved: &mut crate::connections::Resolved, key: &str) {
        if let Some(p) = resolved.plain.get_mut(key) {
            if std::path::Path::new(p.as_str()).is_relative() {
                *p = self.root.join(&*p).to_string_lossy().into_owned();
            }
        }
    }

    /// Connection `name` of type `kind` with its references read (secrets from the workspace's store).
    fn resolve_connection(
        &self,
        name: &str,
        kind: crate::connections::ConnectionType,
    ) -> std::result::Result<crate::connections::Resolved, String> {
        let env = |n: &str| std::env::var(n).ok();
        let connections = crate::connections::Connections::load(&self.root).map_err(|e| e.to_string())?;
        let connection = connections.get(name).map_err(|e| e.to_string())?;
        if connection.kind != kind {
            return Err(format!(
                "connection '{name}' has type = \"{}\"; this task needs a type = \"{}\" connection",
                connection.kind.name(),
                kind.name()
            ));
        }
        let uses_store = connection.settings.values().any(|v| matches!(v, crate::connections::Value::Secret(_)));
        let resolved = if let (true, Some(store)) = (uses_store, &self.secrets) {
            connection.resolve(&env, store.as_ref())
        } else if uses_store {
            let store = crate::secrets::FileSecretStore::open(&self.root, &self.state, &crate::secrets::default_key_file())
                .map_err(|e| e.to_string())?;
            connection.resolve(&env, &store)
        } else {
            connection.resolve(&env, &crate::connections::NoSecrets)
        };
        resolved.map_err(|e| e.to_string())
    }
}

/// The concrete paths a sink path may name, relative to `dir`: folders named by a `{{ param }}`
/// stand for every existing subfolder there. A templated file name stays as is; its temps are
/// matched by prefix up to the template, which is good enough to find them.
fn expand_template_dirs(dir: &Path, rel: &str) -> Vec<PathBuf> {
    let parts: Vec<&str> = rel.split('/').filter(|p| !p.is_empty()).collect();
    let Some((last, folders)) = parts.split_last() else { return Vec::new() };
    // An absolute path starts at the root, as `dir.join(rel)` would.
    let mut dirs = vec![if rel.starts_with('/') { PathBuf::from("/") } else { dir.to_path_buf() }];
    for part in folders {
        if part.contains("{{") {
            dirs = dirs
                .iter()
                .flat_map(|d| std::fs::read_dir(d).into_iter().flatten().flatten())
                .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()) && !e.file_name().to_string_lossy().starts_with('.'))
                .map(|e| e.path())
                .collect();
        } else {
            dirs.iter_mut().for_each(|d| d.push(part));
        }
    }
    dirs.into_iter().map(|d| d.join(last)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templated_folders_of_sink_paths_stand_for_every_subfolder() {
        let tmp = tempfile::tempdir().unwrap();
        for d in ["out/2024-01-01", "out/2024-01-02", "out/.hidden"] {
            std::fs::create_dir_all(tmp.path().join(d)).unwrap();
        }
        let mut got = expand_template_dirs(tmp.path(), "out/{{ run_date }}/x.parquet");
        got.sort();
        let want: Vec<PathBuf> =
            ["out/2024-01-01/x.parquet", "out/2024-01-02/x.parquet"].iter().map(|p| tmp.path().join(p)).collect();
        assert_eq!(got, want);
        assert_eq!(expand_template_dirs(tmp.path(), "out/gold"), vec![tmp.path().join("out/gold")]);
        assert_eq!(expand_template_dirs(tmp.path(), "/abs/x.csv"), vec![PathBuf::from("/abs/x.csv")]);
    }
}
