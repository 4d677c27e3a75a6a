//! Turns a pipeline and parameters into concrete tasks: rendered settings, matched files, fingerprints.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;

use crate::dag;
use crate::error::{Result, SpecError};
use crate::params::{Params, RenderError};
use crate::paths::PathPolicy;
use crate::s3::{self, ObjectId, S3Access};
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
    /// A source's matched files (sorted); `s3://` URLs for a source in object storage.
    pub files: Vec<PathBuf>,
    /// An S3 source's objects (key, size, ETag), for the fingerprint.
    pub objects: Vec<ObjectId>,
    /// How a task that reads or writes `s3://` reaches it (see [`attach_remote`]).
    pub s3: Option<Arc<S3Access>>,
    /// How a PostgreSQL task reaches its server (see [`attach_databases`]).
    pub postgres: Option<Arc<crate::postgres::access::PgAccess>>,
    /// How a ClickHouse sink reaches its server (see [`attach_clickhouse`]).
    pub clickhouse: Option<Arc<crate::clickhouse::ChAccess>>,
    /// Why listing an S3 source failed while planning; its attempts list again (and retry).
    pub listing_error: Option<String>,
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
    /// The output's schema contract: part of the fingerprint, so a new or changed contract is
    /// checked on the next run instead of a cached output passing unchecked.
    pub schema: Option<crate::contract::Contract>,
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
            TaskKind::Source(s) if s.format == crate::spec::SourceFormat::Postgres => Vec::new(),
            // Listed from its manifest by `attach_datasets`.
            TaskKind::Source(s) if s.format == crate::spec::SourceFormat::Dataset => Vec::new(),
            TaskKind::Source(s) if s3::is_s3(&s.path) => {
                s3::S3Url::parse(&s.path).map_err(|e| problem(&e))?;
                Vec::new()
            }
            TaskKind::Source(s) => {
                paths.data_path(&pipeline.dir, &s.path).map_err(|e| problem(&e))?;
                let files = resolve_files(&pipeline.dir, &s.path).map_err(|e| problem(&e))?;
                paths.check_found(&pipeline.dir, &s.path, &files).map_err(|e| problem(&e))?;
                files
            }
            TaskKind::Sink(s) => {
                for p in s.path.iter().chain(s.database.iter()) {
                    if s3::is_s3(p) {
                        s3::S3Url::parse(p).map_err(|e| problem(&e))?;
                    } else {
                        paths.data_path(&pipeline.dir, p).map_err(|e| problem(&e))?;
                    }
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
            // The modules it may import and the environment's requirements: a change to any
            // of them reruns the task (their identity is in the fingerprint).
            TaskKind::Python(_) => crate::python::env::watched_files(&pipeline.dir),
            _ => Vec::new(),
        };
        let mut kind = kind;
        if let (TaskKind::Sink(s), Some(data)) = (&mut kind, &pipeline.data_dir) {
            // Checked against the pipeline folder above; written to the lasting data folder.
            for p in s.path.iter_mut().chain(s.database.iter_mut()) {
                if !s3::is_s3(p) && std::path::Path::new(p.as_str()).is_relative() {
                    *p = data.join(p.as_str()).to_string_lossy().into_owned();
                }
            }
        }
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
            objects: Vec::new(),
            s3: None,
            postgres: None,
            clickhouse: None,
            listing_error: None,
            retries: t.retries,
            retry_delay: t.retry_delay,
            timeout: t.timeout,
            memory_limit: t.memory_limit,
            cache: t.cache,
            view: t.materialize == crate::spec::Materialize::View,
            schema: t.schema.clone(),
        });
    }
    Ok(out)
}

/// How `s3://` paths are reached: the access for a task's `connection` (None: the AWS_*
/// environment), or why there is none.
pub type AccessFor<'a> = dyn Fn(Option<&str>) -> std::result::Result<S3Access, String> + 'a;

/// The `s3://` path a task reads or writes, and its connection.
pub fn remote_path(kind: &TaskKind) -> Option<(&str, Option<&str>)> {
    match kind {
        TaskKind::Source(s) if s3::is_s3(&s.path) => Some((&s.path, s.connection.as_deref())),
        TaskKind::Sink(s) => s.path.as_deref().filter(|p| s3::is_s3(p)).map(|p| (p, s.connection.as_deref())),
        _ => None,
    }
}

/// Gives each task that touches `s3://` its access and lists S3 sources' objects (their keys,
/// sizes and ETags enter the fingerprint, so an unchanged bucket means a cached task). A
/// connection that is unknown or does not resolve fails planning with the task's location; a
/// listing that fails is left to the task's attempts, which list again and so retry.
pub fn attach_remote(tasks: &mut [PlannedTask], pipeline: &Pipeline, access_for: &AccessFor) -> Result<()> {
    for task in tasks.iter_mut() {
        let Some((path, connection)) = remote_path(&task.kind) else { continue };
        let (path, connection) = (path.to_string(), connection.map(str::to_string));
        let location = pipeline.task(&task.id).and_then(|t| t.location.clone());
        let access =
            access_for(connection.as_deref()).map_err(|e| SpecError::single(location, format!("task '{}': {e}", task.id)))?;
        if matches!(task.kind, TaskKind::Source(_)) {
            match s3::list(&access, &path) {
                Ok(objects) => {
                    task.files = objects.iter().map(|o| PathBuf::from(&o.url)).collect();
                    task.objects = objects;
                }
                Err(e) => task.listing_error = Some(e.to_string()),
            }
        }
        task.s3 = Some(Arc::new(access));
    }
    Ok(())
}

