//! Previews: run one source or SQL task with a row limit on its upstreams' latest outputs, as a
//! notebook cell does, without recording a run.

use std::collections::BTreeMap;

use crate::error::{Error, Result};
use crate::executor::plan;
use crate::inspect;
use crate::params::Params;
use crate::spec::{Pipeline, TaskKind};
use crate::tasks::{CancelFlag, Input, TaskContext, TaskLog};
use crate::workspace::Workspace;

/// The first rows a task would produce.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Preview {
    /// Rows as JSON objects.
    pub rows: Vec<serde_json::Map<String, serde_json::Value>>,
    /// Columns `[{"name", "type"}]`.
    pub schema: serde_json::Value,
    /// Wall time of the task, in milliseconds.
    pub elapsed_ms: u64,
}

/// Runs `task` (a source or SQL task) with at most `limit` rows, reading its upstreams' newest
/// outputs; `sql` replaces the task's SQL (an unsaved cell). Nothing is recorded or kept.
pub fn preview_task(ws: &Workspace, pipeline: &Pipeline, task: &str, limit: usize, sql: Option<&str>) -> Result<Preview> {
    preview_with(ws, pipeline, task, limit, sql.map(Edited::Sql))
}

/// Unsaved text a preview runs instead of the task's own.
#[derive(Debug, Clone, Copy)]
pub enum Edited<'a> {
    /// A SQL task's query.
    Sql(&'a str),
    /// A Python task's module.
    Python(&'a str),
}

/// [`preview_task`] for any previewable kind: source, SQL and Python tasks; `edited` replaces
/// the task's SQL or Python code (an unsaved cell).
pub fn preview_with(ws: &Workspace, pipeline: &Pipeline, task: &str, limit: usize, edited: Option<Edited>) -> Result<Preview> {
    let params = Params::samples(pipeline);
    let mut planned = plan(pipeline, &params, &ws.paths)?
        .into_iter()
        .find(|p| p.id == task)
        .ok_or_else(|| Error::NotFound(format!("pipeline '{}' has no task '{task}'", pipeline.name)))?;
    crate::executor::plan::attach_datasets(std::slice::from_mut(&mut planned), pipeline, ws.root(), ws.state_dir())?;
    crate::executor::plan::attach_remote(std::slice::from_mut(&mut planned), pipeline, &|name| ws.s3_access(name))?;
    crate::executor::plan::attach_databases(std::slice::from_mut(&mut planned), pipeline, &|name| ws.pg_access(name))?;
    match (&mut planned.kind, edited) {
        (TaskKind::Python(py), Some(Edited::Python(text))) => {
            let sig = crate::python::signature::parse(text, &py.function)
                .map_err(|e| Error::Invalid(format!("task '{task}': {} (line {}, column 1)", e.message, e.line)))?;
            let reads: Vec<String> = sig.names.iter().filter(|n| *n != crate::python::signature::PARAMS).cloned().collect();
            for r in &reads {
                if pipeline.task(r).is_none() {
                    return Err(Error::Invalid(format!(
                        "task '{task}': parameter `{r}` of {}() names no task of this pipeline (line {}, column 1)",
                        py.function, sig.line
                    )));
                }
            }
            py.takes_params = sig.names.iter().any(|n| n == crate::python::signature::PARAMS);
            py.def_line = sig.line;
            planned.upstream = reads.clone();
            py.reads = reads;
            py.code = text.to_string();
        }
        (TaskKind::Python(_), None | Some(Edited::Sql(_))) => {}
        (TaskKind::Sql(s), Some(Edited::Sql(text))) => {
            // An edited query may land on the other engine under `auto`, or be refused by `polars`.
            let choice = s.engine.unwrap_or(pipeline.engine);
            let views = crate::spec::polars_views(pipeline);
            let is_view = pipeline.task(task).is_some_and(|t| t.materialize == crate::spec::Materialize::View);
            let routed = crate::spec::route_sql(task, text, choice, &params, is_view, &views)
                .map_err(|(line, col, m)| Error::Invalid(format!("{m} (line {line}, column {col})")))?;
            if let Some((line, col, m)) = routed.refusal {
                return Err(Error::Invalid(format!("{m} (line {line}, column {col})")));
            }
            planned.engine = routed.engine;
            s.runs_on = routed.engine;
            s.route = routed.reason;
            s.sql = params.render_sql(text, planned.engine).map_err(|e| Error::Invalid(format!("task '{task}': {e}")))?;
        }
        (TaskKind::Source(_) | TaskKind::Sql(_), _) => {}
        _ => {
            return Err(Error::Invalid(format!(
                "task '{task}' is a {} task; previews are for source, sql and python tasks",
                planned.kind.name()
            )))
        }
    }
    let mut upstream: BTreeMap<String, Input> = BTreeMap::new();
    for u in &planned.upstream {
        let input = inspect::latest(ws, pipeline, u).map_err(|e| {
            Error::Invalid(format!("upstream '{u}' of '{task}' has no output to preview on ({e}); run the pipeline first"))
        })?;
        upstream.insert(u.clone(), input);
    }
    let dir = ws.state_dir().join("previews");
    std::fs::create_dir_all(&dir).map_err(|e| Error::io("cannot create", &dir, e))?;
    let out = crate::fsutil::temp_path_for(&dir.join(format!("{task}.parquet")));
    let started = std::time::Instant::now();
    let log = TaskLog::discard();
    let cancel = CancelFlag::new();
    let memory = ws.memory_budget(task, planned.memory_limit);
    let ctx = TaskContext {
        task_id: &planned.id,
        kind: &planned.kind,
        engine: planned.engine,
        pipeline_dir: &pipeline.dir,
        files: &planned.files,
        upstream: &upstream,
        output: &out,
        log: &log,
        cancel: &cancel,
        duckdb: &ws.duckdb,
        owners: ws.owners_dir(),
        limit: Some(limit),
        data_dirs: ws.paths.data_dirs(),
        memory: Some(&memory),
        s3: planned.s3.as_deref(),
        postgres: planned.postgres.as_deref(),
        clickhouse: planned.clickhouse.as_deref(),
    };
    // Previews run like tasks (a child process for Polars work): a runaway query typed into the
    // notebook must not take the runner or the desktop app down either.
    let result = crate::isolate::run(&ctx, &ws.isolation);
    let _ = std::fs::remove_dir_all(&memory.spill_dir);
    let result = result.map_err(Error::Task).and_then(|_| {
        let input = Input::Artifact(out.clone());
        Ok(Preview {
            rows: inspect::input_json(&input, limit)?,
            schema: inspect::schema(&input)?,
            elapsed_ms: started.elapsed().as_millis() as u64,
        })
    });
    let _ = std::fs::remove_file(&out);
    result
}
