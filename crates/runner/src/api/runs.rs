//! Runs: list, get, cancel, task logs.

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::IntoResponse;
use axum::Json;
use polder_engine::store::{RunRecord, TaskRunRecord};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::error::ApiError;
use crate::state::AppState;

/// Filters and paging of the run list.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct RunQuery {
    /// Only runs of this pipeline.
    pub pipeline: Option<String>,
    /// Only runs in this state: running, success, failed, cancelled.
    pub status: Option<String>,
    /// Only runs started one of these ways, comma-separated: api, cli, schedule, retry, backfill, resume (any `resume:<id>`).
    pub trigger: Option<String>,
    /// Only runs older than this id: pass the last id of the previous page.
    pub before: Option<i64>,
    /// Most runs returned (default 50, at most 500).
    pub limit: Option<usize>,
}

/// Runs, newest first.
#[utoipa::path(get, path = "/api/runs", tag = "runs", params(RunQuery), responses((status = 200, description = "Runs", body = Vec<RunRecord>)))]
pub async fn list_runs(State(state): State<Arc<AppState>>, Query(q): Query<RunQuery>) -> Result<Json<Vec<RunRecord>>, ApiError> {
    let limit = q.limit.unwrap_or(50).min(500);
    let status = match q.status.as_deref() {
        None => None,
        Some(s) => Some(
            polder_engine::RunStatus::parse(s)
                .ok_or_else(|| ApiError::BadRequest(format!("status `{s}`: use running, success, failed or cancelled")))?,
        ),
    };
    let filter = polder_engine::store::RunFilter { pipeline: q.pipeline, status, trigger: q.trigger, before_id: q.before };
    Ok(Json(state.ws.store.find_runs(&filter, limit)?))
}

/// A run with its task runs.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RunDetail {
    /// The run.
    pub run: RunRecord,
    /// Its task runs, in declaration order.
    pub tasks: Vec<TaskRunView>,
}

/// A task run as the API shows it: the stored record, and where a SQL error points.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct TaskRunView {
    /// The stored task run.
    #[serde(flatten)]
    pub record: TaskRunRecord,
    /// For a failed SQL task: the line and column of its current SQL the error points at.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_location: Option<polder_engine::sqlerror::SqlLocation>,
}

/// One run with its task runs.
#[utoipa::path(get, path = "/api/runs/{id}", tag = "runs",
    params(("id" = i64, Path, description = "Run id")),
    responses((status = 200, description = "The run and its tasks", body = RunDetail), (status = 404, description = "No such run", body = crate::error::ErrorBody)))]
pub async fn get_run(State(state): State<Arc<AppState>>, Path(id): Path<i64>) -> Result<Json<RunDetail>, ApiError> {
    let run = state.ws.store.get_run(id)?.ok_or_else(|| ApiError::NotFound(format!("no run {id}")))?;
    let records = state.ws.store.task_runs(id)?;
    // Locations are found in the pipeline's current SQL, which is what the user will edit.
    let pipeline = if records.iter().any(|t| t.error.is_some() && (t.kind == "sql" || t.kind == "python")) {
        super::pipelines::find(&state, &run.pipeline).ok()
    } else {
        None
    };
    let tasks = records
        .into_iter()
        .map(|record| {
            let kind = pipeline.as_ref().and_then(|p| p.task(&record.task_id)).map(|t| &t.kind);
            let error_location = match (&record.error, kind) {
                (Some(e), Some(polder_engine::spec::TaskKind::Sql(s))) => polder_engine::sqlerror::locate(e, &s.sql),
                (Some(e), Some(polder_engine::spec::TaskKind::Python(py))) => {
                    polder_engine::sqlerror::locate_python(e, &py.code, py.file.as_deref())
                }
                _ => None,
            };
            TaskRunView { record, error_location }
        })
        .collect();
    Ok(Json(RunDetail { run, tasks }))
}

/// Cancels a run in progress.
#[utoipa::path(post, path = "/api/runs/{id}/cancel", tag = "runs",
    params(("id" = i64, Path, description = "Run id")),
    responses((status = 200, description = "Cancel requested"), (status = 409, description = "The run is not in progress")))]
pub async fn cancel_run(State(state): State<Arc<AppState>>, Path(id): Path<i64>) -> Result<Json<Value>, ApiError> {
    let cancel = state.active.lock().unwrap_or_else(|p| p.into_inner()).get(&id).map(|(_, c)| c.clone());
    match cancel {
        Some(c) => {
            c.cancel();
            Ok(Json(json!({ "run_id": id, "cancelling": true })))
        }
        None => Err(ApiError::Conflict(format!("run {id} is not in progress on this runner"))),
    }
}

/// The log of one task in one run, as text.
#[utoipa::path(get, path = "/api/runs/{id}/tasks/{task}/log", tag = "runs",
    params(("id" = i64, Path, description = "Run id"), ("task" = String, Path, description = "Task id")),
    responses((status = 200, description = "The log (text/plain)"), (status = 404, description = "No such task run or no log yet")))]
