//! REST ingest: `POST /api/ingest/{dataset}` takes rows (admin token or an ingest token naming
//! the dataset) and answers 200 only once they are on disk; `/api/datasets` shows each dataset's
//! state and flushes or merges on request; `/api/ingest-tokens` manages ingest tokens.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use polder_engine::ingest::rows::{self, BodyFormat, RowError};
use polder_engine::ingest::wal::Appended;
use polder_engine::ingest::Dataset;
use serde::{Deserialize, Serialize};

use crate::error::ApiError;
use crate::ingest::{flusher, tokens::TokenInfo, Live};
use crate::state::AppState;

/// Keep this much disk free beside the log; below it, requests get 429.
const MIN_FREE_DISK: u64 = 256 << 20;
/// Largest body any dataset may allow (its `max_body` is checked first).
pub const MAX_INGEST_BODY: usize = 1 << 30;

/// The answer to an accepted batch.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Accepted {
    /// Rows acknowledged (durable in the log).
    pub accepted: u64,
    /// True when a batch with this `Idempotency-Key` was stored before: nothing was added.
    pub duplicate: bool,
}

/// Longest `Idempotency-Key` taken.
const MAX_KEY_LEN: usize = 200;

/// The answer to a refused batch: nothing of it was kept.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Refused {
    /// `invalid_rows`, `bad_body`, `too_large`, `unsupported_type`, `unknown_dataset`,
    /// `backpressure`, `log_failed`.
    pub code: String,
    /// What is wrong and what to do.
    pub message: String,
    /// The row at fault (0-based index in the batch), when one is.
    pub row: Option<usize>,
    /// The column at fault, when one is.
    pub column: Option<String>,
}

fn refuse(status: StatusCode, code: &str, message: String, err: Option<&RowError>) -> Response {
    let body = Refused {
        code: code.into(),
        message,
        row: err.and_then(RowError::row),
        column: err.and_then(|e| e.column().map(str::to_string)),
    };
    (status, Json(body)).into_response()
}

/// Takes a batch of rows for a dataset: a JSON object or array (`application/json`), NDJSON
/// (`application/x-ndjson`) or an Arrow IPC stream (`application/vnd.apache.arrow.stream`).
/// With an `Idempotency-Key` header, resending a batch (its answer was lost) stores it once.
#[utoipa::path(post, path = "/api/ingest/{dataset}", tag = "ingest",
    params(("dataset" = String, Path, description = "Dataset name")),
    request_body(content = String, description = "Rows", content_type = "application/json"),
    responses(
        (status = 200, description = "Rows durable in the log", body = Accepted),
        (status = 400, description = "Body is not readable", body = Refused),
        (status = 404, description = "No such dataset", body = Refused),
        (status = 413, description = "Body over the dataset's max_body", body = Refused),
        (status = 415, description = "Content-Type not taken", body = Refused),
        (status = 422, description = "A row does not fit the columns", body = Refused),
        (status = 429, description = "Log full or disk nearly full; retry after Retry-After seconds", body = Refused),
    ))]
