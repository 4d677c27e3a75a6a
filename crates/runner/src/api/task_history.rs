//! One task's history across runs, for the task details panel.

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::Json;
use polder_engine::store::TaskHistoryEntry;
use serde::{Deserialize, Serialize};

use crate::error::ApiError;
use crate::state::AppState;

/// Paging of a task's history.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct HistoryQuery {
    /// Most runs (default 30, at most 500).
    pub limit: Option<usize>,
}

/// A task's runs and whether it changed since its last success.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TaskHistory {
    /// Its runs, newest first.
    pub runs: Vec<TaskHistoryEntry>,
    /// The newest run in which it succeeded (or was reused).
    pub last_success_run: Option<i64>,
    /// Whether its SQL, code or settings differ from what that run used (null: no such run,
    /// or one from before runs recorded it).
    pub changed_since_success: Option<bool>,
}

/// One task's newest runs: status, rows, timing and error of each.
#[utoipa::path(get, path = "/api/pipelines/{name}/tasks/{task}/history", tag = "runs",
    params(("name" = String, Path, description = "Pipeline name"), ("task" = String, Path, description = "Task id"), HistoryQuery),
    responses((status = 200, description = "The task's runs", body = TaskHistory), (status = 404, description = "No such pipeline or task")))]
pub async fn task_history(
    State(state): State<Arc<AppState>>,
    Path((name, task)): Path<(String, String)>,
    Query(q): Query<HistoryQuery>,
) -> Result<Json<TaskHistory>, ApiError> {
    let p = super::pipelines::find(&state, &name)?;
    let t = p.task(&task).ok_or_else(|| ApiError::NotFound(format!("pipeline '{name}' has no task '{task}'")))?;
    let runs = state.ws.store.task_history(&name, &task, q.limit.unwrap_or(30).min(500))?;
    let last = state.ws.store.last_success_definitions(&name)?.remove(&task);
    let changed_since_success = last.as_ref().and_then(|(_, def)| def.as_ref()).map(|d| *d != t.definition());
    Ok(Json(TaskHistory { runs, last_success_run: last.map(|(run, _)| run), changed_since_success }))
}
