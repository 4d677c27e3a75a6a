//! Task outputs in pages, as JSON or Arrow IPC, read without loading the whole artifact.

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::Json;
use polder_engine::inspect;
use polder_engine::tasks::Input;
use serde::Deserialize;

use crate::error::ApiError;
use crate::state::AppState;

/// Most rows in one JSON page.
pub const MAX_JSON_ROWS: usize = 10_000;
/// Most rows in one Arrow page.
pub const MAX_ARROW_ROWS: usize = 500_000;

/// A column of an output.
#[derive(Debug, Default, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct Column {
    /// Column name.
    pub name: String,
    /// Polars type name (`i64`, `str`, `date`, …).
    #[serde(rename = "type")]
    pub dtype: String,
}

/// A JSON page of an output.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct Page {
    /// First row of the page.
    pub offset: usize,
    /// Rows asked for (after the cap).
    pub limit: usize,
    /// Rows in the whole output.
    pub total_rows: u64,
    /// Columns.
    pub schema: Vec<Column>,
    /// The rows, as objects keyed by column name.
    #[schema(value_type = Vec<Object>)]
    pub rows: Vec<serde_json::Map<String, serde_json::Value>>,
}

/// Which rows, in which encoding.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct PageQuery {
    /// First row (0-based).
    pub offset: Option<usize>,
    /// Rows (default 100).
    pub limit: Option<usize>,
    /// `json` (default) or `arrow` (an uncompressed Arrow IPC stream).
    pub format: Option<String>,
    /// Server-side order: `col:asc,col2:desc`.
    pub sort: Option<String>,
    /// Server-side filter: `col:op:value` conditions joined by `;` (ops: eq, ne, lt, le, gt, ge,
    /// contains, is_null, not_null); rows must meet all. `total_rows` counts the filtered rows.
    pub filter: Option<String>,
}

/// A page of one task's output in one run.
#[utoipa::path(get, path = "/api/runs/{id}/tasks/{task}/output", tag = "outputs",
    params(("id" = i64, Path, description = "Run id"), ("task" = String, Path, description = "Task id"), PageQuery),
    responses((status = 200, description = "A JSON page, or an Arrow IPC stream with X-Total-Rows", body = Page),
              (status = 404, description = "No output")))]
pub async fn run_output(
    State(state): State<Arc<AppState>>,
    Path((id, task)): Path<(i64, String)>,
    Query(q): Query<PageQuery>,
) -> Result<Response, ApiError> {
    page(run_artifact(&state, id, &task)?, q).await
}

/// A page of a task's newest output (a view is computed from its upstreams' newest outputs).
#[utoipa::path(get, path = "/api/pipelines/{name}/tasks/{task}/output", tag = "outputs",
    params(("name" = String, Path, description = "Pipeline name"), ("task" = String, Path, description = "Task id"), PageQuery),
    responses((status = 200, description = "As for a run's output"), (status = 404, description = "No output yet")))]
pub async fn latest_output(
    State(state): State<Arc<AppState>>,
    Path((name, task)): Path<(String, String)>,
    Query(q): Query<PageQuery>,
) -> Result<Response, ApiError> {
    let p = super::pipelines::find(&state, &name)?;
    let input = inspect::latest(&state.ws, &p, &task)?;
    page(input, q).await
}

/// The output artifact of `task` in run `id`.
fn run_artifact(state: &AppState, id: i64, task: &str) -> Result<Input, ApiError> {
    let tr = state.ws.store.task_runs(id)?.into_iter().find(|t| t.task_id == task);
    let tr = tr.ok_or_else(|| ApiError::NotFound(format!("run {id} has no task '{task}'")))?;
    let rel = tr.artifact.ok_or_else(|| ApiError::NotFound(format!("task '{task}' of run {id} has no output")))?;
    Ok(Input::Artifact(state.ws.resolve(&rel)))
}

async fn page(input: Input, q: PageQuery) -> Result<Response, ApiError> {
    let offset = q.offset.unwrap_or(0);
    let arrow = match q.format.as_deref() {
        None | Some("json") => false,
        Some("arrow") => true,
        Some(other) => return Err(ApiError::BadRequest(format!("format `{other}`: use json or arrow"))),
    };
    let limit = q.limit.unwrap_or(100).min(if arrow { MAX_ARROW_ROWS } else { MAX_JSON_ROWS });
    let filters: Vec<String> =
        q.filter.as_deref().unwrap_or("").split(';').filter(|f| !f.is_empty()).map(str::to_string).collect();
    let view = inspect::View::parse(q.sort.as_deref(), &filters)?;
    // Polars work is blocking; keep it off the async workers.
    let result = tokio::task::spawn_blocking(move || -> Result<Response, ApiError> {
        if arrow {
            let (bytes, total) = inspect::page_ipc(&input, &view, offset, limit)?;
            let mut resp = bytes.into_response();
            let h = resp.headers_mut();
            h.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/vnd.apache.arrow.stream"));
            h.insert("x-total-rows", HeaderValue::from(total));
            Ok(resp)
        } else {
            let (rows, total_rows) = inspect::page_json(&input, &view, offset, limit)?;
            let schema = serde_json::from_value(inspect::schema(&input)?).unwrap_or_default();
            Ok(Json(Page { offset, limit, total_rows, schema, rows }).into_response())
        }
    })
    .await
    .map_err(|e| ApiError::Internal(format!("reading the output crashed: {e}")))?;
    result
}

/// Per-column statistics (type, null count, min, max) of one task's output in one run.
#[utoipa::path(get, path = "/api/runs/{id}/tasks/{task}/stats", tag = "outputs",
    params(("id" = i64, Path, description = "Run id"), ("task" = String, Path, description = "Task id")),
    responses((status = 200, description = "[{name, type, null_count, min, max}]"), (status = 404, description = "No output")))]
pub async fn run_output_stats(
    State(state): State<Arc<AppState>>,
    Path((id, task)): Path<(i64, String)>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let input = run_artifact(&state, id, &task)?;
    let stats = tokio::task::spawn_blocking(move || inspect::column_stats(&input))
        .await
        .map_err(|e| ApiError::Internal(format!("statistics crashed: {e}")))??;
    Ok(Json(serde_json::Value::Array(stats)))
}