pub async fn post_rows(
    State(state): State<Arc<AppState>>,
    Path(dataset): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let Some(live) = state.ingest.get(&dataset) else {
        let message = match state.ingest.problem(&dataset) {
            Some(p) => format!("dataset '{dataset}' is declared but does not load: {p}"),
            None => format!("no dataset '{dataset}'; declare it in ingest/{dataset}.toml"),
        };
        return refuse(StatusCode::NOT_FOUND, "unknown_dataset", message, None);
    };
    let key = match headers.get("idempotency-key").map(|v| v.to_str()) {
        None => None,
        Some(Ok(k)) if !k.is_empty() && k.len() <= MAX_KEY_LEN => Some(k.to_string()),
        Some(_) => {
            let m = format!("Idempotency-Key must be 1 to {MAX_KEY_LEN} visible ASCII characters");
            return refuse(StatusCode::BAD_REQUEST, "bad_body", m, None);
        }
    };
    let ct = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok());
    let format = match BodyFormat::from_content_type(ct) {
        Ok(f) => f,
        Err(m) => {
            live.counters.batches_rejected.fetch_add(1, Ordering::Relaxed);
            return refuse(StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_type", m, None);
        }
    };
    if let Some(r) = backpressure(&live) {
        // A resent batch that is stored already needs no room: answer it as stored.
        let now = chrono::Utc::now().timestamp_millis();
        if let Some(Ok(Some(n))) = key.as_deref().map(|k| live.wal.stored_under(k, now)) {
            return Json(Accepted { accepted: n, duplicate: true }).into_response();
        }
        live.counters.throttled.fetch_add(1, Ordering::Relaxed);
        let mut resp = refuse(StatusCode::TOO_MANY_REQUESTS, "backpressure", r, None);
        resp.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        return resp;
    }
    let limit = live.ds.max_body_bytes as usize;
    let bytes: Bytes = match axum::body::to_bytes(body, limit).await {
        Ok(b) => b,
        Err(_) => {
            live.counters.batches_rejected.fetch_add(1, Ordering::Relaxed);
            let m = format!(
                "the body is over dataset '{dataset}''s limit of {} bytes; send smaller batches or raise [limits] max_body",
                live.ds.max_body_bytes
            );
            return refuse(StatusCode::PAYLOAD_TOO_LARGE, "too_large", m, None);
        }
    };
    let arrival = chrono::Utc::now().timestamp_millis();
    // Checking a large batch is CPU work: off the async threads when it is large.
    let ds = live.ds.clone();
    let decoded = if bytes.len() > 256 << 10 {
        tokio::task::spawn_blocking(move || rows::decode(&ds, format, &bytes, arrival))
            .await
            .unwrap_or_else(|e| Err(RowError::Body(format!("checking the batch failed: {e}"))))
    } else {
        rows::decode(&ds, format, &bytes, arrival)
    };
    let batch = match decoded {
        Ok(b) => b,
        Err(e) => {
            live.counters.batches_rejected.fetch_add(1, Ordering::Relaxed);
            let (status, code) = match e {
                RowError::Body(_) => (StatusCode::BAD_REQUEST, "bad_body"),
                _ => (StatusCode::UNPROCESSABLE_ENTITY, "invalid_rows"),
            };
            let message = format!("dataset '{dataset}': {e}; nothing of this batch was kept");
            return refuse(status, code, message, Some(&e));
        }
    };
    match live.wal.append(batch, arrival, key).await {
        Ok(Appended::Stored(n)) => {
            live.counters.rows_received.fetch_add(n, Ordering::Relaxed);
            live.counters.batches_accepted.fetch_add(1, Ordering::Relaxed);
            Json(Accepted { accepted: n, duplicate: false }).into_response()
        }
        Ok(Appended::Duplicate(n)) => Json(Accepted { accepted: n, duplicate: true }).into_response(),
        Err(e) => {
            refuse(StatusCode::SERVICE_UNAVAILABLE, "log_failed", format!("{e}; the batch was not kept, send it again"), None)
        }
    }
}

/// Why a request must wait, if it must.
fn backpressure(live: &Live) -> Option<String> {
    let pending = live.wal.pending();
    if pending.bytes >= live.ds.max_wal_bytes {
        return Some(format!(
            "dataset '{}' has {} bytes waiting for a flush (limit {}){}; retry shortly",
            live.ds.name,
            pending.bytes,
            live.ds.max_wal_bytes,
            live.error().map(|e| format!(" because flushing fails: {e}")).unwrap_or_default()
        ));
    }
    let dir = live.wal.path().parent()?;
    match polder_engine::fsutil::free_bytes(dir) {
        Some(free) if free < MIN_FREE_DISK + live.ds.max_body_bytes => Some(format!(
            "the disk holding the ingest log ({}) has {free} bytes free; rows could not be made durable. Free space, then retry",
            dir.display()
        )),
        _ => None,
    }
}

/// A dataset's state: its declaration and its counters.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DatasetView {
    /// The declaration as loaded.
    #[serde(flatten)]
    pub dataset: Dataset,
    /// Rows acknowledged since the runner started.
    pub rows_received: u64,
    /// Requests acknowledged since start.
    pub batches_accepted: u64,
    /// Requests refused for their content since start.
    pub batches_rejected: u64,
    /// Requests refused with 429 since start.
    pub throttled: u64,
    /// Rows waiting in the log.
    pub rows_pending: u64,
    /// Their bytes.
    pub bytes_pending: u64,
    /// Arrival of the oldest waiting row (ms since the epoch).
    pub oldest_pending_ms: Option<i64>,
    /// Flushes that wrote rows since start.
    pub flushes: u64,
    /// Rows written to Parquet since start.
    pub rows_flushed: u64,
    /// When the last flush that wrote rows ended (ms since the epoch).
    pub last_flush_ms: Option<i64>,
    /// Day merges since start.
    pub merges: u64,
    /// The last flush or merge error (rows stay in the log until it succeeds).
    pub error: Option<String>,
}

/// Datasets, and declarations that do not load.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DatasetList {
    /// Served datasets.
    pub datasets: Vec<DatasetView>,
    /// Declarations with errors: file name and problem.
    pub problems: Vec<DatasetProblem>,
}

