//! Turns a pipeline and parameters into concrete tasks: rendered settings, matched files, fingerprints.

use std::path::PathBuf;
use std::time::Duration;

use serde::Serialize;

use crate::dag;
use crate::error::{Result, SpecError};
use crate::params::{Params, RenderError};
use crate::paths::PathPolicy;
use crate::spec::{Pipeline, SqlEngine, Task, TaskKind};
use crate::tasks::source::resolve_files;

/// Bumped when the engine's output for the same inputs may change, to invalidate caches.
const FINGERPRINT_VERSION: &str = "polder-fp-2";

/// A task ready to execute.
#[derive(Debug, Clone)]
pub struct PlannedTask {
    /// Task id.
    pub id: String,
    /// Settings with parameters rendered.
    pub kind: TaskKind,
    /// SQL engine (task's or pipeline's).
    pub engine: SqlEngine,
    /// Upstream ids.
    pub upstream: Vec<String>,
    /// A source's matched files (sorted).
    pub files: Vec<PathBuf>,
    /// Retries after a failed attempt.
    pub retries: u32,
    /// First retry delay.
    pub retry_delay: Duration,
    /// Per-attempt limit.
    pub timeout: Option<Duration>,
    /// Per-attempt memory budget in bytes (None: the workspace's default). Not part of the
    /// fingerprint: it decides whether a task finishes, never what it outputs.
    pub memory_limit: Option<u64>,
    /// Whether the output may be reused.
    pub cache: bool,
    /// `materialize = "view"`: not run on its own; readers inline it.
    pub view: bool,
}

/// Tasks of `pipeline` in topological order, with `params` applied and every data path checked
/// against `paths` (inside the pipeline folder or an allowed data folder).
pub fn plan(pipeline: &Pipeline, params: &Params, paths: &PathPolicy) -> Result<Vec<PlannedTask>> {
    let order =
        dag::topo_order(pipeline).map_err(|cycle| SpecError::single(None, format!("dependency cycle: {}", cycle.join(" → "))))?;
    let mut out = Vec::with_capacity(order.len());
    for i in order {
        let t = &pipeline.tasks[i];
        let problem = |e: &dyn std::fmt::Display| SpecError::single(t.location.clone(), format!("task '{}': {e}", t.id));
        let kind = render_kind(t, params).map_err(|e| problem(&e))?;
        let files = match &kind {
            TaskKind::Source(s) => {
                paths.data_path(&pipeline.dir, &s.path).map_err(|e| problem(&e))?;
                let files = resolve_files(&pipeline.dir, &s.path).map_err(|e| problem(&e))?;
                paths.check_found(&pipeline.dir, &s.path, &files).map_err(|e| problem(&e))?;
                files
            }
            TaskKind::Sink(s) => {
                for p in s.path.iter().chain(s.database.iter()) {
                    paths.data_path(&pipeline.dir, p).map_err(|e| problem(&e))?;
                }
                Vec::new()
            }
            TaskKind::Sql(s) if s.runs_on == SqlEngine::Polars => {
                // Polars reads files named in `FROM read_csv('…')` itself (DuckDB tasks are
                // confined by DuckDB's own allowed_directories); relative paths start at the
                // process's working directory.
                check_polars_table_functions(&s.sql, paths, &pipeline.dir).map_err(|e| problem(&e))?;
                Vec::new()
            }
            _ => Vec::new(),
        };
        let engine = match &kind {
            TaskKind::Sql(s) => s.runs_on,
            _ => SqlEngine::Polars,
        };
        out.push(PlannedTask {
            id: t.id.clone(),
            kind,
            engine,
            upstream: t.upstream.clone(),
            files,
            retries: t.retries,
            retry_delay: t.retry_delay,
            timeout: t.timeout,
            memory_limit: t.memory_limit,
            cache: t.cache,
            view: t.materialize == crate::spec::Materialize::View,
        });
    }
    Ok(out)
}

/// Refuses files a Polars SQL query reads through table functions outside the allowed folders.
pub(crate) fn check_polars_table_functions(
    sql: &str,
    paths: &PathPolicy,
    dir: &std::path::Path,
) -> std::result::Result<(), String> {
    // Unparsable SQL fails in the engine with its own message.
    let Ok(stmts) = crate::sqlrefs::parse(sql, SqlEngine::Polars) else { return Ok(()) };
    let cwd = std::env::current_dir().unwrap_or_else(|_| dir.to_path_buf());
    for f in crate::sqlrefs::table_functions(&stmts) {
        let path = f.path.ok_or_else(|| format!("`{}(…)` needs a string literal as its file", f.name))?;
        paths.data_path_from(&cwd, dir, &path).map_err(|e| format!("{}(…): {e}", f.name))?;
    }
    Ok(())
}

/// The task's settings with parameters applied: typed literals in SQL, environment variables for
/// shell commands, plain text in paths (checked against the allowed folders afterwards).
fn render_kind(t: &Task, params: &Params) -> std::result::Result<TaskKind, RenderError> {
    let mut kind = t.kind.clone();
    match &mut kind {
        TaskKind::Source(s) => s.path = params.render_text(&s.path)?,
        TaskKind::Sql(s) => s.sql = params.render_sql(&s.sql, s.runs_on)?,
        TaskKind::Validate(v) => {
            for c in &mut v.checks {
                if let crate::spec::CheckRule::Expr(e) = &mut c.rule {
                    // Checks run on DuckDB.
                    *e = params.render_sql(e, SqlEngine::DuckDb)?;
                }
            }
        }
        TaskKind::Sink(s) => {
            if let Some(p) = &mut s.path {
                *p = params.render_text(p)?;
            }
            if let Some(d) = &mut s.database {
                *d = params.render_text(d)?;
            }
        }
        TaskKind::Shell(s) => {
            s.command = params.render_shell(&s.command)?;
            for (_, v) in &mut s.env {
                *v = params.render_text(v)?;
            }
            // Values reach the command only through the environment (and so the fingerprint).
            s.env.extend(params.env());
        }
    }
    Ok(kind)
}

#[derive(Serialize)]
struct FingerprintInput<'a> {
    version: &'static str,
    kind: &'a TaskKind,
    engine: SqlEngine,
    upstream: &'a [(String, String)],
    files: Vec<(String, u64, i128)>,
}

/// The task's fingerprint: its rendered settings and SQL, its upstreams' fingerprints, and the
/// identity (path, size, modification time) of the files it reads.
pub fn fingerprint(task: &PlannedTask, upstream_fps: &[(String, String)]) -> String {
    let files = task
        .files
        .iter()
        .map(|f| {
            let meta = std::fs::metadata(f).ok();
            let size = meta.as_ref().map_or(0, |m| m.len());
            let mtime = meta
                .and_then(|m| m.modified().ok())
                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                .map_or(0, |d| d.as_nanos() as i128);
            (f.to_string_lossy().into_owned(), size, mtime)
        })
        .collect();
    let input =
        FingerprintInput { version: FINGERPRINT_VERSION, kind: &task.kind, engine: task.engine, upstream: upstream_fps, files };
    let json = serde_json::to_vec(&input).expect("fingerprint input serializes");
    blake3::hash(&json).to_hex()[..32].to_string()
}