/// Points each `dataset` source at its dataset's folder (local files listed from the manifest;
/// an `s3://` folder is listed by [`attach_remote`], which reads the same manifest), with its
/// declaration and, for `include_unflushed`, its log. An undeclared or broken dataset fails
/// planning with the task's location.
pub fn attach_datasets(tasks: &mut [PlannedTask], pipeline: &Pipeline, root: &Path, state_dir: &Path) -> Result<()> {
    use crate::ingest;
    for task in tasks.iter_mut() {
        let TaskKind::Source(src) = &mut task.kind else { continue };
        if src.format != crate::spec::SourceFormat::Dataset {
            continue;
        }
        let location = pipeline.task(&task.id).and_then(|t| t.location.clone());
        let problem = |m: String| SpecError::single(location.clone(), format!("task '{}': {m}", task.id));
        task.files = ingest::read::resolve(src, root, state_dir).map_err(|m| crate::Error::Spec(problem(m)))?;
    }
    Ok(())
}

/// How a database task's connection (or None: the environment) is resolved.
pub type PgAccessFor<'a> = dyn Fn(Option<&str>) -> std::result::Result<crate::postgres::access::PgAccess, String> + 'a;

/// Gives each PostgreSQL sink its access; a connection that is unknown or does not resolve fails
/// planning with the task's location.
pub fn attach_databases(tasks: &mut [PlannedTask], pipeline: &Pipeline, access_for: &PgAccessFor) -> Result<()> {
    for task in tasks.iter_mut() {
        let connection = match &task.kind {
            TaskKind::Sink(s) if s.format == crate::spec::SinkFormat::Postgres => s.connection.as_deref(),
            TaskKind::Source(s) if s.format == crate::spec::SourceFormat::Postgres => s.connection.as_deref(),
            _ => continue,
        };
        let location = pipeline.task(&task.id).and_then(|t| t.location.clone());
        let access = access_for(connection).map_err(|e| SpecError::single(location, format!("task '{}': {e}", task.id)))?;
        task.postgres = Some(Arc::new(access));
    }
    Ok(())
}

/// How a ClickHouse sink's connection (or None: the environment) is resolved.
pub type ChAccessFor<'a> = dyn Fn(Option<&str>) -> std::result::Result<crate::clickhouse::ChAccess, String> + 'a;

/// Gives each ClickHouse sink its access; a connection that is unknown or does not resolve fails
/// planning with the task's location.
pub fn attach_clickhouse(tasks: &mut [PlannedTask], pipeline: &Pipeline, access_for: &ChAccessFor) -> Result<()> {
    for task in tasks.iter_mut() {
        let TaskKind::Sink(sink) = &task.kind else { continue };
        if sink.format != crate::spec::SinkFormat::ClickHouse {
            continue;
        }
        let location = pipeline.task(&task.id).and_then(|t| t.location.clone());
        let access = access_for(sink.connection.as_deref())
            .map_err(|e| SpecError::single(location, format!("task '{}': {e}", task.id)))?;
        task.clickhouse = Some(Arc::new(access));
    }
    Ok(())
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
        TaskKind::Source(s) => {
            s.path = params.render_text(&s.path)?;
            if let Some(q) = &mut s.query {
                // PostgreSQL reads DuckDB's typed literals (`DATE '…'`, `'text'`) alike.
                *q = params.render_sql(q, SqlEngine::DuckDb)?;
            }
        }
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
        // The function gets them as a dict; here they join the fingerprint.
        TaskKind::Python(py) => py.params = params.typed(),
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
    objects: &'a [ObjectId],
    /// Set when an S3 listing failed: such a fingerprint matches nothing cached.
    unlisted: Option<u128>,
    /// Left out when there is none, so tasks without a contract keep their fingerprints.
    #[serde(skip_serializing_if = "Option::is_none")]
    schema: Option<&'a crate::contract::Contract>,
}

/// The task's fingerprint: its rendered settings and SQL, its upstreams' fingerprints, and the
/// identity (path, size, modification time) of the files it reads, or (key, size, ETag) of
/// the S3 objects.
pub fn fingerprint(task: &PlannedTask, upstream_fps: &[(String, String)]) -> String {
    let files = task
        .files
        .iter()
        .filter(|_| task.objects.is_empty() && task.s3.is_none())
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
    let unlisted = task
        .listing_error
        .as_ref()
        .map(|_| std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos()));
    let input = FingerprintInput {
        version: FINGERPRINT_VERSION,
        kind: &task.kind,
        engine: task.engine,
        upstream: upstream_fps,
        files,
        objects: &task.objects,
        unlisted,
        schema: task.schema.as_ref(),
    };
    let json = serde_json::to_vec(&input).expect("fingerprint input serializes");
    blake3::hash(&json).to_hex()[..32].to_string()
}