/// A declaration that does not load.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DatasetProblem {
    /// The dataset name (file name).
    pub name: String,
    /// What is wrong, with file and line.
    pub message: String,
}

fn view(live: &Live) -> DatasetView {
    let c = &live.counters;
    let p = live.wal.pending();
    let last = c.last_flush_ms.load(Ordering::Relaxed);
    DatasetView {
        dataset: live.ds.clone(),
        rows_received: c.rows_received.load(Ordering::Relaxed),
        batches_accepted: c.batches_accepted.load(Ordering::Relaxed),
        batches_rejected: c.batches_rejected.load(Ordering::Relaxed),
        throttled: c.throttled.load(Ordering::Relaxed),
        rows_pending: p.rows,
        bytes_pending: p.bytes,
        oldest_pending_ms: p.oldest_ms,
        flushes: c.flushes.load(Ordering::Relaxed),
        rows_flushed: c.rows_flushed.load(Ordering::Relaxed),
        last_flush_ms: (last != 0).then_some(last),
        merges: c.merges.load(Ordering::Relaxed),
        error: live.error().or_else(|| live.target.as_ref().err().cloned()),
    }
}

/// Every dataset declared in the workspace, with counters.
#[utoipa::path(get, path = "/api/datasets", tag = "ingest", responses((status = 200, body = DatasetList)))]
pub async fn list_datasets(State(state): State<Arc<AppState>>) -> Json<DatasetList> {
    let s = state.clone();
    let _ = tokio::task::spawn_blocking(move || s.ingest.refresh()).await;
    Json(DatasetList {
        datasets: state.ingest.all().iter().map(|l| view(l)).collect(),
        problems: state.ingest.problems().into_iter().map(|(name, message)| DatasetProblem { name, message }).collect(),
    })
}

fn live(state: &AppState, name: &str) -> Result<Arc<Live>, ApiError> {
    state.ingest.refresh();
    state.ingest.get(name).ok_or_else(|| match state.ingest.problem(name) {
        Some(p) => ApiError::BadRequest(format!("dataset '{name}' does not load: {p}")),
        None => ApiError::NotFound(format!("no dataset '{name}'; declare it in ingest/{name}.toml")),
    })
}

/// One dataset, with its live files.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DatasetDetail {
    /// State and counters.
    #[serde(flatten)]
    pub dataset: DatasetView,
    /// Files the manifest lists (paths or URLs).
    pub files: Vec<String>,
    /// The last log entry they hold.
    pub flushed_through: i64,
}

/// One dataset's state and its published files.
#[utoipa::path(get, path = "/api/datasets/{name}", tag = "ingest",
    params(("name" = String, Path, description = "Dataset name")),
    responses((status = 200, body = DatasetDetail), (status = 404, description = "No such dataset")))]
pub async fn get_dataset(State(state): State<Arc<AppState>>, Path(name): Path<String>) -> Result<Json<DatasetDetail>, ApiError> {
    tokio::task::spawn_blocking(move || {
        let live = live(&state, &name)?;
        let target = live.target.as_ref().map_err(|e| ApiError::BadGateway(e.clone()))?;
        let m = target.read_manifest().map_err(|e| ApiError::BadGateway(e.to_string()))?;
        Ok(Json(DatasetDetail {
            dataset: view(&live),
            files: polder_engine::ingest::flush::live_files(&m, target),
            flushed_through: m.flushed_through,
        }))
    })
    .await
    .map_err(|e| ApiError::Internal(e.to_string()))?
}

/// What a requested flush did.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct FlushDone {
    /// Rows written.
    pub rows: u64,
    /// Files written (relative to the dataset's folder).
    pub files: Vec<String>,
}

/// Flushes the dataset's log now (and starts the pipelines it triggers when rows were written).
#[utoipa::path(post, path = "/api/datasets/{name}/flush", tag = "ingest",
    params(("name" = String, Path, description = "Dataset name")),
    responses((status = 200, body = FlushDone), (status = 502, description = "The target failed; rows stay in the log")))]
pub async fn flush(State(state): State<Arc<AppState>>, Path(name): Path<String>) -> Result<Json<FlushDone>, ApiError> {
    tokio::task::spawn_blocking(move || {
        let live = live(&state, &name)?;
        let reports = flusher::flush_now(&live).map_err(ApiError::BadGateway)?;
        let rows: u64 = reports.iter().map(|r| r.rows).sum();
        if rows > 0 {
            flusher::trigger(&state, &name);
        }
        Ok(Json(FlushDone { rows, files: reports.into_iter().flat_map(|r| r.files).collect() }))
    })
    .await
    .map_err(|e| ApiError::Internal(e.to_string()))?
}

