//! Remote runners to deploy to, and the deploy of a workspace pipeline to one of them.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::error::ApiError;
use crate::remotes::{self, RemoteView};
use crate::state::AppState;

/// Runs `f` on the remotes off the async threads: the OS keyring answers over blocking D-Bus calls.
pub(crate) async fn with_remotes<T: Send + 'static>(
    state: &AppState,
    f: impl FnOnce(&remotes::Remotes) -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    let remotes = state.remotes.clone();
    tokio::task::spawn_blocking(move || f(&remotes)).await.map_err(|e| ApiError::Internal(format!("remote runners: {e}")))?
}

/// The remote runners this runner can deploy to (tokens are never shown).
#[utoipa::path(get, path = "/api/remotes", tag = "deploys",
    responses((status = 200, description = "Remotes by name", body = Vec<RemoteView>)))]
pub async fn list_remotes(State(state): State<Arc<AppState>>) -> Result<Json<Vec<RemoteView>>, ApiError> {
    Ok(Json(with_remotes(&state, |r| r.list()).await?))
}

/// Body of a remote's registration.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PutRemote {
    /// Base URL, like `http://10.0.0.5:7878`.
    pub url: String,
    /// Its API token (empty: keep the stored one).
    #[serde(default)]
    pub token: String,
}

/// Adds or updates a remote runner.
#[utoipa::path(put, path = "/api/remotes/{name}", tag = "deploys",
    params(("name" = String, Path, description = "Remote name")), request_body(content = PutRemote),
    responses((status = 204, description = "Saved"), (status = 400, description = "Bad name, URL or missing token")))]
pub async fn put_remote(
    State(state): State<Arc<AppState>>,
    Path(name): Path<String>,
    Json(req): Json<PutRemote>,
) -> Result<StatusCode, ApiError> {
    with_remotes(&state, move |r| r.put(&name, &req.url, &req.token)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Forgets a remote runner.
#[utoipa::path(delete, path = "/api/remotes/{name}", tag = "deploys",
    params(("name" = String, Path, description = "Remote name")),
    responses((status = 204, description = "Removed"), (status = 404, description = "No such remote")))]
pub async fn delete_remote(State(state): State<Arc<AppState>>, Path(name): Path<String>) -> Result<StatusCode, ApiError> {
    with_remotes(&state, move |r| r.remove(&name)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Body of a deploy to a remote.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeployTo {
    /// The remote's name.
    pub remote: String,
}

/// Validates a workspace pipeline, bundles its folder and deploys it to a remote runner; answers
/// the remote's new version, schedule and next run.
#[utoipa::path(post, path = "/api/pipelines/{name}/deploy", tag = "deploys",
    params(("name" = String, Path, description = "Pipeline name")), request_body(content = DeployTo),
    responses((status = 201, description = "{remote, url, pipeline, version, schedule, next_run}"),
              (status = 400, description = "Invalid here or refused there"), (status = 502, description = "The remote failed or is unreachable")))]
pub async fn deploy_to_remote(
    State(state): State<Arc<AppState>>,
    Path(name): Path<String>,
    Json(req): Json<DeployTo>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let dir = super::authoring::editable_dir(&state, &name)?;
    let remotes = state.remotes.clone();
    let to = req.remote.clone();
    let answer = tokio::task::spawn_blocking(move || -> Result<Value, ApiError> {
        let remote = remotes.find(&to)?;
        // The same checks the remote makes, here first, so errors name local files.
        polder_engine::load(&dir).map_err(|e| ApiError::BadRequest(e.to_string()))?;
        let bundle = crate::deploys::bundle(&dir).map_err(ApiError::Internal)?;
        let mut answer = remotes::upload(&remote, &bundle)?;
        answer["remote"] = json!(remote.name);
        answer["url"] = json!(remote.url);
        answer["bundle_bytes"] = json!(bundle.len());
        Ok(answer)
    })
    .await
    .map_err(|e| ApiError::Internal(format!("deploy crashed: {e}")))??;
    tracing::info!(pipeline = %name, remote = %req.remote, "deployed to a remote runner");
    Ok((StatusCode::CREATED, Json(answer)))
}
