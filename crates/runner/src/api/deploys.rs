//! Deploys: upload a bundle as a new version, list versions, roll back.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::deploys;
use crate::error::ApiError;
use crate::state::AppState;

/// Largest upload (compressed bundle).
pub const MAX_UPLOAD_BYTES: usize = 256 * 1024 * 1024;

/// Stores a bundle (tar.gz of a pipeline folder) as the next version of its pipeline and makes it
/// active; runs in flight keep the version they started with.
#[utoipa::path(post, path = "/api/deploy", tag = "deploys",
    request_body(content = Vec<u8>, content_type = "application/gzip", description = "tar.gz of the pipeline folder"),
    responses((status = 201, description = "{pipeline, version, schedule, next_run}"), (status = 400, description = "Invalid or hostile bundle")))]
pub async fn deploy(State(state): State<Arc<AppState>>, body: Bytes) -> Result<(StatusCode, Json<Value>), ApiError> {
    let _one_at_a_time = state.deploy_lock.lock().await;
    let st = state.clone();
    let (name, version) = tokio::task::spawn_blocking(move || deploys::deploy(st.ws.root(), st.ws.state_dir(), &body))
        .await
        .map_err(|e| ApiError::Internal(format!("deploy crashed: {e}")))?
        .map_err(ApiError::BadRequest)?;
    tracing::info!(pipeline = %name, version, "deployed");
    let p = crate::catalog::find(&state, &name)?;
    let next = p.schedule.as_deref().and_then(|s| crate::scheduler::next_fire(s, p.timezone.as_deref()));
    Ok((StatusCode::CREATED, Json(json!({ "pipeline": name, "version": version, "schedule": p.schedule, "next_run": next }))))
}

/// Deployed versions of a pipeline and which one is active.
#[utoipa::path(get, path = "/api/pipelines/{name}/versions", tag = "deploys",
    params(("name" = String, Path, description = "Pipeline name")),
    responses((status = 200, description = "{active, versions: [{version, deployed_at_ms}]}")))]
pub async fn versions(State(state): State<Arc<AppState>>, Path(name): Path<String>) -> Result<Json<Value>, ApiError> {
    let dir = deploys::root(state.ws.state_dir()).join(&name);
    let list: Vec<Value> = deploys::versions(state.ws.state_dir(), &name)
        .into_iter()
        .map(|v| {
            let meta: Value = std::fs::read_to_string(dir.join(format!("v{v}.json")))
                .ok()
                .and_then(|t| serde_json::from_str(&t).ok())
                .unwrap_or_else(|| json!({ "version": v }));
            meta
        })
        .collect();
    if list.is_empty() {
        return Err(ApiError::NotFound(format!("pipeline '{name}' was never deployed here")));
    }
    Ok(Json(json!({ "active": deploys::active(state.ws.state_dir(), &name), "versions": list })))
}

/// Body of a rollback.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RollbackRequest {
    /// The version to make active.
    pub version: u32,
}

/// Makes an earlier (or any deployed) version active again.
#[utoipa::path(post, path = "/api/pipelines/{name}/rollback", tag = "deploys",
    params(("name" = String, Path, description = "Pipeline name")),
    request_body(content = RollbackRequest),
    responses((status = 200, description = "{pipeline, active}"), (status = 400, description = "No such version")))]
pub async fn rollback(
    State(state): State<Arc<AppState>>,
    Path(name): Path<String>,
    Json(req): Json<RollbackRequest>,
) -> Result<Json<Value>, ApiError> {
    let _one_at_a_time = state.deploy_lock.lock().await;
    deploys::activate(state.ws.state_dir(), &name, req.version).map_err(ApiError::BadRequest)?;
    Ok(Json(json!({ "pipeline": name, "active": req.version })))
}
