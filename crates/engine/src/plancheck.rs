//! Plans every SQL task against its upstreams' schemas before any run: each source is read for
//! its schema only, and each SQL task runs on its engine over empty inputs of those schemas.
//! A query the engine cannot plan or run (an unsupported function, a missing column, a type
//! error) is reported with the task, its file and position, as `polder validate`, the editor's
//! checks and deploy show it, instead of failing minutes into a run.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use crate::duckdb_files::DuckDbFiles;
use crate::error::{Location, SpecProblem};
use crate::params::Params;
use crate::paths::PathPolicy;
use crate::spec::{Pipeline, SourceTask, SqlEngine, SqlTask, Task, TaskKind};
use crate::tasks::{self, CancelFlag, Input, TaskContext, TaskLog};

/// What the check found.
#[derive(Debug, Default)]
pub struct PlanCheck {
    /// Queries that cannot run, with their position.
    pub problems: Vec<PlanProblem>,
    /// Tasks not checked and why (a source without files yet, or downstream of one).
    pub unchecked: Vec<(String, String)>,
}

/// A query that cannot run.
#[derive(Debug, Clone)]
pub struct PlanProblem {
    /// The task.
    pub task: String,
    /// Where (the `.sql` file and position, else the task in `pipeline.toml`) and what.
    pub problem: SpecProblem,
}

impl std::fmt::Display for PlanProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.problem.fmt(f)
    }
}

/// Plans the SQL tasks of `pipeline` over empty inputs with its upstreams' schemas, in `scratch`
/// (a folder of the caller's, emptied and removed afterwards). `paths` says where data may come
/// from, as for a run: a source or a Polars table function outside it is reported, never read
/// (its first line would otherwise come back as column names). With a `budget`, tasks reached
/// after it is spent are left unchecked (an editor's live checks stay quick on huge pipelines).
pub fn check(pipeline: &Pipeline, scratch: &Path, paths: &PathPolicy, budget: Option<std::time::Duration>) -> PlanCheck {
    let started = std::time::Instant::now();
    let mut out = PlanCheck::default();
    if std::fs::create_dir_all(scratch).is_err() {
        return out;
    }
    let Ok(order) = crate::dag::topo_order(pipeline) else { return out };
    let planner = Planner {
        pipeline,
        paths,
        params: Params::samples(pipeline),
        duckdb: DuckDbFiles::default(),
        owners: scratch.join("owners"),
    };
    // Task id → its empty output, or why it has none.
    let mut outputs: HashMap<&str, Result<PathBuf, NoOutput>> = HashMap::new();
    for i in order {
        let task = &pipeline.tasks[i];
        let empty = scratch.join(format!("{}.parquet", task.id));
        let result = if budget.is_some_and(|b| started.elapsed() > b) {
            Err(NoOutput::Unchecked("the check's time budget was spent before this task".into()))
        } else {
            match &task.kind {
                TaskKind::Source(s) => planner.source(s, &empty).map(|_| empty).map_err(NoOutput::Unchecked),
                TaskKind::Sql(s) => planner.upstream(task, &outputs).and_then(|upstream| {
                    planner.sql(task, s, &upstream, &empty).map(|_| empty).map_err(|problem| {
                        out.problems.push(PlanProblem { task: task.id.clone(), problem });
                        NoOutput::Failed
                    })
                }),
                // A declared schema stands in for the output of a task that is not planned ahead.
                other => match task.schema.as_ref().and_then(crate::contract::empty_frame) {
                    Some(df) => crate::tasks::frame::sink_parquet(polars::prelude::IntoLazy::lazy(df), &empty)
                        .map(|_| empty)
                        .map_err(|e| NoOutput::Unchecked(e.to_string())),
                    None => Err(NoOutput::Unchecked(format!(
                        "a {} task is not planned ahead (declare its columns with `schema` to check what reads it)",
                        other.name()
                    ))),
                },
            }
        };
        if let (TaskKind::Sql(_), Err(NoOutput::Unchecked(why))) = (&task.kind, &result) {
            out.unchecked.push((task.id.clone(), why.clone()));
        }
        outputs.insert(&task.id, result);
    }
    let _ = std::fs::remove_dir_all(scratch);
    out
}

/// Why a task has no empty output to pass on.
#[derive(Debug, Clone)]
enum NoOutput {
    /// It could not be checked (and why).
    Unchecked(String),
    /// Its query fails (reported as a problem).
    Failed,
}

impl std::fmt::Display for NoOutput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NoOutput::Unchecked(why) => f.write_str(why),
            NoOutput::Failed => f.write_str("its query fails"),
        }
    }
}

/// What the check of one pipeline shares between tasks.
struct Planner<'a> {
    pipeline: &'a Pipeline,
    paths: &'a PathPolicy,
    params: Params,
    duckdb: DuckDbFiles,
    owners: PathBuf,
}

