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
use crate::spec::{Pipeline, SqlEngine, TaskKind};
use crate::tasks::{self, CancelFlag, Input, TaskContext, TaskLog};

/// What the check found.
#[derive(Debug, Default)]
pub struct PlanCheck {
    /// Queries that cannot run, with their position.
    pub problems: Vec<SpecProblem>,
    /// Tasks not checked and why (a source without files yet, or downstream of one).
    pub unchecked: Vec<(String, String)>,
}

/// Plans the SQL tasks of `pipeline` over empty inputs with its upstreams' schemas, in `scratch`
/// (a folder of the caller's, emptied and removed afterwards). `paths` says where data may come
/// from, as for a run: a source or a Polars table function outside it is reported, never read
/// (its first line would otherwise come back as column names). With a `budget`, tasks reached
/// after it is spent are left unchecked (an editor's live checks stay quick on huge pipelines).
pub fn check(pipeline: &Pipeline, scratch: &Path, paths: &PathPolicy, budget: Option<std::time::Duration>) -> PlanCheck {
    let data_dirs = paths.data_dirs();
    let started = std::time::Instant::now();
    let mut out = PlanCheck::default();
    if std::fs::create_dir_all(scratch).is_err() {
        return out;
    }
    let Ok(order) = crate::dag::topo_order(pipeline) else { return out };
    let params = Params::samples(pipeline);
    let duckdb = DuckDbFiles::default();
    let owners = scratch.join("owners");
    // Task id → its empty output, or why it has none.
    let mut schemas: HashMap<String, Result<PathBuf, String>> = HashMap::new();
    for i in order {
        let task = &pipeline.tasks[i];
        let empty = scratch.join(format!("{}.parquet", task.id));
        let spent = budget.is_some_and(|b| started.elapsed() > b);
        let result: Result<PathBuf, String> = match &task.kind {
            _ if spent => Err("the check's time budget was spent before this task".to_string()),
            TaskKind::Source(s) => source_schema(pipeline, s, &params, paths, &empty).map(|_| empty),
            TaskKind::Sql(s) => {
                let missing = task.upstream.iter().find_map(|u| match schemas.get(u) {
                    Some(Ok(_)) => None,
                    Some(Err(why)) => Some(format!("upstream '{u}': {why}")),
                    None => Some(format!("upstream '{u}' has no output")),
                });
                if let Some(why) = missing {
                    Err(why)
                } else {
                    let upstream: BTreeMap<String, Input> = task
                        .upstream
                        .iter()
                        .filter_map(|u| {
                            schemas.get(u).and_then(|r| r.as_ref().ok()).map(|p| (u.clone(), Input::Artifact(p.clone())))
                        })
                        .collect();
                    let mut s = s.clone();
                    let rendered = params.render_sql(&s.sql, s.runs_on).map_err(|e| e.to_string()).and_then(|sql| {
                        if s.runs_on == SqlEngine::Polars {
                            crate::executor::plan::check_polars_table_functions(&sql, paths, &pipeline.dir)?;
                        }
                        Ok(sql)
                    });
                    match rendered {
                        Err(why) => {
                            out.problems.push(SpecProblem {
                                location: task.location.clone(),
                                message: format!("task '{}': {why}", task.id),
                            });
                            Err("its query fails".to_string())
                        }
                        Ok(sql) => {
                            s.sql = sql;
                            let kind = TaskKind::Sql(s.clone());
                            let log = TaskLog::discard();
                            let cancel = CancelFlag::new();
                            let ctx = TaskContext {
                                task_id: &task.id,
                                kind: &kind,
                                engine: s.runs_on,
                                pipeline_dir: &pipeline.dir,
                                files: &[],
                                upstream: &upstream,
                                output: &empty,
                                log: &log,
                                cancel: &cancel,
                                duckdb: &duckdb,
                                owners: &owners,
                                limit: None,
                                data_dirs,
                                // Empty inputs: nothing to bound (and no workspace spill folder here).
                                memory: None,
                            };
                            match crate::executor::guarded(|| tasks::run(&ctx)) {
                                Ok(_) => Ok(empty),
                                Err(e) => {
                                    let message = e.to_string();
                                    let pos = crate::sqlerror::locate(&message, &s.sql).map(|p| (p.line, p.column));
                                    let (line, col) = pos.or_else(|| quoted_word(&message, &s.sql)).unwrap_or((1, 1));
                                    let location = match &s.file {
                                        Some(f) => Some(Location { file: pipeline.dir.join(f), line, col }),
                                        None => task.location.clone(),
                                    };
                                    let hint = match (s.runs_on, s.auto) {
                                        (SqlEngine::Polars, false) => {
                                            "; Polars cannot run this query over its inputs' schemas: rewrite it, or set engine = \"duckdb\" (or \"auto\")"
                                        }
                                        _ => "",
                                    };
                                    out.problems.push(SpecProblem {
                                        location,
                                        message: format!(
                                            "task '{}': planned over its inputs' schemas, the query fails: {message}{hint}",
                                            task.id
                                        ),
                                    });
                                    Err("its query fails".to_string())
                                }
                            }
                        }
                    }
                }
            }
            _ => Err(format!("a {} task is not planned ahead", task.kind.name())),
        };
        if let (TaskKind::Sql(_), Err(why)) = (&task.kind, &result) {
            if why != "its query fails" {
                out.unchecked.push((task.id.clone(), why.clone()));
            }
        }
        schemas.insert(task.id.clone(), result);
    }
    let _ = std::fs::remove_dir_all(scratch);
    out
}

/// Writes an empty Parquet file with the source's schema (read from its files' headers).
fn source_schema(
    pipeline: &Pipeline,
    s: &crate::spec::SourceTask,
    params: &Params,
    paths: &PathPolicy,
    out: &Path,
) -> Result<(), String> {
    let pattern = params.render_text(&s.path).map_err(|e| e.to_string())?;
    paths.data_path(&pipeline.dir, &pattern).map_err(|e| e.to_string())?;
    let files = tasks::source::resolve_files(&pipeline.dir, &pattern)?;
    if files.is_empty() {
        return Err(format!("no files match {pattern} yet"));
    }
    paths.check_found(&pipeline.dir, &pattern, &files).map_err(|e| e.to_string())?;
    let mut s = s.clone();
    s.path = pattern;
    let lf = tasks::source::lazy(&s, &files).map_err(|e| e.to_string())?;
    crate::executor::guarded(|| tasks::frame::sink_parquet(lf.limit(0), out).map_err(|e| tasks::TaskError::Data(e.to_string())))
        .map_err(|e| e.to_string())
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
