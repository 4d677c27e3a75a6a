//! Task outputs in pages, as JSON or Arrow IPC, read without loading the whole artifact.

use std::collections::BTreeMap;
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
    page(&state, run_artifact(&state, id, &task)?, q).await
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
    page(&state, latest_input(&state, &name, &task)?, q).await
}

/// The newest output of `task` in pipeline `name`.
fn latest_input(state: &AppState, name: &str, task: &str) -> Result<Input, ApiError> {
    let p = super::pipelines::find(state, name)?;
    Ok(inspect::latest(&state.ws, &p, task)?)
}

/// The output artifact of `task` in run `id`.
fn run_artifact(state: &AppState, id: i64, task: &str) -> Result<Input, ApiError> {
    let tr = state.ws.store.task_runs(id)?.into_iter().find(|t| t.task_id == task);
    let tr = tr.ok_or_else(|| ApiError::NotFound(format!("run {id} has no task '{task}'")))?;
    let rel = tr.artifact.ok_or_else(|| ApiError::NotFound(format!("task '{task}' of run {id} has no output")))?;
    Ok(Input::Artifact(state.ws.resolve(&rel)))
}

/// The sort and filter of a query as an engine view.
fn view_of(sort: Option<&str>, filter: Option<&str>) -> Result<inspect::View, ApiError> {
    let filters: Vec<String> = filter.unwrap_or("").split(';').filter(|f| !f.is_empty()).map(str::to_string).collect();
    Ok(inspect::View::parse(sort, &filters)?)
}

pub(crate) async fn page(state: &Arc<AppState>, input: Input, q: PageQuery) -> Result<Response, ApiError> {
    let offset = q.offset.unwrap_or(0);
    let arrow = match q.format.as_deref() {
        None | Some("json") => false,
        Some("arrow") => true,
        Some(other) => return Err(ApiError::BadRequest(format!("format `{other}`: use json or arrow"))),
    };
    let limit = q.limit.unwrap_or(100).min(if arrow { MAX_ARROW_ROWS } else { MAX_JSON_ROWS });
    let view = view_of(q.sort.as_deref(), q.filter.as_deref())?;
    let state = state.clone();
    // Polars work is blocking; keep it off the async workers.
    let result = tokio::task::spawn_blocking(move || -> Result<Response, ApiError> {
        let cache = Some(&state.views);
        if arrow {
            let (bytes, total) = inspect::page_ipc(&input, &view, offset, limit, cache)?;
            let mut resp = bytes.into_response();
            let h = resp.headers_mut();
            h.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/vnd.apache.arrow.stream"));
            h.insert("x-total-rows", HeaderValue::from(total));
            Ok(resp)
        } else {
            let (rows, total_rows) = inspect::page_json(&input, &view, offset, limit, cache)?;
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
    stats(run_artifact(&state, id, &task)?).await
}

/// Per-column statistics of a task's newest output.
#[utoipa::path(get, path = "/api/pipelines/{name}/tasks/{task}/stats", tag = "outputs",
    params(("name" = String, Path, description = "Pipeline name"), ("task" = String, Path, description = "Task id")),
    responses((status = 200, description = "[{name, type, null_count, min, max}]"), (status = 404, description = "No output yet")))]
pub async fn latest_output_stats(
    State(state): State<Arc<AppState>>,
    Path((name, task)): Path<(String, String)>,
) -> Result<Json<serde_json::Value>, ApiError> {
    stats(latest_input(&state, &name, &task)?).await
}

async fn stats(input: Input) -> Result<Json<serde_json::Value>, ApiError> {
    let stats = tokio::task::spawn_blocking(move || inspect::column_stats(&input))
        .await
        .map_err(|e| ApiError::Internal(format!("statistics crashed: {e}")))??;
    Ok(Json(serde_json::Value::Array(stats)))
}

/// The columns of every task of a pipeline that has an output (for editor completion).
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct Schemas {
    /// Task id → its output's columns.
    pub tasks: BTreeMap<String, Vec<Column>>,
}

/// Output columns of each task of a pipeline that has an output (views are planned, not run).
#[utoipa::path(get, path = "/api/pipelines/{name}/schemas", tag = "outputs",
    params(("name" = String, Path, description = "Pipeline name")),
    responses((status = 200, description = "Columns by task", body = Schemas), (status = 404, description = "No such pipeline")))]
pub async fn schemas(State(state): State<Arc<AppState>>, Path(name): Path<String>) -> Result<Json<Schemas>, ApiError> {
    let p = super::pipelines::find(&state, &name)?;
    let st = state.clone();
    let tasks = tokio::task::spawn_blocking(move || {
        let mut out = BTreeMap::new();
        for t in &p.tasks {
            // Tasks without an output yet (or whose view cannot be planned) have the columns
            // their schema contract declares, if any.
            let cols = inspect::latest(&st.ws, &p, &t.id).and_then(|input| inspect::schema(&input));
            match (cols, &t.schema) {
                (Ok(v), _) => {
                    out.insert(t.id.clone(), serde_json::from_value(v).unwrap_or_default());
                }
                (Err(_), Some(contract)) => {
                    let declared = contract.columns.iter().map(|c| Column { name: c.name.clone(), dtype: c.dtype.clone() });
                    out.insert(t.id.clone(), declared.collect());
                }
                (Err(_), None) => {}
            }
        }
        out
    })
    .await
    .map_err(|e| ApiError::Internal(format!("reading schemas crashed: {e}")))?;
    Ok(Json(Schemas { tasks }))
}