/// `?all=true`: merge every day with several files, open days included.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct MergeQuery {
    /// Merge open days too.
    #[serde(default)]
    pub all: bool,
}

/// What a requested merge did.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MergeDone {
    /// Days merged.
    pub days: Vec<String>,
    /// Files replaced.
    pub files_in: usize,
    /// Superseded files removed after their grace period.
    pub removed: usize,
}

/// Merges closed days (all days with `?all=true`) into one sorted file each.
#[utoipa::path(post, path = "/api/datasets/{name}/merge", tag = "ingest",
    params(("name" = String, Path, description = "Dataset name"), MergeQuery),
    responses((status = 200, body = MergeDone), (status = 502, description = "The target failed")))]
pub async fn merge(
    State(state): State<Arc<AppState>>,
    Path(name): Path<String>,
    Query(q): Query<MergeQuery>,
) -> Result<Json<MergeDone>, ApiError> {
    tokio::task::spawn_blocking(move || {
        let live = live(&state, &name)?;
        let scratch = state.ws.state_dir().join("ingest").join("scratch");
        let r = flusher::merge_now(&live, &scratch, q.all).map_err(ApiError::BadGateway)?;
        Ok(Json(MergeDone { days: r.days, files_in: r.files_in, removed: r.removed }))
    })
    .await
    .map_err(|e| ApiError::Internal(e.to_string()))?
}

/// Ingest tokens, without the tokens.
#[utoipa::path(get, path = "/api/ingest-tokens", tag = "ingest", responses((status = 200, body = Vec<TokenInfo>)))]
pub async fn list_tokens(State(state): State<Arc<AppState>>) -> Json<Vec<TokenInfo>> {
    Json(state.ingest.tokens.list())
}

/// A token to make.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct NewToken {
    /// Who uses it.
    pub name: String,
    /// Datasets it may post to.
    pub datasets: Vec<String>,
}

/// A made token: shown this once.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CreatedToken {
    /// Its record.
    #[serde(flatten)]
    pub info: TokenInfo,
    /// The token (`pit_…`); it cannot be shown again.
    pub token: String,
}

/// Makes an ingest token that may only post to the named datasets.
#[utoipa::path(post, path = "/api/ingest-tokens", tag = "ingest", request_body = NewToken,
    responses((status = 201, body = CreatedToken)))]
pub async fn create_token(
    State(state): State<Arc<AppState>>,
    Json(req): Json<NewToken>,
) -> Result<(StatusCode, Json<CreatedToken>), ApiError> {
    let (info, token) = state.ingest.tokens.create(&req.name, &req.datasets)?;
    Ok((StatusCode::CREATED, Json(CreatedToken { info, token })))
}

/// Revokes an ingest token.
#[utoipa::path(delete, path = "/api/ingest-tokens/{id}", tag = "ingest",
    params(("id" = String, Path, description = "Token id")),
    responses((status = 204), (status = 404, description = "No such token")))]
pub async fn revoke_token(State(state): State<Arc<AppState>>, Path(id): Path<String>) -> Result<StatusCode, ApiError> {
    state.ingest.tokens.revoke(&id)?;
    Ok(StatusCode::NO_CONTENT)
}

/// `?include_unflushed=true` adds rows still in the log.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct DatasetPageQuery {
    /// Also show rows not flushed yet.
    #[serde(default)]
    pub include_unflushed: bool,
}

/// A page of a (local) dataset's rows, as for task outputs: JSON or Arrow, sorted and filtered.
#[utoipa::path(get, path = "/api/datasets/{name}/output", tag = "ingest",
    params(("name" = String, Path, description = "Dataset name"), DatasetPageQuery, super::outputs::PageQuery),
    responses((status = 200, description = "A JSON page, or an Arrow IPC stream with X-Total-Rows"),
              (status = 404, description = "No such dataset")))]
pub async fn dataset_output(
    State(state): State<Arc<AppState>>,
    Path(name): Path<String>,
    Query(q): Query<DatasetPageQuery>,
    Query(page): Query<super::outputs::PageQuery>,
) -> Result<Response, ApiError> {
    let st = state.clone();
    let n = name.clone();
    let input = tokio::task::spawn_blocking(move || {
        live(&st, &n)?;
        polder_engine::ingest::read::view_input(st.ws.root(), st.ws.state_dir(), &n, q.include_unflushed)
            .map_err(ApiError::BadRequest)
    })
    .await
    .map_err(|e| ApiError::Internal(e.to_string()))??;
    super::outputs::page(&state, input, page).await
}