impl Planner<'_> {
    /// The empty outputs of `task`'s upstreams, or why one is missing.
    fn upstream(
        &self,
        task: &Task,
        outputs: &HashMap<&str, Result<PathBuf, NoOutput>>,
    ) -> Result<BTreeMap<String, Input>, NoOutput> {
        task.upstream
            .iter()
            .map(|u| match outputs.get(u.as_str()) {
                Some(Ok(p)) => Ok((u.clone(), Input::Artifact(p.clone()))),
                Some(Err(why)) => Err(NoOutput::Unchecked(format!("upstream '{u}': {why}"))),
                None => Err(NoOutput::Unchecked(format!("upstream '{u}' has no output"))),
            })
            .collect()
    }

    /// Runs a SQL task on its engine over `upstream` (empty), writing its empty output to `out`.
    fn sql(&self, task: &Task, s: &SqlTask, upstream: &BTreeMap<String, Input>, out: &Path) -> Result<(), SpecProblem> {
        let pipeline = self.pipeline;
        let refused =
            |why: String| SpecProblem { location: task.location.clone(), message: format!("task '{}': {why}", task.id) };
        let sql = self.params.render_sql(&s.sql, s.runs_on).map_err(|e| refused(e.to_string()))?;
        if s.runs_on == SqlEngine::Polars {
            crate::executor::plan::check_polars_table_functions(&sql, self.paths, &pipeline.dir).map_err(refused)?;
        }
        let kind = TaskKind::Sql(SqlTask { sql: sql.clone(), ..s.clone() });
        let (log, cancel) = (TaskLog::discard(), CancelFlag::new());
        let ctx = TaskContext {
            task_id: &task.id,
            kind: &kind,
            engine: s.runs_on,
            pipeline_dir: &pipeline.dir,
            files: &[],
            upstream,
            output: out,
            log: &log,
            cancel: &cancel,
            duckdb: &self.duckdb,
            owners: &self.owners,
            limit: None,
            data_dirs: self.paths.data_dirs(),
            // Empty inputs: nothing to bound (and no workspace spill folder here).
            memory: None,
            s3: None,
            postgres: None,
            clickhouse: None,
        };
        let message = match crate::executor::guarded(|| tasks::run(&ctx)) {
            Ok(_) => return Ok(()),
            Err(e) => e.to_string(),
        };
        let pos = crate::sqlerror::locate(&message, &sql).map(|p| (p.line, p.column));
        let (line, col) = pos.or_else(|| quoted_word(&message, &sql)).unwrap_or((1, 1));
        let location = match &s.file {
            Some(f) => Some(Location { file: pipeline.dir.join(f), line, col }),
            None => task.location.clone(),
        };
        let hint = match (s.runs_on, s.auto) {
            (SqlEngine::Polars, false) => "; rewrite the query, or set engine = \"duckdb\" (or \"auto\")",
            _ => "",
        };
        Err(SpecProblem { location, message: format!("task '{}' would fail: {message}{hint}", task.id) })
    }

    /// Writes an empty Parquet file with the source's schema (read from its files' headers).
    fn source(&self, s: &SourceTask, out: &Path) -> Result<(), String> {
        let dir = &self.pipeline.dir;
        let pattern = self.params.render_text(&s.path).map_err(|e| e.to_string())?;
        if crate::s3::is_s3(&pattern) {
            // Reading a bucket needs the workspace's connections and the network: a run checks it.
            return Err(format!("reads {pattern}; its columns are known once the pipeline runs"));
        }
        self.paths.data_path(dir, &pattern).map_err(|e| e.to_string())?;
        let files = tasks::source::resolve_files(dir, &pattern)?;
        if files.is_empty() {
            return Err(format!("no files match {pattern} yet"));
        }
        self.paths.check_found(dir, &pattern, &files).map_err(|e| e.to_string())?;
        let lf = tasks::source::lazy(&SourceTask { path: pattern, ..s.clone() }, &files, None).map_err(|e| e.to_string())?;
        crate::executor::guarded(|| {
            tasks::frame::sink_parquet(lf.limit(0), out).map_err(|e| tasks::TaskError::Data(e.to_string()))
        })
        .map_err(|e| e.to_string())
    }
}

/// Where a word the message quotes in single quotes (Polars: `unsupported function 'x'`) first
/// appears in `sql`, case-insensitively.
fn quoted_word(message: &str, sql: &str) -> Option<(usize, usize)> {
    let lower = sql.to_lowercase();
    message.split('\'').skip(1).step_by(2).filter(|w| !w.is_empty() && w.len() < 64).find_map(|w| {
        let at = lower.find(&w.to_lowercase())?;
        let before = &sql[..at];
        let line = before.matches('\n').count() + 1;
        let col = before.rsplit('\n').next().map(|l| l.chars().count()).unwrap_or(0) + 1;
        Some((line, col))
    })
}