/// What to export.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct ExportQuery {
    /// `csv` (default) or `parquet`.
    pub format: Option<String>,
    /// As for pages: `col:asc,col2:desc`.
    pub sort: Option<String>,
    /// As for pages: `col:op:value;…`.
    pub filter: Option<String>,
}

/// One run's task output, sorted and filtered, as a CSV or Parquet file.
#[utoipa::path(get, path = "/api/runs/{id}/tasks/{task}/output/export", tag = "outputs",
    params(("id" = i64, Path, description = "Run id"), ("task" = String, Path, description = "Task id"), ExportQuery),
    responses((status = 200, description = "The file (attachment)"), (status = 404, description = "No output")))]
pub async fn run_output_export(
    State(state): State<Arc<AppState>>,
    Path((id, task)): Path<(i64, String)>,
    Query(q): Query<ExportQuery>,
) -> Result<Response, ApiError> {
    let input = run_artifact(&state, id, &task)?;
    export(&state, input, &task, q).await
}

/// A task's newest output, sorted and filtered, as a CSV or Parquet file.
#[utoipa::path(get, path = "/api/pipelines/{name}/tasks/{task}/output/export", tag = "outputs",
    params(("name" = String, Path, description = "Pipeline name"), ("task" = String, Path, description = "Task id"), ExportQuery),
    responses((status = 200, description = "The file (attachment)"), (status = 404, description = "No output yet")))]
pub async fn latest_output_export(
    State(state): State<Arc<AppState>>,
    Path((name, task)): Path<(String, String)>,
    Query(q): Query<ExportQuery>,
) -> Result<Response, ApiError> {
    export(&state, latest_input(&state, &name, &task)?, &task, q).await
}

/// Writes the view to a temporary file under `.polder/exports`, then streams it; the file is
/// unlinked once open, so it disappears when the download ends (or the runner stops).
async fn export(state: &Arc<AppState>, input: Input, task: &str, q: ExportQuery) -> Result<Response, ApiError> {
    let format = inspect::ExportFormat::parse(q.format.as_deref().unwrap_or("csv"))?;
    let view = view_of(q.sort.as_deref(), q.filter.as_deref())?;
    let dir = state.ws.state_dir().join("exports");
    let path = polder_engine::fsutil::temp_path_for(&dir.join(format!("{task}.{}", format.extension())));
    let file = tokio::task::spawn_blocking({
        let path = path.clone();
        move || -> Result<std::fs::File, ApiError> {
            std::fs::create_dir_all(&dir).map_err(|e| ApiError::Internal(format!("cannot create {}: {e}", dir.display())))?;
            let written = inspect::export(&input, &view, format, &path);
            let opened = written
                .map_err(ApiError::from)
                .and_then(|_| std::fs::File::open(&path).map_err(|e| ApiError::Internal(format!("cannot open the export: {e}"))));
            let _ = std::fs::remove_file(&path);
            opened
        }
    })
    .await
    .map_err(|e| ApiError::Internal(format!("export crashed: {e}")))??;
    let len = file.metadata().map(|m| m.len()).unwrap_or(0);
    // A reader thread feeds chunks through a small channel (tokio's `fs` feature stays off).
    let (tx, rx) = tokio::sync::mpsc::channel::<std::io::Result<axum::body::Bytes>>(4);
    std::thread::spawn(move || {
        use std::io::Read;
        let mut file = file;
        loop {
            let mut buf = vec![0u8; 256 * 1024];
            let chunk = match file.read(&mut buf) {
                Ok(0) => return,
                Ok(n) => {
                    buf.truncate(n);
                    Ok(axum::body::Bytes::from(buf))
                }
                Err(e) => Err(e),
            };
            let failed = chunk.is_err();
            if tx.blocking_send(chunk).is_err() || failed {
                return;
            }
        }
    });
    let stream = futures_util::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|c| (c, rx)) });
    let content_type = match format {
        inspect::ExportFormat::Csv => "text/csv; charset=utf-8",
        inspect::ExportFormat::Parquet => "application/vnd.apache.parquet",
    };
    let safe: String = task.chars().map(|c| if c.is_ascii_alphanumeric() || c == '_' || c == '-' { c } else { '_' }).collect();
    let disposition = format!("attachment; filename=\"{safe}.{}\"", format.extension());
    let mut resp = axum::body::Body::from_stream(stream).into_response();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(len));
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(resp)
}
