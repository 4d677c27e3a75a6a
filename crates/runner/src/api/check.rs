//! The plan check of a pipeline as the editor shows it: which engine each SQL task runs on, and
//! which queries would fail, planned over their inputs' schemas before any run.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::{Path, State};
use axum::Json;
use serde::Serialize;

use crate::error::ApiError;
use crate::state::AppState;

/// How long the check may take; tasks reached later are listed as not planned ahead.
const BUDGET: std::time::Duration = std::time::Duration::from_secs(2);

/// A query that would fail.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CheckProblem {
    /// The task.
    pub task: String,
    /// The file the position is in (`q01.sql`, or `pipeline.toml` for inline SQL).
    pub file: Option<String>,
    /// Line, from 1.
    pub line: Option<usize>,
    /// Column, from 1.
    pub col: Option<usize>,
    /// What fails, and the fix where there is one.
    pub message: String,
}

/// A SQL task's engine.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TaskEngine {
    /// `polars` or `duckdb`.
    pub engine: String,
    /// Whether `engine = "auto"` chose it.
    pub auto: bool,
    /// Why `auto` did not choose Polars where only Polars could run the task.
    pub why: Option<String>,
}

/// A task the check could not plan.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Unchecked {
    /// The task.
    pub task: String,
    /// Why (a source without files yet, an upstream that fails, the time budget).
    pub why: String,
}

/// The plan check of a pipeline.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CheckResponse {
    /// Queries that would fail.
    pub problems: Vec<CheckProblem>,
    /// SQL task id → its engine.
    pub engines: BTreeMap<String, TaskEngine>,
    /// Tasks not planned ahead.
    pub unchecked: Vec<Unchecked>,
}

/// Plans every SQL task of the pipeline over empty inputs with its upstreams' schemas.
#[utoipa::path(get, path = "/api/pipelines/{name}/check", tag = "pipelines",
    params(("name" = String, Path, description = "Pipeline name")),
    responses((status = 200, description = "Engines, queries that would fail, tasks not planned ahead", body = CheckResponse),
        (status = 404, description = "No such pipeline")))]
pub async fn check(State(state): State<Arc<AppState>>, Path(name): Path<String>) -> Result<Json<CheckResponse>, ApiError> {
    let p = crate::catalog::find(&state, &name)?;
    let ws = state.ws.clone();
    let checked = state
        .heavy
        .run("check", move || {
            let scratch = ws.state_dir().join(format!("plancheck-{}", polder_engine::store::now_ms()));
            Ok(response(polder_engine::plancheck::check(&p, &scratch, &ws.paths, Some(BUDGET)), &p))
        })
        .await?;
    Ok(Json(checked))
}

/// The check's findings with each SQL task's engine, as the API shows them.
fn response(checked: polder_engine::plancheck::PlanCheck, p: &polder_engine::Pipeline) -> CheckResponse {
    let engines = p
        .tasks
        .iter()
        .filter_map(|t| match &t.kind {
            polder_engine::spec::TaskKind::Sql(s) => {
                Some((t.id.clone(), TaskEngine { engine: s.runs_on.as_str().to_string(), auto: s.auto, why: s.route.clone() }))
            }
            _ => None,
        })
        .collect();
    let problems = checked
        .problems
        .into_iter()
        .map(|p| {
            let loc = p.problem.location.as_ref();
            CheckProblem {
                task: p.task,
                file: loc.and_then(|l| l.file.file_name()).map(|f| f.to_string_lossy().to_string()),
                line: loc.map(|l| l.line),
                col: loc.map(|l| l.col),
                message: p.problem.message,
            }
        })
        .collect();
    let unchecked = checked.unchecked.into_iter().map(|(task, why)| Unchecked { task, why }).collect();
    CheckResponse { problems, engines, unchecked }
}