pub async fn task_log(
    State(state): State<Arc<AppState>>,
    Path((id, task)): Path<(i64, String)>,
) -> Result<impl IntoResponse, ApiError> {
    let tr = state.ws.store.task_runs(id)?.into_iter().find(|t| t.task_id == task);
    let tr = tr.ok_or_else(|| ApiError::NotFound(format!("run {id} has no task '{task}'")))?;
    let rel = tr.log_path.ok_or_else(|| ApiError::NotFound(format!("task '{task}' of run {id} has no log (it did not run)")))?;
    let text = tokio::fs::read_to_string(state.ws.resolve(&rel))
        .await
        .map_err(|e| ApiError::NotFound(format!("log of '{task}': {e}")))?;
    Ok(([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], text))
}

/// Retries a run: a new run with the same parameters, in which tasks that succeeded reuse their
/// outputs (unchanged fingerprints) and failed tasks and their downstream run again.
#[utoipa::path(post, path = "/api/runs/{id}/retry", tag = "runs",
    params(("id" = i64, Path, description = "Run id")),
    responses((status = 202, description = "New run started: {run_id}"), (status = 404, description = "No such run")))]
pub async fn retry_run(
    State(state): State<Arc<AppState>>,
    Path(id): Path<i64>,
) -> Result<(axum::http::StatusCode, Json<Value>), ApiError> {
    let run = state.ws.store.get_run(id)?.ok_or_else(|| ApiError::NotFound(format!("no run {id}")))?;
    let params: std::collections::BTreeMap<String, String> = serde_json::from_str(&run.params).unwrap_or_default();
    let pipeline = super::pipelines::find(&state, &run.pipeline)?;
    let opts = polder_engine::RunOptions { params: params.into_iter().collect(), trigger: "retry".into(), ..Default::default() };
    let run_id = super::pipelines::start_run(state, pipeline, opts).await?;
    Ok((axum::http::StatusCode::ACCEPTED, Json(json!({ "run_id": run_id, "retry_of": id }))))
}

/// Runs waiting for a free slot, oldest first.
#[utoipa::path(get, path = "/api/queue", tag = "runs", responses((status = 200, description = "Queued runs", body = Vec<polder_engine::store::QueuedRun>)))]
pub async fn queue(State(state): State<Arc<AppState>>) -> Result<Json<Vec<polder_engine::store::QueuedRun>>, ApiError> {
    Ok(Json(state.ws.store.queued()?))
}

/// A task's log as Server-Sent Events: what is there, then new lines as they are written,
/// until the task run ends (then one `end` event with its status).
#[utoipa::path(get, path = "/api/runs/{id}/tasks/{task}/log/stream", tag = "runs",
    params(("id" = i64, Path, description = "Run id"), ("task" = String, Path, description = "Task id")),
    responses((status = 200, description = "text/event-stream of log lines")))]
pub async fn task_log_stream(
    State(state): State<Arc<AppState>>,
    Path((id, task)): Path<(i64, String)>,
) -> Result<Sse<impl futures_util::Stream<Item = Result<Event, std::convert::Infallible>>>, ApiError> {
    if !state.ws.store.task_runs(id)?.iter().any(|t| t.task_id == task) {
        return Err(ApiError::NotFound(format!("run {id} has no task '{task}'")));
    }
    struct Tail {
        state: Arc<AppState>,
        id: i64,
        task: String,
        offset: u64,
        pending: std::collections::VecDeque<String>,
        done: bool,
    }
    let tail = Tail { state, id, task, offset: 0, pending: Default::default(), done: false };
    let stream = futures_util::stream::unfold(tail, |mut t| async move {
        loop {
            if let Some(line) = t.pending.pop_front() {
                return Some((Ok(Event::default().data(line)), t));
            }
            if t.done {
                return None;
            }
            let tr = t.state.ws.store.task_runs(t.id).ok().and_then(|v| v.into_iter().find(|x| x.task_id == t.task));
            let finished = tr
                .as_ref()
                .is_some_and(|x| !matches!(x.status, polder_engine::TaskStatus::Pending | polder_engine::TaskStatus::Running));
            if let Some(rel) = tr.as_ref().and_then(|x| x.log_path.clone()) {
                if let Ok(bytes) = tokio::fs::read(t.state.ws.resolve(&rel)).await {
                    let new = &bytes[(t.offset as usize).min(bytes.len())..];
                    // Only whole lines; a partial last line waits for its newline.
                    if let Some(end) = new.iter().rposition(|b| *b == b'\n') {
                        t.pending.extend(String::from_utf8_lossy(&new[..end]).lines().map(str::to_string));
                        t.offset += end as u64 + 1;
                    }
                }
            }
            if t.pending.is_empty() && finished {
                t.done = true;
                let status = tr.map(|x| x.status.to_string()).unwrap_or_default();
                return Some((Ok(Event::default().event("end").data(status)), t));
            }
            if t.pending.is_empty() {
                tokio::time::sleep(std::time::Duration::from_millis(200)).await;
            }
        }
    });
    Ok(Sse::new(stream).keep_alive(KeepAlive::default()))
}
